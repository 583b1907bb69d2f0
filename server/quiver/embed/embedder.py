"""The interface every embedder offers; the engine depends on this alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from quiver.numeric import FloatMatrix, FloatVector


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-norm float32 vectors of a fixed dimension.

    ``model_id`` and ``weights_sha256`` identify the model in the index
    manifest: an index built by another model is re-embedded, never mixed.
    """

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def weights_sha256(self) -> str: ...

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed many texts; returns shape ``(len(texts), dim)``, rows unit-norm."""
        ...

    def embed_query(self, text: str) -> FloatVector:
        """Embed one search query; returns shape ``(dim,)``, unit-norm."""
        ...
