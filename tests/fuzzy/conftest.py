"""Every matching test runs twice: on the plain-Python kernels (what a process uses
until ``warm_up`` has loaded numba's) and on the compiled ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from quiver import fuzzy


@pytest.fixture(autouse=True, params=["plain", "compiled"])
def kernels(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "compiled":
        fuzzy.warm_up()
        chosen = fuzzy._ACTIVE.compiled
        assert chosen is not None
    else:
        chosen = fuzzy._ACTIVE.plain
    previous = fuzzy._ACTIVE.kernels
    fuzzy._ACTIVE.kernels = chosen
    try:
        yield request.param
    finally:
        fuzzy._ACTIVE.kernels = previous
