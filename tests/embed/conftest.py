"""Shared fixtures of the embedding tests: one loaded model per session, symbols from disk."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from quiver.embed.model import OnnxEmbedder
from quiver.embed.protocol import FloatMatrix, FloatVector
from quiver.symbols import Position, Range, Symbol, SymbolKind, content_hash


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


def _range(node: ast.AST) -> Range:
    return Range(
        Position(node.lineno - 1, node.col_offset),  # type: ignore[attr-defined]
        Position(node.end_lineno - 1, node.end_col_offset),  # type: ignore[attr-defined]
    )


def python_symbols_of(path: Path) -> list[Symbol]:
    """Functions, classes and methods of a Python file, read with ``ast``.

    A stand-in for ``quiver.parse`` (built concurrently) that yields the same record.
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    symbols: list[Symbol] = []

    def visit(nodes: list[ast.stmt], container: str, in_class: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                segment = ast.get_source_segment(source, node) or node.name
                if isinstance(node, ast.ClassDef):
                    kind = SymbolKind.CLASS
                else:
                    kind = SymbolKind.METHOD if in_class else SymbolKind.FUNCTION
                signature = segment.splitlines()[0].strip()
                doc = ast.get_docstring(node) or ""
                symbols.append(
                    Symbol(
                        name=node.name,
                        kind=kind,
                        container=container,
                        signature=signature,
                        doc=doc,
                        range=_range(node),
                        selection_range=_range(node),
                        language="python",
                        path=str(path),
                        body=segment,
                        content_hash=content_hash(kind.label, container, node.name, segment),
                    )
                )
                inner = f"{container}.{node.name}" if container else node.name
                visit(node.body, inner, isinstance(node, ast.ClassDef))

    visit(tree.body, path.stem, False)
    return symbols


@pytest.fixture
def python_symbols() -> Callable[[Path], list[Symbol]]:
    return python_symbols_of
