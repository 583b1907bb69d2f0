"""The one place where Quiver's records and the protocol's types meet.

Like rust-analyzer's ``to_proto`` / ``from_proto``: handlers never build an
LSP object or read params themselves; they call one function here, so each
conversion is written once.

* ``to_*`` functions: Quiver's records → protocol types. ``quiver.symbols``
  records → ``lsprotocol.types`` (positions, ranges, kinds, ``SymbolInformation``,
  ``WorkspaceSymbol``, hierarchical ``DocumentSymbol`` trees); ``quiver.api``'s
  search results and the session's status → the results of Quiver's requests
  declared in ``quiver.lsp.ext`` (``docs/protocol.md``).
* ``*_from_lsp`` functions: protocol types → Quiver's records: positions and
  ranges, and the typed params of ``quiver/search`` and ``quiver/similar``
  (read by ``ext.read_params``) → queries, with the server's options as
  defaults, raising ``InvalidQueryError`` (answered with ``-32602``
  InvalidParams) for values the engine cannot use.
* ``path_to_uri`` / ``uri_to_path``: file paths ↔ ``file://`` URIs.

Positions are 0-based lines and UTF-16 columns on both sides, so position
conversion is a copy; the extraction is responsible for UTF-16 columns.
"""

from __future__ import annotations

import math
import os
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from lsprotocol import types as lsp

from quiver import api
from quiver.errors import InvalidQueryError
from quiver.lsp import ext
from quiver.lsp.options import ServerOptions
from quiver.symbols import Position, Range, Symbol, SymbolKind

if TYPE_CHECKING:  # the session imports the engine: not at the server's start-up
    from quiver.engine.catalog import SymbolRecord
    from quiver.workspace.status import SessionStatus

__all__ = [
    "SimilarQuery",
    "path_to_uri",
    "position_from_lsp",
    "range_from_lsp",
    "search_query_from_lsp",
    "search_result_to_symbol_information",
    "similar_query_from_lsp",
    "to_document_symbols",
    "to_location",
    "to_lsp_position",
    "to_lsp_range",
    "to_lsp_symbol_kind",
    "to_search_response",
    "to_search_result",
    "to_status",
    "to_symbol_information",
    "to_workspace_symbol",
    "uri_to_path",
    "workspace_folder_paths",
]

_WINDOWS = os.name == "nt"
_DRIVE_PATH = re.compile(r"^/?[A-Za-z]:")


# --- paths and URIs ---------------------------------------------------------------------


def path_to_uri(path: str | os.PathLike[str]) -> str:
    """The ``file://`` URI of an absolute path.

    Every byte outside ``A-Z a-z 0-9 - . _ ~ /`` is percent-encoded (spaces,
    ``#``, ``?``, non-ASCII as UTF-8), the spelling VS Code and most clients
    send, so URIs round-trip as equal strings. File names that are not valid
    UTF-8 (possible on Linux) are encoded byte for byte. On Windows the drive
    letter is lower-cased and its colon kept. Raises ``ValueError`` for a
    relative path: a URI must not depend on the server's working directory.
    """
    return _path_to_uri(os.fspath(path), windows=_WINDOWS)


def uri_to_path(uri: str) -> str | None:
    """The local file path of a ``file://`` URI, or ``None`` for any other URI
    (``untitled:``, ``vscode-notebook-cell:``, a remote host on Linux/macOS).

    Percent-escapes are decoded as UTF-8, with bytes that are not UTF-8 kept
    as the file system's own (``os.fsdecode``), so ``uri_to_path(path_to_uri(p))
    == p``. ``file://localhost/...`` counts as local. On Linux and macOS a
    drive letter has no meaning: ``file:///C:/x`` is the path ``/C:/x``.
    """
    return _uri_to_path(uri, windows=_WINDOWS)


