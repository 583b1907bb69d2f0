"""Fuzzy matching of symbol names, the way editors rank Ctrl+T results.

A query matches a name when its characters appear in the name in order
(a case-insensitive subsequence). Among the matches, the ranking favours what a
person typing an abbreviation means:

* characters that land on **word starts** — the first character of the name, a
  character after a separator (``get_user``), a camelCase hump (``getUser``),
  the last capital of an acronym before a lower-case letter (``HTTPServer`` →
  ``S``), a switch between letters and digits (``utf8``);
* **contiguous runs** (``user`` inside ``getUser`` beats ``u…s…e…r`` spread out);
* characters typed in the **same case** as in the name;
* a query that is a **prefix** of the name, and above all an **exact** name;
* **shorter** names, when everything else is equal.

Separators in the query (``_ - . : / \\`` and spaces) are optional: ``get_user``
matches ``getUser`` as well as ``get_user_by_id``. A query made only of
separators (``__``) is matched literally.

The score of one alignment (the positions ``p_0 < p_1 < … < p_{m-1}`` where the
query characters land) is the sum, for each matched character, of

``MATCH`` + ``CASE`` if typed in the same case
+ ``FIRST_CHAR_MULTIPLIER × bonus(p_0)`` for the first query character,
+ ``max(bonus(p_i), CONSECUTIVE)`` when ``p_i = p_{i-1} + 1``,
+ ``bonus(p_i) + GAP_START + GAP_EXTENSION × (gap - 1)`` after a gap of ``gap``
  skipped characters — but only ``bonus(p_i) + GAP_START`` when ``p_i`` is a word
  start (skipping whole words is how abbreviations work, so it costs no more for
  long words);

where ``bonus`` is ``START``, ``WORD``, ``CAMEL`` or 0 as listed above. A
name's score is the best alignment's score (found by dynamic programming)
plus ``PREFIX`` / ``EXACT`` / ``EXACT_CASE`` bonuses, minus ``LENGTH_PENALTY``
per name character the query does not cover. Ties are broken by shorter name,
then the name's code points, then the caller's key, so results are deterministic.

With these weights ``hsr`` ranks both ``hasSortedRows`` and
``HttpServerRequest`` (every character on a word start) far above ``whiskers``
(mid-word); between the two the shorter ``hasSortedRows`` wins (its ``h`` is also
typed in the same case), while ``HSR`` puts ``HttpServerRequest`` first.

``NameIndex`` holds many names in flat numpy buffers (code points, lower-cased
code points and per-character bonuses) with two 64-bit character-set masks per
name (all its characters; the characters on its word starts). A search
discards in one vectorised step every name lacking a query character, then a
kernel keeps the best ``limit`` scores in a min-heap and skips aligning any
name whose upper bound cannot reach them. The kernels are compiled by numba
(cached on disk) once ``warm_up`` has run; before, a search computes the same
scores in numpy, by batches of names (``_score_batches``): importing numba and
loading its cache takes ~0.35 s, which a warm server's first answer must not
wait for. No LSP import here: the engine and the CLI use this module directly.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from quiver import numeric

__all__ = [
    "MAX_QUERY_LENGTH",
    "FuzzyMatch",
    "NameIndex",
    "fuzzy_score",
    "kernels_compiled",
    "warm_up",
]

# --- scoring weights (see the module docstring for how they combine) ------------------
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

#: Queries longer than this (after removing separators) match nothing: no
#: identifier is that long, and the alignment cost grows with query × name length.
MAX_QUERY_LENGTH = 256

#: Query characters that stand for "a word boundary here" and may be skipped.
QUERY_SEPARATORS = frozenset("_-.:/\\ \t")

_NO_MATCH = -1.0e30
_NEG = -(1 << 40)  # "impossible" in the integer alignment table; far from overflow

# Per-character class flags.
_ALNUM = np.uint8(1)
_UPPER = np.uint8(2)
_LOWER = np.uint8(4)
_DIGIT = np.uint8(8)

Int32Array = npt.NDArray[np.int32]
Int64Array = npt.NDArray[np.int64]
UInt64Array = npt.NDArray[np.uint64]
Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]

K = TypeVar("K", bound=int)
ScalarT = TypeVar("ScalarT", bound=np.generic)


@dataclass(frozen=True, slots=True)
class FuzzyMatch(Generic[K]):
    """One ranked name: the caller's ``key``, its ``score`` (higher is better,
    comparable within one search) and the ``positions`` in the name where the
    query's characters matched (Python string indices, ascending; separators
    the query skipped have none; empty for an empty query)."""

    key: K
    score: float
    positions: tuple[int, ...]


# --- character classification ---------------------------------------------------------


def _classify_code_point(code: int) -> tuple[int, int, int]:
    """(lower-cased code point, class flags, mask bit) of one code point."""
    char = chr(code)
    lowered = char.lower()
    # A few characters lower-case to several (``İ`` → ``i̇``); keep those as they
    # are so positions in the buffer stay positions in the name.
    lower = ord(lowered) if len(lowered) == 1 else code
    flags = 0
    if char.isalnum():
        flags |= int(_ALNUM)
    if char.isupper():
        flags |= int(_UPPER)
    if char.islower():
        flags |= int(_LOWER)
    if char.isdigit():
        flags |= int(_DIGIT)
    return lower, flags, _mask_bit(lower)


def _mask_bit(lower: int) -> int:
    """The bit of the 64-bit character-set mask that stands for a lower-cased code point.

    Letters and digits get a bit each; everything else shares the remaining
    bits by hashing, which only makes the prefilter let a few more names through.
    """
    if 97 <= lower <= 122:  # a-z
        return lower - 97
    if 48 <= lower <= 57:  # 0-9
        return 26 + lower - 48
    if lower < 128:
        return 36 + lower % 8
    return 44 + lower % 20


_ASCII_LOWER = np.empty(128, dtype=np.int32)
_ASCII_FLAGS = np.empty(128, dtype=np.uint8)
_ASCII_BIT = np.empty(128, dtype=np.uint64)
for _code in range(128):
    _lower, _flags, _bit = _classify_code_point(_code)
    _ASCII_LOWER[_code] = _lower
    _ASCII_FLAGS[_code] = _flags
    _ASCII_BIT[_code] = np.uint64(1) << np.uint64(_bit)


def _classify(
    codes: npt.NDArray[np.uint32],
) -> tuple[Int32Array, npt.NDArray[np.uint8], UInt64Array]:
    """Lower-cased code points, class flags and mask bits for a buffer of code points.

    ASCII goes through lookup tables; each distinct non-ASCII code point is
    classified once in Python, so the cost is O(len(codes)) numpy work plus
    O(distinct non-ASCII characters) Python work.
    """
    ascii_part = codes < 128
    safe = np.where(ascii_part, codes, 0)
    lower = _ASCII_LOWER[safe]
    flags = _ASCII_FLAGS[safe]
    bits = _ASCII_BIT[safe]
    if not ascii_part.all():
        other = ~ascii_part
        distinct = numeric.distinct(codes[other])
        table = [_classify_code_point(int(code)) for code in distinct]
        where = np.searchsorted(distinct, codes[other])
        lower[other] = np.array([row[0] for row in table], dtype=np.int32)[where]
        flags[other] = np.array([row[1] for row in table], dtype=np.uint8)[where]
        bits[other] = (np.uint64(1) << np.array([row[2] for row in table], dtype=np.uint64))[where]
    return lower, flags, bits


def _encode(text: str) -> npt.NDArray[np.uint32]:
    """The code points of ``text`` (one per Python string index)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _decode_utf8(
    blob: npt.NDArray[np.uint8], offsets: Int64Array
) -> tuple[npt.NDArray[np.uint32], Int32Array]:
    """Code points and per-name lengths (in Python string indices) of UTF-8 names.

    ASCII (the usual case) is widened byte for byte. Otherwise the used part of
    the blob is decoded once, and each name's length is its count of bytes that
    start a character (anything but a ``10xxxxxx`` continuation byte).
    """
    first, last = int(offsets[0]), int(offsets[-1])
    used = blob[first:last]
    relative = offsets - first
    if used.shape[0] == 0 or int(used.max()) < 0x80:
        return used.astype(np.uint32), np.diff(relative).astype(np.int32)
    codes = _encode(used.tobytes().decode("utf-8", "surrogatepass"))
    starts_character = (used & 0xC0) != 0x80
    before = np.zeros(used.shape[0] + 1, dtype=np.int64)
    np.cumsum(starts_character, out=before[1:])
    lengths = before[relative[1:]] - before[relative[:-1]]
    return codes, lengths.astype(np.int32)


