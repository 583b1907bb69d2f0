"""The path prior (issue 12 §3): tests, fixtures, vendored and generated code rank below
product code for the same relevance, never above a clearly better match, and not at all
when it is turned off. Deterministic: the hashing embedder, real Tantivy, files on disk.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.engine.path_prior import PathRanker
from quiver.errors import QuiverError
from quiver.secondary_code import (
    DEFAULT_SECONDARY_PATHS,
    MAX_PATTERN_CHARS,
    PathPrior,
    pattern_problem,
)
from quiver.text.pathglob import MAX_GLOB_CHARS, compile_path_glob

# The same function in the product (util.py) and in a test helper (tests/split_helpers.py):
# near-equal relevance, the test's a little higher (its module's name also says "split").
SPLITTER = '''
def split_identifier(name):
    """Split an identifier into its words, whatever its naming convention."""
    return name.split("_")
'''

OTHER = '''
def draw_circle(canvas, radius):
    """Draw a circle on the canvas."""
    return canvas.circle(radius)
'''

# Only a test answers this query well; the product has a weak partial match.
URL_TEST = '''
def parse_url_query_string(url):
    """Parse the query string of a url into its parameters."""
    return dict(part.split("=") for part in url.split("?")[1].split("&"))
'''

URL_PRODUCT = '''
def parse_config(path):
    """Read the settings file."""
    return open(path).read()
'''


def write_tree(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "split_helpers.py").write_text(SPLITTER + URL_TEST)
    (root / "util.py").write_text(SPLITTER)
    (root / "shapes.py").write_text(OTHER + URL_PRODUCT)
    return root


def open_engine(root: Path, cache: Path, prior: PathPrior) -> VectorSearchEngine:
    embedder = HashingEmbedder(dim=64)
    engine = VectorSearchEngine(
        root,
        embedder_factory=lambda: embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1, path_prior=prior),
    )
    engine.index_tree()
    return engine


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "workspace")


@pytest.fixture
def engine(tree: Path, tmp_path: Path) -> Iterator[VectorSearchEngine]:
    with open_engine(tree, tmp_path / "cache", PathPrior()) as engine:
        yield engine


def paths_of(engine: VectorSearchEngine, text: str, mode: str, name: str) -> list[str]:
    response = engine.search(SearchQuery(text, mode=mode, limit=5))  # type: ignore[arg-type]
    return [r.relative_path for r in response.results if r.name == name]


@pytest.mark.parametrize("mode", ["text", "semantic", "hybrid"])
def test_for_equal_relevance_product_code_comes_first(
    engine: VectorSearchEngine, mode: str
) -> None:
    query = "split an identifier into words"
    assert paths_of(engine, query, mode, "split_identifier") == [
        "util.py",
        "tests/split_helpers.py",
    ]


@pytest.mark.parametrize("mode", ["text", "semantic", "hybrid"])
def test_a_test_that_is_clearly_the_better_match_stays_first(
    engine: VectorSearchEngine, mode: str
) -> None:
    response = engine.search(SearchQuery("parse url query string", mode=mode, limit=5))  # type: ignore[arg-type]
    assert response.results[0].name == "parse_url_query_string"
    assert response.results[0].relative_path == "tests/split_helpers.py"


@pytest.mark.parametrize("mode", ["text", "semantic", "hybrid"])
def test_turned_off_the_plain_score_order_comes_back(tree: Path, tmp_path: Path, mode: str) -> None:
    query = "split an identifier into words"
    for name, off in (("weight", PathPrior(weight=1.0)), ("patterns", PathPrior(patterns=()))):
        with open_engine(tree, tmp_path / f"cache-{name}", off) as engine:
            assert paths_of(engine, query, mode, "split_identifier") == [
                "tests/split_helpers.py",
                "util.py",
            ]


def test_the_prior_lowers_only_secondary_scores_and_keeps_them_sorted(
    engine: VectorSearchEngine, tree: Path, tmp_path: Path
) -> None:
    query = SearchQuery("split an identifier into words", mode="semantic")
    with open_engine(tree, tmp_path / "cache-off", PathPrior(weight=1.0)) as off:
        plain = {
            r.relative_path: r.score
            for r in off.search(query).results
            if r.name == "split_identifier"
        }
    results = engine.search(query).results
    scored = {r.relative_path: r.score for r in results if r.name == "split_identifier"}
    assert scored["util.py"] == pytest.approx(plain["util.py"])
    assert scored["tests/split_helpers.py"] == pytest.approx(0.9 * plain["tests/split_helpers.py"])
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)


def test_similar_code_has_the_prior_too(
    engine: VectorSearchEngine, tree: Path, tmp_path: Path
) -> None:
    with open_engine(tree, tmp_path / "cache-off", PathPrior(weight=1.0)) as off:
        plain = {
            (r.relative_path, r.name): r.score
            for r in off.similar(tree / "shapes.py", 2, 4).results
        }
    results = engine.similar(tree / "shapes.py", 2, 4).results
    for result in results:
        factor = 0.9 if result.relative_path.startswith("tests/") else 1.0
        assert result.score == pytest.approx(factor * plain[(result.relative_path, result.name)])
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)


def test_workspace_symbols_break_name_ties_product_first_and_keep_the_scores(
    engine: VectorSearchEngine,
) -> None:
    found = engine.workspace_symbols("split_identifier", meaning=False)[:2]
    assert [r.relative_path for r in found] == ["util.py", "tests/split_helpers.py"]
    assert found[0].score == found[1].score


def test_break_ties_moves_only_tied_candidates() -> None:
    ranker = PathRanker(PathPrior())
    paths = {1: "tests/a.py", 2: "a.py", 3: "tests/b.py", 4: "vendor/c.py", 5: "c.py"}
    ranked = [(1, 9.0), (2, 9.0), (3, 8.0), (4, 7.0), (5, 7.0)]
    assert ranker.break_ties(ranked, paths.get) == [
        (2, 9.0),
        (1, 9.0),
        (3, 8.0),
        (5, 7.0),
        (4, 7.0),
    ]
    assert PathRanker(PathPrior(weight=1.0)).break_ties(ranked, paths.get) == ranked


def test_default_patterns_match_tests_vendored_and_generated_code() -> None:
    ranker = PathRanker(PathPrior())
    secondary = [
        "tests/engine/test_search.py",
        "server/quiver/test/util.py",
        "pkg/test_parse.py",
        "pkg/parse_test.py",
        "conftest.py",
        "cmd/server_test.go",
        "web/src/app.test.ts",
        "web/src/app.spec.js",
        "src/__tests__/a.js",
        "fixtures/sample.py",
        "go/testdata/x.go",
        "vendor/github.com/x/y.go",
        "third_party/lib.c",
        "api/messages_pb2.py",
        "api/messages.pb.go",
        "src/schema.generated.ts",
    ]
    product = [
        "server/quiver/embed/text.py",
        "src/contest.py",
        "src/testament.py",
        "latest/x.py",
        "src/attest_test_helpers.rs",
        "docs/protest.md",
    ]
    assert [p for p in secondary if not ranker.is_secondary(p)] == []
    assert [p for p in product if ranker.is_secondary(p)] == []
    assert PathRanker(PathPrior(weight=1.0)).is_secondary("tests/a.py") is False


@pytest.mark.parametrize("weight", [0.0, -0.5, 1.5, float("nan"), float("inf")])
def test_a_weight_outside_zero_to_one_is_refused_with_a_suggestion(weight: float) -> None:
    with pytest.raises(QuiverError) as raised:
        PathPrior(weight=weight)
    assert "(0, 1]" in raised.value.message
    assert "1.0 turns the prior off" in raised.value.suggestion


def test_an_empty_pattern_is_refused_with_a_suggestion() -> None:
    with pytest.raises(QuiverError) as raised:
        PathPrior(patterns=("tests/", "  "))
    assert "'  '" in raised.value.message
    assert raised.value.suggestion


def test_the_defaults_are_the_documented_ones() -> None:
    assert PathPrior().patterns == DEFAULT_SECONDARY_PATHS
    assert PathPrior().weight == 0.9
    assert PathPrior().enabled
    assert not PathPrior(weight=1.0).enabled
    assert not PathPrior(patterns=()).enabled


def test_rerank_with_a_limit_reads_few_paths_and_agrees_with_the_full_rerank() -> None:
    rng = random.Random(12)
    ranker = PathRanker(PathPrior())
    for _ in range(200):
        scores = sorted((rng.uniform(-0.2, 1.0) for _ in range(60)), reverse=True)
        paths = {key: rng.choice(["a.py", "tests/a.py"]) for key in range(60)}
        candidates = list(enumerate(scores))
        asked: list[int] = []

        def path_of(key: int, paths: dict[int, str] = paths, asked: list[int] = asked) -> str:
            asked.append(key)
            return paths[key]

        limit = rng.randint(1, 30)
        assert (
            ranker.rerank(candidates, path_of, limit)
            == ranker.rerank(candidates, paths.get)[:limit]
        )
        assert len(asked) < 60 or limit > 20


@pytest.mark.parametrize(
    "pattern",
    ["tests/", "/", "./", "./././", "//", " ./ ", "a/", "x" * 1000, "x" * 1001, "[", "**"],
)
def test_the_light_pattern_check_agrees_with_pathglob(pattern: str) -> None:
    # quiver.secondary_code checks patterns without importing the text index (Tantivy).
    try:
        compile_path_glob(pattern)
    except QuiverError:
        refused = True
    else:
        refused = False
    assert (pattern_problem(pattern) is not None) == refused
    assert MAX_PATTERN_CHARS == MAX_GLOB_CHARS
