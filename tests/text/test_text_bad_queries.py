"""Whatever a user types, the text search answers with hits, an empty list, or a clear error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from text_fixtures import documents, make_symbol, names

from quiver.errors import InvalidQueryError
from quiver.text.index import DocumentIndex
from quiver.text.query import MAX_QUERY_TERMS, QueryBuilder
from quiver.text.searching import TextHit

Opener = Callable[..., DocumentIndex]


@pytest.fixture
def index(open_index: Opener) -> DocumentIndex:
    opened = open_index()
    opened.add(
        documents(
            make_symbol("parseHttpHeader", doc="Parse one header."),
            make_symbol("AND", kind=make_symbol("x").kind),
            make_symbol("query_parser", doc="Handles AND OR NOT + - ^ ~ syntax."),
            make_symbol("größe", path="src/ü.py"),
        )
    )
    opened.commit()
    return opened


@pytest.mark.parametrize("query", ["", " ", "\t\n  \r"])
def test_empty_query_raises_invalid_query_with_a_suggestion(
    index: DocumentIndex, query: str
) -> None:
    with pytest.raises(InvalidQueryError) as raised:
        index.search(query)
    assert "Suggestion:" in str(raised.value)
    assert raised.value.suggestion


@pytest.mark.parametrize(
    "query", [":", '"', ':"(*', "()", "***", "?!", "::", "->", "\\", "/", "…—«»"]
)
def test_query_of_only_punctuation_returns_nothing(index: DocumentIndex, query: str) -> None:
    assert index.search(query) == []


@pytest.mark.parametrize(
    "query",
    [
        "name:parseHttpHeader",
        '"parseHttpHeader',
        "parseHttpHeader*",
        "(parseHttpHeader",
        "parseHttpHeader~2",
        "parseHttpHeader^10",
        "+parseHttpHeader -query",
        "[parseHttpHeader TO z]",
        "{parseHttpHeader}",
        "parseHttpHeader\\",
        "/parseHttpHeader/",
        "parseHttpHeader AND OR NOT",
        "NOT parseHttpHeader",
        "parseHttpHeader && || !",
    ],
)
def test_tantivy_syntax_characters_are_plain_text(index: DocumentIndex, query: str) -> None:
    assert "parseHttpHeader" in names(index, query)


@pytest.mark.parametrize(
    "query", ["AND", "OR", "NOT", "AND OR", "+", "-", "^", "~", "IN [a b]", "a:b", "*:*"]
)
def test_query_words_that_are_tantivy_operators_never_fail(
    index: DocumentIndex, query: str
) -> None:
    hits = index.search(query)
    assert all(isinstance(hit, TextHit) for hit in hits)


def test_a_symbol_named_like_an_operator_is_still_found(index: DocumentIndex) -> None:
    assert names(index, "AND")[0] == "AND"


def test_a_100_kb_query_is_truncated_and_searches_its_head(index: DocumentIndex) -> None:
    huge = "parseHttpHeader " + "lorem ipsum dolor " * 6000
    assert len(huge) > 100_000
    assert names(index, huge)[0] == "parseHttpHeader"
    assert index.search("x" * 100_000) == []
    assert index.search(":" * 100_000) == []


def test_query_terms_are_capped(index: DocumentIndex) -> None:
    builder = QueryBuilder(index._schema)
    many = " ".join(f"word{number}" for number in range(500))
    assert len(builder.terms(many)) == MAX_QUERY_TERMS


@pytest.mark.parametrize(
    "query",
    ["größe", "GRÖSSE", "日本語", "emoji 🎉 parse", "nul\x00byte", "\x00", "\ud800", "a\udcffb"],
)
def test_non_ascii_nul_and_lone_surrogates_never_fail(index: DocumentIndex, query: str) -> None:
    hits = index.search(query)
    assert all(isinstance(hit, TextHit) for hit in hits)


def test_non_ascii_name_is_found_by_its_word(index: DocumentIndex) -> None:
    assert names(index, "größe") == ["größe"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_gives_hits_or_an_invalid_query_error(index: DocumentIndex, query: str) -> None:
    try:
        hits = index.search(query, paths=["src/**"], kinds=[make_symbol("x").kind])
    except InvalidQueryError:
        assert not query.strip()
        return
    assert query.strip()
    assert all(isinstance(hit, TextHit) for hit in hits)
