"""Helpers for driving a ``WorkspaceSession`` without a client: a listener that remembers
what the session reported, bounded waits, and sessions on the hashing embedder."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

from hashing_embedder import HashingEmbedder
from quiver.lsp.options import ServerOptions
from quiver.numeric import FloatMatrix
from quiver.workspace.session import WorkspaceSession

DATA = Path(__file__).resolve().parents[1] / "data"
WAIT_S = 60.0


class RecordingListener:
    """Remembers what the session reported."""

    def __init__(self) -> None:
        self.begun: list[str] = []
        self.ended: list[str] = []
        self.messages: list[tuple[str, str]] = []

    def progress_begin(self, title: str, message: str) -> None:
        self.begun.append(title)

    def progress_report(self, message: str, percentage: int) -> None:
        pass

    def progress_end(self, message: str) -> None:
        self.ended.append(message)

    def status_changed(self, *, state_changed: bool) -> None:
        pass

    def show_message(self, severity: Literal["error", "warning", "info"], message: str) -> None:
        self.messages.append((severity, message))

    def said(self, *words: str) -> list[tuple[str, str]]:
        """The messages that contain every one of ``words``."""
        return [(s, m) for s, m in self.messages if all(w in m for w in words)]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def copy_polyglot(directory: Path, name: str = "workspace") -> Path:
    root = directory / name
    shutil.copytree(DATA / "polyglot", root)
    return root.resolve()


def names(session: WorkspaceSession, query: str) -> list[str]:
    return [r.name for r in session.workspace_symbols(query, limit=50, meaning=False)]


def start_session(
    folders: Sequence[Path],
    cache: Path,
    listener: RecordingListener,
    *,
    embedder: HashingEmbedder | None = None,
    watch: bool = True,
    max_file_size: int = 1_048_576,
) -> WorkspaceSession:
    """A started session on the hashing embedder (its indexing runs in the background)."""
    model = embedder if embedder is not None else HashingEmbedder(dim=32)
    session = WorkspaceSession(
        list(folders),
        ServerOptions(cache_dir=cache, watch=watch, max_file_size=max_file_size),
        listener,
        embedder_factory=lambda: model,
    )
    session.start()
    return session


class GatedEmbedder(HashingEmbedder):
    """The hashing embedder, but every ``embed_documents`` call waits while the gate is
    closed (a model busy with a long batch), and each text costs ``per_text_s``."""

    def __init__(self, dim: int = 32, per_text_s: float = 0.0) -> None:
        super().__init__(dim=dim)
        self.gate = threading.Event()
        self.gate.set()
        self.per_text_s = per_text_s
        self.embedded: list[int] = []  # texts per call
        #: Whether a call is waiting at the closed gate now.
        self.waiting = False

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        if not self.gate.is_set():
            self.waiting = True
            self.gate.wait(WAIT_S)
            self.waiting = False
        if self.per_text_s:
            time.sleep(self.per_text_s * len(texts))
        self.embedded.append(len(texts))
        return super().embed_documents(texts)


def definitions(count: int, prefix: str = "generated_function") -> str:
    """Python source with ``count`` small functions, each with a name of its own."""
    return "".join(f"def {prefix}_{n}(value):\n    return value + {n}\n\n" for n in range(count))


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
