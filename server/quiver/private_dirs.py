"""Directories and files only their owner can use: the cache and the compiled-code caches.

Two different dangers, two kinds of function:

* **Reading.** The index holds the bodies of the code it indexed, so everything
  Quiver writes under its cache is created 0700 (directories) or 0600 (files),
  whatever the process umask: :func:`make_private_directory`,
  :func:`open_private_file`.
* **Tampering.** numba's cache and the attrs bytecode cache hold code that is
  *loaded and run*: a directory someone else owns, or can write to, or a symlink
  planted in its place (a predictable name in the shared temporary folder), would
  let them run code as this user. :func:`untrusted_reason` says why a path must
  not be trusted, :func:`trusted_cache_directory` creates or checks one, and
  :func:`read_private_bytes` reads a file only when both it and its folder pass.

Nothing here imports more than the standard library: the store and the start-up
path call it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

#: Mode of every directory Quiver creates in its caches.
DIRECTORY_MODE = 0o700
#: Mode of every file Quiver creates in its caches.
FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO
_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


def _user() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else 0


def make_private_directory(directory: Path, *, tighten_existing: bool = True) -> None:
    """Create ``directory`` and every missing parent with mode 0700, whatever the umask.

    With ``tighten_existing`` (the default), an existing ``directory`` that this
    user owns and that lets group or others in is changed to 0700 (a cache written
    by an older version); parents that already existed are never changed (a cache
    root the user chose, their home). Cost: one ``stat`` when the directory is
    already private; a ``mkdir`` and ``chmod`` per created level otherwise.
    Raises ``OSError`` as ``Path.mkdir`` does.
    """
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for level in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            level.mkdir(mode=DIRECTORY_MODE)
            # mkdir's mode is masked by the umask; chmod is not (an exotic umask
            # such as 0o277 would otherwise leave the owner without write access)
            level.chmod(DIRECTORY_MODE)
    if not missing and tighten_existing:
        tighten_directory(directory)


def tighten_directory(directory: Path) -> None:
    """Make an existing ``directory`` 0700 if this user owns it and others may enter it.

    A directory that is not a directory (a symlink included), or that someone else
    owns, is left alone: the caller's own open or write reports it. Cost: one
    ``lstat``.
    """
    try:
        status = directory.lstat()
    except OSError:
        return
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != _user():
        return
    if status.st_mode & _OTHERS:
        try:
            directory.chmod(DIRECTORY_MODE)
        except OSError as error:  # a read-only file system: the caller's writes fail anyway
            log.debug("Could not make %s private: %s", directory, error)


def open_private_file(path: Path, flags: int) -> int:
    """``os.open(path, flags)`` creating the file 0600; returns the descriptor.

    A file that already exists with group or other bits (left by an older version,
    or a temporary file of a crashed writer) is changed to 0600 through the
    descriptor. Cost: one ``open`` and one ``fstat``.
    """
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        if os.fstat(descriptor).st_mode & _OTHERS:
            os.fchmod(descriptor, FILE_MODE)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def untrusted_reason(path: Path) -> str | None:
    """Why code loaded from ``path`` (a file or a directory) could be someone else's,
    or ``None`` when it is safe: only this user can have written it.

    Refused: a symlink, a path owned by another user, a path group or others may
    write to. A missing path is refused too (``"it does not exist"``). Cost: one
    ``lstat``.
    """
    try:
        status = path.lstat()
    except FileNotFoundError:
        return "it does not exist"
    except OSError as error:
        return f"it cannot be examined ({error.strerror or error})"
    if stat.S_ISLNK(status.st_mode):
        return "it is a symbolic link"
    if status.st_uid != _user():
        return f"it is owned by user id {status.st_uid}, not by this user ({_user()})"
    if status.st_mode & _WRITABLE_BY_OTHERS:
        return f"group or others may write to it (mode {stat.filemode(status.st_mode)})"
    return None


def trusted_cache_directory(directory: Path, *, purpose: str) -> Path | None:
    """``directory``, created 0700 if missing, when code may be loaded from it; else ``None``.

    ``None`` means: do not use it, and the reason has been logged as a warning naming
    ``purpose`` (e.g. "compiled numba kernels"). A directory that cannot be created
    is refused the same way. Cost: a ``stat``, plus a ``mkdir`` and ``chmod`` per
    created level.
    """
    try:
        make_private_directory(directory, tighten_existing=False)
    except OSError as error:
        log.info("Not caching %s in %s: it cannot be created (%s).", purpose, directory, error)
        return None
    reason = untrusted_reason(directory)
    if reason is None:
        return directory
    log.warning(
        "Not caching %s in %s: %s, so its contents could have been planted by someone "
        "else.\nSuggestion: remove it, or point the cache elsewhere (QUIVER_CACHE_DIR).",
        purpose,
        directory,
        reason,
    )
    return None


def read_private_bytes(path: Path) -> bytes:
    """The contents of ``path``, read only if only this user can have written them.

    Checks the folder (:func:`untrusted_reason`) and the open file itself (no symlink
    is followed; owner and mode are read from the descriptor, so the file checked is
    the file read). Raises ``PermissionError`` naming the reason, or ``OSError`` as
    opening the file does. Cost: an ``lstat``, an ``open``, an ``fstat`` and the read.
    """
    reason = untrusted_reason(path.parent)
    if reason is not None:
        raise PermissionError(f"{path.parent} is not trusted: {reason}")
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if status.st_uid != _user() or status.st_mode & _WRITABLE_BY_OTHERS:
            raise PermissionError(
                f"{path} is not trusted: owned by user id {status.st_uid}, "
                f"mode {stat.filemode(status.st_mode)}"
            )
        return file.read()
