"""One cache, several engines: one writes, the others follow and take over when it goes.

These use the deterministic test embedder (what is shared is the store, not the model);
tests/lsp/test_shared_cache.py runs the same through two real server processes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.errors import QuiverError
from quiver.ivf.errors import IndexReadOnlyError
from quiver.store.lock import WriterLockedError

DATA = Path(__file__).parent.parent / "data"
EMBEDDER = HashingEmbedder(dim=64)


def open_engine(tree: Path, cache: Path, **kwargs: object) -> VectorSearchEngine:
    return VectorSearchEngine(
        tree,
        embedder_factory=lambda: EMBEDDER,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
        **kwargs,  # type: ignore[arg-type]
    )


def names(engine: VectorSearchEngine, query: str, mode: str = "text") -> list[str]:
    response = engine.search(SearchQuery(query, mode=mode, limit=10))  # type: ignore[arg-type]
    return [r.name for r in response.results]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    return root


def test_the_first_engine_writes_and_a_second_one_reads(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with open_engine(tree, cache) as writer:
        writer.index_tree()
        with open_engine(tree, cache) as reader:
            assert (writer.role, reader.role) == ("writer", "reader")
            assert reader.writer_pid == os.getpid()
            assert reader.status().symbols == writer.status().symbols
            assert names(reader, "LoadSettings")[0] == "LoadSettings"
            assert names(reader, "LoadSettings", "semantic")  # vectors mapped read-only
            assert reader.workspace_symbols("ldsett")[0].name == "LoadSettings"


def test_a_reader_refuses_to_write_and_says_who_does(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with open_engine(tree, cache) as writer:
        writer.index_tree()
        with open_engine(tree, cache) as reader:
            for attempt in (
                reader.index_tree,
                lambda: reader.update_file(tree / "settings.go"),
                lambda: reader.remove_file(tree / "settings.go"),
            ):
                with pytest.raises(IndexReadOnlyError) as caught:
                    attempt()
                assert f"process {os.getpid()}" in str(caught.value)
                assert "Suggestion:" in str(caught.value)
            assert reader.flush() is False


def test_a_reader_follows_each_published_change(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with open_engine(tree, cache) as writer:
        writer.index_tree()
        with open_engine(tree, cache) as reader:
            assert reader.follow() is False  # nothing new
            source = tree / "retry_budget.py"
            source.write_text("def replenish_retry_budget(tokens):\n    return tokens + 1\n")
            writer.update_file(source, durable=False)
            assert reader.follow() is False  # not published yet
            assert "replenish_retry_budget" not in names(reader, "replenish_retry_budget")
            writer.flush()
            assert reader.follow() is True
            assert names(reader, "replenish_retry_budget")[0] == "replenish_retry_budget"
            assert reader.status().generation == writer.status().generation

            source.unlink()
            writer.remove_file(source)
            assert reader.follow() is True
            assert "replenish_retry_budget" not in names(reader, "replenish retry budget")
            assert reader.status().symbols == writer.status().symbols


def test_a_reader_opened_before_anything_was_indexed_finds_the_index_later(
    tree: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with open_engine(tree, cache) as writer, open_engine(tree, cache) as reader:
        assert reader.status().symbols == 0
        assert names(reader, "LoadSettings") == []
        writer.index_tree()
        assert reader.follow() is True
        assert names(reader, "LoadSettings")[0] == "LoadSettings"
        assert names(reader, "load settings", "hybrid")


def test_a_reader_takes_over_when_the_writer_closes(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    writer = open_engine(tree, cache)
    writer.index_tree()
    with open_engine(tree, cache) as reader:
        assert reader.try_become_writer() is False  # the writer is alive
        writer.close()
        assert reader.try_become_writer() is True
        assert reader.role == "writer"
        report = reader.index_tree()
        assert report.symbols_embedded == 0  # nothing changed while nobody wrote
        source = tree / "after_takeover.py"
        source.write_text("def written_by_the_new_writer():\n    pass\n")
        reader.update_file(source)
        assert names(reader, "written_by_the_new_writer")[0] == "written_by_the_new_writer"
        with open_engine(tree, cache) as third:
            assert third.role == "reader"
            assert names(third, "written_by_the_new_writer")[0] == "written_by_the_new_writer"


def test_asking_for_the_writer_role_while_another_writes_is_a_clear_error(
    tree: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with open_engine(tree, cache):
        with pytest.raises(WriterLockedError) as caught:
            open_engine(tree, cache, role="writer")
        assert isinstance(caught.value, QuiverError)
        assert "Suggestion:" in str(caught.value)


def test_a_reader_role_never_takes_the_lock_even_when_free(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with open_engine(tree, cache) as writer:
        writer.index_tree()
    with open_engine(tree, cache, role="reader") as reader:
        assert reader.role == "reader"
        assert reader.writer_pid is None
        assert reader.status().symbols > 0
        with open_engine(tree, cache) as writer:
            assert writer.role == "writer"
