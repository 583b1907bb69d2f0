"""Changes a hostile workspace can make after indexing: a file swapped for a link out of the
workspace or for a FIFO. However a change arrives (the watcher, didSave,
didChangeWatchedFiles), the walk's rule holds: nothing outside the workspace is indexed,
nothing but a regular file is read, and the writer thread never blocks.

The hashing embedder stands in for the model; files, watchdog and Tantivy are real.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

from hashing_embedder import HashingEmbedder
from hostile_files import unblock
from quiver.lsp.options import ServerOptions
from quiver.workspace.session import WorkspaceSession

DATA = Path(__file__).resolve().parents[1] / "data"
WAIT_S = 30.0
SECRET = '''def quokka_zebra_handler():
    """quokkazebra: a word that lives outside the workspace."""
    return "quokkazebra"
'''


class QuietListener:
    def progress_begin(self, title: str, message: str) -> None:
        pass

    def progress_report(self, message: str, percentage: int) -> None:
        pass

    def progress_end(self, message: str) -> None:
        pass

    def status_changed(self, *, state_changed: bool) -> None:
        pass

    def show_message(self, severity: Literal["error", "warning", "info"], message: str) -> None:
        pass


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", workspace)
    return workspace.resolve()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "http_client.py"
    path.write_text(SECRET)
    return path


def open_session(root: Path, cache: Path, *, watch: bool) -> WorkspaceSession:
    embedder = HashingEmbedder(dim=32)
    session = WorkspaceSession(
        [root],
        ServerOptions(cache_dir=cache, watch=watch),
        QuietListener(),
        embedder_factory=lambda: embedder,
    )
    session.start()
    wait_until(lambda: session.status().state == "ready", "the first indexing")
    return session


def names(session: WorkspaceSession, query: str) -> list[str]:
    return [r.name for r in session.workspace_symbols(query, limit=50, meaning=False)]


def words(session: WorkspaceSession, query: str) -> list[str]:
    return [r.name for r in session.search(query, mode="text", limit=50).results]


@pytest.fixture(params=["watcher", "file_changed", "document_saved"])
def delivery(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def deliver(session: WorkspaceSession, path: Path, delivery: str) -> None:
    if delivery == "file_changed":  # workspace/didChangeWatchedFiles
        session.file_changed(path)
    elif delivery == "document_saved":  # textDocument/didSave
        session.document_saved(path)
    # else: the watcher reports it


def test_a_file_replaced_by_a_link_out_of_the_workspace_is_dropped_not_followed(
    root: Path, tmp_path: Path, secret: Path, delivery: str
) -> None:
    session = open_session(root, tmp_path / "cache", watch=delivery == "watcher")
    try:
        assert names(session, "RetryPolicy") == ["RetryPolicy"]
        path = root / "net" / "http_client.py"
        path.unlink()
        path.symlink_to(secret)
        deliver(session, path, delivery)
        wait_until(
            lambda: names(session, "RetryPolicy") == [] and session.status().state == "ready",
            "the file's old symbols to go",
        )
        time.sleep(0.3)  # a later batch (the watcher's second event) must not index it either
        assert names(session, "quokka_zebra_handler") == []
        assert words(session, "quokkazebra") == []
        assert session.status().files == 3
    finally:
        session.close()


def test_a_directory_replaced_by_a_link_out_of_the_workspace_is_not_followed(
    root: Path, tmp_path: Path, secret: Path
) -> None:
    session = open_session(root, tmp_path / "cache", watch=False)
    try:
        shutil.rmtree(root / "net")
        (root / "net").symlink_to(secret.parent, target_is_directory=True)
        session.file_changed(root / "net" / "http_client.py")
        wait_until(
            lambda: names(session, "RetryPolicy") == [] and session.status().state == "ready",
            "the file's old symbols to go",
        )
        assert names(session, "quokka_zebra_handler") == []
        assert words(session, "quokkazebra") == []
    finally:
        session.close()


def test_a_file_replaced_by_a_fifo_is_dropped_and_the_writer_goes_on(
    root: Path, tmp_path: Path
) -> None:
    session = open_session(root, tmp_path / "cache", watch=False)
    fifo = root / "net" / "http_client.py"
    try:
        fifo.unlink()
        os.mkfifo(fifo)
        session.file_changed(fifo)
        wait_until(lambda: names(session, "RetryPolicy") == [], "the file's old symbols to go")
        edited = root / "ui" / "debounce.ts"
        edited.write_text(
            edited.read_text() + "\nexport function afterTheFifo(): number {\n  return 1;\n}\n"
        )
        session.file_changed(edited)
        wait_until(lambda: names(session, "afterTheFifo") == ["afterTheFifo"], "the next edit")
    finally:
        closed = session.close(timeout=5.0)
        unblock(fifo)
    assert closed
