"""The name matcher's kernels compile once: a second process loads them from numba's disk cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from quiver import fuzzy

_REPO_SERVER = Path(fuzzy.__file__).resolve().parents[2]

_WARM_UP = """
import json
from quiver.fuzzy import compiled, warm_up
warm_up()
kernels = compiled.ACTIVE.compiled
stats = {}
for name in ("score_top", "positions_of"):
    dispatcher = getattr(kernels, name)
    stats[name] = {
        "hits": sum(dispatcher.stats.cache_hits.values()),
        "misses": sum(dispatcher.stats.cache_misses.values()),
    }
print(json.dumps(stats))
"""


def test_a_second_process_loads_the_compiled_kernels_from_the_cache() -> None:
    # This process compiles the kernels or loads them, and either way leaves them in
    # the cache (same environment, so the same cache folder as the child's).
    fuzzy.warm_up()
    env = {**os.environ, "PYTHONPATH": str(_REPO_SERVER)}
    done = subprocess.run(
        [sys.executable, "-c", _WARM_UP],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats == {
        "score_top": {"hits": 1, "misses": 0},
        "positions_of": {"hits": 1, "misses": 0},
    }
