"""Filtered semantic search: the text index names the admitted symbols, the IVF scores them.

Filtering after the IVF probe (what the search did before issue 14) only sees the
admitted symbols of the ``nprobe`` probed lists: a filter admitting a few symbols
spread over many lists returned too few answers, or worse ones. Here the filter
(kind, language, path globs) runs first, in the text index, on its FAST fields:

0. How many symbols the filter admits in each IVF list: one terms aggregation over
   the ``cluster_id`` FAST field.
1. Few admitted symbols (at most ``EXACT_SCAN_ROWS``): their ids, every one scored
   exactly from the IVF (lists and delta). The answer is exact filtered brute force.
2. Many: the admitted lists are taken nearest centroid first until there are at least
   ``nprobe`` of them and they hold at least ``LIST_SCAN_ROWS`` admitted symbols;
   the admitted ids in those lists, in no list (cluster -1: not clustered yet), and
   in the IVF's delta (which every plain search scans too) are scored exactly. The
   10 best of a filter admitting a fraction f of the symbols lie about 1/f times
   deeper in the unfiltered ranking; a fixed number of admitted rows spans about 1/f
   times more lists, so recall stays level across selectivities.

The text index's cluster ids are trusted only as far as the IVF agrees: a crash
between a retrain and the text index's reassignment leaves them stale. The ids
fetched for the chosen lists are checked against the IVF's own lists (a binary
search each); when many sit elsewhere, every admitted id is read and the lists come
from the IVF instead (slower by ~0.6 µs per admitted symbol, same answers).

Tombstoned ids never come back: the IVF skips ids that are not live, and the text
index drops documents that newer writes replaced. Measured figures and the choice of
the two constants: ``benchmarks/README.md``, "Filtered semantic search".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Final, cast

import numpy as np

from quiver.ids import ClusterId, SymbolId
from quiver.ivf.index import IVFIndex
from quiver.ivf.storage import BoolArray, Int32Array, Int64Array
from quiver.numeric import FloatVector
from quiver.text.index import DocumentIndex
from quiver.text.query import Filters

log = logging.getLogger(__name__)

#: Every admitted symbol is scored when there are at most this many. Measured on
#: 95,000 symbols (benchmarks/filtered_search.py): exact scoring costs ~0.7 ms plus
#: ~0.5 µs per symbol, as much as the list path below at ~4,000-5,000 symbols.
EXACT_SCAN_ROWS: Final = 4096
#: Else the nearest admitted lists are scanned until they hold this many admitted
#: symbols (and ``nprobe`` lists at least). Measured: recall@10 of every filter, from
#: 0.8 % to 52 % of the symbols, at or above the unfiltered search's (0.98-1.0 where the
#: unfiltered search had 0.964), ~1 ms faster than 4,096 at 0.01 less recall.
LIST_SCAN_ROWS: Final = 2048
#: The cluster id of a symbol in no IVF list (added before the index was trained).
UNCLUSTERED: Final = ClusterId(-1)
#: Above this fraction of ids found in other lists than the text index says, its
#: cluster ids are taken as stale and the lists are read from the IVF instead.
STALE_FRACTION: Final = 0.125


def filtered_semantic_hits(
    text: DocumentIndex, vectors: IVFIndex, query: FloatVector, k: int, filters: Filters
) -> list[tuple[int, float]]:
    """(symbol id, cosine) of the ``k`` best vectors ``filters`` admit, best first.

    Scores are exact inner products. Exact filtered brute force when the filter admits
    at most ``EXACT_SCAN_ROWS`` symbols, else the admitted lists nearest the query (see
    the module). Caller holds the engine's state lock. Cost: an aggregation and one
    search on the text index's fast fields, then at most ``EXACT_SCAN_ROWS`` admitted
    symbols (about ``LIST_SCAN_ROWS`` past it) read and scored, ~1 µs each: 1–4 ms on
    95,000 symbols (``benchmarks/README.md``).
    """
    counts = text.admitted_clusters(filters, max_clusters=vectors.nlist + 1)
    admitted = sum(counts.values())
    if admitted == 0:
        return []
    if admitted <= EXACT_SCAN_ROWS:
        candidates = np.asarray(text.admitted_symbols(filters), dtype=np.int64)
    else:
        candidates = _ids_in_nearest_lists(text, vectors, query, filters, counts)
    scores, ids = vectors.search_ids(query, candidates, k)
    return list(zip(ids.tolist(), scores.tolist(), strict=True))


def _ids_in_nearest_lists(
    text: DocumentIndex,
    vectors: IVFIndex,
    query: FloatVector,
    filters: Filters,
    counts: Mapping[ClusterId, int],
) -> Int64Array:
    """The admitted ids in the nearest admitted lists, the unclustered ones and the delta's."""
    ranked = vectors.probe(query, max(1, vectors.nlist))
    chosen = chosen_lists(ranked, counts, vectors.nprobe)
    found = text.admitted_symbols(replace(filters, clusters=[*chosen, UNCLUSTERED]))
    in_lists = np.asarray(found, dtype=np.int64)
    if _stale(vectors.cluster_of(in_lists), chosen, vectors.nlist):
        log.info("The text index's cluster ids disagree with the IVF; reading the lists there.")
        in_lists, chosen = _ids_in_nearest_lists_of_ivf(text, vectors, ranked, filters)
    # The delta's vectors in other lists: a plain search scans the whole delta, so here
    # too every admitted one is scored, whichever list it was assigned to.
    delta = vectors.delta_ids()
    if delta.size == 0:
        return in_lists
    outside = delta[~_in_lists(vectors.cluster_of(delta), [*chosen, UNCLUSTERED], vectors.nlist)]
    if outside.size == 0:
        return in_lists
    # SymbolId is a NewType of int: the plain ints need no conversion.
    symbols = cast("list[SymbolId]", outside.tolist())
    in_delta = text.admitted_symbols(replace(filters, symbols=symbols))
    return np.concatenate([in_lists, np.asarray(in_delta, dtype=np.int64)])


