"""An append-only change log: small updates without rewriting (or msync-ing) large files.

Each record is a frame ``[payload length: u32][CRC-32 of payload: u32][payload]``
after a 16-byte file header. The writer appends frames and, to publish them, fsyncs
the log and then a manifest that records the log's *committed length* and the CRC-32
of that prefix. Bytes beyond the committed length belong to no generation: readers
never look at them and the next writer truncates them away. So the log is
append-only with respect to everything published, and a crash mid-append (a torn
tail) is harmless. Without a committed length (``length=None``) a scan stops at the
first frame whose length or checksum does not hold, and reports it as a torn tail.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from quiver.errors import IndexCorruptError
from quiver.private_dirs import open_private_file
from quiver.store.atomic import crc32_hex
from quiver.store.manifest import FileEntry

LOG_MAGIC = b"QVRCHLOG"
LOG_VERSION = 1
_LOG_HEADER = struct.Struct("<8sII")  # magic, version, reserved
LOG_HEADER_SIZE = _LOG_HEADER.size
_FRAME = struct.Struct("<II")
#: Frames larger than this are refused on write and treated as damage on read.
MAX_FRAME_PAYLOAD = (1 << 31) - 1


def log_header() -> bytes:
    """The 16 bytes every change log starts with."""
    return _LOG_HEADER.pack(LOG_MAGIC, LOG_VERSION, 0)


def _corrupt(path: Path, what: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"The change log {path} is damaged: {what}.",
        "Delete the index directory and re-index with `quiver index --rebuild`.",
    )


@dataclass(frozen=True, slots=True)
class LogScan:
    """The intact records found in a stretch of a change log.

    ``end`` is the offset just past the last intact frame; ``torn`` is true when bytes
    after it did not form an intact frame (a crash mid-append).
    """

    payloads: list[memoryview]
    end: int
    torn: bool


def scan_frames(data: bytes | memoryview, *, base_offset: int = 0) -> LogScan:
    """Split ``data`` (a run of whole frames, as read from offset ``base_offset``) into payloads.

    Stops at the first frame that is cut short or fails its CRC. Cost: one CRC-32 pass
    over the data; payloads are zero-copy views into ``data``.
    """
    view = memoryview(data).cast("B")
    payloads: list[memoryview] = []
    position = 0
    while position < len(view):
        if len(view) - position < _FRAME.size:
            return LogScan(payloads, base_offset + position, torn=True)
        length, crc = _FRAME.unpack_from(view, position)
        start = position + _FRAME.size
        stop = start + length
        if length > MAX_FRAME_PAYLOAD or stop > len(view):
            return LogScan(payloads, base_offset + position, torn=True)
        payload = view[start:stop]
        if zlib.crc32(payload) != crc:
            return LogScan(payloads, base_offset + position, torn=True)
        payloads.append(payload)
        position = stop
    return LogScan(payloads, base_offset + position, torn=False)


def read_change_log(
    path: Path, *, start: int = 0, length: int | None = None, prefix_crc: int = 0
) -> tuple[LogScan, int]:
    """Read the records of ``path`` between ``start`` and ``length`` (the committed length).

    With ``start == 0`` the file header is checked and skipped. Returns the scan and the
    CRC-32 of bytes ``0..length``, computed from ``prefix_crc`` (the CRC of bytes
    ``0..start`` the caller already verified) and the bytes read, so it can be compared
    with the manifest's checksum. With a committed ``length``, a file shorter than it or
    a damaged frame inside it raises ``IndexCorruptError``; without one, a torn tail is
    reported in the scan. Cost: reads ``length - start`` bytes.
    """
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read() if length is None else handle.read(length - start)
    if length is not None and len(data) != length - start:
        raise _corrupt(
            path, f"it is shorter ({start + len(data)} bytes) than the committed {length}"
        )
    body_offset = start
    if start == 0:
        if len(data) < LOG_HEADER_SIZE:
            raise _corrupt(path, "the header is missing")
        magic, version, _reserved = _LOG_HEADER.unpack_from(data, 0)
        if magic != LOG_MAGIC or version != LOG_VERSION:
            raise _corrupt(path, "the header is not a Quiver change log header")
        body_offset = LOG_HEADER_SIZE
    body = memoryview(data)[body_offset - start :]
    scan = scan_frames(body, base_offset=body_offset)
    if length is not None and scan.torn:
        raise _corrupt(path, f"the record at byte {scan.end} is cut short or fails its checksum")
    return scan, zlib.crc32(data, prefix_crc)


class ChangeLogWriter:
    """Appends framed records to a change log; ``sync()`` makes them durable and says how far.

    Appends are buffered in the process until ``sync()``; nothing is visible to readers
    until a manifest records the length that ``sync()`` returned.
    """

    def __init__(self, path: Path, *, length: int, crc: int) -> None:
        self.path = path
        self._file = path.open("r+b")
        self._file.seek(length)
        self._length = length
        self._crc = crc

    @classmethod
    def create(cls, path: Path) -> ChangeLogWriter:
        """Start a new, empty log at ``path`` (replacing any unpublished file of that name).

        The file is created 0600: it holds indexed data.
        """
        header = log_header()
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with os.fdopen(open_private_file(path, flags), "wb") as handle:
            handle.write(header)
        return cls(path, length=len(header), crc=zlib.crc32(header))

    @classmethod
    def reopen(cls, path: Path, committed: FileEntry) -> ChangeLogWriter:
        """Continue a published log: verify its committed prefix, cut off any uncommitted tail.

        The tail beyond ``committed.size`` was written by a writer that crashed before
        publishing it, so no reader has seen it. Raises ``IndexCorruptError`` if the
        committed prefix is short or fails its checksum. Cost: reads the committed prefix.
        """
        scan, crc = read_change_log(path, length=committed.size)
        del scan
        if crc32_hex(crc) != committed.checksum:
            raise _corrupt(path, "its committed part fails the manifest's checksum")
        with path.open("r+b") as handle:
            handle.truncate(committed.size)
        return cls(path, length=committed.size, crc=crc)

    @property
    def length(self) -> int:
        """Bytes in the log including unsynced appends."""
        return self._length

    def append(self, payload: bytes | bytearray | memoryview) -> None:
        """Add one record (buffered; call ``sync()`` to make it durable)."""
        view = memoryview(payload).cast("B")
        if len(view) > MAX_FRAME_PAYLOAD:
            raise ValueError(f"a change-log record holds at most {MAX_FRAME_PAYLOAD} bytes")
        frame = _FRAME.pack(len(view), zlib.crc32(view))
        self._file.write(frame)
        self._file.write(view)
        self._crc = zlib.crc32(view, zlib.crc32(frame, self._crc))
        self._length += len(frame) + len(view)

    def sync(self) -> FileEntry:
        """Flush and fdatasync; returns the entry (name, length, CRC of the prefix) to publish."""
        self._file.flush()
        os.fdatasync(self._file.fileno())
        return FileEntry(self.path.name, self._length, crc32_hex(self._crc))

    def close(self) -> None:
        """Close the file; appends no manifest published stay invisible and are cut off later."""
        self._file.close()
