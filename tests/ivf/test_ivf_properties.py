"""Properties: full probing is exact; updates never lose or duplicate ids; reopening is faithful.

Vectors are on a grid of quarters (see ``grid_vectors``), so every score is exact in
float32 and results can be compared with brute force by ``==``, ties included.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from ivf_helpers import brute_force, grid_vectors

from quiver.ids import VectorId
from quiver.ivf.errors import TrainingError
from quiver.ivf.index import IVFIndex

DIM = 8
#: A re-rank depth above any test's size: int8 scanning then re-scores every row exactly.
EVERY_ROW = 4096


def _queries(rng: np.random.Generator, count: int) -> npt.NDArray[np.float32]:
    queries = grid_vectors(rng, count, DIM)
    queries[~np.any(queries, axis=1), 0] = 0.25  # an all-zero query is refused by design
    return queries


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    trained_count=st.integers(1, 120),
    delta_count=st.integers(0, 60),
    removed_fraction=st.floats(0, 0.6),
    nlist=st.integers(1, 8),
    k=st.integers(1, 25),
    scan=st.sampled_from(["int8", "float32"]),
)
def test_searching_every_list_equals_brute_force_exactly(  # noqa: PLR0917 - hypothesis
    seed: int,
    trained_count: int,
    delta_count: int,
    removed_fraction: float,
    nlist: int,
    k: int,
    scan: str,
) -> None:
    rng = np.random.default_rng(seed)
    directory = Path(tempfile.mkdtemp(prefix="ivf-exact-"))
    try:
        nlist = min(nlist, trained_count)
        index = IVFIndex.create(directory / "ix", dim=DIM, model_id="m", nlist=nlist, scan=scan)
        base = grid_vectors(rng, trained_count, DIM)
        base_ids = rng.choice(10_000, size=trained_count, replace=False).astype(np.int64)
        index.train(base)
        index.add_with_ids(base, base_ids)
        index.compact()
        extra = grid_vectors(rng, delta_count, DIM)
        extra_ids = rng.integers(0, 12_000, size=delta_count).astype(np.int64)  # may replace
        index.add_with_ids(extra, extra_ids)
        live = dict(zip(base_ids.tolist(), base, strict=True))
        live.update(zip(extra_ids.tolist(), extra, strict=True))
        removed = [i for i in list(live) if rng.random() < removed_fraction]
        index.remove_ids(np.array(removed, dtype=np.int64))
        for ident in removed:
            del live[ident]
        queries = _queries(rng, 4)
        expected_scores, expected_ids = brute_force(live, queries, k)
        for batch in (queries, queries[:1]):  # the parallel batch kernel and the single one
            # int8 scanning is exact when every candidate is re-ranked in float32.
            scores, ids = index.search(batch, k, nprobe=index.nlist, rerank=EVERY_ROW)
            rows = batch.shape[0]
            assert ids.tolist() == expected_ids[:rows].tolist()
            np.testing.assert_array_equal(scores, expected_scores[:rows])
        index.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class IndexLifecycle(RuleBasedStateMachine):
    """Random adds, removals, compactions, retrains, commits and reopenings against a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="ivf-machine-"))
        self.rng = np.random.default_rng(0)
        self.index = IVFIndex.create(self.directory / "ix", dim=DIM, model_id="m", nlist=4)
        self.live: dict[int, npt.NDArray[np.float32]] = {}
        self.committed: dict[int, npt.NDArray[np.float32]] = {}

    def teardown(self) -> None:
        self.index.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    @rule(count=st.integers(1, 40), id_range=st.sampled_from([50, 500]), seed=st.integers(0, 2**16))
    def add(self, count: int, id_range: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        vectors = grid_vectors(rng, count, DIM)
        ids = rng.integers(0, id_range, size=count).astype(np.int64)
        clusters = self.index.add_with_ids(vectors, ids)
        assert clusters.shape == (count,)
        self.live.update(zip(ids.tolist(), vectors, strict=True))

    @precondition(lambda self: bool(self.live))
    @rule(fraction=st.floats(0.05, 1.0), seed=st.integers(0, 2**16))
    def remove(self, fraction: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        chosen = [i for i in sorted(self.live) if rng.random() < fraction]
        absent = [10**9 + 1]
        assert self.index.remove_ids(np.array(chosen + absent, dtype=np.int64)) == len(chosen)
        for ident in chosen:
            del self.live[ident]

    @rule()
    def compact(self) -> None:
        self.index.compact()

    @rule()
    def retrain(self) -> None:
        epoch = self.index.clustering_epoch
        try:
            self.index.retrain()
        except TrainingError:
            assert 0 < len(self.live) < 4
            return
        if self.live:
            assert self.index.clustering_epoch == epoch + 1
            ids = np.array(sorted(self.live), dtype=np.int64)
            assert (self.index.cluster_of(ids) >= 0).all()

    @rule()
    def commit(self) -> None:
        self.index.commit(compact_if_needed=False)
        self.committed = dict(self.live)

    @rule()
    def crash_and_reopen(self) -> None:
        """Close without committing (as a crash would) and reopen: the last commit survives."""
        self.index.close()
        self.index = IVFIndex.open(self.directory / "ix", dim=DIM, model_id="m", writable=True)
        self.live = dict(self.committed)

    @rule()
    def commit_and_compare_with_a_reader(self) -> None:
        self.index.commit(compact_if_needed=False)
        self.committed = dict(self.live)
        reader = IVFIndex.open(self.directory / "ix", dim=DIM, model_id="m")
        queries = _queries(self.rng, 3)
        for nprobe in (1, 4):
            written = self.index.search(queries, 7, nprobe=nprobe)
            read = reader.search(queries, 7, nprobe=nprobe)
            assert written[1].tolist() == read[1].tolist()
            np.testing.assert_array_equal(written[0], read[0])
        assert reader.ids().tolist() == self.index.ids().tolist()
        reader.close()

    @invariant()
    def every_live_id_is_present_exactly_once(self) -> None:
        ids = self.index.ids()
        assert ids.tolist() == sorted(self.live)
        assert self.index.ntotal == len(self.live)

    @invariant()
    def stored_vectors_are_the_latest_ones(self) -> None:
        for ident in list(self.live)[:10]:
            stored = self.index.reconstruct(VectorId(ident))
            assert stored is not None
            np.testing.assert_array_equal(stored, self.live[ident])

    @invariant()
    def probing_every_list_is_exact(self) -> None:
        queries = _queries(self.rng, 2)
        expected_scores, expected_ids = brute_force(self.live, queries, 6)
        scores, ids = self.index.search(
            queries, 6, nprobe=max(self.index.nlist, 1), rerank=EVERY_ROW
        )
        assert ids.tolist() == expected_ids.tolist()
        np.testing.assert_array_equal(scores, expected_scores)


TestIndexLifecycle = IndexLifecycle.TestCase
TestIndexLifecycle.settings = settings(max_examples=20, stateful_step_count=15, deadline=None)
