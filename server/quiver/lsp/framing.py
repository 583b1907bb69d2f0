"""The LSP base protocol on a byte stream: frames in, JSON values out, whatever the client writes.

A frame is header lines (``Content-Length: 52``), an empty line, then that many
bytes of UTF-8 JSON. pygls's reader only knows the exact, case-sensitive
``Content-Length: N\\r\\n`` line; anything else (a lower-case name, bare LF line
endings, a wrong length) left it waiting for a frame that never came, and the
client waiting for an answer that never came. ``FrameReader`` reads the same
frames leniently where the intent is clear and recovers where it is not:

* header names are case-insensitive, lines may end in LF alone, blank lines
  between frames are skipped, headers other than ``Content-Length`` are ignored;
* a ``Content-Length`` that is too long: the body is cut where the next frame's
  header begins if what came before it is a whole JSON value; with nothing more
  coming, a whole JSON value is taken after ``settle_s`` of silence (the client
  is waiting for its answer, not writing the rest);
* a ``Content-Length`` that is too short (the classic: characters counted
  instead of bytes): the bytes up to the next header are added back if the body
  becomes a whole JSON value with them;
* a frame that cannot be read (no, a negative, a non-numeric or a huge
  ``Content-Length``; bytes that are not a header; a body that is not JSON even
  so; a body that stalls for ``stall_s``) comes out as ``Malformed``, which the
  caller answers with a parse error, and reading picks up at the next
  ``Content-Length`` header.

A real header line ends in a line break, which a JSON string cannot contain
unescaped, so a header found inside a valid body is never mistaken for one.
Everything is read through a ``ByteBuffer``: fed by a thread reading stdin
(``pump_stream``) or by a test, it lets a read wait for bytes with a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

__all__ = [
    "MAX_CONTENT_LENGTH",
    "ByteBuffer",
    "FrameReader",
    "Malformed",
    "Message",
    "parse_json",
    "pump_stream",
]

#: The largest body read (bytes); a larger ``Content-Length`` is a malformed frame.
MAX_CONTENT_LENGTH: Final = 256 * 1024 * 1024
#: A header line longer than this (bytes) is not a header.
MAX_HEADER_LINE: Final = 8 * 1024
#: The buffer stops reading ahead of the reader past this many bytes (unless a body needs more).
HIGH_WATER: Final = 4 * 1024 * 1024
_READ_SIZE: Final = 64 * 1024

# A whole ``Content-Length`` header line, where the next frame begins.
_NEXT_HEADER = re.compile(rb"content-length[ \t]*:[ \t]*\d+[ \t]*\r?\n", re.IGNORECASE)
_LONGEST_NEXT_HEADER: Final = 64
# A header line's start: a name (RFC 7230 token characters), then a colon.
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*")
_LINE_BREAKS = re.compile(rb"[\r\n]*")
_HEADER_NAMES: Final = (b"content-length", b"content-type")


@dataclass(frozen=True)
class Message:
    """One JSON value the client sent; ``repair`` says how its frame was repaired, if it was."""

    value: Any
    repair: str | None = None


@dataclass(frozen=True)
class Malformed:
    """A frame that could not be read: answer it with a parse error (-32700, id null)."""

    reason: str


class _NotJsonError(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJsonError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """The JSON value of a body (strict: UTF-8, no NaN or Infinity). Raises ``ValueError``
    for anything else, ``RecursionError`` included (a value nested too deeply)."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError as error:
        raise ValueError("the JSON is nested too deeply") from error


def _is_json(body: bytes) -> bool:
    try:
        parse_json(body)
    except ValueError:
        return False
    return True


