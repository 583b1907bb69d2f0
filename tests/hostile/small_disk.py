"""A small real disk that can be filled and emptied (a tmpfs; see ``conftest.small_disk``)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


class SmallDisk:
    """A mounted tmpfs of a few megabytes; ``fill()`` takes every free byte, ``free()``
    gives them back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / "filler"

    def fill(self) -> None:
        descriptor = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for chunk in (64 << 10, 512):  # then the last partial block
                with contextlib.suppress(OSError):
                    while True:
                        os.write(descriptor, bytes(chunk))
        finally:
            os.close(descriptor)

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)
