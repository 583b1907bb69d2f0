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

import random
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from lsp_helpers import DATA
from raw_stdio import RawServer, notification

from lsp_unit.transport_fuzzing import Fuzzer, build_stream
from quiver.lsp.convert import path_to_uri

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
        stream, sent = build_stream(
            fuzzer, messages=MESSAGES, json_mutations=JSON_MUTATIONS, byte_mutations=BYTE_MUTATIONS
        )
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
