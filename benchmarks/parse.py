"""Benchmark: discovery + parsing + symbol extraction, in files/s and symbols/s.

Targets: this interpreter's standard library (``sysconfig.get_path("stdlib")``,
site-packages excluded, about 1,800 files) and this repository. For each target
and worker count, the whole pipeline (``discover`` then ``parse_files``) runs
``--runs`` times; the table shows the median with the min-max spread. A
separate inline pass times each file alone (read + parse + extract) for the
per-file p50/p99, and splits the inline CPU time into tree-sitter parsing,
the tree-sitter query and the Python that builds the symbols.

    python benchmarks/parse.py            # 5 runs, prints a table, writes JSON
    python benchmarks/parse.py --runs 3   # quicker

Results go to ``benchmarks/results/parse.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import sysconfig
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

import tree_sitter  # noqa: E402

from quiver.parse import (  # noqa: E402
    default_workers,
    discover,
    parse_files,
    read_source,
)
from quiver.parse.extract import _compiled_language, _parser, extract_symbols  # noqa: E402
from quiver.parse.read import SourceSkippedError  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "parse.json"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    root: Path
    excludes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunResult:
    files: int
    skipped: int
    symbols: int
    bytes: int
    discover_s: float
    parse_s: float
    #: CPU seconds of this process and its (finished) worker processes.
    cpu_s: float

    @property
    def total_s(self) -> float:
        return self.discover_s + self.parse_s


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_once(target: Target, workers: int) -> RunResult:
    cpu_started = _cpu_seconds()
    started = time.perf_counter()
    files = list(discover(target.root, excludes=target.excludes, on_skip=lambda _p, _r: None))
    discovered = time.perf_counter()
    symbols = skipped = 0
    for parsed in parse_files(files, workers=workers):
        symbols += len(parsed.symbols)
        skipped += parsed.skipped_reason is not None
    finished = time.perf_counter()
    return RunResult(
        files=len(files),
        skipped=skipped,
        symbols=symbols,
        bytes=sum(f.size for f in files),
        discover_s=discovered - started,
        parse_s=finished - discovered,
        cpu_s=_cpu_seconds() - cpu_started,
    )


def per_file_latencies(target: Target) -> dict[str, float]:
    """Read + parse + extract each file alone, inline: p50/p99 in ms, and a CPU split."""
    latencies: list[float] = []
    sources = []
    for file in discover(target.root, excludes=target.excludes, on_skip=lambda _p, _r: None):
        started = time.perf_counter()
        try:
            source = read_source(file.abs_path)
        except SourceSkippedError:
            continue
        extract_symbols(source, file.rel_path, file.language)
        latencies.append((time.perf_counter() - started) * 1000)
        sources.append((source, file))
    # Where the inline CPU time goes: tree-sitter's parse, its query, and our
    # Python. Best of three passes each, to see through other load.
    parse_cpu = query_cpu = total_cpu = float("inf")
    for _ in range(3):
        parse_pass = query_pass = 0.0
        for source, file in sources:
            compiled = _compiled_language(file.language)
            parser = _parser(file.language, compiled.language)
            t0 = time.process_time()
            tree = parser.parse(source)
            t1 = time.process_time()
            tree_sitter.QueryCursor(compiled.query).matches(tree.root_node)
            parse_pass += t1 - t0
            query_pass += time.process_time() - t1
        parse_cpu = min(parse_cpu, parse_pass)
        query_cpu = min(query_cpu, query_pass)
        t0 = time.process_time()
        for source, file in sources:
            extract_symbols(source, file.rel_path, file.language)
        total_cpu = min(total_cpu, time.process_time() - t0)
    latencies.sort()
    return {
        "files": len(latencies),
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else 0.0,
        "cpu_total_s": total_cpu,
        "cpu_parse_share": parse_cpu / total_cpu if total_cpu else 0.0,
        "cpu_query_share": query_cpu / total_cpu if total_cpu else 0.0,
        "cpu_python_share": max(0.0, 1 - (parse_cpu + query_cpu) / total_cpu) if total_cpu else 0.0,
    }


def _percentile(sorted_values: list[float], percent: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(percent / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


def summarize(runs: list[RunResult]) -> dict[str, float | int]:
    totals = [r.total_s for r in runs]
    files = runs[0].files
    symbols = runs[0].symbols
    median_total = statistics.median(totals)
    return {
        "files": files,
        "skipped": runs[0].skipped,
        "symbols": symbols,
        "megabytes": runs[0].bytes / 1e6,
        "median_total_s": median_total,
        "min_total_s": min(totals),
        "max_total_s": max(totals),
        "median_discover_s": statistics.median(r.discover_s for r in runs),
        "median_parse_s": statistics.median(r.parse_s for r in runs),
        "files_per_s": files / median_total,
        "symbols_per_s": symbols / median_total,
        "best_files_per_s": files / min(totals),
        "discover_files_per_s": files / statistics.median(r.discover_s for r in runs),
        "median_cpu_s": statistics.median(r.cpu_s for r in runs),
        "files_per_cpu_s": files / statistics.median(r.cpu_s for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-latency", action="store_true", help="skip the per-file pass")
    args = parser.parse_args()

    targets = [
        Target("stdlib", Path(sysconfig.get_path("stdlib")), ("site-packages/",)),
        Target("repository", REPO, ()),
    ]
    worker_counts = sorted({1, default_workers()})
    load_before = os.getloadavg()
    results: dict[str, dict[str, object]] = {}
    for target in targets:
        # Warm the page cache and the grammar/query compilation once.
        run_once(target, 1)
        entry: dict[str, object] = {"root": str(target.root)}
        for workers in worker_counts:
            runs = [run_once(target, workers) for _ in range(args.runs)]
            entry[f"workers_{workers}"] = summarize(runs) | {"runs": [asdict(r) for r in runs]}
        if not args.no_latency:
            entry["per_file"] = per_file_latencies(target)
        results[target.name] = entry
    load_after = os.getloadavg()

    report = {
        "benchmark": "parse",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus_usable": default_workers(),
            "python": platform.python_version(),
            "tree_sitter": metadata.version("tree-sitter"),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "runs_per_case": args.runs,
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nJSON written to {RESULTS.relative_to(REPO)}")
    return 0


def print_table(report: dict[str, object]) -> None:
    machine = report["machine"]
    assert isinstance(machine, dict)
    print(
        f"parse benchmark: median of {report['runs_per_case']} runs, "
        f"{machine['cpus_usable']} usable CPUs, load average before/after "
        f"{machine['load_average_before'][0]:.1f}/{machine['load_average_after'][0]:.1f}"
    )
    header = (
        f"{'target':<11} {'workers':>7} {'files':>6} {'symbols':>8} {'MB':>6} "
        f"{'total s':>8} {'(min-max)':>13} {'files/s':>8} {'symbols/s':>10} {'discover f/s':>12}"
        f" {'CPU s':>6} {'files/CPU s':>11}"
    )
    print(header)
    print("-" * len(header))
    results = report["results"]
    assert isinstance(results, dict)
    for name, entry in results.items():
        for key, summary in entry.items():
            if not key.startswith("workers_"):
                continue
            spread = f"{summary['min_total_s']:.2f}-{summary['max_total_s']:.2f}"
            print(
                f"{name:<11} {key.removeprefix('workers_'):>7} {summary['files']:>6} "
                f"{summary['symbols']:>8} {summary['megabytes']:>6.1f} "
                f"{summary['median_total_s']:>8.2f} {spread:>13} "
                f"{summary['files_per_s']:>8.0f} {summary['symbols_per_s']:>10.0f} "
                f"{summary['discover_files_per_s']:>12.0f} {summary['median_cpu_s']:>6.2f} "
                f"{summary['files_per_cpu_s']:>11.0f}"
            )
    print()
    print(f"{'target':<11} {'per-file p50 ms':>15} {'p99 ms':>8} {'max ms':>8}   inline CPU split")
    for name, entry in results.items():
        latency = entry.get("per_file")
        if not latency:
            continue
        print(
            f"{name:<11} {latency['p50_ms']:>15.2f} {latency['p99_ms']:>8.2f} "
            f"{latency['max_ms']:>8.1f}   parse {latency['cpu_parse_share']:.0%}, "
            f"query {latency['cpu_query_share']:.0%}, python {latency['cpu_python_share']:.0%}"
        )


if __name__ == "__main__":
    sys.exit(main())
