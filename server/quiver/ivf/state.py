"""What an open IVF index holds in memory, and how the change log rebuilds it.

``IndexState`` is the content (mapped lists, their tombstones, the delta) plus the
two operations that change it, ``add`` and ``remove``; a writer's own changes and a
reader's replay of the change log both go through them, so a reader reconstructs
exactly the writer's state. Every change publishes a new ``Snapshot`` (frozen
references to read-only arrays) that searches read without locks. Lookups across
the lists and the delta (``clusters_of``, ``live_ids``) answer from the same content.
``IndexSettings`` are the kind-specific values kept in the manifest's ``params``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from quiver.errors import IndexCorruptError
from quiver.ivf.storage import (
    OP_ADD,
    ROLE_CHANGES,
    BoolArray,
    ChangeRecord,
    DeltaSegment,
    Int32Array,
    Int64Array,
    InvertedLists,
    decode_record,
    map_lists,
    read_only,
)
from quiver.numeric import FloatMatrix, distinct
from quiver.store import FileEntry, Manifest, read_change_log
from quiver.store.atomic import crc32_hex

#: How lists are scanned: "int8" scores the int8 copy and re-ranks the best candidates
#: from float32 (2x faster at equal recall, measured); "float32" scores every row exactly.
SCAN_MODES = ("int8", "float32")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one search reads, frozen: later changes build a new snapshot."""

    lists: InvertedLists
    dead: BoolArray
    delta_vectors: FloatMatrix
    delta_ids: Int64Array
    delta_dead: BoolArray


