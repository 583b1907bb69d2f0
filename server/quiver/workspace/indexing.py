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
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.errors import QuiverError
from quiver.workspace.changes import DocumentBuffers
from quiver.workspace.folders import Folder, FolderSet, selector_for
from quiver.workspace.model_loading import WARM_CHECK_DELAY_S, ModelLoader
from quiver.workspace.options import WorkspaceOptions
from quiver.workspace.status import SessionListener
from quiver.workspace.watcher import FolderWatcher

__all__ = ["FolderIndexer"]

log = logging.getLogger(__name__)


class FolderIndexer:
    """Brings the folders' engines into being and up to date with the files on disk.

    ``options`` returns the session's current options. ``on_opened`` runs after
    each round of opening (a folder may turn out to be read from another
    process's writes). Folders this session only reads are left to their writer.
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
        reporting a folder that cannot be opened; watch the ones this session writes."""
        options = self._options()
        for root in roots:
            folder = self._folders.get(root)
            if folder is None:
                continue
            folder.selector = selector_for(root, options)
            try:
                started = time.perf_counter()
                folder.engine = VectorSearchEngine(
                    root,
                    embedder_factory=self._models.embedder,
                    options=_engine_options(options),
                    selector=folder.selector,
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
            if folder.has_role("writer") and options.watch:
                self._watcher.watch(root, folder.selector)
        self._on_opened()
        self._listener.status_changed(state_changed=True)

    def index(self, roots: Sequence[Path], title: str = "Indexing") -> None:
        """index_tree each folder in turn, with progress; dirty buffers re-applied after.
        Folders this session only reads are left to their writer."""
        folders = []
        for root in roots:
            folder = self._folders.get(root)
            if folder is None or folder.engine is None:
                continue
            if folder.engine.role == "reader":
                folder.indexed_once = True
                continue
            folders.append(folder)
        if not folders:
            for root in roots:
                if (folder := self._folders.get(root)) is not None:
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
                        cancel=self.cancel,
                        lazy_model=self._models.built_by_default_model(engine),
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
                    # The walk re-read the ignore files: so will the selector, when next asked.
                    folder.selector.forget_ignore_rules()
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
            except QuiverError as error:
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
        """After a walk re-read files from disk, put the unsaved buffers back."""
        engine = folder.engine
        buffers = [(p, t) for p, t in self._buffers.snapshot().items() if folder.contains(p)]
        if engine is None:
            return
        for path, text in buffers:
            if engine.is_indexed(path):
                try:
                    engine.update_file(path, text, durable=False)
                except QuiverError as error:
                    log.warning("Could not update %s: %s", path, error)


def _engine_options(options: WorkspaceOptions) -> EngineOptions:
    return EngineOptions(
        cache_root=options.cache_dir,
        max_file_size=options.max_file_size,
        excludes=options.exclude,
        path_prior=options.path_prior,
    )
