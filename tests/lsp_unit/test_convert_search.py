"""quiver/search: engine results → the JSON of docs/protocol.md, and request
params → engine queries with clear errors for malformed input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from quiver.api import MAX_LIMIT, SearchQuery, SearchResponse, SearchResult
from quiver.errors import InvalidQueryError, QuiverError
from quiver.ids import SymbolId
from quiver.lsp import ext
from quiver.lsp.convert import (
    SimilarQuery,
    search_query_from_lsp,
    similar_query_from_lsp,
    to_search_response,
    to_search_result,
)
from quiver.lsp.options import DEFAULT_OPTIONS, ServerOptions, parse_options
from quiver.symbols import Position, Range, SymbolKind


def search_result_to_json(result: SearchResult) -> Any:
    """One result as it goes on the wire."""
    return ext.to_json(to_search_result(result))


def search_params_from_json(raw: object, options: ServerOptions) -> SearchQuery:
    """Params as the client sent them → the engine's query, as the handler reads them."""
    return search_query_from_lsp(ext.read_params(ext.SearchParams, raw), options)


def similar_params_from_json(raw: object, options: ServerOptions) -> SimilarQuery:
    return similar_query_from_lsp(ext.read_params(ext.SimilarParams, raw), options)


def reindex_params_from_json(raw: object) -> bool:
    return ext.read_params(ext.ReindexParams, raw).rebuild


def protocol_example_result(**changes: object) -> SearchResult:
    fields: dict[str, object] = {
        "symbol_id": SymbolId(1),
        "relative_path": "net/http.py",
        "name": "retry_with_backoff",
        "kind": SymbolKind.FUNCTION,
        "container": "net.http",
        "path": "/repo/net/http.py",
        "range": Range(Position(40, 0), Position(58, 0)),
        "selection_range": Range(Position(40, 4), Position(40, 22)),
        "language": "python",
        "signature": "def retry_with_backoff(request, attempts=3):",
        "snippet": "for attempt in range(attempts):\n    try:\n        return send(request)",
        "score": 0.0312,
        "retrievers": ("semantic", "text"),
    }
    fields.update(changes)
    return SearchResult(**fields)  # type: ignore[arg-type]


def test_a_result_converts_to_the_documented_example() -> None:
    # The SearchResult of the example in docs/protocol.md, field for field.
    result = protocol_example_result()
    assert search_result_to_json(result) == {
        "name": "retry_with_backoff",
        "kind": 12,
        "containerName": "net.http",
        "location": {
            "uri": "file:///repo/net/http.py",
            "range": {"start": {"line": 40, "character": 0}, "end": {"line": 58, "character": 0}},
        },
        "selectionRange": {
            "start": {"line": 40, "character": 4},
            "end": {"line": 40, "character": 22},
        },
        "language": "python",
        "signature": "def retry_with_backoff(request, attempts=3):",
        "snippet": "for attempt in range(attempts):\n    try:\n        return send(request)",
        "score": 0.0312,
        "retrievers": ["semantic", "text"],
    }


def test_the_response_wraps_results_with_partial_generation_and_time() -> None:
    results = (protocol_example_result(), protocol_example_result(name="other", score=0.01))
    response = ext.to_json(
        to_search_response(
            SearchResponse(results=results, partial=True, generation=12, elapsed_ms=6.12345)
        )
    )
    assert response["partial"] is True
    assert response["generation"] == 12
    assert response["elapsedMs"] == 6.123
    assert [r["name"] for r in response["results"]] == ["retry_with_backoff", "other"]
    # Plain JSON data, strictly valid (no NaN), ready for any JSON encoder.
    json.dumps(response, allow_nan=False)


def test_a_non_finite_score_is_sent_as_zero_because_json_cannot_carry_it() -> None:
    for bad in (math.nan, math.inf):
        converted = search_result_to_json(protocol_example_result(score=bad))
        assert converted["score"] == 0.0


def test_the_kind_is_the_lsp_number_and_paths_become_encoded_uris() -> None:
    converted = search_result_to_json(
        protocol_example_result(kind=SymbolKind.CLASS, path="/my repo/ü.py")
    )
    assert converted["kind"] == 5
    assert converted["location"]["uri"] == "file:///my%20repo/%C3%BC.py"


# --- quiver/search params --------------------------------------------------------------


def test_search_params_take_their_defaults_from_the_options() -> None:
    options, _ = parse_options({"search": {"limit": 35, "mode": "text"}})
    assert search_params_from_json({"query": " retry http "}, options) == SearchQuery(
        text="retry http", mode="text", limit=35
    )


