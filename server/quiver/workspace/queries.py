"""Answers across the workspace: each folder's engine asked, the answers merged by score.

Queries run on the caller's thread and read the engines concurrently with the
writer thread: the engines answer from their last applied state while an
update runs. A folder whose engine fails is left out (logged) so that the
others still answer; an unusable query is the caller's error.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import TypeVar

from quiver.api import SearchMode, SearchQuery, SearchResponse, SearchResult
from quiver.engine import VectorSearchEngine, reads_like_sentence
from quiver.engine.catalog import SymbolRecord
from quiver.errors import InvalidQueryError
from quiver.parse import extract_symbols, language_for_path
from quiver.symbols import Symbol, SymbolKind
from quiver.workspace.folders import FolderSet
from quiver.workspace.model_loading import ModelLoader

__all__ = ["WorkspaceQueries"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class WorkspaceQueries:
    """The session's queries over its folders. ``first_answer`` is set after each answer
    (background warm-ups wait for the first); the model is loaded in the background
    when a query would want it and it is not ready."""

    def __init__(
        self, folders: FolderSet, *, models: ModelLoader, first_answer: threading.Event
    ) -> None:
        self._folders = folders
        self._models = models
        self._first_answer = first_answer

    def workspace_symbols(
        self, query: str, *, limit: int, names: bool = True, meaning: bool | None = None
    ) -> list[SearchResult]:
        """Fuzzy name matches (and semantic ones for a sentence), merged across folders.

        ``names``/``meaning`` as for ``VectorSearchEngine.workspace_symbols``.
        Semantic matches come first, then name matches (fuzzy scores are
        comparable across folders). Names only: a fraction of a millisecond per
        folder, never the model.
        """
        engines = self._folders.engines()
        fuzzy: list[SearchResult] = []
        if names:
            for engine in engines:
                found = self._guarded(
                    engine,
                    lambda e: e.workspace_symbols(query, limit=limit, names=True, meaning=False),
                )
                fuzzy.extend(found or ())
        semantic: list[SearchResult] = []
        if engines and (meaning if meaning is not None else reads_like_sentence(query)):
            if not self._models.ready():
                # Words until the model is loaded (it loads in the background meanwhile).
                self._models.load_in_background()
                with contextlib.suppress(InvalidQueryError):
                    words = SearchQuery(text=query, mode="text", limit=limit)
                    semantic = list(self._search_engines(engines, words).results)
            elif len(engines) == 1:
                semantic = engines[0].workspace_symbols(
                    query, limit=limit, names=False, meaning=True
                )
            else:
                with contextlib.suppress(InvalidQueryError):
                    hybrid = SearchQuery(text=query, mode="hybrid", limit=limit)
                    semantic = list(self._search_engines(engines, hybrid).results)
        self._first_answer.set()
        return _unique([*semantic, *_by_score(fuzzy)])[:limit]

    def search(
        self,
        text: str,
        *,
        mode: SearchMode,
        limit: int,
        kinds: Sequence[SymbolKind] = (),
        languages: Sequence[str] = (),
        paths: Sequence[str] = (),
    ) -> SearchResponse:
        """``WorkspaceSession.search``: each folder's engine answers, merged by score; the
        text retriever alone (``partial``) for a hybrid search while the model loads."""
        started = time.perf_counter()
        query = SearchQuery(
            text=text,
            mode=mode,
            limit=limit,
            kinds=tuple(kinds),
            languages=tuple(languages),
            paths=tuple(paths),
        )
        engines = self._folders.engines(required=True)
        if mode == "hybrid" and not self._models.ready():
            self._models.load_in_background()
            words = self._search_engines(engines, dataclass_replace(query, mode="text"), started)
            self._first_answer.set()
            return dataclass_replace(words, partial=True)
        response = self._search_engines(engines, query, started)
        self._first_answer.set()
        return response

    def similar(self, path: Path, line: int, character: int, *, limit: int) -> SearchResponse:
        """``quiver/similar``: code like the symbol enclosing the position, from the folder
        holding ``path`` (its engine's answer). Raises ``InvalidQueryError`` when the file
        is in no folder or no symbol encloses the position."""
        engine = self._folders.engine_for(path)
        if engine is None:
            raise InvalidQueryError(
                f"{path} is not inside any workspace folder.",
                "Open the folder that holds this file as a workspace folder.",
            )
        return engine.similar(path, line, character, limit=limit)

    def document_symbols(
        self, path: Path, text: str | None = None
    ) -> Sequence[Symbol] | Sequence[SymbolRecord]:
        """The symbols of one file in source order: parsed from ``text`` (an open buffer,
        always current; ~1 ms per 100 lines) or else from the index."""
        language = language_for_path(path)
        if language is None:
            return []
        if text is not None:
            engine = self._folders.engine_for(path)
            relative = engine.relative_path(path) if engine is not None else path.name
            return extract_symbols(text.encode("utf-8", "surrogatepass"), relative, language)
        engine = self._folders.engine_for(path)
        return engine.document_symbols(path) if engine is not None else []

    def _guarded(
        self, engine: VectorSearchEngine, call: Callable[[VectorSearchEngine], _T]
    ) -> _T | None:
        """One engine's answer; None (logged) if that engine failed, so the others still
        answer. An unusable query is the caller's error and propagates."""
        try:
            return call(engine)
        except InvalidQueryError:
            raise
        except Exception as error:
            log.warning("The index of %s could not answer: %s", engine.root, error)
            if len(self._folders) <= 1:
                raise
            return None

    def _search_engines(
        self,
        engines: Sequence[VectorSearchEngine],
        query: SearchQuery,
        started: float | None = None,
    ) -> SearchResponse:
        """One folder answers alone; several merge their answers by score.

        Scores are comparable across folders in every mode: cosine in semantic
        mode, BM25 in text mode, and in hybrid mode cosine plus a weighted BM25
        normalised by each folder's best match (see ``quiver.engine.fusion.score_fusion``).
        """
        started = time.perf_counter() if started is None else started
        if len(engines) == 1:
            return engines[0].search(query)
        responses = self._responses(engines, query)
        merged = _unique(_by_score(_results(responses)))[: query.limit]
        return SearchResponse(
            results=tuple(merged),
            partial=any(r.partial for r in responses),
            # Several folders: the generation is the sum, which grows whenever any changes.
            generation=sum(r.generation for r in responses),
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _responses(
        self, engines: Sequence[VectorSearchEngine], query: SearchQuery
    ) -> list[SearchResponse]:
        return [
            response
            for engine in engines
            if (response := self._guarded(engine, lambda e: e.search(query))) is not None
        ]


def _by_score(results: Iterable[SearchResult]) -> list[SearchResult]:
    return sorted(results, key=lambda r: -r.score)


def _results(responses: Iterable[SearchResponse]) -> list[SearchResult]:
    return [result for response in responses for result in response.results]


def _key(result: SearchResult) -> tuple[str, int, int, str]:
    """One symbol, whichever folder's index found it (nested folders index the same files)."""
    start = result.selection_range.start
    return (result.path, start.line, start.character, result.name)


def _unique(results: Iterable[SearchResult]) -> list[SearchResult]:
    """Drop repeats of one symbol, keeping the first."""
    seen: set[tuple[str, int, int, str]] = set()
    unique = []
    for result in results:
        key = _key(result)
        if key not in seen:
            seen.add(key)
            unique.append(result)
    return unique
