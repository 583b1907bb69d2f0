"""Every matching test runs twice: on the plain-Python kernels (what a process uses
until ``warm_up`` has loaded numba's) and on the compiled ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from quiver import fuzzy
from quiver.fuzzy.compiled import ACTIVE


@pytest.fixture(autouse=True, params=["plain", "compiled"])
def kernels(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "compiled":
        fuzzy.warm_up()
        chosen = ACTIVE.compiled
        assert chosen is not None
    else:
        chosen = ACTIVE.plain
    previous = ACTIVE.kernels
    ACTIVE.kernels = chosen
    try:
        yield request.param
    finally:
        ACTIVE.kernels = previous
