"""The attrs bytecode cache: faster lsprotocol imports, never different classes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from quiver.lsp import attrs_cache
from quiver.lsp.attrs_cache import CompileCache, cached_attrs_bytecode


def _define_point() -> type:
    @attrs.define(frozen=True)
    class Point:
        x: int
        y: int = 0

    return Point


def _check_point(point_class: type) -> None:
    point = point_class(1, y=2)
    assert repr(point) == "Point(x=1, y=2)"
    assert point == point_class(1, 2)
    assert point != point_class(2, 2)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        point.x = 3


def test_a_second_run_takes_every_method_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "attrs.marshal"
    with cached_attrs_bytecode(path) as first:
        _check_point(_define_point())
    assert first is not None and first.misses > 0 and first.hits == 0
    assert path.exists()
    with cached_attrs_bytecode(path) as second:
        _check_point(_define_point())
    assert second is not None
    # A frozen class's __hash__ embeds a per-process seed: at most that one misses.
    assert second.hits >= 1 and second.misses <= 1


def test_a_changed_class_is_compiled_from_its_new_source(tmp_path: Path) -> None:
    path = tmp_path / "attrs.marshal"
    with cached_attrs_bytecode(path):
        _define_point()
    with cached_attrs_bytecode(path) as cache:

        @attrs.define
        class Point:  # same name and file name, other fields
            x: int
            z: str = "z"

    assert cache is not None and cache.misses > 0
    assert repr(Point(1)) == "Point(x=1, z='z')"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a cache at all",
        b"QVRATTRS" + (1).to_bytes(4, "little") + importlib.util.MAGIC_NUMBER + b"\x00garbage",
        # Another interpreter's bytecode: never loaded, whatever follows.
        b"QVRATTRS" + (1).to_bytes(4, "little") + b"\x00\x00\r\n" + b"{}",
    ],
    ids=["empty", "foreign", "truncated", "other-interpreter"],
)
def test_an_unreadable_file_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "attrs.marshal"
    path.write_bytes(content)
    with cached_attrs_bytecode(path) as cache:
        _check_point(_define_point())
    assert cache is not None and cache.hits == 0
    assert CompileCache(path)._table, "rewritten with this run's code"


def test_an_unwritable_cache_directory_costs_nothing_but_time(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with cached_attrs_bytecode(blocked / "attrs.marshal") as cache:
        _check_point(_define_point())
    assert cache is not None and cache.misses > 0


def test_attrs_is_left_as_it_was_after_the_block(tmp_path: Path) -> None:
    import attr._make as attrs_make

    with cached_attrs_bytecode(tmp_path / "attrs.marshal"):
        assert "compile" in vars(attrs_make)
    assert "compile" not in vars(attrs_make)


def test_the_default_file_follows_the_cache_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUIVER_CACHE_DIR", str(tmp_path))
    assert attrs_cache.default_cache_file().parent == tmp_path / "startup"


def test_lsprotocol_imported_through_the_cache_is_the_same(tmp_path: Path) -> None:
    """Fresh interpreters import the server's LSP modules through one cache file: the
    second compiles (almost) nothing, and lsprotocol's classes behave as without it."""
    probe = (
        "p = types.Position(line=1, character=2)\n"
        "r = types.Range(start=p, end=types.Position(3, 4))\n"
        "s = types.SymbolInformation(name='f', kind=types.SymbolKind.Function,\n"
        "    location=types.Location(uri='file:///a', range=r))\n"
        "print(repr(p), repr(r), repr(s), p == types.Position(1, 2), p == types.Position(1, 3))\n"
        "print(sorted(a.name for a in attrs.fields(types.InitializeParams)))\n"
    )
    cached = (
        "import attrs\n"
        "from quiver.lsp.attrs_cache import cached_attrs_bytecode\n"
        "with cached_attrs_bytecode() as cache:\n"
        "    from lsprotocol import types\n"
        "    import quiver.lsp.server\n" + probe + "print(cache.hits, cache.misses)\n"
    )
    plain = "import attrs\nfrom lsprotocol import types\n" + probe
    env = {**os.environ, "QUIVER_CACHE_DIR": str(tmp_path)}

    def run(code: str) -> list[str]:
        shown = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        return shown.stdout.splitlines()

    expected = run(plain)
    first, second = run(cached), run(cached)
    assert first[:-1] == expected and second[:-1] == expected
    first_hits, first_misses = map(int, first[-1].split())
    second_hits, second_misses = map(int, second[-1].split())
    assert first_hits == 0 and first_misses > 500
    assert second_hits >= first_misses - 16 and second_misses <= 16
