"""Run by test_crash_safety.py in a child process: index a tree, to be killed at any point.

Prints ``ready`` once the engine is open (so the parent times its kill from there),
then ``done <symbols>`` if it was not killed first.
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
from quiver.errors import QuiverError


def main() -> None:
    root, cache = Path(sys.argv[1]), Path(sys.argv[2])
    if len(sys.argv) > 3:
        # Files may grow to this many bytes, no more: the closest thing to a full disk
        # that needs no mount. Writes past it fail with EFBIG instead of killing us.
        limit = int(sys.argv[3])
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    embedder = HashingEmbedder(dim=32)
    engine = VectorSearchEngine(
        root,
        embedder_factory=lambda: embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
        role="writer",
    )
    print("ready", flush=True)
    try:
        report = engine.index_tree()
        engine.close()
    except QuiverError as error:
        print(f"error {error}".replace("\n", " | "), flush=True)
        sys.exit(1)
    print(f"done {report.symbols_total}", flush=True)


if __name__ == "__main__":
    main()
