"""The engine: one workspace's index, kept current and searched, with no LSP in sight.

``VectorSearchEngine`` (``facade``) composes the pieces, each in its module
with the invariants it keeps: ``parts`` (the state they share: the open
parts, the two locks, the catalog), ``roles`` (writer or reader, following,
taking over), ``model`` (the lazily loaded model and the index it must
match), ``durability`` (commit order and recovery), ``indexer`` (index a
tree, update a file, train the IVF), ``search`` (every query), ``snippets``,
``status``; ``catalog`` is the table of files and symbols, ``fusion`` the
weighting of text and vector scores.

Importing this package loads the engine stack (numpy, Tantivy, tree-sitter)
but neither numba nor the model: both load on first use.
"""

from quiver.engine.facade import VectorSearchEngine
from quiver.engine.model import model_key
from quiver.engine.parts import EngineOptions
from quiver.engine.search import reads_like_sentence

__all__ = ["EngineOptions", "VectorSearchEngine", "model_key", "reads_like_sentence"]
