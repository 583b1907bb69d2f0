"""The language server: one short handler per LSP feature, each a translation.

Every handler reads its params (``quiver.lsp.ext`` declares Quiver's own
requests, ``quiver.lsp.convert`` turns params into queries), calls the
workspace session (``quiver.workspace.session``, which owns the engines, indexing and
file watching), converts the answer back, and returns. Blocking work runs in
worker threads (``asyncio.to_thread``): the event loop only reads, routes and
writes messages, so a request is never stuck behind indexing, and a
``$/cancelRequest`` answers the request at once with ``RequestCancelled``.

Start-up stays light: this module imports pygls and the conversions only;
the engine stack (numba, Tantivy, tree-sitter) is imported on a worker
thread after ``initialize`` has been answered, and the model on first
semantic use. Logging goes to stderr: on stdio, stdout is the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote

import attrs
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from quiver import __version__
from quiver.errors import InvalidQueryError, QuiverError
from quiver.lsp import convert, ext, transport
from quiver.lsp.options import DEFAULT_OPTIONS, OptionProblem, ServerOptions, parse_options
from quiver.lsp.reporting import ClientLogHandler, ClientReporter

if TYPE_CHECKING:
    from quiver.workspace.session import WorkspaceSession

__all__ = ["QuiverLanguageServer", "create_server", "serve_stdio", "serve_tcp"]

log = logging.getLogger(__name__)


@attrs.define
class QuiverRequestMessage:
    """A ``quiver/*`` request as it arrives, its params the JSON the client sent (pygls
    would hand over nested namedtuples) for ``ext.read_params`` to read."""

    id: int | str
    method: str
    jsonrpc: str
    params: Any = None


class QuiverProtocol(LanguageServerProtocol):
    """pygls's protocol, pinned to UTF-16 positions, advertising Quiver's extensions.

    pygls adopts the first encoding a client offers (Neovim offers UTF-8 first);
    Quiver's extraction reports UTF-16 columns, the LSP default, so no other
    encoding is negotiated. The ``initialize`` answer carries ``serverInfo`` (name
    and version) and ``ext.CAPABILITIES`` under ``experimental.quiver``.
    """

    #: Notifications whose handler was still running when last looked at.
    _unfinished_notifications: list[Any] = []  # noqa: RUF012 - replaced, never mutated

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams) -> Any:
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = None
        result: lsp.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {ext.EXPERIMENTAL_KEY: ext.CAPABILITIES}
        return result

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls's, except that a notification's future does not stay behind.

        pygls files the future of every generator or coroutine handler under the
        message's id and only a response takes it out again; a notification has no
        response, and pygls's own didOpen/didChange/didClose handlers are generators,
        so a day of typing would keep every edit's future (and what it holds). The
        finished ones are swept here, on the next notification, rather than from a
        done-callback: pygls's ``shutdown`` cancels futures while it iterates the
        table, and a callback that removed entries would break that iteration."""
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        if callback != self._check_handler_result:  # a request: its response removes it
            return
        unfinished = []
        for notification_id in (*self._unfinished_notifications, msg_id):
            future = self._request_futures.get(notification_id)
            if future is None or future.done():
                self._request_futures.pop(notification_id, None)
            else:
                unfinished.append(notification_id)
        self._unfinished_notifications = unfinished

    # pygls caches its lookup (an lru_cache, hence the ignore); this one is a dict lookup.
    def get_message_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        """lsprotocol's message type of a standard method; Quiver's requests keep plain JSON."""
        if method in ext.REQUESTS:
            return QuiverRequestMessage
        return super().get_message_type(method)


class QuiverLanguageServer(LanguageServer):
    """pygls's server plus Quiver's state: the options and the workspace session."""

    def __init__(self) -> None:
        super().__init__(
            "quiver",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=QuiverProtocol,
            converter_factory=transport.message_converter,
        )
        self.options: ServerOptions = DEFAULT_OPTIONS
        self.folders: list[Path] = []
        self.session: WorkspaceSession | None = None
        self.reporter: ClientReporter | None = None
        self._session_future: asyncio.Future[WorkspaceSession] | None = None
        self._early_events: list[Callable[[WorkspaceSession], None]] = []
        self._problems: list[OptionProblem] = []
        self._closing = threading.Lock()

    async def ready_session(self) -> WorkspaceSession:
        """The session, waiting for it while it is being created after ``initialized``."""
        if self.session is not None:
            return self.session
        # Shielded: a cancelled request must not cancel the future every request shares.
        return await asyncio.shield(self._future())

    def _future(self) -> asyncio.Future[WorkspaceSession]:
        if self._session_future is None:
            self._session_future = asyncio.get_running_loop().create_future()
        return self._session_future

    def with_session(self, event: Callable[[WorkspaceSession], None]) -> None:
        """Hand a notification to the session now, or once it exists (none is lost)."""
        if self.session is not None:
            event(self.session)
        else:
            self._early_events.append(event)

    def session_created(self, session: WorkspaceSession) -> None:
        self.session = session
        self._future().set_result(session)
        for event in self._early_events:
            event(session)
        self._early_events.clear()

    def session_failed(self, error: QuiverError) -> None:
        """The session could not be created: every request waiting for it fails with ``error``."""
        self._future().set_exception(error)

    def close_session(self, timeout: float = 5.0) -> None:
        """Close the session (flushes and closes the engines); idempotent. A second call
        waits for a first one still closing (``exit`` while ``shutdown`` closes)."""
        with self._closing:
            session, self.session = self.session, None
            if session is not None:
                session.close(timeout)


# --- errors ----------------------------------------------------------------------------------


@contextlib.contextmanager
def lsp_errors() -> Iterator[None]:
    """Turn Quiver's errors into LSP errors: bad input → InvalidParams (-32602), anything
    else → RequestFailed (-32803). Messages end with a ``Suggestion:`` line."""
    try:
        yield
    except InvalidQueryError as error:
        raise JsonRpcInvalidParams(str(error)) from error
    except QuiverError as error:
        raise JsonRpcException(str(error), code=ext.REQUEST_FAILED) from error
    except (JsonRpcException, asyncio.CancelledError):
        raise
    except Exception as error:
        log.exception("A request failed")
        raise JsonRpcException(
            f"Quiver could not answer: {error}\nSuggestion: see the server's log (stderr); "
            "if it persists, run `quiver/reindex` with rebuild: true.",
            code=ext.REQUEST_FAILED,
        ) from error


def _local_path(uri: str) -> Path | None:
    path = convert.uri_to_path(uri)
    return Path(path) if path is not None else None


def _open_text(ls: QuiverLanguageServer, uri: str) -> str | None:
    """The editor's text of an open document, or None when it is not open."""
    document = ls.workspace.text_documents.get(unquote(uri))
    return document.source if document is not None else None


# --- lifecycle -------------------------------------------------------------------------------


def initialize(ls: QuiverLanguageServer, params: lsp.InitializeParams) -> None:
    """Read the options and the workspace folders; all real work starts at ``initialized``."""
    ls.options, ls._problems = parse_options(params.initialization_options)
    _apply_log_level(ls.options)
    ls.folders = convert.workspace_folder_paths(
        params.workspace_folders, params.root_uri, params.root_path
    )


async def initialized(ls: QuiverLanguageServer, params: lsp.InitializedParams) -> None:
    """Report option problems, register file watching, and start the session (imports the
    engine on a worker thread; indexing runs in the background)."""
    for problem in ls._problems:
        severity = lsp.MessageType.Error if problem.severity == "error" else lsp.MessageType.Warning
        ls.window_show_message(lsp.ShowMessageParams(type=severity, message=problem.message))
    capabilities = ls.client_capabilities
    window = capabilities.window
    ls.reporter = reporter = ClientReporter(
        ls,
        asyncio.get_running_loop(),
        work_done_progress=bool(window and window.work_done_progress),
        status=lambda: _status(ls),
    )
    _forward_logs(reporter)
    try:
        session = await asyncio.to_thread(_create_session, ls, reporter)
    except Exception as error:  # an install problem: say so, and fail requests clearly
        log.exception("Quiver could not start")
        message = f"Quiver could not start: {error}"
        ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message))
        ls.session_failed(
            QuiverError(message, "Reinstall Quiver (`make setup`) and see the server's log.")
        )
        return
    ls.session_created(session)
    session.start()
    watched = capabilities.workspace and capabilities.workspace.did_change_watched_files
    if watched and watched.dynamic_registration:
        await _register_file_watching(ls)


def _apply_log_level(options: ServerOptions) -> None:
    """``logLevel`` sets how much of Quiver's own log reaches stderr (the editor's server log)."""
    logging.getLogger("quiver").setLevel(options.log_level.upper())


def _create_session(ls: QuiverLanguageServer, reporter: ClientReporter) -> WorkspaceSession:
    from quiver.workspace.session import WorkspaceSession

    return WorkspaceSession(ls.folders, ls.options, reporter)


def _status(ls: QuiverLanguageServer) -> ext.StatusResponse | None:
    """The status body, or None once the session is closed (nothing left to report)."""
    session = ls.session
    return convert.to_status(session.status()) if session is not None else None


def _forward_logs(reporter: ClientReporter) -> None:
    handler = ClientLogHandler(reporter)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger("quiver").addHandler(handler)


async def _register_file_watching(ls: QuiverLanguageServer) -> None:
    from quiver.parse.selection import WATCH_GLOBS

    registration = lsp.Registration(
        id="quiver-watched-files",
        method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=lsp.DidChangeWatchedFilesRegistrationOptions(
            watchers=[lsp.FileSystemWatcher(glob_pattern=glob) for glob in WATCH_GLOBS]
        ),
    )
    try:
        await ls.client_register_capability_async(
            lsp.RegistrationParams(registrations=[registration])
        )
    except Exception as error:  # the server's own watcher still sees changes
        log.info("The client did not accept file-watch registration: %s", error)


async def shutdown(ls: QuiverLanguageServer, params: None) -> None:
    """Stop indexing, flush and close every engine: the cache is consistent on exit.
    (``exit`` is the transport's: it ends the connection, ``serve_stdio`` the process.)"""
    await asyncio.to_thread(ls.close_session)


async def did_change_configuration(
    ls: QuiverLanguageServer, params: lsp.DidChangeConfigurationParams
) -> None:
    """New settings: pushed in the notification, or pulled with ``workspace/configuration``."""
    settings = params.settings
    workspace = ls.client_capabilities.workspace
    if not settings and workspace is not None and workspace.configuration:
        items = [lsp.ConfigurationItem(section="quiver")]
        try:
            pulled = await ls.workspace_configuration_async(lsp.ConfigurationParams(items=items))
            settings = pulled[0] if pulled else None
        except Exception as error:
            log.info("Could not pull the configuration: %s", error)
    if settings is None:
        return
    ls.options, problems = parse_options(settings, base=ls.options)
    for problem in problems:
        severity = lsp.MessageType.Error if problem.severity == "error" else lsp.MessageType.Warning
        ls.window_show_message(lsp.ShowMessageParams(type=severity, message=problem.message))
    options = ls.options
    _apply_log_level(options)
    ls.with_session(lambda session: session.set_options(options))


def did_change_workspace_folders(
    ls: QuiverLanguageServer, params: lsp.DidChangeWorkspaceFoldersParams
) -> None:
    """Folders added are opened and indexed in the background; folders removed are closed."""
    added = convert.workspace_folder_paths(params.event.added, None, None)
    removed = convert.workspace_folder_paths(params.event.removed, None, None)

    def apply(session: WorkspaceSession) -> None:
        for root in removed:
            session.remove_folder(root)
        for root in added:
            session.add_folder(root)

    ls.with_session(apply)


# --- document and file events ----------------------------------------------------------------


def did_open(ls: QuiverLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    path = _local_path(params.text_document.uri)
    text = params.text_document.text
    if path is not None:
        ls.with_session(lambda session: session.document_opened(path, text))


def did_change(ls: QuiverLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    path = _local_path(params.text_document.uri)
    text = _open_text(ls, params.text_document.uri)  # pygls applied the (incremental) edits
    if path is not None and text is not None:
        ls.with_session(lambda session: session.document_changed(path, text))


def did_save(ls: QuiverLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
    path = _local_path(params.text_document.uri)
    if path is not None:
        ls.with_session(lambda session: session.document_saved(path))


def did_close(ls: QuiverLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    path = _local_path(params.text_document.uri)
    if path is not None:
        ls.with_session(lambda session: session.document_closed(path))


def did_change_watched_files(
    ls: QuiverLanguageServer, params: lsp.DidChangeWatchedFilesParams
) -> None:
    events = [
        (path, change.type)
        for change in params.changes
        if (path := _local_path(change.uri)) is not None
    ]

    def apply(session: WorkspaceSession) -> None:
        for path, kind in events:
            if kind == lsp.FileChangeType.Deleted:
                session.file_deleted(path)
            else:
                session.file_changed(path)

    ls.with_session(apply)


# --- requests --------------------------------------------------------------------------------


async def workspace_symbol(
    ls: QuiverLanguageServer, params: lsp.WorkspaceSymbolParams
) -> list[lsp.SymbolInformation]:
    """Fuzzy names, plus semantic matches for a sentence. With a ``partialResultToken``
    the name matches are sent at once and the semantic ones when ready."""
    limit = ls.options.search_limit  # ``search.limit`` caps workspace/symbol too
    with lsp_errors():
        session = await ls.ready_session()
        token = params.partial_result_token
        if token is None:
            results = await asyncio.to_thread(session.workspace_symbols, params.query, limit=limit)
            return [convert.search_result_to_symbol_information(r) for r in results]
        names = await asyncio.to_thread(
            session.workspace_symbols, params.query, limit=limit, meaning=False
        )
        _send_partial(ls, token, [convert.search_result_to_symbol_information(r) for r in names])
        if session.wants_meaning(params.query) and len(names) < limit:
            meaning = await asyncio.to_thread(
                session.workspace_symbols, params.query, limit=limit, names=False, meaning=True
            )
            sent = {(r.path, r.selection_range.start, r.name) for r in names}
            more = [r for r in meaning if (r.path, r.selection_range.start, r.name) not in sent]
            _send_partial(
                ls,
                token,
                [convert.search_result_to_symbol_information(r) for r in more][
                    : limit - len(names)
                ],
            )
        return []


def _send_partial(ls: QuiverLanguageServer, token: lsp.ProgressToken, batch: list[Any]) -> None:
    if batch:
        ls.progress(lsp.ProgressParams(token=token, value=batch))


async def document_symbol(
    ls: QuiverLanguageServer, params: lsp.DocumentSymbolParams
) -> list[lsp.DocumentSymbol]:
    """The file's symbols as a tree, from the open buffer's text or else from the index."""
    path = _local_path(params.text_document.uri)
    if path is None:
        return []
    text = _open_text(ls, params.text_document.uri)
    with lsp_errors():
        session = await ls.ready_session()
        symbols = await asyncio.to_thread(session.document_symbols, path, text)
        return convert.to_document_symbols(symbols)


async def quiver_search(ls: QuiverLanguageServer, params: object) -> ext.SearchResponse:
    """``quiver/search`` (docs/protocol.md)."""
    with lsp_errors():
        query = convert.search_query_from_lsp(ext.read_params(ext.SearchParams, params), ls.options)
        session = await ls.ready_session()
        response = await asyncio.to_thread(
            session.search,
            query.text,
            mode=query.mode,
            limit=query.limit,
            kinds=query.kinds,
            languages=query.languages,
            paths=query.paths,
        )
        return convert.to_search_response(response)


async def quiver_similar(ls: QuiverLanguageServer, params: object) -> ext.SearchResponse:
    """``quiver/similar`` (docs/protocol.md)."""
    with lsp_errors():
        query = convert.similar_query_from_lsp(
            ext.read_params(ext.SimilarParams, params), ls.options
        )
        session = await ls.ready_session()
        response = await asyncio.to_thread(
            session.similar,
            query.path,
            query.position.line,
            query.position.character,
            limit=query.limit,
        )
        return convert.to_search_response(response)


async def quiver_status(ls: QuiverLanguageServer, params: object) -> ext.StatusResponse:
    """``quiver/status`` (docs/protocol.md); its params, if any, are ignored."""
    with lsp_errors():
        session = await ls.ready_session()
        return convert.to_status(await asyncio.to_thread(session.status))


async def quiver_reindex(ls: QuiverLanguageServer, params: object) -> ext.ReindexResult:
    """``quiver/reindex`` (docs/protocol.md): queued; progress as for the first indexing."""
    with lsp_errors():
        rebuild = ext.read_params(ext.ReindexParams, params).rebuild
        session = await ls.ready_session()
        return ext.ReindexResult(started=session.reindex(rebuild=rebuild))


#: The handler of each of Quiver's requests (every one ``ext.REQUESTS`` declares).
QUIVER_HANDLERS: dict[str, Callable[..., Any]] = {
    ext.SEARCH: quiver_search,
    ext.SIMILAR: quiver_similar,
    ext.STATUS: quiver_status,
    ext.REINDEX: quiver_reindex,
}


# --- assembly --------------------------------------------------------------------------------


def create_server() -> QuiverLanguageServer:
    """A server with every feature registered; start it with ``start_io`` or ``start_tcp``."""
    server = QuiverLanguageServer()
    features: list[tuple[str, Callable[..., Any], Any]] = [
        (lsp.INITIALIZE, initialize, None),
        (lsp.INITIALIZED, initialized, None),
        (lsp.SHUTDOWN, shutdown, None),
        (lsp.WORKSPACE_DID_CHANGE_CONFIGURATION, did_change_configuration, None),
        (lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, did_change_workspace_folders, None),
        (lsp.TEXT_DOCUMENT_DID_OPEN, did_open, None),
        (lsp.TEXT_DOCUMENT_DID_CHANGE, did_change, None),
        (lsp.TEXT_DOCUMENT_DID_SAVE, did_save, lsp.SaveOptions(include_text=False)),
        (lsp.TEXT_DOCUMENT_DID_CLOSE, did_close, None),
        (lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES, did_change_watched_files, None),
        (lsp.WORKSPACE_SYMBOL, workspace_symbol, lsp.WorkspaceSymbolOptions()),
        (lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL, document_symbol, lsp.DocumentSymbolOptions()),
        *((method, handler, None) for method, handler in QUIVER_HANDLERS.items()),
    ]
    for method, handler, options in features:
        server.feature(method, options)(handler)
    return server


class _AnsweredErrors(logging.Filter):
    """Drops pygls's traceback for errors already answered to the client as designed
    (InvalidParams, RequestFailed): a mistyped query is not a server error."""

    _ANSWERED = frozenset({ext.INVALID_PARAMS, ext.REQUEST_FAILED})

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, JsonRpcException) and error.code in self._ANSWERED)


def _quiet_pygls() -> None:
    # pygls logs every message it sends at INFO: only with -vv.
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_AnsweredErrors())


def serve_stdio() -> NoReturn:
    """Serve one client over stdin/stdout until it exits (or closes the pipe), then end
    the process: exit code 0 after ``shutdown``, 1 without (as LSP asks)."""
    _quiet_pygls()
    server = create_server()
    _serve_then_end(
        server, lambda: transport.serve_stdio(server.protocol, sys.stdin.buffer, sys.stdout.buffer)
    )


def serve_tcp(host: str, port: int) -> NoReturn:
    """Serve one client over TCP (for debugging a server started by hand), then end the
    process as ``serve_stdio`` does."""
    _quiet_pygls()
    server = create_server()
    _serve_then_end(server, lambda: transport.serve_tcp(server.protocol, host, port))


def _serve_then_end(
    server: QuiverLanguageServer, serve: Callable[[], transport.Ending]
) -> NoReturn:
    code = 1
    timeout = 5.0
    try:
        ending = serve()
        code = ending.exit_code
        timeout = 2.0 if ending.exited else 5.0  # ``exit`` without ``shutdown``: briefly
    except KeyboardInterrupt:
        code = 130
    except Exception:
        log.exception("The server stopped")
    try:
        server.close_session(timeout)  # nothing left to close after ``shutdown``
    except Exception:
        log.exception("Could not close the workspace")
    transport.end_process(code)
