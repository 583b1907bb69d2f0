"""The connection's checks (``quiver.lsp.transport``), in-process: the real server's
protocol, a stub workspace session, messages fed as bytes, answers read back.

Each request gets exactly one answer (-32700, -32600, -32002, -32602 for what never
reaches a handler), notifications none; ``exit`` ends the connection with LSP's exit
code. The real process is driven from outside in ``tests/lsp/test_transport.py``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from lsp_unit.transport_fuzzing import Fuzzer, build_stream
from quiver.api import SearchResponse
from quiver.lsp.framing import ByteBuffer, FrameReader
from quiver.lsp.server import QuiverLanguageServer, create_server
from quiver.lsp.transport import Ending, serve_connection
from quiver.workspace.status import SessionStatus

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {"processId": None, "rootUri": None, "capabilities": {}},
}


class StubSession:
    """Answers every query with nothing; records the documents it is told about."""

    def __init__(self) -> None:
        self.opened: dict[Path, str] = {}

    def workspace_symbols(self, query: str, **_: Any) -> list[Any]:
        return []

    def wants_meaning(self, query: str) -> bool:
        return False

    def document_symbols(self, path: Path, text: str | None = None) -> list[Any]:
        return []

    def search(self, text: str, **_: Any) -> SearchResponse:
        return SearchResponse(results=(), partial=False, generation=0, elapsed_ms=0.0)

    def similar(self, path: Path, line: int, character: int, **_: Any) -> SearchResponse:
        return self.search("")

    def status(self) -> SessionStatus:
        return SessionStatus(
            "ready", "Indexed 0 files", "writer", (), 0, 0, 0, 0, "", 0, Path("/tmp"), 0, None
        )

    def reindex(self, *, rebuild: bool = False) -> bool:
        return True

    def document_opened(self, path: Path, text: str) -> None:
        self.opened[path] = text

    def close(self, timeout: float) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:  # every other event: nothing to do
        return lambda *args, **kwargs: None


class Wire:
    """The server's side of a pipe: bytes in, answers out, one connection throughout."""

    def __init__(self) -> None:
        self.server: QuiverLanguageServer = create_server()
        self.session = StubSession()
        self.sent: list[dict[str, Any]] = []
        self.server.protocol.set_writer(self)  # type: ignore[arg-type]
        self.buffer = ByteBuffer()
        self._serving: asyncio.Task[Ending] | None = None

    def write(self, data: bytes) -> None:
        _, _, body = data.partition(b"\r\n\r\n")
        self.sent.append(json.loads(body))

    def close(self) -> None:
        pass

    def answers(self) -> list[dict[str, Any]]:
        return [message for message in self.sent if "method" not in message]

    async def send(self, *messages: bytes | dict[str, Any] | list[Any] | int) -> None:
        """Feed the messages (raw bytes, or JSON to frame) and wait until they are read
        and every request they started has answered."""
        if self._serving is None:
            reader = FrameReader(self.buffer, settle_s=0.02, stall_s=0.1)
            self._serving = asyncio.create_task(
                serve_connection(self.server.protocol, self.buffer, frames=reader)
            )
        for message in messages:
            self.buffer.feed(message if isinstance(message, bytes) else framed(message))
        quiet = 0
        for _ in range(1000):
            await asyncio.sleep(0.01)
            # (pygls keeps a notification's future in ``_request_futures`` once it is done;
            # a request's answer is written by a callback that runs after its future is done,
            # hence twice in a row.)
            futures = self.server.protocol._request_futures.values()
            idle = not self.buffer.data and all(future.done() for future in futures)
            quiet = quiet + 1 if idle else 0
            if quiet == 2 or self._serving.done():
                return
        raise AssertionError(f"still busy after 10 s; sent so far: {self.sent}")

    async def end(self, *messages: bytes | dict[str, Any]) -> Ending:
        """Send the messages, then close the input; how the connection ended."""
        await self.send(*messages)
        self.buffer.feed(b"")
        assert self._serving is not None
        return await asyncio.wait_for(self._serving, 5)


