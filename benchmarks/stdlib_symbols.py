"""Real symbols for the embedding benchmarks: the standard library, read with ``ast``.

A stand-in for ``quiver.parse`` (written concurrently) that yields the same
``Symbol`` record for Python files: functions, classes and methods, with the
signature line, the docstring and the full source as body. ``qualified_name`` is
``<module stem>.<Class>.<name>``; the query set matches on the trailing part.
"""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

from quiver.symbols import Position, Range, Symbol, SymbolKind, content_hash

STDLIB = Path(sysconfig.get_path("stdlib"))


def _range(node: ast.stmt) -> Range:
    end_line = node.end_lineno if node.end_lineno is not None else node.lineno
    end_column = node.end_col_offset if node.end_col_offset is not None else 0
    return Range(Position(node.lineno - 1, node.col_offset), Position(end_line - 1, end_column))


def symbols_of_file(
    path: Path, relative_to: Path = STDLIB, *, without_docs: bool = False
) -> list[Symbol]:
    """Functions, classes and methods of one Python file (empty if it does not parse).

    ``without_docs`` removes each symbol's own docstring (from ``doc`` and from the
    body), as if the code base were undocumented.
    """
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    relative = str(path.relative_to(relative_to))
    lines = source.splitlines()
    symbols: list[Symbol] = []

    def visit(nodes: list[ast.stmt], container: str, in_class: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If | ast.Try | ast.With):
                # definitions guarded by a platform check or an import fallback
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []), container, in_class)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body, container, in_class)
                continue
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            end = node.end_lineno if node.end_lineno is not None else node.lineno
            body_lines = lines[node.lineno - 1 : end]
            first = node.body[0] if node.body else None
            if (
                without_docs
                and isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                doc_end = first.end_lineno if first.end_lineno is not None else first.lineno
                del body_lines[first.lineno - node.lineno : doc_end - node.lineno + 1]
            body = "\n".join(body_lines)
            if isinstance(node, ast.ClassDef):
                kind = SymbolKind.CLASS
            else:
                kind = SymbolKind.METHOD if in_class else SymbolKind.FUNCTION
            signature = lines[node.lineno - 1].strip()
            doc = "" if without_docs else ast.get_docstring(node) or ""
            symbols.append(
                Symbol(
                    name=node.name,
                    kind=kind,
                    container=container,
                    signature=signature,
                    doc=doc,
                    range=_range(node),
                    selection_range=_range(node),
                    language="python",
                    path=relative,
                    body=body,
                    content_hash=content_hash(kind.label, container, node.name, body),
                )
            )
            visit(node.body, f"{container}.{node.name}", isinstance(node, ast.ClassDef))

    visit(tree.body, path.stem, False)
    return symbols


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
