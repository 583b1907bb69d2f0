"""Errors that name what went wrong and tell the user what to do about it.

Every error Quiver raises to a user ends with a ``Suggestion:`` line, so the
CLI, the LSP layer and the logs can show it as is.
"""

from __future__ import annotations


class QuiverError(Exception):
    """Base class: a message plus a suggestion of what the user should do."""

    def __init__(self, message: str, suggestion: str) -> None:
        self.message = message
        self.suggestion = suggestion
        super().__init__(f"{message}\nSuggestion: {suggestion}")


class InvalidQueryError(QuiverError):
    """The query cannot be searched (empty, too long, malformed)."""


class IndexFormatError(QuiverError):
    """The on-disk index was written by another format version."""


class IndexCorruptError(QuiverError):
    """An index file is truncated, fails its checksum, or is unreadable."""


class DimensionMismatchError(QuiverError):
    """Vectors of one dimension were offered to an index of another."""


class ModelMismatchError(QuiverError):
    """The index was built with another embedding model than the one loaded."""


class ModelUnavailableError(QuiverError):
    """The embedding model files are missing or cannot be loaded offline."""


class FileSkippedError(QuiverError):
    """A file that is deliberately not indexed (binary, too large, vanished...)."""


class IndexLockedError(QuiverError):
    """Another writer (in this process or another) holds the index's writer lock."""


class IndexWriteError(QuiverError):
    """The disk refused a write of the index (full, read-only, quota); the last
    published generation is intact."""


class CacheDirectoryError(QuiverError):
    """A workspace's cache directory cannot be created or used (a file is in its place, a
    parent is not a directory, no permission, no space)."""
