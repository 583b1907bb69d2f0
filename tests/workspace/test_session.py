"""The workspace session without a client: bursts, buffers, ignored files, the watcher.

The hashing embedder stands in for the model (these tests are about how
changes reach the engines, not about ranking); files, watchdog and Tantivy
are real.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from hashing_embedder import HashingEmbedder
from quiver.errors import ModelUnavailableError
from quiver.lsp.options import ServerOptions
from quiver.workspace.session import WorkspaceSession

DATA = Path(__file__).resolve().parents[1] / "data"
WAIT_S = 60.0


class RecordingListener:
    """Remembers what the session reported."""

    def __init__(self) -> None:
        self.begun: list[str] = []
        self.ended: list[str] = []
        self.messages: list[tuple[str, str]] = []

    def progress_begin(self, title: str, message: str) -> None:
        self.begun.append(title)

    def progress_report(self, message: str, percentage: int) -> None:
        pass

    def progress_end(self, message: str) -> None:
        self.ended.append(message)

    def status_changed(self, *, state_changed: bool) -> None:
        pass

    def show_message(self, severity: Literal["error", "warning", "info"], message: str) -> None:
        self.messages.append((severity, message))


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
def listener() -> RecordingListener:
    return RecordingListener()


@pytest.fixture
def session(root: Path, tmp_path: Path, listener: RecordingListener) -> Iterator[WorkspaceSession]:
    embedder = HashingEmbedder(dim=32)
    session = WorkspaceSession(
        [root],
        ServerOptions(cache_dir=tmp_path / "cache"),
        listener,
        embedder_factory=lambda: embedder,
    )
    session.start()
    wait_until(lambda: session.status().state == "ready", "the first indexing")
    yield session
    session.close()


def names(session: WorkspaceSession, query: str) -> list[str]:
    return [r.name for r in session.workspace_symbols(query, limit=50, meaning=False)]


def test_a_burst_of_files_written_on_disk_is_indexed_in_one_batch(
    session: WorkspaceSession, root: Path, listener: RecordingListener
) -> None:
    before = session.status().generation
    generated = root / "generated"
    generated.mkdir()
    for n in range(300):
        source = f"def handle_event_{n}(event):\n    return {n}\n"
        (generated / f"handler_{n}.py").write_text(source)
    wait_until(
        lambda: (
            names(session, "handle_event_299") == ["handle_event_299"]
            and session.status().state == "ready"
        ),
        "the burst to be indexed",
    )
    assert session.status().files == 304
    # A walk or two, each committing 64 files at a time: not one update per file.
    assert session.status().generation - before <= 20
    assert listener.begun.count("Updating the index") <= 3


def test_an_unsaved_buffer_wins_over_the_file_on_disk(
    session: WorkspaceSession, root: Path
) -> None:
    path = root / "net" / "http_client.py"
    buffer = path.read_text() + "\n\ndef only_in_the_buffer():\n    return 1\n"
    session.document_changed(path, buffer)
    wait_until(lambda: "only_in_the_buffer" in names(session, "only_in_the_buffer"), "the edit")
    path.touch()  # a disk event for the file while its buffer has unsaved edits
    session.file_changed(path)
    time.sleep(0.3)  # let the debounced batch run: the buffer must still be what is indexed
    assert "only_in_the_buffer" in names(session, "only_in_the_buffer")
    session.document_closed(path)  # edits discarded: back to the disk
    wait_until(lambda: names(session, "only_in_the_buffer") == [], "the disk version")


def test_a_deleted_directory_removes_its_files(session: WorkspaceSession, root: Path) -> None:
    shutil.rmtree(root / "config")
    wait_until(
        lambda: names(session, "LoadSettings") == [] and session.status().state == "ready",
        "the directory's symbols to go",
    )
    assert session.status().files == 3


def test_changes_to_ignored_files_are_not_indexed_and_rescan_once(
    session: WorkspaceSession, root: Path, listener: RecordingListener
) -> None:
    (root / ".gitignore").write_text("scratch/\n")
    wait_until(lambda: listener.begun.count("Updating the index") >= 1, "the ignore-file rescan")
    wait_until(lambda: session.status().state == "ready", "the rescan to finish")
    scratch = root / "scratch"
    scratch.mkdir()
    target = scratch / "notes.py"
    for n in range(5):
        target.write_text(f"def scratch_function_{n}():\n    return {n}\n")
        time.sleep(0.15)
    wait_until(lambda: session.status().state == "ready", "the rescans to finish")
    assert names(session, "scratch_function") == []
    # The directory creation and the first unknown file each ask for a walk; the
    # later edits of a file a walk found ignored do not.
    assert listener.begun.count("Updating the index") <= 3


def test_closing_flushes_deferred_updates_to_disk(
    root: Path, tmp_path: Path, listener: RecordingListener
) -> None:
    embedder = HashingEmbedder(dim=32)
    options = ServerOptions(cache_dir=tmp_path / "cache", watch=False)
    first = WorkspaceSession([root], options, listener, embedder_factory=lambda: embedder)
    first.start()
    wait_until(lambda: first.status().state == "ready", "the first indexing")
    (root / "ui" / "debounce.ts").unlink()
    first.file_deleted(root / "ui" / "debounce.ts")
    wait_until(lambda: names(first, "debounce") == [], "the delete")
    assert first.close() is True
    second = WorkspaceSession([root], options, listener, embedder_factory=lambda: embedder)
    second.start()  # opens the cache: the delete must already be there
    try:
        assert names(second, "debounce") == []
    finally:
        second.close()


def test_an_index_that_cannot_be_opened_is_reported_and_the_rest_keeps_working(
    root: Path, tmp_path: Path, listener: RecordingListener
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("the cache root is a file")
    embedder = HashingEmbedder(dim=32)
    session = WorkspaceSession(
        [root],
        ServerOptions(cache_dir=blocked, watch=False),
        listener,
        embedder_factory=lambda: embedder,
    )
    session.start()
    try:
        wait_until(lambda: session.status().state == "error", "the error state")
        assert listener.messages and listener.messages[0][0] == "error"
        assert session.workspace_symbols("swr", limit=5) == []
    finally:
        session.close()


def test_a_folder_deletion_reported_by_the_client_removes_its_files(
    root: Path, tmp_path: Path, listener: RecordingListener
) -> None:
    embedder = HashingEmbedder(dim=32)
    options = ServerOptions(cache_dir=tmp_path / "cache", watch=False)  # the client's events only
    session = WorkspaceSession([root], options, listener, embedder_factory=lambda: embedder)
    session.start()
    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        shutil.rmtree(root / "config")
        session.file_deleted(root / "config")  # one event for the folder, none for its files
        wait_until(
            lambda: names(session, "LoadSettings") == [] and session.status().state == "ready",
            "the folder's symbols to go",
        )
        assert session.status().files == 3
    finally:
        session.close()


def index_once(root: Path, tmp_path: Path, listener: RecordingListener) -> HashingEmbedder:
    """Index ``root`` into ``tmp_path / "cache"`` with a session that is then closed, so the
    next session starts warm; returns the embedder it used."""
    embedder = HashingEmbedder(dim=32)
    first = WorkspaceSession(
        [root], ServerOptions(cache_dir=tmp_path / "cache"), listener,
        embedder_factory=lambda: embedder,
    )  # fmt: skip
    first.start()
    wait_until(lambda: first.status().state == "ready", "the first indexing")
    first.close()
    return embedder


def test_a_warm_start_answers_hybrid_from_words_until_the_model_is_loaded(
    root: Path, tmp_path: Path, listener: RecordingListener
) -> None:
    embedder = index_once(root, tmp_path, listener)

    release = threading.Event()

    def slow_model() -> HashingEmbedder:
        release.wait(WAIT_S)
        return embedder

    warm = WorkspaceSession(
        [root], ServerOptions(cache_dir=tmp_path / "cache"), listener, embedder_factory=slow_model
    )
    warm.start()
    try:
        early = warm.search("LoadSettings", mode="hybrid", limit=5)
        assert early.partial is True
        assert early.results[0].name == "LoadSettings"
        assert all(r.retrievers == ("text",) for r in early.results)
        release.set()
        wait_until(warm._model_ready, "the model")
        later = warm.search("LoadSettings", mode="hybrid", limit=5)
        assert "semantic" in later.results[0].retrievers
    finally:
        release.set()
        warm.close()


def test_a_model_that_cannot_load_is_reported_by_hybrid_search_not_hidden(
    root: Path, tmp_path: Path, listener: RecordingListener
) -> None:
    index_once(root, tmp_path, listener)

    def missing_model() -> HashingEmbedder:
        raise ModelUnavailableError("The model package is missing.", "Reinstall it.")

    warm = WorkspaceSession(
        [root], ServerOptions(cache_dir=tmp_path / "cache"), listener,
        embedder_factory=missing_model,
    )  # fmt: skip
    warm.start()
    try:
        warm.search("LoadSettings", mode="hybrid", limit=5)  # starts the load; words meanwhile
        wait_until(warm._model_ready, "the failed load")
        with pytest.raises(ModelUnavailableError, match="Suggestion: Reinstall it"):
            warm.search("LoadSettings", mode="hybrid", limit=5)
        assert warm.workspace_symbols("LoadSettings", limit=5)[0].name == "LoadSettings"
    finally:
        warm.close()


def test_the_path_prior_setting_reaches_the_folders_engines(
    session: WorkspaceSession, root: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    from quiver.secondary_code import PathPrior

    body = "def reconcile_ledger_totals(ledger):\n    return sum(ledger)\n"
    (root / "billing").mkdir()
    (root / "billing" / "ledger.py").write_text(body)
    (root / "tests").mkdir()
    (root / "tests" / "test_ledger.py").write_text(body)

    def ranked() -> list[tuple[str, float]]:
        response = session.search("reconcile_ledger_totals", mode="text", limit=2)
        return [(r.relative_path, r.score) for r in response.results]

    wait_until(lambda: len(ranked()) == 2, "both copies to be indexed")
    (first, product), (second, secondary) = ranked()
    assert (first, second) == ("billing/ledger.py", "tests/test_ledger.py")
    # The two copies score alike for the words (their paths differ); the test's is lowered.
    assert secondary / product < 0.95

    off = replace(ServerOptions(cache_dir=tmp_path / "cache"), path_prior=PathPrior(weight=1.0))
    session.set_options(off)
    wait_until(
        lambda: len(scores := sorted(s for _, s in ranked())) == 2 and scores[0] / scores[1] > 0.95,
        "the prior to be switched off",
    )
