"""A brute-force scorer written straight from the definition in ``quiver.fuzzy``'s docstring.

It tries every alignment, so it is only usable on short names; the tests
compare the compiled dynamic programme against it.
"""

from __future__ import annotations

from itertools import combinations

from quiver.fuzzy import encoding, kernels


def _lower(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def word_start_bonus(name: str, index: int) -> int:
    """START, WORD, CAMEL or 0 for the character at ``index`` of ``name``."""
    char = name[index]
    if not char.isalnum():
        return 0
    if index == 0:
        return kernels.START
    prev = name[index - 1]
    if not prev.isalnum():
        return kernels.WORD
    nxt = name[index + 1] if index + 1 < len(name) else ""
    if char.isupper() and prev.islower():
        return kernels.CAMEL
    if char.isupper() and prev.isupper() and nxt.islower():
        return kernels.CAMEL
    if char.isdigit() != prev.isdigit():
        return kernels.CAMEL
    return 0


def alignment_score(pattern: str, name: str, positions: tuple[int, ...]) -> int:
    total = 0
    for i, p in enumerate(positions):
        gain = kernels.MATCH + (kernels.CASE if pattern[i] == name[p] else 0)
        bonus = word_start_bonus(name, p)
        if i == 0:
            total += gain + kernels.FIRST_CHAR_MULTIPLIER * bonus
        elif p == positions[i - 1] + 1:
            total += gain + max(bonus, kernels.CONSECUTIVE)
        elif bonus > 0:
            total += gain + bonus + kernels.GAP_START
        else:
            gap = p - positions[i - 1] - 1
            total += gain + kernels.GAP_START + kernels.GAP_EXTENSION * (gap - 1)
    return total


def pattern_of(query: str) -> str:
    """The characters of the query that must match (separators are optional)."""
    raw = query.strip()
    return "".join(c for c in raw if c not in encoding.QUERY_SEPARATORS) or raw


def best_alignment_score(pattern: str, name: str) -> int | None:
    """The best alignment score over every way to place ``pattern`` in ``name``."""
    if not pattern:
        return None
    lowered_name = "".join(_lower(c) for c in name)
    lowered_pattern = "".join(_lower(c) for c in pattern)
    best: int | None = None
    for positions in combinations(range(len(name)), len(pattern)):
        if all(lowered_name[p] == lowered_pattern[i] for i, p in enumerate(positions)):
            score = alignment_score(pattern, name, positions)
            best = score if best is None else max(best, score)
    return best


def reference_score(query: str, name: str) -> float | None:
    raw = query.strip()
    pattern = pattern_of(query)
    best = best_alignment_score(pattern, name)
    if best is None:
        return None
    lowered_name = "".join(_lower(c) for c in name)
    lowered_pattern = "".join(_lower(c) for c in pattern)
    lowered_raw = "".join(_lower(c) for c in raw)
    extra = -kernels.LENGTH_PENALTY * (len(name) - len(pattern))
    if lowered_name.startswith(lowered_pattern) or lowered_name.startswith(lowered_raw):
        extra += kernels.PREFIX
        if lowered_name == lowered_raw:
            extra += kernels.EXACT
            if name == raw:
                extra += kernels.EXACT_CASE
    return best + extra
