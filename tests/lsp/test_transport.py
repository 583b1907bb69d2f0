"""The real ``quiver serve --stdio`` against a hostile client speaking raw bytes.

Every request gets exactly one answer, whatever else the client sends; a
malformed frame is answered with a parse error and the stream picks up again at
the next header; the process ends with the exit code LSP asks for. The workspace
is an empty folder (nothing to index, so the model is never loaded) unless a test
needs symbols.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
