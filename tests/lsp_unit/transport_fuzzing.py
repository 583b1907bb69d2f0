"""Messages for fuzzing the server's transport: valid LSP requests and notifications,
mutated in their JSON or in their bytes as a hostile client would, and which answers
each one requires. Used by ``tests/lsp/test_transport_fuzz.py`` (the real server) and
``tests/lsp_unit/test_transport.py`` (in-process)."""

from __future__ import annotations

import copy
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quiver.lsp.convert import path_to_uri
from quiver.lsp.framing import MAX_CONTENT_LENGTH


def frame(body: bytes, *, length: int | None = None) -> bytes:
    declared = len(body) if length is None else length
    return b"Content-Length: %d\r\n\r\n" % declared + body


def request(message_id: Any, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": message_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification(method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


@dataclass
class Sent:
    """One message as sent: its original id (None: a notification), and whether an answer
    to that id is required (frame and id intact) or merely allowed."""

    original_id: str | None
    required: bool
    start: int  # byte offset of its frame in the stream
    swallows_until: int  # a broken frame may swallow frames that start before this offset
    message: Any  # the JSON value (before any byte mutation)
    byte_mutated: bool


def hostile_value(rng: random.Random) -> Any:
    """A JSON value a field should never hold."""
    choice = rng.randrange(14)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2**31, -(2**63), 10**30])
    if choice == 3:
        return rng.choice([1.5, -0.0, 1e308, -1e308, 5e-324])
    if choice == 4:
        return ""
    if choice == 5:
        return rng.choice(["\ud800", "x\udfffy", "\udc00\ud800"])
    if choice == 6:
        return "x" * rng.choice([1000, 100_000])
    if choice == 7:
        return []
    if choice == 8:
        return {}
    if choice == 9:  # deep nesting
        value: Any = 1
        for _ in range(rng.choice([50, 300, 500])):
            value = [value] if rng.random() < 0.5 else {"a": value}
        return value
    if choice == 10:
        return {"uri": rng.choice(["", "file://", "http://x/y", "file:///%ZZ", "\x00"])}
    if choice == 11:
        return {"line": hostile_scalar(rng), "character": hostile_scalar(rng)}
    if choice == 12:
        return [hostile_scalar(rng) for _ in range(3)]
    return "Ω≈ç√∫ 🎉 \u0000 \u202e"


def hostile_scalar(rng: random.Random) -> Any:
    return rng.choice([None, -1, 10**30, 1.5, "3", True, 1e308, 2**53 + 1])


