"""Symbols and documents for the text-index tests (plain helpers, imported by the tests)."""

from __future__ import annotations

from typing import Any

from quiver.ids import ClusterId, SymbolId
from quiver.symbols import Position, Range, Symbol, SymbolKind, content_hash
from quiver.text.index import DocumentIndex, TextDocument


def make_symbol(
    name: str,
    *,
    kind: SymbolKind = SymbolKind.FUNCTION,
    container: str = "",
    path: str = "src/app.py",
    language: str = "python",
    doc: str = "",
    signature: str | None = None,
    body: str = "",
    line: int = 0,
) -> Symbol:
    """A symbol as the parser would produce it."""
    signature = f"def {name}():" if signature is None else signature
    whole = Range(Position(line, 0), Position(line + 3, 0))
    selection = Range(Position(line, 4), Position(line, 4 + len(name)))
    return Symbol(
        name=name,
        kind=kind,
        container=container,
        signature=signature,
        doc=doc,
        range=whole,
        selection_range=selection,
        language=language,
        path=path,
        body=body,
        content_hash=content_hash(name, container, signature, doc, body),
    )


def documents(*symbols: Symbol, first_id: int = 1, cluster: int = 0) -> list[TextDocument]:
    """TextDocuments with consecutive ids from ``first_id``, all in one cluster."""
    return [
        TextDocument(SymbolId(first_id + offset), ClusterId(cluster), symbol)
        for offset, symbol in enumerate(symbols)
    ]


def names(index: DocumentIndex, query: str, **filters: Any) -> list[str]:
    """The names of a search's hits, best first."""
    hits = index.search(query, **filters)
    stored = index.stored([hit.symbol_id for hit in hits])
    return [stored[hit.symbol_id].name for hit in hits]