def framed(message: Any) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def request(message_id: Any, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": message_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


@pytest.fixture
def wire() -> Wire:
    return Wire()


async def initialized(wire: Wire) -> None:
    """``initialize`` answered and the session in place (``initialized`` would create a
    real one)."""
    await wire.send(INITIALIZE)
    wire.server.session_created(wire.session)  # type: ignore[arg-type]


def codes(wire: Wire) -> dict[Any, Any]:
    return {
        answer.get("id"): answer["error"]["code"] if "error" in answer else "result"
        for answer in wire.answers()
    }


# --- the lifecycle ---------------------------------------------------------------------------


async def test_exit_after_shutdown_ends_with_0(wire: Wire) -> None:
    await initialized(wire)
    ending = await wire.end(request(1, "shutdown"), {"jsonrpc": "2.0", "method": "exit"})
    assert ending == Ending(exit_code=0, exited=True)
    assert codes(wire) == {"init": "result", 1: "result"}


async def test_exit_without_shutdown_ends_with_1(wire: Wire) -> None:
    await initialized(wire)
    assert await wire.end({"jsonrpc": "2.0", "method": "exit"}) == Ending(1, exited=True)


async def test_the_end_of_the_input_ends_like_exit(wire: Wire) -> None:
    await initialized(wire)
    assert await wire.end() == Ending(1, exited=False)


async def test_messages_after_exit_are_not_read(wire: Wire) -> None:
    await initialized(wire)
    await wire.end({"jsonrpc": "2.0", "method": "exit"}, request(1, "quiver/status"))
    assert 1 not in codes(wire)


async def test_requests_after_shutdown_get_invalid_request(wire: Wire) -> None:
    await initialized(wire)
    await wire.send(
        request(1, "shutdown"),
        request(2, "workspace/symbol", {"query": "a"}),
        request(3, "shutdown"),
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {}},  # dropped
    )
    assert codes(wire) == {"init": "result", 1: "result", 2: -32600, 3: -32600}


async def test_a_request_before_initialize_gets_server_not_initialized(wire: Wire) -> None:
    await wire.send(request(1, "workspace/symbol", {"query": "a"}))
    await wire.send(INITIALIZE, request(2, "initialize", INITIALIZE["params"]))
    assert codes(wire) == {1: -32002, "init": "result", 2: -32600}


# --- what never reaches a handler ------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (request(1, "workspace/symbol"), {1: -32602}),
        ({**request(1, "workspace/symbol"), "params": None}, {1: -32602}),
        (request(1, "workspace/symbol", []), {1: -32602}),
        (request(1, "workspace/symbol", {"query": None}), {1: -32602}),
        (request(1, "workspace/symbol", {"query": 5}), {1: -32602}),
        (request(1, "textDocument/documentSymbol", {"textDocument": {"uri": 5}}), {1: -32602}),
        (request(1, "workspace/symbol", {"query": "\ud800"}), {1: -32602}),
        (request(1, "workspace/symbol", {"query": "ok", "x": {"\udfff": 1}}), {1: -32602}),
        (request(1, "textDocument/documentSymbol", {}), {1: -32602}),
        (request(1, "quiver/search", {"query": 7}), {1: -32602}),
        (request(1, "quiver/nothing"), {1: -32601}),
        ({"id": 1, "method": "workspace/symbol", "params": {"query": "a"}}, {1: -32600}),
        ({"jsonrpc": "2.0", "id": 1}, {1: -32600}),
        ({"jsonrpc": "2.0", "id": 1, "method": None}, {1: -32600}),
        ({"jsonrpc": "2.0", "id": None, "method": "quiver/status"}, {None: -32600}),
        ({"jsonrpc": "2.0", "id": False, "method": "quiver/status"}, {None: -32600}),
        ([request(1, "quiver/status")], {None: -32600}),
        (42, {None: -32600}),
        (request(1, "workspace/symbol", {"query": "retry"}), {1: "result"}),
        (request(2**70, "quiver/status"), {2**70: "result"}),
        (request("", "quiver/status"), {"": "result"}),
    ],
)
async def test_each_request_gets_one_answer_with_the_right_code(
    wire: Wire, message: Any, expected: dict[Any, Any]
) -> None:
    await initialized(wire)
    await wire.send(message)
    assert codes(wire) == {"init": "result", **expected}


