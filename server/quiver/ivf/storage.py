"""Where the IVF index keeps its vectors: immutable inverted lists on disk, a small delta in memory.

* ``InvertedLists``: the centroids and every vector grouped by list (CSR: one contiguous
  block of rows per list, an offsets array, the ids in the same order), plus the ids
  sorted with their row positions for id lookups, and optionally an int8 copy of the
  vectors (per-row symmetric scale) that searches scan before re-ranking in float32.
  Written once by ``write_lists``, then memory-mapped read-only.
* ``DeltaSegment``: vectors added since the lists were written, in memory, scanned
  exhaustively. It is rebuilt on open by replaying the change log.
* Change records: how an add or a removal is framed in the change log.

All arrays handed to the search kernels are read-only views, so readers can share
them across threads and a writer replaces (never mutates) what a reader may be using.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from quiver.errors import IndexCorruptError
from quiver.ids import SegmentOrdinal
from quiver.numeric import FloatMatrix, FloatVector
from quiver.store import ArrayFileWriter, FileEntry, data_file_name, map_array, write_array

Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

ARRAY_SUFFIX = ".qva"
LOG_SUFFIX = ".qlog"
ROLE_CENTROIDS = "centroids"
ROLE_VECTORS = "vectors"
ROLE_IDS = "ids"
ROLE_OFFSETS = "offsets"
ROLE_SORTED_IDS = "sorted_ids"
ROLE_SORTED_POSITIONS = "sorted_positions"
ROLE_CHANGES = "changes"
ROLE_CODES = "codes"
ROLE_SCALES = "scales"
LIST_ROLES = (ROLE_VECTORS, ROLE_IDS, ROLE_OFFSETS, ROLE_SORTED_IDS, ROLE_SORTED_POSITIONS)
#: The int8 copy used for scanning (optional: an index may scan float32 only).
CODE_ROLES = (ROLE_CODES, ROLE_SCALES)
#: Rows gathered and written per step when lists are rebuilt (bounds extra memory).
WRITE_BLOCK_ROWS = 65536


S = TypeVar("S", bound=np.generic)


def read_only(array: npt.NDArray[S]) -> npt.NDArray[S]:
    """A read-only, C-contiguous view (copying only if ``array`` is not contiguous)."""
    view = np.ascontiguousarray(array).view()
    view.flags.writeable = False
    return view


def _int64_view(array: Int64Array) -> Sequence[int]:
    view: Sequence[int] = np.ascontiguousarray(array, dtype=np.int64).data.cast("B").cast("q")
    return view


def _corrupt(directory: Path, what: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"The vector index in {directory} is inconsistent: {what}.",
        "Delete the index directory and re-index with `quiver index --rebuild`.",
    )


@dataclass(frozen=True, slots=True)
class InvertedLists:
    """The immutable, clustered part of the index (possibly untrained: no lists at all)."""

    centroids: FloatMatrix
    vectors: FloatMatrix
    ids: Int64Array
    offsets: Int64Array
    sorted_ids: Int64Array
    sorted_positions: Int64Array
    codes: npt.NDArray[np.int8]
    scales: npt.NDArray[np.float32]
    files: Mapping[str, FileEntry]
    # Views of the sorted ids and positions that index to Python ints in ~50 ns, for
    # single-id look-ups from Python (a numba call or numpy scalars cost ~1 µs each).
    _sorted_id_view: Sequence[int] = field(init=False, repr=False, compare=False)
    _sorted_position_view: Sequence[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sorted_id_view", _int64_view(self.sorted_ids))
        object.__setattr__(self, "_sorted_position_view", _int64_view(self.sorted_positions))

    @classmethod
    def empty(cls, dim: int) -> InvertedLists:
        """No centroids and no rows: the state of an untrained index."""
        return cls(
            centroids=read_only(np.empty((0, dim), dtype=np.float32)),
            vectors=read_only(np.empty((0, dim), dtype=np.float32)),
            ids=read_only(np.empty(0, dtype=np.int64)),
            offsets=read_only(np.zeros(1, dtype=np.int64)),
            sorted_ids=read_only(np.empty(0, dtype=np.int64)),
            sorted_positions=read_only(np.empty(0, dtype=np.int64)),
            codes=read_only(np.empty((0, dim), dtype=np.int8)),
            scales=read_only(np.empty(0, dtype=np.float32)),
            files={},
        )

    @property
    def nlist(self) -> int:
        """Number of lists (0 when untrained)."""
        return int(self.centroids.shape[0])

    @property
    def rows(self) -> int:
        """Rows stored in the lists, dead ones included."""
        return int(self.ids.shape[0])

    @property
    def has_codes(self) -> bool:
        """True when an int8 copy of every row exists for scanning."""
        return ROLE_CODES in self.files

    def lookup(self, ids: Int64Array) -> tuple[BoolArray, Int64Array]:
        """For each id: whether the lists hold a row for it, and that row (0 where not found).

        Cost: a binary search per id in the sorted id array (memory-mapped).
        """
        if self.rows == 0 or ids.size == 0:
            return np.zeros(ids.shape, dtype=bool), np.zeros(ids.shape, dtype=np.int64)
        slots = np.searchsorted(self.sorted_ids, ids)
        clipped = np.minimum(slots, self.rows - 1)
        found = self.sorted_ids[clipped] == ids
        positions = np.where(found, self.sorted_positions[clipped], 0)
        return found, positions.astype(np.int64, copy=False)

    def position_of(self, ident: int) -> SegmentOrdinal | None:
        """The row holding ``ident``, or ``None`` (a binary search, ~0.2 µs)."""
        ids = self._sorted_id_view
        slot = bisect.bisect_left(ids, ident)
        if slot == len(ids) or ids[slot] != ident:
            return None
        return SegmentOrdinal(self._sorted_position_view[slot])

    def clusters_of_rows(self, positions: Int64Array) -> Int32Array:
        """The list each row belongs to."""
        if positions.size == 0:
            return np.empty(0, dtype=np.int32)
        return (np.searchsorted(self.offsets, positions, side="right") - 1).astype(np.int32)

    def row_clusters(self) -> Int32Array:
        """The list of every row, in row order (``rows`` int32 values)."""
        sizes = np.diff(self.offsets)
        return np.repeat(np.arange(self.nlist, dtype=np.int32), sizes)

    def list_files(self) -> dict[str, FileEntry]:
        """The files of this generation of lists, by role (centroids included)."""
        return dict(self.files)


def map_lists(directory: Path, files: Mapping[str, FileEntry], dim: int) -> InvertedLists:
    """Memory-map the lists named in a manifest and check that their shapes agree.

    Raises ``IndexCorruptError`` on any inconsistency and ``FileNotFoundError`` if a
    file vanished (a newer generation replaced it; the caller re-reads the manifest).
    Cost: one ``mmap`` per file, the CRC of the small files, an O(nlist) offsets check.
    """
    if ROLE_CENTROIDS not in files:
        return InvertedLists.empty(dim)
    if any(role not in files for role in LIST_ROLES):
        raise _corrupt(directory, "the manifest names centroids but not every list file")
    # With an int8 copy, searches read float32 rows only to re-rank a few candidates:
    # mapping just those pages (no fault-around) keeps the resident set small.
    has_codes = ROLE_CODES in files
    arrays = {
        role: map_array(
            directory / files[role].name,
            files[role],
            random_access=has_codes and role == ROLE_VECTORS,
        )
        for role in (ROLE_CENTROIDS, *LIST_ROLES)
    }
    centroids = arrays[ROLE_CENTROIDS]
    vectors = arrays[ROLE_VECTORS]
    ids = arrays[ROLE_IDS]
    offsets = arrays[ROLE_OFFSETS]
    sorted_ids = arrays[ROLE_SORTED_IDS]
    sorted_positions = arrays[ROLE_SORTED_POSITIONS]
    codes = np.empty((0, dim), dtype=np.int8)
    scales = np.empty(0, dtype=np.float32)
    if ROLE_CODES in files or ROLE_SCALES in files:
        if not all(role in files for role in CODE_ROLES):
            raise _corrupt(directory, "the manifest names only half of the int8 copy")
        codes = map_array(directory / files[ROLE_CODES].name, files[ROLE_CODES])
        scales = map_array(directory / files[ROLE_SCALES].name, files[ROLE_SCALES])
    nlist = centroids.shape[0] if centroids.ndim == 2 else -1
    rows = vectors.shape[0]
    shapes_agree = (
        centroids.dtype == np.float32
        and centroids.ndim == 2
        and centroids.shape[1] == dim
        and nlist >= 1
        and vectors.dtype == np.float32
        and vectors.shape == (rows, dim)
        and all(
            a.dtype == np.int64 and a.shape == (rows,) for a in (ids, sorted_ids, sorted_positions)
        )
        and offsets.dtype == np.int64
        and offsets.shape == (nlist + 1,)
        and (
            ROLE_CODES not in files
            or (
                codes.dtype == np.int8
                and codes.shape == (rows, dim)
                and scales.dtype == np.float32
                and scales.shape == (rows,)
            )
        )
    )
    if not shapes_agree:
        raise _corrupt(directory, "the list files disagree on their shapes or types")
    if offsets[0] != 0 or offsets[-1] != rows or bool(np.any(np.diff(offsets) < 0)):
        raise _corrupt(directory, "the list offsets are not a partition of the rows")
    return InvertedLists(
        centroids=centroids,
        vectors=vectors,
        ids=ids,
        offsets=offsets,
        sorted_ids=sorted_ids,
        sorted_positions=sorted_positions,
        codes=read_only(codes),
        scales=read_only(scales),
        files=dict(files),
    )


@dataclass(frozen=True, slots=True)
class RowSource:
    """Rows to gather into new lists: some rows of the old lists, some slots of the delta."""

    list_rows: Int64Array
    list_labels: Int32Array
    delta_slots: Int64Array
    delta_labels: Int32Array


def write_lists(
    *,
    directory: Path,
    serial: int,
    centroids: FloatMatrix | FileEntry,
    old: InvertedLists,
    delta: DeltaSegment,
    source: RowSource,
    int8_codes: bool,
) -> InvertedLists:
    """Write new lists holding ``source``'s rows grouped by label; returns them memory-mapped.

    ``centroids`` is either a new matrix (written as a new file) or the entry of the
    existing centroids file (reused by a compaction). With ``int8_codes`` the int8
    scanning copy is written alongside. Files are fsynced but not yet published: a
    manifest must name them. Cost: one sequential write of every row (plus a quarter
    of that for the codes), gathered ``WRITE_BLOCK_ROWS`` at a time; an argsort of the
    labels and of the ids.
    """
    files: dict[str, FileEntry] = {}
    if isinstance(centroids, FileEntry):
        files[ROLE_CENTROIDS] = centroids
        nlist = old.nlist
    else:
        name = data_file_name(ROLE_CENTROIDS, serial, ARRAY_SUFFIX)
        files[ROLE_CENTROIDS] = write_array(
            directory / name, np.ascontiguousarray(centroids, dtype=np.float32)
        )
        nlist = int(centroids.shape[0])
    dim = old.vectors.shape[1]
    labels = np.concatenate([source.list_labels, source.delta_labels]).astype(np.int64)
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=nlist) if labels.size else np.zeros(nlist, np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    from_lists = source.list_rows.shape[0]
    all_ids = np.concatenate([old.ids[source.list_rows], delta.ids[source.delta_slots]])
    new_ids = all_ids[order]

    def name_of(role: str) -> Path:
        return directory / data_file_name(role, serial, ARRAY_SUFFIX)

    rows = order.shape[0]
    writers = {ROLE_VECTORS: ArrayFileWriter(name_of(ROLE_VECTORS), np.float32, (rows, dim))}
    if int8_codes:
        writers[ROLE_CODES] = ArrayFileWriter(name_of(ROLE_CODES), np.int8, (rows, dim))
        writers[ROLE_SCALES] = ArrayFileWriter(name_of(ROLE_SCALES), np.float32, (rows,))
    try:
        for start in range(0, rows, WRITE_BLOCK_ROWS):
            picked = order[start : start + WRITE_BLOCK_ROWS]
            block = np.empty((picked.shape[0], dim), dtype=np.float32)
            in_lists = picked < from_lists
            block[in_lists] = old.vectors[source.list_rows[picked[in_lists]]]
            block[~in_lists] = delta.vectors[source.delta_slots[picked[~in_lists] - from_lists]]
            writers[ROLE_VECTORS].write(block)
            if int8_codes:
                from quiver.ivf import kernels  # numba: imported when first needed

                codes, scales = kernels.quantize_rows(read_only(block))
                writers[ROLE_CODES].write(codes)
                writers[ROLE_SCALES].write(scales)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    for role, writer in writers.items():
        files[role] = writer.finish()
    files[ROLE_IDS] = write_array(name_of(ROLE_IDS), new_ids)
    files[ROLE_OFFSETS] = write_array(name_of(ROLE_OFFSETS), offsets)
    by_id = np.argsort(new_ids, kind="stable")
    files[ROLE_SORTED_IDS] = write_array(name_of(ROLE_SORTED_IDS), new_ids[by_id])
    files[ROLE_SORTED_POSITIONS] = write_array(
        name_of(ROLE_SORTED_POSITIONS), by_id.astype(np.int64)
    )
    return map_lists(directory, files, dim)


class DeltaSegment:
    """Vectors added since the lists were written: append-only rows plus a dead mask.

    Rows are never modified once appended, so a read-only view of the first ``n`` rows
    stays valid while later rows are appended; the dead mask is replaced, not mutated,
    whenever a row dies. ``slot_of`` maps each live id to its row.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.size = 0
        self._vectors = np.empty((0, dim), dtype=np.float32)
        self._ids = np.empty(0, dtype=np.int64)
        self._clusters = np.empty(0, dtype=np.int32)
        self._dead = np.empty(0, dtype=bool)
        self.slot_of: dict[int, int] = {}
        self._frozen: FloatMatrix = read_only(self._vectors)
        self._frozen_base = self._vectors

    @property
    def vectors(self) -> FloatMatrix:
        """Rows ``0..size`` (read-only view)."""
        return read_only(self._vectors[: self.size])

    def row(self, slot: int) -> FloatVector:
        """One row (a read-only view, no copy), in ~0.2 µs: rows of a read-only alias of
        the buffer are read-only themselves, and setting the flag per view costs µs."""
        if self._frozen_base is not self._vectors:
            self._frozen = read_only(self._vectors)
            self._frozen_base = self._vectors
        row: FloatVector = self._frozen[slot]
        return row

    @property
    def ids(self) -> Int64Array:
        """Id of every row (read-only view)."""
        return read_only(self._ids[: self.size])

    @property
    def clusters(self) -> Int32Array:
        """List each row was assigned to when added (-1 if the index was untrained)."""
        return read_only(self._clusters[: self.size])

    @property
    def dead(self) -> BoolArray:
        """Dead mask of the rows (read-only view)."""
        return read_only(self._dead[: self.size])

    @property
    def live(self) -> int:
        """Rows that are not dead."""
        return len(self.slot_of)

    def _reserve(self, extra: int) -> None:
        needed = self.size + extra
        if needed <= self._ids.shape[0]:
            return
        capacity = max(needed, 2 * self._ids.shape[0], 64)
        # New buffers: views handed out earlier keep the old ones alive and unchanged.
        vectors = np.empty((capacity, self.dim), dtype=np.float32)
        vectors[: self.size] = self._vectors[: self.size]
        ids = np.empty(capacity, dtype=np.int64)
        ids[: self.size] = self._ids[: self.size]
        clusters = np.empty(capacity, dtype=np.int32)
        clusters[: self.size] = self._clusters[: self.size]
        dead = np.zeros(capacity, dtype=bool)
        dead[: self.size] = self._dead[: self.size]
        self._vectors, self._ids, self._clusters, self._dead = vectors, ids, clusters, dead

    def kill(self, ids: Int64Array) -> Int64Array:
        """Mark the rows of those of ``ids`` that are live here as dead; returns the ids killed."""
        slots = [self.slot_of.pop(ident) for ident in ids.tolist() if ident in self.slot_of]
        if not slots:
            return np.empty(0, dtype=np.int64)
        dead = self._dead.copy()
        dead[slots] = True
        self._dead = dead
        return self._ids[slots].copy()

    def append(
        self, ids: Int64Array, clusters: Int32Array, vectors: FloatMatrix, superseded: BoolArray
    ) -> None:
        """Append rows; ``superseded`` rows (an id repeated later in the batch) are born dead.

        The caller has already killed older rows of these ids.
        """
        count = ids.shape[0]
        self._reserve(count)
        start = self.size
        self._vectors[start : start + count] = vectors
        self._ids[start : start + count] = ids
        self._clusters[start : start + count] = clusters
        self._dead[start : start + count] = superseded
        for offset, ident in enumerate(ids.tolist()):
            if not superseded[offset]:
                self.slot_of[ident] = start + offset
        self.size += count

    def live_slots(self) -> Int64Array:
        """Rows that are not dead, in order."""
        return np.flatnonzero(~self._dead[: self.size]).astype(np.int64)


