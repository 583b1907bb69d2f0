"""Workspace discovery: the source files under a root that its index holds.

The walk asks the folder's ``FileSelector`` (``quiver.parse.selection``) about
each entry, so discovery, the file watcher and the workspace session apply the
same rules: ignore files, the caller's excludes, the directories always
skipped, the size limit.

Symbolic links are never followed: a link to something inside the root is
indexed under the target's own path, a link leading outside the root is
outside the workspace, and so loops cannot happen.
"""

from __future__ import annotations

import errno
import logging
import os
import stat as stat_module
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from quiver.parse.languages import language_for_path
from quiver.parse.read import DEFAULT_MAX_FILE_SIZE
from quiver.parse.selection import (
    VENV_MARKER,
    FileSelector,
    IgnoreChain,
    SkipCallback,
    is_ignored,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A source file found under a workspace root."""

    abs_path: Path
    #: POSIX-style path relative to the root (``"src/app/main.py"``).
    rel_path: str
    language: str
    size: int
    mtime_ns: int


def discover(
    root: Path,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    excludes: Sequence[str] = (),
    on_skip: SkipCallback | None = None,
) -> Iterator[SourceFile]:
    """Yield every supported source file under ``root``, in a stable order.

    Files of a directory come before its subdirectories, each sorted by name.
    ``on_skip(rel_path, reason)`` hears one line for each candidate file that
    is left out (too large, symlink, unreadable), for each directory that
    cannot be read and for each ignore file that is not read (a FIFO, a
    device, over 1 MiB: the walk goes on without its rules); ignored paths
    and excluded directories are skipped silently. Files with unsupported
    extensions are not candidates. Cost: one ``scandir`` per directory and one
    ``stat`` per candidate file; nothing is read except ignore files (at most
    1 MiB each). A ``root`` that is a file yields that file alone if its
    language is supported.
    """
    yield from discover_selected(
        FileSelector(root, excludes=excludes, max_file_size=max_file_size), on_skip=on_skip
    )


def discover_selected(
    selector: FileSelector, *, on_skip: SkipCallback | None = None
) -> Iterator[SourceFile]:
    """``discover`` under ``selector.root`` with that folder's selector (its excludes and
    size limit): the walk a workspace folder's index runs. Same order, reports and cost."""
    report = on_skip if on_skip is not None else _log_skip
    root_abs = selector.root
    real_root = os.path.realpath(root_abs)
    max_file_size = selector.max_file_size
    if root_abs.is_file():
        single = _single_file(root_abs, max_file_size, report)
        if single is not None:
            yield single
        return

    pending: list[tuple[Path, str, IgnoreChain]] = [(root_abs, "", selector.base_rules(report))]
    while pending:
        directory, prefix, inherited = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            report(prefix or "./", f"directory cannot be read ({error.strerror or error})")
            continue
        names = {entry.name for entry in entries}
        if prefix and VENV_MARKER in names:
            continue  # a virtual environment
        rules = selector.rules_in(directory, prefix, inherited, names, report)
        rules_here = selector.with_excludes(rules)
        subdirectories: list[tuple[Path, str, IgnoreChain]] = []
        for entry in entries:
            name = entry.name
            rel_path = prefix + name
            try:
                is_symlink = entry.is_symlink()
                is_dir = not is_symlink and entry.is_dir(follow_symlinks=False)
            except OSError as error:
                report(rel_path, f"cannot be examined ({error.strerror or error})")
                continue
            if is_dir:
                if selector.skips_directory(name, rel_path, rules_here):
                    continue
                subdirectories.append((Path(entry.path), rel_path + "/", rules))
                continue
            language = language_for_path(name)
            if is_symlink:
                if is_ignored(rules_here, rel_path, is_dir=False):
                    continue
                report(rel_path, _symlink_reason(entry.path, real_root))
                continue
            if language is None or is_ignored(rules_here, rel_path, is_dir=False):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError as error:
                report(rel_path, f"cannot be examined ({error.strerror or error})")
                continue
            if not _is_regular(stat.st_mode):
                report(rel_path, "not a regular file")
                continue
            if selector.is_too_large(stat.st_size):
                report(rel_path, f"too large ({stat.st_size:,} bytes, limit {max_file_size:,})")
                continue
            yield SourceFile(Path(entry.path), rel_path, language, stat.st_size, stat.st_mtime_ns)
        pending.extend(reversed(subdirectories))


def _single_file(path: Path, max_file_size: int, report: SkipCallback) -> SourceFile | None:
    language = language_for_path(path)
    if language is None:
        report(path.name, "unsupported file type")
        return None
    stat = path.stat()
    if stat.st_size > max_file_size:
        report(path.name, f"too large ({stat.st_size:,} bytes, limit {max_file_size:,})")
        return None
    return SourceFile(path, path.name, language, stat.st_size, stat.st_mtime_ns)


def _symlink_reason(link: str, real_root: str) -> str:
    try:
        target = os.path.realpath(link, strict=True)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symlink loop"
        return "broken symlink"
    except RuntimeError:
        return "symlink loop"
    if os.path.commonpath([real_root, target]) != real_root:
        return f"symlink to {target}, outside the workspace"
    return "symlink; its target is indexed under its own path"


def _is_regular(mode: int) -> bool:
    return stat_module.S_ISREG(mode)


def _log_skip(rel_path: str, reason: str) -> None:
    _log.info("skipped %s: %s", rel_path, reason)
