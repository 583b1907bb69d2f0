"""The engine's table of files and symbols: what is indexed, where, and under which id.

The catalog is the source of truth for a workspace index. The vector and text
indexes are committed first and the catalog last, so after a crash the catalog
describes a state both of them contain: any id at or above ``next_id`` in the
other indexes is an orphan of an unfinished update and is removed on open
(see ``VectorSearchEngine``).

A symbol record keeps only what answers need (name, kind, container,
signature, ranges, content hash); bodies and doc comments live in the text
index and in the source files themselves.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quiver.errors import IndexCorruptError, IndexFormatError
from quiver.ids import SymbolId
from quiver.store.atomic import atomic_write_bytes
from quiver.symbols import Position, Range, Symbol, SymbolKind

CATALOG_FORMAT_VERSION = 1
_CATALOG_FILE = "catalog.json.z"


@dataclass(frozen=True, slots=True)
class SymbolRecord:
    """One indexed symbol, without its body: about a hundred bytes of text per symbol."""

    id: SymbolId
    name: str
    kind: SymbolKind
    container: str
    signature: str
    range: Range
    selection_range: Range
    path: str
    language: str
    content_hash: str

    @property
    def qualified_name(self) -> str:
        return f"{self.container}.{self.name}" if self.container else self.name

    @classmethod
    def from_symbol(cls, symbol_id: SymbolId, symbol: Symbol) -> SymbolRecord:
        return cls(
            id=symbol_id,
            name=symbol.name,
            kind=symbol.kind,
            container=symbol.container,
            signature=symbol.signature,
            range=symbol.range,
            selection_range=symbol.selection_range,
            path=symbol.path,
            language=symbol.language,
            content_hash=symbol.content_hash,
        )


@dataclass(slots=True)
class FileRecord:
    """One indexed file: how to tell it changed (size, mtime, hash) and its symbols."""

    path: str
    language: str
    size: int
    mtime_ns: int
    file_hash: str
    symbol_ids: list[SymbolId] = field(default_factory=list)


class Catalog:
    """In-memory file and symbol tables with an atomic on-disk snapshot.

    Not thread-safe by itself: the engine serialises writers and readers.
    """

    def __init__(self) -> None:
        self.files: dict[str, FileRecord] = {}
        self.symbols: dict[SymbolId, SymbolRecord] = {}
        self.next_id: int = 1
        self.generation: int = 0
        self.model_id: str = ""

    # -- ids -------------------------------------------------------------

    def allocate_ids(self, count: int) -> list[SymbolId]:
        """Fresh, never reused ids (monotonic across the life of the index)."""
        first = self.next_id
        self.next_id += count
        return [SymbolId(i) for i in range(first, first + count)]

    # -- mutation --------------------------------------------------------

    def put_file(self, record: FileRecord, symbols: Iterable[SymbolRecord]) -> None:
        """Replace a file's record and all its symbols."""
        self.remove_file(record.path)
        new_symbols = list(symbols)
        record.symbol_ids = [s.id for s in new_symbols]
        self.files[record.path] = record
        for symbol in new_symbols:
            self.symbols[symbol.id] = symbol

    def remove_file(self, path: str) -> list[SymbolId]:
        """Forget a file; returns the ids of the symbols it had."""
        record = self.files.pop(path, None)
        if record is None:
            return []
        for symbol_id in record.symbol_ids:
            self.symbols.pop(symbol_id, None)
        return list(record.symbol_ids)

    # -- queries ---------------------------------------------------------

    def symbols_of(self, path: str) -> list[SymbolRecord]:
        record = self.files.get(path)
        if record is None:
            return []
        return [self.symbols[i] for i in record.symbol_ids if i in self.symbols]

    def __len__(self) -> int:
        return len(self.symbols)

    def copy_tables(self) -> Catalog:
        """A copy to ``save`` while this catalog keeps changing (records are shared:
        symbol records are immutable and a file's record is replaced, not edited,
        when its symbols change). Costs two dict copies: a few ms per 100,000 symbols."""
        copy = Catalog()
        copy.files = {path: replace(record) for path, record in self.files.items()}
        copy.symbols = dict(self.symbols)
        copy.next_id = self.next_id
        copy.generation = self.generation
        copy.model_id = self.model_id
        return copy

    def __iter__(self) -> Iterator[SymbolRecord]:
        return iter(self.symbols.values())

    # -- persistence -----------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write a snapshot atomically (temp file, fsync, rename, directory fsync).

        Costs one pass over all records and one compressed write; a crash at any
        point leaves the previous snapshot intact.
        """
        directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": CATALOG_FORMAT_VERSION,
            "generation": self.generation,
            "next_id": self.next_id,
            "model_id": self.model_id,
            "files": [
                [f.path, f.language, f.size, f.mtime_ns, f.file_hash, f.symbol_ids]
                for f in self.files.values()
            ],
            "symbols": [_encode_symbol(s) for s in self.symbols.values()],
        }
        data = zlib.compress(json.dumps(payload, separators=(",", ":")).encode("utf-8"), 1)
        atomic_write_bytes(directory / _CATALOG_FILE, data)

    @staticmethod
    def saved_at(directory: Path) -> datetime | None:
        """When the last snapshot in ``directory`` was written (None if there is none)."""
        try:
            return datetime.fromtimestamp((directory / _CATALOG_FILE).stat().st_mtime, UTC)
        except OSError:
            return None

    @classmethod
    def load(cls, directory: Path) -> Catalog:
        """Read the last snapshot; an absent one gives an empty catalog.

        Raises ``IndexCorruptError`` for an unreadable snapshot and
        ``IndexFormatError`` for one written by another format version.
        """
        catalog = cls()
        target = directory / _CATALOG_FILE
        if not target.exists():
            return catalog
        try:
            payload = json.loads(zlib.decompress(target.read_bytes()))
        except (OSError, zlib.error, ValueError, UnicodeDecodeError) as error:
            raise IndexCorruptError(
                f"The symbol catalog {target} is unreadable ({error}).",
                "Run `quiver index --rebuild PATH` to rebuild the index from the sources.",
            ) from error
        if not isinstance(payload, dict) or payload.get("format") != CATALOG_FORMAT_VERSION:
            found = payload.get("format") if isinstance(payload, dict) else None
            raise IndexFormatError(
                f"The symbol catalog {target} has format {found!r}; "
                f"this Quiver reads format {CATALOG_FORMAT_VERSION}.",
                "Run `quiver index --rebuild PATH`; the cache was written by another version.",
            )
        try:
            catalog.generation = int(payload["generation"])
            catalog.next_id = int(payload["next_id"])
            catalog.model_id = str(payload["model_id"])
            for row in payload["symbols"]:
                record = _decode_symbol(row)
                catalog.symbols[record.id] = record
            for path, language, size, mtime_ns, file_hash, ids in payload["files"]:
                catalog.files[path] = FileRecord(
                    path, language, int(size), int(mtime_ns), file_hash, [SymbolId(i) for i in ids]
                )
        except (KeyError, TypeError, ValueError) as error:
            raise IndexCorruptError(
                f"The symbol catalog {target} is malformed ({error!r}).",
                "Run `quiver index --rebuild PATH` to rebuild the index from the sources.",
            ) from error
        return catalog


def _encode_symbol(s: SymbolRecord) -> list[object]:
    r, sr = s.range, s.selection_range
    return [
        s.id, s.name, int(s.kind), s.container, s.signature,
        r.start.line, r.start.character, r.end.line, r.end.character,
        sr.start.line, sr.start.character, sr.end.line, sr.end.character,
        s.path, s.language, s.content_hash,
    ]  # fmt: skip


def _decode_symbol(row: list[Any]) -> SymbolRecord:
    (sid, name, kind, container, signature, a, b, c, d, e, f, g, h, path, language, chash) = row
    return SymbolRecord(
        id=SymbolId(int(sid)),
        name=str(name),
        kind=SymbolKind(int(kind)),
        container=str(container),
        signature=str(signature),
        range=Range(Position(int(a), int(b)), Position(int(c), int(d))),
        selection_range=Range(Position(int(e), int(f)), Position(int(g), int(h))),
        path=str(path),
        language=str(language),
        content_hash=str(chash),
    )