class Fuzzer:
    """Builds the messages and knows which answers they require."""

    def __init__(self, rng: random.Random, root: Path) -> None:
        self.rng = rng
        self.file_uri = path_to_uri(root / "http_client.py")
        self.scratch_uri = path_to_uri(root / "scratch.py")
        self.count = 0
        self.sent_ids: list[str] = []

    def fresh_id(self) -> str:
        # Long, random ids: a flipped byte does not turn one into another that was sent.
        self.count += 1
        return f"fuzz-{self.count}-{self.rng.getrandbits(48):012x}"

    def base_message(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.randrange(12)
        query = rng.choice(["Retry", "retry failed requests", "parse status", "x", "RetryPolicy"])
        if kind in (0, 1):
            return request(self.fresh_id(), "workspace/symbol", {"query": query})
        if kind == 2:
            return request(
                self.fresh_id(),
                "textDocument/documentSymbol",
                {"textDocument": {"uri": self.file_uri}},
            )
        if kind in (3, 4):
            params: dict[str, Any] = {"query": query}
            if rng.random() < 0.5:
                params["mode"] = rng.choice(["hybrid", "semantic", "text"])
            if rng.random() < 0.5:
                params["limit"] = rng.choice([1, 5, 20])
            if rng.random() < 0.3:
                params["kinds"] = ["class", "function"]
            if rng.random() < 0.3:
                params["paths"] = ["**/*.py"]
            return request(self.fresh_id(), "quiver/search", params)
        if kind == 5:
            position = {"line": rng.choice([5, 17, 29]), "character": 4}
            return request(
                self.fresh_id(),
                "quiver/similar",
                {"textDocument": {"uri": self.file_uri}, "position": position},
            )
        if kind == 6:
            return request(self.fresh_id(), "quiver/status")
        if kind == 7:
            return request(self.fresh_id(), "initialize", {"capabilities": {}})
        if kind == 8:
            text = "def scratch_function():\n    return 1\n"
            return notification(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": self.scratch_uri,
                        "languageId": "python",
                        "version": 1,
                        "text": text,
                    }
                },
            )
        if kind == 9:
            return notification(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": self.scratch_uri, "version": 2},
                    "contentChanges": [{"text": "def scratch_other():\n    pass\n"}],
                },
            )
        if kind == 10 and self.sent_ids:
            return notification("$/cancelRequest", {"id": rng.choice(self.sent_ids)})
        return notification("$/setTrace", {"value": "off"})

    def mutate_json(self, message: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        message = copy.deepcopy(message)
        kind = rng.randrange(9)
        params = message.get("params")
        if kind <= 2 and isinstance(params, dict) and params:
            # A wrong type somewhere in the params (a nested object's field, maybe).
            target = params
            key = rng.choice(list(target))
            while isinstance(target[key], dict) and target[key] and rng.random() < 0.6:
                target = target[key]
                key = rng.choice(list(target))
            target[key] = hostile_value(rng)
        elif kind == 3:
            message["params"] = hostile_value(rng)
        elif kind == 4:
            message.pop("params", None)
        elif kind == 5:  # a request that lost its id: a notification now
            if "id" in message:
                del message["id"]
            else:
                message["id"] = rng.choice([True, 1.5, None, {}, []])
        elif kind == 6:
            message["method"] = rng.choice(["quiver/nothing", "workspace/symbols", "", "$/x", 7])
        elif kind == 7:
            if rng.random() < 0.5:
                del message["jsonrpc"]
            else:
                message["jsonrpc"] = rng.choice(["1.0", 2.0, None])
        else:
            container = message if rng.random() < 0.5 or not isinstance(params, dict) else params
            container["unknownField"] = hostile_value(rng)
        return message

    def mutate_bytes(self, framed: bytes) -> bytes:
        rng = self.rng
        header, _, body = framed.partition(b"\r\n\r\n")
        kind = rng.randrange(7)
        if kind == 0:
            damaged = bytearray(framed)
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            return bytes(damaged)
        if kind == 1:
            return framed[: len(header) + 4 + rng.randrange(len(body))]
        if kind == 2:
            return frame(body, length=max(0, len(body) + rng.choice([-10, -1, 1, 10, 500])))
        if kind == 3:
            value = rng.choice([b"-1", b"abc", b"", b"99999999999999999999", b"1.5"])
            return b"Content-Length: " + value + b"\r\n\r\n" + body
        if kind == 4:
            return bytes(rng.randrange(256) for _ in range(rng.randint(1, 30))) + framed
        if kind == 5:
            return body
        return b"content-length: %d\n\n" % len(body) + body


def is_answerable_request(message: Any) -> bool:
    """Whether the server can read this message's id: a request it must answer by id."""
    return (
        isinstance(message, dict)
        and message.get("jsonrpc") == "2.0"
        and "method" in message
        and isinstance(message.get("id"), str)
    )


def reach_of(framed: bytes) -> int:
    """How far past its start a broken frame may reach: to its declared body's end."""
    found = re.search(rb"content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?\n", framed, re.IGNORECASE)
    blank = re.search(rb"\r?\n\r?\n", framed)
    if found is None or blank is None or int(found.group(1)) > MAX_CONTENT_LENGTH:
        return len(framed)  # no length the server would wait for
    return max(len(framed), blank.end() + int(found.group(1)))


def build_stream(
    fuzzer: Fuzzer, *, messages: int, json_mutations: float, byte_mutations: float
) -> tuple[bytes, list[Sent]]:
    """``messages`` frames, a share ``json_mutations`` mutated in their JSON and a share
    ``byte_mutations`` in their bytes; the stream and what was sent."""
    rng = fuzzer.rng
    stream = bytearray()
    sent: list[Sent] = []
    for _ in range(messages):
        message = fuzzer.base_message()
        original_id = message.get("id")
        if rng.random() < json_mutations:
            message = fuzzer.mutate_json(message)
        framed = frame(json.dumps(message).encode())
        start = len(stream)
        byte_mutated = rng.random() < byte_mutations
        if byte_mutated:
            framed = fuzzer.mutate_bytes(framed)
        stream += framed
        if isinstance(original_id, str):
            fuzzer.sent_ids.append(original_id)
        swallows_until = start + reach_of(framed) if byte_mutated else 0
        sent.append(
            Sent(
                original_id if isinstance(original_id, str) else None,
                required=not byte_mutated and is_answerable_request(message),
                start=start,
                swallows_until=swallows_until,
                message=message,
                byte_mutated=byte_mutated,
            )
        )
    # A request is only required if no broken frame before it may have swallowed it.
    reach = 0
    for item in sent:
        if item.start < reach:
            item.required = False
        reach = max(reach, item.swallows_until)
    return bytes(stream), sent
