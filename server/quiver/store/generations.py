"""Names of published files, and garbage collection of the generations nobody needs any more.

Every data file is named ``<role>-<serial:012d><suffix>`` (``vectors-000000000007.qva``),
where the serial is unique within the directory and never reused, so a file name always
means the same bytes. A generation reuses files of earlier ones when they did not change
(the centroids survive a compaction, the change log grows across commits), which is why
generations list files instead of owning a folder each.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from pathlib import Path

from quiver.store.atomic import TEMP_SUFFIX
from quiver.store.manifest import Manifest

_DATA_FILE = re.compile(r"^[a-z][a-z0-9_]*-\d{12}\.[a-z0-9]+$")


def data_file_name(role: str, serial: int, suffix: str) -> str:
    """The file name for ``role`` written under ``serial`` (``suffix`` includes the dot)."""
    name = f"{role}-{serial:012d}{suffix}"
    if not _DATA_FILE.match(name):
        raise ValueError(f"{name!r} is not a valid data file name")
    return name


def is_data_file_name(name: str) -> bool:
    """True for names produced by ``data_file_name``."""
    return bool(_DATA_FILE.match(name))


def files_to_keep(current: Manifest, *, extra: Iterable[str] = ()) -> set[str]:
    """The current generation's files, those it retains for older readers, and ``extra``."""
    return current.file_names() | set(current.retain) | set(extra)


def collect_garbage(directory: Path, keep: Iterable[str]) -> list[str]:
    """Delete data files not in ``keep`` and temporary files left by crashed writers.

    Only names this package generates are touched (other files in the directory, such
    as a lock file, are left alone). Call it only while holding the writer lock: a
    temporary file belongs to whoever is writing. Deleting a file a reader still maps is
    safe on POSIX (the mapping keeps the inode alive); readers that have not mapped it
    yet re-read the manifest and follow the newer generation. Returns the names deleted.
    """
    wanted = set(keep)
    removed: list[str] = []
    for path in directory.iterdir():
        name = path.name
        stale_temp = name.startswith(".") and name.endswith(TEMP_SUFFIX)
        if stale_temp or (is_data_file_name(name) and name not in wanted):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(name)
    return sorted(removed)
