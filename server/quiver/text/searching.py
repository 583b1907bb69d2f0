"""Ranked search over one snapshot: BM25 with an exact-name bonus, the delta merged in.

``ranked_hits`` runs a prepared query (:mod:`quiver.text.query`) against the
committed searcher and, while refreshed writes wait for a commit, the delta's,
and merges the two lists by score into :class:`TextHit` records. Within one
searcher, exact-name hits score their bonus plus their BM25 score and so come
first. Committed documents that newer writes replaced (the snapshot's hidden
ids) are over-fetched and dropped, so the top ``limit`` survivors are exactly
the answer. Ids come from the ``symbol_id`` fast field, never from the document
store.

Tantivy's failures surface as ``ValueError``; the caller turns them into
:class:`quiver.errors.IndexCorruptError` (``persist.read_failed``).
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy

from quiver.ids import SymbolId
from quiver.text import schema as fields
from quiver.text.delta import Snapshot
from quiver.text.query import PreparedQuery


@dataclass(frozen=True, slots=True)
class TextHit:
    """One search result: a symbol and its score (higher is better, within one search)."""

    symbol_id: SymbolId
    score: float


def ranked_hits(snapshot: Snapshot, prepared: PreparedQuery, limit: int) -> list[TextHit]:
    """The best ``limit`` hits of ``prepared`` in ``snapshot``, best first.

    Costs two Tantivy searches per searcher (the BM25 one and the exact-name
    one), so twice that while the snapshot has a delta. Raises ``ValueError``
    when Tantivy cannot read the index.
    """
    hits = _ranked(snapshot.committed, prepared, limit, snapshot.hidden_ids)
    if snapshot.delta is None:
        return hits
    hits += _ranked(snapshot.delta, prepared, limit, frozenset())
    hits.sort(key=lambda hit: hit.score, reverse=True)
    return hits[:limit]


def _ranked(
    searcher: tantivy.Searcher,
    prepared: PreparedQuery,
    limit: int,
    hidden: frozenset[int],
) -> list[TextHit]:
    """The top hits of one searcher: exact-name hits (bonus + BM25) first, then BM25."""
    word_hits = _top_hits(searcher, prepared.words, limit, hidden)
    if prepared.exact is None:
        return word_hits
    exact_hits = _top_hits(searcher, prepared.exact, limit, hidden)
    if not exact_hits:
        return word_hits
    word_scores = {hit.symbol_id: hit.score for hit in word_hits}
    merged = {
        hit.symbol_id: TextHit(hit.symbol_id, hit.score + word_scores.get(hit.symbol_id, 0.0))
        for hit in exact_hits
    }
    for hit in word_hits:
        merged.setdefault(hit.symbol_id, hit)
    return sorted(merged.values(), key=lambda hit: hit.score, reverse=True)[:limit]


def _top_hits(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    limit: int,
    hidden: frozenset[int],
) -> list[TextHit]:
    """The best ``limit`` hits of ``query`` whose ids are not ``hidden``."""
    # Over-fetch by the number of hidden documents: the top ``limit``
    # survivors are then exactly the answer.
    result = searcher.search(query, limit + len(hidden), count=False)
    addresses = [address for _, address in result.hits]
    ids = searcher.fast_field_values(fields.SYMBOL_ID, addresses)
    hits = [
        TextHit(SymbolId(int(symbol_id)), float(score))
        for (score, _), symbol_id in zip(result.hits, ids, strict=True)
        if symbol_id is not None and symbol_id not in hidden
    ]
    return hits[:limit]
