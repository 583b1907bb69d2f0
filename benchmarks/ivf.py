"""IVF benchmark: Quiver's IVFFlat vs exact numpy brute force vs faiss IndexIVFFlat, one run.

Synthetic data: clustered unit vectors (a mixture of ``n / 1000`` Gaussian clusters of
uneven size around random unit centres, cosine to the centre ~0.5, so a cluster spans
several IVF lists and a query's neighbours are spread over them) and 1,000 held-out
queries from the same mixture; ground truth is the exact top-10 by inner product.
(Tighter clusters of ~256 points made nprobe 8 of 1,265 lists reach recall 0.998: too
easy to choose a default nprobe from.) Generated in chunks into ``benchmarks/.data``
(memory-mapped ``.npy``, reused by later runs) so a 1M × 384 set never exists twice
in memory. Real data: 8,000 symbols of the Python standard library embedded by the
product's model, 1,000 of them held out as queries (``real_dataset``).

Reported per size: k-means training and build time, single-query latency p50/p99
(median over ``--repeat`` passes of all queries), batch QPS, recall@10 for several
``nprobe``, bytes per vector on disk and in RSS (a fresh process that opens the
index and runs the queries), open time, time to touch one vector, add/delete of 50
vectors and their commit. faiss is optional (``pip install faiss-cpu``, the ``bench``
extra); it gets the same nlist, nprobe and training-set size.

    python benchmarks/ivf.py                 # synthetic 100k and 1M, real 8k
    python benchmarks/ivf.py --n 100000      # one synthetic size only
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "server"))

from quiver.ids import VectorId  # noqa: E402
from quiver.ivf.index import IVFIndex, default_nprobe  # noqa: E402
from quiver.ivf.kmeans import default_nlist, default_sample_size  # noqa: E402

try:  # faiss is a benchmark-time comparison only, never a runtime dependency
    import faiss
except ImportError:  # pragma: no cover - depends on the environment
    faiss = None

DATA = ROOT / ".data"
RESULTS = ROOT / "results"
K = 10
CHUNK = 50_000
Matrix = npt.NDArray[np.float32]


# Data -------------------------------------------------------------------------------------


def _unit(matrix: npt.NDArray[np.floating[Any]]) -> Matrix:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def _mixture(n: int, dim: int, seed: int) -> tuple[Matrix, npt.NDArray[np.float64], float]:
    rng = np.random.default_rng(seed)
    clusters = max(16, n // 1000)
    centres = _unit(rng.standard_normal((clusters, dim)))
    weights = rng.lognormal(0.0, 0.7, clusters)
    # Noise so that a point's cosine to its centre is ~0.5: 1 / sqrt(1 + dim·σ²) = 0.5.
    sigma = float(np.sqrt((1 / 0.25 - 1) / dim))
    return centres, weights / weights.sum(), sigma


def _draw(rng: np.random.Generator, count: int, mixture: tuple[Matrix, Any, float]) -> Matrix:
    centres, weights, sigma = mixture
    labels = rng.choice(centres.shape[0], size=count, p=weights)
    noise = rng.standard_normal((count, centres.shape[1]), dtype=np.float32) * np.float32(sigma)
    return _unit(centres[labels] + noise)


def dataset(
    n: int, dim: int, queries: int, seed: int = 0
) -> tuple[Matrix, Matrix, npt.NDArray[np.int64]]:
    """Base vectors (memory-mapped), held-out queries and exact top-10 ids; cached on disk."""
    DATA.mkdir(parents=True, exist_ok=True)
    stem = f"ivf-g2-n{n}-d{dim}-q{queries}-s{seed}"
    base_path, query_path, truth_path = (
        DATA / f"{stem}.{part}.npy" for part in ("base", "queries", "truth")
    )
    if not (base_path.exists() and query_path.exists() and truth_path.exists()):
        started = time.perf_counter()
        mixture = _mixture(n, dim, seed)
        base = np.lib.format.open_memmap(base_path.with_suffix(".tmp"), "w+", np.float32, (n, dim))
        for start in range(0, n, CHUNK):
            rng = np.random.default_rng([seed, 1, start])
            base[start : start + CHUNK] = _draw(rng, min(CHUNK, n - start), mixture)
        base.flush()
        del base
        held_out = _draw(np.random.default_rng([seed, 2]), queries, mixture)
        base = np.load(base_path.with_suffix(".tmp"), mmap_mode="r")
        truth = exact_top_k(base, held_out, K)[1]
        np.save(query_path, held_out)
        np.save(truth_path, truth)
        del base
        base_path.with_suffix(".tmp").replace(base_path)
        print(f"  generated {stem} in {time.perf_counter() - started:.1f} s", flush=True)
    return (
        np.load(base_path, mmap_mode="r"),
        np.load(query_path),
        np.load(truth_path),
    )


def real_dataset(count: int, queries: int) -> tuple[Matrix, Matrix, npt.NDArray[np.int64]]:
    """Real embeddings: ``count`` distinct symbol texts of the Python standard library.

    Functions, classes and methods read with ``ast`` (benchmarks/stdlib_symbols.py),
    turned into the product's embedding text (``quiver.embed.text.symbol_text``) and
    embedded by the product's model; ``queries`` of them, drawn at random, are held
    out as queries ("find code like this symbol"). Cached in benchmarks/.data: the
    embedding runs once (~35 texts/s on the busy 2-core machine).
    """
    stem = f"ivf-real-c{count}-q{queries}"
    paths = [DATA / f"{stem}.{part}.npy" for part in ("base", "queries", "truth")]
    if not all(path.exists() for path in paths):
        import random

        sys.path.insert(0, str(ROOT))
        from quiver.embed.model import load_default_embedder
        from quiver.embed.text import symbol_text
        from stdlib_symbols import STDLIB, symbols_of_file

        skip = {"test", "tests", "idlelib", "site-packages"}
        files = sorted(
            p for p in STDLIB.rglob("*.py") if not skip & set(p.relative_to(STDLIB).parts)
        )
        texts = sorted({symbol_text(s) for path in files for s in symbols_of_file(path)})
        random.Random(0).shuffle(texts)
        texts = texts[:count]
        started = time.perf_counter()
        vectors = load_default_embedder().embed_documents(texts).astype(np.float32)
        print(f"  embedded {len(texts):,} symbol texts in {time.perf_counter() - started:.0f} s")
        held_out, base = vectors[:queries], np.ascontiguousarray(vectors[queries:])
        truth = exact_top_k(base, held_out, K)[1]
        DATA.mkdir(parents=True, exist_ok=True)
        for path, array in zip(paths, (base, held_out, truth), strict=True):
            np.save(path, array)
    base, held_out, truth = (np.load(path) for path in paths)
    return base, held_out, truth


def exact_top_k(base: Matrix, queries: Matrix, k: int) -> tuple[Matrix, npt.NDArray[np.int64]]:
    """Exact top-k by inner product (numpy BLAS, chunked over the base); ties by smaller id."""
    best_scores = np.full((queries.shape[0], k), -np.inf, dtype=np.float32)
    best_ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
    for start in range(0, base.shape[0], 100_000):
        block = np.asarray(base[start : start + 100_000])
        scores = queries @ block.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
        merged_ids = np.concatenate([best_ids, top + start], axis=1)
        order = np.lexsort((merged_ids, -merged_scores), axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, 1)
        best_ids = np.take_along_axis(merged_ids, order, 1)
    return best_scores, best_ids


def recall_at_k(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> float:
    hits = sum(
        len(set(row[row >= 0].tolist()) & set(exact.tolist()))
        for row, exact in zip(found, truth, strict=True)
    )
    return hits / truth.size


# Timing helpers ---------------------------------------------------------------------------


def per_query(search: Callable[[Matrix], Any], queries: Matrix, repeat: int) -> dict[str, float]:
    """Single-query latency: every query timed alone; p50/p99 are medians over ``repeat`` passes."""
    p50s, p99s = [], []
    for _ in range(repeat):
        times = np.empty(queries.shape[0])
        for i in range(queries.shape[0]):
            query = queries[i : i + 1]
            started = time.perf_counter_ns()
            search(query)
            times[i] = time.perf_counter_ns() - started
        p50s.append(np.percentile(times, 50) / 1e6)
        p99s.append(np.percentile(times, 99) / 1e6)
    return {"p50_ms": float(np.median(p50s)), "p99_ms": float(np.median(p99s))}


def batch_qps(search: Callable[[Matrix], Any], queries: Matrix, repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        search(queries)
        rates.append(queries.shape[0] / (time.perf_counter() - started))
    return float(np.median(rates))


def median_seconds(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def rss_bytes() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "RssAnon", "RssFile"}:
            fields[key] = int(value.split()[0]) * 1024
    return fields


@numba.njit(cache=True, nogil=True)
def _touch_rows(vectors: Matrix, rows: npt.NDArray[np.int64]) -> float:
    total = 0.0
    for row in rows:
        total += vectors[row, 0]
    return total


# The runs ---------------------------------------------------------------------------------


def _progress(label: str, sweep: dict[str, Any]) -> None:
    print(
        f"    {label:<14} nprobe={sweep['nprobe']:<4} recall={sweep['recall_at_10']:.3f} "
        f"p50={sweep['p50_ms']:.3f} ms p99={sweep['p99_ms']:.3f} ms qps={sweep['batch_qps']:.0f}",
        flush=True,
    )


def run_ours(
    n: int, base: Matrix, queries: Matrix, truth: npt.NDArray[np.int64], args: argparse.Namespace
) -> dict[str, Any]:
    directory = DATA / f"ivf-index-{n}"
    shutil.rmtree(directory, ignore_errors=True)
    result: dict[str, Any] = {}
    index = IVFIndex.create(directory, dim=base.shape[1], model_id="synthetic")
    started = time.perf_counter()
    index.train(base)  # samples default_sample_size(nlist) rows internally
    result["train_s"] = time.perf_counter() - started
    result["nlist"] = index.nlist
    result["train_rows"] = min(n, default_sample_size(index.nlist))
    started = time.perf_counter()
    ids = np.arange(n, dtype=np.int64)
    for start in range(0, n, 200_000):
        index.add_with_ids(base[start : start + 200_000], ids[start : start + 200_000])
    result["add_s"] = time.perf_counter() - started
    started = time.perf_counter()
    index.compact()
    index.commit()
    result["write_s"] = time.perf_counter() - started
    result["build_s"] = result["add_s"] + result["write_s"]
    index.close()
    gc.collect()
    files = [path for path in directory.iterdir() if path.name != "writer.lock"]
    result["disk_bytes_per_vector"] = sum(path.stat().st_size for path in files) / n
    result["open_ms"] = 1e3 * median_seconds(lambda: IVFIndex.open(directory).close(), 7)

    reader = IVFIndex.open(directory)
    reader.search(queries[:2], K)  # load kernels
    result["default_nprobe"] = reader.nprobe
    sweeps = []
    for scan, rerank in (("int8", None), ("float32", 0)):
        for nprobe in args.nprobe:

            def search(q: Matrix, p: int = nprobe, r: int | None = rerank) -> Any:
                return reader.search(q, K, nprobe=p, rerank=r)

            sweep = {
                "scan": scan,
                "nprobe": nprobe,
                "recall_at_10": recall_at_k(search(queries)[1], truth),
                **per_query(search, queries, args.repeat),
                "batch_qps": batch_qps(search, queries, args.repeat),
            }
            sweeps.append(sweep)
            _progress(f"ours {scan}", sweep)
    result["sweep"] = sweeps

    rng = np.random.default_rng(1)
    rows = rng.integers(0, n, size=1_000_000)
    vectors = reader._state.lists.vectors
    _touch_rows(vectors, rows[:10])
    result["touch_row_ns"] = 1e9 * median_seconds(lambda: _touch_rows(vectors, rows), 5) / rows.size
    probe_ids = [VectorId(int(i)) for i in rng.integers(0, n, size=10_000)]
    result["reconstruct_us"] = (
        1e6 * median_seconds(lambda: [reader.reconstruct(i) for i in probe_ids], 5) / len(probe_ids)
    )
    reader.close()

    writer = IVFIndex.open(directory, writable=True)
    add_times, add_commit, remove_times, remove_commit = [], [], [], []
    for round_ in range(20):
        fresh = queries[(round_ * 50) % queries.shape[0] :][:50]
        new_ids = np.arange(50, dtype=np.int64) + n + round_ * 50
        started = time.perf_counter()
        writer.add_with_ids(fresh, new_ids)
        add_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        writer.commit(compact_if_needed=False)
        add_commit.append(time.perf_counter() - started)
        started = time.perf_counter()
        writer.remove_ids(rng.choice(n, size=50, replace=False))
        remove_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        writer.commit(compact_if_needed=False)
        remove_commit.append(time.perf_counter() - started)
    result["add50_ms"] = 1e3 * float(np.median(add_times))
    result["add50_commit_ms"] = 1e3 * float(np.median(add_commit))
    result["remove50_ms"] = 1e3 * float(np.median(remove_times))
    result["remove50_commit_ms"] = 1e3 * float(np.median(remove_commit))
    started = time.perf_counter()
    writer.compact()
    writer.commit()
    result["compact_s"] = time.perf_counter() - started
    writer.close()

    result["rss"] = rss_probe(
        directory, n, queries_path=DATA / f"ivf-rss-queries-{n}.npy", queries=queries
    )
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return result


def rss_probe(directory: Path, n: int, *, queries_path: Path, queries: Matrix) -> dict[str, float]:
    """Open the index in a fresh process, run every query at the default nprobe; RSS growth."""
    np.save(queries_path, queries)
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--rss-probe",
            str(directory),
            "--rss-queries",
            str(queries_path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    queries_path.unlink()
    return {
        "process_start_to_first_result_ms": measured["first_result_ms"],
        "open_plus_first_query_ms": measured["open_first_ms"],
        "rss_bytes_per_vector": measured["rss_delta"] / n,
        "rss_file_bytes_per_vector": measured["file_delta"] / n,
        "rss_anon_bytes_per_vector": measured["anon_delta"] / n,
    }


def process_age_s() -> float:
    """Seconds since the OS started this process (10 ms resolution, interpreter start included)."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    started_ticks = int(
        fields[19]
    )  # field 22 of the stat line: start time in clock ticks after boot
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - started_ticks / os.sysconf("SC_CLK_TCK")


