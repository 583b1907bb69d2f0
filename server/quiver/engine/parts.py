"""The state one engine's pieces share: the open parts, the two locks, the catalog;
and ``EngineOptions``, what configures them.

Every piece of a ``VectorSearchEngine`` (roles, model, durability, indexer,
search, status) holds the same ``EngineParts`` and reads or swaps the parts
through it; none keeps a copy of a part, so a swap (``follow``, a take-over,
a re-open after a failed write) is seen by all of them at once.

Concurrency, as every piece keeps it: one writer at a time holds
``update_lock`` while it parses and embeds, *outside* ``state_lock``, and
takes ``state_lock`` only to apply its changes; searches take ``state_lock``
only while they read, so they keep answering from the last applied state
while a long update runs. Only the ``update_lock`` holder mutates the
indexes and the catalog. Where both are taken, ``update_lock`` comes first.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quiver.api import EngineState, Role
from quiver.embed.cache import EmbeddingCache
from quiver.engine.catalog import Catalog
from quiver.errors import CacheDirectoryError
from quiver.fuzzy import NameIndex
from quiver.ivf.errors import IndexReadOnlyError
from quiver.ivf.index import IVFIndex
from quiver.parse import FileSelector
from quiver.secondary_code import DEFAULT_PATH_PRIOR, PathPrior
from quiver.store.lock import WriterLock
from quiver.text.index import DocumentIndex


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Everything configurable about one workspace index."""

    cache_root: Path | None = None
    max_file_size: int = 1 << 20
    excludes: tuple[str, ...] = ()
    parse_workers: int | None = None
    nprobe: int | None = None
    #: Tests, fixtures, vendored and generated code rank below product code for the
    #: same score; ``PathPrior(patterns=())`` or ``weight=1.0`` turns it off.
    path_prior: PathPrior = DEFAULT_PATH_PRIOR


