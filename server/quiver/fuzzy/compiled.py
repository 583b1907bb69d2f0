"""Which alignment kernels run, plain Python or compiled by numba, and scoring one name.

A process starts on the plain-Python kernels of ``quiver.fuzzy.kernels`` (a search
scores its candidates in numpy meanwhile: ``quiver.fuzzy.numpy_scoring``); ``warm_up``
imports numba, compiles the kernels (cached on disk) and switches every later search
to them. ``ACTIVE`` holds both sets and the one in use; ``fuzzy_score`` scores one
name with it. numba is imported inside ``warm_up`` only, never by importing this module.
"""

from __future__ import annotations

import threading
import types
from typing import Any, NamedTuple

import numpy as np

from quiver.fuzzy.encoding import Query, prepare_query, prepared_name
from quiver.fuzzy.kernels import HELPERS, positions_of, score_top


class Kernels(NamedTuple):
    """The two entry points of the alignment, as plain Python or compiled."""

    score_top: Any
    positions_of: Any
    compiled: bool


def _compiled_kernels() -> Kernels:
    """The kernels compiled by numba (cached on disk, where ``quiver.jit`` says).
    Imports numba (~0.15 s).

    The helpers are compiled first; each entry point is then compiled from a copy
    of its function whose globals name the compiled helpers, because numba
    resolves the calls of a kernel through its globals and can only call
    compiled functions. The functions of ``quiver.fuzzy.kernels`` stay plain Python.
    """
    import numba

    import quiver.jit  # noqa: F401 - points numba's cache at Quiver's folder first

    helpers = {
        kernel.__name__: numba.njit(cache=True, nogil=True, inline="always")(kernel)
        for kernel in HELPERS
    }

    def compiled(kernel: Any) -> Any:
        rebound = types.FunctionType(
            kernel.__code__, {**kernel.__globals__, **helpers}, kernel.__name__
        )
        rebound.__qualname__ = kernel.__qualname__
        rebound.__doc__ = kernel.__doc__
        return numba.njit(cache=True, nogil=True)(rebound)

    return Kernels(compiled(score_top), compiled(positions_of), compiled=True)


class ActiveKernels:
    """Which kernels searches use: the plain ones until ``warm_up`` has loaded the others."""

    def __init__(self) -> None:
        self.plain = Kernels(score_top, positions_of, compiled=False)
        self.compiled: Kernels | None = None
        self.kernels = self.plain
        self.lock = threading.Lock()


ACTIVE = ActiveKernels()


def fuzzy_score(query: str, name: str) -> tuple[float, tuple[int, ...]] | None:
    """Score one name against a query: ``(score, matched positions)``, or ``None``
    when the query's characters do not all appear in the name in order.

    Gives exactly the score ``NameIndex.search`` ranks by. Costs ~0.1 ms of
    fixed numpy/dispatch overhead plus O(len(query) × len(name)); use
    ``NameIndex`` for many names.
    An empty query matches nothing here (the index lists names for it instead).
    """
    prepared = prepare_query(query)
    if prepared is None:
        return None
    return score_one(ACTIVE.kernels, prepared, name)


def score_one(kernels: Kernels, prepared: Query, name: str) -> tuple[float, tuple[int, ...]] | None:
    """``fuzzy_score`` of a prepared query with the given kernels."""
    lower, orig, bonus = prepared_name(name)
    if lower.shape[0] < prepared.length:
        return None
    slot = np.zeros(1, dtype=np.int64)
    offsets = np.zeros(1, dtype=np.int64)
    lengths = np.array([lower.shape[0]], dtype=np.int32)
    kept, scores = kernels.score_top(
        slot,
        offsets,
        lengths,
        np.full(1, np.iinfo(np.uint64).max, dtype=np.uint64),
        lower,
        orig,
        bonus,
        prepared.pattern_lower,
        prepared.pattern_orig,
        prepared.pattern_bits,
        prepared.raw_lower,
        prepared.raw_orig,
        1,
    )
    if kept.shape[0] == 0:
        return None
    score = float(scores[0])
    positions = kernels.positions_of(
        slot,
        offsets,
        lengths,
        lower,
        orig,
        bonus,
        prepared.pattern_lower,
        prepared.pattern_orig,
    )
    return score, tuple(positions[0].tolist())


def warm_up() -> None:
    """Load (or, the first time after installing, compile) the compiled kernels, and
    use them from now on; returns at once if that is done already.

    Until then searches score in numpy (``numpy_scoring``, the same results): fine
    for the first queries of a warm start (7 ms p50, 70 ms p99 on 100,000 names),
    several times slower than compiled. Costs ~0.35 s (importing numba and loading
    its on-disk cache) or, the first time after installing, several seconds of
    compiling; call it off the event loop, once the first answers are out.
    """
    with ACTIVE.lock:
        if ACTIVE.compiled is not None:
            ACTIVE.kernels = ACTIVE.compiled
            return
        kernels = _compiled_kernels()
        # One call of each entry point loads (or compiles) its machine code.
        prepared = prepare_query("wu")
        assert prepared is not None
        score_one(kernels, prepared, "warmUp")
        ACTIVE.compiled = ACTIVE.kernels = kernels


def kernels_compiled() -> bool:
    """Whether searches run the compiled kernels (``warm_up`` has finished)."""
    return ACTIVE.kernels.compiled
