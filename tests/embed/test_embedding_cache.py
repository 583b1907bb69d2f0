"""The persistent embedding cache: survives restarts, never returns garbage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quiver.embed.cache import EmbeddingCache
from quiver.embed.text import text_hash

DIM = 8


def _vectors(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((count, DIM)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _hashes(count: int, prefix: str = "t") -> list[str]:
    return [text_hash(f"{prefix}{i}") for i in range(count)]


def test_vectors_survive_a_reopen(tmp_path: Path) -> None:
    hashes, vectors = _hashes(5), _vectors(5)
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as cache:
        cache.put_many(hashes, vectors)
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as reopened:
        found_vectors, found = reopened.get_many([*hashes, text_hash("absent")])
    assert found.tolist() == [True] * 5 + [False]
    np.testing.assert_array_equal(found_vectors[:5], vectors)
    np.testing.assert_array_equal(found_vectors[5], np.zeros(DIM, dtype=np.float32))


def test_a_torn_tail_record_is_ignored_and_appends_continue_cleanly(tmp_path: Path) -> None:
    hashes, vectors = _hashes(3), _vectors(3)
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as cache:
        cache.put_many(hashes, vectors)
        path = cache.path
    whole = path.read_bytes()
    record = (len(whole) - 256) // 3
    # a crash in the middle of writing a fourth record
    path.write_bytes(whole + b"\x7f" * (record // 2))
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as reopened:
        found_vectors, found = reopened.get_many(hashes)
        assert found.all()
        np.testing.assert_array_equal(found_vectors, vectors)
        more = _hashes(2, prefix="more")
        reopened.put_many(more, _vectors(2, seed=1))
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as again:
        _, found = again.get_many([*hashes, *more])
        assert found.all()
        assert len(again) == 5


def test_a_damaged_record_is_a_miss_not_garbage(tmp_path: Path) -> None:
    hashes, vectors = _hashes(3), _vectors(3)
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as cache:
        cache.put_many(hashes, vectors)
        path = cache.path
    data = bytearray(path.read_bytes())
    record = (len(data) - 256) // 3
    data[256 + record + 20] ^= 0xFF  # a flipped byte inside the second vector
    path.write_bytes(bytes(data))
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as reopened:
        found_vectors, found = reopened.get_many(hashes)
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(found_vectors[[0, 2]], vectors[[0, 2]])


def test_an_unreadable_header_is_moved_aside_and_a_fresh_cache_started(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as cache:
        cache.put_many(_hashes(2), _vectors(2))
        path = cache.path
    path.write_bytes(b"not a cache file at all")
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as fresh:
        assert len(fresh) == 0
        _, found = fresh.get_many(_hashes(2))
        assert not found.any()
    assert len(list(tmp_path.glob("*.corrupt-*"))) == 1


def test_models_and_dimensions_do_not_share_vectors(tmp_path: Path) -> None:
    hashes = _hashes(2)
    with EmbeddingCache(tmp_path, model_id="model-a", dim=DIM) as cache:
        cache.put_many(hashes, _vectors(2))
    with EmbeddingCache(tmp_path, model_id="model-b", dim=DIM) as other:
        assert not other.get_many(hashes)[1].any()
    with EmbeddingCache(tmp_path, model_id="model-a", dim=DIM * 2) as wider:
        assert not wider.get_many(hashes)[1].any()


def test_putting_a_cached_hash_again_keeps_one_record(tmp_path: Path) -> None:
    hashes, vectors = _hashes(2), _vectors(2)
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as cache:
        cache.put_many(hashes, vectors)
        size = cache.path.stat().st_size
        cache.put_many([hashes[0], hashes[0]], np.stack([vectors[0], vectors[0]]))
        assert cache.path.stat().st_size == size
        assert len(cache) == 2


def test_two_open_caches_on_one_directory_append_without_clobbering(tmp_path: Path) -> None:
    first = EmbeddingCache(tmp_path, model_id="m", dim=DIM)
    second = EmbeddingCache(tmp_path, model_id="m", dim=DIM)
    first.put_many(_hashes(2, "a"), _vectors(2, seed=1))
    second.put_many(_hashes(2, "b"), _vectors(2, seed=2))
    first.close()
    second.close()
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as merged:
        vectors, found = merged.get_many([*_hashes(2, "a"), *_hashes(2, "b")])
    assert found.all()
    np.testing.assert_array_equal(vectors[2:], _vectors(2, seed=2))


def test_wrong_shapes_and_hashes_are_rejected(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path, model_id="m", dim=DIM) as cache:
        with pytest.raises(ValueError, match="shape"):
            cache.put_many(_hashes(2), _vectors(3))
        with pytest.raises(ValueError, match="hex digits"):
            cache.get_many(["abc"])
