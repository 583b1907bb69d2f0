"""Workspace-symbol (fuzzy) search latency over 100,000 realistic identifiers.

Names: every definition in the Python standard library (functions, classes,
methods, parameters, assigned names; duplicates kept, as in a real workspace),
topped up with synthesized camelCase / snake_case / PascalCase names. Queries:
240 (20 per length 1..12) drawn from the names as prefixes, word-start
abbreviations and scattered subsequences, plus one in eight random letters
(which mostly match nothing).

Reports index build time, the per-query latency with the compiled kernels (p50/p99
over all runs, and by query length), the same queries on the uncompiled kernels
(the numpy search a server answers with until ``fuzzy.warm_up()`` has loaded numba's),
the cost of replacing one file's
symbols, and the start-up cost of a fresh process (import + build + a first search,
which runs uncompiled).
Prints a table and writes ``benchmarks/results/fuzzy.json``.

    PYTHONPATH=server python benchmarks/fuzzy.py [--names 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from bench_stats import percentile
from quiver import fuzzy
from quiver.fuzzy import NameIndex
from quiver.fuzzy.compiled import ACTIVE

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "fuzzy.json"
CACHE = HERE / ".data" / "stdlib_identifiers.txt"
WORDS = (
    "get",
    "set",
    "add",
    "remove",
    "find",
    "load",
    "save",
    "read",
    "write",
    "parse",
    "build",
    "make",
    "create",
    "update",
    "delete",
    "user",
    "users",
    "account",
    "session",
    "request",
    "response",
    "http",
    "server",
    "client",
    "socket",
    "stream",
    "buffer",
    "file",
    "path",
    "dir",
    "config",
    "option",
    "setting",
    "cache",
    "index",
    "tree",
    "node",
    "graph",
    "edge",
    "item",
    "list",
    "map",
    "table",
    "row",
    "column",
    "query",
    "result",
    "error",
    "handler",
    "manager",
    "factory",
    "service",
    "provider",
    "context",
    "event",
    "listener",
    "callback",
    "token",
    "symbol",
    "scope",
    "module",
    "package",
    "import",
    "export",
    "render",
    "view",
    "model",
    "state",
    "store",
    "action",
    "reducer",
    "effect",
    "hook",
    "test",
    "mock",
    "fixture",
    "retry",
    "timeout",
    "backoff",
    "encode",
    "decode",
    "serialize",
    "json",
    "xml",
    "yaml",
    "url",
    "uri",
    "id",
    "key",
    "value",
    "name",
    "type",
    "kind",
    "size",
    "count",
)


def stdlib_identifiers() -> list[str]:
    """Every definition name in the standard library, cached in benchmarks/.data/."""
    if CACHE.exists():
        return CACHE.read_text(encoding="utf-8").split("\n")
    names: list[str] = []
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(root.rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.append(node.name)
            elif isinstance(node, ast.arg):
                names.append(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append(node.id)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text("\n".join(names), encoding="utf-8")
    return names


def synthesized(count: int, rng: random.Random) -> list[str]:
    """camelCase, PascalCase and snake_case names of 2-4 words, some with digits."""
    out = []
    for _ in range(count):
        words = rng.sample(WORDS, rng.randint(2, 4))
        style = rng.random()
        if style < 0.4:
            name = words[0] + "".join(w.capitalize() for w in words[1:])
        elif style < 0.7:
            name = "".join(w.capitalize() for w in words)
        else:
            name = "_".join(words)
        if rng.random() < 0.1:
            name += str(rng.randint(1, 99))
        out.append(name)
    return out


def workspace_names(total: int, rng: random.Random) -> list[str]:
    stdlib = stdlib_identifiers()
    rng.shuffle(stdlib)
    taken = stdlib[: int(total * 0.7)]
    return taken + synthesized(total - len(taken), rng)


def word_starts(name: str) -> str:
    parts = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)
    return "".join(part[0] for part in parts).lower()


def make_queries(names: list[str], rng: random.Random, per_length: int = 20) -> list[str]:
    queries = []
    for length in range(1, 13):
        for index in range(per_length):
            name = rng.choice([n for n in rng.sample(names, 50) if len(n) >= length] or ["x"])
            kind = index % 8  # 0-6 drawn from a name, 7 random letters (mostly no match)
            if kind in (0, 3) and len(name) >= length:
                query = name[:length]
            elif kind in (1, 4) and len(word_starts(name)) >= length:
                query = word_starts(name)[:length]
            elif kind in (2, 5, 6) and len(name) >= length:
                picked = sorted(rng.sample(range(len(name)), length))
                query = "".join(name[p] for p in picked)
            else:
                query = "".join(rng.choice("qxzjkvwy") for _ in range(length))
            queries.append(query.lower() if rng.random() < 0.8 else query)
    return queries


def cold_process_first_search(names_file: Path) -> dict[str, float]:
    """Import + first search in a fresh process (numba kernels loaded from the disk cache)."""
    script = (
        "import time,sys;t=time.perf_counter();import quiver.fuzzy as f;t1=time.perf_counter();"
        "names=open(sys.argv[1],encoding='utf-8').read().split('\\n');t2=time.perf_counter();"
        "i=f.NameIndex();i.add(list(range(len(names))),names);t3=time.perf_counter();"
        "i.search('gsr');t4=time.perf_counter();"
        "print(t1-t,t3-t2,t4-t3)"
    )
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "server"))
    out = subprocess.run(
        [sys.executable, "-c", script, str(names_file)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    return {"import_s": float(out[0]), "build_s": float(out[1]), "first_search_s": float(out[2])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()

    rng = random.Random(2026)
    names = workspace_names(args.names, rng)
    queries = make_queries(names, rng)
    keys = list(range(len(names)))

    build_times = []
    index: NameIndex[int] = NameIndex()
    for _ in range(3):
        start = time.perf_counter()
        index = NameIndex()
        index.add(keys, names)
        build_times.append(time.perf_counter() - start)

    fuzzy.warm_up()  # as a server does once its first answers are out
    index.search("warm up", args.limit)
    samples: list[float] = []
    by_length: dict[int, list[float]] = {}
    matched = 0
    for run in range(args.runs):
        for query in queries:
            start = time.perf_counter()
            results = index.search(query, args.limit)
            elapsed = (time.perf_counter() - start) * 1000
            samples.append(elapsed)
            by_length.setdefault(len(query), []).append(elapsed)
            if run == 0 and results:
                matched += 1

    # Without the compiled kernels (reaching into the module to switch back to the
    # uncompiled search: a process uses it only until warm_up).
    active = ACTIVE
    compiled = active.kernels
    active.kernels = active.plain
    uncompiled: list[float] = []
    for query in queries:
        start = time.perf_counter()
        index.search(query, args.limit)
        uncompiled.append((time.perf_counter() - start) * 1000)
    active.kernels = compiled

    # One edited file: its ~40 symbols removed and added back under new keys.
    update_times = []
    name_of = dict(enumerate(names))
    next_key = len(names)
    for _ in range(50):
        batch = rng.sample(sorted(name_of), 40)
        new_keys = list(range(next_key, next_key + 40))
        new_names = [name_of.pop(k) for k in batch]
        start = time.perf_counter()
        index.remove(batch)
        index.add(new_keys, new_names)
        update_times.append((time.perf_counter() - start) * 1000)
        name_of.update(zip(new_keys, new_names, strict=True))
        next_key += 40

    names_file = HERE / ".data" / "fuzzy_names.txt"
    names_file.parent.mkdir(parents=True, exist_ok=True)
    names_file.write_text("\n".join(names), encoding="utf-8")
    cold = [cold_process_first_search(names_file) for _ in range(3)]

    buckets = {"1-2": (1, 2), "3-5": (3, 5), "6-8": (6, 8), "9-12": (9, 12)}
    result = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "note": "2 shared cores, other jobs running: figures are noisy",
        },
        "names": len(names),
        "distinct_names": len(set(names)),
        "queries": len(queries),
        "queries_with_results": matched,
        "runs": args.runs,
        "limit": args.limit,
        "build_s_median": statistics.median(build_times),
        "search_ms": {
            "p50": percentile(samples, 0.5),
            "p90": percentile(samples, 0.9),
            "p99": percentile(samples, 0.99),
            "max": max(samples),
        },
        "search_ms_by_query_length": {
            label: {
                "p50": percentile(values, 0.5),
                "p99": percentile(values, 0.99),
            }
            for label, (low, high) in buckets.items()
            if (values := [t for n, ts in by_length.items() if low <= n <= high for t in ts])
        },
        "uncompiled_search_ms": {
            "p50": percentile(uncompiled, 0.5),
            "p99": percentile(uncompiled, 0.99),
        },
        "replace_one_file_40_symbols_ms": {
            "p50": percentile(update_times, 0.5),
            "p99": percentile(update_times, 0.99),
        },
        "fresh_process_median_s": {key: statistics.median(c[key] for c in cold) for key in cold[0]},
    }

    print(
        f"fuzzy workspace-symbol search: {len(names):,} names "
        f"({result['distinct_names']:,} distinct), {len(queries)} queries x {args.runs} runs, "
        f"limit {args.limit}, {os.cpu_count()} cores (shared, noisy)"
    )
    print(f"{'measure':<40} {'p50':>10} {'p99':>10}")
    print(
        f"{'search, all queries (ms)':<40} {result['search_ms']['p50']:>10.2f} "
        f"{result['search_ms']['p99']:>10.2f}"
    )
    for label, stats in result["search_ms_by_query_length"].items():
        print(
            f"{'search, query length ' + label + ' (ms)':<40} {stats['p50']:>10.2f} "
            f"{stats['p99']:>10.2f}"
        )
    plain = result["uncompiled_search_ms"]
    print(
        f"{'search, before warm_up (numpy) (ms)':<40} {plain['p50']:>10.2f} {plain['p99']:>10.2f}"
    )
    update = result["replace_one_file_40_symbols_ms"]
    print(
        f"{'replace one file (40 symbols) (ms)':<40} {update['p50']:>10.2f} {update['p99']:>10.2f}"
    )
    print(f"{'index build (s, median of 3)':<40} {result['build_s_median']:>10.3f}")
    fresh = result["fresh_process_median_s"]
    print(f"{'fresh process: import (s)':<40} {fresh['import_s']:>10.3f}")
    print(f"{'fresh process: build (s)':<40} {fresh['build_s']:>10.3f}")
    print(f"{'fresh process: first search (s)':<40} {fresh['first_search_s']:>10.3f}")
    print(f"queries with at least one result: {matched}/{len(queries)}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
