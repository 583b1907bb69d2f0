"""The command line's rough edges: progress while indexing, argument checks, plain errors.

These run ``quiver.cli.main`` in this process with the hashing embedder in place of
the real model (``load_default_embedder`` is patched), so none needs the model.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.api import MAX_LIMIT, IndexProgress
from quiver.cli import main
from quiver.cli import progress as cli_progress
from quiver.embed import batch as embed_batch
from quiver.engine import VectorSearchEngine

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(autouse=True)
def _hashing_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("quiver.embed.model.load_default_embedder", HashingEmbedder)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    return root


def _cache_root() -> Path:
    return Path(os.environ["QUIVER_CACHE_DIR"])


# --- progress ----------------------------------------------------------------------------


def test_piped_index_prints_plain_progress_lines_and_a_summary(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_progress, "PLAIN_INTERVAL_S", 0.0)  # a line for every report
    assert main(["index", str(tree)]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.startswith("Indexing")]
    assert len(lines) >= 2
    last = lines[-1]
    files = re.search(r"(\d+)/(\d+) files", last)
    assert files is not None, last
    total = int(files[2])
    assert f"{total}/{total} files" in last
    assert re.search(r"(\d[\d,]*)/\1 symbols embedded", last), last
    assert captured.out.startswith(f"Indexed {total} files")


def test_piped_index_prints_no_more_than_the_first_and_last_line_of_a_quick_run(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_progress, "PLAIN_INTERVAL_S", 3600.0)  # however loaded the machine
    assert main(["index", str(tree)]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("Indexing")]
    assert 1 <= len(lines) <= 2  # the first and the final line; others once an interval
    assert "symbols embedded" in lines[-1]


def test_progress_moves_while_one_batch_of_files_is_embedded(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embed_batch, "CHUNK_SIZE", 4)
    reports: list[IndexProgress] = []
    with VectorSearchEngine(tree, embedder_factory=HashingEmbedder) as engine:
        report = engine.index_tree(progress=reports.append)
    during = [r for r in reports if r.files_done == 0 and r.symbols_embedded > 0]
    assert len(during) >= 3, "the whole tree is one file batch: progress must come per chunk"
    embedded = [r.symbols_embedded for r in reports]
    assert embedded == sorted(embedded)
    assert reports[-1].symbols_embedded == reports[-1].symbols_to_embed
    assert reports[-1].symbols_embedded == report.symbols_embedded
    assert reports[-1].files_done == reports[-1].files_total == report.files_seen


def test_terminal_progress_is_one_line_rewritten_with_rate_and_eta() -> None:
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    clock = iter([0.0, 10.0, 20.0, 30.0])
    line = cli_progress.IndexProgressLine(stream, clock=lambda: next(clock))
    line(IndexProgress(0, 10, 0, "", symbols_embedded=100, symbols_to_embed=400))
    line(IndexProgress(5, 10, 0, "", symbols_embedded=200, symbols_to_embed=400))
    line.finish()
    text = stream.getvalue()
    assert text.count("\r") >= 2
    assert "200/~400 symbols embedded" in text
    assert "10/s" in text
    assert "ETA" in text
    assert text.endswith("\n")


# --- search --limit ----------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "-1", str(MAX_LIMIT + 1), "many"])
def test_search_rejects_a_limit_outside_1_to_max(
    limit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(tmp_path), "retry", "--limit", limit])
    assert exit_.value.code == 2
    assert f"1..{MAX_LIMIT}" in capsys.readouterr().err


def test_search_accepts_the_limits_at_both_ends(tree: Path) -> None:
    assert main(["search", str(tree), "retry", "--limit", "1", "--json"]) == 0
    assert main(["search", str(tree), "retry", "--limit", str(MAX_LIMIT), "--json"]) == 0


# --- missing paths, status of what was never indexed ------------------------------------


@pytest.mark.parametrize("command", ["index", "status", "search"])
def test_a_missing_workspace_does_not_exist(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    args = [command, str(missing)] + (["retry"] if command == "search" else [])
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{missing} does not exist" in err
    assert "is not a directory" not in err
    assert "Suggestion:" in err


def test_a_file_as_the_workspace_is_not_a_directory(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", str(tree / "net/http_client.py")]) == 1
    err = capsys.readouterr().err
    assert "is not a directory" in err
    assert "Suggestion:" in err


@pytest.mark.parametrize("json_output", [False, True])
def test_status_of_a_folder_never_indexed_says_so_and_creates_nothing(
    json_output: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    before = sorted(_cache_root().rglob("*"))
    assert main(["status", str(folder)] + (["--json"] if json_output else [])) == 0
    out = capsys.readouterr().out
    assert sorted(_cache_root().rglob("*")) == before
    assert "starting" not in out
    if json_output:
        assert '"state": "not indexed"' in out
    else:
        assert "not indexed" in out
        assert f"quiver index {folder}" in out
        assert "Suggestion:" in out


def test_status_with_a_missing_cache_root_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "no-cache-yet"
    assert main(["status", str(tmp_path), "--cache-dir", str(cache)]) == 0
    assert "not indexed" in capsys.readouterr().out
    assert not cache.exists()


def test_status_after_indexing_is_ready(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(tree)]) == 0
    capsys.readouterr()
    assert main(["status", str(tree), "--json"]) == 0
    assert '"state": "ready"' in capsys.readouterr().out


# --- directories skipped for permissions ------------------------------------------------


def test_directories_skipped_for_permissions_are_named_without_verbose(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, where chmod 000 does not bite: refuse the listing instead.
    locked = [tree / "net", tree / "ui"]
    real_scandir = os.scandir

    def deny(path):  # type: ignore[no-untyped-def]
        if Path(path) in locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", deny)
    assert main(["index", str(tree)]) == 0
    err = capsys.readouterr().err
    warning = next(line for line in err.splitlines() if "permission" in line.lower())
    assert "2 " in warning
    assert "net/" in err and "ui/" in err
    assert "Suggestion:" in err