def _path_to_uri(text: str, *, windows: bool) -> str:
    if windows:
        text = text.replace("\\", "/")
        if text.startswith("//"):  # UNC share: //server/share/...
            host, _, rest = text[2:].partition("/")
            return "file://" + urllib.parse.quote(host) + urllib.parse.quote("/" + rest)
        if not _DRIVE_PATH.match(text) or text[2:3] != "/":
            raise ValueError(f"Cannot make a file URI from the relative path {text!r}")
        drive, rest = text[0].lower(), text[2:]
        return f"file:///{drive}:" + urllib.parse.quote(rest.encode("utf-8", "surrogatepass"))
    if not text.startswith("/"):
        raise ValueError(f"Cannot make a file URI from the relative path {text!r}")
    return "file://" + urllib.parse.quote(os.fsencode(text), safe="/")


def _uri_to_path(uri: str, *, windows: bool) -> str | None:
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme.lower() != "file":
        return None
    local = parts.netloc.lower() in ("", "localhost")
    raw_path = urllib.parse.unquote_to_bytes(parts.path)
    if windows:
        path = raw_path.decode("utf-8", "surrogatepass")
        if not local:
            return "\\\\" + parts.netloc + path.replace("/", "\\")
        if _DRIVE_PATH.match(path):
            path = path.lstrip("/")
            path = path[0].lower() + path[1:]
        return path.replace("/", "\\")
    if not local:
        return None
    return os.fsdecode(raw_path) or "/"


def workspace_folder_paths(
    folders: Sequence[lsp.WorkspaceFolder] | None, root_uri: str | None, root_path: str | None
) -> list[Path]:
    """The local workspace folders a client named: ``workspaceFolders`` when given, else
    ``rootUri``, else the deprecated ``rootPath``; non-file URIs are left out, duplicates
    dropped, order kept."""
    uris = [folder.uri for folder in folders] if folders else [root_uri] if root_uri else []
    paths = [path for uri in uris if (path := uri_to_path(uri)) is not None]
    if not uris and root_path:
        paths = [root_path]
    return [Path(path) for path in dict.fromkeys(paths)]


# --- positions, ranges, kinds ---------------------------------------------------------------


def to_lsp_position(position: Position) -> lsp.Position:
    """An LSP position (both sides are 0-based lines and UTF-16 columns)."""
    return lsp.Position(line=position.line, character=position.character)


def to_lsp_range(span: Range) -> lsp.Range:
    """An LSP range."""
    return lsp.Range(start=to_lsp_position(span.start), end=to_lsp_position(span.end))


def position_from_lsp(position: lsp.Position) -> Position:
    """Quiver's position of an LSP position."""
    return Position(line=position.line, character=position.character)


def range_from_lsp(span: lsp.Range) -> Range:
    """Quiver's range of an LSP range."""
    return Range(start=position_from_lsp(span.start), end=position_from_lsp(span.end))


def to_lsp_symbol_kind(kind: SymbolKind) -> lsp.SymbolKind:
    """The LSP kind (same numbers: ``SymbolKind`` mirrors the LSP enumeration)."""
    return lsp.SymbolKind(int(kind))


# --- symbols ------------------------------------------------------------------------------


def to_location(symbol: Symbol) -> lsp.Location:
    """Where the symbol is: its file's URI and its full range."""
    return lsp.Location(uri=path_to_uri(symbol.path), range=to_lsp_range(symbol.range))


def to_symbol_information(symbol: Symbol) -> lsp.SymbolInformation:
    """A ``workspace/symbol`` entry in the form every client understands.

    ``containerName`` is the dotted container path (``"pkg.module.Class"``),
    omitted at top level.
    """
    return lsp.SymbolInformation(
        name=symbol.name,
        kind=to_lsp_symbol_kind(symbol.kind),
        location=to_location(symbol),
        container_name=symbol.container or None,
    )


def to_workspace_symbol(symbol: Symbol, data: Any = None) -> lsp.WorkspaceSymbol:
    """A ``workspace/symbol`` entry in the 3.17 form, with full location and an
    optional ``data`` value a client returns in ``workspaceSymbol/resolve``."""
    return lsp.WorkspaceSymbol(
        name=symbol.name,
        kind=to_lsp_symbol_kind(symbol.kind),
        location=to_location(symbol),
        container_name=symbol.container or None,
        data=data,
    )


