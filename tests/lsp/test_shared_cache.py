"""Two real servers on one workspace share one cache: one writes, the other follows.

Both are real ``quiver serve --stdio`` processes driven by pytest-lsp clients, with the
real model, on a real temporary workspace and one ``QUIVER_CACHE_DIR``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

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
    wait_until_ready,
)
from lsprotocol import types as lsp

from quiver.lsp.convert import path_to_uri

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest_asyncio.fixture
async def two_servers(
    tmp_path: Path,
) -> AsyncIterator[tuple[Path, QuiverTestClient, QuiverTestClient]]:
    root = copy_polyglot(tmp_path)
    cache = tmp_path / "cache"
    first = await start_server([root], cache)
    await wait_until_ready(first)
    second = await start_server([root], cache)
    clients = [first, second]
    try:
        yield root, first, second
    finally:
        for client in clients:
            process = client._server
            if process is not None and process.returncode is None:
                await stop_server(client)


async def test_the_second_server_reads_what_the_first_writes(two_servers) -> None:  # type: ignore[no-untyped-def]
    _, writer, reader = two_servers
    writer_status = await request(writer, "quiver/status", {})
    reader_status = await wait_until_ready(reader)
    assert (writer_status["role"], reader_status["role"]) == ("writer", "reader")
    assert reader_status["symbols"] == writer_status["symbols"]
    assert reader_status["cacheDir"] == writer_status["cacheDir"]
    assert "LoadSettings" in await symbol_names(reader, "LoadSettings")
    found = await search_names(reader, {"query": "load the settings file", "mode": "semantic"})
    assert "LoadSettings" in found


async def test_an_edit_through_one_server_is_found_by_the_others_search(two_servers) -> None:  # type: ignore[no-untyped-def]
    root, writer, reader = two_servers
    await wait_until_ready(reader)
    path = root / "net" / "http_client.py"
    original = path.read_text()
    text = original + (
        "\n\ndef exponential_backoff_with_jitter(attempt):\n"
        '    """Wait longer after each failed attempt, with random jitter."""\n'
        "    return 2 ** attempt\n"
    )
    uri = path_to_uri(path)
    writer.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=original)
        )
    )
    writer.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    # The writer finds it at once; the reader once the writer has published it.
    await wait_for(
        lambda: symbol_names(writer, "exponential_backoff"),
        lambda names: "exponential_backoff_with_jitter" in names,
    )
    await wait_for(
        lambda: search_names(reader, {"query": "exponential_backoff_with_jitter", "mode": "text"}),
        lambda names: "exponential_backoff_with_jitter" in names,
    )
    meaning = await search_names(reader, {"query": "retry delay that grows", "mode": "hybrid"})
    assert "exponential_backoff_with_jitter" in meaning

    # A file saved through the reader's editor reaches the index through the writer.
    saved = root / "net" / "saved_by_the_reader.py"
    saved.write_text("def drain_connection_pool():\n    pass\n")
    reader.text_document_did_save(
        lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(path_to_uri(saved)))
    )
    await wait_for(
        lambda: symbol_names(reader, "drain_connection_pool"),
        lambda names: "drain_connection_pool" in names,
    )


async def test_the_reader_refuses_to_reindex_and_names_the_writer(two_servers) -> None:  # type: ignore[no-untyped-def]
    from pygls.exceptions import JsonRpcException

    _, writer, reader = two_servers
    await wait_until_ready(reader)
    with pytest.raises(JsonRpcException) as refused:
        await request(reader, "quiver/reindex", {"rebuild": True})
    assert "Suggestion:" in str(refused.value)
    assert "LoadSettings" in await symbol_names(reader, "LoadSettings")  # still serving
    assert (await request(writer, "quiver/reindex", {}))["started"] is True


async def test_the_reader_takes_over_when_the_writer_exits(two_servers) -> None:  # type: ignore[no-untyped-def]
    root, writer, reader = two_servers
    await wait_until_ready(reader)
    await stop_server(writer)
    status = await wait_for(
        lambda: request(reader, "quiver/status", {}), lambda s: s["role"] == "writer"
    )
    assert status["symbols"] > 0
    # It now watches the folder itself: a file written on disk becomes searchable.
    (root / "after_takeover.py").write_text("def reconcile_ledger_entries():\n    pass\n")
    await wait_for(
        lambda: symbol_names(reader, "reconcile_ledger"),
        lambda names: "reconcile_ledger_entries" in names,
    )
