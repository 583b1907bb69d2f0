"""Run by test_crash_safety.py in a child process: index a tree, to be killed at any point.

Prints ``ready`` once the engine is open (so the parent times its kill from there),
then ``done <symbols>`` if it was not killed first.
"""

from __future__ import annotations

import sys
from pathlib import Path

from quiver.embed.hashing import HashingEmbedder
from quiver.engine import EngineOptions, VectorSearchEngine


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
    print("ready", flush=True)
    report = engine.index_tree()
    engine.close()
    print(f"done {report.symbols_total}", flush=True)


if __name__ == "__main__":
    main()
