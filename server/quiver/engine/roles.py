"""Opening the cache's parts as its writer or as a reader, following, taking over, closing.

Sharing: one cache directory serves every process that opens the same
workspace. The first to open it takes the directory's writer lock
(``writer.lock``, an OS ``flock`` that dies with its process) and is the
*writer*; every other engine is a *reader*: it maps the published files
read-only, ``follow()`` switches it to each newer generation (the catalog
is published last, so a reader that sees a new catalog finds vectors and
text at least as new), and ``try_become_writer()`` takes over when the
writer has gone. Readers never modify the cache.

Invariants kept here: a reader builds a new generation's parts outside the
state lock and swaps them in under it, so searches never see a torn
generation; every re-open of the parts (take-over, failed write, rebuild)
holds both locks; ``close`` releases the writer lock last, so a reader
waiting to take over finds every part's lock free.
"""

from __future__ import annotations

import logging
import shutil
from typing import Literal

from quiver.engine.catalog import Catalog
from quiver.engine.durability import has_room, refusal_reason, refused_write_error
from quiver.engine.model import ModelBinding
from quiver.engine.parts import NO_ROOM_ERRNOS, EngineParts, name_index
from quiver.errors import IndexCorruptError, IndexFormatError, IndexLockedError, QuiverError
from quiver.ivf.index import IVFIndex
from quiver.store.lock import WriterLockedError
from quiver.text.index import DocumentIndex

log = logging.getLogger(__name__)


