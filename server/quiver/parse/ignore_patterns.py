"""Gitignore patterns, matched in time linear in the length of the path.

pathspec parses gitignore lines and compiles each one to a Python regex, and
Python's regex engine backtracks: a pattern with many wildcards, such as
``*a*a*a*a*a*a*a*a*b`` (each ``*`` becomes ``[^/]*``) or ``**/a/**/a/**/b``
(each inner ``**`` becomes ``(?:/.+)?``), tries every way of splitting a
path that almost matches, and a walk past one file of 50 ``a`` took
minutes. A workspace can come from anywhere, so no pattern may cost that.

Each line is judged by the regex pathspec would build for it:

- a *plain* pattern, with at most one ``**`` that spans directories and at
  most one ``*`` (nearly every real one: ``*.pyc``, ``build/``,
  ``docs/**/*.md``), keeps pathspec's regex: one repetition across
  directories and one within a name cannot backtrack more than the path's
  length times the pattern's;
- any other one is matched here without backtracking (:class:`_Matcher`):
  the path's names run through the pattern's names as through an automaton
  (a set of positions), and a name through a glob by finding the pieces
  between its stars leftmost-first. Same answers as pathspec's regex (a
  property test compares them), at most path length times pattern length.

One difference, on purpose: a negated bracket expression (``[!a]``) never
matches "/" here, as in git; pathspec's regex lets it (patterns that have
one are matched here, so all agree).

A line pathspec cannot compile (``foo\\``, ``[z-a]``, ``!``) is left out and
returned as a :class:`RefusedLine`, so that one bad line neither stops a walk
nor silently drops the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import pathspec

__all__ = ["IgnorePatterns", "RefusedLine"]

#: The regex group pathspec sets when a pattern matched a directory above the path.
_DIR_MARK = "ps_d"
#: A pattern's priority for one path (pathspec's GitIgnoreSpec rule): none, a directory
#: above the path matched, the path itself matched.
_NO_MATCH, _DIRECTORY_MATCH, _DIRECT_MATCH = 0, 1, 2


@dataclass(frozen=True, slots=True)
class RefusedLine:
    """A line of an ignore file that is not applied."""

    number: int  # 1-based
    text: str
    reason: str


class IgnorePatterns:
    """The patterns of one ignore file (or of the caller's excludes), ready to match.

    ``check`` answers as pathspec's ``GitIgnoreSpec.check_file(path).include``
    does, for a normalised relative path (``"src/app.py"``, ``"build/"`` for a
    directory). Immutable, thread-safe.
    """

    __slots__ = ("_rules",)

    def __init__(self, rules: Iterable[_Rule]) -> None:
        self._rules: tuple[_Rule, ...] = tuple(rules)

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> tuple[IgnorePatterns, list[RefusedLine]]:
        """The patterns of ``lines`` and the lines left out (they cannot be compiled).

        Costs one pathspec compilation per line (about 10 µs) and, for a pattern
        that is not plain, a parse of its own.
        """
        rules: list[_Rule] = []
        refused: list[RefusedLine] = []
        for number, line in enumerate(lines, 1):
            if line.startswith("#") or not line.strip():
                continue  # a comment or blank: pathspec makes nothing of it either
            try:
                for pattern in pathspec.GitIgnoreSpec.from_lines([line]).patterns:
                    if pattern.include is not None and pattern.regex is not None:
                        rules.append(_rule_for(line, pattern.include, pattern.regex))
                    # else a no-op: an unclosed "[", a lone "/"
            except (ValueError, re.error) as error:
                refused.append(RefusedLine(number, line, _why(error)))
        return cls(rules), refused

    def __bool__(self) -> bool:
        return bool(self._rules)

    def check(self, path: str) -> bool | None:
        """True if ``path`` is ignored, False if a ``!pattern`` re-includes it, None if no
        pattern matches. The last pattern that matches the path itself decides; failing
        one, the last that matches a directory above it (git's order, as pathspec's
        ``GitIgnoreSpec`` replicates it). Costs at most the path's length times the
        patterns' total length."""
        decided: bool | None = None
        best = _NO_MATCH
        for rule in reversed(self._rules):
            priority = rule.priority(path)
            if priority > best:
                decided, best = rule.ignores, priority
                if priority == _DIRECT_MATCH:
                    break
        return decided


def _why(error: Exception) -> str:
    if isinstance(error, re.error):  # its position is in the regex, not in the line
        return f"invalid pattern: {error.msg}"
    return "invalid pattern"


# -- one pattern -------------------------------------------------------------------------


class _Rule:
    """One pattern: whether a match ignores (or re-includes) and how it matches."""

    __slots__ = ("ignores",)

    def __init__(self, ignores: bool) -> None:
        self.ignores = ignores

    def priority(self, path: str) -> int:
        raise NotImplementedError


class _RegexRule(_Rule):
    """A plain pattern: pathspec's regex, which cannot backtrack much."""

    __slots__ = ("_has_mark", "_regex")

    def __init__(self, ignores: bool, regex: re.Pattern[str]) -> None:
        super().__init__(ignores)
        self._regex = regex
        self._has_mark = _DIR_MARK in regex.groupindex

    def priority(self, path: str) -> int:
        match = self._regex.search(path)
        if match is None:
            return _NO_MATCH
        if self._has_mark and match.group(_DIR_MARK) is not None:
            return _DIRECTORY_MATCH
        return _DIRECT_MATCH


def _rule_for(line: str, ignores: bool, regex: re.Pattern[str]) -> _Rule:
    """pathspec's regex if the pattern is plain, else a matcher of our own."""
    shape = _parse(line)
    if shape is None or shape.is_plain():
        return _RegexRule(ignores, regex)
    return _Matcher(ignores, shape)


# -- a pattern's shape, normalised as pathspec does ------------------------------------

#: A name that spans any number of directories (``**`` as a whole name).
_ANY_DIRECTORIES: Final = "**"


@dataclass(frozen=True, slots=True)
class _Shape:
    """A pattern's names once normalised (pathspec's ``__normalize_segments``)."""

    names: tuple[str, ...]
    is_directory_pattern: bool

    def is_plain(self) -> bool:
        """At most one ``**`` spanning directories (not the last name: that one becomes a
        fixed "/" after the match) and at most one star within names: a backtracking
        regex then costs at most the path's length times the pattern's. And no negated
        bracket expression: pathspec's ``[^a]`` would match "/", which git's never does."""
        spanning = sum(1 for name in self.names[:-1] if name == _ANY_DIRECTORIES)
        if spanning > 1:
            return False
        stars = 0
        for name in self.names:
            if name == "*":
                stars += 1  # pathspec: "[^/]+"
            elif name != _ANY_DIRECTORIES:
                for token in _glob_tokens(name):
                    if token is _STAR:
                        stars += 1  # pathspec: "[^/]*"
                    elif token.startswith("[^"):
                        return False
        return stars <= 1


def _parse(line: str) -> _Shape | None:
    """The shape pathspec gives ``line`` (None where it uses a fixed regex of its own)."""
    text = line if line.endswith("\\ ") else line.rstrip()
    if text.startswith("!"):
        text = text[1:]
    names = text.split("/")
    is_directory_pattern = not names[-1]
    if not names[0]:
        del names[0]  # "/x": relative to the directory of the ignore file
    elif (len(names) == 1 or (len(names) == 2 and not names[1])) and (
        names[0] != _ANY_DIRECTORIES
    ):
        names.insert(0, _ANY_DIRECTORIES)  # "x" or "x/": at any depth
    if not names:
        return None
    if not names[-1]:
        names[-1] = _ANY_DIRECTORIES  # "x/": everything below
    for index in range(len(names) - 1, 0, -1):
        if names[index - 1] == names[index] == _ANY_DIRECTORIES:
            del names[index]
    if names in (["**"], ["**", "*"], ["**", "*", "**"]):
        return None  # pathspec's fixed regexes: ".", "/" or the directory mark
    return _Shape(tuple(names), is_directory_pattern)


# -- matching without backtracking -------------------------------------------------------

#: How the path must go on after the pattern's last name.
_END_ANY = "end or a directory above"  # "x": the path ends, or "/" follows (a directory)
_END_BELOW = "below"  # "x/**": "/" follows, a path below matches directly
_END_DIRECTORY = "directory"  # "x/": "/" follows, a directory above matched


class _Matcher(_Rule):
    """A pattern matched name by name: the set of pattern positions reachable after each of
    the path's names (an automaton, no backtracking), each name against a glob that
    finds its pieces leftmost-first. Answers as pathspec's regex for the same line."""

    __slots__ = ("_end", "_items", "_required")

    def __init__(self, ignores: bool, shape: _Shape) -> None:
        super().__init__(ignores)
        names = shape.names
        last = len(names) - 1
        items: list[_NameGlob | None] = []  # None: any number of directories
        end = _END_ANY
        for index, name in enumerate(names):
            if name != _ANY_DIRECTORIES:
                items.append(_NameGlob(name))
            elif index < last:
                items.append(None)
            else:
                end = _END_DIRECTORY if shape.is_directory_pattern else _END_BELOW
        self._items = tuple(items)
        self._end = end
        #: Text every matching path holds (each glob's literal runs): most paths are turned
        #: away by a few substring searches, before any name is matched.
        self._required = tuple(
            sorted({run for item in items if item is not None for run in item.literal_runs})
        )

    def priority(self, path: str) -> int:
        """pathspec's regex, searched, tries the longest skips first, so it finds the match
        that ends furthest: the path itself when the pattern can match it whole, else a
        directory above it. Here: every alignment at once, then the same choice."""
        for run in self._required:
            if run not in path:
                return _NO_MATCH
        items = self._items
        done = len(items)
        names = path.split("/")
        last = len(names) - 1
        positions = self._closure({0})
        matched_above = False  # the last name matched a directory above the path
        for index, name in enumerate(names):
            reached: set[int] = set()
            for position in positions:
                item = items[position]
                if item is None:
                    # pathspec's ".+" does not cross a newline: neither does this.
                    if "\n" not in name:
                        reached.add(position)
                elif item.matches(name):
                    reached.add(position + 1)
            if done in reached:
                reached.discard(done)
                if index == last:  # the path ends after the match: "$"
                    if self._end is _END_ANY:
                        return _DIRECT_MATCH
                elif self._end is _END_BELOW:  # "/" follows
                    return _DIRECT_MATCH
                elif self._end is _END_DIRECTORY:
                    return _DIRECTORY_MATCH
                else:
                    matched_above = True  # a direct match, further on, would win
            positions = self._closure(reached)
            if not positions:
                break
        return _DIRECTORY_MATCH if matched_above else _NO_MATCH

    def _closure(self, positions: set[int]) -> set[int]:
        """``positions`` and those a "**" there may skip to (it may match no directory)."""
        items = self._items
        return positions | {p + 1 for p in positions if p < len(items) and items[p] is None}


#: A star in a glob's tokens (any other token is a regex for one character).
_STAR: Final = "*"


def _is_literal(token: str) -> bool:
    """Whether a token of ``_glob_tokens`` is one plain character (escaped by re.escape)."""
    return token is not _STAR and token != "[^/]" and not token.startswith("[")


def _glob_tokens(name: str) -> list[str]:
    """``name`` as pathspec's ``_translate_segment_glob`` reads it: ``_STAR`` for each
    ``*``, else the regex of one character (a literal, ``?``, a bracket expression).
    Raises ValueError where pathspec does (a trailing backslash, an unclosed bracket)."""
    tokens: list[str] = []
    index, end = 0, len(name)
    while index < end:
        char = name[index]
        index += 1
        if char == "\\":
            if index == end:
                raise ValueError(f"escape character with nothing after it: {name!r}")
            tokens.append(re.escape(name[index]))
            index += 1
        elif char == "*":
            tokens.append(_STAR)
        elif char == "?":
            tokens.append("[^/]")
        elif char == "[":
            close = index
            if close < end and name[close] in "!^":
                close += 1
            if close < end and name[close] == "]":
                close += 1
            while close < end and name[close] != "]":
                close += 1
            if close == end:
                raise ValueError(f"unclosed bracket expression: {name!r}")
            close += 1
            expression = "["
            if name[index] in "!^":
                expression += "^"
                index += 1
            expression += name[index:close].replace("\\", "\\\\")
            tokens.append(expression)
            index = close
        else:
            tokens.append(re.escape(char))
    return tokens


class _NameGlob:
    """A glob for one name: fixed-width pieces between stars, each a regex without
    repetition. A name matches when the first piece starts it, the last ends it and the
    others are found in order between them, each as early as it can be (this never
    misses a match, since a star takes whatever lies between two pieces)."""

    __slots__ = ("_first", "_last", "_middle", "_nonempty", "_whole", "_width", "literal_runs")

    def __init__(self, name: str) -> None:
        self._nonempty = name == "*"  # pathspec: "[^/]+" for a name that is a lone star
        pieces: list[list[str]] = [[]]
        runs: list[str] = [""]
        for token in _glob_tokens(name):
            if token is _STAR:
                pieces.append([])
            else:
                pieces[-1].append(token)
            if _is_literal(token):
                runs[-1] += token[-1]  # re.escape gives the character, or "\\" and it
            elif runs[-1]:
                runs.append("")
        #: The runs of plain characters every name it matches contains.
        self.literal_runs = tuple(run for run in runs if run)
        compiled = [(re.compile("".join(piece)), len(piece)) for piece in pieces]
        self._whole = compiled[0] if len(compiled) == 1 else None
        self._first = compiled[0]
        self._last = compiled[-1]
        self._middle = tuple(piece for piece in compiled[1:-1] if piece[1])
        self._width = sum(width for _, width in compiled)

    def matches(self, name: str) -> bool:
        if self._whole is not None:
            return self._whole[0].fullmatch(name) is not None
        if self._nonempty:
            return bool(name)
        if len(name) < self._width:
            return False
        first, first_width = self._first
        last, last_width = self._last
        start, stop = first_width, len(name) - last_width
        if first.match(name, 0, first_width) is None or last.match(name, stop) is None:
            return False
        for piece, _ in self._middle:
            found = piece.search(name, start, stop)
            if found is None:
                return False
            start = found.end()
        return True
