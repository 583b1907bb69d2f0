"""File changes into the engines: coalesced batches applied on the writer thread.

Events from any thread are queued (``quiver.workspace.changes``); once a
batch is due, the writer applies it: one ``update_file`` per changed file
when few changed, or one walk of the folder (``index_tree``: one walk, one
embedding batch) for bursts, new files and directory changes. Single-file
updates are searchable at once and committed to disk once edits pause.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial
from pathlib import Path

from quiver.engine import VectorSearchEngine
from quiver.errors import QuiverError
from quiver.parse.selection import is_ignore_file
from quiver.workspace.changes import (
    ChangeBatch,
    ChangeKind,
    ChangeQueue,
    DocumentBuffers,
    PathChange,
)
from quiver.workspace.folders import Folder, FolderSet
from quiver.workspace.indexing import FolderIndexer
from quiver.workspace.jobs import Job
from quiver.workspace.large_files import BufferLimit, LargeUpdates
from quiver.workspace.memory import release_free_memory
from quiver.workspace.recovery import WriteRetries, refused_write
from quiver.workspace.status import SessionListener

__all__ = ["BURST_FILES", "FLUSH_IDLE_S", "FLUSH_MAX_DELAY_S", "ChangeApplier"]

log = logging.getLogger(__name__)

#: More changed files than this in one batch are handed to ``index_tree``
#: (one walk, one embedding batch) instead of one ``update_file`` each.
BURST_FILES = 32
#: Single-file updates are searchable at once; they are committed to disk once
#: edits pause this long (a flush makes the next edit wait for fsyncs) ...
FLUSH_IDLE_S = 2.0
#: ... and at least this often while edits never pause.
FLUSH_MAX_DELAY_S = 30.0


class ChangeApplier:
    """Queues file events and applies them to the folders this session writes.

    ``put`` and ``rescan`` may be called from any thread; ``changes_due`` and
    ``flush_due`` are the writer thread's timed sources (called under the
    session's condition ``lock``), and the jobs they return run on it.
    """

    def __init__(
        self,
        folders: FolderSet,
        *,
        lock: threading.Condition,
        indexer: FolderIndexer,
        buffers: DocumentBuffers,
        listener: SessionListener,
        retries: WriteRetries,
        buffer_limit: BufferLimit,
        large: LargeUpdates,
    ) -> None:
        self._folders = folders
        self._lock = lock
        self._indexer = indexer
        self._buffers = buffers
        self._listener = listener
        self._retries = retries
        self._buffer_limit = buffer_limit
        self._large = large
        self._changes = ChangeQueue()
        self._flush_at: float | None = None
        self._unflushed_since: float | None = None

    # -- any thread ------------------------------------------------------------------

    def put(self, path: Path, change: PathChange) -> None:
        """Queue the latest change of ``path`` and wake the writer."""
        with self._lock:
            self._changes.put(path, change)
            self._lock.notify_all()

    def rescan(self, directory: Path) -> None:
        """Queue a re-check of the folder holding ``directory`` and wake the writer."""
        with self._lock:
            self._changes.rescan(directory)
            self._lock.notify_all()

    # -- the writer thread's timed sources -------------------------------------------

    def changes_due(self) -> Job | float | None:
        """The pending batch's job once it is due (the queue starts afresh)."""
        due = self._changes.due_in()
        if due is None or due > 0:
            return due
        return Job("apply changes", partial(self._apply, self._changes.take()))

    def flush_due(self) -> Job | float | None:
        """The commit of deferred updates once edits paused (or waited too long)."""
        if self._flush_at is None:
            return None
        flush_in = self._flush_at - time.monotonic()
        if flush_in > 0:
            return flush_in
        self._flush_at = self._unflushed_since = None
        return Job("flush", self._flush)

    # -- the writer thread -----------------------------------------------------------

    def _apply(self, batch: ChangeBatch) -> None:
        """Apply one coalesced batch: single-file updates, or one index_tree per folder for
        bursts, new files and directory changes (its walk applies the ignore rules).
        A folder whose writes the disk refused waits for its retry (which the batch
        hastens): that re-check takes in these changes too."""
        # A folder this session only reads is updated by its writer, which sees the
        # same files; unsaved buffers are re-applied if this session takes over.
        folders = self._folders.with_role("writer")
        buffers = self._buffers.snapshot()
        changed_any = False
        for folder in folders:
            engine = folder.engine
            if engine is None:
                continue
            mine = {p: c for p, c in batch.paths.items() if folder.contains(p)}
            rescan = any(folder.contains(directory) for directory in batch.rescan)
            if not mine and not rescan:
                continue
            if self._retries.pending(folder.root):
                self._retries.hasten(folder.root)
                continue
            changed_any = True
            if rescan or _touches_ignore_files(mine):
                self._indexer.index([folder.root], title="Updating the index")
                continue
            unselected, new, dropped = _sort_by_selector(folder, engine, mine)
            relevant = {
                p: PathChange(ChangeKind.DELETED) if p in dropped else c
                for p, c in mine.items()
                if p not in unselected
            }
            if new or len(relevant) > BURST_FILES:
                self._indexer.index([folder.root], title="Updating the index")
                continue
            # Small files first: a large one may be queued to be embedded a chunk per job.
            for path, change in sorted(relevant.items(), key=lambda item: _size(item[1])):
                if not self._admits(folder, path, change):
                    continue
                if self._large.take(folder, engine, path, change):
                    continue
                if not self._apply_one(folder, path, change, buffers):
                    break  # the disk refused: the folder waits for its retry
        if changed_any:
            self._changed()

    def apply_staged(self, folder: Folder, path: Path, change: PathChange) -> None:
        """Apply a large update whose vectors are ready (``LargeUpdates``)."""
        if folder.engine is None or self._retries.pending(folder.root):
            return
        self._apply_one(folder, path, change, self._buffers.snapshot())
        self._changed()

    def _admits(self, folder: Folder, path: Path, change: PathChange) -> bool:
        """A buffer over the folder's size limit is not indexed (reported once)."""
        if change.kind is not ChangeKind.BUFFER or change.text is None:
            return True
        return self._buffer_limit.allows(path, change.text, folder.selector.max_file_size)

    def _apply_one(
        self, folder: Folder, path: Path, change: PathChange, buffers: dict[Path, str]
    ) -> bool:
        """Apply one file's change; False if the disk refused it (the folder then waits
        for a retry of its writes)."""
        engine = folder.engine
        if engine is None:
            return True
        try:
            _apply_one(engine, path, change, buffers)
        except (QuiverError, OSError) as error:
            refused = refused_write(error)
            if refused is None:
                raise
            self._retries.refused(folder, refused)
            return False
        return True

    def _changed(self) -> None:
        """Changes were applied without a commit: schedule the flush."""
        with self._lock:
            now = time.monotonic()
            if self._unflushed_since is None:
                self._unflushed_since = now
            self._flush_at = min(now + FLUSH_IDLE_S, self._unflushed_since + FLUSH_MAX_DELAY_S)
            self._lock.notify_all()
        self._listener.status_changed(state_changed=False)

    def _flush(self) -> None:
        try:
            self._flush_folders()
        finally:
            # Edits pause (or 30 s went by): what their updates freed goes back to the system.
            release_free_memory()

    def _flush_folders(self) -> None:
        for folder in self._folders.snapshot():
            engine = folder.engine
            if engine is None:
                continue
            try:
                engine.flush()
            except (QuiverError, OSError) as error:
                if (refused := refused_write(error)) is not None:
                    self._retries.refused(folder, refused)
                elif isinstance(error, QuiverError):
                    log.error("Could not commit the index of %s: %s", engine.root, error)
                else:
                    raise


