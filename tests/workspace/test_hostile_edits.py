"""Hostile edits: a disk that fills up for a while, buffers over the size limit, a large
file whose thousands of new symbols must not hold up everybody else's edits."""

from __future__ import annotations

import errno
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from session_helpers import (
    GatedEmbedder,
    RecordingListener,
    copy_polyglot,
    definitions,
    names,
    start_session,
    wait_until,
)

from quiver.ivf.index import IVFIndex
from quiver.workspace.large_files import STAGE_CHUNK, changed_span


class FullDisk:
    """The vector index's commits fail with ENOSPC while ``full`` (the first write of
    every commit: nothing of it reaches the disk)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        self.refusals = 0
        commit = IVFIndex.commit

        def refusing_commit(index: IVFIndex, **kwargs: bool) -> int:
            if self.full:
                self.refusals += 1
                raise OSError(errno.ENOSPC, "No space left on device")
            return commit(index, **kwargs)

        monkeypatch.setattr(IVFIndex, "commit", refusing_commit)


def test_a_full_disk_is_reported_and_edits_are_indexed_once_there_is_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_polyglot(tmp_path)
    disk = FullDisk(monkeypatch)
    listener = RecordingListener()
    session = start_session([root], tmp_path / "cache", listener, watch=False)
    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        disk.full = True
        path = root / "net" / "http_client.py"
        original = path.read_text()
        session.document_changed(path, original + "\ndef typed_on_a_full_disk():\n    pass\n")
        wait_until(lambda: session.status().state == "error", "the refused write")
        status = session.status()
        assert "the disk is full" in status.message and "Suggestion:" in status.message
        more = "\ndef typed_later_on_a_full_disk():\n    pass\n"
        session.document_changed(path, original + more)  # retried, not reported again
        wait_until(lambda: disk.refusals >= 2, "a retry")
        assert len(listener.said("the disk is full", "Suggestion:")) == 1
        assert names(session, "send_with_retries") == ["send_with_retries"]  # still answers
        disk.full = False
        wait_until(
            lambda: (
                session.status().state == "ready"
                and names(session, "typed_later_on_a_full_disk") == ["typed_later_on_a_full_disk"]
            ),
            "the edits once there is room",
        )
        assert listener.said("saved again")
        assert session.reindex()  # and the index is writable as ever
        wait_until(lambda: session.status().state == "ready", "the reindex")
        # No background job failed (an AssertionError, say) on the way.
        assert not [
            m for _, m in listener.messages if m.startswith("Quiver: ") and " failed: " in m
        ]
    finally:
        session.close()


def test_a_buffer_over_the_size_limit_is_not_indexed_and_reported_once(tmp_path: Path) -> None:
    root = copy_polyglot(tmp_path)
    listener = RecordingListener()
    session = start_session([root], tmp_path / "cache", listener, max_file_size=20_000)
    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        path = root / "net" / "http_client.py"
        huge = path.read_text() + definitions(1_000, "pasted_function")  # ~45 KB
        session.document_opened(path, huge)
        session.document_changed(path, huge + "\n# more\n")
        session.document_changed(path, huge + "\n# and more\n")
        wait_until(lambda: bool(listener.said("maxFileSize")), "the report")
        time.sleep(0.5)  # every change applied (or left out) by now
        assert names(session, "pasted_function_999") == []
        assert names(session, "send_with_retries") == ["send_with_retries"]  # the disk's
        reported = listener.said(str(path), "maxFileSize", "Suggestion:")
        assert len(reported) == 1 and reported[0][0] == "warning"
        session.document_changed(
            path, path.read_text() + "\ndef back_under_the_limit():\n    pass\n"
        )
        wait_until(lambda: names(session, "back_under_the_limit") != [], "a smaller buffer")
    finally:
        session.close()


def test_a_large_update_never_holds_up_the_edits_of_other_files(tmp_path: Path) -> None:
    root = copy_polyglot(tmp_path)
    embedder = GatedEmbedder(dim=32, per_text_s=0.01)  # 1,000 new symbols: 10 s of model
    listener = RecordingListener()
    session = start_session([root], tmp_path / "cache", listener, embedder=embedder)
    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        large = root / "net" / "http_client.py"
        session.document_changed(large, large.read_text() + definitions(1_000, "bulk_function"))
        wait_until(lambda: bool(embedder.embedded), "the large update to start")
        small = root / "config" / "loader.go"
        started = time.monotonic()
        session.document_changed(
            small, small.read_text() + "\nfunc QuickEdit() int {\n\treturn 1\n}\n"
        )
        wait_until(lambda: names(session, "QuickEdit") == ["QuickEdit"], "the small edit")
        assert time.monotonic() - started < 3.0
        assert names(session, "bulk_function_999") == []  # still being embedded
        wait_until(
            lambda: names(session, "bulk_function_999") == ["bulk_function_999"],
            "the large update",
        )
        # Embedded a chunk per job, each text once.
        assert max(embedder.embedded) <= STAGE_CHUNK
        assert sum(embedder.embedded) < 1_100
    finally:
        session.close()


def naive_span(old: str, new: str) -> int:
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(old), len(new)) - prefix
        and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]
    ):
        suffix += 1
    return len(new) - prefix - suffix


@given(st.text(alphabet="ab\n", max_size=40), st.text(alphabet="ab\n", max_size=40))
def test_the_changed_span_of_an_edit_is_what_lies_outside_the_common_ends(
    old: str, new: str
) -> None:
    assert changed_span(old, new) == naive_span(old, new)
