"""A tiny deterministic embedder for fast unit tests of the index, never for the product.

Feature hashing: every word (identifiers split into their words) and every
character trigram of a word is hashed to a signed coordinate, and the sum is
normalised. Texts that share words share coordinates, so "parse url" lands
nearer "url parser" than "draw circle" — enough for tests of ranking plumbing,
nowhere near a language model. Deterministic across processes (blake2b, not
Python's salted ``hash``), no files, no threads, microseconds per text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from quiver.embed.text import split_identifier
from quiver.numeric import FloatMatrix, FloatVector

_TOKEN = re.compile(r"\w+")


class HashingEmbedder:
    """Feature-hashing embedder of a configurable dimension (``model_id`` ``hashing-test-<dim>``).

    Implements :class:`quiver.embed.embedder.Embedder`. Thread-safe: it holds no
    mutable state.
    """

    def __init__(self, dim: int = 64) -> None:
        if dim < 2:
            raise ValueError(f"HashingEmbedder needs dim >= 2, got {dim}")
        self._dim = dim
        self._model_id = f"hashing-test-{dim}"
        self._sha256 = hashlib.sha256(self._model_id.encode()).hexdigest()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def weights_sha256(self) -> str:
        return self._sha256

    def _features(self, text: str) -> list[str]:
        features: list[str] = []
        for token in _TOKEN.findall(text):
            for word in split_identifier(token):
                features.append(f"w:{word}")
                padded = f"<{word}>"
                features.extend(f"g:{padded[i : i + 3]}" for i in range(len(padded) - 2))
        return features

    def _embed_one(self, text: str) -> FloatVector:
        vector = np.zeros(self._dim, dtype=np.float32)
        for feature in self._features(text):
            digest = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8)
            value = int.from_bytes(digest.digest(), "little")
            # words weigh more than their trigrams; the top bit picks the sign
            weight = 2.0 if feature.startswith("w:") else 1.0
            sign = 1.0 if value >> 63 else -1.0
            vector[value % self._dim] += sign * weight
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            # text without any word: a fixed unit vector keeps the contract (unit norm)
            vector[0] = 1.0
            return vector
        return (vector / norm).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed many texts; shape ``(len(texts), dim)``, rows unit-norm."""
        matrix = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self._embed_one(text)
        return matrix

    def embed_query(self, text: str) -> FloatVector:
        """Embed one query; shape ``(dim,)``, unit-norm."""
        return self._embed_one(text)
