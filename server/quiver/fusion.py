"""Reciprocal rank fusion of the semantic and text retrievers, weighted by query type.

Why weighted: on a natural-language → code benchmark, equal-weight fusion of
BM25 and dense retrieval scored 8 MRR points *below* dense alone, while on
name-like queries fusion won. So a query that reads like an identifier leans on
the text side and a sentence leans on the dense side; the weights are tuned by
``benchmarks/quality.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


#: Weights per query shape (tuned on benchmarks/queries; see benchmarks/README.md).
DEFAULT_WEIGHTS: dict[QueryShape, FusionWeights] = {
    QueryShape.IDENTIFIER: FusionWeights(semantic=0.5, text=1.0),
    QueryShape.SENTENCE: FusionWeights(semantic=1.0, text=0.25),
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
