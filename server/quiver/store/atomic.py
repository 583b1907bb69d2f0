"""Crash-safe file writes: write under a temporary name, force to disk, then rename into place.

A reader therefore sees either no file or the whole file, never a prefix. The rename
is made durable by fsyncing the directory. Temporary names start with a dot and end
in ``.tmp`` so that garbage collection (``quiver.store.generations``) can recognise
what a crashed writer left behind.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from pathlib import Path
from types import TracebackType

from quiver.private_dirs import open_private_file, tighten_directory

#: Suffix of every temporary file a writer creates; such files are never published.
TEMP_SUFFIX = ".tmp"


def fsync_directory(directory: Path) -> None:
    """Force the directory entries (creations, renames, unlinks) of ``directory`` to disk.

    Cost: one ``fsync`` of a directory (typically well under a millisecond on a local SSD).
    """
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(path: Path) -> Path:
    """The temporary name under which ``path`` is written before it is renamed into place."""
    return path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")


def crc32_hex(value: int) -> str:
    """Format a CRC-32 the way manifests store checksums (``"crc32:0123abcd"``)."""
    return f"crc32:{value & 0xFFFFFFFF:08x}"


class AtomicFileWriter:
    """Streams a new file to a temporary name; ``commit()`` makes it appear whole under ``path``.

    Keeps a running CRC-32 and byte count of what was written, so large files get a
    checksum without being read back. The file is created 0600 and its directory made
    0700 (see ``quiver.private_dirs``). Used as a context manager, an exception before
    ``commit()`` removes the temporary file and leaves ``path`` untouched.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._temp = temp_path_for(path)
        # The index holds code: its files are 0600 in 0700 directories, whatever the
        # umask (a directory another module created 0755 is tightened here).
        tighten_directory(path.parent)
        # O_EXCL would fail on a temp file left by a crashed process with our pid;
        # O_TRUNC replaces it (and open_private_file resets its mode).
        self._file = os.fdopen(
            open_private_file(self._temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb"
        )
        self._crc = 0
        self._size = 0
        self._done = False

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._size

    @property
    def crc32(self) -> int:
        """CRC-32 of the bytes written so far."""
        return self._crc

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the temporary file (buffered; no fsync)."""
        view = memoryview(data)
        if view.nbytes == 0:  # casting a view with a zero in its shape is an error
            return
        view = view.cast("B")
        self._file.write(view)
        self._crc = zlib.crc32(view, self._crc)
        self._size += len(view)

    def commit(self, *, sync_directory: bool = True) -> None:
        """fsync the file, rename it to ``path`` and (unless told not to) fsync the directory.

        Pass ``sync_directory=False`` when several files are published together and the
        caller fsyncs the directory once afterwards.
        """
        if self._done:
            raise RuntimeError(f"{self.path} was already committed or aborted")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._temp.replace(self.path)
        self._done = True
        if sync_directory:
            fsync_directory(self.path.parent)

    def abort(self) -> None:
        """Discard the temporary file; ``path`` is left as it was."""
        if self._done:
            return
        self._done = True
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()

    def __enter__(self) -> AtomicFileWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None or not self._done:
            self.abort()


def atomic_write_bytes(path: Path, data: bytes, *, sync_directory: bool = True) -> int:
    """Replace ``path`` with ``data`` atomically and durably; returns the CRC-32 of ``data``.

    Cost: one write, one file fsync, one rename and (by default) one directory fsync.
    """
    with AtomicFileWriter(path) as writer:
        writer.write(data)
        writer.commit(sync_directory=sync_directory)
        return writer.crc32


def file_crc32(path: Path, *, length: int | None = None, chunk_size: int = 1 << 22) -> int:
    """CRC-32 of the first ``length`` bytes of ``path`` (the whole file if ``None``).

    Cost: reads those bytes once (about 4 GB/s from the page cache on this kind of machine).
    Raises ``OSError`` if the file cannot be read and ``EOFError`` if it is shorter than ``length``.
    """
    crc = 0
    remaining = length
    with path.open("rb") as handle:
        while remaining is None or remaining > 0:
            want = chunk_size if remaining is None else min(chunk_size, remaining)
            chunk = handle.read(want)
            if not chunk:
                if remaining is not None:
                    raise EOFError(f"{path} ends {remaining} bytes early")
                break
            crc = zlib.crc32(chunk, crc)
            if remaining is not None:
                remaining -= len(chunk)
    return crc
