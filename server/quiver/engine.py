"""The composition: index a tree, update or remove one file, search.

``VectorSearchEngine`` composes the parsers, the embedder, the IVF vector
index, the Tantivy ``DocumentIndex`` and the symbol ``Catalog`` for one
workspace root. It knows nothing about LSP: the server, the CLI and a notebook
use it the same way.

Concurrency: one writer at a time (``_update_lock``) parses and embeds
*outside* the state lock, then applies its changes under a short
``_state_lock``; searches take the state lock only while they read, so they
keep answering from the last applied state while a long update runs.

Durability: a durable batch is committed in the order vectors → text →
catalog. The catalog records ``next_id``; on open, ids at or above it in the
other indexes belong to an unfinished batch and are dropped, and files whose
symbols are missing from the vector index are re-indexed. The commits run
under the update lock only (searches keep answering while they fsync).

An editor's single-file updates can be applied with ``durable=False``: they
are searchable in this process at once (the IVF delta and the text index's
in-memory ``refresh``), and written by the next ``flush()`` (or durable
batch, or ``close()``). A crash before that loses only those updates; the
disk still holds the last flushed, consistent state, and the files' old
mtimes in the catalog make the next ``index_tree`` redo them.

Sharing: one cache directory serves every process that opens the same
workspace. The first to open it takes the directory's writer lock
(``writer.lock``, an OS ``flock`` that dies with its process) and is the
*writer*; every other engine is a *reader*: it maps the published files
read-only, ``follow()`` switches it to each newer generation (the catalog
is published last, so a reader that sees a new catalog finds vectors and
text at least as new), and ``try_become_writer()`` takes over when the
writer has gone. Readers never modify the cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np

from quiver.api import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    SEARCH_MODES,
    EngineStatus,
    IndexProgress,
    IndexReport,
    Role,
    SearchQuery,
    SearchResponse,
    SearchResult,
    UpdateReport,
)
from quiver.cache_paths import cache_dir_for
from quiver.catalog import Catalog, FileRecord, SymbolRecord
from quiver.embed.batch import embed_symbols
from quiver.embed.cache import EmbeddingCache
from quiver.embed.embedder import Embedder
from quiver.embed.text import SYMBOL_TEXT_VERSION
from quiver.errors import (
    FileSkippedError,
    IndexCorruptError,
    IndexFormatError,
    IndexLockedError,
    IndexWriteError,
    InvalidQueryError,
    QuiverError,
)
from quiver.fusion import DEFAULT_WEIGHTS, QueryShape, classify_query, score_fusion
from quiver.fuzzy import NameIndex
from quiver.ids import ClusterId, SymbolId, VectorId
from quiver.ivf.errors import IndexReadOnlyError
from quiver.ivf.index import IVFIndex
from quiver.parse import (
    ParsedFile,
    SourceFile,
    discover,
    extract_symbols,
    language_for_path,
    parse_files,
    read_source,
)
from quiver.store.lock import WriterLock, WriterLockedError
from quiver.symbols import Range, Symbol, content_hash
from quiver.text.index import DocumentIndex, TextDocument
from quiver.text.pathglob import path_matches

log = logging.getLogger(__name__)

#: Below this many vectors an exhaustive scan of the delta is exact and fast; train above it.
MIN_VECTORS_TO_TRAIN = 4_096
#: Files parsed, embedded and committed together during a full index.
INDEX_BATCH_FILES = 64


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Everything configurable about one workspace index."""

    cache_root: Path | None = None
    max_file_size: int = 1 << 20
    excludes: tuple[str, ...] = ()
    parse_workers: int | None = None
    nprobe: int | None = None


@dataclass(slots=True)
class _FileChange:
    """A parsed file and what must happen to the indexes for it."""

    source: SourceFile
    symbols: list[Symbol]
    file_hash: str
    skipped_reason: str | None = None


