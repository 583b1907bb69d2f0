"""The query path: semantic, text and hybrid search, filters, results, similar code, symbols.

Invariants kept here: a query takes the state lock only while it reads the
parts (never while it embeds the query or reads snippets), so it answers from
the last applied state while a writer parses and embeds; it embeds with
``ModelBinding.model_for_queries`` (never waiting for the writer's lock) and
uses the vector index only if that index was built by the same model. Name
look-ups (``workspace_symbols`` without ``meaning``) and text search need no
model: a warm start answers them before the model loads.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from quiver.api import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    SEARCH_MODES,
    SearchQuery,
    SearchResponse,
    SearchResult,
)
from quiver.engine.catalog import SymbolRecord, SymbolTable
from quiver.engine.filtered import filtered_semantic_hits
from quiver.engine.fusion import DEFAULT_WEIGHTS, QueryShape, classify_query, score_fusion
from quiver.engine.model import ModelBinding
from quiver.engine.parts import EngineParts
from quiver.engine.path_prior import PathRanker
from quiver.engine.snippets import SnippetReader
from quiver.errors import InvalidQueryError
from quiver.ids import SymbolId, VectorId
from quiver.ivf.index import IVFIndex
from quiver.symbols import Range
from quiver.text.pathglob import path_matches
from quiver.text.query import Filters


class Searcher:
    """Answers queries from the parts the engine has open."""

    def __init__(self, parts: EngineParts, model: ModelBinding) -> None:
        self._parts = parts
        self._model = model
        # Compiled once per engine: the prior costs a cached match per candidate path.
        self._ranker = PathRanker(parts.options.path_prior)

    def search(self, query: SearchQuery) -> SearchResponse:
        """``VectorSearchEngine.search``, with snippets."""
        return self._search(query, snippets=True)

    def _search(self, query: SearchQuery, *, snippets: bool) -> SearchResponse:
        started = time.perf_counter()
        text = _validated_query(query.text)
        limit = max(1, min(query.limit, MAX_LIMIT))
        if query.mode not in SEARCH_MODES:
            raise InvalidQueryError(
                f"Unknown search mode {query.mode!r}.",
                f"Use one of: {', '.join(SEARCH_MODES)}.",
            )
        # Over-fetch so filters and fusion still leave `limit` answers.
        fetch = limit * (4 if (query.kinds or query.languages or query.paths) else 2)
        semantic_hits: list[tuple[int, float]] = []
        text_hits: list[tuple[int, float]] = []
        vectors: IVFIndex | None = None
        if query.mode in ("semantic", "hybrid"):
            model = self._model.model_for_queries()
            query_vector = model.embed_query(text)
            with self._parts.state_lock:
                vectors = self._model.vectors_for(model)
            if vectors is not None:
                semantic_hits = self._semantic_hits(query_vector, fetch, query, vectors)
        if query.mode in ("text", "hybrid"):
            with self._parts.state_lock:
                text_index = self._parts.text
                hits = (
                    text_index.search(
                        text,
                        limit=fetch,
                        kinds=list(query.kinds) or None,
                        languages=list(query.languages) or None,
                        paths=list(query.paths) or None,
                    )
                    if text_index is not None
                    else []
                )
            text_hits = [(int(h.symbol_id), float(h.score)) for h in hits]
        if query.mode == "semantic":
            ranked = semantic_hits
        elif query.mode == "text":
            ranked = text_hits
        else:
            ranked = score_fusion(
                semantic_hits,
                text_hits,
                self._cosines(
                    vectors, query_vector, {i for i, _ in text_hits} - dict(semantic_hits).keys()
                ),
                DEFAULT_WEIGHTS[classify_query(text)],
            )
        found_by = {i: ("semantic",) for i, _ in semantic_hits}
        for i, _ in text_hits:
            found_by[i] = (*found_by.get(i, ()), "text")
        results = self._results(ranked, found_by, snippets=snippets, limit=limit)
        return SearchResponse(
            results=tuple(results),
            partial=self._parts.state != "ready",
            generation=self._parts.catalog.generation,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _cosines(
        self, vectors: IVFIndex | None, query_vector: np.ndarray, ids: set[int]
    ) -> dict[int, float]:
        """Exact cosine of the query with the stored vectors of ``ids`` (a few dozen at most)."""
        cosines: dict[int, float] = {}
        with self._parts.state_lock:
            if vectors is None:
                return cosines
            for key in ids:
                stored = vectors.reconstruct(VectorId(key))
                if stored is not None:
                    cosines[key] = float(np.dot(stored, query_vector))
        return cosines

    def _semantic_hits(
        self, query_vector: np.ndarray, fetch: int, query: SearchQuery, vectors: IVFIndex | None
    ) -> list[tuple[int, float]]:
        """(symbol id, cosine similarity) of the nearest vectors passing the filters.

        Filtered: the text index names the admitted symbols first and only they are
        scored (``quiver.engine.filtered``). Unfiltered: the plain IVF probe.
        """
        with self._parts.state_lock:
            if vectors is None or vectors.ntotal == 0:
                return []
            text_index = self._parts.text
            if (query.kinds or query.languages or query.paths) and text_index is not None:
                filters = Filters(
                    kinds=query.kinds or None,
                    languages=query.languages or None,
                    paths=query.paths or None,
                )
                hits = filtered_semantic_hits(text_index, vectors, query_vector, fetch, filters)
                known = self._parts.catalog.symbols
                return [(i, score) for i, score in hits if SymbolId(i) in known]
            k = fetch
            while True:
                scores, ids = vectors.search(query_vector[np.newaxis, :], min(k, vectors.ntotal))
                kept = [
                    (int(i), float(score))
                    for i, score in zip(ids[0], scores[0], strict=True)
                    if i >= 0 and self._passes(int(i), query)
                ]
                if len(kept) >= fetch or k >= vectors.ntotal:
                    return kept[:fetch]
                k *= 4

    def _passes(self, symbol_id: int, query: SearchQuery) -> bool:
        if not (query.kinds or query.languages or query.paths):
            # No filter: only whether the catalog knows it (no record is decoded).
            return SymbolId(symbol_id) in self._parts.catalog.symbols
        record = self._parts.catalog.symbols.get(SymbolId(symbol_id))
        if record is None:
            return False
        if query.kinds and record.kind not in query.kinds:
            return False
        if query.languages and record.language not in query.languages:
            return False
        return not query.paths or path_matches(query.paths, record.path)

    def _results(
        self,
        ranked: Sequence[tuple[int, float]],
        found_by: Mapping[int, tuple[str, ...]],
        *,
        snippets: bool = True,
        limit: int | None = None,
        prior: bool = True,
        decoded: _DecodedRecords | None = None,
    ) -> list[SearchResult]:
        """The first ``limit`` (all: None) of ``ranked`` (best first) as results, after the
        path prior (``quiver.engine.path_prior``) lowered the scores of tests, vendored and
        generated code (unless ``prior`` is False: ``ranked`` is final). ``ranked`` should
        hold more candidates than ``limit``, so the prior can promote a product symbol past
        the cut; only those that could make it are decoded. ``decoded``: records this query
        already read."""
        results = []
        with self._parts.state_lock:
            records = decoded or _DecodedRecords(self._parts.catalog.symbols)
            # Misses are read from the table of now (an earlier one may have been swapped out).
            records.symbols = self._parts.catalog.symbols
            if prior and self._ranker.enabled:
                ranked = self._ranker.rerank(ranked, records.path, limit)
            else:
                ranked = ranked[:limit]
            found = [(records.get(i), score) for i, score in ranked]
        reader = SnippetReader(self._parts.options.max_file_size) if snippets else None
        for record, score in found:
            if record is None:
                continue
            results.append(self._result(record, score, found_by.get(int(record.id), ()), reader))
        return results

    def _result(
        self,
        record: SymbolRecord,
        score: float,
        retrievers: tuple[str, ...],
        snippets: SnippetReader | None,
    ) -> SearchResult:
        absolute = self._parts.absolute_path(record.path)
        return SearchResult(
            symbol_id=record.id,
            name=record.name,
            kind=record.kind,
            container=record.container,
            path=str(absolute),
            relative_path=record.path,
            range=record.range,
            selection_range=record.selection_range,
            language=record.language,
            signature=record.signature,
            snippet=snippets.snippet(absolute, record.range) if snippets is not None else "",
            score=float(score),
            retrievers=retrievers,
        )

    def similar(
        self, path: Path | str, line: int, character: int, *, limit: int = 20
    ) -> SearchResponse:
        """``VectorSearchEngine.similar``: the stored vector of the innermost enclosing
        symbol, searched like a query vector (the symbol itself left out)."""
        started = time.perf_counter()
        relative = self._parts.relative_path(path)
        with self._parts.state_lock:
            enclosing = [
                r
                for r in self._parts.catalog.symbols_of(relative)
                if _contains(r.range, line, character)
            ]
            if not enclosing:
                raise InvalidQueryError(
                    f"No indexed symbol encloses {relative}:{line + 1}:{character + 1}.",
                    "Place the cursor inside a function, method or class and try again.",
                )
            target = min(enclosing, key=lambda r: _span(r.range))
            vectors = self._parts.vectors
            vector = vectors.reconstruct(VectorId(int(target.id))) if vectors else None
        if vector is None:
            raise InvalidQueryError(
                f"{target.qualified_name} is not embedded yet.",
                "Wait for indexing to finish (see `quiver/status`) and try again.",
            )
        query = SearchQuery(text=target.name, mode="semantic", limit=limit + 1)
        hits = self._semantic_hits(vector, limit + 1, query, vectors)
        ranked = [(i, score) for i, score in hits if i != int(target.id)]
        results = self._results(ranked, {i: ("semantic",) for i, _ in ranked}, limit=limit)
        return SearchResponse(
            tuple(results),
            partial=self._parts.state != "ready",
            generation=self._parts.catalog.generation,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def workspace_symbols(
        self,
        query: str,
        *,
        limit: int = 100,
        names: bool = True,
        meaning: bool | None = None,
    ) -> list[SearchResult]:
        """``VectorSearchEngine.workspace_symbols``: the name index under the state lock,
        plus a hybrid search without snippets when the query reads like a sentence."""
        limit = max(1, min(limit, 1000))
        fuzzy_ranked: list[tuple[int, float]] = []
        decoded: _DecodedRecords | None = None
        if names:
            with self._parts.state_lock:
                fuzzy = self._parts.names.search(query.strip(), limit=limit)
                decoded = _DecodedRecords(self._parts.catalog.symbols)
                # A tie-breaker only: a fuzzy score grades how the typed characters fit a
                # name, and a user who types `test_parse` means that test.
                fuzzy_ranked = self._ranker.break_ties(
                    [(m.key, m.score) for m in fuzzy], decoded.path
                )
        semantic: list[tuple[int, float]] = []
        if meaning if meaning is not None else reads_like_sentence(query):
            try:
                response = self._search(
                    SearchQuery(text=query, mode="hybrid", limit=limit), snippets=False
                )
            except InvalidQueryError:
                response = None
            if response is not None:
                semantic = [(int(r.symbol_id), r.score) for r in response.results]
        ordered = semantic + fuzzy_ranked
        seen: set[int] = set()
        unique = []
        for key, score in ordered:
            if key not in seen:
                seen.add(key)
                unique.append((key, score))
        found_by = {key: ("semantic",) for key, _ in semantic}
        # Semantic matches had the prior in `_search`; name matches only break ties with it.
        return self._results(unique[:limit], found_by, snippets=False, prior=False, decoded=decoded)

    def document_symbols(self, path: Path | str) -> list[SymbolRecord]:
        """The indexed symbols of one file, in source order."""
        relative = self._parts.relative_path(path)
        with self._parts.state_lock:
            records = self._parts.catalog.symbols_of(relative)
        return sorted(records, key=lambda r: (r.range.start.line, r.range.start.character))


class _DecodedRecords:
    """The symbol records one query reads, each decoded once (caller holds ``state_lock``)."""

    __slots__ = ("_records", "symbols")

    def __init__(self, symbols: SymbolTable) -> None:
        #: Where misses are read: the catalog's table under the lock now held.
        self.symbols = symbols
        self._records: dict[int, SymbolRecord | None] = {}

    def get(self, symbol_id: int) -> SymbolRecord | None:
        if symbol_id not in self._records:
            self._records[symbol_id] = self.symbols.get(SymbolId(symbol_id))
        return self._records[symbol_id]

    def path(self, symbol_id: int) -> str | None:
        record = self.get(symbol_id)
        return record.path if record is not None else None


def reads_like_sentence(query: str) -> bool:
    """Whether ``workspace_symbols`` adds semantic matches: two or more words of prose."""
    return len(query.split()) >= 2 and classify_query(query) is QueryShape.SENTENCE


def _validated_query(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise InvalidQueryError("The query is empty.", "Type a few words or a symbol name.")
    if len(stripped) > MAX_QUERY_CHARS:
        # Over-long input (a pasted file) is cut, not rejected: its head carries the intent.
        stripped = stripped[:MAX_QUERY_CHARS]
    return stripped


def _contains(span: Range, line: int, character: int) -> bool:
    start, end = span.start, span.end
    after_start = (line, character) >= (start.line, start.character)
    before_end = (line, character) <= (end.line, end.character)
    return after_start and before_end


def _span(span: Range) -> tuple[int, int]:
    return (span.end.line - span.start.line, span.end.character - span.start.character)
