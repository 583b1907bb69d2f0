"""Which files belong to a workspace folder's index: one rule, consulted by everyone.

A ``FileSelector`` holds one folder's selection rules, built once per folder
from its root, the caller's options (exclude patterns, the file-size limit)
and the ignore files on disk. ``discover`` walks the tree and asks it about
each entry; the file watcher asks ``may_matter`` (names only, no I/O) before
it reports an event; the workspace session asks ``selects`` (the walk's
verdict for one path) before it walks a folder for a file the index lacks.

The rules: ``.gitignore`` files at every level (and ``.git/info/exclude``),
``.quiverignore`` files with the same syntax (read after ``.gitignore``, so
they can also re-include with ``!pattern``), then the caller's exclude
patterns (gitignore syntax, relative to the root, applied last). Always
skipped: version-control and tool directories, dependency trees
(``node_modules``, virtual environments: any directory holding a
``pyvenv.cfg``), build outputs (:data:`EXCLUDED_DIR_NAMES`), files of
unsupported languages, symbolic links, and files over the size limit.

A workspace may be hostile: an ignore file is read only if it is a regular
file of at most 1 MiB (never a FIFO or a device, never by a call that can
block), a line that cannot be compiled is left out, and every pattern is
matched in time linear in the path's length
(:mod:`quiver.parse.ignore_patterns`). What is left out is reported, and the
walk goes on without it.
"""

from __future__ import annotations

import logging
import os
import stat as stat_module
import threading
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from quiver.parse.ignore_patterns import IgnorePatterns, RefusedLine
from quiver.parse.languages import EXTENSIONS, FILE_NAMES, language_for_path
from quiver.parse.read import (
    DEFAULT_MAX_FILE_SIZE,
    FileTooLargeError,
    NotRegularFileError,
    read_regular_file,
)

__all__ = [
    "EXCLUDED_DIR_NAMES",
    "IGNORE_FILE_NAMES",
    "MAX_IGNORE_FILE_SIZE",
    "VENV_MARKER",
    "WATCH_GLOBS",
    "FileSelector",
    "IgnoreRules",
    "SkipCallback",
    "is_ignore_file",
    "is_ignored",
    "read_ignore_file",
]

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

#: Ignore files larger than this are not read (the default limit of a source file, 1 MiB):
#: a link to ``/dev/zero`` or a sparse file of gigabytes must not fill the memory.
MAX_IGNORE_FILE_SIZE = DEFAULT_MAX_FILE_SIZE

#: Hears ``(rel_path, reason)`` for each path a walk leaves out with a reason to tell.
SkipCallback = Callable[[str, str], None]

_log = logging.getLogger(__name__)

#: The relative path of the one ignore file read outside the tree's own directories.
_GIT_EXCLUDE = ".git/info/exclude"

#: A directory holding this file is a Python virtual environment (below the root: skipped).
VENV_MARKER = "pyvenv.cfg"

#: ``may_matter`` as glob patterns, for a client's file watcher.
WATCH_GLOBS: tuple[str, ...] = (
    "**/*.{" + ",".join(sorted(extension[1:] for extension in EXTENSIONS)) + "}",
    "**/{" + ",".join(sorted({*FILE_NAMES, *IGNORE_FILE_NAMES})) + "}",
)


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    """Patterns from one ignore file, relative to the directory holding it."""

    prefix: str  # "" at the root, else "sub/dir/"
    patterns: IgnorePatterns


#: The rules in force in one directory, outermost first (the last match decides).
IgnoreChain = tuple[IgnoreRules, ...]


def is_ignore_file(path: PurePath) -> bool:
    """Whether ``path`` is an ignore file: editing one can change which files are selected."""
    return path.name in IGNORE_FILE_NAMES


@dataclass(frozen=True, slots=True)
class _DirectoryRules:
    """What ``selects`` remembers of one directory below the root."""

    rules: IgnoreChain  # inherited and its own, without the caller's excludes
    is_venv: bool


