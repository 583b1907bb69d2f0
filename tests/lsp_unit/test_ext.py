"""Quiver's LSP extensions (``quiver.lsp.ext``): what the server advertises and routes
matches what ext.py declares, and docs/protocol.md is updated whenever ext.py changes."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from lsprotocol import types as lsp
from pygls.protocol import default_converter

import quiver
from quiver.api import MAX_LIMIT, SEARCH_MODES
from quiver.lsp import ext
from quiver.lsp.server import QUIVER_HANDLERS, QuiverLanguageServer, create_server

REPO = Path(__file__).resolve().parents[2]
EXT_SOURCE = REPO / "server" / "quiver" / "lsp" / "ext.py"
PROTOCOL_DOC = REPO / "docs" / "protocol.md"


def initialize(server: QuiverLanguageServer) -> lsp.InitializeResult:
    """Runs the server's ``initialize`` as pygls does (the protocol's generator, which
    yields to the server's own handler) and returns the answer."""
    steps = server.protocol.lsp_initialize(
        lsp.InitializeParams(capabilities=lsp.ClientCapabilities())
    )
    answer: Any = None
    try:
        while True:
            handler, args, kwargs = steps.send(answer)
            answer = handler(*args, **(kwargs or {}))
    except StopIteration as stop:
        result: lsp.InitializeResult = stop.value
        return result


def wire(value: object) -> Any:
    """``value`` as pygls writes it on the wire (its converter, then JSON)."""
    return json.loads(json.dumps(default_converter().unstructure(value)))


def quiver_methods_named_in_ext() -> set[str]:
    return {
        value
        for value in vars(ext).values()
        if isinstance(value, str) and value.startswith("quiver/")
    }


# --- what is advertised, what is routed --------------------------------------------------


def test_the_advertised_capability_lists_exactly_the_methods_ext_declares() -> None:
    result = wire(initialize(create_server()))
    assert result["capabilities"]["experimental"] == {
        "quiver": {
            "version": ext.EXTENSIONS_VERSION,
            "requests": list(ext.REQUESTS),
            "notifications": list(ext.NOTIFICATIONS),
            "maxSearchLimit": MAX_LIMIT,
            "searchModes": list(SEARCH_MODES),
        }
    }
    # Every method name ext.py spells is in one of the two tables.
    assert quiver_methods_named_in_ext() == set(ext.REQUESTS) | set(ext.NOTIFICATIONS)


def test_the_server_registers_a_handler_for_every_request_ext_declares() -> None:
    server = create_server()
    assert set(QUIVER_HANDLERS) == set(ext.REQUESTS)
    registered = server.protocol.fm.features
    for method in ext.REQUESTS:
        assert method in registered, f"no handler for {method}"


def test_initialize_names_the_server_and_its_package_version() -> None:
    result = wire(initialize(create_server()))
    assert result["serverInfo"] == {"name": "quiver", "version": quiver.__version__}
    try:
        installed = importlib.metadata.version("quiver-lsp")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("quiver-lsp is not installed (run `make setup`)")
    # The clients compare serverInfo.version; it must be the version pip installed.
    assert quiver.__version__ == installed


def test_quiver_requests_reach_their_handlers_as_plain_json() -> None:
    protocol = create_server().protocol
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": ext.SEARCH,
            "params": {"query": "retry", "kinds": ["function"], "extra": {"nested": 1}},
        }
    )
    message = json.loads(body, object_hook=protocol.structure_message)
    # Not pygls's nested namedtuples: ext.read_params reads the JSON the client sent.
    assert message.params == {"query": "retry", "kinds": ["function"], "extra": {"nested": 1}}
    standard = json.loads(
        json.dumps({"jsonrpc": "2.0", "id": 4, "method": "shutdown"}),
        object_hook=protocol.structure_message,
    )
    assert isinstance(standard, lsp.ShutdownRequest)


def test_every_params_field_says_what_to_send_when_its_value_is_unusable() -> None:
    for params_type, _result in ext.REQUESTS.values():
        if params_type is None:
            continue
        for field in attrs.fields(params_type):
            message, suggestion = field.metadata["quiver.problem"]
            assert message and suggestion, f"{params_type.__name__}.{field.name}"


def test_results_are_sent_with_every_field_even_when_null() -> None:
    status = ext.StatusResponse(
        state="starting",
        message="Starting",
        role="writer",
        workspace_folders=(),
        files=0,
        files_indexed=0,
        symbols=0,
        generation=0,
        model=ext.ModelInfo(id="", dim=0),
        cache_dir="/tmp/quiver-cache",
        disk_bytes=0,
        last_update=None,
    )
    assert wire(status) == ext.to_json(status) == {
        "state": "starting",
        "message": "Starting",
        "role": "writer",
        "workspaceFolders": [],
        "files": 0,
        "filesIndexed": 0,
        "symbols": 0,
        "generation": 0,
        "model": {"id": "", "dim": 0},
        "cacheDir": "/tmp/quiver-cache",
        "diskBytes": 0,
        "lastUpdate": None,
    }
    assert wire(ext.ReindexResult(started=True)) == {"started": True}


# --- docs/protocol.md follows ext.py --------------------------------------------------------


def ext_hash() -> str:
    """The first 16 hex digits of the SHA-256 of ext.py (line endings normalised)."""
    source = EXT_SOURCE.read_bytes().replace(b"\r\n", b"\n")
    return hashlib.sha256(source).hexdigest()[:16]


def test_the_protocol_document_was_updated_with_ext_py() -> None:
    # As rust-analyzer does for lsp/ext.rs: ext.py declares the protocol, docs/protocol.md
    # explains it, and the recorded hash makes a change to one without the other fail here.
    doc = PROTOCOL_DOC.read_text(encoding="utf-8")
    recorded = re.search(r"lsp/ext\.py hash: ([0-9a-f]{16})", doc)
    assert recorded is not None, "docs/protocol.md lost its line `lsp/ext.py hash: ...`"
    actual = ext_hash()
    assert recorded.group(1) == actual, (
        f"server/quiver/lsp/ext.py changed (hash {actual}) but docs/protocol.md still records "
        f"{recorded.group(1)}.\nSuggestion: update docs/protocol.md for the change (params, "
        f"results, examples, and the clients in editors/ if the wire changed), then set its "
        f"line to `lsp/ext.py hash: {actual}`."
    )


def test_the_protocol_document_has_a_section_for_every_method() -> None:
    doc = PROTOCOL_DOC.read_text(encoding="utf-8")
    for method in [*ext.REQUESTS, *ext.NOTIFICATIONS]:
        assert f"## `{method}`" in doc, f"docs/protocol.md has no section for {method}"
