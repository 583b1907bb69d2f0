"""Distinct identifier types, so a cluster id is never passed where a vector id is expected."""

from __future__ import annotations

from typing import NewType

#: One inverted list of the IVF index (the index of its centroid).
ClusterId = NewType("ClusterId", int)
#: A vector in the IVF index; equal to the symbol id of the symbol it embeds.
VectorId = NewType("VectorId", int)
#: A symbol's stable id in the engine (the key shared by the vector and text indexes).
SymbolId = NewType("SymbolId", int)
#: The position of a vector inside one segment's storage (a row of a memory map).
SegmentOrdinal = NewType("SegmentOrdinal", int)
