"""The path prior applied: tests, fixtures, vendored and generated code rank below product
code for the same relevance (issue 12 §3; the configuration is ``quiver.secondary_code``).

A search result whose workspace-relative path matches one of the *secondary*
patterns has its score lowered by ``1 - weight`` of its size (``0.9``: a
cosine of 0.60 ranks as 0.54), then the candidates are re-sorted before they
are cut to the requested limit. A product symbol and a test that match a query
equally come out product first; a test that is clearly the better match (its
score above the product's by more than the margin) stays first. Empty patterns
or a weight of 1.0 turn the prior off.

Cost: the patterns are compiled once, into one regex, and matched once per
candidate *path* (cached), never per symbol of the index.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TypeVar

from quiver.secondary_code import PathPrior
from quiver.text.pathglob import compile_path_glob

#: Distinct paths whose verdict is remembered (a path is ~60 bytes; 64 Ki is ~6 MB at most).
_CACHED_PATHS = 1 << 16

Key = TypeVar("Key")


class PathRanker:
    """Applies one ``PathPrior`` to ranked candidates; thread-safe (``lru_cache`` is)."""

    def __init__(self, prior: PathPrior) -> None:
        self.prior = prior
        combined = "|".join(f"(?:{compile_path_glob(p).pattern})" for p in prior.patterns)
        matcher = re.compile(combined, re.DOTALL) if prior.enabled else None

        @lru_cache(maxsize=_CACHED_PATHS)
        def is_secondary(path: str) -> bool:
            return matcher is not None and matcher.fullmatch(path) is not None

        self.is_secondary: Callable[[str], bool] = is_secondary

    @property
    def enabled(self) -> bool:
        return self.prior.enabled

    def adjusted(self, score: float, path: str) -> float:
        """``score`` as ranked: lowered by ``1 - weight`` of its size on a secondary path."""
        if not self.is_secondary(path):
            return score
        return score - (1.0 - self.prior.weight) * abs(score)

    def rerank(
        self,
        candidates: Sequence[tuple[Key, float]],
        path_of: Callable[[Key], str | None],
        limit: int | None = None,
    ) -> list[tuple[Key, float]]:
        """The best ``limit`` (all: None) candidates with adjusted scores, best first (ties
        keep their order); the first ``limit`` unchanged when the prior is off.

        ``candidates`` must be sorted best first. ``path_of`` gives a candidate's relative
        path (None: its score is kept) and is called only while a candidate could still
        make the cut: the prior never raises a score, so the walk stops at the first raw
        score not above the ``limit``-th best adjusted one (usually ``limit`` + a few calls).
        """
        if not self.enabled:
            return list(candidates[:limit])
        kept: list[tuple[Key, float]] = []
        cut: list[float] = []  # a min-heap of the best `limit` adjusted scores so far
        for key, score in candidates:
            if limit is not None and len(cut) >= limit and score <= cut[0]:
                break
            path = path_of(key)
            adjusted = score if path is None else self.adjusted(score, path)
            kept.append((key, adjusted))
            if limit is None:
                continue
            if len(cut) < limit:
                heapq.heappush(cut, adjusted)
            elif adjusted > cut[0]:
                heapq.heapreplace(cut, adjusted)
        return sorted(kept, key=lambda item: -item[1])[:limit]

    def break_ties(
        self, candidates: Sequence[tuple[Key, float]], path_of: Callable[[Key], str | None]
    ) -> list[tuple[Key, float]]:
        """The candidates (best first) with equal scores reordered product first; scores kept.

        For rankings whose scale a weight would distort (fuzzy name matches): only a tie
        moves. ``path_of`` is called only for candidates that tie with a neighbour.
        """
        if not self.enabled:
            return list(candidates)
        result: list[tuple[Key, float]] = []
        start = 0
        while start < len(candidates):
            end = start + 1
            while end < len(candidates) and candidates[end][1] == candidates[start][1]:
                end += 1
            group = list(candidates[start:end])
            if len(group) > 1:
                group.sort(key=lambda item: self._secondary_key(path_of(item[0])))
            result.extend(group)
            start = end
        return result

    def _secondary_key(self, path: str | None) -> bool:
        return path is not None and self.is_secondary(path)
