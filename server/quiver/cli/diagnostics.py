"""Diagnostics for a long-running ``quiver serve``, switched on by environment variables.

``QUIVER_TRACEMALLOC=S`` traces the server's Python allocations and, every S
seconds, appends to ``QUIVER_TRACEMALLOC_FILE`` (default
``quiver-tracemalloc.txt`` in the working directory) the code lines whose
allocations grew most since the first report. For finding what grows in a
soak (``benchmarks/soak.py --tracemalloc``): tracing makes every allocation
slower, so never on by default. Native memory (Tantivy, ONNX Runtime, glibc's
arenas) is not seen: compare with the process's resident size.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tracemalloc

__all__ = ["trace_allocations_if_asked"]

log = logging.getLogger(__name__)

#: Lines per report.
TOP = 30


def trace_allocations_if_asked() -> None:
    """Start the allocation reports if ``QUIVER_TRACEMALLOC`` asks for them (else nothing)."""
    interval = os.environ.get("QUIVER_TRACEMALLOC")
    if not interval:
        return
    import tracemalloc  # only when asked: it is not free to import at every start

    report = Path(os.environ.get("QUIVER_TRACEMALLOC_FILE", "quiver-tracemalloc.txt"))
    tracemalloc.start(8)
    threading.Thread(
        target=_report_forever,
        args=(float(interval), report),
        name="quiver-tracemalloc",
        daemon=True,
    ).start()


def _report_forever(interval: float, report: Path) -> None:
    import tracemalloc

    started = time.monotonic()
    baseline: tracemalloc.Snapshot | None = None
    ignore = [tracemalloc.Filter(inclusive=False, filename_pattern=tracemalloc.__file__)]
    while True:
        time.sleep(interval)
        snapshot = tracemalloc.take_snapshot().filter_traces(ignore)
        current, peak = tracemalloc.get_traced_memory()
        lines = [
            f"--- {time.monotonic() - started:.0f} s: traced {current / 1e6:.1f} MB "
            f"(peak {peak / 1e6:.1f} MB)"
        ]
        if baseline is None:
            baseline = snapshot
            stats = snapshot.statistics("lineno")[:TOP]
            lines += [f"  {s.size / 1e6:8.2f} MB {s.count:8} blocks  {s.traceback}" for s in stats]
        else:
            for diff in snapshot.compare_to(baseline, "lineno")[:TOP]:
                lines.append(
                    f"  {diff.size_diff / 1e6:+8.2f} MB {diff.count_diff:+8} blocks "
                    f"(now {diff.size / 1e6:.2f} MB)  {diff.traceback}"
                )
        try:
            report.parent.mkdir(parents=True, exist_ok=True)
            with report.open("a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
        except OSError as error:  # the server goes on; the reports stop
            log.warning("Cannot write the allocation report %s: %s", report, error)
            return