class IndexState:
    """The index content (lists + tombstones + delta) and how to change it.

    Both the writer's own changes and a reader's replay of the change log go through
    ``apply``, so a reader reconstructs exactly the writer's state.
    """

    def __init__(self, lists: InvertedLists, dim: int) -> None:
        self.lists = lists
        self.dim = dim
        self.dead = read_only(np.zeros(lists.rows, dtype=bool))
        self.dead_count = 0
        self.delta = DeltaSegment(dim)
        self.snapshot = self._make_snapshot()

    def _make_snapshot(self) -> Snapshot:
        return Snapshot(
            lists=self.lists,
            dead=self.dead,
            delta_vectors=self.delta.vectors,
            delta_ids=self.delta.ids,
            delta_dead=self.delta.dead,
        )

    @property
    def ntotal(self) -> int:
        return self.lists.rows - self.dead_count + self.delta.live

    def _kill_in_lists(self, ids: Int64Array) -> int:
        found, positions = self.lists.lookup(ids)
        positions = positions[found]
        positions = positions[~self.dead[positions]]
        if positions.size == 0:
            return 0
        dead = self.dead.copy()
        dead[positions] = True
        self.dead = read_only(dead)
        self.dead_count += int(positions.size)
        return int(positions.size)

    def add(self, ids: Int64Array, clusters: Int32Array, vectors: FloatMatrix) -> None:
        """Add rows (a later duplicate id in the batch wins; an existing id is replaced)."""
        reversed_first = np.unique(ids[::-1], return_index=True)[1]
        keep = np.zeros(ids.shape[0], dtype=bool)
        keep[ids.shape[0] - 1 - reversed_first] = True
        unique_ids = ids[keep]
        self._kill_in_lists(unique_ids)
        self.delta.kill(unique_ids)
        self.delta.append(ids, clusters, vectors, ~keep)
        self.snapshot = self._make_snapshot()

    def remove(self, ids: Int64Array) -> int:
        """Tombstone every live id of ``ids``; returns how many were live."""
        unique_ids = distinct(ids)
        removed = self._kill_in_lists(unique_ids) + int(self.delta.kill(unique_ids).size)
        self.snapshot = self._make_snapshot()
        return removed

    def apply(self, record: ChangeRecord) -> None:
        """Replay one change-log record."""
        if record.op == OP_ADD:
            assert record.clusters is not None and record.vectors is not None
            self.add(record.ids, record.clusters, record.vectors)
        else:
            self.remove(record.ids)

    def clusters_of(self, ids: Int64Array) -> Int32Array:
        """The list of each id (-1 if absent, or if added while untrained)."""
        result = np.full(ids.shape, -1, dtype=np.int32)
        found, positions = self.lists.lookup(ids)
        live = found.copy()
        live[found] = ~self.dead[positions[found]]
        result[live] = self.lists.clusters_of_rows(positions[live])
        slots = self.delta.live_slots()
        if slots.size:
            delta_ids = self.delta.ids[slots]
            order = np.argsort(delta_ids)
            sorted_ids = delta_ids[order]
            where = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
            in_delta = sorted_ids[where] == ids
            result[in_delta] = self.delta.clusters[slots[order[where[in_delta]]]]
        return result

    def live_ids(self) -> Int64Array:
        """Every live id, ascending."""
        lists = self.lists
        list_ids = (
            lists.sorted_ids[~self.dead[lists.sorted_positions]] if lists.rows else lists.sorted_ids
        )
        delta_ids = self.delta.ids[self.delta.live_slots()]
        return np.sort(np.concatenate([list_ids, delta_ids]), kind="stable")

    def live_list_rows(self) -> Int64Array:
        return np.flatnonzero(~self.dead).astype(np.int64)

    def list_sizes(self) -> npt.NDArray[np.int64]:
        """Live vectors per list, delta included."""
        nlist = self.lists.nlist
        sizes = np.diff(self.lists.offsets).astype(np.int64)
        if self.dead_count:
            dead_rows = np.flatnonzero(self.dead)
            sizes -= np.bincount(self.lists.clusters_of_rows(dead_rows), minlength=nlist)
        slots = self.delta.live_slots()
        clusters = self.delta.clusters[slots]
        clusters = clusters[clusters >= 0]
        if clusters.size:
            sizes += np.bincount(clusters, minlength=nlist)
        return sizes


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """What the manifest's ``params`` hold for this kind of index."""

    nlist: int | None
    nprobe: int | None
    seed: int
    clustering_epoch: int
    trained_on: int
    trained_imbalance: float
    next_serial: int
    scan: str

    def to_params(self) -> dict[str, Any]:
        return {
            "scan": self.scan,
            "nlist": self.nlist,
            "nprobe": self.nprobe,
            "seed": self.seed,
            "clustering_epoch": self.clustering_epoch,
            "trained_on": self.trained_on,
            "trained_imbalance": self.trained_imbalance,
            "next_serial": self.next_serial,
        }

    def take_serial(self) -> tuple[int, IndexSettings]:
        """The next file serial, and the settings to keep from now on (that serial used up)."""
        return self.next_serial, replace(self, next_serial=self.next_serial + 1)

    @classmethod
    def from_manifest(cls, manifest: Manifest, directory: Path) -> IndexSettings:
        params = manifest.params

        def number(key: str, *, optional: bool = False) -> int | None:
            value = params[key]
            if value is None and optional:
                return None
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(key)
            return value

        try:
            scan = params["scan"]
            if scan not in SCAN_MODES:
                raise TypeError("scan")
            imbalance = params["trained_imbalance"]
            if not isinstance(imbalance, int | float) or isinstance(imbalance, bool):
                raise TypeError("trained_imbalance")
            settings = cls(
                nlist=number("nlist", optional=True),
                nprobe=number("nprobe", optional=True),
                seed=number("seed") or 0,
                clustering_epoch=number("clustering_epoch") or 0,
                trained_on=number("trained_on") or 0,
                trained_imbalance=float(imbalance),
                next_serial=number("next_serial") or 0,
                scan=str(scan),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise IndexCorruptError(
                f"The index manifest in {directory} lacks a valid {error} setting.",
                "Delete the index directory and re-index with `quiver index --rebuild`.",
            ) from None
        return settings


def load_state(directory: Path, manifest: Manifest) -> tuple[IndexState, FileEntry, int]:
    """Map the lists and replay the change log of ``manifest``; returns state, log entry, CRC."""
    lists = map_lists(
        directory, {r: e for r, e in manifest.files.items() if r != ROLE_CHANGES}, manifest.dim
    )
    state = IndexState(lists, manifest.dim)
    log_entry = manifest.files.get(ROLE_CHANGES)
    if log_entry is None:
        raise IndexCorruptError(
            f"The index manifest in {directory} names no change log.",
            "Delete the index directory and re-index with `quiver index --rebuild`.",
        )
    crc = replay(directory, state, log_entry, start=0, prefix_crc=0)
    return state, log_entry, crc


def replay(
    directory: Path, state: IndexState, entry: FileEntry, *, start: int, prefix_crc: int
) -> int:
    """Apply the log records between ``start`` and ``entry.size``; returns the CRC of the prefix.

    Every record is decoded and checked before the first one is applied, so a damaged
    log leaves ``state`` untouched. Raises ``IndexCorruptError``.
    """
    path = directory / entry.name
    scan, crc = read_change_log(path, start=start, length=entry.size, prefix_crc=prefix_crc)
    if crc32_hex(crc) != entry.checksum:
        raise IndexCorruptError(
            f"The change log {path} fails its checksum.",
            "Delete the index directory and re-index with `quiver index --rebuild`.",
        )
    records = [decode_record(payload, state.dim, path) for payload in scan.payloads]
    nlist = state.lists.nlist
    for record in records:
        clusters = record.clusters
        if clusters is None or clusters.size == 0:
            continue
        valid = (
            bool(np.all(clusters == -1))
            if nlist == 0
            else (int(clusters.min()) >= 0 and int(clusters.max()) < nlist)
        )
        if not valid:
            raise IndexCorruptError(
                f"The change log {path} assigns vectors to lists that do not exist.",
                "Delete the index directory and re-index with `quiver index --rebuild`.",
            )
    for record in records:
        state.apply(record)
    return crc
