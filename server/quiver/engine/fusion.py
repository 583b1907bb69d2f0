"""Fusion of the semantic and text retrievers, weighted by query type.

Measured on ``benchmarks/quality.py`` (stdlib, 55 sentence and 55 name queries):
reciprocal rank fusion *lost* to dense retrieval alone on sentences at every
text weight (MRR@10 0.436 at weight 0.1 vs 0.491), because BM25's top ranks
for a sentence are mostly noise and RRF rewards rank, not evidence. Score
fusion — cosine similarity plus a small weight times the query's BM25 scores
normalised by its best one, over the union of both candidate lists (text-only
candidates get their exact cosine) — beat both: 0.508 on sentences, 0.880 on
names. So hybrid search uses ``score_fusion``; ``reciprocal_rank_fusion`` stays
for merging rankings whose scores are not comparable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

#: The usual RRF damping constant: ranks beyond ~60 contribute almost nothing.
RRF_K = 60.0

_IDENTIFIER_SHAPE = re.compile(
    r"""^\s*[\w$.:#<>~]+(\(\))?\s*$""",  # one token such as parseHttpHeader, a::b, Foo.bar()
    re.UNICODE,
)
_INNER_CAPITAL = re.compile(r"[a-z0-9][A-Z]")


class QueryShape(Enum):
    """How a query reads, which decides how the retrievers are weighted."""

    IDENTIFIER = "identifier"
    SENTENCE = "sentence"


@dataclass(frozen=True, slots=True)
class FusionWeights:
    semantic: float
    text: float


#: The weight of the normalised BM25 score per query shape; the cosine weighs 1.
#: Chosen by the sweep in benchmarks/quality.py (see benchmarks/README.md).
DEFAULT_WEIGHTS: dict[QueryShape, FusionWeights] = {
    QueryShape.IDENTIFIER: FusionWeights(semantic=1.0, text=0.5),
    QueryShape.SENTENCE: FusionWeights(semantic=1.0, text=0.05),
}


def classify_query(query: str) -> QueryShape:
    """An identifier-like query is a single token, or has code punctuation or camelCase."""
    stripped = query.strip()
    if _IDENTIFIER_SHAPE.match(stripped):
        return QueryShape.IDENTIFIER
    words = stripped.split()
    if len(words) <= 2 and any(
        "_" in w or _INNER_CAPITAL.search(w) or "::" in w or "." in w.strip(".") for w in words
    ):
        return QueryShape.IDENTIFIER
    return QueryShape.SENTENCE


def reciprocal_rank_fusion(
    rankings: Sequence[tuple[Sequence[int], float]], *, k: float = RRF_K
) -> list[tuple[int, float]]:
    """Fuse ranked id lists, each with a weight: score(id) = Σ weight / (k + rank).

    Ranks start at 1. Returns (id, score) best first; ties keep the order in
    which ids were first seen, so the result is deterministic.
    """
    scores: dict[int, float] = {}
    for ranked_ids, weight in rankings:
        for rank, key in enumerate(ranked_ids, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    order = {key: position for position, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def score_fusion(
    semantic: Sequence[tuple[int, float]],
    text: Sequence[tuple[int, float]],
    text_cosines: Mapping[int, float],
    weights: FusionWeights,
) -> list[tuple[int, float]]:
    """Fuse (id, cosine) and (id, BM25) lists: score = w_s·cosine + w_t·BM25 / best BM25.

    ``text_cosines`` gives the exact cosine of text hits the semantic list lacks
    (an id with none counts 0). Returns (id, score) best first; ties keep the
    order in which ids were first seen.
    """
    combined: dict[int, float] = {}
    for key, cosine in semantic:
        combined[key] = weights.semantic * cosine
    best = max((score for _, score in text), default=0.0)
    for key, bm25 in text:
        base = combined.get(key)
        if base is None:
            base = weights.semantic * text_cosines.get(key, 0.0)
        combined[key] = base + (weights.text * bm25 / best if best > 0 else 0.0)
    order = {key: position for position, key in enumerate(combined)}
    return sorted(combined.items(), key=lambda item: (-item[1], order[item[0]]))
