"""The VS Code extension inside real VS Code: code-server 4.100.3 (VS Code 1.100.3's
server with the real Node extension host), its workbench opened by Debian's headless
Chromium through playwright-core, the extension under development, the real
``quiver serve --stdio`` and model, on a copy of tests/data/polyglot.

``editors/vscode/test/realhost/driver.ts`` runs the checks of ``test/realhost/suite``
(in the extension host, with the browser typing, clicking and reading the UI for them)
once for this module, in a network namespace that has only loopback where the machine
allows it, and takes the screenshots in docs/screenshots. What it needs is installed
first by ``test/realhost/install.sh`` (apt + npm, about 80 s the first time, into the
git-ignored ``editors/vscode/.realhost``); where that cannot be done (not root, no
registry) every test here skips saying why, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from editor_clients import VSCODE_EXTENSION, isolated_env

REALHOST = VSCODE_EXTENSION / "test" / "realhost"
INSTALL = REALHOST / "install.sh"
DRIVER = VSCODE_EXTENSION / "out" / "test" / "realhost" / "driver.js"
CANNOT_INSTALL = 3  # install.sh's exit status when this machine cannot install
INSTALL_TIMEOUT_S = 900
NPM_TIMEOUT_S = 280
RUN_TIMEOUT_S = 300

# What the extension must do in real VS Code -> the start of the suite's check that shows it.
REQUIREMENTS = {
    "activation": "the extension activates on start-up and registers its commands",
    "status-bar-indexing-to-ready": "the status bar goes from starting through indexing to ready",
    "ctrl-t-fuzzy-name": "Ctrl+T's provider (vscode.executeWorkspaceSymbolProvider) finds a fuzzy",
    "ctrl-t-sentence": "Ctrl+T's provider answers a sentence semantically",
    "ctrl-t-ui": "Ctrl+T in the UI lists fuzzy name matches",
    "semantic-search-opens-result": "Semantic Search lists ranked results for a sentence",
    "find-similar-code": "Find Similar Code at the cursor",
    "settings-change-reaches-server": "a changed quiver.exclude reaches the running server",
    "missing-server": "a missing server: an error that says what to fix",
    "too-old-server": "a too-old server: an error with its version",
    "restart-to-ready": "back to the real server: restarting brings the status bar to ready",
    "repository-cannot-choose-server": "a repository's .vscode/settings.json cannot choose",
}
SCREENSHOTS = (
    "vscode-semantic-search",
    "vscode-workspace-symbols",
    "vscode-status-bar",
    "vscode-server-missing",
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(INSTALL_TIMEOUT_S + 3 * NPM_TIMEOUT_S + RUN_TIMEOUT_S),
]


@dataclass
class HostRun:
    """One run of the driver and what it left behind."""

    returncode: int
    output: str
    results: list[dict[str, Any]]
    work: Path
    screenshots: Path
    leftovers: list[str]
    loopback_only: bool
    install_s: float
    run_s: float

    def log_tail(self, lines: int = 80) -> str:
        """The driver's output and the last lines of VS Code's logs, for a failure message."""
        parts = [self.output]
        for name in ("host.log", "code-server.log"):
            path = self.work / name
            if path.is_file():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} (last {lines} lines) ---\n" + "\n".join(tail))
        return "\n".join(parts)


def unavailable(reason: str) -> NoReturn:
    """Skips, saying loudly what was not tested and why; fails instead under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the extension cannot be tested in real VS Code: {reason}")
    pytest.skip(f"NOT TESTED IN REAL VS CODE: {reason}")


