"""Filtered semantic search keeps its recall (issue 14).

A filter (kind, language, path glob) used to be applied after the IVF probe, so a
restrictive one only saw the survivors of the ``nprobe`` probed lists and returned
too few or worse answers. Now the text index names the admitted symbols (and,
through its ``cluster_id`` FAST field, the lists holding them): a small admitted
set is scored exactly, a large one through the admitted lists nearest the query.

The workspace is generated: ~1,300 Python symbols over ~40 lists, probed one list
at a time (``nprobe=1``) so the old approach visibly misses, plus eight Go
functions with the same vocabulary, spread over many lists. The hashing embedder
keeps everything deterministic; what is asserted is recall against exact
filtered brute force, never timing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hashing_embedder import HashingEmbedder
from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine, indexer
from quiver.engine import filtered as filtered_search
from quiver.engine.catalog import SymbolRecord
from quiver.ids import ClusterId, SymbolId
from quiver.ivf.index import IVFIndex
from quiver.symbols import SymbolKind

_VOCABULARY = (
    "parse read write split merge sort fetch send retry cache token header body "
    "socket file path query index vector cluster graph node edge tree leaf stream "
    "buffer queue lock thread timer clock event signal config option value record "
    "table column row schema model layer tensor image pixel color shape point line"
)
WORDS = _VOCABULARY.split()
GO_NAMES = (
    "RetrySend",
    "ParseHeader",
    "SortTable",
    "CacheToken",
    "DrawPixel",
    "MergeStream",
    "LockQueue",
    "IndexVector",
)
QUERIES = (
    "retry sending a request",
    "parse the header",
    "sort table rows",
    "cache a token",
    "pixel color image",
    "merge two streams",
    "lock the queue",
    "vector index cluster",
)
DIM = 48
LIMIT = 5


def _function_name(file: int, index: int) -> str:
    first = WORDS[(file * 7 + index) % len(WORDS)]
    second = WORDS[(file * 13 + index * 5 + 3) % len(WORDS)]
    third = WORDS[(file * 3 + index * 11 + 1) % len(WORDS)]
    return f"{first}_{second}_{third}"


def write_tree(root: Path, files: int = 44, functions: int = 28) -> None:
    """Python modules (a class with two methods, then plain functions) and one Go file."""
    for file in range(files):
        lines = [
            f"class Holder{file}:",
            f'    """Holds the {WORDS[file % len(WORDS)]} state."""',
            f"    def get_{WORDS[(file + 1) % len(WORDS)]}(self):",
            "        return 1",
            f"    def set_{WORDS[(file + 2) % len(WORDS)]}(self, value):",
            "        return value",
            "",
        ]
        for index in range(functions):
            name = _function_name(file, index)
            words = name.replace("_", " ")
            lines += [
                f"def {name}(value):",
                f'    """{words} of the value."""',
                "    return value",
                "",
            ]
        path = root / "py" / f"mod_{file:02d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines))
    write_go(root, GO_NAMES)


def write_go(root: Path, names: Sequence[str]) -> None:
    body = ["package tools", ""]
    for name in names:
        body += [
            f"// {name} does what its name says.",
            f"func {name}(value int) int {{",
            "\treturn value",
            "}",
            "",
        ]
    path = root / "go" / "tools.go"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(body))


def open_engine(root: Path, cache: Path) -> VectorSearchEngine:
    embedder = HashingEmbedder(dim=DIM)
    return VectorSearchEngine(
        root,
        embedder_factory=lambda: embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1, nprobe=1),
    )


def _indexed(root: Path, cache: Path) -> VectorSearchEngine:
    # Train as soon as there are enough vectors for several lists (the product waits for 4,096).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(indexer, "MIN_VECTORS_TO_TRAIN", 1024)
        write_tree(root)
        engine = open_engine(root, cache)
        engine.index_tree()
    vectors = engine._vectors
    assert vectors is not None and vectors.is_trained and vectors.nlist >= 20
    assert vectors.delta_size == 0
    return engine


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorSearchEngine]:
    """One index for the tests that only search it."""
    base = tmp_path_factory.mktemp("filtered")
    engine = _indexed(base / "workspace", base / "cache")
    yield engine
    engine.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[VectorSearchEngine]:
    """An index of its own, for a test that changes it."""
    engine = _indexed(tmp_path / "workspace", tmp_path / "cache")
    yield engine
    engine.close()


def _vectors(engine: VectorSearchEngine) -> IVFIndex:
    vectors = engine._vectors
    assert vectors is not None
    return vectors


def _query_vector(text: str) -> np.ndarray:
    return HashingEmbedder(dim=DIM).embed_query(text)


def exact_scored(
    engine: VectorSearchEngine, text: str, admits: Callable[[SymbolRecord], bool], k: int
) -> list[tuple[int, float]]:
    """Exact filtered brute force: every admitted live vector scored, ties by smaller id."""
    query = _query_vector(text)
    vectors = _vectors(engine)
    scored = []
    for record in engine._catalog:
        if not admits(record):
            continue
        stored = vectors.reconstruct(record.id)  # type: ignore[arg-type]
        if stored is not None:
            scored.append((-float(np.dot(stored, query)), int(record.id)))
    return [(symbol_id, -negated) for negated, symbol_id in sorted(scored)[:k]]


def exact_top(
    engine: VectorSearchEngine, text: str, admits: Callable[[SymbolRecord], bool], k: int
) -> list[int]:
    return [symbol_id for symbol_id, _ in exact_scored(engine, text, admits, k)]


def assert_exact(
    engine: VectorSearchEngine,
    text: str,
    admits: Callable[[SymbolRecord], bool],
    k: int = LIMIT,
    **filters: object,
) -> None:
    """The search returns the exact filtered top-k: at each rank, a symbol whose exact score
    is the brute force's score at that rank (two scores within float rounding of each
    other, an exact tie, may come in either order)."""
    response = engine.search(SearchQuery(text, mode="semantic", limit=k, **filters))  # type: ignore[arg-type]
    found = [int(r.symbol_id) for r in response.results]
    every = exact_scored(engine, text, admits, len(engine._catalog))
    exact = dict(every)
    assert len(set(found)) == len(found) == min(k, len(every))
    assert [exact[i] for i in found] == pytest.approx([score for _, score in every[:k]], abs=1e-6)
    assert [r.score for r in response.results] == pytest.approx([exact[i] for i in found], abs=1e-6)


def old_approach_top(
    engine: VectorSearchEngine, text: str, admits: Callable[[SymbolRecord], bool], k: int
) -> list[int]:
    """What the search did before: probe ``nprobe`` lists, then drop what the filter refuses."""
    vectors = _vectors(engine)
    _, ids = vectors.search(_query_vector(text), vectors.ntotal)
    records = engine._catalog.symbols
    kept = [
        int(i)
        for i in ids[0]
        if i >= 0 and (r := records.get(SymbolId(int(i)))) is not None and admits(r)
    ]
    return kept[:k]


def searched(engine: VectorSearchEngine, text: str, k: int = LIMIT, **filters: object) -> list[int]:
    response = engine.search(SearchQuery(text, mode="semantic", limit=k, **filters))  # type: ignore[arg-type]
    return [int(r.symbol_id) for r in response.results]


def recall(found: Sequence[int], expected: Sequence[int]) -> float:
    return len(set(found) & set(expected)) / len(expected) if expected else 1.0


def is_go(record: SymbolRecord) -> bool:
    return record.language == "go"


def test_a_restrictive_language_filter_returns_the_exact_filtered_top_k(
    shared: VectorSearchEngine,
) -> None:
    vectors = _vectors(shared)
    go_ids = [int(r.id) for r in shared._catalog if is_go(r)]
    assert len(go_ids) == len(GO_NAMES)
    # The few admitted symbols sit in many lists: one probed list cannot hold them.
    assert len(set(vectors.cluster_of(go_ids).tolist())) >= 5
    old_recalls = []
    for text in QUERIES:
        assert_exact(shared, text, is_go, languages=("go",))
        expected = exact_top(shared, text, is_go, LIMIT)
        old_recalls.append(recall(old_approach_top(shared, text, is_go, LIMIT), expected))
    # The test would fail with the post-probe filter: it found well under half of them.
    assert sum(old_recalls) / len(old_recalls) < 0.5


def test_hybrid_search_takes_its_semantic_half_from_the_admitted_set(
    shared: VectorSearchEngine,
) -> None:
    for text in QUERIES[:4]:
        response = shared.search(SearchQuery(text, mode="hybrid", limit=LIMIT, languages=("go",)))
        assert len(response.results) == LIMIT
        assert all(r.language == "go" for r in response.results)
        top = set(exact_top(shared, text, is_go, LIMIT))
        shown = {int(r.symbol_id): r for r in response.results}
        assert top & shown.keys()
        assert all("semantic" in shown[i].retrievers for i in top & shown.keys())


def in_first_modules(record: SymbolRecord) -> bool:
    return record.path.startswith("py/mod_0")


def test_a_broad_filter_probes_the_admitted_lists_and_keeps_only_admitted_symbols(
    shared: VectorSearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Make ~300 admitted symbols "many": the list path runs instead of the exact scan.
    monkeypatch.setattr(filtered_search, "EXACT_SCAN_ROWS", 100)
    monkeypatch.setattr(filtered_search, "LIST_SCAN_ROWS", 100)
    query_recalls, old_recalls = [], []
    for text in QUERIES:
        expected = exact_top(shared, text, in_first_modules, 10)
        found = searched(shared, text, 10, paths=("py/mod_0*.py",))
        assert len(found) == 10
        records = shared._catalog.symbols
        assert all(in_first_modules(records[SymbolId(i)]) for i in found)  # type: ignore[index]
        query_recalls.append(recall(found, expected))
        old_recalls.append(recall(old_approach_top(shared, text, in_first_modules, 10), expected))
    mean = sum(query_recalls) / len(query_recalls)
    assert mean >= 0.8
    assert mean > sum(old_recalls) / len(old_recalls)


def test_the_list_path_scores_exactly_and_ranks_like_brute_force_within_its_lists(
    shared: VectorSearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filtered_search, "EXACT_SCAN_ROWS", 100)
    monkeypatch.setattr(filtered_search, "LIST_SCAN_ROWS", 100)
    query = _query_vector(QUERIES[0])
    response = shared.search(
        SearchQuery(QUERIES[0], mode="semantic", limit=10, kinds=(SymbolKind.FUNCTION,))
    )
    scores = [r.score for r in response.results]
    assert scores == sorted(scores, reverse=True)
    vectors = _vectors(shared)
    for result in response.results:
        assert result.kind is SymbolKind.FUNCTION
        stored = vectors.reconstruct(result.symbol_id)  # type: ignore[arg-type]
        assert stored is not None
        assert result.score == pytest.approx(float(np.dot(stored, query)), abs=1e-5)


def test_stale_cluster_ids_in_the_text_index_do_not_cost_recall(
    engine: VectorSearchEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash between the IVF retrain and the text index's reassignment leaves old cluster
    ids behind; the list path notices and finds the lists from the IVF instead."""
    monkeypatch.setattr(filtered_search, "EXACT_SCAN_ROWS", 100)
    monkeypatch.setattr(filtered_search, "LIST_SCAN_ROWS", 100)
    before = {text: searched(engine, text, 10, paths=("py/mod_0*.py",)) for text in QUERIES}
    vectors = _vectors(engine)
    live = vectors.ids()
    wrong = (vectors.cluster_of(live) + 7) % vectors.nlist
    text_index = engine._parts.text
    assert text_index is not None
    text_index.reassign_clusters(
        {SymbolId(int(i)): ClusterId(int(c)) for i, c in zip(live, wrong, strict=True)}
    )
    text_index.commit()
    with caplog.at_level(logging.INFO, logger="quiver.engine.filtered"):
        after = {text: searched(engine, text, 10, paths=("py/mod_0*.py",)) for text in QUERIES}
    assert after == before
    assert "disagree with the IVF" in caplog.text


