"""The IVFFlat vector index: inverted lists in memory-mapped files, exact inner products.

Lifecycle
    ``create`` publishes an empty, untrained index; ``train`` learns ``nlist`` centroids;
    ``add_with_ids`` assigns each vector to its nearest centroid and keeps it in the
    in-memory delta (searched exhaustively) until ``compact`` folds the delta into the
    lists; ``remove_ids`` marks tombstones; ``commit`` publishes. Vectors added before
    training sit in the delta too (cluster -1) and are searched exhaustively.

On disk (one directory per index, see ``quiver.store``)
    ``centroids-*.qva``, the lists (``vectors``, ``ids``, ``offsets``, ``sorted_ids``,
    ``sorted_positions``, all ``*.qva``), and ``changes-*.qlog``, the append-only
    change log of adds and removals since the lists were written. ``manifest.json``
    names them with sizes and CRC-32s and is replaced atomically by ``commit``.
    Data files are never modified once published; the change log only grows, and
    readers read it up to the length the manifest committed.

Cluster ids change only when the centroids change: ``train`` and ``retrain``.
After either, ``cluster_of(index.ids())`` gives every vector's new list, and
``clustering_epoch`` has increased (it is persisted, so a text index that stored
cluster ids can tell they are stale). ``compact`` never changes a cluster id.

Threads: searches may run concurrently with each other and with one writer thread;
each search works on an immutable snapshot (a writer replaces state, never mutates
what a snapshot references). Mutations must come from one thread at a time.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from quiver.errors import DimensionMismatchError, IndexCorruptError, InvalidQueryError
from quiver.ids import VectorId
from quiver.ivf.errors import IndexReadOnlyError, InvalidVectorError, TrainingError
from quiver.ivf.kmeans import assign_to_centroids, default_nlist, default_sample_size, train_kmeans
from quiver.ivf.state import SCAN_MODES, IndexSettings, IndexState, load_state, replay
from quiver.ivf.storage import (
    LOG_SUFFIX,
    MAX_RECORD_ROWS,
    ROLE_CENTROIDS,
    ROLE_CHANGES,
    Int32Array,
    Int64Array,
    InvertedLists,
    RowSource,
    encode_add,
    encode_remove,
    read_only,
    write_lists,
)
from quiver.numeric import FloatMatrix, FloatVector, distinct
from quiver.store import (
    ChangeLogWriter,
    Manifest,
    WriterLock,
    check_identity,
    collect_garbage,
    data_file_name,
    files_to_keep,
    manifest_stamp,
    read_manifest,
    verify_file,
    write_manifest,
)
from quiver.store.manifest import ManifestMissingError, ManifestStamp

INDEX_KIND = "quiver-ivf-flat"
#: Bump when the meaning of any file changes; an index of another version is rebuilt.
FORMAT_VERSION = 1
METRIC = "ip"
#: int8 scanning re-scores max(RERANK_PER_RESULT · k, MIN_RERANK) candidates in float32.
RERANK_PER_RESULT = 4
MIN_RERANK = 40

#: The delta is folded into the lists once it holds this many rows at least ...
MIN_DELTA_ROWS_FOR_COMPACTION = 2048
#: ... and more than this many times the rows one query scans in the lists.
DELTA_TO_SCAN_RATIO = 2.0
#: Tombstones in the lists that trigger a compaction: this fraction of the rows (and 1,024).
DEAD_FRACTION_FOR_COMPACTION = 0.125
#: ``needs_retrain`` fires when list imbalance doubles compared with right after training ...
IMBALANCE_GROWTH_FOR_RETRAIN = 2.0
#: ... or when the ideal ``nlist`` for the current size is this many times smaller or larger.
NLIST_DRIFT_FOR_RETRAIN = 2.0

_SERIAL = re.compile(r"-(\d{12})\.")


#: nprobe ≈ NPROBE_PER_ROOT_NLIST · √nlist, at least MIN_DEFAULT_NPROBE. Measured
#: (benchmarks/README.md, "IVF index"), recall@10: synthetic 100k vectors (1,265 lists)
#: 0.958 at 18 probes (0.5·√nlist), 0.969 at 20; synthetic 1M (4,000 lists) 0.999 from
#: 16 probes on; real embeddings of 7,000 stdlib symbols (218 lists) 0.925 at 9, 0.955
#: at 16 (faiss IndexIVFFlat: 0.923 and 0.951).
NPROBE_PER_ROOT_NLIST = 0.55
MIN_DEFAULT_NPROBE = 16


def default_nprobe(nlist: int) -> int:
    """Lists probed per query by default: ⌈0.55·√nlist⌉, at least 16 (all lists if fewer).

    Chosen for recall@10 ≥ 0.95 on the benchmark's data sets: 16 of 218 lists (real
    embeddings, 7k), 20 of 1,265 (synthetic, 100k), 35 of 4,000 (synthetic, 1M).
    """
    if nlist <= 0:
        return 1
    scaled = math.ceil(NPROBE_PER_ROOT_NLIST * math.sqrt(nlist))
    return int(min(nlist, max(MIN_DEFAULT_NPROBE, scaled)))


def imbalance_factor(sizes: npt.NDArray[np.integer[Any]]) -> float:
    """faiss's imbalance factor ``nlist · Σ size² / N²``: 1.0 for equal lists, more if skewed."""
    total = float(sizes.sum())
    if total == 0 or sizes.size == 0:
        return 1.0
    return float(sizes.size * np.square(sizes.astype(np.float64)).sum() / (total * total))


