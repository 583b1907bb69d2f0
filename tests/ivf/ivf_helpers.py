"""Shared helpers for the IVF tests: small exact data sets and a brute-force reference."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt


def grid_vectors(rng: np.random.Generator, count: int, dim: int) -> npt.NDArray[np.float32]:
    """Vectors whose components are multiples of 1/4 in [-0.75, 0.75].

    Every inner product of two of them is a multiple of 1/16 far below 2**24/16, so it
    is exact in float32 whatever the summation order: scores can be compared with
    ``==`` and ties are real ties.
    """
    return (rng.integers(-3, 4, size=(count, dim)) / 4).astype(np.float32)


def unit_vectors(rng: np.random.Generator, count: int, dim: int) -> npt.NDArray[np.float32]:
    """Random unit vectors (float32)."""
    matrix = rng.standard_normal((count, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def brute_force(
    live: Mapping[int, npt.NDArray[np.float32]], queries: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Exact top-k by inner product over ``live`` (id -> vector), ties broken by smaller id.

    Computed in float64 and rounded to float32 (exact for ``grid_vectors``); padded
    with -inf / -1 like the index.
    """
    ids = np.array(sorted(live), dtype=np.int64)
    scores_out = np.full((queries.shape[0], k), -np.inf, dtype=np.float32)
    ids_out = np.full((queries.shape[0], k), -1, dtype=np.int64)
    if ids.size == 0:
        return scores_out, ids_out
    matrix = np.stack([live[int(i)] for i in ids]).astype(np.float64)
    scores = queries.astype(np.float64) @ matrix.T
    for row in range(queries.shape[0]):
        order = np.lexsort((ids, -scores[row]))[:k]
        scores_out[row, : order.size] = scores[row, order].astype(np.float32)
        ids_out[row, : order.size] = ids[order]
    return scores_out, ids_out
