"""The compiled inner loops of the IVF index: list scans with a bounded top-k heap, k-means steps.

Every array argument is passed read-only and C-contiguous (the Python layer makes
sure), so each kernel compiles to exactly one signature and that compilation is
reused from the on-disk cache by every later process.

Ranking is a total order: a higher score ranks first and, among equal scores, the
smaller id. Every candidate's score comes from the same compiled dot-product loop,
so a result never depends on which list or segment a vector sits in, nor on the
order in which lists are scanned.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from quiver.jit import kernel

# Numba-compiled helpers are typed loosely (numba supplies no stubs); the Python
# wrappers in ``quiver.ivf.index`` are the typed API.
Array = Any


@kernel()
def _ranks_below(score_a: float, id_a: int, score_b: float, id_b: int) -> bool:
    """True when candidate a ranks after candidate b."""
    return score_a < score_b or (score_a == score_b and id_a > id_b)


@kernel()
def _sift_down(heap_scores: Array, heap_ids: Array, size: int) -> None:
    """Restore the heap (root = the worst kept candidate) after its root was replaced."""
    position = 0
    score = heap_scores[0]
    ident = heap_ids[0]
    while True:
        child = 2 * position + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _ranks_below(
            heap_scores[right], heap_ids[right], heap_scores[child], heap_ids[child]
        ):
            child = right
        if _ranks_below(heap_scores[child], heap_ids[child], score, ident):
            heap_scores[position] = heap_scores[child]
            heap_ids[position] = heap_ids[child]
            position = child
        else:
            break
    heap_scores[position] = score
    heap_ids[position] = ident


@kernel()
def _sift_up(heap_scores: Array, heap_ids: Array, position: int) -> None:
    """Restore the heap after a candidate was placed at ``position``."""
    score = heap_scores[position]
    ident = heap_ids[position]
    while position > 0:
        parent = (position - 1) // 2
        if _ranks_below(score, ident, heap_scores[parent], heap_ids[parent]):
            heap_scores[position] = heap_scores[parent]
            heap_ids[position] = heap_ids[parent]
            position = parent
        else:
            break
    heap_scores[position] = score
    heap_ids[position] = ident


@kernel()
def _offer(heap_scores: Array, heap_ids: Array, filled: int, score: float, ident: int) -> int:
    """Keep the candidate if it is among the best ``len(heap)`` so far; returns the new fill."""
    capacity = heap_scores.shape[0]
    if filled < capacity:
        heap_scores[filled] = score
        heap_ids[filled] = ident
        _sift_up(heap_scores, heap_ids, filled)
        return filled + 1
    if _ranks_below(heap_scores[0], heap_ids[0], score, ident):
        heap_scores[0] = score
        heap_ids[0] = ident
        _sift_down(heap_scores, heap_ids, filled)
    return filled


@kernel()
def _dot(query: Array, vectors: Array, row: int) -> Any:
    """Inner product of ``query`` with one stored row (the only scoring loop there is)."""
    total = np.float32(0.0)
    for j in range(query.shape[0]):
        total += query[j] * vectors[row, j]
    return total


@kernel()
def _scan_rows(  # noqa: PLR0917 - numba kernels take positional arguments only
    query: Array,
    vectors: Array,
    ids: Array,
    dead: Array,
    start: int,
    stop: int,
    heap_scores: Array,
    heap_ids: Array,
    filled: int,
) -> int:
    """Score rows ``start:stop`` that are not dead and offer each to the heap."""
    capacity = heap_scores.shape[0]
    for row in range(start, stop):
        if dead[row]:
            continue
        score = _dot(query, vectors, row)
        # Cheap rejection first: most rows score below the worst kept candidate.
        if filled == capacity and score < heap_scores[0]:
            continue
        filled = _offer(heap_scores, heap_ids, filled, score, ids[row])
    return filled


@kernel()
def _scan_codes(  # noqa: PLR0917 - numba kernels take positional arguments only
    query: Array,
    codes: Array,
    scales: Array,
    dead: Array,
    start: int,
    stop: int,
    heap_scores: Array,
    heap_rows: Array,
    filled: int,
) -> int:
    """Approximate scores from the int8 codes of rows ``start:stop``; keeps the best rows."""
    capacity = heap_scores.shape[0]
    dim = query.shape[0]
    for row in range(start, stop):
        if dead[row]:
            continue
        total = np.float32(0.0)
        for j in range(dim):
            total += query[j] * np.float32(codes[row, j])
        score = total * scales[row]
        if filled == capacity and score < heap_scores[0]:
            continue
        filled = _offer(heap_scores, heap_rows, filled, score, row)
    return filled


@kernel()
def _drain(
    heap_scores: Array, heap_ids: Array, filled: int, out_scores: Array, out_ids: Array
) -> None:
    """Write the heap's candidates best first, padded with (-inf, -1)."""
    for j in range(filled, out_scores.shape[0]):
        out_scores[j] = -np.inf
        out_ids[j] = -1
    # Pop the worst candidate repeatedly, filling the output from the back.
    size = filled
    while size > 0:
        out_scores[size - 1] = heap_scores[0]
        out_ids[size - 1] = heap_ids[0]
        size -= 1
        if size > 0:
            heap_scores[0] = heap_scores[size]
            heap_ids[0] = heap_ids[size]
            _sift_down(heap_scores, heap_ids, size)


