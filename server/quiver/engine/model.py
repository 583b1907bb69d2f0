"""The embedding model and the vector index it must match.

The model is loaded on first use, never on open: a warm start answers names
and words before it loads (about 1 s of CPU). Invariants kept here:

- A writer's vectors all come from one model: the first time the writer uses
  the model (``embedder``) the index is checked against its ``model_key``, and
  an index built by another model (or with another symbol-text template) is
  emptied, so the next ``index_tree`` re-embeds the workspace.
- A query never waits for the writer's lock to get a model
  (``model_for_queries``), and is answered from the vector index only if that
  index was built by the query's model (``vectors_for``).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable

from quiver.embed.cache import EmbeddingCache
from quiver.embed.embedder import Embedder
from quiver.embed.text import SYMBOL_TEXT_VERSION
from quiver.engine.durability import reconcile
from quiver.engine.parts import EngineParts
from quiver.fuzzy import NameIndex
from quiver.ivf.index import IVFIndex

log = logging.getLogger(__name__)


def model_key(model_id: str, weights_sha256: str) -> str:
    """How an index records what its vectors came from: model id, weights hash, text template.

    The template version is part of it because an unchanged symbol keeps its vector
    across updates: a new template must re-embed everything, not only edited symbols.
    """
    return f"{model_id}@{weights_sha256}/text-v{SYMBOL_TEXT_VERSION}"


class ModelBinding:
    """Loads the model lazily and keeps the vector index consistent with it."""

    def __init__(self, parts: EngineParts, embedder_factory: Callable[[], Embedder]) -> None:
        self._parts = parts
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        #: Whether ``open_vectors`` checked the loaded model against the index (writers only).
        self.checked = False
        # The model a query loaded while a writer held the update lock (see model_for_queries).
        self._query_model: Embedder | None = None
        self._query_model_lock = threading.Lock()
        #: Set when loading the model emptied an index built by another model.
        self.discarded = False

    def check_loaded_model(self) -> None:
        """A freshly opened writer checks the index against the model if it is loaded
        already; otherwise the check waits for the model's first use."""
        if self._embedder is not None:
            self.open_vectors(self._embedder)

    @property
    def embedder(self) -> Embedder:
        """The model, loaded on first use; a writer checks the index was built by it."""
        parts = self._parts
        if self._embedder is None or (parts.writer_lock.held and not self.checked):
            with parts.update_lock:
                if self._embedder is None:
                    self._embedder = self._query_model or self._embedder_factory()
                if parts.writer_lock.held and not self.checked:
                    self.open_vectors(self._embedder)
        return self._embedder

    def model_for_queries(self) -> Embedder:
        """The model to embed a query with, without queueing behind a writer.

        A writer loads the model under the update lock and may keep that lock
        for minutes (a first index_tree); a search must not wait for it, nor pay
        for the writer's checks of the index against the model (the embedding
        cache's key scan, the reconciliation of ids): the factory is called here
        directly. A factory that shares one model (the server's does) hands back
        the model the writer has or is loading; another loads a second instance,
        once. Whether the vectors on disk come from this model is checked per
        query (``vectors_for``).
        """
        embedder = self._embedder or self._query_model
        if embedder is not None:
            return embedder
        with self._query_model_lock:
            if self._query_model is None and self._embedder is None:
                self._query_model = self._embedder_factory()
            chosen = self._embedder or self._query_model
            assert chosen is not None
            return chosen

    def vectors_for(self, embedder: Embedder) -> IVFIndex | None:
        """The vector index if its vectors come from ``embedder``'s model, else None: a
        query embedded by another model would rank garbage (the index is re-embedded by
        the writer's next run). Caller holds the state lock."""
        vectors = self._parts.vectors
        if vectors is None or vectors.dim != embedder.dim:
            return None
        return vectors if vectors.model_id == _key_of(embedder) else None

    def open_vectors(self, embedder: Embedder) -> None:
        """Check the model against the index; create the vector index if needed; reconcile.

        Caller holds the update lock (a writer only).
        """
        parts = self._parts
        key = _key_of(embedder)
        parts.embedding_cache = EmbeddingCache.for_model(parts.cache_dir / "embeddings", embedder)
        stale_model = bool(parts.catalog.model_id) and parts.catalog.model_id != key
        wrong_shape = parts.vectors is not None and (
            parts.vectors.dim != embedder.dim or parts.vectors.model_id != key
        )
        missing = parts.vectors is None and bool(parts.catalog.files)
        if stale_model or wrong_shape or missing:
            log.warning(
                "Re-embedding the workspace: the index was built with %r, the model is %r.",
                parts.catalog.model_id or "nothing",
                key,
            )
            self._discard_all()
        if parts.vectors is None:
            shutil.rmtree(parts.vectors_dir, ignore_errors=True)
            parts.vectors_dir.mkdir(parents=True, exist_ok=True)
            parts.vectors = IVFIndex.create(parts.vectors_dir, dim=embedder.dim, model_id=key)
        if parts.options.nprobe is not None:
            parts.vectors.nprobe = parts.options.nprobe
        with parts.state_lock:
            parts.catalog.model_id = key
            reconcile(parts)
        self.checked = True

    def _discard_all(self) -> None:
        """Forget every indexed file so the next index_tree re-embeds the workspace."""
        parts = self._parts
        self.discarded = True
        text = parts.writable_text()
        with parts.state_lock:
            if parts.vectors is not None:
                parts.vectors.close()
                parts.vectors = None
            shutil.rmtree(parts.vectors_dir, ignore_errors=True)
            paths = list(parts.catalog.files)
            for path in paths:
                parts.catalog.remove_file(path)
            text.delete_paths(paths)
            text.commit()
            parts.names = NameIndex[int]()


def _key_of(embedder: Embedder) -> str:
    return model_key(embedder.model_id, embedder.weights_sha256)
