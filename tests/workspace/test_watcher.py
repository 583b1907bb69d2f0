"""Quiver's own watcher: real watchdog events, judged by the folder's selector and classified."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from quiver.parse import FileSelector
from quiver.workspace.changes import ChangeKind
from quiver.workspace.watcher import FolderWatcher

WAIT_S = 10.0


class Heard:
    """The watcher's calls, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Path, ChangeKind]] = []
        self._lock = threading.Lock()

    def __call__(self, path: Path, kind: ChangeKind) -> None:
        with self._lock:
            self.events.append((path, kind))

    def wait_for(self, path: Path, kind: ChangeKind) -> None:
        deadline = time.monotonic() + WAIT_S
        while (path, kind) not in self.snapshot():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} for {path}; heard {self.snapshot()}")
            time.sleep(0.02)

    def snapshot(self) -> list[tuple[Path, ChangeKind]]:
        with self._lock:
            return list(self.events)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "old.py").write_text("x = 1\n")
    return workspace.resolve()


@pytest.fixture
def heard(root: Path) -> Iterator[Heard]:
    heard = Heard()
    watcher = FolderWatcher(heard)
    assert watcher.watch(root, FileSelector(root)) is True
    yield heard
    watcher.stop()


def test_source_files_written_and_deleted_are_reported_as_such(root: Path, heard: Heard) -> None:
    created = root / "src" / "new.py"
    created.write_text("def f():\n    return 1\n")
    heard.wait_for(created, ChangeKind.DISK)
    (root / "src" / "old.py").unlink()
    heard.wait_for(root / "src" / "old.py", ChangeKind.DELETED)


def test_what_cannot_change_the_index_is_not_reported(root: Path, heard: Heard) -> None:
    (root / "node_modules").mkdir()
    (root / "node_modules" / "index.js").write_text("module.exports = 1\n")
    (root / "README.md").write_text("# notes\n")
    marker = root / "src" / "marker.py"
    marker.write_text("y = 2\n")  # events arrive in order: after this one, none of the above
    heard.wait_for(marker, ChangeKind.DISK)
    reported = {path for path, _ in heard.snapshot()}
    assert root / "README.md" not in reported
    assert not any("node_modules" in path.parts for path in reported)


def test_ignore_files_and_directories_ask_for_a_rescan(root: Path, heard: Heard) -> None:
    (root / ".gitignore").write_text("build/\n")
    heard.wait_for(root / ".gitignore", ChangeKind.RESCAN)
    (root / "pkg").mkdir()
    heard.wait_for(root / "pkg", ChangeKind.RESCAN)
    shutil.rmtree(root / "src")
    heard.wait_for(root / "src", ChangeKind.RESCAN)


def test_a_link_to_a_directory_out_of_the_workspace_is_not_watched(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = (tmp_path / "linked-workspace").resolve()
    (root / "src").mkdir(parents=True)
    (root / "ext").symlink_to(outside, target_is_directory=True)
    heard = Heard()
    watcher = FolderWatcher(heard)
    assert watcher.watch(root, FileSelector(root)) is True
    try:
        (outside / "leak.py").write_text("x = 1\n")
        marker = root / "src" / "marker.py"
        marker.write_text("y = 2\n")  # one inotify queue: after this one, none of the above
        heard.wait_for(marker, ChangeKind.DISK)
        assert not any("ext" in path.parts for path, _ in heard.snapshot())
    finally:
        watcher.stop()
