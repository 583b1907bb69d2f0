"""The server's workspace: one engine per workspace folder, kept current in the background.

``WorkspaceSession`` is everything the language server does besides
translating messages: it opens a ``VectorSearchEngine`` per workspace folder
(multi-root), indexes them on a background thread, applies file changes
(debounced and coalesced, see ``quiver.lsp.changes``), watches the folders
for changes made outside the editor, and answers queries by fanning out to
the engines and merging their answers by score.

Threads. One writer thread (``quiver-index``) does all the writing, in
order: opening folders, indexing, applying change batches, flushing.
Queries run on the caller's thread (the server calls them through
``asyncio.to_thread``) and read the engines concurrently with the writer:
the engines answer from their last applied state while an update runs.
Events (file changes, progress, status) may come from any thread.

Sharing. Another server (another editor) may already write a folder's
cache; this session's engine for it is then a reader: it indexes nothing,
ignores file events (the writer sees them), follows the writer's new
generations every ``FOLLOW_INTERVAL_S`` and takes over the writing, with a
catch-up re-check of the folder, as soon as the writer has gone.

No LSP import: the server reports to the client through ``SessionListener``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from quiver.api import IndexProgress, SearchMode, SearchQuery, SearchResponse, SearchResult
from quiver.cache_paths import default_cache_root
from quiver.embed.embedder import Embedder
from quiver.engine import EngineOptions, VectorSearchEngine, model_key, reads_like_sentence
from quiver.engine.catalog import SymbolRecord
from quiver.errors import InvalidQueryError, QuiverError
from quiver.lsp.changes import ChangeBatch, ChangeKind, ChangeQueue, PathChange
from quiver.lsp.options import ServerOptions
from quiver.lsp.watcher import FolderWatcher, WatchEvent, is_watched_file
from quiver.parse import EXCLUDED_DIR_NAMES, extract_symbols, language_for_path
from quiver.symbols import Symbol, SymbolKind

__all__ = [
    "BURST_FILES",
    "FLUSH_IDLE_S",
    "FLUSH_MAX_DELAY_S",
    "SessionListener",
    "SessionState",
    "SessionStatus",
    "WorkspaceSession",
]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SessionState = Literal["starting", "indexing", "ready", "error"]

#: More changed files than this in one batch are handed to ``index_tree``
#: (one walk, one embedding batch) instead of one ``update_file`` each.
BURST_FILES = 32
#: Single-file updates are searchable at once; they are committed to disk once
#: edits pause this long (a flush makes the next edit wait for fsyncs) ...
FLUSH_IDLE_S = 2.0
#: ... and at least this often while edits never pause.
FLUSH_MAX_DELAY_S = 30.0
#: How long a query waits for a folder's index to open before answering without it.
OPEN_WAIT_S = 10.0
#: How often a reader checks for the writer's new generations, and whether it has gone.
FOLLOW_INTERVAL_S = 0.5
#: A warm start re-checks the files on disk once the first query has been answered, or
#: after this long: the check competes with that first answer for the CPU.
WARM_CHECK_DELAY_S = 1.0


class SessionListener(Protocol):
    """How the session reports to the client. Called from the session's threads."""

    def progress_begin(self, title: str, message: str) -> None:
        """Long work started (indexing); ``message`` like ``"0/2,000 files"``."""

    def progress_report(self, message: str, percentage: int) -> None:
        """Long work advanced."""

    def progress_end(self, message: str) -> None:
        """Long work finished (or stopped)."""

    def status_changed(self, *, state_changed: bool) -> None:
        """``status()`` changed; ``state_changed`` when ``state`` itself did."""

    def show_message(self, severity: Literal["error", "warning", "info"], message: str) -> None:
        """Something the user should see (an index that cannot be opened)."""


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """The whole workspace at a glance (``quiver/status``)."""

    state: SessionState
    message: str
    role: Literal["writer", "reader"]
    folders: tuple[Path, ...]
    files: int
    files_indexed: int
    symbols: int
    generation: int
    model_id: str
    dim: int
    cache_dir: Path
    disk_bytes: int
    last_update: datetime | None


