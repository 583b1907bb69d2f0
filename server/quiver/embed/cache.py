"""A persistent cache of embeddings keyed by (model id, text hash), surviving restarts.

One append-only file per model and dimension in the cache directory::

    header (256 bytes): magic "QVECACHE", format version, dim, model id
    record:             16-byte text hash | dim float32 | crc32 of the two

Records have a fixed size and are only ever appended, under an exclusive
``flock`` so several processes may share one cache directory. A crash can only
tear the last record; on open the file is cut back to its last whole record,
and every record read is checked against its crc32, so a torn or damaged record
is a cache miss, never garbage. A file whose header is unreadable is moved aside
(``*.corrupt``) and a fresh one started: the cache only ever costs re-embedding.

Vectors are read through a memory map, so a large cache does not sit on the heap;
the in-memory part is a dict from text hash to record number (~100 bytes per entry).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from quiver.embed.embedder import Embedder
from quiver.numeric import FloatMatrix
from quiver.private_dirs import make_private_directory, open_private_file

log = logging.getLogger(__name__)

_MAGIC = b"QVECACHE"
_FORMAT_VERSION = 1
_HEADER_SIZE = 256
_HEADER_FIXED = struct.Struct("<8sIII")  # magic, version, dim, model id length
_KEY_SIZE = 16
_MAX_MODEL_ID_BYTES = _HEADER_SIZE - _HEADER_FIXED.size


def _record_dtype(dim: int) -> np.dtype[np.void]:
    return np.dtype([("key", "V16"), ("vector", "<f4", (dim,)), ("crc", "<u4")])


def _crc_covered_bytes(dim: int) -> int:
    """Bytes of a record its crc32 covers: the key and the vector."""
    return _KEY_SIZE + 4 * dim


def cache_identity(embedder: Embedder) -> str:
    """What a cache of ``embedder``'s vectors is keyed by: its model id and the sha256 of
    its weights, so that rebuilt weights under the same name never get old vectors."""
    return f"{embedder.model_id}@{embedder.weights_sha256}"


def _cache_file_name(model_id: str, dim: int) -> str:
    safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in model_id)[:80]
    digest = hashlib.blake2b(f"{model_id}\x00{dim}".encode(), digest_size=6).hexdigest()
    return f"{safe}-{dim}d-{digest}.qvec"


def _header_bytes(model_id: str, dim: int) -> bytes:
    encoded = model_id.encode("utf-8")
    if len(encoded) > _MAX_MODEL_ID_BYTES:
        raise ValueError(f"model id longer than {_MAX_MODEL_ID_BYTES} bytes: {model_id!r}")
    header = _HEADER_FIXED.pack(_MAGIC, _FORMAT_VERSION, dim, len(encoded)) + encoded
    return header.ljust(_HEADER_SIZE, b"\x00")


def _key_bytes(text_hash: str) -> bytes:
    try:
        key = bytes.fromhex(text_hash)
    except ValueError:
        key = b""
    if len(key) != _KEY_SIZE:
        raise ValueError(f"text hash must be {_KEY_SIZE * 2} hex digits, got {text_hash!r}")
    return key


class EmbeddingCache:
    """Vectors of one model, keyed by text hash (``quiver.embed.text.text_hash``).

    Opening reads every record's key once (a sequential read of the file) and
    repairs a torn tail. Thread-safe: an internal lock guards the index and the
    file; appends also take an exclusive ``flock`` against other processes.
    Records another process appends after this one opened are not seen until
    reopen (they are only misses, costing a re-embed).
    """

    @classmethod
    def for_model(cls, directory: Path, embedder: Embedder) -> EmbeddingCache:
        """The cache of ``embedder``'s vectors in ``directory`` (see ``cache_identity``)."""
        return cls(directory, model_id=cache_identity(embedder), dim=embedder.dim)

    def __init__(self, directory: Path, *, model_id: str, dim: int) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self._model_id = model_id
        self._dim = dim
        self._dtype = _record_dtype(dim)
        self._lock = threading.Lock()
        make_private_directory(directory)  # embedding texts hold code: 0700, files 0600
        self._path = directory / _cache_file_name(model_id, dim)
        self._file = self._open_file()
        self._index: dict[bytes, int] = {}
        self._records: np.memmap[tuple[int], np.dtype[np.void]] | None = None
        self._record_count = 0
        with self._exclusive():
            self._record_count = self._repair_tail()
        self._load_index()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def path(self) -> Path:
        """The cache file of this model."""
        return self._path

    def __len__(self) -> int:
        return len(self._index)

    # -- opening -----------------------------------------------------------------------

    def _open_file(self) -> int:
        header = _header_bytes(self._model_id, self._dim)
        if not self._path.exists():
            # a file appears with its whole header or not at all
            temporary = self._path.with_name(f"{self._path.name}.{os.getpid()}.tmp")
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
            with os.fdopen(open_private_file(temporary, flags), "wb") as file:
                file.write(header)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, self._path)  # never replaces a concurrent creator's file
            temporary.unlink()
        descriptor = os.open(self._path, os.O_RDWR)
        existing = os.pread(descriptor, _HEADER_SIZE, 0)
        if existing == header:
            return descriptor
        os.close(descriptor)
        aside = self._path.with_name(f"{self._path.name}.corrupt-{time.time_ns()}")
        self._path.replace(aside)
        return self._open_file()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        fcntl.flock(self._file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def _repair_tail(self) -> int:
        """Cut a torn last record off (caller holds the flock); returns the record count."""
        size = os.fstat(self._file).st_size
        whole, torn = divmod(size - _HEADER_SIZE, self._dtype.itemsize)
        if torn:
            os.ftruncate(self._file, _HEADER_SIZE + whole * self._dtype.itemsize)
        return whole

    def _mapped_records(self) -> np.memmap[tuple[int], np.dtype[np.void]] | None:
        if self._record_count == 0:
            return None
        if self._records is None or len(self._records) != self._record_count:
            self._records = np.memmap(
                self._path,
                dtype=self._dtype,
                mode="r",
                offset=_HEADER_SIZE,
                shape=(self._record_count,),
            )
        return self._records

    def _load_index(self) -> None:
        records = self._mapped_records()
        if records is None:
            return
        keys = np.ascontiguousarray(records["key"]).tobytes()
        for number in range(self._record_count):
            # a later record of the same text (written by another process) wins
            self._index[keys[number * _KEY_SIZE : (number + 1) * _KEY_SIZE]] = number

    # -- reading and writing ------------------------------------------------------------

    def get_many(self, text_hashes: Sequence[str]) -> tuple[FloatMatrix, npt.NDArray[np.bool_]]:
        """Vectors for ``text_hashes``: a float32 ``(n, dim)`` matrix (zeros where
        missing) and a mask of the rows found.

        Each hit is checked against its crc32 (a damaged record is a miss). Cost:
        one dict look-up and a copy of ``dim`` floats per hit.
        """
        keys = [_key_bytes(text_hash) for text_hash in text_hashes]
        vectors = np.zeros((len(keys), self._dim), dtype=np.float32)
        found = np.zeros(len(keys), dtype=np.bool_)
        with self._lock:
            records = self._mapped_records()
            if records is None:
                return vectors, found
            covered = _crc_covered_bytes(self._dim)
            for row, key in enumerate(keys):
                number = self._index.get(key)
                if number is None:
                    continue
                record = records[number]
                if zlib.crc32(record.tobytes()[:covered]) != int(record["crc"]):
                    continue
                vectors[row] = record["vector"]
                found[row] = True
        return vectors, found

    def put_many(self, text_hashes: Sequence[str], vectors: FloatMatrix) -> None:
        """Append ``vectors`` (float32 ``(n, dim)``) under ``text_hashes``.

        Hashes already cached are skipped. One ``write`` per call under an
        exclusive file lock; not fsynced (a crash loses at most the last records,
        which are then re-embedded).
        """
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.shape != (len(text_hashes), self._dim):
            raise ValueError(
                f"expected vectors of shape ({len(text_hashes)}, {self._dim}), got {matrix.shape}"
            )
        with self._lock:
            new_keys: list[bytes] = []
            new_rows: list[int] = []
            seen: set[bytes] = set()
            for row, text_hash in enumerate(text_hashes):
                key = _key_bytes(text_hash)
                if key in self._index or key in seen:
                    continue
                seen.add(key)
                new_keys.append(key)
                new_rows.append(row)
            if not new_keys:
                return
            batch = np.zeros(len(new_keys), dtype=self._dtype)
            batch["key"] = np.frombuffer(b"".join(new_keys), dtype="V16")
            batch["vector"] = matrix[new_rows]
            covered = _crc_covered_bytes(self._dim)
            size = self._dtype.itemsize
            raw = batch.tobytes()
            batch["crc"] = [
                zlib.crc32(raw[start : start + covered]) for start in range(0, len(raw), size)
            ]
            with self._exclusive():
                # another process may have appended (or left a torn record) since we opened
                first = self._repair_tail()
                os.lseek(self._file, 0, os.SEEK_END)
                data = batch.tobytes()
                try:
                    written = os.write(self._file, data)
                    while written < len(data):
                        written += os.write(self._file, data[written:])
                except OSError as error:
                    # A full disk: the cache only saves re-embedding, so indexing goes on
                    # without these records (the index's own writes report the problem).
                    with contextlib.suppress(OSError):
                        os.ftruncate(self._file, _HEADER_SIZE + first * size)
                    log.warning("Embedding cache %s not extended: %s", self._path, error)
                    return
                self._record_count = first + len(new_keys)
            for offset, key in enumerate(new_keys):
                self._index[key] = first + offset

    def close(self) -> None:
        """Release the file and the memory map. The cache is unusable afterwards."""
        with self._lock:
            self._records = None
            if self._file >= 0:
                os.close(self._file)
                self._file = -1

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
