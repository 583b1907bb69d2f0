"""The vector index on disk: publishing generations, opening the latest, following a writer.

Kept apart from the index as faiss keeps ``write_index``/``read_index`` apart from
``IndexIVFFlat``. ``create_index`` publishes an empty index, ``open_index`` maps the
latest published generation; both hand back an ``IndexFiles``, one handle's link to
its directory: the generation it reflects, and for a writer the writer lock and the
change log its commits append to. A writer's ``publish`` writes the pending changes
and a new manifest (the one atomic step), then deletes what no generation needs; a
reader's ``follow`` switches to a newer generation, replaying only the new records of
the change log when the lists did not change. The file layout is described in
``quiver.ivf.index``; manifests, locks and the change log themselves in ``quiver.store``.
"""

from __future__ import annotations

import re
from pathlib import Path

from quiver.errors import DimensionMismatchError, IndexCorruptError
from quiver.ivf.errors import IndexReadOnlyError
from quiver.ivf.state import IndexSettings, IndexState, load_state, replay
from quiver.ivf.storage import (
    LOG_SUFFIX,
    MAX_RECORD_ROWS,
    ROLE_CHANGES,
    Int64Array,
    encode_add,
    encode_remove,
)
from quiver.ivf.validate import check_new_index
from quiver.numeric import distinct
from quiver.store import (
    ChangeLogWriter,
    FileEntry,
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

_SERIAL = re.compile(r"-(\d{12})\.")


class IndexFiles:
    """One open handle's view of its index directory (see the module docstring).

    Holds the published manifest this handle reflects; a writer's handle also holds
    the writer lock, its change log, and the changes made since the last ``publish``.
    """

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        *,
        lock: WriterLock | None,
        stamp: ManifestStamp | None,
        log_entry: FileEntry,
        log_crc: int,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self._lock = lock
        self._stamp = stamp
        self._log_entry = log_entry
        self._log_crc = log_crc
        self._log: ChangeLogWriter | None = None
        # What the next publish appends to the change log: (first delta slot, rows)
        # for adds, encoded records for removals, in the order they happened.
        self._pending: list[tuple[int, int] | bytes] = []
        self._lists_changed = False
        self._changed = False
        self._closed = False
        if lock is not None:
            self._log = ChangeLogWriter.reopen(directory / log_entry.name, log_entry)

    @property
    def writable(self) -> bool:
        """True if this handle holds the writer lock."""
        return self._lock is not None

    def require_open(self) -> None:
        """Raise ``IndexReadOnlyError`` if this handle was closed."""
        if self._closed:
            raise IndexReadOnlyError(
                f"The vector index in {self.directory} was closed.",
                "Open it again before using it.",
            )

    def require_writable(self) -> None:
        """Raise ``IndexReadOnlyError`` if this handle was closed or holds no writer lock."""
        self.require_open()
        if self._lock is None:
            raise IndexReadOnlyError(
                f"The vector index in {self.directory} is open for reading only.",
                "Open it with writable=True (only one process may write at a time).",
            )

    # Writing ---------------------------------------------------------------------------

    @property
    def has_changes(self) -> bool:
        """True if something changed since the last ``publish``."""
        return self._changed

    def record_add(self, first_slot: int, count: int) -> None:
        """Note ``count`` rows added to the delta from ``first_slot`` on, for the next publish."""
        self._pending.append((first_slot, count))
        self._changed = True

    def record_remove(self, ids: Int64Array) -> None:
        """Note a removal of ``ids`` for the next publish. Cost: encodes the distinct ids."""
        self._pending.append(encode_remove(distinct(ids)))
        self._changed = True

    def record_new_lists(self) -> None:
        """Note that the lists were rewritten: their files hold every change so far."""
        self._pending = []
        self._lists_changed = True
        self._changed = True

    def record_settings(self) -> None:
        """Note that the index's settings changed (the next publish writes them)."""
        self._changed = True

    @property
    def needs_new_log(self) -> bool:
        """True if the next publish must start a change log (none yet, or the lists changed)."""
        return self._log is None or self._lists_changed

    def start_change_log(self, serial: int) -> None:
        """Close the current change log and start an empty one numbered ``serial``."""
        if self._log is not None:
            self._log.close()
        name = data_file_name(ROLE_CHANGES, serial, LOG_SUFFIX)
        self._log = ChangeLogWriter.create(self.directory / name)

    def publish(self, state: IndexState, settings: IndexSettings) -> Manifest:
        """Publish ``state`` with ``settings`` as the next generation; returns its manifest.

        Appends the pending adds and removals to the change log (after
        ``start_change_log`` when ``needs_new_log``), fsyncs it, then publishes a new
        manifest by atomic rename and deletes files that neither this generation nor the
        previous one uses. A crash at any point leaves the previous generation intact.
        Cost: the log append and three fsyncs.
        """
        assert self._log is not None, "start_change_log first"
        log = self._log
        for item in self._pending:
            if isinstance(item, bytes):
                log.append(item)
                continue
            start, count = item
            for first in range(start, start + count, MAX_RECORD_ROWS):
                last = min(first + MAX_RECORD_ROWS, start + count)
                log.append(
                    encode_add(
                        state.delta.ids[first:last],
                        state.delta.clusters[first:last],
                        state.delta.vectors[first:last],
                    )
                )
        log_entry = log.sync()
        files = {role: entry for role, entry in state.lists.files.items()}
        files[ROLE_CHANGES] = log_entry
        names = {entry.name for entry in files.values()}
        manifest = self.manifest.successor(
            files=files,
            counts={
                "ntotal": state.ntotal,
                "list_rows": state.lists.rows,
                "delta_rows": state.delta.size,
            },
            params=settings.to_params(),
            retain=tuple(sorted(self.manifest.file_names() - names)),
        )
        write_manifest(self.directory, manifest, new_files=not names <= self.manifest.file_names())
        collect_garbage(self.directory, files_to_keep(manifest))
        self.manifest = manifest
        self._stamp = manifest_stamp(self.directory)
        self._log_entry = log_entry
        self._pending = []
        self._lists_changed = False
        self._changed = False
        return manifest

    # Reading ---------------------------------------------------------------------------

    def follow(self, state: IndexState) -> tuple[IndexState, IndexSettings] | None:
        """Switch to a newer published generation if there is one; returns its state and settings.

        ``None`` if nothing newer was published, and always for a writer's handle (it
        publishes, it has nothing to follow). When only the change log grew, its new
        records are replayed into ``state`` (which is returned); otherwise the new lists
        are mapped into a new state. Raises ``IndexReadOnlyError`` if this handle was
        closed, ``IndexCorruptError`` if the files of the new generation vanish three
        times running. Cost when nothing changed: one ``stat`` of the manifest.
        """
        self.require_open()
        if self.writable:
            return None
        for attempt in range(3):
            stamp = manifest_stamp(self.directory)
            if stamp is None or stamp == self._stamp:
                return None
            manifest = read_manifest(self.directory, kind=INDEX_KIND, format_version=FORMAT_VERSION)
            check_identity(manifest, dim=self.manifest.dim, model_id=self.manifest.model_id)
            if manifest == self.manifest:
                self._stamp = stamp
                return None
            try:
                switched = self._switch_to(manifest, state)
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
            return switched
        return None

    def _switch_to(self, manifest: Manifest, state: IndexState) -> tuple[IndexState, IndexSettings]:
        """Make ``manifest`` this reader's generation (replaying only new log records if it can)."""
        settings = IndexSettings.from_manifest(manifest, self.directory)
        new_log = manifest.files.get(ROLE_CHANGES)
        lists_files = {
            role: entry for role, entry in manifest.files.items() if role != ROLE_CHANGES
        }
        if (
            lists_files == dict(state.lists.files)
            and new_log is not None
            and new_log.name == self._log_entry.name
            and new_log.size >= self._log_entry.size
        ):
            crc = replay(
                self.directory,
                state,
                new_log,
                start=self._log_entry.size,
                prefix_crc=self._log_crc,
            )
            self._log_entry, self._log_crc = new_log, crc
        else:
            state, self._log_entry, self._log_crc = load_state(self.directory, manifest)
        self.manifest = manifest
        return state, settings

    def verify(self) -> None:
        """Check the full CRC-32 of every file of this generation (large ones too).

        Raises ``IndexReadOnlyError`` if this handle was closed, ``IndexCorruptError`` on
        the first mismatch. Cost: reads every file once.
        """
        self.require_open()
        for role, entry in self.manifest.files.items():
            # The change log may have grown past this generation's committed length.
            verify_file(self.directory / entry.name, entry, prefix=role == ROLE_CHANGES)

    def close(self) -> None:
        """Close the change log and release the writer lock; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        log, self._log = self._log, None
        try:
            if log is not None:
                log.close()  # may raise: its last flush can meet a full disk
        finally:
            # The lock goes whatever the log did, or no handle in this process (the
            # re-open after a refused write) could ever take the index again.
            if self._lock is not None:
                self._lock.release()
                self._lock = None


Opened = tuple[IndexFiles, IndexState, IndexSettings]


def create_index(
    directory: Path,
    *,
    dim: int,
    model_id: str,
    nlist: int | None,
    nprobe: int | None,
    seed: int,
    scan: str,
) -> Opened:
    """Publish a new, empty, untrained index in ``directory``; returns it open for writing.

    Settings a new index cannot have raise ``InvalidVectorError`` before anything is
    written. An index already there (of any version) is replaced as the next generation
    and its files are garbage-collected. Raises ``WriterLockedError`` if another process
    is writing this directory. Cost: a few small file writes and fsyncs.
    """
    check_new_index(dim=dim, nlist=nlist, nprobe=nprobe, scan=scan)
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
        log = ChangeLogWriter.create(directory / data_file_name(ROLE_CHANGES, serial, LOG_SUFFIX))
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
        return _load(directory, manifest, lock=lock, stamp=manifest_stamp(directory))
    except BaseException:
        lock.release()
        raise


def open_index(directory: Path, *, dim: int | None, model_id: str | None, writable: bool) -> Opened:
    """Open the latest published generation in ``directory`` (see ``IVFIndex.open``).

    Checks the manifest (format version, kind, checksum), the dimension and model id
    when given, every file's size and header, and the full CRC of small files (the
    centroids, offsets, ids up to 8 MiB; ``IndexFiles.verify`` checks the rest); replays
    the change log. Reads the manifest again if a writer removed its files before they
    were mapped. A writer also deletes files the published generation does not use
    (what it retained for readers of the one before included) and cuts off change-log
    bytes a crashed writer never published. Cost: memory maps and the change log's
    replay, no bulk read.
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
                return _load(directory, manifest, lock=lock, stamp=stamp)
            except FileNotFoundError as error:
                # A writer published a newer generation and removed this one's files
                # between our reading the manifest and mapping them: read it again.
                if manifest_stamp(directory) == stamp or attempt == 2:
                    raise IndexCorruptError(
                        f"A file of the vector index in {directory} is missing: {error.filename}.",
                        "Delete the index directory and re-index with `quiver index --rebuild`.",
                    ) from error
        raise AssertionError("unreachable")
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _load(
    directory: Path, manifest: Manifest, *, lock: WriterLock | None, stamp: ManifestStamp | None
) -> Opened:
    """Read ``manifest``'s settings, map its lists, replay its change log."""
    settings = IndexSettings.from_manifest(manifest, directory)
    state, log_entry, log_crc = load_state(directory, manifest)
    files = IndexFiles(
        directory, manifest, lock=lock, stamp=stamp, log_entry=log_entry, log_crc=log_crc
    )
    return files, state, settings


def _existing_serial(directory: Path) -> int:
    """The largest file serial present in ``directory`` (0 if none)."""
    serials = [
        int(match.group(1)) for path in directory.iterdir() if (match := _SERIAL.search(path.name))
    ]
    return max(serials, default=0)
