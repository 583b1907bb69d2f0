"""Fixtures shared by the whole suite: the real model (loaded once) and fixture trees."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _cache_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test may write the user's real cache: point every default at a temp dir."""
    monkeypatch.setenv("QUIVER_CACHE_DIR", str(tmp_path_factory.mktemp("quiver-cache")))


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The product's default model, loaded once per test session (offline)."""
    from quiver.embed.model import load_default_embedder

    return load_default_embedder()


@pytest.fixture
def polyglot_tree(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of tests/data/polyglot."""
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    yield root
