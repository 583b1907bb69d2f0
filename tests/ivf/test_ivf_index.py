"""The IVF index: faiss semantics, updates without rebuilds, safe publication, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ivf_helpers import brute_force, grid_vectors, unit_vectors

from quiver.errors import (
    DimensionMismatchError,
    IndexCorruptError,
    IndexFormatError,
    InvalidQueryError,
    ModelMismatchError,
)
from quiver.ids import VectorId
from quiver.ivf import persist
from quiver.ivf.errors import IndexReadOnlyError, InvalidVectorError, TrainingError
from quiver.ivf.index import IVFIndex, default_nprobe
from quiver.ivf.policy import imbalance_factor
from quiver.store import ManifestMissingError, WriterLockedError, read_manifest, write_manifest
from quiver.store import arrays as array_files

DIM = 16


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _trained(
    directory: Path, rng: np.random.Generator, count: int = 600, nlist: int = 8
) -> IVFIndex:
    vectors = unit_vectors(rng, count, DIM)
    index = IVFIndex.create(directory, dim=DIM, model_id="test-model", nlist=nlist)
    index.train(vectors)
    index.add_with_ids(vectors, np.arange(count, dtype=np.int64) * 10)
    index.compact()  # into the lists: later changes then touch both lists and delta
    index.commit()
    return index


def _files(directory: Path, role: str) -> Path:
    manifest = read_manifest(directory)
    return directory / manifest.files[role].name


# Searching ------------------------------------------------------------------------------


def test_an_empty_index_returns_only_padding(tmp_path: Path, rng: np.random.Generator) -> None:
    with IVFIndex.create(tmp_path / "ix", dim=DIM, model_id="m") as index:
        scores, ids = index.search(unit_vectors(rng, 2, DIM), 3)
    assert ids.tolist() == [[-1, -1, -1], [-1, -1, -1]]
    assert np.isneginf(scores).all()


def test_k_larger_than_the_index_pads_with_minus_one(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    vectors = grid_vectors(rng, 3, DIM)
    with IVFIndex.create(tmp_path / "ix", dim=DIM, model_id="m") as index:
        index.add_with_ids(vectors, np.array([5, 6, 7]))
        query = grid_vectors(rng, 1, DIM) + 0.25
        scores, ids = index.search(query, 5)
    expected_scores, expected_ids = brute_force(
        dict(zip([5, 6, 7], vectors, strict=True)), query, 5
    )
    assert ids.tolist() == expected_ids.tolist()
    assert ids[0, 3:].tolist() == [-1, -1]
    np.testing.assert_array_equal(scores, expected_scores)


def test_a_one_dimensional_query_is_one_row(tmp_path: Path, rng: np.random.Generator) -> None:
    index = _trained(tmp_path / "ix", rng)
    query = unit_vectors(rng, 1, DIM)
    scores, ids = index.search(query[0], 4)
    batch_scores, batch_ids = index.search(np.vstack([query, query]), 4)
    assert scores.shape == ids.shape == (1, 4)
    assert ids[0].tolist() == batch_ids[0].tolist() == batch_ids[1].tolist()
    np.testing.assert_array_equal(scores[0], batch_scores[1])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (np.full(DIM, np.nan, dtype=np.float32), "NaN"),
        (np.zeros(DIM, dtype=np.float32), "all zeros"),
        (np.r_[np.ones(DIM - 1), np.inf].astype(np.float32), "infinite"),
    ],
    ids=["nan", "zero", "inf"],
)
def test_a_meaningless_query_is_refused_with_a_suggestion(
    tmp_path: Path, rng: np.random.Generator, query: np.ndarray, message: str
) -> None:
    index = _trained(tmp_path / "ix", rng)
    with pytest.raises(InvalidQueryError, match=message) as raised:
        index.search(query, 3)
    assert str(raised.value).splitlines()[-1].startswith("Suggestion:")
    with pytest.raises(InvalidQueryError):
        index.probe(query)


def test_a_query_of_the_wrong_width_or_a_bad_k_is_refused(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng)
    with pytest.raises(DimensionMismatchError, match="16-dimensional"):
        index.search(unit_vectors(rng, 1, DIM + 1), 3)
    with pytest.raises(InvalidQueryError, match="k must be"):
        index.search(unit_vectors(rng, 1, DIM), 0)
    with pytest.raises(InvalidQueryError, match="nprobe"):
        index.search(unit_vectors(rng, 1, DIM), 3, nprobe=0)


def test_probe_names_the_lists_a_search_scans_best_first(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng, nlist=8)
    query = unit_vectors(rng, 1, DIM)[0]
    probed = index.probe(query, nprobe=3)
    centroid_scores = index._state.lists.centroids @ query
    assert probed.tolist() == np.argsort(-centroid_scores)[:3].tolist()
    # Every result of a 3-probe search lives in one of those lists.
    _scores, ids = index.search(query, 20, nprobe=3)
    assert set(index.cluster_of(ids[0][ids[0] >= 0]).tolist()) <= set(probed.tolist())


def test_more_probes_never_lower_recall(tmp_path: Path, rng: np.random.Generator) -> None:
    index = _trained(tmp_path / "ix", rng, count=2000, nlist=16)
    queries = unit_vectors(rng, 20, DIM)
    live = {int(i): index.reconstruct(VectorId(int(i))) for i in index.ids()}
    _exact_scores, exact = brute_force(live, queries, 10)  # type: ignore[arg-type]
    recalls = []
    for nprobe in (1, 4, 16):
        _scores, ids = index.search(queries, 10, nprobe=nprobe)
        recalls.append(
            np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact, strict=True)])
        )
    assert recalls == sorted(recalls)
    assert recalls[-1] == 1.0


# Updating -------------------------------------------------------------------------------


def test_adding_returns_the_nearest_centroid_and_re_adding_replaces(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng)
    fresh = unit_vectors(rng, 5, DIM)
    clusters = index.add_with_ids(fresh, np.array([10, 20, 30, 99999, 10]))
    assert clusters.dtype == np.int32
    assert clusters.tolist() == index.assign(fresh).tolist()
    before = 600
    assert index.ntotal == before + 1  # 10, 20, 30 replaced; 99999 new; 10 twice: last wins
    np.testing.assert_array_equal(index.reconstruct(VectorId(10)), fresh[4])
    np.testing.assert_array_equal(index.reconstruct(VectorId(20)), fresh[1])
    assert index.cluster_of([10, 20, 99999, 123456]).tolist() == [
        clusters[4],
        clusters[1],
        clusters[3],
        -1,
    ]


def test_untrained_vectors_are_searched_exhaustively_and_assigned_by_training(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    vectors = grid_vectors(rng, 300, DIM)
    with IVFIndex.create(tmp_path / "ix", dim=DIM, model_id="m", nlist=4) as index:
        assert index.add_with_ids(vectors, np.arange(300)).tolist() == [-1] * 300
        query = grid_vectors(rng, 1, DIM) + 0.25
        expected = brute_force(dict(enumerate(vectors)), query, 7)
        assert index.search(query, 7)[1].tolist() == expected[1].tolist()
        epoch = index.clustering_epoch
        index.train(vectors)
        assert index.clustering_epoch == epoch + 1
        assert index.delta_size == 0
        assigned = index.cluster_of(np.arange(300))
        assert assigned.tolist() == index.assign(vectors).tolist()
        assert index.search(query, 7, nprobe=4)[1].tolist() == expected[1].tolist()


def test_removing_tombstones_live_ids_only(tmp_path: Path, rng: np.random.Generator) -> None:
    index = _trained(tmp_path / "ix", rng)
    assert index.remove_ids(np.array([0, 10, 10, 5, 123456])) == 2
    assert not index.contains(VectorId(0))
    assert index.reconstruct(VectorId(10)) is None
    assert index.ntotal == 598
    _scores, ids = index.search(unit_vectors(rng, 4, DIM), 600, nprobe=8)
    assert not {0, 10} & set(ids.ravel().tolist())
    assert index.remove_ids([0]) == 0


def test_compaction_keeps_every_id_and_its_cluster(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng)
    index.add_with_ids(unit_vectors(rng, 50, DIM), np.arange(50, dtype=np.int64) + 100_000)
    index.remove_ids(np.arange(0, 300, 10))
    ids_before = index.ids()
    clusters_before = index.cluster_of(ids_before)
    queries = unit_vectors(rng, 5, DIM)
    # All lists: the delta is scanned exhaustively, so with fewer probes a compaction
    # may legitimately change which delta vectors a search finds.
    results_before = index.search(queries, 10, nprobe=8)
    epoch = index.clustering_epoch
    index.compact()
    assert index.delta_size == 0
    assert index.ids().tolist() == ids_before.tolist()
    assert index.cluster_of(ids_before).tolist() == clusters_before.tolist()
    assert index.clustering_epoch == epoch
    results_after = index.search(queries, 10, nprobe=8)
    assert results_after[1].tolist() == results_before[1].tolist()
    np.testing.assert_array_equal(results_after[0], results_before[0])


def test_retraining_reassigns_everything_and_says_so(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng, nlist=8)
    ids_before = index.ids()
    epoch = index.clustering_epoch
    index.retrain()
    assert index.clustering_epoch == epoch + 1
    assert index.ids().tolist() == ids_before.tolist()
    vectors = np.stack([index.reconstruct(VectorId(int(i))) for i in ids_before])
    assert index.cluster_of(ids_before).tolist() == index.assign(vectors).tolist()
    index.commit()
    assert IVFIndex.open(tmp_path / "ix").clustering_epoch == epoch + 1


def test_bad_vectors_or_ids_are_refused_and_nothing_is_lost(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng)
    ids_before = index.ids().tolist()
    bad = unit_vectors(rng, 3, DIM)
    bad[1, 2] = np.nan
    with pytest.raises(InvalidVectorError, match="NaN") as raised:
        index.add_with_ids(bad, np.array([1, 2, 3]))
    assert "Suggestion:" in str(raised.value)
    with pytest.raises(InvalidVectorError, match="non-negative"):
        index.add_with_ids(unit_vectors(rng, 1, DIM), np.array([-4]))
    with pytest.raises(InvalidVectorError, match="one id per vector"):
        index.add_with_ids(unit_vectors(rng, 2, DIM), np.array([1]))
    with pytest.raises(DimensionMismatchError):
        index.add_with_ids(unit_vectors(rng, 2, DIM + 2), np.array([1, 2]))
    assert index.ids().tolist() == ids_before


def test_training_needs_at_least_one_vector_per_list(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    with IVFIndex.create(tmp_path / "ix", dim=DIM, model_id="m", nlist=50) as index:
        with pytest.raises(TrainingError, match="50 lists from 10 vectors"):
            index.train(unit_vectors(rng, 10, DIM))
        assert not index.is_trained


# Triggers -------------------------------------------------------------------------------


def test_compaction_is_due_when_the_delta_outgrows_what_a_query_scans(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng, count=600, nlist=8)
    assert not index.needs_compaction()
    index.add_with_ids(unit_vectors(rng, 2047, DIM), np.arange(2047, dtype=np.int64) + 10**6)
    assert not index.needs_compaction()
    index.add_with_ids(unit_vectors(rng, 1, DIM), np.array([10**7]))
    assert index.needs_compaction()
    index.commit()  # compacts on the way
    assert index.delta_size == 0
    assert not index.needs_compaction()


def test_compaction_is_due_when_tombstones_pile_up(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng, count=3000, nlist=8)
    index.remove_ids(np.arange(0, 1023 * 10, 10))
    assert not index.needs_compaction()
    index.remove_ids(np.array([10230]))
    assert index.needs_compaction()


def test_retraining_is_due_when_an_untrained_index_grows(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    with IVFIndex.create(tmp_path / "ix", dim=DIM, model_id="m") as index:
        index.add_with_ids(unit_vectors(rng, 1023, DIM), np.arange(1023))
        assert not index.needs_retrain()
        index.add_with_ids(unit_vectors(rng, 1, DIM), np.array([5000]))
        assert index.needs_retrain()
        index.retrain()
        assert index.is_trained
        assert index.nlist == 32
        assert not index.needs_retrain()


def test_retraining_is_due_when_lists_become_unbalanced(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng, count=800, nlist=8)
    assert not index.needs_retrain()
    # Pour vectors into one list until the imbalance factor doubles.
    target = index.assign(unit_vectors(rng, 1, DIM))[0]
    centroid = index._state.lists.centroids[target]
    extra = centroid + 0.05 * unit_vectors(rng, 3000, DIM)
    index.add_with_ids(extra, np.arange(3000, dtype=np.int64) + 10**6)
    assert imbalance_factor(index._state.list_sizes()) > 2 * index._settings.trained_imbalance
    assert index.needs_retrain()
    index.retrain()
    assert not index.needs_retrain()


def test_retraining_is_due_when_the_index_outgrows_its_nlist(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    with IVFIndex.create(tmp_path / "ix", dim=DIM, model_id="m") as index:
        vectors = unit_vectors(rng, 2048, DIM)
        index.train(vectors)
        index.add_with_ids(vectors, np.arange(2048))
        assert index.nlist == 64
        assert not index.needs_retrain()
        index.add_with_ids(unit_vectors(rng, 6200, DIM), np.arange(6200) + 10_000)
        assert index.needs_retrain()  # default_nlist(8248) == 257 >= 2 * 64


def test_default_nprobe_grows_with_the_square_root_of_nlist() -> None:
    assert default_nprobe(0) == 1
    assert default_nprobe(1) == 1
    assert default_nprobe(10) == 10
    assert default_nprobe(218) == 16
    assert default_nprobe(1265) == 20
    assert default_nprobe(4000) == 35


# Publication, reopening, following -------------------------------------------------------


def test_a_reopened_index_answers_like_the_writer(tmp_path: Path, rng: np.random.Generator) -> None:
    index = _trained(tmp_path / "ix", rng)
    index.add_with_ids(unit_vectors(rng, 30, DIM), np.arange(30, dtype=np.int64) + 7000)
    index.remove_ids(np.arange(0, 100, 10))
    index.commit()
    queries = unit_vectors(rng, 6, DIM)
    reader = IVFIndex.open(tmp_path / "ix", dim=DIM, model_id="test-model")
    for nprobe in (1, 3, 8):
        written, read = (
            index.search(queries, 10, nprobe=nprobe),
            reader.search(queries, 10, nprobe=nprobe),
        )
        assert written[1].tolist() == read[1].tolist()
        np.testing.assert_array_equal(written[0], read[0])
    assert reader.ids().tolist() == index.ids().tolist()
    assert reader.generation == index.generation


def test_uncommitted_changes_are_invisible_after_reopening(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng)
    index.add_with_ids(unit_vectors(rng, 3, DIM), np.array([1, 2, 3]))
    index.remove_ids([0])
    index.close()  # a crash would drop them the same way
    reopened = IVFIndex.open(tmp_path / "ix", writable=True)
    assert reopened.ntotal == 600
    assert reopened.contains(VectorId(0))
    assert not reopened.contains(VectorId(1))


def test_a_reader_follows_the_writer_through_appends_and_compactions(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    writer = _trained(tmp_path / "ix", rng)
    reader = IVFIndex.open(tmp_path / "ix")
    assert not reader.refresh()
    query = unit_vectors(rng, 1, DIM)
    held = reader.search(query, 5, nprobe=8)
    writer.add_with_ids(query, np.array([424242]))
    assert reader.search(query, 1, nprobe=8)[1][0, 0] != 424242  # not yet published
    writer.commit()
    assert reader.refresh()
    assert reader.search(query, 1, nprobe=8)[1][0, 0] == 424242
    writer.remove_ids([424242])
    writer.compact()
    writer.commit()
    assert reader.refresh()
    assert reader.search(query, 5, nprobe=8)[1].tolist() == held[1].tolist()
    assert reader.ids().tolist() == writer.ids().tolist()
    assert reader.generation == writer.generation


def test_a_reader_keeps_working_after_the_writer_deletes_its_generation(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    writer = _trained(tmp_path / "ix", rng)
    reader = IVFIndex.open(tmp_path / "ix")
    query = unit_vectors(rng, 1, DIM)
    before = reader.search(query, 5, nprobe=8)
    for round_ in range(3):  # each compaction publishes new lists and collects old ones
        writer.add_with_ids(unit_vectors(rng, 1, DIM), np.array([10**6 + round_]))
        writer.compact()
        writer.commit()
    assert reader.search(query, 5, nprobe=8)[1].tolist() == before[1].tolist()
    assert reader.refresh()


def test_only_one_writer_at_a_time_and_readers_cannot_write(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    writer = _trained(tmp_path / "ix", rng)
    with pytest.raises(WriterLockedError):
        IVFIndex.open(tmp_path / "ix", writable=True)
    reader = IVFIndex.open(tmp_path / "ix")
    with pytest.raises(IndexReadOnlyError, match="writable=True"):
        reader.add_with_ids(unit_vectors(rng, 1, DIM), np.array([1]))
    with pytest.raises(IndexReadOnlyError):
        reader.commit()
    writer.close()
    IVFIndex.open(tmp_path / "ix", writable=True).close()


def test_creating_over_an_existing_index_publishes_an_empty_successor(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    old = _trained(tmp_path / "ix", rng)
    generation = old.generation
    reader = IVFIndex.open(tmp_path / "ix")
    old.close()
    fresh = IVFIndex.create(tmp_path / "ix", dim=DIM, model_id="other-model")
    assert fresh.generation == generation + 1
    assert fresh.ntotal == 0
    with pytest.raises(ModelMismatchError):
        reader.refresh()
    names = {path.name for path in (tmp_path / "ix").iterdir()}
    assert not any(name.startswith("vectors-") for name in names)


def test_a_torn_change_log_tail_is_ignored_then_cut_off(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng)
    index.add_with_ids(unit_vectors(rng, 2, DIM), np.array([1, 2]))
    index.commit()
    index.close()
    log = _files(tmp_path / "ix", "changes")
    committed = log.stat().st_size
    with log.open("ab") as handle:  # a writer that died mid-append
        handle.write(b"\x40\x00\x00\x00\xde\xad\xbe\xefpartial")
    reader = IVFIndex.open(tmp_path / "ix")
    assert reader.ntotal == 602
    writer = IVFIndex.open(tmp_path / "ix", writable=True)
    assert log.stat().st_size == committed
    writer.add_with_ids(unit_vectors(rng, 1, DIM), np.array([3]))
    writer.commit()
    assert reader.refresh()
    assert reader.ntotal == 603


def test_leftovers_of_a_crashed_writer_are_collected(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng)
    index.close()
    directory = tmp_path / "ix"
    (directory / ".vectors-000000000999.qva.4242.tmp").write_bytes(b"half a file")
    (directory / "vectors-000000000998.qva").write_bytes(b"written, never published")
    IVFIndex.open(directory, writable=True).close()
    names = {path.name for path in directory.iterdir()}
    assert ".vectors-000000000999.qva.4242.tmp" not in names
    assert "vectors-000000000998.qva" not in names


# Damage and mismatches ------------------------------------------------------------------


def test_opening_a_directory_without_an_index_says_so(tmp_path: Path) -> None:
    with pytest.raises(ManifestMissingError, match="No index"):
        IVFIndex.open(tmp_path)


def test_a_dimension_mismatch_names_both_dimensions(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    _trained(tmp_path / "ix", rng).close()
    with pytest.raises(DimensionMismatchError, match=r"16-dimensional.*384") as raised:
        IVFIndex.open(tmp_path / "ix", dim=384)
    assert "--rebuild" in str(raised.value).splitlines()[-1]


def test_a_model_mismatch_names_both_models(tmp_path: Path, rng: np.random.Generator) -> None:
    _trained(tmp_path / "ix", rng).close()
    with pytest.raises(ModelMismatchError, match=r"test-model.*other"):
        IVFIndex.open(tmp_path / "ix", model_id="other")


def test_another_format_version_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    _trained(tmp_path / "ix", rng).close()
    manifest = read_manifest(tmp_path / "ix")
    write_manifest(tmp_path / "ix", manifest.successor(format_version=persist.FORMAT_VERSION + 1))
    with pytest.raises(IndexFormatError, match="format version") as raised:
        IVFIndex.open(tmp_path / "ix")
    assert "Suggestion:" in str(raised.value)


def test_a_corrupt_manifest_is_detected(tmp_path: Path, rng: np.random.Generator) -> None:
    _trained(tmp_path / "ix", rng).close()
    path = tmp_path / "ix" / "manifest.json"
    document = json.loads(path.read_text())
    document["manifest"]["counts"]["ntotal"] = 1
    path.write_text(json.dumps(document))
    with pytest.raises(IndexCorruptError, match="corrupt"):
        IVFIndex.open(tmp_path / "ix")


def test_a_truncated_vectors_file_is_detected_not_read(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    _trained(tmp_path / "ix", rng).close()
    vectors = _files(tmp_path / "ix", "vectors")
    vectors.write_bytes(vectors.read_bytes()[: vectors.stat().st_size // 2])
    with pytest.raises(IndexCorruptError, match="truncated") as raised:
        IVFIndex.open(tmp_path / "ix")
    assert "--rebuild" in str(raised.value)


def test_a_damaged_centroids_file_fails_its_checksum(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    _trained(tmp_path / "ix", rng).close()
    centroids = _files(tmp_path / "ix", "centroids")
    data = bytearray(centroids.read_bytes())
    data[-3] ^= 0x55
    centroids.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksum"):
        IVFIndex.open(tmp_path / "ix")


def test_a_missing_file_is_detected(tmp_path: Path, rng: np.random.Generator) -> None:
    _trained(tmp_path / "ix", rng).close()
    _files(tmp_path / "ix", "sorted_ids").unlink()
    with pytest.raises(IndexCorruptError, match="missing"):
        IVFIndex.open(tmp_path / "ix")


def test_damage_inside_the_committed_change_log_is_detected(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    index = _trained(tmp_path / "ix", rng)
    index.add_with_ids(unit_vectors(rng, 2, DIM), np.array([1, 2]))
    index.commit()
    index.close()
    log = _files(tmp_path / "ix", "changes")
    data = bytearray(log.read_bytes())
    data[-5] ^= 0x01
    log.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError):
        IVFIndex.open(tmp_path / "ix")


def test_verify_finds_a_flipped_byte_in_a_large_file_that_open_skips(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trained(tmp_path / "ix", rng).close()
    monkeypatch.setattr(array_files, "OPEN_VERIFY_MAX_BYTES", 1024)
    vectors = _files(tmp_path / "ix", "vectors")
    data = bytearray(vectors.read_bytes())
    data[5000] ^= 0x10
    vectors.write_bytes(bytes(data))
    index = IVFIndex.open(tmp_path / "ix")  # sizes and headers only: opens
    with pytest.raises(IndexCorruptError, match="checksum"):
        index.verify()


# Scanning modes ---------------------------------------------------------------------------


def test_int8_scanning_finds_what_float32_scanning_finds(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    vectors = unit_vectors(rng, 3000, 64)
    queries = unit_vectors(rng, 50, 64)
    found = {}
    for scan in ("int8", "float32"):
        index = IVFIndex.create(tmp_path / scan, dim=64, model_id="m", nlist=16, scan=scan)
        index.train(vectors)
        index.add_with_ids(vectors, np.arange(3000))
        index.compact()
        assert index.scan == scan
        found[scan] = index.search(queries, 10, nprobe=4)
    # Same ids, and the returned scores are exact float32 inner products in both modes.
    assert found["int8"][1].tolist() == found["float32"][1].tolist()
    np.testing.assert_array_equal(found["int8"][0], found["float32"][0])


def test_an_unknown_scan_mode_or_negative_rerank_is_refused(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    with pytest.raises(InvalidVectorError, match="scan mode"):
        IVFIndex.create(tmp_path / "a", dim=DIM, model_id="m", scan="int4")
    index = _trained(tmp_path / "ix", rng)
    with pytest.raises(InvalidQueryError, match="rerank"):
        index.search(unit_vectors(rng, 1, DIM), 3, rerank=-1)


def test_a_reader_whose_new_generation_vanished_reads_the_manifest_again(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _trained(tmp_path / "ix", rng)
    reader = IVFIndex.open(tmp_path / "ix")
    writer.add_with_ids(unit_vectors(rng, 1, DIM), np.array([777_777]))
    writer.compact()
    writer.commit()
    real_load = persist.load_state
    calls = []

    def racing_load(directory: Path, manifest: object) -> object:
        calls.append(manifest)
        if len(calls) == 1:  # the writer publishes again and collects what we were about to map
            writer.remove_ids([777_777])
            writer.compact()
            writer.commit()
            raise FileNotFoundError(2, "gone", "vectors-000000000042.qva")
        return real_load(directory, manifest)  # type: ignore[arg-type]

    monkeypatch.setattr(persist, "load_state", racing_load)
    assert reader.refresh()
    assert len(calls) == 2
    assert reader.generation == writer.generation
    assert not reader.contains(VectorId(777_777))


def test_verify_accepts_a_change_log_that_grew_after_this_generation(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    writer = _trained(tmp_path / "ix", rng)
    reader = IVFIndex.open(tmp_path / "ix")
    writer.add_with_ids(unit_vectors(rng, 3, DIM), np.array([1, 2, 3]))
    writer.commit()
    reader.verify()  # its generation's prefix of the log is intact
    assert reader.refresh()
    reader.verify()


def test_the_next_writer_deletes_what_the_last_generation_retained(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    """A compaction keeps the files it replaced for readers still switching; the next
    writer start removes them (a rebuilt 100k index left 158 MB of old change log behind),
    while a reader that mapped them before keeps answering."""
    index = _trained(tmp_path / "ivf", rng)
    extra = unit_vectors(rng, 50, DIM)
    index.add_with_ids(extra, np.arange(50, dtype=np.int64) * 10 + 7)
    index.commit()
    index.compact()
    index.commit()
    retained = read_manifest(tmp_path / "ivf").retain
    assert retained and all((tmp_path / "ivf" / name).exists() for name in retained)
    reader = IVFIndex.open(tmp_path / "ivf")
    expected = reader.search(extra[:3], 5)[1].tolist()
    index.close()
    with IVFIndex.open(tmp_path / "ivf", writable=True):
        assert not any((tmp_path / "ivf" / name).exists() for name in retained)
    assert reader.search(extra[:3], 5)[1].tolist() == expected
    reopened = IVFIndex.open(tmp_path / "ivf")
    assert reopened.search(extra[:3], 5)[1].tolist() == expected
