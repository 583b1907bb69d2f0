"""Filtered semantic search: recall@10 against exact filtered brute force, and latency.

The workspace mixes languages so that a language filter has a known selectivity:
standard-library Python (~52 % of the symbols), C headers (~43 %: this
interpreter's and OpenSSL's), JavaScript (~4 %: npm's sources, all that discovery
keeps of them) and C++ headers (~1 %: libstdc++'s ``.hpp``). Document vectors come from ``search.py``'s replay
embedder (a pool of real model embeddings plus noise), so the IVF's lists have a
realistic structure; a symbol's vector does not depend on its language, so every
filter's admitted symbols are spread over all lists, the hard case for a filter
applied after the probe.

For each filter (languages, path globs, kinds) and each natural-language query of
``queries/stdlib.json``: the exact filtered top 10 (every admitted live vector
scored, from the catalog's records and ``IVFIndex.reconstruct``), then
``engine.search`` in semantic mode with that filter, limit 10. Latency is the
``engine.search`` call with the query's embedding cached (the search work alone:
the real model adds ~5 ms to every query, filtered or not).

    python benchmarks/filtered_search.py [--symbols 100000] [--runs 3] [--noise 0.35]
        [--budgets 4096:2048,4096:4096]

``--budgets`` runs the filtered search once per pair ``EXACT:LIST`` of
``quiver.engine.filtered.EXACT_SCAN_ROWS`` and ``LIST_SCAN_ROWS``. To measure the code
before the change, run this same script with ``PYTHONPATH`` pointing at an older checkout's
``server`` directory (``git archive <commit> server | tar -x -C /tmp/old``) and
``--label before``: it then measures the search as that code does it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import statistics
import sysconfig
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import search
from bench_stats import percentile
from quiver.api import SearchQuery
from quiver.embed.model import load_default_embedder
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.engine.catalog import SymbolRecord
from quiver.numeric import FloatVector
from quiver.parse import parse_files
from quiver.parse.discover import SourceFile
from quiver.parse.languages import language_for_path
from quiver.symbols import SymbolKind
from quiver.text.pathglob import path_matches
from search import POOL_SIZE, ReplayEmbedder

HERE = Path(__file__).parent
DATA = HERE / ".data"
RESULTS = HERE / "results" / "filtered_search.json"
K = 10

#: (language, share of the symbols, where its files come from, which suffixes).
SOURCES: tuple[tuple[str, float, tuple[Path, ...], tuple[str, ...]], ...] = (
    ("python", 0.49, (Path(sysconfig.get_path("stdlib")),), (".py",)),
    (
        "c",
        0.40,
        (Path(sysconfig.get_path("include")), Path("/usr/include/node/openssl")),
        (".h",),
    ),
    ("javascript", 0.10, (Path("/usr/lib/node_modules"),), (".js",)),
    ("cpp", 0.01, (Path("/usr/include/c++"),), (".hpp",)),
)


@dataclass(frozen=True, slots=True)
class Filter:
    label: str
    query: dict[str, tuple[object, ...]]
    admits: Callable[[SymbolRecord], bool]


FILTERS = (
    Filter("none", {}, lambda _: True),
    Filter("language cpp", {"languages": ("cpp",)}, lambda r: r.language == "cpp"),
    Filter(
        "language javascript",
        {"languages": ("javascript",)},
        lambda r: r.language == "javascript",
    ),
    Filter("language python", {"languages": ("python",)}, lambda r: r.language == "python"),
    Filter(
        "path python/email/**",
        {"paths": ("python/email/**",)},
        lambda r: path_matches(["python/email/**"], r.path),
    ),
    Filter(
        "path python/test/**",
        {"paths": ("python/test/**",)},
        lambda r: path_matches(["python/test/**"], r.path),
    ),
    Filter("kind class", {"kinds": (SymbolKind.CLASS,)}, lambda r: r.kind is SymbolKind.CLASS),
    Filter("kind method", {"kinds": (SymbolKind.METHOD,)}, lambda r: r.kind is SymbolKind.METHOD),
)


def _candidates(roots: Sequence[Path], suffixes: Sequence[str]) -> list[tuple[Path, Path]]:
    """(root, file) of every readable regular file with one of ``suffixes``, sorted."""
    found = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if "site-packages" in path.parts or path.suffix not in suffixes:
                continue
            regular = path.is_file() and not path.is_symlink()
            if regular and path.stat().st_size < 1 << 20 and language_for_path(path) is not None:
                found.append((root, path))
    return found


def build_tree(target: Path, wanted_symbols: int) -> dict[str, int]:
    """Copy files of each language until it holds its share of ``wanted_symbols``."""
    marker = target / ".built.json"
    if marker.exists():
        counts: dict[str, int] = json.loads(marker.read_text())
        return counts
    shutil.rmtree(target, ignore_errors=True)
    counts = {}
    for language, share, roots, suffixes in SOURCES:
        wanted = round(share * wanted_symbols)
        files = []
        for root, path in _candidates(roots, suffixes):
            stat = path.stat()
            # Named so that discovery keeps it: no ``node_modules``, no hidden directory.
            relative = path.relative_to(root).as_posix().replace("node_modules", "nm")
            relative = relative.replace("/.", "/_")
            files.append(
                SourceFile(path, f"{language}/{relative}", language, stat.st_size, stat.st_mtime_ns)
            )
        total = 0
        for parsed in parse_files(files):
            if total >= wanted:
                break
            if parsed.skipped_reason is not None or not parsed.symbols:
                continue
            destination = target / parsed.file.rel_path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(parsed.file.abs_path, destination)
            total += len(parsed.symbols)
        counts[language] = total
    marker.write_text(json.dumps(counts))
    return counts


class CachedQueries(ReplayEmbedder):
    """The replay embedder, with each query's real embedding kept after its first use."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._queries: dict[str, FloatVector] = {}

    def embed_query(self, text: str) -> FloatVector:
        vector = self._queries.get(text)
        if vector is None:
            vector = self._queries[text] = super().embed_query(text)
        return vector


