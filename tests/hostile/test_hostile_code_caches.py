"""Caches of code that is loaded and run must be this user's alone (issue 18 §13).

numba's compiled kernels and the attrs bytecode cache are loaded from disk and
executed. A folder with a predictable name in the shared temporary directory
(``quiver-numba-<uid>``) can be created first by another user, or replaced by a
symlink to their folder: whatever they put there would run as this user. Such a
folder is refused: not owned by the user, writable by group or others, or a
symlink.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from quiver import jit
from quiver.private_dirs import read_private_bytes, trusted_cache_directory, untrusted_reason

_UID = os.geteuid()
_NOBODY = 65534


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _world_writable_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    path.chmod(0o777)
    return path


def _symlink_to_a_good_dir(path: Path, target: Path) -> Path:
    target.mkdir(parents=True, mode=0o700)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target, target_is_directory=True)
    return path


def test_a_directory_of_the_user_open_to_writes_by_others_is_untrusted(tmp_path: Path) -> None:
    reason = untrusted_reason(_world_writable_dir(tmp_path / "shared"))
    assert reason is not None and "write" in reason


def test_a_symlink_in_place_of_the_directory_is_untrusted(tmp_path: Path) -> None:
    link = _symlink_to_a_good_dir(tmp_path / "link", tmp_path / "elsewhere")
    assert untrusted_reason(link) == "it is a symbolic link"


@pytest.mark.skipif(_UID != 0, reason="giving a folder to another user needs root")
def test_a_directory_owned_by_someone_else_is_untrusted(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, _NOBODY, _NOBODY)
    reason = untrusted_reason(foreign)
    assert reason is not None and "owned by user id 65534" in reason


def test_the_users_own_private_or_read_only_directory_is_trusted(tmp_path: Path) -> None:
    (tmp_path / "private").mkdir(mode=0o700)
    (tmp_path / "readable").mkdir()
    (tmp_path / "readable").chmod(0o755)
    assert untrusted_reason(tmp_path / "private") is None
    assert untrusted_reason(tmp_path / "readable") is None


def test_a_missing_cache_directory_is_created_0700(tmp_path: Path) -> None:
    created = trusted_cache_directory(tmp_path / "a" / "b", purpose="test code")
    assert created == tmp_path / "a" / "b"
    assert _mode(tmp_path / "a") == 0o700 and _mode(tmp_path / "a" / "b") == 0o700


def test_an_untrusted_cache_directory_is_refused_and_the_reason_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = _world_writable_dir(tmp_path / "shared")
    with caplog.at_level(logging.WARNING, logger="quiver.private_dirs"):
        assert trusted_cache_directory(shared, purpose="test code") is None
    assert str(shared) in caplog.text and "Suggestion:" in caplog.text
    assert _mode(shared) == 0o777, "refused, not silently changed"


def test_code_is_read_only_from_a_file_only_the_user_can_have_written(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir(mode=0o700)
    (good / "code.bin").write_bytes(b"code")
    assert read_private_bytes(good / "code.bin") == b"code"
    (good / "code.bin").chmod(0o666)
    with pytest.raises(PermissionError):
        read_private_bytes(good / "code.bin")
    (good / "link.bin").symlink_to(tmp_path / "elsewhere.bin")
    (tmp_path / "elsewhere.bin").write_bytes(b"planted")
    with pytest.raises(OSError):
        read_private_bytes(good / "link.bin")
    shared = _world_writable_dir(tmp_path / "shared")
    (shared / "code.bin").write_bytes(b"planted")
    (shared / "code.bin").chmod(0o600)
    with pytest.raises(PermissionError):
        read_private_bytes(shared / "code.bin")


# -- numba's cache ------------------------------------------------------------------


@pytest.fixture
def fallbacks_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Folders for every fallback of jit.choose_numba_cache_dir, the package folder
    being read-only (here: not a folder at all)."""
    blocked = tmp_path / "package-file"
    blocked.write_text("not a folder: __pycache__ cannot be made here")
    home = tmp_path / "home"
    home.mkdir()
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    system_temp.chmod(0o1777)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    return {
        "source": blocked,
        "quiver": tmp_path / "quiver-cache",
        "xdg": tmp_path / "xdg",
        "home": home,
        "temp": system_temp,
    }


def test_a_world_writable_or_symlinked_numba_cache_is_skipped(
    fallbacks_only: dict[str, Path], tmp_path: Path
) -> None:
    _world_writable_dir(fallbacks_only["quiver"] / "numba")
    _symlink_to_a_good_dir(
        fallbacks_only["xdg"] / "quiver" / "numba", tmp_path / "someone-elses-numba"
    )
    env = {
        "QUIVER_CACHE_DIR": str(fallbacks_only["quiver"]),
        "XDG_CACHE_HOME": str(fallbacks_only["xdg"]),
    }
    chosen = jit.choose_numba_cache_dir(fallbacks_only["source"], env)
    assert chosen == fallbacks_only["home"] / ".cache" / "quiver" / "numba"
    assert _mode(chosen) == 0o700


@pytest.mark.parametrize("planted", ["world-writable", "symlink"])
def test_a_planted_predictable_temp_folder_is_never_used(
    fallbacks_only: dict[str, Path], tmp_path: Path, planted: str
) -> None:
    # every fallback before the temporary folder is unusable
    (fallbacks_only["home"] / ".cache").write_text("not a folder")
    predictable = fallbacks_only["temp"] / f"quiver-numba-{_UID}"
    if planted == "world-writable":
        _world_writable_dir(predictable)
    else:
        _symlink_to_a_good_dir(predictable, tmp_path / "attackers-folder")
    chosen = jit.choose_numba_cache_dir(fallbacks_only["source"], {})
    assert chosen is not None
    assert chosen != predictable
    assert untrusted_reason(chosen) is None
    assert _mode(chosen) == 0o700
    again = jit.choose_numba_cache_dir(fallbacks_only["source"], {})
    assert again != chosen, "a per-process folder, not a name someone can guess"


def test_the_temp_fallback_is_created_private(fallbacks_only: dict[str, Path]) -> None:
    (fallbacks_only["home"] / ".cache").write_text("not a folder")
    chosen = jit.choose_numba_cache_dir(fallbacks_only["source"], {})
    assert chosen == fallbacks_only["temp"] / f"quiver-numba-{_UID}"
    assert _mode(chosen) == 0o700


# -- the attrs bytecode cache (quiver.lsp.attrs_cache) ------------------------------



def _planted_attrs_cache(directory: Path) -> Path:
    """A valid attrs cache file, as its owner would write it, in ``directory``."""
    from quiver.lsp.attrs_cache import cached_attrs_bytecode

    path = directory / "attrs.marshal"
    with cached_attrs_bytecode(path):

        @__import__("attrs").define
        class Planted:
            x: int

    assert path.exists()
    return path


def test_attrs_code_is_not_loaded_from_a_folder_others_can_write(tmp_path: Path) -> None:
    from quiver.lsp.attrs_cache import CompileCache

    shared = tmp_path / "shared"
    shared.mkdir()
    path = _planted_attrs_cache(shared)
    shared.chmod(0o777)  # anyone could have replaced the file since
    assert CompileCache(path)._table == {}


def test_attrs_code_is_loaded_from_the_users_private_folder(tmp_path: Path) -> None:
    from quiver.lsp.attrs_cache import CompileCache

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    assert CompileCache(_planted_attrs_cache(private))._table != {}
