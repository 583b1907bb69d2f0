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
   ``~/.cache/quiver/numba``, and if none of those can be created, a per-user folder
   in the system temporary directory. Without this step numba would fall back to
   ``~/.cache/numba`` when that is writable and raise at import time when it is not.

Numba keys its cache on a hash of the source file, so a changed kernel is recompiled
and a stale cache is never used.

Parallel kernels are launched under a process-wide lock: numba's portable
``workqueue`` threading layer aborts the process when two threads launch parallel
kernels at once, and the lock costs nothing when there is no contention. Serial
kernels release the GIL (``nogil=True``) and may run concurrently.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

import numba

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


def choose_numba_cache_dir(source_dir: Path, env: Mapping[str, str]) -> Path | None:
    """Where numba should cache the kernels in ``source_dir``; ``None`` means numba's default.

    Returns ``None`` when ``NUMBA_CACHE_DIR`` is set or ``source_dir/__pycache__`` is
    writable, otherwise the first writable folder of the fallbacks described in the
    module docstring. Cost: at most a few ``mkdir`` and temporary-file probes.
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
        if _writable_directory(candidate):
            return candidate
    return candidates[-1]


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
