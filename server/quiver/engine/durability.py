"""What reaches the disk, in which order, and how an unfinished batch is undone.

Durability: a durable batch is committed in the order vectors → text →
catalog. The catalog records ``next_id``; on open (``reconcile``), ids at or
above it in the other indexes belong to an unfinished batch and are dropped,
and files whose symbols are missing from the vector index are re-indexed.
The commits run under the update lock only (searches keep answering while
they fsync). Readers in other processes rely on the same order: the catalog
is published last, so a reader that sees a new catalog finds vectors and
text at least as new.

An editor's single-file updates can be applied with ``durable=False``: they
are searchable in this process at once (the IVF delta and the text index's
in-memory ``refresh``), and written by the next ``flush()`` (or durable
batch, or ``close()``). A crash before that loses only those updates; the
disk still holds the last flushed, consistent state, and the files' old
mtimes in the catalog make the next ``index_tree`` redo them.

Catalog copies are numbered when taken and written in order, outside the
update lock: an older copy never overwrites a newer one. A write the disk
refuses (full disk, quota, read-only) becomes ``IndexWriteError`` and every
part is re-opened from the last published generation (``disk_writes``). If
even that re-open fails, the parts stay closed and the next write re-opens
them first: a refused write is never the end of the engine's writing, so
once there is room again the next ``index_tree`` (or update) succeeds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from quiver.engine.catalog import Catalog
from quiver.engine.parts import NO_ROOM_ERRNOS, EngineParts
from quiver.errors import IndexWriteError, QuiverError
from quiver.ids import SymbolId

log = logging.getLogger(__name__)


class Durability:
    """Commits applied changes in the order recovery relies on; turns refused writes
    into ``IndexWriteError``.

    ``reopen`` re-opens every part from the last published generation after a
    failed write and says whether it could (``Roles.reopen_after_failed_write``).
    """

    def __init__(self, parts: EngineParts, *, reopen: Callable[[], bool]) -> None:
        self._parts = parts
        self._reopen = reopen
        # Catalog copies are numbered when taken and written in order, outside the
        # update lock (see ``flush``): an older copy never overwrites a newer one.
        self._catalog_serial = 0
        self._catalog_written = 0
        self._catalog_write_lock = threading.Lock()

    @contextlib.contextmanager
    def disk_writes(self, action: str) -> Iterator[None]:
        """Turn a refused write (full disk, quota, read-only) into ``IndexWriteError``.

        After such a failure the in-memory state may be ahead of the disk, and a
        half-written commit may have left a writer handle in a state it cannot
        resume from: every part is re-opened from the last published generation
        (which that failure left intact). Changes since then are lost from the
        index, not from the sources: their files' recorded mtimes are the old
        ones, so the next ``index_tree`` redoes them. Parts that could not be
        re-opened then are re-opened on entry here, before anything is written
        (``IndexWriteError`` if that still fails). Caller holds the update lock.
        """
        parts = self._parts
        if parts.reopen_problem is not None and not self._reopen():
            raise refused_write_error(
                parts.cache_dir, action, f"cannot re-open the index: {parts.reopen_problem}"
            )
        try:
            yield
        except (OSError, IndexWriteError) as error:
            reason = refusal_reason(error)
            log.error("Could not %s in %s: %s", action, parts.cache_dir, reason)
            # The failed writers' handles live on in the traceback's frames; the text
            # index's writer holds its directory's lock until it is gone.
            _release_frames(error)
            self._reopen()
            raise refused_write_error(parts.cache_dir, action, reason) from error

    def flush(self) -> bool:
        """``VectorSearchEngine.flush``: commits the indexes under the update lock, then
        writes the catalog copy outside it; True if there was anything to commit."""
        parts = self._parts
        with parts.update_lock:
            if not parts.unflushed or not parts.writer_lock.held:
                return False
            with self.disk_writes("save the index"):
                snapshot = self.commit_indexes()
        with self.disk_writes("save the index"):
            self.write_catalog(snapshot)
        return True

    def commit(self) -> None:
        """Publish vectors, then text, then the catalog. Caller holds the update lock."""
        self.write_catalog(self.commit_indexes())

    def commit_indexes(self) -> tuple[int, Catalog]:
        """Commit vectors then text; returns a numbered copy of the catalog to write next.

        Caller holds the update lock. No state lock: only the update-lock holder
        mutates the indexes and the catalog, and searches read snapshots.
        """
        parts = self._parts
        if parts.vectors is not None:
            parts.vectors.commit()
        parts.writable_text().commit()
        parts.unflushed = False
        self._catalog_serial += 1
        return self._catalog_serial, parts.catalog.copy_tables()

    def write_catalog(self, snapshot: tuple[int, Catalog]) -> None:
        """Write a catalog copy unless a newer one was written already (writes serialised)."""
        serial, catalog = snapshot
        with self._catalog_write_lock:
            if serial <= self._catalog_written:
                return
            catalog.save(self._parts.catalog_dir)
            self._catalog_written = serial
        self._rebase_catalog(serial)

    def _rebase_catalog(self, serial: int) -> None:
        """Make the snapshot just written the live catalog's base, if nothing changed
        since its copy was taken (checked under the update lock).

        Without this, the overlay of changes since the snapshot this process opened
        would grow for its whole life: memory, and every later copy and save, would
        grow with everything ever edited. Costs one mapping of the file (~30 ms per
        100,000 symbols); when edits came in meanwhile the next save tries again.
        """
        parts = self._parts
        with parts.update_lock:
            if serial != self._catalog_serial or parts.unflushed:
                return
            try:
                fresh = Catalog.load(parts.catalog_dir)
            except QuiverError as error:  # the live catalog stays as it is: still right
                log.warning("Could not map the catalog just written: %s", error)
                return
            with parts.state_lock:
                parts.catalog = fresh


def reconcile(parts: EngineParts) -> None:
    """Drop orphans of an unfinished batch; mark files with missing vectors dirty.

    Caller holds both locks (a writer only).
    """
    if parts.vectors is None:
        return
    text = parts.writable_text()
    live = parts.vectors.ids()
    orphans = live[live >= parts.catalog.next_id]
    if len(orphans):
        log.info("Dropping %d vectors of an unfinished update.", len(orphans))
        parts.vectors.remove_ids(orphans)
        text.delete_symbols([SymbolId(int(i)) for i in orphans])
        parts.vectors.commit()
        text.commit()
    live_set = set(live.tolist())
    for path, record in list(parts.catalog.files.items()):
        if any(int(i) not in live_set for i in record.symbol_ids):
            # Its vectors were replaced by an unfinished batch: re-index it.
            record.mtime_ns = -1
            record.file_hash = ""
            log.info("Re-indexing %s: its vectors are incomplete.", path)


def refused_write_error(cache_dir: Path, action: str, reason: str) -> IndexWriteError:
    """The error a refused write of the cache becomes: what failed, why (naming a full
    disk as such: the commonest cause), and what to do."""
    if "the disk is full" not in reason and _nearly_full(cache_dir):
        reason = f"the disk is full ({reason})"
    return IndexWriteError(
        f"Could not {action}: writing to {cache_dir} failed ({reason}).",
        "Free some disk space (or point QUIVER_CACHE_DIR / the cacheDir option at "
        "a disk with room) and index again; the last complete index stays usable "
        "meanwhile, and the next run takes in what this one could not write.",
    )


#: Below this much free space a refused write is put down to a full disk.
_NEARLY_FULL_BYTES = 16 << 20


def refusal_reason(error: BaseException) -> str:
    """Why a write (or an open for writing) failed, in words: a full disk or quota named
    as such."""
    for cause in _causes(error):
        if isinstance(cause, OSError) and cause.errno in NO_ROOM_ERRNOS:
            return f"the disk is full ({cause.strerror})"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return error.message if isinstance(error, QuiverError) else str(error)


def _nearly_full(directory: Path) -> bool:
    try:
        return shutil.disk_usage(directory).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the errors it was raised from or while handling."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _release_frames(error: BaseException) -> None:
    """Drop the local variables of the finished frames that ``error`` and the errors it
    was raised from keep alive, so the handles they held (a killed Tantivy writer
    holding its directory's lock) are released before the parts are re-opened. The
    frames still running (this one, its caller) are left as they are."""
    current: BaseException | None = error
    while current is not None:
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        current = current.__cause__


#: Free space above which a disk is taken to have room without a probe write.
_ROOMY_BYTES = 1 << 20
#: What a probe writes: room for a few lock files and a small commit.
_PROBE_BYTES = 64 << 10


def has_room(directory: Path, *, probe: bool = False) -> bool:
    """Whether the disk holding ``directory`` takes writes: its free space (one
    ``statvfs``), and when that is low, or ``probe`` asks, a probe file written and
    deleted there (a quota or a file size limit show only to a write; well under a
    millisecond). A directory that does not exist yet has room as far as this can tell."""
    try:
        if not probe and shutil.disk_usage(directory).free >= _ROOMY_BYTES:
            return True
    except OSError:
        return True  # not there yet: creating it will say what is wrong
    path = directory / f".quiver-room-probe-{os.getpid()}-{threading.get_ident()}"
    try:
        with path.open("wb") as file:
            file.write(bytes(_PROBE_BYTES))
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
