"""The workspace session: one engine per workspace folder, kept current in the background.

``WorkspaceSession`` is the façade a front end (the language server) calls:
it opens a ``VectorSearchEngine`` per workspace folder (multi-root), indexes
them on a background thread, applies file changes (debounced and coalesced),
watches the folders for changes made outside the editor, and answers queries
by fanning out to the engines and merging their answers by score. The work
itself is done by the parts it wires together (see ``quiver.workspace``).

Threads. One writer thread (``quiver-index``, ``quiver.workspace.jobs``)
does all the writing, in order: opening folders, indexing, applying change
batches, flushing, following. Queries run on the caller's thread (the server
calls them through ``asyncio.to_thread``) and read the engines concurrently
with the writer. Events (file changes, progress, status) may come from any
thread. One condition (``self._lock``) guards the folders, the change queue
and the writer's timers; the writer thread sleeps on it.

Sharing. Another server (another editor) may already write a folder's
cache; this session then only reads it (``quiver.workspace.following``).

No LSP import: the server reports to the client through ``SessionListener``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from quiver.api import SearchMode, SearchResponse, SearchResult
from quiver.cache_paths import default_cache_root
from quiver.embed.embedder import Embedder
from quiver.engine import reads_like_sentence
from quiver.engine.catalog import SymbolRecord
from quiver.errors import QuiverError
from quiver.symbols import Symbol, SymbolKind
from quiver.workspace.applying import ChangeApplier
from quiver.workspace.changes import ChangeKind, DocumentBuffers, PathChange
from quiver.workspace.folders import Folder, FolderSet, selector_for
from quiver.workspace.following import ReaderFollower
from quiver.workspace.indexing import FolderIndexer
from quiver.workspace.jobs import Job, JobQueue
from quiver.workspace.large_files import BufferLimit, LargeUpdates
from quiver.workspace.model_loading import ModelLoader
from quiver.workspace.options import WorkspaceOptions
from quiver.workspace.queries import WorkspaceQueries
from quiver.workspace.recovery import WriteRetries
from quiver.workspace.status import SessionListener, SessionStatus, summarize
from quiver.workspace.watcher import FolderWatcher

__all__ = ["WorkspaceSession"]

log = logging.getLogger(__name__)


class WorkspaceSession:
    """The workspace folders of one client, each with its engine, kept current.

    ``start()`` opens and indexes the folders in the background and returns at
    once. Queries (``workspace_symbols``, ``search``, ``similar``,
    ``document_symbols``, ``status``) block their calling thread briefly and
    may run on any thread. ``close()`` stops the work and closes the engines
    (pending changes flushed, cache consistent).
    """

    def __init__(
        self,
        folders: Iterable[Path],
        options: WorkspaceOptions,
        listener: SessionListener,
        *,
        embedder_factory: Callable[[], Embedder] | None = None,
    ) -> None:
        self._options = options
        self._listener = listener
        self._lock = threading.Condition()
        self._started = False
        first_answer = threading.Event()  # a first query has been answered
        self._folders = FolderSet(self._lock)
        for root in folders:
            resolved = root.resolve()
            self._folders.add(Folder(resolved, selector_for(resolved, options)))
        self._buffers = DocumentBuffers()
        self._watcher = FolderWatcher(self._on_watch_event)
        self._models = ModelLoader(embedder_factory, first_answer)
        self._jobs = JobQueue(self._lock, on_failure=self._report_failure)
        self._follower = ReaderFollower(
            self._folders, lock=self._lock, listener=listener, take_over=self._take_over
        )
        self._retries = WriteRetries(
            self._folders,
            lock=self._lock,
            listener=listener,
            recover=self._recover,
        )
        self._buffer_limit = BufferLimit(listener)
        self._large = LargeUpdates(
            self._folders,
            lock=self._lock,
            staging=self._models.embedder,
            apply=self._apply_staged,
        )
        self._indexer = FolderIndexer(
            self._folders,
            lock=self._lock,
            listener=listener,
            models=self._models,
            buffers=self._buffers,
            watcher=self._watcher,
            options=lambda: self._options,
            first_answer=first_answer,
            on_opened=self._follower.schedule,
            retries=self._retries,
            buffer_limit=self._buffer_limit,
            large=self._large,
            embedder_factory=self._models.embedder,
        )
        self._applier = ChangeApplier(
            self._folders,
            lock=self._lock,
            indexer=self._indexer,
            buffers=self._buffers,
            listener=listener,
            retries=self._retries,
            buffer_limit=self._buffer_limit,
            large=self._large,
        )
        self._queries = WorkspaceQueries(
            self._folders, models=self._models, first_answer=first_answer
        )
        # When no job is queued the writer looks, in this order, for a change batch, a
        # flush, a follow tick and a retry of refused writes that are due, and only then
        # embeds the next chunk of a large update: small changes never wait behind one.
        self._jobs.add_timed_source(self._applier.changes_due)
        self._jobs.add_timed_source(self._applier.flush_due)
        self._jobs.add_timed_source(self._follower.due)
        self._jobs.add_timed_source(self._retries.due)
        self._jobs.add_timed_source(self._large.due)

    # -- lifecycle -----------------------------------------------------------------

    @property
    def options(self) -> WorkspaceOptions:
        return self._options

    @property
    def folders(self) -> tuple[Path, ...]:
        return tuple(self._folders.roots())

    def start(self) -> None:
        """Open every folder, then index them all, on the writer thread. Returns at once."""
        with self._lock:
            if self._started:
                return
            self._started = True
            roots = self._folders.roots()
            self._jobs.submit("open folders", lambda: self._indexer.open(roots))
            self._jobs.submit("index folders", lambda: self._indexer.check(roots))
        self._jobs.start()
        self._models.warm_up_kernels_in_background()

    def close(self, timeout: float = 5.0) -> bool:
        """Stop indexing and watching, flush pending changes and close every engine.

        Waits up to ``timeout`` seconds for the writer thread, which finishes the
        batch it is embedding (indexing stops between batches). Returns False if
        it did not stop in time: the engines are then left to the process exit,
        and the cache keeps its last committed state (each commit is atomic).
        """
        self._jobs.close()
        self._indexer.cancel.set()
        self._models.close()
        self._watcher.stop()
        if not self._jobs.join(timeout):
            log.warning("Indexing did not stop within %.0f s; exiting without it.", timeout)
            return False
        for folder in self._folders.take_all():
            self._indexer.close_engine(folder)
        return True

    # -- configuration and folders -------------------------------------------------

    def set_options(self, options: WorkspaceOptions) -> None:
        """Apply new options: engine settings re-open and re-check every folder (only the
        files they affect are re-indexed); ``watch`` starts or stops the watcher."""
        with self._lock:
            old, self._options = self._options, options
            reopen = (old.cache_dir, old.exclude, old.max_file_size, old.path_prior) != (
                options.cache_dir,
                options.exclude,
                options.max_file_size,
                options.path_prior,
            )
            if reopen and self._started:
                roots = self._folders.roots()
                self._jobs.submit("reopen folders", lambda: self._indexer.reopen(roots))
        if old.watch != options.watch:
            if options.watch:
                for folder in self._folders.snapshot():
                    self._watcher.watch(folder.root, folder.selector)
            else:
                self._watcher.stop()

    def add_folder(self, root: Path) -> None:
        """Open and index another workspace folder in the background. Queries do not wait
        for it (its opening may queue behind long work): it answers once open. One that
        cannot be indexed (missing, a file, unreadable) is reported and skipped."""
        resolved = root.resolve()
        folder = Folder(resolved, selector_for(resolved, self._options), awaited=False)
        with self._lock:
            if not self._folders.add(folder):
                return
            if self._started:
                self._jobs.submit(f"open {resolved}", lambda: self._indexer.open([resolved]))
                self._jobs.submit(f"index {resolved}", lambda: self._indexer.index([resolved]))

    def remove_folder(self, root: Path) -> None:
        """Stop watching a folder and close its engine (in the background)."""
        resolved = root.resolve()
        folder = self._folders.pop(resolved)
        if folder is None:
            return
        self._retries.forget(resolved)
        self._large.forget(resolved)
        self._watcher.unwatch(resolved)
        self._jobs.submit(f"close {resolved}", lambda: self._indexer.close_engine(folder))
        self._listener.status_changed(state_changed=False)

    def reindex(self, *, rebuild: bool = False) -> bool:
        """Queue a re-check of every folder (``rebuild``: discard the caches and re-embed
        everything). False when there is no folder or the session is closing. Raises
        ``QuiverError`` when every folder's index is written by another process (which
        keeps it current; this session cannot rebuild it)."""
        with self._lock:
            roots = self._folders.roots()
            if not roots or self._jobs.closing:
                return False
            engines = [f.engine for f in self._folders.snapshot() if f.engine is not None]
            if engines and all(engine.role == "reader" for engine in engines):
                pids = sorted({pid for e in engines if (pid := e.writer_pid) is not None})
                who = f"process {', '.join(map(str, pids))}" if pids else "another process"
                raise QuiverError(
                    f"The index is written by {who} (another editor or `quiver serve`); this "
                    "server follows it and keeps it current through it.",
                    "Reindex from the editor whose server writes the index, or close it: "
                    "this server then takes over within a second.",
                )
            if rebuild:
                self._jobs.submit("rebuild", lambda: self._indexer.rebuild(roots))
            else:
                # Folders that could not be opened (or saved) are tried again too.
                self._jobs.submit("reindex", lambda: self._indexer.recover(roots))
            return True

    # -- file events -----------------------------------------------------------------

    def document_opened(self, path: Path, text: str) -> None:
        """An editor opened a file: index its text if it differs from the index."""
        self._put(path, PathChange(ChangeKind.BUFFER, text))

    def document_changed(self, path: Path, text: str) -> None:
        """An editor buffer changed: its text is indexed after the debounce."""
        self._buffers.edited(path, text)
        self._put(path, PathChange(ChangeKind.BUFFER, text))

    def document_saved(self, path: Path) -> None:
        """A buffer was written: the file on disk is what to index now."""
        self._buffers.discard(path)
        self._put(path, PathChange(ChangeKind.DISK))

    def document_closed(self, path: Path) -> None:
        """A buffer was closed (unsaved edits discarded): re-read the file from disk."""
        if self._buffers.discard(path):
            self._put(path, PathChange(ChangeKind.DISK))

    def file_changed(self, path: Path) -> None:
        """A file (or a directory) was created or modified on disk."""
        if path.is_dir():
            self.directory_changed(path)
        else:
            self._put(path, PathChange(ChangeKind.DISK))

    def file_deleted(self, path: Path) -> None:
        """A file was deleted (or moved away). The path may have been a directory (clients
        report a deleted folder once, and it can no longer be asked): it was one if files
        under it are indexed, or if it has no extension; its files went with it."""
        folder = self._folders.innermost(path)
        if folder is None:  # in no folder: nothing indexed can have gone
            return
        may_matter = folder.selector.may_matter(path)
        if may_matter:
            self._put(path, PathChange(ChangeKind.DELETED))
        if not folder.selector.may_hold_files(path):
            return
        engine = folder.engine  # never wait for it to open: this is the caller's thread
        if (engine is not None and engine.indexes_files_under(path)) or (
            not path.suffix and not may_matter
        ):
            self.directory_changed(path)

    def directory_changed(self, path: Path) -> None:
        """Many files under ``path`` may have changed: re-check its workspace folder."""
        self._applier.rescan(path)

    def _on_watch_event(self, path: Path, kind: ChangeKind) -> None:
        """The watcher's events, already judged by the folder's selector: straight to the
        queue (the watcher told files from directories)."""
        if kind is ChangeKind.RESCAN:
            self.directory_changed(path)
        else:
            self._put(path, PathChange(kind))

    def _put(self, path: Path, change: PathChange) -> None:
        with self._lock:
            if self._jobs.closing:
                return
            self._applier.put(path, change)

    # -- queries ---------------------------------------------------------------------

    def workspace_symbols(
        self, query: str, *, limit: int, names: bool = True, meaning: bool | None = None
    ) -> list[SearchResult]:
        """Fuzzy name matches (and semantic ones for a sentence), merged across folders.

        ``names``/``meaning`` as for ``VectorSearchEngine.workspace_symbols``.
        Semantic matches come first, then name matches (fuzzy scores are
        comparable across folders). Names only: a fraction of a millisecond per
        folder, never the model.
        """
        return self._queries.workspace_symbols(query, limit=limit, names=names, meaning=meaning)

    def wants_meaning(self, query: str) -> bool:
        """Whether ``workspace_symbols`` adds semantic matches for this query."""
        return reads_like_sentence(query)

    def search(
        self,
        text: str,
        *,
        mode: SearchMode,
        limit: int,
        kinds: Sequence[SymbolKind] = (),
        languages: Sequence[str] = (),
        paths: Sequence[str] = (),
    ) -> SearchResponse:
        """``quiver/search`` over every folder: each answers ``limit`` results, merged by score.

        A hybrid search that arrives while the model is still loading (the first second
        of a warm start) answers with the text retriever alone, flagged ``partial``,
        instead of waiting for it; semantic mode waits. Raises ``InvalidQueryError`` for
        an unusable query and ``QuiverError`` when no folder could answer.
        """
        return self._queries.search(
            text, mode=mode, limit=limit, kinds=kinds, languages=languages, paths=paths
        )

    def similar(self, path: Path, line: int, character: int, *, limit: int) -> SearchResponse:
        """``quiver/similar``: code like the symbol enclosing the position, from the folder
        holding ``path`` (its engine's answer). Raises ``InvalidQueryError`` when the file
        is in no folder or no symbol encloses the position."""
        return self._queries.similar(path, line, character, limit=limit)

    def document_symbols(
        self, path: Path, text: str | None = None
    ) -> Sequence[Symbol] | Sequence[SymbolRecord]:
        """The symbols of one file in source order: parsed from ``text`` (an open buffer,
        always current; ~1 ms per 100 lines) or else from the index."""
        return self._queries.document_symbols(path, text)

    def status(self) -> SessionStatus:
        """The workspace's state and counts (walks each cache directory for its size)."""
        with self._lock:
            folders = self._folders.snapshot()
            busy = self._indexer.busy
            started = self._started
        cache_dir = self._options.cache_dir or default_cache_root()
        return summarize(folders, busy=busy, started=started, cache_dir=cache_dir)

    def _model_ready(self) -> bool:
        """Whether the model is loaded, or failed to load (``ModelLoader.ready``)."""
        return self._models.ready()

    # -- the writer thread's callbacks -----------------------------------------------

    def _take_over(self, roots: list[Path]) -> None:
        """This session now writes these folders (their writer went): watch them, then
        re-check them (what changed while nobody wrote, then the unsaved buffers)."""
        if self._options.watch:
            for root in roots:
                if (folder := self._folders.get(root)) is not None:
                    self._watcher.watch(root, folder.selector)
        self._indexer.index(roots, title="Updating the index")

    def _recover(self, roots: list[Path]) -> None:
        """Retry folders whose writes the disk refused (``WriteRetries``)."""
        self._indexer.recover(roots)

    def _apply_staged(self, folder: Folder, path: Path, change: PathChange) -> None:
        """Apply a large update once its vectors are ready (``LargeUpdates``)."""
        self._applier.apply_staged(folder, path, change)

    def _report_failure(self, job: Job, error: Exception) -> None:
        self._listener.show_message("error", f"Quiver: {job.label} failed: {error}")
