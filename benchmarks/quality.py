"""Search quality of text, semantic and hybrid search on the Python standard library.

The corpus: every top-level module of the running interpreter's stdlib plus the
files the queries point into (a real code base any machine has offline), indexed
by the real engine: tree-sitter symbols, the real model, real Tantivy. The
queries: ``benchmarks/queries/stdlib.json``, natural-language questions a
developer would ask, each with the symbol that answers it.

Reports MRR@10 and recall@10 per mode, and sweeps the fusion weights so the
defaults in ``quiver.engine.fusion`` are chosen by measurement.

    python benchmarks/quality.py [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sysconfig
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from quiver.api import SearchQuery, SearchResult
from quiver.embed.model import load_default_embedder
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.engine.fusion import classify_query, reciprocal_rank_fusion
from quiver.ids import VectorId

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

    # Name queries: the answer's own name, as a user types it into Ctrl+T or search.
    name_queries = [
        {**item, "query": item["qualified_name"].rsplit(".", 1)[-1], "type": "name"}
        for item in queries
    ]
    items = [{**item, "type": "sentence"} for item in queries] + name_queries
    per_mode: dict[str, dict[str, list[int | None]]] = {
        kind: {"text": [], "semantic": [], "hybrid": []} for kind in ("sentence", "name")
    }
    candidates: list[dict[str, object]] = []
    missing = []
    vectors = engine._vectors
    assert vectors is not None
    for item in items:
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
        hits: dict[str, list[tuple[int, float]]] = {}
        for mode in ("text", "semantic", "hybrid"):
            limit = TOP_K if mode == "hybrid" else CANDIDATES
            response = engine.search(SearchQuery(item["query"], mode=mode, limit=limit))  # type: ignore[arg-type]
            hits[mode] = [(int(r.symbol_id), r.score) for r in response.results]
            per_mode[item["type"]][mode].append(first_hit([i for i, _ in hits[mode]], answers))
        # Exact cosine of every text hit too, so score fusion can be evaluated offline.
        query_vector = embedder.embed_query(item["query"])
        text_cosines = []
        for key, _ in hits["text"]:
            stored = vectors.reconstruct(VectorId(key))
            text_cosines.append(float(stored @ query_vector) if stored is not None else 0.0)
        candidates.append(
            {
                "type": item["type"],
                "shape": classify_query(item["query"]).value,
                "answers": sorted(answers),
                "semantic": hits["semantic"],
                "text": hits["text"],
                "text_cosines": text_cosines,
            }
        )
    engine.close()

    strategies = evaluate_strategies(candidates)
    result = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "files": files,
        "symbols": report.symbols_total,
        "queries": {kind: len(per_mode[kind]["text"]) for kind in per_mode},
        "queries_without_answer_in_index": [m["query"] for m in missing],
        "index_seconds": round(index_seconds, 1),
        "modes": {
            kind: {mode: summarise(ranks) for mode, ranks in modes.items()}
            for kind, modes in per_mode.items()
        },
        "all": {
            mode: summarise(per_mode["sentence"][mode] + per_mode["name"][mode])
            for mode in ("text", "semantic", "hybrid")
        },
        "strategies": strategies,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    (DATA / "quality-candidates.json").write_text(json.dumps(candidates))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{sum(result['queries'].values())} queries over {result['symbols']:,} symbols "  # type: ignore[attr-defined]
        f"({files} files), indexed in {index_seconds:.0f} s"
    )
    print(f"{'queries':<10}{'mode':<10}{'MRR@10':>10}{'recall@10':>12}")
    for kind, modes in result["modes"].items():  # type: ignore[attr-defined]
        for mode, scores in modes.items():
            print(f"{kind:<10}{mode:<10}{scores['mrr@10']:>10.3f}{scores['recall@10']:>12.3f}")
    for mode, scores in result["all"].items():  # type: ignore[attr-defined]
        print(f"{'all':<10}{mode:<10}{scores['mrr@10']:>10.3f}{scores['recall@10']:>12.3f}")
    print("\nfusion strategies (MRR@10 sentence / name / all):")
    for name, row in strategies.items():
        print(f"  {name:<34}{row['sentence']:.3f} / {row['name']:.3f} / {row['all']:.3f}")
    if missing:
        print(f"\n{len(missing)} queries have no answer in the index: {missing}")


def evaluate_strategies(candidates: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """MRR@10 of fusion strategies, computed offline from the dumped candidate lists."""

    def mrr(rank_of: Callable[[dict[str, Any]], list[int]], kind: str) -> float:
        chosen = [c for c in candidates if kind == "all" or c["type"] == kind]
        ranks = [first_hit(rank_of(c), set(c["answers"])) for c in chosen]
        return summarise(ranks)["mrr@10"] if ranks else 0.0

    def rrf(weight_text: float) -> Callable[[dict[str, Any]], list[int]]:
        def rank(c: dict[str, Any]) -> list[int]:
            sem = [i for i, _ in c["semantic"]]
            txt = [i for i, _ in c["text"]]
            return [k for k, _ in reciprocal_rank_fusion([(sem, 1.0), (txt, weight_text)])]

        return rank

    def scores(weight_text: float) -> Callable[[dict[str, Any]], list[int]]:
        """cosine + weight · BM25 / max BM25, over the union (text hits get their exact cosine)."""

        def rank(c: dict[str, Any]) -> list[int]:
            combined = {i: s for i, s in c["semantic"]}
            top = max((s for _, s in c["text"]), default=0.0) or 1.0
            for (i, bm25), cosine in zip(c["text"], c["text_cosines"], strict=True):
                combined[i] = cosine + weight_text * bm25 / top
            return sorted(combined, key=lambda i: -combined[i])

        return rank

    table: dict[str, Callable[[dict[str, Any]], list[int]]] = {
        "semantic only": lambda c: [i for i, _ in c["semantic"]],
        "text only": lambda c: [i for i, _ in c["text"]],
    }
    for w in (0.1, 0.25, 0.5, 1.0):
        table[f"rrf text weight {w}"] = rrf(w)
    for w in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5):
        table[f"score fusion text weight {w}"] = scores(w)
    return {
        name: {kind: mrr(rank, kind) for kind in ("sentence", "name", "all")}
        for name, rank in table.items()
    }


if __name__ == "__main__":
    main()
