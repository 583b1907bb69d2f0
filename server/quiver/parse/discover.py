"""Workspace discovery: which files under a root are source files worth indexing.

Honours ``.gitignore`` files at every level (and ``.git/info/exclude``),
``.quiverignore`` files with the same syntax (read after ``.gitignore``, so
they can also re-include with ``!pattern``), and caller-given exclude
patterns (gitignore syntax, relative to the root, applied last). Always
skips version-control and tool directories, dependency trees
(``node_modules``, virtual environments: any directory holding a
``pyvenv.cfg``), and build outputs (:data:`EXCLUDED_DIR_NAMES`).

Symbolic links are never followed: a link to something inside the root is
indexed under the target's own path, a link leading outside the root is
outside the workspace, and so loops cannot happen.
"""

from __future__ import annotations

import errno
import logging
import os
import stat as stat_module
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

from quiver.parse.languages import language_for_path
from quiver.parse.read import DEFAULT_MAX_FILE_SIZE

_log = logging.getLogger(__name__)

#: Directory names skipped wherever they appear (VCS, caches, dependencies, build outputs).
EXCLUDED_DIR_NAMES: frozenset[str] = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        ".jj",
        "node_modules",
        "bower_components",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".tox",
        ".nox",
        ".venv",
        ".eggs",
        ".gradle",
        ".next",
        ".nuxt",
        ".quiver-cache",
        "build",
        "dist",
        "target",
        "out",
    }
)

#: Ignore files read in every directory, in this order (later ones override).
IGNORE_FILE_NAMES: tuple[str, ...] = (".gitignore", ".quiverignore")

_VENV_MARKER = "pyvenv.cfg"

SkipCallback = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A source file found under a workspace root."""

    abs_path: Path
    #: POSIX-style path relative to the root (``"src/app/main.py"``).
    rel_path: str
    language: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class _IgnoreRules:
    """Patterns from one ignore file, relative to the directory holding it."""

    prefix: str  # "" at the root, else "sub/dir/"
    spec: pathspec.GitIgnoreSpec


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
    is left out (too large, symlink, unreadable) and for each directory that
    cannot be read; ignored paths and excluded directories are skipped
    silently. Files with unsupported extensions are not candidates. Cost: one
    ``scandir`` per directory and one ``stat`` per candidate file; nothing is
    read except ignore files. A ``root`` that is a file yields that file alone
    if its language is supported.
    """
    report = on_skip if on_skip is not None else _log_skip
    root_abs = Path(root).absolute()
    real_root = os.path.realpath(root_abs)
    if root_abs.is_file():
        single = _single_file(root_abs, max_file_size, report)
        if single is not None:
            yield single
        return

    user_rules = (
        (_IgnoreRules("", pathspec.GitIgnoreSpec.from_lines(list(excludes))),)
        if excludes
        else ()
    )
    base_rules = _read_ignore_file(root_abs / ".git" / "info" / "exclude", "")
    pending: list[tuple[Path, str, tuple[_IgnoreRules, ...]]] = [
        (root_abs, "", tuple(base_rules))
    ]
    while pending:
        directory, prefix, inherited = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            report(prefix or "./", f"directory cannot be read ({error.strerror or error})")
            continue
        names = {entry.name for entry in entries}
        if prefix and _VENV_MARKER in names:
            continue  # a virtual environment
        rules = list(inherited)
        for ignore_name in IGNORE_FILE_NAMES:
            if ignore_name in names:
                rules.extend(_read_ignore_file(directory / ignore_name, prefix))
        rules_here = (*rules, *user_rules)
        subdirectories: list[tuple[Path, str, tuple[_IgnoreRules, ...]]] = []
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
                if name in EXCLUDED_DIR_NAMES or _is_ignored(rules_here, rel_path, is_dir=True):
                    continue
                subdirectories.append((Path(entry.path), rel_path + "/", tuple(rules)))
                continue
            language = language_for_path(name)
            if is_symlink:
                if _is_ignored(rules_here, rel_path, is_dir=False):
                    continue
                report(rel_path, _symlink_reason(entry.path, real_root))
                continue
            if language is None or _is_ignored(rules_here, rel_path, is_dir=False):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError as error:
                report(rel_path, f"cannot be examined ({error.strerror or error})")
                continue
            if not _is_regular(stat.st_mode):
                report(rel_path, "not a regular file")
                continue
            if stat.st_size > max_file_size:
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


def _read_ignore_file(path: Path, prefix: str) -> list[_IgnoreRules]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    if not any(line.strip() and not line.lstrip().startswith("#") for line in lines):
        return []
    return [_IgnoreRules(prefix, pathspec.GitIgnoreSpec.from_lines(lines))]


def _is_ignored(rules: Sequence[_IgnoreRules], rel_path: str, *, is_dir: bool) -> bool:
    """Git's rule: the last matching pattern decides, deeper ignore files count later."""
    ignored = False
    for rule in rules:
        relative = rel_path[len(rule.prefix) :]
        result = rule.spec.check_file(relative + "/" if is_dir else relative).include
        if result is not None:
            ignored = result
    return ignored


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