# Change records ---------------------------------------------------------------------------

OP_ADD = 1
OP_REMOVE = 2
_RECORD_HEAD = struct.Struct("<BxxxI")
#: Rows per add record; a larger batch is split (frames stay well below 2 GiB).
MAX_RECORD_ROWS = 65536


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One logged change: an add (ids, clusters, vectors) or a removal (ids)."""

    op: int
    ids: Int64Array
    clusters: Int32Array | None = None
    vectors: FloatMatrix | None = None


def encode_add(ids: Int64Array, clusters: Int32Array, vectors: FloatMatrix) -> bytes:
    """The payload of an add record (head, ids, clusters, padding to 8 bytes, vectors)."""
    count = ids.shape[0]
    padding = b"\0" * (4 if count % 2 else 0)
    return b"".join(
        [
            _RECORD_HEAD.pack(OP_ADD, count),
            np.ascontiguousarray(ids, dtype="<i8").tobytes(),
            np.ascontiguousarray(clusters, dtype="<i4").tobytes(),
            padding,
            np.ascontiguousarray(vectors, dtype="<f4").tobytes(),
        ]
    )


def encode_remove(ids: Int64Array) -> bytes:
    """The payload of a removal record."""
    return (
        _RECORD_HEAD.pack(OP_REMOVE, ids.shape[0])
        + np.ascontiguousarray(ids, dtype="<i8").tobytes()
    )


def decode_record(payload: memoryview, dim: int, where: Path) -> ChangeRecord:
    """Parse a payload written by ``encode_add``/``encode_remove``; raises ``IndexCorruptError``."""
    if len(payload) < _RECORD_HEAD.size:
        raise _corrupt(where, "a change record is shorter than its header")
    op, count = _RECORD_HEAD.unpack_from(payload, 0)
    body = payload[_RECORD_HEAD.size :]
    if op == OP_REMOVE:
        if len(body) != 8 * count:
            raise _corrupt(where, "a removal record has the wrong length")
        return ChangeRecord(
            OP_REMOVE, np.frombuffer(body, dtype="<i8", count=count).astype(np.int64)
        )
    if op == OP_ADD:
        padding = 4 if count % 2 else 0
        if len(body) != 8 * count + 4 * count + padding + 4 * count * dim:
            raise _corrupt(where, "an add record has the wrong length for this dimension")
        ids = np.frombuffer(body, dtype="<i8", count=count).astype(np.int64)
        clusters = np.frombuffer(body, dtype="<i4", count=count, offset=8 * count).astype(np.int32)
        vectors = np.frombuffer(body, dtype="<f4", count=count * dim, offset=12 * count + padding)
        return ChangeRecord(OP_ADD, ids, clusters, vectors.reshape(count, dim).astype(np.float32))
    raise _corrupt(where, f"a change record has the unknown operation {op}")
