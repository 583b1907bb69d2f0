"""The vocabulary every front end shares: search modes, limits, queries, results, status.

The engine answers in these records; the language server, the CLI and a notebook
read them. Plain frozen dataclasses and literals only: importing this module costs
nothing (no numpy, no engine), so a front end can name a mode or build a query
before the engine stack has loaded. Each value is written here once; the LSP
layer and the editor clients take their limits from here (the clients through
the server's advertised capabilities).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from quiver.ids import SymbolId
from quiver.symbols import Range, SymbolKind

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "SEARCH_MODES",
    "EngineState",
    "EngineStatus",
    "IndexProgress",
    "IndexReport",
    "Role",
    "SearchMode",
    "SearchQuery",
    "SearchResponse",
    "SearchResult",
    "UpdateReport",
]

#: ``hybrid`` fuses the two retrievers; ``semantic`` is the vector index alone; ``text`` is BM25.
SearchMode = Literal["hybrid", "semantic", "text"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "semantic", "text")
#: ``writer``: this engine updates the cache; ``reader``: it follows another process's updates.
Role = Literal["writer", "reader"]
#: Where an engine stands: ``starting`` before its cache is open, ``indexing`` while a full
#: pass runs, ``ready`` once it answers from a complete index, ``error`` when it cannot.
EngineState = Literal["starting", "indexing", "ready", "error"]

#: Longer queries (a pasted file) are cut to this many characters: their head carries the intent.
MAX_QUERY_CHARS = 2_000
#: The most results one search returns (the protocol's cap, shared by every front end).
MAX_LIMIT = 200
#: Results per search when the caller names no limit.
DEFAULT_LIMIT = 20


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search: the text, the retrievers to use, and the filters a result must pass."""

    text: str
    mode: SearchMode = "hybrid"
    limit: int = DEFAULT_LIMIT
    kinds: tuple[SymbolKind, ...] = ()
    languages: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One answer; the attributes ``quiver.lsp.convert`` turns into protocol JSON.

    ``score`` (higher is better): the cosine similarity in semantic mode and for
    ``similar``, the BM25 score in text mode, the weighted score fusion of the two
    in hybrid mode. The single-retriever scores are comparable across indexes
    built with the same model, so a caller can merge several workspaces'
    answers; fused scores are comparable within one answer only.
    """

    symbol_id: SymbolId
    name: str
    kind: SymbolKind
    container: str
    path: str  # absolute
    relative_path: str
    range: Range
    selection_range: Range
    language: str
    signature: str
    snippet: str
    score: float
    retrievers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SearchResponse:
    """The ranked results; ``partial`` when a retriever the mode needs was not ready yet."""

    results: tuple[SearchResult, ...]
    partial: bool
    generation: int
    elapsed_ms: float


@dataclass(frozen=True, slots=True)
class IndexProgress:
    """How far a full indexing pass has come: reported after each batch of files, and while
    a batch is embedded after every chunk of symbols the model finishes.

    ``symbols_embedded``: symbols of this pass that have their vector (cache hits
    included). ``symbols_to_embed``: the new symbols this pass must embed; while
    ``files_done < files_total`` an estimate, the count found in the files parsed so
    far scaled to the changed files not parsed yet.
    """

    files_done: int
    files_total: int
    symbols: int
    message: str
    symbols_embedded: int = 0
    symbols_to_embed: int = 0


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What one full indexing pass did; ``unreadable`` lists the paths (a directory ends
    in ``/``) left out because the user may not read them, which ``files_skipped`` counts."""

    files_seen: int
    files_indexed: int
    files_unchanged: int
    files_removed: int
    files_skipped: int
    symbols_embedded: int
    symbols_total: int
    seconds: float
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateReport:
    """What updating (or removing) one file did; ``skipped_reason`` says why it was not indexed."""

    path: str
    symbols_added: int
    symbols_removed: int
    symbols_embedded: int
    skipped_reason: str | None = None


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """A snapshot of one workspace index: counts, model, cache, role and state."""

    state: EngineState
    root: Path
    cache_dir: Path
    files: int
    symbols: int
    vectors: int
    generation: int
    model_id: str
    dim: int
    disk_bytes: int
    last_update: datetime | None
    message: str
    role: Role = "writer"
    writer_pid: int | None = None