def _word_start_bonus(
    flags: npt.NDArray[np.uint8], is_first: BoolArray, is_last: BoolArray
) -> Int8Array:
    """The per-character word-start bonus (START, WORD, CAMEL or 0) of concatenated names.

    ``is_first`` / ``is_last`` mark the first / last character of each name, so
    that neighbours are never taken across two names.
    """
    size = flags.shape[0]
    bonus = np.zeros(size, dtype=np.int8)
    if size == 0:
        return bonus
    alnum = (flags & _ALNUM) != 0
    upper = (flags & _UPPER) != 0
    lower = (flags & _LOWER) != 0
    digit = (flags & _DIGIT) != 0

    def shifted(values: BoolArray, by: int) -> BoolArray:
        out = np.zeros_like(values)
        if by > 0:
            out[by:] = values[:-by]
        else:
            out[:by] = values[-by:]
        return out

    has_prev = ~is_first
    has_next = ~is_last
    prev_alnum = shifted(alnum, 1) & has_prev
    prev_upper = shifted(upper, 1) & has_prev
    prev_lower = shifted(lower, 1) & has_prev
    prev_digit = shifted(digit, 1) & has_prev
    next_lower = shifted(lower, -1) & has_next

    camel = (
        alnum
        & prev_alnum
        & (
            (upper & prev_lower)  # getUser
            | (upper & prev_upper & next_lower)  # HTTPServer → the S
            | (digit != prev_digit)  # utf8, v2beta
        )
    )
    bonus[camel] = CAMEL
    bonus[alnum & has_prev & ~prev_alnum] = WORD
    bonus[alnum & is_first] = START
    return bonus


