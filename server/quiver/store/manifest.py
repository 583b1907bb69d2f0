"""The manifest: the one small file that says which immutable files make up the current generation.

A generation is published by writing a new manifest under a temporary name and
renaming it over ``manifest.json``; everything it lists was written and fsynced
before. Readers read the manifest, then map the files it names, so a crash at any
moment leaves the last published generation intact.

Integrity scheme (why it is cheap enough to run on every open):

* the manifest carries a SHA-256 of its own content, so a torn or edited manifest
  is detected;
* every listed file has a size and a CRC-32 (``"crc32:…"``). Opening compares the
  size of every file (a truncated or extended file is caught by one ``stat``) and the
  header of every array file; whole-file checksums are verified on open only for
  small files (see ``quiver.store.arrays.OPEN_VERIFY_MAX_BYTES``), and for every
  file on demand (``verify``). A bit flip inside a large vectors file is therefore
  found by ``verify()``, not by ``open()``: hashing 1.5 GB would cost ~0.4 s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quiver.errors import (
    DimensionMismatchError,
    IndexCorruptError,
    IndexFormatError,
    ModelMismatchError,
)
from quiver.store.atomic import AtomicFileWriter, fsync_directory

#: The file name a directory's current manifest is published under.
MANIFEST_NAME = "manifest.json"
#: Version of the manifest's own JSON layout (not of the data it describes).
MANIFEST_SCHEMA = 1

JSONValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class ManifestMissingError(IndexFormatError):
    """The directory holds no published index (no manifest)."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One published file: its name inside the directory, its size and checksum."""

    name: str
    size: int
    checksum: str

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in the manifest."""
        return {"name": self.name, "size": self.size, "checksum": self.checksum}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> FileEntry:
        """Parse a manifest's file entry; raises ``KeyError``/``TypeError`` on a bad shape."""
        name, size, checksum = value["name"], value["size"], value["checksum"]
        if not isinstance(name, str) or not isinstance(size, int) or not isinstance(checksum, str):
            raise TypeError("file entry fields have the wrong types")
        if "/" in name or name in {"", ".", ".."}:
            raise TypeError(f"file entry name {name!r} is not a plain file name")
        return cls(name=name, size=size, checksum=checksum)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Manifest:
    """What one published generation of an index consists of.

    ``kind`` and ``format_version`` identify the layout of the data files (an index
    written by another version is rebuilt, never read). ``files`` maps a role
    (``"vectors"``, ``"centroids"`` …) to the file that plays it. ``retain`` names
    files of the previous generation that garbage collection must keep, so a reader
    still on that generation is not starved. ``params`` holds kind-specific settings.
    """

    kind: str
    format_version: int
    generation: int
    dim: int
    metric: str
    model_id: str
    counts: Mapping[str, int] = field(default_factory=dict)
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    params: Mapping[str, JSONValue] = field(default_factory=dict)
    retain: tuple[str, ...] = ()
    created_at: str = field(default_factory=_now)

    def file_names(self) -> set[str]:
        """Names of every file this generation uses (not counting ``retain``)."""
        return {entry.name for entry in self.files.values()}

    def successor(self, **changes: Any) -> Manifest:
        """The next generation: generation + 1, a fresh timestamp, and ``changes`` applied."""
        return replace(self, generation=self.generation + 1, created_at=_now(), **changes)

    def to_json(self) -> dict[str, Any]:
        """The manifest content as a JSON-compatible dict (without its checksum)."""
        return {
            "kind": self.kind,
            "format_version": self.format_version,
            "generation": self.generation,
            "dim": self.dim,
            "metric": self.metric,
            "model_id": self.model_id,
            "counts": dict(self.counts),
            "files": {role: entry.to_json() for role, entry in self.files.items()},
            "params": dict(self.params),
            "retain": list(self.retain),
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Manifest:
        """Parse what ``to_json`` wrote; raises ``KeyError``, ``TypeError`` or ``ValueError``."""
        counts = {str(key): int(count) for key, count in dict(value["counts"]).items()}
        files = {
            str(role): FileEntry.from_json(entry) for role, entry in dict(value["files"]).items()
        }
        retain = tuple(str(name) for name in value["retain"])
        manifest = cls(
            kind=str(value["kind"]),
            format_version=int(value["format_version"]),
            generation=int(value["generation"]),
            dim=int(value["dim"]),
            metric=str(value["metric"]),
            model_id=str(value["model_id"]),
            counts=counts,
            files=files,
            params=dict(value["params"]),
            retain=retain,
            created_at=str(value["created_at"]),
        )
        if manifest.generation < 0 or manifest.dim < 0:
            raise ValueError("negative generation or dimension")
        return manifest


def _content_digest(content: Mapping[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def write_manifest(
    directory: Path, manifest: Manifest, *, name: str = MANIFEST_NAME, new_files: bool = True
) -> None:
    """Publish ``manifest`` as the directory's current generation.

    Every data file it lists must already be written and fsynced. Order: fsync the
    directory (so the data files' renames are durable before the manifest that names
    them), write the manifest to a temporary file, fsync it, rename it over ``name``,
    fsync the directory again. Pass ``new_files=False`` when every file the manifest
    names was already durable in the directory (e.g. a change log that only grew): the
    first directory fsync is then skipped. Cost: one or two directory fsyncs and one
    small file fsync.
    """
    content = manifest.to_json()
    document = {
        "schema": MANIFEST_SCHEMA,
        "checksum": _content_digest(content),
        "manifest": content,
    }
    data = (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")
    if new_files:
        fsync_directory(directory)
    with AtomicFileWriter(directory / name) as writer:
        writer.write(data)
        writer.commit(sync_directory=True)


def read_manifest(
    directory: Path,
    *,
    name: str = MANIFEST_NAME,
    kind: str | None = None,
    format_version: int | None = None,
) -> Manifest:
    """Read and check the directory's current manifest.

    Raises ``ManifestMissingError`` if there is none, ``IndexCorruptError`` if it is
    unreadable or fails its checksum, ``IndexFormatError`` if it describes another
    kind of index or another format version than the ones given.
    Cost: one small file read and a SHA-256 of a few kilobytes.
    """
    path = directory / name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestMissingError(
            f"No index in {directory} (there is no {name}).",
            "Build the index first (`quiver index PATH`).",
        ) from None
    except OSError as error:
        raise IndexCorruptError(
            f"Cannot read the index manifest {path}: {error}.",
            "Check the file's permissions, or delete the directory and re-index.",
        ) from error
    corrupt = IndexCorruptError(
        f"The index manifest {path} is corrupt (unparsable or failing its checksum).",
        "Delete the index directory and re-index with `quiver index --rebuild`.",
    )
    try:
        document = json.loads(raw.decode("utf-8"))
        if not isinstance(document, dict):
            raise corrupt
        schema = document.get("schema")
        if schema != MANIFEST_SCHEMA:
            raise IndexFormatError(
                f"The index manifest {path} has layout {schema!r}; "
                f"this Quiver reads {MANIFEST_SCHEMA}.",
                "Re-index with `quiver index --rebuild` (the index was written by another Quiver).",
            )
        content = document["manifest"]
        if document.get("checksum") != _content_digest(content):
            raise corrupt
        manifest = Manifest.from_json(content)
    except IndexFormatError:
        raise
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise corrupt from None
    if kind is not None and manifest.kind != kind:
        raise IndexFormatError(
            f"{directory} holds a {manifest.kind!r} index, not a {kind!r} index.",
            "Point Quiver at the right directory, or re-index with `quiver index --rebuild`.",
        )
    if format_version is not None and manifest.format_version != format_version:
        raise IndexFormatError(
            f"The index in {directory} has format version {manifest.format_version}; "
            f"this Quiver reads version {format_version}.",
            "Re-index with `quiver index --rebuild` (another Quiver version wrote this index).",
        )
    return manifest


def check_identity(manifest: Manifest, *, dim: int | None, model_id: str | None) -> None:
    """Raise if the index was built for another vector dimension or embedding model.

    ``None`` skips a check. Raises ``DimensionMismatchError`` or ``ModelMismatchError``.
    """
    if dim is not None and manifest.dim != dim:
        raise DimensionMismatchError(
            f"Vector dimension mismatch: the index holds {manifest.dim}-dimensional vectors, "
            f"the model produces {dim}.",
            "Re-index with `quiver index --rebuild`; the model changed since the index was built.",
        )
    if model_id is not None and manifest.model_id != model_id:
        raise ModelMismatchError(
            f"The index was built with model {manifest.model_id!r}, but {model_id!r} is loaded.",
            "Re-index with `quiver index --rebuild` so every vector comes from the same model.",
        )


@dataclass(frozen=True, slots=True)
class ManifestStamp:
    """What ``stat`` says about a manifest file; a new publication always changes it."""

    inode: int
    mtime_ns: int
    size: int


def manifest_stamp(directory: Path, *, name: str = MANIFEST_NAME) -> ManifestStamp | None:
    """The current manifest's stat signature, or ``None`` if there is none.

    Publishing renames a new file over the manifest, so the inode changes on every
    generation; comparing stamps is the cheap "has anything changed?" check a reader
    does before a query (one ``stat``, about a microsecond).
    """
    try:
        status = (directory / name).stat()
    except FileNotFoundError:
        return None
    return ManifestStamp(inode=status.st_ino, mtime_ns=status.st_mtime_ns, size=status.st_size)
