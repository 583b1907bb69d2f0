"""The columnar catalog: what is saved is what is loaded, changes overlay the snapshot."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quiver.engine.catalog import CATALOG_FILE, Catalog, FileRecord, SymbolRecord
from quiver.errors import IndexCorruptError, IndexFormatError
from quiver.ids import SymbolId
from quiver.symbols import Position, Range, SymbolKind


def name_pairs(catalog: Catalog) -> list[tuple[int, str]]:
    """The (id, name) of every symbol, decoded from the UTF-8 column ``names()`` gives."""
    ids, blob, offsets = catalog.names()
    assert len(offsets) == len(ids) + 1
    raw = blob.tobytes()
    names = [
        raw[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogatepass") for i in range(len(ids))
    ]
    return sorted(zip(ids, names, strict=True))


def record(symbol_id: int, name: str, path: str, line: int = 0) -> SymbolRecord:
    return SymbolRecord(
        id=SymbolId(symbol_id),
        name=name,
        kind=SymbolKind.FUNCTION,
        container="módulo.Clase" if "é" in name else "pkg.mod",
        signature=f"def {name}(x: int) -> str:",
        range=Range(Position(line, 0), Position(line + 3, 12)),
        selection_range=Range(Position(line, 4), Position(line, 4 + len(name))),
        path=path,
        language="python",
        content_hash=f"{symbol_id:032x}",
    )


def catalog_with(files: dict[str, list[str]]) -> Catalog:
    catalog = Catalog()
    for path, names in files.items():
        ids = catalog.allocate_ids(len(names))
        records = [
            record(int(i), n, path, line=5 * k)
            for k, (i, n) in enumerate(zip(ids, names, strict=True))
        ]
        catalog.put_file(FileRecord(path, "python", 100, 42, f"hash-{path}"), records)
    catalog.model_id = "model@abc"
    catalog.generation = 7
    return catalog


def test_a_saved_catalog_loads_with_every_file_and_symbol_as_saved(tmp_path: Path) -> None:
    catalog = catalog_with({"a.py": ["parse_url", "café_größe"], "b/c.py": ["Run", "stop", "𝒳"]})
    catalog.save(tmp_path)
    loaded = Catalog.load(tmp_path)
    assert (loaded.generation, loaded.next_id, loaded.model_id) == (7, 6, "model@abc")
    assert loaded.files == catalog.files
    assert len(loaded) == 5
    for symbol_id in range(1, 6):
        assert loaded.symbols.get(SymbolId(symbol_id)) == catalog.symbols.get(SymbolId(symbol_id))
    assert loaded.symbols_of("b/c.py") == catalog.symbols_of("b/c.py")
    assert name_pairs(loaded) == name_pairs(catalog)


def test_changes_after_a_load_overlay_the_snapshot_and_survive_the_next_save(
    tmp_path: Path,
) -> None:
    catalog_with({"a.py": ["one", "two"], "b.py": ["three"]}).save(tmp_path)
    loaded = Catalog.load(tmp_path)
    loaded.remove_file("b.py")
    kept = loaded.symbols_of("a.py")[0]
    moved = record(int(kept.id), kept.name, "a.py", line=40)  # same id, new place
    fresh = record(int(loaded.allocate_ids(1)[0]), "four", "a.py")
    loaded.put_file(FileRecord("a.py", "python", 120, 43, "new"), [moved, fresh])
    assert len(loaded) == 2
    assert SymbolId(3) not in loaded.symbols
    assert loaded.symbols[kept.id].range.start.line == 40
    assert sorted(name for _, name in name_pairs(loaded)) == ["four", "one"]

    loaded.save(tmp_path)
    again = Catalog.load(tmp_path)
    assert len(again) == 2
    assert again.symbols_of("a.py") == [moved, fresh]
    assert "b.py" not in again.files
    assert again.next_id == loaded.next_id


def test_a_copy_saves_what_it_held_while_the_original_keeps_changing(tmp_path: Path) -> None:
    catalog = catalog_with({"a.py": ["one"]})
    catalog.save(tmp_path)
    catalog = Catalog.load(tmp_path)
    copy = catalog.copy_tables()
    catalog.remove_file("a.py")
    catalog.put_file(FileRecord("z.py", "python", 1, 1, "z"), [record(9, "zed", "z.py")])
    copy.save(tmp_path)
    assert [r.name for r in Catalog.load(tmp_path)] == ["one"]
    assert [r.name for r in catalog] == ["zed"]


def test_an_empty_catalog_round_trips(tmp_path: Path) -> None:
    Catalog().save(tmp_path)
    loaded = Catalog.load(tmp_path)
    assert len(loaded) == 0
    assert name_pairs(loaded) == []


def test_no_snapshot_gives_an_empty_catalog(tmp_path: Path) -> None:
    assert len(Catalog.load(tmp_path / "nothing")) == 0


@pytest.mark.parametrize("keep", [0, 7, 20, -1])
def test_a_truncated_snapshot_is_reported_corrupt_never_read(tmp_path: Path, keep: int) -> None:
    catalog_with({"a.py": ["one", "two"]}).save(tmp_path)
    target = tmp_path / CATALOG_FILE
    data = target.read_bytes()
    target.write_bytes(data[:keep])
    with pytest.raises(IndexCorruptError, match=r"Suggestion: .*rebuild"):
        Catalog.load(tmp_path)


def test_a_flipped_byte_is_caught_by_the_checksum(tmp_path: Path) -> None:
    catalog_with({"a.py": ["one", "two"]}).save(tmp_path)
    target = tmp_path / CATALOG_FILE
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksum"):
        Catalog.load(tmp_path)


def test_another_format_version_is_a_format_error(tmp_path: Path) -> None:
    catalog_with({"a.py": ["one"]}).save(tmp_path)
    target = tmp_path / CATALOG_FILE
    data = bytearray(target.read_bytes())
    data[8:12] = (1).to_bytes(4, "little")
    target.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match="Suggestion:"):
        Catalog.load(tmp_path)


def test_the_stamp_changes_with_every_save(tmp_path: Path) -> None:
    catalog = catalog_with({"a.py": ["one"]})
    assert Catalog.stamp(tmp_path) is None
    catalog.save(tmp_path)
    first = Catalog.stamp(tmp_path)
    catalog.generation += 1
    catalog.save(tmp_path)
    assert Catalog.stamp(tmp_path) not in (None, first)


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["put", "remove", "save"]),
            st.integers(0, 5),  # which file
            st.lists(st.text(min_size=1, max_size=8), min_size=0, max_size=4),  # names
            st.booleans(),  # keep the file's existing ids (a moved function)
        ),
        max_size=25,
    )
)
def test_any_sequence_of_changes_and_saves_loads_back_exactly(
    steps: list[tuple[str, int, list[str], bool]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        catalog = Catalog()
        catalog.model_id = "m"
        for action, file_number, names, keep_ids in steps:
            path = f"dir/ƒile_{file_number}.py"
            if action == "remove":
                catalog.remove_file(path)
            elif action == "save":
                catalog.save(folder)
                catalog = Catalog.load(folder)
            else:
                old = catalog.symbols_of(path)
                ids = [r.id for r in old][: len(names)] if keep_ids else []
                ids += catalog.allocate_ids(len(names) - len(ids))
                records = [
                    record(int(i), name, path, line=3 * k)
                    for k, (i, name) in enumerate(zip(ids, names, strict=True))
                ]
                catalog.put_file(FileRecord(path, "python", len(names), 1, "h"), records)
        catalog.save(folder)
        loaded = Catalog.load(folder)
        assert loaded.files == catalog.files
        assert len(loaded) == len(catalog)
        assert {i: loaded.symbols.get(i) for i in catalog.symbols} == {
            i: catalog.symbols.get(i) for i in catalog.symbols
        }
        assert name_pairs(loaded) == name_pairs(catalog)


texts = st.text(
    st.characters(codec=None, exclude_categories=()), max_size=12
)  # any code point, lone surrogates included
records_strategy = st.lists(
    st.tuples(
        texts.filter(bool),  # name
        st.sampled_from(["", "pkg.mod", "pkg.mod.Klass", "ünï.cödé"]) | texts,  # container
        st.sampled_from(["{name}", "def {name}(self)", "x{name}{name}", "no name here"])
        | texts,  # signature template ({name} is replaced by the name)
        st.integers(0, 70_000),  # a line: past 65,535 the numbers are stored wide
        st.booleans(),  # a large id (past 2^32: ids stored wide)
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(first=records_strategy, second=records_strategy)
def test_records_of_any_content_load_back_exactly_across_saves(
    first: list[tuple[str, str, str, int, bool]], second: list[tuple[str, str, str, int, bool]]
) -> None:
    """Containers and signatures are stored once per distinct value and signatures
    without their name: whatever the text, a record comes back as it went in, also
    when a later save mixes stored rows with new ones."""

    def build(
        rows: list[tuple[str, str, str, int, bool]], first_id: int, path: str
    ) -> list[SymbolRecord]:
        built = []
        for offset, (name, container, signature, line, large) in enumerate(rows):
            symbol_id = first_id + offset + (1 << 33 if large else 0)
            built.append(
                replace(
                    record(symbol_id, name, path, line=line),
                    container=container,
                    signature=signature.replace("{name}", name),
                )
            )
        return built

    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        catalog = Catalog()
        one = build(first, 1, "a.py")
        catalog.put_file(FileRecord("a.py", "python", 1, 1, "h"), one)
        catalog.save(folder)
        loaded = Catalog.load(folder)
        assert loaded.symbols_of("a.py") == one
        two = build(second, 1000, "b.py")
        loaded.put_file(FileRecord("b.py", "python", 1, 1, "h"), two)
        loaded.save(folder)
        again = Catalog.load(folder)
        assert again.symbols_of("a.py") == one
        assert again.symbols_of("b.py") == two
