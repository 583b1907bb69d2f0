"""Single-file updates as an editor drives them: deferred commits, no-op saves, moved ranges.

These tests are about the engine's bookkeeping, not the model: they use the
deterministic hashing embedder, real files on disk and real Tantivy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.engine.catalog import Catalog


def open_engine(root: Path, cache: Path) -> VectorSearchEngine:
    embedder = HashingEmbedder(dim=32)
    return VectorSearchEngine(
        root,
        embedder_factory=lambda: embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
    )


@pytest.fixture
def engine(polyglot_tree: Path, tmp_path: Path) -> Iterator[VectorSearchEngine]:
    engine = open_engine(polyglot_tree, tmp_path / "cache")
    engine.index_tree()
    yield engine
    engine.close()


def selection_line(engine: VectorSearchEngine, path: Path, name: str) -> int:
    return next(
        r.selection_range.start.line for r in engine.document_symbols(path) if r.name == name
    )


def disk_generation(cache: Path) -> int:
    return Catalog.load(cache / "catalog").generation


def test_a_line_inserted_above_symbols_moves_their_ranges_on_reindex(
    engine: VectorSearchEngine, polyglot_tree: Path
) -> None:
    source = polyglot_tree / "net" / "http_client.py"
    before = selection_line(engine, source, "parse_status_line")
    source.write_text("# a comment line that belongs to no symbol\n" + source.read_text())
    engine.index_tree()
    assert selection_line(engine, source, "parse_status_line") == before + 1


def test_saving_unchanged_content_writes_nothing(
    engine: VectorSearchEngine, polyglot_tree: Path, tmp_path: Path
) -> None:
    source = polyglot_tree / "ui" / "debounce.ts"
    generation = engine.status().generation
    report = engine.update_file(source, text=source.read_text())
    assert (report.symbols_added, report.symbols_removed, report.symbols_embedded) == (0, 0, 0)
    engine.update_file(source)
    assert engine.status().generation == generation
    assert disk_generation(tmp_path / "cache") == generation


def test_a_deferred_update_is_searchable_at_once_and_written_by_flush(
    engine: VectorSearchEngine, polyglot_tree: Path, tmp_path: Path
) -> None:
    source = polyglot_tree / "ui" / "debounce.ts"
    on_disk = disk_generation(tmp_path / "cache")
    buffer = source.read_text() + "\nexport function throttleScrollEvents(): void {}\n"
    engine.update_file(source, text=buffer, durable=False)
    found = engine.search(SearchQuery("throttleScrollEvents", mode="text", limit=3))
    assert [r.name for r in found.results][:1] == ["throttleScrollEvents"]
    assert disk_generation(tmp_path / "cache") == on_disk
    assert engine.flush() is True
    assert disk_generation(tmp_path / "cache") == engine.status().generation
    assert engine.flush() is False


def test_close_writes_deferred_updates(polyglot_tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with open_engine(polyglot_tree, cache) as engine:
        engine.index_tree()
        (polyglot_tree / "config" / "loader.go").unlink()
        engine.remove_file(polyglot_tree / "config" / "loader.go", durable=False)
    with open_engine(polyglot_tree, cache) as reopened:
        assert not reopened.is_indexed("config/loader.go")
        assert reopened.is_indexed("net/http_client.py")
        names = {r.name for r in reopened.workspace_symbols("LoadSettings", limit=50)}
        assert "LoadSettings" not in names


def test_names_only_workspace_symbols_never_add_semantic_matches(
    engine: VectorSearchEngine,
) -> None:
    sentence = "retry failed requests with backoff"
    names_only = engine.workspace_symbols(sentence, meaning=False)
    assert all(r.retrievers == () for r in names_only)
    meaning_only = engine.workspace_symbols(sentence, names=False, meaning=True)
    assert meaning_only
    assert all(r.retrievers == ("semantic",) for r in meaning_only)
    assert all(r.snippet == "" for r in meaning_only)


def test_a_search_does_not_wait_for_an_index_run_that_is_loading_the_model(
    polyglot_tree: Path, tmp_path: Path
) -> None:
    embedder = HashingEmbedder(dim=32)
    release = threading.Event()
    calls: list[str] = []

    def slow_first_load() -> HashingEmbedder:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            release.wait(timeout=30)  # the index run "loads the model" until released
        return embedder

    engine = VectorSearchEngine(
        polyglot_tree, embedder_factory=slow_first_load, cache_dir=tmp_path / "cache"
    )
    indexer = threading.Thread(target=engine.index_tree, name="indexer")
    indexer.start()
    try:
        while not calls:
            time.sleep(0.01)
        response = engine.search(SearchQuery("retry a failed request", mode="semantic"))
        assert response.partial is True
        assert indexer.is_alive()  # answered while the index run still held the writer lock
    finally:
        release.set()
        indexer.join(timeout=60)
        engine.close()
    assert calls == ["indexer", "MainThread"]


def test_an_older_catalog_copy_never_overwrites_a_newer_one(
    engine: VectorSearchEngine, polyglot_tree: Path, tmp_path: Path
) -> None:
    source = polyglot_tree / "ui" / "debounce.ts"
    alpha = source.read_text() + "\nexport function alpha(): void {}\n"
    engine.update_file(source, text=alpha, durable=False)
    with engine._update_lock:
        older = engine._commit_indexes()
    beta = source.read_text() + "\nexport function beta(): void {}\n"
    engine.update_file(source, text=beta, durable=False)
    with engine._update_lock:
        newer = engine._commit_indexes()
    engine._write_catalog(newer)
    engine._write_catalog(older)  # a slow writer finishing late must not win
    assert disk_generation(tmp_path / "cache") == newer[1].generation > older[1].generation


def test_a_lazy_reindex_with_nothing_changed_never_loads_the_model(
    polyglot_tree: Path, tmp_path: Path
) -> None:
    with open_engine(polyglot_tree, tmp_path / "cache") as engine:
        engine.index_tree()
    loads: list[int] = []
    embedder = HashingEmbedder(dim=32)

    def counting_factory() -> HashingEmbedder:
        loads.append(1)
        return embedder

    reopened = VectorSearchEngine(
        polyglot_tree, embedder_factory=counting_factory, cache_dir=tmp_path / "cache"
    )
    try:
        assert reopened.index_tree(lazy_model=True).files_unchanged == 4
        assert loads == []
        assert reopened.status().state == "ready"
        source = polyglot_tree / "ui" / "debounce.ts"
        source.write_text(source.read_text() + "\nexport function gamma(): void {}\n")
        assert reopened.index_tree(lazy_model=True).symbols_embedded == 1
        assert loads == [1]
    finally:
        reopened.close()


def test_a_lazy_reindex_that_finds_another_model_re_embeds_everything(
    polyglot_tree: Path, tmp_path: Path
) -> None:
    with open_engine(polyglot_tree, tmp_path / "cache") as engine:
        engine.index_tree()
        symbols = engine.status().symbols
    other_model = HashingEmbedder(dim=48)
    reopened = VectorSearchEngine(
        polyglot_tree, embedder_factory=lambda: other_model, cache_dir=tmp_path / "cache"
    )
    try:
        source = polyglot_tree / "ui" / "debounce.ts"
        source.write_text(source.read_text() + "\nexport function gamma(): void {}\n")
        report = reopened.index_tree(lazy_model=True)  # wrongly vouched for
        assert report.symbols_embedded == symbols + 1
        status = reopened.status()
        assert (status.files, status.symbols, status.dim) == (4, symbols + 1, 48)
    finally:
        reopened.close()


def test_a_flush_rebases_the_catalog_so_its_overlay_does_not_grow_with_every_edit(
    engine: VectorSearchEngine, polyglot_tree: Path
) -> None:
    source = polyglot_tree / "ui" / "debounce.ts"
    original = source.read_text()
    for round_ in range(5):
        for edit in range(10):
            buffer = original + f"\nexport function edited{round_}x{edit}(): void {{}}\n"
            engine.update_file(source, text=buffer, durable=False)
        assert engine._catalog.symbols.overlay_size > 0
        assert engine.flush() is True
        # The snapshot just written is the catalog's base now: nothing left in memory.
        assert engine._catalog.symbols.overlay_size == 0
        latest = f"edited{round_}x9"
        assert [r.name for r in engine.workspace_symbols(latest, limit=1)] == [latest]
        stale = f"edited{round_}x8"  # replaced by the next edit of the buffer
        assert all(r.name != stale for r in engine.workspace_symbols(stale, limit=5))
    assert engine.consistency_problems() == []


def test_an_edit_between_the_copy_and_its_save_keeps_the_overlay_until_the_next_flush(
    engine: VectorSearchEngine, polyglot_tree: Path
) -> None:
    source = polyglot_tree / "ui" / "debounce.ts"
    engine.update_file(source, text=source.read_text() + "\nexport function one(): void {}\n")
    with engine._update_lock:
        copy = engine._commit_indexes()
    later = source.read_text() + "\nexport function two(): void {}\n"
    engine.update_file(source, text=later, durable=False)
    engine._write_catalog(copy)  # written, but the live catalog has moved on
    assert [r.name for r in engine.workspace_symbols("two", limit=1)] == ["two"]
    assert engine._catalog.symbols.overlay_size > 0
    assert engine.flush() is True
    assert engine._catalog.symbols.overlay_size == 0
    assert [r.name for r in engine.workspace_symbols("two", limit=1)] == ["two"]
