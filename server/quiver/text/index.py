"""The Tantivy index of symbols: add, delete, refresh, commit, search.

One directory holds one index: Tantivy's segment files, its ``meta.json``,
and ``quiver-text.json`` (our format version, checked on every open).

Making writes visible: refresh and commit
-----------------------------------------
``add`` and ``delete_*`` queue writes. Two ways to publish them:

* :meth:`DocumentIndex.refresh` makes them searchable *in this process* in a
  few milliseconds, through an in-memory delta (:mod:`quiver.text.delta`).
  Not durable, not seen by other processes. Use it on every file save.
* :meth:`DocumentIndex.commit` makes them durable and visible to every
  process that reloads. It fsyncs each new segment file and ``meta.json``:
  50–150 ms on the reference machine (see ``benchmarks/README.md``). Run it
  debounced (after a burst of edits, before publishing a new generation of
  the vector store), possibly from a background thread: it releases the GIL,
  searches keep running, and writes wait for it.

Writers and readers
-------------------
At most one :class:`DocumentIndex` opened ``writable=True`` per directory,
in any process: Tantivy's writer holds an OS file lock
(``.tantivy-writer.lock``, ``flock``), so a second writer — in this process
or another — gets :class:`quiver.errors.IndexLockedError` at once. The lock
dies with its process, so a crash leaves no stale lock behind.

Any number of ``writable=False`` instances may be open beside the writer.
A reader keeps the commit it opened (a consistent snapshot) until it calls
:meth:`DocumentIndex.reload` — or :meth:`DocumentIndex.reload_if_changed`,
which costs one ``stat`` of ``meta.json`` when nothing changed.

What the shared cache inherits (issue 7)
----------------------------------------
* Segment files are written once and never modified; a commit fsyncs the new
  segment files, then replaces ``meta.json`` atomically (write a temporary
  file, fsync, rename). A crash at any moment leaves the last commit readable;
  writes after it (refreshed or not) are lost, and are re-added from the
  source files by the engine's normal "what changed" scan — provided the
  engine records a file as indexed only once the commit holding it returned.
* A reader searches through memory maps of the segment files it loaded. On
  POSIX, the writer deleting those files after a merge does not disturb it
  (the mapping keeps the data alive). The writer only knows about readers in
  its own process, so a reader in another process may find that a file named
  by the newest ``meta.json`` has already been merged away; :meth:`reload`
  retries, and if the files stay missing it keeps the snapshot it has.
* There is no generation number shared with the vector store: the engine's
  manifest should be published after this index's commit, and readers reload
  both on a manifest change.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self, cast

import tantivy

from quiver.errors import IndexCorruptError, IndexFormatError, IndexLockedError, IndexWriteError
from quiver.ids import ClusterId, SymbolId
from quiver.private_dirs import make_private_directory, open_private_file, tighten_directory
from quiver.symbols import Symbol, SymbolKind
from quiver.text import schema as fields
from quiver.text.admitted import admitted_ids, cluster_counts
from quiver.text.delta import Delta, Snapshot, Write
from quiver.text.query import Filters, PreparedQuery, QueryBuilder

log = logging.getLogger(__name__)

#: Our own marker file in the index directory.
FORMAT_FILE: Final = "quiver-text.json"
_META_FILE: Final = "meta.json"
# Files Tantivy or we may leave in a directory before its first meta.json.
_FRESH_DIRECTORY_FILES: Final = frozenset(
    {FORMAT_FILE, ".tantivy-writer.lock", ".tantivy-meta.lock", ".managed.json"}
)
#: Writer memory budget. Tantivy's floor is 15 MB per indexing thread; one
#: thread is enough because building documents in Python is the bottleneck.
DEFAULT_WRITER_HEAP_BYTES: Final = 64_000_000
DEFAULT_WRITER_THREADS: Final = 1
#: Most hits one search returns, whatever ``limit`` asks for.
MAX_LIMIT: Final = 10_000
#: Past this many documents written since the last commit, :meth:`DocumentIndex.refresh`
#: commits instead of growing the in-memory delta (bounds its memory; at that
#: size a durable commit costs little more).
MAX_DELTA_DOCUMENTS: Final = 5_000
# Ids per term-set query when reading or rewriting many documents.
_BATCH: Final = 1024


@dataclass(frozen=True, slots=True)
class TextDocument:
    """What the index stores for one symbol."""

    symbol_id: SymbolId
    cluster_id: ClusterId
    symbol: Symbol


@dataclass(frozen=True, slots=True)
class TextHit:
    """One search result: a symbol and its score (higher is better, within one search)."""

    symbol_id: SymbolId
    score: float


class DocumentIndex:
    """A Tantivy index of symbols on disk. Create with :meth:`open`.

    Thread-safe: searches run concurrently with each other and with writes
    (each search reads one immutable snapshot); writes, refreshes and
    commits are serialised by an internal lock.
    """

    def __init__(
        self,
        directory: Path,
        index: tantivy.Index,
        writer: tantivy.IndexWriter | None,
    ) -> None:
        """Use :meth:`open`; this only wires already opened parts together."""
        self._directory = directory
        self._index = index
        self._schema = index.schema
        self._writer = writer
        self._queries = QueryBuilder(self._schema)
        # Held by every use of Tantivy's writer, and by refresh/commit, so
        # writes keep their order. Re-entrant: refresh may commit.
        self._writer_lock = threading.RLock()
        # Guards the bookkeeping below; never held across a disk commit.
        self._state_lock = threading.Lock()
        self._has_pending = False
        self._unrefreshed: list[Write] = []
        self._unrefreshed_documents = 0
        self._delta_overflow = False
        self._delta: Delta | None = None
        self._snapshot = Snapshot(index.searcher())
        self._closed = False
        self._meta_signature = _meta_signature(directory)

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        writable: bool = True,
        writer_heap_bytes: int = DEFAULT_WRITER_HEAP_BYTES,
        writer_threads: int = DEFAULT_WRITER_THREADS,
    ) -> DocumentIndex:
        """Open the index in ``directory``; writable opens create it when absent.

        Costs a few milliseconds: reads ``meta.json`` and maps the segments.
        A writable open takes the writer lock and reserves ``writer_heap_bytes``
        of indexing memory (allocated as documents arrive).

        Raises :class:`IndexLockedError` when another writer holds the
        directory, :class:`IndexFormatError` for an index of another format
        version or schema, and :class:`IndexCorruptError` when the directory
        is not a readable index (or, read-only, when there is no index yet).
        """
        directory = Path(directory)
        meta = directory / _META_FILE
        if not meta.exists():
            if not writable:
                raise IndexCorruptError(
                    f"There is no text index in {directory} (no {_META_FILE}).",
                    "Run `quiver index` on the workspace to build it.",
                )
            _prepare_new_directory(directory)
        else:
            _check_format_file(directory)
            if writable:  # an index an older version left open to others
                tighten_directory(directory)
        try:
            index = tantivy.Index(fields.build_schema(), path=str(directory), reuse=True)
        except ValueError as error:
            raise _open_error(directory, error) from error
        writer = None
        if writable:
            writer = _take_writer(directory, index, writer_heap_bytes, writer_threads)
        # Readers follow commits only when asked (reload), never on a timer:
        # a search then always sees the snapshot the caller expects.
        index.config_reader(reload_policy="manual")
        try:
            index.reload()
            index.searcher()
        except ValueError as error:
            writer = None  # drop it: releases the lock before we raise
            raise _open_error(directory, error) from error
        return cls(directory, index, writer)

    @property
    def directory(self) -> Path:
        """Where the index lives."""
        return self._directory

    @property
    def writable(self) -> bool:
        """Whether this instance holds the writer lock."""
        return self._writer is not None

    # ------------------------------------------------------------------ writes

    def add(self, documents: Iterable[TextDocument]) -> None:
        """Queue documents; they become searchable at :meth:`refresh` or :meth:`commit`.

        Adding a symbol id that is already indexed adds a second document:
        delete the old one first (``delete_symbols`` / ``delete_paths``); a
        delete queued before an add never removes that add. Costs about 70 µs
        per symbol in Python plus Tantivy's indexing (in its own thread).
        Raises ``ValueError`` for an id out of range; the documents before
        it stay queued.
        """
        chunk: list[tantivy.Document] = []
        with self._writer_lock:
            writer = self._require_writer()
            try:
                for document in documents:
                    built = fields.to_document(
                        document.symbol_id, document.cluster_id, document.symbol
                    )
                    try:
                        writer.add_document(built)
                    except ValueError as error:  # its indexing thread died: a failed write
                        raise self._write_error(error) from error
                    chunk.append(built)
                    if len(chunk) >= _BATCH:
                        self._record(Write(documents=tuple(chunk)))
                        chunk = []
            finally:
                if chunk:
                    self._record(Write(documents=tuple(chunk)))

    def delete_paths(self, paths: Iterable[str]) -> None:
        """Queue the deletion of every symbol of these files (exact workspace-relative paths)."""
        unique = sorted({fields.valid_text(path) for path in paths})
        if not unique:
            return
        with self._writer_lock:
            self._delete_terms(fields.PATH, unique)
            self._record(Write(deleted_paths=tuple(unique)))

    def delete_symbols(self, ids: Iterable[SymbolId]) -> None:
        """Queue the deletion of these symbols' documents; unknown ids are ignored."""
        unique = sorted({int(symbol_id) for symbol_id in ids})
        if not unique:
            return
        with self._writer_lock:
            self._delete_terms(fields.SYMBOL_ID, unique)
            self._record(Write(deleted_ids=tuple(unique)))

    def refresh(self) -> None:
        """Make the queued writes searchable in this process now, without durability.

        Costs one in-memory Tantivy commit (a few ms for one file's symbols).
        Other processes do not see the writes until :meth:`commit`. When more
        than :data:`MAX_DELTA_DOCUMENTS` documents were written since the last
        commit, this commits instead.
        """
        with self._writer_lock:
            self._require_writer()
            if self._delta_overflow:
                self._commit_locked()
                return
            with self._state_lock:
                if not self._unrefreshed:
                    return
                delta = self._delta if self._delta is not None else Delta(self._schema)
                delta.apply(self._unrefreshed)
                self._delta = delta
                self._unrefreshed = []
                self._unrefreshed_documents = 0
                self._snapshot = delta.snapshot(self._snapshot.committed)

    def commit(self) -> None:
        """Publish everything queued since the last commit, durably, and make it searchable here.

        Costs one new small segment, fsyncs and an atomic rename of
        ``meta.json`` (50–150 ms here, fsync-bound; see ``benchmarks/text.py``).
        Tantivy merges small segments in background threads. Releases the
        GIL while it writes. Does nothing when nothing is queued.
        Raises :class:`IndexWriteError` when the disk refuses the write
        (full, read-only); the last commit stays intact and the writes stay queued.
        """
        with self._writer_lock:
            self._require_writer()
            self._commit_locked()

    def rollback(self) -> None:
        """Drop everything queued (refreshed or not) since the last commit."""
        with self._writer_lock:
            writer = self._require_writer()
            writer.rollback()
            self._reset_after_commit(self._snapshot.committed)

    def reassign_clusters(self, mapping: Mapping[SymbolId, ClusterId]) -> int:
        """Queue a new ``cluster_id`` for these symbols (after the IVF retrained); returns how many.

        Each document is rebuilt from its stored symbol (the newest version,
        refreshed writes included), deleted and re-added. The new cluster ids
        are visible after :meth:`commit` (not after :meth:`refresh`: a
        retrain rewrites many documents, which the in-memory delta is not for).
        Ids that are not in the index are skipped. Costs one term-set query
        per 1,024 ids plus about 80 µs per rewritten document.
        """
        rewritten = 0
        ids = list(dict.fromkeys(mapping))
        with self._writer_lock:
            writer = self._require_writer()
            self.refresh()  # so the stored symbols read below include every write
            snapshot = self._snapshot
            for start in range(0, len(ids), _BATCH):
                found = self._stored_batch(snapshot, ids[start : start + _BATCH])
                if not found:
                    continue
                writer.delete_documents_by_query(self._id_set_query(list(found)))
                for symbol_id, symbol in found.items():
                    writer.add_document(fields.to_document(symbol_id, mapping[symbol_id], symbol))
                rewritten += len(found)
            if rewritten:
                with self._state_lock:
                    self._has_pending = True
        return rewritten

    # ------------------------------------------------------------------ reads

    def reload(self) -> None:
        """Switch this instance to the latest commit on disk (about 0.2 ms).

        A reader in another process can race the writer's clean-up of merged
        segments; that is retried a few times, and if it keeps failing the
        current snapshot stays in use and :class:`IndexCorruptError` is raised.
        """
        self._require_open()
        signature = _meta_signature(self._directory)
        committed = self._reload_committed()
        with self._state_lock:
            self._meta_signature = signature
            self._snapshot = (
                self._delta.snapshot(committed) if self._delta is not None else Snapshot(committed)
            )

    def reload_if_changed(self) -> bool:
        """Reload when ``meta.json`` changed since the last (re)load; True if it did.

        Costs one ``stat`` (a few µs) when nothing changed: cheap enough to call
        before every search in a reader process.
        """
        self._require_open()
        if _meta_signature(self._directory) == self._meta_signature:
            return False
        self.reload()
        return True

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        kinds: Sequence[SymbolKind] | None = None,
        languages: Sequence[str] | None = None,
        paths: Sequence[str] | None = None,
        clusters: Sequence[ClusterId] | None = None,
    ) -> list[TextHit]:
        """The best ``limit`` symbols for ``query``, best first (BM25 with an exact-name bonus).

        ``query`` is free text: a name (``parseHttpHeader``, ``Client.get``),
        words (``http header``) or a sentence. It is never given to Tantivy's
        query parser, so no character is special. Only the first
        :data:`quiver.text.query.MAX_QUERY_CHARS` characters and
        :data:`~quiver.text.query.MAX_QUERY_TERMS` distinct words are used.
        An empty or blank query raises :class:`quiver.errors.InvalidQueryError`;
        a query with no letter or digit returns ``[]``.

        Filters (``None`` = no restriction; an empty sequence matches nothing):
        ``kinds``; ``languages`` (case-insensitive); ``paths``, glob patterns
        on workspace-relative paths (see :mod:`quiver.text.pathglob`; ``*``
        stays within a directory, ``**`` crosses them, a bare ``*.py`` matches
        at any depth); ``clusters``, the IVF lists whose symbols may be
        returned. All run inside Tantivy, not as a post-filter.

        Costs two Tantivy searches, the BM25 one and a cheap exact-name one
        (1–2 ms together for 100,000 symbols; see ``benchmarks/README.md``),
        twice that while refreshed writes wait for a commit; ids come from the
        fast field, not the document store.
        """
        self._require_open()
        filters = Filters(kinds=kinds, languages=languages, paths=paths, clusters=clusters)
        prepared = self._queries.build(query, filters)
        if prepared is None or limit <= 0 or filters.excludes_everything():
            return []
        limit = min(limit, MAX_LIMIT)
        snapshot = self._snapshot
        hits = self._ranked(snapshot.committed, prepared, limit, snapshot.hidden_ids)
        if snapshot.delta is None:
            return hits
        hits += self._ranked(snapshot.delta, prepared, limit, frozenset())
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:limit]

    def admitted_symbols(self, filters: Filters) -> list[SymbolId]:
        """The ids of every symbol ``filters`` admit.

        ``filters`` as for :meth:`search` (kinds, languages, paths, clusters, and
        ``symbols``, ids to restrict to); no filter admits everything. Sees refreshed
        writes. Reads ids from the fast field, never a stored document: one Tantivy
        search, plus ~0.6 µs per id. Raises :class:`InvalidQueryError` for a
        malformed path glob.
        """
        self._require_open()
        if filters.excludes_everything():
            return []
        query = self._queries.admitting(filters)
        try:
            found = admitted_ids(self._snapshot, query)
        except ValueError as error:
            raise self._read_error(error) from error
        # SymbolId is a NewType of int: no per-id conversion needed.
        return cast("list[SymbolId]", found)

    def admitted_clusters(self, filters: Filters, *, max_clusters: int) -> dict[ClusterId, int]:
        """How many symbols ``filters`` admit in each IVF list (the ``cluster_id`` fast field).

        Lets a filtered vector search scan only lists that hold admitted symbols, and
        tells it how many there are. Symbols whose documents were replaced since the
        last commit may still be counted (the counts are for choosing lists, not
        exact). At most ``max_clusters`` lists, the fullest, are reported. Costs one
        terms aggregation (~0.2–1 ms on 100,000 symbols).
        """
        self._require_open()
        if filters.excludes_everything():
            return {}
        query = self._queries.admitting(filters)
        try:
            counts = cluster_counts(self._snapshot, query, max(1, max_clusters))
        except ValueError as error:
            raise self._read_error(error) from error
        # ClusterId is a NewType of int: no per-list conversion needed.
        return cast("dict[ClusterId, int]", counts)

    def num_docs(self) -> int:
        """Number of searchable symbols (deleted ones excluded, refreshed writes included)."""
        self._require_open()
        snapshot = self._snapshot
        total = int(snapshot.committed.num_docs) - len(snapshot.hidden_ids)
        if snapshot.delta is not None:
            total += int(snapshot.delta.num_docs)
        return total

    def stored(self, ids: Sequence[SymbolId]) -> dict[SymbolId, Symbol]:
        """The stored symbols of these ids (missing ids are absent from the result).

        Sees refreshed writes. Costs one term-set query per 1,024 ids and one
        document-store read (a decompressed 16 KB block, shared by neighbours)
        per symbol.
        """
        self._require_open()
        snapshot = self._snapshot
        found: dict[SymbolId, Symbol] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _BATCH):
            found.update(self._stored_batch(snapshot, unique[start : start + _BATCH]))
        return found

    def symbol_ids(self) -> Iterator[SymbolId]:
        """Every searchable symbol id (for consistency checks; reads the fast field)."""
        self._require_open()
        snapshot = self._snapshot
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

    # ---------------------------------------------------------------- closing

    def close(self) -> None:
        """Release the writer lock and the files. Writes not committed are dropped.

        Idempotent. Merges still running are cut short (the merged segment is
        not published; the next writer merges again).
        """
        if self._closed:
            return
        with self._writer_lock, self._state_lock:
            # Dropping the last reference to Tantivy's writer releases the lock.
            self._writer = None
            self._delta = None
            self._unrefreshed = []
            self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --------------------------------------------------------------- helpers

    def _record(self, write: Write) -> None:
        """Remember a write for the next refresh (caller holds the writer lock)."""
        with self._state_lock:
            self._has_pending = True
            if self._delta_overflow:
                return
            self._unrefreshed.append(write)
            self._unrefreshed_documents += len(write.documents)
            in_delta = self._delta.documents_added if self._delta is not None else 0
            if self._unrefreshed_documents + in_delta > MAX_DELTA_DOCUMENTS:
                # Too big for the delta: the next refresh commits instead.
                self._delta_overflow = True
                self._unrefreshed = []
                self._unrefreshed_documents = 0

    def _commit_locked(self) -> None:
        writer = self._writer
        assert writer is not None
        with self._state_lock:
            if not self._has_pending:
                return
        try:
            writer.commit()
        except ValueError as error:
            raise self._write_error(error) from error
        self._meta_signature = _meta_signature(self._directory)
        self._reset_after_commit(self._reload_committed())

    def _reset_after_commit(self, committed: tantivy.Searcher) -> None:
        with self._state_lock:
            self._has_pending = False
            self._unrefreshed = []
            self._unrefreshed_documents = 0
            self._delta_overflow = False
            self._delta = None
            self._snapshot = Snapshot(committed)

    def _reload_committed(self) -> tantivy.Searcher:
        last_error: ValueError | None = None
        for attempt in range(4):
            try:
                self._index.reload()
                return self._index.searcher()
            except ValueError as error:
                last_error = error
                time.sleep(0.005 * (attempt + 1))
        raise IndexCorruptError(
            f"Could not load the latest commit of the text index in {self._directory}: "
            f"{last_error}.",
            "Searches keep using the previous state; if this persists, rebuild the index "
            "with `quiver index --rebuild`.",
        )

    def _delete_terms(self, field: str, values: Sequence[str] | Sequence[int]) -> None:
        writer = self._require_writer()
        for start in range(0, len(values), _BATCH):
            # A term-set query, even for one value: delete_documents_by_term
            # silently matches nothing on an unsigned field (tantivy-py 0.27).
            batch = list(values[start : start + _BATCH])
            query = tantivy.Query.term_set_query(self._schema, field, batch)
            try:
                writer.delete_documents_by_query(query)
            except ValueError as error:  # its indexing thread died: a failed write
                raise self._write_error(error) from error

    def _ranked(
        self,
        searcher: tantivy.Searcher,
        prepared: PreparedQuery,
        limit: int,
        hidden: frozenset[int],
    ) -> list[TextHit]:
        """The top hits of one searcher: exact-name hits (bonus + BM25) first, then BM25."""
        word_hits = self._top_hits(searcher, prepared.words, limit, hidden)
        if prepared.exact is None:
            return word_hits
        exact_hits = self._top_hits(searcher, prepared.exact, limit, hidden)
        if not exact_hits:
            return word_hits
        word_scores = {hit.symbol_id: hit.score for hit in word_hits}
        merged = {
            hit.symbol_id: TextHit(hit.symbol_id, hit.score + word_scores.get(hit.symbol_id, 0.0))
            for hit in exact_hits
        }
        for hit in word_hits:
            merged.setdefault(hit.symbol_id, hit)
        return sorted(merged.values(), key=lambda hit: hit.score, reverse=True)[:limit]

    def _top_hits(
        self,
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        limit: int,
        hidden: frozenset[int] = frozenset(),
    ) -> list[TextHit]:
        """The best ``limit`` hits of ``query`` whose ids are not ``hidden``."""
        try:
            # Over-fetch by the number of hidden documents: the top ``limit``
            # survivors are then exactly the answer.
            result = searcher.search(query, limit + len(hidden), count=False)
            addresses = [address for _, address in result.hits]
            ids = searcher.fast_field_values(fields.SYMBOL_ID, addresses)
        except ValueError as error:
            raise self._read_error(error) from error
        hits = [
            TextHit(SymbolId(int(symbol_id)), float(score))
            for (score, _), symbol_id in zip(result.hits, ids, strict=True)
            if symbol_id is not None and symbol_id not in hidden
        ]
        return hits[:limit]

    def _stored_batch(self, snapshot: Snapshot, ids: Sequence[SymbolId]) -> dict[SymbolId, Symbol]:
        wanted = self._id_set_query(ids)
        # The delta holds the newest version of a symbol; ask it first.
        sources: list[tuple[tantivy.Searcher, frozenset[int]]] = []
        if snapshot.delta is not None:
            sources.append((snapshot.delta, frozenset()))
        sources.append((snapshot.committed, snapshot.hidden_ids))
        found: dict[SymbolId, Symbol] = {}
        for searcher, hidden in sources:
            try:
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
            except ValueError as error:
                raise self._read_error(error) from error
        return found

    def _id_set_query(self, ids: Sequence[SymbolId]) -> tantivy.Query:
        return tantivy.Query.term_set_query(
            self._schema, fields.SYMBOL_ID, sorted({int(symbol_id) for symbol_id in ids})
        )

    def _write_error(self, error: ValueError) -> IndexWriteError:
        return IndexWriteError(
            f"Could not write the text index in {self._directory}: {error}.",
            "Check free disk space and permissions; the last committed state is intact.",
        )

    def _require_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the text index in {self._directory} is closed")

    def _require_writer(self) -> tantivy.IndexWriter:
        self._require_open()
        if self._writer is None:
            raise RuntimeError(
                f"the text index in {self._directory} was opened read-only; writes need "
                "DocumentIndex.open(..., writable=True)"
            )
        return self._writer

    def _read_error(self, error: ValueError) -> IndexCorruptError:
        return IndexCorruptError(
            f"The text index in {self._directory} could not be read: {error}.",
            "Rebuild it with `quiver index --rebuild`.",
        )


