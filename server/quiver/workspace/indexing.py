"""Opening, walking, re-checking, rebuilding and closing the folders' engines.

Everything here runs on the writer thread (``quiver.workspace.jobs``), one
job at a time, and reports through the session's listener: progress while a
walk runs, a message when a folder's index cannot be opened.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from quiver.api import IndexProgress
from quiver.embed.embedder import Embedder
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.engine.durability import has_room, refused_write_error
from quiver.errors import QuiverError
from quiver.workspace.changes import ChangeKind, DocumentBuffers, PathChange
from quiver.workspace.folders import Folder, FolderSet, folder_problem, selector_for
from quiver.workspace.large_files import BufferLimit, LargeUpdates
from quiver.workspace.model_loading import WARM_CHECK_DELAY_S, ModelLoader
from quiver.workspace.options import WorkspaceOptions
from quiver.workspace.recovery import WriteRetries, refused_write
from quiver.workspace.status import SessionListener
from quiver.workspace.watcher import FolderWatcher

__all__ = ["FolderIndexer"]

log = logging.getLogger(__name__)


class FolderIndexer:
    """Brings the folders' engines into being and up to date with the files on disk.

    ``options`` returns the session's current options. ``on_opened`` runs after
    each round of opening (a folder may turn out to be read from another
    process's writes). Folders this session only reads are left to their writer.
    A folder that cannot be indexed is reported and skipped; writes the disk
    refuses go to ``retries``; buffers over the size limit are left out
    (``buffer_limit``) and large ones embedded a chunk per job (``large``). The
    engines get their model from ``embedder_factory``.
    """

    def __init__(
        self,
        folders: FolderSet,
        *,
        lock: threading.Condition,
        listener: SessionListener,
        models: ModelLoader,
        buffers: DocumentBuffers,
        watcher: FolderWatcher,
        options: Callable[[], WorkspaceOptions],
        first_answer: threading.Event,
        on_opened: Callable[[], None],
        retries: WriteRetries,
        buffer_limit: BufferLimit,
        large: LargeUpdates,
        embedder_factory: Callable[[], Embedder],
    ) -> None:
        self._folders = folders
        self._lock = lock
        self._listener = listener
        self._models = models
        self._buffers = buffers
        self._watcher = watcher
        self._options = options
        self._first_answer = first_answer
        self._on_opened = on_opened
        self._retries = retries
        self._buffer_limit = buffer_limit
        self._large = large
        self._embedder_factory = embedder_factory
        #: Set to stop a walk between its batches (the session is closing).
        self.cancel = threading.Event()
        self._busy = 0  # walks in progress

    @property
    def busy(self) -> bool:
        """Whether a walk is in progress."""
        with self._lock:
            return self._busy > 0

    def open(self, roots: Sequence[Path]) -> None:
        """Open the engine of each folder (its selector rebuilt from the current options),
        reporting a folder that cannot be indexed (and skipping it: the others open and
        answer as usual); watch the ones this session writes."""
        options = self._options()
        for root in roots:
            folder = self._folders.get(root)
            if folder is None:
                continue
            folder.selector = selector_for(root, options)
            try:
                self._open_one(folder, options)
            finally:
                folder.opened.set()
        self._on_opened()
        self._listener.status_changed(state_changed=True)

    def _open_one(self, folder: Folder, options: WorkspaceOptions) -> None:
        root = folder.root
        problem = folder_problem(root)
        if problem is not None:  # nothing to index, and no cache made for it
            self._cannot_index(folder, problem)
            return
        started = time.perf_counter()
        try:
            folder.engine = VectorSearchEngine(
                root,
                embedder_factory=self._embedder_factory,
                options=_engine_options(options),
                selector=folder.selector,
            )
        except Exception as error:  # one folder's failure must not keep the others closed
            if (refused := refused_write(error)) is not None:
                self._retries.refused(folder, refused)
            elif isinstance(error, QuiverError):
                self._cannot_index(folder, error)
            else:
                log.exception("Opening the index of %s failed", root)
                self._cannot_index(folder, _unexpected(f"open the index of {root}", error))
            return
        if not self._retries.pending(root):
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
        if folder.has_role("writer") and options.watch:
            self._watcher.watch(root, folder.selector)

    def _cannot_index(self, folder: Folder, error: QuiverError) -> None:
        """The folder cannot be indexed now: its part of the status says why, and the
        user is told once (not again while the reason stays the same)."""
        text = str(error)
        folder.indexed_once = True  # settled, if not well: the status says "error", not "starting"
        if folder.error == text:
            return
        folder.error = text
        log.error("Cannot index %s: %s", folder.root, error)
        self._listener.show_message("error", f"Quiver cannot index {folder.root}: {error}")
        self._listener.status_changed(state_changed=True)

    def recover(self, roots: Sequence[Path]) -> None:
        """Retry folders whose writes the disk refused (or that could not be opened): open
        those without an engine, re-check them all (which takes in every change a refusal
        dropped), then commit. A folder counts as recovered once a write succeeded."""
        closed = [root for root in roots if (f := self._folders.get(root)) and f.engine is None]
        if closed:
            self.open(closed)
        for folder in self.index(roots, title="Updating the index"):
            if not self._retries.pending(folder.root) or folder.engine is None:
                continue
            try:
                wrote = folder.engine.flush()
            except (QuiverError, OSError) as error:
                self._index_failed(folder, error)
                continue
            if not wrote and not has_room(folder.engine.cache_dir, probe=True):
                # Nothing needed writing, and the disk still refuses a probe: not yet.
                self._retries.refused(
                    folder,
                    refused_write_error(
                        folder.engine.cache_dir, "save the index", "the disk is full"
                    ),
                )
                continue
            self._retries.recovered(folder)

    def index(self, roots: Sequence[Path], title: str = "Indexing") -> list[Folder]:
        """index_tree each folder in turn, with progress; dirty buffers re-applied after.
        Folders this session only reads are left to their writer; a folder that is no
        longer there is reported and skipped (its index is kept for when it is back).
        Returns the folders whose walk succeeded."""
        folders = []
        for root in roots:
            folder = self._folders.get(root)
            if folder is None:
                continue
            if folder.engine is None or folder.engine.role == "reader":
                folder.indexed_once = True
                continue
            if (problem := folder_problem(root)) is not None:
                self._cannot_index(folder, problem)
                continue
            folders.append(folder)
        succeeded: list[Folder] = []
        if not folders:
            self._listener.status_changed(state_changed=True)
            return succeeded
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
                        cancel=self.cancel,
                        lazy_model=self._models.built_by_default_model(engine),
                    )
                    files += report.files_seen
                    symbols += report.symbols_total
                    succeeded.append(folder)
                    if not self._retries.pending(folder.root):  # else once it has written
                        folder.error = None
                except (QuiverError, OSError) as error:
                    self._index_failed(folder, error)
                finally:
                    folder.indexing = False
                    folder.indexed_once = True
                    # The walk re-read the ignore files: so will the selector, when next asked.
                    folder.selector.forget_ignore_rules()
                if succeeded and succeeded[-1] is folder:
                    self._reapply_buffers(folder)
                if self.cancel.is_set():
                    stopped = True
                    break
        finally:
            with self._lock:
                self._busy -= 1
            done = "Stopped" if stopped else f"Indexed {files:,} files, {symbols:,} symbols"
            self._listener.progress_end(done)
            self._listener.status_changed(state_changed=True)
        return succeeded

    def _index_failed(self, folder: Folder, error: QuiverError | OSError) -> None:
        if (refused := refused_write(error)) is not None:
            self._retries.refused(folder, refused)
        elif isinstance(error, QuiverError):
            folder.error = str(error)
            log.error("Indexing %s failed: %s", folder.root, error)
            self._listener.show_message("error", f"Quiver: indexing failed: {error}")
        else:
            raise error

    def check(self, roots: Sequence[Path]) -> None:
        """The first index run: on a warm cache, after the first answer (or a second), as is
        the model's load: both compete with that answer for the interpreter."""
        warm = [
            f
            for root in roots
            if (f := self._folders.get(root)) and f.engine and f.engine.status().files
        ]
        if warm:
            self._first_answer.wait(WARM_CHECK_DELAY_S)
            self._models.load_in_background()  # a warm index will be searched by meaning
        self.index(roots)

    def reopen(self, roots: Sequence[Path]) -> None:
        """Close and open each folder again (new options), then re-check it."""
        for root in roots:
            folder = self._folders.get(root)
            if folder is None:
                continue
            # Queries wait for the re-opened engine rather than answer from none at all:
            # an empty answer in between would read as "nothing matches".
            folder.opened.clear()
            self.close_engine(folder)
        self.open(roots)
        self.index(roots)

    def rebuild(self, roots: Sequence[Path]) -> None:
        """Discard each folder's cache and index it from scratch."""
        rebuilt = []
        for root in roots:
            folder = self._folders.get(root)
            engine = folder.engine if folder is not None else None
            if engine is None:
                continue
            try:
                engine.rebuild_cache()  # under this process's writer lock
                rebuilt.append(root)
            except (QuiverError, OSError) as error:
                if folder is not None and (refused := refused_write(error)) is not None:
                    self._retries.refused(folder, refused)
                    continue
                log.warning("Cannot rebuild the index of %s: %s", root, error)
                self._listener.show_message("warning", f"Quiver: {error}")
        self.index(rebuilt, title="Rebuilding the index")

    def close_engine(self, folder: Folder) -> None:
        """Close the folder's engine (its pending changes committed); failures are logged."""
        engine, folder.engine = folder.engine, None
        if engine is None:
            return
        try:
            engine.close()
        except Exception:
            log.exception("Closing the index of %s failed", folder.root)

    def _progress_reporter(
        self, folder: Folder, position: int, count: int
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

    def _reapply_buffers(self, folder: Folder) -> None:
        """After a walk re-read files from disk, put the unsaved buffers back (those over
        the size limit left out, large ones embedded a chunk per job)."""
        engine = folder.engine
        buffers = [(p, t) for p, t in self._buffers.snapshot().items() if folder.contains(p)]
        if engine is None:
            return
        for path, text in buffers:
            if not engine.is_indexed(path):
                continue
            if not self._buffer_limit.allows(path, text, folder.selector.max_file_size):
                continue
            if self._large.take(folder, engine, path, PathChange(ChangeKind.BUFFER, text)):
                continue
            try:
                engine.update_file(path, text, durable=False)
            except QuiverError as error:
                if (refused := refused_write(error)) is not None:
                    self._retries.refused(folder, refused)
                    return
                log.warning("Could not update %s: %s", path, error)


def _unexpected(action: str, error: Exception) -> QuiverError:
    return QuiverError(
        f"Could not {action}: {error}.",
        "See the server's log; Quiver: Reindex (`quiver/reindex`) tries again.",
    )


def _engine_options(options: WorkspaceOptions) -> EngineOptions:
    return EngineOptions(
        cache_root=options.cache_dir,
        max_file_size=options.max_file_size,
        excludes=options.exclude,
        path_prior=options.path_prior,
    )
