"""Snippets show the first lines of a symbol's body, as the file is on disk now."""

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