class FileSelector:
    """One workspace folder's rules for which files its index holds.

    Built once per folder; cheap to build (compiles the exclude patterns).
    ``may_matter`` and ``may_hold_files`` judge by name only; ``selects``
    reads the ignore files along a path, which it remembers until
    ``forget_ignore_rules`` (call it when ignore files may have changed: a
    walk of the folder re-reads them anyway). Thread-safe.
    """

    def __init__(
        self,
        root: Path,
        *,
        excludes: Sequence[str] = (),
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    ) -> None:
        self.root = Path(root).absolute()
        self.excludes = tuple(excludes)
        self.max_file_size = max_file_size
        #: The caller's exclude patterns, applied after every ignore file.
        self.exclude_rules: IgnoreChain = ()
        if excludes:
            patterns, refused = IgnorePatterns.from_lines(excludes)
            for line in refused:
                _log.warning(
                    "The exclude pattern %r is not applied: %s. Suggestion: fix it in the "
                    "exclude settings (gitignore syntax).",
                    line.text,
                    line.reason,
                )
            self.exclude_rules = (IgnoreRules("", patterns),)
        self._root_parts = self.root.parts
        self._lock = threading.Lock()
        self._directories: dict[str, _DirectoryRules] = {}

    # -- by name alone ---------------------------------------------------------------

    def relative_parts(self, path: PurePath) -> tuple[str, ...] | None:
        """The parts of ``path`` below the root (empty for the root itself); None when it is
        not under the root. Pure string work: the path is compared, never resolved."""
        parts = path.parts
        depth = len(self._root_parts)
        if parts[:depth] != self._root_parts:
            return None
        return parts[depth:]

    def contains(self, path: PurePath) -> bool:
        """Whether ``path`` is the root or lies under it (no I/O)."""
        return self.relative_parts(path) is not None

    def may_matter(self, path: PurePath) -> bool:
        """Whether a change to the file ``path`` can change the index, judged by its name
        alone: a supported source file or an ignore file under the root, below no
        always-skipped directory. No I/O: cheap enough for a watcher's thread."""
        parts = self.relative_parts(path)
        if not parts or any(part in EXCLUDED_DIR_NAMES for part in parts):
            return False
        name = parts[-1]
        return name in IGNORE_FILE_NAMES or language_for_path(name) is not None

    def may_hold_files(self, directory: PurePath) -> bool:
        """Whether files under ``directory`` can be selected, judged by name alone: it is
        under the root (or is it) and neither it nor a parent is always skipped."""
        parts = self.relative_parts(directory)
        return parts is not None and not any(part in EXCLUDED_DIR_NAMES for part in parts)

    # -- the rules a walk applies, entry by entry ------------------------------------

    def base_rules(self, report: SkipCallback | None = None) -> IgnoreChain:
        """The rules of the root before its own ignore files: ``.git/info/exclude``.
        ``report(rel_path, reason)`` hears why it was not read, if it was not."""
        return tuple(read_ignore_file(self.root / _GIT_EXCLUDE, "", _bind(report, _GIT_EXCLUDE)))

    def rules_in(
        self,
        directory: Path,
        prefix: str,
        inherited: IgnoreChain,
        names: Container[str] | None = None,
        report: SkipCallback | None = None,
    ) -> IgnoreChain:
        """``inherited`` plus the ignore files of ``directory`` (``prefix``: its path below
        the root, ``"sub/dir/"``). ``names``: the directory's entries when the caller
        listed it, so that absent ignore files are not opened. ``report(rel_path,
        reason)`` hears each ignore file that is not read (see ``read_ignore_file``)."""
        rules = list(inherited)
        for ignore_name in IGNORE_FILE_NAMES:
            if names is None or ignore_name in names:
                rel_path = prefix + ignore_name
                rules.extend(
                    read_ignore_file(directory / ignore_name, prefix, _bind(report, rel_path))
                )
        return tuple(rules)

    def with_excludes(self, rules: IgnoreChain) -> IgnoreChain:
        """The chain that judges a directory's entries: its rules, then the caller's excludes."""
        return (*rules, *self.exclude_rules) if self.exclude_rules else rules

    def skips_directory(self, name: str, rel_path: str, rules_here: IgnoreChain) -> bool:
        """Whether a walk leaves out the directory ``rel_path`` (judged by ``rules_here``,
        the chain of its parent, excludes included)."""
        return name in EXCLUDED_DIR_NAMES or is_ignored(rules_here, rel_path, is_dir=True)

    def is_too_large(self, size: int) -> bool:
        return size > self.max_file_size

    # -- one path, as a walk would judge it --------------------------------------------

    def selects(self, path: Path) -> bool:
        """Whether a walk of the root would yield ``path``: the verdict of ``discover``,
        for one file, without walking. A path that is a link, or lies below one, is never
        selected (wherever it leads: a walk follows none), nor anything but a regular
        file: whatever way a change arrives (the watcher, an editor's save), asking this
        first keeps what lies outside the workspace out of the index.

        Costs one ``lstat`` of the file, one link check per directory below the root
        and, the first time a directory is met, its ignore files and a look for a
        virtual environment's marker (remembered until ``forget_ignore_rules``).
        """
        parts = self.relative_parts(path)
        if not parts or language_for_path(parts[-1]) is None:
            return False
        rules = self._rules_of("", self.root, None)
        if rules is None:
            return False
        directory = self.root
        prefix = ""
        for name in parts[:-1]:
            rel_path = prefix + name
            if self.skips_directory(name, rel_path, self.with_excludes(rules)):
                return False
            directory = directory / name
            if directory.is_symlink():  # a walk does not descend into links
                return False
            prefix = rel_path + "/"
            rules = self._rules_of(prefix, directory, rules)
            if rules is None:
                return False
        if is_ignored(self.with_excludes(rules), prefix + parts[-1], is_dir=False):
            return False
        try:
            stat = os.lstat(path)
        except OSError:
            return False
        return stat_module.S_ISREG(stat.st_mode) and not self.is_too_large(stat.st_size)

    def forget_ignore_rules(self) -> None:
        """Drop the ignore files ``selects`` remembered: the next call reads them again."""
        with self._lock:
            self._directories.clear()

    def _rules_of(
        self, prefix: str, directory: Path, inherited: IgnoreChain | None
    ) -> IgnoreChain | None:
        """The rules in force in ``directory`` (None: a virtual environment, skipped whole)."""
        with self._lock:
            known = self._directories.get(prefix)
        if known is None:
            if inherited is None:  # the root: never a virtual environment
                base = self.base_rules(_log_skip)
                known = _DirectoryRules(self.rules_in(directory, "", base, report=_log_skip), False)
            else:
                is_venv = os.path.lexists(directory / VENV_MARKER)
                rules = self.rules_in(directory, prefix, inherited, report=_log_skip)
                known = _DirectoryRules(rules, is_venv)
            with self._lock:
                self._directories[prefix] = known
        return None if known.is_venv else known.rules


