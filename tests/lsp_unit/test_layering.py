"""The layering rules: the fuzzy matcher is core (no LSP libraries at all), the
options parser needs no pygls, so both load without the server stack, and the
workspace package is usable by any front end."""

from __future__ import annotations

import ast
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
    modules = sorted((SERVER_ROOT / "quiver" / "workspace").glob("*.py"))
    assert "session.py" in {module.name for module in modules}
    statement = "; ".join(f"import quiver.workspace.{module.stem}" for module in modules)
    loaded = modules_loaded_by(statement.replace(".__init__", ""))
    assert "pygls" not in loaded
    assert "lsprotocol" not in loaded


def test_the_workspace_package_depends_on_no_front_end() -> None:
    # Any front end may drive a workspace: it reads options through its own protocol.
    offenders = {
        path: sorted(name for name in names if name.startswith(("quiver.lsp", "quiver.cli")))
        for path, names in quiver_imports_of("workspace").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_parse_stage_does_not_import_the_workspace() -> None:
    # File selection lives in the core; the workspace consults it, never the other way.
    offenders = {
        path: sorted(name for name in names if name.startswith("quiver.workspace"))
        for path, names in quiver_imports_of("parse").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_file_watcher_loads_without_the_engine_stack() -> None:
    # The watcher and the change vocabulary are light: importing them opens no index.
    loaded = full_modules_loaded_by("import quiver.workspace.watcher")
    assert "quiver.engine" not in loaded
    assert not {"numba", "tantivy", "fastembed", "onnxruntime"} & {
        name.split(".")[0] for name in loaded
    }


def test_the_server_starts_without_importing_the_engine_stack() -> None:
    # initialize is answered before numba, Tantivy, tree-sitter or the model load.
    loaded = modules_loaded_by("import quiver.lsp.server")
    assert "pygls" in loaded
    assert not {"numba", "tantivy", "tree_sitter", "fastembed", "onnxruntime"} & loaded


def test_the_command_line_starts_without_the_engine_stack() -> None:
    # `quiver serve` answers initialize before numba, Tantivy or the model load.
    loaded = modules_loaded_by("import quiver.cli; quiver.cli.build_parser()")
    assert not {"numba", "tantivy", "fastembed", "onnxruntime"} & loaded


def full_modules_loaded_by(statement: str) -> set[str]:
    code = f"{statement}; import sys; print('\\n'.join(sys.modules))"
    env = dict(os.environ, PYTHONPATH=str(SERVER_ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return set(out.split())


def test_the_shared_vocabulary_has_no_heavy_imports() -> None:
    # Every front end names modes and builds queries before the engine stack loads.
    loaded = modules_loaded_by("import quiver.api")
    assert not {"numpy", "numba", "tantivy", "tree_sitter", "fastembed", "pygls"} & loaded
    assert "lsprotocol" not in loaded


def test_the_command_line_does_not_import_the_lsp_layer() -> None:
    # The CLI is a front end beside the server, not on top of it; only `serve` loads it.
    loaded = full_modules_loaded_by("import quiver.cli; quiver.cli.build_parser()")
    assert not {name for name in loaded if name.startswith("quiver.lsp")}


def quiver_imports_of(package: str) -> dict[str, set[str]]:
    """Every ``quiver.*`` module each file of ``package`` imports, lazily or not (static)."""
    found: dict[str, set[str]] = {}
    for path in sorted((SERVER_ROOT / "quiver" / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(SERVER_ROOT))] = {n for n in names if n.startswith("quiver")}
    return found


def test_the_vector_index_does_not_import_the_embedder() -> None:
    # The IVF stores float32 rows; where they come from is the engine's business.
    offenders = {
        path: sorted(name for name in names if name.startswith("quiver.embed"))
        for path, names in quiver_imports_of("ivf").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


#: A class past this many lines is doing more than one job (the style rule says ~400).
MAX_CLASS_LINES = 420


def test_no_class_is_longer_than_the_limit() -> None:
    # One responsibility per class: a class that grows past the limit is split into
    # modules with one job each, as engine/, ivf/ and text/ were.
    sizes = {
        f"{path.relative_to(SERVER_ROOT)}:{node.lineno} {node.name}": (
            (node.end_lineno or node.lineno) - node.lineno + 1
        )
        for path in sorted((SERVER_ROOT / "quiver").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    }
    offenders = {name: lines for name, lines in sizes.items() if lines > MAX_CLASS_LINES}
    assert not offenders, f"classes longer than {MAX_CLASS_LINES} lines: " + ", ".join(
        f"{name} ({lines} lines)" for name, lines in sorted(offenders.items())
    )
