"""k-means for the coarse quantiser: unit centroids, deterministic, sensible on clustered data."""

from __future__ import annotations

import numpy as np
import pytest
from ivf_helpers import unit_vectors

from quiver.ivf import kmeans
from quiver.ivf.errors import TrainingError
from quiver.ivf.kmeans import assign_to_centroids, default_nlist, train_kmeans


def _clustered(rng: np.random.Generator, clusters: int, per_cluster: int, dim: int) -> np.ndarray:
    centers = unit_vectors(rng, clusters, dim)
    points = np.repeat(centers, per_cluster, axis=0) + 0.05 * rng.standard_normal(
        (clusters * per_cluster, dim)
    ).astype(np.float32)
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_default_nlist_is_about_four_root_n_and_one_for_tiny_sets() -> None:
    assert default_nlist(0) == 1
    assert default_nlist(1023) == 1
    assert default_nlist(1024) == 32  # capped at n / 32
    assert default_nlist(100_000) == 1265
    assert default_nlist(1_000_000) == 4000
    assert default_nlist(10**12) == 65536


def test_centroids_are_unit_norm_and_deterministic_under_a_seed() -> None:
    vectors = unit_vectors(np.random.default_rng(1), 500, 12)
    first = train_kmeans(vectors, 10, seed=3)
    assert first.shape == (10, 12)
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first, train_kmeans(vectors, 10, seed=3))
    assert not np.array_equal(first, train_kmeans(vectors, 10, seed=4))


def test_well_separated_clusters_are_found() -> None:
    rng = np.random.default_rng(2)
    vectors = _clustered(rng, 6, 50, 16)
    centroids = train_kmeans(vectors, 6)
    labels, _scores = assign_to_centroids(vectors, centroids)
    # Each true cluster maps to exactly one list and vice versa.
    assert sorted({tuple(np.unique(labels[i * 50 : (i + 1) * 50])) for i in range(6)}) == [
        (label,) for label in range(6)
    ]


def test_two_level_training_fills_every_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kmeans, "FLAT_LIMIT", 16)
    vectors = _clustered(np.random.default_rng(3), 40, 40, 8)
    centroids = train_kmeans(vectors, 64, max_iter=8)
    labels, _scores = assign_to_centroids(vectors, centroids)
    sizes = np.bincount(labels, minlength=64)
    assert centroids.shape == (64, 8)
    assert (sizes > 0).sum() >= 60  # empty lists are repaired, a few may stay on borders


def test_duplicate_points_do_not_break_training() -> None:
    vectors = np.repeat(unit_vectors(np.random.default_rng(4), 3, 8), 20, axis=0)
    centroids = train_kmeans(vectors, 5)
    assert np.isfinite(centroids).all()
    labels, _scores = assign_to_centroids(vectors, centroids)
    assert len(np.unique(labels)) == 3


def test_zero_vectors_still_give_unit_centroids() -> None:
    centroids = train_kmeans(np.zeros((10, 4), dtype=np.float32), 3)
    np.testing.assert_allclose(np.linalg.norm(centroids, axis=1), 1.0, rtol=1e-5)


def test_sampling_bounds_the_training_set_but_keeps_one_row_per_list() -> None:
    vectors = unit_vectors(np.random.default_rng(5), 400, 8)
    centroids = train_kmeans(vectors, 20, sample_size=5)
    assert centroids.shape == (20, 8)


def test_ties_go_to_the_lowest_centroid() -> None:
    centroids = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    labels, scores = assign_to_centroids(np.array([[1, 0]], dtype=np.float32), centroids)
    assert labels.tolist() == [0]
    assert scores.tolist() == [1.0]


@pytest.mark.parametrize(
    ("vectors", "nlist", "message"),
    [
        (np.ones((3, 4), dtype=np.float32), 5, "5 lists from 3 vectors"),
        (np.ones(4, dtype=np.float32), 1, "2-D"),
        (np.full((4, 4), np.nan, dtype=np.float32), 2, "NaN"),
    ],
)
def test_impossible_training_raises_a_training_error(
    vectors: np.ndarray, nlist: int, message: str
) -> None:
    with pytest.raises(TrainingError, match=message) as raised:
        train_kmeans(vectors, nlist)
    assert "Suggestion:" in str(raised.value)


def test_small_batches_and_large_batches_pick_the_same_centroids() -> None:
    rng = np.random.default_rng(6)
    centroids = unit_vectors(rng, 37, 24)
    vectors = unit_vectors(rng, 700, 24)
    large_labels, large_scores = assign_to_centroids(vectors, centroids)  # BLAS blocks
    for start in range(0, 700, 70):  # numba kernel, batch sizes not a multiple of 4 included
        labels, scores = assign_to_centroids(vectors[start : start + 7], centroids)
        assert labels.tolist() == large_labels[start : start + 7].tolist()
        np.testing.assert_allclose(scores, large_scores[start : start + 7], rtol=1e-5)
