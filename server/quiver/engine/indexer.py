"""Keeping the index current: index a tree, update or remove one file, train the IVF.

Invariants kept here:

- One writer at a time: every change runs under the update lock; parsing and
  embedding happen *outside* the state lock, and the changes are applied under
  a short state lock, so searches keep answering from the last applied state.
- Ids: an unchanged symbol (same content hash and qualified name) keeps its id
  and vector; new symbols take fresh ids from the catalog, in the order their
  vectors were embedded.
- A file whose size and mtime are as recorded is neither parsed nor embedded;
  one whose symbols and ranges hash as recorded writes nothing.
- Every batch is committed through ``Durability`` (vectors → text → catalog),
  at once when durable, else at the next ``flush``; a write the disk refuses
  becomes ``IndexWriteError`` and the parts are re-opened.
- Each symbol's text document carries its current IVF list id (``cluster_id``);
  after training, every document's cluster is reassigned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from quiver.api import IndexProgress, IndexReport, UpdateReport
from quiver.embed.batch import embed_symbols
from quiver.embed.embedder import Embedder
from quiver.engine.catalog import FileRecord, SymbolRecord
from quiver.engine.durability import Durability, reconcile
from quiver.engine.model import ModelBinding
from quiver.engine.parts import EngineParts
from quiver.errors import FileSkippedError
from quiver.ids import ClusterId, SymbolId
from quiver.parse import (
    ParsedFile,
    SourceFile,
    discover_selected,
    extract_symbols,
    language_for_path,
    parse_files,
    read_source,
)
from quiver.symbols import Symbol, content_hash
from quiver.text.index import TextDocument

log = logging.getLogger(__name__)

#: Below this many vectors an exhaustive scan of the delta is exact and fast; train above it.
MIN_VECTORS_TO_TRAIN = 4_096
#: Files parsed, embedded and committed together during a full index.
INDEX_BATCH_FILES = 64


@dataclass(slots=True)
class _FileChange:
    """A parsed file and what must happen to the indexes for it."""

    source: SourceFile
    symbols: list[Symbol]
    file_hash: str
    skipped_reason: str | None = None


class Indexer:
    """The writer's side: parses, embeds and applies changes to the shared parts."""

    def __init__(self, parts: EngineParts, model: ModelBinding, durability: Durability) -> None:
        self._parts = parts
        self._model = model
        self._durability = durability

    def index_tree(
        self,
        *,
        progress: Callable[[IndexProgress], None] | None = None,
        cancel: threading.Event | None = None,
        lazy_model: bool = False,
    ) -> IndexReport:
        """``VectorSearchEngine.index_tree``: discover, skip what is unchanged, parse, embed,
        apply and commit per batch of ``INDEX_BATCH_FILES`` files, then train.

        Holds the update lock throughout (the state lock only per applied batch); sets the
        engine's state to ``indexing``, then ``ready`` (``error`` if it raises).
        """
        started = time.perf_counter()
        self._parts.require_writer("index the workspace")
        with self._parts.update_lock:
            if lazy_model and not self._model.checked and self._parts.vectors is not None:
                with self._parts.state_lock:
                    reconcile(self._parts)
            else:
                self._model.embedder  # noqa: B018 - loads the model, checks the index was built by it
            self._parts.state = "indexing"
            try:
                with self._durability.disk_writes("index the workspace"):
                    report = self._index_tree(progress, cancel, started)
            except BaseException:
                self._parts.state = "error"
                raise
            self._parts.state = "ready"
            return report

    def _index_tree(
        self,
        progress: Callable[[IndexProgress], None] | None,
        cancel: threading.Event | None,
        started: float,
    ) -> IndexReport:
        skipped: list[tuple[str, str]] = []
        files = list(
            discover_selected(
                self._parts.selector,
                on_skip=lambda path, reason: skipped.append((path, reason)),
            )
        )
        for path, reason in skipped:
            log.info("Skipped %s: %s", path, reason)
        seen = {f.rel_path for f in files}
        removed = [path for path in self._parts.catalog.files if path not in seen]
        if removed:
            self._apply([], removed_paths=removed)
        changed = [f for f in files if self._maybe_changed(f)]
        unchanged = len(files) - len(changed)
        total = len(files)
        done = unchanged
        embedded = 0
        indexed = 0
        skipped_files = 0
        unreadable = [path for path, reason in skipped if _is_permission_denied(reason)]
        tally = _EmbeddingTally(len(changed))

        def report(message: str) -> None:
            if progress:
                progress(
                    IndexProgress(
                        done,
                        total,
                        len(self._parts.catalog),
                        message,
                        symbols_embedded=tally.embedded,
                        symbols_to_embed=tally.to_embed,
                    )
                )

        def report_embedding(embedded_in_batch: int, batch_to_embed: int) -> None:
            tally.embedding(embedded_in_batch, batch_to_embed)
            report(f"{done:,}/{total:,} files, embedding")

        report("Checking files")
        for start in range(0, len(changed), INDEX_BATCH_FILES):
            if cancel is not None and cancel.is_set():
                break
            batch = changed[start : start + INDEX_BATCH_FILES]
            tally.next_batch(len(batch))
            parsed = list(
                parse_files(
                    batch,
                    workers=self._parts.options.parse_workers,
                    max_file_size=self._parts.options.max_file_size,
                )
            )
            changes: list[_FileChange] = []
            for item in parsed:
                change = self._change_from_parsed(item)
                if change is None:
                    unchanged += 1
                    continue
                if change.skipped_reason is not None:
                    skipped_files += 1
                    log.info("Skipped %s: %s", change.source.rel_path, change.skipped_reason)
                    if _is_permission_denied(change.skipped_reason):
                        unreadable.append(change.source.rel_path)
                changes.append(change)
            embedder = None
            if any(change.symbols for change in changes):
                self._model.discarded = False
                embedder = self._model.embedder
                if self._model.discarded:
                    # Loading the model found the index built by another one and emptied
                    # it: start over, every file is new now.
                    return self._index_tree(progress, cancel, started)
            embedded += self._apply(changes, embedder=embedder, on_embedded=report_embedding)
            indexed += sum(1 for c in changes if c.skipped_reason is None)
            done += len(batch)
            report(f"{done:,}/{total:,} files")
        self._maybe_train()
        return IndexReport(
            files_seen=total,
            files_indexed=indexed,
            files_unchanged=unchanged,
            files_removed=len(removed),
            files_skipped=skipped_files + len(skipped),
            symbols_embedded=embedded,
            symbols_total=len(self._parts.catalog),
            seconds=time.perf_counter() - started,
            unreadable=tuple(unreadable),
        )

    def _maybe_changed(self, source: SourceFile) -> bool:
        record = self._parts.catalog.files.get(source.rel_path)
        return record is None or (record.size, record.mtime_ns) != (source.size, source.mtime_ns)

    def _change_from_parsed(self, parsed: ParsedFile) -> _FileChange | None:
        """None when the content is the same as indexed (only the mtime moved)."""
        source = parsed.file
        if parsed.skipped_reason is not None:
            return _FileChange(source, [], "", skipped_reason=parsed.skipped_reason)
        file_hash = _file_hash(parsed.symbols, source.rel_path)
        record = self._parts.catalog.files.get(source.rel_path)
        if record is not None and record.file_hash == file_hash and record.mtime_ns != -1:
            with self._parts.state_lock:
                record.size, record.mtime_ns = source.size, source.mtime_ns
            return None
        return _FileChange(source, list(parsed.symbols), file_hash)

    def update_file(
        self, path: Path | str, text: str | None = None, *, durable: bool = True
    ) -> UpdateReport:
        """``VectorSearchEngine.update_file``: one parse under the update lock; embeds only
        the symbols whose content hash changed, then applies them (``_apply``)."""
        relative = self._parts.relative_path(path)
        absolute = self._parts.absolute_path(relative)
        language = language_for_path(relative)
        if language is None:
            return UpdateReport(relative, 0, 0, 0, skipped_reason="unsupported language")
        self._parts.require_writer(f"update {relative}")
        with self._parts.update_lock:
            try:
                if text is None:
                    data = read_source(absolute, max_file_size=self._parts.options.max_file_size)
                    stat = absolute.stat()
                    size, mtime_ns = stat.st_size, stat.st_mtime_ns
                else:
                    data = text.encode("utf-8", "surrogatepass")
                    size, mtime_ns = -1, -1  # an unsaved buffer: re-check against disk later
            except FileSkippedError as error:
                if not absolute.exists():
                    return self.remove_file(relative, durable=durable)
                return UpdateReport(relative, 0, 0, 0, skipped_reason=error.message)
            except FileNotFoundError:
                return self.remove_file(relative, durable=durable)
            symbols = extract_symbols(data, relative, language)
            source = SourceFile(absolute, relative, language, size, mtime_ns)
            file_hash = _file_hash(symbols, relative)
            record = self._parts.catalog.files.get(relative)
            if record is not None and record.file_hash == file_hash:
                if text is None:
                    # Same content (a save of what the buffer had, a touch): note the
                    # disk's size and mtime so the next index_tree skips the file.
                    with self._parts.state_lock:
                        record.size, record.mtime_ns = size, mtime_ns
                return UpdateReport(relative, 0, 0, 0)
            embedder = self._model.embedder
            before = len(record.symbol_ids) if record is not None else 0
            change = _FileChange(source, symbols, file_hash)
            with self._durability.disk_writes(f"update {relative}"):
                embedded = self._apply([change], embedder=embedder, durable=durable)
            self._parts.last_update = datetime.now(UTC)
            return UpdateReport(relative, len(symbols), before, embedded)

    def remove_file(self, path: Path | str, *, durable: bool = True) -> UpdateReport:
        """Forget a deleted (or now ignored) file; ``durable`` as for ``update_file``."""
        relative = self._parts.relative_path(path)
        self._parts.require_writer(f"remove {relative}")
        with self._parts.update_lock:
            before = len(
                self._parts.catalog.files.get(relative, FileRecord("", "", 0, 0, "")).symbol_ids
            )
            if relative in self._parts.catalog.files:
                with self._durability.disk_writes(f"remove {relative}"):
                    self._apply([], removed_paths=[relative], durable=durable)
            self._parts.last_update = datetime.now(UTC)
            return UpdateReport(relative, 0, before, 0)

    def _apply(
        self,
        changes: Sequence[_FileChange],
        *,
        embedder: Embedder | None = None,
        removed_paths: Sequence[str] = (),
        durable: bool = True,
        on_embedded: Callable[[int, int], None] | None = None,
    ) -> int:
        """Embed what changed (outside the state lock), apply it, and commit if ``durable``.

        Returns how many symbol texts were sent to the model (cache misses).
        ``on_embedded(done, total)`` hears ``embed_symbols``'s progress over the new symbols.
        Applied changes are searchable in this process at once; with
        ``durable=False`` they reach the disk at the next ``flush()``.
        """
        # 1. Decide ids: unchanged symbols (same content hash and qualified name) keep theirs.
        plans: list[tuple[_FileChange, list[SymbolId], list[Symbol], list[SymbolId]]] = []
        to_embed: list[Symbol] = []
        for change in changes:
            old = {
                (r.content_hash, r.qualified_name): r.id
                for r in self._parts.catalog.symbols_of(change.source.rel_path)
            }
            ids: list[SymbolId] = []
            new_symbols: list[Symbol] = []
            for symbol in change.symbols:
                kept = old.pop((symbol.content_hash, symbol.qualified_name), None)
                if kept is None:
                    new_symbols.append(symbol)
                ids.append(kept if kept is not None else SymbolId(-1))
            plans.append((change, ids, new_symbols, list(old.values())))
            to_embed.extend(new_symbols)
        # 2. Embed the new symbols (slow part: no state lock held).
        vectors = np.zeros((0, 0), dtype=np.float32)
        misses = 0
        if to_embed:
            assert embedder is not None
            counter = _MissCounter(on_embedded)
            vectors = embed_symbols(
                embedder, to_embed, cache=self._parts.embedding_cache, on_progress=counter
            )
            misses = counter.misses
        # 3. Apply under the state lock, commit vectors → text → catalog.
        text = self._parts.writable_text()
        with self._parts.state_lock:
            assert self._parts.vectors is not None or not to_embed
            removed_ids: list[SymbolId] = []
            for path in removed_paths:
                removed_ids.extend(self._parts.catalog.remove_file(path))
            if removed_paths:
                text.delete_paths(removed_paths)
            add_ids: list[int] = []
            documents: list[TextDocument] = []
            for change, planned_ids, new_symbols, dropped in plans:
                removed_ids.extend(dropped)
                fresh = iter(self._parts.catalog.allocate_ids(len(new_symbols)))
                final_ids: list[SymbolId] = []
                for planned in planned_ids:
                    if planned == -1:
                        # New symbols take fresh ids in the order their vectors were embedded.
                        fresh_id = next(fresh)
                        add_ids.append(int(fresh_id))
                        final_ids.append(fresh_id)
                    else:
                        final_ids.append(planned)
                records = [
                    SymbolRecord.from_symbol(i, s)
                    for i, s in zip(final_ids, change.symbols, strict=True)
                ]
                self._parts.catalog.put_file(
                    FileRecord(
                        change.source.rel_path,
                        change.source.language,
                        change.source.size,
                        change.source.mtime_ns,
                        change.file_hash,
                    ),
                    records,
                )
                for symbol_id, symbol in zip(final_ids, change.symbols, strict=True):
                    documents.append(TextDocument(symbol_id, ClusterId(-1), symbol))
            text.delete_paths([c.source.rel_path for c in changes])
            if self._parts.vectors is not None:
                if removed_ids:
                    self._parts.vectors.remove_ids(np.asarray(removed_ids, dtype=np.int64))
                if add_ids:
                    self._parts.vectors.add_with_ids(vectors, np.asarray(add_ids, dtype=np.int64))
                documents = self._with_clusters(documents)
            text.add(documents)
            if not durable:
                # Searchable in this process now (a few ms); ``flush`` makes it durable.
                text.refresh()
            self._parts.names.remove(int(i) for i in removed_ids)
            self._parts.names.add(
                [int(d.symbol_id) for d in documents], [d.symbol.name for d in documents]
            )
            self._parts.catalog.generation += 1
            self._parts.last_update = datetime.now(UTC)
            self._parts.unflushed = True
        if durable:
            self._durability.commit()
        return misses

    def _with_clusters(self, documents: list[TextDocument]) -> list[TextDocument]:
        """Attach each symbol's current IVF list id (the text index's FAST field)."""
        assert self._parts.vectors is not None
        if not documents:
            return documents
        clusters = self._parts.vectors.cluster_of(
            np.asarray([int(d.symbol_id) for d in documents], dtype=np.int64)
        )
        return [
            TextDocument(d.symbol_id, ClusterId(int(c)), d.symbol)
            for d, c in zip(documents, clusters, strict=True)
        ]

    def _maybe_train(self) -> None:
        """Train the IVF once there is enough data; retrain when lists drift."""
        vectors = self._parts.vectors
        if vectors is None:
            return
        with self._parts.state_lock:
            if not vectors.is_trained and vectors.ntotal >= MIN_VECTORS_TO_TRAIN:
                vectors.retrain()  # trains on a sample of the live vectors and builds the lists
            elif vectors.is_trained and vectors.needs_retrain():
                vectors.retrain()
            else:
                return
            vectors.commit()
            live = vectors.ids()
            clusters = vectors.cluster_of(live)
            text = self._parts.writable_text()
            text.reassign_clusters(
                {SymbolId(int(i)): ClusterId(int(c)) for i, c in zip(live, clusters, strict=True)}
            )
            text.commit()