@kernel()
def _search_into(  # noqa: PLR0917 - numba kernels take positional arguments only
    query: Array,
    probes: Array,
    offsets: Array,
    vectors: Array,
    codes: Array,
    scales: Array,
    ids: Array,
    dead: Array,
    delta_vectors: Array,
    delta_ids: Array,
    delta_dead: Array,
    rerank: int,
    out_scores: Array,
    out_ids: Array,
) -> None:
    """Top-k over the probed lists and the whole delta, best first, padded with (-inf, -1).

    ``rerank == 0``: every probed row is scored exactly from its float32 vector.
    ``rerank > 0``: probed rows are scored approximately from their int8 codes, and
    the best ``rerank`` of them are scored again exactly from float32 before the
    final top-k (the delta is always scored exactly).
    """
    k = out_scores.shape[0]
    heap_scores = np.empty(k, dtype=np.float32)
    heap_ids = np.empty(k, dtype=np.int64)
    filled = 0
    if rerank == 0:
        for j in range(probes.shape[0]):
            cluster = probes[j]
            filled = _scan_rows(
                query, vectors, ids, dead, offsets[cluster], offsets[cluster + 1],
                heap_scores, heap_ids, filled,
            )  # fmt: skip
    else:
        candidate_scores = np.empty(rerank, dtype=np.float32)
        candidate_rows = np.empty(rerank, dtype=np.int64)
        candidates = 0
        for j in range(probes.shape[0]):
            cluster = probes[j]
            candidates = _scan_codes(
                query, codes, scales, dead, offsets[cluster], offsets[cluster + 1],
                candidate_scores, candidate_rows, candidates,
            )  # fmt: skip
        for c in range(candidates):
            row = candidate_rows[c]
            score = _dot(query, vectors, row)
            if filled == k and score < heap_scores[0]:
                continue
            filled = _offer(heap_scores, heap_ids, filled, score, ids[row])
    filled = _scan_rows(
        query, delta_vectors, delta_ids, delta_dead, 0, delta_vectors.shape[0],
        heap_scores, heap_ids, filled,
    )  # fmt: skip
    _drain(heap_scores, heap_ids, filled, out_scores, out_ids)


@kernel()
def search_one(  # noqa: PLR0917 - numba kernels take positional arguments only
    query: Array,
    probes: Array,
    offsets: Array,
    vectors: Array,
    codes: Array,
    scales: Array,
    ids: Array,
    dead: Array,
    delta_vectors: Array,
    delta_ids: Array,
    delta_dead: Array,
    rerank: int,
    k: int,
) -> tuple[Array, Array]:
    """One query: scores (k,) float32 descending and ids (k,) int64, on the calling thread."""
    scores = np.empty(k, dtype=np.float32)
    found = np.empty(k, dtype=np.int64)
    _search_into(
        query, probes, offsets, vectors, codes, scales, ids, dead, delta_vectors, delta_ids,
        delta_dead, rerank, scores, found,
    )  # fmt: skip
    return scores, found


