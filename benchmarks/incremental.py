"""Incremental update latency: one edited function, from the edit to the next query seeing it.

The path measured: an editor buffer's new text → parse the file → embed the
changed symbol only (real model) → vector and text index update → a text
query finds a word that exists only in the edit. Workspace: the ~100,000
symbols, ~2,700 files of ``bench_workspace.py``; file: the standard
library's ``json/decoder.py`` (356 lines, 12 symbols); each edit appends a
statement with a fresh word to the body of ``JSONArray`` (so one symbol is
re-embedded; a new word each time, so the embedding cache never hits).

Measured through the engine:
  * ``deferred``: ``update_file(..., durable=False)`` (what the server does):
    searchable at once, committed by a later ``flush()``;
  * ``durable``: ``update_file(...)`` committing vectors, text and catalog
    (fsyncs) on every edit, as the engine did before the server needed it;
  * the cost of that ``flush()``, and the parse and embed steps alone.
and through the real server (``quiver serve --stdio``): ``didChange`` (full
text) → ``quiver/search`` polled until the word is found. That includes the
server's 50 ms debounce (by design: a burst of keystrokes is one update).

Prints a table, writes ``benchmarks/results/incremental.json``.

    PYTHONPATH=server python benchmarks/incremental.py [--edits 30] [--no-server]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench_stats import percentile
from bench_workspace import HERE, BenchmarkEmbedder, open_engine, prepared_workspace
from quiver.api import SearchQuery
from quiver.embed.text import symbol_text
from quiver.engine import VectorSearchEngine
from quiver.parse import extract_symbols

RESULTS = HERE / "results" / "incremental.json"
TARGET_FILE = "stdlib/json/decoder.py"
TARGET_FUNCTION = "JSONArray"


def summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50_ms": round(statistics.median(values_ms), 2),
        "p95_ms": round(percentile(values_ms, 0.95), 2),
        "max_ms": round(max(values_ms), 2),
    }


#: Makes every run's words new: a word seen by an earlier run would hit the embedding cache.
RUN_SALT = int(time.time()) * 100_000


def probe_word(n: int) -> str:
    """A word found nowhere else (lower-case letters, so the analyzer keeps it whole)."""
    letters = ""
    n += RUN_SALT
    while n:
        n, digit = divmod(n, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[digit]
    return f"zqprobe{letters}"


def edited_text(original: str, word: str) -> str:
    """The file with one statement holding ``word`` added as the target function's first line.

    First, not last: the model sees a symbol's signature and the head of its body
    (a 64-token budget), so only an edit there changes the embedded text; an edit
    further down is found by text search but (rightly) re-embeds nothing.
    """
    tree = ast.parse(original)
    function = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == TARGET_FUNCTION
    )
    first = function.body[0]
    indent = " " * first.col_offset
    lines = original.splitlines(keepends=True)
    lines.insert(first.lineno - 1, f"{indent}{word} = None\n")
    return "".join(lines)


def engine_edits(
    engine: VectorSearchEngine, path: Path, original: str, first: int, count: int, *, durable: bool
) -> tuple[list[float], list[int], list[float]]:
    """Wall ms per edit, symbols embedded per edit, and CPU ms per edit (all threads of
    this process: the model runs two; a figure the machine's load does not inflate)."""
    latencies, embedded, cpu = [], [], []
    for n in range(first, first + count):
        word = probe_word(n)
        text = edited_text(original, word)
        started, started_cpu = time.perf_counter(), time.process_time()
        report = engine.update_file(path, text, durable=durable)
        response = engine.search(SearchQuery(word, mode="text", limit=3))
        elapsed = (time.perf_counter() - started) * 1000.0
        cpu.append((time.process_time() - started_cpu) * 1000.0)
        if not response.results or response.results[0].name != TARGET_FUNCTION:
            raise RuntimeError(f"edit {n} not visible: {[r.name for r in response.results]}")
        latencies.append(elapsed)
        embedded.append(report.symbols_embedded)
    return latencies, embedded, cpu


def step_costs(
    embedder: BenchmarkEmbedder, path: Path, original: str, count: int
) -> dict[str, Any]:
    """Parse and embed alone, for the breakdown (the same work the update does)."""
    parse_ms, embed_ms = [], []
    for n in range(10_000, 10_000 + count):
        text = edited_text(original, probe_word(n)).encode()
        started = time.perf_counter()
        symbols = extract_symbols(text, TARGET_FILE, "python")
        parse_ms.append((time.perf_counter() - started) * 1000.0)
        target = next(s for s in symbols if s.name == TARGET_FUNCTION)
        started = time.perf_counter()
        embedder.embed_documents([symbol_text(target)])
        embed_ms.append((time.perf_counter() - started) * 1000.0)
    return {"parse": summary(parse_ms), "embed_one_symbol": summary(embed_ms)}


def flush_costs(
    engine: VectorSearchEngine, path: Path, original: str, first: int, count: int
) -> dict[str, dict[str, float]]:
    """``flush()`` after one deferred update: in total, and the part updates wait for
    (vector and text commits plus the catalog copy, under the update lock) apart from
    the catalog write that follows outside it (the same steps flush() runs)."""
    total, blocking, catalog_write = [], [], []
    for n in range(first, first + count):
        engine.update_file(path, edited_text(original, probe_word(n)), durable=False)
        started = time.perf_counter()
        engine.flush()
        total.append((time.perf_counter() - started) * 1000.0)
    for n in range(first + count, first + 2 * count):
        engine.update_file(path, edited_text(original, probe_word(n)), durable=False)
        started = time.perf_counter()
        with engine._update_lock:
            snapshot = engine._commit_indexes()
        locked = time.perf_counter()
        engine._write_catalog(snapshot)
        blocking.append((locked - started) * 1000.0)
        catalog_write.append((time.perf_counter() - locked) * 1000.0)
    return {
        "total": summary(total),
        "blocking_updates": summary(blocking),
        "catalog_write": summary(catalog_write),
    }


async def server_edits(
    root: Path, cache_dir: Path, path: Path, original: str, *, first: int, count: int
) -> tuple[list[float], float]:
    sys.path.insert(0, str(HERE.parent / "tests" / "lsp"))
    from lsp_helpers import request, start_server, stop_server, wait_until_ready
    from lsprotocol import types as lsp

    from quiver.lsp.convert import path_to_uri

    client = await start_server([root], cache_dir.parent / "server-cache-root")
    try:
        await wait_until_ready(client)
        uri = path_to_uri(path)
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=original
                )
            )
        )
        latencies = []
        search_ms = []
        warm_up = 2  # the first edit loads the model (it loads on first use): not measured
        for version, n in enumerate(range(first - warm_up, first + count), start=2):
            word = probe_word(n)
            text = edited_text(original, word)
            started = time.perf_counter()
            client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
            while True:
                asked = time.perf_counter()
                response = await request(
                    client, "quiver/search", {"query": word, "mode": "text", "limit": 3}
                )
                search_ms.append((time.perf_counter() - asked) * 1000.0)
                if response["results"] and response["results"][0]["name"] == TARGET_FUNCTION:
                    break
                if time.perf_counter() - started > 30:
                    raise RuntimeError(f"server edit {n} not visible after 30 s")
                await asyncio.sleep(0.002)
            if n >= first:
                latencies.append((time.perf_counter() - started) * 1000.0)
        return latencies, statistics.median(search_ms)
    finally:
        await stop_server(client)


