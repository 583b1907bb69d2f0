"""Run by test_refused_writes.py in a child process: index a tree, have the disk refuse
the writes of an update (the file size limit drops to nothing: every write that grows a
file fails with EFBIG, as on a full disk), then give the room back and go on writing,
in the same process and with the same engine.

Prints one line per step: ``indexed N``, ``refused <message>`` (twice: an update and a
re-index while the disk still refuses), then ``updated N`` and ``reindexed`` once
writes work again, and ``consistent`` if the catalog, vectors and text agree.
"""

from __future__ import annotations

import resource
import signal
import sys
from pathlib import Path

# Run as a script: the test helpers beside tests/ are not on the path by themselves.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hashing_embedder import HashingEmbedder
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.errors import IndexWriteError


def main() -> None:
    root, cache = Path(sys.argv[1]), Path(sys.argv[2])
    embedder = HashingEmbedder(dim=32)
    engine = VectorSearchEngine(
        root,
        embedder_factory=lambda: embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
        role="writer",
    )
    print(f"indexed {engine.index_tree().symbols_total}", flush=True)
    path = root / "net" / "http_client.py"
    text = path.read_text() + "\n\ndef written_once_there_is_room():\n    return 1\n"
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    for attempt in (
        lambda: engine.update_file(path, text),
        engine.index_tree,
    ):
        try:
            attempt()
            print("written", flush=True)
        except IndexWriteError as error:
            print(f"refused {error}".replace("\n", " | "), flush=True)
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    report = engine.update_file(path, text)
    print(f"updated {report.symbols_embedded}", flush=True)
    engine.index_tree()
    print("reindexed", flush=True)
    if not engine.consistency_problems():
        print("consistent", flush=True)
    engine.close()


if __name__ == "__main__":
    main()
