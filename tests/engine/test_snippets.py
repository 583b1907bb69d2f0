"""Snippets show the first lines of a symbol's body, as the file is on disk now."""

import os
from pathlib import Path

from quiver.engine.snippets import SnippetReader
from quiver.symbols import Position, Range


def span(start: int, end: int) -> Range:
    return Range(Position(start, 0), Position(end, 0))


def test_the_snippet_is_the_dedented_body_after_the_signature_line(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("x = 1\ndef f():\n    a = 1\n    return a\n\ndef g():\n    pass\n")
    assert SnippetReader().snippet(source, span(1, 3)) == "a = 1\nreturn a"


def test_a_snippet_is_capped_in_lines_and_keeps_crlf_files_clean(tmp_path: Path) -> None:
    source = tmp_path / "b.ts"
    body = "".join(f"  line{i};\r\n" for i in range(10))
    source.write_bytes(("function h() {\r\n" + body + "}\r\n").encode())
    snippet = SnippetReader().snippet(source, span(0, 11), max_lines=3)
    assert snippet == "line0;\nline1;\nline2;"


def test_a_one_line_symbol_shows_its_line_and_bad_bytes_do_not_fail(tmp_path: Path) -> None:
    source = tmp_path / "c.py"
    source.write_bytes(b"LIMIT = 10  # \xff\n")
    assert SnippetReader().snippet(source, span(0, 0)).startswith("LIMIT = 10")


def test_a_vanished_file_gives_an_empty_snippet(tmp_path: Path) -> None:
    assert SnippetReader().snippet(tmp_path / "gone.py", span(0, 3)) == ""


def test_a_fifo_swapped_in_for_a_source_file_gives_an_empty_snippet_without_blocking(
    tmp_path: Path,
) -> None:
    # A search must never wait on a pipe that replaced an indexed file.
    source = tmp_path / "d.py"
    os.mkfifo(source)
    assert SnippetReader().snippet(source, span(0, 1)) == ""


def test_a_link_swapped_in_for_a_source_file_shows_nothing_of_its_target(tmp_path: Path) -> None:
    # The index never follows a link out of the workspace; its snippets must not either.
    outside = tmp_path / "secret.txt"
    outside.write_text("password = hunter2\n")
    source = tmp_path / "e.py"
    source.symlink_to(outside)
    assert SnippetReader().snippet(source, span(0, 0)) == ""


def test_a_file_grown_past_the_size_limit_gives_an_empty_snippet(tmp_path: Path) -> None:
    source = tmp_path / "f.py"
    source.write_bytes(b"x = 1\n" * 100)
    assert SnippetReader(max_file_size=64).snippet(source, span(0, 0)) == ""
