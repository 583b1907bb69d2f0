"""What a warm server's first answers cost: nothing on their path may import the heavy parts.

A warm start must answer its first ``workspace/symbol`` within a second of the
process starting (benchmarks/startup.py). numba (~0.35 s to import and load its
cache), the embedding model (~0.8 s) and numpy.ma (~70 ms, pulled in by a plain
``np.unique``) are loaded after those answers; this checks, in a fresh
interpreter, that opening a warm index and answering names and words does not
load them on the way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from hashing_embedder import HashingEmbedder
from quiver.engine import EngineOptions, VectorSearchEngine

DATA = Path(__file__).parent.parent / "data"

_FIRST_ANSWERS = """
import json, sys
from pathlib import Path
import quiver.workspace.session  # what the server imports before it opens a folder
from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine

def no_model():
    raise AssertionError("the model was asked for")

root, cache = Path(sys.argv[1]), Path(sys.argv[2])
engine = VectorSearchEngine(root, embedder_factory=no_model, cache_dir=cache,
                            options=EngineOptions(parse_workers=1))
names = [r.name for r in engine.workspace_symbols("ldsett", limit=5)]
words = [r.name for r in engine.search(SearchQuery("settings", mode="text", limit=5)).results]
heavy = ("numba", "numpy.ma", "fastembed", "onnxruntime")
print(json.dumps({"names": names, "words": words,
                  "loaded": [m for m in heavy if m in sys.modules], "role": engine.role}))
engine.close()
"""


def test_a_warm_index_answers_names_and_words_without_numba_or_the_model(
    tmp_path: Path,
) -> None:
    root = tmp_path / "workspace"
    shutil.copytree(DATA / "polyglot", root)
    cache = tmp_path / "cache"
    with VectorSearchEngine(
        root,
        embedder_factory=lambda: HashingEmbedder(dim=64),
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
    ) as engine:
        engine.index_tree()
    shown = subprocess.run(
        [sys.executable, "-c", _FIRST_ANSWERS, str(root), str(cache)],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(shown.stdout)
    assert answer["names"][0] == "LoadSettings"
    assert answer["words"]
    assert answer["role"] == "writer"
    assert answer["loaded"] == []
