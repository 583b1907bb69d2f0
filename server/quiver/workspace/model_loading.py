"""The embedding model and the compiled kernels, made ready in the background.

One model serves every folder's engine; it is loaded once, on a thread of its
own, when something will need it (a warm index, a first sentence query), so
no request waits for its second of CPU unless it needs meaning at once. The
numba kernels are loaded (or, on a fresh install, compiled) the same way,
once the first query has been answered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from quiver.embed.embedder import Embedder
from quiver.engine import VectorSearchEngine, model_key
from quiver.workspace.large_files import StagingEmbedder

__all__ = ["WARM_CHECK_DELAY_S", "ModelLoader"]

log = logging.getLogger(__name__)

#: A warm start re-checks the files on disk once the first query has been answered, or
#: after this long: the check competes with that first answer for the CPU.
WARM_CHECK_DELAY_S = 1.0


class ModelLoader:
    """The session's embedding model: loaded on first use or in the background, shared.

    ``first_answer`` is set once a first query has been answered: background
    warm-ups wait for it (or ``WARM_CHECK_DELAY_S``) so as not to compete with it.
    """

    def __init__(
        self,
        embedder_factory: Callable[[], Embedder] | None,
        first_answer: threading.Event,
    ) -> None:
        self._factory = embedder_factory or _load_default_embedder
        self._first_answer = first_answer
        self._embedder: StagingEmbedder | None = None
        self._embedder_lock = threading.Lock()  # one load at a time
        self._lock = threading.Lock()  # the background thread, the failure, closing
        self._thread: threading.Thread | None = None
        self._failed = False
        self._closed = False

    def embedder(self) -> StagingEmbedder:
        """The model, loaded on first use (on the caller's thread) and shared by every
        folder's engine: this is the engines' ``embedder_factory``. It answers texts
        embedded ahead of a large update from those (``quiver.workspace.large_files``)."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = StagingEmbedder(self._factory())
            return self._embedder

    def ready(self) -> bool:
        """Loaded, or failed to load: then queries take the normal path, which loads it
        on their own thread and reports why it cannot (a missing package, say)."""
        return self._embedder is not None or self._failed

    def load_in_background(self) -> None:
        """Start loading the model (once) on a thread of its own; returns at once."""
        with self._lock:
            if self._embedder is not None or self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=self._load_quietly, name="quiver-model", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Start no more loads (one under way finishes on its daemon thread)."""
        with self._lock:
            self._closed = True

    def built_by_default_model(self, engine: VectorSearchEngine) -> bool:
        """Whether the index on disk comes from the default model this loader loads, checked
        against its pinned id without loading it: then a re-check that finds nothing to
        embed never loads the model (it loads on first semantic use)."""
        if self._factory is not _load_default_embedder:
            return False
        from quiver.embed.model import DEFAULT_MODEL_ID, DEFAULT_WEIGHTS_SHA256

        return engine.indexed_model_key == model_key(DEFAULT_MODEL_ID, DEFAULT_WEIGHTS_SHA256)

    def warm_up_kernels_in_background(self) -> None:
        """Load (or, on a fresh install, compile) the numba kernels before the first
        Ctrl+T needs them, on a thread of its own: compiling takes seconds, which a
        request must not pay. Returns at once."""
        threading.Thread(
            target=_warm_up_kernels,
            args=(self._first_answer,),
            name="quiver-warm-up",
            daemon=True,
        ).start()

    def _load_quietly(self) -> None:
        started = time.perf_counter()
        try:
            self.embedder()
            log.info("Embedding model ready in %.2f s", time.perf_counter() - started)
        except Exception as error:  # the next semantic query reports it to the user
            log.error("Could not load the embedding model: %s", error)
            with self._lock:
                self._thread = None
                self._failed = True


def _load_default_embedder() -> Embedder:
    from quiver.embed.model import load_default_embedder

    return load_default_embedder()


def _warm_up_kernels(answered: threading.Event) -> None:
    """Load the compiled fuzzy-matching and IVF kernels once per process, off the event
    loop, once the first query was answered (or after a second): importing numba and
    loading its cache takes ~0.35 s of the GIL, which that answer must not wait for.
    Until then the name matcher scores in numpy (fast enough for the first queries) and
    semantic search waits for the model anyway."""
    from quiver.fuzzy import warm_up
    from quiver.ivf.scanning import warm_up_kernels

    try:
        answered.wait(WARM_CHECK_DELAY_S)
        started = time.perf_counter()
        warm_up()
        warm_up_kernels()
        log.info("Search kernels ready in %.2f s", time.perf_counter() - started)
    except Exception:  # a failed warm-up only costs the first query the same time
        log.exception("Warming up the search kernels failed")