class Roles:
    """Opens, follows, takes over and closes the parts of one cache directory."""

    def __init__(self, parts: EngineParts, model: ModelBinding) -> None:
        self._parts = parts
        self._model = model

    def open(self, role: Literal["auto", "writer", "reader"]) -> None:
        """Take the writer lock as ``role`` asks, then open every part in that role.

        ``writer`` raises ``WriterLockedError`` when another process writes;
        ``reader`` never takes the lock. The lock is released if opening fails.
        A disk too full to open on raises ``IndexWriteError``.
        """
        lock = self._parts.writer_lock
        if role != "reader" and not has_room(self._parts.cache_dir):
            # Taking the lock writes this process's pid into it: a failed write would
            # leave the lock held by a file nobody can close.
            raise refused_write_error(self._parts.cache_dir, "open the index", "the disk is full")
        try:
            if role == "writer":
                lock.acquire()
            elif role == "auto":
                lock.try_acquire()
            if lock.held:
                try:
                    self._open_writable()
                except BaseException:
                    lock.release()
                    raise
            else:
                self._open_readable()
        except OSError as error:
            if error.errno not in NO_ROOM_ERRNOS:
                raise
            # The lock's pid, a new index's first files: nothing opens on a full disk.
            raise refused_write_error(
                self._parts.cache_dir, "open the index", f"the disk is full ({error.strerror})"
            ) from error

    def _open_writable(self, *, reopening: bool = False) -> None:
        """Open every part for writing; a damaged or foreign-version cache is rebuilt.

        ``reopening`` (after a refused write): a vector index whose lock is still held
        (a handle of the failed write not yet released) fails the open instead of being
        taken for missing, which would empty the index and re-embed the workspace.
        """
        parts = self._parts
        parts.catalog_stamp = Catalog.stamp(parts.catalog_dir)
        try:
            parts.catalog = Catalog.load(parts.catalog_dir)
            parts.text = DocumentIndex.open(parts.cache_dir / "text")
        except (IndexFormatError, IndexCorruptError) as error:
            # Another Quiver version or a damaged file: rebuild from the sources. The
            # embedding cache is kept, so nothing already embedded is embedded again.
            log.warning("Rebuilding the index of %s: %s", parts.root, error)
            if parts.text is not None:
                parts.text.close()
            self._reset_cache()
            parts.catalog = Catalog()
            parts.text = DocumentIndex.open(parts.cache_dir / "text")
        parts.vectors = self._open_existing_vectors(writable=True, strict=reopening)
        parts.last_update = Catalog.saved_at(parts.catalog_dir)
        parts.names = name_index(parts.catalog)
        # A published index answers in full until index_tree finds what changed since.
        parts.state = "ready" if parts.catalog.files else "starting"
        self._model.check_loaded_model()

    def _open_readable(self) -> None:
        """Map what the writer has published so far; missing parts appear on ``follow``."""
        parts = self._parts
        parts.catalog_stamp = Catalog.stamp(parts.catalog_dir)
        try:
            parts.catalog = Catalog.load(parts.catalog_dir)
        except QuiverError as error:
            log.warning("The index of %s is not readable yet: %s", parts.root, error)
            parts.catalog_stamp = None
        parts.text = self._open_text_reader()
        parts.vectors = self._open_existing_vectors(writable=False)
        parts.last_update = Catalog.saved_at(parts.catalog_dir)
        parts.names = name_index(parts.catalog)
        parts.state = "ready" if parts.catalog_stamp is not None else "starting"

    def _open_text_reader(self) -> DocumentIndex | None:
        try:
            return DocumentIndex.open(self._parts.cache_dir / "text", writable=False)
        except QuiverError as error:
            log.info("The text index of %s is not readable yet: %s", self._parts.root, error)
            return None

    def _open_existing_vectors(
        self, *, writable: bool, catalog: Catalog | None = None, strict: bool = False
    ) -> IVFIndex | None:
        """Map the published vector index, if any, without loading the model. ``strict``:
        a vector index locked by another writer raises instead of counting as missing."""
        parts = self._parts
        catalog = catalog if catalog is not None else parts.catalog
        if not catalog.model_id or not parts.vectors_dir.exists():
            return None
        try:
            return IVFIndex.open(parts.vectors_dir, writable=writable)
        except QuiverError as error:
            if strict and isinstance(error, WriterLockedError | IndexLockedError):
                raise
            if writable:
                log.warning("The vector index will be rebuilt: %s", error)
            else:
                log.info("The vector index of %s is not readable yet: %s", parts.root, error)
            return None

    def follow(self) -> bool:
        """``VectorSearchEngine.follow``: maps the newest published generation outside the
        state lock and swaps it in under it; True if this (reader) engine switched."""
        parts = self._parts
        if parts.writer_lock.held or parts.closed:
            return False
        stamp = Catalog.stamp(parts.catalog_dir)
        if stamp is None or stamp == parts.catalog_stamp:
            return False
        try:
            catalog = Catalog.load(parts.catalog_dir)
        except QuiverError as error:
            log.warning("Could not follow the index of %s yet: %s", parts.root, error)
            return False
        text = self._follow_text()
        vectors = self._follow_vectors(catalog)
        names = name_index(catalog)
        with parts.state_lock:
            old_text, old_vectors = parts.text, parts.vectors
            parts.catalog, parts.names = catalog, names
            parts.text, parts.vectors = text, vectors
            parts.catalog_stamp = stamp
            parts.last_update = Catalog.saved_at(parts.catalog_dir)
            parts.state = "ready"
        if old_text is not None and old_text is not text:
            old_text.close()
        if old_vectors is not None and old_vectors is not vectors:
            old_vectors.close()
        return True

    def _follow_text(self) -> DocumentIndex | None:
        text = self._parts.text
        if text is None:
            return self._open_text_reader()
        try:
            text.reload_if_changed()
            return text
        except QuiverError as error:  # rebuilt under us, say: open it afresh
            log.info("Re-opening the text index of %s: %s", self._parts.root, error)
            return self._open_text_reader() or text

    def _follow_vectors(self, catalog: Catalog) -> IVFIndex | None:
        vectors = self._parts.vectors
        if vectors is not None and vectors.model_id == catalog.model_id:
            try:
                vectors.refresh()
                return vectors
            except QuiverError as error:
                log.info("Re-opening the vector index of %s: %s", self._parts.root, error)
        return self._open_existing_vectors(writable=False, catalog=catalog) or vectors

    def try_become_writer(self) -> bool:
        """``VectorSearchEngine.try_become_writer``: one ``flock`` try; on success every part
        is re-opened for writing under both locks (back to reading if that fails)."""
        parts = self._parts
        lock = parts.writer_lock
        if lock.held:
            return True
        if parts.closed or not lock.try_acquire():
            return False
        with parts.update_lock, parts.state_lock:
            parts.close_parts()
            try:
                self._open_writable()
            except (IndexLockedError, WriterLockedError) as error:
                # The old writer's process is still closing its files: try again later.
                log.info("The writer of %s is still exiting: %s", parts.root, error)
                lock.release()
                self._open_readable()
                return False
            except BaseException:
                lock.release()
                self._open_readable()
                raise
            parts.state = "ready"
        log.info("This process now writes the index of %s.", parts.root)
        return True

    def reopen_after_failed_write(self) -> bool:
        """Re-open every part from the last published generation (``Durability.disk_writes``);
        True if they are open for writing again.

        What was applied but not committed is dropped. While the disk still refuses
        writes (a probe write fails), or if the re-open fails, the parts are opened
        read-only instead (searches answer from the last published generation), the
        engine's state becomes ``error`` and ``reopen_problem`` says why: the next write
        tries again first. Taking the parts' locks writes (their pid), which must not
        be tried on a disk that refuses.
        """
        parts = self._parts
        with parts.update_lock, parts.state_lock:
            parts.close_parts(quietly=True)
            self._model.checked = False
            parts.unflushed = False
            if not has_room(parts.cache_dir, probe=True):
                self._open_read_only("the disk is full")
                return False
            try:
                self._open_writable(reopening=True)
            except (QuiverError, OSError) as error:
                log.error("Re-opening the index of %s failed too: %s", parts.root, error)
                parts.close_parts(quietly=True)
                self._open_read_only(refusal_reason(error))
                return False
            parts.reopen_problem = None
            return True

    def _open_read_only(self, problem: str) -> None:
        """The writer's parts, opened read-only until a write re-opens them (``problem``
        says why they are not writable). Caller holds both locks."""
        parts = self._parts
        parts.reopen_problem = problem
        try:
            self._open_readable()
        except (QuiverError, OSError) as error:
            log.warning("The index of %s cannot be read either: %s", parts.root, error)
            parts.close_parts(quietly=True)
        parts.state = "error"
        # Nothing to check the model against until the parts are writable again: the
        # check would take read-only (or missing) vectors for another model's and empty
        # the index. The re-open (``_open_writable``) checks it again.
        self._model.checked = True

    def rebuild_cache(self) -> None:
        """``VectorSearchEngine.rebuild_cache``: under both locks, removes the indexes and the
        embedding cache and opens empty parts (a writer only)."""
        parts = self._parts
        parts.require_writer("rebuild the index")
        with parts.update_lock, parts.state_lock:
            parts.close_parts()
            self._reset_cache()
            shutil.rmtree(parts.cache_dir / "embeddings", ignore_errors=True)
            self._model.checked = False
            parts.unflushed = False
            try:
                self._open_writable()
            except (QuiverError, OSError) as error:
                parts.close_parts(quietly=True)
                self._open_read_only(refusal_reason(error))
                raise
            parts.reopen_problem = None

    def _reset_cache(self) -> None:
        """Remove the catalog, text and vector indexes (not the embedding cache)."""
        for name in ("catalog", "text", "vectors"):
            shutil.rmtree(self._parts.cache_dir / name, ignore_errors=True)

    def close(self) -> None:
        """Release files and locks; the caller flushed what was not yet durable."""
        parts = self._parts
        with parts.update_lock, parts.state_lock:
            parts.closed = True
            parts.close_parts()
            # Last: a reader waiting to take over finds every part's lock free.
            parts.writer_lock.release()
