"""Quiver's extensions to LSP: every ``quiver/*`` request and notification, declared once.

Like rust-analyzer's ``lsp/ext.rs``: the method names, their params and results
as typed attrs classes (the kind of type lsprotocol declares, so lsprotocol's
converter reads and writes them with camelCase JSON names), the error codes, and
the capability the server advertises as ``experimental.quiver`` in its
``initialize`` answer. Nothing here knows the engine: ``quiver.lsp.convert``
turns engine records into these results and these params into engine queries,
and ``quiver.lsp.server`` routes each method to its handler.

``docs/protocol.md`` documents every method declared here and records a hash of
this file, checked by ``tests/lsp_unit/test_ext.py``: a change here is a change
of the protocol, so update the document (and the clients in ``editors/``) with it.

Params are read strictly (``read_params``), where lsprotocol's converter alone
would be lenient (it turns ``3`` into ``"3"`` and ``"ab"`` into ``["a", "b"]``):
a value of the wrong JSON type is refused with an ``InvalidQueryError`` that
names the field and its value and ends with a ``Suggestion:`` line, answered as
InvalidParams (-32602). Checks that need the engine's vocabulary or the options
(an empty query, a kind label, a non-local URI) are ``quiver.lsp.convert``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final, NewType, TypeVar

import attrs
import cattrs
from attrs import AttrsInstance
from cattrs.errors import AttributeValidationNote, ClassValidationError
from lsprotocol import types as lsp
from lsprotocol.converters import get_converter

from quiver.api import MAX_LIMIT, SEARCH_MODES, EngineState, Role, SearchMode
from quiver.errors import InvalidQueryError

__all__ = [
    "CAPABILITIES",
    "EXPERIMENTAL_KEY",
    "EXTENSIONS_VERSION",
    "INVALID_PARAMS",
    "NOTIFICATIONS",
    "REINDEX",
    "REQUESTS",
    "REQUEST_CANCELLED",
    "REQUEST_FAILED",
    "SEARCH",
    "SIMILAR",
    "STATUS",
    "STATUS_CHANGED",
    "ModelInfo",
    "QuiverCapabilities",
    "ReindexParams",
    "ReindexResult",
    "ResultLimit",
    "SearchParams",
    "SearchResponse",
    "SearchResult",
    "SimilarParams",
    "StatusResponse",
    "read_params",
    "to_json",
]

# --- methods -------------------------------------------------------------------------------

#: Request, client → server: ``SearchParams`` → ``SearchResponse``.
SEARCH: Final = "quiver/search"
#: Request, client → server: ``SimilarParams`` → ``SearchResponse``.
SIMILAR: Final = "quiver/similar"
#: Request, client → server: no params (any sent are ignored) → ``StatusResponse``.
STATUS: Final = "quiver/status"
#: Request, client → server: ``ReindexParams`` (may be absent) → ``ReindexResult``.
REINDEX: Final = "quiver/reindex"
#: Notification, server → client: ``StatusResponse``, on a state change and at most
#: every 500 ms while indexing.
STATUS_CHANGED: Final = "quiver/statusChanged"

#: The version of these extensions, advertised as ``experimental.quiver.version``;
#: raised when a method, a params field or a result field changes incompatibly.
EXTENSIONS_VERSION: Final = 1

# --- error codes -----------------------------------------------------------------------------

#: Malformed params, or a query the engine cannot use (JSON-RPC InvalidParams).
INVALID_PARAMS: Final = -32602
#: The request was valid but could not be answered (LSP RequestFailed).
REQUEST_FAILED: Final = -32803
#: The client cancelled the request (LSP RequestCancelled).
REQUEST_CANCELLED: Final = -32800

# --- params ----------------------------------------------------------------------------------

#: How many results to return: a whole number from 1, sent as ``20`` or ``20.0``
#: (JavaScript and Lua clients may send either); above ``MAX_LIMIT`` it is lowered to it.
ResultLimit = NewType("ResultLimit", int)

_PROBLEM = "quiver.problem"


def _problem(message: str, suggestion: str) -> dict[str, tuple[str, str]]:
    """Field metadata: what to say when the field's value is unusable (``{value}``: the value)."""
    return {_PROBLEM: (message, suggestion)}


_LIMIT_PROBLEM = _problem(
    f"'limit' must be a whole number from 1 to {MAX_LIMIT}, got {{value}}.",
    f"send a limit such as 20 (at most {MAX_LIMIT}), or leave it out.",
)


def _list_problem(field: str) -> dict[str, tuple[str, str]]:
    return _problem(
        f"'{field}' must be a list of strings, got {{value}}.",
        f'send it as a list, e.g. "{field}": ["..."], or leave it out.',
    )


