"""Search quality of text, semantic and hybrid search on the Python standard library.

The corpus: every top-level module of the running interpreter's stdlib plus the
files the queries point into (a real code base any machine has offline), indexed
by the real engine: tree-sitter symbols, the real model, real Tantivy. The
queries: ``benchmarks/queries/stdlib.json``, natural-language questions a
developer would ask, each with the symbol that answers it.

Reports MRR@10 and recall@10 per mode, and sweeps the fusion weights so the
defaults in ``quiver.fusion`` are chosen by measurement.

    python benchmarks/quality.py [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sysconfig
import time
from collections.abc import Sequence
from pathlib import Path

from quiver.embed.model import load_default_embedder
from quiver.engine import EngineOptions, SearchQuery, SearchResult, VectorSearchEngine
from quiver.fusion import DEFAULT_WEIGHTS, QueryShape, classify_query, reciprocal_rank_fusion

HERE = Path(__file__).parent
QUERIES = HERE / "queries" / "stdlib.json"
DATA = HERE / ".data"
RESULTS = HERE / "results" / "quality.json"
TOP_K = 10
CANDIDATES = 50


def build_tree(target: Path, queries: list[dict[str, str]]) -> int:
    """Copy the stdlib's top-level modules and the queried files into ``target``."""
    stdlib = Path(sysconfig.get_path("stdlib"))
    wanted = {q["path"] for q in queries}
    wanted.update(p.name for p in stdlib.glob("*.py"))
    for relative in sorted(wanted):
        source, destination = stdlib / relative, target / relative
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    return len(wanted)


def is_answer(result: SearchResult, expected: dict[str, str]) -> bool:
    qualified = f"{result.container}.{result.name}" if result.container else result.name
    wanted = expected["qualified_name"]
    return result.relative_path == expected["path"] and (
        qualified == wanted or qualified.endswith("." + wanted)
    )


def first_hit(ids: Sequence[int], answers: set[int]) -> int | None:
    for rank, key in enumerate(ids[:TOP_K], start=1):
        if key in answers:
            return rank
    return None


def summarise(ranks: list[int | None]) -> dict[str, float]:
    return {
        "mrr@10": sum(1.0 / r for r in ranks if r) / len(ranks),
        "recall@10": sum(1 for r in ranks if r) / len(ranks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the JSON result only")
    args = parser.parse_args()
    queries: list[dict[str, str]] = json.loads(QUERIES.read_text())
    tree = DATA / "quality-tree"
    files = build_tree(tree, queries)
    embedder = load_default_embedder()
    started = time.perf_counter()
    engine = VectorSearchEngine(
        tree,
        embedder_factory=lambda: embedder,
        cache_dir=DATA / "quality-cache",
        options=EngineOptions(),
    )
    report = engine.index_tree()
    index_seconds = time.perf_counter() - started
    symbols_by_id = {int(r.id): r for r in engine._catalog}

    per_mode: dict[str, list[int | None]] = {"text": [], "semantic": [], "hybrid": []}
    rankings: list[tuple[list[int], list[int], set[int], QueryShape]] = []
    missing = []
    for item in queries:
        answers = {
            key
            for key, record in symbols_by_id.items()
            if record.path == item["path"]
            and (
                record.qualified_name == item["qualified_name"]
                or record.qualified_name.endswith("." + item["qualified_name"])
            )
        }
        if not answers:
            missing.append(item)
            continue
        ranked: dict[str, list[int]] = {}
        for mode in ("text", "semantic", "hybrid"):
            limit = TOP_K if mode == "hybrid" else CANDIDATES
            response = engine.search(SearchQuery(item["query"], mode=mode, limit=limit))  # type: ignore[arg-type]
            ranked[mode] = [int(r.symbol_id) for r in response.results]
            per_mode[mode].append(first_hit(ranked[mode], answers))
        rankings.append(
            (ranked["semantic"], ranked["text"], answers, classify_query(item["query"]))
        )
    engine.close()

    sweep = []
    for text_weight in (0.0, 0.05, 0.1, 0.125, 0.2, 0.25, 0.35, 0.5, 0.75, 1.0):
        ranks = [
            first_hit(
                [key for key, _ in reciprocal_rank_fusion([(sem, 1.0), (txt, text_weight)])],
                answers,
            )
            for sem, txt, answers, _ in rankings
        ]
        sweep.append({"text_weight": text_weight, **summarise(ranks)})

    result = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "files": files,
        "symbols": report.symbols_total,
        "queries": len(rankings),
        "queries_without_answer_in_index": [m["query"] for m in missing],
        "index_seconds": round(index_seconds, 1),
        "modes": {mode: summarise(ranks) for mode, ranks in per_mode.items()},
        "sentence_weights": {
            "semantic": DEFAULT_WEIGHTS[QueryShape.SENTENCE].semantic,
            "text": DEFAULT_WEIGHTS[QueryShape.SENTENCE].text,
        },
        "text_weight_sweep": sweep,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['queries']} queries over {result['symbols']:,} symbols "
        f"({files} files), indexed in {index_seconds:.0f} s"
    )
    print(f"{'mode':<10}{'MRR@10':>10}{'recall@10':>12}")
    for mode, scores in result["modes"].items():  # type: ignore[attr-defined]
        print(f"{mode:<10}{scores['mrr@10']:>10.3f}{scores['recall@10']:>12.3f}")
    print("\nhybrid, semantic weight 1.0, text weight swept:")
    for row in sweep:
        print(
            f"  text {row['text_weight']:<6} MRR@10 {row['mrr@10']:.3f}  "
            f"R@10 {row['recall@10']:.3f}"
        )
    if missing:
        print(f"\n{len(missing)} queries have no answer in the index: {missing}")


if __name__ == "__main__":
    main()
