"""From names and queries to the matcher's buffers: code points and their classes.

Classification of code points (lower case, letter/digit/case flags, the bit of the
64-bit character-set mask), UTF-8 decoding of a catalog column, the per-character
word-start bonuses of names, and the prepared forms of a query (``Query``) and of a
single name that the kernels take. Numpy only; ASCII goes through lookup tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quiver import numeric
from quiver.fuzzy.kernels import (
    CAMEL,
    START,
    WORD,
    BoolArray,
    Int8Array,
    Int32Array,
    Int64Array,
    UInt64Array,
)

#: Queries longer than this (after removing separators) match nothing: no
#: identifier is that long, and the alignment cost grows with query × name length.
MAX_QUERY_LENGTH = 256

#: Query characters that stand for "a word boundary here" and may be skipped.
QUERY_SEPARATORS = frozenset("_-.:/\\ \t")

# Per-character class flags.
_ALNUM = np.uint8(1)
_UPPER = np.uint8(2)
_LOWER = np.uint8(4)
_DIGIT = np.uint8(8)


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


def classify(
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


def encode(text: str) -> npt.NDArray[np.uint32]:
    """The code points of ``text`` (one per Python string index)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def decode_utf8(
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
    codes = encode(used.tobytes().decode("utf-8", "surrogatepass"))
    starts_character = (used & 0xC0) != 0x80
    before = np.zeros(used.shape[0] + 1, dtype=np.int64)
    np.cumsum(starts_character, out=before[1:])
    lengths = before[relative[1:]] - before[relative[:-1]]
    return codes, lengths.astype(np.int32)


def word_start_bonus(
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


@dataclass(frozen=True, slots=True)
class Query:
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


def prepare_query(query: str) -> Query | None:
    """The kernels' view of a query, or ``None`` when it cannot match anything.

    Leading/trailing whitespace is ignored; separators inside are optional
    (removed from the pattern) unless the query is made only of separators.
    """
    raw = query.strip()
    pattern = "".join(char for char in raw if char not in QUERY_SEPARATORS) or raw
    if not pattern or len(pattern) > MAX_QUERY_LENGTH:
        return None
    pattern_orig = encode(pattern)
    pattern_lower, _, bits = classify(pattern_orig)
    raw_orig = encode(raw)
    raw_lower, _, _ = classify(raw_orig)
    return Query(
        pattern_lower=pattern_lower,
        pattern_orig=pattern_orig.astype(np.int32),
        raw_lower=raw_lower,
        raw_orig=raw_orig.astype(np.int32),
        pattern_bits=bits,
        mask=np.bitwise_or.reduce(bits),
    )


def prepared_name(name: str) -> tuple[Int32Array, Int32Array, Int8Array]:
    """(lower-cased code points, code points, word-start bonuses) of one name."""
    orig = encode(name)
    lower, flags, _ = classify(orig)
    size = orig.shape[0]
    is_first = np.zeros(size, dtype=np.bool_)
    is_last = np.zeros(size, dtype=np.bool_)
    if size:
        is_first[0] = True
        is_last[-1] = True
    return lower, orig.astype(np.int32), word_start_bonus(flags, is_first, is_last)