@kernel()
def search_rows(  # noqa: PLR0917 - numba kernels take positional arguments only
    query: Array,
    vectors: Array,
    ids: Array,
    rows: Array,
    delta_vectors: Array,
    delta_ids: Array,
    delta_slots: Array,
    k: int,
) -> tuple[Array, Array]:
    """Top-k over the given rows of the lists and slots of the delta, scored exactly.

    Scores (k,) float32 descending and ids (k,) int64, padded with (-inf, -1); the
    same dot product and ranking as a probed search, on the calling thread.
    """
    heap_scores = np.empty(k, dtype=np.float32)
    heap_ids = np.empty(k, dtype=np.int64)
    filled = 0
    for j in range(rows.shape[0]):
        row = rows[j]
        score = _dot(query, vectors, row)
        if filled == k and score < heap_scores[0]:
            continue
        filled = _offer(heap_scores, heap_ids, filled, score, ids[row])
    for j in range(delta_slots.shape[0]):
        slot = delta_slots[j]
        score = _dot(query, delta_vectors, slot)
        if filled == k and score < heap_scores[0]:
            continue
        filled = _offer(heap_scores, heap_ids, filled, score, delta_ids[slot])
    scores = np.empty(k, dtype=np.float32)
    found = np.empty(k, dtype=np.int64)
    _drain(heap_scores, heap_ids, filled, scores, found)
    return scores, found


@kernel(parallel=True)
def search_many(  # noqa: PLR0917 - numba kernels take positional arguments only
    queries: Array,
    centroid_scores: Array,
    nprobe: int,
    offsets: Array,
    vectors: Array,
    codes: Array,
    scales: Array,
    ids: Array,
    dead: Array,
    delta_vectors: Array,
    delta_ids: Array,
    delta_dead: Array,
    rerank: int,
    k: int,
) -> tuple[Array, Array]:
    """A batch of queries, one per thread: scores (nq, k) and ids (nq, k).

    ``centroid_scores`` (nq, nlist) comes from one BLAS product; each thread picks its
    query's ``nprobe`` best lists from its row.
    """
    count = queries.shape[0]
    scores = np.empty((count, k), dtype=np.float32)
    found = np.empty((count, k), dtype=np.int64)
    for i in numba.prange(count):
        probes = _best_of(centroid_scores[i], nprobe)
        _search_into(
            queries[i], probes, offsets, vectors, codes, scales, ids, dead, delta_vectors,
            delta_ids, delta_dead, rerank, scores[i], found[i],
        )  # fmt: skip
    return scores, found


@kernel()
def quantize_rows(vectors: Array) -> tuple[Array, Array]:
    """Symmetric per-row int8 codes and scales: ``row ≈ scale · codes`` (max |code| = 127).

    An all-zero row gets scale 0 and zero codes.
    """
    count = vectors.shape[0]
    dim = vectors.shape[1]
    codes = np.empty((count, dim), dtype=np.int8)
    scales = np.empty(count, dtype=np.float32)
    for row in range(count):
        peak = np.float32(0.0)
        for j in range(dim):
            peak = max(peak, abs(vectors[row, j]))
        scale = peak / np.float32(127.0)
        scales[row] = scale
        inverse = np.float32(0.0) if scale == 0 else np.float32(1.0) / scale
        for j in range(dim):
            codes[row, j] = np.int8(min(127.0, max(-127.0, np.round(vectors[row, j] * inverse))))
    return codes, scales


@kernel()
def accumulate_clusters(vectors: Array, labels: Array, k: int) -> tuple[Array, Array]:
    """Per-cluster sums (k, dim) float64 and counts (k,) int64 of ``vectors`` under ``labels``."""
    dim = vectors.shape[1]
    sums = np.zeros((k, dim), dtype=np.float64)
    counts = np.zeros(k, dtype=np.int64)
    for i in range(vectors.shape[0]):
        label = labels[i]
        counts[label] += 1
        for j in range(dim):
            sums[label, j] += vectors[i, j]
    return sums, counts


