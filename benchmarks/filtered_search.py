"""Filtered semantic search: recall@10 against exact filtered brute force, and latency.

The workspace mixes languages so that a language filter has a known selectivity:
standard-library Python (~52 % of the symbols), C headers (~43 %: this
interpreter's and OpenSSL's), JavaScript (~4 %: npm's sources, all that discovery
keeps of them) and C++ headers (~1 %: libstdc++'s ``.hpp``). Document vectors come
from ``search.py``'s replay embedder (a pool of real model embeddings plus noise;
``--noise 1.5`` gives the unfiltered search about the recall it has on real
embeddings), so the IVF's lists have a realistic structure; a symbol's vector does
not depend on its language, so every filter's admitted symbols are spread over all
lists, the hard case for a filter applied after the probe.

For each filter (languages, path globs, kinds) and each natural-language query of
``queries/stdlib.json``: the exact filtered top 10 (every admitted live vector
scored, from the catalog's records and ``IVFIndex.reconstruct``), then
``engine.search`` in semantic mode with that filter, limit 10. Latency is the
``engine.search`` call with the query's embedding cached (the search work alone:
the real model adds ~5 ms to every query, filtered or not), after one untimed call
per query and setting (recall is taken from that one), the settings taking turns.

    python benchmarks/filtered_search.py [--symbols 100000] [--runs 3] [--noise 0.35]
        [--budgets 4096:2048,4096:4096]

``--budgets`` runs the filtered search once per pair ``EXACT:LIST`` of
``quiver.engine.filtered.EXACT_SCAN_ROWS`` and ``LIST_SCAN_ROWS``. ``--before FILE``
also runs the ``Searcher`` of an older ``server/quiver/engine/search.py`` (e.g. ``git
show 4091737:server/quiver/engine/search.py > /tmp/search_before.py``, the search
that filtered after the probe) on the same engine, taking turns with the current one.
"""

from __future__ import annotations

import argparse
import importlib.util
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
from quiver.engine import EngineOptions, VectorSearchEngine, filtered
from quiver.engine.catalog import SymbolRecord
from quiver.engine.search import Searcher
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


def _older_searcher(path: Path, engine: VectorSearchEngine) -> Searcher:
    """The ``Searcher`` of an older ``search.py``, loaded as a module of its own and
    wired to ``engine``'s parts: the old code path on the very same index."""
    spec = importlib.util.spec_from_file_location("quiver_search_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    older: Searcher = module.Searcher(engine._parts, engine._model)
    return older


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="timed passes over the queries")
    parser.add_argument(
        "--budgets", default="", help="EXACT_SCAN_ROWS:LIST_SCAN_ROWS pairs, comma-separated"
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="an older checkout's server/quiver/engine/search.py, run beside the current one",
    )
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

    default_budget = f"{filtered.EXACT_SCAN_ROWS}:{filtered.LIST_SCAN_ROWS}"
    budgets = [b for b in args.budgets.split(",") if b] or [default_budget]
    searchers = {"after": engine.search}
    if args.before is not None:
        searchers = {"before": _older_searcher(args.before, engine).search, **searchers}

    def use_budget(budget: str) -> None:
        exact, listed = budget.split(":")
        filtered.EXACT_SCAN_ROWS = int(exact)  # type: ignore[misc]
        filtered.LIST_SCAN_ROWS = int(listed)  # type: ignore[misc]

    rows = []
    for spec in FILTERS:
        admitted = np.array([int(r.id) for r in records if spec.admits(r)], dtype=np.int64)
        live = [(i, vectors.reconstruct(i)) for i in admitted.tolist()]  # type: ignore[arg-type]
        admitted = np.array([i for i, v in live if v is not None], dtype=np.int64)
        matrix = np.stack([v for _, v in live if v is not None]) if admitted.size else None
        # An unfiltered search is the plain IVF probe, before and after: no budget.
        settings: list[tuple[str, str | None]] = [
            (label, budget if label == "after" and spec.query else None)
            for label in searchers
            for budget in (budgets if label == "after" and spec.query else [None])
        ]
        samples: dict[tuple[str, str | None], list[float]] = {s: [] for s in settings}
        recalls: dict[tuple[str, str | None], list[float]] = {s: [] for s in settings}
        short = dict.fromkeys(settings, 0)
        for text in queries:
            expected = (
                exact_top(admitted, matrix, query_vectors[text]) if matrix is not None else []
            )
            query = SearchQuery(text, mode="semantic", limit=K, **spec.query)  # type: ignore[arg-type]
            # Untimed once per setting (warms this filter's pages), then the settings
            # take turns, so a burst of load on the shared machine hits them alike.
            for run in range(args.runs + 1):
                for setting in settings:
                    label, budget = setting
                    if budget is not None:
                        use_budget(budget)
                    t0 = time.perf_counter()
                    response = searchers[label](query)
                    elapsed = (time.perf_counter() - t0) * 1000.0
                    found = [int(r.symbol_id) for r in response.results]
                    if run == 0:
                        hit = len(set(found) & set(expected)) / len(expected) if expected else 1.0
                        recalls[setting].append(hit)
                        short[setting] += len(found) < len(expected)
                    else:
                        samples[setting].append(elapsed)
        rows.extend(
            {
                "filter": spec.label,
                "code": label,
                "admitted": int(admitted.size),
                "share": admitted.size / len(records),
                "budget": budget,
                "recall_at_10": statistics.fmean(recalls[(label, budget)]),
                "short_answers": short[(label, budget)],
                "p50_ms": statistics.median(samples[(label, budget)]),
                "p95_ms": percentile(samples[(label, budget)], 0.95),
            }
            for label, budget in settings
        )
    use_budget(default_budget)
    status = engine.status()
    engine.close()

    result = {
        "before": str(args.before) if args.before else None,
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
    RESULTS.write_text(json.dumps(result, indent=1))
    print(
        f"{status.symbols:,} symbols, nlist {vectors.nlist}, "
        f"nprobe {vectors.nprobe}, noise {args.noise}, {len(queries)} queries x {args.runs} runs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'filter':<22}{'code':>7}{'admitted':>10}{'share':>8}{'budget':>11}{'recall@10':>11}"
        f"{'short':>7}{'p50 ms':>9}{'p95 ms':>9}"
    )
    for row in rows:
        recall = "" if row["recall_at_10"] is None else f"{row['recall_at_10']:.3f}"
        budget = row["budget"] or ""
        print(
            f"{row['filter']:<22}{row['code']:>7}{row['admitted']:>10,}{row['share']:>8.1%}{budget:>11}"
            f"{recall:>11}{row.get('short_answers', ''):>7}"
            f"{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}"
        )


if __name__ == "__main__":
    main()