@attrs.frozen
class SearchParams:
    """``quiver/search`` params; absent fields take the server's options (``search.mode``,
    ``search.limit``). Fields are checked in this order, the first unusable one reported."""

    #: Natural language, a name, or both; must not be blank.
    query: str = attrs.field(
        metadata=_problem(
            "quiver/search needs a 'query' string, got {value}.",
            'send params such as {"query": "retry failed http requests"}.',
        )
    )
    #: Case and surrounding spaces are ignored (``" Text "`` is ``"text"``).
    mode: SearchMode | None = attrs.field(
        default=None,
        metadata=_problem(
            "Unknown search mode {value}.", 'use "hybrid" (default), "semantic" or "text".'
        ),
    )
    #: ``SymbolKind`` labels: ``"function"``, ``"class"``, ``"enum-member"``, ...
    kinds: tuple[str, ...] | None = attrs.field(default=None, metadata=_list_problem("kinds"))
    limit: ResultLimit | None = attrs.field(default=None, metadata=_LIMIT_PROBLEM)
    #: ``"python"``, ``"rust"``, ... (case is ignored).
    languages: tuple[str, ...] | None = attrs.field(
        default=None, metadata=_list_problem("languages")
    )
    #: Glob patterns on workspace-relative paths.
    paths: tuple[str, ...] | None = attrs.field(default=None, metadata=_list_problem("paths"))


@attrs.frozen
class SimilarParams:
    """``quiver/similar`` params: the position of a symbol in a local file."""

    text_document: lsp.TextDocumentIdentifier = attrs.field(
        metadata=_problem(
            "quiver/similar needs 'textDocument.uri'.",
            'send {"textDocument": {"uri": "file:///..."}, "position": {...}}.',
        )
    )
    position: lsp.Position = attrs.field(
        metadata=_problem(
            "quiver/similar needs a 'position' with whole-number 'line' and 'character', "
            "got {value}.",
            'send a position such as {"line": 10, "character": 4} (0-based).',
        )
    )
    limit: ResultLimit | None = attrs.field(default=None, metadata=_LIMIT_PROBLEM)


@attrs.frozen
class ReindexParams:
    """``quiver/reindex`` params (absent params: the defaults)."""

    #: Discard the cache and re-embed everything; otherwise only changed files.
    rebuild: bool = attrs.field(
        default=False,
        metadata=_problem(
            "'rebuild' must be true or false, got {value}.",
            'send {"rebuild": true} to re-embed everything, or {} for changed files only.',
        ),
    )


# --- results ---------------------------------------------------------------------------------


@attrs.frozen
class SearchResult:
    """One answer of ``quiver/search`` and ``quiver/similar``."""

    name: str
    kind: lsp.SymbolKind
    #: The dotted container path (``"module.Class"``), ``""`` at top level.
    container_name: str
    location: lsp.Location
    #: The name itself.
    selection_range: lsp.Range
    language: str
    #: One line.
    signature: str
    #: A few lines of the body.
    snippet: str
    #: Higher is better; comparable within one response (docs/protocol.md); always finite.
    score: float
    #: Which retrievers found it: ``"semantic"``, ``"text"``.
    retrievers: tuple[str, ...]


@attrs.frozen
class SearchResponse:
    """The answer of ``quiver/search`` and ``quiver/similar``."""

    results: tuple[SearchResult, ...]
    #: True while the first indexing runs, and for a hybrid search answered by the
    #: text index alone while the model was still loading.
    partial: bool
    #: The index generation the answer came from (several folders: the sum).
    generation: int
    elapsed_ms: float


@attrs.frozen
class ModelInfo:
    """The embedding model of the index (``id`` ``""`` and ``dim`` 0 before one is open)."""

    id: str
    dim: int


@attrs.frozen
class StatusResponse:
    """The answer of ``quiver/status``, and the params of ``quiver/statusChanged``."""

    state: EngineState
    #: One human line: ``"Indexed 2,000 files, 31,204 symbols"``.
    message: str
    #: ``"writer"``: this server updates the cache; ``"reader"``: another process does.
    role: Role
    #: URIs.
    workspace_folders: tuple[str, ...]
    files: int
    files_indexed: int
    symbols: int
    generation: int
    model: ModelInfo
    #: The cache root; each folder's index is a directory under it.
    cache_dir: str
    disk_bytes: int
    #: ISO 8601, or None (``null``, always sent) before the first index was published.
    last_update: str | None


@attrs.frozen
class ReindexResult:
    """The answer of ``quiver/reindex``."""

    #: False when there is no workspace folder or the server is shutting down.
    started: bool


# --- the method table and the capability --------------------------------------------------

#: Every request (client → server): its params type (None: it takes none, and any
#: sent are ignored) and its result type. The server registers a handler for each.
REQUESTS: Final[Mapping[str, tuple[type[Any] | None, type[Any]]]] = {
    SEARCH: (SearchParams, SearchResponse),
    SIMILAR: (SimilarParams, SearchResponse),
    STATUS: (None, StatusResponse),
    REINDEX: (ReindexParams, ReindexResult),
}
#: Every notification (server → client) and its params type.
NOTIFICATIONS: Final[Mapping[str, type[Any]]] = {STATUS_CHANGED: StatusResponse}

