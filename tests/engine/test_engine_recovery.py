"""A damaged or foreign-version cache is rebuilt from the sources, never read as garbage."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import pytest

from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.engine.catalog import CATALOG_FILE

pytestmark = pytest.mark.model

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def indexed(tmp_path: Path, real_embedder):  # type: ignore[no-untyped-def]
    tree, cache = tmp_path / "workspace", tmp_path / "cache"
    shutil.copytree(DATA / "polyglot", tree)
    with VectorSearchEngine(
        tree,
        embedder_factory=lambda: real_embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
    ) as engine:
        engine.index_tree()
        symbols = engine.status().symbols
    return tree, cache, symbols


def reopen_and_reindex(tree: Path, cache: Path, real_embedder):  # type: ignore[no-untyped-def]
    engine = VectorSearchEngine(
        tree,
        embedder_factory=lambda: real_embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
    )
    report = engine.index_tree()
    return engine, report


def assert_answers(engine: VectorSearchEngine, symbols: int) -> None:
    status = engine.status()
    assert status.symbols == symbols
    assert status.vectors == symbols
    names = [r.name for r in engine.search(SearchQuery("LoadSettings", limit=3)).results]
    assert names[0] == "LoadSettings"


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"\x00garbage", id="garbage"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-9] + bytes([data[-9] ^ 0xFF]) + data[-8:], id="bit-flip"),
    ],
)
def test_a_corrupt_catalog_is_rebuilt_without_reembedding(indexed, real_embedder, damage) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    target = cache / "catalog" / CATALOG_FILE
    target.write_bytes(damage(target.read_bytes()))
    engine, report = reopen_and_reindex(tree, cache, real_embedder)
    with engine:
        assert report.files_indexed == 4
        assert report.symbols_embedded == 0  # the embedding cache survived
        assert_answers(engine, symbols)


def test_a_catalog_of_another_format_version_is_rebuilt(indexed, real_embedder) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    target = cache / "catalog" / CATALOG_FILE
    data = bytearray(target.read_bytes())
    data[8:12] = (999).to_bytes(4, "little")  # the format version follows the magic
    target.write_bytes(bytes(data))
    engine, report = reopen_and_reindex(tree, cache, real_embedder)
    with engine:
        assert report.files_indexed == 4
        assert_answers(engine, symbols)


def test_a_catalog_written_by_the_json_format_of_version_1_is_rebuilt(
    indexed, real_embedder
) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    (cache / "catalog" / CATALOG_FILE).unlink()
    legacy = {
        "format": 1,
        "generation": 3,
        "next_id": 99,
        "model_id": "",
        "files": [],
        "symbols": [],
    }
    (cache / "catalog" / "catalog.json.z").write_bytes(zlib.compress(json.dumps(legacy).encode()))
    engine, report = reopen_and_reindex(tree, cache, real_embedder)
    with engine:
        assert report.files_indexed == 4
        assert_answers(engine, symbols)


def test_a_damaged_vector_manifest_is_rebuilt(indexed, real_embedder) -> None:  # type: ignore[no-untyped-def]
    tree, cache, symbols = indexed
    manifests = [p for p in (cache / "vectors").iterdir() if "manifest" in p.name]
    assert manifests
    for manifest in manifests:
        manifest.write_text("{not json")
    engine, report = reopen_and_reindex(tree, cache, real_embedder)
    with engine:
        assert report.files_indexed == 4
        assert report.symbols_embedded == 0
        assert_answers(engine, symbols)


def test_a_foreign_text_index_is_rebuilt(indexed, real_embedder) -> None:  # type: ignore[no-untyped-def]
    import tantivy

    tree, cache, symbols = indexed
    shutil.rmtree(cache / "text")
    (cache / "text").mkdir()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("something_else", stored=True)
    foreign = tantivy.Index(builder.build(), path=str(cache / "text"))
    writer = foreign.writer()
    writer.add_document(tantivy.Document(something_else="x"))
    writer.commit()
    del writer, foreign
    engine, report = reopen_and_reindex(tree, cache, real_embedder)
    with engine:
        assert report.files_indexed == 4
        assert_answers(engine, symbols)


def test_an_index_built_by_another_model_is_reembedded_not_mixed(tmp_path: Path) -> None:
    """The test embedder stands in for "another model": same mechanism, no second download."""
    from hashing_embedder import HashingEmbedder

    tree, cache = tmp_path / "workspace", tmp_path / "cache"
    shutil.copytree(DATA / "polyglot", tree)
    first, second = HashingEmbedder(dim=64), HashingEmbedder(dim=96)
    with VectorSearchEngine(tree, embedder_factory=lambda: first, cache_dir=cache) as engine:
        engine.index_tree()
        symbols = engine.status().symbols
    with VectorSearchEngine(tree, embedder_factory=lambda: second, cache_dir=cache) as engine:
        report = engine.index_tree()
        status = engine.status()
        assert report.symbols_embedded == symbols  # every symbol, with the new model
        assert status.vectors == symbols
        assert status.dim == 96
        assert status.model_id.startswith(second.model_id)


def test_status_reports_when_the_index_last_changed_after_a_reopen(indexed, real_embedder) -> None:  # type: ignore[no-untyped-def]
    tree, cache, _ = indexed
    with VectorSearchEngine(tree, embedder_factory=lambda: real_embedder, cache_dir=cache) as e:
        assert e.status().last_update is not None
