"""How Quiver's numba kernels are compiled: once, cached on disk, safe to call from many threads.

The vector index's kernels (``quiver.ivf.kernels``) and the name matcher's
(``quiver.fuzzy``) import numba only through this module, and only when they are
first needed: importing numba costs ~0.15 s that a warm server's first answer
does not wait for.

Where compiled code is cached (decided when this module is imported):

1. ``NUMBA_CACHE_DIR`` if the user set it (numba's own rule);
2. otherwise numba's default, the ``__pycache__`` folder next to the kernel sources,
   when it is writable (a checkout or a user install);
3. otherwise (a read-only system install, a container image) a folder of Quiver's own:
   ``$QUIVER_CACHE_DIR/numba``, else ``$XDG_CACHE_HOME/quiver/numba``, else
   ``~/.cache/quiver/numba``, and if none of those can be used, a per-user folder
   in the system temporary directory (``quiver-numba-<uid>``). Without this step
   numba would fall back to ``~/.cache/numba`` when that is writable and raise at
   import time when it is not.

numba loads and runs the code it finds in its cache, so a fallback folder is used
only if this user alone can have written it (``quiver.private_dirs``): it is created
0700, and one owned by someone else, writable by group or others, or a symlink is
refused with a warning. The temporary folder's name can be guessed, so another user
may have made it first; when no fallback is usable, kernels are cached in a fresh
private folder for this process only (removed at exit): compiled again by every
process, never loaded from someone else's folder.

Numba keys its cache on a hash of the source file, so a changed kernel is recompiled
and a stale cache is never used.

Parallel kernels are launched under a process-wide lock: numba's portable
``workqueue`` threading layer aborts the process when two threads launch parallel
kernels at once, and the lock costs nothing when there is no contention. Serial
kernels release the GIL (``nogil=True``) and may run concurrently.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

import numba

from quiver.private_dirs import trusted_cache_directory

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Held while a ``parallel=True`` kernel runs.
PARALLEL_LOCK = threading.Lock()


def _writable_directory(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError:
        return False
    return True


def _usable_fallback(path: Path) -> bool:
    trusted = trusted_cache_directory(path, purpose="compiled numba kernels")
    return trusted is not None and _writable_directory(trusted)


def _folder_for_this_process() -> Path:
    """A fresh 0700 folder with an unguessable name, removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix="quiver-numba-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    log.warning(
        "No trusted folder for numba's cache of compiled kernels: they are cached in %s "
        "for this process only and compiled again by the next one.\n"
        "Suggestion: set QUIVER_CACHE_DIR (or NUMBA_CACHE_DIR) to a folder only you can write.",
        folder,
    )
    return folder


def choose_numba_cache_dir(source_dir: Path, env: Mapping[str, str]) -> Path | None:
    """Where numba should cache the kernels in ``source_dir``; ``None`` means numba's default.

    Returns ``None`` when ``NUMBA_CACHE_DIR`` is set or ``source_dir/__pycache__`` is
    writable, otherwise the first fallback described in the module docstring that is
    trusted (only this user can write it; created 0700 if missing) and writable, and
    when there is none, a fresh private folder for this process. Cost: at most a few
    ``stat``, ``mkdir`` and temporary-file probes.
    """
    if env.get("NUMBA_CACHE_DIR"):
        return None
    if _writable_directory(source_dir / "__pycache__"):
        return None
    candidates: list[Path] = []
    if env.get("QUIVER_CACHE_DIR"):
        candidates.append(Path(env["QUIVER_CACHE_DIR"]) / "numba")
    if env.get("XDG_CACHE_HOME"):
        candidates.append(Path(env["XDG_CACHE_HOME"]) / "quiver" / "numba")
    with contextlib.suppress(RuntimeError):  # no home directory
        candidates.append(Path.home() / ".cache" / "quiver" / "numba")
    uid = os.getuid() if hasattr(os, "getuid") else 0
    candidates.append(Path(tempfile.gettempdir()) / f"quiver-numba-{uid}")
    for candidate in candidates:
        if _usable_fallback(candidate):
            return candidate
    return _folder_for_this_process()


def configure_numba_cache() -> Path | None:
    """Apply ``choose_numba_cache_dir`` to this process; returns the folder if it set one."""
    chosen = choose_numba_cache_dir(Path(__file__).resolve().parent, os.environ)
    if chosen is not None:
        setattr(numba.config, "CACHE_DIR", str(chosen))  # noqa: B010 - numba has no stubs
    return chosen


NUMBA_CACHE_OVERRIDE = configure_numba_cache()


#: Fast-math flags that are safe here: re-association (vectorised sums) and fused
#: multiply-add, but not "no NaN/inf" (padding scores are -inf).
SAFE_FASTMATH = frozenset({"reassoc", "contract", "nsz", "arcp"})


def kernel(*, parallel: bool = False, fastmath: bool = True) -> Callable[[F], F]:
    """Decorator: compile with numba in nopython mode, GIL released, cached on disk.

    ``fastmath`` enables ``SAFE_FASTMATH``. Re-association changes the rounding of a
    sum but not its determinism: the same compiled loop gives the same bits for the
    same inputs.
    """

    def wrap(function: F) -> F:
        flags: set[str] | bool = set(SAFE_FASTMATH) if fastmath else False
        compiled = numba.njit(cache=True, nogil=True, parallel=parallel, fastmath=flags)
        return cast(F, compiled(function))

    return wrap
