"""Real symbols for the embedding benchmarks: this interpreter's standard library.

Extracted by ``quiver.parse`` exactly as the product indexes them (functions,
classes, methods, constants...). ``qualified_name`` starts with the module part
the parser chooses (``json.dumps``); the query set matches on the trailing part.
"""

from __future__ import annotations

import re
import sysconfig
from dataclasses import replace
from pathlib import Path

from quiver.parse.extract import extract_symbols
from quiver.symbols import Symbol, SymbolKind

STDLIB = Path(sysconfig.get_path("stdlib"))


_DOCSTRING = re.compile(r'^[ \t]*[rRbBuU]{0,2}("""|\'\'\')(?:.|\n)*?\1[ \t]*\n?', re.MULTILINE)


def _without_docstring(symbol: Symbol) -> Symbol:
    """The symbol as if it had no docstring: no ``doc`` and its first string block cut."""
    if not symbol.doc:
        return symbol
    return replace(symbol, doc="", body=_DOCSTRING.sub("", symbol.body, count=1))


def symbols_of_file(
    path: Path, relative_to: Path = STDLIB, *, without_docs: bool = False
) -> list[Symbol]:
    """The symbols ``quiver.parse`` extracts from one Python file.

    ``without_docs`` removes each symbol's own docstring (from ``doc`` and from the
    body), as if the code base were undocumented.
    """
    relative = str(path.relative_to(relative_to))
    symbols = extract_symbols(path.read_bytes(), relative, "python")
    return [_without_docstring(s) for s in symbols] if without_docs else symbols


def is_answer(symbol: Symbol, path: str, qualified_name: str) -> bool:
    """Whether ``symbol`` is the expected answer ``(path, qualified_name)`` of a query.

    ``qualified_name`` omits the module (``"urlparse"``, ``"Random.shuffle"``), so the
    rule holds whatever module prefix a parser puts in front: the symbol's qualified
    name ends with it, and a name without a class matches only a function or class
    (``"wrap"`` is ``textwrap.wrap``, not ``TextWrapper.wrap``).
    """
    if symbol.path != path:
        return False
    if symbol.qualified_name != qualified_name and not symbol.qualified_name.endswith(
        f".{qualified_name}"
    ):
        return False
    nested = "." in qualified_name
    return nested == (symbol.kind is SymbolKind.METHOD)


def stdlib_symbols(relative_paths: list[str], *, without_docs: bool = False) -> list[Symbol]:
    """Symbols of the given stdlib files, in file order."""
    symbols: list[Symbol] = []
    for relative in relative_paths:
        symbols.extend(symbols_of_file(STDLIB / relative, without_docs=without_docs))
    return symbols


#: Modules whose symbols make up the throughput benchmark's sample and the quality
#: benchmark's distractors (varied domains, plenty of undocumented helpers).
DISTRACTOR_MODULES = [
    "ast.py", "cgi.py", "codecs.py", "copy.py", "dataclasses.py", "dis.py", "doctest.py",
    "email/message.py", "enum.py", "fractions.py", "ftplib.py", "gettext.py", "gzip.py",
    "http/client.py", "http/cookiejar.py", "http/server.py", "imaplib.py", "inspect.py",
    "locale.py", "multiprocessing/managers.py", "nntplib.py", "optparse.py", "pathlib.py",
    "pdb.py", "pickle.py", "ssl.py", "string.py", "telnetlib.py", "unittest/case.py",
    "unittest/mock.py", "urllib/request.py", "xml/etree/ElementTree.py", "xmlrpc/client.py",
]  # fmt: skip
