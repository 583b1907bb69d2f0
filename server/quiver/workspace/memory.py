"""Keeping a long-running server's resident memory flat (glibc's malloc; elsewhere nothing).

glibc gives threads that allocate at the same time arenas of their own, up to eight
per core, and memory freed in one arena is reused only by allocations made from it:
a server whose threads come and go (``asyncio.to_thread``'s pool, the writer thread,
Tantivy's merge threads, ONNX Runtime's pool) keeps freeing in one arena what it
then allocates afresh in another. With `benchmarks/soak.py` (20 edits/s and 4
queries/s) the server grew 1.1 GB/hour that way; with two arenas it stays flat
(``benchmarks/README.md``, "Soak"). ``limit_arenas`` caps them for the process (call
it first, before threads start), and ``release_free_memory`` hands the free pages of
every arena back to the system (the writer thread calls it after each flush).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from functools import cache

__all__ = ["ARENAS", "limit_arenas", "release_free_memory"]

log = logging.getLogger(__name__)

#: glibc's ``M_ARENA_MAX`` (``malloc.h``).
_M_ARENA_MAX = -8
#: Arenas for the whole process: one for the main thread, one for all the others.
ARENAS = 2


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library's malloc controls, if this process allocates with glibc's."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the symbols the process already has
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None  # musl and others: their own allocator, nothing to tune
    return libc


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` unless ``MALLOC_ARENA_MAX`` already says
    how many (the user's choice wins). True if the cap was set. Costs a ``mallopt``."""
    libc = _glibc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))


def release_free_memory() -> None:
    """Return the free pages of every malloc arena to the system (``malloc_trim(0)``;
    about a millisecond per 100 MB of heap). Nothing where malloc is not glibc's."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
