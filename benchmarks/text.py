"""Benchmark of the Tantivy symbol index (quiver.text) on synthetic but realistic symbols.

Measures, on N symbols (default 100,000; ~10 per file):
* indexing rate (documents built in Python + Tantivy indexing + one commit);
* search latency p50/p99 for three query shapes (exact names, identifier
  words, sentences), without and with a restriction to 16 of 400 clusters
  and with a path glob;
* the incremental update of one file: delete its symbols, re-add them, then
  ``refresh()`` (searchable in this process) or ``commit()`` (durable), p50/p99;
* word searches while refreshed writes wait for the durable commit;
* a reader's reload after a commit, and the no-change ``reload_if_changed`` check;
* ``reassign_clusters`` of a tenth of the symbols (an IVF retrain) plus its commit;
* the size of the index on disk.

Run: ``PYTHONPATH=server python benchmarks/text.py [--symbols 100000] [--runs 3]``.
Prints a table and writes ``benchmarks/results/text.json``. Latencies are the
median over runs of each run's percentile; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from quiver.ids import ClusterId, SymbolId
from quiver.symbols import Position, Range, Symbol, SymbolKind, content_hash
from quiver.text.index import DocumentIndex, TextDocument

RESULTS = Path(__file__).parent / "results" / "text.json"
NUM_CLUSTERS = 400
NPROBE = 16
SYMBOLS_PER_FILE = 10


def _words(text: str) -> list[str]:
    return text.split()


_VERBS = _words(
    "get set load save parse format read write open close build create delete update "
    "find search resolve fetch send receive handle process validate check compute merge "
    "split encode decode render retry flush sync start stop reset apply convert"
)
_NOUNS = _words(
    "http header request response client server config cache index vector cluster symbol "
    "file path token query result error user session buffer stream socket packet message "
    "queue worker task job record row column table schema model batch chunk node tree graph "
    "edge key value map list set entry event handler callback timeout retry backoff lock"
)
_ADJECTIVES = _words("new old raw async sync local remote default max min last first next")
_PACKAGES = _words("core net storage search api util io model index parse render auth db cli lsp")
_LANGUAGES = [("python", ".py"), ("rust", ".rs"), ("typescript", ".ts"), ("go", ".go")]
_KINDS = (
    [SymbolKind.FUNCTION] * 5
    + [SymbolKind.METHOD] * 4
    + [
        SymbolKind.CLASS,
        SymbolKind.STRUCT,
        SymbolKind.CONSTANT,
        SymbolKind.INTERFACE,
    ]
)


@dataclass(frozen=True, slots=True)
class Corpus:
    documents: list[TextDocument]
    files: dict[str, list[TextDocument]]


def _identifier(rng: random.Random, language: str, kind: SymbolKind) -> str:
    words = [rng.choice(_VERBS)] if kind in (SymbolKind.FUNCTION, SymbolKind.METHOD) else []
    if rng.random() < 0.4:
        words.append(rng.choice(_ADJECTIVES))
    words += rng.sample(_NOUNS, rng.randint(1, 2))
    if kind in (SymbolKind.CLASS, SymbolKind.STRUCT, SymbolKind.INTERFACE):
        return "".join(word.capitalize() for word in words)
    if kind is SymbolKind.CONSTANT:
        return "_".join(words).upper()
    if language in ("python", "rust"):
        return "_".join(words)
    return words[0] + "".join(word.capitalize() for word in words[1:])


def _sentence(rng: random.Random, name_words: Sequence[str]) -> str:
    extra = rng.sample(_NOUNS, 3)
    return (
        f"{rng.choice(_VERBS).capitalize()} the {' '.join(name_words)} for the given "
        f"{extra[0]} and return the {extra[1]}; raises an error when the {extra[2]} is invalid."
    )


def _body(rng: random.Random, name: str) -> str:
    lines = []
    for _ in range(rng.randint(4, 16)):
        left = f"{rng.choice(_NOUNS)}_{rng.choice(_NOUNS)}"
        call = f"{rng.choice(_VERBS)}_{rng.choice(_NOUNS)}"
        lines.append(f"    {left} = self.{call}({rng.choice(_NOUNS)}, {rng.randint(0, 99)})")
    lines.append(f"    return {name}_result")
    return "\n".join(lines)


def build_corpus(count: int, seed: int = 7) -> Corpus:
    """``count`` symbols in files of ~10, with names, containers, docs and bodies."""
    rng = random.Random(seed)
    documents: list[TextDocument] = []
    files: dict[str, list[TextDocument]] = {}
    symbol_id = 0
    file_number = 0
    while symbol_id < count:
        language, extension = rng.choice(_LANGUAGES)
        package = "/".join(rng.sample(_PACKAGES, rng.randint(1, 3)))
        stem = f"{rng.choice(_NOUNS)}_{rng.choice(_NOUNS)}_{file_number}"
        path = f"src/{package}/{stem}{extension}"
        module = path[: -len(extension)].replace("/", ".")
        class_name = "".join(word.capitalize() for word in rng.sample(_NOUNS, 2))
        file_documents = []
        for line in range(min(SYMBOLS_PER_FILE, count - symbol_id)):
            kind = rng.choice(_KINDS)
            name = _identifier(rng, language, kind)
            container = f"{module}.{class_name}" if kind is SymbolKind.METHOD else module
            signature = f"def {name}(self, {rng.choice(_NOUNS)}: {rng.choice(_NOUNS).capitalize()})"
            doc = _sentence(rng, name.replace("_", " ").split())
            body = _body(rng, name)
            span = Range(Position(line * 20, 0), Position(line * 20 + 18, 0))
            symbol = Symbol(
                name=name,
                kind=kind,
                container=container,
                signature=signature,
                doc=doc,
                range=span,
                selection_range=Range(Position(line * 20, 4), Position(line * 20, 4 + len(name))),
                language=language,
                path=path,
                body=body,
                content_hash=content_hash(name, container, signature, doc, body),
            )
            document = TextDocument(
                SymbolId(symbol_id), ClusterId(rng.randrange(NUM_CLUSTERS)), symbol
            )
            documents.append(document)
            file_documents.append(document)
            symbol_id += 1
        files[path] = file_documents
        file_number += 1
    return Corpus(documents, files)


def _queries(corpus: Corpus, rng: random.Random, per_shape: int) -> dict[str, list[str]]:
    symbols = [document.symbol for document in rng.sample(corpus.documents, per_shape * 2)]
    return {
        "exact name": [symbol.name for symbol in symbols[:per_shape]],
        "words": [
            " ".join(rng.sample([*_VERBS, *_NOUNS], rng.randint(2, 3))) for _ in range(per_shape)
        ],
        "sentence": [
            f"where do we {rng.choice(_VERBS)} the {rng.choice(_NOUNS)} "
            f"{rng.choice(_NOUNS)} when the {rng.choice(_NOUNS)} fails"
            for _ in range(per_shape)
        ],
    }


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
    }


def _time_each(action: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def run_once(corpus: Corpus, directory: Path, seed: int, per_shape: int) -> dict[str, object]:
    rng = random.Random(seed)
    result: dict[str, object] = {}
    index = DocumentIndex.open(directory)
    start = time.perf_counter()
    index.add(corpus.documents)
    index.commit()
    elapsed = time.perf_counter() - start
    result["index_seconds"] = elapsed
    result["index_symbols_per_s"] = len(corpus.documents) / elapsed
    result["disk_bytes"] = sum(path.stat().st_size for path in directory.iterdir())

    queries = _queries(corpus, rng, per_shape)
    for query in [text for texts in queries.values() for text in texts][:20]:
        index.search(query)  # warm the page cache and Tantivy's caches
    searches: dict[str, dict[str, float]] = {}
    for shape, texts in queries.items():
        plain, restricted, globbed = [], [], []
        for text in texts:
            clusters = [ClusterId(cluster) for cluster in rng.sample(range(NUM_CLUSTERS), NPROBE)]
            plain += _time_each(lambda text=text: index.search(text, limit=20), 1)
            restricted += _time_each(
                lambda text=text, clusters=clusters: index.search(text, clusters=clusters), 1
            )
            globbed += _time_each(
                lambda text=text: index.search(text, paths=["src/net/**", "*.rs"]), 1
            )
        searches[shape] = {
            **{f"all_{key}": value for key, value in _percentiles(plain).items()},
            **{f"clusters_{key}": value for key, value in _percentiles(restricted).items()},
            **{f"glob_{key}": value for key, value in _percentiles(globbed).items()},
        }
    result["search"] = searches

    reader = DocumentIndex.open(directory, writable=False)
    paths = rng.sample(sorted(corpus.files), 60)
    refresh_samples, search_with_delta = [], []
    for path in paths[:30]:
        file_documents = corpus.files[path]

        def refreshed(
            path: str = path, file_documents: list[TextDocument] = file_documents
        ) -> None:
            index.delete_paths([path])
            index.add(file_documents)
            index.refresh()

        refresh_samples += _time_each(refreshed, 1)
    # Searches while 30 refreshed files wait for the durable commit.
    for text in queries["words"]:
        search_with_delta += _time_each(lambda text=text: index.search(text), 1)
    result["search_words_with_30_refreshed_files"] = _percentiles(search_with_delta)
    result["commit_after_30_refreshes_ms"] = _time_each(index.commit, 1)[0]
    commit_samples, reload_samples = [], []
    for path in paths[30:]:
        file_documents = corpus.files[path]

        def committed(
            path: str = path, file_documents: list[TextDocument] = file_documents
        ) -> None:
            index.delete_paths([path])
            index.add(file_documents)
            index.commit()

        commit_samples += _time_each(committed, 1)
        reload_samples += _time_each(reader.reload_if_changed, 1)
    result["update_one_file_refresh"] = _percentiles(refresh_samples)
    result["update_one_file_commit"] = _percentiles(commit_samples)
    result["reader_reload"] = _percentiles(reload_samples)
    result["reader_unchanged_check"] = _percentiles(_time_each(reader.reload_if_changed, 200))
    assert reader.num_docs() == len(corpus.documents)
    reader.close()

    # An IVF retrain moves a tenth of the symbols to other clusters.
    moved = {
        document.symbol_id: ClusterId((document.cluster_id + 1) % NUM_CLUSTERS)
        for document in rng.sample(corpus.documents, len(corpus.documents) // 10)
    }
    start = time.perf_counter()
    index.reassign_clusters(moved)
    index.commit()
    result["reassign_tenth_seconds"] = time.perf_counter() - start
    index.close()
    return result


def _median_of(runs: list[dict[str, object]], *keys: str) -> float:
    values = []
    for run in runs:
        value: object = run
        for key in keys:
            assert isinstance(value, dict)
            value = value[key]
        assert isinstance(value, float | int)
        values.append(float(value))
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100, help="queries per query shape")
    arguments = parser.parse_args()

    start = time.perf_counter()
    corpus = build_corpus(arguments.symbols)
    print(
        f"corpus: {len(corpus.documents):,} symbols in {len(corpus.files):,} files "
        f"({time.perf_counter() - start:.1f} s to generate)"
    )
    runs = []
    for run in range(arguments.runs):
        directory = Path(tempfile.mkdtemp(prefix="quiver-text-bench-"))
        try:
            runs.append(run_once(corpus, directory / "text", seed=run, per_shape=arguments.queries))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        print(
            f"run {run + 1}/{arguments.runs}: indexed at "
            f"{runs[-1]['index_symbols_per_s']:,.0f} symbols/s"
        )

    summary: dict[str, object] = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "note": "shared 2-core machine, other jobs running: figures are noisy",
        },
        "symbols": len(corpus.documents),
        "files": len(corpus.files),
        "runs": arguments.runs,
        "queries_per_shape": arguments.queries,
        "clusters": {"lists": NUM_CLUSTERS, "nprobe": NPROBE},
        "index_symbols_per_s": _median_of(runs, "index_symbols_per_s"),
        "index_seconds": _median_of(runs, "index_seconds"),
        "disk_bytes": _median_of(runs, "disk_bytes"),
        "search": {
            shape: {
                key: _median_of(runs, "search", shape, key)
                for key in runs[0]["search"][shape]  # type: ignore[index]
            }
            for shape in runs[0]["search"]  # type: ignore[union-attr]
        },
        "update_one_file_refresh": {
            key: _median_of(runs, "update_one_file_refresh", key) for key in ("p50_ms", "p99_ms")
        },
        "update_one_file_commit": {
            key: _median_of(runs, "update_one_file_commit", key) for key in ("p50_ms", "p99_ms")
        },
        "search_words_with_30_refreshed_files": {
            key: _median_of(runs, "search_words_with_30_refreshed_files", key)
            for key in ("p50_ms", "p99_ms")
        },
        "commit_after_30_refreshes_ms": _median_of(runs, "commit_after_30_refreshes_ms"),
        "reader_reload": {
            key: _median_of(runs, "reader_reload", key) for key in ("p50_ms", "p99_ms")
        },
        "reader_unchanged_check": {
            key: _median_of(runs, "reader_unchanged_check", key) for key in ("p50_ms", "p99_ms")
        },
        "reassign_tenth_seconds": _median_of(runs, "reassign_tenth_seconds"),
        "raw_runs": runs,
    }
    _print_table(summary)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2))
    print(f"\nwrote {RESULTS}")


def _print_table(summary: dict[str, object]) -> None:
    print(f"\n{summary['symbols']:,} symbols, median of {summary['runs']} runs")
    print(
        f"indexing: {summary['index_symbols_per_s']:,.0f} symbols/s "
        f"({summary['index_seconds']:.1f} s incl. commit); "
        f"on disk {float(summary['disk_bytes']) / 1e6:.1f} MB "  # type: ignore[arg-type]
        f"({float(summary['disk_bytes']) / float(summary['symbols']):.0f} B/symbol)"
    )  # type: ignore[arg-type]
    print(
        f"\n| query shape | all p50 | all p99 | {NPROBE}/{NUM_CLUSTERS} clusters p50 | "
        "clusters p99 | path glob p50 | glob p99 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    search = summary["search"]
    assert isinstance(search, dict)
    for shape, row in search.items():
        print(
            f"| {shape} | {row['all_p50_ms']:.2f} ms | {row['all_p99_ms']:.2f} ms | "
            f"{row['clusters_p50_ms']:.2f} ms | {row['clusters_p99_ms']:.2f} ms | "
            f"{row['glob_p50_ms']:.2f} ms | {row['glob_p99_ms']:.2f} ms |"
        )
    print("\n| operation | p50 | p99 |")
    print("| --- | --- | --- |")
    for label, key in (
        ("delete + re-add one file (10 symbols) + refresh", "update_one_file_refresh"),
        ("delete + re-add one file (10 symbols) + commit", "update_one_file_commit"),
        ("word search with 30 refreshed files pending", "search_words_with_30_refreshed_files"),
        ("reader reload after a commit", "reader_reload"),
        ("reader reload_if_changed, nothing new", "reader_unchanged_check"),
    ):
        row = summary[key]
        assert isinstance(row, dict)
        print(f"| {label} | {row['p50_ms']:.2f} ms | {row['p99_ms']:.2f} ms |")
    commit_ms = summary["commit_after_30_refreshes_ms"]
    print(f"| durable commit of 30 refreshed files | {commit_ms:.1f} ms | |")
    reassign_s = summary["reassign_tenth_seconds"]
    moved = int(summary["symbols"]) // 10  # type: ignore[call-overload]
    print(f"| reassign_clusters of {moved:,} symbols + commit | {reassign_s:.2f} s | |")


if __name__ == "__main__":
    main()
