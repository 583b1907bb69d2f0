"""``quiver serve`` end to end: the real server process, the real model, a real workspace.

One server (and one event loop) serves the whole module: the read-only tests
come first, then the ones that edit the workspace, each on files of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsp_helpers import (
    QuiverTestClient,
    copy_polyglot,
    request,
    search_names,
    start_server,
    stop_server,
    symbol_names,
    wait_for,
    wait_until,
    wait_until_ready,
)
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled

from quiver.lsp.convert import path_to_uri

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.model]


@dataclass
class Served:
    client: QuiverTestClient
    root: Path
    cache: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    base = tmp_path_factory.mktemp("lsp-e2e")
    root = copy_polyglot(base)
    client = await start_server([root], base / "cache")
    await wait_until_ready(client)
    yield Served(client, root, base / "cache")
    await stop_server(client)


def progress_kinds(client: QuiverTestClient) -> list[list[str]]:
    return [[value.kind for value in values] for values in client.progress_reports.values()]


# --- start-up ----------------------------------------------------------------------------


async def test_indexing_reports_work_done_progress_from_begin_to_end(served: Served) -> None:
    (first, *_) = progress_kinds(served.client)
    assert first[0] == "begin"
    assert "report" in first
    assert first[-1] == "end"
    _token, values = next(iter(served.client.progress_reports.items()))
    assert values[0].title == "Indexing"
    assert any(v.message == "4/4 files" for v in values if v.kind == "report")
    assert "4 files" in values[-1].message


async def test_status_describes_the_indexed_workspace(served: Served) -> None:
    status = await request(served.client, "quiver/status", {})
    assert status["state"] == "ready"
    assert status["role"] == "writer"
    assert status["workspaceFolders"] == [path_to_uri(served.root.resolve())]
    assert status["files"] == status["filesIndexed"] == 4
    assert status["symbols"] >= 20
    assert status["model"]["dim"] == 384
    assert status["cacheDir"] == str(served.cache)
    assert status["diskBytes"] > 0
    assert status["lastUpdate"] is not None
    assert status["message"] == f"Indexed 4 files, {status['symbols']} symbols"


async def test_status_changes_are_pushed_to_the_client(served: Served) -> None:
    notes = served.client.status_notifications
    await wait_until(lambda: any(note.state == "ready" for note in notes))
    assert any(note.state == "indexing" for note in notes)
    ready = next(note for note in notes if note.state == "ready")
    assert ready.files == 4
    assert ready.message.startswith("Indexed 4 files")


async def test_the_client_is_asked_to_watch_source_files(served: Served) -> None:
    (registration,) = served.client.registrations
    assert registration.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES
    patterns = [w["globPattern"] for w in registration.register_options["watchers"]]
    assert any(".py" in p or ",py," in p for p in patterns)


# --- workspace/symbol --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("swr", "send_with_retries"),  # snake_case word starts
        ("WordTok", "WordTokenizer"),  # a camelCase prefix
        ("loadsettings", "LoadSettings"),  # case-insensitive
        ("fmtDur", "formatDuration"),  # camelCase word starts
        ("parse_status_line", "parse_status_line"),  # exact
    ],
)
async def test_workspace_symbol_matches_names_fuzzily(
    served: Served, query: str, expected: str
) -> None:
    assert (await symbol_names(served.client, query))[0] == expected


async def test_workspace_symbol_entries_point_at_the_definition(served: Served) -> None:
    (first, *_) = await served.client.workspace_symbol_async(
        lsp.WorkspaceSymbolParams(query="delay_for")
    )
    assert first.name == "delay_for"
    assert first.kind == lsp.SymbolKind.Method
    assert first.container_name == "http_client.RetryPolicy"
    assert first.location.uri == path_to_uri(served.root.resolve() / "net" / "http_client.py")
    assert first.location.range.start.line == 12


async def test_a_sentence_in_workspace_symbol_finds_code_by_meaning(served: Served) -> None:
    names = await symbol_names(served.client, "count how often each word occurs")
    assert "word_frequencies" in names[:3]


async def test_workspace_symbol_streams_name_matches_then_meaning_as_partial_results(
    served: Served,
) -> None:
    client = served.client
    client.partial_results["ws-partial"] = []
    final = await client.workspace_symbol_async(
        lsp.WorkspaceSymbolParams(
            query="retry a request that failed", partial_result_token="ws-partial"
        )
    )
    assert final == []
    streamed = [item["name"] for item in client.partial_results["ws-partial"]]
    assert "send_with_retries" in streamed
    assert len(streamed) == len(set(streamed))


# --- quiver/search and quiver/similar ---------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "query", "expected"),
    [
        ("text", "parse_status_line", "parse_status_line"),
        ("semantic", "retry a request that failed, waiting longer each time", "send_with_retries"),
        ("hybrid", "read json config file LoadSettings", "LoadSettings"),
    ],
)
async def test_quiver_search_answers_in_each_mode(
    served: Served, mode: str, query: str, expected: str
) -> None:
    response = await request(served.client, "quiver/search", {"query": query, "mode": mode})
    assert response["partial"] is False
    assert response["generation"] >= 1
    assert response["elapsedMs"] >= 0
    names = [r["name"] for r in response["results"]]
    assert expected in names[:3]
    result = response["results"][names.index(expected)]
    assert result["location"]["uri"].startswith("file://")
    assert set(result) >= {
        "kind",
        "containerName",
        "selectionRange",
        "language",
        "signature",
        "snippet",
        "score",
        "retrievers",
    }
    assert set(result["retrievers"]) <= {"semantic", "text"}


async def test_quiver_search_filters_by_kind_language_and_path(served: Served) -> None:
    client = served.client
    methods = await request(
        client, "quiver/search", {"query": "split words", "kinds": ["method"], "limit": 10}
    )
    assert methods["results"]
    assert all(r["kind"] == lsp.SymbolKind.Method for r in methods["results"])
    typescript = await request(
        client, "quiver/search", {"query": "render results", "languages": ["typescript"]}
    )
    assert typescript["results"]
    assert all(r["language"] == "typescript" for r in typescript["results"])
    config = await request(
        client, "quiver/search", {"query": "settings", "paths": ["config/**"], "mode": "semantic"}
    )
    assert config["results"]
    assert all("/config/" in r["location"]["uri"] for r in config["results"])
    limited = await request(client, "quiver/search", {"query": "settings", "limit": 2})
    assert len(limited["results"]) == 2


async def test_quiver_similar_finds_code_like_the_symbol_under_the_cursor(served: Served) -> None:
    path = served.root / "text" / "tokenizer.rs"
    line = next(
        i for i, t in enumerate(path.read_text().splitlines()) if "fn split_identifier" in t
    )
    response = await request(
        served.client,
        "quiver/similar",
        {
            "textDocument": {"uri": path_to_uri(path)},
            "position": {"line": line + 2, "character": 8},
            "limit": 5,
        },
    )
    names = [r["name"] for r in response["results"]]
    assert 0 < len(names) <= 5
    assert "split_identifier" not in names


# --- textDocument/documentSymbol -------------------------------------------------------


async def test_document_symbols_nest_methods_under_their_class(served: Served) -> None:
    uri = path_to_uri(served.root / "net" / "http_client.py")
    symbols = await served.client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    assert symbols is not None
    top = {s.name: s for s in symbols}
    assert {"RetryPolicy", "send_with_retries", "parse_status_line"} <= set(top)
    policy = top["RetryPolicy"]
    assert policy.kind == lsp.SymbolKind.Class
    assert [c.name for c in policy.children or []] == ["__init__", "delay_for"]
    assert policy.selection_range.start.line == 5
    assert policy.range.start.line <= policy.children[0].range.start.line


# --- errors and cancellation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("quiver/search", {"query": 42}),
        ("quiver/search", {"query": "   "}),
        ("quiver/search", {"query": "retry", "mode": "fuzzy"}),
        ("quiver/search", {"query": "retry", "kinds": ["gizmo"]}),
        ("quiver/search", {"query": "retry", "limit": -1}),
        ("quiver/search", {"query": "retry", "paths": "src/**"}),
        ("quiver/search", None),
        ("quiver/similar", {"textDocument": {"uri": "untitled:1"}, "position": {"line": 0}}),
        ("quiver/reindex", {"rebuild": "yes"}),
    ],
)
async def test_malformed_params_are_invalid_params_and_the_server_keeps_serving(
    served: Served, method: str, params: Any
) -> None:
    with pytest.raises(JsonRpcInvalidParams) as raised:
        await request(served.client, method, params)
    assert raised.value.code == -32602
    assert "\nSuggestion: " in raised.value.message
    assert (await symbol_names(served.client, "swr"))[0] == "send_with_retries"


async def test_similar_outside_every_symbol_is_invalid_params(served: Served) -> None:
    uri = path_to_uri(served.root / "net" / "http_client.py")
    with pytest.raises(JsonRpcInvalidParams, match="Suggestion:"):
        await request(
            served.client,
            "quiver/similar",
            {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 0}},
        )


async def test_similar_in_a_file_outside_the_workspace_is_invalid_params(
    served: Served, tmp_path: Path
) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text("def stray():\n    return 1\n")
    with pytest.raises(JsonRpcInvalidParams, match="not inside any workspace folder"):
        await request(
            served.client,
            "quiver/similar",
            {"textDocument": {"uri": path_to_uri(stray)}, "position": {"line": 1, "character": 4}},
        )


async def test_a_burst_of_cancelled_requests_leaves_the_server_serving(served: Served) -> None:
    # Whether a request is still running when its cancel arrives is a race (the
    # deterministic case is in test_multi_root.py): each one is answered either with
    # its result or with RequestCancelled, never with another error.
    protocol = served.client.protocol
    queries = [f"find the code that retries failed requests, take {n}" for n in range(20)]
    futures = []
    for n, query in enumerate(queries):
        futures.append(
            protocol.send_request(
                lsp.WORKSPACE_SYMBOL, lsp.WorkspaceSymbolParams(query=query), msg_id=f"c{n}"
            )
        )
    for n in range(len(queries)):
        protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=f"c{n}"))
    outcomes = await asyncio.gather(
        *(asyncio.wrap_future(f) for f in futures), return_exceptions=True
    )
    assert all(isinstance(o, list | JsonRpcRequestCancelled) for o in outcomes), outcomes
    assert all(o.code == -32800 for o in outcomes if isinstance(o, JsonRpcRequestCancelled))
    assert (await symbol_names(served.client, "swr"))[0] == "send_with_retries"


# --- configuration -----------------------------------------------------------------------


async def test_a_configuration_change_is_honoured_and_a_bad_value_reported(
    served: Served,
) -> None:
    client = served.client
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"quiver": {"search": {"limit": 2}}})
    )
    await wait_for(
        lambda: search_names(client, {"query": "settings"}), lambda names: len(names) == 2
    )
    shown = len(client.messages)
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"quiver": {"search": {"limit": 0}}})
    )
    await wait_until(lambda: len(client.messages) > shown)
    message = client.messages[-1]
    assert message.type == lsp.MessageType.Error
    assert "search.limit" in message.message
    assert "Suggestion:" in message.message
    assert len(await search_names(client, {"query": "settings"})) == 2  # the value in force
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"quiver": {"search": {"limit": 20}}})
    )
    await wait_for(
        lambda: search_names(client, {"query": "settings"}), lambda names: len(names) > 2
    )


# --- live updates (each test on files of its own) -----------------------------------------


async def test_an_edit_in_the_editor_is_searchable_before_it_is_saved(served: Served) -> None:
    client = served.client
    path = served.root / "ui" / "debounce.ts"
    uri = path_to_uri(path)
    text = path.read_text()
    end = len(text.splitlines())
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=uri, language_id="typescript", version=1, text=text
            )
        )
    )
    new_function = (
        "export function throttleScrollEvents(handler: () => void): () => void {\n"
        "  let ticking = false;\n"
        "  return () => { if (!ticking) { ticking = true; handler(); } };\n}\n"
    )
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(
                        start=lsp.Position(line=end, character=0),
                        end=lsp.Position(line=end, character=0),
                    ),
                    text=new_function,
                )
            ],
        )
    )
    # The outline parses the buffer itself: current at once, no debounce to wait for.
    outline = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    assert "throttleScrollEvents" in [s.name for s in outline or []]
    found = await wait_for(
        lambda: search_names(client, {"query": "throttleScrollEvents", "mode": "text"}),
        lambda names: "throttleScrollEvents" in names,
    )
    assert found[0] == "throttleScrollEvents"
    # Closing without saving discards the edit: the file on disk is indexed again.
    client.text_document_did_close(
        lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    await wait_for(
        lambda: symbol_names(client, "throttleScrollEvents"),
        lambda names: "throttleScrollEvents" not in names,
    )


async def test_files_created_renamed_and_deleted_on_disk_are_followed(served: Served) -> None:
    client = served.client
    folder = served.root / "billing"
    folder.mkdir()
    created = folder / "invoices.py"
    created.write_text(
        "def compute_invoice_total(lines):\n"
        '    """Sum the price of every invoice line, tax included."""\n'
        "    return sum(line.price * (1 + line.tax) for line in lines)\n"
    )

    async def locations() -> list[str]:
        found = await client.workspace_symbol_async(
            lsp.WorkspaceSymbolParams(query="compute_invoice_total")
        )
        return [s.location.uri for s in found or [] if s.name == "compute_invoice_total"]

    assert await wait_for(locations, bool) == [path_to_uri(created)]
    renamed = folder / "totals.py"
    created.rename(renamed)
    assert await wait_for(locations, lambda uris: uris == [path_to_uri(renamed)])
    renamed.unlink()
    await wait_for(locations, lambda uris: uris == [])


async def test_reindex_runs_again_with_progress(served: Served) -> None:
    client = served.client
    runs = len(client.progress_reports)
    assert await request(client, "quiver/reindex", {}) == {"started": True}
    await wait_until(
        lambda: len(client.progress_reports) > runs and progress_kinds(client)[-1][-1:] == ["end"]
    )
    status = await wait_until_ready(client)
    assert status["files"] == 4


async def test_a_rebuild_re_embeds_everything_and_answers_as_before(served: Served) -> None:
    client = served.client
    before = await request(client, "quiver/status", {})
    assert await request(client, "quiver/reindex", {"rebuild": True}) == {"started": True}
    await wait_for(
        lambda: request(client, "quiver/status", {}),
        lambda s: s["state"] == "ready" and s["symbols"] == before["symbols"],
    )
    assert (await symbol_names(client, "swr"))[0] == "send_with_retries"
