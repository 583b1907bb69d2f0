"""``$/cancelRequest`` for a request that a worker thread is serving at that moment.

To hold a request in flight deterministically, the file behind a search result is replaced
by a named pipe, and the server is started with a snippet reader that reads it as a plain
``read_bytes`` would (the product's reader refuses pipes, so that no search can ever block
on one): ``quiver/search`` reads each result's snippet from disk, so its worker thread
blocks reading the pipe until this test writes to it. The test knows the worker is blocked
when it can open the pipe's write end without blocking (Linux: that succeeds only once a
reader has it open). The server's own watcher is off (``watch: false``) so that it does not
notice the swap; the regular file is put back afterwards.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
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
    wait_until_ready,
)
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcRequestCancelled

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.model,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="named-pipe semantics"),
]

SLOW = '''def reconcile_pipeline_checkpoints(checkpoints):
    """Drop the checkpoints no running pipeline refers to."""
    return [c for c in checkpoints if c.pipeline.running]
'''
#: The real server, but its snippets read with a blocking ``read_bytes`` (see above).
SERVER_WITH_BLOCKING_SNIPPETS = (
    "import sys\n"
    "from pathlib import Path\n"
    "import quiver.engine.snippets as snippets\n"
    "snippets.read_regular_file = lambda path, limit: Path(path).read_bytes()\n"
    "from quiver.cli import main\n"
    "sys.exit(main(['serve', '--stdio']))\n"
)
#: Bounds on a busy 2-core machine: the worker reaching the pipe, and an answer.
BLOCKED_S = 30.0
ANSWER_S = 10.0


@dataclass
class Served:
    client: QuiverTestClient
    root: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    base = tmp_path_factory.mktemp("lsp-cancel")
    root = copy_polyglot(base).resolve()
    (root / "jobs").mkdir()
    (root / "jobs" / "checkpoints.py").write_text(SLOW)
    client = await start_server(
        [root],
        base / "cache",
        initialization_options={"watch": False},
        python_args=("-c", SERVER_WITH_BLOCKING_SNIPPETS),
    )
    await wait_until_ready(client)
    yield Served(client, root)
    await stop_server(client)


async def open_write_end_once_read(pipe: Path) -> int:
    """The pipe's write end, opened as soon as someone (the server's worker) reads it."""
    deadline = time.monotonic() + BLOCKED_S
    while True:
        try:
            return os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            if error.errno != errno.ENXIO:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"no worker opened {pipe} within {BLOCKED_S:.0f} s")
        await asyncio.sleep(0.01)


async def test_a_search_cancelled_while_a_worker_serves_it_is_request_cancelled(
    served: Served,
) -> None:
    client = served.client
    path = served.root / "jobs" / "checkpoints.py"
    params = {"query": "reconcile_pipeline_checkpoints", "mode": "text", "limit": 1}
    assert await search_names(client, params) == ["reconcile_pipeline_checkpoints"]

    path.unlink()
    os.mkfifo(path)
    write_end = None
    try:
        pending = client.protocol.send_request("quiver/search", params, msg_id="in-flight")
        write_end = await open_write_end_once_read(path)
        # The worker thread is now blocked reading the snippet: the request is in flight.
        assert not pending.done()
        cancelled_at = time.monotonic()
        client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="in-flight"))
        with pytest.raises(JsonRpcRequestCancelled) as raised:
            await asyncio.wait_for(asyncio.wrap_future(pending), timeout=ANSWER_S)
        assert raised.value.code == -32800
        assert time.monotonic() - cancelled_at < ANSWER_S
        # Answered without waiting for the worker, which is still blocked: the server
        # keeps serving meanwhile.
        other = await asyncio.wait_for(
            search_names(client, {"query": "parse_status_line", "mode": "text", "limit": 1}),
            timeout=ANSWER_S,
        )
        assert other == ["parse_status_line"]
        assert (await symbol_names(client, "swr"))[0] == "send_with_retries"
        # Let the worker finish (its result is dropped: the request is answered).
        os.write(write_end, SLOW.encode())
    finally:
        if write_end is not None:
            os.close(write_end)
        path.unlink()
        path.write_text(SLOW)

    response = await asyncio.wait_for(request(client, "quiver/search", params), timeout=ANSWER_S)
    assert [r["name"] for r in response["results"]] == ["reconcile_pipeline_checkpoints"]
    assert "checkpoints" in response["results"][0]["snippet"]
    status = await request(client, "quiver/status", {})
    assert status["state"] == "ready"


async def test_a_cancel_for_a_request_already_answered_changes_nothing(served: Served) -> None:
    client = served.client
    params = lsp.WorkspaceSymbolParams(query="swr")
    answered = client.protocol.send_request(lsp.WORKSPACE_SYMBOL, params, msg_id="done")
    result = await asyncio.wait_for(asyncio.wrap_future(answered), timeout=ANSWER_S)
    assert result[0].name == "send_with_retries"
    client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="done"))
    assert (await symbol_names(client, "swr"))[0] == "send_with_retries"
