"""Large files in the writer's queue: buffers over the size limit, and updates too big
for one job.

Files on disk larger than ``maxFileSize`` are left out of the index; so is an
editor buffer over it (``BufferLimit``): its update is skipped (the index
keeps what it had) and reported once, with a Suggestion.

A file within the limit can still bring thousands of new symbols at once (a
paste, a generated file): embedding them takes minutes with the real model,
and everything the writer thread does would wait behind that one update.
``LargeUpdates`` embeds such a file's new symbols a chunk per job instead
(``STAGE_CHUNK`` texts, about a second), so the other files' changes, which
the writer asks for first, go between the chunks. The vectors wait in the
session's ``StagingEmbedder`` (the model every engine is given), and the
update itself, once every chunk is done, finds them there and takes a
moment. A newer change of the file replaces the staged one (the texts
already embedded are kept: most of them are the same).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quiver.embed.embedder import Embedder
from quiver.embed.text import symbol_text
from quiver.engine import VectorSearchEngine
from quiver.errors import FileSkippedError
from quiver.numeric import FloatMatrix, FloatVector
from quiver.parse import extract_symbols, language_for_path, read_source
from quiver.workspace.changes import ChangeKind, PathChange
from quiver.workspace.folders import Folder, FolderSet
from quiver.workspace.jobs import Job
from quiver.workspace.status import SessionListener

__all__ = [
    "STAGE_CHUNK",
    "STAGE_MIN_BYTES",
    "STAGE_MIN_SYMBOLS",
    "BufferLimit",
    "LargeUpdates",
    "StagingEmbedder",
]

log = logging.getLogger(__name__)

#: Files smaller than this are updated at once (parsing them twice would cost more
#: than it saves) ...
STAGE_MIN_BYTES = 16 << 10
#: ... and so are files with fewer new symbols than this.
STAGE_MIN_SYMBOLS = 64
#: Texts embedded per job: about a second of the real model on a busy laptop core.
STAGE_CHUNK = 32


class BufferLimit:
    """The size rule of files on disk (``maxFileSize``), applied to editor buffers."""

    def __init__(self, listener: SessionListener) -> None:
        self._listener = listener
        self._lock = threading.Lock()
        self._reported: set[Path] = set()

    def allows(self, path: Path, text: str, limit: int) -> bool:
        """Whether a buffer of ``path`` holding ``text`` may be indexed (its UTF-8 size at
        most ``limit`` bytes); the first refusal for a path is reported. Costs an encode
        of the text only when it has more than a quarter of ``limit`` characters."""
        if len(text) * 4 <= limit:
            size = 0
        else:
            size = len(text) if len(text) > limit else len(text.encode("utf-8", "surrogatepass"))
        with self._lock:
            if size <= limit:
                self._reported.discard(path)  # reported again if it grows past it again
                return True
            first = path not in self._reported
            self._reported.add(path)
        if first:
            log.info("Not indexing the buffer of %s: %s bytes, over %s", path, size, limit)
            self._listener.show_message(
                "warning",
                f"Quiver does not index the unsaved text of {path}: it is larger than "
                f"maxFileSize ({size:,} bytes, the limit is {limit:,}); the index keeps the "
                "version on disk.\nSuggestion: Raise the maxFileSize setting (bytes) to "
                "index files this large, or save a smaller file.",
            )
        return False


class StagingEmbedder:
    """The session's model, plus vectors embedded ahead of an update (``stage``):
    ``embed_documents`` answers staged texts from them and embeds only the rest.
    Thread-safe; every engine of the session is given this one."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._staged: dict[str, FloatVector] = {}

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def weights_sha256(self) -> str:
        return self.inner.weights_sha256

    def embed_query(self, text: str) -> FloatVector:
        return self.inner.embed_query(text)

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """As the model's, from the staged vectors where there are some."""
        with self._lock:
            staged = [self._staged.get(text) for text in texts]
        missing = [i for i, vector in enumerate(staged) if vector is None]
        if len(missing) == len(texts):
            return self.inner.embed_documents(texts)
        result = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, vector in enumerate(staged):
            if vector is not None:
                result[row] = vector
        if missing:
            result[missing] = self.inner.embed_documents([texts[i] for i in missing])
        return result

    def stage(self, texts: Sequence[str]) -> None:
        """Embed ``texts`` now, for a later ``embed_documents`` (the model's cost)."""
        vectors = self.inner.embed_documents(texts)
        with self._lock:
            self._staged.update(zip(texts, vectors, strict=True))

    def staged(self, text: str) -> bool:
        with self._lock:
            return text in self._staged

    def drop(self, texts: Sequence[str]) -> None:
        """Forget staged vectors (their update is done, or gone)."""
        with self._lock:
            for text in texts:
                self._staged.pop(text, None)


#: Applies one change of one file as the change applier does: ``(folder, path, change)``.
ApplyChange = Callable[[Folder, Path, PathChange], None]


@dataclass(slots=True)
class _Staged:
    """A large update waiting for its vectors: ``pending`` texts still to embed."""

    root: Path
    change: PathChange
    pending: list[str]
    #: Every text staged for this path, to drop once it is applied.
    texts: list[str] = field(default_factory=list)