class EngineParts:
    """One workspace's open indexes, their locks and the facts about them.

    Creating it creates the cache directory and its (not yet taken) writer
    lock; the parts are opened by ``Roles.open``.
    """

    def __init__(
        self, root: Path, options: EngineOptions, cache_dir: Path, selector: FileSelector
    ) -> None:
        self.root = root
        self.options = options
        self.cache_dir = cache_dir
        #: Which files under ``root`` the index holds (walked by ``index_tree``).
        self.selector = selector
        #: The one writer's lock: held from parsing to the last commit of a change.
        self.update_lock = threading.RLock()
        #: Short: taken to apply changes and to read the parts, never while embedding.
        self.state_lock = threading.RLock()
        self.state: EngineState = "starting"
        # When the index last changed: the catalog snapshot's time until this process updates it.
        self.last_update: datetime | None = None
        # Applied changes not yet committed to disk (see ``Durability.flush``).
        self.unflushed = False
        #: Why a writer's parts could not be re-opened after a refused write (a full disk),
        #: None while they are open: closed meanwhile, they are re-opened by the next write
        #: (``Durability.disk_writes``).
        self.reopen_problem: str | None = None
        self.closed = False
        make_cache_dir(self.cache_dir)
        #: The cache directory's writer lock (an OS ``flock`` that dies with its process).
        self.writer_lock = WriterLock(self.cache_dir)
        self.catalog = Catalog()
        self.catalog_stamp: tuple[int, int, int] | None = None
        self.text: DocumentIndex | None = None
        self.vectors: IVFIndex | None = None
        self.names: NameIndex[int] = NameIndex()
        self.embedding_cache: EmbeddingCache | None = None

    @property
    def role(self) -> Role:
        """``writer`` while this engine holds the cache's writer lock, else ``reader``."""
        return "writer" if self.writer_lock.held else "reader"

    @property
    def writer_pid(self) -> int | None:
        """The process that writes this cache (this one, another, or None if nobody does)."""
        return os.getpid() if self.writer_lock.held else self.writer_lock.holder_pid()

    @property
    def catalog_dir(self) -> Path:
        return self.cache_dir / "catalog"

    @property
    def vectors_dir(self) -> Path:
        return self.cache_dir / "vectors"

    def writable_text(self) -> DocumentIndex:
        assert self.text is not None and self.writer_lock.held, "only a writer changes the index"
        return self.text

    def require_writer(self, action: str) -> None:
        """Raise ``IndexReadOnlyError`` (naming the writer) unless this engine writes."""
        if not self.writer_lock.held:
            pid = self.writer_lock.holder_pid()
            who = f"process {pid}" if pid else "another Quiver process"
            raise IndexReadOnlyError(
                f"Cannot {action}: {who} updates the index of {self.root} "
                f"({self.cache_dir}); this one only reads it.",
                "That process keeps the index current and searches here follow it; to "
                "write from here, close it (the other editor or `quiver serve`) first.",
            )

    def close_parts(self, *, quietly: bool = False) -> None:
        """Close the vector and text indexes and the embedding cache (their files and
        their own locks, not the cache's writer lock). ``quietly``: ignore errors (the
        parts may be half-way through a failed write). Caller holds both locks."""
        for part in (self.vectors, self.text, self.embedding_cache):
            if part is None:
                continue
            if quietly:
                with contextlib.suppress(Exception):
                    part.close()
            else:
                part.close()
        self.vectors = self.text = None
        self.embedding_cache = None

    def relative_path(self, path: Path | str) -> str:
        """The workspace-relative POSIX path of ``path`` (absolute or relative to the root)."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        try:
            return candidate.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return candidate.absolute().relative_to(self.root).as_posix()

    def absolute_path(self, relative: str) -> Path:
        return self.root / relative


def name_index(catalog: Catalog) -> NameIndex[int]:
    """The fuzzy name index of every symbol in ``catalog`` (~0.08 s per 100,000 names)."""
    names: NameIndex[int] = NameIndex()
    names.add_utf8(*catalog.names())
    return names


#: A write the disk refused for want of room: full, over quota, or past a file size limit.
NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def make_cache_dir(cache_dir: Path) -> None:
    """Create ``cache_dir`` (and its parents) unless it is a directory already.

    Raises ``CacheDirectoryError`` saying what is in the way (a file where the
    directory or one of its parents should be, no permission, no room), instead of
    the bare ``OSError``. Costs one ``mkdir`` (and a few ``stat`` on failure).
    """
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _cache_dir_error(cache_dir, error) from error


def _cache_dir_error(cache_dir: Path, error: OSError) -> CacheDirectoryError:
    elsewhere = (
        "or point the cache elsewhere (`--cache-dir`, QUIVER_CACHE_DIR or the cacheDir option)"
    )
    in_the_way = next(
        (p for p in (cache_dir, *cache_dir.parents) if p.exists() and not p.is_dir()), None
    )
    if in_the_way is not None:
        problem = (
            f"The index directory {cache_dir} is a file, not a directory."
            if in_the_way == cache_dir
            else f"Cannot create the index directory {cache_dir}: {in_the_way} is a file, "
            "not a directory."
        )
        return CacheDirectoryError(
            problem,
            f"Move or delete the file {in_the_way} (Quiver recreates the index), {elsewhere}.",
        )
    if error.errno in NO_ROOM_ERRNOS:
        return CacheDirectoryError(
            f"Cannot create the index directory {cache_dir}: {error.strerror}.",
            f"Free some disk space {elsewhere}.",
        )
    if isinstance(error, PermissionError) or error.errno == errno.EROFS:
        return CacheDirectoryError(
            f"Cannot create the index directory {cache_dir}: {error.strerror}.",
            f"Make {cache_dir.parent} writable for this user, {elsewhere}.",
        )
    return CacheDirectoryError(
        f"Cannot create the index directory {cache_dir}: {error.strerror or error}.",
        f"Check that the path is a writable directory, {elsewhere}.",
    )
