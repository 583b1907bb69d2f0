"""Folders another process writes: follow its new generations, take over when it goes.

Another server (another editor) may already write a folder's cache; this
session's engine for it is then a reader: it indexes nothing, ignores file
events (the writer sees them), follows the writer's new generations every
``FOLLOW_INTERVAL_S`` and takes over the writing, with a catch-up re-check
of the folder, as soon as the writer has gone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from quiver.errors import QuiverError
from quiver.workspace.folders import FolderSet
from quiver.workspace.jobs import Job
from quiver.workspace.status import SessionListener

__all__ = ["FOLLOW_INTERVAL_S", "ReaderFollower"]

log = logging.getLogger(__name__)

#: How often a reader checks for the writer's new generations, and whether it has gone.
FOLLOW_INTERVAL_S = 0.5


class ReaderFollower:
    """Keeps a follow tick on the writer thread's timer while any folder is only read.

    ``take_over(roots)`` runs (on the writer thread) for the folders whose
    writer has gone and whose writing this session now holds: it watches
    them and re-checks them (what changed while nobody wrote, then this
    editor's unsaved buffers).
    """

    def __init__(
        self,
        folders: FolderSet,
        *,
        lock: threading.Condition,
        listener: SessionListener,
        take_over: Callable[[list[Path]], None],
    ) -> None:
        self._folders = folders
        self._lock = lock
        self._listener = listener
        self._take_over = take_over
        self._follow_at: float | None = None

    def schedule(self) -> None:
        """Keep a follow tick queued while any folder is only read by this session."""
        with self._lock:
            if self._follow_at is None and self._folders.with_role("reader"):
                self._follow_at = time.monotonic() + FOLLOW_INTERVAL_S
                self._lock.notify_all()

    def due(self) -> Job | float | None:
        """The writer thread's timed source (called under the lock)."""
        if self._follow_at is None:
            return None
        follow_in = self._follow_at - time.monotonic()
        if follow_in > 0:
            return follow_in
        self._follow_at = None
        return Job("follow", self._follow)

    def _follow(self) -> None:
        """Readers: take over from a writer that has gone, else follow its new generations."""
        promoted: list[Path] = []
        changed = False
        for folder in self._folders.with_role("reader"):
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
        if promoted:
            self._take_over(promoted)
        elif changed:
            self._listener.status_changed(state_changed=False)
        self.schedule()
