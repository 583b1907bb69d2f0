"""The scoring weights and the alignment kernels of the fuzzy matcher.

The kernels are plain Python over flat numpy buffers. ``quiver.fuzzy.compiled``
compiles them with numba in ``warm_up``; until then a process runs them as they are
where little work is done (``fuzzy_score``, the positions of the returned names) and
scores a search's candidates with ``quiver.fuzzy.numpy_scoring`` instead, so that a
warm server's first Ctrl+T does not wait ~0.35 s for numba to import and load its
cache. This module never imports numba.

The kernels read names straight out of the flat buffers (``start`` + ``n``)
instead of slicing them: a slice per name costs reference counting that
dominated the run time of short queries.

The weights live in this file, next to the kernels that read them, on purpose:
numba freezes global constants into the compiled code and invalidates its disk
cache only when the kernel's own source file changes, so a weight kept in another
module could change without the cached kernels noticing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# --- scoring weights (see the ``quiver.fuzzy`` docstring for how they combine) ---------
MATCH = 16
CASE = 2
START = 10
WORD = 8
CAMEL = 7
FIRST_CHAR_MULTIPLIER = 2
CONSECUTIVE = 4
GAP_START = -3
GAP_EXTENSION = -1
PREFIX = 8.0
EXACT = 1000.0
EXACT_CASE = 8.0
LENGTH_PENALTY = 0.25

#: The score of a name the query does not match.
NO_MATCH = -1.0e30
NEG = -(1 << 40)  # "impossible" in the integer alignment table; far from overflow

Int32Array = npt.NDArray[np.int32]
Int64Array = npt.NDArray[np.int64]
UInt64Array = npt.NDArray[np.uint64]
Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]


def _align(  # noqa: PLR0917 - numba kernels take flat positional arrays
    lower: Int32Array,
    orig: Int32Array,
    bonus: Int8Array,
    start: int,
    n: int,
    q_lower: Int32Array,
    q_orig: Int32Array,
    prev_row: Int64Array,
    cur_row: Int64Array,
    lo: Int64Array,
    hi: Int64Array,
    pred: Int32Array,
    trace: bool,
) -> tuple[int, int]:
    """Best alignment score of the query in the name ``lower[start:start + n]``
    and the name position of the query's last character (``(NEG, -1)`` when
    the query is not a subsequence of the name).

    ``prev_row``/``cur_row`` (≥ n) and ``lo``/``hi`` (≥ query length) are
    scratch. With ``trace`` the predecessor of every reached cell is written to
    ``pred`` (query length × n) for ``positions_of``.
    """
    m = q_lower.shape[0]
    if m == 0 or m > n:
        return NEG, -1
    if m == 1:
        # One character: the best single position, no table needed.
        c = q_lower[0]
        c_orig = q_orig[0]
        best = NEG
        best_end = -1
        for j in range(n):
            if lower[start + j] == c:
                score = MATCH + FIRST_CHAR_MULTIPLIER * bonus[start + j]
                if orig[start + j] == c_orig:
                    score += CASE
                if score > best:
                    best = score
                    best_end = j
        return best, best_end
    # Earliest possible position of each query character (greedy from the left)...
    j = 0
    for i in range(m):
        c = q_lower[i]
        while j < n and lower[start + j] != c:
            j += 1
        if j == n:
            return NEG, -1
        lo[i] = j
        j += 1
    # ...and latest (greedy from the right): every alignment lies inside [lo, hi].
    j = n - 1
    for i in range(m - 1, -1, -1):
        c = q_lower[i]
        while lower[start + j] != c:
            j -= 1
        hi[i] = j
        j -= 1

    window_lo = lo[0]
    window_hi = hi[m - 1]
    for k in range(window_lo, window_hi + 1):
        prev_row[k] = NEG
    c = q_lower[0]
    c_orig = q_orig[0]
    for j in range(lo[0], hi[0] + 1):
        if lower[start + j] == c:
            score = MATCH + FIRST_CHAR_MULTIPLIER * bonus[start + j]
            if orig[start + j] == c_orig:
                score += CASE
            prev_row[j] = score

    for i in range(1, m):
        for k in range(window_lo, window_hi + 1):
            cur_row[k] = NEG
        c = q_lower[i]
        c_orig = q_orig[i]
        # Best predecessor ending at or before j - 2, with the gap charged flat
        # (landing on a word start) or per skipped character (``best_ext`` is
        # decayed by GAP_EXTENSION for every step j moves right).
        best_flat = NEG
        best_flat_at = -1
        best_ext = NEG
        best_ext_at = -1
        for j in range(lo[i - 1] + 1, hi[i] + 1):
            if best_ext_at >= 0:
                best_ext += GAP_EXTENSION
            k = j - 2
            if k >= lo[i - 1]:
                candidate = prev_row[k]
                if candidate > best_flat:
                    best_flat = candidate
                    best_flat_at = k
                if candidate > best_ext:
                    best_ext = candidate
                    best_ext_at = k
            if j < lo[i] or lower[start + j] != c:
                continue
            gain = MATCH
            if orig[start + j] == c_orig:
                gain += CASE
            b = bonus[start + j]
            best = NEG
            best_at = -1
            consecutive = prev_row[j - 1]
            if consecutive > NEG:
                best = consecutive + gain + (b if b > CONSECUTIVE else CONSECUTIVE)
                best_at = j - 1
            if b > 0:
                if best_flat_at >= 0:
                    gapped = best_flat + gain + b + GAP_START
                    if gapped > best:
                        best = gapped
                        best_at = best_flat_at
            elif best_ext_at >= 0:
                gapped = best_ext + gain + GAP_START
                if gapped > best:
                    best = gapped
                    best_at = best_ext_at
            if best_at >= 0:
                cur_row[j] = best
                if trace:
                    pred[i, j] = best_at
        prev_row, cur_row = cur_row, prev_row

    best = NEG
    best_end = -1
    for j in range(lo[m - 1], hi[m - 1] + 1):
        if prev_row[j] > best:
            best = prev_row[j]
            best_end = j
    return best, best_end


def _name_bonus(  # noqa: PLR0917 - numba kernels take flat positional arrays
    lower: Int32Array,
    orig: Int32Array,
    start: int,
    n: int,
    q_lower: Int32Array,
    raw_lower: Int32Array,
    raw_orig: Int32Array,
) -> float:
    """Prefix / exact / exact-case bonus minus the length penalty of one matched name."""
    m = q_lower.shape[0]
    extra: float = -LENGTH_PENALTY * (n - m)
    prefix = True
    for i in range(m):
        if lower[start + i] != q_lower[i]:
            prefix = False
            break
    r = raw_lower.shape[0]
    raw_prefix = r <= n
    if raw_prefix:
        for i in range(r):
            if lower[start + i] != raw_lower[i]:
                raw_prefix = False
                break
    if prefix or raw_prefix:
        extra += PREFIX
    if raw_prefix and r == n:
        extra += EXACT
        exact_case = True
        for i in range(r):
            if orig[start + i] != raw_orig[i]:
                exact_case = False
                break
        if exact_case:
            extra += EXACT_CASE
    return extra


def upper_bound(  # noqa: PLR0917 - numba kernels take flat positional arrays
    lower: Int32Array,
    start: int,
    n: int,
    word_start_mask: np.uint64,
    q_lower: Int32Array,
    q_bits: UInt64Array,
    raw_lower: Int32Array,
) -> float:
    """The highest score the name ``lower[start:start + n]`` could reach, from
    its length, first character and word-start characters alone (O(query)).

    A query character earns a word-start bonus only if the name has that
    character on some word start (``word_start_mask``); otherwise it earns at
    most the CONSECUTIVE bonus. START (doubled) needs the first query
    character on the name's first character.
    """
    m = q_lower.shape[0]
    r = raw_lower.shape[0]
    first = lower[start]
    if first == q_lower[0]:
        best_dp = MATCH + CASE + FIRST_CHAR_MULTIPLIER * START
    elif word_start_mask & q_bits[0]:
        best_dp = MATCH + CASE + FIRST_CHAR_MULTIPLIER * WORD
    else:
        best_dp = MATCH + CASE
    for i in range(1, m):
        if word_start_mask & q_bits[i]:
            best_dp += MATCH + CASE + WORD
        else:
            best_dp += MATCH + CASE + CONSECUTIVE
    bound: float = best_dp - LENGTH_PENALTY * (n - m)
    if first == q_lower[0] or first == raw_lower[0]:
        bound += PREFIX
        if n == r and first == raw_lower[0]:
            bound += EXACT + EXACT_CASE
    return bound


def _heap_replace_min(heap: npt.NDArray[np.float64], value: float) -> None:
    """Replace the smallest value of a full binary min-heap and restore the heap."""
    size = heap.shape[0]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= value:
            break
        heap[i] = heap[child]
        i = child
    heap[i] = value


def score_top(  # noqa: PLR0917 - numba kernels take flat positional arrays
    candidates: Int64Array,
    offsets: Int64Array,
    lengths: Int32Array,
    word_start_masks: UInt64Array,
    lower: Int32Array,
    orig: Int32Array,
    bonus: Int8Array,
    q_lower: Int32Array,
    q_orig: Int32Array,
    q_bits: UInt64Array,
    raw_lower: Int32Array,
    raw_orig: Int32Array,
    limit: int,
) -> tuple[Int64Array, npt.NDArray[np.float64]]:
    """The candidate slots that score at least the ``limit``-th best score, and
    their scores (ties at that score included, in candidate order).

    A min-heap holds the best ``limit`` scores seen so far; a candidate whose
    upper bound (a function of its length alone) is below the heap's minimum
    cannot enter the result, so its alignment is skipped. Short queries match
    most names, and this is what keeps them fast. Uncompiled,
    ``numpy_scoring.score_batches`` computes the same in numpy instead.
    """
    count = candidates.shape[0]
    scores = np.full(count, NO_MATCH, dtype=np.float64)
    m = q_lower.shape[0]
    longest = 1
    for t in range(count):
        longest = max(longest, lengths[candidates[t]])
    prev_row = np.empty(longest, dtype=np.int64)
    cur_row = np.empty(longest, dtype=np.int64)
    lo = np.empty(max(m, 1), dtype=np.int64)
    hi = np.empty(max(m, 1), dtype=np.int64)
    pred = np.empty((1, 1), dtype=np.int32)
    # More slots than candidates could never fill, so a huge limit costs nothing.
    heap = np.full(max(min(limit, count), 1), NO_MATCH, dtype=np.float64)
    for t in range(count):
        slot = candidates[t]
        n = lengths[slot]
        start = offsets[slot]
        bound = upper_bound(lower, start, n, word_start_masks[slot], q_lower, q_bits, raw_lower)
        if bound < heap[0]:
            continue
        dp, _ = _align(
            lower,
            orig,
            bonus,
            start,
            n,
            q_lower,
            q_orig,
            prev_row,
            cur_row,
            lo,
            hi,
            pred,
            False,
        )
        if dp <= NEG:
            continue
        score = dp + _name_bonus(lower, orig, start, n, q_lower, raw_lower, raw_orig)
        scores[t] = score
        if score > heap[0]:
            _heap_replace_min(heap, score)
    threshold = max(heap[0], NO_MATCH / 2)
    kept = 0
    for t in range(count):
        if scores[t] >= threshold:
            kept += 1
    kept_slots = np.empty(kept, dtype=np.int64)
    kept_scores = np.empty(kept, dtype=np.float64)
    k = 0
    for t in range(count):
        if scores[t] >= threshold:
            kept_slots[k] = candidates[t]
            kept_scores[k] = scores[t]
            k += 1
    return kept_slots, kept_scores


def positions_of(  # noqa: PLR0917 - numba kernels take flat positional arrays
    slots: Int64Array,
    offsets: Int64Array,
    lengths: Int32Array,
    lower: Int32Array,
    orig: Int32Array,
    bonus: Int8Array,
    q_lower: Int32Array,
    q_orig: Int32Array,
) -> Int64Array:
    """Matched positions of the best alignment in each slot's name, one row per
    slot (a row of -1 where the query does not match)."""
    count = slots.shape[0]
    m = q_lower.shape[0]
    out = np.full((count, m), -1, dtype=np.int64)
    longest = 1
    for t in range(count):
        longest = max(longest, lengths[slots[t]])
    prev_row = np.empty(longest, dtype=np.int64)
    cur_row = np.empty(longest, dtype=np.int64)
    lo = np.empty(max(m, 1), dtype=np.int64)
    hi = np.empty(max(m, 1), dtype=np.int64)
    # Only cells reached by this name's table are read back, so the
    # predecessor table needs no clearing between names.
    pred = np.empty((max(m, 1), longest), dtype=np.int32)
    for t in range(count):
        slot = slots[t]
        _, end = _align(
            lower,
            orig,
            bonus,
            offsets[slot],
            lengths[slot],
            q_lower,
            q_orig,
            prev_row,
            cur_row,
            lo,
            hi,
            pred,
            True,
        )
        if end < 0:
            continue
        j = end
        for i in range(m - 1, -1, -1):
            out[t, i] = j
            if i > 0:
                j = pred[i, j]
    return out


#: The kernels the entry points call: compiled first (and inlined) by
#: ``quiver.fuzzy.compiled``, which finds them by these names.
HELPERS = (_align, _name_bonus, upper_bound, _heap_replace_min)