def _prepare_new_directory(directory: Path) -> None:
    """Create the directory and our format file, refusing a directory that holds something else."""
    # Tantivy creates its files with the process umask: the directory (0700) is what
    # keeps the indexed code from other users.
    make_private_directory(directory)
    strangers = sorted(
        entry.name for entry in directory.iterdir() if entry.name not in _FRESH_DIRECTORY_FILES
    )
    if strangers:
        raise IndexCorruptError(
            f"{directory} is not a text index (no {_META_FILE}) but holds other files: "
            f"{', '.join(strangers[:5])}.",
            "Point Quiver at an empty or dedicated cache directory, or remove this one "
            "and re-index.",
        )
    format_file = directory / FORMAT_FILE
    temporary = directory / f".{FORMAT_FILE}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(open_private_file(temporary, flags), "wb") as handle:
        handle.write(json.dumps({"format": fields.TEXT_FORMAT_VERSION}).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(format_file)


def _check_format_file(directory: Path) -> None:
    format_file = directory / FORMAT_FILE
    try:
        version = json.loads(format_file.read_text(encoding="utf-8"))["format"]
    except FileNotFoundError:
        version = None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IndexCorruptError(
            f"The format file {format_file} is unreadable: {error}.",
            "Rebuild the index with `quiver index --rebuild`.",
        ) from error
    if version != fields.TEXT_FORMAT_VERSION:
        raise IndexFormatError(
            f"The text index in {directory} has format {version}; "
            f"this Quiver reads format {fields.TEXT_FORMAT_VERSION}.",
            "Rebuild the index with `quiver index --rebuild` "
            "(it was written by another Quiver version).",
        )


def _take_writer(
    directory: Path, index: tantivy.Index, heap_bytes: int, threads: int
) -> tantivy.IndexWriter:
    """Take the writer lock, then delete what an interrupted writer left behind.

    A writer killed inside a commit leaves the files it had started (a segment, a
    ``<segment>.<opstamp>.del``) registered but unused by ``meta.json``. The next
    writer numbers its operations from the last commit again, so its commit would
    try to create that very ``.del`` file and fail with ``FileAlreadyExists``;
    Tantivy's garbage collection removes exactly those files (it never touches
    what the last commit uses).
    """
    try:
        writer = index.writer(heap_size=heap_bytes, num_threads=threads)
    except ValueError as error:
        if "LockBusy" in str(error):
            raise IndexLockedError(
                f"The text index in {directory} is already being updated by another "
                "writer (in this process or another Quiver process).",
                "Open it read-only, or stop the other `quiver` process first; "
                "the lock is released as soon as that process exits.",
            ) from error
        raise _open_error(directory, error) from error
    try:
        writer.garbage_collect_files()
    except ValueError as error:  # a file in use elsewhere stays; the next commit retries
        log.warning("Could not clean up the text index in %s: %s", directory, error)
    return writer


def _open_error(directory: Path, error: ValueError) -> IndexFormatError | IndexCorruptError:
    message = str(error)
    if "schema does not match" in message:
        return IndexFormatError(
            f"The text index in {directory} has a different schema than this Quiver writes.",
            "Rebuild the index with `quiver index --rebuild`.",
        )
    return IndexCorruptError(
        f"The text index in {directory} cannot be opened: {message}.",
        "Rebuild the index with `quiver index --rebuild`; "
        "if the disk is full or read-only, fix that first.",
    )


def _meta_signature(directory: Path) -> tuple[int, int, int] | None:
    # An atomic rename gives meta.json a new inode, so (inode, mtime, size)
    # changes at every commit even within one mtime tick.
    with contextlib.suppress(OSError):
        status = (directory / _META_FILE).stat()
        return (status.st_ino, status.st_mtime_ns, status.st_size)
    return None
