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
part is re-opened from the last published generation (``disk_writes``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from quiver.engine.catalog import Catalog
from quiver.engine.parts import EngineParts
from quiver.errors import IndexWriteError, QuiverError
from quiver.ids import SymbolId

log = logging.getLogger(__name__)


class Durability:
    """Commits applied changes in the order recovery relies on; turns refused writes
    into ``IndexWriteError``.

    ``reopen`` re-opens every part from the last published generation after a
    failed write (``Roles.reopen_after_failed_write``).
    """

    def __init__(self, parts: EngineParts, *, reopen: Callable[[], None]) -> None:
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
        ones, so the next ``index_tree`` redoes them.
        """
        try:
            yield
        except (OSError, IndexWriteError) as error:
            reason = error.strerror if isinstance(error, OSError) else error.message
            log.error("Could not %s in %s: %s", action, self._parts.cache_dir, reason)
            self._reopen()
            raise IndexWriteError(
                f"Could not {action}: writing to {self._parts.cache_dir} failed ({reason}).",
                "Free some disk space (or point QUIVER_CACHE_DIR / the cacheDir option at "
                "a disk with room) and index again; the last complete index stays usable "
                "meanwhile, and the next run takes in what this one could not write.",
            ) from error

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