class ByteBuffer:
    """Bytes received and not yet read, filled by ``feed`` on the event loop's thread.

    ``wanted`` tells a feeding thread whether to read more: it is cleared past
    ``HIGH_WATER`` bytes so a client cannot fill the memory faster than messages
    are handled, and set again when the reader consumes or waits for bytes.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.eof = False
        self.wanted = threading.Event()
        self.wanted.set()
        self._arrived = asyncio.Event()

    def feed(self, chunk: bytes) -> None:
        """Append ``chunk``; an empty chunk is the end of the stream."""
        if chunk:
            self.data += chunk
            if len(self.data) >= HIGH_WATER:
                self.wanted.clear()
        else:
            self.eof = True
            self.wanted.set()
        self._arrived.set()

    def consume(self, count: int) -> bytes:
        """The first ``count`` bytes, removed."""
        taken = bytes(self.data[:count])
        self.drop(count)
        return taken

    def drop(self, count: int) -> None:
        """Remove the first ``count`` bytes."""
        del self.data[:count]
        if len(self.data) < HIGH_WATER:
            self.wanted.set()

    async def more(self, timeout: float | None = None) -> bool:
        """Wait for more bytes: True once some arrived, False at the end of the stream or
        after ``timeout`` seconds without any (None: no bound)."""
        if self.eof:
            return False
        size = len(self.data)
        self._arrived.clear()
        self.wanted.set()  # the reader needs more, whatever the high-water mark says
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), timeout)
        return len(self.data) > size  # bytes may have come just as the time ran out


def pump_stream(stream: BinaryIO, buffer: ByteBuffer, loop: asyncio.AbstractEventLoop) -> None:
    """Read ``stream`` into ``buffer`` until its end (run on a thread of its own).

    Reads the file descriptor directly where there is one: a thread blocked in a
    buffered ``read`` holds the stream's lock, which Python's exit may need.
    """
    try:
        descriptor: int | None = stream.fileno()
    except (OSError, ValueError):
        descriptor = None
    while True:
        buffer.wanted.wait()
        try:
            if descriptor is not None:
                chunk = os.read(descriptor, _READ_SIZE)
            else:
                chunk = stream.read(_READ_SIZE)
        except OSError:
            chunk = b""
        try:
            loop.call_soon_threadsafe(buffer.feed, chunk)
        except RuntimeError:  # the loop is closed: nobody reads any more
            return
        if not chunk:
            return


class FrameReader:
    """Reads frames from a ``ByteBuffer``; ``next`` gives the next message, ``Malformed``
    for a frame it could not read, or None at the end of the stream.

    ``settle_s``: how long a body that is already a whole JSON value waits for the
    rest of an over-long ``Content-Length``; ``stall_s``: how long an incomplete body
    waits for more bytes before it is given up.
    """

    def __init__(self, buffer: ByteBuffer, *, settle_s: float = 0.5, stall_s: float = 10.0) -> None:
        self._buffer = buffer
        self._settle_s = settle_s
        self._stall_s = stall_s
        self._resync = False

    async def next(self) -> Message | Malformed | None:
        if self._resync:
            self._resync = False
            if not await self._skip_to_next_header():
                return None
        length = await self._read_headers()
        if length is None or isinstance(length, Malformed):
            return length
        return await self._read_body(length)

    # -- headers ------------------------------------------------------------------------

    async def _read_headers(self) -> int | Malformed | None:
        """The ``Content-Length`` of the next frame, its header block consumed."""
        lengths: set[bytes] = set()
        first = True
        while True:
            line = await self._header_line(skip_blank=first)
            if line is None or isinstance(line, Malformed):
                return line
            first = False
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                lengths.add(value.strip())
        return self._content_length(lengths)

    def _content_length(self, values: set[bytes]) -> int | Malformed:
        if not values:
            self._resync = True
            return Malformed("a frame without a Content-Length header")
        if len(values) > 1:
            self._resync = True
            return Malformed(f"a frame with several Content-Length headers: {sorted(values)}")
        (value,) = values
        if not value.isdigit():
            self._resync = True
            return Malformed(f"a Content-Length that is not a byte count: {value[:40]!r}")
        length = int(value)
        if length > MAX_CONTENT_LENGTH:
            self._resync = True
            return Malformed(f"a Content-Length of {length} bytes, over {MAX_CONTENT_LENGTH}")
        return length

    async def _header_line(self, *, skip_blank: bool) -> bytes | Malformed | None:
        """The next header line without its line break (b"": the empty line ending the
        headers); ``Malformed`` (and a resync) for bytes that cannot start a header."""
        data = self._buffer.data
        while True:
            if skip_blank:  # stray line breaks between frames
                blank = _LINE_BREAKS.match(data)
                if blank is not None and blank.end():
                    self._buffer.consume(blank.end())
            end = data.find(b"\n", 0, MAX_HEADER_LINE + 2)
            line = bytes(data[: end if end >= 0 else MAX_HEADER_LINE + 2])
            if line.rstrip(b"\r") and not _could_be_header(line, complete=end >= 0):
                self._resync = True
                return Malformed(f"bytes that are not a header: {line[:40]!r}")
            if end >= 0:
                self._buffer.consume(end + 1)
                return line.rstrip(b"\r")
            if len(data) > MAX_HEADER_LINE:
                self._resync = True
                return Malformed(f"a header line longer than {MAX_HEADER_LINE} bytes")
            if not await self._buffer.more():
                return None

    async def _skip_to_next_header(self) -> bool:
        """Drop bytes up to the next ``Content-Length`` header; False at the end of the stream."""
        data = self._buffer.data
        while True:
            found = _NEXT_HEADER.search(data)
            if found is not None:
                self._buffer.consume(found.start())
                return True
            # Keep a tail that may be the start of a header cut in two.
            self._buffer.consume(max(0, len(data) - _LONGEST_NEXT_HEADER))
            if not await self._buffer.more():
                return False

    # -- bodies ---------------------------------------------------------------------------

    async def _read_body(self, length: int) -> Message | Malformed | None:
        data = self._buffer.data
        scanned = 0
        quiet = 0.0
        while len(data) < length:
            cut = _next_header_after_json(data, scanned, len(data))
            if cut is not None:
                body = self._buffer.consume(cut)
                return Message(
                    parse_json(body),
                    f"Content-Length {length} was {length - cut} bytes too long",
                )
            scanned = max(0, len(data) - _LONGEST_NEXT_HEADER)
            if await self._buffer.more(self._settle_s):
                quiet = 0.0
                continue
            if self._buffer.eof:
                self._buffer.consume(len(data))
                return Malformed(f"the stream ended {length - len(data)} bytes into a body")
            if _is_json(bytes(data)):  # whole, and the client is waiting for its answer
                received = len(data)
                body = self._buffer.consume(received)
                return Message(
                    parse_json(body),
                    f"Content-Length {length} was {length - received} bytes too long",
                )
            quiet += self._settle_s
            if quiet >= self._stall_s:
                self._buffer.consume(len(data))
                self._resync = True
                return Malformed(
                    f"a body that stalled {length - len(data)} bytes short of its Content-Length"
                )
        try:
            value = parse_json(bytes(data[:length]))
        except ValueError as error:
            cut = _next_header_after_json(data, 0, length)
            if cut is not None:  # the next frame came along with this one
                body = self._buffer.consume(cut)
                return Message(
                    parse_json(body), f"Content-Length {length} was {length - cut} bytes too long"
                )
            return await self._repair_short_body(self._buffer.consume(length), error)
        self._buffer.drop(length)
        return Message(value)

    async def _repair_short_body(self, body: bytes, error: ValueError) -> Message | Malformed:
        """A body that is not JSON: if bytes that are not a header follow it, the
        ``Content-Length`` may have been too short; add them back up to the next header."""
        data = self._buffer.data
        # Wait briefly for what follows: the rest of this body, or the next frame.
        while _NEXT_HEADER.search(data) is None and not (data and _starts_a_header(data)):
            if not await self._buffer.more(self._settle_s):
                break
        if data and not _starts_a_header(data):
            found = _NEXT_HEADER.search(data)
            tail = self._buffer.consume(found.start() if found is not None else len(data))
            try:
                return Message(
                    parse_json(body + tail),
                    f"Content-Length {len(body)} was {len(tail)} bytes too short",
                )
            except ValueError:
                pass
        return Malformed(f"a body that is not JSON ({error})")


def _starts_a_header(data: bytearray) -> bool:
    """Whether ``data`` begins with a header name and its colon, or the start of one."""
    head = bytes(data[:16]).lower()
    for name in _HEADER_NAMES:
        if head.startswith(name):
            rest = head[len(name) :].lstrip(b" \t")
            return rest[:1] in (b":", b"")
        if name.startswith(head):
            return True
    return False


def _could_be_header(line: bytes, *, complete: bool) -> bool:
    """Whether ``line`` (all of it, or the start of it) can be a ``name: value`` header."""
    name_end = _TOKEN.match(line)
    end = name_end.end() if name_end is not None else 0
    if end == len(line):
        return not complete and end > 0  # a name still arriving
    return end > 0 and line[end : end + 1] == b":"


def _next_header_after_json(data: bytearray, start: int, end: int) -> int | None:
    """Where a ``Content-Length`` header begins between ``start`` and ``end`` in ``data``
    with a whole JSON value before it (the previous frame's length was too long), or None."""
    for found in _NEXT_HEADER.finditer(data, start):
        if found.start() > end:
            break
        if _is_json(bytes(data[: found.start()])):
            return found.start()
    return None
