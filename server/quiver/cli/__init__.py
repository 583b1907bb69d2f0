"""The ``quiver`` command line: index, search, status, cache, symbols and serve.

``main`` builds the parser (cheap: no engine, no LSP stack) and runs one subcommand; each
subcommand imports what it needs when it runs.
"""

from quiver.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