def _contains(outer: Range, inner: Range) -> bool:
    return (outer.start.line, outer.start.character) <= (
        inner.start.line,
        inner.start.character,
    ) and (inner.end.line, inner.end.character) <= (outer.end.line, outer.end.character)


#: What a document-symbol tree is built from: an extracted ``Symbol`` (an open
#: buffer) or the engine's indexed record of one.
OutlineSymbol: TypeAlias = "Symbol | SymbolRecord"


def _is_parent(parent: OutlineSymbol, child: OutlineSymbol) -> bool:
    """Whether ``child`` nests inside ``parent``: its range lies within the
    parent's, and where the two ranges are identical, its container names the
    parent (``container`` ends with the parent's name)."""
    if not _contains(parent.range, child.range):
        return False
    if parent.range != child.range:
        return True
    last_scope = child.container.rsplit(".", 1)[-1]
    return bool(child.container) and last_scope == parent.name


@dataclass(slots=True)
class _Node:
    symbol: OutlineSymbol
    children: list[_Node]


def to_document_symbols(symbols: Iterable[OutlineSymbol]) -> list[lsp.DocumentSymbol]:
    """The hierarchical ``textDocument/documentSymbol`` answer for one file.

    Nesting comes from the ranges: each symbol becomes a child of the
    innermost symbol whose range contains its own (identical ranges nest only
    when the container says so). A symbol whose container is not among the
    enclosing ranges (a Rust method in an ``impl`` block that was not
    extracted) stays at the top level rather than being put under a symbol
    that does not contain it. Siblings are in document order; ``detail`` is the
    signature. O(n log n) for n symbols.
    """
    ordered = sorted(
        symbols,
        key=lambda s: (
            s.range.start.line,
            s.range.start.character,
            -s.range.end.line,
            -s.range.end.character,
            s.container.count(".") + bool(s.container),
            s.selection_range.start.line,
            s.selection_range.start.character,
            s.name,
        ),
    )
    roots: list[_Node] = []
    stack: list[_Node] = []
    for symbol in ordered:
        node = _Node(symbol, [])
        while stack and not _is_parent(stack[-1].symbol, symbol):
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return [_document_symbol(node) for node in roots]


def _document_symbol(node: _Node) -> lsp.DocumentSymbol:
    symbol = node.symbol
    # LSP requires the selection range inside the range; an extractor that
    # disagrees must not make the client reject the whole answer.
    selection = symbol.selection_range
    if not _contains(symbol.range, selection):
        selection = Range(symbol.range.start, symbol.range.start)
    return lsp.DocumentSymbol(
        name=symbol.name or "<anonymous>",  # clients reject an empty name
        kind=to_lsp_symbol_kind(symbol.kind),
        range=to_lsp_range(symbol.range),
        selection_range=to_lsp_range(selection),
        detail=symbol.signature or None,
        children=[_document_symbol(child) for child in node.children] or None,
    )


# --- quiver/search and quiver/similar -------------------------------------------------------


def to_search_result(result: api.SearchResult) -> ext.SearchResult:
    """One result of ``quiver/search`` / ``quiver/similar``.

    A non-finite score (which JSON cannot carry) is sent as 0.
    """
    score = float(result.score)
    return ext.SearchResult(
        name=result.name,
        kind=to_lsp_symbol_kind(result.kind),
        container_name=result.container,
        location=lsp.Location(uri=path_to_uri(result.path), range=to_lsp_range(result.range)),
        selection_range=to_lsp_range(result.selection_range),
        language=result.language,
        signature=result.signature,
        snippet=result.snippet,
        score=score if math.isfinite(score) else 0.0,
        retrievers=tuple(result.retrievers),
    )


