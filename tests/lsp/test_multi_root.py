"""Two workspace folders in one server, options with problems, a client without work-done
progress, folders removed and added, a clean shutdown and a warm restart."""

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
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled

from hashing_embedder import HashingEmbedder
from quiver.cache_paths import cache_dir_for
from quiver.engine import VectorSearchEngine
from quiver.lsp.convert import path_to_uri

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.model]

BILLING = '''"""Invoices and what customers owe."""


def compute_invoice_total(lines):
    """Sum the price of every invoice line, tax included."""
    return sum(line.price * (1 + line.tax) for line in lines)


class OverdueReminder:
    """Emails customers whose invoices are past their due date."""

    def send_reminder(self, customer):
        return customer.email
'''


@dataclass
class Served:
    client: QuiverTestClient
    code: Path
    billing: Path
    cache: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    base = tmp_path_factory.mktemp("lsp-multi-root")
    code = copy_polyglot(base)
    billing = base / "billing"
    billing.mkdir()
    (billing / "invoices.py").write_text(BILLING)
    client = await start_server(
        [code, billing],
        base / "cache",
        initialization_options={"serch": {"limit": 5}, "search": {"limit": "many"}},
        work_done_progress=False,
    )
    await wait_until_ready(client)
    served = Served(client, code.resolve(), billing.resolve(), base / "cache")
    yield served
    if served.client.error is None and not served.client.stopped:
        await stop_server(served.client)


def folder(path: Path) -> lsp.WorkspaceFolder:
    return lsp.WorkspaceFolder(uri=path_to_uri(path), name=path.name)


async def test_option_problems_are_shown_and_the_defaults_kept(served: Served) -> None:
    messages = served.client.messages
    warnings = [m.message for m in messages if m.type == lsp.MessageType.Warning]
    errors = [m.message for m in messages if m.type == lsp.MessageType.Error]
    assert any("'serch'" in m and "Suggestion:" in m for m in warnings)
    assert any("search.limit" in m and "Suggestion:" in m for m in errors)
    names = await search_names(served.client, {"query": "invoice total"})
    assert 5 < len(names) <= 20  # the default limit, not 5 and not "many"


async def test_without_work_done_progress_indexing_is_reported_in_the_log(
    served: Served,
) -> None:
    assert served.client.progress_reports == {}
    lines = [m.message for m in served.client.log_messages]
    assert any(line.startswith("Quiver: Indexing") for line in lines)
    assert any(line.startswith("Quiver: Indexed") for line in lines)


async def test_status_covers_both_folders(served: Served) -> None:
    status = await request(served.client, "quiver/status", {})
    assert status["workspaceFolders"] == [path_to_uri(served.code), path_to_uri(served.billing)]
    assert status["files"] == 5
    assert status["state"] == "ready"


async def test_workspace_symbol_finds_names_in_every_folder(served: Served) -> None:
    assert (await symbol_names(served.client, "swr"))[0] == "send_with_retries"
    assert (await symbol_names(served.client, "OverdueRem"))[0] == "OverdueReminder"
    sentence = await symbol_names(served.client, "remind customers about unpaid invoices")
    assert "OverdueReminder" in sentence[:3] or "send_reminder" in sentence[:3]


async def test_search_merges_the_folders_by_score(served: Served) -> None:
    response = await request(
        served.client, "quiver/search", {"query": "sum the price of invoice lines", "limit": 8}
    )
    uris = [r["location"]["uri"] for r in response["results"]]
    assert response["results"][0]["name"] == "compute_invoice_total"
    assert any(uri.startswith(path_to_uri(served.code)) for uri in uris)
    scores = [r["score"] for r in response["results"]]
    assert scores == sorted(scores, reverse=True)


async def test_a_removed_folder_stops_answering_and_an_added_one_starts(served: Served) -> None:
    client = served.client
    client.workspace_did_change_workspace_folders(
        lsp.DidChangeWorkspaceFoldersParams(
            event=lsp.WorkspaceFoldersChangeEvent(added=[], removed=[folder(served.billing)])
        )
    )
    await wait_for(lambda: symbol_names(client, "OverdueReminder"), lambda n: n == [])
    client.workspace_did_change_workspace_folders(
        lsp.DidChangeWorkspaceFoldersParams(
            event=lsp.WorkspaceFoldersChangeEvent(added=[folder(served.billing)], removed=[])
        )
    )
    names = await wait_for(lambda: symbol_names(client, "OverdueReminder"), bool)
    assert names[0] == "OverdueReminder"


async def test_a_search_with_no_folder_left_is_request_failed(served: Served) -> None:
    client = served.client
    both = [folder(served.code), folder(served.billing)]
    client.workspace_did_change_workspace_folders(
        lsp.DidChangeWorkspaceFoldersParams(
            event=lsp.WorkspaceFoldersChangeEvent(added=[], removed=both)
        )
    )
    await wait_for(
        lambda: request(client, "quiver/status", {}), lambda s: s["workspaceFolders"] == []
    )
    with pytest.raises(JsonRpcException) as raised:
        await request(client, "quiver/search", {"query": "invoice"})
    assert raised.value.code == -32803
    assert "no workspace folder" in raised.value.message
    assert "\nSuggestion: " in raised.value.message
    client.workspace_did_change_workspace_folders(
        lsp.DidChangeWorkspaceFoldersParams(
            event=lsp.WorkspaceFoldersChangeEvent(added=both, removed=[])
        )
    )
    await wait_for(lambda: symbol_names(client, "swr"), lambda n: n[:1] == ["send_with_retries"])


async def test_shutdown_leaves_a_cache_that_opens_without_reindexing(served: Served) -> None:
    client = served.client
    await wait_until_ready(client)
    await stop_server(client)
    for root, files in ((served.code, 4), (served.billing, 1)):
        embedder = HashingEmbedder()
        engine = VectorSearchEngine(
            root,
            embedder_factory=lambda embedder=embedder: embedder,
            cache_dir=cache_dir_for(root, served.cache),
        )
        try:
            status = engine.status()
            assert status.files == files
            assert status.symbols == status.vectors > 0
        finally:
            engine.close()


async def test_a_restarted_server_answers_from_the_cache_at_once(served: Served) -> None:
    client = await start_server([served.code, served.billing], served.cache, send_initialized=False)
    try:
        # Until `initialized` a request waits for the session: cancelling it is answered
        # with RequestCancelled at once.
        pending = client.protocol.send_request(
            lsp.WORKSPACE_SYMBOL, lsp.WorkspaceSymbolParams(query="invoice"), msg_id="early"
        )
        client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="early"))
        with pytest.raises(JsonRpcRequestCancelled) as cancelled:
            await asyncio.wrap_future(pending)
        assert cancelled.value.code == -32800
        client.initialized(lsp.InitializedParams())
        # Sent right after initialization: answered from the cache, before any re-check.
        assert (await symbol_names(client, "OverdueRem"))[0] == "OverdueReminder"
        status = await wait_until_ready(client)
        assert status["files"] == 5

        def reports() -> list[Any]:
            return [v for values in client.progress_reports.values() for v in values]

        # The re-check that followed the answer reports its progress to the end (the
        # notifications may trail the `ready` status: the token is created first).
        await wait_until(lambda: bool(reports()) and reports()[-1].kind == "end")
    finally:
        await stop_server(client)
