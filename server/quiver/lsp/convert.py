"""The one place where Quiver's types and the protocol's types meet.

Like rust-analyzer's ``to_proto`` / ``from_proto``: handlers never build an
LSP object or read raw params themselves; they call one function here, so
each conversion is written once.

* ``to_*`` functions: ``quiver.symbols`` records → ``lsprotocol.types``
  (positions, ranges, kinds, ``SymbolInformation``, ``WorkspaceSymbol``,
  hierarchical ``DocumentSymbol`` trees), search results → ``workspace/symbol``
  entries and the JSON of ``quiver/search``, and the session's status → the
  JSON of ``quiver/status`` (``docs/protocol.md``).
* ``*_from_json`` functions: the params of Quiver's custom requests → typed
  records, raising ``InvalidQueryError`` (shown to the user, answered with
  ``-32602`` InvalidParams) for malformed input.
* ``path_to_uri`` / ``uri_to_path``: file paths ↔ ``file://`` URIs.

Positions are 0-based lines and UTF-16 columns on both sides, so position
conversion is a copy; the extraction is responsible for UTF-16 columns.
"""

from __future__ import annotations

import math
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeGuard

from lsprotocol import types as lsp

from quiver.api import MAX_LIMIT, SEARCH_MODES, SearchMode
from quiver.errors import InvalidQueryError
from quiver.lsp.options import ServerOptions
from quiver.symbols import Position, Range, Symbol, SymbolKind

if TYPE_CHECKING:  # the session imports the engine: not at the server's start-up
    from quiver.workspace.status import SessionStatus

__all__ = [
    "JsonObject",
    "OutlineSymbol",
    "SearchParams",
    "SearchResultLike",
    "SimilarParams",
    "path_to_uri",
    "position_from_lsp",
    "range_from_lsp",
    "reindex_params_from_json",
    "search_params_from_json",
    "search_response_to_json",
    "search_result_to_json",
    "search_result_to_symbol_information",
    "similar_params_from_json",
    "status_to_json",
    "to_document_symbols",
    "to_location",
    "to_lsp_position",
    "to_lsp_range",
    "to_lsp_symbol_kind",
    "to_symbol_information",
    "to_workspace_symbol",
    "uri_to_path",
    "workspace_folder_paths",
]

JsonObject: TypeAlias = dict[str, Any]

_WINDOWS = os.name == "nt"
_DRIVE_PATH = re.compile(r"^/?[A-Za-z]:")
_MODES: dict[str, SearchMode] = {mode: mode for mode in SEARCH_MODES}


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


def _range_json(span: Range) -> JsonObject:
    return {
        "start": {"line": span.start.line, "character": span.start.character},
        "end": {"line": span.end.line, "character": span.end.character},
    }


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


