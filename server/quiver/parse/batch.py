"""Parsing many files: one at a time, or spread over worker processes.

Tree-sitter parsing holds the GIL for its whole C call, so threads would not
help; worker processes do. Files travel to workers in chunks (fewer round
trips, less pickling overhead per file) and results come back in the order
the files were given, with a bounded number of chunks in flight so memory
stays flat however large the tree.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from itertools import islice

from quiver.parse.discover import SourceFile
from quiver.parse.extract import SymbolRecord, extract_records, materialize
from quiver.parse.languages import refine_language
from quiver.parse.read import DEFAULT_MAX_FILE_SIZE, SourceSkippedError, read_source
from quiver.symbols import Symbol

_log = logging.getLogger(__name__)

# Files per task sent to a worker: large enough that pickling and queueing
# overhead is small against parsing, small enough to balance the load.
_CHUNK_FILES = 48
# Chunks queued per worker, so a worker never waits for the parent.
_CHUNKS_IN_FLIGHT_PER_WORKER = 3
# Below this many files, starting processes costs more than it saves.
_MIN_FILES_FOR_POOL = 2 * _CHUNK_FILES


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The outcome for one file: its symbols, or why it was skipped (then no symbols)."""

    file: SourceFile
    symbols: tuple[Symbol, ...]
    skipped_reason: str | None


def parse_file(file: SourceFile, *, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> ParsedFile:
    """Read, parse and extract one file; never raises for a bad file.

    A file that cannot be read as UTF-8 text (vanished, binary, too large,
    unreadable) comes back with ``skipped_reason`` set; so does a file whose
    extraction fails unexpectedly (logged with its traceback at WARNING).
    Symbols carry ``file.rel_path`` as their path. A ``.h`` header written in
    C++ is parsed as C++ and its ``ParsedFile.file.language`` says ``cpp``.
    """
    return _materialize(_parse_to_records(file, max_file_size))


# What a worker sends back for one file: the file, its bytes (for the body
# excerpts), its symbols as plain tuples, and the skip reason. Plain tuples
# pickle several times faster than Symbol objects.
_FileRecords = tuple[SourceFile, bytes, list[SymbolRecord], str | None]


def _parse_to_records(file: SourceFile, max_file_size: int) -> _FileRecords:
    try:
        source = read_source(file.abs_path, max_file_size=max_file_size)
    except SourceSkippedError as error:
        return file, b"", [], error.reason
    language = refine_language(file.language, file.rel_path, source)
    if language != file.language:
        file = replace(file, language=language)
    try:
        records = extract_records(source, file.rel_path, language)
    except Exception as error:  # one bad file must not stop the run
        _log.warning("symbol extraction failed for %s", file.rel_path, exc_info=True)
        return file, b"", [], f"symbol extraction failed ({type(error).__name__}: {error})"
    return file, source, records, None


def _materialize(result: _FileRecords) -> ParsedFile:
    file, source, records, reason = result
    if reason is not None:
        return ParsedFile(file, (), reason)
    return ParsedFile(
        file, tuple(materialize(records, source, file.rel_path, file.language)), None
    )


def default_workers() -> int:
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_files(
    files: Iterable[SourceFile],
    *,
    workers: int | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> Generator[ParsedFile, None, None]:
    """Parse files on ``workers`` processes (default: every usable CPU), in input order.

    ``workers=1``, or fewer than ~100 files, runs inline in this process and
    starts nothing. Otherwise a process pool is started for this call (forked:
    a few ms; spawned when this process runs other threads: ~0.3 s) and shut
    down when the iterator is exhausted or closed. Never raises for one bad
    file (see :func:`parse_file`); if a worker process dies, the remaining
    files are parsed in this process.
    """
    worker_count = default_workers() if workers is None else max(1, workers)
    iterator = iter(files)
    if worker_count == 1:
        for file in iterator:
            yield parse_file(file, max_file_size=max_file_size)
        return
    head = list(islice(iterator, _MIN_FILES_FOR_POOL))
    if len(head) < _MIN_FILES_FOR_POOL:
        for file in head:
            yield parse_file(file, max_file_size=max_file_size)
        return
    yield from _parse_in_pool(head, iterator, worker_count, max_file_size)


def _parse_in_pool(
    head: list[SourceFile],
    rest: Iterator[SourceFile],
    worker_count: int,
    max_file_size: int,
) -> Iterator[ParsedFile]:
    chunks = _chunks(head, rest)
    pool: ProcessPoolExecutor | None = _start_pool(worker_count)
    in_flight: deque[tuple[list[SourceFile], Future[list[_FileRecords]] | None]] = deque()
    limit = worker_count * _CHUNKS_IN_FLIGHT_PER_WORKER
    try:
        for chunk in chunks:
            while len(in_flight) >= limit:
                pool, results = _collect(pool, in_flight.popleft(), max_file_size)
                yield from results
            future = pool.submit(_parse_chunk, chunk, max_file_size) if pool else None
            in_flight.append((chunk, future))
        while in_flight:
            pool, results = _collect(pool, in_flight.popleft(), max_file_size)
            yield from results
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    pool: ProcessPoolExecutor | None,
    task: tuple[list[SourceFile], Future[list[_FileRecords]] | None],
    max_file_size: int,
) -> tuple[ProcessPoolExecutor | None, list[ParsedFile]]:
    """The chunk's results; a broken pool is shut down and the rest parsed inline."""
    chunk, future = task
    if future is not None and pool is not None:
        try:
            return pool, [_materialize(result) for result in future.result()]
        except BrokenProcessPool:
            # A worker died or could not start (e.g. it imports another version
            # of this package). Restarting would likely fail the same way, so
            # finish in this process: slower, but nothing is lost.
            _log.warning("a parser process died; parsing the remaining files in this process")
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        except Exception:  # e.g. a result that could not be pickled
            _log.warning("a batch of %d files failed in a worker; retrying inline", len(chunk))
    return pool, [parse_file(file, max_file_size=max_file_size) for file in chunk]


def _chunks(head: list[SourceFile], rest: Iterator[SourceFile]) -> Iterator[list[SourceFile]]:
    for start in range(0, len(head), _CHUNK_FILES):
        yield head[start : start + _CHUNK_FILES]
    while chunk := list(islice(rest, _CHUNK_FILES)):
        yield chunk


def _start_pool(worker_count: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=worker_count, mp_context=_pool_context())


def _pool_context() -> multiprocessing.context.BaseContext:
    """``fork`` while this process runs one thread (fast: no imports), else ``spawn``.

    Forking a process that runs other threads (the language server) can
    deadlock on a lock some thread held; ``spawn`` starts clean interpreters
    that import this package from the parent's ``sys.path``.
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _parse_chunk(files: list[SourceFile], max_file_size: int) -> list[_FileRecords]:
    return [_parse_to_records(file, max_file_size) for file in files]
