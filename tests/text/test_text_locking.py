"""One writer per index directory in any process, readers beside it, clear errors on bad dirs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from text_fixtures import documents, make_symbol, names

import quiver
from quiver.errors import IndexCorruptError, IndexFormatError, IndexLockedError
from quiver.text.index import DocumentIndex
from quiver.text.persist import FORMAT_FILE

Opener = Callable[..., DocumentIndex]

_HOLD_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from quiver.ids import ClusterId, SymbolId
    from quiver.symbols import Position, Range, Symbol, SymbolKind
    from quiver.text.index import DocumentIndex, TextDocument
    index = DocumentIndex.open(Path(sys.argv[1]))
    print("locked", flush=True)
    sys.stdin.readline()
    span = Range(Position(0, 0), Position(1, 0))
    symbol = Symbol("writtenElsewhere", SymbolKind.FUNCTION, "", "", "", span, span,
                    "python", "other.py", "", "h")
    index.add([TextDocument(SymbolId(7), ClusterId(0), symbol)])
    index.commit()
    print("committed", flush=True)
    sys.stdin.read()
    """
)


def test_second_writer_in_the_same_process_gets_a_clear_error(open_index: Opener) -> None:
    open_index("shared")
    with pytest.raises(IndexLockedError) as raised:
        open_index("shared")
    assert "Suggestion:" in str(raised.value)
    assert "read-only" in raised.value.suggestion


def test_closing_the_writer_releases_the_lock(open_index: Opener) -> None:
    first = open_index("shared")
    first.add(documents(make_symbol("keptSymbol")))
    first.commit()
    first.close()
    first.close()  # idempotent
    second = open_index("shared")
    assert names(second, "keptSymbol") == ["keptSymbol"]


def test_writer_in_another_process_locks_and_its_commits_reach_readers(
    open_index: Opener, tmp_path: Path
) -> None:
    open_index("shared").close()  # create it
    server_dir = str(Path(quiver.__file__).resolve().parents[1])
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITER, str(tmp_path / "shared")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={"PYTHONPATH": server_dir, "PATH": "/usr/bin:/bin"},
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexLockedError):
            open_index("shared")
        reader = open_index("shared", writable=False)  # readers are never blocked
        assert reader.num_docs() == 0
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "committed"
        assert names(reader, "writtenElsewhere") == []  # its snapshot, until it reloads
        assert reader.reload_if_changed() is True
        assert names(reader, "writtenElsewhere") == ["writtenElsewhere"]
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs in the holder
        holder.wait(timeout=30)
    writer = open_index("shared")  # the OS released the dead process's lock
    assert writer.writable


def test_read_only_open_of_a_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexCorruptError, match="quiver index"):
        DocumentIndex.open(tmp_path / "absent", writable=False)
    assert not (tmp_path / "absent").exists()


def test_index_of_another_format_version_is_refused(open_index: Opener, tmp_path: Path) -> None:
    open_index("shared").close()
    (tmp_path / "shared" / FORMAT_FILE).write_text(json.dumps({"format": 999}))
    with pytest.raises(IndexFormatError, match="--rebuild"):
        open_index("shared")


def test_index_with_another_schema_is_refused(tmp_path: Path) -> None:
    import tantivy

    foreign = tmp_path / "shared"
    DocumentIndex.open(foreign).close()
    for path in foreign.iterdir():
        if path.name != FORMAT_FILE:
            path.unlink()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", stored=True)
    tantivy.Index(builder.build(), path=str(foreign))
    with pytest.raises(IndexFormatError, match="schema"):
        DocumentIndex.open(foreign)


def test_corrupt_meta_file_is_reported_not_crashed_on(open_index: Opener, tmp_path: Path) -> None:
    index = open_index("shared")
    index.add(documents(make_symbol("x")))
    index.commit()
    index.close()
    (tmp_path / "shared" / "meta.json").write_text("{not json")
    with pytest.raises(IndexCorruptError) as raised:
        open_index("shared")
    assert "Suggestion:" in str(raised.value)


def test_missing_segment_file_is_reported_and_the_lock_released(
    open_index: Opener, tmp_path: Path
) -> None:
    index = open_index("shared")
    index.add(documents(make_symbol("survivor")))
    index.commit()
    index.close()
    store_file = next((tmp_path / "shared").glob("*.store"))
    saved = store_file.read_bytes()
    store_file.unlink()
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        open_index("shared", writable=False)
    with pytest.raises(IndexCorruptError):
        open_index("shared")
    store_file.write_bytes(saved)
    assert names(open_index("shared"), "survivor") == ["survivor"]


def test_directory_holding_other_files_is_not_taken_over(tmp_path: Path) -> None:
    directory = tmp_path / "somewhere"
    directory.mkdir()
    (directory / "notes.txt").write_text("mine")
    with pytest.raises(IndexCorruptError, match=r"notes\.txt"):
        DocumentIndex.open(directory)
    assert (directory / "notes.txt").read_text() == "mine"