def rss_probe_main(directory: Path, queries_path: Path) -> None:
    age_at_entry = process_age_s()
    entered = time.perf_counter()
    queries = np.load(queries_path)
    before = rss_bytes()
    opened = time.perf_counter()
    index = IVFIndex.open(directory)
    index.search(queries[0], K)
    first = time.perf_counter()
    for row in queries:
        index.search(row, K)
    after = rss_bytes()
    print(
        json.dumps(
            {
                "first_result_ms": 1e3 * (age_at_entry + first - entered),
                "open_first_ms": 1e3 * (first - opened),
                "rss_delta": after["VmRSS"] - before["VmRSS"],
                "file_delta": after["RssFile"] - before["RssFile"],
                "anon_delta": after["RssAnon"] - before["RssAnon"],
            }
        )
    )


def run_brute_force(
    base: Matrix, queries: Matrix, truth: npt.NDArray[np.int64], args: argparse.Namespace
) -> dict[str, Any]:
    matrix = np.ascontiguousarray(base)  # in memory, as an exact index would hold it

    def one(query: Matrix) -> npt.NDArray[np.int64]:
        scores = matrix @ query[0]
        top = np.argpartition(-scores, K - 1)[:K]
        return top[np.argsort(-scores[top])]

    sample = queries[: args.brute_queries]
    found = np.stack([one(sample[i : i + 1]) for i in range(sample.shape[0])])
    result = {
        "recall_at_10": recall_at_k(found, truth[: sample.shape[0]]),
        **per_query(one, sample, 1),
        "batch_qps": batch_qps(lambda q: exact_top_k(matrix, q, K), queries, 1),
    }
    matrix = np.empty((0, 0), dtype=np.float32)
    gc.collect()
    return result