def link_server_cache(prepared_cache: Path, root: Path) -> None:
    """Point the server's default cache location for ``root`` at the prepared cache."""
    from quiver.cache_paths import workspace_key

    cache_root = prepared_cache.parent / "server-cache-root"
    cache_root.mkdir(exist_ok=True)
    link = cache_root / workspace_key(root)
    if not link.exists():
        link.symlink_to(prepared_cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30, help="measured edits per variant")
    parser.add_argument("--no-server", action="store_true", help="skip the real-server run")
    args = parser.parse_args()

    prepared = prepared_workspace()
    path = prepared.root / TARGET_FILE
    original = path.read_text()
    embedder = BenchmarkEmbedder()
    embedder.use_real_model()
    engine = open_engine(prepared.root, prepared.cache_dir, embedder)
    try:
        engine.index_tree()  # the prepared index may lag the files by earlier runs' edits
        symbols = len(engine.document_symbols(path))
        engine_edits(engine, path, original, 0, 3, durable=False)  # warm-up
        deferred, embedded, deferred_cpu = engine_edits(
            engine, path, original, 100, args.edits, durable=False
        )
        flushes = flush_costs(engine, path, original, 200, max(5, args.edits // 3))
        durable, _, durable_cpu = engine_edits(
            engine, path, original, 300, args.edits, durable=True
        )
        steps = step_costs(embedder, path, original, args.edits)
        engine.update_file(path)  # back to the file on disk
        status = engine.status()
    finally:
        engine.close()

    server: dict[str, Any] | None = None
    if not args.no_server:
        link_server_cache(prepared.cache_dir, prepared.root)
        latencies, search_p50 = asyncio.run(
            server_edits(
                prepared.root, prepared.cache_dir, path, original, first=400, count=args.edits
            )
        )
        server = {"did_change_to_visible": summary(latencies), "search_p50_ms": search_p50}

    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "workspace": {"files": status.files, "symbols": status.symbols, "vectors": status.vectors},
        "file": {"path": TARGET_FILE, "lines": len(original.splitlines()), "symbols": symbols},
        "symbols_embedded_per_edit": statistics.median(embedded),
        "engine_deferred": summary(deferred),
        "engine_deferred_cpu": summary(deferred_cpu),
        "engine_durable": summary(durable),
        "engine_durable_cpu": summary(durable_cpu),
        "flush": flushes,
        "steps": steps,
        "server": server,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(
        f"\nIncremental update of {TARGET_FILE} ({results['file']['lines']} lines, "
        f"{symbols} symbols) in a workspace of {status.files:,} files / "
        f"{status.symbols:,} symbols; {results['machine']}"
    )
    print(f"{'path':<58} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    rows = [
        ("engine: update (deferred commit) + query sees it", results["engine_deferred"]),
        ("  the same, CPU time of this process", results["engine_deferred_cpu"]),
        ("engine: update (durable commit each time) + query", results["engine_durable"]),
        ("  the same, CPU time of this process", results["engine_durable_cpu"]),
        ("engine: flush() of one deferred update", results["flush"]["total"]),
        ("  of which updates wait (vectors + text commit)", results["flush"]["blocking_updates"]),
        ("  of which in the background (catalog write)", results["flush"]["catalog_write"]),
        ("  step: parse the file", steps["parse"]),
        ("  step: embed the changed symbol (real model)", steps["embed_one_symbol"]),
    ]
    if server is not None:
        rows.append(("server: didChange → quiver/search finds it", server["did_change_to_visible"]))
    for label, row in rows:
        print(f"{label:<58} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['max_ms']:>8.1f}")
    print(f"symbols embedded per edit: {results['symbols_embedded_per_edit']:.0f}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
