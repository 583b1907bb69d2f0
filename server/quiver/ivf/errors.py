"""Errors specific to the vector index (all ``QuiverError``s, so they end with a suggestion)."""

from __future__ import annotations

from quiver.errors import QuiverError


class InvalidVectorError(QuiverError):
    """Vectors or ids offered to the index are malformed (NaN, wrong shape, negative id)."""


class TrainingError(QuiverError):
    """The vectors given cannot train the requested number of lists."""


class IndexReadOnlyError(QuiverError):
    """A change was attempted through an index opened for reading only."""
