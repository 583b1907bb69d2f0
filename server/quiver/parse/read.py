"""Reading a source file safely: the bytes, or a one-line reason why it is skipped."""

from __future__ import annotations

import os
import stat as stat_module
from pathlib import Path

from quiver.errors import FileSkippedError

#: Default size limit for one source file (1 MiB).
DEFAULT_MAX_FILE_SIZE = 1 << 20

# Like git, a NUL byte near the start marks a file as binary.
_BINARY_SNIFF_BYTES = 8192
_UTF8_BOM = b"\xef\xbb\xbf"

# O_NONBLOCK: opening a FIFO must not wait for a writer (nor a device for its driver).
# Reads of a regular file ignore it.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class SourceSkippedError(FileSkippedError):
    """A source file that is not indexed; ``reason`` is one line without the path."""

    def __init__(self, path: Path | str, reason: str, suggestion: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"Skipped {path}: {reason}", suggestion)


def read_source(path: Path, *, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> bytes:
    """The file's bytes as UTF-8 text (a leading byte-order mark removed).

    Costs one ``open``/``fstat``/``read`` of at most ``max_file_size + 1``
    bytes and one UTF-8 validation pass; never blocks (see
    :func:`read_regular_file`). Raises :class:`SourceSkippedError` (a
    :class:`~quiver.errors.FileSkippedError`) when the file vanished, is a
    directory or anything else but a regular file (a FIFO, a device), cannot
    be read, is larger than ``max_file_size``, looks binary (a NUL byte in its
    first 8 KiB) or is not valid UTF-8.
    """
    try:
        data = read_regular_file(path, max_file_size)
    except FileTooLargeError as error:
        raise _too_large(path, error.size, max_file_size) from None
    except NotRegularFileError as error:
        if error.is_directory:
            raise SourceSkippedError(
                path,
                "is a directory, not a file",
                "rename the directory if it should not look like a source file",
            ) from None
        raise SourceSkippedError(
            path,
            "not a regular file",
            "nothing to do; only regular files are indexed (not FIFOs, sockets or devices)",
        ) from None
    except FileNotFoundError:
        raise SourceSkippedError(
            path,
            "file vanished before it could be read",
            "nothing to do; it is indexed again if it reappears",
        ) from None
    except PermissionError:
        raise SourceSkippedError(
            path,
            "permission denied",
            f"make it readable (chmod u+r {path}) or add it to .quiverignore",
        ) from None
    except OSError as error:
        raise SourceSkippedError(
            path,
            f"cannot be read ({error.strerror or error})",
            "check the file system, or add the file to .quiverignore",
        ) from None
    if b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        raise SourceSkippedError(
            path,
            "binary file (NUL byte in the first 8 KiB)",
            "add it to .quiverignore if it should not be considered at all",
        )
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceSkippedError(
                path,
                f"not valid UTF-8 (byte {error.start})",
                "convert the file to UTF-8, or add it to .quiverignore",
            ) from None
        if data.startswith(_UTF8_BOM):
            # Editors do not count the BOM as a character, so neither do positions.
            data = data[len(_UTF8_BOM) :]
    return data


class NotRegularFileError(Exception):
    """The path is not a regular file (a directory, a FIFO, a socket, a device)."""

    def __init__(self, path: Path, mode: int) -> None:
        self.is_directory = stat_module.S_ISDIR(mode)
        super().__init__(f"{path} is not a regular file")


class FileTooLargeError(Exception):
    """The file holds more than the limit; ``size`` is what was seen (at least limit + 1)."""

    def __init__(self, path: Path, size: int) -> None:
        self.size = size
        super().__init__(f"{path} is too large ({size:,} bytes)")


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` (a link is followed) if it is a regular file of at most ``limit``
    bytes.

    Never blocks: the file is opened with ``O_NONBLOCK``, so a FIFO or a device
    (a link to ``/dev/zero``) is refused instead of waited on or read forever,
    and the checks are made on the open descriptor, so a FIFO swapped in after
    a caller's ``stat`` is refused too. Costs one ``open``, one ``fstat`` and a
    read of at most ``limit + 1`` bytes (a file that grows while it is read is
    caught as well). Raises :class:`NotRegularFileError`,
    :class:`FileTooLargeError`, or the ``OSError`` of ``open``/``read``.
    """
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        status = os.fstat(descriptor)
        if not stat_module.S_ISREG(status.st_mode):
            raise NotRegularFileError(path, status.st_mode)
        if status.st_size > limit:
            raise FileTooLargeError(path, status.st_size)
        chunks: list[bytes] = []
        wanted = limit + 1
        while wanted > 0:
            chunk = os.read(descriptor, wanted)
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:  # grew while we were reading
        raise FileTooLargeError(path, len(data))
    return data


def _too_large(path: Path, size: int, limit: int) -> SourceSkippedError:
    return SourceSkippedError(
        path,
        f"too large ({size:,} bytes, limit {limit:,})",
        "raise the limit (maxFileSize / --max-file-size) if this file should be indexed",
    )
