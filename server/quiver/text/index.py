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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self, cast

import tantivy

from quiver.ids import ClusterId, SymbolId
from quiver.symbols import Symbol, SymbolKind
from quiver.text import schema as fields
from quiver.text.admitted import admitted_ids, cluster_counts
from quiver.text.delta import Write
from quiver.text.lookup import live_count, live_symbol_ids, stored_symbols
from quiver.text.persist import (
    DEFAULT_WRITER_HEAP_BYTES,
    DEFAULT_WRITER_THREADS,
    load_latest,
    meta_signature,
    open_directory,
    read_failed,
)
from quiver.text.query import Filters, QueryBuilder
from quiver.text.searching import TextHit, ranked_hits
from quiver.text.state import TextIndexState
from quiver.text.writer import TextWriter

#: Most hits one search returns, whatever ``limit`` asks for.
MAX_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class TextDocument:
    """What the index stores for one symbol."""

    symbol_id: SymbolId
    cluster_id: ClusterId
    symbol: Symbol


class DocumentIndex:
    """A Tantivy index of symbols on disk. Create with :meth:`open`.

    Thread-safe: searches run concurrently with each other and with writes
    (each search reads one immutable snapshot); writes, refreshes and
    commits are serialised by an internal lock.

    Composes the parts: the directory (``persist``: opening, the writer lock,
    following commits), what this handle reads now (``state``: the snapshot,
    the in-memory delta, the writes waiting for a refresh), the writer
    (``writer``), ranked search (``searching``), reads by id (``lookup``) and
    the filters' admitted symbols (``admitted``).
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
        self._queries = QueryBuilder(self._schema)
        self._state = TextIndexState(self._schema, index.searcher(), meta_signature(directory))
        self._writer = None if writer is None else TextWriter(directory, index, writer, self._state)
        self._closed = False

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
        index, writer = open_directory(
            directory,
            writable=writable,
            writer_heap_bytes=writer_heap_bytes,
            writer_threads=writer_threads,
        )
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
        self._require_writer().add(documents)

    def delete_paths(self, paths: Iterable[str]) -> None:
        """Queue the deletion of every symbol of these files (exact workspace-relative paths)."""
        unique = sorted({fields.valid_text(path) for path in paths})
        if not unique:
            return
        self._require_writer().delete(fields.PATH, unique, Write(deleted_paths=tuple(unique)))

    def delete_symbols(self, ids: Iterable[SymbolId]) -> None:
        """Queue the deletion of these symbols' documents; unknown ids are ignored."""
        unique = sorted({int(symbol_id) for symbol_id in ids})
        if not unique:
            return
        self._require_writer().delete(fields.SYMBOL_ID, unique, Write(deleted_ids=tuple(unique)))

    def refresh(self) -> None:
        """Make the queued writes searchable in this process now, without durability.

        Costs one in-memory Tantivy commit (a few ms for one file's symbols).
        Other processes do not see the writes until :meth:`commit`. When more
        than :data:`quiver.text.state.MAX_DELTA_DOCUMENTS` documents were
        written since the last commit, this commits instead.
        """
        self._require_writer().refresh()

    def commit(self) -> None:
        """Publish everything queued since the last commit, durably, and make it searchable here.

        Costs one new small segment, fsyncs and an atomic rename of
        ``meta.json`` (50–150 ms here, fsync-bound; see ``benchmarks/text.py``).
        Tantivy merges small segments in background threads. Releases the
        GIL while it writes. Does nothing when nothing is queued.
        Raises :class:`IndexWriteError` when the disk refuses the write
        (full, read-only); the last commit stays intact and the writes stay queued.
        """
        self._require_writer().commit()

    def rollback(self) -> None:
        """Drop everything queued (refreshed or not) since the last commit."""
        self._require_writer().rollback()

    def reassign_clusters(self, mapping: Mapping[SymbolId, ClusterId]) -> int:
        """Queue a new ``cluster_id`` for these symbols (after the IVF retrained); returns how many.

        Each document is rebuilt from its stored symbol (the newest version,
        refreshed writes included), deleted and re-added. The new cluster ids
        are visible after :meth:`commit` (not after :meth:`refresh`: a
        retrain rewrites many documents, which the in-memory delta is not for).
        Ids that are not in the index are skipped. Costs one term-set query
        per 1,024 ids plus about 80 µs per rewritten document.
        """
        return self._require_writer().reassign_clusters(mapping)

    # ------------------------------------------------------------------ reads

    def reload(self) -> None:
        """Switch this instance to the latest commit on disk (about 0.2 ms).

        A reader in another process can race the writer's clean-up of merged
        segments; that is retried a few times, and if it keeps failing the
        current snapshot stays in use and :class:`IndexCorruptError` is raised.
        """
        self._require_open()
        signature = meta_signature(self._directory)
        self._state.follow(load_latest(self._index, self._directory), signature)

    def reload_if_changed(self) -> bool:
        """Reload when ``meta.json`` changed since the last (re)load; True if it did.

        Costs one ``stat`` (a few µs) when nothing changed: cheap enough to call
        before every search in a reader process.
        """
        self._require_open()
        if meta_signature(self._directory) == self._state.signature:
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
        try:
            return ranked_hits(self._state.snapshot, prepared, min(limit, MAX_LIMIT))
        except ValueError as error:
            raise read_failed(self._directory, error) from error

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
            found = admitted_ids(self._state.snapshot, query)
        except ValueError as error:
            raise read_failed(self._directory, error) from error
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
            counts = cluster_counts(self._state.snapshot, query, max(1, max_clusters))
        except ValueError as error:
            raise read_failed(self._directory, error) from error
        # ClusterId is a NewType of int: no per-list conversion needed.
        return cast("dict[ClusterId, int]", counts)

    def num_docs(self) -> int:
        """Number of searchable symbols (deleted ones excluded, refreshed writes included)."""
        self._require_open()
        return live_count(self._state.snapshot)

    def stored(self, ids: Sequence[SymbolId]) -> dict[SymbolId, Symbol]:
        """The stored symbols of these ids (missing ids are absent from the result).

        Sees refreshed writes. Costs one term-set query per 1,024 ids and one
        document-store read (a decompressed 16 KB block, shared by neighbours)
        per symbol.
        """
        self._require_open()
        try:
            return stored_symbols(self._state.snapshot, self._schema, ids)
        except ValueError as error:
            raise read_failed(self._directory, error) from error

    def symbol_ids(self) -> Iterator[SymbolId]:
        """Every searchable symbol id (for consistency checks; reads the fast field)."""
        self._require_open()
        yield from live_symbol_ids(self._state.snapshot)

    # ---------------------------------------------------------------- closing

    def close(self) -> None:
        """Release the writer lock and the files. Writes not committed are dropped.

        Idempotent. Merges still running are cut short (the merged segment is
        not published; the next writer merges again).
        """
        if self._closed:
            return
        if self._writer is not None:
            # Waits for a write in progress; dropping Tantivy's writer releases the lock.
            self._writer.close()
        self._state.clear()
        self._closed = True
        self._writer = None

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

    def _require_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the text index in {self._directory} is closed")

    def _require_writer(self) -> TextWriter:
        self._require_open()
        if self._writer is None:
            raise RuntimeError(
                f"the text index in {self._directory} was opened read-only; writes need "
                "DocumentIndex.open(..., writable=True)"
            )
        return self._writer