@kernel()
def kmeans_plus_plus(vectors: Array, k: int, first: int, uniforms: Array) -> Array:
    """k-means++ seeding: row indices of ``k`` initial centres, drawn by squared distance.

    ``uniforms`` holds ``k`` numbers in [0, 1) drawn by the caller, so the choice is
    deterministic under the caller's seed. Cost: O(n · k · dim).
    """
    count = vectors.shape[0]
    dim = vectors.shape[1]
    chosen = np.empty(k, dtype=np.int64)
    chosen[0] = first
    nearest = np.empty(count, dtype=np.float64)
    for i in range(count):
        total = 0.0
        for j in range(dim):
            diff = vectors[i, j] - vectors[first, j]
            total += diff * diff
        nearest[i] = total
    for c in range(1, k):
        mass = 0.0
        for i in range(count):
            mass += nearest[i]
        pick = count - 1
        if mass <= 0.0:  # every point coincides with a centre already: choose uniformly
            pick = min(int(uniforms[c] * count), count - 1)
        else:
            target = uniforms[c] * mass
            running = 0.0
            for i in range(count):
                running += nearest[i]
                if running > target:
                    pick = i
                    break
        chosen[c] = pick
        for i in range(count):
            total = 0.0
            for j in range(dim):
                diff = vectors[i, j] - vectors[pick, j]
                total += diff * diff
            nearest[i] = min(nearest[i], total)
    return chosen


@kernel()
def _best_of(scores: Array, count: int) -> Array:
    """Indices of the ``count`` highest ``scores``, best first (ties: lower index)."""
    count = min(count, scores.shape[0])
    heap_scores = np.empty(count, dtype=np.float32)
    heap_ids = np.empty(count, dtype=np.int64)
    filled = 0
    for index in range(scores.shape[0]):
        score = scores[index]
        if filled == count and score < heap_scores[0]:
            continue
        filled = _offer(heap_scores, heap_ids, filled, score, index)
    chosen = np.empty(filled, dtype=np.int64)
    size = filled
    while size > 0:
        chosen[size - 1] = heap_ids[0]
        size -= 1
        if size > 0:
            heap_scores[0] = heap_scores[size]
            heap_ids[0] = heap_ids[size]
            _sift_down(heap_scores, heap_ids, size)
    return chosen


@kernel()
def top_centroids(centroids: Array, query: Array, count: int) -> Array:
    """The ``count`` centroids with the highest inner product with ``query``, best first.

    Ties go to the lower centroid id. Serial: for one query this beats a BLAS call,
    whose thread hand-off costs more than the product on a busy machine.
    """
    scores = np.empty(centroids.shape[0], dtype=np.float32)
    for centroid in range(centroids.shape[0]):
        scores[centroid] = _dot(query, centroids, centroid)
    return _best_of(scores, count)


@kernel()
def nearest_centroids(vectors: Array, centroids: Array) -> tuple[Array, Array]:
    """Nearest centroid (lowest id on ties) and its score for a small batch of vectors.

    Serial and blocked four vectors at a time: each centroid row is loaded once per
    block and the batch stays in cache. For small batches this beats a threaded BLAS
    product, whose thread hand-offs cost more than the arithmetic on a busy machine.
    """
    count = vectors.shape[0]
    dim = vectors.shape[1]
    labels = np.zeros(count, dtype=np.int32)
    best = np.full(count, -np.inf, dtype=np.float32)
    for centroid in range(centroids.shape[0]):
        row = 0
        while row + 4 <= count:
            s0 = np.float32(0.0)
            s1 = np.float32(0.0)
            s2 = np.float32(0.0)
            s3 = np.float32(0.0)
            for j in range(dim):
                value = centroids[centroid, j]
                s0 += value * vectors[row, j]
                s1 += value * vectors[row + 1, j]
                s2 += value * vectors[row + 2, j]
                s3 += value * vectors[row + 3, j]
            for offset, score in enumerate((s0, s1, s2, s3)):
                if score > best[row + offset]:
                    best[row + offset] = score
                    labels[row + offset] = centroid
            row += 4
        while row < count:
            score = _dot(vectors[row], centroids, centroid)
            if score > best[row]:
                best[row] = score
                labels[row] = centroid
            row += 1
    return labels, best


@kernel()
def find_row(sorted_ids: Array, sorted_positions: Array, ident: int) -> int:
    """The row of ``ident`` by binary search in the sorted ids; -1 if it is not there."""
    low = 0
    high = sorted_ids.shape[0]
    while low < high:
        middle = (low + high) // 2
        if sorted_ids[middle] < ident:
            low = middle + 1
        else:
            high = middle
    if low < sorted_ids.shape[0] and sorted_ids[low] == ident:
        return int(sorted_positions[low])
    return -1