@dataclass(slots=True)
class _Folder:
    """One workspace folder and its engine (None until opened, or after a failure)."""

    root: Path
    engine: VectorSearchEngine | None = None
    opened: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    indexing: bool = False
    indexed_once: bool = False
    files_done: int = 0
    files_total: int = 0
    # Paths a rescan found not to be indexable (ignored, excluded): their
    # events are dropped until the next rescan, so typing in an ignored file
    # does not walk the workspace on every keystroke.
    not_indexed: set[Path] = field(default_factory=set)

    def contains(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents


@dataclass(frozen=True, slots=True)
class _Job:
    """One unit of the writer thread's work."""

    label: str
    run: Callable[[], None]


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
        options: ServerOptions,
        listener: SessionListener,
        *,
        embedder_factory: Callable[[], Embedder] | None = None,
    ) -> None:
        self._options = options
        self._listener = listener
        self._embedder_factory = embedder_factory or _load_default_embedder
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()
        self._model_thread: threading.Thread | None = None
        self._model_failed = False
        self._answered = threading.Event()  # a first query has been answered
        self._lock = threading.Condition()
        self._folders: dict[Path, _Folder] = {}
        for root in folders:
            resolved = root.resolve()
            self._folders.setdefault(resolved, _Folder(resolved))
        self._jobs: deque[_Job] = deque()
        self._changes = ChangeQueue()
        self._buffers: dict[Path, str] = {}  # open documents with unsaved edits
        self._flush_at: float | None = None
        self._follow_at: float | None = None
        self._unflushed_since: float | None = None
        self._closing = False
        self._cancel = threading.Event()
        self._busy = 0  # indexing runs in progress (the writer thread's)
        self._watcher = FolderWatcher(self._on_watch_event)
        self._thread = threading.Thread(target=self._run, name="quiver-index", daemon=True)
        self._started = False

    # -- lifecycle -----------------------------------------------------------------

    @property
    def options(self) -> ServerOptions:
        return self._options

    @property
    def folders(self) -> tuple[Path, ...]:
        with self._lock:
            return tuple(self._folders)

    def start(self) -> None:
        """Open every folder, then index them all, on the writer thread. Returns at once."""
        with self._lock:
            if self._started:
                return
            self._started = True
            roots = list(self._folders)
            self._jobs.append(_Job("open folders", lambda: self._open_folders(roots)))
            self._jobs.append(_Job("index folders", lambda: self._check_folders(roots)))
        self._thread.start()
        # Load (or, on a fresh install, compile) the numba kernels before the first
        # Ctrl+T needs them: compiling takes seconds, which a request must not pay.
        threading.Thread(
            target=_warm_up_kernels, args=(self._answered,), name="quiver-warm-up", daemon=True
        ).start()

    def close(self, timeout: float = 5.0) -> bool:
        """Stop indexing and watching, flush pending changes and close every engine.

        Waits up to ``timeout`` seconds for the writer thread, which finishes the
        batch it is embedding (indexing stops between batches). Returns False if
        it did not stop in time: the engines are then left to the process exit,
        and the cache keeps its last committed state (each commit is atomic).
        """
        with self._lock:
            self._closing = True
            self._cancel.set()
            self._lock.notify_all()
        self._watcher.stop()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("Indexing did not stop within %.0f s; exiting without it.", timeout)
                return False
        for folder in self._take_all_folders():
            self._close_engine(folder)
        return True

    def _take_all_folders(self) -> list[_Folder]:
        with self._lock:
            folders = list(self._folders.values())
            self._folders.clear()
            return folders

    # -- configuration and folders -------------------------------------------------

    def set_options(self, options: ServerOptions) -> None:
        """Apply new options: engine settings re-open and re-check every folder (only the
        files they affect are re-indexed); ``watch`` starts or stops the watcher."""
        with self._lock:
            old, self._options = self._options, options
            reopen = (old.cache_dir, old.exclude, old.max_file_size) != (
                options.cache_dir,
                options.exclude,
                options.max_file_size,
            )
            if reopen and self._started:
                roots = list(self._folders)
                self._submit("reopen folders", lambda: self._reopen_folders(roots))
        if old.watch != options.watch:
            if options.watch:
                for root in self.folders:
                    self._watcher.watch(root)
            else:
                self._watcher.stop()

    def add_folder(self, root: Path) -> None:
        """Open and index another workspace folder in the background."""
        resolved = root.resolve()
        with self._lock:
            if resolved in self._folders:
                return
            self._folders[resolved] = _Folder(resolved)
            if self._started:
                self._submit(f"open {resolved}", lambda: self._open_folders([resolved]))
                self._submit(f"index {resolved}", lambda: self._index_folders([resolved]))

    def remove_folder(self, root: Path) -> None:
        """Stop watching a folder and close its engine (in the background)."""
        resolved = root.resolve()
        with self._lock:
            folder = self._folders.pop(resolved, None)
        if folder is None:
            return
        self._watcher.unwatch(resolved)
        self._submit(f"close {resolved}", lambda: self._close_engine(folder))
        self._listener.status_changed(state_changed=False)

    def reindex(self, *, rebuild: bool = False) -> bool:
        """Queue a re-check of every folder (``rebuild``: discard the caches and re-embed
        everything). False when there is no folder or the session is closing. Raises
        ``QuiverError`` when every folder's index is written by another process (which
        keeps it current; this session cannot rebuild it)."""
        with self._lock:
            roots = list(self._folders)
            if not roots or self._closing:
                return False
            engines = [f.engine for f in self._folders.values() if f.engine is not None]
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
                self._submit("rebuild", lambda: self._rebuild_folders(roots))
            else:
                self._submit("reindex", lambda: self._index_folders(roots))
            return True

    # -- file events -----------------------------------------------------------------

    def document_opened(self, path: Path, text: str) -> None:
        """An editor opened a file: index its text if it differs from the index."""
        self._put(path, PathChange(ChangeKind.BUFFER, text))

    def document_changed(self, path: Path, text: str) -> None:
        """An editor buffer changed: its text is indexed after the debounce."""
        with self._lock:
            self._buffers[path] = text
        self._put(path, PathChange(ChangeKind.BUFFER, text))

    def document_saved(self, path: Path) -> None:
        """A buffer was written: the file on disk is what to index now."""
        with self._lock:
            self._buffers.pop(path, None)
        self._put(path, PathChange(ChangeKind.DISK))

    def document_closed(self, path: Path) -> None:
        """A buffer was closed (unsaved edits discarded): re-read the file from disk."""
        with self._lock:
            had_edits = self._buffers.pop(path, None) is not None
        if had_edits:
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
        if is_watched_file(path):
            self._put(path, PathChange(ChangeKind.DELETED))
        if any(part in EXCLUDED_DIR_NAMES for part in path.parts):
            return
        engine = self._engine_for(path, wait=False)  # never block the caller's thread
        if (engine is not None and engine.indexes_files_under(path)) or (
            not path.suffix and not is_watched_file(path)
        ):
            self.directory_changed(path)

    def directory_changed(self, path: Path) -> None:
        """Many files under ``path`` may have changed: re-check its workspace folder."""
        with self._lock:
            self._changes.rescan(path)
            self._lock.notify_all()

    def _on_watch_event(self, path: Path, kind: WatchEvent) -> None:
        if kind == "rescan":
            self.directory_changed(path)
        elif kind == "deleted":
            self.file_deleted(path)
        else:
            self.file_changed(path)

    def _put(self, path: Path, change: PathChange) -> None:
        with self._lock:
            if self._closing:
                return
            self._changes.put(path, change)
            self._lock.notify_all()

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
        engines = self._engines()
        fuzzy: list[SearchResult] = []
        if names:
            for engine in engines:
                found = self._guarded(
                    engine,
                    lambda e: e.workspace_symbols(query, limit=limit, names=True, meaning=False),
                )
                fuzzy.extend(found or ())
        semantic: list[SearchResult] = []
        if engines and (meaning if meaning is not None else reads_like_sentence(query)):
            if not self._model_ready():
                # Words until the model is loaded (it loads in the background meanwhile).
                self._load_model_in_background()
                with contextlib.suppress(InvalidQueryError):
                    words = SearchQuery(text=query, mode="text", limit=limit)
                    semantic = list(self._search_engines(engines, words).results)
            elif len(engines) == 1:
                semantic = engines[0].workspace_symbols(
                    query, limit=limit, names=False, meaning=True
                )
            else:
                with contextlib.suppress(InvalidQueryError):
                    hybrid = SearchQuery(text=query, mode="hybrid", limit=limit)
                    semantic = list(self._search_engines(engines, hybrid).results)
        self._answered.set()
        return _unique([*semantic, *_by_score(fuzzy)])[:limit]

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
        started = time.perf_counter()
        query = SearchQuery(
            text=text,
            mode=mode,
            limit=limit,
            kinds=tuple(kinds),
            languages=tuple(languages),
            paths=tuple(paths),
        )
        engines = self._engines(required=True)
        if mode == "hybrid" and not self._model_ready():
            self._load_model_in_background()
            words = self._search_engines(engines, dataclass_replace(query, mode="text"), started)
            self._answered.set()
            return dataclass_replace(words, partial=True)
        response = self._search_engines(engines, query, started)
        self._answered.set()
        return response

    def similar(self, path: Path, line: int, character: int, *, limit: int) -> SearchResponse:
        """``quiver/similar``: code like the symbol enclosing the position, from the folder
        holding ``path`` (its engine's answer). Raises ``InvalidQueryError`` when the file
        is in no folder or no symbol encloses the position."""
        engine = self._engine_for(path)
        if engine is None:
            raise InvalidQueryError(
                f"{path} is not inside any workspace folder.",
                "Open the folder that holds this file as a workspace folder.",
            )
        return engine.similar(path, line, character, limit=limit)

    def document_symbols(
        self, path: Path, text: str | None = None
    ) -> Sequence[Symbol] | Sequence[SymbolRecord]:
        """The symbols of one file in source order: parsed from ``text`` (an open buffer,
        always current; ~1 ms per 100 lines) or else from the index."""
        language = language_for_path(path)
        if language is None:
            return []
        if text is not None:
            engine = self._engine_for(path)
            relative = engine.relative_path(path) if engine is not None else path.name
            return extract_symbols(text.encode("utf-8", "surrogatepass"), relative, language)
        engine = self._engine_for(path)
        return engine.document_symbols(path) if engine is not None else []

    def status(self) -> SessionStatus:
        """The workspace's state and counts (walks each cache directory for its size)."""
        with self._lock:
            folders = list(self._folders.values())
            busy = self._busy > 0
            started = self._started
        files = indexed = symbols = generation = disk = dim = 0
        model_id = ""
        readers: list[tuple[Path, int | None]] = []
        last: datetime | None = None
        errors = [f"{f.root.name}: {f.error}" for f in folders if f.error]
        for folder in folders:
            engine = folder.engine
            if engine is None:
                continue
            try:
                status = engine.status()
            except Exception:  # closed under our feet by a rebuild: skip this round
                continue
            if status.role == "reader":
                readers.append((folder.root, status.writer_pid))
            # While a folder is walked, its files are what the walk found so far.
            files += max(status.files, folder.files_total) if folder.indexing else status.files
            indexed += folder.files_done if folder.indexing else status.files
            symbols += status.symbols
            generation += status.generation
            disk += status.disk_bytes
            model_id = model_id or status.model_id
            dim = dim or status.dim
            if status.last_update is not None and (last is None or status.last_update > last):
                last = status.last_update
        state: SessionState
        if errors:
            state, message = "error", "; ".join(errors)
        elif busy:
            state, message = "indexing", f"Indexing {indexed:,}/{files:,} files"
        elif not started or not all(f.indexed_once for f in folders):
            state, message = "starting", "Starting"
        else:
            state, message = "ready", f"Indexed {files:,} files, {symbols:,} symbols"
        if readers and state != "error":
            writers = sorted({pid for _, pid in readers if pid is not None})
            by = f"process {', '.join(map(str, writers))}" if writers else "another process"
            message += f" (kept current by {by})"
        return SessionStatus(
            state=state,
            message=message,
            role="reader" if readers else "writer",
            folders=tuple(f.root for f in folders),
            files=files,
            files_indexed=indexed,
            symbols=symbols,
            generation=generation,
            model_id=model_id,
            dim=dim,
            cache_dir=self._options.cache_dir or default_cache_root(),
            disk_bytes=disk,
            last_update=last,
        )

    def _engines(self, *, required: bool = False) -> list[VectorSearchEngine]:
        """The open engines, waiting (bounded) for folders still opening."""
        with self._lock:
            folders = list(self._folders.values())
        engines = []
        deadline = time.monotonic() + OPEN_WAIT_S
        for folder in folders:
            folder.opened.wait(max(0.0, deadline - time.monotonic()))
            if folder.engine is not None:
                engines.append(folder.engine)
        if required and not engines:
            problems = "; ".join(f.error for f in folders if f.error)
            if not folders:
                raise QuiverError(
                    "There is no workspace folder to search.",
                    "Open a folder (or a workspace) in the editor.",
                )
            raise QuiverError(
                f"No workspace index is available{': ' + problems if problems else ''}.",
                "See the server's log; `quiver/reindex` with rebuild: true starts afresh.",
            )
        return engines

    def _engine_for(self, path: Path, *, wait: bool = True) -> VectorSearchEngine | None:
        """The engine of the innermost folder holding ``path`` (``wait``: for it to open)."""
        with self._lock:
            holding = [f for f in self._folders.values() if f.contains(path)]
        if not holding:
            return None
        folder = max(holding, key=lambda f: len(f.root.parts))
        if wait:
            folder.opened.wait(OPEN_WAIT_S)
        return folder.engine

    def _guarded(
        self, engine: VectorSearchEngine, call: Callable[[VectorSearchEngine], _T]
    ) -> _T | None:
        """One engine's answer; None (logged) if that engine failed, so the others still
        answer. An unusable query is the caller's error and propagates."""
        try:
            return call(engine)
        except InvalidQueryError:
            raise
        except Exception as error:
            log.warning("The index of %s could not answer: %s", engine.root, error)
            if len(self._folders) <= 1:
                raise
            return None

    def _search_engines(
        self,
        engines: Sequence[VectorSearchEngine],
        query: SearchQuery,
        started: float | None = None,
    ) -> SearchResponse:
        """One folder answers alone; several merge their answers by score.

        Scores are comparable across folders in every mode: cosine in semantic
        mode, BM25 in text mode, and in hybrid mode cosine plus a weighted BM25
        normalised by each folder's best match (see ``quiver.fusion.score_fusion``).
        """
        started = time.perf_counter() if started is None else started
        if len(engines) == 1:
            return engines[0].search(query)
        responses = self._responses(engines, query)
        merged = _unique(_by_score(_results(responses)))[: query.limit]
        return SearchResponse(
            results=tuple(merged),
            partial=any(r.partial for r in responses),
            # Several folders: the generation is the sum, which grows whenever any changes.
            generation=sum(r.generation for r in responses),
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _responses(
        self, engines: Sequence[VectorSearchEngine], query: SearchQuery
    ) -> list[SearchResponse]:
        return [
            response
            for engine in engines
            if (response := self._guarded(engine, lambda e: e.search(query))) is not None
        ]

    # -- the writer thread -----------------------------------------------------------

    def _submit(self, label: str, run: Callable[[], None]) -> None:
        """Queue work for the writer thread. Caller holds ``self._lock`` or not (re-entrant)."""
        with self._lock:
            self._jobs.append(_Job(label, run))
            self._lock.notify_all()

    def _run(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                job.run()
            except Exception as error:
                log.exception("Quiver's background work %r failed", job.label)
                self._listener.show_message("error", f"Quiver: {job.label} failed: {error}")

    def _next_job(self) -> _Job | None:
        with self._lock:
            while True:
                if self._closing:
                    return None
                if self._jobs:
                    return self._jobs.popleft()
                waits: list[float] = []
                due = self._changes.due_in()
                if due is not None:
                    if due <= 0:
                        batch = self._changes.take()
                        return _Job("apply changes", partial(self._apply_changes, batch))
                    waits.append(due)
                if self._flush_at is not None:
                    flush_in = self._flush_at - time.monotonic()
                    if flush_in <= 0:
                        self._flush_at = self._unflushed_since = None
                        return _Job("flush", self._flush)
                    waits.append(flush_in)
                if self._follow_at is not None:
                    follow_in = self._follow_at - time.monotonic()
                    if follow_in <= 0:
                        self._follow_at = None
                        return _Job("follow", self._follow)
                    waits.append(follow_in)
                self._lock.wait(min(waits) if waits else None)

    def _model_ready(self) -> bool:
        """Loaded, or failed to load: then queries take the normal path, which loads it
        on their own thread and reports why it cannot (a missing package, say)."""
        return self._embedder is not None or self._model_failed

    def _load_model_in_background(self) -> None:
        """Start loading the model (once) on a thread of its own; returns at once."""
        with self._lock:
            if self._embedder is not None or self._model_thread is not None or self._closing:
                return
            self._model_thread = threading.Thread(
                target=self._load_model_quietly, name="quiver-model", daemon=True
            )
            self._model_thread.start()

    def _load_model_quietly(self) -> None:
        started = time.perf_counter()
        try:
            self._embedder_once()
            log.info("Embedding model ready in %.2f s", time.perf_counter() - started)
        except Exception as error:  # the next semantic query reports it to the user
            log.error("Could not load the embedding model: %s", error)
            with self._lock:
                self._model_thread = None
                self._model_failed = True

    def _embedder_once(self) -> Embedder:
        """The model, loaded on first use and shared by every folder's engine."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = self._embedder_factory()
            return self._embedder

    def _engine_options(self) -> EngineOptions:
        options = self._options
        return EngineOptions(
            cache_root=options.cache_dir,
            max_file_size=options.max_file_size,
            excludes=options.exclude,
        )

    def _open_folders(self, roots: Sequence[Path]) -> None:
        for root in roots:
            folder = self._folder(root)
            if folder is None:
                continue
            try:
                started = time.perf_counter()
                folder.engine = VectorSearchEngine(
                    root, embedder_factory=self._embedder_once, options=self._engine_options()
                )
                folder.error = None
                status = folder.engine.status()
                log.info(
                    "Opened the index of %s (%s files, %s symbols) in %.2f s%s",
                    root,
                    f"{status.files:,}",
                    f"{status.symbols:,}",
                    time.perf_counter() - started,
                    ""
                    if status.role == "writer"
                    else f"; process {status.writer_pid or '?'} writes it, this one follows",
                )
            except QuiverError as error:
                folder.error = error.message
                log.error("Cannot open the index of %s: %s", root, error)
                self._listener.show_message("error", f"Quiver cannot index {root}: {error}")
            except OSError as error:
                folder.error = str(error)
                log.error("Cannot open the index of %s: %s", root, error)
                self._listener.show_message("error", f"Quiver cannot index {root}: {error}")
            finally:
                folder.opened.set()
            if folder.engine is not None and folder.engine.role == "writer" and self._options.watch:
                self._watcher.watch(root)
        self._schedule_follow()
        self._listener.status_changed(state_changed=True)

    def _folder(self, root: Path) -> _Folder | None:
        with self._lock:
            return self._folders.get(root)

    def _index_folders(self, roots: Sequence[Path], title: str = "Indexing") -> None:
        """index_tree each folder in turn, with progress; dirty buffers re-applied after.
        Folders this session only reads are left to their writer."""
        folders = []
        for root in roots:
            folder = self._folder(root)
            if folder is None or folder.engine is None:
                continue
            if folder.engine.role == "reader":
                folder.indexed_once = True
                continue
            folders.append(folder)
        if not folders:
            for root in roots:
                if (folder := self._folder(root)) is not None:
                    folder.indexed_once = True
            self._listener.status_changed(state_changed=True)
            return
        with self._lock:
            self._busy += 1
        self._listener.progress_begin(title, "Checking files")
        self._listener.status_changed(state_changed=True)
        symbols = files = 0
        stopped = False
        try:
            for position, folder in enumerate(folders):
                engine = folder.engine
                if engine is None:
                    continue
                folder.indexing = True
                report_progress = self._progress_reporter(folder, position, len(folders))
                try:
                    report = engine.index_tree(
                        progress=report_progress,
                        cancel=self._cancel,
                        lazy_model=self._built_by_our_model(engine),
                    )
                    files += report.files_seen
                    symbols += report.symbols_total
                    folder.error = None
                except QuiverError as error:
                    folder.error = error.message
                    log.error("Indexing %s failed: %s", folder.root, error)
                    self._listener.show_message("error", f"Quiver: indexing failed: {error}")
                finally:
                    folder.indexing = False
                    folder.indexed_once = True
                    folder.not_indexed.clear()
                self._reapply_buffers(folder)
                if self._cancel.is_set():
                    stopped = True
                    break
        finally:
            with self._lock:
                self._busy -= 1
            done = "Stopped" if stopped else f"Indexed {files:,} files, {symbols:,} symbols"
            self._listener.progress_end(done)
            self._listener.status_changed(state_changed=True)

    def _check_folders(self, roots: Sequence[Path]) -> None:
        """The first index run: on a warm cache, after the first answer (or a second), as is
        the model's load: both compete with that answer for the interpreter."""
        warm = [
            f
            for root in roots
            if (f := self._folder(root)) and f.engine and f.engine.status().files
        ]
        if warm:
            self._answered.wait(WARM_CHECK_DELAY_S)
            self._load_model_in_background()  # a warm index will be searched by meaning
        self._index_folders(roots)

    def _built_by_our_model(self, engine: VectorSearchEngine) -> bool:
        """Whether the index on disk comes from the default model the session loads, checked
        against its pinned id without loading it: then a re-check that finds nothing to
        embed never loads the model (it loads on first semantic use)."""
        if self._embedder_factory is not _load_default_embedder:
            return False
        from quiver.embed.model import DEFAULT_MODEL_ID, DEFAULT_WEIGHTS_SHA256

        return engine.indexed_model_key == model_key(DEFAULT_MODEL_ID, DEFAULT_WEIGHTS_SHA256)

    def _progress_reporter(
        self, folder: _Folder, position: int, count: int
    ) -> Callable[[IndexProgress], None]:
        prefix = f"{folder.root.name}: " if count > 1 else ""

        def report(progress: IndexProgress) -> None:
            folder.files_done, folder.files_total = progress.files_done, progress.files_total
            fraction = progress.files_done / progress.files_total if progress.files_total else 1
            percentage = int(100 * (position + fraction) / count)
            self._listener.progress_report(
                f"{prefix}{progress.files_done:,}/{progress.files_total:,} files", percentage
            )
            self._listener.status_changed(state_changed=False)

        return report

    def _reopen_folders(self, roots: Sequence[Path]) -> None:
        for root in roots:
            folder = self._folder(root)
            if folder is None:
                continue
            self._close_engine(folder)
            folder.opened.clear()
        self._open_folders(roots)
        self._index_folders(roots)

    def _rebuild_folders(self, roots: Sequence[Path]) -> None:
        rebuilt = []
        for root in roots:
            folder = self._folder(root)
            engine = folder.engine if folder is not None else None
            if engine is None:
                continue
            try:
                engine.rebuild_cache()  # under this process's writer lock
                rebuilt.append(root)
            except QuiverError as error:
                log.warning("Cannot rebuild the index of %s: %s", root, error)
                self._listener.show_message("warning", f"Quiver: {error}")
        self._index_folders(rebuilt, title="Rebuilding the index")

    def _close_engine(self, folder: _Folder) -> None:
        engine, folder.engine = folder.engine, None
        if engine is None:
            return
        try:
            engine.close()
        except Exception:
            log.exception("Closing the index of %s failed", folder.root)

    def _apply_changes(self, batch: ChangeBatch) -> None:
        """Apply one coalesced batch: single-file updates, or one index_tree per folder for
        bursts, new files and directory changes (its walk applies the ignore rules)."""
        with self._lock:
            # A folder this session only reads is updated by its writer, which sees the
            # same files; unsaved buffers are re-applied if this session takes over.
            folders = [
                f
                for f in self._folders.values()
                if f.engine is not None and f.engine.role == "writer"
            ]
            buffers = dict(self._buffers)
        changed_any = False
        for folder in folders:
            engine = folder.engine
            if engine is None:
                continue
            mine = {p: c for p, c in batch.paths.items() if folder.contains(p)}
            rescan = any(folder.contains(directory) for directory in batch.rescan)
            if not mine and not rescan:
                continue
            changed_any = True
            for path, change in mine.items():
                if change.kind is ChangeKind.DELETED:
                    folder.not_indexed.discard(path)
            relevant = {p: c for p, c in mine.items() if p not in folder.not_indexed}
            unknown = [
                p
                for p, c in relevant.items()
                if c.kind is not ChangeKind.DELETED
                and not engine.is_indexed(p)
                and is_watched_file(p)
                and p.exists()
            ]
            if rescan or unknown or len(relevant) > BURST_FILES:
                self._index_folders([folder.root], title="Updating the index")
                folder.not_indexed.update(p for p in unknown if not engine.is_indexed(p))
                continue
            for path, change in relevant.items():
                self._apply_one(engine, path, change, buffers)
        if changed_any:
            with self._lock:
                now = time.monotonic()
                if self._unflushed_since is None:
                    self._unflushed_since = now
                self._flush_at = min(now + FLUSH_IDLE_S, self._unflushed_since + FLUSH_MAX_DELAY_S)
            self._listener.status_changed(state_changed=False)

    def _apply_one(
        self,
        engine: VectorSearchEngine,
        path: Path,
        change: PathChange,
        buffers: dict[Path, str],
    ) -> None:
        try:
            if change.kind is ChangeKind.DELETED:
                engine.remove_file(path, durable=False)
            elif change.kind is ChangeKind.BUFFER and change.text is not None:
                if engine.is_indexed(path):
                    engine.update_file(path, change.text, durable=False)
            elif path not in buffers:  # an unsaved buffer wins over the disk
                engine.update_file(path, durable=False)
        except QuiverError as error:
            log.warning("Could not update %s: %s", path, error)

    def _reapply_buffers(self, folder: _Folder) -> None:
        """After a walk re-read files from disk, put the unsaved buffers back."""
        engine = folder.engine
        with self._lock:
            buffers = [(p, t) for p, t in self._buffers.items() if folder.contains(p)]
        if engine is None:
            return
        for path, text in buffers:
            if engine.is_indexed(path):
                try:
                    engine.update_file(path, text, durable=False)
                except QuiverError as error:
                    log.warning("Could not update %s: %s", path, error)

    def _schedule_follow(self) -> None:
        """Keep a follow tick queued while any folder is only read by this session."""
        with self._lock:
            reading = any(
                f.engine is not None and f.engine.role == "reader" for f in self._folders.values()
            )
            if reading and self._follow_at is None and not self._closing:
                self._follow_at = time.monotonic() + FOLLOW_INTERVAL_S
                self._lock.notify_all()

    def _follow(self) -> None:
        """Readers: take over from a writer that has gone, else follow its new generations."""
        with self._lock:
            reading = [
                f
                for f in self._folders.values()
                if f.engine is not None and f.engine.role == "reader"
            ]
        promoted: list[Path] = []
        changed = False
        for folder in reading:
            engine = folder.engine
            if engine is None:
                continue
            try:
                if engine.try_become_writer():
                    promoted.append(folder.root)
                elif engine.follow():
                    changed = True
            except QuiverError as error:
                log.warning("Could not follow the index of %s: %s", folder.root, error)
        for root in promoted:
            log.info("The writer of %s has gone: this session now keeps it current.", root)
            if self._options.watch:
                self._watcher.watch(root)
        if promoted:
            # What changed on disk while nobody wrote, then this editor's unsaved buffers.
            self._index_folders(promoted, title="Updating the index")
        elif changed:
            self._listener.status_changed(state_changed=False)
        self._schedule_follow()

    def _flush(self) -> None:
        with self._lock:
            engines = [f.engine for f in self._folders.values() if f.engine is not None]
        for engine in engines:
            try:
                engine.flush()
            except QuiverError as error:
                log.error("Could not commit the index of %s: %s", engine.root, error)


def _by_score(results: Iterable[SearchResult]) -> list[SearchResult]:
    return sorted(results, key=lambda r: -r.score)


def _results(responses: Iterable[SearchResponse]) -> list[SearchResult]:
    return [result for response in responses for result in response.results]


def _key(result: SearchResult) -> tuple[str, int, int, str]:
    """One symbol, whichever folder's index found it (nested folders index the same files)."""
    start = result.selection_range.start
    return (result.path, start.line, start.character, result.name)


def _unique(results: Iterable[SearchResult]) -> list[SearchResult]:
    """Drop repeats of one symbol, keeping the first."""
    seen: set[tuple[str, int, int, str]] = set()
    unique = []
    for result in results:
        key = _key(result)
        if key not in seen:
            seen.add(key)
            unique.append(result)
    return unique


def _load_default_embedder() -> Embedder:
    from quiver.embed.model import load_default_embedder

    return load_default_embedder()


def _warm_up_kernels(answered: threading.Event) -> None:
    """Load the compiled fuzzy-matching and IVF kernels once per process, off the event
    loop, once the first query was answered (or after a second): importing numba and
    loading its cache takes ~0.35 s of the GIL, which that answer must not wait for.
    Until then the name matcher scores in numpy (fast enough for the first queries) and
    semantic search waits for the model anyway."""
    from quiver.fuzzy import warm_up
    from quiver.ivf.scanning import warm_up_kernels

    try:
        answered.wait(WARM_CHECK_DELAY_S)
        started = time.perf_counter()
        warm_up()
        warm_up_kernels()
        log.info("Search kernels ready in %.2f s", time.perf_counter() - started)
    except Exception:  # a failed warm-up only costs the first query the same time
        log.exception("Warming up the search kernels failed")
