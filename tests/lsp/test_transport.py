"""The real ``quiver serve --stdio`` against a hostile client speaking raw bytes.

Every request gets exactly one answer, whatever else the client sends; a
malformed frame is answered with a parse error and the stream picks up again at
the next header; the process ends with the exit code LSP asks for. The workspace
is an empty folder (nothing to index, so the model is never loaded) unless a test
needs symbols.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from raw_stdio import RawServer, frame, notification, request

INVALID_REQUEST = -32600
PARSE_ERROR = -32700
#: An ``exit`` is answered by the process ending within this many seconds.
EXIT_WAIT_S = 15.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RawServer]:
    folder = tmp_path / "workspace"
    folder.mkdir()
    served = RawServer(folder, tmp_path / "cache", tmp_path / "server.log")
    yield served
    served.kill()


# --- shutdown and exit ---------------------------------------------------------------------


def test_a_request_after_shutdown_is_answered_with_invalid_request(server: RawServer) -> None:
    server.initialize()
    assert server.request(1, "shutdown")["result"] is None
    for message_id, method, params in [
        (2, "workspace/symbol", {"query": "main"}),
        (3, "quiver/status", None),
        (4, "shutdown", None),
    ]:
        answer = server.request(message_id, method, params)
        assert answer["error"]["code"] == INVALID_REQUEST, answer
    server.send(notification("exit"))
    assert server.exit_code(EXIT_WAIT_S) == 0


def test_exit_after_shutdown_ends_the_process_with_0(server: RawServer) -> None:
    server.initialize()
    assert server.request(1, "shutdown")["result"] is None
    server.send(notification("exit"))
    assert server.exit_code(EXIT_WAIT_S) == 0, server.log()


def test_exit_without_shutdown_ends_the_process_with_1(server: RawServer) -> None:
    server.initialize()
    server.send(notification("exit"))
    assert server.exit_code(EXIT_WAIT_S) == 1, server.log()


def test_exit_before_initialize_ends_the_process_with_1(server: RawServer) -> None:
    server.send(notification("exit"))
    assert server.exit_code(EXIT_WAIT_S) == 1, server.log()


def test_a_closed_pipe_after_shutdown_ends_the_process_with_0(server: RawServer) -> None:
    server.initialize()
    assert server.request(1, "shutdown")["result"] is None
    server.close_stdin()
    assert server.exit_code(EXIT_WAIT_S) == 0, server.log()


def test_a_closed_pipe_without_shutdown_ends_the_process_with_1(server: RawServer) -> None:
    server.initialize()
    server.close_stdin()
    assert server.exit_code(EXIT_WAIT_S) == 1, server.log()


#: A server whose process also runs a daemon thread that embeds without end: the
#: first indexing does this on the writer thread, and ``shutdown`` stops waiting for
#: it after a few seconds. The thread is inside onnxruntime (C++) when ``exit`` comes.
_SERVER_WITH_A_BUSY_MODEL = """
import sys, threading
from quiver.embed.model import load_default_embedder
from quiver.lsp.server import serve_stdio

def embed_forever(started):
    embedder = load_default_embedder()
    texts = ["def retry(request, attempts): return send(request)"] * 64
    while True:
        embedder.embed_documents(texts)
        started.set()

