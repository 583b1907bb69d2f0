"""Path globs mean the same thing inside Tantivy and in Python, with editor-like semantics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from text_fixtures import documents, make_symbol

from quiver.errors import InvalidQueryError
from quiver.text.index import DocumentIndex
from quiver.text.pathglob import path_glob_terms, path_matches, tantivy_path_regex

PATHS = [
    "setup.py",
    "README.md",
    "src/app.py",
    "src/app_test.py",
    "src/net/http.py",
    "src/net/http_test.py",
    "src/net/deep/retry.py",
    "src/net/deep/retry.rs",
    "srcx/other.py",
    "tests/test_app.py",
    "tests/net/test_http.py",
    "vendor/lib/a.b.c.py",
    "vendor/lib/axbxcxpy",
    "docs/odd name (1).py",
    "docs/[draft].md",
    "docs/ünïcode/straße.py",
    "lib/a+b$^.js",
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("src/*.py", {"src/app.py", "src/app_test.py"}),
        (
            "src/**/*.py",
            {
                "src/app.py",
                "src/app_test.py",
                "src/net/http.py",
                "src/net/http_test.py",
                "src/net/deep/retry.py",
            },
        ),
        ("src/**", {path for path in PATHS if path.startswith("src/")}),
        ("*_test.py", {"src/app_test.py", "src/net/http_test.py"}),
        ("**/test_*.py", {"tests/test_app.py", "tests/net/test_http.py"}),
        (
            "src/net",
            {
                "src/net/http.py",
                "src/net/http_test.py",
                "src/net/deep/retry.py",
                "src/net/deep/retry.rs",
            },
        ),
        (
            "./src/net/",
            {
                "src/net/http.py",
                "src/net/http_test.py",
                "src/net/deep/retry.py",
                "src/net/deep/retry.rs",
            },
        ),
        ("deep", {"src/net/deep/retry.py", "src/net/deep/retry.rs"}),
        ("*.r?", {"src/net/deep/retry.rs"}),
        ("src/net/deep/retry.[pr]*", {"src/net/deep/retry.py", "src/net/deep/retry.rs"}),
        ("src/net/deep/retry.[!p]*", {"src/net/deep/retry.rs"}),
        ("docs/odd name (1).py", {"docs/odd name (1).py"}),
        ("docs/[[]draft].md", {"docs/[draft].md"}),
        ("**/straße.py", {"docs/ünïcode/straße.py"}),
        ("lib/a+b$^.js", {"lib/a+b$^.js"}),
        ("vendor/lib/a.b.c.py", {"vendor/lib/a.b.c.py"}),
        ("a.b?c.py", {"vendor/lib/a.b.c.py"}),
        ("SRC/**", set()),
    ],
)
def test_glob_selects_the_expected_paths(pattern: str, expected: set[str]) -> None:
    assert {path for path in PATHS if path_matches([pattern], path)} == expected


def test_empty_pattern_is_refused_with_a_suggestion() -> None:
    with pytest.raises(InvalidQueryError, match="Suggestion:"):
        tantivy_path_regex("  ")


@pytest.mark.parametrize(
    ("pattern", "terms"),
    [
        ("src/net", [[("path", "src/net")], [("dir", "src/net")]]),
        ("vendor", [[("segment", "vendor")]]),
        ("src/**", [[("dir", "src")]]),
        ("*.tar.gz", [[("ext", "tar.gz")]]),
        ("**/*.py", [[("ext", "py")]]),
        ("src/**/*.rs", [[("dir", "src"), ("ext", "rs")]]),
        ("lib.rs/**/*.rs", None),  # the directory itself ends in .rs: regex
        ("src/*.py", None),
        ("test_*", None),
    ],
)
def test_common_globs_become_exact_term_lookups(
    pattern: str, terms: list[list[tuple[str, str]]] | None
) -> None:
    assert path_glob_terms(pattern) == terms


def test_every_literal_punctuation_is_escaped_for_tantivy() -> None:
    regex = tantivy_path_regex("a.(b)|c")
    assert regex is not None
    assert "(b)" not in regex
    assert "|" not in regex


def test_a_set_of_no_allowed_character_matches_nothing(path_index: DocumentIndex) -> None:
    assert tantivy_path_regex("src/[/]x") is None
    assert _indexed_paths(path_index, ["src/[/]x"]) == set()


@pytest.fixture(scope="module")
def path_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentIndex]:
    directory: Path = tmp_path_factory.mktemp("globs") / "text"
    index = DocumentIndex.open(directory)
    index.add(documents(*(make_symbol("handler", path=path) for path in PATHS)))
    index.commit()
    yield index
    index.close()


def _indexed_paths(index: DocumentIndex, patterns: list[str]) -> set[str]:
    hits = index.search("handler", limit=100, paths=patterns)
    return {symbol.path for symbol in index.stored([hit.symbol_id for hit in hits]).values()}


_GLOB_PIECES = st.sampled_from(
    ["*", "**", "?", "/", "src", "net", "deep", "test", "_", ".", "py", "rs", "a", "b", "c",
     "[a-r]", "[!x]", "[/]", "[]]", "[!]", "[-a]", "[", "]", "(", "{", "+", "$", "\\", "ü"]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_GLOB_PIECES, min_size=1, max_size=6).map("".join))
def test_tantivy_filter_and_python_matcher_agree(path_index: DocumentIndex, pattern: str) -> None:
    try:
        expected = {path for path in PATHS if path_matches([pattern], path)}
    except InvalidQueryError:
        # e.g. "/" alone, an empty pattern: the search refuses it the same way.
        with pytest.raises(InvalidQueryError):
            _indexed_paths(path_index, [pattern])
        return
    assert _indexed_paths(path_index, [pattern]) == expected


def test_several_patterns_are_alternatives(path_index: DocumentIndex) -> None:
    assert _indexed_paths(path_index, ["*.rs", "*.md"]) == {
        "src/net/deep/retry.rs",
        "README.md",
        "docs/[draft].md",
    }


def test_search_with_an_empty_pattern_raises_invalid_query(path_index: DocumentIndex) -> None:
    with pytest.raises(InvalidQueryError):
        path_index.search("handler", paths=["/"])


# Paths where the exact-term shortcuts could go wrong: dots in directory
# names, multi-part extensions, hidden files, empty segments.
EDGE_PATHS = [
    *PATHS,
    "lib.rs/foo.txt",
    "lib.rs/bar.rs",
    "pkg/a.tar.gz",
    "x/.rs",
    "weird..gz",
    "src/net.py/inner.py",
    "a//b/c.py",
]


@pytest.fixture(scope="module")
def edge_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentIndex]:
    index = DocumentIndex.open(tmp_path_factory.mktemp("edge-globs") / "text")
    index.add(documents(*(make_symbol("handler", path=path) for path in EDGE_PATHS)))
    index.commit()
    yield index
    index.close()


_DIRECTORIES = st.sampled_from(
    ["src", "src/net", "lib.rs", "pkg", "x", "a/", "a//b", "docs/ünïcode", "nope", "src/net.py"]
)
_EXTENSIONS = st.sampled_from(["py", "rs", "gz", "tar.gz", ".gz", "txt", "md", "b.py", "c.py"])
_SHAPED_GLOBS = st.one_of(
    _DIRECTORIES,
    _DIRECTORIES.map(lambda directory: f"{directory}/**"),
    _EXTENSIONS.map(lambda extension: f"*.{extension}"),
    _EXTENSIONS.map(lambda extension: f"**/*.{extension}"),
    st.tuples(_DIRECTORIES, _EXTENSIONS).map(lambda pair: f"{pair[0]}/**/*.{pair[1]}"),
    st.sampled_from(EDGE_PATHS),
    st.sampled_from(["http.py", "net", "lib.rs", "c.py", "retry.rs", "inner.py"]),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_SHAPED_GLOBS)
def test_exact_term_shortcuts_select_what_the_glob_selects(
    edge_index: DocumentIndex, pattern: str
) -> None:
    expected = {path for path in EDGE_PATHS if path_matches([pattern], path)}
    hits = edge_index.search("handler", limit=100, paths=[pattern])
    found = {symbol.path for symbol in edge_index.stored([hit.symbol_id for hit in hits]).values()}
    assert found == expected
