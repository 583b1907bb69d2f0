"""The text index's directory: opening it, taking the writer lock, following commits.

``open_directory`` opens one directory as Tantivy's ``Index``, and for a writer
also its ``IndexWriter``. A new directory is created private (0700: Tantivy
writes its files with the process umask) with our format file,
``quiver-text.json``; an existing one must carry our format version and
Tantivy's schema must match ours, else the open fails with an error that says
to rebuild. Taking the writer is taking Tantivy's OS file lock
(``.tantivy-writer.lock``, ``flock``, released when the process dies), then
deleting what an interrupted writer left behind. Readers follow commits only
when asked: ``meta_signature`` tells, for one ``stat``, whether ``meta.json``
changed, and ``load_latest`` loads the newest commit, retrying while a writer
in another process cleans up merged segments.

Every failure is a :class:`quiver.errors.QuiverError` with a ``Suggestion:``;
``read_failed`` and ``write_failed`` build the ones for a failed read or write
of an open index.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Final

import tantivy

from quiver.errors import IndexCorruptError, IndexFormatError, IndexLockedError, IndexWriteError
from quiver.private_dirs import make_private_directory, open_private_file, tighten_directory
from quiver.text import schema as fields

log = logging.getLogger(__name__)

#: Our own marker file in the index directory.
FORMAT_FILE: Final = "quiver-text.json"
_META_FILE: Final = "meta.json"
# Files Tantivy or we may leave in a directory before its first meta.json.
_FRESH_DIRECTORY_FILES: Final = frozenset(
    {FORMAT_FILE, ".tantivy-writer.lock", ".tantivy-meta.lock", ".managed.json"}
)
#: Writer memory budget. Tantivy's floor is 15 MB per indexing thread; one
#: thread is enough because building documents in Python is the bottleneck.
DEFAULT_WRITER_HEAP_BYTES: Final = 64_000_000
DEFAULT_WRITER_THREADS: Final = 1

#: What a signature of ``meta.json`` is: (inode, mtime in ns, size), None when absent.
MetaSignature = tuple[int, int, int] | None


def open_directory(
    directory: Path, *, writable: bool, writer_heap_bytes: int, writer_threads: int
) -> tuple[tantivy.Index, tantivy.IndexWriter | None]:
    """The index in ``directory``, and its writer when ``writable`` (see ``DocumentIndex.open``).

    A writable open creates the index when absent. Costs a few milliseconds:
    reads ``meta.json`` and maps the segments. Raises :class:`IndexLockedError`,
    :class:`IndexFormatError` or :class:`IndexCorruptError`.
    """
    meta = directory / _META_FILE
    if not meta.exists():
        if not writable:
            raise IndexCorruptError(
                f"There is no text index in {directory} (no {_META_FILE}).",
                "Run `quiver index` on the workspace to build it.",
            )
        _prepare_new_directory(directory)
    else:
        _check_format_file(directory)
        if writable:  # an index an older version left open to others
            tighten_directory(directory)
    try:
        index = tantivy.Index(fields.build_schema(), path=str(directory), reuse=True)
    except ValueError as error:
        raise _open_error(directory, error) from error
    writer = None
    if writable:
        writer = _take_writer(directory, index, writer_heap_bytes, writer_threads)
    # Readers follow commits only when asked (reload), never on a timer:
    # a search then always sees the snapshot the caller expects.
    index.config_reader(reload_policy="manual")
    try:
        index.reload()
        index.searcher()
    except ValueError as error:
        writer = None  # drop it: releases the lock before we raise
        raise _open_error(directory, error) from error
    return index, writer


def meta_signature(directory: Path) -> MetaSignature:
    """A value that changes at every commit in ``directory``; costs one ``stat``."""
    # An atomic rename gives meta.json a new inode, so (inode, mtime, size)
    # changes at every commit even within one mtime tick.
    with contextlib.suppress(OSError):
        status = (directory / _META_FILE).stat()
        return (status.st_ino, status.st_mtime_ns, status.st_size)
    return None


def load_latest(index: tantivy.Index, directory: Path) -> tantivy.Searcher:
    """A searcher of the newest commit in ``directory`` (about 0.2 ms).

    A reader in another process can race the writer's clean-up of merged
    segments; that is retried a few times, then raises :class:`IndexCorruptError`.
    """
    last_error: ValueError | None = None
    for attempt in range(4):
        try:
            index.reload()
            return index.searcher()
        except ValueError as error:
            last_error = error
            time.sleep(0.005 * (attempt + 1))
    raise IndexCorruptError(
        f"Could not load the latest commit of the text index in {directory}: {last_error}.",
        "Searches keep using the previous state; if this persists, rebuild the index "
        "with `quiver index --rebuild`.",
    )


def read_failed(directory: Path, error: ValueError) -> IndexCorruptError:
    """The error for a Tantivy read of the open index in ``directory`` that failed."""
    return IndexCorruptError(
        f"The text index in {directory} could not be read: {error}.",
        "Rebuild it with `quiver index --rebuild`.",
    )


def write_failed(directory: Path, error: ValueError) -> IndexWriteError:
    """The error for a Tantivy write to the open index in ``directory`` that failed."""
    return IndexWriteError(
        f"Could not write the text index in {directory}: {error}.",
        "Check free disk space and permissions; the last committed state is intact.",
    )


def _prepare_new_directory(directory: Path) -> None:
    """Create the directory and our format file, refusing a directory that holds something else."""
    # Tantivy creates its files with the process umask: the directory (0700) is what
    # keeps the indexed code from other users.
    make_private_directory(directory)
    strangers = sorted(
        entry.name for entry in directory.iterdir() if entry.name not in _FRESH_DIRECTORY_FILES
    )
    if strangers:
        raise IndexCorruptError(
            f"{directory} is not a text index (no {_META_FILE}) but holds other files: "
            f"{', '.join(strangers[:5])}.",
            "Point Quiver at an empty or dedicated cache directory, or remove this one "
            "and re-index.",
        )
    format_file = directory / FORMAT_FILE
    temporary = directory / f".{FORMAT_FILE}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(open_private_file(temporary, flags), "wb") as handle:
        handle.write(json.dumps({"format": fields.TEXT_FORMAT_VERSION}).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(format_file)


def _check_format_file(directory: Path) -> None:
    format_file = directory / FORMAT_FILE
    try:
        version = json.loads(format_file.read_text(encoding="utf-8"))["format"]
    except FileNotFoundError:
        version = None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IndexCorruptError(
            f"The format file {format_file} is unreadable: {error}.",
            "Rebuild the index with `quiver index --rebuild`.",
        ) from error
    if version != fields.TEXT_FORMAT_VERSION:
        raise IndexFormatError(
            f"The text index in {directory} has format {version}; "
            f"this Quiver reads format {fields.TEXT_FORMAT_VERSION}.",
            "Rebuild the index with `quiver index --rebuild` "
            "(it was written by another Quiver version).",
        )


def _take_writer(
    directory: Path, index: tantivy.Index, heap_bytes: int, threads: int
) -> tantivy.IndexWriter:
    """Take the writer lock, then delete what an interrupted writer left behind.

    A writer killed inside a commit leaves the files it had started (a segment, a
    ``<segment>.<opstamp>.del``) registered but unused by ``meta.json``. The next
    writer numbers its operations from the last commit again, so its commit would
    try to create that very ``.del`` file and fail with ``FileAlreadyExists``;
    Tantivy's garbage collection removes exactly those files (it never touches
    what the last commit uses).
    """
    try:
        writer = index.writer(heap_size=heap_bytes, num_threads=threads)
    except ValueError as error:
        if "LockBusy" in str(error):
            raise IndexLockedError(
                f"The text index in {directory} is already being updated by another "
                "writer (in this process or another Quiver process).",
                "Open it read-only, or stop the other `quiver` process first; "
                "the lock is released as soon as that process exits.",
            ) from error
        raise _open_error(directory, error) from error
    try:
        writer.garbage_collect_files()
    except ValueError as error:  # a file in use elsewhere stays; the next commit retries
        log.warning("Could not clean up the text index in %s: %s", directory, error)
    return writer


def _open_error(directory: Path, error: ValueError) -> IndexFormatError | IndexCorruptError:
    message = str(error)
    if "schema does not match" in message:
        return IndexFormatError(
            f"The text index in {directory} has a different schema than this Quiver writes.",
            "Rebuild the index with `quiver index --rebuild`.",
        )
    return IndexCorruptError(
        f"The text index in {directory} cannot be opened: {message}.",
        "Rebuild the index with `quiver index --rebuild`; "
        "if the disk is full or read-only, fix that first.",
    )
