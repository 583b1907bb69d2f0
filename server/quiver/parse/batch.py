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
import sys
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice

from quiver.parse.discover import SourceFile
from quiver.parse.extract import SymbolRecord, extract_records, materialize
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
    Symbols carry ``file.rel_path`` as their path.
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
    try:
        records = extract_records(source, file.rel_path, file.language)
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
    starts nothing. Otherwise a process pool is started for this call (about
    0.1-0.3 s) and shut down when the iterator is exhausted or closed. Never
    raises for one bad file: see :func:`parse_file`; if a worker process dies,
    the files it held are reported skipped and the pool is restarted.
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
    pool = _start_pool(worker_count)
    in_flight: deque[tuple[list[SourceFile], Future[list[_FileRecords]]]] = deque()
    limit = worker_count * _CHUNKS_IN_FLIGHT_PER_WORKER
    try:
        for chunk in chunks:
            while len(in_flight) >= limit:
                pool, results = _collect(pool, in_flight.popleft(), worker_count)
                yield from results
            in_flight.append((chunk, pool.submit(_parse_chunk, chunk, max_file_size)))
        while in_flight:
            pool, results = _collect(pool, in_flight.popleft(), worker_count)
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    pool: ProcessPoolExecutor,
    task: tuple[list[SourceFile], Future[list[_FileRecords]]],
    worker_count: int,
) -> tuple[ProcessPoolExecutor, list[ParsedFile]]:
    chunk, future = task
    try:
        return pool, [_materialize(result) for result in future.result()]
    except BrokenProcessPool:
        _log.warning("a parser process died; skipping %d files and restarting the pool", len(chunk))
        pool.shutdown(wait=False, cancel_futures=True)
        reason = "the parser process died while parsing this batch of files"
        return _start_pool(worker_count), [ParsedFile(file, (), reason) for file in chunk]
    except Exception as error:  # e.g. a result that could not be pickled
        _log.warning("a batch of %d files failed: %s", len(chunk), error, exc_info=True)
        reason = f"parsing failed ({type(error).__name__}: {error})"
        return pool, [ParsedFile(file, (), reason) for file in chunk]


def _chunks(head: list[SourceFile], rest: Iterator[SourceFile]) -> Iterator[list[SourceFile]]:
    for start in range(0, len(head), _CHUNK_FILES):
        yield head[start : start + _CHUNK_FILES]
    while chunk := list(islice(rest, _CHUNK_FILES)):
        yield chunk


def _start_pool(worker_count: int) -> ProcessPoolExecutor:
    # ``fork`` would copy a parent that may run threads (the language server),
    # which can deadlock; ``forkserver`` forks from a clean, single-threaded
    # process that has already imported the parser.
    method = "forkserver" if sys.platform != "win32" else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["quiver.parse.batch"])
    return ProcessPoolExecutor(max_workers=worker_count, mp_context=context)


def _parse_chunk(files: list[SourceFile], max_file_size: int) -> list[_FileRecords]:
    return [_parse_to_records(file, max_file_size) for file in files]
