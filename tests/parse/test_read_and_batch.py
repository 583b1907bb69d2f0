"""Reading files safely and parsing many: bad files are skipped with a reason, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile_files import unblock, within
from quiver.errors import FileSkippedError
from quiver.parse import (
    ParsedFile,
    SourceFile,
    SourceSkippedError,
    discover,
    parse_file,
    parse_files,
    read_source,
)


def _source_file(path: Path, rel: str, language: str = "python") -> SourceFile:
    stat = path.stat() if path.exists() else None
    return SourceFile(
        path, rel, language, stat.st_size if stat else 0, stat.st_mtime_ns if stat else 0
    )


def test_invalid_utf8_binary_and_vanished_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "latin1.py").write_bytes(b"# caf\xe9\ndef f(): pass\n")
    (tmp_path / "blob.py").write_bytes(b"def f(): pass\n\x00\x01\x02")
    (tmp_path / "good.py").write_text("def ok(): pass\n")
    vanished = tmp_path / "gone.py"
    vanished.write_text("def gone(): pass\n")
    files = list(discover(tmp_path))
    vanished.unlink()

    results = {parsed.file.rel_path: parsed for parsed in parse_files(files, workers=1)}

    assert results["latin1.py"].skipped_reason == "not valid UTF-8 (byte 5)"
    assert results["blob.py"].skipped_reason == "binary file (NUL byte in the first 8 KiB)"
    assert results["gone.py"].skipped_reason == "file vanished before it could be read"
    assert [s.name for s in results["good.py"].symbols] == ["ok"]
    assert results["good.py"].skipped_reason is None
    assert all(results[name].symbols == () for name in ("latin1.py", "blob.py", "gone.py"))


def test_read_source_errors_name_the_file_and_suggest_a_fix(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 100)
    with pytest.raises(FileSkippedError) as raised:
        read_source(big, max_file_size=100)
    message = str(raised.value)
    assert message.startswith(f"Skipped {big}: too large (600 bytes, limit 100)")
    assert message.splitlines()[-1].startswith("Suggestion: raise the limit")
    with pytest.raises(SourceSkippedError, match="is a directory"):
        read_source(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    locked = tmp_path / "locked.py"
    locked.write_text("def f(): pass\n")
    locked.chmod(0)
    try:
        parsed = parse_file(_source_file(locked, "locked.py"))
    finally:
        locked.chmod(0o600)
    assert parsed.skipped_reason == "permission denied"


def test_utf8_bom_is_dropped_so_columns_match_the_editor(tmp_path: Path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbfdef f(): pass\n")
    assert read_source(path) == b"def f(): pass\n"
    parsed = parse_file(_source_file(path, "bom.py"))
    assert parsed.symbols[0].selection_range.start.character == 4


def test_process_pool_gives_the_same_results_in_the_same_order_as_inline(tmp_path: Path) -> None:
    for i in range(150):
        body = f"class Model{i}:\n    def save(self):\n        return {i}\n"
        (tmp_path / f"m{i:03}.py").write_text(body)
    (tmp_path / "m050.py").write_bytes(b"\xff\xfe not utf-8")
    files = list(discover(tmp_path))

    inline = list(parse_files(files, workers=1))
    pooled = list(parse_files(files, workers=2))

    assert [p.file.rel_path for p in pooled] == [f.rel_path for f in files]
    assert pooled == inline
    assert pooled[50].skipped_reason is not None
    assert sum(len(p.symbols) for p in pooled) == 2 * 149
    assert all(isinstance(p, ParsedFile) for p in pooled)


def test_stopping_early_shuts_the_pool_down(tmp_path: Path) -> None:
    for i in range(200):
        (tmp_path / f"f{i:03}.py").write_text(f"def f{i}(): pass\n")
    results = parse_files(discover(tmp_path), workers=2)
    first = next(results)
    results.close()
    assert first.symbols[0].name == "f0"


def test_permission_denied_is_reported_even_when_running_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores file modes, so simulate what the OS says to other users.
    path = tmp_path / "locked.py"
    path.write_text("def f(): pass\n")
    real_open = os.open

    def deny(file: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if file == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", deny)
    assert parse_file(_source_file(path, "locked.py")).skipped_reason == "permission denied"


def _die_in_worker(files: list[SourceFile], max_file_size: int) -> list[object]:
    os._exit(3)  # what a segfault in a worker looks like to the pool


def _many_files(root: Path, count: int) -> list[SourceFile]:
    for i in range(count):
        (root / f"mod{i:03}.py").write_text(f"def function_{i}(): pass\n")
    return list(discover(root))


def test_a_dying_worker_loses_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    files = _many_files(tmp_path, 120)
    monkeypatch.setattr("quiver.parse.batch._parse_chunk", _die_in_worker)
    results = list(parse_files(files, workers=2))
    assert "a parser process died; parsing the remaining files in this process" in caplog.messages
    assert [p.symbols[0].name for p in results] == [f"function_{i}" for i in range(120)]


def test_spawned_workers_are_used_when_other_threads_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _many_files(tmp_path, 120)
    monkeypatch.setattr("quiver.parse.batch.threading.active_count", lambda: 3)
    from quiver.parse.batch import _pool_context

    assert _pool_context().get_start_method() == "spawn"
    assert list(parse_files(files, workers=2)) == list(parse_files(files, workers=1))


def test_a_cpp_header_with_the_h_extension_is_parsed_as_cpp(tmp_path: Path) -> None:
    header = "namespace ui {\nclass Widget {\npublic:\n  void draw();\n};\n}\n"
    (tmp_path / "widget.h").write_text(header)
    (tmp_path / "plain.h").write_text('#ifdef __cplusplus\nextern "C" {\n#endif\nint add(int a);\n')
    parsed = {p.file.rel_path: p for p in parse_files(discover(tmp_path), workers=1)}
    widget = parsed["widget.h"]
    assert widget.file.language == "cpp"
    assert [(s.qualified_name, s.language) for s in widget.symbols] == [
        ("ui", "cpp"),
        ("ui.Widget", "cpp"),
        ("ui.Widget.draw", "cpp"),
    ]
    assert parsed["plain.h"].file.language == "c"
    assert [s.name for s in parsed["plain.h"].symbols] == ["add"]



def test_a_fifo_or_a_device_is_skipped_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "fifo_link.py").symlink_to(fifo)
    try:
        for name in ("pipe.py", "fifo_link.py", "zero.py"):
            with pytest.raises(SourceSkippedError) as raised:
                within(5.0, lambda n=name: read_source(tmp_path / n))  # type: ignore[misc]
            assert raised.value.reason == "not a regular file", name
    finally:
        unblock(fifo)
