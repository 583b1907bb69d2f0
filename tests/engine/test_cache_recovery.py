"""Every way a cache can be wrong on open is detected and handled: rebuilt, re-embedded,
taken over or reported with a Suggestion, never read as garbage and never a crash.

(tests/engine/test_engine_recovery.py covers a damaged or foreign catalog, a damaged
vector manifest, a foreign Tantivy schema and a model of another dimension with the
real model; these use the deterministic test embedder, as the mechanism is the same.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.store.lock import LOCK_NAME, WriterLock

DATA = Path(__file__).parent.parent / "data"
WORKER = Path(__file__).with_name("crash_worker.py")


class RenamedEmbedder(HashingEmbedder):
    """Another model of the same dimension: only its identity differs."""

    @property
    def model_id(self) -> str:
        return "another-model-32"

    @property
    def weights_sha256(self) -> str:
        return "0" * 64


def open_engine(
    tree: Path, cache: Path, embedder: HashingEmbedder | None = None
) -> VectorSearchEngine:
    chosen = embedder or HashingEmbedder(dim=32)
    return VectorSearchEngine(
        tree,
        embedder_factory=lambda: chosen,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
    )


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path, int]:
    tree, cache = tmp_path / "workspace", tmp_path / "cache"
    shutil.copytree(DATA / "polyglot", tree)
    with open_engine(tree, cache) as engine:
        engine.index_tree()
        return tree, cache, engine.status().symbols


def assert_whole(engine: VectorSearchEngine, symbols: int) -> None:
    assert engine.consistency_problems() == []
    status = engine.status()
    assert status.symbols == status.vectors == symbols
    found = engine.search(SearchQuery("LoadSettings", mode="hybrid", limit=3)).results
    assert found[0].name == "LoadSettings"


def test_a_model_with_another_id_but_the_same_dimension_forces_a_re_embed(indexed) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    with open_engine(tree, cache, RenamedEmbedder(dim=32)) as engine:
        report = engine.index_tree()
        assert report.symbols_embedded == symbols  # every vector again, none reused
        assert engine.status().model_id.startswith("another-model-32")
        assert_whole(engine, symbols)


def test_a_truncated_vectors_file_is_detected_and_rebuilt(indexed) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    largest = max((cache / "vectors").glob("*.q*"), key=lambda p: p.stat().st_size)
    largest.write_bytes(largest.read_bytes()[: largest.stat().st_size // 3])
    with open_engine(tree, cache) as engine:
        report = engine.index_tree()
        assert report.files_indexed == report.files_seen  # nothing trusted from the old one
        assert report.symbols_embedded == 0  # the embedding cache was intact
        assert_whole(engine, symbols)


def test_a_vector_index_of_another_format_version_is_rebuilt(indexed) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    manifest_path = cache / "vectors" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["manifest"]["format_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with open_engine(tree, cache) as engine:
        report = engine.index_tree()
        assert report.files_indexed == report.files_seen
        assert_whole(engine, symbols)


def test_a_text_index_of_another_format_version_is_rebuilt(indexed) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    (cache / "text" / "quiver-text.json").write_text('{"format": 999}')
    with open_engine(tree, cache) as engine:
        report = engine.index_tree()
        assert report.files_indexed == report.files_seen
        assert_whole(engine, symbols)


def test_a_lock_left_by_a_killed_writer_is_not_stale(indexed, hold_writer_lock) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    holder = hold_writer_lock(cache)
    with open_engine(tree, cache) as engine:
        assert engine.role == "reader"
        assert engine.writer_pid == holder.pid
    holder.kill()  # SIGKILL: the holder never releases anything itself
    holder.wait(timeout=30)
    assert (cache / LOCK_NAME).read_text().strip() == str(holder.pid)  # its pid is still there
    assert WriterLock(cache).holder_pid() is None  # ... but nobody is reported as the writer
    with open_engine(tree, cache) as engine:
        assert engine.role == "writer"
        assert engine.index_tree().symbols_embedded == 0
        assert_whole(engine, symbols)


def write_tree(root: Path, files: int = 120) -> None:
    for number in range(files):
        folder = root / f"pkg{number % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module_{number}.py").write_text(
            "\n\n".join(
                f"def task_{number}_{index}(job):\n    return job.run({index})\n"
                for index in range(40)
            )
        )


def run_indexer(
    root: Path, cache: Path, file_size_limit: int | None
) -> subprocess.CompletedProcess[str]:
    limit = [] if file_size_limit is None else [str(file_size_limit)]
    return subprocess.run(
        [sys.executable, str(WORKER), str(root), str(cache), *limit],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("file_size_limit", [60_000, 300_000, 500_000])
def test_a_full_disk_while_indexing_is_a_clear_error_and_the_next_run_completes(
    tmp_path: Path, file_size_limit: int
) -> None:
    """RLIMIT_FSIZE makes every write past the limit fail as a full disk does (no mount
    needed); each limit lets the run get a different distance before a write fails."""
    root, cache = tmp_path / "workspace", tmp_path / "cache"
    write_tree(root)
    failed = run_indexer(root, cache, file_size_limit)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "error Could not index the workspace" in failed.stdout
    assert "Suggestion: Free some disk space" in failed.stdout
    assert "Traceback" not in failed.stderr
    with open_engine(root, cache) as engine:  # what was published before the failure
        assert engine.consistency_problems() == []
        partial = engine.status().symbols
    assert partial < 120 * 40
    finished = run_indexer(root, cache, None)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    with open_engine(root, cache) as engine:
        assert engine.consistency_problems() == []
        assert engine.status().symbols == 120 * 40
        assert engine.index_tree().files_indexed == 0


def test_queries_before_a_re_embed_never_mix_vectors_of_another_model(indexed) -> None:  # type: ignore[no-untyped-def]
    tree, cache, _ = indexed
    with open_engine(tree, cache, RenamedEmbedder(dim=32)) as engine:
        # Not re-embedded yet: the stored vectors are the other model's.
        assert engine.search(SearchQuery("load settings", mode="semantic")).results == ()
        hybrid = engine.search(SearchQuery("LoadSettings", mode="hybrid")).results
        assert hybrid[0].name == "LoadSettings"
        assert all(r.retrievers == ("text",) for r in hybrid)


class RebuiltWeights(RenamedEmbedder):
    """The same model name as ``RenamedEmbedder`` with other weights (another sha256)."""

    @property
    def weights_sha256(self) -> str:
        return "1" * 64


def test_the_manifest_records_the_whole_weights_hash_and_the_dimension(indexed) -> None:  # type: ignore[no-untyped-def]
    _, cache, _ = indexed
    manifest = json.loads((cache / "vectors" / "manifest.json").read_text())["manifest"]
    embedder = HashingEmbedder(dim=32)
    assert manifest["dim"] == 32
    assert embedder.model_id in manifest["model_id"]
    assert embedder.weights_sha256 in manifest["model_id"]  # all 64 hex digits


def test_other_weights_under_the_same_model_name_are_never_served_cached_vectors(
    indexed,  # type: ignore[no-untyped-def]
) -> None:
    tree, cache, symbols = indexed
    with open_engine(tree, cache, RenamedEmbedder(dim=32)) as engine:
        assert engine.index_tree().symbols_embedded == symbols
    with open_engine(tree, cache, RebuiltWeights(dim=32)) as engine:
        # Same name, same texts: only the weights differ, and every text is embedded again.
        assert engine.index_tree().symbols_embedded == symbols
