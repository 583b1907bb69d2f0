"""Helpers for tests of hostile workspaces: calls that may block or spin, FIFOs to release."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``'s result (or its exception, raised here), failing the test if it has not
    returned within ``seconds``. The call runs on a daemon thread, left behind if it blocks
    (an ``open`` cannot be interrupted). A regex that backtracks holds the GIL, so the wait
    itself can last longer: the time is checked after it as well."""
    outcome: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # handed to the test thread
            errors.append(error)

    worker = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(seconds)
    elapsed = time.monotonic() - started
    if worker.is_alive() or elapsed > seconds:
        pytest.fail(f"still running after {seconds} s ({elapsed:.1f} s)")
    if errors:
        raise errors[0]
    return outcome[0]


def unblock(fifo: Path) -> None:
    """Let a reader blocked on ``fifo`` go, if one is: open its write end and close it."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