# --- the alignment kernels ------------------------------------------------------------------
# Plain Python over flat numpy buffers, compiled by numba (``_compiled_kernels``)
# in ``warm_up``. Until then a process runs them as they are where little work is
# done (``fuzzy_score``, the positions of the returned names) and scores a search's
# candidates with ``_score_batches`` (numpy), so that a warm server's first Ctrl+T
# does not wait ~0.35 s for numba to import and load its cache.
# The kernels read names straight out of the flat buffers (``start`` + ``n``)
# instead of slicing them: a slice per name costs reference counting that
# dominated the run time of short queries.


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
    and the name position of the query's last character (``(_NEG, -1)`` when
    the query is not a subsequence of the name).

    ``prev_row``/``cur_row`` (≥ n) and ``lo``/``hi`` (≥ query length) are
    scratch. With ``trace`` the predecessor of every reached cell is written to
    ``pred`` (query length × n) for ``_positions_of``.
    """
    m = q_lower.shape[0]
    if m == 0 or m > n:
        return _NEG, -1
    if m == 1:
        # One character: the best single position, no table needed.
        c = q_lower[0]
        c_orig = q_orig[0]
        best = _NEG
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
            return _NEG, -1
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
        prev_row[k] = _NEG
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
            cur_row[k] = _NEG
        c = q_lower[i]
        c_orig = q_orig[i]
        # Best predecessor ending at or before j - 2, with the gap charged flat
        # (landing on a word start) or per skipped character (``best_ext`` is
        # decayed by GAP_EXTENSION for every step j moves right).
        best_flat = _NEG
        best_flat_at = -1
        best_ext = _NEG
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
            best = _NEG
            best_at = -1
            consecutive = prev_row[j - 1]
            if consecutive > _NEG:
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

    best = _NEG
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


def _upper_bound(  # noqa: PLR0917 - numba kernels take flat positional arrays
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


def _score_top(  # noqa: PLR0917 - numba kernels take flat positional arrays
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
    most names, and this is what keeps them fast. Uncompiled, ``_score_batches``
    computes the same in numpy instead.
    """
    count = candidates.shape[0]
    scores = np.full(count, _NO_MATCH, dtype=np.float64)
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
    heap = np.full(max(min(limit, count), 1), _NO_MATCH, dtype=np.float64)
    for t in range(count):
        slot = candidates[t]
        n = lengths[slot]
        start = offsets[slot]
        bound = _upper_bound(lower, start, n, word_start_masks[slot], q_lower, q_bits, raw_lower)
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
        if dp <= _NEG:
            continue
        score = dp + _name_bonus(lower, orig, start, n, q_lower, raw_lower, raw_orig)
        scores[t] = score
        if score > heap[0]:
            _heap_replace_min(heap, score)
    threshold = max(heap[0], _NO_MATCH / 2)
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