def run_faiss(
    n: int, base: Matrix, queries: Matrix, truth: npt.NDArray[np.int64], args: argparse.Namespace
) -> dict[str, Any] | None:
    if faiss is None:
        return None
    dim = base.shape[1]
    nlist = default_nlist(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    train_rows = min(n, default_sample_size(nlist))
    rng = np.random.default_rng(0)
    sample = np.ascontiguousarray(base[np.sort(rng.choice(n, size=train_rows, replace=False))])
    result: dict[str, Any] = {
        "nlist": nlist,
        "train_rows": train_rows,
        "threads": faiss.omp_get_max_threads(),
    }
    started = time.perf_counter()
    index.train(sample)
    result["train_s"] = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, n, 200_000):
        index.add(np.ascontiguousarray(base[start : start + 200_000]))
    result["build_s"] = time.perf_counter() - started
    sweeps = []
    for nprobe in args.nprobe:
        index.nprobe = nprobe
        sweep = {
            "nprobe": nprobe,
            "recall_at_10": recall_at_k(index.search(queries, K)[1], truth),
            **per_query(lambda q: index.search(q, K), queries, args.repeat),
            "batch_qps": batch_qps(lambda q: index.search(q, K), queries, args.repeat),
        }
        sweeps.append(sweep)
        _progress("faiss", sweep)
    result["sweep"] = sweeps
    index = quantizer = None
    gc.collect()
    return result


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "faiss": getattr(faiss, "__version__", None),
        "load_average_at_start": os.getloadavg(),
        "commit": _git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "note": "2 cores shared with other jobs: figures are noisy (medians of several passes)",
    }


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def print_table(run: dict[str, Any]) -> None:
    """Print one size's results as Markdown tables (pasted into benchmarks/README.md)."""
    ours, flat, theirs = run["ours"], run["brute_force"], run.get("faiss")
    print(
        f"\n### {run.get('data', 'synthetic')} data, N = {run['n']:,} × {run['dim']} "
        f"(nlist {ours['nlist']}, default nprobe {ours['default_nprobe']})\n"
    )
    print(_row(["index", "nprobe", "recall@10", "p50 ms", "p99 ms", "batch QPS"]))
    print(_row(["---", "---:", "---:", "---:", "---:", "---:"]))
    lines = [(f"quiver IVF, {sweep['scan']} scan", sweep) for sweep in ours["sweep"]]
    lines += [("faiss IndexIVFFlat", sweep) for sweep in (theirs or {}).get("sweep", [])]
    lines += [("numpy brute force (exact)", {**flat, "nprobe": "all"})]
    for label, sweep in lines:
        print(
            _row(
                [
                    label,
                    str(sweep["nprobe"]),
                    f"{sweep['recall_at_10']:.3f}",
                    f"{sweep['p50_ms']:.3f}",
                    f"{sweep['p99_ms']:.3f}",
                    f"{sweep['batch_qps']:,.0f}",
                ]
            )
        )
    rss = ours["rss"]
    faiss_train = f"; faiss {theirs['train_s']:.1f} s" if theirs else ""
    faiss_add = f"; faiss add {theirs['build_s']:.1f} s" if theirs else ""
    facts = [
        (
            "k-means training",
            f"{ours['train_s']:.1f} s on {ours['train_rows']:,} rows{faiss_train}",
        ),
        (
            "build: assign + write lists",
            f"{ours['build_s']:.1f} s ({ours['add_s']:.1f} + {ours['write_s']:.1f}){faiss_add}",
        ),
        ("open the index", f"{ours['open_ms']:.2f} ms"),
        (
            "process start to first result",
            f"{rss['process_start_to_first_result_ms']:.0f} ms "
            f"(open + first query {rss['open_plus_first_query_ms']:.0f} ms)",
        ),
        ("disk bytes per vector", f"{ours['disk_bytes_per_vector']:.0f}"),
        (
            "RSS bytes per vector after the queries",
            f"{rss['rss_bytes_per_vector']:.0f} "
            f"(mapped files {rss['rss_file_bytes_per_vector']:.0f},"
            f" heap {rss['rss_anon_bytes_per_vector']:.0f})",
        ),
        (
            "touch one vector",
            f"{ours['touch_row_ns']:.0f} ns (random mapped row, numba); "
            f"reconstruct(id) {ours['reconstruct_us']:.2f} µs",
        ),
        ("add 50 vectors", f"{ours['add50_ms']:.2f} ms; commit {ours['add50_commit_ms']:.2f} ms"),
        (
            "delete 50 vectors",
            f"{ours['remove50_ms']:.2f} ms; commit {ours['remove50_commit_ms']:.2f} ms",
        ),
        ("compact (fold 1,000 adds, 1,000 deletes)", f"{ours['compact_s']:.2f} s"),
    ]
    print()
    print(_row(["measure", "value"]))
    print(_row(["---", "---"]))
    for label, value in facts:
        print(_row([label, value]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, action="append", help="index size (repeatable); default 100k and 1M"
    )
    parser.add_argument(
        "--real",
        type=int,
        help="also run on this many real stdlib symbol embeddings (default: 8000 when no "
        "--n is given, else none; 0 skips)",
    )
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--nprobe",
        type=int,
        nargs="+",
        default=[8, 16, 32, 64],
        help="nprobe values to sweep; the index's default nprobe is always added",
    )
    parser.add_argument("--repeat", type=int, default=3, help="passes per latency figure (median)")
    parser.add_argument(
        "--brute-queries", type=int, default=100, help="queries timed one by one for brute force"
    )
    parser.add_argument("--no-faiss", action="store_true")
    parser.add_argument(
        "--keep", action="store_true", help="keep the built index under benchmarks/.data"
    )
    parser.add_argument("--rss-probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rss-queries", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_probe:
        rss_probe_main(args.rss_probe, args.rss_queries)
        return 0
    sizes = args.n or [100_000, 1_000_000]
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / "ivf.json"
    # Runs of other sizes from earlier invocations are kept (each with its own machine note).
    earlier = json.loads(target.read_text()).get("runs", []) if target.exists() else []
    report: dict[str, Any] = {
        "runs": [
            run
            for run in earlier
            if run.get("data", "synthetic") != "synthetic" or run.get("n") not in sizes
        ]
    }
    real = args.real if args.real is not None else (0 if args.n else 8000)
    datasets: list[tuple[str, Callable[[], tuple[Matrix, Matrix, npt.NDArray[np.int64]]]]] = [
        (f"synthetic {n:,}", lambda n=n: dataset(n, args.dim, args.queries)) for n in sizes
    ]
    if real:
        datasets.append((f"real {real:,}", lambda: real_dataset(real, args.queries)))
        report["runs"] = [run for run in report["runs"] if run.get("data") != "real"]
    for label, load in datasets:
        print(label, flush=True)
        base, queries, truth = load()
        n = base.shape[0]
        default = default_nprobe(default_nlist(n))
        sweep = sorted({*args.nprobe, default})
        if min(sweep) < 1:
            parser.error("nprobe values must be at least 1")
        run_args = argparse.Namespace(**{**vars(args), "nprobe": sweep})
        run: dict[str, Any] = {
            "machine": machine(),
            "data": label.split()[0],
            "n": n,
            "dim": base.shape[1],
            "queries": queries.shape[0],
            "default_nprobe": default,
        }
        run["ours"] = run_ours(n, base, queries, truth, run_args)
        run["faiss"] = None if args.no_faiss else run_faiss(n, base, queries, truth, run_args)
        run["brute_force"] = run_brute_force(base, queries, truth, run_args)
        report["runs"].append(run)
        print_table(run)
        target.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {target.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
