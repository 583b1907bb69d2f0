"""Shared fixtures of the embedding tests: one loaded model per session, symbols from disk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from quiver.embed.model import OnnxEmbedder
from quiver.numeric import FloatMatrix, FloatVector
from quiver.parse.extract import extract_symbols
from quiver.symbols import Symbol


@pytest.fixture(scope="session")
def real_embedder() -> OnnxEmbedder:
    """The real default model, loaded once for the whole test session (~1 s)."""
    return OnnxEmbedder()


class CountingEmbedder:
    """The real model behind a wrapper that records how many texts it was asked to embed."""

    def __init__(self, inner: OnnxEmbedder) -> None:
        self._inner = inner
        self.embedded_texts: list[str] = []

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dim(self) -> int:
        return self._inner.dim

    @property
    def weights_sha256(self) -> str:
        return self._inner.weights_sha256

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        self.embedded_texts.extend(texts)
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> FloatVector:
        self.embedded_texts.append(text)
        return self._inner.embed_query(text)


@pytest.fixture
def counting_embedder(real_embedder: OnnxEmbedder) -> CountingEmbedder:
    return CountingEmbedder(real_embedder)


def python_symbols_of(path: Path) -> list[Symbol]:
    """The symbols ``quiver.parse`` extracts from a Python file on disk."""
    return extract_symbols(path.read_bytes(), str(path), "python")


@pytest.fixture
def python_symbols() -> Callable[[Path], list[Symbol]]:
    return python_symbols_of
