"""``quiver index``, ``quiver search`` and ``quiver status``: the engine from a terminal.

The engine (numba, Tantivy, tree-sitter) is imported when one of these
commands runs, not when the parser is built, so ``quiver serve`` answers
``initialize`` without paying for it first.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from quiver.api import MAX_LIMIT, SEARCH_MODES
from quiver.cli.output import json_line
from quiver.cli.progress import IndexProgressLine
from quiver.errors import QuiverError
from quiver.symbols import SymbolKind

if TYPE_CHECKING:
    from quiver.api import SearchResponse
    from quiver.engine import VectorSearchEngine


def add_engine_commands(subparsers: Any) -> None:
    """Register the engine's subcommands on the CLI's subparser group."""
    index = subparsers.add_parser("index", help="index a workspace (only what changed)")
    index.add_argument("path", type=Path, help="workspace root")
    index.add_argument("--rebuild", action="store_true", help="discard the cache first")
    _add_common(index)
    index.set_defaults(handler=run_index)

    search = subparsers.add_parser("search", help="search a workspace")
    search.add_argument("path", type=Path, help="workspace root")
    search.add_argument("query", help="natural language, a name, or both")
    search.add_argument("--mode", choices=SEARCH_MODES, default="hybrid")
    search.add_argument(
        "--limit",
        type=_limit,
        default=10,
        metavar="N",
        help=f"the most results to show, 1..{MAX_LIMIT} (default 10)",
    )
    search.add_argument("--kind", action="append", default=[], help="e.g. function, class")
    search.add_argument("--lang", action="append", default=[], help="e.g. python, rust")
    search.add_argument("--path-glob", action="append", default=[], dest="paths")
    search.add_argument(
        "--refresh", action="store_true", help="bring the index up to date before searching"
    )
    search.add_argument(
        "--secondary-weight",
        type=_weight,
        default=None,
        metavar="W",
        help="multiply the scores of tests, fixtures, vendored and generated code by W "
        "in (0, 1] so product code ranks first for equal relevance (1 turns this off)",
    )
    _add_common(search)
    search.set_defaults(handler=run_search)

    status = subparsers.add_parser("status", help="show what is indexed and where")
    status.add_argument("path", type=Path, help="workspace root")
    _add_common(status)
    status.set_defaults(handler=run_status)

    cache = subparsers.add_parser("cache", help="manage the on-disk indexes")
    cache_commands = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    clean = cache_commands.add_parser(
        "clean",
        help="remove the index of a workspace (or of every workspace with --all)",
        description=(
            "Remove cached indexes. An index that a running server is writing is left "
            "alone (close that editor first)."
        ),
    )
    target = clean.add_mutually_exclusive_group(required=True)
    target.add_argument("path", type=Path, nargs="?", help="workspace root")
    target.add_argument(
        "--all",
        action="store_true",
        help="every workspace's index, and the start-up caches beside them",
    )
    clean.add_argument("--cache-dir", type=Path, default=None, help="cache root directory")
    clean.set_defaults(handler=run_cache_clean)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--cache-dir", type=Path, default=None, help="cache root directory")
    parser.add_argument("--max-file-size", type=int, default=1 << 20)


def _weight(text: str) -> float:
    """``--secondary-weight``'s type: a number in (0, 1] (argparse reports the error)."""
    try:
        weight = float(text)
    except ValueError:
        weight = math.nan
    if not 0.0 < weight <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number in (0, 1]; try 0.9 or 1")
    return weight


