"""A workspace of realistic size, indexed once, for the server-side benchmarks.

The tree: the Python standard library (every ``.py`` file, tests included),
then numpy, then whole packages of this venv until at least
``target_symbols`` symbols (100,000 by default: ~2,700 files). It is copied to
``benchmarks/.data/`` (the benchmarks edit files) and indexed by the engine
into a cache next to it; later runs reuse both.

Embedding 100,000 symbols with the real model would take about an hour on
the reference machine, so the *base* index is built by ``BenchmarkEmbedder``:
it carries the real model's identity (id, dimension, weights hash, so the
real server opens the index without re-embedding) and gives the bulk of
symbols pseudo-random unit vectors derived from their text. What the
benchmarks measure is embedded by the real model: ``use_real_model()``
switches every later document and query to it. Vector search and update
costs do not depend on what the vectors mean.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sysconfig
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quiver.api import IndexProgress
from quiver.embed.embedder import Embedder
from quiver.embed.model import (
    DEFAULT_MAX_TOKENS,
    default_model_files,
    load_default_embedder,
    model_id_for,
)
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.numeric import FloatMatrix, FloatVector
from quiver.parse import discover, parse_files

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
STDLIB = Path(sysconfig.get_path("stdlib"))
SITE = Path(sysconfig.get_path("purelib"))
#: Packages added after the standard library, in this order, until the target is reached.
PACKAGES = ("numpy", "hypothesis", "huggingface_hub", "numba", "mypy")


class BenchmarkEmbedder:
    """The real model's identity; text-derived random vectors until ``use_real_model``."""

    def __init__(self) -> None:
        files = default_model_files()
        self._model_id = model_id_for(files.name, DEFAULT_MAX_TOKENS)
        self._dim = files.dim
        self._sha256 = files.weights_sha256
        self.real: Embedder | None = None

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def weights_sha256(self) -> str:
        return self._sha256

    def use_real_model(self) -> Embedder:
        self.real = load_default_embedder()
        return self.real

    def _pseudo(self, text: str) -> FloatVector:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "replace")).digest()[:8])
        vector = np.random.default_rng(seed).standard_normal(self._dim).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        if self.real is not None:
            return self.real.embed_documents(texts)
        matrix = np.empty((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self._pseudo(text)
        return matrix

    def embed_query(self, text: str) -> FloatVector:
        return self.real.embed_query(text) if self.real is not None else self._pseudo(text)


@dataclass(frozen=True, slots=True)
class Prepared:
    root: Path
    cache_dir: Path
    files: int
    symbols: int
    build_seconds: float | None  # None when reused


def prepared_workspace(target_symbols: int = 100_000) -> Prepared:
    """The copied and indexed workspace (built on first use: a few minutes)."""
    sources = [("stdlib", STDLIB), *((f"site/{name}", SITE / name) for name in PACKAGES)]
    return _prepared(f"workspace-{target_symbols}", sources, target_symbols)


def prepared_small_workspace() -> Prepared:
    """A project of everyday size: a copy of Quiver's own ``server/quiver`` (~1,500 symbols)."""
    return _prepared("workspace-quiver", [("quiver", HERE.parent / "server" / "quiver")], 0)


def _prepared(name: str, sources: list[tuple[str, Path]], target_symbols: int) -> Prepared:
    base = DATA / name
    root, cache_dir, marker = base / "src", base / "cache", base / "ready.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        return Prepared(root, cache_dir, info["files"], info["symbols"], None)
    shutil.rmtree(base, ignore_errors=True)
    started = time.perf_counter()
    total = _copy_sources(root, sources, target_symbols)
    print(f"copied sources with {total:,} symbols; indexing (hash vectors for the bulk)...")
    engine = open_engine(root, cache_dir, BenchmarkEmbedder())
    try:
        report = engine.index_tree(progress=_print_progress)
    finally:
        engine.close()
    print()
    info = {"files": report.files_seen, "symbols": report.symbols_total}
    marker.write_text(json.dumps(info))
    return Prepared(root, cache_dir, info["files"], info["symbols"], time.perf_counter() - started)


def open_engine(root: Path, cache_dir: Path, embedder: Embedder) -> VectorSearchEngine:
    return VectorSearchEngine(
        root, embedder_factory=lambda: embedder, options=EngineOptions(), cache_dir=cache_dir
    )


def _copy_sources(root: Path, sources: list[tuple[str, Path]], target_symbols: int) -> int:
    """Copy whole sources, in order, until ``target_symbols`` (0: copy them all)."""
    total = 0
    for name, source in sources:
        if target_symbols and total >= target_symbols:
            break
        files = [f for f in discover(source) if not f.rel_path.startswith("site-packages/")]
        count = sum(len(p.symbols) for p in parse_files(files))
        for file in files:
            destination = root / name / file.rel_path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.abs_path, destination)
        total += count
        print(f"  {name}: {len(files):,} files, {count:,} symbols")
    return total


def _print_progress(progress: IndexProgress) -> None:
    print(f"\r  {progress.message} ({progress.symbols:,} symbols)", end="", flush=True)
