"""The layering rules: the fuzzy matcher is core (no LSP libraries at all) and
the options parser needs no pygls, so both load without the server stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"


def modules_loaded_by(statement: str) -> set[str]:
    code = f"{statement}; import sys; print('\\n'.join(sys.modules))"
    env = dict(os.environ, PYTHONPATH=str(SERVER_ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return {name.split(".")[0] for name in out.split()}


def test_the_fuzzy_matcher_imports_no_lsp_library() -> None:
    loaded = modules_loaded_by("import quiver.fuzzy")
    assert "pygls" not in loaded
    assert "lsprotocol" not in loaded


def test_the_options_parser_imports_neither_pygls_nor_lsprotocol() -> None:
    loaded = modules_loaded_by("import quiver.lsp.options")
    assert "pygls" not in loaded
    assert "lsprotocol" not in loaded


def test_the_workspace_session_imports_neither_pygls_nor_lsprotocol() -> None:
    loaded = modules_loaded_by("import quiver.lsp.session")
    assert "pygls" not in loaded
    assert "lsprotocol" not in loaded


def test_the_server_starts_without_importing_the_engine_stack() -> None:
    # initialize is answered before numba, Tantivy, tree-sitter or the model load.
    loaded = modules_loaded_by("import quiver.lsp.server")
    assert "pygls" in loaded
    assert not {"numba", "tantivy", "tree_sitter", "fastembed", "onnxruntime"} & loaded


def test_the_command_line_starts_without_the_engine_stack() -> None:
    # `quiver serve` answers initialize before numba, Tantivy or the model load.
    loaded = modules_loaded_by("import quiver.cli; quiver.cli.build_parser()")
    assert not {"numba", "tantivy", "fastembed", "onnxruntime"} & loaded


def test_the_command_line_offers_the_engines_search_modes() -> None:
    from quiver.commands import SEARCH_MODES as CLI_MODES
    from quiver.engine import SEARCH_MODES as ENGINE_MODES

    assert CLI_MODES == ENGINE_MODES
