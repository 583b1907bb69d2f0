"""Quiver's own file watcher: changes made outside the editor (git checkout, formatters).

Some clients never send ``workspace/didChangeWatchedFiles`` (Neovim 0.7), so
the server watches its workspace folders itself with watchdog (inotify on
Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows). Each folder's
events are filtered by its ``FileSelector`` to what can matter to the index
(by name, no I/O), classified (``ChangeKind``) and handed to a callback; the
session debounces and coalesces them (``quiver.workspace.changes``).

No LSP import. The callback runs on watchdog's thread: it must be quick.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quiver.parse.selection import FileSelector, is_ignore_file
from quiver.workspace.changes import ChangeKind

__all__ = ["FolderWatcher", "WatchCallback"]

log = logging.getLogger(__name__)

#: Hears ``(path, kind)``: ``DISK``, ``DELETED`` or ``RESCAN``.
WatchCallback = Callable[[Path, ChangeKind], None]


class FolderWatcher:
    """One watchdog observer for every workspace folder; started lazily, stopped by ``stop``.

    ``on_event(path, kind)`` hears: ``DISK`` for a source file created or
    modified (or moved into place, as editors' atomic saves do), ``DELETED``
    for one deleted or moved away, and ``RESCAN`` for a directory created,
    deleted or moved, or an ignore file changed (the folder's file set may
    have changed in ways single events do not tell). A file event is already
    judged by the folder's selector (by name): the callback can queue it as is.
    """

    def __init__(self, on_event: WatchCallback) -> None:
        self._on_event = on_event
        self._lock = threading.Lock()
        self._observer: Any = None
        self._watches: dict[Path, tuple[Any, _Handler]] = {}

    def watch(self, root: Path, selector: FileSelector) -> bool:
        """Start watching ``root`` recursively, reporting what ``selector`` says may matter
        (a folder already watched keeps its watch and takes the new selector). False (and
        a warning logged) if the OS refuses (inotify watch limit, a vanished folder).
        Costs one inotify watch per directory."""
        from watchdog import events
        from watchdog.observers import Observer

        with self._lock:
            if root in self._watches:
                self._watches[root][1].selector = selector
                return True
            try:
                if self._observer is None:
                    self._observer = Observer()
                    self._observer.daemon = True
                    self._observer.start()
                handler = _Handler(self._on_event, selector)
                watch = self._observer.schedule(
                    handler,
                    str(root),
                    recursive=True,
                    event_filter=[
                        events.FileCreatedEvent,
                        events.FileModifiedEvent,
                        events.FileDeletedEvent,
                        events.FileMovedEvent,
                        events.DirCreatedEvent,
                        events.DirDeletedEvent,
                        events.DirMovedEvent,
                    ],
                    # The walk's rule: a link, to a directory out of the workspace or
                    # not, is never followed (the selector drops what lies below one).
                    follow_symlink=False,
                )
                self._watches[root] = (watch, handler)
            except OSError as error:
                log.warning(
                    "Cannot watch %s for changes (%s); edits made outside the editor will "
                    "be picked up by the next reindex. Suggestion: raise the inotify limit "
                    "(fs.inotify.max_user_watches) or exclude large generated folders.",
                    root,
                    error,
                )
                return False
            return True

    def unwatch(self, root: Path) -> None:
        """Stop watching ``root`` (no-op if it was not watched)."""
        with self._lock:
            watched = self._watches.pop(root, None)
            if watched is not None and self._observer is not None:
                try:
                    self._observer.unschedule(watched[0])
                except (KeyError, OSError):
                    log.debug("Watch of %s was already gone", root)

    def stop(self) -> None:
        """Stop every watch and the observer thread (waits up to a second for it)."""
        with self._lock:
            observer, self._observer = self._observer, None
            self._watches.clear()
        if observer is not None:
            observer.stop()
            observer.join(timeout=1.0)


class _Handler:
    """Turns one folder's watchdog events into ``(path, kind)`` calls; drops what its
    selector says cannot matter."""

    def __init__(self, on_event: WatchCallback, selector: FileSelector) -> None:
        self._on_event = on_event
        self.selector = selector

    def dispatch(self, event: Any) -> None:
        try:
            self._dispatch(event)
        except Exception:  # a watcher thread that dies silently stops all updates
            log.exception("Error while handling the file event %r", event)

    def _dispatch(self, event: Any) -> None:
        kind: str = event.event_type
        source = Path(os.fsdecode(event.src_path))
        destination = Path(os.fsdecode(event.dest_path)) if event.dest_path else None
        if event.is_directory:
            if kind in ("created", "deleted", "moved"):
                for directory in (source, destination):
                    if directory is not None and self.selector.may_hold_files(directory):
                        self._on_event(directory, ChangeKind.RESCAN)
            return
        if kind == "moved":
            self._file(source, ChangeKind.DELETED)
            if destination is not None:
                self._file(destination, ChangeKind.DISK)
        elif kind == "deleted":
            self._file(source, ChangeKind.DELETED)
        elif kind in ("created", "modified"):
            self._file(source, ChangeKind.DISK)

    def _file(self, path: Path, kind: ChangeKind) -> None:
        if not self.selector.may_matter(path):
            return
        self._on_event(path, ChangeKind.RESCAN if is_ignore_file(path) else kind)