def _limit(text: str) -> int:
    """``--limit``'s type: a whole number in 1..MAX_LIMIT (argparse reports the error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number; pick one in 1..{MAX_LIMIT}"
        ) from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{value} is outside 1..{MAX_LIMIT}")
    return value


def _check_workspace(root: Path) -> None:
    """Raise ``QuiverError`` (with a Suggestion) unless ``root`` is an existing directory."""
    if not root.exists():
        raise QuiverError(
            f"{root} does not exist.", "Check the path, or pass the root folder of a workspace."
        )
    if not root.is_dir():
        raise QuiverError(f"{root} is not a directory.", "Pass the root folder of a workspace.")


def _open_engine(
    args: argparse.Namespace, *, role: Literal["auto", "writer", "reader"] = "auto"
) -> VectorSearchEngine:
    """The workspace's engine. ``auto``: a reader when a server already writes the cache
    (searches then follow it); ``writer`` fails with a Suggestion in that case."""
    from quiver.embed.model import load_default_embedder
    from quiver.engine import EngineOptions, VectorSearchEngine

    root: Path = args.path
    _check_workspace(root)
    options = EngineOptions(cache_root=args.cache_dir, max_file_size=args.max_file_size)
    weight = getattr(args, "secondary_weight", None)
    if weight is not None:
        options = replace(options, path_prior=replace(options.path_prior, weight=weight))
    return VectorSearchEngine(
        root, embedder_factory=load_default_embedder, options=options, role=role
    )


def run_index(args: argparse.Namespace) -> int:
    with _open_engine(args, role="writer") as engine:
        if args.rebuild:
            engine.rebuild_cache()
        progress = IndexProgressLine(sys.stderr)
        report = engine.index_tree(progress=progress)
        progress.finish()
        _warn_unreadable(report.unreadable)
        if args.json:
            print(json.dumps(asdict(report)))
        else:
            print(
                f"Indexed {report.files_seen:,} files ({report.files_indexed:,} changed, "
                f"{report.files_removed:,} removed, {report.files_skipped:,} skipped): "
                f"{report.symbols_total:,} symbols, {report.symbols_embedded:,} embedded "
                f"in {report.seconds:.1f} s.\nCache: {engine.cache_dir}"
            )
    return 0


#: How many of the paths left out for permissions the warning names.
UNREADABLE_SHOWN = 5


def _warn_unreadable(paths: tuple[str, ...]) -> None:
    """A warning on stderr (without ``-v``) when the index is missing what may not be read."""
    if not paths:
        return
    shown = ", ".join(paths[:UNREADABLE_SHOWN])
    more = f" and {len(paths) - UNREADABLE_SHOWN:,} more" if len(paths) > UNREADABLE_SHOWN else ""
    print(
        f"quiver: warning: {len(paths):,} path{'s' if len(paths) != 1 else ''} skipped for "
        f"permissions (not indexed): {shown}{more}.\n"
        "Suggestion: make them readable (chmod -R u+rX PATH), or add them to .quiverignore "
        "to leave them out on purpose.",
        file=sys.stderr,
    )


def run_search(args: argparse.Namespace) -> int:
    try:
        kinds = tuple(SymbolKind.from_label(k) for k in args.kind)
    except KeyError as error:
        raise QuiverError(
            f"Unknown symbol kind {error}.",
            "Use a kind such as function, method, class, struct, interface, enum.",
        ) from error
    from quiver.api import SearchQuery

    with _open_engine(args) as engine:
        if engine.role == "writer" and (args.refresh or engine.status().files == 0):
            progress = IndexProgressLine(sys.stderr)
            report = engine.index_tree(progress=progress)
            progress.finish()
            _warn_unreadable(report.unreadable)
        query = SearchQuery(
            text=args.query,
            mode=args.mode,
            limit=args.limit,
            kinds=kinds,
            languages=tuple(args.lang),
            paths=tuple(args.paths),
        )
        response = engine.search(query)
        if args.json:
            print(json_line(_response_json(response)))
        else:
            _print_results(response, engine.root)
    return 0


def _response_json(response: SearchResponse) -> dict[str, object]:
    return {
        "partial": response.partial,
        "generation": response.generation,
        "elapsedMs": round(response.elapsed_ms, 3),
        "results": [
            {
                "name": r.name,
                "kind": r.kind.label,
                "container": r.container,
                "path": r.relative_path,
                "line": r.range.start.line + 1,
                "range": [
                    r.range.start.line,
                    r.range.start.character,
                    r.range.end.line,
                    r.range.end.character,
                ],
                "language": r.language,
                "signature": r.signature,
                "snippet": r.snippet,
                "score": r.score,
                "retrievers": list(r.retrievers),
            }
            for r in response.results
        ],
    }


def _print_results(response: SearchResponse, root: Path) -> None:
    if not response.results:
        print("No results.")
        return
    for rank, r in enumerate(response.results, start=1):
        where = f"{r.relative_path}:{r.range.start.line + 1}"
        qualified = f"{r.container}.{r.name}" if r.container else r.name
        print(f"{rank:>2}. {qualified}  ({r.kind.label}, {where})")
        if r.signature:
            print(f"    {r.signature}")
    print(f"({len(response.results)} results in {response.elapsed_ms:.1f} ms from {root})")


def run_status(args: argparse.Namespace) -> int:
    _check_workspace(args.path)
    cache_dir = _existing_index(args.path, args.cache_dir)
    if cache_dir is None:
        return _print_not_indexed(args)
    with _open_engine(args, role="reader") as engine:  # never takes a server's place
        status = engine.status()
    payload = {
        "state": status.state,
        "root": str(status.root),
        "cacheDir": str(status.cache_dir),
        "writerPid": status.writer_pid,
        "files": status.files,
        "symbols": status.symbols,
        "vectors": status.vectors,
        "generation": status.generation,
        "model": status.model_id,
        "diskBytes": status.disk_bytes,
        "lastUpdate": status.last_update.isoformat() if status.last_update else None,
    }
    if args.json:
        print(json.dumps(payload))
    else:
        for key, value in payload.items():
            print(f"{key:>10}: {value}")
    return 0


def _existing_index(root: Path, cache_root: Path | None) -> Path | None:
    """The workspace's index directory if an index was published there or a writer is
    building one; None otherwise. Creates nothing (not even the cache root): a few
    ``stat`` calls and a read of the lock file."""
    from quiver.cache_paths import default_cache_root, workspace_key
    from quiver.engine.catalog import Catalog
    from quiver.store.lock import WriterLock

    base = cache_root if cache_root is not None else default_cache_root()
    directory = base / workspace_key(root.resolve())
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        return directory  # something in the way: opening it says what, with a Suggestion
    if not directory.is_dir():
        return None
    if Catalog.stamp(directory / "catalog") is None and WriterLock(directory).holder_pid() is None:
        return None
    return directory


def _print_not_indexed(args: argparse.Namespace) -> int:
    root = args.path.resolve()
    if args.json:
        print(json.dumps({"state": "not indexed", "root": str(root), "cacheDir": None}))
    else:
        print(
            f"{'state':>10}: not indexed\n{'root':>10}: {root}\n"
            f"Suggestion: run `quiver index {args.path}` to build its index."
        )
    return 0


#: Folders under the cache root that are not indexes but caches of compiled code.
STARTUP_CACHES = ("startup", "numba")


def run_cache_clean(args: argparse.Namespace) -> int:
    from quiver.cache_paths import cache_dir_for, default_cache_root, is_workspace_cache
    from quiver.store.lock import WriterLock

    root = args.cache_dir if args.cache_dir is not None else default_cache_root()
    if args.all:
        targets = (
            sorted(p for p in root.iterdir() if is_workspace_cache(p)) if root.is_dir() else []
        )
        # What every process rebuilds by itself when it is gone: the bytecode of the LSP
        # library's classes, and numba's compiled kernels where Quiver put them.
        targets += [root / name for name in STARTUP_CACHES if (root / name).is_dir()]
    else:
        targets = [cache_dir_for(args.path.resolve(), args.cache_dir)]
    busy: list[tuple[Path, int | None]] = []
    freed = removed = 0
    for directory in targets:
        if not directory.is_dir():
            continue
        lock = WriterLock(directory)
        if not lock.try_acquire():  # a server writes it: deleting would pull it from under it
            busy.append((directory, lock.holder_pid()))
            continue
        try:
            size = _tree_size(directory)
            shutil.rmtree(directory)
        finally:
            lock.release()
        freed += size
        removed += 1
        print(f"Removed {directory} ({size / 1e6:,.1f} MB)")
    for directory, pid in busy:
        print(
            f"quiver: {directory} is in use by Quiver process {pid or '?'}; left in place.\n"
            "Suggestion: close the editor (or `quiver serve`) using it, then run this again.",
            file=sys.stderr,
        )
    if not removed and not busy:
        print("Nothing to remove." if args.all else f"No index for {args.path}.")
    elif removed > 1:
        print(f"Freed {freed / 1e6:,.1f} MB in {removed} indexes.")
    return 1 if busy else 0


def _tree_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
