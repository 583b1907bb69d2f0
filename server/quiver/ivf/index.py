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
    readers read it up to the length the manifest committed. Publishing, opening
    and following generations live in ``quiver.ivf.persist``.

Cluster ids change only when the centroids change: ``train`` and ``retrain``.
After either, ``cluster_of(index.ids())`` gives every vector's new list, and
``clustering_epoch`` has increased (it is persisted, so a text index that stored
cluster ids can tell they are stale). ``compact`` never changes a cluster id.

``IVFIndex`` is the API and composes the parts: ``IndexState`` (what it holds,
``state``), ``IndexFiles`` (its directory, ``persist``), the checks of what callers
pass (``validate``), the kernel calls of a search (``scanning``), when to compact or
retrain (``policy``) and how centroids are learned and lists rewritten (``rebuild``).

Threads: searches may run concurrently with each other and with one writer thread;
each search works on an immutable snapshot (a writer replaces state, never mutates
what a snapshot references). Mutations must come from one thread at a time.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from quiver.ids import VectorId
from quiver.ivf import policy
from quiver.ivf.persist import IndexFiles, create_index, open_index
from quiver.ivf.rebuild import (
    compacted_lists,
    reclustered_lists,
    retrained_centroids,
    trained_centroids,
)
from quiver.ivf.scanning import (
    live_delta_ids,
    nearest_lists,
    score_ids,
    search_snapshot,
    top_lists,
)
from quiver.ivf.state import IndexSettings, IndexState
from quiver.ivf.storage import Int32Array, Int64Array, InvertedLists
from quiver.ivf.validate import (
    check_ids,
    check_nprobe,
    check_one_query,
    check_queries,
    check_search,
    check_vectors,
)
from quiver.numeric import FloatMatrix, FloatVector

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


