"""Embedding many symbols: build their texts, reuse cached vectors, embed only the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from quiver.embed.cache import EmbeddingCache, cache_identity
from quiver.embed.embedder import Embedder
from quiver.embed.text import symbol_text, text_hash
from quiver.errors import ModelMismatchError
from quiver.numeric import FloatMatrix
from quiver.symbols import Symbol

#: Texts per call to the embedder: large enough that length sorting inside a chunk
#: still groups well (the whole miss list is sorted before chunking anyway), small
#: enough that progress is reported and finished vectors reach the cache every few
#: seconds, so an interrupted indexing run loses little.
CHUNK_SIZE = 256


def embed_symbols(
    embedder: Embedder,
    symbols: Sequence[Symbol],
    *,
    cache: EmbeddingCache | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> FloatMatrix:
    """Vectors for ``symbols``: float32 ``(len(symbols), embedder.dim)``, rows in input order.

    Builds each symbol's text (:func:`quiver.embed.text.symbol_text`), takes the
    vectors the cache already holds, embeds each distinct missing text once,
    shortest first in chunks of :data:`CHUNK_SIZE`, and appends every chunk to the
    cache as soon as it is done. ``on_progress(done, total)`` is called after the
    cache look-up and after every chunk, counting symbols (cache hits count as done).

    Blocking and CPU-heavy (the model runs here): call it from a worker thread.
    Raises ModelMismatchError if the cache belongs to another model.
    """
    identity = cache_identity(embedder)
    if cache is not None and (cache.model_id != identity or cache.dim != embedder.dim):
        raise ModelMismatchError(
            f"The embedding cache holds vectors of {cache.model_id} ({cache.dim} dimensions), "
            f"but the model loaded is {identity} ({embedder.dim} dimensions).",
            "open the cache for the loaded model (EmbeddingCache.for_model(directory, embedder)).",
        )
    total = len(symbols)
    result = np.zeros((total, embedder.dim), dtype=np.float32)
    if total == 0:
        return result

    texts = [symbol_text(symbol) for symbol in symbols]
    hashes = [text_hash(text) for text in texts]
    # Symbols with identical texts (overloads, copies) share one embedding.
    rows_of_hash: dict[str, list[int]] = {}
    for row, digest in enumerate(hashes):
        rows_of_hash.setdefault(digest, []).append(row)
    unique_hashes = list(rows_of_hash)

    if cache is not None:
        cached, found = cache.get_many(unique_hashes)
    else:
        cached = np.zeros((len(unique_hashes), embedder.dim), dtype=np.float32)
        found = np.zeros(len(unique_hashes), dtype=np.bool_)
    done = 0
    missing: list[str] = []
    for position, digest in enumerate(unique_hashes):
        rows = rows_of_hash[digest]
        if found[position]:
            result[rows] = cached[position]
            done += len(rows)
        else:
            missing.append(digest)
    if on_progress is not None:
        on_progress(done, total)

    text_of_hash = {digest: texts[rows[0]] for digest, rows in rows_of_hash.items()}
    missing.sort(key=lambda digest: len(text_of_hash[digest]))
    for start in range(0, len(missing), CHUNK_SIZE):
        chunk = missing[start : start + CHUNK_SIZE]
        vectors = embedder.embed_documents([text_of_hash[digest] for digest in chunk])
        for digest, vector in zip(chunk, vectors, strict=True):
            rows = rows_of_hash[digest]
            result[rows] = vector
            done += len(rows)
        if cache is not None:
            cache.put_many(chunk, vectors)
        if on_progress is not None:
            on_progress(done, total)
    return result
