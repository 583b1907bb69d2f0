"""Small views of extracted symbols shared by the parse tests."""

from __future__ import annotations

from quiver.symbols import Symbol


def by_name(symbols: list[Symbol], qualified_name: str) -> Symbol:
    """The one symbol with this qualified name."""
    matches = [s for s in symbols if s.qualified_name == qualified_name]
    assert len(matches) == 1, f"{qualified_name}: {len(matches)} matches"
    return matches[0]


def span(symbol: Symbol) -> tuple[int, int, int, int]:
    """The symbol's range as (start line, start column, end line, end column)."""
    r = symbol.range
    return (r.start.line, r.start.character, r.end.line, r.end.character)


def name_span(symbol: Symbol) -> tuple[int, int, int, int]:
    """The selection range as (start line, start column, end line, end column)."""
    r = symbol.selection_range
    return (r.start.line, r.start.character, r.end.line, r.end.character)
