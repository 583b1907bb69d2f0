"""Small numpy helpers and array aliases shared by the index modules.

``FloatMatrix`` (rows of float32 vectors) and ``FloatVector`` (one of them) are the
shapes every stage passes: the embedder produces them, the vector index stores them.

``distinct`` exists for start-up time: a plain ``np.unique(values)`` in numpy 2.x
asks ``np.ma.is_masked`` whether its input is masked, and that first touch of
``np.ma`` imports ``numpy.ma`` (60-90 ms here). A warm server's first answer calls
it on the way (the vector index replays its change log with it, the name matcher
ranks with it), so every such call goes through here instead.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["FloatMatrix", "FloatVector", "distinct"]

ScalarT = TypeVar("ScalarT", bound=np.generic)
FloatMatrix = npt.NDArray[np.float32]
FloatVector = npt.NDArray[np.float32]


def distinct(values: npt.NDArray[ScalarT]) -> npt.NDArray[ScalarT]:
    """The sorted distinct elements of the 1-d array ``values`` (as ``np.unique``)."""
    ordered = np.sort(values, kind="stable")
    if ordered.shape[0] < 2:
        return ordered
    keep = np.empty(ordered.shape[0], dtype=np.bool_)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
