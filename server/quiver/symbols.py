"""The symbol record that flows through the pipeline: files → symbols → vectors → index.

Kept free of any LSP import: ``SymbolKind`` mirrors the numeric values of the
LSP enumeration so the LSP layer converts with ``lsprotocol.types.SymbolKind(kind)``.
Positions are 0-based lines and UTF-16 code-unit columns, as LSP requires.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum


class SymbolKind(IntEnum):
    """The LSP SymbolKind values (same numbers, no lsprotocol import)."""

    FILE = 1
    MODULE = 2
    NAMESPACE = 3
    PACKAGE = 4
    CLASS = 5
    METHOD = 6
    PROPERTY = 7
    FIELD = 8
    CONSTRUCTOR = 9
    ENUM = 10
    INTERFACE = 11
    FUNCTION = 12
    VARIABLE = 13
    CONSTANT = 14
    STRING = 15
    NUMBER = 16
    BOOLEAN = 17
    ARRAY = 18
    OBJECT = 19
    KEY = 20
    NULL = 21
    ENUM_MEMBER = 22
    STRUCT = 23
    EVENT = 24
    OPERATOR = 25
    TYPE_PARAMETER = 26

    @property
    def label(self) -> str:
        """Lower-case word for display and filters (``"enum_member"``)."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> SymbolKind:
        """Parse a user-given kind name (``"function"``, ``"Class"``, ``"enum-member"``)."""
        return cls[label.strip().upper().replace("-", "_")]


@dataclass(frozen=True, slots=True)
class Position:
    """0-based line and UTF-16 column."""

    line: int
    character: int


@dataclass(frozen=True, slots=True)
class Range:
    """A half-open span ``[start, end)`` in LSP coordinates."""

    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class Symbol:
    """One extracted symbol with the context the model and the editor need.

    ``container`` is the dotted qualified path of the enclosing scopes
    (``"pkg.module.Class"``; empty at top level). ``content_hash`` covers
    everything that affects the symbol's embedding text, so an unchanged
    hash means its vector can be reused.
    """

    name: str
    kind: SymbolKind
    container: str
    signature: str
    doc: str
    range: Range
    selection_range: Range
    language: str
    path: str
    body: str
    content_hash: str

    @property
    def qualified_name(self) -> str:
        """``container.name``, or just the name at top level."""
        return f"{self.container}.{self.name}" if self.container else self.name


def content_hash(*parts: str) -> str:
    """A short stable hash (hex, 16 bytes of blake2b) of the given text parts."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
