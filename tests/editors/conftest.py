"""Fixtures of the editor-client tests: the tools they need, or a skip that says why."""

from __future__ import annotations

import pytest
from editor_clients import find_nvim, find_quiver_server


@pytest.fixture(scope="session")
def nvim() -> str:
    """The Neovim to test with; skips (saying why) when none can be had."""
    path, reason = find_nvim()
    if path is None:
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def quiver_server() -> str:
    """The quiver executable with a working ``serve``; skips (saying why) otherwise."""
    path, reason = find_quiver_server()
    if path is None:
        pytest.skip(reason)
    return path
