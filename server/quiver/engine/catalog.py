"""The engine's table of files and symbols: what is indexed, where, and under which id.

The catalog is the source of truth for a workspace index. The vector and text
indexes are committed first and the catalog last, so after a crash the catalog
describes a state both of them contain: any id at or above ``next_id`` in the
other indexes is an orphan of an unfinished update and is removed on open
(see ``quiver.engine.durability``). Readers in other processes follow the index by
watching this file: it is the last thing a writer publishes.

On disk: one columnar snapshot, ``catalog.qcat``, replaced atomically (temp
file, fsync, rename). Symbols are stored by column (ids, fixed-width numbers,
and one byte blob with offsets per text field), so opening a catalog of
100,000 symbols maps the file and checks one CRC (tens of milliseconds)
instead of decoding every record; a ``SymbolRecord`` is built only when asked
for (a few microseconds). Changes since the snapshot live in a small
in-memory overlay until the next ``save``.

A symbol record keeps only what answers need (name, kind, container,
signature, ranges, content hash); bodies and doc comments live in the text
index and in the source files themselves.
"""

from __future__ import annotations

import bisect
import json
import mmap
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt

from quiver.errors import IndexCorruptError, IndexFormatError
from quiver.ids import SymbolId
from quiver.numeric import distinct
from quiver.store.atomic import atomic_write_bytes
from quiver.symbols import Position, Range, Symbol, SymbolKind

#: Version 1 was a zlib-compressed JSON document; 2 the columnar snapshot; 3 the compact
#: one (narrow integers, raw hashes, containers and signature templates stored once).
CATALOG_FORMAT_VERSION: Final = 3
CATALOG_FILE: Final = "catalog.qcat"
#: What version 1 wrote: found alone, the cache predates this format and is rebuilt.
_LEGACY_FILE: Final = "catalog.json.z"
_MAGIC: Final = b"QVRCATLG"
# magic, format version, header length, body length, CRC-32 of header + body
_PREFIX: Final = struct.Struct("<8sIIQI")
_ALIGN: Final = 8
# Per symbol: kind, file row, range (4), selection range (4); uint16 when every value
# fits (the usual case), else int32.
_INT_COLUMNS: Final = 10
#: Containers and signatures repeat (a class's methods share one container; many
#: signatures differ only by the name): each distinct value is stored once, and a
#: signature without its name (``signature.name_at`` says where it goes back).
_SHARED_COLUMNS: Final = ("container", "signature")
_HASH_BYTES: Final = 16  # content hashes are 128-bit blake2b digests
_NAME_NOT_CUT: Final = 0xFFFF  # signature.name_at when the name is not cut out
#: SymbolKind by value: a dict look-up is much cheaper than calling the enum.
_KINDS: Final[dict[int, SymbolKind]] = {kind.value: kind for kind in SymbolKind}
_REBUILD: Final = "Run `quiver index --rebuild PATH` to rebuild the index from the sources."


@dataclass(frozen=True, slots=True)
class SymbolRecord:
    """One indexed symbol, without its body."""

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


class _TextColumn:
    """Variable-length UTF-8 strings: one blob and ``count + 1`` offsets into it."""

    __slots__ = ("_blob", "_offsets", "_text", "blob", "offsets")

    def __init__(self, blob: npt.NDArray[np.uint8], offsets: npt.NDArray[Any]) -> None:
        self.blob, self.offsets = blob, offsets  # as stored, for ``Catalog.save``
        self._blob = blob
        # A memoryview indexes to Python ints several times faster than numpy scalars.
        self._offsets = _int_view(offsets)
        # An ASCII blob (the usual case) is decoded once into a str whose character
        # offsets are its byte offsets: slicing it is cheaper than decoding each value,
        # and costs one byte per character, as the blob does.
        raw = blob.tobytes()
        self._text = raw.decode("ascii") if raw.isascii() else None

    def value(self, row: int) -> str:
        start, end = self._offsets[row], self._offsets[row + 1]
        if self._text is not None:
            return self._text[start:end]
        return self._blob[start:end].tobytes().decode("utf-8", "surrogatepass")


