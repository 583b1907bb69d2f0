"""What the server tells the client unasked: ordered progress, throttled status, log lines.

The reporter is driven from another thread, as the session drives it, and
speaks to a stand-in for pygls's server that records what would be sent.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from lsprotocol import types as lsp

from quiver.lsp.ext import STATUS_CHANGED
from quiver.lsp.reporting import ClientReporter


class FakeProgress:
    def __init__(self, sent: list[tuple[str, Any]]) -> None:
        self.sent = sent

    async def create_async(self, token: str) -> None:
        await asyncio.sleep(0.05)  # the client takes a while to accept the token
        self.sent.append(("create", token))

    def begin(self, token: str, value: lsp.WorkDoneProgressBegin) -> None:
        self.sent.append(("begin", value.title))

    def report(self, token: str, value: lsp.WorkDoneProgressReport) -> None:
        self.sent.append(("report", value.message))

    def end(self, token: str, value: lsp.WorkDoneProgressEnd) -> None:
        self.sent.append(("end", value.message))


class FakeServer:
    """Records notifications the way pygls's ``LanguageServer`` would send them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.protocol = self
        self.work_done_progress = FakeProgress(self.sent)

    def notify(self, method: str, params: Any) -> None:
        self.sent.append((method, params))

    def window_log_message(self, params: lsp.LogMessageParams) -> None:
        self.sent.append(("log", params.message))

    def window_show_message(self, params: lsp.ShowMessageParams) -> None:
        self.sent.append(("show", params.message))


def reporter_for(server: FakeServer, *, work_done_progress: bool) -> ClientReporter:
    return ClientReporter(
        server,  # type: ignore[arg-type]
        asyncio.get_running_loop(),
        work_done_progress=work_done_progress,
        status=lambda: {"state": "indexing"},
    )


def from_thread(*calls: Callable[[], object]) -> None:
    def run() -> None:
        for call in calls:
            call()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):  # bounded: 10 s
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the reporter never got there")


def statuses(server: FakeServer) -> list[Any]:
    return [params for method, params in server.sent if method == STATUS_CHANGED]


@pytest.mark.asyncio
async def test_a_storm_of_count_changes_sends_one_status_now_and_one_later() -> None:
    server = FakeServer()
    reporter = reporter_for(server, work_done_progress=False)
    from_thread(*[lambda: reporter.status_changed(state_changed=False)] * 50)
    await until(lambda: len(statuses(server)) == 2)
    await until(lambda: reporter._status_timer is None and not reporter._status_sending)
    assert statuses(server) == [{"state": "indexing"}] * 2


@pytest.mark.asyncio
async def test_every_state_change_is_sent_without_waiting_for_the_interval() -> None:
    server = FakeServer()
    reporter = reporter_for(server, work_done_progress=False)
    for expected in (1, 2, 3):
        from_thread(lambda: reporter.status_changed(state_changed=True))
        await until(lambda n=expected: len(statuses(server)) == n)  # type: ignore[misc]
        assert reporter._status_timer is None


@pytest.mark.asyncio
async def test_work_done_progress_keeps_its_order_while_the_token_is_created() -> None:
    server = FakeServer()
    reporter = reporter_for(server, work_done_progress=True)
    from_thread(
        lambda: reporter.progress_begin("Indexing", "Checking files"),
        lambda: reporter.progress_report("64/128 files", 50),
        lambda: reporter.progress_report("128/128 files", 100),
        lambda: reporter.progress_end("Indexed 128 files, 900 symbols"),
    )
    await until(lambda: any(kind == "end" for kind, _ in server.sent))
    assert [kind for kind, _ in server.sent] == ["create", "begin", "report", "report", "end"]
    assert server.sent[-1] == ("end", "Indexed 128 files, 900 symbols")


@pytest.mark.asyncio
async def test_without_work_done_progress_indexing_goes_to_the_log() -> None:
    server = FakeServer()
    reporter = reporter_for(server, work_done_progress=False)
    from_thread(
        lambda: reporter.progress_begin("Indexing", "Checking files"),
        lambda: reporter.progress_report("64/128 files", 50),  # within 2 s of the begin: skipped
        lambda: reporter.progress_end("Indexed 128 files, 900 symbols"),
    )
    await until(lambda: len(server.sent) == 2)
    assert server.sent == [
        ("log", "Quiver: Indexing…"),
        ("log", "Quiver: Indexed 128 files, 900 symbols."),
    ]


def test_the_log_level_option_sets_how_much_of_quivers_log_is_written() -> None:
    import logging

    from quiver.lsp.options import parse_options
    from quiver.lsp.server import _apply_log_level

    logger = logging.getLogger("quiver")
    before = logger.level
    try:
        options, problems = parse_options({"logLevel": "debug"})
        _apply_log_level(options)
        assert (problems, logger.level) == ([], logging.DEBUG)
        _apply_log_level(parse_options({"logLevel": "error"})[0])
        assert logger.level == logging.ERROR
    finally:
        logger.setLevel(before)
