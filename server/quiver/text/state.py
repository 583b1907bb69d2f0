"""What an open text index handle searches now, and the writes since its last durable commit.

``TextIndexState`` holds the :class:`~quiver.text.delta.Snapshot` every read
takes (the committed searcher, the in-memory delta's, the hidden ids), the
delta itself, the writes recorded since the last refresh, and the signature of
the ``meta.json`` it loaded. Invariants:

* ``snapshot`` is replaced, never mutated, and always pairs the newest loaded
  commit with the delta's state at the last refresh; reads take it without a
  lock.
* Recorded writes reach the delta in the order they were queued in Tantivy.
  Once more than :data:`MAX_DELTA_DOCUMENTS` documents were written since the
  last commit the state *overflows*: it stops recording, and the writer's next
  refresh commits instead (``DocumentIndex.refresh``).
* A commit or a rollback empties it back to the committed searcher alone.

Its own lock guards this bookkeeping and is never held across a disk commit;
the writer (:mod:`quiver.text.writer`) serialises the calls that change it.
"""

from __future__ import annotations

import threading
from typing import Final

import tantivy

from quiver.text.delta import Delta, Snapshot, Write
from quiver.text.persist import MetaSignature

#: Past this many documents written since the last commit, :meth:`DocumentIndex.refresh`
#: commits instead of growing the in-memory delta (bounds its memory; at that
#: size a durable commit costs little more).
MAX_DELTA_DOCUMENTS: Final = 5_000


class TextIndexState:
    """The snapshot searches read, the in-memory delta, and the writes waiting for a refresh."""

    def __init__(
        self, schema: tantivy.Schema, committed: tantivy.Searcher, signature: MetaSignature
    ) -> None:
        self._schema = schema
        self._lock = threading.Lock()
        self._has_pending = False
        self._unrefreshed: list[Write] = []
        self._unrefreshed_documents = 0
        self._delta_overflow = False
        self._delta: Delta | None = None
        #: What every read takes: immutable, replaced by refresh, commit and reload.
        self.snapshot = Snapshot(committed)
        #: ``meta.json``'s signature when the committed searcher was loaded.
        self.signature = signature

    @property
    def has_pending(self) -> bool:
        """Whether anything was written since the last commit (refreshed or not)."""
        with self._lock:
            return self._has_pending

    @property
    def overflowed(self) -> bool:
        """Whether the writes since the last commit outgrew the delta (refresh must commit)."""
        return self._delta_overflow

    def record(self, write: Write) -> None:
        """Remember a write for the next refresh (the caller holds the writer's lock)."""
        with self._lock:
            self._has_pending = True
            if self._delta_overflow:
                return
            self._unrefreshed.append(write)
            self._unrefreshed_documents += len(write.documents)
            in_delta = self._delta.documents_added if self._delta is not None else 0
            if self._unrefreshed_documents + in_delta > MAX_DELTA_DOCUMENTS:
                # Too big for the delta: the next refresh commits instead.
                self._delta_overflow = True
                self._unrefreshed = []
                self._unrefreshed_documents = 0

    def mark_pending(self) -> None:
        """Note writes the delta does not replay (cluster rewrites): only a commit shows them."""
        with self._lock:
            self._has_pending = True

    def refresh(self) -> None:
        """Replay the recorded writes into the delta and publish a snapshot with them (~5 ms)."""
        with self._lock:
            if not self._unrefreshed:
                return
            delta = self._delta if self._delta is not None else Delta(self._schema)
            delta.apply(self._unrefreshed)
            self._delta = delta
            self._unrefreshed = []
            self._unrefreshed_documents = 0
            self.snapshot = delta.snapshot(self.snapshot.committed)

    def follow(self, committed: tantivy.Searcher, signature: MetaSignature) -> None:
        """Read ``committed`` from now on, with the delta's refreshed writes over it."""
        with self._lock:
            self.signature = signature
            self.snapshot = (
                self._delta.snapshot(committed) if self._delta is not None else Snapshot(committed)
            )

    def reset(self, committed: tantivy.Searcher) -> None:
        """Forget the writes since the last commit (published or dropped); read ``committed``."""
        with self._lock:
            self._has_pending = False
            self._unrefreshed = []
            self._unrefreshed_documents = 0
            self._delta_overflow = False
            self._delta = None
            self.snapshot = Snapshot(committed)

    def clear(self) -> None:
        """Drop the delta and the recorded writes (closing)."""
        with self._lock:
            self._delta = None
            self._unrefreshed = []
