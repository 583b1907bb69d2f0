"""The VS Code extension (editors/vscode): ``npm test`` (tsc, eslint, unit
tests) and its integration test against the real ``quiver serve``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from editor_clients import VSCODE_EXTENSION, isolated_env


@pytest.fixture(scope="module")
def npm() -> str:
    """npm, with the extension's node_modules installed (``npm ci`` only when missing)."""
    node, npm_path = shutil.which("node"), shutil.which("npm")
    if node is None or npm_path is None:
        pytest.skip("node and npm are needed for the VS Code extension's tests and were not found")
    if not (VSCODE_EXTENSION / "node_modules").is_dir():
        started = time.monotonic()
        proc = subprocess.run(
            [npm_path, "ci", "--no-audit", "--no-fund"],
            cwd=VSCODE_EXTENSION,
            capture_output=True,
            text=True,
            timeout=280,
            check=False,
        )
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}{proc.stderr}"
        print(f"npm ci took {time.monotonic() - started:.1f} s")
    return npm_path


def run_npm(
    npm: str, script: str, tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    # HOME inside tmp_path keeps npm's own cache and logs out of the user's home.
    environment = isolated_env(tmp_path, **env)
    environment["npm_config_cache"] = str(tmp_path / "npm-cache")
    return subprocess.run(
        [npm, "run", script, *(["--", *args] if args else [])],
        cwd=VSCODE_EXTENSION,
        env=environment,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )


def test_npm_test_compiles_lints_and_passes_the_unit_tests(npm: str, tmp_path: Path) -> None:
    proc = run_npm(npm, "test", tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "# fail 0" in output or "ℹ fail 0" in output, output


def test_npm_run_package_builds_a_vsix_with_the_bundle(npm: str, tmp_path: Path) -> None:
    vsix = tmp_path / "quiver.vsix"
    proc = run_npm(npm, "package", tmp_path, "--out", str(vsix))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
    assert {"extension/package.json", "extension/dist/extension.js", "extension/readme.md"} <= names
    assert not any(name.startswith(("extension/src/", "extension/node_modules/")) for name in names)
    assert manifest["main"] == "./dist/extension.js"


@pytest.mark.slow
def test_extension_protocol_stack_talks_to_the_real_server(
    npm: str, quiver_server: str, tmp_path: Path
) -> None:
    proc = run_npm(npm, "test:integration", tmp_path, QUIVER_BIN=quiver_server)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "# fail 0" in output or "ℹ fail 0" in output, output
    assert "# SKIP" not in output, output
    # The bundle activated on the fake vscode module (not VS Code) against the real
    # server, the probe failures, and the protocol-stack suite all ran.
    for suite in (
        "the extension's bundle, activated on a fake vscode module, against the real server",
        "the extension's bundle on a fake vscode module, with no usable server",
        "quiver serve --stdio through the vscode-languageclient protocol stack",
    ):
        assert re.search(rf"^(ok \d+ - |✔ ){re.escape(suite)}", output, re.MULTILINE), output