#: The key of ``ServerCapabilities.experimental`` that holds ``QuiverCapabilities``.
EXPERIMENTAL_KEY: Final = "quiver"


@attrs.frozen
class QuiverCapabilities:
    """What the server advertises as ``experimental.quiver`` in its ``initialize`` answer,
    so a client learns the methods and limits from the server it talks to."""

    version: int
    requests: tuple[str, ...]
    notifications: tuple[str, ...]
    #: The largest ``limit`` a search answers (a larger one is lowered to it).
    max_search_limit: int
    search_modes: tuple[str, ...]


CAPABILITIES: Final = QuiverCapabilities(
    version=EXTENSIONS_VERSION,
    requests=tuple(REQUESTS),
    notifications=tuple(NOTIFICATIONS),
    max_search_limit=MAX_LIMIT,
    search_modes=SEARCH_MODES,
)

# --- reading params, writing results --------------------------------------------------------

P = TypeVar("P", bound=AttrsInstance)

_METHOD_OF: Final[Mapping[type[Any], str]] = {
    params: method for method, (params, _) in REQUESTS.items() if params is not None
}


def read_params(params_type: type[P], raw: object) -> P:
    """The typed params of a ``quiver/*`` request from the JSON the client sent.

    ``None`` (absent params) gives the defaults where every field has one. Raises
    ``InvalidQueryError`` for params that are not an object, or for the first field
    (in declaration order) whose value has the wrong JSON type or range; unknown keys
    are ignored. Microseconds (the first call builds the converter, ~10 ms).
    """
    method = _METHOD_OF[params_type]
    fields = attrs.fields(params_type)
    if raw is None and all(field.default is not attrs.NOTHING for field in fields):
        return params_type()
    if not isinstance(raw, dict):
        raise InvalidQueryError(
            f"{method} params must be an object, got {_describe(raw)}.",
            "see docs/protocol.md for the params of each Quiver request.",
        )
    try:
        return _converter().structure(raw, params_type)
    except ClassValidationError as error:
        raise _first_problem(fields, raw, error) from None


def to_json(value: object) -> Any:
    """A params or result object as the JSON data it is sent as (what pygls writes with
    lsprotocol's converter: camelCase names, enums as numbers, tuples as lists)."""
    return _converter().unstructure(value)


def _describe(value: object) -> str:
    """A value as shown in an error message: its ``repr``, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _first_problem(
    fields: tuple[attrs.Attribute[Any], ...], raw: Mapping[str, object], error: ClassValidationError
) -> InvalidQueryError:
    order = {field.name: position for position, field in enumerate(fields)}
    failed = [
        note.name
        for exception in error.exceptions
        for note in getattr(exception, "__notes__", ())
        if isinstance(note, AttributeValidationNote) and note.name in order
    ]
    field = fields[min(order[name] for name in failed)] if failed else fields[0]
    message, suggestion = field.metadata[_PROBLEM]
    value = raw.get(_json_name(field.name))
    return InvalidQueryError(message.format(value=_describe(value)), suggestion)


def _json_name(name: str) -> str:
    """The camelCase JSON name of a field, as lsprotocol's converter spells it."""
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _exactly(kind: type[Any]) -> Callable[[object, type[Any]], Any]:
    def structure(value: object, _: type[Any]) -> Any:
        # JSON has no bool-as-number: ``True`` is not an ``int`` here.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise TypeError(f"expected {kind.__name__}, got {_describe(value)}")
        return value

    return structure


def _strings(value: object, _: type[Any]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"expected a list of strings, got {_describe(value)}")
    return tuple(value)


def _search_mode(value: object, _: type[Any]) -> SearchMode:
    mode = value.strip().lower() if isinstance(value, str) else None
    for known in SEARCH_MODES:
        if mode == known:
            return known
    raise ValueError(f"unknown search mode {_describe(value)}")


def _result_limit(value: object, _: type[Any]) -> ResultLimit:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"expected a whole number from 1, got {_describe(value)}")
    return ResultLimit(value)


@functools.cache
def _converter() -> cattrs.Converter:
    """lsprotocol's converter (camelCase names, LSP types) with strict JSON primitives."""
    converter = get_converter()
    for kind in (str, int, bool):
        converter.register_structure_hook(kind, _exactly(kind))
    converter.register_structure_hook_func(lambda kind: kind == tuple[str, ...], _strings)
    converter.register_structure_hook_func(lambda kind: kind == SearchMode, _search_mode)
    converter.register_structure_hook(ResultLimit, _result_limit)
    return converter

