"""A bounded fuzz of the real server's transport: mutated frames and bodies, then a check that
every request got exactly one answer and that the server still answers correctly.

Deterministic (a fixed seed) and bounded (well under a minute): a few hundred
messages, valid ones and mutated ones, written to ``quiver serve --stdio`` as a
hostile client would. Two kinds of mutation:

* in the JSON (the frame stays well-formed): wrong types in params, huge
  numbers, deep nesting, lone surrogates, unknown methods and fields, ids of the
  wrong type, requests without their id (notifications that look like requests);
* in the bytes: flips anywhere, truncation, wrong or non-numeric lengths,
  garbage before a frame, a body without its header.

A request whose frame and id were left intact must be answered exactly once. A
byte mutation may destroy its own request's id and swallow the frames after it,
up to its declared ``Content-Length``: those may go unanswered (the server
answers a parse error with a null id), but no id is ever answered twice, no
answer carries an id that was not sent, and none is an internal error.
"""

from __future__ import annotations

import copy
import json
import random
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsp_helpers import DATA
from raw_stdio import RawServer, frame, notification, request

from quiver.lsp.convert import path_to_uri
from quiver.lsp.framing import MAX_CONTENT_LENGTH

pytestmark = [pytest.mark.model, pytest.mark.slow]

SEED = 20_251_205
MESSAGES = 700
#: The share of frames whose bytes are mutated (the rest: JSON mutations or none).
BYTE_MUTATIONS = 0.12
JSON_MUTATIONS = 0.5
INTERNAL_ERROR = -32603
#: Every required answer must have come within this many seconds of the last message.
ANSWERS_WAIT_S = 40.0
INDEXING_WAIT_S = 90.0


@dataclass
class Sent:
    """One message as sent: its original id (None: a notification), and whether an answer
    to that id is required (frame and id intact) or merely allowed."""

    original_id: str | None
    required: bool
    start: int  # byte offset of its frame in the stream
    swallows_until: int  # a broken frame may swallow frames that start before this offset


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


def build_stream(fuzzer: Fuzzer) -> tuple[bytes, list[Sent]]:
    rng = fuzzer.rng
    stream = bytearray()
    sent: list[Sent] = []
    for _ in range(MESSAGES):
        message = fuzzer.base_message()
        original_id = message.get("id")
        if rng.random() < JSON_MUTATIONS:
            message = fuzzer.mutate_json(message)
        framed = frame(json.dumps(message).encode())
        start = len(stream)
        byte_mutated = rng.random() < BYTE_MUTATIONS
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
            )
        )
    # A request is only required if no broken frame before it may have swallowed it.
    reach = 0
    for item in sent:
        if item.start < reach:
            item.required = False
        reach = max(reach, item.swallows_until)
    return bytes(stream), sent


def retry_policy_locations(server: RawServer, message_id: str) -> list[str]:
    answer = server.request(message_id, "workspace/symbol", {"query": "RetryPolicy"})
    return [
        symbol["location"]["uri"]
        for symbol in answer["result"] or []
        if symbol["name"] == "RetryPolicy"
    ]


def test_every_request_is_answered_once_and_the_server_still_answers_right(
    tmp_path: Path,
) -> None:
    root = tmp_path / "workspace"
    root.mkdir()
    shutil.copy(DATA / "polyglot" / "net" / "http_client.py", root / "http_client.py")
    server = RawServer(root, tmp_path / "cache", tmp_path / "server.log")
    try:
        server.initialize()
        file_uri = path_to_uri(root / "http_client.py")
        deadline = time.monotonic() + INDEXING_WAIT_S  # the first indexing loads the model
        while retry_policy_locations(server, f"warm-{time.monotonic()}") != [file_uri]:
            if time.monotonic() > deadline:
                raise AssertionError(f"the workspace was never indexed; log:\n{server.log()}")
            time.sleep(0.1)

        fuzzer = Fuzzer(random.Random(SEED), root)
        stream, sent = build_stream(fuzzer)
        since = server.mark()
        rng = random.Random(SEED + 1)
        position = 0
        while position < len(stream):  # in pieces, so frames arrive split
            size = rng.choice([1, 7, 100, 4096, 65536])
            server.send_bytes(stream[position : position + size])
            position += size

        required = [item.original_id for item in sent if item.required]
        assert len(required) > MESSAGES // 4  # the fuzz exercises the dispatch, not just framing
        for message_id in required:
            server.answer_to(message_id, since=since, timeout=ANSWERS_WAIT_S)
        server.drain(quiet_s=1.0)

        assert retry_policy_locations(server, "after-the-fuzz") == [file_uri]
        answers = server.answers(since)[:-1]
        counts = Counter(answer.get("id") for answer in answers)
        sent_ids = {item.original_id for item in sent if item.original_id is not None}
        twice = {answer_id: n for answer_id, n in counts.items() if answer_id and n > 1}
        assert not twice, f"ids answered more than once: {twice}"
        strangers = set(counts) - sent_ids - {None}
        assert not strangers, f"answers to ids that were never sent: {strangers}"
        internal = [a for a in answers if a.get("error", {}).get("code") == INTERNAL_ERROR]
        assert not internal, f"internal errors: {internal[:3]}"
        assert server.process.poll() is None

        assert server.request("bye", "shutdown")["result"] is None
        server.send(notification("exit"))
        assert server.exit_code() == 0
    finally:
        server.kill()
