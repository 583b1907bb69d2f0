"""Where a workspace's index lives on disk.

One index per workspace, shared by every process that opens the same folder:
the directory name is derived from the folder's real path, so two editors
(or a symlinked path) land on the same cache.

The cache holds the code it indexed, so it is private: a cache root Quiver creates
is 0700, and so is everything the index writes below it (``quiver.private_dirs``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

from quiver.private_dirs import make_private_directory

CACHE_ENV_VAR = "QUIVER_CACHE_DIR"


def default_cache_root() -> Path:
    """``$QUIVER_CACHE_DIR``, else ``$XDG_CACHE_HOME/quiver``, else ``~/.cache/quiver``."""
    explicit = os.environ.get(CACHE_ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "quiver"


def workspace_key(root: Path) -> str:
    """A readable, collision-resistant directory name for a workspace root."""
    real = os.path.realpath(root)
    digest = hashlib.sha256(real.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(real).name)[:40] or "root"
    return f"{readable}-{digest}"


def cache_dir_for(root: Path, cache_root: Path | None = None) -> Path:
    """The index directory of ``root`` under ``cache_root`` (default: ``default_cache_root()``).

    Creates the cache root (and its missing parents) with mode 0700 when it does not
    exist yet, so that the index directories made under it are never reachable by
    other users; an existing root is left as the user made it. Cost: one ``stat``
    (plus a ``mkdir`` per missing level). The index directory itself is not created.
    """
    base = cache_root if cache_root is not None else default_cache_root()
    with contextlib.suppress(OSError):  # unwritable: the caller's own mkdir says why
        make_private_directory(base, tighten_existing=False)
    return base / workspace_key(root)


def is_workspace_cache(directory: Path) -> bool:
    """Whether ``directory`` (under a cache root) looks like one workspace's index, so that
    cleaning a cache root never deletes something else a user keeps there."""
    if not directory.is_dir() or directory.is_symlink():
        return False
    name = directory.name
    if not re.fullmatch(r"[A-Za-z0-9._-]+-[0-9a-f]{16}", name):
        return False
    return any(
        (directory / part).exists() for part in ("catalog", "text", "vectors", "writer.lock")
    )
