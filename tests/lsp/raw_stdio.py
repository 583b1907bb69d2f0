"""``quiver serve --stdio`` driven with raw bytes, as a hostile (or buggy) editor would.

pytest-lsp's client only writes well-formed frames; these tests need to send
anything at all: wrong ``Content-Length`` headers, bare LF line endings, bodies
that are not JSON, requests after ``shutdown``. ``RawServer`` writes bytes to the
server's stdin and reads its answers on a thread of its own (the server's output
is well-formed, so it is parsed strictly), so a test can wait for an answer with
a bound and see a silent server as a failure instead of a hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from quiver.lsp.convert import path_to_uri

SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"
#: Every wait for an answer is bounded by this many seconds (a busy 2-core machine).
ANSWER_WAIT_S = 30.0


def frame(body: bytes | dict[str, Any], *, length: int | None = None) -> bytes:
    """``body`` (JSON data, or bytes as they are) framed with ``Content-Length`` (its
    byte length, or ``length`` to lie about it)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    declared = len(data) if length is None else length
    return b"Content-Length: %d\r\n\r\n" % declared + data


def request(message_id: int | str, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": message_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification(method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


class RawServer:
    """One ``python -m quiver serve --stdio`` process, its stdin written byte by byte."""

    def __init__(
        self,
        folder: Path,
        cache_dir: Path,
        stderr_path: Path,
        *,
        command: list[str] | None = None,
    ) -> None:
        """Start the server (``command``: other arguments for ``python`` than
        ``-m quiver serve --stdio``); its stderr goes to ``stderr_path``."""
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(SERVER_ROOT), os.environ.get("PYTHONPATH", "")]),
            "QUIVER_CACHE_DIR": str(cache_dir),
        }
        self.folder = folder
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, *(command or ["-m", "quiver", "serve", "--stdio"])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=cache_dir.parent,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin: BinaryIO = self.process.stdin
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        #: Every message the server sent, in order (answers and notifications).
        self.received: list[dict[str, Any]] = []
        self._ended = False
        self._reader = threading.Thread(
            target=_read_frames, args=(self.process.stdout, self._messages), daemon=True
        )
        self._reader.start()

    # -- writing -------------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        self._stdin.write(data)
        self._stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_bytes(frame(message))

    def close_stdin(self) -> None:
        self._stdin.close()

    # -- reading -------------------------------------------------------------------------

    def _next(self, deadline: float) -> dict[str, Any] | None:
        if self._ended:
            return None
        try:
            message = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        if message is None:
            self._ended = True  # the server closed its output
        else:
            self.received.append(message)
        return message

    def mark(self) -> int:
        """A point in what was received, for ``answers`` and ``answer_to`` to start at."""
        return len(self.received)

    def answers(self, since: int = 0) -> list[dict[str, Any]]:
        """Every answer (a message without a method) received since ``since``."""
        return [message for message in self.received[since:] if "method" not in message]

    def answer_to(
        self,
        message_id: int | str | None,
        *,
        since: int = 0,
        timeout: float = ANSWER_WAIT_S,
    ) -> Any:
        """The first answer with this id (None: an error answer with a null id) received
        since ``since``; fails after ``timeout`` seconds without it."""
        deadline = time.monotonic() + timeout
        for message in self.answers(since):
            if message.get("id", "absent") == message_id:
                return message
        seen = len(self.received)
        while True:
            message = self._next(deadline)
            if message is None:
                raise AssertionError(
                    f"no answer to id {message_id!r} within {timeout:.0f} s; the server sent "
                    f"{self.received[seen:]!r}; its log:\n{self.log()}"
                )
            if "method" not in message and message.get("id", "absent") == message_id:
                return message

    def drain(self, quiet_s: float = 0.5) -> None:
        """Read what the server sends until it stays quiet for ``quiet_s`` seconds."""
        while self._next(time.monotonic() + quiet_s) is not None:
            pass

    def request(self, message_id: int | str, method: str, params: Any = None) -> Any:
        """Send a request and return its answer (the whole response message)."""
        since = self.mark()
        self.send(request(message_id, method, params))
        return self.answer_to(message_id, since=since)

    def initialize(self, *, initialized: bool = True) -> dict[str, Any]:
        uri = path_to_uri(self.folder)
        answer: dict[str, Any] = self.request(
            0,
            "initialize",
            {
                "processId": None,
                "rootUri": uri,
                "capabilities": {},
                "workspaceFolders": [{"uri": uri, "name": self.folder.name}],
            },
        )
        if initialized:
            self.send(notification("initialized", {}))
        return answer

    # -- the end -------------------------------------------------------------------------

    def exit_code(self, timeout: float = ANSWER_WAIT_S) -> int:
        """The process's exit status (negative: the signal that ended it)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the server did not exit within {timeout:.0f} s; its log:\n{self.log()}"
            ) from None

    def wait_for_log(self, text: str, *, timeout: float = ANSWER_WAIT_S) -> None:
        """Wait until the server's log (stderr) contains ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"the server never logged {text!r}; its log:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._stderr.close()


def _read_frames(stdout: BinaryIO, messages: queue.Queue[dict[str, Any] | None]) -> None:
    """Parse the server's frames (strictly: the server must write them correctly)."""
    try:
        while True:
            length = None
            while True:
                line = stdout.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None, "the server sent a frame without Content-Length"
            body = stdout.read(length)
            if len(body) < length:
                return
            messages.put(json.loads(body))
    finally:
        messages.put(None)
