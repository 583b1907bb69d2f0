"""Warm start: a fresh ``quiver serve`` on a warm 100,000-symbol cache, to its first answers.

Workspace and cache: ``bench_workspace.py`` (the standard library, numpy and
hypothesis: ~2,700 files, ~102,000 symbols; vectors carry the real model's
identity, so the server opens the index without re-embedding). Each run spawns
``quiver serve --stdio`` (this venv's script) and, over a plain JSON-RPC pipe,
sends ``initialize``, ``initialized``, then at once a ``workspace/symbol`` (a
name) and a ``quiver/search`` (a sentence, hybrid mode: the real model embeds
it). Measured from the spawn: the ``initialize`` answer, each first answer,
and ``ready`` (the server has re-checked every file against the cache); the
server's CPU seconds at its first answers; its resident memory once ready.
Also: bytes per symbol of the metadata (the catalog snapshot, memory-mapped)
and of the other parts of the cache.

    .venv/bin/python benchmarks/startup.py [--runs 5]

Prints a table and writes ``benchmarks/results/startup.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench_workspace import prepared_workspace
from incremental import link_server_cache

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "startup.json"
QUIVER = Path(sys.executable).parent / "quiver"
NAME_QUERY = "gsr"
SENTENCE_QUERY = "decode a json document into python objects"


class Pipe:
    """The client side of LSP over stdio: framed JSON-RPC, requests matched by id."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._in, self._out = process.stdin, process.stdout
        self._next_id = 0
        self.answered: dict[int, tuple[float, Any]] = {}

    def send(self, method: str, params: Any, *, request: bool = True) -> int:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self._next_id += 1
            message["id"] = self._next_id
        body = json.dumps(message).encode()
        self._in.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        return self._next_id

    async def _read(self) -> dict[str, Any]:
        length = 0
        while True:
            line = await self._out.readline()
            if not line:
                raise RuntimeError("the server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        message: dict[str, Any] = json.loads(await self._out.readexactly(length))
        return message

    async def wait(self, *ids: int) -> None:
        while not all(i in self.answered for i in ids):
            message = await self._read()
            if "id" in message and "method" in message:  # a request from the server
                self.send_result(message["id"], None)
            elif "id" in message:
                result = message.get("result", message.get("error"))
                self.answered[int(message["id"])] = (time.perf_counter(), result)

    def send_result(self, request_id: Any, result: Any) -> None:
        body = json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode()
        self._in.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one_start(root: Path, cache_root: Path) -> dict[str, Any]:
    env = {**os.environ, "QUIVER_CACHE_DIR": str(cache_root)}
    spawned = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        str(QUIVER),
        "serve",
        "--stdio",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
        limit=1 << 24,
    )
    pipe = Pipe(process)
    uri = root.resolve().as_uri()
    init = pipe.send(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": root.name}],
            "capabilities": {},
        },
    )
    await pipe.wait(init)
    pipe.send("initialized", {}, request=False)
    names = pipe.send("workspace/symbol", {"query": NAME_QUERY})
    search = pipe.send("quiver/search", {"query": SENTENCE_QUERY, "mode": "hybrid", "limit": 10})
    await pipe.wait(names)
    cpu_at_names = process_cpu_seconds(process.pid)
    await pipe.wait(search)
    cpu_at_search = process_cpu_seconds(process.pid)
    full_search = search
    while pipe.answered[full_search][1].get("partial"):  # words only: the model is loading
        await asyncio.sleep(0.02)
        full_search = pipe.send(
            "quiver/search", {"query": SENTENCE_QUERY, "mode": "hybrid", "limit": 10}
        )
        await pipe.wait(full_search)
    while True:  # until the server has re-checked the files against the cache
        status = pipe.send("quiver/status", {})
        await pipe.wait(status)
        if pipe.answered[status][1].get("state") == "ready":
            break
        await asyncio.sleep(0.05)
    ready_at = pipe.answered[status][0]
    rss = resident_mb(process.pid)
    symbols = pipe.answered[status][1].get("symbols")
    bye = pipe.send("shutdown", None)
    await pipe.wait(bye)
    pipe.send("exit", None, request=False)
    await asyncio.wait_for(process.wait(), 30)
    search_result = pipe.answered[search][1]
    return {
        "initialize_s": pipe.answered[init][0] - spawned,
        "workspace_symbol_s": pipe.answered[names][0] - spawned,
        "search_s": pipe.answered[search][0] - spawned,
        "full_search_s": pipe.answered[full_search][0] - spawned,
        "ready_s": ready_at - spawned,
        "cpu_at_workspace_symbol_s": cpu_at_names,
        "cpu_at_search_s": cpu_at_search,
        "rss_ready_mb": rss,
        "workspace_symbol_results": len(pipe.answered[names][1] or []),
        "search_results": len(search_result.get("results", [])),
        "search_partial": search_result.get("partial"),
        "symbols": symbols,
    }


def cache_sizes(cache_dir: Path, symbols: int) -> dict[str, float]:
    sizes: dict[str, float] = {}
    for part in sorted(p for p in cache_dir.iterdir() if p.is_dir()):
        total = sum(f.stat().st_size for f in part.rglob("*") if f.is_file())
        sizes[part.name] = round(total / symbols, 1)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    prepared = prepared_workspace()
    link_server_cache(prepared.cache_dir, prepared.root)
    cache_root = prepared.cache_dir.parent / "server-cache-root"
    asyncio.run(one_start(prepared.root, cache_root))  # warm the page cache and numba's
    runs = [asyncio.run(one_start(prepared.root, cache_root)) for _ in range(args.runs)]
    for run in runs:
        assert run["workspace_symbol_results"] > 0 and run["search_results"] > 0, run
    keys = [k for k in runs[0] if isinstance(runs[0][k], float)]
    medians = {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}
    per_symbol = cache_sizes(prepared.cache_dir, prepared.symbols)
    load = os.getloadavg()
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        ),
        "load_average": [round(x, 2) for x in load],
        "files": prepared.files,
        "symbols": prepared.symbols,
        "runs": runs,
        "median": medians,
        "cache_bytes_per_symbol": per_symbol,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(
        f"Warm start, {prepared.symbols:,} symbols in {prepared.files:,} files; median of "
        f"{args.runs} (load average {load[0]:.2f})"
    )
    partial = sum(1 for r in runs if r["search_partial"])
    print(f"  first quiver/search flagged partial (words only) in {partial} of {len(runs)} runs")
    rows = [
        ("spawn → initialize answered", "initialize_s", "s"),
        ("spawn → first workspace/symbol answer", "workspace_symbol_s", "s"),
        ("spawn → first quiver/search answer (hybrid)", "search_s", "s"),
        ("spawn → first complete hybrid answer (model loaded)", "full_search_s", "s"),
        ("spawn → ready (every file re-checked)", "ready_s", "s"),
        ("server CPU at the workspace/symbol answer", "cpu_at_workspace_symbol_s", "s"),
        ("server CPU at the quiver/search answer", "cpu_at_search_s", "s"),
        ("server resident memory once ready", "rss_ready_mb", "MB"),
    ]
    for label, key, unit in rows:
        values = ", ".join(f"{r[key]:.2f}" for r in runs)
        print(f"  {label:<52} {medians[key]:>8.2f} {unit}   ({values})")
    print("  cache bytes per symbol: " + ", ".join(f"{k} {v:,.0f}" for k, v in per_symbol.items()))


if __name__ == "__main__":
    main()
