"""One rule for which files belong: a FileSelector's verdict on one path is the walk's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from quiver.parse import FileSelector, discover
from quiver.parse.selection import WATCH_GLOBS


def _write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _every_file(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    _write(root, ".gitignore", "*.gen.py\n/top_only.py\nlogs/\n")
    _write(root, ".git/info/exclude", "local/\n")
    _write(root, "app/.gitignore", "secret.py\n!keep.gen.py\n")
    _write(root, "app/.quiverignore", "fixtures/\n")
    for rel in (
        "main.py",
        "x.gen.py",
        "top_only.py",
        "app/top_only.py",
        "app/secret.py",
        "app/keep.gen.py",
        "app/other.gen.py",
        "app/fixtures/data.py",
        "app/deep/er/module.ts",
        "logs/run.py",
        "lib/secret.py",
        "local/notes.py",
        "node_modules/react/index.js",
        "web/node_modules/lodash/lodash.js",
        "env/lib/six.py",
        "target/debug/build.rs",
        "vendor/big.go",
        "generated/api.ts",
        "README.md",
        "Gemfile",
    ):
        _write(root, rel)
    _write(root, "env/pyvenv.cfg", "home = /usr/bin\n")
    _write(root, "huge.py", "x = 1\n" * 100)
    (root / "alias.py").symlink_to(root / "main.py")
    (root / "linked").symlink_to(root / "app", target_is_directory=True)
    return root


@pytest.mark.parametrize(
    "options",
    [{}, {"excludes": ["generated/", "*.go"]}, {"max_file_size": 100}],
    ids=["defaults", "excludes", "size-limit"],
)
def test_the_verdict_on_each_path_is_the_walks(tree: Path, options: dict[str, Any]) -> None:
    walked = {f.abs_path for f in discover(tree, on_skip=lambda *_: None, **options)}
    selector = FileSelector(tree, **options)
    assert walked  # the tree has files that belong
    for path in _every_file(tree):
        assert selector.selects(path) == (path in walked), path
    assert not selector.selects(tree / "linked" / "top_only.py")  # a walk follows no link
    assert not selector.selects(tree / "missing.py")


def test_names_alone_say_what_may_matter_below_the_root(tmp_path: Path) -> None:
    # The root itself lies under a directory that is always skipped below a root.
    root = tmp_path / "build" / "project"
    selector = FileSelector(root)
    assert selector.may_matter(root / "src" / "app.py")
    assert selector.may_matter(root / "Gemfile")
    assert selector.may_matter(root / "sub" / ".gitignore")
    assert not selector.may_matter(root / "README.md")
    assert not selector.may_matter(root / "node_modules" / "react" / "index.js")
    assert not selector.may_matter(tmp_path / "elsewhere.py")
    assert not selector.may_matter(root)
    assert selector.may_hold_files(root / "src")
    assert not selector.may_hold_files(root / "src" / "__pycache__")
    assert not selector.may_hold_files(tmp_path)


def test_ignore_files_read_are_remembered_until_forgotten(tmp_path: Path) -> None:
    path = _write(tmp_path, "scratch/notes.py")
    selector = FileSelector(tmp_path)
    assert selector.selects(path)
    _write(tmp_path, ".gitignore", "scratch/\n")
    assert selector.selects(path)  # the root's rules, as read before
    selector.forget_ignore_rules()
    assert not selector.selects(path)


def test_the_client_watches_every_supported_extension_and_the_ignore_files() -> None:
    extensions, names = WATCH_GLOBS
    assert "py" in extensions and "ts" in extensions
    assert ".gitignore" in names and ".quiverignore" in names