def chosen_lists(
    ranked: Int32Array, admitted: Mapping[ClusterId, int], nprobe: int
) -> list[ClusterId]:
    """The lists to scan: nearest first among those holding admitted symbols, until there
    are ``nprobe`` of them and they hold ``LIST_SCAN_ROWS`` admitted symbols together."""
    chosen: list[ClusterId] = []
    rows = 0
    for cluster in ranked.tolist():
        count = admitted.get(ClusterId(cluster), 0)
        if count == 0:
            continue
        chosen.append(ClusterId(cluster))
        rows += count
        if len(chosen) >= nprobe and rows >= LIST_SCAN_ROWS:
            break
    return chosen


def _in_lists(clusters: Int32Array, lists: Sequence[ClusterId], nlist: int) -> BoolArray:
    """Whether each IVF cluster id (-1 to ``nlist`` - 1) is one of ``lists``.

    A mask, not ``np.isin``: that one imports ``numpy.ma`` (~70 ms) on first use.
    """
    member = np.zeros(nlist + 1, dtype=bool)  # the last slot stands for -1
    member[np.asarray(lists, dtype=np.int64)] = True
    found: BoolArray = member[clusters]
    return found


def _stale(actual: Int32Array, chosen: Sequence[ClusterId], nlist: int) -> bool:
    """Whether many ids the text index placed in ``chosen`` lists sit in other IVF lists."""
    if actual.size == 0:
        return False
    misplaced = (actual >= 0) & ~_in_lists(actual, chosen, nlist)
    return int(misplaced.sum()) > STALE_FRACTION * actual.size


def _ids_in_nearest_lists_of_ivf(
    text: DocumentIndex, vectors: IVFIndex, ranked: Int32Array, filters: Filters
) -> tuple[Int64Array, list[ClusterId]]:
    """As ``_ids_in_nearest_lists`` with the lists read from the IVF (every admitted id):
    the admitted ids in the chosen lists, and those lists."""
    everything = np.asarray(text.admitted_symbols(filters), dtype=np.int64)
    clusters = vectors.cluster_of(everything)
    # np.bincount, not np.unique: that one imports numpy.ma (~70 ms) on first use.
    counts = np.bincount(clusters[clusters >= 0], minlength=vectors.nlist)
    admitted = {ClusterId(int(c)): int(counts[c]) for c in np.flatnonzero(counts)}
    chosen = chosen_lists(ranked, admitted, vectors.nprobe)
    kept: Int64Array = everything[_in_lists(clusters, chosen, vectors.nlist)]
    return kept, chosen
