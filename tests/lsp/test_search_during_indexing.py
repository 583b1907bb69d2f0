"""A search sent while the first indexing runs answers at once, from what is indexed so
far, flagged ``partial``; once the index is ready the same search is complete.

The workspace is a few hundred small generated files, so that the first indexing with
the real model takes seconds (embedding is the bottleneck: ~140 short symbols/s here).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from lsp_helpers import request, start_server, stop_server, wait_for, wait_until_ready

pytestmark = [pytest.mark.asyncio, pytest.mark.model]

FILES = 192
#: Files per indexing batch (``quiver.engine.INDEX_BATCH_FILES``): one batch must be in.
FIRST_BATCH = 64
#: A generous bound for one answer on a busy 2-core machine; far below the indexing time.
ANSWER_S = 5.0


def write_workspace(root: Path) -> None:
    for n in range(FILES):
        folder = root / f"pkg{n // 40:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"invoice_{n:03d}.py").write_text(
            f"def settle_invoice_{n:03d}(invoice):\n"
            f'    """Settle invoice number {n} against the customer account."""\n'
            f"    return invoice.amount - {n}\n\n\n"
            f"def audit_invoice_{n:03d}(invoice, auditor):\n"
            f'    """Record that an auditor checked invoice {n}."""\n'
            f"    return auditor.sign(invoice, {n})\n"
        )


async def answered(call: Any) -> Any:
    return await asyncio.wait_for(call, timeout=ANSWER_S)


async def test_a_search_during_the_first_indexing_answers_partially_then_fully(
    tmp_path: Path,
) -> None:
    root = (tmp_path / "invoices").resolve()
    write_workspace(root)
    client = await start_server([root], tmp_path / "cache", initialization_options={"watch": False})
    try:
        # Wait until the first batch is in and the rest is still being embedded.
        status = await wait_for(
            lambda: request(client, "quiver/status", {}),
            lambda s: s["state"] == "ready" or s["filesIndexed"] >= FIRST_BATCH,
            interval=0.02,
        )
        assert status["state"] == "indexing", (
            f"indexing ended before it could be observed: {status}"
        )
        assert status["filesIndexed"] < FILES

        asked = time.monotonic()
        text = await answered(
            request(
                client, "quiver/search", {"query": "settle invoice", "mode": "text", "limit": 50}
            )
        )
        semantic = await answered(
            request(
                client,
                "quiver/search",
                {"query": "settle an invoice against the account", "mode": "semantic"},
            )
        )
        waited = time.monotonic() - asked
        after = await answered(request(client, "quiver/status", {}))
        # Both answers came while the indexing was still running, not after it.
        assert after["state"] == "indexing", f"indexing finished before the answers: {after}"
        assert after["filesIndexed"] < FILES
        for response in (text, semantic):
            assert response["partial"] is True
            assert response["results"], "nothing answered from the files already indexed"
        assert all(r["name"].startswith("settle_invoice_") for r in text["results"])

        ready = await wait_until_ready(client)
        assert ready["files"] == ready["filesIndexed"] == FILES
        assert ready["symbols"] == 2 * FILES
        full = await answered(
            request(
                client, "quiver/search", {"query": "settle invoice", "mode": "text", "limit": 50}
            )
        )
        assert full["partial"] is False
        assert len(full["results"]) == 50
        assert full["generation"] > text["generation"]
        last = f"audit_invoice_{FILES - 1:03d}"
        found = await answered(
            request(client, "quiver/search", {"query": last, "mode": "text", "limit": 1})
        )
        assert found["partial"] is False
        assert [r["name"] for r in found["results"]] == [last]
        print(f"\nanswered during indexing in {waited:.2f} s at {status['filesIndexed']}/{FILES}")
    finally:
        await stop_server(client)
