"""End-to-end search latency on a 100,000-symbol index, query embedding included.

The corpus is real: standard-library files of the running interpreter, parsed
by tree-sitter into ~100,000 symbols, with real Tantivy. Embedding 100,000
symbols with the real model takes over 15 minutes on 2 cores, so the *document*
vectors come from a replay embedder: a pool of real model embeddings of
stdlib symbols, each document taking a pool vector (by its text hash) plus
noise. That keeps the vectors' cluster structure realistic for the IVF while
the figure measured, the latency of ``engine.search`` including the real
model embedding the query, is exactly what a user waits for. This embedder
exists only here, never in the product.

    python benchmarks/search.py [--symbols 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import statistics
import sysconfig
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench_stats import percentile
from quiver.api import SearchQuery
from quiver.embed.embedder import Embedder
from quiver.embed.model import load_default_embedder
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.numeric import FloatMatrix, FloatVector
from quiver.parse import discover, parse_files

HERE = Path(__file__).parent
DATA = HERE / ".data"
RESULTS = HERE / "results" / "search.json"
POOL_SIZE = 2_000
NOISE = 0.35


class ReplayEmbedder:
    """Benchmark only: real query embeddings, document vectors replayed from a real pool."""

    def __init__(self, real: Embedder, pool: FloatMatrix) -> None:
        self._real = real
        self._pool = pool

    @property
    def model_id(self) -> str:
        return f"replay-of-{self._real.model_id}"

    @property
    def dim(self) -> int:
        return self._real.dim

    @property
    def weights_sha256(self) -> str:
        return self._real.weights_sha256

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            rng = np.random.default_rng(seed)
            vector = self._pool[seed % len(self._pool)] + NOISE * rng.standard_normal(
                self.dim
            ).astype(np.float32) / np.sqrt(self.dim)
            out[row] = vector / np.linalg.norm(vector)
        return out

    def embed_query(self, text: str) -> FloatVector:
        return self._real.embed_query(text)


def build_tree(target: Path, wanted_symbols: int) -> int:
    """Copy stdlib files (sorted, deterministic) into ``target`` until ~``wanted_symbols``."""
    stdlib = Path(sysconfig.get_path("stdlib"))
    files = sorted(discover(stdlib), key=lambda f: f.rel_path)
    total = 0
    for parsed in parse_files(files):
        if total >= wanted_symbols:
            break
        if parsed.skipped_reason is not None:
            continue
        destination = target / parsed.file.rel_path
        if not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(parsed.file.abs_path, destination)
        total += len(parsed.symbols)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5, help="passes over the query set")
    args = parser.parse_args()

    tree = DATA / f"search-tree-{args.symbols}"
    build_tree(tree, args.symbols)
    real = load_default_embedder()
    sample_texts = [f"function {name}" for name in sorted({p.stem for p in tree.rglob("*.py")})][
        :POOL_SIZE
    ]
    pool = real.embed_documents(sample_texts)
    embedder = ReplayEmbedder(real, pool)
    cache = DATA / f"search-cache-{args.symbols}"
    started = time.perf_counter()
    engine = VectorSearchEngine(
        tree, embedder_factory=lambda: embedder, cache_dir=cache, options=EngineOptions()
    )
    report = engine.index_tree()
    build_seconds = time.perf_counter() - started
    status = engine.status()

    natural = [q["query"] for q in json.loads((HERE / "queries" / "stdlib.json").read_text())]
    names = sorted({r.name for r in engine._catalog})[:: max(1, len(engine._catalog) // 200)]
    queries = (natural * 4 + names)[: args.queries]
    figures: dict[str, dict[str, float]] = {}
    for mode in ("semantic", "text", "hybrid"):
        samples: list[float] = []
        for _ in range(args.runs):
            for text in queries:
                t0 = time.perf_counter()
                engine.search(SearchQuery(text, mode=mode, limit=20))  # type: ignore[arg-type]
                samples.append((time.perf_counter() - t0) * 1000.0)
        figures[mode] = {
            "p50_ms": statistics.median(samples),
            "p99_ms": percentile(samples, 0.99),
        }
    embed_samples = []
    for text in natural:
        t0 = time.perf_counter()
        real.embed_query(text)
        embed_samples.append((time.perf_counter() - t0) * 1000.0)
    figures["query embedding alone"] = {
        "p50_ms": statistics.median(embed_samples),
        "p99_ms": percentile(embed_samples, 0.99),
    }
    engine.close()

    result = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "symbols": status.symbols,
        "vectors": status.vectors,
        "files": status.files,
        "index_build_seconds": round(build_seconds, 1),
        "indexed_files_this_run": report.files_indexed,
        "queries": len(queries),
        "runs": args.runs,
        "latency": figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    print(
        f"{status.symbols:,} symbols in {status.files:,} files; "
        f"{len(queries)} queries x {args.runs} runs"
    )
    print(f"{'mode':<24}{'p50 ms':>10}{'p99 ms':>10}")
    for mode, row in figures.items():
        print(f"{mode:<24}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}")


if __name__ == "__main__":
    main()
