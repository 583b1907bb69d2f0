"""Reading a source file safely: the bytes, or a one-line reason why it is skipped."""

from __future__ import annotations

import os
from pathlib import Path

from quiver.errors import FileSkippedError

#: Default size limit for one source file (1 MiB).
DEFAULT_MAX_FILE_SIZE = 1 << 20

# Like git, a NUL byte near the start marks a file as binary.
_BINARY_SNIFF_BYTES = 8192
_UTF8_BOM = b"\xef\xbb\xbf"


class SourceSkippedError(FileSkippedError):
    """A source file that is not indexed; ``reason`` is one line without the path."""

    def __init__(self, path: Path | str, reason: str, suggestion: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"Skipped {path}: {reason}", suggestion)


def read_source(path: Path, *, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> bytes:
    """The file's bytes as UTF-8 text (a leading byte-order mark removed).

    Costs one ``open``/``fstat``/``read`` of at most ``max_file_size + 1``
    bytes and one UTF-8 validation pass. Raises :class:`SourceSkippedError`
    (a :class:`~quiver.errors.FileSkippedError`) when the file vanished, is a
    directory, cannot be read, is larger than ``max_file_size``, looks binary
    (a NUL byte in its first 8 KiB) or is not valid UTF-8.
    """
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_file_size:
                raise _too_large(path, size, max_file_size)
            data = handle.read(max_file_size + 1)
    except FileNotFoundError:
        raise SourceSkippedError(
            path,
            "file vanished before it could be read",
            "nothing to do; it is indexed again if it reappears",
        ) from None
    except IsADirectoryError:
        raise SourceSkippedError(
            path,
            "is a directory, not a file",
            "rename the directory if it should not look like a source file",
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
    if len(data) > max_file_size:  # grew while we were reading
        raise _too_large(path, len(data), max_file_size)
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


def _too_large(path: Path, size: int, limit: int) -> SourceSkippedError:
    return SourceSkippedError(
        path,
        f"too large ({size:,} bytes, limit {limit:,})",
        "raise the limit (maxFileSize / --max-file-size) if this file should be indexed",
    )
