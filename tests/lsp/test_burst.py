"""A branch switch: a thousand files change on disk at once while the editor keeps asking.

The real server, the real model, the server's own file watcher (this client
never sends ``workspace/didChangeWatchedFiles``). While the update runs,
``workspace/symbol`` and ``quiver/search`` must keep answering from the last
published generation; afterwards the new files' symbols are findable.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from lsp_helpers import (
    copy_polyglot,
    request,
    start_server,
    stop_server,
    symbol_names,
    wait_for,
    wait_until_ready,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.model]

BURST_FILES = 1000
#: A generous bound for one answer on a busy 2-core machine (the point is that it comes).
ANSWER_S = 15.0


def write_burst(root: Path) -> list[str]:
    """What a checkout does: many new files across new and existing directories."""
    names = []
    for n in range(BURST_FILES):
        folder = root / "net" if n % 10 == 0 else root / "feature" / f"pkg{n // 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"burst_handler_{n:04d}"
        (folder / f"handler_{n:04d}.py").write_text(
            f'def {name}(event):\n    """Handle burst event {n}."""\n    return event + {n}\n'
        )
        names.append(name)
    return names


async def answered(call: Any) -> Any:
    return await asyncio.wait_for(call, timeout=ANSWER_S)


async def test_a_burst_of_a_thousand_changed_files_does_not_freeze_requests(
    tmp_path: Path,
) -> None:
    root = copy_polyglot(tmp_path)
    client = await start_server([root], tmp_path / "cache")
    try:
        before = await wait_until_ready(client)
        assert (await symbol_names(client, "swr"))[0] == "send_with_retries"

        burst = write_burst(root)
        written_at = time.monotonic()
        rounds = during_update = 0
        slowest = 0.0
        while True:
            state_before = (await answered(request(client, "quiver/status", {})))["state"]
            asked = time.monotonic()
            symbols = await answered(symbol_names(client, "swr"))
            search = await answered(
                request(client, "quiver/search", {"query": "send a request, retrying on failure"})
            )
            slowest = max(slowest, time.monotonic() - asked)
            status = await answered(request(client, "quiver/status", {}))
            rounds += 1
            # Known symbols are there whatever the generation (the last one or the new one).
            assert "send_with_retries" in symbols, symbols
            assert "send_with_retries" in [r["name"] for r in search["results"]], search
            if state_before == status["state"] == "indexing":
                during_update += 1
            if status["state"] == "ready" and status["files"] == before["files"] + BURST_FILES:
                break
            assert time.monotonic() - written_at < 300, f"no update after 300 s: {status}"
            await asyncio.sleep(0.2)

        # The server was seen busy with the burst and answered meanwhile.
        assert during_update >= 1, f"never saw the update running ({rounds} rounds)"
        print(f"\n{rounds} rounds, {during_update} during the update, slowest {slowest:.2f} s")

        for name in (burst[0], burst[BURST_FILES // 2 + 7], burst[-1]):
            found = await wait_for(lambda n=name: symbol_names(client, n), bool)
            assert found[0] == name
        found = await request(
            client, "quiver/search", {"query": burst[-1], "mode": "text", "limit": 3}
        )
        assert found["results"][0]["name"] == burst[-1]
        assert (await symbol_names(client, "swr"))[0] == "send_with_retries"
    finally:
        await stop_server(client)