class LargeUpdates:
    """Updates with many new symbols, embedded a chunk per writer job, then applied.

    ``take`` (writer thread) decides whether a change is one; ``due`` is one of
    the writer's timed sources, asked after the change batches, so that small
    changes go first; ``apply`` applies a change once its vectors are staged.
    """

    def __init__(
        self,
        folders: FolderSet,
        *,
        lock: threading.Condition,
        staging: Callable[[], StagingEmbedder],
        apply: ApplyChange,
    ) -> None:
        self._folders = folders
        self._lock = lock
        self._staging = staging
        self._apply = apply
        self._queue: dict[Path, _Staged] = {}
        #: The last text of each large buffer seen, so that typing in one is told from a
        #: paste without parsing it (writer thread only).
        self._last_text: dict[Path, str] = {}

    def take(
        self, folder: Folder, engine: VectorSearchEngine, path: Path, change: PathChange
    ) -> bool:
        """Whether ``change`` of ``path`` is a large update: then it is queued (replacing
        one queued for the path) and applied once its new symbols are embedded; else the
        caller applies it now (and any update queued for the path is dropped). Costs a
        parse of the file when it is larger than ``STAGE_MIN_BYTES`` and, for a buffer,
        that much of it changed since the last one (typing in a large file costs two
        slice comparisons)."""
        with self._lock:
            earlier = self._queue.pop(path, None)
        data = self._source(engine, path, change, self._last_text)
        texts = self._new_texts(engine, path, data) if data is not None else []
        if len(texts) < STAGE_MIN_SYMBOLS:
            if earlier is not None:
                self._staging().drop(earlier.texts)
            return False
        staging = self._staging()
        pending = [text for text in texts if not staging.staged(text)]
        staged = _Staged(folder.root, change, pending, texts=earlier.texts if earlier else [])
        staged.texts.extend(pending)
        log.info("Embedding %s new symbols of %s a chunk at a time", len(pending), path)
        with self._lock:
            self._queue[path] = staged
            self._lock.notify_all()
        return True

    def forget(self, root: Path) -> None:
        """Drop what is queued for the folder at ``root`` (it left the workspace)."""
        with self._lock:
            gone = [path for path, staged in self._queue.items() if staged.root == root]
            texts = [text for path in gone for text in self._queue.pop(path).texts]
        if texts:
            self._staging().drop(texts)

    def due(self) -> Job | float | None:
        """The writer thread's timed source (under the lock): the next chunk, or None."""
        if not self._queue:
            return None
        path = next(iter(self._queue))
        return Job(f"embed {path.name}", lambda: self._step(path))

    def _step(self, path: Path) -> None:
        with self._lock:
            staged = self._queue.get(path)
            if staged is None:
                return
            chunk, staged.pending = staged.pending[:STAGE_CHUNK], staged.pending[STAGE_CHUNK:]
            done = not staged.pending
            if done:
                del self._queue[path]
        folder = self._folders.get(staged.root)
        if folder is None or not folder.has_role("writer"):
            self._staging().drop(staged.texts)
            return
        try:
            if chunk:
                self._staging().stage(chunk)
        except Exception:  # the update itself embeds what is missing and reports failures
            log.exception("Embedding part of %s ahead of its update failed", path)
            with self._lock:
                if self._queue.get(path) is staged:
                    del self._queue[path]
            done = True
        if done:
            try:
                self._apply(folder, path, staged.change)
            finally:
                self._staging().drop(staged.texts)

    @staticmethod
    def _source(
        engine: VectorSearchEngine, path: Path, change: PathChange, last_text: dict[Path, str]
    ) -> bytes | None:
        """The text the update would index, if enough of it may be new to consider."""
        text = change.text if change.kind is ChangeKind.BUFFER else None
        previous = last_text.pop(path, None)
        if text is not None:
            if len(text) < STAGE_MIN_BYTES:
                return None
            last_text[path] = text
            if previous is not None and changed_span(previous, text) < STAGE_MIN_BYTES:
                return None  # typing: a few symbols at most
            return text.encode("utf-8", "surrogatepass")
        if change.kind is not ChangeKind.DISK:
            return None
        try:
            if path.stat().st_size < STAGE_MIN_BYTES:
                return None
            return read_source(path, max_file_size=engine.options.max_file_size)
        except (OSError, FileSkippedError):
            return None  # the update says what is wrong with it

    @staticmethod
    def _new_texts(engine: VectorSearchEngine, path: Path, data: bytes) -> list[str]:
        """The embedding texts of the symbols in ``data`` the index lacks (by content)."""
        language = language_for_path(path)
        if language is None:
            return []
        symbols = extract_symbols(data, engine.relative_path(path), language)
        indexed = {record.content_hash for record in engine.document_symbols(path)}
        return list(dict.fromkeys(symbol_text(s) for s in symbols if s.content_hash not in indexed))


def changed_span(old: str, new: str) -> int:
    """How many characters of ``new`` lie outside its common prefix and suffix with
    ``old``: an upper bound of what an edit changed. Binary searches on slice
    comparisons (memory compares, well under a millisecond for a megabyte)."""
    limit = min(len(old), len(new))
    low, high = 0, limit  # the common prefix is at least low, at most high
    while low < high:
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    prefix = low
    low, high = 0, limit - prefix
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == new[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    return len(new) - prefix - low
