"""How ``quiver index`` (and a search that indexes first) shows its progress on stderr.

On a terminal: one line rewritten in place (``\\r``) at most every tenth of a second.
Elsewhere (a pipe, a log file, ``make demo`` under CI): a plain line at most every
:data:`PLAIN_INTERVAL_S` seconds, and always one for the last report, so a long
run is never silent and a short one prints a line or two.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

from quiver.api import IndexProgress

#: Seconds between two plain progress lines when stderr is not a terminal.
PLAIN_INTERVAL_S = 5.0
#: Seconds between two redraws of the terminal line (more is only flicker).
TERMINAL_INTERVAL_S = 0.1


class IndexProgressLine:
    """A callable for ``index_tree(progress=...)``; call :meth:`finish` when it returns.

    Each report shows files done, symbols embedded out of those to embed (``~``
    while that total is an estimate), the embedding rate and the time left.
    """

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._terminal = stream.isatty()
        self._clock = clock
        self._started = clock()
        self._last_shown: float | None = None
        self._pending: str | None = None  # the latest line, not shown yet
        self._drawn = False

    def __call__(self, progress: IndexProgress) -> None:
        now = self._clock()
        line = describe(progress, now - self._started)
        interval = TERMINAL_INTERVAL_S if self._terminal else PLAIN_INTERVAL_S
        # The first report is shown at once (the run has started); later ones are throttled.
        if self._last_shown is not None and now - self._last_shown < interval:
            self._pending = line
            return
        self._show(line)
        self._last_shown = now

    def finish(self) -> None:
        """Show the last report if it was held back, and end the terminal line."""
        if self._pending is not None:
            self._show(self._pending)
        if self._terminal and self._drawn:
            self._stream.write("\n")
            self._stream.flush()

    def _show(self, line: str) -> None:
        self._pending = None
        if self._terminal:
            width = shutil.get_terminal_size((80, 20)).columns
            self._stream.write("\r" + line[: width - 1].ljust(width - 1))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
        self._drawn = True


def describe(progress: IndexProgress, elapsed: float) -> str:
    """One line: ``Indexing 64/187 files · 1,024/~5,600 symbols embedded · 45/s · ETA 1m 37s``."""
    parts = [f"Indexing {progress.files_done:,}/{progress.files_total:,} files"]
    to_embed = progress.symbols_to_embed
    if to_embed:
        estimated = "~" if progress.files_done < progress.files_total else ""
        embedded = progress.symbols_embedded
        parts.append(f"{embedded:,}/{estimated}{to_embed:,} symbols embedded")
        if embedded and elapsed > 0:
            rate = embedded / elapsed
            parts.append(f"{rate:,.0f}/s")
            if embedded < to_embed:
                parts.append(f"ETA {_duration((to_embed - embedded) / rate)}")
    else:
        parts.append(f"{progress.symbols:,} symbols")
    return " · ".join(parts)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
