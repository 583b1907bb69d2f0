"""A writer killed with SIGKILL at any moment leaves a cache the next start completes.

A child process indexes a generated tree (400 files, ~4,800 symbols: several commit
batches, then IVF training) and is killed at a random moment after it opened the
cache; between kills some files are rewritten, added or deleted, so every run has
work to lose. The deterministic test embedder keeps each run short: what is under
test is the store (catalog, IVF files, Tantivy segments, their publication order),
not the model.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from hashing_embedder import HashingEmbedder
from quiver.api import SearchQuery
from quiver.engine import EngineOptions, VectorSearchEngine
from quiver.parse import extract_symbols

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("crash_worker.py")
FILES = 400
FUNCTIONS_PER_FILE = 12
KILLS = 20


def write_module(path: Path, number: int, version: int) -> None:
    functions = []
    for index in range(FUNCTIONS_PER_FILE):
        functions.append(
            f"def handler_{number}_{index}(request, retries={version}):\n"
            f'    """Handle request kind {index} of module {number}, version {version}."""\n'
            f"    return request.send(timeout={index + version})\n"
        )
    path.write_text("\n\n".join(functions))


def expected_symbols(root: Path) -> Counter[tuple[str, str, int]]:
    found: Counter[tuple[str, str, int]] = Counter()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for symbol in extract_symbols(path.read_bytes(), relative, "python"):
            found[(relative, symbol.qualified_name, symbol.range.start.line)] += 1
    return found


def run_worker(root: Path, cache: Path, *, kill_after: float | None) -> tuple[bool, float]:
    """Run one indexing child: whether it was killed before it finished, and how long it
    ran after opening the cache."""
    child = subprocess.Popen(
        [sys.executable, str(WORKER), str(root), str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    started = time.monotonic()
    if kill_after is None:
        output = child.communicate(timeout=240)[0]
        assert child.returncode == 0 and output.startswith("done"), output
        return False, time.monotonic() - started
    while child.poll() is None and time.monotonic() - started < kill_after:
        time.sleep(0.002)
    finished = child.poll() is not None
    child.kill()  # SIGKILL: no clean-up code runs
    child.wait(timeout=60)
    return not finished, time.monotonic() - started


def test_a_writer_killed_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    root, cache = tmp_path / "workspace", tmp_path / "cache"
    for number in range(FILES):
        folder = root / f"pkg{number % 8}"
        folder.mkdir(parents=True, exist_ok=True)
        write_module(folder / f"module_{number}.py", number, version=0)
    rng = random.Random(20261201)
    kills = attempts = 0
    version = 0
    added: list[Path] = []
    span = 2.5  # how long a run lasts, learnt from the runs that finished
    while kills < KILLS:
        attempts += 1
        assert attempts <= 6 * KILLS, "the worker kept finishing before it could be killed"
        # Anywhere in a run, and now and then right after it opened the cache.
        kill_after = rng.choice([rng.uniform(0.0, 0.05), rng.uniform(0.0, span)])
        killed, ran = run_worker(root, cache, kill_after=kill_after)
        kills += killed
        if not killed:
            span = max(0.05, ran)
        # Give the next run something to lose: rewrite, add and delete a few files.
        version += 1
        for number in rng.sample(range(FILES), 30):
            target = root / f"pkg{number % 8}" / f"module_{number}.py"
            if target.exists():
                write_module(target, number, version)
        added.append(root / "pkg0" / f"added_{version}.py")
        added[-1].write_text(f"def added_in_{version}():\n    pass\n")
        if len(added) > 3:
            added.pop(0).unlink()

    assert not run_worker(root, cache, kill_after=None)[0]  # a clean run finishes the job

    embedder = HashingEmbedder(dim=32)
    with VectorSearchEngine(
        root,
        embedder_factory=lambda: embedder,
        cache_dir=cache,
        options=EngineOptions(parse_workers=1),
    ) as engine:
        assert engine.consistency_problems() == []
        indexed: Counter[tuple[str, str, int]] = Counter()
        for path in engine._catalog.files:  # the catalog as published
            for record in engine.document_symbols(path):
                indexed[(record.path, record.qualified_name, record.range.start.line)] += 1
        assert indexed == expected_symbols(root)  # nothing lost, nothing twice
        report = engine.index_tree()
        assert report.files_indexed == 0 and report.symbols_embedded == 0
        status = engine.status()
        assert status.vectors == status.symbols == sum(indexed.values())
        for gone in range(1, version - 2):  # deleted files' symbols are gone everywhere
            hits = engine.search(SearchQuery(f"added_in_{gone}", mode="text", limit=5))
            assert f"added_in_{gone}" not in [r.name for r in hits.results]
        latest = engine.search(SearchQuery(f"added_in_{version}", mode="text", limit=5))
        assert [r.name for r in latest.results][:1] == [f"added_in_{version}"]
