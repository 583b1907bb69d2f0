"""The change log: records survive in order, a torn tail is ignored, committed damage is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quiver.errors import IndexCorruptError
from quiver.store import ChangeLogWriter, FileEntry, read_change_log
from quiver.store.atomic import crc32_hex
from quiver.store.changelog import LOG_HEADER_SIZE

records_strategy = st.lists(st.binary(min_size=0, max_size=64), min_size=0, max_size=12)


def _write(path: Path, records: list[bytes]) -> FileEntry:
    writer = ChangeLogWriter.create(path)
    for record in records:
        writer.append(record)
    entry = writer.sync()
    writer.close()
    return entry


def test_records_come_back_in_order_up_to_the_committed_length(tmp_path: Path) -> None:
    path = tmp_path / "changes-000000000001.qlog"
    entry = _write(path, [b"one", b"", b"three"])
    scan, crc = read_change_log(path, length=entry.size)
    assert [bytes(payload) for payload in scan.payloads] == [b"one", b"", b"three"]
    assert crc32_hex(crc) == entry.checksum
    assert scan.end == entry.size
    assert not scan.torn


def test_records_appended_after_the_commit_are_invisible_to_readers(tmp_path: Path) -> None:
    path = tmp_path / "changes-000000000001.qlog"
    writer = ChangeLogWriter.create(path)
    writer.append(b"published")
    committed = writer.sync()
    writer.append(b"not yet published")
    writer.close()
    scan, _ = read_change_log(path, length=committed.size)
    assert [bytes(payload) for payload in scan.payloads] == [b"published"]


def test_reading_on_from_a_committed_offset_sees_only_the_new_records(tmp_path: Path) -> None:
    path = tmp_path / "changes-000000000001.qlog"
    writer = ChangeLogWriter.create(path)
    writer.append(b"a")
    first = writer.sync()
    writer.append(b"b")
    writer.append(b"c")
    second = writer.sync()
    writer.close()
    head, head_crc = read_change_log(path, length=first.size)
    tail, chained = read_change_log(path, start=first.size, length=second.size, prefix_crc=head_crc)
    assert [bytes(p) for p in tail.payloads] == [b"b", b"c"]
    assert crc32_hex(chained) == second.checksum
    assert [bytes(p) for p in head.payloads] == [b"a"]


def test_reopening_cuts_off_an_unpublished_tail_and_keeps_appending(tmp_path: Path) -> None:
    path = tmp_path / "changes-000000000001.qlog"
    writer = ChangeLogWriter.create(path)
    writer.append(b"kept")
    committed = writer.sync()
    writer.append(b"from a writer that crashed before publishing")
    writer.close()
    again = ChangeLogWriter.reopen(path, committed)
    again.append(b"next")
    entry = again.sync()
    again.close()
    scan, _ = read_change_log(path, length=entry.size)
    assert [bytes(p) for p in scan.payloads] == [b"kept", b"next"]
    assert path.stat().st_size == entry.size


def test_damage_inside_the_committed_part_is_corruption(tmp_path: Path) -> None:
    path = tmp_path / "changes-000000000001.qlog"
    entry = _write(path, [b"alpha", b"beta"])
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x20
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksum"):
        read_change_log(path, length=entry.size)
    with pytest.raises(IndexCorruptError):
        ChangeLogWriter.reopen(path, entry)
    path.write_bytes(bytes(data[: entry.size - 3]))
    with pytest.raises(IndexCorruptError, match="shorter"):
        read_change_log(path, length=entry.size)


def test_a_file_that_is_not_a_change_log_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "changes-000000000001.qlog"
    path.write_bytes(b"\0" * 64)
    with pytest.raises(IndexCorruptError, match="header"):
        read_change_log(path)


@settings(max_examples=40, deadline=None)
@given(records=records_strategy, cut=st.integers(min_value=0, max_value=2000))
def test_a_log_cut_anywhere_reads_back_as_a_prefix_of_its_records(
    tmp_path_factory: pytest.TempPathFactory, records: list[bytes], cut: int
) -> None:
    path = tmp_path_factory.mktemp("log") / "changes-000000000001.qlog"
    entry = _write(path, records)
    cut_at = LOG_HEADER_SIZE + cut % (entry.size - LOG_HEADER_SIZE + 1)
    path.write_bytes(path.read_bytes()[:cut_at])
    scan, _ = read_change_log(path)
    found = [bytes(p) for p in scan.payloads]
    assert found == records[: len(found)]
    assert scan.torn == (cut_at != scan.end)
    assert scan.end <= cut_at