class CatalogSnapshot:
    """A published catalog, memory-mapped read-only; records are decoded on demand.

    Costs at open: one ``mmap``, one CRC-32 pass over the file (~1 GB/s) and a JSON
    header of one entry per file. Shared by the pages of every process that maps it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open("rb") as handle:
                size = _file_size(handle.fileno())
                if size < _PREFIX.size:
                    raise _corrupt(path, "it is truncated")
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as error:
            raise IndexCorruptError(
                f"The symbol catalog {path} is unreadable ({error}).", _REBUILD
            ) from error
        magic, version, header_size, body_size, crc = _PREFIX.unpack_from(self._map, 0)
        if magic != _MAGIC:
            raise _corrupt(path, "it is not a Quiver catalog")
        if version != CATALOG_FORMAT_VERSION:
            raise IndexFormatError(
                f"The symbol catalog {path} has format {version}; "
                f"this Quiver reads format {CATALOG_FORMAT_VERSION}.",
                "Run `quiver index --rebuild PATH`; the cache was written by another version.",
            )
        if _PREFIX.size + header_size + body_size != size:
            raise _corrupt(path, "it is truncated or has trailing bytes")
        if zlib.crc32(memoryview(self._map)[_PREFIX.size :]) != crc:
            raise _corrupt(path, "its checksum does not match")
        try:
            header = json.loads(self._map[_PREFIX.size : _PREFIX.size + header_size])
            self.generation = int(header["generation"])
            self.next_id = int(header["next_id"])
            self.model_id = str(header["model_id"])
            self.saved_at = datetime.fromisoformat(str(header["saved_at"]))
            self.count = int(header["symbols"])
            base = _PREFIX.size + header_size
            sections = {
                name: self._section(base, entry) for name, entry in header["sections"].items()
            }
            # Ids may be stored as uint32; the engine computes with int64 (a 4-byte copy).
            self.ids: npt.NDArray[np.int64] = sections["ids"].astype(np.int64)
            self._ints: npt.NDArray[Any] = sections["ints"].reshape(-1, _INT_COLUMNS)
            self._id_view = _int_view(self.ids)
            self._int_view = _int_view(sections["ints"])
            self._names = _TextColumn(sections["name.blob"], sections["name.offsets"])
            self._shared = {
                column: _TextColumn(sections[f"{column}.blob"], sections[f"{column}.offsets"])
                for column in _SHARED_COLUMNS
            }
            self._containers, self._signatures = (
                self._shared["container"],
                self._shared["signature"],
            )
            self._container_rows = _int_view(sections["container.index"])
            self._signature_rows = _int_view(sections["signature.index"])
            self._name_at = _int_view(sections["signature.name_at"])
            self._hashes = memoryview(sections["content_hash"].data.cast("B"))
            self._file_symbols: npt.NDArray[Any] = sections["file_symbols"]
            self.sections = sections  # as stored, for ``Catalog.save``
            self.files: list[list[Any]] = header["files"]
            self.languages: list[str] = header["languages"]
        except (KeyError, TypeError, ValueError) as error:
            raise _corrupt(path, f"it is malformed ({error!r})") from error
        if self.ids.shape[0] != self.count or self._ints.shape[0] != self.count:
            raise _corrupt(path, "its columns disagree on the number of symbols")
        for column in _SHARED_COLUMNS:
            rows = sections[f"{column}.index"]
            if rows.shape[0] != self.count or (
                self.count and int(rows.max()) >= sections[f"{column}.offsets"].shape[0] - 1
            ):
                raise _corrupt(path, f"its {column} column points outside its values")
        if len(self._hashes) != self.count * _HASH_BYTES or len(self._name_at) != self.count:
            raise _corrupt(path, "its columns disagree on the number of symbols")

    def _section(self, base: int, entry: list[Any]) -> npt.NDArray[Any]:
        offset, dtype, count = int(entry[0]), np.dtype(str(entry[1])), int(entry[2])
        return np.frombuffer(self._map, dtype=dtype, count=count, offset=base + offset)

    def row_of(self, symbol_id: int) -> int:
        """The row of ``symbol_id`` in this snapshot, or -1 (a binary search, ~1 µs)."""
        row = bisect.bisect_left(self._id_view, symbol_id)
        if row < self.count and self._id_view[row] == symbol_id:
            return row
        return -1

    def record(self, row: int) -> SymbolRecord:
        first = row * _INT_COLUMNS
        kind, file_row, a, b, c, d, e, f, g, h = self._int_view[first : first + _INT_COLUMNS]
        path, language = self.files[file_row][0], self.languages[self.files[file_row][1]]
        name = self._names.value(row)
        template = self._signatures.value(self._signature_rows[row])
        at = self._name_at[row]
        return SymbolRecord(
            id=SymbolId(self._id_view[row]),
            name=name,
            kind=_KINDS[kind],
            container=self._containers.value(self._container_rows[row]),
            signature=template if at == _NAME_NOT_CUT else template[:at] + name + template[at:],
            range=Range(Position(a, b), Position(c, d)),
            selection_range=Range(Position(e, f), Position(g, h)),
            path=path,
            language=language,
            content_hash=self._hashes[row * _HASH_BYTES : (row + 1) * _HASH_BYTES].hex(),
        )

    def file_records(self) -> dict[str, FileRecord]:
        symbols = self._file_symbols.tolist()
        records = {}
        for path, language, size, mtime_ns, file_hash, start, count in self.files:
            records[path] = FileRecord(
                path,
                self.languages[language],
                int(size),
                int(mtime_ns),
                file_hash,
                # SymbolId is an int at run time: the slice needs no conversion per id.
                cast(list[SymbolId], symbols[start : start + count]),
            )
        return records

    @property
    def numbers(self) -> npt.NDArray[np.int32]:
        """The ``(count, 10)`` columns as int32: kind, file row, range, selection range."""
        return self._ints.astype(np.int32)

    def name_column(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[Any]]:
        """The names as stored: one UTF-8 blob and ``count + 1`` offsets into it."""
        return self._names.blob, self._names.offsets

    def shared_column(
        self, column: str
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[Any], npt.NDArray[Any]]:
        """A column of shared values as stored: distinct values (blob, offsets) and the
        row of each symbol's value among them."""
        values = self._shared[column]
        return values.blob, values.offsets, self.sections[f"{column}.index"]


