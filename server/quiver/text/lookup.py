"""Reading one snapshot's documents by id: stored symbols, every live id, the live count.

A snapshot (:class:`quiver.text.delta.Snapshot`) is read as two sources, the
delta's searcher (the newest version of a symbol, while refreshed writes wait
for a commit) and the committed one, whose documents that newer writes replaced
are hidden. ``stored_symbols`` reads the document store (a decompressed 16 KB
block per neighbourhood); ids and counts come from the ``symbol_id`` fast field
and the segments' document counts.

Tantivy's failures surface as ``ValueError``; the caller turns them into
:class:`quiver.errors.IndexCorruptError` (``persist.read_failed``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

import tantivy

from quiver.ids import SymbolId
from quiver.symbols import Symbol
from quiver.text import schema as fields
from quiver.text.delta import Snapshot

#: Ids per term-set query when reading or rewriting many documents.
ID_BATCH: Final = 1024


def stored_symbols(
    snapshot: Snapshot, schema: tantivy.Schema, ids: Sequence[SymbolId]
) -> dict[SymbolId, Symbol]:
    """The stored symbols of ``ids`` (missing ids are absent), the newest version of each.

    Costs one term-set query per :data:`ID_BATCH` ids and one document-store
    read per symbol.
    """
    found: dict[SymbolId, Symbol] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), ID_BATCH):
        found.update(stored_batch(snapshot, schema, unique[start : start + ID_BATCH]))
    return found


def stored_batch(
    snapshot: Snapshot, schema: tantivy.Schema, ids: Sequence[SymbolId]
) -> dict[SymbolId, Symbol]:
    """The stored symbols of at most :data:`ID_BATCH` distinct ``ids`` (one term-set query)."""
    wanted = id_set_query(schema, ids)
    # The delta holds the newest version of a symbol; ask it first.
    sources: list[tuple[tantivy.Searcher, frozenset[int]]] = []
    if snapshot.delta is not None:
        sources.append((snapshot.delta, frozenset()))
    sources.append((snapshot.committed, snapshot.hidden_ids))
    found: dict[SymbolId, Symbol] = {}
    for searcher, hidden in sources:
        result = searcher.search(wanted, len(ids), count=False)
        addresses = [address for _, address in result.hits]
        id_values = searcher.fast_field_values(fields.SYMBOL_ID, addresses)
        for address, value in zip(addresses, id_values, strict=True):
            if value is None or value in hidden:
                continue
            symbol_id = SymbolId(int(value))
            if symbol_id in found:
                continue
            data = searcher.doc(address).get_first(fields.STORED_SYMBOL)
            if isinstance(data, bytes):
                found[symbol_id] = fields.decode_symbol(data)
    return found


def id_set_query(schema: tantivy.Schema, ids: Sequence[SymbolId]) -> tantivy.Query:
    """A query matching the documents of ``ids`` (a term set on ``symbol_id``)."""
    return tantivy.Query.term_set_query(
        schema, fields.SYMBOL_ID, sorted({int(symbol_id) for symbol_id in ids})
    )


def live_symbol_ids(snapshot: Snapshot) -> Iterator[SymbolId]:
    """Every searchable symbol id of ``snapshot``: committed ones not hidden, then the delta's.

    Costs one match-all search per source and one fast-field read per document.
    """
    sources = [(snapshot.committed, snapshot.hidden_ids)]
    if snapshot.delta is not None:
        sources.append((snapshot.delta, frozenset()))
    for searcher, hidden in sources:
        total = int(searcher.num_docs)
        if total == 0:
            continue
        result = searcher.search(tantivy.Query.all_query(), total, count=False)
        addresses = [address for _, address in result.hits]
        for symbol_id in searcher.fast_field_values(fields.SYMBOL_ID, addresses):
            if symbol_id is not None and symbol_id not in hidden:
                yield SymbolId(int(symbol_id))


def live_count(snapshot: Snapshot) -> int:
    """How many symbols ``snapshot`` can return (hidden ones excluded); costs no search."""
    total = int(snapshot.committed.num_docs) - len(snapshot.hidden_ids)
    if snapshot.delta is not None:
        total += int(snapshot.delta.num_docs)
    return total
