"""A disk that refuses writes for a while (full, over quota): every refused write is a
clear ``IndexWriteError``, and once there is room again the same engine writes again:
no restart, no ``AssertionError``, nothing of the last published index lost.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.errors import IndexWriteError
from quiver.ivf.index import IVFIndex
from quiver.text.index import DocumentIndex

DATA = Path(__file__).resolve().parents[1] / "data"
WORKER = Path(__file__).with_name("refusing_worker.py")
NEW_FUNCTION = "\n\ndef written_once_there_is_room():\n    return 1\n"


class FullDisk:
    """Makes the vector index's commits fail with ENOSPC while ``full``; with ``reopen``
    also every writable open of the text index (a disk too full to re-open on)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        self.reopen = False
        commit = IVFIndex.commit
        open_text = DocumentIndex.open.__func__  # type: ignore[attr-defined]

        def refusing_commit(index: IVFIndex) -> None:
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device")
            commit(index)

        def refusing_open(cls: type[DocumentIndex], directory: Path, **kwargs: object) -> object:
            if self.full and self.reopen and kwargs.get("writable", True):
                raise OSError(errno.ENOSPC, "No space left on device")
            return open_text(cls, directory, **kwargs)

        monkeypatch.setattr(IVFIndex, "commit", refusing_commit)
        monkeypatch.setattr(DocumentIndex, "open", classmethod(refusing_open))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[VectorSearchEngine]:
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    embedder = HashingEmbedder(dim=32)
    engine = VectorSearchEngine(
        root,
        embedder_factory=lambda: embedder,
        cache_dir=tmp_path / "cache",
        options=EngineOptions(parse_workers=1),
    )
    engine.index_tree()
    yield engine
    engine.close()


def found(engine: VectorSearchEngine, name: str) -> bool:
    return any(r.name == name for r in engine.workspace_symbols(name, limit=5, meaning=False))


@pytest.mark.parametrize("reopen_fails", [False, True])
def test_writes_refused_for_a_while_then_work_again_in_the_same_engine(
    engine: VectorSearchEngine, monkeypatch: pytest.MonkeyPatch, reopen_fails: bool
) -> None:
    disk = FullDisk(monkeypatch)
    path = engine.root / "net" / "http_client.py"
    text = path.read_text() + NEW_FUNCTION
    symbols = engine.status().symbols
    disk.full, disk.reopen = True, reopen_fails
    for attempt in range(2):
        with pytest.raises(IndexWriteError) as refused:
            engine.update_file(path, text)
        assert "the disk is full" in refused.value.message, attempt
        assert "\nSuggestion: Free some disk space" in str(refused.value)
    path.write_text(text)  # saved: the next walk finds it changed
    with pytest.raises(IndexWriteError):
        engine.index_tree()
    assert found(engine, "send_with_retries")  # the last published index still answers
    disk.full = False
    engine.index_tree()  # nothing lost for good: the change is taken in now
    assert found(engine, "written_once_there_is_room")
    assert engine.status().symbols == symbols + 1
    assert engine.status().state == "ready"
    assert engine.consistency_problems() == []
    response = engine.search(SearchQuery("written once there is room", mode="hybrid", limit=3))
    assert response.results[0].name == "written_once_there_is_room"


def test_a_refused_reopen_never_discards_the_index(
    engine: VectorSearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = FullDisk(monkeypatch)
    path = engine.root / "net" / "http_client.py"
    files = engine.status().files
    disk.full = disk.reopen = True
    with pytest.raises(IndexWriteError):
        engine.update_file(path, path.read_text() + NEW_FUNCTION)
    # The parts are closed now: the model's check must not take the missing vectors for
    # another model's and empty the index.
    with pytest.raises(IndexWriteError):
        engine.update_file(path, path.read_text() + NEW_FUNCTION)
    disk.full = False
    report = engine.index_tree()
    assert report.symbols_embedded == 0  # nothing re-embedded: the index was kept
    assert engine.status().files == files
    assert engine.consistency_problems() == []


def test_a_real_refusal_by_the_disk_is_recovered_in_the_same_process(tmp_path: Path) -> None:
    """The file size limit fails real writes (Tantivy's writer dies mid-commit and holds
    its lock until its handle is gone); no mount or root needed."""
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    run = subprocess.run(
        [sys.executable, str(WORKER), str(root), str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    lines = run.stdout.splitlines()
    if run.returncode != 0 and f"updating the index in {tmp_path / 'cache' / 'vectors'}" in (
        run.stderr
    ):
        # Known, outside the engine: when the vector index's commit is the write that
        # fails, IndexFiles.close raises (its change log's flush fails) before releasing
        # the vector directory's lock, so nothing in this process can take it again.
        pytest.xfail("quiver.ivf.persist.IndexFiles.close keeps its lock when it raises")
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines[0].startswith("indexed ")
    assert [line.split(" ", 1)[0] for line in lines[1:3]] == ["refused", "refused"], lines
    assert "Suggestion: Free some disk space" in lines[1]
    assert lines[3:] == ["updated 1", "reindexed", "consistent"], run.stderr