def _positions_of(  # noqa: PLR0917 - numba kernels take flat positional arrays
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


def _upper_bounds(  # noqa: PLR0917 - mirrors the kernels' flat arguments
    candidates: Int64Array,
    offsets: Int64Array,
    lengths: Int32Array,
    word_start_masks: UInt64Array,
    lower: Int32Array,
    q_lower: Int32Array,
    q_bits: UInt64Array,
    raw_lower: Int32Array,
) -> npt.NDArray[np.float64]:
    """``_upper_bound`` of every candidate at once, in numpy (the same values, exactly:
    every term is a small multiple of 1/4). Candidates are at least as long as the query."""
    m = q_lower.shape[0]
    first = lower[offsets[candidates]]
    n = lengths[candidates].astype(np.int64)
    on_word_start = (word_start_masks[candidates][:, None] & q_bits[None, :]) != 0
    starts_with_query = first == q_lower[0]
    best_dp = np.where(
        starts_with_query,
        MATCH + CASE + FIRST_CHAR_MULTIPLIER * START,
        np.where(on_word_start[:, 0], MATCH + CASE + FIRST_CHAR_MULTIPLIER * WORD, MATCH + CASE),
    ).astype(np.int64)
    if m > 1:
        rest = np.where(on_word_start[:, 1:], MATCH + CASE + WORD, MATCH + CASE + CONSECUTIVE)
        best_dp += rest.sum(axis=1)
    bound = best_dp - LENGTH_PENALTY * (n - m)
    starts_with_raw = first == raw_lower[0]
    bound += np.where(starts_with_query | starts_with_raw, PREFIX, 0.0)
    bound += np.where(
        (starts_with_query | starts_with_raw) & (n == raw_lower.shape[0]) & starts_with_raw,
        EXACT + EXACT_CASE,
        0.0,
    )
    return np.asarray(bound, dtype=np.float64)


#: Names per batch of the uncompiled search: the first batch, then doubling.
_FIRST_BATCH = 256
# The numpy tables are int32 (half the memory traffic of the kernel's int64): scores
# stay within a few thousand, so "unreachable" can be -2^30, and cells above half of
# that were reached by some alignment.
_NEG32 = -(1 << 30)
_REACHED = _NEG32 // 2
#: A batch is split by name length (rows are padded to the longest of their group):
#: with names of ~14 characters on average and a few of 80, one table per batch would
#: be mostly padding.
_WIDTHS = (8, 16, 32, 64, 128)


def _score_batches(  # noqa: PLR0917 - mirrors the kernels' flat arguments
    candidates: Int64Array,
    offsets: Int64Array,
    lengths: Int32Array,
    word_start_masks: UInt64Array,
    lower: Int32Array,
    orig: Int32Array,
    bonus: Int8Array,
    query: _Query,
    limit: int,
) -> tuple[Int64Array, npt.NDArray[np.float64]]:
    """What ``_score_top`` returns (the same slots, in candidate order, and scores),
    computed in numpy: the search of a process whose compiled kernels are not loaded yet.

    Candidates are scored in batches by descending upper bound (``_upper_bounds``),
    each batch's alignment tables at once, one numpy step per (query character, name
    position); the scan stops when no name left can reach the ``limit``-th score.
    A few milliseconds for most queries on 100,000 names, tens for the worst.
    """
    bounds = _upper_bounds(
        candidates,
        offsets,
        lengths,
        word_start_masks,
        lower,
        query.pattern_lower,
        query.pattern_bits,
        query.raw_lower,
    )
    order = np.argsort(-bounds, kind="stable")
    ranked, ranked_bounds = candidates[order], bounds[order]
    scores = np.full(ranked.shape[0], _NO_MATCH, dtype=np.float64)
    keep = max(min(limit, ranked.shape[0]), 1)
    threshold = _NO_MATCH
    done, size = 0, _FIRST_BATCH
    while done < ranked.shape[0] and ranked_bounds[done] >= threshold:
        batch = ranked[done : done + size]
        batch_scores = np.empty(batch.shape[0], dtype=np.float64)
        group = np.searchsorted(np.asarray(_WIDTHS), lengths[batch])
        for width in numeric.distinct(group).tolist():
            members = np.flatnonzero(group == width)
            batch_scores[members] = _score_batch(
                batch[members], offsets, lengths, lower, orig, bonus, query
            )
        scores[done : done + batch.shape[0]] = batch_scores
        done += batch.shape[0]
        size *= 2
        if done >= keep:
            threshold = float(np.partition(scores[:done], done - keep)[done - keep])
    threshold = max(threshold, _NO_MATCH / 2)
    kept = np.flatnonzero(scores >= threshold)
    # Back in candidate order, as the kernel returns them.
    by_candidate = np.sort(order[kept], kind="stable")
    position = np.empty(ranked.shape[0], dtype=np.int64)
    position[order] = np.arange(ranked.shape[0])
    return candidates[by_candidate], scores[position[by_candidate]]


def _score_batch(  # noqa: PLR0917 - mirrors the kernels' flat arguments
    slots: Int64Array,
    offsets: Int64Array,
    lengths: Int32Array,
    lower: Int32Array,
    orig: Int32Array,
    bonus: Int8Array,
    query: _Query,
) -> npt.NDArray[np.float64]:
    """``_align`` + ``_name_bonus`` of each slot's name, for many names at once.

    Rows are names, padded to the longest with code -1 (never a query character).
    The recurrence is the kernel's, a column at a time: a match extends the cell
    left of it (consecutive), or follows a gap from the best cell at least two to
    the left, charged flat when it lands on a word start (a running maximum) or
    per skipped character otherwise (a running maximum of ``cell + position``).
    Unreachable cells hold ``_NEG32``-ish values, never above ``_REACHED``.
    """
    n = lengths[slots].astype(np.int64)
    width = int(n.max())
    places = np.arange(width, dtype=np.int64)
    inside = places < n[:, None]
    index = np.where(inside, offsets[slots][:, None] + places, 0)
    name_lower = np.where(inside, lower[index], -1)
    name_orig = np.where(inside, orig[index], -1)
    name_bonus = np.where(inside, bonus[index], 0).astype(np.int32)
    q_lower, q_orig = query.pattern_lower, query.pattern_orig
    m = q_lower.shape[0]
    neg = np.int32(_NEG32)
    places = places.astype(np.int32)

    def gain_of(i: int) -> npt.NDArray[np.int32]:
        return np.asarray(MATCH + CASE * (name_orig == q_orig[i]), dtype=np.int32)

    row = np.where(name_lower == q_lower[0], gain_of(0) + FIRST_CHAR_MULTIPLIER * name_bonus, neg)
    word_start = name_bonus > 0
    consecutive_bonus = np.maximum(name_bonus, CONSECUTIVE)
    for i in range(1, m):
        gain = gain_of(i)
        consecutive = np.full_like(row, neg)
        consecutive[:, 1:] = row[:, :-1]
        consecutive = np.where(consecutive > _REACHED, consecutive + gain + consecutive_bonus, neg)
        flat = np.full_like(row, neg)
        extended = np.full_like(row, neg)
        if width > 2:
            flat[:, 2:] = np.maximum.accumulate(row, axis=1)[:, :-2]
            # max over k <= j-2 of row[k] + GAP_EXTENSION * (j-2-k), as the kernel's
            # decaying maximum: GAP_EXTENSION * (j-2) + max(row[k] - GAP_EXTENSION * k)
            decayed = np.maximum.accumulate(row - GAP_EXTENSION * places, axis=1)[:, :-2]
            extended[:, 2:] = decayed + GAP_EXTENSION * places[:-2]
        gapped = np.where(
            word_start,
            np.where(flat > _REACHED, flat + gain + name_bonus + GAP_START, neg),
            np.where(extended > _REACHED, extended + gain + GAP_START, neg),
        )
        row = np.where(name_lower == q_lower[i], np.maximum(consecutive, gapped), neg)
    best = row.max(axis=1)
    scores = best.astype(np.float64) - LENGTH_PENALTY * (n - m)
    raw_lower, raw_orig = query.raw_lower, query.raw_orig
    r = raw_lower.shape[0]
    prefix = (name_lower[:, :m] == q_lower).all(axis=1)
    if r <= width:
        raw_prefix = (n >= r) & (name_lower[:, :r] == raw_lower).all(axis=1)
        exact = raw_prefix & (n == r)
        exact_case = exact & (name_orig[:, :r] == raw_orig).all(axis=1)
    else:
        raw_prefix = exact = exact_case = np.zeros(slots.shape[0], dtype=np.bool_)
    scores += np.where(prefix | raw_prefix, PREFIX, 0.0)
    scores += np.where(exact, EXACT, 0.0)
    scores += np.where(exact_case, EXACT_CASE, 0.0)
    return np.where(best > _REACHED, scores, _NO_MATCH)


class _Kernels(NamedTuple):
    """The two entry points of the alignment, as plain Python or compiled."""

    score_top: Any
    positions_of: Any
    compiled: bool


def _compiled_kernels() -> _Kernels:
    """The kernels compiled by numba (cached on disk, where ``quiver.jit`` says).
    Imports numba (~0.15 s).

    The helpers are compiled first; each entry point is then compiled from a copy
    of its function whose globals name the compiled helpers, because numba
    resolves the calls of a kernel through its globals and can only call
    compiled functions. The module's own functions stay plain Python.
    """
    import numba

    import quiver.jit  # noqa: F401 - points numba's cache at Quiver's folder first

    helpers = {
        kernel.__name__: numba.njit(cache=True, nogil=True, inline="always")(kernel)
        for kernel in (_align, _name_bonus, _upper_bound, _heap_replace_min)
    }

    def compiled(kernel: Any) -> Any:
        rebound = types.FunctionType(
            kernel.__code__, {**kernel.__globals__, **helpers}, kernel.__name__
        )
        rebound.__qualname__ = kernel.__qualname__
        rebound.__doc__ = kernel.__doc__
        return numba.njit(cache=True, nogil=True)(rebound)

    return _Kernels(compiled(_score_top), compiled(_positions_of), compiled=True)


class _ActiveKernels:
    """Which kernels searches use: the plain ones until ``warm_up`` has loaded the others."""

    def __init__(self) -> None:
        self.plain = _Kernels(_score_top, _positions_of, compiled=False)
        self.compiled: _Kernels | None = None
        self.kernels = self.plain
        self.lock = threading.Lock()


_ACTIVE = _ActiveKernels()
#: Longest name ``_rank`` compares in numpy, one column per character.
_RANK_COLUMNS = 64


# --- the query ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Query:
    """A query prepared for the kernels: its matched pattern and its raw text."""

    pattern_lower: Int32Array
    pattern_orig: Int32Array
    raw_lower: Int32Array
    raw_orig: Int32Array
    pattern_bits: UInt64Array  # the mask bit of each pattern character
    mask: np.uint64

    @property
    def length(self) -> int:
        return int(self.pattern_lower.shape[0])


def _prepare_query(query: str) -> _Query | None:
    """The kernels' view of a query, or ``None`` when it cannot match anything.

    Leading/trailing whitespace is ignored; separators inside are optional
    (removed from the pattern) unless the query is made only of separators.
    """
    raw = query.strip()
    pattern = "".join(char for char in raw if char not in QUERY_SEPARATORS) or raw
    if not pattern or len(pattern) > MAX_QUERY_LENGTH:
        return None
    pattern_orig = _encode(pattern)
    pattern_lower, _, bits = _classify(pattern_orig)
    raw_orig = _encode(raw)
    raw_lower, _, _ = _classify(raw_orig)
    return _Query(
        pattern_lower=pattern_lower,
        pattern_orig=pattern_orig.astype(np.int32),
        raw_lower=raw_lower,
        raw_orig=raw_orig.astype(np.int32),
        pattern_bits=bits,
        mask=np.bitwise_or.reduce(bits),
    )


def _prepared_name(name: str) -> tuple[Int32Array, Int32Array, Int8Array]:
    """(lower-cased code points, code points, word-start bonuses) of one name."""
    orig = _encode(name)
    lower, flags, _ = _classify(orig)
    size = orig.shape[0]
    is_first = np.zeros(size, dtype=np.bool_)
    is_last = np.zeros(size, dtype=np.bool_)
    if size:
        is_first[0] = True
        is_last[-1] = True
    return lower, orig.astype(np.int32), _word_start_bonus(flags, is_first, is_last)


def fuzzy_score(query: str, name: str) -> tuple[float, tuple[int, ...]] | None:
    """Score one name against a query: ``(score, matched positions)``, or ``None``
    when the query's characters do not all appear in the name in order.

    Gives exactly the score ``NameIndex.search`` ranks by. Costs ~0.1 ms of
    fixed numpy/dispatch overhead plus O(len(query) × len(name)); use
    ``NameIndex`` for many names.
    An empty query matches nothing here (the index lists names for it instead).
    """
    prepared = _prepare_query(query)
    if prepared is None:
        return None
    return _score_one(_ACTIVE.kernels, prepared, name)


def _score_one(
    kernels: _Kernels, prepared: _Query, name: str
) -> tuple[float, tuple[int, ...]] | None:
    """``fuzzy_score`` of a prepared query with the given kernels."""
    lower, orig, bonus = _prepared_name(name)
    if lower.shape[0] < prepared.length:
        return None
    slot = np.zeros(1, dtype=np.int64)
    offsets = np.zeros(1, dtype=np.int64)
    lengths = np.array([lower.shape[0]], dtype=np.int32)
    kept, scores = kernels.score_top(
        slot,
        offsets,
        lengths,
        np.full(1, np.iinfo(np.uint64).max, dtype=np.uint64),
        lower,
        orig,
        bonus,
        prepared.pattern_lower,
        prepared.pattern_orig,
        prepared.pattern_bits,
        prepared.raw_lower,
        prepared.raw_orig,
        1,
    )
    if kept.shape[0] == 0:
        return None
    score = float(scores[0])
    positions = kernels.positions_of(
        slot,
        offsets,
        lengths,
        lower,
        orig,
        bonus,
        prepared.pattern_lower,
        prepared.pattern_orig,
    )
    return score, tuple(positions[0].tolist())


def warm_up() -> None:
    """Load (or, the first time after installing, compile) the compiled kernels, and
    use them from now on; returns at once if that is done already.

    Until then searches score in numpy (``_score_batches``, the same results): fine
    for the first queries of a warm start (7 ms p50, 70 ms p99 on 100,000 names),
    several times slower than compiled. Costs ~0.35 s (importing numba and loading
    its on-disk cache) or, the first time after installing, several seconds of
    compiling; call it off the event loop, once the first answers are out.
    """
    with _ACTIVE.lock:
        if _ACTIVE.compiled is not None:
            _ACTIVE.kernels = _ACTIVE.compiled
            return
        kernels = _compiled_kernels()
        # One call of each entry point loads (or compiles) its machine code.
        prepared = _prepare_query("wu")
        assert prepared is not None
        _score_one(kernels, prepared, "warmUp")
        _ACTIVE.compiled = _ACTIVE.kernels = kernels


def kernels_compiled() -> bool:
    """Whether searches run the compiled kernels (``warm_up`` has finished)."""
    return _ACTIVE.kernels.compiled


# --- the index --------------------------------------------------------------------------


class _Growable(Generic[ScalarT]):
    """A numpy buffer with amortised O(1) append (capacity doubles when full)."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: type[ScalarT]) -> None:
        self.data: npt.NDArray[ScalarT] = np.empty(16, dtype=dtype)
        self.size = 0

    def extend(self, values: npt.NDArray[ScalarT]) -> None:
        needed = self.size + values.shape[0]
        if needed > self.data.shape[0]:
            grown = np.empty(max(needed, 2 * self.data.shape[0]), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : needed] = values
        self.size = needed

    def view(self) -> npt.NDArray[ScalarT]:
        return self.data[: self.size]

    def replace(self, values: npt.NDArray[ScalarT]) -> None:
        self.size = values.shape[0]
        self.data = np.empty(max(16, self.size), dtype=self.data.dtype)
        self.data[: self.size] = values


class NameIndex(Generic[K]):
    """Many names, each under a caller's key, searchable with ``search``.

    Keys are any ``int`` subtype that fits in 64 bits (the engine uses
    ``SymbolId``) and come back as given. Memory: 9 bytes per name character,
    ~37 bytes of arrays and a dict entry per name; names are kept as code
    points only, never as Python strings. ``add`` costs O(added characters)
    amortised, and ``add_utf8`` builds from a column of UTF-8 names without a
    Python string per name (~0.08 s per 100,000 names); ``remove`` is O(removed)
    and compacts the buffers (O(total)) once removed names outnumber live ones.
    Safe to call from several threads (one lock; the kernels hold it while they
    run, typically well under a millisecond).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        # Per character.
        self._lower = _Growable(np.int32)
        self._orig = _Growable(np.int32)
        self._bonus = _Growable(np.int8)
        # Per slot (a slot is one added name; removed slots stay until compaction).
        self._offsets = _Growable(np.int64)
        self._lengths = _Growable(np.int32)
        self._masks = _Growable(np.uint64)  # characters anywhere in the name
        self._word_start_masks = _Growable(np.uint64)  # characters on its word starts
        self._alive = _Growable(np.bool_)
        self._key_values = _Growable(np.int64)  # the keys as numbers, for ordering ties
        self._keys: list[K] = []  # the caller's key objects, returned as given
        self._slot_of: dict[K, int] = {}

    def __len__(self) -> int:
        """Number of names currently searchable."""
        return len(self._slot_of)

    def __contains__(self, key: object) -> bool:
        return key in self._slot_of

    def add(self, keys: Sequence[K], names: Sequence[str]) -> None:
        """Add ``names[i]`` under ``keys[i]``; a key already present is replaced.

        Raises ``ValueError`` when the two sequences differ in length. Costs
        O(total characters added) in numpy plus one Python pass over the names.
        """
        if len(keys) != len(names):
            raise ValueError(
                f"add() got {len(keys)} keys but {len(names)} names; pass one name per key"
            )
        if not keys:
            return
        lengths = np.fromiter(map(len, names), dtype=np.int32, count=len(names))
        self._add_codes(keys, _encode("".join(names)), lengths)

    def add_utf8(self, keys: Sequence[K], blob: npt.NDArray[np.uint8], offsets: Int64Array) -> None:
        """``add`` for names stored as one UTF-8 ``blob``: name ``i`` is
        ``blob[offsets[i]:offsets[i + 1]]`` (lone surrogates allowed, as Python's
        ``surrogatepass`` writes them).

        What a catalog column holds: no Python string is made per name, so a
        warm start indexes 100,000 names in ~0.08 s. Raises ``ValueError`` when
        ``offsets`` does not hold ``len(keys) + 1`` ascending positions inside ``blob``.
        """
        if offsets.shape[0] != len(keys) + 1:
            raise ValueError(
                f"add_utf8() got {len(keys)} keys but {offsets.shape[0]} offsets; "
                "pass one offset per key plus the end of the last name"
            )
        if not keys:
            return
        if offsets[0] < 0 or offsets[-1] > blob.shape[0] or bool(np.any(np.diff(offsets) < 0)):
            raise ValueError("add_utf8() got offsets outside the blob or out of order")
        codes, lengths = _decode_utf8(blob, offsets)
        self._add_codes(keys, codes, lengths)

    def _add_codes(
        self, keys: Sequence[K], codes: npt.NDArray[np.uint32], lengths: Int32Array
    ) -> None:
        with self._lock:
            replaced = self._slot_of.keys() & keys if self._slot_of else ()
            if replaced:
                self._discard(replaced)
            # Within one call a repeated key keeps its last name.
            last_index = dict(zip(keys, range(len(keys)), strict=True))
            if len(last_index) != len(keys):
                chosen = np.array(sorted(last_index.values()), dtype=np.int64)
                keys = [keys[index] for index in chosen.tolist()]
                kept = np.zeros(lengths.shape[0], dtype=np.bool_)
                kept[chosen] = True
                codes = codes[np.repeat(kept, lengths)]
                lengths = lengths[chosen]
            self._append(keys, codes, lengths)

    def remove(self, keys: Iterable[K]) -> None:
        """Remove the names under ``keys``; keys that are absent are ignored."""
        with self._lock:
            self._discard(keys)
            dead = len(self._keys) - len(self._slot_of)
            if dead > max(1024, len(self._slot_of)):
                self._compact()

    def search(self, query: str, limit: int = 100) -> list[FuzzyMatch[K]]:
        """The at most ``limit`` best-matching names, best first.

        An empty (or blank) query returns the first ``limit`` names in insertion
        order with score 0, as editors send ``""`` for an unfiltered Ctrl+T.
        Costs one vectorised pass over the per-name masks, then the alignment
        of each name containing all the query's characters; positions are
        computed for the returned names only. Raises ``ValueError`` for a
        negative ``limit``.
        """
        if limit < 0:
            raise ValueError(f"search() limit must be 0 or more, got {limit}")
        with self._lock:
            if limit == 0 or not self._slot_of:
                return []
            if not query.strip():
                slots = np.flatnonzero(self._alive.view())[:limit]
                return [FuzzyMatch(self._keys[slot], 0.0, ()) for slot in slots.tolist()]
            prepared = _prepare_query(query)
            if prepared is None:
                return []
            masks = self._masks.view()
            lengths = self._lengths.view()
            candidates = np.flatnonzero(
                ((masks & prepared.mask) == prepared.mask) & (lengths >= prepared.length)
            ).astype(np.int64)
            if candidates.shape[0] == 0:
                return []
            lower = self._lower.view()
            orig = self._orig.view()
            bonus = self._bonus.view()
            offsets = self._offsets.view()
            word_start_masks = self._word_start_masks.view()
            kernels = _ACTIVE.kernels
            if kernels.compiled:
                candidates, scores = kernels.score_top(
                    candidates,
                    offsets,
                    lengths,
                    word_start_masks,
                    lower,
                    orig,
                    bonus,
                    prepared.pattern_lower,
                    prepared.pattern_orig,
                    prepared.pattern_bits,
                    prepared.raw_lower,
                    prepared.raw_orig,
                    limit,
                )
            else:
                # Uncompiled: the same scores in numpy, by batches of names.
                candidates, scores = _score_batches(
                    candidates, offsets, lengths, word_start_masks, lower, orig, bonus,
                    prepared, limit,
                )  # fmt: skip
            order = self._rank(candidates, scores)[:limit]
            candidates = candidates[order]
            ranked_scores = scores[order].tolist()
            positions = kernels.positions_of(
                candidates,
                offsets,
                lengths,
                lower,
                orig,
                bonus,
                prepared.pattern_lower,
                prepared.pattern_orig,
            ).tolist()
            return [
                FuzzyMatch(self._keys[slot], score, tuple(where))
                for slot, score, where in zip(
                    candidates.tolist(), ranked_scores, positions, strict=True
                )
            ]

    # -- internals --------------------------------------------------------------------

    def _rank(self, slots: Int64Array, scores: npt.NDArray[np.float64]) -> Int64Array:
        """The order of ``slots``: higher score, then shorter name, then name, then key.

        Large groups of equal scores are common (a workspace has thousands of
        ``__init__``), so the whole sort runs in numpy: names are compared by
        their code points (as Python compares strings), one column per
        character position of the longest name among the slots. Past
        ``_RANK_COLUMNS`` characters (a generated or minified name) the names are
        compared as strings instead, rather than sorting on that many columns.
        """
        lengths = self._lengths.view()[slots]
        columns: list[npt.NDArray[np.generic]] = [self._key_values.view()[slots]]
        width = int(lengths.max()) if slots.shape[0] else 0
        if width > _RANK_COLUMNS:
            orig, offsets = self._orig.view(), self._offsets.view()
            names = [
                orig[start : start + n].tobytes().decode("utf-32-le", "surrogatepass")
                for start, n in zip(offsets[slots].tolist(), lengths.tolist(), strict=True)
            ]
            rank_of = {name: rank for rank, name in enumerate(sorted(set(names)))}
            columns.append(np.fromiter(map(rank_of.__getitem__, names), np.int64, len(names)))
        elif width:
            orig = self._orig.view()
            places = np.arange(width, dtype=np.int64)
            positions = self._offsets.view()[slots][:, None] + places
            inside = places < lengths[:, None]
            codes = np.where(inside, orig[np.where(inside, positions, 0)], -1)
            columns.extend(codes[:, place] for place in range(width - 1, -1, -1))
        columns.extend((lengths, -scores))
        return np.lexsort(columns).astype(np.int64)

    def _discard(self, keys: Iterable[K]) -> None:
        alive = self._alive.view()
        masks = self._masks.view()
        for key in keys:
            slot = self._slot_of.pop(key, None)
            if slot is not None:
                alive[slot] = False
                masks[slot] = 0  # a dead slot can never pass the prefilter

    def _append(
        self, keys: Sequence[K], codes: npt.NDArray[np.uint32], lengths: Int32Array
    ) -> None:
        count = lengths.shape[0]
        lower, flags, bits = _classify(codes)
        starts = np.zeros(count, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        is_first = np.zeros(codes.shape[0], dtype=np.bool_)
        is_last = np.zeros(codes.shape[0], dtype=np.bool_)
        nonempty = lengths > 0
        is_first[starts[nonempty]] = True
        is_last[starts[nonempty] + lengths[nonempty] - 1] = True
        bonus = _word_start_bonus(flags, is_first, is_last)
        masks = np.zeros(count, dtype=np.uint64)
        word_start_masks = np.zeros(count, dtype=np.uint64)
        if codes.shape[0]:
            masks[nonempty] = np.bitwise_or.reduceat(bits, starts[nonempty])
            word_start_bits = np.where(bonus > 0, bits, np.uint64(0))
            word_start_masks[nonempty] = np.bitwise_or.reduceat(word_start_bits, starts[nonempty])

        first_slot = len(self._keys)
        self._offsets.extend(starts + self._lower.size)
        self._lengths.extend(lengths)
        self._masks.extend(masks)
        self._word_start_masks.extend(word_start_masks)
        self._alive.extend(np.ones(count, dtype=np.bool_))
        self._lower.extend(lower)
        self._orig.extend(codes.astype(np.int32))
        self._bonus.extend(bonus)
        self._key_values.extend(np.array(keys, dtype=np.int64))
        self._keys.extend(keys)
        self._slot_of.update(zip(keys, range(first_slot, first_slot + len(keys)), strict=True))

    def _compact(self) -> None:
        """Drop removed slots and their characters, keeping the live ones' order."""
        alive = self._alive.view().copy()
        lengths = self._lengths.view()
        owner = np.repeat(np.arange(alive.shape[0]), lengths)
        keep_chars = alive[owner] if owner.shape[0] else np.zeros(0, dtype=np.bool_)
        kept_lengths = lengths[alive]
        offsets = np.zeros(kept_lengths.shape[0], dtype=np.int64)
        np.cumsum(kept_lengths[:-1], out=offsets[1:])
        self._lower.replace(self._lower.view()[keep_chars])
        self._orig.replace(self._orig.view()[keep_chars])
        self._bonus.replace(self._bonus.view()[keep_chars])
        self._offsets.replace(offsets)
        self._lengths.replace(kept_lengths)
        self._masks.replace(self._masks.view()[alive])
        self._word_start_masks.replace(self._word_start_masks.view()[alive])
        self._alive.replace(np.ones(kept_lengths.shape[0], dtype=np.bool_))
        live = np.flatnonzero(alive).tolist()
        self._key_values.replace(self._key_values.view()[alive])
        self._keys = [self._keys[slot] for slot in live]
        self._slot_of = {key: slot for slot, key in enumerate(self._keys)}
