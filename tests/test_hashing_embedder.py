"""The deterministic test embedder keeps the Embedder contract."""

from __future__ import annotations

import numpy as np

from hashing_embedder import HashingEmbedder
from quiver.embed.embedder import Embedder


def test_hashing_embedder_is_a_deterministic_unit_norm_embedder() -> None:
    embedder = HashingEmbedder(dim=32)
    assert isinstance(embedder, Embedder)
    assert embedder.model_id == "hashing-test-32"
    vectors = embedder.embed_documents(["parse url", "parseUrl", "", "!!!"])
    assert vectors.shape == (4, 32)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(
        vectors, HashingEmbedder(dim=32).embed_documents(["parse url", "parseUrl", "", "!!!"])
    )
    np.testing.assert_allclose(vectors[0], vectors[1])  # split identifiers share words


def test_hashing_embedder_ranks_shared_words_above_unrelated_text() -> None:
    embedder = HashingEmbedder(dim=256)
    query = embedder.embed_query("parse the url")
    related, unrelated = embedder.embed_documents(["def url_parse(url)", "def draw_circle(r)"])
    assert float(query @ related) > float(query @ unrelated)


def test_dimensions_give_distinct_model_ids() -> None:
    assert HashingEmbedder(dim=8).model_id != HashingEmbedder(dim=16).model_id
    assert HashingEmbedder(dim=8).weights_sha256 != HashingEmbedder(dim=16).weights_sha256
