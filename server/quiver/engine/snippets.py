"""The few lines of source shown under each search result, read from disk as it is now.

A snippet is read at answer time, not stored: the index keeps no bodies, so a
result always shows the file as it is on disk. A ``SnippetReader`` lives for
one answer and reads each file at most once; an unreadable file gives an empty
snippet, never an error. Files are read by the index's own safe reader: a FIFO or
device swapped in for an indexed file is never waited on, a file grown past the
size limit is not read, and a link (which the index never follows) shows nothing
of its target, so a search never blocks and never shows code from outside the
workspace, whatever happened on disk since the file was indexed.
"""

from __future__ import annotations

from pathlib import Path

from quiver.parse.read import (
    DEFAULT_MAX_FILE_SIZE,
    FileTooLargeError,
    NotRegularFileError,
    read_regular_file,
)
from quiver.symbols import Range


class SnippetReader:
    """Reads snippets for one answer: each file is read once, lines are found in C.

    Costs one ``lstat``, ``open``, ``fstat`` and read per distinct file (files are at
    most ``max_file_size``) and a ``bytes.split`` that stops at the last line needed.
    """

    def __init__(self, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        self._max_file_size = max_file_size
        self._files: dict[Path, bytes | None] = {}

    def snippet(self, path: Path, span: Range, *, max_lines: int = 4, max_chars: int = 320) -> str:
        """The first lines of a symbol's body as it is on disk now (empty if unreadable)."""
        if path not in self._files:
            self._files[path] = self._read(path)
        data = self._files[path]
        if data is None:
            return ""
        last = min(span.end.line, span.start.line + max_lines)
        raw = data.split(b"\n", last + 1)[span.start.line : last + 1]
        lines = [line.decode("utf-8", "replace").rstrip("\r") for line in raw]
        body = lines[1:] if len(lines) > 1 else lines
        indent = min((len(x) - len(x.lstrip()) for x in body if x.strip()), default=0)
        return "\n".join(x[indent:] for x in body[:max_lines])[:max_chars]

    def _read(self, path: Path) -> bytes | None:
        try:
            if path.is_symlink():
                return None
            return read_regular_file(path, self._max_file_size)
        except (OSError, NotRegularFileError, FileTooLargeError):
            return None
