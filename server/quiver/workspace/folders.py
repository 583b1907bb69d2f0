"""The workspace folders: each root with its file selector and its engine.

``FolderSet`` holds them by root (multi-root workspaces; folders may nest)
and finds the ones a path or a query needs, waiting a bounded time for a
folder of the session's start that is still opening (a folder added later
answers once it is open: its opening may queue behind long work). Opening
and indexing them is ``quiver.workspace.indexing``'s job; ``folder_problem``
says why a root cannot be indexed at all.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from quiver.engine import VectorSearchEngine
from quiver.errors import QuiverError
from quiver.parse.selection import FileSelector
from quiver.workspace.options import WorkspaceOptions

__all__ = ["OPEN_WAIT_S", "Folder", "FolderSet", "folder_problem", "selector_for"]

#: How long a query waits for a folder's index to open before answering without it.
OPEN_WAIT_S = 10.0


def selector_for(root: Path, options: WorkspaceOptions) -> FileSelector:
    """The selector of the folder at ``root`` under ``options`` (its excludes and size limit)."""
    return FileSelector(root, excludes=options.exclude, max_file_size=options.max_file_size)


def folder_problem(root: Path) -> QuiverError | None:
    """Why ``root`` cannot be indexed (missing, a file, unreadable), or None if it can.

    Costs a ``stat`` and an ``access`` check; call it off the event loop (a
    vanished network mount may make them slow).
    """
    again = "then run Quiver: Reindex (`quiver/reindex`)"
    try:
        is_directory = root.is_dir()
        exists = is_directory or root.exists()
    except OSError as error:  # a dead mount, a loop of links
        return QuiverError(
            f"The workspace folder {root} cannot be read: {error.strerror or error}.",
            f"Check that its disk is mounted, {again}; or remove it from the workspace.",
        )
    if not exists:
        return QuiverError(
            f"The workspace folder {root} does not exist (moved, deleted or not mounted).",
            f"Remove it from the workspace, or put it back and {again}.",
        )
    if not is_directory:
        return QuiverError(
            f"The workspace folder {root} is a file, not a folder.",
            "Open the folder that holds it as a workspace folder instead.",
        )
    if not os.access(root, os.R_OK | os.X_OK):
        return QuiverError(
            f"The workspace folder {root} cannot be read: permission denied.",
            f"Give this user read access to it, {again}; or remove it from the workspace.",
        )
    return None


@dataclass(slots=True)
class Folder:
    """One workspace folder and its engine (None until opened, or after a failure)."""

    root: Path
    #: Which files under ``root`` its index holds (rebuilt when the options change).
    selector: FileSelector
    #: Whether queries wait (bounded) for it to open: the folders of the session's start,
    #: whose opening is the writer's first job. A folder added later answers once open.
    awaited: bool = True
    engine: VectorSearchEngine | None = None
    opened: threading.Event = field(default_factory=threading.Event)
    #: What keeps it from being indexed, as shown to the user (ends with a Suggestion).
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
        if wait and folder.awaited:
            folder.opened.wait(OPEN_WAIT_S)
        return folder.engine

    def engines(self, *, required: bool = False) -> list[VectorSearchEngine]:
        """The open engines, waiting (bounded) for the session's first folders still
        opening. ``required``: when none is open, wait (bounded) for the folders added
        since too, then raise ``QuiverError`` (saying why) if there is still none."""
        folders = self.snapshot()
        deadline = time.monotonic() + OPEN_WAIT_S
        engines = self._opened(folders, deadline, awaited_only=True)
        if required and not engines:
            engines = self._opened(folders, deadline, awaited_only=False)
        if required and not engines:
            problems = "; ".join(f.error.partition("\n")[0] for f in folders if f.error)
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

    @staticmethod
    def _opened(
        folders: list[Folder], deadline: float, *, awaited_only: bool
    ) -> list[VectorSearchEngine]:
        engines = []
        for folder in folders:
            if folder.awaited or not awaited_only:
                folder.opened.wait(max(0.0, deadline - time.monotonic()))
            if folder.engine is not None:
                engines.append(folder.engine)
        return engines
