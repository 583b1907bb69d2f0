"""workspace/symbol latency on ~100,000 symbols, through the engine and through the server.

Workspace: ``bench_workspace.py`` (the standard library, numpy and
hypothesis: ~2,700 files, ~102,000 symbols). Queries: the 240 of
``benchmarks/fuzzy.py`` (20 per length 1..12: prefixes, word-start
abbreviations, scattered subsequences, random letters), drawn from the
workspace's own symbol names, each run ``--runs`` times; and 20 sentences,
which add semantic matches (the query is embedded by the real model).

Measured:
  * engine: ``VectorSearchEngine.workspace_symbols(query, limit=100)``, the
    whole call (fuzzy match, records, result objects), names and sentences;
  * engine open: catalog, name index, Tantivy and vector maps (median of 3);
  * server: the ``workspace/symbol`` round trip over stdio (JSON, pygls),
    ``search.limit`` 100;
  * warm start: a fresh ``quiver serve`` process on the warm cache, from
    spawning it to the answer of the first ``workspace/symbol`` sent right
    after ``initialize`` (and to the ``initialize`` answer), median of 3.

Prints a table, writes ``benchmarks/results/workspace_symbol.json``.

    PYTHONPATH=server python benchmarks/workspace_symbol.py [--runs 3] [--no-server]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench_stats import percentile
from bench_workspace import (
    HERE,
    BenchmarkEmbedder,
    Prepared,
    open_engine,
    prepared_small_workspace,
    prepared_workspace,
)
from fuzzy import make_queries
from quiver.fuzzy import warm_up as warm_up_name_kernels

RESULTS = HERE / "results" / "workspace_symbol.json"
LIMIT = 100
OPTIONS = {"search": {"limit": LIMIT}}
SENTENCES = [
    "decode a json document into python objects",
    "parse command line arguments",
    "compress data with the deflate algorithm",
    "read a csv file row by row",
    "send an email over smtp",
    "format a date as an iso string",
    "compute the greatest common divisor",
    "wait for a child process to finish",
    "escape html special characters",
    "split a path into directory and file name",
    "retry a network request after a timeout",
    "generate a random permutation of a list",
    "sort items by a key function",
    "convert an integer to roman numerals",
    "open a temporary file that is deleted on close",
    "match a string against a regular expression",
    "compute the fourier transform of an array",
    "check whether a file is a symbolic link",
    "encode bytes as base64 text",
    "parse an url into its components",
]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50_ms": round(statistics.median(values_ms), 3),
        "p99_ms": round(percentile(values_ms, 0.99), 3),
    }


def engine_figures(runs: int) -> tuple[dict[str, Any], list[str]]:
    prepared = prepared_workspace()
    embedder = BenchmarkEmbedder()
    opens = []
    for _ in range(3):
        started = time.perf_counter()
        engine = open_engine(prepared.root, prepared.cache_dir, embedder)
        opens.append(time.perf_counter() - started)
        engine.close()
    engine = open_engine(prepared.root, prepared.cache_dir, embedder)
    try:
        names = [record.name for record in engine._catalog]
        queries = make_queries(names, random.Random(2026))
        warm_up_name_kernels()  # compiled, as a server has them after its first answers
        engine.workspace_symbols("warm up", limit=LIMIT, meaning=False)
        by_length: dict[str, list[float]] = {"1-2": [], "3-5": [], "6-8": [], "9-12": []}
        every: list[float] = []
        counts: list[int] = []
        for _ in range(runs):
            for query in queries:
                started = time.perf_counter()
                found = engine.workspace_symbols(query, limit=LIMIT)
                elapsed = (time.perf_counter() - started) * 1000.0
                every.append(elapsed)
                counts.append(len(found))
                bucket = next(
                    key
                    for key in by_length
                    if int(key.split("-")[0]) <= len(query) <= int(key.split("-")[1])
                )
                by_length[bucket].append(elapsed)
        embedder.use_real_model()
        sentences: list[float] = []
        for _ in range(runs):
            for sentence in SENTENCES:
                started = time.perf_counter()
                engine.workspace_symbols(sentence, limit=LIMIT)
                sentences.append((time.perf_counter() - started) * 1000.0)
        figures = {
            "symbols": len(engine._catalog),
            "files": len(engine._catalog.files),
            "open_s_median": round(statistics.median(opens), 3),
            "names": summary(every),
            "names_by_query_length": {k: summary(v) for k, v in by_length.items()},
            "median_results": statistics.median(counts),
            "sentences": summary(sentences),
        }
        return figures, queries
    finally:
        engine.close()


async def warm_starts(prepared: Prepared, runs: int = 3) -> dict[str, Any]:
    """Spawn → initialize answered, and spawn → first workspace/symbol answered."""
    from lsp_helpers import start_server, stop_server, wait_until_ready
    from lsprotocol import types as lsp

    starts, initialized, first_counts, cpu = [], [], [], []
    for _ in range(runs):
        spawned = time.perf_counter()
        client = await start_server(
            [prepared.root], server_cache_root(prepared), initialization_options=OPTIONS
        )
        answered_initialize = time.perf_counter()
        found = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="gsr"))
        starts.append(time.perf_counter() - spawned)
        if client._server is not None:
            cpu.append(process_cpu_seconds(client._server.pid))
        initialized.append(answered_initialize - spawned)
        first_counts.append(len(found or []))
        await wait_until_ready(client)
        await stop_server(client)
    return {
        "symbols": prepared.symbols,
        "to_first_answer_s_median": round(statistics.median(starts), 3),
        "to_initialize_answer_s_median": round(statistics.median(initialized), 3),
        "runs_s": [round(s, 3) for s in starts],
        # CPU the server process used until the answer: what an idle machine would take.
        "to_first_answer_cpu_s_median": round(statistics.median(cpu), 3) if cpu else None,
        "first_answer_results": first_counts,
    }


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cache_root(prepared: Prepared) -> Path:
    """The cache root under which the server finds ``prepared``'s index (a symlink)."""
    from incremental import link_server_cache

    link_server_cache(prepared.cache_dir, prepared.root)
    return prepared.cache_dir.parent / "server-cache-root"


