"""Hostile workspaces: folders that are not there, caches that cannot be written.

The session reports what is wrong (a message with a ``Suggestion:`` and the
folder's part of the status), skips that folder, and the others keep
answering at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from session_helpers import (
    GatedEmbedder,
    RecordingListener,
    copy_polyglot,
    names,
    start_session,
    wait_until,
)

from quiver.cache_paths import cache_dir_for
from quiver.workspace.session import WorkspaceSession


def test_a_folder_whose_cache_directory_is_a_file_is_reported_and_skipped(
    tmp_path: Path,
) -> None:
    good = copy_polyglot(tmp_path, "good")
    blocked = copy_polyglot(tmp_path, "blocked")
    cache = cache_dir_for(blocked, tmp_path / "cache")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("a file where the index directory should be")
    listener = RecordingListener()
    session = start_session([good, blocked], tmp_path / "cache", listener, watch=False)
    try:
        wait_until(lambda: session.status().state == "error", "the error state")
        # The good folder is indexed and answers.
        wait_until(lambda: names(session, "LoadSettings") == ["LoadSettings"], "the good folder")
        reported = listener.said(str(cache), "Suggestion:")
        assert reported and reported[0][0] == "error"
        status = session.status()
        assert "blocked" in status.message and "Suggestion:" in status.message
        assert status.files == 4
    finally:
        session.close()


def answers_at_once(session: WorkspaceSession, query: str, expected: str) -> float:
    """How long a name query took; it must find ``expected``."""
    started = time.monotonic()
    found = names(session, query)
    elapsed = time.monotonic() - started
    assert expected in found
    return elapsed


@pytest.mark.parametrize("kind", ["missing", "a file", "vanished"])
def test_an_added_folder_that_is_not_a_folder_is_reported_and_skipped(
    tmp_path: Path, kind: str
) -> None:
    good = copy_polyglot(tmp_path, "good")
    bad = tmp_path / "bad"
    if kind == "a file":
        bad.write_text("print('not a folder')\n")
    elif kind == "vanished":
        bad.mkdir()
    listener = RecordingListener()
    session = start_session([good], tmp_path / "cache", listener)
    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        if kind == "vanished":
            bad.rmdir()  # between the client's look and its notification
        session.add_folder(bad)
        wait_until(lambda: session.status().state == "error", "the error state")
        assert answers_at_once(session, "LoadSettings", "LoadSettings") < 1.0
        reported = listener.said(str(bad.resolve()), "Suggestion:")
        assert len(reported) == 1 and reported[0][0] == "error"
        status = session.status()
        assert "bad" in status.message and "Suggestion:" in status.message
        assert status.files == 4
        # Nothing was made for it: no index directory for a folder that is not there.
        assert not cache_dir_for(bad.resolve(), tmp_path / "cache").exists()
    finally:
        session.close()


def test_queries_never_wait_for_a_folder_added_while_the_writer_is_busy(
    tmp_path: Path,
) -> None:
    good = copy_polyglot(tmp_path, "good")
    other = copy_polyglot(tmp_path, "other")
    embedder = GatedEmbedder(dim=32)
    listener = RecordingListener()
    session = start_session([good], tmp_path / "cache", listener, embedder=embedder)
    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        embedder.gate.clear()  # the next embedding keeps the writer busy
        path = good / "net" / "http_client.py"
        session.document_changed(
            path, path.read_text() + "\ndef keeps_the_model_busy():\n    pass\n"
        )
        wait_until(lambda: embedder.waiting, "the busy writer")
        session.add_folder(other)
        assert answers_at_once(session, "LoadSettings", "LoadSettings") < 1.0
        assert session.status().state != "error"
        embedder.gate.set()
        wait_until(lambda: session.status().state == "ready", "the added folder's indexing")
        assert session.status().files == 8
    finally:
        embedder.gate.set()
        session.close()


def test_a_folder_that_vanishes_is_reported_and_comes_back_with_a_reindex(
    tmp_path: Path,
) -> None:
    good = copy_polyglot(tmp_path, "good")
    fleeting = copy_polyglot(tmp_path, "fleeting")
    listener = RecordingListener()
    session = start_session([good, fleeting], tmp_path / "cache", listener, watch=False)
    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        assert session.status().files == 8
        moved = tmp_path / "elsewhere"
        fleeting.rename(moved)  # an unmounted disk, a folder moved away
        session.file_deleted(fleeting)
        wait_until(lambda: session.status().state == "error", "the error state")
        assert answers_at_once(session, "LoadSettings", "LoadSettings") < 1.0
        assert listener.said(str(fleeting), "Suggestion:")
        assert "fleeting" in session.status().message
        moved.rename(fleeting)  # back again: a reindex takes it in without re-embedding
        assert session.reindex()
        wait_until(lambda: session.status().state == "ready", "the folder back")
        assert session.status().files == 8
    finally:
        session.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_folder_is_reported_and_skipped(tmp_path: Path) -> None:
    good = copy_polyglot(tmp_path, "good")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    listener = RecordingListener()
    session = start_session([good], tmp_path / "cache", listener)
    try:
        wait_until(lambda: session.status().state == "ready", "the first indexing")
        session.add_folder(locked)
        wait_until(lambda: session.status().state == "error", "the error state")
        assert listener.said(str(locked), "Suggestion:")
        assert answers_at_once(session, "LoadSettings", "LoadSettings") < 1.0
    finally:
        locked.chmod(0o755)
        session.close()