async def test_an_unreadable_frame_gets_a_parse_error_with_a_null_id(wire: Wire) -> None:
    await initialized(wire)
    await wire.send(b"Content-Length: 5\r\n\r\n{nope", request(1, "quiver/status"))
    assert codes(wire) == {"init": "result", None: -32700, 1: "result"}
    error = wire.answers()[1]
    assert error == {"jsonrpc": "2.0", "id": None, "error": error["error"]}
    assert "Suggestion:" in error["error"]["message"]


async def test_notifications_are_never_answered(wire: Wire) -> None:
    await initialized(wire)
    await wire.send(
        {"jsonrpc": "2.0", "method": "workspace/symbol", "params": {"query": "a"}},
        {"jsonrpc": "2.0", "method": "no/such", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"x": 1}},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 404}},
        {"jsonrpc": "2.0", "id": 9, "result": None},
    )
    assert codes(wire) == {"init": "result"}


async def test_a_notifications_lone_surrogates_become_replacement_characters(
    wire: Wire, tmp_path: Path
) -> None:
    await initialized(wire)
    document = tmp_path / "a.py"
    text = "x = '\ud800'  # one UTF-16 unit, as U+FFFD is\n"
    await wire.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": document.as_uri(),
                    "languageId": "python",
                    "version": 1,
                    "text": text,
                }
            },
        }
    )
    assert wire.session.opened == {document: text.replace("\ud800", "\ufffd")}


# --- a fuzz of well-framed messages: each request answered exactly once ------------------------


def expected_answer(message: Any) -> str | None:
    """What the server owes this message: "id" (an answer to its id), "null" (an error
    with a null id) or None (nothing: a valid notification, or an answer to the server)."""
    if not isinstance(message, dict):
        return "null"
    message_id = message.get("id")
    usable = isinstance(message_id, str) or (
        isinstance(message_id, int) and not isinstance(message_id, bool)
    )
    if "method" not in message:
        if "id" in message and ("result" in message or "error" in message):
            return None
        return "id" if usable else "null"
    valid = isinstance(message["method"], str) and message.get("jsonrpc") == "2.0"
    if "id" not in message:
        return None if valid else "null"
    return "id" if usable else "null"


async def test_mutated_messages_each_get_exactly_the_answer_they_are_owed(
    wire: Wire, tmp_path: Path
) -> None:
    await initialized(wire)
    fuzzer = Fuzzer(random.Random(20_251_206), tmp_path)
    stream, sent = build_stream(fuzzer, messages=400, json_mutations=0.7, byte_mutations=0.0)
    await wire.send(stream)
    answers = wire.answers()[1:]  # after initialize's
    by_id = Counter(answer.get("id") for answer in answers)
    owed = [expected_answer(item.message) for item in sent]
    for item, owes in zip(sent, owed, strict=True):
        if owes == "id":
            assert by_id[item.message["id"]] == 1, item.message
    assert by_id[None] == owed.count("null")
    assert len(answers) == owed.count("id") + owed.count("null")
    assert owed.count("id") > 150 and owed.count("null") > 10
    assert not [a for a in answers if a.get("error", {}).get("code") == -32603]


async def test_a_long_session_of_edits_leaves_no_future_behind(wire: Wire) -> None:
    # pygls files every notification's future under a fresh id, and only a response ever
    # takes one out: an editing session of a day would keep every didChange it ever sent.
    await initialized(wire)
    uri = "file:///tmp/quiver-never-read.py"
    await wire.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": ""}
            },
        }
    )
    before = len(wire.server.protocol._request_futures)
    edits = [
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": f"x = {version}\n"}],
            },
        }
        for version in range(2, 202)
    ]
    await wire.send(*edits)
    assert len(wire.server.protocol._request_futures) <= before