def test_removed_symbols_never_come_back_and_new_ones_in_the_delta_are_found(
    engine: VectorSearchEngine, tmp_path: Path
) -> None:
    go_file = engine.root / "go" / "tools.go"
    removed = {int(r.id) for r in engine._catalog if r.name == "RetrySend"}
    assert len(removed) == 1
    # One Go function goes, one comes: its vector waits in the IVF's delta, its
    # document in the text index's in-memory delta (not durable).
    write_go(engine.root, [*GO_NAMES[1:], "RetrySendAgain"])
    engine.update_file(go_file, durable=False)
    vectors = _vectors(engine)
    assert vectors.delta_size >= 1
    added = {int(r.id) for r in engine._catalog if r.name == "RetrySendAgain"}
    for text in ("retry send", *QUERIES):
        found = searched(engine, text, languages=("go",))
        assert not removed & set(found)
        assert_exact(engine, text, is_go, languages=("go",))
    assert added <= set(searched(engine, "retry send again", languages=("go",)))


def test_the_list_path_always_scans_the_delta(
    engine: VectorSearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filtered_search, "EXACT_SCAN_ROWS", 100)
    monkeypatch.setattr(filtered_search, "LIST_SCAN_ROWS", 100)
    new_file = engine.root / "py" / "mod_0x.py"
    new_file.write_text('def zebra_quokka_narwhal(value):\n    """zebra quokka narwhal."""\n')
    engine.update_file(new_file, durable=False)
    new_id = next(int(r.id) for r in engine._catalog if r.name == "zebra_quokka_narwhal")
    vectors = _vectors(engine)
    assert new_id in vectors.delta_ids().tolist()
    found = searched(engine, "zebra quokka narwhal", 10, paths=("py/mod_0*.py",))
    assert found[0] == new_id
    expected = exact_top(engine, "zebra quokka narwhal", in_first_modules, 10)
    assert found[0] == expected[0]
    # Even when its list is not among those scanned, the delta's vector is scored.
    its_list = int(vectors.cluster_of([new_id])[0])
    choose = filtered_search.chosen_lists

    def without_its_list(*args: Any) -> list[ClusterId]:
        return [c for c in choose(*args) if c != its_list]

    monkeypatch.setattr(filtered_search, "chosen_lists", without_its_list)
    assert searched(engine, "zebra quokka narwhal", 10, paths=("py/mod_0*.py",))[0] == new_id


def test_unfiltered_semantic_search_is_the_plain_ivf_search(shared: VectorSearchEngine) -> None:
    vectors = _vectors(shared)
    for text in QUERIES:
        scores, ids = vectors.search(_query_vector(text), 2 * LIMIT)
        expected = [int(i) for i in ids[0] if i >= 0][:LIMIT]
        response = shared.search(SearchQuery(text, mode="semantic", limit=LIMIT))
        assert [int(r.symbol_id) for r in response.results] == expected
        assert [r.score for r in response.results] == pytest.approx(scores[0][:LIMIT].tolist())


def test_a_filter_that_admits_nothing_returns_nothing(shared: VectorSearchEngine) -> None:
    assert searched(shared, QUERIES[0], languages=("cobol",)) == []
    assert searched(shared, QUERIES[0], paths=("nowhere/**",)) == []
