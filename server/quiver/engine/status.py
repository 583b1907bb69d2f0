"""What the index holds: its status, whether a file is in it, whether its parts agree.

Every function reads the shared parts under the state lock only for as long
as it copies what it needs; none writes.
"""

from __future__ import annotations

import os
from pathlib import Path

from quiver.api import EngineStatus
from quiver.engine.parts import EngineParts


def engine_status(parts: EngineParts) -> EngineStatus:
    """Counts, model, cache, role and state; walks the cache directory for its size."""
    with parts.state_lock:
        vectors = parts.vectors
        catalog = parts.catalog
        return EngineStatus(
            state=parts.state,
            root=parts.root,
            cache_dir=parts.cache_dir,
            files=len(catalog.files),
            symbols=len(catalog),
            vectors=vectors.ntotal if vectors is not None else 0,
            generation=catalog.generation,
            model_id=catalog.model_id,
            dim=vectors.dim if vectors is not None else 0,
            disk_bytes=_disk_usage(parts.cache_dir),
            last_update=parts.last_update,
            message=(f"{len(catalog.files):,} files, {len(catalog):,} symbols"),
            role=parts.role,
            writer_pid=parts.writer_pid,
        )


def is_indexed(parts: EngineParts, path: Path | str) -> bool:
    """Whether the file is in the index (it was discovered and not excluded)."""
    relative = parts.relative_path(path)
    with parts.state_lock:
        return relative in parts.catalog.files


def indexes_files_under(parts: EngineParts, directory: Path | str) -> bool:
    """Whether any indexed file lies under ``directory`` (one pass over the file table)."""
    try:
        prefix = parts.relative_path(directory).rstrip("/") + "/"
    except ValueError:  # outside the workspace
        return False
    with parts.state_lock:
        return prefix == "./" or any(path.startswith(prefix) for path in parts.catalog.files)


def consistency_problems(parts: EngineParts) -> list[str]:
    """What disagrees between the catalog, the vector index and the text index.

    Every catalog symbol must have exactly one vector and one text document and
    nothing else may have either; an empty list means the three agree. Reads every
    id of each store (~0.1 s per 100,000 symbols); for checks and tests, not queries.
    """
    with parts.state_lock:
        catalog_ids = [int(i) for i in parts.catalog.symbols]
        filed = [int(i) for record in parts.catalog.files.values() for i in record.symbol_ids]
        vector_ids = parts.vectors.ids().tolist() if parts.vectors is not None else []
        text_ids = [int(i) for i in parts.text.symbol_ids()] if parts.text is not None else []
    problems = []
    expected = set(catalog_ids)
    for label, ids in (
        ("catalog", catalog_ids),
        ("file table", filed),
        ("vector index", vector_ids),
        ("text index", text_ids),
    ):
        found = set(ids)
        if len(found) != len(ids):
            problems.append(f"{label}: {len(ids) - len(found)} duplicated ids")
        if found - expected:
            problems.append(f"{label}: {len(found - expected)} ids the catalog lacks")
        if expected - found:
            problems.append(f"{label}: {len(expected - found)} catalog ids missing")
    return problems


def _disk_usage(directory: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(directory):
        for name in filenames:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except OSError:
                continue
    return total
