"""The workspace folders: each root with its file selector and its engine.

``FolderSet`` holds them by root (multi-root workspaces; folders may nest)
and finds the ones a path or a query needs, waiting a bounded time for a
folder that is still opening. Opening and indexing them is
``quiver.workspace.indexing``'s job.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from quiver.engine import VectorSearchEngine
from quiver.errors import QuiverError
from quiver.parse.selection import FileSelector
from quiver.workspace.options import WorkspaceOptions

__all__ = ["OPEN_WAIT_S", "Folder", "FolderSet", "selector_for"]

#: How long a query waits for a folder's index to open before answering without it.
OPEN_WAIT_S = 10.0


def selector_for(root: Path, options: WorkspaceOptions) -> FileSelector:
    """The selector of the folder at ``root`` under ``options`` (its excludes and size limit)."""
    return FileSelector(root, excludes=options.exclude, max_file_size=options.max_file_size)


@dataclass(slots=True)
class Folder:
    """One workspace folder and its engine (None until opened, or after a failure)."""

    root: Path
    #: Which files under ``root`` its index holds (rebuilt when the options change).
    selector: FileSelector
    engine: VectorSearchEngine | None = None
    opened: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    indexing: bool = False
    indexed_once: bool = False
    files_done: int = 0
    files_total: int = 0

    def contains(self, path: Path) -> bool:
        """Whether ``path`` is the root or under it (compares parts, no I/O)."""
        return self.selector.contains(path)

    def has_role(self, role: Literal["writer", "reader"]) -> bool:
        """Whether the folder's engine is open and writes (``"writer"``) or follows
        another process's writes (``"reader"``)."""
        return self.engine is not None and self.engine.role == role


class FolderSet:
    """The folders by root. Guarded by the session's condition ``lock``; every method
    takes it briefly, so any thread may call them."""

    def __init__(self, lock: threading.Condition) -> None:
        self._lock = lock
        self._folders: dict[Path, Folder] = {}

    def __len__(self) -> int:
        return len(self._folders)

    def snapshot(self) -> list[Folder]:
        """The folders now, in the order they were added."""
        with self._lock:
            return list(self._folders.values())

    def add(self, folder: Folder) -> bool:
        """Add a folder; False (nothing changed) if its root is already there."""
        with self._lock:
            if folder.root in self._folders:
                return False
            self._folders[folder.root] = folder
            return True

    def pop(self, root: Path) -> Folder | None:
        """Remove and return the folder at ``root`` (None if there is none)."""
        with self._lock:
            return self._folders.pop(root, None)

    def take_all(self) -> list[Folder]:
        """Remove and return every folder."""
        with self._lock:
            folders = list(self._folders.values())
            self._folders.clear()
            return folders

    def roots(self) -> list[Path]:
        with self._lock:
            return list(self._folders)

    def get(self, root: Path) -> Folder | None:
        with self._lock:
            return self._folders.get(root)

    def with_role(self, role: Literal["writer", "reader"]) -> list[Folder]:
        """The folders whose open engine has this role."""
        with self._lock:
            return [f for f in self._folders.values() if f.has_role(role)]

    def innermost(self, path: Path) -> Folder | None:
        """The innermost folder holding ``path`` (folders may nest); None if none does."""
        with self._lock:
            holding = [f for f in self._folders.values() if f.contains(path)]
        if not holding:
            return None
        return max(holding, key=lambda f: len(f.root.parts))

    def engine_for(self, path: Path, *, wait: bool = True) -> VectorSearchEngine | None:
        """The engine of the innermost folder holding ``path`` (``wait``: for it to open)."""
        folder = self.innermost(path)
        if folder is None:
            return None
        if wait:
            folder.opened.wait(OPEN_WAIT_S)
        return folder.engine

    def engines(self, *, required: bool = False) -> list[VectorSearchEngine]:
        """The open engines, waiting (bounded) for folders still opening. ``required``:
        raise ``QuiverError`` (saying why) when there is none."""
        folders = self.snapshot()
        engines = []
        deadline = time.monotonic() + OPEN_WAIT_S
        for folder in folders:
            folder.opened.wait(max(0.0, deadline - time.monotonic()))
            if folder.engine is not None:
                engines.append(folder.engine)
        if required and not engines:
            problems = "; ".join(f.error for f in folders if f.error)
            if not folders:
                raise QuiverError(
                    "There is no workspace folder to search.",
                    "Open a folder (or a workspace) in the editor.",
                )
            raise QuiverError(
                f"No workspace index is available{': ' + problems if problems else ''}.",
                "See the server's log; `quiver/reindex` with rebuild: true starts afresh.",
            )
        return engines
