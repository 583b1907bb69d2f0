"""Immutable array files: a 64-byte self-describing header, then the raw C-order payload.

Written once (through ``AtomicFileWriter``), then only ever memory-mapped read-only,
so opening a 1.5 GB vectors file costs a ``stat``, an ``mmap`` and a header check,
not a read. The payload starts at byte 64, so rows of 384 float32 stay 64-byte aligned
inside the page-aligned mapping.

Header layout (little-endian): magic ``b"QVRARRAY"``, layout version (u32), dtype
string (8 bytes, e.g. ``b"<f4"``), ndim (u32), three dimensions (u64 each, unused
ones 0), CRC-32 of the preceding header bytes (u32), zero padding to 64 bytes.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from quiver.errors import IndexCorruptError
from quiver.store.atomic import AtomicFileWriter, crc32_hex, file_crc32
from quiver.store.manifest import FileEntry

MAGIC = b"QVRARRAY"
LAYOUT_VERSION = 1
HEADER_SIZE = 64
_HEADER = struct.Struct("<8sI8sI3Q")  # 52 bytes, followed by the header CRC (u32) and padding
_HEADER_CRC = struct.Struct("<I")
_ALLOWED_DTYPES = frozenset({"<f4", "<i8", "<i4", "|i1", "|u1", "<u4", "<u8", "<f8"})
#: Files up to this size have their full checksum verified every time they are opened.
#: Larger files (the vectors) get size and header checks only; ``verify_file`` checks them fully.
OPEN_VERIFY_MAX_BYTES = 8 << 20


def _dtype_code(dtype: np.dtype[Any]) -> str:
    code = dtype.newbyteorder("<").str if dtype.byteorder not in {"|", "<", "="} else dtype.str
    if code not in _ALLOWED_DTYPES:
        raise TypeError(f"array files do not store dtype {dtype}")
    return code


def encode_header(dtype: np.dtype[Any], shape: Sequence[int]) -> bytes:
    """The 64-byte header describing an array of ``dtype`` and ``shape`` (1 to 3 dimensions)."""
    if not 1 <= len(shape) <= 3 or any(size < 0 for size in shape):
        raise ValueError(f"array files store 1 to 3 non-negative dimensions, not {tuple(shape)}")
    dims = [*shape, *([0] * (3 - len(shape)))]
    body = _HEADER.pack(
        MAGIC, LAYOUT_VERSION, _dtype_code(dtype).encode("ascii"), len(shape), *dims
    )
    header = body + _HEADER_CRC.pack(zlib.crc32(body))
    return header.ljust(HEADER_SIZE, b"\0")


def decode_header(
    header: bytes | memoryview, *, where: Path
) -> tuple[np.dtype[Any], tuple[int, ...]]:
    """Parse a header written by ``encode_header``; raises ``IndexCorruptError`` if not one."""
    corrupt = IndexCorruptError(
        f"{where} is not a valid Quiver array file (bad or damaged header).",
        "Delete the index directory and re-index with `quiver index --rebuild`.",
    )
    if len(header) < HEADER_SIZE:
        raise corrupt
    body = bytes(header[: _HEADER.size])
    (stored_crc,) = _HEADER_CRC.unpack_from(header, _HEADER.size)
    if zlib.crc32(body) != stored_crc:
        raise corrupt
    magic, version, dtype_raw, ndim, *dims = _HEADER.unpack(body)
    code = dtype_raw.rstrip(b"\0").decode("ascii", errors="replace")
    if (
        magic != MAGIC
        or version != LAYOUT_VERSION
        or code not in _ALLOWED_DTYPES
        or not 1 <= ndim <= 3
    ):
        raise corrupt
    return np.dtype(code), tuple(int(size) for size in dims[:ndim])


def _payload_size(dtype: np.dtype[Any], shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


class ArrayFileWriter:
    """Writes one array file in pieces (rows in order), for arrays too large to hold twice.

    The shape is declared up front; ``finish()`` checks that exactly that many bytes
    arrived, fsyncs and renames the file into place, and returns its ``FileEntry``.
    """

    def __init__(self, path: Path, dtype: npt.DTypeLike, shape: Sequence[int]) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(size) for size in shape)
        self._expected = HEADER_SIZE + _payload_size(self.dtype, self.shape)
        self._writer = AtomicFileWriter(path)
        self._writer.write(encode_header(self.dtype, self.shape))

    def write(self, rows: npt.NDArray[Any]) -> None:
        """Append ``rows`` (any shape whose trailing dimensions match) in C order."""
        block = np.ascontiguousarray(rows, dtype=self.dtype)
        if self._writer.size + block.nbytes > self._expected:
            self._writer.abort()
            raise ValueError(f"{self.path}: more data than the declared shape {self.shape}")
        self._writer.write(block.data)

    def finish(self, *, sync_directory: bool = False) -> FileEntry:
        """Publish the file under its name; returns its name, size and CRC-32."""
        if self._writer.size != self._expected:
            self._writer.abort()
            raise ValueError(
                f"{self.path}: wrote {self._writer.size} bytes, "
                f"the shape {self.shape} needs {self._expected}"
            )
        self._writer.commit(sync_directory=sync_directory)
        return FileEntry(self.path.name, self._writer.size, crc32_hex(self._writer.crc32))

    def abort(self) -> None:
        """Discard the partly written file."""
        self._writer.abort()


def write_array(path: Path, array: npt.NDArray[Any], *, sync_directory: bool = False) -> FileEntry:
    """Write ``array`` as an immutable array file at ``path``; returns its ``FileEntry``.

    Cost: one sequential write of the array plus one fsync (no directory fsync unless
    asked: the manifest publication fsyncs the directory for all files at once).
    """
    writer = ArrayFileWriter(path, array.dtype, array.shape)
    try:
        writer.write(array)
    except BaseException:
        writer.abort()
        raise
    return writer.finish(sync_directory=sync_directory)


def map_array(
    path: Path,
    entry: FileEntry | None = None,
    *,
    verify: bool | None = None,
    random_access: bool = False,
) -> npt.NDArray[Any]:
    """Memory-map an array file read-only and return it as a (read-only) ndarray.

    Checks: the file's size equals ``entry.size`` (catches truncation), the header is
    intact and agrees with the size. The full CRC-32 is compared with ``entry.checksum``
    when ``verify`` is true, or, when ``verify`` is ``None``, for files no larger than
    ``OPEN_VERIFY_MAX_BYTES``. Raises ``IndexCorruptError`` on any failure and
    ``FileNotFoundError`` if the file is gone (a newer generation may have replaced it).
    ``random_access`` advises the kernel that rows are read one by one (``MADV_RANDOM``:
    no read-ahead or fault-around), so touching a row maps its page, not the 64 KiB
    around it. Cost: a ``stat`` and an ``mmap``; pages are read only when touched.
    """
    with path.open("rb") as handle:
        size = _file_size(handle.fileno())
        if entry is not None and size != entry.size:
            raise IndexCorruptError(
                f"{path} is {size} bytes but the manifest recorded {entry.size} "
                "(truncated or overwritten).",
                "Delete the index directory and re-index with `quiver index --rebuild`.",
            )
        if size < HEADER_SIZE:
            raise IndexCorruptError(
                f"{path} is too short ({size} bytes) to be a Quiver array file.",
                "Delete the index directory and re-index with `quiver index --rebuild`.",
            )
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if random_access and hasattr(mmap, "MADV_RANDOM"):
        mapping.madvise(mmap.MADV_RANDOM)
    dtype, shape = decode_header(memoryview(mapping)[:HEADER_SIZE], where=path)
    if HEADER_SIZE + _payload_size(dtype, shape) != size:
        raise IndexCorruptError(
            f"{path} holds {size} bytes but its header describes {shape} {dtype} (truncated?).",
            "Delete the index directory and re-index with `quiver index --rebuild`.",
        )
    if entry is not None and (verify or (verify is None and size <= OPEN_VERIFY_MAX_BYTES)):
        _check_crc(path, zlib.crc32(mapping), entry)
    count = int(np.prod(shape, dtype=np.int64))
    array = np.frombuffer(mapping, dtype=dtype, count=count, offset=HEADER_SIZE)
    return array.reshape(shape)


def _file_size(fd: int) -> int:
    return os.fstat(fd).st_size


def _check_crc(path: Path, actual: int, entry: FileEntry) -> None:
    if crc32_hex(actual) != entry.checksum:
        raise IndexCorruptError(
            f"{path} fails its checksum (expected {entry.checksum}, found {crc32_hex(actual)}).",
            "Delete the index directory and re-index with `quiver index --rebuild`.",
        )


def verify_file(path: Path, entry: FileEntry, *, prefix: bool = False) -> None:
    """Check a published file's size and CRC-32 against its manifest entry.

    With ``prefix`` (an append-only file such as a change log) the file may be longer
    than the entry: only its first ``entry.size`` bytes are checked. Raises
    ``IndexCorruptError`` on a mismatch or a missing file. Cost: reads those bytes.
    """
    try:
        size = path.stat().st_size
        if size < entry.size or (size != entry.size and not prefix):
            raise IndexCorruptError(
                f"{path} is {size} bytes but the manifest recorded {entry.size}.",
                "Delete the index directory and re-index with `quiver index --rebuild`.",
            )
        actual = file_crc32(path, length=entry.size)
    except (OSError, EOFError) as error:
        raise IndexCorruptError(
            f"Cannot read {path}: {error}.",
            "Delete the index directory and re-index with `quiver index --rebuild`.",
        ) from error
    _check_crc(path, actual, entry)
