"""Which paths hold secondary code (tests, fixtures, vendored and generated code) and how
much their search results are lowered: the path prior's configuration (issue 12 §3).

Light on purpose (no engine, no text index): the language server reads it from its options
before Tantivy loads. ``quiver.engine.path_prior`` applies it to rankings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from quiver.errors import QuiverError

#: Paths of code that is not the product: tests, fixtures, vendored and generated code.
#: Gitignore-style globs on the workspace-relative path (``quiver.text.pathglob``): a bare
#: name (``tests``, ``test_*.py``) matches at any depth, a directory everything below it.
DEFAULT_SECONDARY_PATHS: tuple[str, ...] = (
    "tests/",
    "test/",
    "testing/",
    "__tests__/",
    "spec/",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "*_test.go",
    "*.test.ts",
    "*.spec.ts",
    "*.test.tsx",
    "*.test.js",
    "*.spec.js",
    "fixtures/",
    "testdata/",
    "vendor/",
    "third_party/",
    "generated/",
    "*_pb2.py",
    "*.pb.go",
    "*.generated.*",
)

#: What a secondary result's score is multiplied by. 0.9 is a margin of ~0.05 on the
#: usual cosines (0.4-0.7): enough to order near-ties, not enough to bury a test that
#: is clearly the better match (measured in benchmarks/README.md, "Path prior").
DEFAULT_SECONDARY_WEIGHT = 0.9

#: The longest pattern accepted: ``quiver.text.pathglob.MAX_GLOB_CHARS`` (a test checks).
MAX_PATTERN_CHARS = 1000


def pattern_problem(pattern: str) -> str | None:
    """Why ``quiver.text.pathglob`` would refuse ``pattern`` (empty once ``./`` and the
    slashes around it are dropped, or too long), or None. Checked here, without importing
    the text index, so the server reads its options before Tantivy loads."""
    text = pattern.strip() if isinstance(pattern, str) else ""
    if len(text) > MAX_PATTERN_CHARS:
        return f"it is {len(text)} characters long; at most {MAX_PATTERN_CHARS} are accepted"
    while text.startswith("./"):
        text = text[2:]
    if not text.strip("/"):
        return "it is empty"
    return None


@dataclass(frozen=True, slots=True)
class PathPrior:
    """Which paths are secondary code and how much their scores are lowered.

    ``weight`` in (0, 1]: a secondary result's score is multiplied by it (a
    negative score is lowered by the same share of its size). Raises
    ``QuiverError`` (with a Suggestion) for a weight outside (0, 1] or an
    empty or over-long pattern.
    """

    patterns: tuple[str, ...] = DEFAULT_SECONDARY_PATHS
    weight: float = DEFAULT_SECONDARY_WEIGHT

    def __post_init__(self) -> None:
        if not (
            isinstance(self.weight, int | float)
            and math.isfinite(self.weight)
            and 0.0 < self.weight <= 1.0
        ):
            raise QuiverError(
                f"The secondary-path weight {self.weight!r} is not a number in (0, 1].",
                f"Use a weight such as {DEFAULT_SECONDARY_WEIGHT} (1.0 turns the prior off).",
            )
        for pattern in self.patterns:
            problem = pattern_problem(pattern)
            if problem is not None:
                raise QuiverError(
                    f"The secondary-path pattern {pattern!r} is not usable: {problem}",
                    "Give a glob on workspace-relative paths such as `tests/` or `*_test.go`.",
                )

    @property
    def enabled(self) -> bool:
        """Whether the prior changes any ranking (patterns given and a weight below 1)."""
        return bool(self.patterns) and self.weight < 1.0


#: The prior a workspace gets unless it configures one.
DEFAULT_PATH_PRIOR = PathPrior()
