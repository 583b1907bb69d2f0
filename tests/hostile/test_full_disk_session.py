"""A workspace session whose cache is on a disk that really fills up (a small tmpfs): the
folder says the disk is full, searches go on, and once space is freed the edits made
meanwhile are indexed without a restart."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from small_disk import SmallDisk

from hashing_embedder import HashingEmbedder
from quiver.lsp.options import ServerOptions
from quiver.workspace.session import WorkspaceSession

DATA = Path(__file__).resolve().parents[1] / "data"


class Messages:
    """A session listener that keeps the messages it was shown."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def progress_begin(self, title: str, message: str) -> None: ...

    def progress_report(self, message: str, percentage: int) -> None: ...

    def progress_end(self, message: str) -> None: ...

    def status_changed(self, *, state_changed: bool) -> None: ...

    def show_message(self, severity: Literal["error", "warning", "info"], message: str) -> None:
        self.shown.append((severity, message))


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_edits_on_a_full_disk_are_indexed_once_space_is_freed(
    small_disk: SmallDisk, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    embedder = HashingEmbedder(dim=32)
    messages = Messages()
    session = WorkspaceSession(
        [root],
        ServerOptions(cache_dir=small_disk.path / "cache", watch=False),
        messages,
        embedder_factory=lambda: embedder,
    )
    session.start()

    def found(name: str) -> bool:
        return [r.name for r in session.workspace_symbols(name, limit=5, meaning=False)] == [name]

    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        small_disk.fill()
        path = root / "net" / "http_client.py"
        original = path.read_text()
        session.document_changed(path, original + "\ndef typed_on_a_full_disk():\n    pass\n")
        wait_until(lambda: session.status().state == "error", "the refused write")
        assert "the disk is full" in session.status().message
        assert found("send_with_retries")  # the last published index answers
        small_disk.free()
        wait_until(
            lambda: session.status().state == "ready" and found("typed_on_a_full_disk"),
            "the edit once there is room",
        )
        session.document_changed(path, original + "\ndef typed_afterwards():\n    pass\n")
        wait_until(lambda: found("typed_afterwards"), "the next edit")
        assert session.reindex()
        wait_until(lambda: session.status().state == "ready", "the reindex")
        assert not [m for _, m in messages.shown if m.startswith("Quiver: ") and " failed: " in m]
    finally:
        session.close()
