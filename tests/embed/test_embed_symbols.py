"""embed_symbols: every symbol gets a vector, and only changed symbols are re-embedded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hashing_embedder import HashingEmbedder
from quiver.embed.batch import embed_symbols
from quiver.embed.cache import EmbeddingCache
from quiver.embed.text import symbol_text, text_hash
from quiver.errors import ModelMismatchError
from quiver.symbols import Symbol

SymbolReader = Callable[[Path], list[Symbol]]

_TOPICS = [
    ("read_config", "Read the configuration file and return its settings."),
    ("retry_request", "Send an HTTP request again after a failure, with backoff."),
    ("compute_checksum", "Compute a CRC32 checksum of a byte buffer."),
    ("parse_header", "Split an HTTP header line into name and value."),
    ("format_duration", "Format a number of seconds as hours, minutes and seconds."),
]


def _write_fifty_functions(path: Path, edited: int | None = None) -> None:
    """A module of 50 functions; ``edited`` changes the body of that one function only."""
    blocks = []
    for index in range(50):
        name, doc = _TOPICS[index % len(_TOPICS)]
        result = "value * 3 + 1" if index == edited else "value + 1"
        blocks.append(
            f"def {name}_{index}(value):\n"
            f'    """{doc}"""\n'
            f"    step = {index}\n"
            f"    return {result} + step\n"
        )
    path.write_text("\n\n".join(blocks), encoding="utf-8")


def test_editing_one_function_reembeds_only_that_symbol(
    tmp_path: Path, counting_embedder: Any, python_symbols: SymbolReader
) -> None:
    source = tmp_path / "module.py"
    _write_fifty_functions(source)
    symbols = python_symbols(source)
    assert len(symbols) == 50

    cache = EmbeddingCache.for_model(tmp_path / "cache", counting_embedder)
    first = embed_symbols(counting_embedder, symbols, cache=cache)
    assert len(counting_embedder.embedded_texts) == 50
    cache.close()

    _write_fifty_functions(source, edited=17)
    edited_symbols = python_symbols(source)
    changed = [
        old.name
        for old, new in zip(symbols, edited_symbols, strict=True)
        if text_hash(symbol_text(old)) != text_hash(symbol_text(new))
    ]
    assert changed == ["compute_checksum_17"]

    counting_embedder.embedded_texts.clear()
    reopened = EmbeddingCache.for_model(tmp_path / "cache", counting_embedder)
    second = embed_symbols(counting_embedder, edited_symbols, cache=reopened)
    reopened.close()
    assert counting_embedder.embedded_texts == [symbol_text(edited_symbols[17])]
    unchanged = [row for row in range(50) if row != 17]
    np.testing.assert_array_equal(second[unchanged], first[unchanged])
    assert float(second[17] @ first[17]) < 1.0 - 1e-6


def test_every_symbol_gets_a_unit_vector_in_input_order(
    tmp_path: Path, python_symbols: SymbolReader
) -> None:
    source = tmp_path / "module.py"
    _write_fifty_functions(source)
    symbols = python_symbols(source)[:12]
    embedder = HashingEmbedder(dim=64)
    vectors = embed_symbols(embedder, symbols)
    assert vectors.shape == (12, 64)
    expected = embedder.embed_documents([symbol_text(symbol) for symbol in symbols])
    np.testing.assert_allclose(vectors, expected)


def test_identical_texts_are_embedded_once(tmp_path: Path, python_symbols: SymbolReader) -> None:
    source = tmp_path / "module.py"
    _write_fifty_functions(source)
    symbol = python_symbols(source)[0]
    calls: list[int] = []

    class Recording(HashingEmbedder):
        def embed_documents(self, texts):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return super().embed_documents(texts)

    vectors = embed_symbols(Recording(dim=16), [symbol, symbol, symbol])
    assert calls == [1]
    np.testing.assert_array_equal(vectors[0], vectors[2])


def test_progress_counts_cached_and_embedded_symbols(
    tmp_path: Path, python_symbols: SymbolReader
) -> None:
    source = tmp_path / "module.py"
    _write_fifty_functions(source)
    symbols = python_symbols(source)
    embedder = HashingEmbedder(dim=16)
    with EmbeddingCache.for_model(tmp_path / "cache", embedder) as cache:
        embed_symbols(embedder, symbols[:20], cache=cache)
        progress: list[tuple[int, int]] = []
        embed_symbols(
            embedder, symbols, cache=cache, on_progress=lambda d, t: progress.append((d, t))
        )
    assert progress[0] == (20, 50)
    assert progress[-1] == (50, 50)


def test_a_cache_of_another_model_is_refused(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=16)
    with (
        EmbeddingCache(tmp_path, model_id="another-model", dim=16) as cache,
        pytest.raises(ModelMismatchError) as raised,
    ):
        embed_symbols(embedder, [], cache=cache)
    assert "Suggestion:" in str(raised.value)


def test_no_symbols_give_an_empty_matrix() -> None:
    assert embed_symbols(HashingEmbedder(dim=16), []).shape == (0, 16)
