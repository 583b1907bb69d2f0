"""quiver.numeric: numpy helpers that keep the start-up path free of lazy numpy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from quiver.numeric import distinct


@given(hnp.arrays(np.int64, st.integers(0, 200), elements=st.integers(-50, 50)))
def test_distinct_equals_numpy_unique(values: np.ndarray) -> None:
    found = distinct(values)
    assert found.dtype == values.dtype
    assert found.tolist() == np.unique(values).tolist()


def test_distinct_never_imports_numpy_ma() -> None:
    # np.unique would: its first call imports numpy.ma, ~70 ms of a warm start.
    code = (
        "import sys, numpy as np\n"
        "from quiver.numeric import distinct\n"
        "distinct(np.array([3, 1, 3, 2]))\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert shown == "False"
