"""The ``quiver`` command line: one subcommand per job, all calling the core.

Each subcommand registers itself in :func:`build_parser` with an
``_add_<name>_command(commands)`` function that sets ``handler`` to the
function running it; :func:`main` configures logging and dispatches.
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from quiver import __version__
from quiver.cli.engine_commands import add_engine_commands
from quiver.cli.output import json_line, write_names_as_bytes
from quiver.errors import QuiverError
from quiver.symbols import Position, Range, Symbol

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quiver", description="Semantic code search and workspace symbols."
    )
    parser.add_argument("--version", action="version", version=f"quiver {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more to stderr: -v for skipped files and progress notes, -vv for debugging",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_symbols_command(commands)
    add_engine_commands(commands)
    _add_serve_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _configure_logging(args.verbose)
    write_names_as_bytes(sys.stdout)
    handler: Handler = args.handler
    try:
        return handler(args)
    except QuiverError as error:
        print(f"quiver: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `quiver symbols . | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        if error.errno not in _REFUSED_WRITES:
            raise
        # A full disk (or quota, or a read-only one) is the user's to fix, not a crash.
        print(f"quiver: {_refused_write(error)}", file=sys.stderr)
        return 1


#: Writes the disk refused: full, over quota, past the file size limit, read-only.
_REFUSED_WRITES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def _refused_write(error: OSError) -> str:
    """What a refused write means and what to do about it (a ``Suggestion:`` line)."""
    where = f" {error.filename}" if error.filename else ""
    if error.errno == errno.EROFS:
        problem, fix = "the disk is read-only", "Point the cache at a writable disk"
    else:
        problem, fix = "the disk is full", "Free some space, or point the cache at a disk with room"
    return (
        f"Cannot write{where}: {problem} ({error.strerror}).\n"
        f"Suggestion: {fix} (`--cache-dir` or QUIVER_CACHE_DIR); the last complete index "
        "stays usable."
    )


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(message)s")


# --- quiver serve -----------------------------------------------------------


def _add_serve_command(commands: Any) -> None:
    command = commands.add_parser(
        "serve",
        help="run the language server (stdio by default)",
        description=(
            "Run Quiver's language server: workspace symbols and semantic search for any "
            "LSP editor. Logs go to stderr; see docs/protocol.md for the protocol."
        ),
    )
    transport = command.add_mutually_exclusive_group()
    transport.add_argument(
        "--stdio", action="store_true", help="speak LSP on stdin/stdout (the default)"
    )
    transport.add_argument(
        "--tcp", type=int, metavar="PORT", help="listen on a TCP port instead (for debugging)"
    )
    command.add_argument(
        "--host", default="127.0.0.1", help="address to listen on with --tcp (default 127.0.0.1)"
    )
    command.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    from quiver.workspace.memory import limit_arenas

    limit_arenas()  # before any thread starts: a long session's memory stays flat
    from quiver.cli.diagnostics import trace_allocations_if_asked
    from quiver.lsp.attrs_cache import cached_attrs_bytecode

    trace_allocations_if_asked()  # QUIVER_TRACEMALLOC: what grows in a long session

    # lsprotocol's ~570 attrs classes are a sixth of a warm start; their bytecode is cached.
    with cached_attrs_bytecode():
        from quiver.lsp.server import serve_stdio, serve_tcp

    # The server reports progress and problems to the client; stderr gets Quiver's
    # own info lines (the option logLevel), and pygls's chatter only with -vv.
    if args.tcp is not None:
        if not 0 < args.tcp < 65536:
            print(
                f"quiver: --tcp {args.tcp} is not a port number.\n"
                "Suggestion: pick a free port between 1024 and 65535, e.g. --tcp 2087.",
                file=sys.stderr,
            )
            return 2
        serve_tcp(args.host, args.tcp)
    else:
        serve_stdio()
    return 0


# --- quiver symbols ---------------------------------------------------------


def _add_symbols_command(commands: Any) -> None:
    from quiver.parse import DEFAULT_MAX_FILE_SIZE, SUPPORTED_LANGUAGES

    command = commands.add_parser(
        "symbols",
        help="list the symbols extracted from a file or a directory tree",
        description=(
            "List the symbols Quiver extracts (kind, qualified name, path:line). "
            "Honours .gitignore and .quiverignore; skipped files are logged with -v."
        ),
    )
    command.add_argument("path", type=Path, metavar="PATH", help="a file or a directory")
    command.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per symbol and line (JSON Lines), positions 0-based UTF-16",
    )
    command.add_argument(
        "--lang",
        action="extend",
        nargs="+",
        choices=SUPPORTED_LANGUAGES,
        metavar="LANG",
        help=f"only these languages ({', '.join(SUPPORTED_LANGUAGES)})",
    )
    command.add_argument("--limit", type=int, metavar="N", help="stop after N symbols")
    command.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="skip paths matching this gitignore-style pattern (repeatable)",
    )
    command.add_argument(
        "--max-file-size",
        type=int,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="BYTES",
        help=f"skip files larger than this (default {DEFAULT_MAX_FILE_SIZE:,})",
    )
    command.add_argument(
        "--workers", type=int, metavar="N", help="parser processes (default: one per CPU)"
    )
    command.set_defaults(handler=_run_symbols)


def _run_symbols(args: argparse.Namespace) -> int:
    from quiver.parse import discover, parse_files

    log = logging.getLogger("quiver.symbols")
    root: Path = args.path
    if not root.exists():
        print(
            f"quiver: {root} does not exist.\nSuggestion: pass an existing file or directory.",
            file=sys.stderr,
        )
        return 2
    if args.limit is not None and args.limit < 0:
        print("quiver: --limit must be 0 or more.\nSuggestion: drop --limit.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    languages = set(args.lang) if args.lang else None
    files = [
        file
        for file in discover(root, max_file_size=args.max_file_size, excludes=args.exclude)
        if languages is None or file.language in languages
    ]
    progress = _Progress(len(files), sys.stderr)
    out = sys.stdout
    shown = skipped = parsed_count = 0
    results = parse_files(files, workers=args.workers, max_file_size=args.max_file_size)
    try:
        for parsed in results:
            parsed_count += 1
            progress.update(parsed_count)
            if parsed.skipped_reason is not None:
                skipped += 1
                log.info("skipped %s: %s", parsed.file.rel_path, parsed.skipped_reason)
                continue
            for symbol in parsed.symbols:
                if args.limit is not None and shown >= args.limit:
                    break
                if args.json:
                    out.write(json_line(_symbol_json(symbol)) + "\n")
                else:
                    out.write(
                        f"{symbol.kind.label:<14} {symbol.qualified_name}  "
                        f"{symbol.path}:{symbol.range.start.line + 1}\n"
                    )
                shown += 1
            if args.limit is not None and shown >= args.limit:
                break
    finally:
        results.close()
        progress.close()
    out.flush()
    elapsed = time.perf_counter() - started
    log.info(
        "%d symbols from %d files (%d skipped) in %.2f s",
        shown,
        parsed_count - skipped,
        skipped,
        elapsed,
    )
    return 0


def _symbol_json(symbol: Symbol) -> dict[str, Any]:
    def position(p: Position) -> dict[str, int]:
        return {"line": p.line, "character": p.character}

    def span(r: Range) -> dict[str, Any]:
        return {"start": position(r.start), "end": position(r.end)}

    return {
        "name": symbol.name,
        "kind": symbol.kind.label,
        "container": symbol.container,
        "qualifiedName": symbol.qualified_name,
        "signature": symbol.signature,
        "doc": symbol.doc,
        "language": symbol.language,
        "path": symbol.path,
        "range": span(symbol.range),
        "selectionRange": span(symbol.selection_range),
        "contentHash": symbol.content_hash,
    }


class _Progress:
    """A one-line progress bar on a terminal's stderr; silent when stderr is not a TTY.

    It appears only once a run has lasted half a second, so quick runs print nothing.
    """

    _DELAY_S = 0.5
    _INTERVAL_S = 0.1

    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = total
        self._stream = stream
        self._enabled = total > 0 and stream.isatty()
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def update(self, done: int) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._started < self._DELAY_S or now - self._last_draw < self._INTERVAL_S:
            return
        self._last_draw = now
        width = 30
        filled = width * done // self._total
        bar = "#" * filled + "-" * (width - filled)
        self._stream.write(f"\r[{bar}] {done:,}/{self._total:,} files")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()


if __name__ == "__main__":
    sys.exit(main())