def exact_top(admitted: np.ndarray, matrix: np.ndarray, query: FloatVector) -> list[int]:
    """Exact filtered top-K: every admitted vector scored; ties by smaller id."""
    scores = matrix @ query
    order = np.lexsort((admitted, -scores))[:K]
    return [int(i) for i in admitted[order]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="timed passes over the queries")
    parser.add_argument(
        "--budgets", default="", help="EXACT_SCAN_ROWS:LIST_SCAN_ROWS pairs, comma-separated"
    )
    parser.add_argument("--label", default="after")
    parser.add_argument(
        "--noise",
        type=float,
        default=search.NOISE,
        help="replay noise around each pool vector (more: looser clusters, lower IVF recall)",
    )
    args = parser.parse_args()

    tree = DATA / f"filtered-tree-{args.symbols}"
    languages = build_tree(tree, args.symbols)
    real = load_default_embedder()
    sample_texts = [f"function {name}" for name in sorted({p.stem for p in tree.rglob("*.py")})][
        :POOL_SIZE
    ]
    embedder = CachedQueries(real, real.embed_documents(sample_texts))
    search.NOISE = args.noise  # read by ReplayEmbedder.embed_documents
    suffix = "" if args.noise == 0.35 else f"-noise{args.noise}"
    cache = DATA / f"filtered-cache-{args.symbols}{suffix}"
    started = time.perf_counter()
    engine = VectorSearchEngine(
        tree, embedder_factory=lambda: embedder, cache_dir=cache, options=EngineOptions()
    )
    engine.index_tree()
    build_seconds = time.perf_counter() - started
    vectors = engine._vectors
    assert vectors is not None
    records = list(engine._catalog)
    queries = [q["query"] for q in json.loads((HERE / "queries" / "stdlib.json").read_text())]
    query_vectors = {text: embedder.embed_query(text) for text in queries}

    try:
        filtered_module = importlib.import_module("quiver.engine.filtered")
        default_budget = f"{filtered_module.EXACT_SCAN_ROWS}:{filtered_module.LIST_SCAN_ROWS}"
    except ImportError:  # the code before the change
        filtered_module, default_budget = None, ""
    budgets = [b for b in args.budgets.split(",") if b] or [default_budget]

    def use_budget(budget: str) -> None:
        if filtered_module is not None:
            exact, listed = budget.split(":")
            filtered_module.EXACT_SCAN_ROWS = int(exact)
            filtered_module.LIST_SCAN_ROWS = int(listed)

    def timed(query: SearchQuery) -> tuple[list[int], list[float]]:
        found: list[int] = []
        samples = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = engine.search(query)
            samples.append((time.perf_counter() - t0) * 1000.0)
            found = [int(r.symbol_id) for r in response.results]
        return found, samples

    rows = []
    for spec in FILTERS:
        admitted = np.array([int(r.id) for r in records if spec.admits(r)], dtype=np.int64)
        live = [(i, vectors.reconstruct(i)) for i in admitted.tolist()]  # type: ignore[arg-type]
        admitted = np.array([i for i, v in live if v is not None], dtype=np.int64)
        matrix = np.stack([v for _, v in live if v is not None]) if admitted.size else None
        truth = {
            text: exact_top(admitted, matrix, query_vectors[text]) if matrix is not None else []
            for text in queries
        }
        # An unfiltered search has no budget: it is the plain IVF probe.
        for budget in budgets if spec.query else [None]:
            if budget is not None:
                use_budget(budget)
            recalls, samples, short = [], [], 0
            for text in queries:
                found, times = timed(SearchQuery(text, mode="semantic", limit=K, **spec.query))  # type: ignore[arg-type]
                expected = truth[text]
                recalls.append(len(set(found) & set(expected)) / len(expected) if expected else 1.0)
                short += len(found) < len(expected)
                samples += times
            rows.append(
                {
                    "filter": spec.label,
                    "admitted": int(admitted.size),
                    "share": admitted.size / len(records),
                    "budget": budget if filtered_module is not None else None,
                    "recall_at_10": statistics.fmean(recalls),
                    "short_answers": short,
                    "p50_ms": statistics.median(samples),
                    "p95_ms": percentile(samples, 0.95),
                }
            )
    use_budget(default_budget)
    status = engine.status()
    engine.close()

    result = {
        "label": args.label,
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "load_average": os.getloadavg(),
        "symbols": status.symbols,
        "languages": languages,
        "nlist": vectors.nlist,
        "nprobe": vectors.nprobe,
        "noise": args.noise,
        "index_build_seconds": round(build_seconds, 1),
        "queries": len(queries),
        "runs": args.runs,
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    path = RESULTS.with_name(f"filtered_search-{args.label}.json")
    path.write_text(json.dumps(result, indent=1))
    print(
        f"{args.label}: {status.symbols:,} symbols, nlist {vectors.nlist}, "
        f"nprobe {vectors.nprobe}, noise {args.noise}, {len(queries)} queries x {args.runs} runs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'filter':<22}{'admitted':>10}{'share':>8}{'budget':>11}{'recall@10':>11}"
        f"{'short':>7}{'p50 ms':>9}{'p95 ms':>9}"
    )
    for row in rows:
        recall = "" if row["recall_at_10"] is None else f"{row['recall_at_10']:.3f}"
        budget = row["budget"] or ""
        print(
            f"{row['filter']:<22}{row['admitted']:>10,}{row['share']:>8.1%}{budget:>11}"
            f"{recall:>11}{row.get('short_answers', ''):>7}"
            f"{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}"
        )


if __name__ == "__main__":
    main()
