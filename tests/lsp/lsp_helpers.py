"""Helpers that drive the real ``quiver serve --stdio`` process from a pytest-lsp client.

Each test module shares one server where its tests do not interfere (a
module-scoped client on a module-scoped event loop): starting a server and
indexing with the real model costs seconds. The server runs with
``QUIVER_CACHE_DIR`` in a temporary directory and this checkout's
``server/`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from quiver.lsp.convert import path_to_uri

DATA = Path(__file__).resolve().parents[1] / "data"
SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"
#: Every wait for the server is bounded by this many seconds (a busy 2-core machine).
WAIT_S = 90.0

T = TypeVar("T")


class QuiverTestClient(LanguageClient):
    """pytest-lsp's client plus what Quiver's server sends beyond the basics."""

    def __init__(self) -> None:
        super().__init__(converter_factory=default_converter)
        self.status_notifications: list[dict[str, Any]] = []
        self.registrations: list[lsp.Registration] = []
        self.partial_results: dict[str, list[Any]] = {}


def _progress(client: QuiverTestClient, params: lsp.ProgressParams) -> None:
    # Partial results (a list) for our tokens; work-done progress for the rest.
    if isinstance(params.token, str) and params.token in client.partial_results:
        client.partial_results[params.token].extend(params.value)
        return
    DEFAULT_CLIENT_FEATURES[lsp.PROGRESS](client, params)


def _status_changed(client: QuiverTestClient, params: Any) -> None:
    client.status_notifications.append(params)


def _register_capability(client: QuiverTestClient, params: lsp.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)


def make_client() -> QuiverTestClient:
    client = QuiverTestClient()
    features = {
        **DEFAULT_CLIENT_FEATURES,
        lsp.PROGRESS: _progress,
        "quiver/statusChanged": _status_changed,
        lsp.CLIENT_REGISTER_CAPABILITY: _register_capability,
    }
    register_lsp_features(client, features)
    return client


def copy_polyglot(directory: Path) -> Path:
    root = directory / "polyglot"
    shutil.copytree(DATA / "polyglot", root)
    return root


def capabilities(*, work_done_progress: bool = True) -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        window=lsp.WindowClientCapabilities(work_done_progress=work_done_progress),
        workspace=lsp.WorkspaceClientCapabilities(
            workspace_folders=True,
            configuration=False,
            did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True
            ),
            symbol=lsp.WorkspaceSymbolClientCapabilities(),
        ),
        text_document=lsp.TextDocumentClientCapabilities(
            document_symbol=lsp.DocumentSymbolClientCapabilities(
                hierarchical_document_symbol_support=True
            ),
            synchronization=lsp.TextDocumentSyncClientCapabilities(did_save=True),
        ),
        general=lsp.GeneralClientCapabilities(position_encodings=["utf-8", "utf-16"]),
    )


async def start_server(
    folders: list[Path],
    cache_dir: Path,
    *,
    initialization_options: Any = None,
    work_done_progress: bool = True,
    send_initialized: bool = True,
    python_args: Sequence[str] = ("-m", "quiver", "serve", "--stdio"),
) -> QuiverTestClient:
    """Start ``python -m quiver serve --stdio`` (or ``python *python_args``) and initialize
    it with these folders (``send_initialized=False``: stop after the ``initialize`` answer)."""
    client = make_client()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SERVER_ROOT), os.environ.get("PYTHONPATH", "")]),
        "QUIVER_CACHE_DIR": str(cache_dir),
    }
    await client.start_io(sys.executable, *python_args, env=env)
    params = lsp.InitializeParams(
        capabilities=capabilities(work_done_progress=work_done_progress),
        root_uri=path_to_uri(folders[0]),
        workspace_folders=[lsp.WorkspaceFolder(uri=path_to_uri(f), name=f.name) for f in folders],
        initialization_options=initialization_options,
    )
    if send_initialized:
        await client.initialize_session(params)
    else:
        client.capabilities = params.capabilities
        await client.initialize_async(params)
    return client


async def stop_server(client: QuiverTestClient) -> None:
    await client.shutdown_session()
    await client.stop()


def plain(value: Any) -> Any:
    """pygls hands unknown results over as namedtuples: make them dicts and lists again."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    """A custom request (``quiver/...``) as plain JSON data; raises pygls's
    ``JsonRpcException`` on an error response."""
    return plain(await client.protocol.send_request_async(method, params))


async def wait_for(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    timeout: float = WAIT_S,
    interval: float = 0.05,
) -> T:
    """Poll ``probe`` until ``accept`` holds; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout:.0f} s; last value: {value!r}")
        await asyncio.sleep(interval)


async def wait_until(condition: Callable[[], bool], *, timeout: float = WAIT_S) -> None:
    """Wait until ``condition()`` holds (something the client received); bounded."""

    async def probe() -> bool:
        return condition()

    await wait_for(probe, bool, timeout=timeout, interval=0.02)


async def wait_until_ready(client: LanguageClient) -> dict[str, Any]:
    status: dict[str, Any] = await wait_for(
        lambda: request(client, "quiver/status", {}), lambda s: s["state"] == "ready"
    )
    return status


async def symbol_names(client: LanguageClient, query: str) -> list[str]:
    results = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=query))
    return [s.name for s in results or []]


async def search_names(client: LanguageClient, params: dict[str, Any]) -> list[str]:
    response = await request(client, "quiver/search", params)
    return [r["name"] for r in response["results"]]
