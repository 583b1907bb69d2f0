"""The Neovim plugin (editors/nvim) in a real headless Neovim: its Lua unit
tests, and the end-to-end scenario against the real ``quiver serve``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from editor_clients import FIXTURE_WORKSPACE, NVIM_PLUGIN, isolated_env

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)


def run_lua_spec(
    nvim: str,
    spec: str,
    tmp_path: Path,
    timeout: int,
    unset: tuple[str, ...] = (),
    **env: str,
) -> tuple[int, int, str]:
    """Runs ``editors/nvim/tests/<spec>`` in ``nvim --headless --clean`` with
    ``env`` set and the variables in ``unset`` removed; returns (passed, failed,
    output). Fails the test when the spec printed no summary."""
    command = [
        nvim,
        "--headless",
        "--clean",
        "-u",
        str(NVIM_PLUGIN / "tests" / "minimal_init.lua"),
        "-c",
        f"luafile {NVIM_PLUGIN / 'tests' / spec}",
    ]
    environment = isolated_env(tmp_path, **env)
    for name in unset:
        environment.pop(name, None)
    proc = subprocess.run(
        command,
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = proc.stdout + proc.stderr
    # Neovim writes the server's stderr to lsp.log: the first place to look.
    lsp_log = tmp_path / "home" / ".local" / "state" / "nvim" / "lsp.log"
    if lsp_log.is_file():
        output += "\n--- lsp.log (last 60 lines) ---\n" + "\n".join(
            lsp_log.read_text(errors="replace").splitlines()[-60:]
        )
    summaries = SUMMARY.findall(output)
    assert summaries, f"{spec} printed no summary (exit {proc.returncode}):\n{output}"
    passed, failed = (int(n) for n in summaries[-1])
    assert (proc.returncode == 0) == (failed == 0), f"exit {proc.returncode}:\n{output}"
    return passed, failed, output


def test_lua_unit_tests_pass_in_headless_neovim(nvim: str, tmp_path: Path) -> None:
    passed, failed, output = run_lua_spec(nvim, "unit_spec.lua", tmp_path, timeout=120)
    assert failed == 0, output
    assert passed > 0, output


@pytest.mark.slow
def test_plugin_searches_a_workspace_through_the_real_server(
    nvim: str, quiver_server: str, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURE_WORKSPACE, workspace)
    cache = tmp_path / "cache"
    cache.mkdir()
    passed, failed, output = run_lua_spec(
        nvim,
        "integration_spec.lua",
        tmp_path,
        timeout=280,
        QUIVER_BIN=quiver_server,
        QUIVER_TEST_WORKSPACE=str(workspace),
        QUIVER_TEST_CACHE=str(cache),
    )
    assert failed == 0, output
    assert passed > 0, output


@pytest.mark.slow
def test_setup_with_no_options_finds_quiver_on_path(
    nvim: str, quiver_server: str, tmp_path: Path
) -> None:
    """``require("quiver").setup({})`` and nothing else: the server is ``quiver``
    on PATH (the directory of the server under test, put first) and the index
    goes to the default cache under the isolated XDG_CACHE_HOME."""
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURE_WORKSPACE, workspace)
    server_dir = str(Path(quiver_server).parent)
    passed, failed, output = run_lua_spec(
        nvim,
        "path_setup_spec.lua",
        tmp_path,
        timeout=280,
        # The spec must not be able to find the server any other way.
        unset=("QUIVER_BIN", "QUIVER_CACHE_DIR"),
        PATH=server_dir + os.pathsep + os.environ.get("PATH", ""),
        QUIVER_EXPECTED_BIN=quiver_server,
        QUIVER_TEST_WORKSPACE=str(workspace),
    )
    assert failed == 0, output
    assert passed == 4, output


def test_telescope_extension_against_a_stub_of_telescope(nvim: str, tmp_path: Path) -> None:
    """lua/telescope/_extensions/quiver.lua against tests/telescope_stub.lua, a
    stub of telescope.nvim's API (pickers, finders, sorters, actions), not
    Telescope itself: telescope.nvim is a git repository, on neither PyPI nor
    npm, so it cannot be installed here. Checks the pickers the extension
    opens, the requests it sends and the entries it makes of the results."""
    passed, failed, output = run_lua_spec(nvim, "telescope_spec.lua", tmp_path, timeout=120)
    assert failed == 0, output
    assert passed == 10, output