def _existing_serial(directory: Path) -> int:
    """The largest file serial present in ``directory`` (0 if none)."""
    serials = [
        int(match.group(1)) for path in directory.iterdir() if (match := _SERIAL.search(path.name))
    ]
    return max(serials, default=0)


class IVFIndex:
    """An inverted-file index of unit vectors under inner product, stored in one directory.

    Open it with ``create`` (new or rebuilt index, writable) or ``open`` (the latest
    published generation; read-only unless ``writable=True``). A writable index holds
    the directory's writer lock until ``close``. Every public method documents its cost.
    """

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        *,
        lock: WriterLock | None,
        stamp: ManifestStamp | None,
    ) -> None:
        self.directory = directory
        self.dim = manifest.dim
        self.model_id = manifest.model_id
        self._lock = lock
        self._manifest = manifest
        self._stamp = stamp
        self._settings = IndexSettings.from_manifest(manifest, directory)
        self._state, self._log_entry, self._log_crc = load_state(directory, manifest)
        self._nprobe_override: int | None = None
        self._log: ChangeLogWriter | None = None
        self._pending: list[tuple[int, int] | bytes] = []
        self._lists_changed = False
        self._dirty = False
        self._closed = False
        if lock is not None:
            self._log = ChangeLogWriter.reopen(directory / self._log_entry.name, self._log_entry)

    # Opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        dim: int,
        model_id: str,
        nlist: int | None = None,
        nprobe: int | None = None,
        seed: int = 0,
        scan: str = "int8",
    ) -> IVFIndex:
        """Publish a new, empty, untrained index in ``directory`` and return it writable.

        If the directory already holds an index (of any version), the new empty index
        replaces it as the next generation: readers of the old one follow on their next
        ``refresh``, and the old files are garbage-collected. ``nlist``/``nprobe`` fix
        those settings (default: chosen from the number of vectors at training time).
        ``scan="int8"`` (default) keeps an int8 copy of the lists for scanning and
        re-ranks in float32; ``scan="float32"`` scores every probed row exactly.
        Raises ``WriterLockedError`` if another process is writing this directory.
        Cost: a few small file writes and fsyncs.
        """
        if dim < 1:
            raise InvalidVectorError(
                f"An index needs a positive dimension, got {dim}.", "Pass the model's dim."
            )
        if nlist is not None and nlist < 1:
            raise InvalidVectorError(
                f"nlist must be at least 1, got {nlist}.", "Leave nlist unset to choose it."
            )
        if scan not in SCAN_MODES:
            raise InvalidVectorError(
                f"Unknown scan mode {scan!r}.", f"Use one of {', '.join(SCAN_MODES)}."
            )
        if nprobe is not None and nprobe < 1:
            raise InvalidVectorError(
                f"nprobe must be at least 1, got {nprobe}.", "Leave nprobe unset."
            )
        directory.mkdir(parents=True, exist_ok=True)
        lock = WriterLock(directory)
        lock.acquire()
        try:
            try:
                generation = read_manifest(directory).generation
            except (ManifestMissingError, IndexCorruptError, DimensionMismatchError):
                generation = 0
            except Exception:  # another format or kind: replaced all the same
                generation = 0
            serial = _existing_serial(directory) + 1
            log = ChangeLogWriter.create(
                directory / data_file_name(ROLE_CHANGES, serial, LOG_SUFFIX)
            )
            entry = log.sync()
            log.close()
            settings = IndexSettings(
                nlist=nlist,
                nprobe=nprobe,
                seed=seed,
                clustering_epoch=0,
                trained_on=0,
                trained_imbalance=1.0,
                next_serial=serial + 1,
                scan=scan,
            )
            manifest = Manifest(
                kind=INDEX_KIND,
                format_version=FORMAT_VERSION,
                generation=generation + 1,
                dim=dim,
                metric=METRIC,
                model_id=model_id,
                counts={"ntotal": 0, "list_rows": 0, "delta_rows": 0},
                files={ROLE_CHANGES: entry},
                params=settings.to_params(),
            )
            write_manifest(directory, manifest)
            collect_garbage(directory, files_to_keep(manifest))
            return cls(directory, manifest, lock=lock, stamp=manifest_stamp(directory))
        except BaseException:
            lock.release()
            raise

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        dim: int | None = None,
        model_id: str | None = None,
        writable: bool = False,
    ) -> IVFIndex:
        """Open the latest published generation of the index in ``directory``.

        Checks the manifest (format version, kind, checksum), the dimension and model id
        when given, every file's size and header, and the full CRC of small files (the
        centroids, offsets, ids up to 8 MiB; see ``verify`` for the rest); replays the
        change log. Raises ``ManifestMissingError`` (no index), ``IndexFormatError``,
        ``DimensionMismatchError``, ``ModelMismatchError``, ``IndexCorruptError``, and
        with ``writable=True`` ``WriterLockedError``. A writer also deletes files the
        published generation does not use (what it retained for readers of the one
        before included) and cuts off change-log bytes a crashed writer never published.
        Cost: memory maps, no bulk read: ~milliseconds even for 1M vectors.
        """
        lock: WriterLock | None = None
        if writable:
            lock = WriterLock(directory)
            lock.acquire()
        try:
            for attempt in range(3):
                stamp = manifest_stamp(directory)
                manifest = read_manifest(directory, kind=INDEX_KIND, format_version=FORMAT_VERSION)
                check_identity(manifest, dim=dim, model_id=model_id)
                if lock is not None:
                    # A new writer also drops what the last generation retained for
                    # readers then switching to it: they have switched, or map the old
                    # files already (a deleted file stays readable through its mapping).
                    collect_garbage(directory, manifest.file_names())
                try:
                    return cls(directory, manifest, lock=lock, stamp=stamp)
                except FileNotFoundError as error:
                    # A writer published a newer generation and removed this one's files
                    # between our reading the manifest and mapping them: read it again.
                    if manifest_stamp(directory) == stamp or attempt == 2:
                        raise IndexCorruptError(
                            f"A file of the vector index in {directory} is missing: "
                            f"{error.filename}.",
                            "Delete the index directory and re-index with "
                            "`quiver index --rebuild`.",
                        ) from error
            raise AssertionError("unreachable")
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    # Properties ------------------------------------------------------------------------

    @property
    def writable(self) -> bool:
        """True if this handle holds the writer lock."""
        return self._lock is not None

    @property
    def is_trained(self) -> bool:
        """True once centroids exist (``train`` or ``retrain`` ran)."""
        return self._state.lists.nlist > 0

    @property
    def nlist(self) -> int:
        """Number of lists: the trained count, else the configured one, else 0."""
        return self._state.lists.nlist or (self._settings.nlist or 0)

    @property
    def nprobe(self) -> int:
        """Lists scanned per query unless ``search`` says otherwise (``default_nprobe(nlist)``)."""
        if self._nprobe_override is not None:
            return self._nprobe_override
        if self._settings.nprobe is not None:
            return self._settings.nprobe
        return default_nprobe(self._state.lists.nlist)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        """Set nprobe for this handle; a writer also persists it at the next ``commit``."""
        checked = self._check_nprobe(value)
        if self.writable:
            self._settings = replace(self._settings, nprobe=checked)
            self._dirty = True
        else:
            self._nprobe_override = checked

    @property
    def ntotal(self) -> int:
        """Live vectors (lists + delta - tombstones)."""
        return self._state.ntotal

    @property
    def generation(self) -> int:
        """The published generation this handle reflects (a writer: its last commit)."""
        return self._manifest.generation

    @property
    def clustering_epoch(self) -> int:
        """Increases whenever cluster ids change (``train``, ``retrain``); persisted."""
        return self._settings.clustering_epoch

    @property
    def scan(self) -> str:
        """How lists are scanned: "int8" (re-ranked in float32) or "float32"."""
        return self._settings.scan

    @property
    def delta_size(self) -> int:
        """Live vectors waiting in the delta (searched exhaustively)."""
        return self._state.delta.live

    # Searching -------------------------------------------------------------------------

    def search(
        self,
        queries: FloatMatrix | FloatVector,
        k: int,
        *,
        nprobe: int | None = None,
        rerank: int | None = None,
    ) -> tuple[FloatMatrix, Int64Array]:
        """The ``k`` best vectors per query by inner product, faiss-style.

        Returns scores (nq, k) float32, descending, and ids (nq, k) int64; rows with fewer
        than ``k`` results are padded with -inf / -1. Equal scores rank by smaller id. A
        1-D query is one row. Raises ``InvalidQueryError`` for NaN/inf or all-zero query
        rows, k < 1 or a negative ``rerank``, ``DimensionMismatchError`` for the wrong
        width. Cost: one query × centroids product (one query: serial numba; a batch:
        BLAS), then ``nprobe`` lists plus the delta scanned in numba (one query: on the
        calling thread; a batch: in parallel, one query per thread).
        With int8 scanning, ``rerank`` candidates (default max(4k, 40)) scored from the
        int8 codes are re-scored exactly; returned scores are always exact float32
        inner products. ``rerank=0`` scans the float32 vectors directly.
        """
        from quiver.ivf import kernels  # numba: imported when first needed

        matrix = self._check_queries(queries)
        if k < 1:
            raise InvalidQueryError(
                f"k must be at least 1, got {k}.", "Ask for one or more results."
            )
        if rerank is not None and rerank < 0:
            raise InvalidQueryError(
                f"rerank must be 0 or more, got {rerank}.", "Leave rerank unset."
            )
        probe_count = self.nprobe if nprobe is None else self._check_nprobe(nprobe)
        snapshot = self._state.snapshot
        lists = snapshot.lists
        depth = 0
        if lists.has_codes:
            depth = max(RERANK_PER_RESULT * k, MIN_RERANK) if rerank is None else int(rerank)
            # Never more candidates than rows (then every row is re-scored: exact), and
            # never fewer than k.
            depth = 0 if depth == 0 else max(int(k), min(depth, lists.rows))
        nlist = lists.nlist
        args = (
            lists.offsets,
            lists.vectors,
            lists.codes,
            lists.scales,
            lists.ids,
            snapshot.dead,
            snapshot.delta_vectors,
            snapshot.delta_ids,
            snapshot.delta_dead,
            depth,
            int(k),
        )
        if matrix.shape[0] == 1:
            if probe_count < nlist:
                probes = read_only(kernels.top_centroids(lists.centroids, matrix[0], probe_count))
            else:
                probes = (
                    _ALL_LISTS[:nlist] if nlist <= _ALL_LISTS.size else read_only(np.arange(nlist))
                )
            scores, ids = kernels.search_one(matrix[0], probes, *args)
            return scores.reshape(1, -1), ids.reshape(1, -1)
        # One BLAS product scores every query against every centroid; probing everything
        # needs no scores (equal zeros keep the lists in id order).
        if probe_count < nlist:
            centroid_scores = read_only(matrix @ lists.centroids.T)
        else:
            centroid_scores = read_only(np.zeros((matrix.shape[0], nlist), dtype=np.float32))
        from quiver.jit import PARALLEL_LOCK

        with PARALLEL_LOCK:
            scores, ids = kernels.search_many(matrix, centroid_scores, probe_count, *args)
        return scores, ids

    def probe(self, query: FloatVector, nprobe: int | None = None) -> Int32Array:
        """The lists a search for ``query`` scans, best centroid first (empty if untrained).

        Lets the text index restrict a query to the same clusters (its ``cluster_id``
        FAST field). Cost: one query × centroids product and a partial sort.
        """
        from quiver.ivf import kernels  # numba: imported when first needed

        matrix = self._check_queries(query)
        if matrix.shape[0] != 1:
            raise InvalidQueryError("probe() takes one query vector.", "Call probe() per query.")
        count = self.nprobe if nprobe is None else self._check_nprobe(nprobe)
        centroids = self._state.snapshot.lists.centroids
        if centroids.shape[0] == 0:
            return np.empty(0, dtype=np.int32)
        top = kernels.top_centroids(centroids, matrix[0], min(count, centroids.shape[0]))
        chosen: Int32Array = top.astype(np.int32)
        return chosen

    def assign(self, vectors: FloatMatrix) -> Int32Array:
        """Nearest centroid (highest inner product, lowest id on ties) of each vector.

        -1 for every vector while the index is untrained. Cost: up to 256 vectors, one
        serial numba pass over the centroids (~4 ms for 50 against 4,000); more, one
        BLAS product per 4,096 rows.
        """
        matrix = self._check_vectors(vectors)
        centroids = self._state.lists.centroids
        if centroids.shape[0] == 0:
            return np.full(matrix.shape[0], -1, dtype=np.int32)
        labels, _scores = assign_to_centroids(matrix, centroids)
        return labels

    def reconstruct(self, id: VectorId) -> FloatVector | None:
        """The stored vector of live ``id`` (a read-only view, no copy), or ``None``.

        Cost: a dict lookup (delta) or a binary search in the mapped sorted ids; ~0.5 µs
        from Python either way.
        """
        ident = int(id)
        state = self._state
        slot = state.delta.slot_of.get(ident)
        if slot is not None:
            return state.delta.row(slot)
        position = state.lists.position_of(ident)
        if position is None or state.dead[position]:
            return None
        vector: FloatVector = state.lists.vectors[position]
        return vector

    def contains(self, id: VectorId) -> bool:
        """True if ``id`` is live in the index."""
        ident = int(id)
        state = self._state
        if ident in state.delta.slot_of:
            return True
        position = state.lists.position_of(ident)
        return position is not None and not bool(state.dead[position])

    def cluster_of(self, ids: npt.ArrayLike) -> Int32Array:
        """The current list of each id (-1 if absent, or if added while untrained).

        Cost: a binary search per id in the lists plus one in the delta's live ids.
        """
        wanted = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        state = self._state
        result = np.full(wanted.shape, -1, dtype=np.int32)
        found, positions = state.lists.lookup(wanted)
        live = found.copy()
        live[found] = ~state.dead[positions[found]]
        result[live] = state.lists.clusters_of_rows(positions[live])
        slots = state.delta.live_slots()
        if slots.size:
            delta_ids = state.delta.ids[slots]
            order = np.argsort(delta_ids)
            sorted_ids = delta_ids[order]
            where = np.minimum(np.searchsorted(sorted_ids, wanted), sorted_ids.size - 1)
            in_delta = sorted_ids[where] == wanted
            result[in_delta] = state.delta.clusters[slots[order[where[in_delta]]]]
        return result

    def ids(self) -> Int64Array:
        """Every live id, ascending. Cost: O(N) (a pass over the mapped sorted ids)."""
        state = self._state
        lists = state.lists
        list_ids = (
            lists.sorted_ids[~state.dead[lists.sorted_positions]]
            if lists.rows
            else lists.sorted_ids
        )
        delta_ids = state.delta.ids[state.delta.live_slots()]
        return np.sort(np.concatenate([list_ids, delta_ids]), kind="stable")

    # Changing --------------------------------------------------------------------------

    def train(self, vectors: FloatMatrix) -> None:
        """Learn the centroids from ``vectors`` (k-means; ``nlist`` as configured or 4·√n).

        Vectors already in the index are re-assigned to the new centroids and written
        into new lists (unpublished until ``commit``); their cluster ids change, see
        ``cluster_of`` and ``clustering_epoch``. Raises ``TrainingError`` if there are
        fewer vectors than lists. Cost: k-means on a sample, plus a rebuild of the lists.
        """
        self._require_writable()
        matrix = self._check_vectors(vectors)
        nlist = self._settings.nlist or default_nlist(matrix.shape[0])
        centroids = train_kmeans(matrix, nlist, seed=self._settings.seed + self.clustering_epoch)
        self._rebuild(centroids, trained_on=matrix.shape[0])

    def add_with_ids(self, vectors: FloatMatrix, ids: npt.NDArray[np.int64]) -> Int32Array:
        """Add vectors under caller-chosen ids; returns the list (ClusterId) each one went to.

        Re-adding a live id replaces its vector (a later duplicate in the same batch
        wins). Vectors go to the in-memory delta, visible to searches at once and
        persisted by ``commit``. Untrained index: cluster -1, searched exhaustively.
        Raises ``InvalidVectorError`` for NaN/inf values or negative ids and
        ``DimensionMismatchError`` for the wrong width. Cost: assignment against the
        centroids plus a copy of the vectors; O(batch) dict updates.
        """
        self._require_writable()
        matrix = self._check_vectors(vectors)
        wanted = self._check_ids(ids, matrix.shape[0])
        if matrix.shape[0] == 0:
            return np.empty(0, dtype=np.int32)
        clusters = self.assign(matrix)
        start = self._state.delta.size
        self._state.add(wanted, clusters, matrix)
        self._pending.append((start, matrix.shape[0]))
        self._dirty = True
        return clusters

    def remove_ids(self, ids: npt.ArrayLike) -> int:
        """Remove the given ids (tombstones); returns how many of them were live.

        Cost: a binary search per id plus a copy of the tombstone mask (1 byte/vector).
        """
        self._require_writable()
        wanted = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        removed = self._state.remove(wanted)
        if removed:
            self._pending.append(encode_remove(distinct(wanted)))
            self._dirty = True
        return removed

    def needs_compaction(self) -> bool:
        """True when the delta or the tombstones cost searches more than a rewrite would save.

        Trained index only: delta rows ≥ max(2,048, 2 × the rows ``nprobe`` lists hold
        on average), or tombstones ≥ max(1,024, 1/8 of the list rows).
        """
        state = self._state
        lists = state.lists
        if lists.nlist == 0:
            return False
        scanned = self.nprobe * lists.rows / lists.nlist
        delta_limit = max(MIN_DELTA_ROWS_FOR_COMPACTION, DELTA_TO_SCAN_RATIO * scanned)
        dead_limit = max(1024, DEAD_FRACTION_FOR_COMPACTION * lists.rows)
        return state.delta.size >= delta_limit or state.dead_count >= dead_limit

    def compact(self) -> None:
        """Fold the delta into the lists and drop tombstoned rows; cluster ids do not change.

        No-op while untrained or when there is nothing to fold. Writes new list files
        (unpublished until ``commit``). Cost: one sequential rewrite of every live vector.
        """
        self._require_writable()
        state = self._state
        if state.lists.nlist == 0 or (state.delta.size == 0 and state.dead_count == 0):
            return
        rows = state.live_list_rows()
        slots = state.delta.live_slots()
        source = RowSource(
            list_rows=rows,
            list_labels=state.lists.clusters_of_rows(rows),
            delta_slots=slots,
            delta_labels=state.delta.clusters[slots],
        )
        lists = write_lists(
            directory=self.directory,
            serial=self._take_serial(),
            centroids=state.lists.files[ROLE_CENTROIDS],
            old=state.lists,
            delta=state.delta,
            source=source,
            int8_codes=self._settings.scan == "int8",
        )
        self._replace_lists(lists)

    def needs_retrain(self) -> bool:
        """True when the clustering no longer fits the data; the caller then runs ``retrain``.

        Untrained: once the live count warrants more than one list (≥ 1,024 vectors).
        Trained: when the list imbalance factor has doubled since training (vectors
        added to a few lists), or, if ``nlist`` was not configured, when the ideal
        ``default_nlist`` for the live count is 2× larger or smaller than ``nlist``.
        Cost: O(nlist + tombstones + delta).
        """
        state = self._state
        live = state.ntotal
        nlist = state.lists.nlist
        if nlist == 0:
            return (self._settings.nlist or default_nlist(live)) > 1 and live >= max(
                1024, self._settings.nlist or 0
            )
        if self._settings.nlist is None and live > 0:
            ideal = default_nlist(live)
            if ideal >= NLIST_DRIFT_FOR_RETRAIN * nlist or ideal * NLIST_DRIFT_FOR_RETRAIN <= nlist:
                return True
        imbalance = imbalance_factor(state.list_sizes())
        return imbalance > IMBALANCE_GROWTH_FOR_RETRAIN * max(1.0, self._settings.trained_imbalance)

    def retrain(self) -> None:
        """Re-learn the centroids from the live vectors and rebuild the lists around them.

        ``nlist`` becomes the configured value or ``default_nlist(ntotal)``. Every cluster id
        may change: afterwards ``cluster_of(ids())`` gives the new lists and
        ``clustering_epoch`` is one higher. No-op on an empty index. Raises
        ``TrainingError`` if a configured ``nlist`` exceeds the live count.
        Cost: k-means on a sample, an assignment pass over every vector, a rewrite of the lists.
        """
        self._require_writable()
        state = self._state
        live = state.ntotal
        if live == 0:
            return
        nlist = self._settings.nlist or default_nlist(live)
        if nlist > live:
            raise TrainingError(
                f"Cannot train {nlist} lists from {live} vectors.",
                "Add more vectors first, or configure a smaller nlist.",
            )
        rng = np.random.default_rng(self._settings.seed + self.clustering_epoch)
        rows = state.live_list_rows()
        slots = state.delta.live_slots()
        take = min(live, default_sample_size(nlist))
        picked = np.sort(rng.choice(live, size=take, replace=False))
        from_lists = picked[picked < rows.size]
        from_delta = picked[picked >= rows.size] - rows.size
        sample = np.concatenate(
            [state.lists.vectors[rows[from_lists]], state.delta.vectors[slots[from_delta]]]
        )
        centroids = train_kmeans(sample, nlist, seed=self._settings.seed + self.clustering_epoch)
        self._rebuild(centroids, trained_on=live)

    def commit(self, *, compact_if_needed: bool = True) -> int:
        """Publish every change since the last commit; returns the new generation.

        Compacts first when ``needs_compaction()`` (unless told not to). Appends the
        pending adds and removals to the change log (or starts a new log after the lists
        were rewritten), fsyncs it, then publishes a new manifest by atomic rename and
        deletes files that neither this generation nor the previous one uses. A crash at
        any point leaves the previous generation intact. Returns the current generation
        unchanged when nothing changed. Cost: the log append and three fsyncs.
        """
        self._require_writable()
        if compact_if_needed and self.needs_compaction():
            self.compact()
        if not self._dirty:
            return self.generation
        state = self._state
        if self._log is None or self._lists_changed:
            if self._log is not None:
                self._log.close()
            name = data_file_name(ROLE_CHANGES, self._take_serial(), LOG_SUFFIX)
            self._log = ChangeLogWriter.create(self.directory / name)
        for item in self._pending:
            if isinstance(item, bytes):
                self._log.append(item)
                continue
            start, count = item
            for first in range(start, start + count, MAX_RECORD_ROWS):
                last = min(first + MAX_RECORD_ROWS, start + count)
                self._log.append(
                    encode_add(
                        state.delta.ids[first:last],
                        state.delta.clusters[first:last],
                        state.delta.vectors[first:last],
                    )
                )
        log_entry = self._log.sync()
        files = {role: entry for role, entry in state.lists.files.items()}
        files[ROLE_CHANGES] = log_entry
        names = {entry.name for entry in files.values()}
        manifest = self._manifest.successor(
            files=files,
            counts={
                "ntotal": state.ntotal,
                "list_rows": state.lists.rows,
                "delta_rows": state.delta.size,
            },
            params=self._settings.to_params(),
            retain=tuple(sorted(self._manifest.file_names() - names)),
        )
        write_manifest(self.directory, manifest, new_files=not names <= self._manifest.file_names())
        collect_garbage(self.directory, files_to_keep(manifest))
        self._manifest = manifest
        self._stamp = manifest_stamp(self.directory)
        self._log_entry = log_entry
        self._pending = []
        self._lists_changed = False
        self._dirty = False
        return manifest.generation

    def refresh(self) -> bool:
        """Follow the writer: switch to a newer published generation if there is one.

        Cost when nothing changed: one ``stat`` of the manifest. When only the change log
        grew, only the new records are read; otherwise the new lists are mapped. Searches
        running meanwhile finish on the old snapshot. Returns True if this handle switched.
        A writer's handle never needs it and returns False.
        """
        self._require_open()
        if self.writable:
            return False
        for attempt in range(3):
            stamp = manifest_stamp(self.directory)
            if stamp is None or stamp == self._stamp:
                return False
            manifest = read_manifest(self.directory, kind=INDEX_KIND, format_version=FORMAT_VERSION)
            check_identity(manifest, dim=self.dim, model_id=self.model_id)
            if manifest == self._manifest:
                self._stamp = stamp
                return False
            try:
                self._switch_to(manifest)
            except FileNotFoundError as error:
                # The writer moved on twice and collected the files of the generation we
                # read: read the manifest again.
                if attempt == 2 or manifest_stamp(self.directory) == stamp:
                    raise IndexCorruptError(
                        f"A file of the vector index in {self.directory} is missing: "
                        f"{error.filename}.",
                        "Delete the index directory and re-index with `quiver index --rebuild`.",
                    ) from error
                continue
            self._stamp = stamp
            return True
        return False

    def _switch_to(self, manifest: Manifest) -> None:
        """Make ``manifest`` this reader's generation (replaying only new log records if it can)."""
        settings = IndexSettings.from_manifest(manifest, self.directory)
        new_log = manifest.files.get(ROLE_CHANGES)
        lists_files = {
            role: entry for role, entry in manifest.files.items() if role != ROLE_CHANGES
        }
        if (
            lists_files == dict(self._state.lists.files)
            and new_log is not None
            and new_log.name == self._log_entry.name
            and new_log.size >= self._log_entry.size
        ):
            crc = replay(
                self.directory,
                self._state,
                new_log,
                start=self._log_entry.size,
                prefix_crc=self._log_crc,
            )
            self._log_entry, self._log_crc = new_log, crc
        else:
            self._state, self._log_entry, self._log_crc = load_state(self.directory, manifest)
        self._manifest, self._settings = manifest, settings

    def verify(self) -> None:
        """Check the full CRC-32 of every file of the current generation (large ones too).

        Raises ``IndexCorruptError`` on the first mismatch. Cost: reads every file once
        (~0.4 s per GB from the page cache).
        """
        self._require_open()
        for role, entry in self._manifest.files.items():
            # The change log may have grown past this generation's committed length.
            verify_file(self.directory / entry.name, entry, prefix=role == ROLE_CHANGES)

    def close(self) -> None:
        """Release the writer lock and the memory maps; uncommitted changes are dropped."""
        if self._closed:
            return
        self._closed = True
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> IVFIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Internals -------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self._closed:
            raise IndexReadOnlyError(
                f"The vector index in {self.directory} was closed.",
                "Open it again before using it.",
            )

    def _require_writable(self) -> None:
        self._require_open()
        if self._lock is None:
            raise IndexReadOnlyError(
                f"The vector index in {self.directory} is open for reading only.",
                "Open it with writable=True (only one process may write at a time).",
            )

    def _take_serial(self) -> int:
        serial = self._settings.next_serial
        self._settings = replace(self._settings, next_serial=serial + 1)
        return serial

    def _replace_lists(self, lists: InvertedLists) -> None:
        self._state = IndexState(lists, self.dim)
        self._pending = []
        self._lists_changed = True
        self._dirty = True

    def _rebuild(self, centroids: FloatMatrix, *, trained_on: int) -> None:
        """Assign every live vector to ``centroids`` and write them as new lists."""
        state = self._state
        rows = state.live_list_rows()
        slots = state.delta.live_slots()
        # Assign whole arrays block by block (a mapped file is streamed, not copied) and
        # keep the live rows' labels.
        list_labels = assign_to_centroids(state.lists.vectors, centroids)[0][rows]
        delta_labels = assign_to_centroids(state.delta.vectors, centroids)[0][slots]
        source = RowSource(rows, list_labels, slots, delta_labels)
        lists = write_lists(
            directory=self.directory,
            serial=self._take_serial(),
            centroids=centroids,
            old=state.lists,
            delta=state.delta,
            source=source,
            int8_codes=self._settings.scan == "int8",
        )
        sizes = np.bincount(
            np.concatenate([list_labels, delta_labels]), minlength=centroids.shape[0]
        )
        self._settings = replace(
            self._settings,
            clustering_epoch=self._settings.clustering_epoch + 1,
            trained_on=trained_on,
            trained_imbalance=imbalance_factor(sizes),
        )
        self._replace_lists(lists)

    def _check_nprobe(self, value: int) -> int:
        if int(value) < 1:
            raise InvalidQueryError(
                f"nprobe must be at least 1, got {value}.", "Use the default nprobe."
            )
        return int(value)

    def _check_width(self, matrix: npt.NDArray[Any], what: str) -> None:
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            width = matrix.shape[-1] if matrix.ndim else 0
            raise DimensionMismatchError(
                f"Vector dimension mismatch: the index holds {self.dim}-dimensional vectors, "
                f"the {what} has {width} dimensions.",
                "Re-index with `quiver index --rebuild` if the model changed, "
                "or pass vectors from the index's model.",
            )

    def _check_queries(self, queries: FloatMatrix | FloatVector) -> FloatMatrix:
        self._require_open()
        matrix = np.asarray(queries, dtype=np.float32)
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1)
        self._check_width(matrix, "query")
        if not np.isfinite(matrix).all():
            raise InvalidQueryError(
                "The query vector contains NaN or infinite values.",
                "Check the embedding model's output for this query.",
            )
        if not np.any(matrix, axis=1).all():
            raise InvalidQueryError(
                "The query vector is all zeros, so every vector would score the same.",
                "Embed a non-empty query; an all-zero vector carries no meaning.",
            )
        return read_only(matrix)

    def _check_vectors(self, vectors: FloatMatrix) -> FloatMatrix:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1)
        self._check_width(matrix, "vector")
        if not np.isfinite(matrix).all():
            raise InvalidVectorError(
                "Some vectors contain NaN or infinite values; nothing was added.",
                "Check the embedding model's output; every vector must be finite.",
            )
        return read_only(matrix)

    def _check_ids(self, ids: npt.NDArray[np.int64], count: int) -> Int64Array:
        array = np.asarray(ids)
        if array.ndim != 1 or array.shape[0] != count:
            raise InvalidVectorError(
                f"Got {count} vectors but ids of shape {array.shape}; nothing was added.",
                "Pass one id per vector, as a 1-D integer array.",
            )
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise InvalidVectorError(
                f"Vector ids must be integers, got {array.dtype}; nothing was added.",
                "Pass the symbol ids as an int64 array.",
            )
        wanted = array.astype(np.int64)
        if wanted.size and int(wanted.min()) < 0:
            raise InvalidVectorError(
                "Vector ids must be non-negative (-1 marks 'no result'); nothing was added.",
                "Use the symbol ids from quiver.ids.SymbolId, which are never negative.",
            )
        return wanted


