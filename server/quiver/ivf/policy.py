"""When the vector index should reorganise itself: fold the delta in, or re-learn its centroids.

Two rules, both read-only looks at an ``IndexState``: ``needs_compaction`` (the delta
or the tombstones cost searches more than rewriting the lists would save) and
``needs_retrain`` (the clustering no longer fits the data: lists grew unbalanced, or
the index outgrew its ``nlist``). The index's ``compact``/``retrain`` do the work;
the caller decides when to run them from these answers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from quiver.ivf.kmeans import default_nlist
from quiver.ivf.state import IndexSettings, IndexState

#: The delta is folded into the lists once it holds this many rows at least ...
MIN_DELTA_ROWS_FOR_COMPACTION = 2048
#: ... and more than this many times the rows one query scans in the lists.
DELTA_TO_SCAN_RATIO = 2.0
#: Tombstones in the lists that trigger a compaction: this fraction of the rows (and 1,024).
DEAD_FRACTION_FOR_COMPACTION = 0.125
#: ``needs_retrain`` fires when list imbalance doubles compared with right after training ...
IMBALANCE_GROWTH_FOR_RETRAIN = 2.0
#: ... or when the ideal ``nlist`` for the current size is this many times smaller or larger.
NLIST_DRIFT_FOR_RETRAIN = 2.0


def imbalance_factor(sizes: npt.NDArray[np.integer[Any]]) -> float:
    """faiss's imbalance factor ``nlist · Σ size² / N²``: 1.0 for equal lists, more if skewed."""
    total = float(sizes.sum())
    if total == 0 or sizes.size == 0:
        return 1.0
    return float(sizes.size * np.square(sizes.astype(np.float64)).sum() / (total * total))


def needs_compaction(state: IndexState, nprobe: int) -> bool:
    """True when the delta or the tombstones cost searches more than a rewrite would save.

    Trained index only: delta rows ≥ max(2,048, 2 × the rows ``nprobe`` lists hold
    on average), or tombstones ≥ max(1,024, 1/8 of the list rows). Cost: O(1).
    """
    lists = state.lists
    if lists.nlist == 0:
        return False
    scanned = nprobe * lists.rows / lists.nlist
    delta_limit = max(MIN_DELTA_ROWS_FOR_COMPACTION, DELTA_TO_SCAN_RATIO * scanned)
    dead_limit = max(1024, DEAD_FRACTION_FOR_COMPACTION * lists.rows)
    return state.delta.size >= delta_limit or state.dead_count >= dead_limit


def needs_retrain(state: IndexState, settings: IndexSettings) -> bool:
    """True when the clustering no longer fits the data, so the index should ``retrain``.

    Untrained: once the live count warrants more than one list (≥ 1,024 vectors).
    Trained: when the list imbalance factor has doubled since training (vectors
    added to a few lists), or, if ``nlist`` was not configured, when the ideal
    ``default_nlist`` for the live count is 2× larger or smaller than ``nlist``.
    Cost: O(nlist + tombstones + delta).
    """
    live = state.ntotal
    nlist = state.lists.nlist
    if nlist == 0:
        return (settings.nlist or default_nlist(live)) > 1 and live >= max(
            1024, settings.nlist or 0
        )
    if settings.nlist is None and live > 0:
        ideal = default_nlist(live)
        if ideal >= NLIST_DRIFT_FOR_RETRAIN * nlist or ideal * NLIST_DRIFT_FOR_RETRAIN <= nlist:
            return True
    imbalance = imbalance_factor(state.list_sizes())
    return imbalance > IMBALANCE_GROWTH_FOR_RETRAIN * max(1.0, settings.trained_imbalance)
