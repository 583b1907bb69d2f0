"""``quiver index`` and ``quiver search`` on a disk that refuses writes: a clear error and
exit status 1, never a traceback (not even from the writer lock's pid)."""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from small_disk import SmallDisk

DATA = Path(__file__).resolve().parents[1] / "data"
QUIVER = Path(sys.executable).parent / "quiver"


def no_file_may_grow() -> None:
    """In the child: every write that grows a file fails with EFBIG, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))


def quiver(*args: str | Path, limited: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(QUIVER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        preexec_fn=no_file_may_grow if limited else None,
    )


def assert_clear_refusal(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("quiver: ")
    assert "the disk is full" in run.stderr
    assert "\nSuggestion: " in run.stderr


@pytest.mark.parametrize("command", [["index"], ["search", "retry"]])
def test_a_disk_that_refuses_every_write_is_a_clear_error(
    polyglot_tree: Path, tmp_path: Path, command: list[str]
) -> None:
    verb, *rest = command
    run = quiver(verb, polyglot_tree, *rest, "--cache-dir", tmp_path / "cache", limited=True)
    assert_clear_refusal(run)


@pytest.mark.parametrize("command", [["index"], ["search", "retry"]])
def test_a_full_disk_is_a_clear_error(
    small_disk: SmallDisk, tmp_path: Path, command: list[str]
) -> None:
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    small_disk.fill()
    verb, *rest = command
    run = quiver(verb, root, *rest, "--cache-dir", small_disk.path / "cache")
    assert_clear_refusal(run)
