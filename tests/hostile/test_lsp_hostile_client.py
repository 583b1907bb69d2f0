"""A hostile client against the real server (``quiver serve --stdio``, the real model):
workspace folders that are not folders, and a 2 MB buffer. The server says what is
wrong (``window/showMessage`` with a ``Suggestion:``, and in ``quiver/status``), and
every other request keeps being answered at once.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types as lsp

from quiver.lsp.convert import path_to_uri

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lsp"))
from lsp_helpers import (  # the LSP tests' helpers, beside them
    QuiverTestClient,
    copy_polyglot,
    request,
    start_server,
    stop_server,
    symbol_names,
    wait_for,
    wait_until,
    wait_until_ready,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.model]


@dataclass
class Served:
    client: QuiverTestClient
    code: Path
    base: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    base = tmp_path_factory.mktemp("lsp-hostile")
    code = copy_polyglot(base)
    client = await start_server([code], base / "cache")
    await wait_until_ready(client)
    yield Served(client, code.resolve(), base)
    if client.error is None and not client.stopped:
        await stop_server(client)


async def timed_symbols(client: QuiverTestClient, query: str) -> tuple[list[str], float]:
    started = time.monotonic()
    names = await symbol_names(client, query)
    return names, time.monotonic() - started


def shown(client: QuiverTestClient, *words: str) -> list[lsp.ShowMessageParams]:
    return [m for m in client.messages if all(w in m.message for w in words)]


@pytest.mark.parametrize("kind", ["missing", "a file"])
async def test_an_added_folder_that_is_not_a_folder_is_reported_and_skipped(
    served: Served, kind: str
) -> None:
    client = served.client
    bad = served.base / f"not-a-folder-{kind.replace(' ', '-')}"
    if kind == "a file":
        bad.write_text("just a file\n")
    added = lsp.WorkspaceFolder(uri=path_to_uri(bad), name=bad.name)
    client.workspace_did_change_workspace_folders(
        lsp.DidChangeWorkspaceFoldersParams(
            event=lsp.WorkspaceFoldersChangeEvent(added=[added], removed=[])
        )
    )
    await wait_until(lambda: bool(shown(client, str(bad), "Suggestion:")))
    message = shown(client, str(bad), "Suggestion:")[0]
    assert message.type == lsp.MessageType.Error
    status = await request(client, "quiver/status", {})
    assert status["state"] == "error" and bad.name in status["message"]
    for _ in range(3):
        names, elapsed = await timed_symbols(client, "swr")
        assert names[:1] == ["send_with_retries"]
        assert elapsed < 2.0
    client.workspace_did_change_workspace_folders(
        lsp.DidChangeWorkspaceFoldersParams(
            event=lsp.WorkspaceFoldersChangeEvent(added=[], removed=[added])
        )
    )
    await wait_until_ready(client)


async def test_a_buffer_over_the_size_limit_is_reported_and_other_edits_go_on(
    served: Served,
) -> None:
    client = served.client
    target = served.code / "net" / "http_client.py"
    huge = target.read_text() + "".join(
        f"def generated_definition_{n}(value):\n    return value + {n}\n\n" for n in range(45_000)
    )  # about 2.3 MB
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=path_to_uri(target), language_id="python", version=1, text=huge
            )
        )
    )
    await wait_until(lambda: bool(shown(client, str(target), "maxFileSize", "Suggestion:")))
    other = served.code / "config" / "loader.go"
    text = other.read_text() + "\nfunc EditedMeanwhile() int {\n\treturn 1\n}\n"
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=path_to_uri(other), language_id="go", version=1, text=other.read_text()
            )
        )
    )
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=path_to_uri(other), version=2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    names = await wait_for(lambda: symbol_names(client, "EditedMeanwhile"), bool, timeout=10.0)
    assert names[0] == "EditedMeanwhile"
    assert await symbol_names(client, "generated_definition_44999") == []
    status = await request(client, "quiver/status", {})
    assert status["state"] == "ready"
