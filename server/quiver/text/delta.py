"""Writes since the last durable commit, searchable in this process before that commit.

A Tantivy commit on disk fsyncs every new segment file and ``meta.json``:
on the reference machine that is 50–150 ms, too slow to follow every
keystroke-save. :meth:`quiver.text.index.DocumentIndex.refresh` instead
replays the recent writes into a small in-memory Tantivy index (the
*delta*, a few ms) and remembers which committed documents they replace
(*tombstones*: deleted paths and symbol ids, resolved once per refresh to the
ids of the committed documents they hide). A search then asks the committed
index for ``limit`` plus that many hits, drops the hidden ones, asks the
delta, and merges the two lists by score.

Scores of delta documents come from the delta's own BM25 statistics, which
differ from the committed index's (a small collection gives other IDFs), so
their rank among word matches is approximate until the next durable commit;
exact-name bonuses are the same in both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import tantivy

from quiver.text import schema as fields

#: Tantivy's smallest writer budget; the delta holds at most a few thousand documents.
DELTA_WRITER_HEAP_BYTES: Final = 15_000_000


@dataclass(frozen=True, slots=True)
class Write:
    """One queued write, as the delta replays it."""

    documents: tuple[tantivy.Document, ...] = ()
    deleted_paths: tuple[str, ...] = ()
    deleted_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one search reads: a committed searcher, the delta's, and the tombstones.

    Immutable, so a search that took it is unaffected by a refresh or commit
    that happens meanwhile.
    """

    committed: tantivy.Searcher
    delta: tantivy.Searcher | None = None
    #: Symbol ids of the committed documents that newer writes replaced or
    #: deleted. Searches over-fetch by this many and drop them in Python,
    #: which keeps the committed query a plain disjunction Tantivy can prune
    #: (a MustNot clause would make it score every matching document).
    hidden_ids: frozenset[int] = frozenset()


class Delta:
    """The in-memory index of refreshed writes and their tombstones; callers serialise access."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self._schema = schema
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._deleted_paths: set[str] = set()
        self._deleted_ids: set[int] = set()
        self.documents_added = 0

    def apply(self, writes: Iterable[Write]) -> None:
        """Replay writes in order and make them searchable (one in-memory commit, ~5 ms)."""
        writer = self._ensure_writer()
        for write in writes:
            # A delete removes earlier delta documents (Tantivy applies a delete
            # to what was added before it) and hides committed ones.
            if write.deleted_paths:
                paths = sorted(set(write.deleted_paths))
                writer.delete_documents_by_query(
                    tantivy.Query.term_set_query(self._schema, fields.PATH, paths)
                )
                self._deleted_paths.update(paths)
            if write.deleted_ids:
                ids = sorted(set(write.deleted_ids))
                writer.delete_documents_by_query(
                    tantivy.Query.term_set_query(self._schema, fields.SYMBOL_ID, ids)
                )
                self._deleted_ids.update(ids)
            for document in write.documents:
                writer.add_document(document)
            self.documents_added += len(write.documents)
        writer.commit()
        assert self._index is not None
        self._index.reload()

    def snapshot(self, committed: tantivy.Searcher) -> Snapshot:
        """A snapshot pairing ``committed`` with the delta's current state."""
        if self._index is None:
            return Snapshot(committed)
        return Snapshot(committed, self._index.searcher(), self._hidden_ids(committed))

    def _hidden_ids(self, committed: tantivy.Searcher) -> frozenset[int]:
        """Ids of the committed documents the tombstones hide (one term-set search)."""
        query = self._hidden_query()
        total = int(committed.num_docs)
        if query is None or total == 0:
            return frozenset()
        result = committed.search(query, total, count=False)
        addresses = [address for _, address in result.hits]
        values = committed.fast_field_values(fields.SYMBOL_ID, addresses)
        return frozenset(int(value) for value in values if value is not None)

    def _hidden_query(self) -> tantivy.Query | None:
        clauses = []
        if self._deleted_paths:
            paths = sorted(self._deleted_paths)
            clauses.append(tantivy.Query.term_set_query(self._schema, fields.PATH, paths))
        if self._deleted_ids:
            ids = sorted(self._deleted_ids)
            clauses.append(tantivy.Query.term_set_query(self._schema, fields.SYMBOL_ID, ids))
        if not clauses:
            return None
        if len(clauses) == 1:
            return clauses[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, clause) for clause in clauses])

    def _ensure_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._index = tantivy.Index(self._schema)  # no path: in memory
            self._index.config_reader(reload_policy="manual")
            self._writer = self._index.writer(heap_size=DELTA_WRITER_HEAP_BYTES, num_threads=1)
        return self._writer
