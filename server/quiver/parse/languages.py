"""Which languages Quiver understands, how to recognise their files, and their grammars.

Grammars come from the official per-language wheels (``tree-sitter-python`` ...),
which carry compiled parsers, so nothing is downloaded at run time (see
``docs/decisions.md``). A grammar is loaded the first time a language is used
and cached for the life of the process.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import PurePath

import tree_sitter

from quiver.errors import QuiverError

#: Language ids, in the order the documentation lists them.
SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "python",
    "rust",
    "go",
    "typescript",
    "tsx",
    "javascript",
    "java",
    "c",
    "cpp",
    "csharp",
    "ruby",
    "php",
)

#: File extension (lower case, with the dot) → language id.
EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".rs": "rust",
    ".go": "go",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".java": "java",
    ".c": "c",
    # A ``.h`` header may be C or C++; the C++ grammar reads both, but the C
    # grammar is faster and most ``.h`` files in the wild are plain C.
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".php": "php",
    ".phtml": "php",
}

#: Files recognised by their whole name rather than their extension.
FILE_NAMES: dict[str, str] = {
    "Rakefile": "ruby",
    "Gemfile": "ruby",
}

# language id → (module, function returning the grammar's language pointer).
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "go": ("tree_sitter_go", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "javascript": ("tree_sitter_javascript", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    # ``language_php`` parses whole .php files, HTML around ``<?php`` included.
    "php": ("tree_sitter_php", "language_php"),
}

_grammar_cache: dict[str, tree_sitter.Language] = {}
_grammar_lock = threading.Lock()


class UnsupportedLanguageError(QuiverError, ValueError):
    """A language id that is not one of :data:`SUPPORTED_LANGUAGES`."""


def language_for_path(path: str | os.PathLike[str]) -> str | None:
    """The language id for a file path, judged by its extension; ``None`` if unsupported.

    Pure string work, no I/O.
    """
    pure = PurePath(path)
    by_name = FILE_NAMES.get(pure.name)
    if by_name is not None:
        return by_name
    return EXTENSIONS.get(pure.suffix.lower())


# Lines only C++ has: class/namespace/template declarations, access specifiers, std::.
_CPP_MARKERS = re.compile(
    rb"^[ \t]*(?:class|namespace|template)\b[^;(]*$|^[ \t]*(?:public|private|protected)[ \t]*:"
    rb"|\bstd::",
    re.MULTILINE,
)
_SNIFF_BYTES = 64 * 1024


def refine_language(language: str, path: str, source: bytes) -> str:
    """The language of a file once its text is known: a ``.h`` header written in C++ is ``cpp``.

    Every other file keeps the language of its extension. Costs one regular
    expression scan of the first 64 KiB of a ``.h`` file, nothing otherwise.
    """
    if language == "c" and path.endswith(".h") and _CPP_MARKERS.search(source, 0, _SNIFF_BYTES):
        return "cpp"
    return language


def grammar(language: str) -> tree_sitter.Language:
    """The tree-sitter grammar for a language id, loaded once per process.

    Raises :class:`UnsupportedLanguageError` for an unknown id.
    """
    cached = _grammar_cache.get(language)
    if cached is not None:
        return cached
    try:
        module_name, function_name = _GRAMMARS[language]
    except KeyError:
        raise UnsupportedLanguageError(
            f"Unsupported language {language!r}.",
            f"use one of: {', '.join(SUPPORTED_LANGUAGES)}",
        ) from None
    with _grammar_lock:
        cached = _grammar_cache.get(language)
        if cached is None:
            module = importlib.import_module(module_name)
            cached = tree_sitter.Language(getattr(module, function_name)())
            _grammar_cache[language] = cached
    return cached


@dataclass(frozen=True, slots=True)
class LanguageInfo:
    """A language's id and the file extensions that select it (for docs and ``--help``)."""

    language: str
    extensions: tuple[str, ...]


def language_table() -> tuple[LanguageInfo, ...]:
    """Every supported language with its extensions, in :data:`SUPPORTED_LANGUAGES` order."""
    return tuple(
        LanguageInfo(lang, tuple(ext for ext, owner in EXTENSIONS.items() if owner == lang))
        for lang in SUPPORTED_LANGUAGES
    )
