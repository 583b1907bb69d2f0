"""Writes the disk refused: reported once, retried with a backoff, recovered from.

A full disk (or a quota) makes a folder's commit fail: its engine re-opens the
last published generation (searches go on answering from it) and raises
``IndexWriteError``. The folder then shows the error (its part of the status,
and one message), its changes wait, and the writer thread retries the folder
``RETRY_FIRST_S`` later, then twice as long each time up to ``RETRY_MAX_S``;
an edit brings the retry to within ``RETRY_SOON_S``. A retry re-checks the
folder (``FolderIndexer.index``: what changed on disk, then the unsaved
buffers), which takes in every change the refusal dropped; while the disk
still refuses, the engine says so at once, before walking anything.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from quiver.errors import IndexWriteError, QuiverError
from quiver.workspace.folders import Folder, FolderSet
from quiver.workspace.jobs import Job
from quiver.workspace.status import SessionListener

__all__ = ["RETRY_FIRST_S", "RETRY_MAX_S", "RETRY_SOON_S", "WriteRetries", "refused_write"]

log = logging.getLogger(__name__)

#: The first retry of a refused write comes this long after it ...
RETRY_FIRST_S = 2.0
#: ... each next one twice as long after the last, up to this.
RETRY_MAX_S = 60.0
#: An edit in the folder brings its retry this close (never sooner than the last one
#: plus this: a retry costs a walk of the folder).
RETRY_SOON_S = 2.0

#: A write the disk refused for want of room (full, quota, file size limit) or read-only.
_REFUSED = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def refused_write(error: BaseException) -> IndexWriteError | None:
    """``error`` as a refused write of the index, or None if it is something else: the
    engine's ``IndexWriteError``, or a bare ``OSError`` of a full or read-only disk from
    outside its commits (the embedding cache's files, say)."""
    if isinstance(error, IndexWriteError):
        return error
    if isinstance(error, OSError) and error.errno in _REFUSED:
        return IndexWriteError(
            f"Could not write the index: {error.strerror} ({error.filename or 'the cache'}).",
            "Free some disk space (or point QUIVER_CACHE_DIR / the cacheDir option at a disk "
            "with room); Quiver retries by itself and takes in every change meanwhile.",
        )
    return None


@dataclass(slots=True)
class _Retry:
    at: float
    delay: float
    last: float


class WriteRetries:
    """The folders whose writes the disk refused, and when each is retried.

    ``refused``, ``recovered`` and ``hasten`` run on the writer thread; ``due`` is
    one of its timed sources (called under the session's condition ``lock``).
    ``recover(roots)`` re-opens what could not be opened and re-checks the rest.
    """

    def __init__(
        self,
        folders: FolderSet,
        *,
        lock: threading.Condition,
        listener: SessionListener,
        recover: Callable[[list[Path]], None],
    ) -> None:
        self._folders = folders
        self._lock = lock
        self._listener = listener
        self._recover = recover
        self._retries: dict[Path, _Retry] = {}

    def pending(self, root: Path) -> bool:
        """Whether the folder at ``root`` waits for a retry of a refused write."""
        with self._lock:
            return root in self._retries

    def refused(self, folder: Folder, error: QuiverError) -> None:
        """A write of ``folder`` was refused: show it (the first time), retry later."""
        now = time.monotonic()
        with self._lock:
            retry = self._retries.get(folder.root)
            first = retry is None
            delay = RETRY_FIRST_S if retry is None else min(2 * retry.delay, RETRY_MAX_S)
            self._retries[folder.root] = _Retry(at=now + delay, delay=delay, last=now)
            self._lock.notify_all()
        folder.error = str(error)
        if first:
            log.error("Cannot save the index of %s: %s", folder.root, error)
            self._listener.show_message(
                "error", f"Quiver cannot save the index of {folder.root}: {error}"
            )
        else:
            log.info("Still cannot save the index of %s; next try in %.0f s", folder.root, delay)
        self._listener.status_changed(state_changed=first)

    def recovered(self, folder: Folder) -> None:
        """``folder`` was written again: forget its retry and say so."""
        with self._lock:
            if self._retries.pop(folder.root, None) is None:
                return
        folder.error = None
        log.info("The index of %s is saved again.", folder.root)
        self._listener.show_message("info", f"Quiver: the index of {folder.root} is saved again.")
        self._listener.status_changed(state_changed=True)

    def forget(self, root: Path) -> None:
        """The folder left the workspace."""
        with self._lock:
            self._retries.pop(root, None)

    def hasten(self, root: Path) -> None:
        """An edit in the folder: retry soon (the user wants it searchable)."""
        with self._lock:
            retry = self._retries.get(root)
            if retry is not None:
                retry.at = min(retry.at, max(time.monotonic(), retry.last + RETRY_SOON_S))
                self._lock.notify_all()

    def due(self) -> Job | float | None:
        """The writer thread's timed source: the retries that are due, as one job."""
        if not self._retries:
            return None
        now = time.monotonic()
        due = [root for root, retry in self._retries.items() if retry.at <= now]
        if not due:
            return min(retry.at for retry in self._retries.values()) - now
        for root in due:
            # Not due again until this try has failed (``refused`` reschedules it).
            self._retries[root].at = float("inf")
        return Job("retry refused writes", partial(self._retry, due))

    def _retry(self, roots: list[Path]) -> None:
        present = [root for root in roots if self._folders.get(root) is not None]
        for root in set(roots) - set(present):
            self.forget(root)
        if present:
            self._recover(present)
        with self._lock:
            for root in present:
                retry = self._retries.get(root)
                if retry is not None and retry.at == float("inf"):
                    # Neither written nor refused (the folder was skipped): try again later.
                    retry.delay = min(2 * retry.delay, RETRY_MAX_S)
                    retry.at = time.monotonic() + retry.delay