class _MissCounter:
    """Counts how many texts ``embed_symbols`` actually sent to the model, passing each
    report on to ``forward``."""

    def __init__(self, forward: Callable[[int, int], None] | None = None) -> None:
        self.misses = 0
        self._first = True
        self._forward = forward

    def __call__(self, done: int, total: int) -> None:
        # The first report comes right after the cache look-up: what is not done is a miss.
        if self._first:
            self.misses = total - done
            self._first = False
        if self._forward is not None:
            self._forward(done, total)


@dataclass(slots=True)
class _EmbeddingTally:
    """How many symbols a full pass has embedded and (an estimate) has to embed."""

    changed_files: int
    parsed_files: int = 0
    finished: int = 0  # the new symbols of the batches already applied
    batch_done: int = 0
    batch_total: int = 0

    def next_batch(self, files: int) -> None:
        self.finished += self.batch_total
        self.batch_done = self.batch_total = 0
        self.parsed_files += files

    def embedding(self, done: int, total: int) -> None:
        self.batch_done, self.batch_total = done, total

    @property
    def embedded(self) -> int:
        return self.finished + self.batch_done

    @property
    def to_embed(self) -> int:
        known = self.finished + self.batch_total
        if self.parsed_files == 0 or self.parsed_files >= self.changed_files:
            return known
        # Files not parsed yet are assumed to hold as many new symbols as those parsed.
        return round(known * self.changed_files / self.parsed_files)


def _is_permission_denied(reason: str) -> bool:
    """Whether a skip reason from the walk or the reader means "you may not read this"."""
    return "permission denied" in reason.lower()


def _file_hash(symbols: Sequence[Symbol], relative: str) -> str:
    """What decides whether a file's records must be rewritten: its symbols and where they are.

    A symbol's ``content_hash`` covers its embedding text but not its range, so
    a line inserted above a function leaves every content hash as it was while
    every range below moves; the ranges are hashed too, or the catalog would
    keep the old locations.
    """
    return content_hash(
        *(
            f"{s.content_hash}:{s.range.start.line}:{s.range.start.character}:"
            f"{s.range.end.line}:{s.range.end.character}:"
            f"{s.selection_range.start.line}:{s.selection_range.start.character}"
            for s in symbols
        ),
        relative,
    )
