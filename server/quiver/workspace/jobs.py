"""The writer thread: one thread does all of the workspace's writing, in order.

Opening folders, indexing, applying change batches, flushing and following
another process's index all run as ``Job``s on the ``quiver-index`` thread,
so no two of them ever write at once. Jobs queued with ``submit`` run first,
in order; when none is queued the thread asks its timed sources (pending
change batches, the flush timer, the follow timer: ``add_timed_source``, in
that order) whether work is due, and sleeps on the session's condition until
the earliest one is, or until someone notifies it.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Job", "JobQueue", "TimedSource"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of the writer thread's work."""

    label: str
    run: Callable[[], object]


#: Asked under the condition's lock when no job is queued: a job that is due now, the
#: seconds until one will be, or None when nothing is pending. Must not block.
TimedSource = Callable[[], Job | float | None]


class JobQueue:
    """The ``quiver-index`` thread and its queue.

    ``lock`` is the session's condition: the thread waits on it, and whoever
    changes what a timed source answers notifies it. A job that raises is
    logged and reported through ``on_failure``; the thread goes on.
    """

    def __init__(
        self,
        lock: threading.Condition,
        *,
        on_failure: Callable[[Job, Exception], None],
        name: str = "quiver-index",
    ) -> None:
        self._lock = lock
        self._on_failure = on_failure
        self._jobs: deque[Job] = deque()
        self._timed: list[TimedSource] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def closing(self) -> bool:
        """Whether ``close`` was called: events and new work are then dropped."""
        return self._closing

    def add_timed_source(self, source: TimedSource) -> None:
        """Ask ``source`` for due work whenever the queue is empty (after those added before)."""
        with self._lock:
            self._timed.append(source)

    def start(self) -> None:
        """Start the thread (once)."""
        self._thread.start()

    def submit(self, label: str, run: Callable[[], object]) -> None:
        """Queue work for the writer thread. Caller holds the lock or not (re-entrant)."""
        with self._lock:
            self._jobs.append(Job(label, run))
            self._lock.notify_all()

    def close(self) -> None:
        """Stop taking work: the thread returns after the job it runs, if any."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the thread to end; False if it did not."""
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                return False
        return True

    def _run(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                job.run()
            except Exception as error:
                log.exception("Quiver's background work %r failed", job.label)
                self._on_failure(job, error)

    def _next_job(self) -> Job | None:
        with self._lock:
            while True:
                if self._closing:
                    return None
                if self._jobs:
                    return self._jobs.popleft()
                waits: list[float] = []
                for source in self._timed:
                    due = source()
                    if isinstance(due, Job):
                        return due
                    if due is not None:
                        waits.append(due)
                self._lock.wait(min(waits) if waits else None)