def install_host() -> float:
    """Runs install.sh (a no-op when all is there); the seconds it took."""
    started = time.monotonic()
    try:
        proc = subprocess.run(
            ["bash", str(INSTALL)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{INSTALL} took longer than {INSTALL_TIMEOUT_S} s")
    if proc.returncode == CANNOT_INSTALL:
        unavailable(proc.stderr.strip().replace("\n", " "))
    assert proc.returncode == 0, f"{INSTALL} failed:\n{proc.stdout}{proc.stderr}"
    return time.monotonic() - started


def build_extension(tmp_path: Path) -> None:
    """node_modules (``npm ci`` when missing), then tsc and the bundle the host loads."""
    npm = shutil.which("npm")
    assert npm is not None
    env = isolated_env(tmp_path)
    env["npm_config_cache"] = str(tmp_path / "npm-cache")
    steps = [["run", "compile"], ["run", "bundle"]]
    if not (VSCODE_EXTENSION / "node_modules" / "playwright-core").is_dir():
        steps.insert(0, ["ci", "--no-audit", "--no-fund"])
    for step in steps:
        proc = subprocess.run(
            [npm, *step],
            cwd=VSCODE_EXTENSION,
            env=env,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
        assert proc.returncode == 0, f"npm {' '.join(step)} failed:\n{proc.stdout}{proc.stderr}"


def loopback_only_prefix() -> list[str]:
    """The command prefix that runs a command in a new network namespace with only
    loopback up (``unshare --net``, as root), or [] where this machine does not allow it."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if unshare is None or ip is None:
        return []
    try:
        probe = subprocess.run(
            [unshare, "--net", "--", ip, "link", "set", "lo", "up"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if probe.returncode != 0:
        return []
    return [unshare, "--net", "--", "sh", "-c", f'"{ip}" link set lo up && exec "$@"', "sh"]


def processes_left(groups: set[int], marker: str) -> list[str]:
    """Live processes in one of ``groups`` or whose command line mentions ``marker``."""
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # Fields after "(comm)": state, ppid, pgrp, ...
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if state != "Z" and (int(pgrp) in groups or marker in cmdline):
            found.append(f"{entry.name} (pgid {pgrp}): {cmdline[:160]}")
    return found


def kill_groups(groups: set[int]) -> None:
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


def run_driver(
    quiver: str, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], int, bool, float]:
    """Runs the driver in its own process group (killed if it overruns); answers what it
    printed, its process group, whether it ran with loopback only, and the seconds it took."""
    prefix = loopback_only_prefix()
    command = [
        *prefix,
        shutil.which("node") or "node",
        str(DRIVER),
        "--quiver",
        quiver,
        "--work",
        str(tmp_path / "work"),
        "--screenshots",
        str(tmp_path / "screenshots"),
        "--timeout-s",
        str(RUN_TIMEOUT_S - 30),
    ]
    started = time.monotonic()
    with subprocess.Popen(
        command,
        env=isolated_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as driver:
        try:
            output, _ = driver.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGTERM)
            try:
                output, _ = driver.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(driver.pid, signal.SIGKILL)
                output, _ = driver.communicate()
            output += f"\n# killed after {RUN_TIMEOUT_S} s"
    proc = subprocess.CompletedProcess(command, driver.returncode, output, "")
    return proc, driver.pid, bool(prefix), time.monotonic() - started


@pytest.fixture(scope="module")
def real_vscode(tmp_path_factory: pytest.TempPathFactory, quiver_server: str) -> HostRun:
    """The suite, run once in real VS Code; skips (or fails under CI=true) when it can't be."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} was not found; install Node 20 and npm")
    install_s = install_host()
    tmp_path = tmp_path_factory.mktemp("vscode-real")
    build_extension(tmp_path)
    proc, driver_pid, loopback_only, run_s = run_driver(quiver_server, tmp_path)
    work = tmp_path / "work"
    groups = {driver_pid}
    pgid_file = work / "code-server.pgid"
    if pgid_file.is_file():
        groups.add(int(pgid_file.read_text()))
    # Whatever outlives the driver by 5 s is a leftover; it is killed all the same.
    deadline = time.monotonic() + 5
    while (leftovers := processes_left(groups, str(tmp_path))) and time.monotonic() < deadline:
        time.sleep(0.1)
    kill_groups(groups)
    for line in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    results_file = work / "channel" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else []
    print(
        f"real VS Code: install {install_s:.1f} s, run {run_s:.1f} s"
        f" ({'loopback-only network namespace' if loopback_only else 'host network'})"
    )
    return HostRun(
        returncode=proc.returncode,
        output=proc.stdout,
        results=results,
        work=work,
        screenshots=tmp_path / "screenshots",
        leftovers=leftovers,
        loopback_only=loopback_only,
        install_s=install_s,
        run_s=run_s,
    )


@pytest.mark.parametrize("check", REQUIREMENTS.values(), ids=REQUIREMENTS.keys())
def test_check_passes_in_real_vscode(real_vscode: HostRun, check: str) -> None:
    result = next((r for r in real_vscode.results if r["name"].startswith(check)), None)
    assert result is not None, f"the check did not run: {check}\n{real_vscode.log_tail()}"
    assert result["ok"], f"{result['name']}:\n{result.get('error')}\n{real_vscode.log_tail()}"


def test_the_whole_suite_ran_and_passed(real_vscode: HostRun) -> None:
    output = real_vscode.output
    assert real_vscode.returncode == 0, real_vscode.log_tail()
    plan = [line for line in output.splitlines() if line.startswith("1..")]
    assert plan, output
    assert len(real_vscode.results) == int(plan[-1][3:]), output
    assert all(result["ok"] for result in real_vscode.results), output
    # Every check of the suite answers one of the requirements above.
    assert len(real_vscode.results) == len(REQUIREMENTS), output


def test_screenshots_are_small_pngs_of_the_window(real_vscode: HostRun) -> None:
    for name in SCREENSHOTS:
        path = real_vscode.screenshots / f"{name}.png"
        assert path.is_file(), f"{path} was not taken\n{real_vscode.output}"
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n", path
        width, height = struct.unpack(">II", header[16:24])
        assert 0 < width <= 1280 and 0 < height <= 800, (path, width, height)
        assert path.stat().st_size < 300_000, path


def test_nothing_is_left_running(real_vscode: HostRun) -> None:
    assert real_vscode.leftovers == [], "\n".join(real_vscode.leftovers)


def test_nothing_tried_to_reach_the_network(real_vscode: HostRun) -> None:
    """code-server's gallery, update check and telemetry are off: no name is looked up."""
    for name in ("host.log", "code-server.log"):
        text = (real_vscode.work / name).read_text(errors="replace")
        for symptom in ("getaddrinfo", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "open-vsx"):
            assert symptom not in text, f"{name} mentions {symptom}:\n{real_vscode.log_tail()}"
