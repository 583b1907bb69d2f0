"""Discovery honours ignore files and skips what is not the user's source."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quiver.parse import discover


def _write(root: Path, rel: str, text: str = "x = 1\n") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _found(root: Path, **options) -> list[str]:
    return [f.rel_path for f in discover(root, **options)]


def test_gitignore_files_apply_at_every_level_with_negation(tmp_path: Path) -> None:
    _write(tmp_path, ".gitignore", "*.gen.py\n/top_only.py\nlogs/\n")
    _write(tmp_path, "app/.gitignore", "secret.py\n!keep.gen.py\n")
    for rel in (
        "main.py",
        "x.gen.py",
        "top_only.py",
        "app/top_only.py",
        "app/secret.py",
        "app/keep.gen.py",
        "app/other.gen.py",
        "logs/run.py",
        "lib/secret.py",
    ):
        _write(tmp_path, rel)
    assert _found(tmp_path) == [
        "main.py",
        "app/keep.gen.py",
        "app/top_only.py",
        "lib/secret.py",
    ]


def test_quiverignore_and_caller_excludes_are_honoured(tmp_path: Path) -> None:
    _write(tmp_path, ".quiverignore", "generated/\n")
    _write(tmp_path, "generated/api.ts")
    _write(tmp_path, "fixtures/data.py")
    _write(tmp_path, "src/app.ts")
    assert _found(tmp_path) == ["fixtures/data.py", "src/app.ts"]
    assert _found(tmp_path, excludes=["fixtures/"]) == ["src/app.ts"]


def test_dependencies_venvs_build_outputs_and_vcs_dirs_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "node_modules/react/index.js")
    _write(tmp_path, "web/node_modules/lodash/lodash.js")
    _write(tmp_path, "env/pyvenv.cfg", "home = /usr/bin\n")
    _write(tmp_path, "env/lib/python3.11/site-packages/six.py")
    _write(tmp_path, ".git/hooks/pre-commit.py")
    _write(tmp_path, "target/debug/build.rs")
    _write(tmp_path, "dist/bundle.js")
    _write(tmp_path, "pkg/__pycache__/mod.py")
    _write(tmp_path, "web/src/index.js")
    _write(tmp_path, "README.md", "# not source\n")
    assert _found(tmp_path) == ["web/src/index.js"]


def test_files_over_the_size_limit_are_skipped_with_a_reason(tmp_path: Path) -> None:
    _write(tmp_path, "small.py", "x = 1\n")
    _write(tmp_path, "large.py", "x = 1\n" * 50)
    skipped: list[tuple[str, str]] = []
    found = _found(tmp_path, max_file_size=100, on_skip=lambda p, r: skipped.append((p, r)))
    assert found == ["small.py"]
    assert skipped == [("large.py", "too large (300 bytes, limit 100)")]


def test_symlink_loops_and_links_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    _write(root, "src/a.py")
    _write(outside, "b.py")
    (root / "src" / "loop").symlink_to(root / "src", target_is_directory=True)
    (root / "self.py").symlink_to(root / "self.py")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape.py").symlink_to(outside / "b.py")
    (root / "alias.py").symlink_to(root / "src" / "a.py")
    skipped: dict[str, str] = {}
    found = _found(root, on_skip=skipped.__setitem__)
    assert found == ["src/a.py"]
    assert skipped["self.py"] == "symlink loop"
    assert skipped["escape.py"].endswith("outside the workspace")
    assert skipped["alias.py"] == "symlink; its target is indexed under its own path"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads directories regardless of permissions")
def test_unreadable_directory_is_reported_and_the_walk_goes_on(tmp_path: Path) -> None:
    _write(tmp_path, "locked/a.py")
    _write(tmp_path, "open/b.py")
    (tmp_path / "locked").chmod(0)
    skipped: list[tuple[str, str]] = []
    try:
        found = _found(tmp_path, on_skip=lambda p, r: skipped.append((p, r)))
    finally:
        (tmp_path / "locked").chmod(0o700)
    assert found == ["open/b.py"]
    assert skipped[0][0] == "locked/"


def test_source_files_carry_language_size_and_mtime(tmp_path: Path) -> None:
    _write(tmp_path, "lib/Thing.java", "class Thing {}\n")
    (found,) = list(discover(tmp_path))
    assert found.language == "java"
    assert found.size == 15
    assert found.abs_path == tmp_path / "lib" / "Thing.java"
    assert found.mtime_ns == (tmp_path / "lib" / "Thing.java").stat().st_mtime_ns


def test_a_file_root_yields_just_that_file(tmp_path: Path) -> None:
    _write(tmp_path, "one.go", "package one\n")
    assert _found(tmp_path / "one.go") == ["one.go"]


def test_directory_that_cannot_be_listed_is_reported_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores directory modes, so simulate what the OS says to other users.
    _write(tmp_path, "locked/a.py")
    _write(tmp_path, "open/b.py")
    real_scandir = os.scandir

    def deny(path):  # type: ignore[no-untyped-def]
        if Path(path) == tmp_path / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", deny)
    skipped: list[tuple[str, str]] = []
    assert _found(tmp_path, on_skip=lambda p, r: skipped.append((p, r))) == ["open/b.py"]
    assert skipped == [("locked/", "directory cannot be read (Permission denied)")]
