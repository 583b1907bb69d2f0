"""Embedding throughput and query latency, against raw ONNX Runtime on the same model and texts.

Real symbol texts (the standard library, read with ``ast``) are embedded cold
(no cache) through ``OnnxEmbedder.embed_documents`` and through a bare
``tokenizers`` + ``onnxruntime.InferenceSession`` pipeline with the same model
file, the same threads, the same truncation and the same length-sorted batches.
Runs alternate between the two so machine noise hits both alike; the median of
``--runs`` runs is reported. Query latency: ``embed_query`` on short queries.

    PYTHONPATH=server:benchmarks python benchmarks/embed.py [--texts 480] [--runs 3]

Prints a table and writes ``benchmarks/results/embed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from bench_stats import percentile
from quiver.embed.batch import embed_symbols
from quiver.embed.model import TOKENIZER_DIR, OnnxEmbedder, default_model_files
from quiver.embed.text import symbol_text
from quiver.symbols import Symbol
from stdlib_symbols import DISTRACTOR_MODULES, stdlib_symbols

RESULTS = Path(__file__).parent / "results" / "embed.json"
QUERIES = [
    "parse a url",
    "retry failed http requests",
    "read config file",
    "compute checksum",
    "where do we split identifiers into words",
]


class RawOnnx:
    """The same model with nothing in between: tokenizers, one ORT session, mean pooling."""

    def __init__(self, threads: int, max_tokens: int) -> None:
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER_DIR / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(default_model_files().onnx_path),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )

    def run(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)

    def embed(self, texts: Sequence[str], batches: list[list[int]]) -> np.ndarray:
        result = np.empty((len(texts), 384), dtype=np.float32)
        for batch in batches:
            result[batch] = self.run([texts[i] for i in batch])
        return result


def sample_symbols(count: int) -> list[Symbol]:
    """``count`` symbols spread evenly over the distractor modules (a realistic length mix)."""
    symbols = stdlib_symbols(DISTRACTOR_MODULES)
    step = max(1, len(symbols) // count)
    return symbols[::step][:count]


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def cpu_timed(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds of this process (all its threads), and the value."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def query_latencies(embedder: OnnxEmbedder, iterations: int) -> list[float]:
    """Milliseconds per ``embed_query`` call on short queries, after a warm-up."""
    for query in QUERIES * 4:
        embedder.embed_query(query)
    latencies: list[float] = []
    for iteration in range(iterations):
        query = QUERIES[iteration % len(QUERIES)]
        seconds, _ = timed(lambda query=query: embedder.embed_query(query))
        latencies.append(seconds * 1000)
    return latencies


def measure_queries_only(iterations: int, threads: int | None, query_threads: int) -> None:
    embedder = OnnxEmbedder(threads=threads, query_threads=query_threads or None)
    latencies = query_latencies(embedder, iterations)
    print(
        f"query embedding p50 {percentile(latencies, 0.5):.2f} ms, "
        f"p99 {percentile(latencies, 0.99):.2f} ms over {iterations} queries, "
        f"query threads {query_threads or f'shared ({embedder.threads})'}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=480)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--query-iterations", type=int, default=300)
    parser.add_argument(
        "--sweep-batch-tokens",
        action="store_true",
        help="also time embed_documents with several batch token budgets (one run each)",
    )
    parser.add_argument(
        "--query-threads", type=int, default=1, help="0 shares the document session"
    )
    parser.add_argument(
        "--only-queries", action="store_true", help="measure query latency only (quick)"
    )
    arguments = parser.parse_args()
    if arguments.only_queries:
        measure_queries_only(arguments.query_iterations, arguments.threads, arguments.query_threads)
        return

    symbols = sample_symbols(arguments.texts)
    texts = [symbol_text(symbol) for symbol in symbols]
    load_seconds, embedder = timed(
        lambda: OnnxEmbedder(
            threads=arguments.threads, query_threads=arguments.query_threads or None
        )
    )
    raw = RawOnnx(embedder.threads, embedder.max_tokens)
    batches = embedder.length_sorted_batches(texts)
    tokens = [sum(e.attention_mask) for e in raw.tokenizer.encode_batch(texts)]
    padded = sum(len(batch) * max(tokens[i] for i in batch) for batch in batches)

    # warm-up: first runs allocate arenas and page the weights in
    embedder.embed_documents(texts[:32])
    raw.embed(texts[:32], [list(range(32))])

    # Every variant runs once per round, in rotating order, so load from other
    # processes on this shared machine hits all of them alike; medians over rounds.
    fixed_order = [list(range(i, min(i + 32, len(texts)))) for i in range(0, len(texts), 32)]
    variants: dict[str, Callable[[], Any]] = {
        "embed_symbols": lambda: embed_symbols(embedder, symbols),
        "raw_unsorted": lambda: raw.embed(texts, fixed_order),
    }
    if arguments.sweep_batch_tokens:
        for budget in (1024, 2048, 4096, 8192):
            variant = OnnxEmbedder(threads=embedder.threads, batch_tokens=budget)
            variants[f"batch_tokens_{budget}"] = lambda variant=variant: variant.embed_documents(
                texts
            )
    run_seconds: dict[str, list[float]] = {name: [] for name in variants}
    cpu_seconds: dict[str, list[float]] = {name: [] for name in variants}
    outputs: dict[str, Any] = {}
    names = list(variants)
    for round_number in range(arguments.runs):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, cpu, outputs[name] = cpu_timed(variants[name])
            run_seconds[name].append(seconds)
            cpu_seconds[name].append(cpu)

    # Quiver against raw ONNX Runtime, paired batch by batch (the same batch through
    # both, back to back, first one then the other): load spikes from other jobs
    # last seconds, so both sides of a pair see the same machine.
    quiver_seconds: list[float] = []
    raw_seconds: list[float] = []
    quiver_vectors = np.empty((len(texts), 384), dtype=np.float32)
    raw_vectors = np.empty((len(texts), 384), dtype=np.float32)
    for round_number in range(arguments.runs):
        quiver_total = raw_total = 0.0
        for index, batch in enumerate(batches):
            batch_texts = [texts[i] for i in batch]
            pair = [("quiver", embedder.embed_documents), ("raw", raw.run)]
            if (index + round_number) % 2:
                pair.reverse()
            for side, embed in pair:
                seconds, vectors = timed(
                    lambda embed=embed, batch_texts=batch_texts: embed(batch_texts)
                )
                if side == "quiver":
                    quiver_total += seconds
                    quiver_vectors[batch] = vectors
                else:
                    raw_total += seconds
                    raw_vectors[batch] = vectors
        quiver_seconds.append(quiver_total)
        raw_seconds.append(raw_total)
    agreement = float(np.min(np.sum(quiver_vectors * raw_vectors, axis=1)))
    ratios = [r / q for q, r in zip(quiver_seconds, raw_seconds, strict=True)]
    # unpaired variants: the best round is the least disturbed by other jobs
    symbols_seconds = min(run_seconds["embed_symbols"])
    unsorted_seconds = min(run_seconds["raw_unsorted"])
    sweep = {
        int(name.rsplit("_", 1)[1]): round(len(texts) / min(seconds), 1)
        for name, seconds in run_seconds.items()
        if name.startswith("batch_tokens_")
    }

    latencies: list[float] = []
    raw_latencies: list[float] = []
    for query in QUERIES * 4:  # warm-up
        embedder.embed_query(query)
    for iteration in range(arguments.query_iterations):
        query = QUERIES[iteration % len(QUERIES)]
        seconds, _ = timed(lambda query=query: embedder.embed_query(query))
        latencies.append(seconds * 1000)
        seconds, _ = timed(lambda query=query: raw.run([query]))
        raw_latencies.append(seconds * 1000)

    # The server answers queries while a worker thread indexes: the session is shared.
    busy_latencies: list[float] = []
    indexing = threading.Thread(target=lambda: embedder.embed_documents(texts[-160:]))
    indexing.start()
    while indexing.is_alive():
        seconds, _ = timed(lambda: embedder.embed_query(QUERIES[len(busy_latencies) % 5]))
        busy_latencies.append(seconds * 1000)
        time.sleep(0.005)
    indexing.join()

    n = len(texts)
    quiver_rate = n / statistics.median(quiver_seconds)
    raw_rate = n / statistics.median(raw_seconds)
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at the end (shared machine), "
        f"python {platform.python_version()}, onnxruntime {ort.__version__}",
        "model_id": embedder.model_id,
        "threads": embedder.threads,
        "texts": n,
        "median_tokens": statistics.median(tokens),
        "padding_overhead": round(padded / sum(tokens) - 1, 3),
        "batches": len(batches),
        "runs": arguments.runs,
        "model_load_seconds": round(load_seconds, 3),
        "quiver_symbols_per_second": round(quiver_rate, 1),
        "raw_onnx_symbols_per_second": round(raw_rate, 1),
        "quiver_vs_raw": round(quiver_rate / raw_rate, 3),
        "quiver_vs_raw_median_of_rounds": round(statistics.median(ratios), 3),
        "quiver_symbols_per_second_best_round": round(n / min(quiver_seconds), 1),
        "raw_symbols_per_second_best_round": round(n / min(raw_seconds), 1),
        "embed_symbols_per_second": round(n / symbols_seconds, 1),
        "raw_unsorted_batches_of_32_per_second": round(n / unsorted_seconds, 1),
        "min_cosine_quiver_vs_raw": round(agreement, 5),
        "query_ms_p50": round(percentile(latencies, 0.5), 2),
        "query_ms_p99": round(percentile(latencies, 0.99), 2),
        "query_ms_p50_while_indexing": round(percentile(busy_latencies, 0.5), 2),
        "query_ms_p99_while_indexing": round(percentile(busy_latencies, 0.99), 2),
        "raw_query_ms_p50": round(percentile(raw_latencies, 0.5), 2),
        "raw_query_ms_p99": round(percentile(raw_latencies, 0.99), 2),
        "batch_token_sweep_symbols_per_second": sweep,
        "all_runs_seconds": {**run_seconds, "quiver": quiver_seconds, "raw": raw_seconds},
        "all_runs_cpu_seconds": cpu_seconds,
    }

    print(
        f"{n} stdlib symbol texts, median {result['median_tokens']} tokens, "
        f"{len(batches)} batches, padding +{result['padding_overhead']:.0%}, "
        f"{embedder.threads} threads, median of {arguments.runs} runs"
    )
    print("| measure | value |")
    print("| --- | ---: |")
    rows = [
        ("model load (fastembed import + session)", f"{load_seconds:.2f} s"),
        ("OnnxEmbedder.embed_documents, cold", f"{quiver_rate:.1f} symbols/s"),
        ("raw ONNX Runtime, same batches", f"{raw_rate:.1f} symbols/s"),
        ("quiver / raw (median of per-round ratios)", f"{statistics.median(ratios):.1%}"),
        (
            "best round, quiver / raw",
            f"{result['quiver_symbols_per_second_best_round']}"
            f" / {result['raw_symbols_per_second_best_round']} symbols/s",
        ),
        (
            "embed_symbols (texts + hashes + model), no cache, best round",
            f"{n / symbols_seconds:.1f} symbols/s",
        ),
        (
            "raw, input order, batches of 32 (no sorting), best round",
            f"{n / unsorted_seconds:.1f} symbols/s",
        ),
        ("query embedding p50 / p99", f"{result['query_ms_p50']} / {result['query_ms_p99']} ms"),
        (
            "query p50 / p99 while another thread indexes",
            f"{result['query_ms_p50_while_indexing']} / {result['query_ms_p99_while_indexing']} ms",
        ),
        ("raw query p50 / p99", f"{result['raw_query_ms_p50']} / {result['raw_query_ms_p99']} ms"),
        ("min cosine(quiver, raw)", f"{agreement:.5f}"),
    ]
    rows += [
        (f"batch budget {b} tokens, best round", f"{rate:.1f} symbols/s")
        for b, rate in sweep.items()
    ]
    for label, value in rows:
        print(f"| {label} | {value} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
