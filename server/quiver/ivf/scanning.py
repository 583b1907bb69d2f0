"""Running checked queries over one snapshot of the index: which lists, how deep, which kernel.

``search_snapshot`` chooses the probed lists (numba for one query, one BLAS product
for a batch), the int8 re-rank depth, and calls the numba scan kernels; ``top_lists``
is the probe choice alone, ``nearest_lists`` the list a new vector joins;
``score_ids`` scores given ids exactly (a filtered search), ``live_delta_ids`` names
the delta rows every search scans; ``warm_up_kernels`` loads those kernels ahead of
the first query. numba is imported inside the functions on purpose: opening an index
and answering name or word queries must not pay for it
(tests/engine/test_warm_start_path.py).
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from quiver.ivf.kmeans import assign_to_centroids
from quiver.ivf.state import Snapshot
from quiver.ivf.storage import BoolArray, Int32Array, Int64Array, read_only
from quiver.numeric import FloatMatrix, FloatVector, distinct

#: int8 scanning re-scores max(RERANK_PER_RESULT · k, MIN_RERANK) candidates in float32.
RERANK_PER_RESULT = 4
MIN_RERANK = 40

#: Probe lists for "scan every list" with no centroid scoring (sliced to nlist).
_ALL_LISTS = read_only(np.arange(65536, dtype=np.int64))


def search_snapshot(
    snapshot: Snapshot, queries: FloatMatrix, k: int, *, nprobe: int, rerank: int | None
) -> tuple[FloatMatrix, Int64Array]:
    """The ``k`` best rows of ``snapshot`` per query row (see ``IVFIndex.search``).

    ``queries`` must be checked already (read-only float32, the index's width, finite,
    non-zero); ``k`` ≥ 1, ``nprobe`` ≥ 1, ``rerank`` None or ≥ 0. Cost: one query ×
    centroids product (one query: serial numba; a batch: BLAS), then ``nprobe`` lists
    plus the delta scanned in numba (one query: on the calling thread; a batch: in
    parallel, one query per thread, under ``PARALLEL_LOCK``).
    """
    from quiver.ivf import kernels  # numba: imported when first needed

    lists = snapshot.lists
    depth = 0
    if lists.has_codes:
        depth = max(RERANK_PER_RESULT * k, MIN_RERANK) if rerank is None else int(rerank)
        # Never more candidates than rows (then every row is re-scored: exact), and
        # never fewer than k.
        depth = 0 if depth == 0 else max(int(k), min(depth, lists.rows))
    nlist = lists.nlist
    args = (
        lists.offsets,
        lists.vectors,
        lists.codes,
        lists.scales,
        lists.ids,
        snapshot.dead,
        snapshot.delta_vectors,
        snapshot.delta_ids,
        snapshot.delta_dead,
        depth,
        int(k),
    )
    if queries.shape[0] == 1:
        if nprobe < nlist:
            probes = read_only(kernels.top_centroids(lists.centroids, queries[0], nprobe))
        else:
            probes = _ALL_LISTS[:nlist] if nlist <= _ALL_LISTS.size else read_only(np.arange(nlist))
        scores, ids = kernels.search_one(queries[0], probes, *args)
        return scores.reshape(1, -1), ids.reshape(1, -1)
    # One BLAS product scores every query against every centroid; probing everything
    # needs no scores (equal zeros keep the lists in id order).
    if nprobe < nlist:
        centroid_scores = read_only(queries @ lists.centroids.T)
    else:
        centroid_scores = read_only(np.zeros((queries.shape[0], nlist), dtype=np.float32))
    from quiver.jit import PARALLEL_LOCK

    with PARALLEL_LOCK:
        scores, ids = kernels.search_many(queries, centroid_scores, nprobe, *args)
    return scores, ids


def score_ids(
    snapshot: Snapshot, query: FloatVector, wanted: npt.ArrayLike, k: int
) -> tuple[FloatVector, Int64Array]:
    """The ``k`` best live rows among the ids ``wanted`` by exact inner product with ``query``.

    Returns scores (≤ k,) float32 descending and their ids (equal scores: smaller id
    first); absent and removed ids are skipped, duplicates count once. ``query`` must
    be checked already. Cost: a binary search per id in the mapped sorted ids and a
    membership test of the delta's ids (numpy), then the rows found scored in numba on
    the calling thread, with the same dot product as a probed search (~0.1 µs per
    dimension-384 row; no BLAS, whose thread hand-off costs more on a busy machine).
    """
    from quiver.ivf import kernels  # numba: imported when first needed

    ids: Int64Array = np.atleast_1d(np.asarray(wanted, dtype=np.int64))
    lists = snapshot.lists
    found, positions = lists.lookup(ids)
    positions = positions[found]
    # Sorted and distinct: the scan walks the mapped file forward, each row once.
    rows = distinct(positions[~snapshot.dead[positions]])
    slots = np.flatnonzero(~snapshot.delta_dead & _members(snapshot.delta_ids, ids))
    scores, hits = kernels.search_rows(
        query,
        lists.vectors,
        lists.ids,
        read_only(rows),
        snapshot.delta_vectors,
        snapshot.delta_ids,
        read_only(slots.astype(np.int64, copy=False)),
        int(k),
    )
    filled = int(np.count_nonzero(hits >= 0))
    return scores[:filled], hits[:filled]


def live_delta_ids(snapshot: Snapshot) -> Int64Array:
    """The live ids in ``snapshot``'s delta, in slot order. Cost: O(delta) (a masked copy)."""
    live: Int64Array = snapshot.delta_ids[~snapshot.delta_dead]
    return live


