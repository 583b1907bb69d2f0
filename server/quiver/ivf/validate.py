"""Checks on what callers hand the vector index: settings, vectors, queries, ids.

Each check either returns the input in the form the index works on (a read-only
float32 matrix, an int64 id array, an int) or raises the error the caller can act on
(``InvalidVectorError``, ``InvalidQueryError``, ``DimensionMismatchError``), before
the index changes anything. Nothing here reads or writes index state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from quiver.errors import DimensionMismatchError, InvalidQueryError
from quiver.ivf.errors import InvalidVectorError
from quiver.ivf.state import SCAN_MODES
from quiver.ivf.storage import Int64Array, read_only
from quiver.numeric import FloatMatrix, FloatVector


def check_new_index(*, dim: int, nlist: int | None, nprobe: int | None, scan: str) -> None:
    """Refuse settings a new index cannot have; raises ``InvalidVectorError``. Cost: none."""
    if dim < 1:
        raise InvalidVectorError(
            f"An index needs a positive dimension, got {dim}.", "Pass the model's dim."
        )
    if nlist is not None and nlist < 1:
        raise InvalidVectorError(
            f"nlist must be at least 1, got {nlist}.", "Leave nlist unset to choose it."
        )
    if scan not in SCAN_MODES:
        raise InvalidVectorError(
            f"Unknown scan mode {scan!r}.", f"Use one of {', '.join(SCAN_MODES)}."
        )
    if nprobe is not None and nprobe < 1:
        raise InvalidVectorError(f"nprobe must be at least 1, got {nprobe}.", "Leave nprobe unset.")


def check_nprobe(value: int) -> int:
    """``value`` as an int if it is at least 1; raises ``InvalidQueryError``. Cost: none."""
    if int(value) < 1:
        raise InvalidQueryError(
            f"nprobe must be at least 1, got {value}.", "Use the default nprobe."
        )
    return int(value)


def check_search(k: int, rerank: int | None) -> None:
    """Refuse k < 1 and a negative ``rerank``; raises ``InvalidQueryError``. Cost: none."""
    if k < 1:
        raise InvalidQueryError(f"k must be at least 1, got {k}.", "Ask for one or more results.")
    if rerank is not None and rerank < 0:
        raise InvalidQueryError(f"rerank must be 0 or more, got {rerank}.", "Leave rerank unset.")


def check_width(matrix: npt.NDArray[Any], dim: int, what: str) -> None:
    """Raise ``DimensionMismatchError`` unless ``matrix`` is 2-D with ``dim`` columns."""
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        width = matrix.shape[-1] if matrix.ndim else 0
        raise DimensionMismatchError(
            f"Vector dimension mismatch: the index holds {dim}-dimensional vectors, "
            f"the {what} has {width} dimensions.",
            "Re-index with `quiver index --rebuild` if the model changed, "
            "or pass vectors from the index's model.",
        )


def check_queries(queries: FloatMatrix | FloatVector, dim: int) -> FloatMatrix:
    """The queries as a read-only float32 matrix (a 1-D query becomes one row).

    Raises ``DimensionMismatchError`` for the wrong width and ``InvalidQueryError`` for
    NaN/inf or all-zero rows. Cost: a float32 copy only if the input is not one already,
    and one pass over the values.
    """
    matrix = np.asarray(queries, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    check_width(matrix, dim, "query")
    if not np.isfinite(matrix).all():
        raise InvalidQueryError(
            "The query vector contains NaN or infinite values.",
            "Check the embedding model's output for this query.",
        )
    if not np.any(matrix, axis=1).all():
        raise InvalidQueryError(
            "The query vector is all zeros, so every vector would score the same.",
            "Embed a non-empty query; an all-zero vector carries no meaning.",
        )
    return read_only(matrix)


def check_one_query(queries: FloatMatrix, method: str) -> FloatVector:
    """The single row of checked ``queries``; raises ``InvalidQueryError`` for more rows.

    ``method`` names the index method that takes one query. Cost: none.
    """
    if queries.shape[0] != 1:
        raise InvalidQueryError(
            f"{method}() takes one query vector.", f"Call {method}() per query."
        )
    row: FloatVector = queries[0]
    return row


def check_vectors(vectors: FloatMatrix, dim: int) -> FloatMatrix:
    """The vectors as a read-only float32 matrix (a 1-D vector becomes one row).

    Raises ``DimensionMismatchError`` for the wrong width and ``InvalidVectorError`` for
    NaN/inf values. Cost: a float32 copy only if the input is not one already, and one
    pass over the values.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    check_width(matrix, dim, "vector")
    if not np.isfinite(matrix).all():
        raise InvalidVectorError(
            "Some vectors contain NaN or infinite values; nothing was added.",
            "Check the embedding model's output; every vector must be finite.",
        )
    return read_only(matrix)


def check_ids(ids: npt.NDArray[np.int64], count: int) -> Int64Array:
    """``ids`` as int64, one per each of ``count`` vectors, none negative.

    Raises ``InvalidVectorError`` otherwise. Cost: one int64 copy of the ids.
    """
    array = np.asarray(ids)
    if array.ndim != 1 or array.shape[0] != count:
        raise InvalidVectorError(
            f"Got {count} vectors but ids of shape {array.shape}; nothing was added.",
            "Pass one id per vector, as a 1-D integer array.",
        )
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise InvalidVectorError(
            f"Vector ids must be integers, got {array.dtype}; nothing was added.",
            "Pass the symbol ids as an int64 array.",
        )
    wanted = array.astype(np.int64)
    if wanted.size and int(wanted.min()) < 0:
        raise InvalidVectorError(
            "Vector ids must be non-negative (-1 marks 'no result'); nothing was added.",
            "Use the symbol ids from quiver.ids.SymbolId, which are never negative.",
        )
    return wanted
