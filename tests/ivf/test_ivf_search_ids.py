"""``IVFIndex.search_ids``: exact scores of given ids, lists and delta, tombstones skipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from ivf_helpers import brute_force, grid_vectors

from quiver.errors import InvalidQueryError
from quiver.ivf.index import IVFIndex

DIM = 16


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def _index(directory: Path, vectors: npt.NDArray[np.float32]) -> IVFIndex:
    """Grid vectors (exact scores, real ties) under ids 0, 10, 20, ... in 8 lists."""
    index = IVFIndex.create(directory, dim=DIM, model_id="test-model", nlist=8, nprobe=1)
    index.train(vectors)
    index.add_with_ids(vectors, np.arange(vectors.shape[0], dtype=np.int64) * 10)
    index.compact()
    index.commit()
    return index


def test_given_ids_are_scored_exactly_wherever_they_sit(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    vectors = grid_vectors(rng, 400, DIM)
    index = _index(tmp_path / "ivf", vectors)
    # Some ids move to the delta (re-added), some die, one never existed.
    moved = grid_vectors(rng, 5, DIM)
    index.add_with_ids(moved, np.array([30, 40, 50, 60, 4001], dtype=np.int64))
    index.remove_ids(np.array([70, 80], dtype=np.int64))
    live = {10 * i: vectors[i] for i in range(vectors.shape[0])}
    live.update({int(i): v for i, v in zip([30, 40, 50, 60, 4001], moved, strict=True)})
    del live[70], live[80]
    assert set(index.delta_ids().tolist()) == {30, 40, 50, 60, 4001}
    wanted = [*range(0, 2000, 10), 4001, 70, 80, 99999, 30, 30]
    query = grid_vectors(rng, 1, DIM)[0]
    scores, ids = index.search_ids(query, wanted, 25)
    admitted = {i: live[i] for i in set(wanted) if i in live}
    expected_scores, expected_ids = brute_force(admitted, query[np.newaxis, :], 25)
    assert ids.tolist() == expected_ids[0].tolist()
    assert scores.tolist() == expected_scores[0].tolist()
    # One probed list of eight would not have found them all.
    _, probed = index.search(query, 25)
    assert set(probed[0].tolist()) != set(ids.tolist())


def test_fewer_live_ids_than_k_give_fewer_results(tmp_path: Path, rng: np.random.Generator) -> None:
    vectors = grid_vectors(rng, 100, DIM)
    index = _index(tmp_path / "ivf", vectors)
    index.remove_ids(np.array([20], dtype=np.int64))
    query = grid_vectors(rng, 1, DIM)[0]
    _, ids = index.search_ids(query, [10, 20, 12345], 10)
    assert ids.tolist() == [10]
    scores, ids = index.search_ids(query, np.empty(0, dtype=np.int64), 10)
    assert scores.size == ids.size == 0


def test_ties_go_to_the_smaller_id(tmp_path: Path, rng: np.random.Generator) -> None:
    vectors = grid_vectors(rng, 100, DIM)
    index = _index(tmp_path / "ivf", vectors)
    twin = vectors[3:4].copy()
    index.add_with_ids(np.repeat(twin, 3, axis=0), np.array([5001, 5000, 5002], dtype=np.int64))
    _, ids = index.search_ids(twin[0], [5002, 5001, 5000, 30], 2)
    assert ids.tolist() == [30, 5000]


def test_a_bad_query_or_k_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    index = _index(tmp_path / "ivf", grid_vectors(rng, 100, DIM))
    with pytest.raises(InvalidQueryError):
        index.search_ids(np.zeros(DIM, dtype=np.float32), [10], 3)
    with pytest.raises(InvalidQueryError):
        index.search_ids(grid_vectors(rng, 2, DIM), [10], 3)
    with pytest.raises(InvalidQueryError):
        index.search_ids(grid_vectors(rng, 1, DIM)[0], [10], 0)
