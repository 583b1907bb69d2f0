"""Fixtures shared by the whole suite: the real model (loaded once) and fixture trees."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what ``make test-fast`` leaves out: the real model (by its fixture, so no test
    can forget the marker) and the editor clients (real Neovim, VS Code's tests)."""
    for item in items:
        if "real_embedder" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)
        if item.path.is_relative_to(Path(__file__).parent / "editors"):
            item.add_marker(pytest.mark.editor)


@pytest.fixture(autouse=True)
def _cache_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test may write the user's real cache: point every default at a temp dir."""
    monkeypatch.setenv("QUIVER_CACHE_DIR", str(tmp_path_factory.mktemp("quiver-cache")))


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The product's default model, loaded once per test session (offline)."""
    from quiver.embed.model import load_default_embedder

    return load_default_embedder()


@pytest.fixture
def polyglot_tree(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of tests/data/polyglot."""
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    yield root


@pytest.fixture
def hold_writer_lock() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start a process that takes the writer lock of a cache directory and keeps it (as a
    server on that cache would) until the test kills it; returned once it holds the lock.
    Whatever the test leaves running is killed afterwards."""
    holders: list[subprocess.Popen[str]] = []

    def hold(directory: Path) -> subprocess.Popen[str]:
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time\n"
                "from pathlib import Path\n"
                "from quiver.store.lock import WriterLock\n"
                "WriterLock(Path(sys.argv[1])).acquire()\n"
                "print('held', flush=True); time.sleep(120)\n",
                str(directory),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        return holder

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait(timeout=30)
