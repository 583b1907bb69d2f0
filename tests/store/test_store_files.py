"""Atomic writes, array files, manifests, GC and the writer lock behave as published."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quiver.errors import (
    DimensionMismatchError,
    IndexCorruptError,
    IndexFormatError,
    ModelMismatchError,
)
from quiver.store import (
    AtomicFileWriter,
    FileEntry,
    Manifest,
    ManifestMissingError,
    WriterLock,
    WriterLockedError,
    atomic_write_bytes,
    check_identity,
    collect_garbage,
    data_file_name,
    files_to_keep,
    manifest_stamp,
    map_array,
    read_manifest,
    verify_file,
    write_array,
    write_manifest,
)
from quiver.store import arrays as array_files


def _manifest(**changes: object) -> Manifest:
    base = Manifest(
        kind="test-kind",
        format_version=3,
        generation=1,
        dim=4,
        metric="ip",
        model_id="model-a",
        counts={"ntotal": 2},
        files={"data": FileEntry("data-000000000001.qva", 10, "crc32:00000000")},
        params={"nprobe": 8, "note": None},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.bin"]


def test_an_aborted_writer_leaves_the_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), AtomicFileWriter(target) as writer:
        writer.write(b"half")
        raise RuntimeError("crash before commit")
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.bin"]


def test_an_array_file_maps_back_read_only_with_its_dtype_and_shape(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.float32).reshape(6, 4)
    entry = write_array(tmp_path / "v-000000000001.qva", array)
    mapped = map_array(tmp_path / entry.name, entry)
    assert mapped.dtype == np.float32
    assert mapped.shape == (6, 4)
    np.testing.assert_array_equal(mapped, array)
    assert not mapped.flags.writeable
    assert entry.size == array_files.HEADER_SIZE + array.nbytes


def test_an_empty_array_file_round_trips(tmp_path: Path) -> None:
    entry = write_array(tmp_path / "e-000000000001.qva", np.empty((0, 8), dtype=np.float32))
    assert map_array(tmp_path / entry.name, entry).shape == (0, 8)


def test_a_truncated_array_file_is_reported_as_corrupt(tmp_path: Path) -> None:
    entry = write_array(tmp_path / "v-000000000001.qva", np.ones((10, 4), dtype=np.float32))
    path = tmp_path / entry.name
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(IndexCorruptError, match="truncated") as raised:
        map_array(path, entry)
    assert "Suggestion:" in str(raised.value)
    # Without the manifest's size the header still disagrees with the length.
    with pytest.raises(IndexCorruptError):
        map_array(path)


def test_a_flipped_byte_in_a_small_file_fails_its_checksum_on_open(tmp_path: Path) -> None:
    entry = write_array(tmp_path / "v-000000000001.qva", np.ones((10, 4), dtype=np.float32))
    path = tmp_path / entry.name
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksum"):
        map_array(path, entry)


def test_large_files_are_checked_by_size_on_open_and_fully_by_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(array_files, "OPEN_VERIFY_MAX_BYTES", 16)
    entry = write_array(tmp_path / "v-000000000001.qva", np.ones((10, 4), dtype=np.float32))
    path = tmp_path / entry.name
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    map_array(path, entry)  # cheap open: sizes and header only
    with pytest.raises(IndexCorruptError, match="checksum"):
        verify_file(path, entry)
    with pytest.raises(IndexCorruptError, match="checksum"):
        map_array(path, entry, verify=True)


def test_a_damaged_array_header_is_detected(tmp_path: Path) -> None:
    entry = write_array(tmp_path / "v-000000000001.qva", np.ones((10, 4), dtype=np.float32))
    path = tmp_path / entry.name
    data = bytearray(path.read_bytes())
    data[20] ^= 0x01  # inside the dtype field
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="header"):
        map_array(path)


def test_a_manifest_round_trips_through_disk(tmp_path: Path) -> None:
    manifest = _manifest()
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path, kind="test-kind", format_version=3) == manifest


def test_a_missing_manifest_says_there_is_no_index(tmp_path: Path) -> None:
    with pytest.raises(ManifestMissingError, match="No index") as raised:
        read_manifest(tmp_path)
    assert isinstance(raised.value, IndexFormatError)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: text.replace('"dim": 4', '"dim": 5'),
        lambda text: "not json at all",
        lambda text: "[]",
    ],
    ids=["torn", "edited", "garbage", "wrong-shape"],
)
def test_a_damaged_manifest_is_reported_as_corrupt(tmp_path: Path, damage: object) -> None:
    write_manifest(tmp_path, _manifest())
    path = tmp_path / "manifest.json"
    assert callable(damage)
    path.write_text(damage(path.read_text()))
    with pytest.raises(IndexCorruptError, match="corrupt") as raised:
        read_manifest(tmp_path)
    assert str(raised.value).splitlines()[-1].startswith("Suggestion:")


def test_another_kind_format_version_or_manifest_layout_is_a_format_error(tmp_path: Path) -> None:
    write_manifest(tmp_path, _manifest())
    with pytest.raises(IndexFormatError, match="format version 3"):
        read_manifest(tmp_path, format_version=4)
    with pytest.raises(IndexFormatError, match="test-kind"):
        read_manifest(tmp_path, kind="other-kind")
    path = tmp_path / "manifest.json"
    document = json.loads(path.read_text())
    document["schema"] = 99
    path.write_text(json.dumps(document))
    with pytest.raises(IndexFormatError, match="layout 99"):
        read_manifest(tmp_path)


def test_identity_checks_name_the_dimension_and_the_model() -> None:
    manifest = _manifest()
    check_identity(manifest, dim=4, model_id="model-a")
    check_identity(manifest, dim=None, model_id=None)
    with pytest.raises(DimensionMismatchError, match=r"4-dimensional.*produces 8"):
        check_identity(manifest, dim=8, model_id=None)
    with pytest.raises(ModelMismatchError, match="model-b"):
        check_identity(manifest, dim=None, model_id="model-b")


def test_every_publication_changes_the_manifest_stamp(tmp_path: Path) -> None:
    assert manifest_stamp(tmp_path) is None
    write_manifest(tmp_path, _manifest())
    first = manifest_stamp(tmp_path)
    write_manifest(tmp_path, _manifest().successor())
    assert manifest_stamp(tmp_path) != first
    assert read_manifest(tmp_path).generation == 2


def test_garbage_collection_keeps_current_and_retained_files_only(tmp_path: Path) -> None:
    names = [data_file_name("vectors", serial, ".qva") for serial in (1, 2, 3)]
    for name in [*names, "writer.lock", "notes.txt", ".vectors-000000000004.qva.123.tmp"]:
        (tmp_path / name).write_bytes(b"x")
    manifest = _manifest(files={"vectors": FileEntry(names[2], 1, "crc32:0")}, retain=(names[1],))
    removed = collect_garbage(tmp_path, files_to_keep(manifest))
    assert removed == [".vectors-000000000004.qva.123.tmp", names[0]]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [names[1], names[2], "notes.txt", "writer.lock"]
    )


def test_only_one_writer_lock_can_be_held_and_a_dead_holder_releases_it(tmp_path: Path) -> None:
    first = WriterLock(tmp_path)
    first.acquire()
    with pytest.raises(WriterLockedError, match="Suggestion:"):
        WriterLock(tmp_path).acquire()
    first.release()
    # A process that takes the lock and is killed never leaves it stale.
    script = (
        "import os, sys\nfrom pathlib import Path\nfrom quiver.store import WriterLock\n"
        "WriterLock(Path(sys.argv[1])).acquire()\nos._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False, timeout=60)
    with WriterLock(tmp_path) as lock:
        assert lock.held
