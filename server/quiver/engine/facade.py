"""The composition: index a tree, update or remove one file, search.

``VectorSearchEngine`` composes the parsers, the embedder, the IVF vector
index, the Tantivy ``DocumentIndex`` and the symbol ``Catalog`` for one
workspace root. It knows nothing about LSP: the server, the CLI and a notebook
use it the same way.

It holds no logic of its own: it builds one ``EngineParts`` (the open parts,
the two locks, the catalog) and the pieces that share it, and delegates:
``Roles`` (writer or reader, following, taking over, closing), ``ModelBinding``
(the lazily loaded model and the index it must match), ``Durability`` (commit
order, flush, refused writes), ``Indexer`` (index a tree, update a file) and
``Searcher`` (every query). Each piece's module states the invariants it keeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from quiver.api import (
    EngineStatus,
    IndexProgress,
    IndexReport,
    Role,
    SearchQuery,
    SearchResponse,
    SearchResult,
    UpdateReport,
)
from quiver.cache_paths import cache_dir_for
from quiver.embed.embedder import Embedder
from quiver.engine import status as index_status
from quiver.engine.catalog import Catalog, SymbolRecord
from quiver.engine.durability import Durability
from quiver.engine.indexer import Indexer
from quiver.engine.model import ModelBinding
from quiver.engine.parts import EngineOptions, EngineParts
from quiver.engine.roles import Roles
from quiver.engine.search import Searcher
from quiver.ivf.index import IVFIndex
from quiver.parse import FileSelector


class VectorSearchEngine:
    """A workspace index: open it, keep it current, search it.

    ``embedder_factory`` is called on first use (lazy model load keeps a warm
    start fast: name lookups answer before the model is loaded).

    ``role``: ``"auto"`` (default) becomes the writer if no other process is,
    else a reader; ``"writer"`` raises ``WriterLockedError`` when another
    process writes; ``"reader"`` never takes the lock (``quiver status``).
    """

    def __init__(
        self,
        root: Path,
        *,
        embedder_factory: Callable[[], Embedder],
        options: EngineOptions | None = None,
        cache_dir: Path | None = None,
        role: Literal["auto", "writer", "reader"] = "auto",
        selector: FileSelector | None = None,
    ) -> None:
        self.root = root.resolve()
        self.options = options or EngineOptions()
        self.cache_dir = cache_dir or cache_dir_for(self.root, self.options.cache_root)
        # The one answer to "does this file belong to the index?": a workspace session
        # passes the selector its watcher consults too, so the walk and the watcher agree.
        # One made for another spelling of the root (a symlink) is not reused: the walk
        # starts from the real root, as it always has.
        if selector is None or selector.root != self.root:
            selector = FileSelector(
                self.root, excludes=self.options.excludes, max_file_size=self.options.max_file_size
            )
        self.selector = selector
        self._parts = EngineParts(self.root, self.options, self.cache_dir, self.selector)
        self._model = ModelBinding(self._parts, embedder_factory)
        self._roles = Roles(self._parts, self._model)
        self._durability = Durability(self._parts, reopen=self._roles.reopen_after_failed_write)
        self._indexer = Indexer(self._parts, self._model, self._durability)
        self._searcher = Searcher(self._parts, self._model)
        self._roles.open(role)

    # -- lifecycle -------------------------------------------------------

    @property
    def role(self) -> Role:
        """``writer`` while this engine holds the cache's writer lock, else ``reader``."""
        return self._parts.role

    @property
    def writer_pid(self) -> int | None:
        """The process that writes this cache (this one, another, or None if nobody does)."""
        return self._parts.writer_pid

    def follow(self) -> bool:
        """A reader switches to the newest generation another process published.

        Costs one ``stat`` when nothing changed; else it maps the new catalog,
        follows the vector and text indexes and rebuilds the name index (~0.1 s per
        100,000 symbols) before swapping them in: searches keep answering from the
        previous generation meanwhile. A writer's engine returns False at once, and so
        does a reader when what it finds is unreadable (it keeps what it has and
        tries again on the next call). Returns True if this engine switched.
        """
        return self._roles.follow()

    def try_become_writer(self) -> bool:
        """A reader takes the writer lock if its writer has gone; True if this engine writes.

        The caller should then run ``index_tree`` to take in what changed on disk
        while nobody was writing. Costs a failed ``flock`` when the writer is alive;
        on success, re-opens every part for writing (milliseconds, plus a rebuild
        if what the writer left is damaged).
        """
        return self._roles.try_become_writer()

    def rebuild_cache(self) -> None:
        """Writer: discard everything cached (indexes and embeddings) while keeping the lock.

        The next ``index_tree`` re-parses and re-embeds the whole workspace. Readers in
        other processes keep their mapped generation until the new catalog is published.
        Raises ``IndexReadOnlyError`` on a reader.
        """
        self._roles.rebuild_cache()

    @property
    def embedder(self) -> Embedder:
        """The model, loaded on first use; a writer checks the index was built by it."""
        return self._model.embedder

    @property
    def indexed_model_key(self) -> str:
        """``model_key`` of the model the index on disk was built with ("" for none yet)."""
        return self._parts.catalog.model_id

    def close(self) -> None:
        """Flush what is not yet durable, then release files and locks."""
        if self._parts.closed:
            return
        self._durability.flush()
        self._roles.close()

    def __enter__(self) -> VectorSearchEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- paths -----------------------------------------------------------

    def relative_path(self, path: Path | str) -> str:
        """The workspace-relative POSIX path of ``path`` (absolute or relative to the root)."""
        return self._parts.relative_path(path)

    def absolute_path(self, relative: str) -> Path:
        return self._parts.absolute_path(relative)

    # -- indexing --------------------------------------------------------

    def index_tree(
        self,
        *,
        progress: Callable[[IndexProgress], None] | None = None,
        cancel: threading.Event | None = None,
        lazy_model: bool = False,
    ) -> IndexReport:
        """Bring the index up to date with the files on disk.

        Unchanged files (size and mtime, then content hash) are neither parsed
        nor embedded. Parses on all cores, embeds off the caller's thread only
        if the caller runs this in a worker (the LSP server does). Commits
        every ``INDEX_BATCH_FILES`` files, so an interruption loses little.
        ``lazy_model``: the caller vouches that the index on disk was built by
        the model its factory returns (see ``indexed_model_key``); the model is
        then loaded only when a file needs embedding, so a warm start with
        nothing changed never loads it (about 1 s of CPU).
        """
        return self._indexer.index_tree(progress=progress, cancel=cancel, lazy_model=lazy_model)

    def update_file(
        self, path: Path | str, text: str | None = None, *, durable: bool = True
    ) -> UpdateReport:
        """Re-index one file, from ``text`` (an unsaved editor buffer) or from disk.

        Only symbols whose content hash changed are embedded; the others keep
        their ids and vectors. A file that vanished is removed. A file whose
        symbols and ranges are as indexed costs one parse and writes nothing.
        ``durable=False`` makes the change searchable here at once and leaves
        the disk commits (tens of ms of fsync) to the next ``flush()``.
        """
        return self._indexer.update_file(path, text, durable=durable)

    def remove_file(self, path: Path | str, *, durable: bool = True) -> UpdateReport:
        """Forget a deleted (or now ignored) file; ``durable`` as for ``update_file``."""
        return self._indexer.remove_file(path, durable=durable)

    def is_indexed(self, path: Path | str) -> bool:
        """Whether the file is in the index (it was discovered and not excluded)."""
        return index_status.is_indexed(self._parts, path)

    def indexes_files_under(self, directory: Path | str) -> bool:
        """Whether any indexed file lies under ``directory`` (one pass over the file table)."""
        return index_status.indexes_files_under(self._parts, directory)

    def flush(self) -> bool:
        """Commit every change applied with ``durable=False``; True if there was any.

        Commits vectors → text → catalog, the order the recovery on open relies
        on. Updates wait only for the vector and text commits (their fsyncs,
        tens of ms) and a copy of the catalog's tables; the catalog snapshot
        is then written without blocking them (about 1 s per 100,000 symbols
        on the reference machine). Searches never wait.
        """
        return self._durability.flush()

    # -- search ----------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResponse:
        """Answer a query in the given mode, filtered by kind, language and path globs.

        Raises ``InvalidQueryError`` for an empty or unusable query.
        """
        return self._searcher.search(query)

    def similar(
        self, path: Path | str, line: int, character: int, *, limit: int = 20
    ) -> SearchResponse:
        """Code similar to the innermost symbol enclosing (line, character) of ``path``.

        Raises ``InvalidQueryError`` when no indexed symbol encloses the position.
        """
        return self._searcher.similar(path, line, character, limit=limit)

    def workspace_symbols(
        self,
        query: str,
        *,
        limit: int = 100,
        names: bool = True,
        meaning: bool | None = None,
    ) -> list[SearchResult]:
        """Fuzzy name matches; a query that reads like a sentence also gets semantic matches.

        Semantic matches come first for a sentence (its words rarely spell a
        name), fuzzy matches first otherwise; duplicates are dropped. Fuzzy
        results have no retrievers, semantic ones ``("semantic",)``.
        ``names=False`` leaves out the fuzzy matches; ``meaning`` True/False
        forces the semantic matches in or out (None: ``reads_like_sentence``),
        so a server can send the instant name matches before the semantic ones.
        Results carry no snippet: reading files would cost more than matching.
        Names only: well under a millisecond on 100,000 symbols, no model.
        """
        return self._searcher.workspace_symbols(query, limit=limit, names=names, meaning=meaning)

    def document_symbols(self, path: Path | str) -> list[SymbolRecord]:
        """The indexed symbols of one file, in source order."""
        return self._searcher.document_symbols(path)

    # -- status ----------------------------------------------------------

    def consistency_problems(self) -> list[str]:
        """What disagrees between the catalog, the vector index and the text index.

        Every catalog symbol must have exactly one vector and one text document and
        nothing else may have either; an empty list means the three agree. Reads every
        id of each store (~0.1 s per 100,000 symbols); for checks and tests, not queries.
        """
        return index_status.consistency_problems(self._parts)

    def status(self) -> EngineStatus:
        """Counts, model, cache, role and state (walks the cache directory for its size)."""
        return index_status.engine_status(self._parts)

    # -- for tests and benchmarks that look inside -------------------------

    @property
    def _catalog(self) -> Catalog:
        """The live catalog (tests and benchmarks read it; nothing else should)."""
        return self._parts.catalog

    @property
    def _vectors(self) -> IVFIndex | None:
        return self._parts.vectors

    @property
    def _update_lock(self) -> threading.RLock:
        return self._parts.update_lock

    def _commit_indexes(self) -> tuple[int, Catalog]:
        return self._durability.commit_indexes()

    def _write_catalog(self, snapshot: tuple[int, Catalog]) -> None:
        self._durability.write_catalog(snapshot)
