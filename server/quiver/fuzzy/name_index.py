"""``NameIndex``: many names under the caller's keys, searched by fuzzy match.

The names live in flat numpy buffers (code points, lower-cased code points and
word-start bonuses per character; offsets, lengths and two character-set masks per
name). A search drops in one vectorised step every name lacking a query character,
scores the rest with the active kernels (``quiver.fuzzy.compiled``) or, before
``warm_up``, in numpy (``quiver.fuzzy.numpy_scoring``), and ranks the best ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from quiver.fuzzy.compiled import ACTIVE
from quiver.fuzzy.encoding import (
    classify,
    decode_utf8,
    encode,
    prepare_query,
    word_start_bonus,
)
from quiver.fuzzy.kernels import Int32Array, Int64Array
from quiver.fuzzy.numpy_scoring import score_batches

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


#: Longest name ``_rank`` compares in numpy, one column per character.
_RANK_COLUMNS = 64


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
        self._add_codes(keys, encode("".join(names)), lengths)

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
        codes, lengths = decode_utf8(blob, offsets)
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
            prepared = prepare_query(query)
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
            kernels = ACTIVE.kernels
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
                candidates, scores = score_batches(
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
        lower, flags, bits = classify(codes)
        starts = np.zeros(count, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        is_first = np.zeros(codes.shape[0], dtype=np.bool_)
        is_last = np.zeros(codes.shape[0], dtype=np.bool_)
        nonempty = lengths > 0
        is_first[starts[nonempty]] = True
        is_last[starts[nonempty] + lengths[nonempty] - 1] = True
        bonus = word_start_bonus(flags, is_first, is_last)
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
