"""Helpers for the parse tests: extract from a snippet and view the result compactly."""

from __future__ import annotations

from collections.abc import Callable
from textwrap import dedent

import pytest

from quiver.parse import extract_symbols, language_for_path
from quiver.symbols import Symbol

Extract = Callable[..., list[Symbol]]
Outline = Callable[..., list[tuple[str, str]]]


def _extract(source: str, path: str, language: str | None = None) -> list[Symbol]:
    found = language or language_for_path(path)
    assert found is not None, f"no language for {path}"
    return extract_symbols(dedent(source).lstrip("\n").encode("utf-8"), path, found)


@pytest.fixture
def extract() -> Extract:
    """``extract(source, path)``: the symbols of a dedented snippet."""
    return _extract


@pytest.fixture
def outline() -> Outline:
    """``outline(source, path)``: ``[(kind label, qualified name), ...]`` in source order."""

    def _outline(source: str, path: str, language: str | None = None) -> list[tuple[str, str]]:
        return [(s.kind.label, s.qualified_name) for s in _extract(source, path, language)]

    return _outline