class OutlineSymbol(Protocol):
    """What a document-symbol tree needs of a symbol: an extracted ``Symbol`` or the
    engine's indexed record of one."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> SymbolKind: ...
    @property
    def container(self) -> str: ...
    @property
    def signature(self) -> str: ...
    @property
    def range(self) -> Range: ...
    @property
    def selection_range(self) -> Range: ...


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


# --- quiver/search results ------------------------------------------------------------------


class SearchResultLike(Protocol):
    """What the engine's search result record offers (``docs/protocol.md``)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> SymbolKind: ...
    @property
    def container(self) -> str: ...
    @property
    def path(self) -> str: ...  # absolute
    @property
    def range(self) -> Range: ...
    @property
    def selection_range(self) -> Range: ...
    @property
    def language(self) -> str: ...
    @property
    def signature(self) -> str: ...
    @property
    def snippet(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def retrievers(self) -> tuple[str, ...]: ...


def search_result_to_json(result: SearchResultLike) -> JsonObject:
    """One ``SearchResult`` of ``quiver/search`` / ``quiver/similar`` as JSON-ready data.

    A non-finite score (which JSON cannot carry) is sent as 0.
    """
    score = float(result.score)
    return {
        "name": result.name,
        "kind": int(result.kind),
        "containerName": result.container,
        "location": {"uri": path_to_uri(result.path), "range": _range_json(result.range)},
        "selectionRange": _range_json(result.selection_range),
        "language": result.language,
        "signature": result.signature,
        "snippet": result.snippet,
        "score": score if math.isfinite(score) else 0.0,
        "retrievers": list(result.retrievers),
    }


def search_result_to_symbol_information(result: SearchResultLike) -> lsp.SymbolInformation:
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


def search_response_to_json(
    results: Iterable[SearchResultLike], *, partial: bool, generation: int, elapsed_ms: float
) -> JsonObject:
    """The ``SearchResponse`` of ``quiver/search`` and ``quiver/similar``.

    ``partial`` is true while the first indexing still runs; ``generation`` is
    the index generation the answer came from.
    """
    return {
        "results": [search_result_to_json(result) for result in results],
        "partial": partial,
        "generation": generation,
        "elapsedMs": round(elapsed_ms, 3),
    }


# --- quiver/status ----------------------------------------------------------------------------


def status_to_json(status: SessionStatus) -> JsonObject:
    """The ``StatusResponse`` of ``quiver/status`` (and ``quiver/statusChanged``)."""
    return {
        "state": status.state,
        "message": status.message,
        "role": status.role,
        "workspaceFolders": [path_to_uri(folder) for folder in status.folders],
        "files": status.files,
        "filesIndexed": status.files_indexed,
        "symbols": status.symbols,
        "generation": status.generation,
        "model": {"id": status.model_id, "dim": status.dim},
        "cacheDir": str(status.cache_dir),
        "diskBytes": status.disk_bytes,
        "lastUpdate": status.last_update.isoformat() if status.last_update else None,
    }


# --- params of the custom requests ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchParams:
    """The params of ``quiver/search`` with the defaults filled in."""

    query: str
    mode: SearchMode
    limit: int
    kinds: tuple[SymbolKind, ...] = ()
    languages: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SimilarParams:
    """The params of ``quiver/similar``: a position in a local file."""

    path: str
    position: Position
    limit: int


def search_params_from_json(raw: object, options: ServerOptions) -> SearchParams:
    """Read ``quiver/search`` params (a mapping, or pygls's namedtuple form).

    ``mode`` and ``limit`` default to ``options``; a limit above
    ``MAX_LIMIT`` is lowered to it. Raises ``InvalidQueryError`` naming
    the field for anything malformed: a missing or blank query, an unknown
    mode or kind label, a limit below 1, a filter that is not a list of strings.
    """
    params = _object(raw, "quiver/search")
    query = params.get("query")
    if not isinstance(query, str):
        raise InvalidQueryError(
            f"quiver/search needs a 'query' string, got {_describe(query)}.",
            'send params such as {"query": "retry failed http requests"}.',
        )
    if not query.strip():
        raise InvalidQueryError("The query is empty.", "type a few words or a symbol name.")
    given_mode = params.get("mode")
    mode = (
        options.search_mode
        if given_mode is None
        else _MODES.get(given_mode.strip().lower())
        if isinstance(given_mode, str)
        else None
    )
    if mode is None:
        raise InvalidQueryError(
            f"Unknown search mode {_describe(given_mode)}.",
            'use "hybrid" (default), "semantic" or "text".',
        )
    kinds = []
    for label in _strings(params, "kinds"):
        try:
            kinds.append(SymbolKind.from_label(label))
        except KeyError:
            known = ", ".join(kind.label for kind in SymbolKind)
            raise InvalidQueryError(
                f"Unknown symbol kind {label!r} in 'kinds'.", f"use kind labels among: {known}."
            ) from None
    return SearchParams(
        query=query.strip(),
        mode=mode,
        limit=_limit(params, options.search_limit),
        kinds=tuple(kinds),
        languages=tuple(language.strip().lower() for language in _strings(params, "languages")),
        paths=_strings(params, "paths"),
    )


def similar_params_from_json(raw: object, options: ServerOptions) -> SimilarParams:
    """Read ``quiver/similar`` params: ``{textDocument: {uri}, position, limit?}``.

    Raises ``InvalidQueryError`` when the document is not a local file or the
    position is malformed.
    """
    params = _object(raw, "quiver/similar")
    document = _plain(params.get("textDocument"))
    uri = document.get("uri") if isinstance(document, Mapping) else None
    if not isinstance(uri, str):
        raise InvalidQueryError(
            "quiver/similar needs 'textDocument.uri'.",
            'send {"textDocument": {"uri": "file:///..."}, "position": {...}}.',
        )
    path = uri_to_path(uri)
    if path is None:
        raise InvalidQueryError(
            f"Quiver only indexes local files, not {uri!r}.",
            "save the buffer to a file in the workspace first.",
        )
    position = _plain(params.get("position"))
    line = position.get("line") if isinstance(position, Mapping) else None
    character = position.get("character") if isinstance(position, Mapping) else None
    if not _is_natural(line) or not _is_natural(character):
        raise InvalidQueryError(
            f"quiver/similar needs a 'position' with whole-number 'line' and 'character', "
            f"got {_describe(position)}.",
            'send a position such as {"line": 10, "character": 4} (0-based).',
        )
    return SimilarParams(
        path=path,
        position=Position(line=line, character=character),
        limit=_limit(params, options.search_limit),
    )


def reindex_params_from_json(raw: object) -> bool:
    """Read ``quiver/reindex`` params ``{rebuild?: boolean}``: whether to rebuild."""
    if raw is None:
        return False
    params = _object(raw, "quiver/reindex")
    rebuild = params.get("rebuild", False)
    if not isinstance(rebuild, bool):
        raise InvalidQueryError(
            f"'rebuild' must be true or false, got {_describe(rebuild)}.",
            'send {"rebuild": true} to re-embed everything, or {} for changed files only.',
        )
    return rebuild


def _plain(value: object) -> object:
    """Mappings and pygls's namedtuple params as plain dicts and lists, recursively."""
    as_dict = getattr(value, "_asdict", None)
    if isinstance(value, tuple) and callable(as_dict):
        value = as_dict()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _object(raw: object, method: str) -> Mapping[str, object]:
    params = _plain(raw)
    if not isinstance(params, Mapping):
        raise InvalidQueryError(
            f"{method} params must be an object, got {_describe(raw)}.",
            "see docs/protocol.md for the params of each Quiver request.",
        )
    return params


def _strings(params: Mapping[str, object], field: str) -> tuple[str, ...]:
    value = params.get(field)
    if value is None:
        return ()
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or not all(isinstance(item, str) for item in value)
    ):
        raise InvalidQueryError(
            f"'{field}' must be a list of strings, got {_describe(value)}.",
            f'send it as a list, e.g. "{field}": ["..."], or leave it out.',
        )
    return tuple(str(item) for item in value)


def _limit(params: Mapping[str, object], default: int) -> int:
    value = params.get("limit", default)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _is_natural(value) or value < 1:
        raise InvalidQueryError(
            f"'limit' must be a whole number from 1 to {MAX_LIMIT}, got {_describe(value)}.",
            f"send a limit such as 20 (at most {MAX_LIMIT}), or leave it out.",
        )
    return min(value, MAX_LIMIT)


def _is_natural(value: object) -> TypeGuard[int]:
    """A whole number >= 0 (``True`` is an ``int`` in Python, not in JSON)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
