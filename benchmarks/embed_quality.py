"""Which symbol text and token budget retrieve best: MRR@10 and recall@10 on a stdlib query set.

Embeds the symbols of the files named in ``benchmarks/queries/stdlib.json`` plus
distractor modules (>= 5,000 symbols), once per text template and token budget,
and ranks every symbol against each query by exact cosine (brute force). Vectors
are cached in ``benchmarks/.data/embed-cache`` (keyed by model id and text hash),
so a second run only re-embeds what changed.

    PYTHONPATH=server:benchmarks python benchmarks/embed_quality.py

Writes ``benchmarks/results/embed_quality.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quiver.embed.cache import EmbeddingCache
from quiver.embed.model import OnnxEmbedder
from quiver.embed.text import CHARS_PER_TOKEN_BOUND, TextTemplate, symbol_text, text_hash
from quiver.symbols import Symbol
from stdlib_symbols import DISTRACTOR_MODULES, STDLIB, is_answer, stdlib_symbols

HERE = Path(__file__).parent
QUERIES = HERE / "queries" / "stdlib.json"
CACHE = HERE / ".data" / "embed-cache"
RESULTS = HERE / "results" / "embed_quality.json"
TOP_K = 10


@dataclass(frozen=True)
class Config:
    template: TextTemplate
    max_tokens: int
    max_chars: int
    #: drop every doc comment, as in an undocumented code base
    without_docs: bool = False

    @property
    def label(self) -> str:
        suffix = " no-docs" if self.without_docs else ""
        return f"{self.template.value}@{self.max_tokens}{suffix}"


def _config(template: TextTemplate, max_tokens: int, *, without_docs: bool = False) -> Config:
    # the character cap scales with the token budget as the default does
    return Config(template, max_tokens, CHARS_PER_TOKEN_BOUND * max_tokens, without_docs)


CONFIGS = [
    _config(TextTemplate.NAME, 64),
    _config(TextTemplate.SIGNATURE_DOC, 64),
    _config(TextTemplate.SIGNATURE_DOC, 128),
    _config(TextTemplate.FULL, 64),
    _config(TextTemplate.FULL, 96),
    _config(TextTemplate.FULL, 128),
    _config(TextTemplate.FULL, 256),
    _config(TextTemplate.SIGNATURE_DOC, 64, without_docs=True),
    _config(TextTemplate.FULL, 64, without_docs=True),
]


def load_queries() -> list[dict[str, str]]:
    queries: list[dict[str, str]] = json.loads(QUERIES.read_text(encoding="utf-8"))
    return queries


def corpus(queries: list[dict[str, str]], *, without_docs: bool = False) -> list[Symbol]:
    """Symbols of the answer files and the distractor modules, each file once."""
    files = list(dict.fromkeys([query["path"] for query in queries] + DISTRACTOR_MODULES))
    return stdlib_symbols(files, without_docs=without_docs)


def embed_corpus(
    embedder: OnnxEmbedder, symbols: list[Symbol], config: Config
) -> tuple[np.ndarray, int, float]:
    """Vectors of every symbol under ``config``; returns (vectors, texts embedded, seconds)."""
    texts = [symbol_text(s, max_chars=config.max_chars, template=config.template) for s in symbols]
    hashes = [text_hash(text) for text in texts]
    with EmbeddingCache(CACHE, model_id=embedder.model_id, dim=embedder.dim) as cache:
        vectors, found = cache.get_many(hashes)
        missing = [row for row in range(len(texts)) if not found[row]]
        unique = list(dict.fromkeys(hashes[row] for row in missing))
        text_of = {hashes[row]: texts[row] for row in missing}
        started = time.perf_counter()
        for start in range(0, len(unique), 512):
            chunk = unique[start : start + 512]
            cache.put_many(chunk, embedder.embed_documents([text_of[h] for h in chunk]))
        seconds = time.perf_counter() - started
        vectors, found = cache.get_many(hashes)
        assert found.all()
    return vectors, len(unique), seconds


def evaluate(
    query_vectors: np.ndarray,
    symbol_vectors: np.ndarray,
    symbols: list[Symbol],
    queries: list[dict[str, str]],
) -> dict[str, Any]:
    scores = query_vectors @ symbol_vectors.T
    ranks: list[int | None] = []
    for row, query in enumerate(queries):
        order = np.argsort(-scores[row], kind="stable")
        rank = None
        for position, index in enumerate(order[:1000]):
            if is_answer(symbols[index], query["path"], query["qualified_name"]):
                rank = position + 1
                break
        ranks.append(rank)
    reciprocal = [1.0 / r if r is not None and r <= TOP_K else 0.0 for r in ranks]
    return {
        "mrr@10": float(np.mean(reciprocal)),
        "recall@1": float(np.mean([r == 1 for r in ranks])),
        "recall@10": float(np.mean([r is not None and r <= TOP_K for r in ranks])),
        "ranks": ranks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", help="labels to run, e.g. full@128")
    parser.add_argument("--threads", type=int, default=None)
    arguments = parser.parse_args()

    queries = load_queries()
    symbols = corpus(queries)
    undocumented = corpus(queries, without_docs=True)
    assert [s.qualified_name for s in undocumented] == [s.qualified_name for s in symbols]
    for query in queries:
        if not any(is_answer(s, query["path"], query["qualified_name"]) for s in symbols):
            raise SystemExit(f"expected symbol missing from the corpus: {query}")
    print(f"{len(queries)} queries, {len(symbols)} symbols from {STDLIB}")

    configs = [c for c in CONFIGS if not arguments.configs or c.label in arguments.configs]
    embedders: dict[int, OnnxEmbedder] = {}
    rows: list[dict[str, Any]] = []
    for config in configs:
        if config.max_tokens not in embedders:
            embedders[config.max_tokens] = OnnxEmbedder(
                threads=arguments.threads, max_tokens=config.max_tokens
            )
        embedder = embedders[config.max_tokens]
        corpus_symbols = undocumented if config.without_docs else symbols
        vectors, embedded, seconds = embed_corpus(embedder, corpus_symbols, config)
        query_vectors = np.stack([embedder.embed_query(q["query"]) for q in queries])
        result = evaluate(query_vectors, vectors, symbols, queries)
        rows.append(
            {
                "config": config.label,
                "template": config.template.value,
                "max_tokens": config.max_tokens,
                "max_chars": config.max_chars,
                "embedded_now": embedded,
                "embed_seconds": round(seconds, 1),
                **result,
            }
        )
        print(
            f"{config.label:<20} mrr@10 {result['mrr@10']:.3f}  "
            f"recall@1 {result['recall@1']:.3f}  recall@10 {result['recall@10']:.3f}  "
            f"(embedded {embedded} texts in {seconds:.0f} s)",
            flush=True,
        )

    print()
    print("| text template @ tokens | MRR@10 | recall@1 | recall@10 |")
    print("| --- | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['config']} | {row['mrr@10']:.3f} | {row['recall@1']:.3f} "
            f"| {row['recall@10']:.3f} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": f"{platform.machine()} {platform.processor()} "
                f"python {platform.python_version()}",
                "queries": len(queries),
                "symbols": len(symbols),
                "query_texts": [q["query"] for q in queries],
                "results": rows,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
