"""The engine end to end: a real multi-language tree, the real model, real Tantivy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.errors import InvalidQueryError
from quiver.symbols import SymbolKind

DATA = Path(__file__).parent.parent / "data"

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def indexed_template(tmp_path_factory: pytest.TempPathFactory, real_embedder):  # type: ignore[no-untyped-def]
    """The polyglot tree indexed once per module: (tree, cache) to copy per test."""
    base = tmp_path_factory.mktemp("indexed")
    tree, cache = base / "workspace", base / "cache"
    shutil.copytree(DATA / "polyglot", tree)
    with VectorSearchEngine(
        tree,
        embedder_factory=lambda: real_embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
    ) as engine:
        engine.index_tree()
    return tree, cache


@pytest.fixture
def polyglot_tree(indexed_template, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A writable copy of the indexed tree (mtimes kept, so the cache copy stays valid)."""
    tree = tmp_path / "workspace"
    shutil.copytree(indexed_template[0], tree)
    return tree


@pytest.fixture
def engine(indexed_template, polyglot_tree: Path, tmp_path: Path, real_embedder):  # type: ignore[no-untyped-def]
    shutil.copytree(indexed_template[1], tmp_path / "cache")
    engine = VectorSearchEngine(
        polyglot_tree,
        embedder_factory=lambda: real_embedder,
        cache_dir=tmp_path / "cache",
        options=EngineOptions(parse_workers=1),
    )
    engine.index_tree()
    yield engine
    engine.close()


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.name for r in response.results]


def test_indexing_finds_every_file_and_symbol(engine: VectorSearchEngine) -> None:
    status = engine.status()
    assert status.files == 4
    assert status.symbols == status.vectors
    assert status.state == "ready"
    assert {"send_with_retries", "WordTokenizer", "debounce", "LoadSettings"} <= {
        r.name for r in engine._catalog
    }


def test_a_symbol_is_found_by_its_exact_name_in_text_mode(engine: VectorSearchEngine) -> None:
    response = engine.search(SearchQuery("parse_status_line", mode="text", limit=5))
    assert names(response)[0] == "parse_status_line"
    assert response.results[0].retrievers == ("text",)


def test_a_symbol_is_found_by_a_description_in_semantic_mode(engine: VectorSearchEngine) -> None:
    response = engine.search(
        SearchQuery("retry a request that failed, waiting longer each time", mode="semantic")
    )
    assert "send_with_retries" in names(response)[:3]


def test_hybrid_search_finds_a_mixed_query(engine: VectorSearchEngine) -> None:
    response = engine.search(SearchQuery("read json config file LoadSettings", limit=5))
    assert names(response)[0] == "LoadSettings"
    first = response.results[0]
    assert first.language == "go"
    assert first.path.endswith("config/loader.go")
    assert first.signature.startswith("func LoadSettings")
    assert "os.ReadFile" in first.snippet


def test_filters_restrict_kind_language_and_path(engine: VectorSearchEngine) -> None:
    by_kind = engine.search(SearchQuery("split words", kinds=(SymbolKind.METHOD,), limit=10))
    assert by_kind.results and all(r.kind is SymbolKind.METHOD for r in by_kind.results)
    by_language = engine.search(SearchQuery("render results", languages=("typescript",)))
    assert by_language.results and all(r.language == "typescript" for r in by_language.results)
    by_path = engine.search(SearchQuery("settings", paths=("config/**",), mode="semantic"))
    assert by_path.results and all(r.relative_path.startswith("config/") for r in by_path.results)


def test_reindexing_an_unchanged_tree_embeds_nothing(engine: VectorSearchEngine) -> None:
    report = engine.index_tree()
    assert report.symbols_embedded == 0
    assert report.files_indexed == 0
    assert report.files_unchanged == 4


def test_a_reopened_engine_answers_without_reembedding(
    polyglot_tree: Path, tmp_path: Path, real_embedder, engine: VectorSearchEngine
) -> None:  # type: ignore[no-untyped-def]
    before = names(engine.search(SearchQuery("exponential backoff delay")))
    engine.close()
    reopened = VectorSearchEngine(
        polyglot_tree, embedder_factory=lambda: real_embedder, cache_dir=tmp_path / "cache"
    )
    try:
        assert reopened.index_tree().symbols_embedded == 0
        assert names(reopened.search(SearchQuery("exponential backoff delay"))) == before
    finally:
        reopened.close()


def test_editing_one_function_changes_only_that_files_symbols(
    engine: VectorSearchEngine, polyglot_tree: Path
) -> None:
    other_ids = {r.id for r in engine._catalog if not r.path.startswith("net/")}
    source = polyglot_tree / "net" / "http_client.py"
    text = source.read_text().replace(
        "return version, int(code), reason", "return version.upper(), int(code), reason"
    )
    source.write_text(text)
    report = engine.update_file(source)
    assert report.symbols_embedded == 1
    assert {r.id for r in engine._catalog if not r.path.startswith("net/")} == other_ids


def test_a_new_function_in_an_unsaved_buffer_becomes_searchable(
    engine: VectorSearchEngine, polyglot_tree: Path
) -> None:
    source = polyglot_tree / "ui" / "debounce.ts"
    buffer = source.read_text() + (
        "\nexport function throttleScrollEvents(handler: () => void): () => void {\n"
        "  let ticking = false;\n"
        "  return () => { if (!ticking) { ticking = true; handler(); } };\n}\n"
    )
    engine.update_file(source, text=buffer)
    response = engine.search(SearchQuery("throttleScrollEvents", limit=3))
    assert names(response)[0] == "throttleScrollEvents"


def test_a_deleted_file_disappears_from_the_index(
    engine: VectorSearchEngine, polyglot_tree: Path
) -> None:
    (polyglot_tree / "config" / "loader.go").unlink()
    engine.index_tree()
    assert "LoadSettings" not in names(engine.search(SearchQuery("LoadSettings", limit=20)))
    assert engine.status().files == 3


def test_workspace_symbols_match_names_fuzzily_and_sentences_semantically(
    engine: VectorSearchEngine,
) -> None:
    assert engine.workspace_symbols("swr")[0].name == "send_with_retries"
    sentence = engine.workspace_symbols("count how often each word occurs")
    assert sentence[0].name == "word_frequencies"


def test_similar_code_excludes_the_symbol_itself(
    engine: VectorSearchEngine, polyglot_tree: Path
) -> None:
    path = polyglot_tree / "text" / "tokenizer.rs"
    line = next(
        i for i, t in enumerate(path.read_text().splitlines()) if "fn split_identifier" in t
    )
    response = engine.similar(path, line + 2, 8, limit=5)
    assert response.results
    assert "split_identifier" not in names(response)


@pytest.mark.parametrize(
    "query",
    [
        "x" * 100_000,
        "!!!???",
        ':"(*',
        "AND OR NOT",
        "title:foo^2 [a TO b] {c} ~ \\ /",
        "\x00",
        "名前",
    ],
)
def test_bad_queries_never_crash(engine: VectorSearchEngine, query: str) -> None:
    for mode in ("text", "semantic", "hybrid"):
        response = engine.search(SearchQuery(query, mode=mode))  # type: ignore[arg-type]
        assert isinstance(response.results, tuple)


def test_an_empty_query_is_a_clear_error(engine: VectorSearchEngine) -> None:
    with pytest.raises(InvalidQueryError, match="Suggestion:"):
        engine.search(SearchQuery("   "))
