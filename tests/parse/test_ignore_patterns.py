"""Gitignore patterns from a hostile workspace: matching takes time linear in the path's
length whatever the pattern, and a line that cannot be compiled is left out and reported."""

from __future__ import annotations

import re
from pathlib import Path

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile_files import within
from quiver.parse import discover, ignore_patterns
from quiver.parse.ignore_patterns import IgnorePatterns
from quiver.parse.selection import IgnoreRules, is_ignored, read_ignore_file

#: A generous bound: each of these checks takes well under a millisecond once linear,
#: and many seconds (up to minutes) with a backtracking regex.
DEADLINE_S = 5.0


def _rules(tmp_path: Path, text: str) -> list[IgnoreRules]:
    ignore_file = tmp_path / ".gitignore"
    ignore_file.write_text(text)
    return read_ignore_file(ignore_file, "")


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        # pathspec turns each * into [^/]*: n characters against k stars try C(n, k) splits.
        ("*a*a*a*a*a*a*a*a*b", "a" * 50 + ".py", "a" * 50 + "b"),
        ("a**a**a**a**a**a**b", "a" * 27 + ".py", "a" * 27 + "b"),
        # ... and each inner ** into (?:/.+)?: three of them over 1,500 directories.
        ("**/a/**/a/**/b", "a/" * 1500 + "c.py", "a/" * 1500 + "b"),
        ("a/**/a/**/a/**/b", "a/" * 1500 + "c.py", "a/" * 1500 + "b"),
    ],
    ids=["stars", "double-stars-in-a-name", "any-directories", "anchored-any-directories"],
)
def test_a_pattern_built_to_backtrack_is_matched_in_linear_time(
    tmp_path: Path, pattern: str, path: str, matched: str
) -> None:
    rules = _rules(tmp_path, pattern + "\n")
    assert within(DEADLINE_S, lambda: is_ignored(rules, path, is_dir=False)) is False
    assert within(DEADLINE_S, lambda: is_ignored(rules, matched, is_dir=False)) is True


def test_a_walk_past_a_pattern_built_to_backtrack_finishes(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*a*a*a*a*a*a*a*a*b.py\n")
    name = "a" * 50 + ".py"
    (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "aaaaaaaab.py").write_text("x = 1\n")  # what the pattern does match
    found = within(DEADLINE_S, lambda: [f.rel_path for f in discover(tmp_path)])
    assert found == [name]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("trailing\\", "invalid pattern"),
        ("[z-a].py", "invalid pattern"),
        ("!", "invalid pattern"),
    ],
)
def test_a_line_that_cannot_be_compiled_is_left_out_and_reported(
    tmp_path: Path, line: str, why: str
) -> None:
    (tmp_path / ".gitignore").write_text(f"dropped.py\n{line}\n*.gen.py\n")
    for name in ("main.py", "dropped.py", "z.py", "api.gen.py"):
        (tmp_path / name).write_text("x = 1\n")
    skipped: dict[str, str] = {}
    found = [f.rel_path for f in discover(tmp_path, on_skip=skipped.__setitem__)]
    assert sorted(found) == ["main.py", "z.py"]  # the other lines still apply
    assert skipped[".gitignore"].startswith(f"line 2 not applied ({why}")


# -- the same answers as pathspec ----------------------------------------------------------

# Not "[!a]": pathspec's regex lets it match "/", where git (and the matcher of our own)
# never match "/" with a bracket expression; "[!/a]" is the same for both.
_NAME_PIECES = ["a", "b", "*", "?", "[ab]", "[!/a]", "\\*", "**"]
_names = st.lists(st.sampled_from(_NAME_PIECES), min_size=1, max_size=4).map("".join)
_patterns = st.builds(
    lambda negated, anchored, names, directory: (
        ("!" if negated else "") + ("/" if anchored else "") + "/".join(names)
        + ("/" if directory else "")
    ),
    st.booleans(),
    st.booleans(),
    st.lists(st.one_of(_names, st.just("**")), min_size=1, max_size=4),
    st.booleans(),
)
_paths = st.builds(
    lambda names, directory: "/".join(names) + ("/" if directory else ""),
    st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab", "a*", "a\nb"]), min_size=1, max_size=6),
    st.booleans(),
)


def _pathspec_says(lines: list[str], path: str) -> bool | str | None:
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, re.error):
        return "refused"
    return spec.check_file(path).include


def _quiver_says(lines: list[str], path: str) -> bool | str | None:
    patterns, refused = IgnorePatterns.from_lines(lines)
    return "refused" if refused else patterns.check(path)


@settings(max_examples=400, deadline=None)
@given(st.lists(_patterns, min_size=1, max_size=3), st.lists(_paths, min_size=1, max_size=4))
def test_every_pattern_matches_as_pathspecs_regex_does(
    lines: list[str], paths: list[str]
) -> None:
    for path in paths:
        assert _quiver_says(lines, path) == _pathspec_says(lines, path), (lines, path)


@settings(max_examples=400, deadline=None)
@given(st.lists(_patterns, min_size=1, max_size=3), st.lists(_paths, min_size=1, max_size=4))
def test_the_linear_matcher_answers_as_pathspecs_regex_for_any_pattern(
    lines: list[str], paths: list[str]
) -> None:
    # Every pattern through the matcher of our own, plain ones included.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ignore_patterns._Shape, "is_plain", lambda self: False)
        for path in paths:
            assert _quiver_says(lines, path) == _pathspec_says(lines, path), (lines, path)


def test_the_shapes_git_users_write_keep_pathspecs_regex() -> None:
    plain = ["*.pyc", "build/", "/dist", "docs/**/*.md", "**/node_modules/**", "!keep.py",
             "*.py[cod]", "foo/*/bar", "*"]  # fmt: skip
    patterns, _ = IgnorePatterns.from_lines(plain)
    assert all(type(rule).__name__ == "_RegexRule" for rule in patterns._rules)
