"""The work behind ``train``, ``retrain`` and ``compact``: learning centroids, rewriting lists.

``trained_centroids`` and ``retrained_centroids`` run k-means (on the given vectors,
or on a sample of the index's live ones) with the index's settings;
``reclustered_lists`` assigns every live vector to new centroids and writes the
lists around them; ``compacted_lists`` folds the delta into the lists and drops
tombstoned rows, every vector keeping its list. The writers produce new, unpublished
files and leave the ``IndexState`` they read untouched; the settings they return
describe the new lists. When to run them is ``quiver.ivf.policy``'s business.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from quiver.ivf.errors import TrainingError
from quiver.ivf.kmeans import assign_to_centroids, default_nlist, default_sample_size, train_kmeans
from quiver.ivf.policy import imbalance_factor
from quiver.ivf.state import IndexSettings, IndexState
from quiver.ivf.storage import ROLE_CENTROIDS, InvertedLists, RowSource, write_lists
from quiver.numeric import FloatMatrix


def compacted_lists(
    state: IndexState, settings: IndexSettings, *, directory: Path, serial: int
) -> InvertedLists:
    """New lists holding every live vector in its current list; cluster ids do not change.

    Writes the list files numbered ``serial`` in ``directory`` (unpublished). Cost: one
    sequential rewrite of every live vector.
    """
    rows = state.live_list_rows()
    slots = state.delta.live_slots()
    source = RowSource(
        list_rows=rows,
        list_labels=state.lists.clusters_of_rows(rows),
        delta_slots=slots,
        delta_labels=state.delta.clusters[slots],
    )
    return write_lists(
        directory=directory,
        serial=serial,
        centroids=state.lists.files[ROLE_CENTROIDS],
        old=state.lists,
        delta=state.delta,
        source=source,
        int8_codes=settings.scan == "int8",
    )


def reclustered_lists(
    state: IndexState,
    centroids: FloatMatrix,
    settings: IndexSettings,
    *,
    directory: Path,
    serial: int,
    trained_on: int,
) -> tuple[InvertedLists, IndexSettings]:
    """New lists around ``centroids``, each live vector in its nearest one's list.

    Returns the lists (files numbered ``serial`` in ``directory``, unpublished) and
    ``settings`` for them: the next ``clustering_epoch``, ``trained_on`` and the lists'
    ``imbalance_factor``. Cost: an assignment pass over every vector (mapped
    lists are streamed block by block, not copied) and a rewrite of every live vector.
    """
    rows = state.live_list_rows()
    slots = state.delta.live_slots()
    # Assign whole arrays block by block (a mapped file is streamed, not copied) and
    # keep the live rows' labels.
    list_labels = assign_to_centroids(state.lists.vectors, centroids)[0][rows]
    delta_labels = assign_to_centroids(state.delta.vectors, centroids)[0][slots]
    source = RowSource(rows, list_labels, slots, delta_labels)
    lists = write_lists(
        directory=directory,
        serial=serial,
        centroids=centroids,
        old=state.lists,
        delta=state.delta,
        source=source,
        int8_codes=settings.scan == "int8",
    )
    sizes = np.bincount(np.concatenate([list_labels, delta_labels]), minlength=centroids.shape[0])
    return lists, replace(
        settings,
        clustering_epoch=settings.clustering_epoch + 1,
        trained_on=trained_on,
        trained_imbalance=imbalance_factor(sizes),
    )


def trained_centroids(vectors: FloatMatrix, settings: IndexSettings) -> FloatMatrix:
    """Centroids learned from ``vectors``: ``nlist`` as configured, else ``default_nlist``.

    Raises ``TrainingError`` if there are fewer vectors than lists. Cost: k-means on a
    sample of ``vectors``.
    """
    nlist = settings.nlist or default_nlist(vectors.shape[0])
    return train_kmeans(vectors, nlist, seed=settings.seed + settings.clustering_epoch)


def retrained_centroids(state: IndexState, settings: IndexSettings) -> FloatMatrix:
    """Centroids learned from a sample of the live vectors (``state.ntotal`` must be > 0).

    ``nlist`` is the configured value or ``default_nlist(ntotal)``. Raises
    ``TrainingError`` if a configured ``nlist`` exceeds the live count. Cost: a copy of
    the sample and k-means on it.
    """
    live = state.ntotal
    nlist = settings.nlist or default_nlist(live)
    if nlist > live:
        raise TrainingError(
            f"Cannot train {nlist} lists from {live} vectors.",
            "Add more vectors first, or configure a smaller nlist.",
        )
    seed = settings.seed + settings.clustering_epoch
    take = min(live, default_sample_size(nlist))
    sample = _sample_live_vectors(state, take, np.random.default_rng(seed))
    return train_kmeans(sample, nlist, seed=seed)


def _sample_live_vectors(state: IndexState, count: int, rng: np.random.Generator) -> FloatMatrix:
    """``count`` distinct live vectors drawn uniformly by ``rng``, lists first, then the delta.

    ``count`` must not exceed ``state.ntotal``. Cost: a copy of the sampled rows.
    """
    rows = state.live_list_rows()
    slots = state.delta.live_slots()
    picked = np.sort(rng.choice(state.ntotal, size=count, replace=False))
    from_lists = picked[picked < rows.size]
    from_delta = picked[picked >= rows.size] - rows.size
    return np.concatenate(
        [state.lists.vectors[rows[from_lists]], state.delta.vectors[slots[from_delta]]]
    )