def _touches_ignore_files(changes: dict[Path, PathChange]) -> bool:
    """Whether an ignore file was written or deleted: which files belong may have changed
    anywhere below it (an unsaved ignore file changes nothing yet)."""
    return any(
        is_ignore_file(path) and change.kind is not ChangeKind.BUFFER
        for path, change in changes.items()
    )


def _sort_by_selector(
    folder: Folder, engine: VectorSearchEngine, changes: dict[Path, PathChange]
) -> tuple[set[Path], list[Path], set[Path]]:
    """Every changed path judged by the folder's selector, as a walk would judge it:

    - ``unselected``: changes to drop. Files on disk the index lacks that it leaves out
      (ignored, excluded, too large: typing in an ignored file never walks the
      workspace), and buffers of indexed files it no longer selects (the disk's event
      decides what becomes of them);
    - ``new``: files the index lacks that it selects (a walk indexes them);
    - ``dropped``: indexed files whose disk change it no longer selects: swapped for a
      link (out of the workspace, or anywhere: a walk follows none), for a FIFO or a
      device, or past the size limit. They are removed, never read.

    Costs one ``selects`` (an ``lstat`` per directory level, ignore files remembered)
    per changed path that is not a deletion.
    """
    unselected: set[Path] = set()
    new: list[Path] = []
    dropped: set[Path] = set()
    for path, change in changes.items():
        if change.kind is ChangeKind.DELETED:
            continue
        if engine.is_indexed(path):
            if not folder.selector.selects(path):
                (dropped if change.kind is ChangeKind.DISK else unselected).add(path)
        elif path.exists():
            if folder.selector.selects(path):
                new.append(path)
            else:
                unselected.add(path)
    return unselected, new, dropped


def _size(change: PathChange) -> int:
    """How much a change may cost to apply, roughly: a buffer's length, else nothing
    known (a file on disk is read by the update itself)."""
    return len(change.text) if change.text is not None else 0


def _apply_one(
    engine: VectorSearchEngine, path: Path, change: PathChange, buffers: dict[Path, str]
) -> None:
    """Apply one change to ``engine``; a write the disk refused propagates (as
    ``IndexWriteError``, or an ``OSError`` of a full disk), other failures are logged."""
    try:
        if change.kind is ChangeKind.DELETED:
            engine.remove_file(path, durable=False)
        elif change.kind is ChangeKind.BUFFER and change.text is not None:
            if engine.is_indexed(path):
                engine.update_file(path, change.text, durable=False)
        elif path not in buffers:  # an unsaved buffer wins over the disk
            engine.update_file(path, durable=False)
    except (QuiverError, OSError) as error:
        if refused_write(error) is not None or not isinstance(error, QuiverError):
            raise
        log.warning("Could not update %s: %s", path, error)