class SymbolTable:
    """Symbols by id: a snapshot plus the changes made since (added and removed ids).

    Behaves as a read-only mapping from ``SymbolId`` to ``SymbolRecord``; records of
    the snapshot are decoded on each access (cheap, and nothing is held per symbol).
    """

    __slots__ = ("_added", "_base", "_removed")

    def __init__(
        self,
        base: CatalogSnapshot | None = None,
        added: dict[SymbolId, SymbolRecord] | None = None,
        removed: set[int] | None = None,
    ) -> None:
        self._base = base
        self._added: dict[SymbolId, SymbolRecord] = added if added is not None else {}
        self._removed: set[int] = removed if removed is not None else set()

    def _base_row(self, symbol_id: int) -> int:
        if self._base is None or symbol_id in self._removed:
            return -1
        return self._base.row_of(symbol_id)

    def get(self, symbol_id: SymbolId, default: SymbolRecord | None = None) -> SymbolRecord | None:
        record = self._added.get(symbol_id)
        if record is not None:
            return record
        row = self._base_row(int(symbol_id))
        return self._base.record(row) if row >= 0 and self._base is not None else default

    def __getitem__(self, symbol_id: SymbolId) -> SymbolRecord:
        record = self.get(symbol_id)
        if record is None:
            raise KeyError(symbol_id)
        return record

    def __contains__(self, symbol_id: object) -> bool:
        if not isinstance(symbol_id, int):
            return False
        return symbol_id in self._added or self._base_row(symbol_id) >= 0

    def __len__(self) -> int:
        base = self._base.count if self._base is not None else 0
        return base - len(self._removed) + len(self._added)

    def _live_base_rows(self) -> npt.NDArray[np.int64]:
        if self._base is None:
            return np.zeros(0, dtype=np.int64)
        if not self._removed:
            return np.arange(self._base.count, dtype=np.int64)
        gone = np.fromiter(self._removed, dtype=np.int64, count=len(self._removed))
        return np.flatnonzero(~np.isin(self._base.ids, gone)).astype(np.int64)

    def __iter__(self) -> Iterator[SymbolId]:
        base = self._base
        if base is not None:
            for row in self._live_base_rows().tolist():
                symbol_id = SymbolId(int(base.ids[row]))
                if symbol_id not in self._added:
                    yield symbol_id
        yield from self._added

    def values(self) -> Iterator[SymbolRecord]:
        for symbol_id in self:
            record = self.get(symbol_id)
            if record is not None:
                yield record

    def names(self) -> tuple[list[int], npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """Every live symbol's id and name, as a UTF-8 column: name ``i`` is
        ``blob[offsets[i]:offsets[i + 1]]``. The snapshot's own column is passed
        through when all its rows are live (a warm start: no copy, no string per
        name); otherwise the live rows are gathered in numpy, and the overlay's
        names are appended."""
        base = self._base
        ids: list[int] = []
        blobs: list[npt.NDArray[np.uint8]] = []
        starts: list[npt.NDArray[np.int64]] = []
        lengths: list[npt.NDArray[np.int64]] = []
        if base is not None:
            rows = self._live_base_rows()
            if self._added:
                keep = ~np.isin(base.ids[rows], np.fromiter(self._added, dtype=np.int64))
                rows = rows[keep]
            blob, stored_offsets = base.name_column()
            offsets = stored_offsets.astype(np.int64)
            ids = base.ids[rows].tolist()
            if rows.shape[0] == base.count and not self._added:
                return ids, blob, offsets
            blobs.append(blob)
            starts.append(offsets[rows])
            lengths.append(offsets[rows + 1] - offsets[rows])
        if self._added:
            ids.extend(int(i) for i in self._added)
            added = self._added.values()
            _append_encoded(
                [record.name.encode("utf-8", "surrogatepass") for record in added],
                blobs,
                starts,
                lengths,
            )
        if not blobs:
            return ids, np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
        blob, offsets = _gather(
            np.concatenate(blobs), np.concatenate(starts), np.concatenate(lengths)
        )
        return ids, blob, offsets

    def add(self, record: SymbolRecord) -> None:
        self._added[record.id] = record

    def discard(self, symbol_id: SymbolId) -> None:
        self._added.pop(symbol_id, None)
        if self._base is not None and self._base.row_of(int(symbol_id)) >= 0:
            self._removed.add(int(symbol_id))

    def copy(self) -> SymbolTable:
        """An independent table sharing the immutable snapshot (copies the overlay only)."""
        return SymbolTable(self._base, dict(self._added), set(self._removed))

    @property
    def overlay_size(self) -> int:
        """Records added or replaced plus ids removed since the snapshot (what memory holds)."""
        return len(self._added) + len(self._removed)

    def parts_for_save(
        self,
    ) -> tuple[CatalogSnapshot | None, npt.NDArray[np.int64], list[SymbolRecord]]:
        """What ``Catalog.save`` writes: the snapshot, the rows of it still live and not
        replaced, and the records added since (in no particular order)."""
        base = self._base
        rows = self._live_base_rows()
        if base is not None and self._added and rows.size:
            replaced = np.fromiter(self._added, dtype=np.int64, count=len(self._added))
            rows = rows[~np.isin(base.ids[rows], replaced)]
        return base, rows, list(self._added.values())


class Catalog:
    """The file and symbol tables: a memory-mapped snapshot plus in-memory changes.

    Not thread-safe by itself: the engine serialises writers and readers.
    """

    def __init__(self) -> None:
        self.files: dict[str, FileRecord] = {}
        self.symbols: SymbolTable = SymbolTable()
        self.next_id: int = 1
        self.generation: int = 0
        self.model_id: str = ""
        self._snapshot: CatalogSnapshot | None = None

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
            self.symbols.add(symbol)

    def remove_file(self, path: str) -> list[SymbolId]:
        """Forget a file; returns the ids of the symbols it had."""
        record = self.files.pop(path, None)
        if record is None:
            return []
        for symbol_id in record.symbol_ids:
            self.symbols.discard(symbol_id)
        return list(record.symbol_ids)

    # -- queries ---------------------------------------------------------

    def symbols_of(self, path: str) -> list[SymbolRecord]:
        record = self.files.get(path)
        if record is None:
            return []
        found = (self.symbols.get(i) for i in record.symbol_ids)
        return [symbol for symbol in found if symbol is not None]

    def __len__(self) -> int:
        return len(self.symbols)

    def __iter__(self) -> Iterator[SymbolRecord]:
        return self.symbols.values()

    def names(self) -> tuple[list[int], npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """(ids, UTF-8 blob, offsets) of every symbol's name: what the name index is built
        from (``NameIndex.add_utf8``; a few milliseconds per 100,000 symbols)."""
        return self.symbols.names()

    def copy_tables(self) -> Catalog:
        """A copy to ``save`` while this catalog keeps changing. Records are shared (symbol
        records are immutable; a file's record is copied); the snapshot is shared too.
        Costs a copy of the file table and of the changes since the snapshot."""
        copy = Catalog()
        copy.files = {path: replace(record) for path, record in self.files.items()}
        copy.symbols = self.symbols.copy()
        copy.next_id = self.next_id
        copy.generation = self.generation
        copy.model_id = self.model_id
        copy._snapshot = self._snapshot
        return copy

    # -- persistence -----------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write a snapshot atomically (temp file, fsync, rename, directory fsync).

        Rows of the previous snapshot are copied column by column with numpy, never
        decoded; only records changed since are encoded: ~0.2 s per 100,000 symbols.
        A crash at any point leaves the previous snapshot intact. This catalog keeps
        its own overlay.
        """
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(directory / CATALOG_FILE, self._encode())

    def _encode(self) -> bytes:
        languages: list[str] = []
        language_index: dict[str, int] = {}
        file_row: dict[str, int] = {}
        files_json: list[list[Any]] = []
        file_symbols: list[int] = []
        for row, file in enumerate(self.files.values()):
            if file.language not in language_index:
                language_index[file.language] = len(languages)
                languages.append(file.language)
            file_row[file.path] = row
            files_json.append(
                [
                    file.path,
                    language_index[file.language],
                    file.size,
                    file.mtime_ns,
                    file.file_hash,
                    len(file_symbols),
                    len(file.symbol_ids),
                ]
            )
            file_symbols.extend(int(i) for i in file.symbol_ids)
        sections = self._symbol_sections(file_row)
        sections["file_symbols"] = _narrow(np.asarray(file_symbols, dtype=np.int64), "<u4", "<i8")
        body = bytearray()
        layout: dict[str, list[Any]] = {}
        for name, array in sections.items():
            body.extend(b"\0" * (-len(body) % _ALIGN))
            layout[name] = [len(body), array.dtype.str, int(array.size)]
            body.extend(array.tobytes())
        header = {
            "generation": self.generation,
            "next_id": self.next_id,
            "model_id": self.model_id,
            "saved_at": datetime.now(UTC).isoformat(),
            "symbols": int(sections["ids"].size),
            "languages": languages,
            "files": files_json,
            "sections": layout,
        }
        header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
        header_bytes += b" " * (-(_PREFIX.size + len(header_bytes)) % _ALIGN)
        crc = zlib.crc32(body, zlib.crc32(header_bytes))
        prefix = _PREFIX.pack(_MAGIC, CATALOG_FORMAT_VERSION, len(header_bytes), len(body), crc)
        return prefix + header_bytes + bytes(body)

    def _symbol_sections(self, file_row: dict[str, int]) -> dict[str, npt.NDArray[Any]]:
        """The symbol columns, sorted by id: rows of the previous snapshot are copied
        column-wise with numpy (no record is decoded), added records encoded here."""
        snapshot, rows, added = self.symbols.parts_for_save()
        added = [record for record in added if record.path in file_row]
        id_parts: list[npt.NDArray[np.int64]] = []
        number_parts: list[npt.NDArray[np.int32]] = []
        if snapshot is not None and rows.size:
            # The file table is rebuilt: map each old file row to its new one (-1: gone,
            # and so are its symbols).
            new_row_of_old = np.asarray(
                [file_row.get(entry[0], -1) for entry in snapshot.files], dtype=np.int32
            )
            numbers = snapshot.numbers[rows]
            moved = new_row_of_old[numbers[:, 1]]
            kept = moved >= 0
            rows, numbers = rows[kept], numbers[kept]
            numbers[:, 1] = moved[kept]
            id_parts.append(snapshot.ids[rows])
            number_parts.append(numbers)
        id_parts.append(np.asarray([int(r.id) for r in added], dtype=np.int64))
        number_parts.append(
            np.asarray(
                [[int(r.kind), file_row[r.path], *_range_ints(r)] for r in added],
                dtype=np.int32,
            ).reshape(-1, _INT_COLUMNS)
        )
        ids = np.concatenate(id_parts)
        order = np.argsort(ids, kind="stable")
        old = snapshot if snapshot is not None and rows.size else None
        sections: dict[str, npt.NDArray[Any]] = {
            "ids": _narrow(ids[order], "<u4", "<i8"),
            "ints": _narrow(np.concatenate(number_parts)[order].reshape(-1), "<u2", "<i4"),
        }
        # Names: one UTF-8 blob, in id order.
        encoded = [r.name.encode("utf-8", "surrogatepass") for r in added]
        blobs: list[npt.NDArray[np.uint8]] = []
        starts: list[npt.NDArray[np.int64]] = []
        lengths: list[npt.NDArray[np.int64]] = []
        if old is not None:
            blob, offsets = old.name_column()
            blobs.append(blob)
            starts.append(offsets[rows].astype(np.int64))
            lengths.append((offsets[rows + 1] - offsets[rows]).astype(np.int64))
        _append_encoded(encoded, blobs, starts, lengths)
        blob, offsets = _gather(
            np.concatenate(blobs), np.concatenate(starts)[order], np.concatenate(lengths)[order]
        )
        sections["name.blob"], sections["name.offsets"] = blob, _narrow(offsets, "<u4", "<i8")
        # Containers and signature templates: each distinct value once.
        cut = [_cut_name(r.signature, r.name) for r in added]
        added_values = {
            "container": [r.container for r in added],
            "signature": [template for template, _ in cut],
        }
        for column in _SHARED_COLUMNS:
            stored = old.shared_column(column) if old is not None else None
            sections.update(_shared_sections(column, stored, rows, added_values[column], order))
        name_at = [np.asarray([at for _, at in cut], dtype=np.int64)]
        hashes = [_hash_bytes([r.content_hash for r in added])]
        if old is not None:
            name_at.insert(0, old.sections["signature.name_at"][rows].astype(np.int64))
            hashes.insert(0, old.sections["content_hash"].reshape(-1, _HASH_BYTES)[rows])
        sections["signature.name_at"] = np.concatenate(name_at)[order].astype("<u2")
        sections["content_hash"] = np.concatenate(hashes)[order].reshape(-1)
        return sections

    @staticmethod
    def saved_at(directory: Path) -> datetime | None:
        """When the last snapshot in ``directory`` was written (None if there is none)."""
        try:
            return datetime.fromtimestamp((directory / CATALOG_FILE).stat().st_mtime, UTC)
        except OSError:
            return None

    @staticmethod
    def stamp(directory: Path) -> tuple[int, int, int] | None:
        """(inode, size, mtime_ns) of the published snapshot: changes with every ``save``.
        One ``stat``; None when there is none."""
        try:
            info = (directory / CATALOG_FILE).stat()
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    @classmethod
    def load(cls, directory: Path) -> Catalog:
        """Map the last snapshot; an absent one gives an empty catalog.

        Raises ``IndexCorruptError`` for a damaged or truncated snapshot and
        ``IndexFormatError`` for one written by another format version. Costs a
        map, a checksum pass and one ``FileRecord`` per file, not one object per symbol.
        """
        catalog = cls()
        target = directory / CATALOG_FILE
        if not target.exists():
            if (directory / _LEGACY_FILE).exists():
                raise IndexFormatError(
                    f"The symbol catalog in {directory} has format 1; "
                    f"this Quiver reads format {CATALOG_FORMAT_VERSION}.",
                    "Run `quiver index --rebuild PATH`; the cache was written by an older version.",
                )
            return catalog
        snapshot = CatalogSnapshot(target)
        catalog._snapshot = snapshot
        catalog.generation = snapshot.generation
        catalog.next_id = snapshot.next_id
        catalog.model_id = snapshot.model_id
        catalog.files = snapshot.file_records()
        catalog.symbols = SymbolTable(snapshot)
        return catalog


def _range_ints(record: SymbolRecord) -> list[int]:
    r, s = record.range, record.selection_range
    return [
        r.start.line, r.start.character, r.end.line, r.end.character,
        s.start.line, s.start.character, s.end.line, s.end.character,
    ]  # fmt: skip


def _gather(
    blob: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The byte ranges ``blob[start : start + length]`` concatenated, and their offsets."""
    offsets = np.zeros(lengths.size + 1, dtype="<i8")
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint8), offsets
    # Position k of the output comes from its segment's start plus k's offset into it.
    positions = np.arange(total, dtype=np.int64) + np.repeat(starts - offsets[:-1], lengths)
    return blob[positions], offsets


def _int_view(array: npt.NDArray[Any]) -> memoryview[int]:
    """A memoryview of an integer array that indexes to Python ints (faster than numpy)."""
    item_format: Any = array.dtype.char  # "H", "I", "i", "q"...: what memoryview reads
    return array.data.cast("B").cast(item_format)


def _narrow(values: npt.NDArray[Any], narrow: str, wide: str) -> npt.NDArray[Any]:
    """``values`` as the ``narrow`` unsigned dtype when every value fits, else ``wide``."""
    limit = np.iinfo(np.dtype(narrow)).max
    if values.size == 0 or (int(values.min()) >= 0 and int(values.max()) <= limit):
        return values.astype(narrow)
    return values.astype(wide)


def _append_encoded(
    encoded: list[bytes],
    blobs: list[npt.NDArray[np.uint8]],
    starts: list[npt.NDArray[np.int64]],
    lengths: list[npt.NDArray[np.int64]],
) -> None:
    """Add byte strings to the (blobs, starts, lengths) parts that ``_gather`` reads."""
    base_size = sum(blob.size for blob in blobs)
    added_lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    added_starts = np.zeros(len(encoded), dtype=np.int64)
    if len(encoded) > 1:
        np.cumsum(added_lengths[:-1], out=added_starts[1:])
    blobs.append(np.frombuffer(b"".join(encoded), dtype=np.uint8))
    starts.append(base_size + added_starts)
    lengths.append(added_lengths)


def _shared_sections(
    column: str,
    stored: tuple[npt.NDArray[np.uint8], npt.NDArray[Any], npt.NDArray[Any]] | None,
    rows: npt.NDArray[np.int64],
    added: list[str],
    order: npt.NDArray[np.intp],
) -> dict[str, npt.NDArray[Any]]:
    """A shared-value column: the distinct values still used (the stored ones the kept
    ``rows`` use, in their stored order, then new ones) and each symbol's value row."""
    blobs: list[npt.NDArray[np.uint8]] = []
    starts: list[npt.NDArray[np.int64]] = []
    lengths: list[npt.NDArray[np.int64]] = []
    value_rows: list[npt.NDArray[np.int64]] = []
    known: dict[bytes, int] = {}
    stored_count = 0
    if stored is not None:
        blob, offsets, index = stored
        kept = index[rows].astype(np.int64)
        used = distinct(kept)
        used_starts = offsets[used].astype(np.int64)
        used_lengths = offsets[used + 1].astype(np.int64) - used_starts
        blobs.append(blob)
        starts.append(used_starts)
        lengths.append(used_lengths)
        value_rows.append(np.searchsorted(used, kept).astype(np.int64))
        stored_count = int(used.shape[0])
        if added:  # new values that equal a stored one reuse it
            raw = blob.tobytes()
            known = {
                raw[start : start + length]: row
                for row, (start, length) in enumerate(
                    zip(used_starts.tolist(), used_lengths.tolist(), strict=True)
                )
            }
    new_values: list[bytes] = []
    added_rows = np.empty(len(added), dtype=np.int64)
    for position, value in enumerate(added):
        encoded = value.encode("utf-8", "surrogatepass")
        row = known.get(encoded)
        if row is None:
            row = known[encoded] = stored_count + len(new_values)
            new_values.append(encoded)
        added_rows[position] = row
    value_rows.append(added_rows)
    _append_encoded(new_values, blobs, starts, lengths)
    values, offsets = _gather(
        np.concatenate(blobs), np.concatenate(starts), np.concatenate(lengths)
    )
    return {
        f"{column}.blob": values,
        f"{column}.offsets": _narrow(offsets, "<u4", "<i8"),
        f"{column}.index": np.concatenate(value_rows)[order].astype("<u4"),
    }


def _cut_name(signature: str, name: str) -> tuple[str, int]:
    """The signature with its first occurrence of the name cut out, and where it was
    (``_NAME_NOT_CUT`` when it does not occur): ``def (self)`` is shared by many."""
    at = signature.find(name) if name else -1
    if at < 0 or at >= _NAME_NOT_CUT:
        return signature, _NAME_NOT_CUT
    return signature[:at] + signature[at + len(name) :], at


def _hash_bytes(hashes: list[str]) -> npt.NDArray[np.uint8]:
    """128-bit hex digests as a ``(len(hashes), 16)`` byte matrix."""
    try:
        raw = b"".join(bytes.fromhex(digest) for digest in hashes)
    except ValueError as error:
        raise ValueError(f"a content hash is not hexadecimal: {error}") from None
    if len(raw) != len(hashes) * _HASH_BYTES:
        raise ValueError("content hashes must be 128-bit hex digests (32 hex digits)")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, _HASH_BYTES)


def _corrupt(path: Path, why: str) -> IndexCorruptError:
    return IndexCorruptError(f"The symbol catalog {path} is damaged: {why}.", _REBUILD)


def _file_size(fd: int) -> int:
    import os

    return os.fstat(fd).st_size