class VectorSearchEngine:
    """A workspace index: open it, keep it current, search it.

    ``embedder_factory`` is called on first use (lazy model load keeps a warm
    start fast: name lookups answer before the model is loaded).

    ``role``: ``"auto"`` (default) becomes the writer if no other process is,
    else a reader; ``"writer"`` raises ``WriterLockedError`` when another
    process writes; ``"reader"`` never takes the lock (``quiver status``).
    """

    def __init__(
        self,
        root: Path,
        *,
        embedder_factory: Callable[[], Embedder],
        options: EngineOptions | None = None,
        cache_dir: Path | None = None,
        role: Literal["auto", "writer", "reader"] = "auto",
    ) -> None:
        self.root = root.resolve()
        self.options = options or EngineOptions()
        self.cache_dir = cache_dir or cache_dir_for(self.root, self.options.cache_root)
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        # Whether _open_vectors checked the loaded model against the index (writers only).
        self._model_checked = False
        # The model a query loaded while a writer held the update lock (see _model_for_queries).
        self._query_model: Embedder | None = None
        self._query_model_lock = threading.Lock()
        self._update_lock = threading.RLock()
        self._state_lock = threading.RLock()
        self._state: Literal["starting", "indexing", "ready", "error"] = "starting"
        # When the index last changed: the catalog snapshot's time until this process updates it.
        self._last_update: datetime | None = None
        # Applied changes not yet committed to disk (see ``flush``).
        self._unflushed = False
        # Set when loading the model emptied an index built by another model.
        self._discarded = False
        # Catalog copies are numbered when taken and written in order, outside the
        # update lock (see ``flush``): an older copy never overwrites a newer one.
        self._catalog_serial = 0
        self._catalog_written = 0
        self._catalog_write_lock = threading.Lock()
        self._embedding_cache: EmbeddingCache | None = None
        self._closed = False
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._lock = WriterLock(self.cache_dir)
        if role == "writer":
            self._lock.acquire()
        elif role == "auto":
            self._lock.try_acquire()
        self._catalog = Catalog()
        self._catalog_stamp: tuple[int, int, int] | None = None
        self._text: DocumentIndex | None = None
        self._vectors: IVFIndex | None = None
        self._names: NameIndex[int] = NameIndex()
        if self._lock.held:
            try:
                self._open_writable()
            except BaseException:
                self._lock.release()
                raise
        else:
            self._open_readable()

    # -- lifecycle -------------------------------------------------------

    @property
    def role(self) -> Role:
        """``writer`` while this engine holds the cache's writer lock, else ``reader``."""
        return "writer" if self._lock.held else "reader"

    @property
    def writer_pid(self) -> int | None:
        """The process that writes this cache (this one, another, or None if nobody does)."""
        return os.getpid() if self._lock.held else self._lock.holder_pid()

    def _open_writable(self) -> None:
        """Open every part for writing; a damaged or foreign-version cache is rebuilt."""
        self._catalog_stamp = Catalog.stamp(self._catalog_dir)
        try:
            self._catalog = Catalog.load(self._catalog_dir)
            self._text = DocumentIndex.open(self.cache_dir / "text")
        except (IndexFormatError, IndexCorruptError) as error:
            # Another Quiver version or a damaged file: rebuild from the sources. The
            # embedding cache is kept, so nothing already embedded is embedded again.
            log.warning("Rebuilding the index of %s: %s", self.root, error)
            if self._text is not None:
                self._text.close()
            self._reset_cache()
            self._catalog = Catalog()
            self._text = DocumentIndex.open(self.cache_dir / "text")
        self._vectors = self._open_existing_vectors(writable=True)
        self._last_update = Catalog.saved_at(self._catalog_dir)
        self._names = _name_index(self._catalog)
        # A published index answers in full until index_tree finds what changed since.
        self._state = "ready" if self._catalog.files else "starting"
        if self._embedder is not None:
            self._open_vectors(self._embedder)

    def _open_readable(self) -> None:
        """Map what the writer has published so far; missing parts appear on ``follow``."""
        self._catalog_stamp = Catalog.stamp(self._catalog_dir)
        try:
            self._catalog = Catalog.load(self._catalog_dir)
        except QuiverError as error:
            log.warning("The index of %s is not readable yet: %s", self.root, error)
            self._catalog_stamp = None
        self._text = self._open_text_reader()
        self._vectors = self._open_existing_vectors(writable=False)
        self._last_update = Catalog.saved_at(self._catalog_dir)
        self._names = _name_index(self._catalog)
        self._state = "ready" if self._catalog_stamp is not None else "starting"

    def _open_text_reader(self) -> DocumentIndex | None:
        try:
            return DocumentIndex.open(self.cache_dir / "text", writable=False)
        except QuiverError as error:
            log.info("The text index of %s is not readable yet: %s", self.root, error)
            return None

    def follow(self) -> bool:
        """A reader switches to the newest generation another process published.

        Costs one ``stat`` when nothing changed; else it maps the new catalog,
        follows the vector and text indexes and rebuilds the name index (~0.1 s per
        100,000 symbols) before swapping them in: searches keep answering from the
        previous generation meanwhile. A writer's engine returns False at once, and so
        does a reader when what it finds is unreadable (it keeps what it has and
        tries again on the next call). Returns True if this engine switched.
        """
        if self._lock.held or self._closed:
            return False
        stamp = Catalog.stamp(self._catalog_dir)
        if stamp is None or stamp == self._catalog_stamp:
            return False
        try:
            catalog = Catalog.load(self._catalog_dir)
        except QuiverError as error:
            log.warning("Could not follow the index of %s yet: %s", self.root, error)
            return False
        text = self._follow_text()
        vectors = self._follow_vectors(catalog)
        names = _name_index(catalog)
        with self._state_lock:
            old_text, old_vectors = self._text, self._vectors
            self._catalog, self._names = catalog, names
            self._text, self._vectors = text, vectors
            self._catalog_stamp = stamp
            self._last_update = Catalog.saved_at(self._catalog_dir)
            self._state = "ready"
        if old_text is not None and old_text is not text:
            old_text.close()
        if old_vectors is not None and old_vectors is not vectors:
            old_vectors.close()
        return True

    def _follow_text(self) -> DocumentIndex | None:
        text = self._text
        if text is None:
            return self._open_text_reader()
        try:
            text.reload_if_changed()
            return text
        except QuiverError as error:  # rebuilt under us, say: open it afresh
            log.info("Re-opening the text index of %s: %s", self.root, error)
            return self._open_text_reader() or text

    def _follow_vectors(self, catalog: Catalog) -> IVFIndex | None:
        vectors = self._vectors
        if vectors is not None and vectors.model_id == catalog.model_id:
            try:
                vectors.refresh()
                return vectors
            except QuiverError as error:
                log.info("Re-opening the vector index of %s: %s", self.root, error)
        return self._open_existing_vectors(writable=False, catalog=catalog) or vectors

    def try_become_writer(self) -> bool:
        """A reader takes the writer lock if its writer has gone; True if this engine writes.

        The caller should then run ``index_tree`` to take in what changed on disk
        while nobody was writing. Costs a failed ``flock`` when the writer is alive;
        on success, re-opens every part for writing (milliseconds, plus a rebuild
        if what the writer left is damaged).
        """
        if self._lock.held:
            return True
        if self._closed or not self._lock.try_acquire():
            return False
        with self._update_lock, self._state_lock:
            self._close_parts()
            try:
                self._open_writable()
            except (IndexLockedError, WriterLockedError) as error:
                # The old writer's process is still closing its files: try again later.
                log.info("The writer of %s is still exiting: %s", self.root, error)
                self._lock.release()
                self._open_readable()
                return False
            except BaseException:
                self._lock.release()
                self._open_readable()
                raise
            self._state = "ready"
        log.info("This process now writes the index of %s.", self.root)
        return True

    @contextlib.contextmanager
    def _disk_writes(self, action: str) -> Iterator[None]:
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
            log.error("Could not %s in %s: %s", action, self.cache_dir, reason)
            self._reopen_after_failed_write()
            raise IndexWriteError(
                f"Could not {action}: writing to {self.cache_dir} failed ({reason}).",
                "Free some disk space (or point QUIVER_CACHE_DIR / the cacheDir option at "
                "a disk with room) and index again; the last complete index stays usable "
                "meanwhile, and the next run takes in what this one could not write.",
            ) from error

    def _close_parts(self, *, quietly: bool = False) -> None:
        """Close the vector and text indexes and the embedding cache (their files and
        their own locks, not the cache's writer lock). ``quietly``: ignore errors (the
        parts may be half-way through a failed write). Caller holds both locks."""
        for part in (self._vectors, self._text, self._embedding_cache):
            if part is None:
                continue
            if quietly:
                with contextlib.suppress(Exception):
                    part.close()
            else:
                part.close()
        self._vectors = self._text = None
        self._embedding_cache = None

    def _reopen_after_failed_write(self) -> None:
        with self._update_lock, self._state_lock:
            self._close_parts(quietly=True)
            self._model_checked = False
            self._unflushed = False
            try:
                self._open_writable()
            except (QuiverError, OSError) as error:
                log.error("Re-opening the index of %s failed too: %s", self.root, error)
                self._state = "error"

    def _require_writer(self, action: str) -> None:
        if not self._lock.held:
            pid = self._lock.holder_pid()
            who = f"process {pid}" if pid else "another Quiver process"
            raise IndexReadOnlyError(
                f"Cannot {action}: {who} updates the index of {self.root} "
                f"({self.cache_dir}); this one only reads it.",
                "That process keeps the index current and searches here follow it; to "
                "write from here, close it (the other editor or `quiver serve`) first.",
            )

    def rebuild_cache(self) -> None:
        """Writer: discard everything cached (indexes and embeddings) while keeping the lock.

        The next ``index_tree`` re-parses and re-embeds the whole workspace. Readers in
        other processes keep their mapped generation until the new catalog is published.
        Raises ``IndexReadOnlyError`` on a reader.
        """
        self._require_writer("rebuild the index")
        with self._update_lock, self._state_lock:
            self._close_parts()
            self._reset_cache()
            shutil.rmtree(self.cache_dir / "embeddings", ignore_errors=True)
            self._model_checked = False
            self._unflushed = False
            self._open_writable()

    def _reset_cache(self) -> None:
        """Remove the catalog, text and vector indexes (not the embedding cache)."""
        for name in ("catalog", "text", "vectors"):
            shutil.rmtree(self.cache_dir / name, ignore_errors=True)

    @property
    def _catalog_dir(self) -> Path:
        return self.cache_dir / "catalog"

    @property
    def embedder(self) -> Embedder:
        """The model, loaded on first use; a writer checks the index was built by it."""
        if self._embedder is None or (self._lock.held and not self._model_checked):
            with self._update_lock:
                if self._embedder is None:
                    self._embedder = self._query_model or self._embedder_factory()
                if self._lock.held and not self._model_checked:
                    self._open_vectors(self._embedder)
        return self._embedder

    def _model_for_queries(self) -> Embedder:
        """The model to embed a query with, without queueing behind a writer.

        A writer loads the model under the update lock and may keep that lock
        for minutes (a first index_tree); a search must not wait for it, nor pay
        for the writer's checks of the index against the model (the embedding
        cache's key scan, the reconciliation of ids): the factory is called here
        directly. A factory that shares one model (the server's does) hands back
        the model the writer has or is loading; another loads a second instance,
        once. Whether the vectors on disk come from this model is checked per
        query (``_vectors_for``).
        """
        embedder = self._embedder or self._query_model
        if embedder is not None:
            return embedder
        with self._query_model_lock:
            if self._query_model is None and self._embedder is None:
                self._query_model = self._embedder_factory()
            chosen = self._embedder or self._query_model
            assert chosen is not None
            return chosen

    def _vectors_for(self, embedder: Embedder) -> IVFIndex | None:
        """The vector index if its vectors come from ``embedder``'s model, else None: a
        query embedded by another model would rank garbage (the index is re-embedded by
        the writer's next run)."""
        vectors = self._vectors
        if vectors is None or vectors.dim != embedder.dim:
            return None
        return vectors if vectors.model_id == self._model_key(embedder) else None

    def _model_key(self, embedder: Embedder) -> str:
        return model_key(embedder.model_id, embedder.weights_sha256)

    @property
    def indexed_model_key(self) -> str:
        """``model_key`` of the model the index on disk was built with ("" for none yet)."""
        return self._catalog.model_id

    @property
    def _vectors_dir(self) -> Path:
        return self.cache_dir / "vectors"

    def _open_existing_vectors(
        self, *, writable: bool, catalog: Catalog | None = None
    ) -> IVFIndex | None:
        """Map the published vector index, if any, without loading the model."""
        catalog = catalog if catalog is not None else self._catalog
        if not catalog.model_id or not self._vectors_dir.exists():
            return None
        try:
            return IVFIndex.open(self._vectors_dir, writable=writable)
        except QuiverError as error:
            if writable:
                log.warning("The vector index will be rebuilt: %s", error)
            else:
                log.info("The vector index of %s is not readable yet: %s", self.root, error)
            return None

    def _open_vectors(self, embedder: Embedder) -> None:
        """Check the model against the index; create the vector index if needed; reconcile."""
        model_key = self._model_key(embedder)
        self._embedding_cache = EmbeddingCache.for_model(self.cache_dir / "embeddings", embedder)
        stale_model = bool(self._catalog.model_id) and self._catalog.model_id != model_key
        wrong_shape = self._vectors is not None and (
            self._vectors.dim != embedder.dim or self._vectors.model_id != model_key
        )
        missing = self._vectors is None and bool(self._catalog.files)
        if stale_model or wrong_shape or missing:
            log.warning(
                "Re-embedding the workspace: the index was built with %r, the model is %r.",
                self._catalog.model_id or "nothing",
                model_key,
            )
            self._discard_all()
        if self._vectors is None:
            shutil.rmtree(self._vectors_dir, ignore_errors=True)
            self._vectors_dir.mkdir(parents=True, exist_ok=True)
            self._vectors = IVFIndex.create(self._vectors_dir, dim=embedder.dim, model_id=model_key)
        if self.options.nprobe is not None:
            self._vectors.nprobe = self.options.nprobe
        with self._state_lock:
            self._catalog.model_id = model_key
            self._reconcile()
        self._model_checked = True

    def _discard_all(self) -> None:
        """Forget every indexed file so the next index_tree re-embeds the workspace."""
        self._discarded = True
        text = self._writable_text()
        with self._state_lock:
            if self._vectors is not None:
                self._vectors.close()
                self._vectors = None
            shutil.rmtree(self._vectors_dir, ignore_errors=True)
            paths = list(self._catalog.files)
            for path in paths:
                self._catalog.remove_file(path)
            text.delete_paths(paths)
            text.commit()
            self._names = NameIndex[int]()

    def _writable_text(self) -> DocumentIndex:
        assert self._text is not None and self._lock.held, "only a writer changes the index"
        return self._text

    def _reconcile(self) -> None:
        """Drop orphans of an unfinished batch; mark files with missing vectors dirty."""
        if self._vectors is None:
            return
        text = self._writable_text()
        live = self._vectors.ids()
        orphans = live[live >= self._catalog.next_id]
        if len(orphans):
            log.info("Dropping %d vectors of an unfinished update.", len(orphans))
            self._vectors.remove_ids(orphans)
            text.delete_symbols([SymbolId(int(i)) for i in orphans])
            self._vectors.commit()
            text.commit()
        live_set = set(live.tolist())
        for path, record in list(self._catalog.files.items()):
            if any(int(i) not in live_set for i in record.symbol_ids):
                # Its vectors were replaced by an unfinished batch: re-index it.
                record.mtime_ns = -1
                record.file_hash = ""
                log.info("Re-indexing %s: its vectors are incomplete.", path)

    def close(self) -> None:
        """Flush what is not yet durable, then release files and locks."""
        if self._closed:
            return
        self.flush()
        with self._update_lock, self._state_lock:
            self._closed = True
            self._close_parts()
            # Last: a reader waiting to take over finds every part's lock free.
            self._lock.release()

    def __enter__(self) -> VectorSearchEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- paths -----------------------------------------------------------

    def relative_path(self, path: Path | str) -> str:
        """The workspace-relative POSIX path of ``path`` (absolute or relative to the root)."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        try:
            return candidate.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return candidate.absolute().relative_to(self.root).as_posix()

    def absolute_path(self, relative: str) -> Path:
        return self.root / relative

    # -- indexing --------------------------------------------------------

    def index_tree(
        self,
        *,
        progress: Callable[[IndexProgress], None] | None = None,
        cancel: threading.Event | None = None,
        lazy_model: bool = False,
    ) -> IndexReport:
        """Bring the index up to date with the files on disk.

        Unchanged files (size and mtime, then content hash) are neither parsed
        nor embedded. Parses on all cores, embeds off the caller's thread only
        if the caller runs this in a worker (the LSP server does). Commits
        every ``INDEX_BATCH_FILES`` files, so an interruption loses little.
        ``lazy_model``: the caller vouches that the index on disk was built by
        the model its factory returns (see ``indexed_model_key``); the model is
        then loaded only when a file needs embedding, so a warm start with
        nothing changed never loads it (about 1 s of CPU).
        """
        started = time.perf_counter()
        self._require_writer("index the workspace")
        with self._update_lock:
            if lazy_model and not self._model_checked and self._vectors is not None:
                with self._state_lock:
                    self._reconcile()
            else:
                self.embedder  # noqa: B018 - loads the model, checks the index was built by it
            self._state = "indexing"
            try:
                with self._disk_writes("index the workspace"):
                    report = self._index_tree(progress, cancel, started)
            except BaseException:
                self._state = "error"
                raise
            self._state = "ready"
            return report

    def _index_tree(
        self,
        progress: Callable[[IndexProgress], None] | None,
        cancel: threading.Event | None,
        started: float,
    ) -> IndexReport:
        skipped: list[tuple[str, str]] = []
        files = list(
            discover(
                self.root,
                max_file_size=self.options.max_file_size,
                excludes=self.options.excludes,
                on_skip=lambda path, reason: skipped.append((path, reason)),
            )
        )
        for path, reason in skipped:
            log.info("Skipped %s: %s", path, reason)
        seen = {f.rel_path for f in files}
        removed = [path for path in self._catalog.files if path not in seen]
        if removed:
            self._apply([], removed_paths=removed)
        changed = [f for f in files if self._maybe_changed(f)]
        unchanged = len(files) - len(changed)
        total = len(files)
        done = unchanged
        embedded = 0
        indexed = 0
        skipped_files = 0
        if progress:
            progress(IndexProgress(done, total, len(self._catalog), "Checking files"))
        for start in range(0, len(changed), INDEX_BATCH_FILES):
            if cancel is not None and cancel.is_set():
                break
            batch = changed[start : start + INDEX_BATCH_FILES]
            parsed = list(
                parse_files(
                    batch,
                    workers=self.options.parse_workers,
                    max_file_size=self.options.max_file_size,
                )
            )
            changes: list[_FileChange] = []
            for item in parsed:
                change = self._change_from_parsed(item)
                if change is None:
                    unchanged += 1
                    continue
                if change.skipped_reason is not None:
                    skipped_files += 1
                    log.info("Skipped %s: %s", change.source.rel_path, change.skipped_reason)
                changes.append(change)
            embedder = None
            if any(change.symbols for change in changes):
                self._discarded = False
                embedder = self.embedder
                if self._discarded:
                    # Loading the model found the index built by another one and emptied
                    # it: start over, every file is new now.
                    return self._index_tree(progress, cancel, started)
            embedded += self._apply(changes, embedder=embedder)
            indexed += sum(1 for c in changes if c.skipped_reason is None)
            done += len(batch)
            if progress:
                progress(
                    IndexProgress(done, total, len(self._catalog), f"{done:,}/{total:,} files")
                )
        self._maybe_train()
        return IndexReport(
            files_seen=total,
            files_indexed=indexed,
            files_unchanged=unchanged,
            files_removed=len(removed),
            files_skipped=skipped_files + len(skipped),
            symbols_embedded=embedded,
            symbols_total=len(self._catalog),
            seconds=time.perf_counter() - started,
        )

    def _maybe_changed(self, source: SourceFile) -> bool:
        record = self._catalog.files.get(source.rel_path)
        return record is None or (record.size, record.mtime_ns) != (source.size, source.mtime_ns)

    def _change_from_parsed(self, parsed: ParsedFile) -> _FileChange | None:
        """None when the content is the same as indexed (only the mtime moved)."""
        source = parsed.file
        if parsed.skipped_reason is not None:
            return _FileChange(source, [], "", skipped_reason=parsed.skipped_reason)
        file_hash = _file_hash(parsed.symbols, source.rel_path)
        record = self._catalog.files.get(source.rel_path)
        if record is not None and record.file_hash == file_hash and record.mtime_ns != -1:
            with self._state_lock:
                record.size, record.mtime_ns = source.size, source.mtime_ns
            return None
        return _FileChange(source, list(parsed.symbols), file_hash)

    def update_file(
        self, path: Path | str, text: str | None = None, *, durable: bool = True
    ) -> UpdateReport:
        """Re-index one file, from ``text`` (an unsaved editor buffer) or from disk.

        Only symbols whose content hash changed are embedded; the others keep
        their ids and vectors. A file that vanished is removed. A file whose
        symbols and ranges are as indexed costs one parse and writes nothing.
        ``durable=False`` makes the change searchable here at once and leaves
        the disk commits (tens of ms of fsync) to the next ``flush()``.
        """
        relative = self.relative_path(path)
        absolute = self.absolute_path(relative)
        language = language_for_path(relative)
        if language is None:
            return UpdateReport(relative, 0, 0, 0, skipped_reason="unsupported language")
        self._require_writer(f"update {relative}")
        with self._update_lock:
            try:
                if text is None:
                    data = read_source(absolute, max_file_size=self.options.max_file_size)
                    stat = absolute.stat()
                    size, mtime_ns = stat.st_size, stat.st_mtime_ns
                else:
                    data = text.encode("utf-8", "surrogatepass")
                    size, mtime_ns = -1, -1  # an unsaved buffer: re-check against disk later
            except FileSkippedError as error:
                if not absolute.exists():
                    return self.remove_file(relative, durable=durable)
                return UpdateReport(relative, 0, 0, 0, skipped_reason=error.message)
            except FileNotFoundError:
                return self.remove_file(relative, durable=durable)
            symbols = extract_symbols(data, relative, language)
            source = SourceFile(absolute, relative, language, size, mtime_ns)
            file_hash = _file_hash(symbols, relative)
            record = self._catalog.files.get(relative)
            if record is not None and record.file_hash == file_hash:
                if text is None:
                    # Same content (a save of what the buffer had, a touch): note the
                    # disk's size and mtime so the next index_tree skips the file.
                    with self._state_lock:
                        record.size, record.mtime_ns = size, mtime_ns
                return UpdateReport(relative, 0, 0, 0)
            embedder = self.embedder
            before = len(record.symbol_ids) if record is not None else 0
            change = _FileChange(source, symbols, file_hash)
            with self._disk_writes(f"update {relative}"):
                embedded = self._apply([change], embedder=embedder, durable=durable)
            self._last_update = datetime.now(UTC)
            return UpdateReport(relative, len(symbols), before, embedded)

    def remove_file(self, path: Path | str, *, durable: bool = True) -> UpdateReport:
        """Forget a deleted (or now ignored) file; ``durable`` as for ``update_file``."""
        relative = self.relative_path(path)
        self._require_writer(f"remove {relative}")
        with self._update_lock:
            before = len(self._catalog.files.get(relative, FileRecord("", "", 0, 0, "")).symbol_ids)
            if relative in self._catalog.files:
                with self._disk_writes(f"remove {relative}"):
                    self._apply([], removed_paths=[relative], durable=durable)
            self._last_update = datetime.now(UTC)
            return UpdateReport(relative, 0, before, 0)

    def is_indexed(self, path: Path | str) -> bool:
        """Whether the file is in the index (it was discovered and not excluded)."""
        relative = self.relative_path(path)
        with self._state_lock:
            return relative in self._catalog.files

    def indexes_files_under(self, directory: Path | str) -> bool:
        """Whether any indexed file lies under ``directory`` (one pass over the file table)."""
        try:
            prefix = self.relative_path(directory).rstrip("/") + "/"
        except ValueError:  # outside the workspace
            return False
        with self._state_lock:
            return prefix == "./" or any(path.startswith(prefix) for path in self._catalog.files)

    def flush(self) -> bool:
        """Commit every change applied with ``durable=False``; True if there was any.

        Commits vectors → text → catalog, the order the recovery on open relies
        on. Updates wait only for the vector and text commits (their fsyncs,
        tens of ms) and a copy of the catalog's tables; the catalog snapshot
        is then written without blocking them (about 1 s per 100,000 symbols
        on the reference machine). Searches never wait.
        """
        with self._update_lock:
            if not self._unflushed or not self._lock.held:
                return False
            with self._disk_writes("save the index"):
                snapshot = self._commit_indexes()
        with self._disk_writes("save the index"):
            self._write_catalog(snapshot)
        return True

    def _commit(self) -> None:
        """Publish vectors, then text, then the catalog. Caller holds the update lock."""
        self._write_catalog(self._commit_indexes())

    def _commit_indexes(self) -> tuple[int, Catalog]:
        """Commit vectors then text; returns a numbered copy of the catalog to write next.

        Caller holds the update lock. No state lock: only the update-lock holder
        mutates the indexes and the catalog, and searches read snapshots.
        """
        if self._vectors is not None:
            self._vectors.commit()
        self._writable_text().commit()
        self._unflushed = False
        self._catalog_serial += 1
        return self._catalog_serial, self._catalog.copy_tables()

    def _write_catalog(self, snapshot: tuple[int, Catalog]) -> None:
        """Write a catalog copy unless a newer one was written already (writes serialised)."""
        serial, catalog = snapshot
        with self._catalog_write_lock:
            if serial <= self._catalog_written:
                return
            catalog.save(self._catalog_dir)
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
        with self._update_lock:
            if serial != self._catalog_serial or self._unflushed:
                return
            try:
                fresh = Catalog.load(self._catalog_dir)
            except QuiverError as error:  # the live catalog stays as it is: still right
                log.warning("Could not map the catalog just written: %s", error)
                return
            with self._state_lock:
                self._catalog = fresh

    def _apply(
        self,
        changes: Sequence[_FileChange],
        *,
        embedder: Embedder | None = None,
        removed_paths: Sequence[str] = (),
        durable: bool = True,
    ) -> int:
        """Embed what changed (outside the state lock), apply it, and commit if ``durable``.

        Returns how many symbol texts were sent to the model (cache misses).
        Applied changes are searchable in this process at once; with
        ``durable=False`` they reach the disk at the next ``flush()``.
        """
        # 1. Decide ids: unchanged symbols (same content hash and qualified name) keep theirs.
        plans: list[tuple[_FileChange, list[SymbolId], list[Symbol], list[SymbolId]]] = []
        to_embed: list[Symbol] = []
        for change in changes:
            old = {
                (r.content_hash, r.qualified_name): r.id
                for r in self._catalog.symbols_of(change.source.rel_path)
            }
            ids: list[SymbolId] = []
            new_symbols: list[Symbol] = []
            for symbol in change.symbols:
                kept = old.pop((symbol.content_hash, symbol.qualified_name), None)
                if kept is None:
                    new_symbols.append(symbol)
                ids.append(kept if kept is not None else SymbolId(-1))
            plans.append((change, ids, new_symbols, list(old.values())))
            to_embed.extend(new_symbols)
        # 2. Embed the new symbols (slow part: no state lock held).
        vectors = np.zeros((0, 0), dtype=np.float32)
        misses = 0
        if to_embed:
            assert embedder is not None
            counter = _MissCounter()
            vectors = embed_symbols(
                embedder, to_embed, cache=self._embedding_cache, on_progress=counter
            )
            misses = counter.misses
        # 3. Apply under the state lock, commit vectors → text → catalog.
        text = self._writable_text()
        with self._state_lock:
            assert self._vectors is not None or not to_embed
            removed_ids: list[SymbolId] = []
            for path in removed_paths:
                removed_ids.extend(self._catalog.remove_file(path))
            if removed_paths:
                text.delete_paths(removed_paths)
            add_ids: list[int] = []
            documents: list[TextDocument] = []
            for change, planned_ids, new_symbols, dropped in plans:
                removed_ids.extend(dropped)
                fresh = iter(self._catalog.allocate_ids(len(new_symbols)))
                final_ids: list[SymbolId] = []
                for planned in planned_ids:
                    if planned == -1:
                        # New symbols take fresh ids in the order their vectors were embedded.
                        fresh_id = next(fresh)
                        add_ids.append(int(fresh_id))
                        final_ids.append(fresh_id)
                    else:
                        final_ids.append(planned)
                records = [
                    SymbolRecord.from_symbol(i, s)
                    for i, s in zip(final_ids, change.symbols, strict=True)
                ]
                self._catalog.put_file(
                    FileRecord(
                        change.source.rel_path,
                        change.source.language,
                        change.source.size,
                        change.source.mtime_ns,
                        change.file_hash,
                    ),
                    records,
                )
                for symbol_id, symbol in zip(final_ids, change.symbols, strict=True):
                    documents.append(TextDocument(symbol_id, ClusterId(-1), symbol))
            text.delete_paths([c.source.rel_path for c in changes])
            if self._vectors is not None:
                if removed_ids:
                    self._vectors.remove_ids(np.asarray(removed_ids, dtype=np.int64))
                if add_ids:
                    self._vectors.add_with_ids(vectors, np.asarray(add_ids, dtype=np.int64))
                documents = self._with_clusters(documents)
            text.add(documents)
            if not durable:
                # Searchable in this process now (a few ms); ``flush`` makes it durable.
                text.refresh()
            self._names.remove(int(i) for i in removed_ids)
            self._names.add(
                [int(d.symbol_id) for d in documents], [d.symbol.name for d in documents]
            )
            self._catalog.generation += 1
            self._last_update = datetime.now(UTC)
            self._unflushed = True
        if durable:
            self._commit()
        return misses

    def _with_clusters(self, documents: list[TextDocument]) -> list[TextDocument]:
        """Attach each symbol's current IVF list id (the text index's FAST field)."""
        assert self._vectors is not None
        if not documents:
            return documents
        clusters = self._vectors.cluster_of(
            np.asarray([int(d.symbol_id) for d in documents], dtype=np.int64)
        )
        return [
            TextDocument(d.symbol_id, ClusterId(int(c)), d.symbol)
            for d, c in zip(documents, clusters, strict=True)
        ]

    def _maybe_train(self) -> None:
        """Train the IVF once there is enough data; retrain when lists drift."""
        vectors = self._vectors
        if vectors is None:
            return
        with self._state_lock:
            if not vectors.is_trained and vectors.ntotal >= MIN_VECTORS_TO_TRAIN:
                vectors.retrain()  # trains on a sample of the live vectors and builds the lists
            elif vectors.is_trained and vectors.needs_retrain():
                vectors.retrain()
            else:
                return
            vectors.commit()
            live = vectors.ids()
            clusters = vectors.cluster_of(live)
            text = self._writable_text()
            text.reassign_clusters(
                {SymbolId(int(i)): ClusterId(int(c)) for i, c in zip(live, clusters, strict=True)}
            )
            text.commit()

    # -- search ----------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResponse:
        """Answer a query in the given mode, filtered by kind, language and path globs.

        Raises ``InvalidQueryError`` for an empty or unusable query.
        """
        return self._search(query, snippets=True)

    def _search(self, query: SearchQuery, *, snippets: bool) -> SearchResponse:
        started = time.perf_counter()
        text = _validated_query(query.text)
        limit = max(1, min(query.limit, MAX_LIMIT))
        if query.mode not in SEARCH_MODES:
            raise InvalidQueryError(
                f"Unknown search mode {query.mode!r}.",
                f"Use one of: {', '.join(SEARCH_MODES)}.",
            )
        # Over-fetch so filters and fusion still leave `limit` answers.
        fetch = limit * (4 if (query.kinds or query.languages or query.paths) else 2)
        semantic_hits: list[tuple[int, float]] = []
        text_hits: list[tuple[int, float]] = []
        vectors: IVFIndex | None = None
        if query.mode in ("semantic", "hybrid"):
            model = self._model_for_queries()
            query_vector = model.embed_query(text)
            with self._state_lock:
                vectors = self._vectors_for(model)
            if vectors is not None:
                semantic_hits = self._semantic_hits(query_vector, fetch, query, vectors)
        if query.mode in ("text", "hybrid"):
            with self._state_lock:
                text_index = self._text
                hits = (
                    text_index.search(
                        text,
                        limit=fetch,
                        kinds=list(query.kinds) or None,
                        languages=list(query.languages) or None,
                        paths=list(query.paths) or None,
                    )
                    if text_index is not None
                    else []
                )
            text_hits = [(int(h.symbol_id), float(h.score)) for h in hits]
        if query.mode == "semantic":
            ranked = semantic_hits
        elif query.mode == "text":
            ranked = text_hits
        else:
            ranked = score_fusion(
                semantic_hits,
                text_hits,
                self._cosines(
                    vectors, query_vector, {i for i, _ in text_hits} - dict(semantic_hits).keys()
                ),
                DEFAULT_WEIGHTS[classify_query(text)],
            )
        found_by = {i: ("semantic",) for i, _ in semantic_hits}
        for i, _ in text_hits:
            found_by[i] = (*found_by.get(i, ()), "text")
        results = self._results(ranked[:limit], found_by, snippets=snippets)
        return SearchResponse(
            results=tuple(results),
            partial=self._state != "ready",
            generation=self._catalog.generation,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _cosines(
        self, vectors: IVFIndex | None, query_vector: np.ndarray, ids: set[int]
    ) -> dict[int, float]:
        """Exact cosine of the query with the stored vectors of ``ids`` (a few dozen at most)."""
        cosines: dict[int, float] = {}
        with self._state_lock:
            if vectors is None:
                return cosines
            for key in ids:
                stored = vectors.reconstruct(VectorId(key))
                if stored is not None:
                    cosines[key] = float(np.dot(stored, query_vector))
        return cosines

    def _semantic_hits(
        self, query_vector: np.ndarray, fetch: int, query: SearchQuery, vectors: IVFIndex | None
    ) -> list[tuple[int, float]]:
        """(symbol id, cosine similarity) of the nearest vectors passing the filters."""
        with self._state_lock:
            if vectors is None or vectors.ntotal == 0:
                return []
            k = fetch
            while True:
                scores, ids = vectors.search(query_vector[np.newaxis, :], min(k, vectors.ntotal))
                kept = [
                    (int(i), float(score))
                    for i, score in zip(ids[0], scores[0], strict=True)
                    if i >= 0 and self._passes(int(i), query)
                ]
                if len(kept) >= fetch or k >= vectors.ntotal:
                    return kept[:fetch]
                k *= 4

    def _passes(self, symbol_id: int, query: SearchQuery) -> bool:
        if not (query.kinds or query.languages or query.paths):
            # No filter: only whether the catalog knows it (no record is decoded).
            return SymbolId(symbol_id) in self._catalog.symbols
        record = self._catalog.symbols.get(SymbolId(symbol_id))
        if record is None:
            return False
        if query.kinds and record.kind not in query.kinds:
            return False
        if query.languages and record.language not in query.languages:
            return False
        return not query.paths or path_matches(query.paths, record.path)

    def _results(
        self,
        ranked: Sequence[tuple[int, float]],
        found_by: Mapping[int, tuple[str, ...]],
        *,
        snippets: bool = True,
    ) -> list[SearchResult]:
        results = []
        with self._state_lock:
            records = [(self._catalog.symbols.get(SymbolId(i)), score) for i, score in ranked]
        reader = SnippetReader() if snippets else None
        for record, score in records:
            if record is None:
                continue
            results.append(self._result(record, score, found_by.get(int(record.id), ()), reader))
        return results

    def _result(
        self,
        record: SymbolRecord,
        score: float,
        retrievers: tuple[str, ...],
        snippets: SnippetReader | None,
    ) -> SearchResult:
        absolute = self.absolute_path(record.path)
        return SearchResult(
            symbol_id=record.id,
            name=record.name,
            kind=record.kind,
            container=record.container,
            path=str(absolute),
            relative_path=record.path,
            range=record.range,
            selection_range=record.selection_range,
            language=record.language,
            signature=record.signature,
            snippet=snippets.snippet(absolute, record.range) if snippets is not None else "",
            score=float(score),
            retrievers=retrievers,
        )

    def similar(
        self, path: Path | str, line: int, character: int, *, limit: int = 20
    ) -> SearchResponse:
        """Code similar to the innermost symbol enclosing (line, character) of ``path``.

        Raises ``InvalidQueryError`` when no indexed symbol encloses the position.
        """
        started = time.perf_counter()
        relative = self.relative_path(path)
        with self._state_lock:
            enclosing = [
                r for r in self._catalog.symbols_of(relative) if _contains(r.range, line, character)
            ]
            if not enclosing:
                raise InvalidQueryError(
                    f"No indexed symbol encloses {relative}:{line + 1}:{character + 1}.",
                    "Place the cursor inside a function, method or class and try again.",
                )
            target = min(enclosing, key=lambda r: _span(r.range))
            vectors = self._vectors
            vector = vectors.reconstruct(VectorId(int(target.id))) if vectors else None
        if vector is None:
            raise InvalidQueryError(
                f"{target.qualified_name} is not embedded yet.",
                "Wait for indexing to finish (see `quiver/status`) and try again.",
            )
        query = SearchQuery(text=target.name, mode="semantic", limit=limit + 1)
        hits = self._semantic_hits(vector, limit + 1, query, vectors)
        ranked = [(i, score) for i, score in hits if i != int(target.id)][:limit]
        results = self._results(ranked, {i: ("semantic",) for i, _ in ranked})
        return SearchResponse(
            tuple(results),
            partial=self._state != "ready",
            generation=self._catalog.generation,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def workspace_symbols(
        self,
        query: str,
        *,
        limit: int = 100,
        names: bool = True,
        meaning: bool | None = None,
    ) -> list[SearchResult]:
        """Fuzzy name matches; a query that reads like a sentence also gets semantic matches.

        Semantic matches come first for a sentence (its words rarely spell a
        name), fuzzy matches first otherwise; duplicates are dropped. Fuzzy
        results have no retrievers, semantic ones ``("semantic",)``.
        ``names=False`` leaves out the fuzzy matches; ``meaning`` True/False
        forces the semantic matches in or out (None: ``reads_like_sentence``),
        so a server can send the instant name matches before the semantic ones.
        Results carry no snippet: reading files would cost more than matching.
        Names only: well under a millisecond on 100,000 symbols, no model.
        """
        limit = max(1, min(limit, 1000))
        fuzzy_ranked: list[tuple[int, float]] = []
        if names:
            with self._state_lock:
                fuzzy = self._names.search(query.strip(), limit=limit)
                fuzzy_ranked = [(m.key, m.score) for m in fuzzy]
        semantic: list[tuple[int, float]] = []
        if meaning if meaning is not None else reads_like_sentence(query):
            try:
                response = self._search(
                    SearchQuery(text=query, mode="hybrid", limit=limit), snippets=False
                )
            except InvalidQueryError:
                response = None
            if response is not None:
                semantic = [(int(r.symbol_id), r.score) for r in response.results]
        ordered = semantic + fuzzy_ranked
        seen: set[int] = set()
        unique = []
        for key, score in ordered:
            if key not in seen:
                seen.add(key)
                unique.append((key, score))
        found_by = {key: ("semantic",) for key, _ in semantic}
        return self._results(unique[:limit], found_by, snippets=False)

    def document_symbols(self, path: Path | str) -> list[SymbolRecord]:
        """The indexed symbols of one file, in source order."""
        relative = self.relative_path(path)
        with self._state_lock:
            records = self._catalog.symbols_of(relative)
        return sorted(records, key=lambda r: (r.range.start.line, r.range.start.character))

    # -- status ----------------------------------------------------------

    def consistency_problems(self) -> list[str]:
        """What disagrees between the catalog, the vector index and the text index.

        Every catalog symbol must have exactly one vector and one text document and
        nothing else may have either; an empty list means the three agree. Reads every
        id of each store (~0.1 s per 100,000 symbols); for checks and tests, not queries.
        """
        with self._state_lock:
            catalog_ids = [int(i) for i in self._catalog.symbols]
            filed = [int(i) for record in self._catalog.files.values() for i in record.symbol_ids]
            vector_ids = self._vectors.ids().tolist() if self._vectors is not None else []
            text_ids = [int(i) for i in self._text.symbol_ids()] if self._text is not None else []
        problems = []
        expected = set(catalog_ids)
        for label, ids in (
            ("catalog", catalog_ids),
            ("file table", filed),
            ("vector index", vector_ids),
            ("text index", text_ids),
        ):
            found = set(ids)
            if len(found) != len(ids):
                problems.append(f"{label}: {len(ids) - len(found)} duplicated ids")
            if found - expected:
                problems.append(f"{label}: {len(found - expected)} ids the catalog lacks")
            if expected - found:
                problems.append(f"{label}: {len(expected - found)} catalog ids missing")
        return problems

    def status(self) -> EngineStatus:
        with self._state_lock:
            vectors = self._vectors
            return EngineStatus(
                state=self._state,
                root=self.root,
                cache_dir=self.cache_dir,
                files=len(self._catalog.files),
                symbols=len(self._catalog),
                vectors=vectors.ntotal if vectors is not None else 0,
                generation=self._catalog.generation,
                model_id=self._catalog.model_id,
                dim=vectors.dim if vectors is not None else 0,
                disk_bytes=_disk_usage(self.cache_dir),
                last_update=self._last_update,
                message=(f"{len(self._catalog.files):,} files, {len(self._catalog):,} symbols"),
                role=self.role,
                writer_pid=self.writer_pid,
            )


class _MissCounter:
    """Counts how many texts ``embed_symbols`` actually sent to the model."""

    def __init__(self) -> None:
        self.misses = 0
        self._first = True

    def __call__(self, done: int, total: int) -> None:
        # The first report comes right after the cache look-up: what is not done is a miss.
        if self._first:
            self.misses = total - done
            self._first = False


def _name_index(catalog: Catalog) -> NameIndex[int]:
    """The fuzzy name index of every symbol in ``catalog`` (~0.08 s per 100,000 names)."""
    names: NameIndex[int] = NameIndex()
    names.add_utf8(*catalog.names())
    return names


def model_key(model_id: str, weights_sha256: str) -> str:
    """How an index records what its vectors came from: model id, weights hash, text template.

    The template version is part of it because an unchanged symbol keeps its vector
    across updates: a new template must re-embed everything, not only edited symbols.
    """
    return f"{model_id}@{weights_sha256}/text-v{SYMBOL_TEXT_VERSION}"


def reads_like_sentence(query: str) -> bool:
    """Whether ``workspace_symbols`` adds semantic matches: two or more words of prose."""
    return len(query.split()) >= 2 and classify_query(query) is QueryShape.SENTENCE


def _file_hash(symbols: Sequence[Symbol], relative: str) -> str:
    """What decides whether a file's records must be rewritten: its symbols and where they are.

    A symbol's ``content_hash`` covers its embedding text but not its range, so
    a line inserted above a function leaves every content hash as it was while
    every range below moves; the ranges are hashed too, or the catalog would
    keep the old locations.
    """
    return content_hash(
        *(
            f"{s.content_hash}:{s.range.start.line}:{s.range.start.character}:"
            f"{s.range.end.line}:{s.range.end.character}:"
            f"{s.selection_range.start.line}:{s.selection_range.start.character}"
            for s in symbols
        ),
        relative,
    )


def _validated_query(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise InvalidQueryError("The query is empty.", "Type a few words or a symbol name.")
    if len(stripped) > MAX_QUERY_CHARS:
        # Over-long input (a pasted file) is cut, not rejected: its head carries the intent.
        stripped = stripped[:MAX_QUERY_CHARS]
    return stripped


def _contains(span: Range, line: int, character: int) -> bool:
    start, end = span.start, span.end
    after_start = (line, character) >= (start.line, start.character)
    before_end = (line, character) <= (end.line, end.character)
    return after_start and before_end


def _span(span: Range) -> tuple[int, int]:
    return (span.end.line - span.start.line, span.end.character - span.start.character)


class SnippetReader:
    """Reads snippets for one answer: each file is read once, lines are found in C.

    Costs one ``read_bytes`` per distinct file (files are at most ``max_file_size``)
    and a ``bytes.split`` that stops at the last line needed.
    """

    def __init__(self) -> None:
        self._files: dict[Path, bytes | None] = {}

    def snippet(self, path: Path, span: Range, *, max_lines: int = 4, max_chars: int = 320) -> str:
        """The first lines of a symbol's body as it is on disk now (empty if unreadable)."""
        if path not in self._files:
            try:
                self._files[path] = path.read_bytes()
            except OSError:
                self._files[path] = None
        data = self._files[path]
        if data is None:
            return ""
        last = min(span.end.line, span.start.line + max_lines)
        raw = data.split(b"\n", last + 1)[span.start.line : last + 1]
        lines = [line.decode("utf-8", "replace").rstrip("\r") for line in raw]
        body = lines[1:] if len(lines) > 1 else lines
        indent = min((len(x) - len(x.lstrip()) for x in body if x.strip()), default=0)
        return "\n".join(x[indent:] for x in body[:max_lines])[:max_chars]


def _disk_usage(directory: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(directory):
        for name in filenames:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except OSError:
                continue
    return total
