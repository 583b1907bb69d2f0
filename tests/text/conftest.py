"""Fixtures for the text-index tests: real Tantivy in tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from quiver.text.index import DocumentIndex


@pytest.fixture
def open_index(tmp_path: Path) -> Iterator[Callable[..., DocumentIndex]]:
    """Opens indexes under tmp_path and closes them all at the end of the test."""
    opened: list[DocumentIndex] = []

    def opener(name: str = "text", *, writable: bool = True) -> DocumentIndex:
        index = DocumentIndex.open(tmp_path / name, writable=writable)
        opened.append(index)
        return index

    yield opener
    for index in reversed(opened):
        index.close()
