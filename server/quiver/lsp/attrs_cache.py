"""Cached bytecode for the methods attrs generates while lsprotocol is imported.

Why: ``import lsprotocol.types`` defines ~570 attrs classes, and attrs writes
the source of each class's ``__init__``, ``__repr__`` and ``__eq__`` and
compiles it, every time, in every process: ~0.18 s of ``compile`` here, a
sixth of a warm server's start (the target is a first answer within 1 s).
Python caches bytecode for modules (``.pyc``) but not for generated code, so
this module does that one thing for attrs: while the server's LSP modules are
imported, attrs' call to ``compile`` goes through a table of code objects
loaded from one file, keyed by the whole source text, its file name and mode.

Why it cannot serve wrong code: a key holds the complete source, so another
attrs or lsprotocol version (or any change to a class) produces different
sources, misses the table and is compiled as usual; the file records the
interpreter's bytecode magic number and is ignored under another interpreter;
an unreadable, truncated or foreign file is ignored. Every failure falls back
to ``compile`` itself, and nothing but the timing depends on this module.

The file is rewritten (atomically: temp file, fsync, rename) when there was
no valid file or a run compiled or left unused more than ``STALE_ENTRIES``
entries, so it follows version changes; a few misses are normal (attrs
writes a per-process hash seed into the ``__hash__`` of frozen classes) and
are not worth a rewrite at every start. It lives beside the indexes, under the
user cache directory (``$QUIVER_CACHE_DIR``, ``$XDG_CACHE_HOME/quiver``).
"""

from __future__ import annotations
import __future__

import contextlib
import importlib.util
import logging
import marshal
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from quiver.private_dirs import make_private_directory, read_private_bytes

__all__ = ["CompileCache", "cached_attrs_bytecode", "default_cache_file"]

log = logging.getLogger(__name__)

#: Missing plus unused entries above which a run rewrites the file.
STALE_ENTRIES = 16
_MAGIC = b"QVRATTRS"
_FORMAT = 1
# Code objects are only valid for the interpreter whose bytecode magic wrote them.
_HEADER = _MAGIC + _FORMAT.to_bytes(4, "little") + importlib.util.MAGIC_NUMBER
# The compile() of this module must produce exactly what attrs' own call does:
# compile() inherits the __future__ flags of the module that calls it.
_FUTURE_FEATURES = tuple(
    getattr(__future__, name) for name in __future__.all_feature_names if hasattr(__future__, name)
)


def default_cache_file() -> Path:
    """``<user cache>/startup/attrs-<interpreter tag>.marshal``."""
    from quiver.cache_paths import default_cache_root

    tag = sys.implementation.cache_tag or "python"
    return default_cache_root() / "startup" / f"attrs-{tag}.marshal"


class CompileCache:
    """A table of code objects by (source, file name, mode), loaded from and saved to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._table = _load(path)
        self._used: dict[str, types.CodeType] = {}
        self.hits = 0
        self.misses = 0

    def compile_function(self, flags: int) -> Callable[..., Any]:
        """A drop-in ``compile`` for a module compiled with the ``__future__`` ``flags``."""

        def cached_compile(source: Any, filename: Any, mode: str, *args: Any, **kwargs: Any) -> Any:
            if args or kwargs or not isinstance(source, str) or not isinstance(filename, str):
                return compile(source, filename, mode, *args, **kwargs)
            key = f"{mode}\0{filename}\0{source}"
            code = self._table.get(key)
            if code is None:
                code = compile(source, filename, mode, flags=flags, dont_inherit=True)
                self.misses += 1
            else:
                self.hits += 1
            self._used[key] = code
            return code

        return cached_compile

    def save_if_changed(self) -> bool:
        """Write this run's code objects if the file's table is out of date; True if written."""
        unused = len(self._table.keys() - self._used.keys())
        if self.misses + unused <= STALE_ENTRIES and (self._table or not self.misses):
            return False
        from quiver.store.atomic import atomic_write_bytes

        try:
            make_private_directory(self.path.parent)
            payload = _HEADER + marshal.dumps(self._used)
            atomic_write_bytes(self.path, payload, sync_directory=False)
        except (OSError, ValueError) as error:  # a read-only cache only costs start-up time
            log.debug("Could not save the attrs bytecode cache %s: %s", self.path, error)
            return False
        return True


def _load(path: Path) -> dict[str, types.CodeType]:
    try:
        data = read_private_bytes(path)  # never code from a folder others can write
    except OSError:
        return {}
    if not data.startswith(_HEADER):
        return {}
    try:
        table = marshal.loads(data[len(_HEADER) :])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict):
        return {}
    return {
        key: code
        for key, code in table.items()
        if isinstance(key, str) and isinstance(code, types.CodeType)
    }


def _future_flags(module: types.ModuleType) -> int:
    flags = 0
    for feature in _FUTURE_FEATURES:
        if any(value is feature for value in vars(module).values()):
            flags |= feature.compiler_flag
    return flags


@contextlib.contextmanager
def cached_attrs_bytecode(path: Path | None = None) -> Iterator[CompileCache | None]:
    """Within the block, classes attrs builds take their methods' bytecode from ``path``.

    Use it around the imports that define many attrs classes (``lsprotocol.types``
    through pygls). Yields the cache (``None`` when attrs' internals are not the
    expected ones: then nothing is patched), and saves it on the way out.
    """
    try:
        import attr._make as attrs_make
    except ImportError:
        yield None
        return
    if not callable(getattr(attrs_make, "_compile_and_eval", None)):
        yield None  # another attrs layout: leave it alone
        return
    cache = CompileCache(path if path is not None else default_cache_file())
    had_own = "compile" in vars(attrs_make)
    previous = vars(attrs_make).get("compile")
    # attrs calls the builtin by its global name: a module global of that name wins.
    attrs_make.compile = cache.compile_function(_future_flags(attrs_make))  # type: ignore[attr-defined]
    try:
        yield cache
    finally:
        if had_own:
            attrs_make.compile = previous  # type: ignore[attr-defined]
        else:
            del attrs_make.compile  # type: ignore[attr-defined]
        cache.save_if_changed()
        log.debug("attrs bytecode: %d cached, %d compiled", cache.hits, cache.misses)
