"""Soak: the real server through a long editing session, its resident memory sampled.

``quiver serve --stdio`` (the real model) on ~300 files of the standard library;
one client interleaves ``didChange`` at ~20/s over a few open files (each edit
gives the file a function named with a word never seen before, replacing the
previous edit's) with ``workspace/symbol`` and ``quiver/search`` queries (about 4/s,
each for a word of a recent edit). The server's resident memory (``VmRSS`` of
``/proc/<pid>/status``) is sampled every few seconds. Prints the curve, the growth
per hour after the warm-up (a least-squares line through the second half of the
samples) and writes ``benchmarks/results/soak.json``.

    .venv/bin/python benchmarks/soak.py [--minutes 30] [--short] [--files 300]
        [--edits-per-s 20] [--sample-s 5] [--malloc-arena-max N] [--tracemalloc S]

The tree and its cache live in ``benchmarks/.data/soak/`` and are kept between
runs: the first run indexes the tree with the real model first (a few minutes,
not part of the soak). ``--tracemalloc S`` has the server write the allocations
that grew most to ``benchmarks/results/soak-tracemalloc.txt`` every S seconds
(Python allocations only, and slow: for finding a leak, not for the figure).
Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "soak"
RESULTS = HERE / "results" / "soak.json"
TRACEMALLOC_REPORT = HERE / "results" / "soak-tracemalloc.txt"
STDLIB = Path(sysconfig.get_path("stdlib"))
#: Standard library packages copied first (tests left out), then top-level modules.
PACKAGES = (
    "asyncio", "email", "json", "http", "logging", "concurrent", "importlib", "unittest",
    "urllib", "xml", "multiprocessing", "xmlrpc", "html", "wsgiref", "sqlite3", "ctypes",
    "dbm", "curses", "tomllib", "zoneinfo", "collections", "re",
)  # fmt: skip
#: The files the client edits, in turn.
EDITED = ("json/decoder.py", "email/utils.py", "http/cookies.py", "logging/handlers.py")
#: Queries per second beside the edits (alternately workspace/symbol and quiver/search).
QUERIES_PER_S = 4.0
#: At most this many queries in flight: a slow answer must not pile them up.
MAX_IN_FLIGHT = 2


def prepare_tree(files: int) -> Path:
    """``files`` Python files of the standard library under ``DATA/tree`` (kept between
    runs; rebuilt when the count differs)."""
    tree = DATA / "tree"
    stamp = DATA / "files.txt"
    if tree.is_dir() and stamp.exists() and stamp.read_text().strip() == str(files):
        return tree
    shutil.rmtree(DATA, ignore_errors=True)
    chosen: list[Path] = []
    for package in PACKAGES:
        sources = sorted((STDLIB / package).rglob("*.py"))
        chosen += [p for p in sources if not {"test", "tests"} & set(p.parts)]
    chosen += sorted(STDLIB.glob("*.py"))
    for source in chosen[:files]:
        target = tree / source.relative_to(STDLIB)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for relative in EDITED:
        if not (tree / relative).exists():
            raise SystemExit(f"{relative} is not among the first {files} files: use more")
    stamp.write_text(f"{files}\n")
    return tree


def word(n: int) -> str:
    """A word no edit used before: letters only, so the text index keeps it whole."""
    letters = "bcdfghjklmnpqrstvwxz"
    salt = int(time.time()) % 10_000
    value, out = n * 10_007 + salt, []
    while value:
        value, digit = divmod(value, len(letters))
        out.append(letters[digit])
    return "soak" + "".join(out)


def edited(original: str, probe: str) -> str:
    return (
        f"{original}\n\ndef {probe}_handler(value):\n"
        f'    """Handles the {probe} of a value and returns what is left."""\n'
        f"    return value\n"
    )


def resident(pid: int) -> dict[str, float]:
    """Resident memory of process ``pid`` in MB (``VmRSS``, peak ``VmHWM``, anonymous and
    file-backed parts), its thread count and how many mappings are of deleted files (old
    index segments still mapped)."""
    fields: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()

    def mb(key: str) -> float:
        return round(int(fields[key].split()[0]) / 1024, 1)

    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {
        "rss_mb": mb("VmRSS"),
        "hwm_mb": mb("VmHWM"),
        "anon_mb": mb("RssAnon"),
        "file_mb": mb("RssFile"),
        "threads": int(fields["Threads"]),
        "deleted_maps": sum(1 for line in maps if line.endswith("(deleted)")),
    }


@dataclass
class Load:
    """What the client did since the last sample."""

    edits: int = 0
    symbol_ms: list[float] = field(default_factory=list)
    search_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def take(self) -> Load:
        taken = Load(self.edits, self.symbol_ms, self.search_ms, self.errors)
        self.edits, self.symbol_ms, self.search_ms, self.errors = 0, [], [], 0
        return taken


def p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def growth_per_hour(samples: list[dict[str, Any]]) -> tuple[float, float]:
    """The least-squares slope (MB/hour) of RSS over the second half of the samples,
    and the RSS those samples rose from first to last (MB)."""
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return 0.0, 0.0
    xs = [s["t_s"] for s in half]
    ys = [s["rss_mb"] for s in half]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var
    return slope * 3600.0, ys[-1] - ys[0]


async def soak(args: argparse.Namespace, tree: Path) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent / "tests" / "lsp"))
    from lsp_helpers import request, start_server, stop_server, wait_for
    from lsprotocol import types as lsp

    from quiver.lsp.convert import path_to_uri

    if args.malloc_arena_max:
        os.environ["MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)
    if args.tracemalloc:
        TRACEMALLOC_REPORT.parent.mkdir(exist_ok=True)
        TRACEMALLOC_REPORT.unlink(missing_ok=True)
        os.environ["QUIVER_TRACEMALLOC"] = str(args.tracemalloc)
        os.environ["QUIVER_TRACEMALLOC_FILE"] = str(TRACEMALLOC_REPORT)
    started = time.monotonic()
    client = await start_server([tree], DATA / "cache", initialization_options={"watch": False})
    pid = client._server.pid  # pygls keeps the subprocess there
    # A first run indexes the tree with the real model: minutes, not part of the soak.
    await wait_for(
        lambda: request(client, "quiver/status", {}),
        lambda status: status["state"] == "ready",
        timeout=3600,
        interval=1.0,
    )
    ready_s = time.monotonic() - started
    print(f"server {pid} ready in {ready_s:.1f} s; soaking {args.minutes:g} minutes", flush=True)

    originals = {relative: (tree / relative).read_text() for relative in EDITED}
    versions = dict.fromkeys(EDITED, 1)
    for relative, text in originals.items():
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=path_to_uri(tree / relative), language_id="python", version=1, text=text
                )
            )
        )
    load = Load()
    recent: list[str] = []
    in_flight = 0
    deadline = time.monotonic() + args.minutes * 60
    samples: list[dict[str, Any]] = []

    async def query(n: int) -> None:
        nonlocal in_flight
        probe = recent[max(0, len(recent) - 40)] if recent else "decoder"
        asked = time.perf_counter()
        try:
            if n % 2:
                await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=probe[:9]))
                load.symbol_ms.append((time.perf_counter() - asked) * 1000)
            else:
                await request(client, "quiver/search", {"query": f"handles the {probe} of a value"})
                load.search_ms.append((time.perf_counter() - asked) * 1000)
        except Exception:
            load.errors += 1
        finally:
            in_flight -= 1

    async def edit_and_ask() -> None:
        nonlocal in_flight
        n = queries = 0
        tasks: set[asyncio.Task[None]] = set()
        next_query = time.monotonic()
        while time.monotonic() < deadline:
            relative = EDITED[n % len(EDITED)]
            probe = word(n)
            versions[relative] += 1
            client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    text_document=lsp.VersionedTextDocumentIdentifier(
                        uri=path_to_uri(tree / relative), version=versions[relative]
                    ),
                    content_changes=[
                        lsp.TextDocumentContentChangeWholeDocument(
                            text=edited(originals[relative], probe)
                        )
                    ],
                )
            )
            recent.append(probe)
            del recent[:-200]
            load.edits += 1
            n += 1
            if time.monotonic() >= next_query and in_flight < MAX_IN_FLIGHT:
                in_flight += 1
                task = asyncio.create_task(query(queries))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                queries += 1
                next_query += 1 / QUERIES_PER_S
            await asyncio.sleep(1 / args.edits_per_s)
        if tasks:
            await asyncio.wait(tasks)

    async def sample() -> None:
        t0 = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(args.sample_s)
            memory = resident(pid)
            done = load.take()
            row = {
                "t_s": round(time.monotonic() - t0, 1),
                **memory,
                "edits_per_s": round(done.edits / args.sample_s, 1),
                "symbol_p50_ms": p50(done.symbol_ms),
                "search_p50_ms": p50(done.search_ms),
                "errors": done.errors,
                "load": round(os.getloadavg()[0], 2),
            }
            samples.append(row)
            if len(samples) % args.print_every == 1 or args.print_every == 1:
                print(
                    f"{row['t_s']:>7.0f} s  rss {row['rss_mb']:7.1f} MB "
                    f"(anon {row['anon_mb']:6.1f}, file {row['file_mb']:6.1f}, "
                    f"peak {row['hwm_mb']:7.1f})  {row['edits_per_s']:5.1f} edits/s  "
                    f"symbol p50 {row['symbol_p50_ms']} ms  search p50 "
                    f"{row['search_p50_ms']} ms  threads {row['threads']}  deleted maps "
                    f"{row['deleted_maps']}  load {row['load']}",
                    flush=True,
                )

    load_before = os.getloadavg()
    await asyncio.gather(edit_and_ask(), sample())
    status = await request(client, "quiver/status", {})
    last = recent[-1]
    found = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=f"{last}_handler"))
    await stop_server(client)
    per_hour, risen = growth_per_hour(samples)
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "args": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        },
        "tree": {"files": status["files"], "symbols": status["symbols"]},
        "ready_s": round(ready_s, 1),
        "load_average": {"start": load_before, "end": os.getloadavg()},
        "last_edit_searchable": bool(found),
        "rss_first_mb": samples[0]["rss_mb"] if samples else None,
        "rss_last_mb": samples[-1]["rss_mb"] if samples else None,
        "rss_peak_mb": max((s["hwm_mb"] for s in samples), default=None),
        "growth_mb_per_hour_second_half": round(per_hour, 1),
        "risen_mb_second_half": round(risen, 1),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--short", action="store_true", help="5 minutes, a sample every 3 s")
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--edits-per-s", type=float, default=20.0)
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--print-every", type=int, default=6, help="print every N samples")
    parser.add_argument("--malloc-arena-max", type=int, default=0, help="MALLOC_ARENA_MAX")
    parser.add_argument("--tracemalloc", type=float, default=0.0, metavar="S")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.short:
        args.minutes, args.sample_s, args.print_every = 5.0, 3.0, 5
    tree = prepare_tree(args.files)
    results = asyncio.run(soak(args, tree))
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(
        f"\n{results['tree']['files']} files, {results['tree']['symbols']:,} symbols; "
        f"RSS {results['rss_first_mb']} → {results['rss_last_mb']} MB "
        f"(peak {results['rss_peak_mb']} MB); second half: "
        f"{results['growth_mb_per_hour_second_half']:+.1f} MB/hour "
        f"({results['risen_mb_second_half']:+.1f} MB over it); "
        f"load {results['load_average']['start'][0]:.1f} → "
        f"{results['load_average']['end'][0]:.1f}; last edit searchable: "
        f"{results['last_edit_searchable']}"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
