"""What the workspace reads of a front end's options (the language server's
``ServerOptions`` is one), so that this package depends on no front end."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from quiver.secondary_code import PathPrior

__all__ = ["WorkspaceOptions"]


class WorkspaceOptions(Protocol):
    """The settings that shape a workspace's indexes and its watching."""

    @property
    def cache_dir(self) -> Path | None:
        """Where the indexes live; None: the default location (decided by the store)."""

    @property
    def exclude(self) -> tuple[str, ...]:
        """Gitignore-style patterns on folder-relative paths, added to the built-in rules."""

    @property
    def max_file_size(self) -> int:
        """Larger files (bytes) are left out of the index."""

    @property
    def watch(self) -> bool:
        """Whether the workspace watches its folders for changes made outside the editor."""

    @property
    def path_prior(self) -> PathPrior:
        """Which paths hold secondary code (tests, fixtures, vendored, generated) and how much
        lower such a result ranks than product code of the same score."""
