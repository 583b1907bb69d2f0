"""numba kernels compile once: a second process loads them from the on-disk cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from quiver import jit

_REPO_SERVER = Path(jit.__file__).resolve().parents[1]

_BUILD = """
import sys
from pathlib import Path
import numpy as np
from quiver.ivf.index import IVFIndex
rng = np.random.default_rng(0)
vectors = rng.standard_normal((300, 16)).astype(np.float32)
index = IVFIndex.create(Path(sys.argv[1]), dim=16, model_id="m", nlist=1)
index.train(vectors)
index.add_with_ids(vectors, np.arange(300))
index.compact()
index.commit()
index.search(vectors[:1], 5)
"""

_QUERY = """
import json, sys
from pathlib import Path
import numpy as np
from quiver.ivf import kernels
from quiver.ivf.index import IVFIndex
index = IVFIndex.open(Path(sys.argv[1]))
index.search(np.ones(16, dtype=np.float32), 5)
stats = {}
for name in dir(kernels):
    dispatcher = getattr(kernels, name)
    if hasattr(dispatcher, "stats") and hasattr(dispatcher, "signatures"):
        stats[name] = {
            "hits": sum(dispatcher.stats.cache_hits.values()),
            "misses": sum(dispatcher.stats.cache_misses.values()),
        }
print(json.dumps(stats))
"""


def _run(script: str, directory: Path, cache: Path) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(_REPO_SERVER)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_second_process_opens_and_searches_without_compiling(tmp_path: Path) -> None:
    # One list keeps the cold first process cheap (training one list needs no kernel);
    # the query path is the same as with thousands of lists.
    cache = tmp_path / "numba-cache"
    _run(_BUILD, tmp_path / "ix", cache)  # cold: compiles and writes the cache
    stats = json.loads(_run(_QUERY, tmp_path / "ix", cache).strip().splitlines()[-1])
    assert stats["search_one"]["hits"] == 1
    compiled = {name: counts["misses"] for name, counts in stats.items() if counts["misses"]}
    assert compiled == {}
    assert any(path.suffix == ".nbi" for path in cache.rglob("*"))


def test_a_read_only_package_directory_falls_back_to_quivers_cache(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where __pycache__'s parent should be")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert jit.choose_numba_cache_dir(blocked, env) == tmp_path / "xdg" / "quiver" / "numba"
    env_with_quiver = {**env, "QUIVER_CACHE_DIR": str(tmp_path / "qc")}
    assert jit.choose_numba_cache_dir(blocked, env_with_quiver) == tmp_path / "qc" / "numba"


def test_a_user_choice_or_a_writable_package_keeps_numbas_default(tmp_path: Path) -> None:
    assert jit.choose_numba_cache_dir(tmp_path / "blocked", {"NUMBA_CACHE_DIR": "/x"}) is None
    assert jit.choose_numba_cache_dir(tmp_path / "pkg", {}) is None
    assert (tmp_path / "pkg" / "__pycache__").is_dir()


def test_warming_up_loads_every_query_kernel_before_the_first_query() -> None:
    from quiver.ivf import kernels
    from quiver.ivf.scanning import warm_up_kernels

    assert warm_up_kernels(batch=True) >= 0
    for kernel in (
        kernels.search_one,
        kernels.search_many,
        kernels.top_centroids,
        kernels.find_row,
    ):
        assert len(kernel.signatures) == 1