def to_search_response(response: api.SearchResponse) -> ext.SearchResponse:
    """The answer of ``quiver/search`` and ``quiver/similar``: the results in rank order,
    ``partial``, the index generation, and the time taken rounded to microseconds."""
    return ext.SearchResponse(
        results=tuple(to_search_result(result) for result in response.results),
        partial=response.partial,
        generation=response.generation,
        elapsed_ms=round(response.elapsed_ms, 3),
    )


def search_result_to_symbol_information(result: api.SearchResult) -> lsp.SymbolInformation:
    """A ``workspace/symbol`` entry for a search result, with its full location.

    ``SymbolInformation`` rather than ``WorkspaceSymbol``: every client reads
    it, and with the range known there is nothing for ``workspaceSymbol/resolve``
    to add.
    """
    return lsp.SymbolInformation(
        name=result.name or "<anonymous>",
        kind=to_lsp_symbol_kind(result.kind),
        location=lsp.Location(uri=path_to_uri(result.path), range=to_lsp_range(result.range)),
        container_name=result.container or None,
    )


@dataclass(frozen=True, slots=True)
class SimilarQuery:
    """What ``quiver/similar`` asks: code like the symbol at ``position`` in ``path``."""

    path: Path
    position: Position
    limit: int


def search_query_from_lsp(params: ext.SearchParams, options: ServerOptions) -> api.SearchQuery:
    """The query of ``quiver/search`` params: the query text stripped, ``mode`` and
    ``limit`` defaulting to ``options``, a limit above ``MAX_LIMIT`` lowered to it,
    kind labels as ``SymbolKind``, languages lower-cased.

    Raises ``InvalidQueryError`` for a blank query or an unknown kind label.
    """
    query = params.query.strip()
    if not query:
        raise InvalidQueryError("The query is empty.", "type a few words or a symbol name.")
    kinds = []
    for label in params.kinds or ():
        try:
            kinds.append(SymbolKind.from_label(label))
        except KeyError:
            known = ", ".join(kind.label for kind in SymbolKind)
            raise InvalidQueryError(
                f"Unknown symbol kind {label!r} in 'kinds'.", f"use kind labels among: {known}."
            ) from None
    return api.SearchQuery(
        text=query,
        mode=params.mode or options.search_mode,
        limit=_limit(params.limit, options),
        kinds=tuple(kinds),
        languages=tuple(language.strip().lower() for language in params.languages or ()),
        paths=params.paths or (),
    )


def similar_query_from_lsp(params: ext.SimilarParams, options: ServerOptions) -> SimilarQuery:
    """The query of ``quiver/similar`` params: the document's local path, the position,
    and the limit as for ``search_query_from_lsp``.

    Raises ``InvalidQueryError`` when the document is not a local file.
    """
    uri = params.text_document.uri
    path = uri_to_path(uri)
    if path is None:
        raise InvalidQueryError(
            f"Quiver only indexes local files, not {uri!r}.",
            "save the buffer to a file in the workspace first.",
        )
    return SimilarQuery(
        path=Path(path),
        position=position_from_lsp(params.position),
        limit=_limit(params.limit, options),
    )


def _limit(limit: int | None, options: ServerOptions) -> int:
    return options.search_limit if limit is None else min(limit, api.MAX_LIMIT)


# --- quiver/status ----------------------------------------------------------------------------


def to_status(status: SessionStatus) -> ext.StatusResponse:
    """The answer of ``quiver/status`` (and the params of ``quiver/statusChanged``)."""
    return ext.StatusResponse(
        state=status.state,
        message=status.message,
        role=status.role,
        workspace_folders=tuple(path_to_uri(folder) for folder in status.folders),
        files=status.files,
        files_indexed=status.files_indexed,
        symbols=status.symbols,
        generation=status.generation,
        model=ext.ModelInfo(id=status.model_id, dim=status.dim),
        cache_dir=str(status.cache_dir),
        disk_bytes=status.disk_bytes,
        last_update=status.last_update.isoformat() if status.last_update else None,
    )
