"""Path glob patterns, translated once into a regex for Tantivy and one for Python.

Patterns match workspace-relative paths written with ``/``:

* ``*`` any run of characters within one path segment (never ``/``);
  ``?`` one character (never ``/``); ``[abc]``, ``[a-z]``, ``[!abc]`` (or
  ``[^abc]``) one character of, or not of, the set.
* ``**`` any run of characters across segments: ``src/**/test_*.py`` matches
  ``src/test_a.py`` and ``src/a/b/test_c.py``; ``src/**`` everything below ``src``.
* A pattern without ``/`` matches a file or directory name at any depth, as in
  ``.gitignore`` and the VS Code search box: ``*.py``, ``test_*``, ``vendor``.
* A pattern also matches everything below a directory it matches:
  ``server/quiver`` selects ``server/quiver/text/index.py``.
* A leading ``./`` or ``/`` anchors at the workspace root (it is dropped);
  a trailing ``/`` is ignored. Matching is case-sensitive, as file systems are.

This is ``fnmatch`` with two deliberate differences, both what users of
editors and ``.gitignore`` expect: ``*`` stops at ``/`` (use ``**`` to cross
directories), and a bare name matches at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from quiver.errors import InvalidQueryError

#: A glob longer than this is refused (a path is rarely over 300 characters).
MAX_GLOB_CHARS = 1000


@dataclass(frozen=True, slots=True)
class _Literal:
    char: str


@dataclass(frozen=True, slots=True)
class _AnyInSegment:
    """``*``"""


@dataclass(frozen=True, slots=True)
class _OneInSegment:
    """``?``"""


@dataclass(frozen=True, slots=True)
class _AnyDirectories:
    """``**/``: zero or more whole directories."""


@dataclass(frozen=True, slots=True)
class _AnyAcross:
    """``**`` not followed by ``/``: anything, ``/`` included."""


@dataclass(frozen=True, slots=True)
class _CharClass:
    negated: bool
    # (first, last) inclusive code point ranges; a single character is (c, c).
    ranges: tuple[tuple[str, str], ...]


_Token = _Literal | _AnyInSegment | _OneInSegment | _AnyDirectories | _AnyAcross | _CharClass


def tantivy_path_regex(pattern: str) -> str | None:
    """The regex (Rust ``regex`` syntax, implicitly anchored) Tantivy's ``regex_query`` runs.

    Every literal other than ASCII letters and digits is written as
    ``\\x{...}``, so no character of a path can be read as regex syntax.
    None when the pattern can match no path (``[/]``: a set of no allowed
    character). Raises :class:`InvalidQueryError` for an empty or over-long pattern.
    """
    tokens = _parse(pattern)
    if _matches_nothing(tokens):
        return None
    return _render(tokens, _rust_literal, any_char="(?s:.)")


@lru_cache(maxsize=256)
def compile_path_glob(pattern: str) -> re.Pattern[str]:
    """The same pattern as a compiled Python regex; use ``.fullmatch(path)``.

    For filtering paths outside Tantivy (the vector results) with exactly the
    semantics of the text filter. Cached: compiling again costs a dict lookup.
    """
    tokens = _parse(pattern)
    if _matches_nothing(tokens):
        return re.compile("(?!)")
    return re.compile(_render(tokens, re.escape, any_char="."), re.DOTALL)


def path_matches(patterns: tuple[str, ...] | list[str], path: str) -> bool:
    """Whether ``path`` matches any of ``patterns``."""
    return any(compile_path_glob(pattern).fullmatch(path) for pattern in patterns)


#: What :func:`path_glob_terms` asks for: one alternative is a list of
#: (kind, value) terms that must all be present; kinds are "path" (the whole
#: path), "dir" (an ancestor directory), "segment" (one path component) and
#: "ext" (what follows a dot in one component), as :func:`path_terms` indexes them.
TermAlternatives = list[list[tuple[str, str]]]


def path_terms(path: str) -> tuple[list[str], list[str], list[str]]:
    """The terms a path is indexed under for :func:`path_glob_terms`: (dirs, segments, exts).

    ``src/net/a.tar.gz`` gives dirs ``src``, ``src/net``; segments ``src``,
    ``net``, ``a.tar.gz``; exts ``tar.gz``, ``gz`` (every text after a dot of
    every segment).
    """
    directories = [path[:index] for index, char in enumerate(path) if char == "/" and index]
    segments = path.split("/")
    extensions = {
        segment[index + 1 :]
        for segment in segments
        for index, char in enumerate(segment)
        if char == "." and index + 1 < len(segment)
    }
    return directories, list(dict.fromkeys(segments)), sorted(extensions)


def path_glob_terms(pattern: str) -> TermAlternatives | None:
    """The pattern as exact-term lookups when it has one of the common shapes, else None.

    Shapes: a literal path (the file, or everything below the directory), a
    literal name (any component), ``DIR/**``, ``*.EXT`` / ``**/*.EXT``
    (any depth) and ``DIR/**/*.EXT``. Selects exactly the paths
    :func:`compile_path_glob` selects (the tests check both against each other).
    Raises :class:`InvalidQueryError` as :func:`tantivy_path_regex` does.
    """
    text = _normalise(pattern)
    if not _has_glob(text):
        if "/" in text:
            return [[("path", text)], [("dir", text)]]
        return [[("segment", text)]]
    if text.endswith("/**") and not _has_glob(head := text[:-3]):
        return [[("dir", head)]]
    for prefix in ("*.", "**/*."):
        extension = text.removeprefix(prefix)
        if extension != text and _is_plain_name(extension):
            return [[("ext", extension)]]
    directory, separator, extension = text.partition("/**/*.")
    if (
        separator
        and directory
        and not _has_glob(directory)
        and _is_plain_name(extension)
        and not any(part.endswith("." + extension) for part in directory.split("/"))
    ):
        return [[("dir", directory), ("ext", extension)]]
    return None


def _has_glob(text: str) -> bool:
    return any(char in text for char in "*?[")


def _is_plain_name(text: str) -> bool:
    return bool(text) and "/" not in text and not _has_glob(text)


def _normalise(pattern: str) -> str:
    text = pattern.strip()
    if len(text) > MAX_GLOB_CHARS:
        raise InvalidQueryError(
            f"Path pattern is {len(text)} characters long; at most {MAX_GLOB_CHARS} are accepted.",
            "Give a shorter glob such as `src/**/*.py`.",
        )
    while text.startswith("./"):
        text = text[2:]
    text = text.lstrip("/").rstrip("/")
    if not text:
        raise InvalidQueryError(
            f"Path pattern {pattern!r} is empty.",
            "Give a glob relative to the workspace root, such as `src/**/*.py` or `*.rs`.",
        )
    return text


def _parse(pattern: str) -> tuple[_Token, ...]:
    text = _normalise(pattern)
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "*":
            if text.startswith("**", index):
                index += 2
                while index < len(text) and text[index] == "*":
                    index += 1
                if index < len(text) and text[index] == "/":
                    tokens.append(_AnyDirectories())
                    index += 1
                else:
                    tokens.append(_AnyAcross())
                continue
            tokens.append(_AnyInSegment())
        elif char == "?":
            tokens.append(_OneInSegment())
        elif char == "[":
            parsed = _parse_class(text, index)
            if parsed is None:
                tokens.append(_Literal("["))
            else:
                char_class, index = parsed
                tokens.append(char_class)
                continue
        else:
            tokens.append(_Literal(char))
        index += 1
    anchored_anywhere = "/" not in text
    prefix: list[_Token] = [_AnyDirectories()] if anchored_anywhere else []
    return (*prefix, *tokens)


def _parse_class(text: str, start: int) -> tuple[_CharClass, int] | None:
    """Parse ``[...]`` at ``start``; None when it is not closed (then ``[`` is literal)."""
    index = start + 1
    negated = index < len(text) and text[index] in "!^"
    if negated:
        index += 1
    members: list[str] = []
    # A "]" right after "[" or "[!" is a member, as in fnmatch.
    if index < len(text) and text[index] == "]":
        members.append("]")
        index += 1
    while index < len(text) and text[index] != "]":
        members.append(text[index])
        index += 1
    if index >= len(text):
        return None
    ranges: list[tuple[str, str]] = []
    position = 0
    while position < len(members):
        first = members[position]
        if position + 2 < len(members) and members[position + 1] == "-":
            last = members[position + 2]
            if first <= last:
                ranges.append((first, last))
            position += 3
        else:
            ranges.append((first, first))
            position += 1
    # A class never matches "/", which separates segments.
    ranges = [(first, last) for first, last in ranges if not first <= "/" <= last] + [
        part
        for first, last in ranges
        if first <= "/" <= last
        for part in ((first, chr(ord("/") - 1)), (chr(ord("/") + 1), last))
        if part[0] <= part[1]
    ]
    return _CharClass(negated, tuple(ranges)), index + 1


def _matches_nothing(tokens: tuple[_Token, ...]) -> bool:
    return any(
        isinstance(token, _CharClass) and not token.negated and not token.ranges for token in tokens
    )


def _render(tokens: tuple[_Token, ...], literal: Callable[[str], str], any_char: str) -> str:
    parts: list[str] = []
    for token in tokens:
        match token:
            case _Literal(char):
                parts.append(literal(char))
            case _AnyInSegment():
                parts.append("[^/]*")
            case _OneInSegment():
                parts.append("[^/]")
            case _AnyDirectories():
                parts.append(f"(?:{any_char}*/)?")
            case _AnyAcross():
                parts.append(f"{any_char}*")
            case _CharClass(negated, ranges):
                body = "".join(
                    literal(first) if first == last else f"{literal(first)}-{literal(last)}"
                    for first, last in ranges
                )
                parts.append(f"[^/{body}]" if negated else f"[{body}]")
    # Everything below a matching directory matches too.
    parts.append(f"(?:/{any_char}*)?")
    return "".join(parts)


def _rust_literal(char: str) -> str:
    if char.isascii() and char.isalnum():
        return char
    return f"\\x{{{ord(char):X}}}"
