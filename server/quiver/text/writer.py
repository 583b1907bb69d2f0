"""The one writer of a text index directory: queue, refresh, commit, roll back, rewrite clusters.

``TextWriter`` owns Tantivy's ``IndexWriter`` (and so the directory's writer
lock, released when it is dropped by ``close``) and feeds every write it
queues into Tantivy to the handle's :class:`~quiver.text.state.TextIndexState`
as well, in the same order, so a refresh replays exactly what a commit would
publish. One re-entrant lock serialises every use of Tantivy's writer with
refreshes and commits (re-entrant: a refresh may commit, a cluster rewrite
refreshes first); reads never take it.

A write Tantivy refuses (its indexing thread died, the disk is full or
read-only) raises :class:`quiver.errors.IndexWriteError`; the last commit stays
intact. Commit order matters to the engine: a file counts as indexed only once
the commit holding it returned (see :mod:`quiver.text.index`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import tantivy

from quiver.ids import ClusterId, SymbolId
from quiver.text import schema as fields
from quiver.text.delta import Write
from quiver.text.lookup import ID_BATCH, id_set_query, stored_batch
from quiver.text.persist import load_latest, meta_signature, read_failed, write_failed
from quiver.text.state import TextIndexState

if TYPE_CHECKING:
    from quiver.text.index import TextDocument


class TextWriter:
    """Writes to one open index, in order, under one lock (see the module docstring)."""

    def __init__(
        self,
        directory: Path,
        index: tantivy.Index,
        writer: tantivy.IndexWriter,
        state: TextIndexState,
    ) -> None:
        self._directory = directory
        self._index = index
        self._schema = index.schema
        self._writer: tantivy.IndexWriter | None = writer
        self._state = state
        # Held by every use of Tantivy's writer, and by refresh/commit, so
        # writes keep their order. Re-entrant: refresh may commit.
        self._lock = threading.RLock()

    def add(self, documents: Iterable[TextDocument]) -> None:
        """Queue ``documents`` (see ``DocumentIndex.add``); ValueError for an id out of range."""
        chunk: list[tantivy.Document] = []
        with self._lock:
            writer = self._require_open()
            try:
                for document in documents:
                    built = fields.to_document(
                        document.symbol_id, document.cluster_id, document.symbol
                    )
                    try:
                        writer.add_document(built)
                    except ValueError as error:  # its indexing thread died: a failed write
                        raise write_failed(self._directory, error) from error
                    chunk.append(built)
                    if len(chunk) >= ID_BATCH:
                        self._state.record(Write(documents=tuple(chunk)))
                        chunk = []
            finally:
                if chunk:
                    self._state.record(Write(documents=tuple(chunk)))

    def delete(self, field: str, values: Sequence[str] | Sequence[int], write: Write) -> None:
        """Queue the deletion of the documents whose ``field`` is one of ``values``.

        ``write`` is the same deletion as the delta replays it. Costs one
        term-set query per :data:`~quiver.text.lookup.ID_BATCH` values.
        """
        with self._lock:
            writer = self._require_open()
            for start in range(0, len(values), ID_BATCH):
                # A term-set query, even for one value: delete_documents_by_term
                # silently matches nothing on an unsigned field (tantivy-py 0.27).
                batch = list(values[start : start + ID_BATCH])
                query = tantivy.Query.term_set_query(self._schema, field, batch)
                try:
                    writer.delete_documents_by_query(query)
                except ValueError as error:  # its indexing thread died: a failed write
                    raise write_failed(self._directory, error) from error
            self._state.record(write)

    def refresh(self) -> None:
        """Make the queued writes searchable here (see ``DocumentIndex.refresh``)."""
        with self._lock:
            self._require_open()
            if self._state.overflowed:
                self._commit_locked()
                return
            self._state.refresh()

    def commit(self) -> None:
        """Publish the queued writes durably (see ``DocumentIndex.commit``)."""
        with self._lock:
            self._require_open()
            self._commit_locked()

    def rollback(self) -> None:
        """Drop every write since the last commit, refreshed or not."""
        with self._lock:
            writer = self._require_open()
            writer.rollback()
            self._state.reset(self._state.snapshot.committed)

    def reassign_clusters(self, mapping: Mapping[SymbolId, ClusterId]) -> int:
        """Rewrite these symbols' documents with new cluster ids (see ``DocumentIndex``)."""
        rewritten = 0
        ids = list(dict.fromkeys(mapping))
        with self._lock:
            writer = self._require_open()
            self.refresh()  # so the stored symbols read below include every write
            snapshot = self._state.snapshot
            for start in range(0, len(ids), ID_BATCH):
                try:
                    found = stored_batch(snapshot, self._schema, ids[start : start + ID_BATCH])
                except ValueError as error:
                    raise read_failed(self._directory, error) from error
                if not found:
                    continue
                writer.delete_documents_by_query(id_set_query(self._schema, list(found)))
                for symbol_id, symbol in found.items():
                    writer.add_document(fields.to_document(symbol_id, mapping[symbol_id], symbol))
                rewritten += len(found)
            if rewritten:
                self._state.mark_pending()
        return rewritten

    def close(self) -> None:
        """Drop Tantivy's writer, which releases the directory's writer lock; idempotent."""
        with self._lock:
            self._writer = None

    def _commit_locked(self) -> None:
        writer = self._writer
        assert writer is not None
        if not self._state.has_pending:
            return
        try:
            writer.commit()
        except ValueError as error:
            raise write_failed(self._directory, error) from error
        self._state.signature = meta_signature(self._directory)
        self._state.reset(load_latest(self._index, self._directory))

    def _require_open(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError(f"the text index in {self._directory} is closed")
        return self._writer
