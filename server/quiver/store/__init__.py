"""The on-disk format shared by every index Quiver keeps: immutable files, one manifest, one writer.

* ``atomic``: write a file under a temporary name, fsync, rename, fsync the directory.
* ``arrays``: self-describing array files that are memory-mapped read-only.
* ``manifest``: the small file that names a generation's files, with sizes and checksums.
* ``changelog``: an append-only, checksummed record log for small updates.
* ``generations``: file naming and garbage collection of old generations.
* ``lock``: the single-writer ``flock``.
"""

from quiver.store.arrays import ArrayFileWriter, map_array, verify_file, write_array
from quiver.store.atomic import AtomicFileWriter, atomic_write_bytes, fsync_directory
from quiver.store.changelog import ChangeLogWriter, read_change_log, scan_frames
from quiver.store.generations import collect_garbage, data_file_name, files_to_keep
from quiver.store.lock import WriterLock, WriterLockedError
from quiver.store.manifest import (
    MANIFEST_NAME,
    FileEntry,
    Manifest,
    ManifestMissingError,
    ManifestStamp,
    check_identity,
    manifest_stamp,
    read_manifest,
    write_manifest,
)

__all__ = [
    "MANIFEST_NAME",
    "ArrayFileWriter",
    "AtomicFileWriter",
    "ChangeLogWriter",
    "FileEntry",
    "Manifest",
    "ManifestMissingError",
    "ManifestStamp",
    "WriterLock",
    "WriterLockedError",
    "atomic_write_bytes",
    "check_identity",
    "collect_garbage",
    "data_file_name",
    "files_to_keep",
    "fsync_directory",
    "manifest_stamp",
    "map_array",
    "read_change_log",
    "read_manifest",
    "scan_frames",
    "verify_file",
    "write_array",
    "write_manifest",
]
