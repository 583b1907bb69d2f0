"""With the server's own file watcher off (``watch: false``), the client's notifications
alone keep the index current: ``textDocument/didSave`` and
``workspace/didChangeWatchedFiles`` (Created, Changed, Deleted, and a deleted folder
reported once, as VS Code does).

Each test first checks that the change made on disk is *not* followed without the
notification (the watcher really is off), then sends the notification and waits for
the index to follow it. One server serves the module; each test works on files of its
own under ``events/``.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from lsp_helpers import (
    WAIT_S,
    QuiverTestClient,
    copy_polyglot,
    request,
    start_server,
    stop_server,
    symbol_names,
    wait_for,
    wait_until_ready,
)
from lsprotocol import types as lsp

from quiver.lsp.convert import path_to_uri

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.model]

#: How long a change on disk is given to (wrongly) show up with no notification: the
#: watcher's debounce is at most 250 ms and an update of one file well under 100 ms.
UNNOTIFIED_S = 1.5
#: The bound on a folder deletion being followed once reported.
FOLDER_DELETE_S = 6.0

LEDGER = '''def reconcile_ledger_entries(entries):
    """Match every debit with its credit."""
    return [e for e in entries if e.amount]
'''

SHIPPING = '''def estimate_shipping_weight(parcels):
    """The total weight of the parcels, in grams."""
    return sum(p.grams for p in parcels)
'''

COUPONS = '''def redeem_discount_coupon(code):
    """Apply a coupon code to the basket."""
    return code.strip().upper()
'''

#: Per folder-deletion case: the folder and the symbols written under it.
LEGACY_SYMBOLS = {
    "legacy": ["legacy_export_csv", "legacy_import_csv", "LegacyMigration"],
    "legacy.v1": ["versioned_export_csv", "versioned_import_csv", "VersionedMigration"],
}


@dataclass
class Served:
    client: QuiverTestClient
    root: Path


def write_legacy(folder: Path, names: list[str]) -> None:
    """Three symbols in two files, one of them in a nested directory."""
    (folder / "nested").mkdir(parents=True)
    (folder / "export.py").write_text(
        f"def {names[0]}(rows):\n    return ','.join(rows)\n\n\n"
        f"def {names[1]}(text):\n    return text.split(',')\n"
    )
    (folder / "nested" / "migrate.go").write_text(
        f"package nested\n\ntype {names[2]} struct {{\n\tVersion int\n}}\n"
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    base = tmp_path_factory.mktemp("lsp-client-events")
    root = copy_polyglot(base).resolve()
    events = root / "events"
    events.mkdir()
    (events / "ledger.py").write_text(LEDGER)
    (events / "shipping.py").write_text(SHIPPING)
    (events / "coupons.py").write_text(COUPONS)
    for folder, names in LEGACY_SYMBOLS.items():
        write_legacy(events / folder, names)
    client = await start_server([root], base / "cache", initialization_options={"watch": False})
    await wait_until_ready(client)
    yield Served(client, root)
    await stop_server(client)


def notify_watched(client: QuiverTestClient, *changes: tuple[Path, lsp.FileChangeType]) -> None:
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(
            changes=[lsp.FileEvent(uri=path_to_uri(path), type=kind) for path, kind in changes]
        )
    )


async def found(client: QuiverTestClient, name: str) -> bool:
    return name in await symbol_names(client, name)


async def wait_found(
    client: QuiverTestClient, name: str, *, present: bool, timeout: float = WAIT_S
) -> None:
    await wait_for(lambda: found(client, name), lambda hit: hit is present, timeout=timeout)


async def assert_unnoticed(client: QuiverTestClient, name: str, *, present: bool) -> None:
    """The change on disk has not reached the index by itself: ``name`` is still
    ``present`` (or absent) after the watcher would have seen it."""
    await asyncio.sleep(UNNOTIFIED_S)
    assert await found(client, name) is present, (
        f"{name!r} {'vanished' if present else 'appeared'} with no notification: "
        "is the server's own watcher really off?"
    )


async def test_the_server_starts_with_its_own_watcher_off_and_indexes_the_workspace(
    served: Served,
) -> None:
    status = await request(served.client, "quiver/status", {})
    assert status["state"] == "ready"
    assert status["files"] == 4 + 3 + 2 * len(LEGACY_SYMBOLS)
    assert await found(served.client, "reconcile_ledger_entries")


# --- textDocument/didSave ------------------------------------------------------------------


async def test_a_new_file_written_on_disk_is_indexed_when_its_save_is_reported(
    served: Served,
) -> None:
    client = served.client
    path = served.root / "events" / "refunds.py"
    path.write_text(
        "def issue_partial_refund(order, amount):\n"
        '    """Refund part of an order to the card it was paid with."""\n'
        "    return order.refund(amount)\n"
    )
    await assert_unnoticed(client, "issue_partial_refund", present=False)
    client.text_document_did_save(
        lsp.DidSaveTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=path_to_uri(path))
        )
    )
    await wait_found(client, "issue_partial_refund", present=True)
    # The text index may lag the name index by a commit while the update runs (the answer
    # is then flagged partial): wait for the full answer.
    response = await wait_for(
        lambda: request(
            client, "quiver/search", {"query": "issue_partial_refund", "mode": "text", "limit": 3}
        ),
        lambda r: not r["partial"] and bool(r["results"]),
    )
    first = response["results"][0]
    assert first["name"] == "issue_partial_refund"
    assert first["location"]["uri"] == path_to_uri(path)


async def test_an_indexed_file_edited_on_disk_is_reindexed_when_its_save_is_reported(
    served: Served,
) -> None:
    client = served.client
    path = served.root / "events" / "ledger.py"
    path.write_text(
        LEDGER + "\n\ndef close_ledger_period(ledger, month):\n    return ledger.close(month)\n"
    )
    await assert_unnoticed(client, "close_ledger_period", present=False)
    client.text_document_did_save(
        lsp.DidSaveTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=path_to_uri(path))
        )
    )
    await wait_found(client, "close_ledger_period", present=True)
    assert await found(client, "reconcile_ledger_entries")  # the file's other symbol stays


# --- workspace/didChangeWatchedFiles -------------------------------------------------------


async def test_a_file_reported_created_is_indexed(served: Served) -> None:
    client = served.client
    path = served.root / "events" / "sessions.rs"
    path.write_text(
        "pub fn archive_stale_sessions(max_age: u64) -> usize {\n    max_age as usize\n}\n"
    )
    await assert_unnoticed(client, "archive_stale_sessions", present=False)
    notify_watched(client, (path, lsp.FileChangeType.Created))
    await wait_found(client, "archive_stale_sessions", present=True)
    symbols = await client.workspace_symbol_async(
        lsp.WorkspaceSymbolParams(query="archive_stale_sessions")
    )
    assert [s.location.uri for s in symbols or [] if s.name == "archive_stale_sessions"] == [
        path_to_uri(path)
    ]


async def test_a_file_reported_changed_is_reindexed_and_its_old_symbols_dropped(
    served: Served,
) -> None:
    client = served.client
    path = served.root / "events" / "shipping.py"
    path.write_text(SHIPPING.replace("estimate_shipping_weight", "estimate_parcel_volume"))
    await assert_unnoticed(client, "estimate_parcel_volume", present=False)
    assert await found(client, "estimate_shipping_weight")
    notify_watched(client, (path, lsp.FileChangeType.Changed))
    await wait_found(client, "estimate_parcel_volume", present=True)
    await wait_found(client, "estimate_shipping_weight", present=False)


async def test_a_file_reported_deleted_disappears(served: Served) -> None:
    client = served.client
    path = served.root / "events" / "coupons.py"
    path.unlink()
    await assert_unnoticed(client, "redeem_discount_coupon", present=True)
    notify_watched(client, (path, lsp.FileChangeType.Deleted))
    await wait_found(client, "redeem_discount_coupon", present=False)
    text = await wait_for(
        lambda: request(
            client, "quiver/search", {"query": "redeem discount coupon", "mode": "text"}
        ),
        lambda r: not r["partial"],
    )
    assert "redeem_discount_coupon" not in [r["name"] for r in text["results"]]


@pytest.mark.parametrize(
    "folder",
    [
        "legacy",
        "legacy.v1",  # a dotted folder name: the server cannot tell it by its extension
    ],
)
async def test_a_deleted_folder_reported_as_one_event_removes_every_symbol_under_it(
    served: Served, folder: str
) -> None:
    client = served.client
    directory = served.root / "events" / folder
    names = LEGACY_SYMBOLS[folder]
    for name in names:
        assert await found(client, name), name
    shutil.rmtree(directory)
    await assert_unnoticed(client, names[0], present=True)
    notify_watched(client, (directory, lsp.FileChangeType.Deleted))
    for name in names:  # bounded tighter than WAIT_S: a re-check of ~15 files takes < 1 s
        await wait_found(client, name, present=False, timeout=FOLDER_DELETE_S)
    await wait_until_ready(client)
    assert (await symbol_names(client, "swr"))[0] == "send_with_retries"  # the rest stays