class IVFIndex:
    """An inverted-file index of unit vectors under inner product, stored in one directory.

    Open it with ``create`` (new or rebuilt index, writable) or ``open`` (the latest
    published generation; read-only unless ``writable=True``). A writable index holds
    the directory's writer lock until ``close``. Every public method documents its cost.
    """

    def __init__(self, files: IndexFiles, state: IndexState, settings: IndexSettings) -> None:
        self.directory = files.directory
        self.dim = files.manifest.dim
        self.model_id = files.manifest.model_id
        self._files = files
        self._state = state
        self._settings = settings
        self._nprobe_override: int | None = None

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
        return cls(
            *create_index(
                directory,
                dim=dim,
                model_id=model_id,
                nlist=nlist,
                nprobe=nprobe,
                seed=seed,
                scan=scan,
            )
        )

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

        Checks it (``persist.open_index`` says how far; ``verify`` checks the rest) and
        replays the change log. Raises ``ManifestMissingError`` (no index),
        ``IndexFormatError``, ``DimensionMismatchError``, ``ModelMismatchError``,
        ``IndexCorruptError``, and with ``writable=True`` ``WriterLockedError``.
        Cost: memory maps, no bulk read: ~milliseconds even for 1M vectors.
        """
        return cls(*open_index(directory, dim=dim, model_id=model_id, writable=writable))

    # Properties ------------------------------------------------------------------------

    @property
    def writable(self) -> bool:
        """True if this handle holds the writer lock."""
        return self._files.writable

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
        checked = check_nprobe(value)
        if self.writable:
            self._settings = replace(self._settings, nprobe=checked)
            self._files.record_settings()
        else:
            self._nprobe_override = checked

    @property
    def ntotal(self) -> int:
        """Live vectors (lists + delta - tombstones)."""
        return self._state.ntotal

    @property
    def generation(self) -> int:
        """The published generation this handle reflects (a writer: its last commit)."""
        return self._files.manifest.generation

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
        matrix = self._queries(queries)
        check_search(k, rerank)
        probe_count = self.nprobe if nprobe is None else check_nprobe(nprobe)
        return search_snapshot(self._state.snapshot, matrix, k, nprobe=probe_count, rerank=rerank)

    def search_ids(
        self, query: FloatVector, ids: npt.ArrayLike, k: int
    ) -> tuple[FloatVector, Int64Array]:
        """The ``k`` best of the live vectors among ``ids``, scored exactly: a filtered search.

        Returns scores (≤ k,) float32 descending and ids (≤ k,) int64, fewer when fewer
        of ``ids`` are live; equal scores rank by smaller id. Ids absent from the index
        or removed are skipped, wherever they sit (lists or delta). Scores are exact
        float32 inner products whatever the scan mode. Raises as ``search`` does for a
        bad query or ``k`` < 1. Cost: a binary search per id, a membership test of the
        delta, then a gather and one matrix-vector product of the rows found (~1–2 ms
        for 4,096 rows of 384 floats).
        """
        row = check_one_query(self._queries(query), "search_ids")
        check_search(k, None)
        return score_ids(self._state.snapshot, row, ids, int(k))

    def delta_ids(self) -> Int64Array:
        """The live ids waiting in the delta (every search scans them exhaustively).

        Cost: O(delta) (a pass over its tombstone mask).
        """
        return live_delta_ids(self._state.snapshot)

    def probe(self, query: FloatVector, nprobe: int | None = None) -> Int32Array:
        """The lists a search for ``query`` scans, best centroid first (empty if untrained).

        Lets the text index restrict a query to the same clusters (its ``cluster_id``
        FAST field). Cost: one query × centroids product and a partial sort.
        """
        row = check_one_query(self._queries(query), "probe")
        count = self.nprobe if nprobe is None else check_nprobe(nprobe)
        return top_lists(self._state.snapshot.lists.centroids, row, count)

    def assign(self, vectors: FloatMatrix) -> Int32Array:
        """Nearest centroid (highest inner product, lowest id on ties) of each vector.

        -1 for every vector while the index is untrained. Cost: up to 256 vectors, one
        serial numba pass over the centroids (~4 ms for 50 against 4,000); more, one
        BLAS product per 4,096 rows.
        """
        return nearest_lists(check_vectors(vectors, self.dim), self._state.lists.centroids)

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
        return self._state.clusters_of(np.atleast_1d(np.asarray(ids, dtype=np.int64)))

    def ids(self) -> Int64Array:
        """Every live id, ascending. Cost: O(N) (a pass over the mapped sorted ids)."""
        return self._state.live_ids()

    # Changing --------------------------------------------------------------------------

    def train(self, vectors: FloatMatrix) -> None:
        """Learn the centroids from ``vectors`` (k-means; ``nlist`` as configured or 4·√n).

        Vectors already in the index are re-assigned to the new centroids and written
        into new lists (unpublished until ``commit``); their cluster ids change, see
        ``cluster_of`` and ``clustering_epoch``. Raises ``TrainingError`` if there are
        fewer vectors than lists. Cost: k-means on a sample, plus a rebuild of the lists.
        """
        self._files.require_writable()
        matrix = check_vectors(vectors, self.dim)
        self._recluster(trained_centroids(matrix, self._settings), trained_on=matrix.shape[0])

    def add_with_ids(self, vectors: FloatMatrix, ids: npt.NDArray[np.int64]) -> Int32Array:
        """Add vectors under caller-chosen ids; returns the list (ClusterId) each one went to.

        Re-adding a live id replaces its vector (a later duplicate in the same batch
        wins). Vectors go to the in-memory delta, visible to searches at once and
        persisted by ``commit``. Untrained index: cluster -1, searched exhaustively.
        Raises ``InvalidVectorError`` for NaN/inf values or negative ids and
        ``DimensionMismatchError`` for the wrong width. Cost: assignment against the
        centroids plus a copy of the vectors; O(batch) dict updates.
        """
        self._files.require_writable()
        matrix = check_vectors(vectors, self.dim)
        wanted = check_ids(ids, matrix.shape[0])
        if matrix.shape[0] == 0:
            return np.empty(0, dtype=np.int32)
        clusters = self.assign(matrix)
        start = self._state.delta.size
        self._state.add(wanted, clusters, matrix)
        self._files.record_add(start, matrix.shape[0])
        return clusters

    def remove_ids(self, ids: npt.ArrayLike) -> int:
        """Remove the given ids (tombstones); returns how many of them were live.

        Cost: a binary search per id plus a copy of the tombstone mask (1 byte/vector).
        """
        self._files.require_writable()
        wanted = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        removed = self._state.remove(wanted)
        if removed:
            self._files.record_remove(wanted)
        return removed

    def needs_compaction(self) -> bool:
        """True when the delta or the tombstones cost searches more than a rewrite would save.

        Trained index only; the rule is ``policy.needs_compaction``. Cost: O(1).
        """
        return policy.needs_compaction(self._state, self.nprobe)

    def compact(self) -> None:
        """Fold the delta into the lists and drop tombstoned rows; cluster ids do not change.

        No-op while untrained or when there is nothing to fold. Writes new list files
        (unpublished until ``commit``). Cost: one sequential rewrite of every live vector.
        """
        self._files.require_writable()
        state = self._state
        if state.lists.nlist == 0 or (state.delta.size == 0 and state.dead_count == 0):
            return
        serial, self._settings = self._settings.take_serial()
        self._replace_lists(
            compacted_lists(state, self._settings, directory=self.directory, serial=serial)
        )

    def needs_retrain(self) -> bool:
        """True when the clustering no longer fits the data; the caller then runs ``retrain``.

        Untrained: once ≥ 1,024 vectors warrant more than one list. Trained: lists grew
        unbalanced, or the index outgrew ``nlist``; the rule is ``policy.needs_retrain``.
        Cost: O(nlist + tombstones + delta).
        """
        return policy.needs_retrain(self._state, self._settings)

    def retrain(self) -> None:
        """Re-learn the centroids from the live vectors and rebuild the lists around them.

        ``nlist`` becomes the configured value or ``default_nlist(ntotal)``. Every cluster id
        may change: afterwards ``cluster_of(ids())`` gives the new lists and
        ``clustering_epoch`` is one higher. No-op on an empty index. Raises
        ``TrainingError`` if a configured ``nlist`` exceeds the live count.
        Cost: k-means on a sample, an assignment pass over every vector, a rewrite of the lists.
        """
        self._files.require_writable()
        live = self._state.ntotal
        if live == 0:
            return
        self._recluster(retrained_centroids(self._state, self._settings), trained_on=live)

    # Publishing ------------------------------------------------------------------------

    def commit(self, *, compact_if_needed: bool = True) -> int:
        """Publish every change since the last commit; returns the new generation.

        Compacts first when ``needs_compaction()`` (unless told not to), then publishes
        as ``IndexFiles.publish`` describes: a crash at any point leaves the previous
        generation intact. Returns the current generation unchanged when nothing
        changed. Cost: the log append and three fsyncs.
        """
        self._files.require_writable()
        if compact_if_needed and self.needs_compaction():
            self.compact()
        if not self._files.has_changes:
            return self.generation
        if self._files.needs_new_log:
            serial, self._settings = self._settings.take_serial()
            self._files.start_change_log(serial)
        return self._files.publish(self._state, self._settings).generation

    def refresh(self) -> bool:
        """Follow the writer: switch to a newer published generation if there is one.

        Cost when nothing changed: one ``stat`` of the manifest. When only the change log
        grew, only the new records are read; otherwise the new lists are mapped. Searches
        running meanwhile finish on the old snapshot. Returns True if this handle switched.
        A writer's handle never needs it and returns False.
        """
        switched = self._files.follow(self._state)
        if switched is None:
            return False
        self._state, self._settings = switched
        return True

    def verify(self) -> None:
        """Check the full CRC-32 of every file of the current generation (large ones too).

        Raises ``IndexCorruptError`` on the first mismatch. Cost: reads every file once
        (~0.4 s per GB from the page cache).
        """
        self._files.verify()

    def close(self) -> None:
        """Release the writer lock and the memory maps; uncommitted changes are dropped."""
        self._files.close()

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

    def _queries(self, queries: FloatMatrix | FloatVector) -> FloatMatrix:
        self._files.require_open()
        return check_queries(queries, self.dim)

    def _replace_lists(self, lists: InvertedLists) -> None:
        self._state = IndexState(lists, self.dim)
        self._files.record_new_lists()

    def _recluster(self, centroids: FloatMatrix, *, trained_on: int) -> None:
        """Assign every live vector to ``centroids`` and write them as new lists."""
        serial, self._settings = self._settings.take_serial()
        lists, self._settings = reclustered_lists(
            self._state,
            centroids,
            self._settings,
            directory=self.directory,
            serial=serial,
            trained_on=trained_on,
        )
        self._replace_lists(lists)