def _members(values: Int64Array, wanted: Int64Array) -> BoolArray:
    """Whether each of ``values`` is in ``wanted`` (``np.isin`` imports ``numpy.ma``, ~70 ms)."""
    if values.size == 0 or wanted.size == 0:
        return np.zeros(values.shape, dtype=bool)
    ordered = np.sort(wanted)
    where = np.minimum(np.searchsorted(ordered, values), ordered.size - 1)
    found: BoolArray = ordered[where] == values
    return found


def top_lists(centroids: FloatMatrix, query: FloatVector, count: int) -> Int32Array:
    """The ``count`` lists whose centroids score highest for ``query``, best first.

    Empty when there are no centroids (untrained). Cost: one query × centroids product
    and a partial sort, in numba.
    """
    from quiver.ivf import kernels  # numba: imported when first needed

    if centroids.shape[0] == 0:
        return np.empty(0, dtype=np.int32)
    top = kernels.top_centroids(centroids, query, min(count, centroids.shape[0]))
    chosen: Int32Array = top.astype(np.int32)
    return chosen


def nearest_lists(vectors: FloatMatrix, centroids: FloatMatrix) -> Int32Array:
    """The list each of ``vectors`` joins: its nearest centroid, -1 for all when untrained.

    Cost: ``kmeans.assign_to_centroids`` (numba up to 256 rows, else BLAS by blocks).
    """
    if centroids.shape[0] == 0:
        return np.full(vectors.shape[0], -1, dtype=np.int32)
    labels, _scores = assign_to_centroids(vectors, centroids)
    return labels


def warm_up_kernels(*, batch: bool = False) -> float:
    """Load the compiled kernels a first query needs; returns the seconds it took.

    Loading from numba's on-disk cache costs ~0.2-0.4 s once per process (compiling,
    on a cold cache, several seconds). A server can call this at start-up, for example
    from a background thread, so its first search does not pay it. ``batch`` also
    loads the parallel batch kernel.
    """
    from quiver.ivf import kernels  # numba: imported when first needed

    started = time.perf_counter()
    dim = 4
    vectors = read_only(np.eye(2, dim, dtype=np.float32))
    codes, scales = kernels.quantize_rows(vectors)
    offsets = read_only(np.array([0, 1, 2], dtype=np.int64))
    ids = read_only(np.array([0, 1], dtype=np.int64))
    dead = read_only(np.zeros(2, dtype=bool))
    query = read_only(np.ones((1, dim), dtype=np.float32))
    probes = read_only(kernels.top_centroids(vectors, query[0], 1))
    args = (offsets, vectors, read_only(codes), read_only(scales), ids, dead)
    delta = (vectors[:0], ids[:0], dead[:0])
    kernels.search_one(query[0], probes, *args, *delta, 4, 1)
    kernels.search_rows(query[0], vectors, ids, ids, vectors[:0], ids[:0], ids[:0], 1)
    kernels.find_row(ids, ids, 1)
    kernels.nearest_centroids(vectors, vectors)
    if batch:
        centroid_scores = read_only(np.zeros((1, 2), dtype=np.float32))
        from quiver.jit import PARALLEL_LOCK

        with PARALLEL_LOCK:
            kernels.search_many(query, centroid_scores, 1, *args, *delta, 4, 1)
    return time.perf_counter() - started
