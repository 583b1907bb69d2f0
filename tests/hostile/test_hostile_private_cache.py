"""The cache holds code bodies: nobody but its owner may read it (issue 18 §13).

Under the common umask 022, directories would come out 0755 and files 0644, so every
user of a shared machine could read the indexed code. Everything Quiver creates
under the cache root is 0700 (directories) or 0600 (files), whatever the umask.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.cache_paths import cache_dir_for
from quiver.embed.cache import EmbeddingCache
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.store import AtomicFileWriter, WriterLock, atomic_write_bytes
from quiver.store.changelog import ChangeLogWriter
from quiver.text import DocumentIndex

DATA = Path(__file__).parent.parent / "data"
OTHERS = stat.S_IRWXG | stat.S_IRWXO


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    """What most systems give a user: new files 0644, new directories 0755."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _open_to_others(top: Path, *, tantivy_dir: Path | None = None) -> list[str]:
    """Every path under ``top`` (and ``top``) whose mode lets group or others in.

    Tantivy creates its own files with the process umask; what keeps them private is
    their directory (0700, checked like every directory), so they are not listed.
    """
    found: list[str] = []
    for path in [top, *top.rglob("*")]:
        mode = path.lstat().st_mode
        if tantivy_dir is not None and path.parent == tantivy_dir and stat.S_ISREG(mode):
            continue
        if mode & OTHERS:
            found.append(f"{path.relative_to(top.parent)} {stat.filemode(mode)}")
    return found


def _index_polyglot(root: Path) -> None:
    with VectorSearchEngine(
        root,
        embedder_factory=lambda: HashingEmbedder(dim=64),
        options=EngineOptions(parse_workers=1),
    ) as engine:
        engine.index_tree()
        changed = root / "net" / "http_client.py"
        changed.write_text(changed.read_text() + "\n\ndef added_later():\n    return 2\n")
        engine.update_file(changed)  # the incremental path: change logs, not rebuilt files
        engine.flush()


def test_after_indexing_nothing_under_the_cache_root_is_open_to_others(
    tmp_path: Path, polyglot_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_root = tmp_path / "fresh" / "quiver-cache"
    monkeypatch.setenv("QUIVER_CACHE_DIR", str(cache_root))
    _index_polyglot(polyglot_tree)
    workspace_cache = cache_dir_for(polyglot_tree.resolve())
    assert (workspace_cache / "catalog").is_dir() and (workspace_cache / "vectors").is_dir()
    assert _open_to_others(cache_root, tantivy_dir=workspace_cache / "text") == []


def test_a_cache_written_by_an_older_version_is_made_private_when_reopened(
    tmp_path: Path, polyglot_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_root = tmp_path / "quiver-cache"
    monkeypatch.setenv("QUIVER_CACHE_DIR", str(cache_root))
    _index_polyglot(polyglot_tree)
    workspace_cache = cache_dir_for(polyglot_tree.resolve())
    for path in [workspace_cache, *workspace_cache.rglob("*")]:  # as a 0.x release left it
        path.chmod(0o755 if path.is_dir() else 0o644)
    _index_polyglot(polyglot_tree)
    # the directories are what keep the older files (and Tantivy's) from other users
    directories = [p for p in [workspace_cache, *workspace_cache.rglob("*")] if p.is_dir()]
    assert [str(p) for p in directories if p.stat().st_mode & OTHERS] == []


def test_an_existing_cache_root_chosen_by_the_user_keeps_its_mode(
    tmp_path: Path, polyglot_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_root = tmp_path / "shared"
    cache_root.mkdir(mode=0o755)
    monkeypatch.setenv("QUIVER_CACHE_DIR", str(cache_root))
    _index_polyglot(polyglot_tree)
    assert stat.S_IMODE(cache_root.stat().st_mode) == 0o755
    workspace_cache = cache_dir_for(polyglot_tree.resolve())
    assert stat.S_IMODE(workspace_cache.stat().st_mode) == 0o700


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_store_files_are_0600_in_0700_directories(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    directory.mkdir()  # 0755 under this umask: the store's writers tighten it
    atomic_write_bytes(directory / "manifest.json", b"{}")
    assert _mode(directory / "manifest.json") == 0o600
    assert _mode(directory) == 0o700
    # a temporary file a crashed writer of this pid left 0644 is not published as such
    stale = directory / f".array.bin.{os.getpid()}.tmp"
    stale.write_bytes(b"old")
    stale.chmod(0o644)
    with AtomicFileWriter(directory / "array.bin") as writer:
        writer.write(b"new")
        writer.commit()
    assert _mode(directory / "array.bin") == 0o600
    log = ChangeLogWriter.create(directory / "changes.log")
    log.close()
    assert _mode(directory / "changes.log") == 0o600


def test_the_writer_lock_makes_its_directory_and_file_private(tmp_path: Path) -> None:
    directory = tmp_path / "index"
    directory.mkdir()
    lock = WriterLock(directory)
    assert lock.try_acquire()
    try:
        assert _mode(directory) == 0o700
        assert _mode(lock.path) == 0o600
    finally:
        lock.release()


def test_the_embedding_cache_is_private(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "embeddings" / "deeper", model_id="m", dim=4) as cache:
        assert _mode(tmp_path / "embeddings") == 0o700
        assert _mode(cache.path.parent) == 0o700
        assert _mode(cache.path) == 0o600


def test_the_text_index_directory_is_private(tmp_path: Path) -> None:
    index = DocumentIndex.open(tmp_path / "text")
    try:
        assert _mode(tmp_path / "text") == 0o700
        assert [p.name for p in (tmp_path / "text").iterdir() if p.name.startswith("quiver")]
        assert all(
            _mode(p) == 0o600 for p in (tmp_path / "text").iterdir() if p.name.startswith("quiver")
        )
    finally:
        index.close()
