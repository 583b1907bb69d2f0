"""What the server tells the client unasked: progress, status, messages, log lines.

``ClientReporter`` implements the session's ``SessionListener``. The session
calls it from its own threads; every message is handed to the event loop
(``call_soon_threadsafe``), the only thread that writes to the client, so
messages never interleave on the wire.

* Indexing progress: ``$/progress`` work-done reports (title, ``"120/2,000
  files"``, percentage) when the client announced ``window.workDoneProgress``,
  else a few ``window/logMessage`` lines.
* ``quiver/statusChanged``: at once when the state changes, otherwise at most
  every ``STATUS_INTERVAL_S`` (the status is computed off the loop).
* ``window/showMessage`` for what the user must see.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from quiver.lsp import ext

__all__ = ["STATUS_INTERVAL_S", "ClientLogHandler", "ClientReporter"]

log = logging.getLogger(__name__)

#: ``quiver/statusChanged`` is sent at most this often while nothing but counts change.
STATUS_INTERVAL_S = 0.5
#: Without work-done progress, progress goes to the log at most this often.
LOG_PROGRESS_INTERVAL_S = 2.0

_SEVERITY = {
    "error": lsp.MessageType.Error,
    "warning": lsp.MessageType.Warning,
    "info": lsp.MessageType.Info,
}
_tokens = itertools.count(1)


class ClientReporter:
    """The session's listener, speaking to one client through ``server``.

    ``status`` computes the status body (blocking, run in a worker thread; None: send
    nothing, the session is gone).
    """

    def __init__(
        self,
        server: LanguageServer,
        loop: asyncio.AbstractEventLoop,
        *,
        work_done_progress: bool,
        status: Callable[[], ext.StatusResponse | None],
    ) -> None:
        self._server = server
        self._loop = loop
        self._work_done = work_done_progress
        self._status = status
        self._progress: asyncio.Queue[tuple[str, Any]] | None = None
        self._last_log = 0.0
        self._last_status = 0.0
        self._status_timer: asyncio.TimerHandle | None = None
        self._status_sending = False
        self._status_again = False
        self._tasks: set[asyncio.Task[None]] = set()

    # -- SessionListener (any thread) -------------------------------------------

    def progress_begin(self, title: str, message: str) -> None:
        self._on_loop(self._begin, title, message)

    def progress_report(self, message: str, percentage: int) -> None:
        self._on_loop(self._report, message, percentage)

    def progress_end(self, message: str) -> None:
        self._on_loop(self._end, message)

    def status_changed(self, *, state_changed: bool) -> None:
        self._on_loop(self._status_tick, state_changed)

    def show_message(self, severity: Literal["error", "warning", "info"], message: str) -> None:
        self._on_loop(
            self._server.window_show_message,
            lsp.ShowMessageParams(type=_SEVERITY[severity], message=message),
        )

    def log_message(self, severity: Literal["error", "warning", "info"], message: str) -> None:
        """A ``window/logMessage`` line (any thread)."""
        self._on_loop(
            self._server.window_log_message,
            lsp.LogMessageParams(type=_SEVERITY[severity], message=message),
        )

    def _on_loop(self, function: Callable[..., object], *args: object) -> None:
        if self._loop.is_closed():
            return
        # The loop may close meanwhile (the server is exiting): the message is moot.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(function, *args)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- progress (loop thread) ------------------------------------------------

    def _begin(self, title: str, message: str) -> None:
        if not self._work_done:
            self._last_log = time.monotonic()
            self._server.window_log_message(
                lsp.LogMessageParams(type=lsp.MessageType.Info, message=f"Quiver: {title}…")
            )
            return
        # One queue per run: the begin waits for the client to accept the token,
        # and the reports queued meanwhile follow it in order.
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._progress = queue
        self._spawn(self._run_progress(queue, title, message))

    def _report(self, message: str, percentage: int) -> None:
        if self._work_done:
            if self._progress is not None:
                self._progress.put_nowait(("report", (message, percentage)))
            return
        now = time.monotonic()
        if now - self._last_log >= LOG_PROGRESS_INTERVAL_S:
            self._last_log = now
            self._server.window_log_message(
                lsp.LogMessageParams(
                    type=lsp.MessageType.Info, message=f"Quiver: {message} ({percentage}%)"
                )
            )

    def _end(self, message: str) -> None:
        if self._work_done:
            if self._progress is not None:
                self._progress.put_nowait(("end", message))
                self._progress = None
            return
        self._server.window_log_message(
            lsp.LogMessageParams(type=lsp.MessageType.Info, message=f"Quiver: {message}.")
        )

    async def _run_progress(
        self, queue: asyncio.Queue[tuple[str, Any]], title: str, message: str
    ) -> None:
        token = f"quiver/indexing/{next(_tokens)}"
        progress = self._server.work_done_progress
        try:
            await progress.create_async(token)
        except Exception as error:  # the client refused the token: fall back to the log
            log.info("The client refused a progress token (%s); logging progress instead", error)
            self._work_done = False
            return
        progress.begin(token, lsp.WorkDoneProgressBegin(title=title, message=message, percentage=0))
        while True:
            kind, value = await queue.get()
            if kind == "end":
                progress.end(token, lsp.WorkDoneProgressEnd(message=value))
                return
            text, percentage = value
            progress.report(
                token,
                lsp.WorkDoneProgressReport(message=text, percentage=max(0, min(100, percentage))),
            )

    # -- status (loop thread) --------------------------------------------------

    def _status_tick(self, state_changed: bool) -> None:
        wait = self._last_status + STATUS_INTERVAL_S - time.monotonic()
        if state_changed or wait <= 0:
            if self._status_timer is not None:
                self._status_timer.cancel()
                self._status_timer = None
            self._send_status()
        elif self._status_timer is None:
            self._status_timer = self._loop.call_later(wait, self._timer_fired)

    def _timer_fired(self) -> None:
        self._status_timer = None
        self._send_status()

    def _send_status(self) -> None:
        if self._status_sending:
            self._status_again = True  # one more once the running computation is sent
            return
        self._status_sending = True
        self._last_status = time.monotonic()
        self._spawn(self._compute_and_send_status())

    async def _compute_and_send_status(self) -> None:
        try:
            body = await asyncio.to_thread(self._status)
            if body is not None:
                self._server.protocol.notify(ext.STATUS_CHANGED, body)
        except Exception:
            log.exception("Could not compute the status")
        finally:
            self._status_sending = False
            self._last_status = time.monotonic()
        if self._status_again:
            self._status_again = False
            self._status_tick(False)


class ClientLogHandler(logging.Handler):
    """Forwards Quiver's warnings and errors to the client's log (``window/logMessage``)."""

    def __init__(self, reporter: ClientReporter, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        severity: Literal["error", "warning", "info"] = (
            "error"
            if record.levelno >= logging.ERROR
            else "warning"
            if record.levelno >= logging.WARNING
            else "info"
        )
        self._reporter.log_message(severity, message)
