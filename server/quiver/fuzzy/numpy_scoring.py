"""The search before ``warm_up``: the kernels' scores computed in numpy, by batches of names.

A process that has not loaded numba's compiled kernels yet scores a search's
candidates here (``score_batches``): the same slots and scores as
``kernels.score_top``, a few milliseconds for most queries on 100,000 names, while
importing numba and loading its cache would cost ~0.35 s.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from quiver import numeric
from quiver.fuzzy.encoding import Query
from quiver.fuzzy.kernels import (
    CASE,
    CONSECUTIVE,
    EXACT,
    EXACT_CASE,
    FIRST_CHAR_MULTIPLIER,
    GAP_EXTENSION,
    GAP_START,
    LENGTH_PENALTY,
    MATCH,
    NO_MATCH,
    PREFIX,
    START,
    WORD,
    Int8Array,
    Int32Array,
    Int64Array,
    UInt64Array,
)


def upper_bounds(  # noqa: PLR0917 - mirrors the kernels' flat arguments
    candidates: Int64Array,
    offsets: Int64Array,
    lengths: Int32Array,
    word_start_masks: UInt64Array,
    lower: Int32Array,
    q_lower: Int32Array,
    q_bits: UInt64Array,
    raw_lower: Int32Array,
) -> npt.NDArray[np.float64]:
    """``kernels.upper_bound`` of every candidate at once, in numpy (the same values, exactly:
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


def score_batches(  # noqa: PLR0917 - mirrors the kernels' flat arguments
    candidates: Int64Array,
    offsets: Int64Array,
    lengths: Int32Array,
    word_start_masks: UInt64Array,
    lower: Int32Array,
    orig: Int32Array,
    bonus: Int8Array,
    query: Query,
    limit: int,
) -> tuple[Int64Array, npt.NDArray[np.float64]]:
    """What ``kernels.score_top`` returns (the same slots, in candidate order, and scores),
    computed in numpy: the search of a process whose compiled kernels are not loaded yet.

    Candidates are scored in batches by descending upper bound (``upper_bounds``),
    each batch's alignment tables at once, one numpy step per (query character, name
    position); the scan stops when no name left can reach the ``limit``-th score.
    A few milliseconds for most queries on 100,000 names, tens for the worst.
    """
    bounds = upper_bounds(
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
    scores = np.full(ranked.shape[0], NO_MATCH, dtype=np.float64)
    keep = max(min(limit, ranked.shape[0]), 1)
    threshold = NO_MATCH
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
    threshold = max(threshold, NO_MATCH / 2)
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
    query: Query,
) -> npt.NDArray[np.float64]:
    """The kernels' ``_align`` + ``_name_bonus`` of each slot's name, for many names at once.

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
    return np.where(best > _REACHED, scores, NO_MATCH)
