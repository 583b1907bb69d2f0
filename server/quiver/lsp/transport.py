"""One client's connection: every message checked against JSON-RPC and LSP's lifecycle, then
handed to pygls; every request answered exactly once; the process ended as LSP asks.

pygls reads a message, structures it and routes it; a message it cannot
structure (a request without ``params``, a body without ``jsonrpc``) was logged
and dropped, so the client waited forever for its answer, and requests after
``shutdown`` were dropped too. ``Connection`` answers each of them instead:

* a body that is not JSON (``quiver.lsp.framing`` reads the frames): ParseError
  (-32700) with a null id, the id being unreadable;
* a value that is not a JSON-RPC 2.0 message (not an object, no ``jsonrpc``, no
  ``method``, an id that is neither a number nor a string): InvalidRequest
  (-32600), with the request's id where it has a usable one;
* a request before ``initialize``: ServerNotInitialized (-32002); after
  ``shutdown``: InvalidRequest; a second ``initialize``: InvalidRequest;
* params that do not fit the method's type, or that hold a lone UTF-16
  surrogate (JSON's ``"\\ud800"``, which no encoder can write): InvalidParams
  (-32602) naming the field; a notification's lone surrogates become U+FFFD,
  one UTF-16 unit for one, so positions stay right.

Notifications before ``initialize`` or after ``shutdown`` are dropped, as LSP
says. ``exit`` ends the connection: exit code 0 after ``shutdown``, 1 without;
the end of the input stream counts as ``exit``. ``end_process`` then ends the
process at once (see its docstring for why not ``sys.exit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, NoReturn

import cattrs
from cattrs import BaseValidationError, transform_error
from lsprotocol import types as lsp
from pygls.io_ import StdoutWriter
from pygls.protocol import JsonRPCProtocol, default_converter

from quiver.lsp.framing import ByteBuffer, FrameReader, Malformed, Message, pump_stream

__all__ = [
    "Connection",
    "Ending",
    "end_process",
    "message_converter",
    "serve_connection",
    "serve_stdio",
    "serve_tcp",
]

log = logging.getLogger(__name__)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_TYPES: Final[dict[type, str]] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


@dataclass(frozen=True)
class Ending:
    """How a connection ended: by ``exit`` (or the input's end), with the exit code LSP asks."""

    exit_code: int
    #: True for an ``exit`` notification, False when the input stream ended.
    exited: bool


class Connection:
    """The lifecycle of one client and the checks each message passes before pygls sees it.

    ``receive`` takes what the frame reader read; it answers what it refuses and hands
    the rest to ``protocol.handle_message``. Runs on the event loop's thread.
    """

    def __init__(self, protocol: JsonRPCProtocol) -> None:
        self._protocol = protocol
        self.initialized = False
        self.shutdown_requested = False
        self.exited = False

    @property
    def exit_code(self) -> int:
        """LSP's exit code: 0 once ``shutdown`` was requested, else 1."""
        return 0 if self.shutdown_requested else 1

    def receive(self, item: Message | Malformed) -> None:
        """Check one message and dispatch or answer it; never raises."""
        if isinstance(item, Malformed):
            log.warning("Could not read a message: %s. Reading on at the next header.", item.reason)
            self.answer_error(
                None,
                lsp.ErrorCodes.ParseError,
                f"Could not read a message: {item.reason}.",
                "frame each message as `Content-Length: <bytes>\\r\\n\\r\\n<UTF-8 JSON>`.",
            )
            return
        if item.repair is not None:
            log.warning("A message's frame was wrong and was repaired: %s.", item.repair)
        try:
            self._receive_value(item.value)
        except Exception:  # a bug here must not end the connection
            log.exception("Could not handle a message")
            value = item.value
            if isinstance(value, dict) and "method" in value and _usable_id(value.get("id")):
                self.answer_error(
                    value["id"],
                    lsp.ErrorCodes.InternalError,
                    "Quiver could not handle this message.",
                    "see the server's log (stderr).",
                )

    def answer_error(
        self, message_id: int | str | None, code: int, message: str, suggestion: str
    ) -> None:
        """Send an error answer (``message_id`` None: JSON-RPC's null id)."""
        error = {"code": int(code), "message": f"{message}\nSuggestion: {suggestion}"}
        # pygls writes every message through ``_send_data``: headers, encoding, one writer.
        self._protocol._send_data({"jsonrpc": "2.0", "id": message_id, "error": error})

    # -- checks ---------------------------------------------------------------------------

    def _receive_value(self, value: Any) -> None:
        if not isinstance(value, dict):
            kind = (
                "a batch (a JSON array), which LSP does not use"
                if isinstance(value, list)
                else f"a JSON {_JSON_TYPES.get(type(value), 'value')}"
            )
            self._invalid(None, f"A message must be a JSON object, got {kind}.")
            return
        has_id = "id" in value
        message_id = value.get("id")
        reply_to = message_id if _usable_id(message_id) else None
        if "method" not in value:
            if has_id and ("result" in value or "error" in value):
                self._dispatch(value, "an answer")  # to a request the server sent
            else:
                self._invalid(reply_to, "A message needs a 'method' (or 'result' or 'error').")
            return
        method = value["method"]
        if not isinstance(method, str):
            self._invalid(reply_to, f"'method' must be a string, got {_short(method)}.")
        elif value.get("jsonrpc") != "2.0":
            self._invalid(
                reply_to, f"'jsonrpc' must be \"2.0\", got {_short(value.get('jsonrpc'))}."
            )
        elif not has_id:
            self._notification(method, value)
        elif reply_to is None:
            self._invalid(None, f"'id' must be an integer or a string, got {_short(message_id)}.")
        else:
            self._request(reply_to, method, value)

    def _request(self, message_id: int | str, method: str, value: dict[str, Any]) -> None:
        if self.shutdown_requested:
            self._invalid(message_id, f"The server is shutting down: {method} is not answered.")
            return
        if method == lsp.EXIT:
            self._invalid(message_id, "'exit' is a notification: send it without an 'id'.")
            return
        if not self.initialized and method != lsp.INITIALIZE:
            self.answer_error(
                message_id,
                lsp.ErrorCodes.ServerNotInitialized,
                f"The server is not initialized: {method} came before 'initialize'.",
                "send 'initialize' first.",
            )
            return
        if self.initialized and method == lsp.INITIALIZE:
            self._invalid(message_id, "'initialize' was already received.")
            return
        if _has_lone_surrogate(value.get("params")):
            self.answer_error(
                message_id,
                lsp.ErrorCodes.InvalidParams,
                f'The params of {method} hold a lone UTF-16 surrogate (such as "\\ud800"), '
                "which is not text.",
                "send valid Unicode (surrogates only in pairs).",
            )
            return
        message = self._structure(value)
        if isinstance(message, str):
            self.answer_error(
                message_id,
                lsp.ErrorCodes.InvalidParams,
                f"Invalid params for {method}: {message}.",
                "see the LSP specification (or docs/protocol.md for quiver/*) for its params.",
            )
            return
        if method == lsp.INITIALIZE:
            self.initialized = True
        elif method == lsp.SHUTDOWN:
            self.shutdown_requested = True
        self._protocol.handle_message(message)

    def _notification(self, method: str, value: dict[str, Any]) -> None:
        if method == lsp.EXIT:
            self.exited = True
            return
        if not self.initialized or self.shutdown_requested:
            state = "before 'initialize'" if not self.initialized else "after 'shutdown'"
            log.info("Dropped the notification %s, which came %s.", method, state)
            return
        params = value.get("params")
        if _has_lone_surrogate(params):
            value = {**value, "params": _replace_lone_surrogates(params)}
        self._dispatch(value, f"the notification {method}")

    def _dispatch(self, value: dict[str, Any], what: str) -> None:
        message = self._structure(value)
        if isinstance(message, str):
            log.warning("Dropped %s, which could not be read: %s.", what, message)
            return
        self._protocol.handle_message(message)

    def _structure(self, value: dict[str, Any]) -> Any:
        """The message as pygls's types, or a string saying why it does not fit them."""
        method = value.get("method")
        fallback = isinstance(method, str) and self._protocol.get_message_type(method) is None
        if fallback and "params" not in value:
            # pygls's fallback types need the key; LSP's own types say if params are due.
            value = {**value, "params": None}
        try:
            return self._protocol.structure_message(value)
        except Exception as error:
            cause = error.__cause__ if error.__cause__ is not None else error
            if isinstance(cause, BaseValidationError):
                return "; ".join(transform_error(cause)[:3])
            return f"{type(cause).__name__}: {cause}"[:200]

    def _invalid(self, message_id: int | str | None, message: str) -> None:
        self.answer_error(
            message_id,
            lsp.ErrorCodes.InvalidRequest,
            message,
            'send JSON-RPC 2.0: {"jsonrpc": "2.0", "id": 1, "method": "...", "params": {...}}.',
        )


def _usable_id(value: object) -> bool:
    """An id LSP allows: an integer (not a boolean) or a string."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _walk_strings(value: Any, visit: Callable[[str], bool]) -> bool:
    """Whether ``visit`` is true for a string (key or value) anywhere in ``value``;
    iterative, as JSON may nest as deep as the parser allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if visit(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _has_lone_surrogate(value: Any) -> bool:
    return _walk_strings(value, lambda text: _LONE_SURROGATE.search(text) is not None)


def _replace_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD (recursive: only called on
    values that hold one, and JSON's nesting is bounded by the parser)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_lone_surrogates(k): _replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_lone_surrogates(item) for item in value]
    return value


def message_converter() -> cattrs.Converter:
    """pygls's converter, with text fields read strictly: lsprotocol's converter turns any
    value into a string (``{"query": null}`` searched for ``"None"``), so a non-string
    where LSP has a string is InvalidParams. Numbers stay lenient (a Lua client may send
    ``1.0`` for ``1``)."""
    converter: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]
    converter.register_structure_hook(str, _strict_str)
    return converter


def _strict_str(value: object, _: type[Any]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {_short(value)}")
    return value


# --- serving -------------------------------------------------------------------------------


async def serve_connection(
    protocol: JsonRPCProtocol, buffer: ByteBuffer, *, frames: FrameReader | None = None
) -> Ending:
    """Read and handle the client's messages from ``buffer`` until ``exit`` or the end of
    the stream; requests run as tasks, so one slow answer holds up no other message."""
    connection = Connection(protocol)
    reader = frames if frames is not None else FrameReader(buffer)
    while not connection.exited:
        item = await reader.next()
        if item is None:
            log.info("The client closed the connection.")
            break
        connection.receive(item)
    return Ending(connection.exit_code, exited=connection.exited)


def serve_stdio(protocol: JsonRPCProtocol, stdin: BinaryIO, stdout: BinaryIO) -> Ending:
    """Serve one client on ``stdin``/``stdout`` until ``exit`` or the end of ``stdin``.

    ``stdin`` is read on a daemon thread of its own, straight from its file descriptor.
    Returns without waiting for requests still running, or for the worker threads
    they run on: the caller closes the workspace and ends the process.
    """
    protocol.set_writer(StdoutWriter(stdout))
    buffer = ByteBuffer()

    async def serve() -> Ending:
        loop = asyncio.get_running_loop()
        threading.Thread(
            target=pump_stream, args=(stdin, buffer, loop), name="quiver-stdin", daemon=True
        ).start()
        return await serve_connection(protocol, buffer)

    return _run_leaving_tasks(serve())


def serve_tcp(protocol: JsonRPCProtocol, host: str, port: int) -> Ending:
    """Serve the first client that connects to ``host:port`` (for debugging) until it exits."""

    async def serve() -> Ending:
        ended: asyncio.Future[Ending] = asyncio.get_running_loop().create_future()

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if ended.done() or protocol.writer is not None:
                writer.close()  # one client per server, as over stdio
                return
            protocol.set_writer(writer)
            buffer = ByteBuffer()
            pump = asyncio.create_task(_pump_socket(reader, buffer))
            try:
                ended.set_result(await serve_connection(protocol, buffer))
            finally:
                pump.cancel()

        server = await asyncio.start_server(connected, host, port)
        addresses = ", ".join(str(socket.getsockname()) for socket in server.sockets)
        log.info("Serving on %s", addresses)
        async with server:
            return await ended

    return _run_leaving_tasks(serve())


def _run_leaving_tasks(main: Coroutine[Any, Any, Ending]) -> Ending:
    """Run ``main`` on a new event loop, then close it without cancelling the tasks still
    running (``asyncio.run`` would: a ``shutdown`` still closing the workspace would log
    its cancellation) or waiting for their worker threads: the process ends next."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


async def _pump_socket(reader: asyncio.StreamReader, buffer: ByteBuffer) -> None:
    while chunk := await reader.read(64 * 1024):
        buffer.feed(chunk)
    buffer.feed(b"")


def end_process(code: int) -> NoReturn:
    """End the process now with ``code``, once what was written is flushed.

    Not ``sys.exit``: Python's exit finalizes the interpreter while daemon threads
    may still run native code: the writer thread embedding a batch in onnxruntime
    when ``shutdown`` stopped waiting for it. When such a thread comes back for the
    interpreter lock during finalization, CPython ends it with ``pthread_exit``,
    whose forced unwind through onnxruntime's C++ frames calls ``std::terminate``:
    SIGABRT, exit status -6, which editors report as a crash. The workspace is
    already closed (or left at its last atomic commit) when this is called.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
