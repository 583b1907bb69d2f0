"""`quiver symbols PATH`: a table by default, JSON Lines with --json, filters and limits."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from quiver.cli.main import _Progress, main


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text('class Cart:\n    def total(self):\n        """Sum."""\n')
    (tmp_path / "lib.rs").write_text("pub fn checksum() -> u32 { 0 }\n")
    (tmp_path / "broken.py").write_bytes(b"def f():\n    return '\xff'\n")
    return tmp_path


def test_symbols_prints_kind_qualified_name_and_location(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["symbols", str(tree)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        ["class", "app.Cart", "app.py:1"],
        ["method", "app.Cart.total", "app.py:2"],
        ["function", "crate.checksum", "lib.rs:1"],
    ]


def test_symbols_json_lines_carry_lsp_positions(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["symbols", str(tree), "--json", "--lang", "python"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["qualifiedName"] for r in records] == ["app.Cart", "app.Cart.total"]
    total = records[1]
    assert total["kind"] == "method"
    assert total["doc"] == "Sum."
    assert total["selectionRange"] == {
        "start": {"line": 1, "character": 8},
        "end": {"line": 1, "character": 13},
    }


def test_symbols_limit_stops_early(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["symbols", str(tree), "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_skipped_files_are_logged_at_info(
    tree: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.INFO):
        assert main(["-v", "symbols", str(tree)]) == 0
    assert "skipped broken.py: not valid UTF-8 (byte 21)" in caplog.messages


def test_missing_path_is_an_error_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["symbols", str(tmp_path / "nope")]) == 2
    error = capsys.readouterr().err
    assert "does not exist" in error
    assert "Suggestion:" in error


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Progress, "_DELAY_S", 0.0)
    monkeypatch.setattr(_Progress, "_INTERVAL_S", 0.0)
    terminal = _Terminal()
    bar = _Progress(4, terminal)
    bar.update(2)
    bar.close()
    assert terminal.getvalue() == "\r[" + "#" * 15 + "-" * 15 + "] 2/4 files\r\x1b[2K"
    pipe = io.StringIO()
    quiet = _Progress(4, pipe)
    quiet.update(2)
    quiet.close()
    assert pipe.getvalue() == ""
