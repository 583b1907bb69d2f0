"""File events: what happened to a path, debounced and coalesced into batches for the
index writer, and the editors' unsaved buffers.

Editors, the client's file watcher and Quiver's own watcher all report
changes in one vocabulary (``ChangeKind``). Events for one path coalesce
(the latest wins), so a burst of keystrokes, or the 1,000 files of a branch
switch, becomes one batch. A batch is due once no event arrived for
``quiet`` seconds, or ``max_delay`` seconds after its first event, so
continuous typing still updates the index a few times a second.

``ChangeQueue`` is not thread-safe by itself: the session guards it with
its lock. Pure Python, no LSP import.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_MAX_DELAY_S",
    "DEFAULT_QUIET_S",
    "ChangeBatch",
    "ChangeKind",
    "ChangeQueue",
    "DocumentBuffers",
    "PathChange",
]

#: A batch waits for this long without new events ...
DEFAULT_QUIET_S = 0.05
#: ... but never longer than this after its first event.
DEFAULT_MAX_DELAY_S = 0.25


class ChangeKind(enum.Enum):
    """What happened to a path, whoever reported it."""

    #: Created or modified on disk: re-read it.
    DISK = "disk"
    #: Deleted (or moved away): forget it.
    DELETED = "deleted"
    #: An editor buffer's text (unsaved content is what the user sees).
    BUFFER = "buffer"
    #: A directory created, deleted or moved, or an ignore file changed: the folder's
    #: file set may have changed in ways single events do not tell (``ChangeQueue.rescan``).
    RESCAN = "rescan"


@dataclass(frozen=True, slots=True)
class PathChange:
    """The latest event for one path; ``text`` only for ``BUFFER``."""

    kind: ChangeKind
    text: str | None = None


@dataclass(slots=True)
class ChangeBatch:
    """Everything that changed since the last batch.

    ``rescan`` holds directories whose contents changed wholesale (a folder
    moved or deleted, an ignore file edited): the index re-checks the whole
    workspace folder containing them.
    """

    paths: dict[Path, PathChange] = field(default_factory=dict)
    rescan: set[Path] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.paths or self.rescan)


class ChangeQueue:
    """Coalesces events into batches and says when the next batch is due."""

    def __init__(
        self,
        *,
        quiet: float = DEFAULT_QUIET_S,
        max_delay: float = DEFAULT_MAX_DELAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet = quiet
        self.max_delay = max_delay
        self._clock = clock
        self._batch = ChangeBatch()
        self._first: float | None = None
        self._last: float | None = None

    def __len__(self) -> int:
        return len(self._batch.paths) + len(self._batch.rescan)

    def put(self, path: Path, change: PathChange) -> None:
        """Record the latest event for ``path`` (replacing an earlier one)."""
        # Re-insert so the batch keeps the order of the latest events.
        self._batch.paths.pop(path, None)
        self._batch.paths[path] = change
        self._touch()

    def rescan(self, directory: Path) -> None:
        """Ask for a re-check of the workspace folder holding ``directory``."""
        self._batch.rescan.add(directory)
        self._touch()

    def _touch(self) -> None:
        now = self._clock()
        if self._first is None:
            self._first = now
        self._last = now

    def due_in(self) -> float | None:
        """Seconds until the pending batch is due (<= 0: now); None when nothing is pending."""
        if self._first is None or self._last is None:
            return None
        now = self._clock()
        return min(self._last + self.quiet, self._first + self.max_delay) - now

    def take(self) -> ChangeBatch:
        """The pending batch (possibly empty); the queue starts afresh."""
        batch, self._batch = self._batch, ChangeBatch()
        self._first = self._last = None
        return batch


class DocumentBuffers:
    """The open documents with unsaved edits: their text, not the disk's, is what the index
    shows. Thread-safe (a lock of its own, held for a dictionary operation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._texts: dict[Path, str] = {}

    def edited(self, path: Path, text: str) -> None:
        """The buffer of ``path`` now holds ``text``."""
        with self._lock:
            self._texts[path] = text

    def discard(self, path: Path) -> bool:
        """Forget the buffer of ``path`` (saved or closed); whether it had unsaved edits."""
        with self._lock:
            return self._texts.pop(path, None) is not None

    def snapshot(self) -> dict[Path, str]:
        """A copy of every unsaved buffer, by path."""
        with self._lock:
            return dict(self._texts)
