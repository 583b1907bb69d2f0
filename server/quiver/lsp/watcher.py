"""Quiver's own file watcher: changes made outside the editor (git checkout, formatters).

Some clients never send ``workspace/didChangeWatchedFiles`` (Neovim 0.7), so
the server watches its workspace folders itself with watchdog (inotify on
Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows). Events are
filtered to what can matter to the index and handed to a callback; the
session debounces and coalesces them (``quiver.lsp.changes``).

No LSP import. The callback runs on watchdog's thread: it must be quick.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from quiver.parse import EXCLUDED_DIR_NAMES, language_for_path
from quiver.parse.discover import IGNORE_FILE_NAMES
from quiver.parse.languages import EXTENSIONS, FILE_NAMES

__all__ = ["WATCH_GLOBS", "FolderWatcher", "WatchEvent", "is_watched_file"]

log = logging.getLogger(__name__)

#: What happened: a file to re-read, a file gone, or a directory to re-scan.
WatchEvent = Literal["changed", "deleted", "rescan"]
WatchCallback = Callable[[Path, WatchEvent], None]

#: Glob patterns of the files the index cares about, for the client's watcher.
WATCH_GLOBS: tuple[str, ...] = (
    "**/*.{" + ",".join(sorted(extension[1:] for extension in EXTENSIONS)) + "}",
    "**/{" + ",".join(sorted({*FILE_NAMES, *IGNORE_FILE_NAMES})) + "}",
)


def is_watched_file(path: Path) -> bool:
    """Whether a change to this file can change the index: a supported source file or an
    ignore file, outside the directories discovery always skips."""
    if any(part in EXCLUDED_DIR_NAMES for part in path.parts):
        return False
    return path.name in IGNORE_FILE_NAMES or language_for_path(path) is not None


def _is_watched_directory(path: Path) -> bool:
    return not any(part in EXCLUDED_DIR_NAMES for part in path.parts)


class FolderWatcher:
    """One watchdog observer for every workspace folder; started lazily, stopped by ``stop``.

    ``on_event(path, kind)`` hears: ``"changed"`` for a source file created or
    modified (or moved into place, as editors' atomic saves do), ``"deleted"``
    for one deleted or moved away, and ``"rescan"`` for a directory created,
    deleted or moved, or an ignore file changed (the folder's file set may
    have changed in ways single events do not tell).
    """

    def __init__(self, on_event: WatchCallback) -> None:
        self._on_event = on_event
        self._lock = threading.Lock()
        self._observer: Any = None
        self._watches: dict[Path, Any] = {}

    def watch(self, root: Path) -> bool:
        """Start watching ``root`` recursively; False (and a warning logged) if the OS refuses
        (inotify watch limit, a vanished folder). Costs one inotify watch per directory."""
        from watchdog import events
        from watchdog.observers import Observer

        with self._lock:
            if root in self._watches:
                return True
            try:
                if self._observer is None:
                    self._observer = Observer()
                    self._observer.daemon = True
                    self._observer.start()
                self._watches[root] = self._observer.schedule(
                    _Handler(self._on_event),
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
                )
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
            watch = self._watches.pop(root, None)
            if watch is not None and self._observer is not None:
                try:
                    self._observer.unschedule(watch)
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
    """Turns watchdog events into ``(path, kind)`` calls; drops what cannot matter."""

    def __init__(self, on_event: WatchCallback) -> None:
        self._on_event = on_event

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
                    if directory is not None and _is_watched_directory(directory):
                        self._on_event(directory, "rescan")
            return
        if kind == "moved":
            self._file(source, "deleted")
            if destination is not None:
                self._file(destination, "changed")
        elif kind == "deleted":
            self._file(source, "deleted")
        elif kind in ("created", "modified"):
            self._file(source, "changed")

    def _file(self, path: Path, kind: WatchEvent) -> None:
        if not is_watched_file(path):
            return
        self._on_event(path, "rescan" if path.name in IGNORE_FILE_NAMES else kind)
