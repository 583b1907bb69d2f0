"""The single-writer lock: an advisory ``flock`` on a file in the index directory.

The operating system releases the lock when the holding process exits or dies, so a
lock can never be left stale by a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from quiver.errors import QuiverError
from quiver.private_dirs import open_private_file, tighten_directory

LOCK_NAME = "writer.lock"


class WriterLockedError(QuiverError):
    """Another process holds the writer lock of this index."""


class WriterLock:
    """Exclusive right to publish new generations in one directory.

    Readers never take it. The lock file holds the owner's pid for diagnostics only;
    the ``flock`` is what counts.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; returns whether it is now held (never blocks)."""
        if self._fd is not None:
            return True
        # The writer is about to fill this directory with indexed code: only the
        # user may enter it (0700), whatever the umask it was created under.
        tighten_directory(self.path.parent)
        fd = open_private_file(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        return True

    def holder_pid(self) -> int | None:
        """The pid the holder wrote into the lock file, if that process is alive; else None.

        Diagnostics only (a pid can be reused): it never touches the lock itself, so
        asking cannot make a process that is taking the lock at that moment fail.
        """
        if self._fd is not None:
            return os.getpid()
        try:
            text = self.path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return None
        if not text.isdigit():
            return None
        pid = int(text)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None  # the writer died; its pid stays in the file until the next one
        except PermissionError:
            return pid  # alive, another user's
        return pid

    def acquire(self) -> None:
        """Take the lock or raise ``WriterLockedError`` if another process holds it."""
        if not self.try_acquire():
            pid = self.holder_pid()
            who = f"Quiver process {pid}" if pid else "Another Quiver process"
            raise WriterLockedError(
                f"{who} is updating the index in {self.path.parent}.",
                "Let that process finish (or close the other editor); searches still work "
                "and follow its updates.",
            )

    def release(self) -> None:
        """Give the lock up (no-op if not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no pid: nobody holds it now
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
