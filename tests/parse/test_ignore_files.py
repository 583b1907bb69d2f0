"""Ignore files from a hostile workspace: only regular files of at most 1 MiB are read, and one
that is refused is reported while the walk goes on without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile_files import unblock, within
from quiver.parse import FileSelector, discover

DEADLINE_S = 10.0


def _write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _walk_with_deadline(root: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The files a walk of ``root`` yields and what it reported for each path, failing the
    test if the walk has not finished within ``DEADLINE_S`` (a generous bound: the walk
    takes milliseconds)."""
    found: list[str] = []
    skipped: dict[str, list[str]] = {}

    def walk() -> None:
        found.extend(
            f.rel_path
            for f in discover(
                root, on_skip=lambda path, reason: skipped.setdefault(path, []).append(reason)
            )
        )

    within(DEADLINE_S, walk)
    return found, skipped


@pytest.mark.parametrize(
    "ignore_file", [".gitignore", ".quiverignore", "sub/.gitignore", ".git/info/exclude"]
)
def test_an_ignore_file_that_is_a_fifo_is_reported_and_the_walk_goes_on(
    tmp_path: Path, ignore_file: str
) -> None:
    _write(tmp_path, "main.py")
    _write(tmp_path, "sub/module.py")
    fifo = tmp_path / ignore_file
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    try:
        found, skipped = _walk_with_deadline(tmp_path)
    finally:
        unblock(fifo)
    assert sorted(found) == ["main.py", "sub/module.py"]
    assert skipped == {ignore_file: ["ignore file not read: not a regular file"]}


def test_an_ignore_file_linked_to_a_fifo_is_refused_as_well(tmp_path: Path) -> None:
    _write(tmp_path, "main.py")
    fifo = tmp_path / "elsewhere" / "pipe"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    (tmp_path / ".quiverignore").symlink_to(fifo)
    try:
        found, skipped = _walk_with_deadline(tmp_path)
    finally:
        unblock(fifo)
    assert found == ["main.py"]
    assert skipped[".quiverignore"] == [
        "ignore file not read: not a regular file",
        "symlink; its target is indexed under its own path",
    ]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_ignore_file_linked_to_a_device_is_refused_without_reading_it(
    tmp_path: Path, device: str
) -> None:
    _write(tmp_path, "main.py")
    (tmp_path / ".gitignore").symlink_to(device)
    found, skipped = _walk_with_deadline(tmp_path)
    assert found == ["main.py"]
    assert skipped[".gitignore"] == [
        "ignore file not read: not a regular file",
        f"symlink to {os.path.realpath(device)}, outside the workspace",
    ]


def test_an_ignore_file_over_1_mib_is_refused_without_reading_it(tmp_path: Path) -> None:
    _write(tmp_path, "main.py")
    _write(tmp_path, "kept.py")
    with (tmp_path / ".gitignore").open("wb") as sparse:  # 2 GiB, no block written
        sparse.write(b"kept.py\n")
        sparse.truncate(2 << 30)
    found, skipped = _walk_with_deadline(tmp_path)
    assert sorted(found) == ["kept.py", "main.py"]  # its patterns do not apply
    assert skipped == {
        ".gitignore": ["ignore file not read: too large (2,147,483,648 bytes, limit 1,048,576)"]
    }


def test_an_ignore_file_of_exactly_1_mib_is_read(tmp_path: Path) -> None:
    _write(tmp_path, "main.py")
    _write(tmp_path, "dropped.py")
    pattern = b"dropped.py\n"
    (tmp_path / ".gitignore").write_bytes(pattern + b"#" * ((1 << 20) - len(pattern)))
    found, skipped = _walk_with_deadline(tmp_path)
    assert found == ["main.py"]
    assert skipped == {}


def test_selects_refuses_the_same_ignore_files_and_logs_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path, "main.py")
    (tmp_path / ".gitignore").symlink_to("/dev/zero")
    selector = FileSelector(tmp_path)
    with caplog.at_level("INFO", logger="quiver.parse"):
        assert within(DEADLINE_S, lambda: selector.selects(path))
    assert ".gitignore: ignore file not read: not a regular file" in caplog.text