started = threading.Event()
threading.Thread(target=embed_forever, args=(started,), daemon=True).start()
started.wait(120)
print("embedding", file=sys.stderr, flush=True)
serve_stdio()
"""


@pytest.mark.model
@pytest.mark.parametrize(("shut_down", "expected"), [(True, 0), (False, 1)])
def test_exit_while_a_thread_is_inside_the_model_ends_the_process_cleanly(
    tmp_path: Path, shut_down: bool, expected: int
) -> None:
    # The root cause of the SIGABRT (rc -6) editors reported: Python's exit let a daemon
    # thread that returned from onnxruntime re-take the interpreter lock during
    # finalization; CPython then ends that thread with pthread_exit, whose forced unwind
    # through onnxruntime's C++ frames calls std::terminate ("terminate called without an
    # active exception"), which aborts the whole process.
    folder = tmp_path / "workspace"
    folder.mkdir()
    server = RawServer(
        folder,
        tmp_path / "cache",
        tmp_path / "server.log",
        command=["-c", _SERVER_WITH_A_BUSY_MODEL],
    )
    try:
        server.wait_for_log("embedding", timeout=120)
        server.initialize()
        if shut_down:
            assert server.request(1, "shutdown")["result"] is None
        server.send(notification("exit"))
        assert server.exit_code(EXIT_WAIT_S) == expected, server.log()
        assert "terminate called" not in server.log()
    finally:
        server.kill()


# --- framing: what a buggy client writes --------------------------------------------------
#
# These tests share one server (a start costs a second): each ends with a valid request
# answered, so the stream is in step again for the next, and each uses ids of its own.

SYMBOLS = "workspace/symbol"
_ids = itertools.count(1000)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    base = tmp_path_factory.mktemp("transport")
    folder = base / "workspace"
    folder.mkdir()
    served = RawServer(folder, base / "cache", base / "server.log")
    served.initialize()
    yield served
    served.kill()


def still_answers(server: RawServer) -> int:
    """Check that a valid request is answered; its id."""
    message_id = next(_ids)
    assert server.request(message_id, SYMBOLS, {"query": "main"})["result"] == []
    return message_id


def symbols_request(message_id: int) -> bytes:
    return json.dumps(request(message_id, SYMBOLS, {"query": "main"})).encode()


@pytest.mark.parametrize(
    "framing",
    [
        pytest.param(
            lambda data: b"content-length: %d\r\n\r\n" % len(data) + data,
            id="lower-case header name",
        ),
        pytest.param(
            lambda data: b"Content-Length: %d\n\n" % len(data) + data, id="LF line endings"
        ),
        pytest.param(lambda data: frame(data, length=len(data) - 10), id="10 bytes short"),
        pytest.param(lambda data: frame(data, length=len(data) + 10), id="10 bytes long"),
    ],
)
def test_a_frame_whose_intent_is_clear_is_answered(
    shared: RawServer, framing: Callable[[bytes], bytes]
) -> None:
    message_id = next(_ids)
    since = shared.mark()
    shared.send_bytes(framing(symbols_request(message_id)))
    assert shared.answer_to(message_id, since=since)["result"] == []
    still_answers(shared)


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(b"Content-Length: -5\r\n\r\n" + symbols_request(1), id="negative length"),
        pytest.param(b"Content-Length: ten\r\n\r\n" + symbols_request(1), id="non-numeric"),
        pytest.param(b"Content-Length: 99999999999999\r\n\r\n" + symbols_request(1), id="huge"),
        pytest.param(b"\r\n" + symbols_request(1), id="missing header"),
        pytest.param(b"Content-Type: text/plain\r\n\r\n" + symbols_request(1), id="no length"),
        pytest.param(frame(b'{"jsonrpc": "2.0", "id": 1, "method": '), id="invalid JSON"),
        pytest.param(frame(b"\xff\xfe\x00{}"), id="not UTF-8"),
        pytest.param(frame(b"[" * 50_000 + b"]" * 50_000), id="nested too deeply"),
    ],
)
def test_a_broken_frame_gets_a_parse_error_and_the_next_request_its_answer(
    shared: RawServer, broken: bytes
) -> None:
    since = shared.mark()
    shared.send_bytes(broken)
    assert shared.answer_to(None, since=since)["error"]["code"] == PARSE_ERROR
    after = still_answers(shared)
    assert [answer.get("id") for answer in shared.answers(since)] == [None, after]


def test_garbage_between_frames_is_skipped(shared: RawServer) -> None:
    message_id = next(_ids)
    since = shared.mark()
    shared.send_bytes(b"\x00\x01garbage\xff" + frame(symbols_request(message_id)))
    assert shared.answer_to(message_id, since=since)["result"] == []


# --- messages that are not valid requests ------------------------------------------------

INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
SERVER_NOT_INITIALIZED = -32002


@pytest.mark.parametrize(
    ("message", "code"),
    [
        pytest.param(request(1, SYMBOLS), INVALID_PARAMS, id="params missing"),
        pytest.param({**request(1, SYMBOLS), "params": None}, INVALID_PARAMS, id="params null"),
        pytest.param(request(1, SYMBOLS, []), INVALID_PARAMS, id="params a list"),
        pytest.param(request(1, SYMBOLS, {"query": "\ud800x"}), INVALID_PARAMS, id="surrogate"),
        pytest.param(
            request(1, "quiver/search", {"query": "retry \udc00"}), INVALID_PARAMS, id="search"
        ),
        pytest.param(
            request(1, "textDocument/documentSymbol", None), INVALID_PARAMS, id="documentSymbol"
        ),
        pytest.param(
            request(1, "textDocument/documentSymbol", {"textDocument": 5}),
            INVALID_PARAMS,
            id="documentSymbol's textDocument a number",
        ),
        pytest.param(request(1, "initialize", {"capabilities": {}}), INVALID_REQUEST, id="twice"),
        pytest.param(
            {"id": 1, "method": SYMBOLS, "params": {"query": "a"}}, INVALID_REQUEST, id="no jsonrpc"
        ),
        pytest.param(
            {**request(1, SYMBOLS, {"query": "a"}), "jsonrpc": "1.0"},
            INVALID_REQUEST,
            id="jsonrpc 1.0",
        ),
        pytest.param({"jsonrpc": "2.0", "id": 1}, INVALID_REQUEST, id="no method"),
        pytest.param({"jsonrpc": "2.0", "id": 1, "method": 5}, INVALID_REQUEST, id="method 5"),
        pytest.param(request(1, "exit"), INVALID_REQUEST, id="exit as a request"),
        pytest.param(request(1, "no/suchMethod"), METHOD_NOT_FOUND, id="unknown method"),
    ],
)
def test_an_invalid_request_gets_exactly_one_error_with_its_id(
    shared: RawServer, message: dict[str, Any], code: int
) -> None:
    message_id = next(_ids)
    since = shared.mark()
    shared.send({**message, "id": message_id})
    assert shared.answer_to(message_id, since=since)["error"]["code"] == code
    after = still_answers(shared)
    assert [answer.get("id") for answer in shared.answers(since)] == [message_id, after]


@pytest.mark.parametrize(
    "message",
    [
        pytest.param([request(1, SYMBOLS, {"query": "a"})], id="a batch"),
        pytest.param("workspace/symbol", id="a string"),
        pytest.param({"jsonrpc": "2.0", "id": True, "method": SYMBOLS}, id="id true"),
        pytest.param({"jsonrpc": "2.0", "id": 1.5, "method": SYMBOLS}, id="id 1.5"),
        pytest.param({"jsonrpc": "2.0", "id": {"n": 1}, "method": SYMBOLS}, id="id an object"),
        pytest.param({"jsonrpc": "2.0", "method": 7}, id="a notification's method 7"),
    ],
)
def test_a_message_without_a_usable_id_gets_an_invalid_request_with_a_null_id(
    shared: RawServer, message: Any
) -> None:
    since = shared.mark()
    shared.send_bytes(frame(json.dumps(message).encode()))
    assert shared.answer_to(None, since=since)["error"]["code"] == INVALID_REQUEST
    after = still_answers(shared)
    assert [answer.get("id") for answer in shared.answers(since)] == [None, after]


def test_a_notification_is_never_answered(shared: RawServer) -> None:
    since = shared.mark()
    for message in [
        notification(SYMBOLS, {"query": "main"}),  # a request without its id
        notification("no/suchNotification", {}),
        notification("textDocument/didOpen", None),
        notification("textDocument/didOpen", {"textDocument": {"uri": "file:///\ud800.py"}}),
        notification("$/cancelRequest", {"id": 12345}),
        {"jsonrpc": "2.0", "id": 77, "result": None},  # an answer to nothing the server sent
    ]:
        shared.send(message)
    after = still_answers(shared)
    assert [answer.get("id") for answer in shared.answers(since)] == [after]


def test_a_request_before_initialize_gets_server_not_initialized(server: RawServer) -> None:
    answer = server.request(1, SYMBOLS, {"query": "main"})
    assert answer["error"]["code"] == SERVER_NOT_INITIALIZED
    server.initialize()
    assert server.request(2, SYMBOLS, {"query": "main"})["result"] == []