def test_search_params_read_every_documented_field() -> None:
    params = search_params_from_json(
        {
            "query": "parse config",
            "mode": "semantic",
            "limit": 5,
            "kinds": ["function", "Class", "enum-member"],
            "languages": ["Python", "rust"],
            "paths": ["src/**"],
        },
        DEFAULT_OPTIONS,
    )
    assert params == SearchQuery(
        text="parse config",
        mode="semantic",
        limit=5,
        kinds=(SymbolKind.FUNCTION, SymbolKind.CLASS, SymbolKind.ENUM_MEMBER),
        languages=("python", "rust"),
        paths=("src/**",),
    )


def test_a_limit_above_the_maximum_is_lowered_to_it() -> None:
    params = search_params_from_json({"query": "x", "limit": 10_000}, DEFAULT_OPTIONS)
    assert params.limit == MAX_LIMIT


@pytest.mark.parametrize(
    ("raw", "in_message"),
    [
        ({"query": ""}, "The query is empty."),
        ({"query": "   "}, "The query is empty."),
        ({}, "needs a 'query' string"),
        ({"query": 3}, "needs a 'query' string"),
        ({"query": "x", "mode": "fuzzy"}, "Unknown search mode 'fuzzy'"),
        ({"query": "x", "limit": 0}, "'limit' must be a whole number"),
        ({"query": "x", "limit": "ten"}, "'limit' must be a whole number"),
        ({"query": "x", "limit": True}, "'limit' must be a whole number"),
        ({"query": "x", "kinds": ["function", "gizmo"]}, "Unknown symbol kind 'gizmo'"),
        ({"query": "x", "kinds": "function"}, "'kinds' must be a list of strings"),
        ({"query": "x", "paths": [1]}, "'paths' must be a list of strings"),
        (["query"], "params must be an object"),
    ],
)
def test_malformed_search_params_raise_an_error_with_a_suggestion(
    raw: object, in_message: str
) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        search_params_from_json(raw, DEFAULT_OPTIONS)
    assert isinstance(caught.value, QuiverError)
    assert in_message in str(caught.value)
    assert str(caught.value).splitlines()[-1].startswith("Suggestion: ")


def test_the_empty_query_error_is_the_one_in_the_protocol_reference() -> None:
    with pytest.raises(InvalidQueryError) as caught:
        search_params_from_json({"query": ""}, DEFAULT_OPTIONS)
    assert str(caught.value) == (
        "The query is empty.\nSuggestion: type a few words or a symbol name."
    )


def test_an_unknown_kind_error_lists_the_valid_labels() -> None:
    with pytest.raises(InvalidQueryError, match="function, variable"):
        search_params_from_json({"query": "x", "kinds": ["fn"]}, DEFAULT_OPTIONS)


# --- quiver/similar and quiver/reindex params ----------------------------------------------


def test_similar_params_give_the_local_path_and_position() -> None:
    params = similar_params_from_json(
        {
            "textDocument": {"uri": "file:///repo/a%20b.py"},
            "position": {"line": 10, "character": 4},
            "limit": 7,
        },
        DEFAULT_OPTIONS,
    )
    assert params.path == Path("/repo/a b.py")
    assert params.position == Position(10, 4)
    assert params.limit == 7


def test_similar_params_take_the_default_limit() -> None:
    params = similar_params_from_json(
        {"textDocument": {"uri": "file:///repo/x.py"}, "position": {"line": 1, "character": 2}},
        DEFAULT_OPTIONS,
    )
    assert (params.path, params.position, params.limit) == (Path("/repo/x.py"), Position(1, 2), 20)


@pytest.mark.parametrize(
    ("raw", "in_message"),
    [
        ({"position": {"line": 1, "character": 0}}, "needs 'textDocument.uri'"),
        (
            {"textDocument": {"uri": "untitled:1"}, "position": {"line": 0, "character": 0}},
            "only indexes local files",
        ),
        ({"textDocument": {"uri": "file:///a.py"}}, "needs a 'position'"),
        (
            {"textDocument": {"uri": "file:///a.py"}, "position": {"line": -1, "character": 0}},
            "needs a 'position'",
        ),
        (
            {"textDocument": {"uri": "file:///a.py"}, "position": {"line": 1.5, "character": 0}},
            "needs a 'position'",
        ),
    ],
)
def test_malformed_similar_params_raise_an_error_with_a_suggestion(
    raw: object, in_message: str
) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        similar_params_from_json(raw, DEFAULT_OPTIONS)
    assert in_message in str(caught.value)
    assert "\nSuggestion: " in str(caught.value)


def test_reindex_params_say_whether_to_rebuild() -> None:
    assert reindex_params_from_json(None) is False
    assert reindex_params_from_json({}) is False
    assert reindex_params_from_json({"rebuild": True}) is True
    with pytest.raises(InvalidQueryError, match="'rebuild' must be true or false"):
        reindex_params_from_json({"rebuild": "yes"})
