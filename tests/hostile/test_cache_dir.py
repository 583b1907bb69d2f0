"""A workspace's cache directory that is not a directory: a clear error, never a traceback.

The engine says what is wrong and what to do (``CacheDirectoryError``); the CLI prints
it and exits 1; the session reports the folder and keeps the others answering.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.cache_paths import cache_dir_for
from quiver.engine import VectorSearchEngine
from quiver.errors import CacheDirectoryError

QUIVER = Path(sys.executable).parent / "quiver"


def blocked_cache(root: Path, cache_root: Path) -> Path:
    """Replace ``root``'s cache directory under ``cache_root`` by a regular file."""
    cache = cache_dir_for(root.resolve(), cache_root)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("not a directory")
    return cache


def test_the_engine_names_a_cache_directory_that_is_a_file(
    polyglot_tree: Path, tmp_path: Path
) -> None:
    cache = blocked_cache(polyglot_tree, tmp_path / "cache")
    embedder = HashingEmbedder(dim=32)
    with pytest.raises(CacheDirectoryError) as raised:
        VectorSearchEngine(
            polyglot_tree,
            embedder_factory=lambda: embedder,
            cache_dir=cache_dir_for(polyglot_tree.resolve(), tmp_path / "cache"),
        )
    assert str(cache) in raised.value.message
    assert "not a directory" in raised.value.message
    assert "\nSuggestion: " in str(raised.value)


def test_a_cache_root_under_a_file_is_named_too(polyglot_tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "cache-root"
    blocker.write_text("a file where the cache root should be")
    embedder = HashingEmbedder(dim=32)
    with pytest.raises(CacheDirectoryError) as raised:
        VectorSearchEngine(
            polyglot_tree,
            embedder_factory=lambda: embedder,
            cache_dir=cache_dir_for(polyglot_tree.resolve(), blocker),
        )
    assert str(blocker) in raised.value.message
    assert "\nSuggestion: " in str(raised.value)


@pytest.mark.parametrize("command", [["index"], ["search", "retry"], ["status"]])
def test_every_command_says_what_is_wrong_without_a_traceback(
    polyglot_tree: Path, tmp_path: Path, command: list[str]
) -> None:
    cache = blocked_cache(polyglot_tree, tmp_path / "cache")
    verb, *rest = command
    run = subprocess.run(
        [str(QUIVER), verb, str(polyglot_tree), *rest, "--cache-dir", str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert str(cache) in run.stderr
    assert "Suggestion: " in run.stderr
