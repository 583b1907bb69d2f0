"""How the workspace reports: the listener it tells, and the status record it answers.

No LSP import: the language server implements ``SessionListener`` and
converts ``SessionStatus`` to JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from quiver.workspace.folders import Folder

__all__ = ["SessionListener", "SessionState", "SessionStatus", "summarize"]

SessionState = Literal["starting", "indexing", "ready", "error"]


class SessionListener(Protocol):
    """How the session reports to the client. Called from the session's threads."""

    def progress_begin(self, title: str, message: str) -> None:
        """Long work started (indexing); ``message`` like ``"0/2,000 files"``."""

    def progress_report(self, message: str, percentage: int) -> None:
        """Long work advanced."""

    def progress_end(self, message: str) -> None:
        """Long work finished (or stopped)."""

    def status_changed(self, *, state_changed: bool) -> None:
        """``status()`` changed; ``state_changed`` when ``state`` itself did."""

    def show_message(self, severity: Literal["error", "warning", "info"], message: str) -> None:
        """Something the user should see (an index that cannot be opened)."""


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """The whole workspace at a glance (``quiver/status``)."""

    state: SessionState
    message: str
    role: Literal["writer", "reader"]
    folders: tuple[Path, ...]
    files: int
    files_indexed: int
    symbols: int
    generation: int
    model_id: str
    dim: int
    cache_dir: Path
    disk_bytes: int
    last_update: datetime | None


def summarize(
    folders: Sequence[Folder], *, busy: bool, started: bool, cache_dir: Path
) -> SessionStatus:
    """The status of these folders (``busy``: an indexing run is in progress; ``started``:
    the session has started). Asks each engine for its status, which walks its cache
    directory for the size on disk."""
    files = indexed = symbols = generation = disk = dim = 0
    model_id = ""
    readers: list[tuple[Path, int | None]] = []
    last: datetime | None = None
    errors = [f"{f.root.name}: {f.error}" for f in folders if f.error]
    for folder in folders:
        engine = folder.engine
        if engine is None:
            continue
        try:
            status = engine.status()
        except Exception:  # closed under our feet by a rebuild: skip this round
            continue
        if status.role == "reader":
            readers.append((folder.root, status.writer_pid))
        # While a folder is walked, its files are what the walk found so far.
        files += max(status.files, folder.files_total) if folder.indexing else status.files
        indexed += folder.files_done if folder.indexing else status.files
        symbols += status.symbols
        generation += status.generation
        disk += status.disk_bytes
        model_id = model_id or status.model_id
        dim = dim or status.dim
        if status.last_update is not None and (last is None or status.last_update > last):
            last = status.last_update
    state: SessionState
    if errors:
        state, message = "error", "; ".join(errors)
    elif busy:
        state, message = "indexing", f"Indexing {indexed:,}/{files:,} files"
    elif not started or not all(f.indexed_once for f in folders):
        state, message = "starting", "Starting"
    else:
        state, message = "ready", f"Indexed {files:,} files, {symbols:,} symbols"
    if readers and state != "error":
        writers = sorted({pid for _, pid in readers if pid is not None})
        by = f"process {', '.join(map(str, writers))}" if writers else "another process"
        message += f" (kept current by {by})"
    return SessionStatus(
        state=state,
        message=message,
        role="reader" if readers else "writer",
        folders=tuple(f.root for f in folders),
        files=files,
        files_indexed=indexed,
        symbols=symbols,
        generation=generation,
        model_id=model_id,
        dim=dim,
        cache_dir=cache_dir,
        disk_bytes=disk,
        last_update=last,
    )