def read_ignore_file(
    path: Path, prefix: str, report: Callable[[str], None] | None = None
) -> list[IgnoreRules]:
    """The rules of one ignore file (none if it is absent, refused or only comments).

    Only a regular file (a link to one is followed) of at most
    :data:`MAX_IGNORE_FILE_SIZE` bytes is read, and never by a call that can
    block (:func:`~quiver.parse.read.read_regular_file`): a FIFO, a device, a
    file too large or unreadable is refused, and ``report(reason)`` hears why
    (an absent file is not worth a word). Costs one ``open``, one ``fstat`` and
    a read of at most 1 MiB.
    """
    try:
        data = read_regular_file(path, MAX_IGNORE_FILE_SIZE)
    except (FileNotFoundError, NotADirectoryError):
        return []  # absent (``.git`` is a file in a git worktree)
    except NotRegularFileError:
        _refuse(report, "not a regular file")
        return []
    except FileTooLargeError as error:
        _refuse(report, f"too large ({error.size:,} bytes, limit {MAX_IGNORE_FILE_SIZE:,})")
        return []
    except PermissionError:
        _refuse(report, "permission denied")
        return []
    except OSError as error:
        _refuse(report, f"cannot be read ({error.strerror or error})")
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if not any(line.strip() and not line.lstrip().startswith("#") for line in lines):
        return []
    patterns, refused = IgnorePatterns.from_lines(lines)
    if refused and report is not None:
        report(_refused_lines(refused))
    return [IgnoreRules(prefix, patterns)] if patterns else []


def _refused_lines(refused: list[RefusedLine]) -> str:
    """One line for the lines of an ignore file that are not applied (the first, and how many
    others: a hostile file may have thousands)."""
    first = refused[0]
    text = first.text if len(first.text) <= 80 else first.text[:77] + "..."
    said = f"line {first.number} not applied ({first.reason}): {text!r}"
    if len(refused) > 1:
        others = len(refused) - 1
        said += f", nor {others:,} other line{'s' if others > 1 else ''}"
    return said


def is_ignored(rules: Sequence[IgnoreRules], rel_path: str, *, is_dir: bool) -> bool:
    """Git's rule: the last matching pattern decides, deeper ignore files count later."""
    ignored = False
    for rule in rules:
        relative = rel_path[len(rule.prefix) :]
        result = rule.patterns.check(relative + "/" if is_dir else relative)
        if result is not None:
            ignored = result
    return ignored


def _refuse(report: Callable[[str], None] | None, reason: str) -> None:
    if report is not None:
        report(f"ignore file not read: {reason}")


def _bind(report: SkipCallback | None, rel_path: str) -> Callable[[str], None] | None:
    """``report`` for one path: hears the reason alone."""
    if report is None:
        return None
    return lambda reason: report(rel_path, reason)


def _log_skip(rel_path: str, reason: str) -> None:
    _log.info("%s: %s", rel_path, reason)