#: Probe lists for "scan every list" with no centroid scoring (sliced to nlist).
_ALL_LISTS = read_only(np.arange(65536, dtype=np.int64))


def warm_up_kernels(*, batch: bool = False) -> float:
    """Load the compiled kernels a first query needs; returns the seconds it took.

    Loading from numba's on-disk cache costs ~0.2-0.4 s once per process (compiling,
    on a cold cache, several seconds). A server can call this at start-up, for example
    from a background thread, so its first search does not pay it. ``batch`` also
    loads the parallel batch kernel.
    """
    from quiver.ivf import kernels  # numba: imported when first needed

    started = time.perf_counter()
    dim = 4
    vectors = read_only(np.eye(2, dim, dtype=np.float32))
    codes, scales = kernels.quantize_rows(vectors)
    offsets = read_only(np.array([0, 1, 2], dtype=np.int64))
    ids = read_only(np.array([0, 1], dtype=np.int64))
    dead = read_only(np.zeros(2, dtype=bool))
    query = read_only(np.ones((1, dim), dtype=np.float32))
    probes = read_only(kernels.top_centroids(vectors, query[0], 1))
    args = (offsets, vectors, read_only(codes), read_only(scales), ids, dead)
    delta = (vectors[:0], ids[:0], dead[:0])
    kernels.search_one(query[0], probes, *args, *delta, 4, 1)
    kernels.find_row(ids, ids, 1)
    kernels.nearest_centroids(vectors, vectors)
    if batch:
        centroid_scores = read_only(np.zeros((1, 2), dtype=np.float32))
        from quiver.jit import PARALLEL_LOCK

        with PARALLEL_LOCK:
            kernels.search_many(query, centroid_scores, 1, *args, *delta, 4, 1)
    return time.perf_counter() - started