async def server_figures(queries: list[str], runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent / "tests" / "lsp"))
    from lsp_helpers import start_server, stop_server, wait_until_ready
    from lsprotocol import types as lsp

    prepared = prepared_workspace()
    small = await warm_starts(prepared_small_workspace())
    large = await warm_starts(prepared)
    client = await start_server(
        [prepared.root], server_cache_root(prepared), initialization_options=OPTIONS
    )
    try:
        await wait_until_ready(client)
        latencies = []
        for _ in range(runs):
            for query in queries:
                started = time.perf_counter()
                await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=query))
                latencies.append((time.perf_counter() - started) * 1000.0)
    finally:
        await stop_server(client)
    return {"round_trip": summary(latencies), "warm_start": {"small": small, "large": large}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-server", action="store_true")
    args = parser.parse_args()

    engine, queries = engine_figures(args.runs)
    server = None if args.no_server else asyncio.run(server_figures(queries, args.runs))
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "limit": LIMIT,
        "engine": engine,
        "server": server,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(
        f"\nworkspace/symbol on {engine['symbols']:,} symbols ({engine['files']:,} files), "
        f"limit {LIMIT}; {results['machine']}"
    )
    print(f"{'measure':<52} {'p50 ms':>9} {'p99 ms':>9}")
    rows = [("engine: names, all queries", engine["names"])]
    rows += [
        (f"engine: names, query length {k}", v) for k, v in engine["names_by_query_length"].items()
    ]
    rows.append(("engine: sentences (+ semantic, real model)", engine["sentences"]))
    if server is not None:
        rows.append(("server: workspace/symbol round trip (names)", server["round_trip"]))
    for label, row in rows:
        print(f"{label:<52} {row['p50_ms']:>9.2f} {row['p99_ms']:>9.2f}")
    print(f"engine open (catalog, names, Tantivy, vectors): {engine['open_s_median']:.2f} s")
    if server is not None:
        for size, start in server["warm_start"].items():
            print(
                f"server warm start ({size}, {start['symbols']:,} symbols), spawn → first "
                f"workspace/symbol answer: {start['to_first_answer_s_median']:.2f} s wall, "
                f"{start['to_first_answer_cpu_s_median']} s CPU "
                f"(initialize answered after {start['to_initialize_answer_s_median']:.2f} s; "
                f"runs {start['runs_s']})"
            )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
