"""The change queue: events coalesce per path and a batch is due after a quiet spell."""

from __future__ import annotations

from pathlib import Path

import pytest

from quiver.workspace.changes import ChangeKind, ChangeQueue, PathChange


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_empty_queue_is_never_due() -> None:
    queue = ChangeQueue(clock=FakeClock())
    assert queue.due_in() is None
    assert not queue.take()


def test_events_for_one_path_coalesce_and_the_latest_wins() -> None:
    queue = ChangeQueue(clock=FakeClock())
    path = Path("/ws/a.py")
    queue.put(path, PathChange(ChangeKind.BUFFER, "v1"))
    queue.put(path, PathChange(ChangeKind.BUFFER, "v2"))
    queue.put(path, PathChange(ChangeKind.DELETED))
    batch = queue.take()
    assert batch.paths == {path: PathChange(ChangeKind.DELETED)}
    assert len(queue) == 0


def test_a_thousand_events_make_one_batch() -> None:
    queue = ChangeQueue(clock=FakeClock())
    for n in range(1000):
        queue.put(Path(f"/ws/f{n}.py"), PathChange(ChangeKind.DISK))
    assert len(queue.take().paths) == 1000


def test_a_batch_is_due_after_a_quiet_spell() -> None:
    clock = FakeClock()
    queue = ChangeQueue(quiet=0.05, max_delay=0.25, clock=clock)
    queue.put(Path("/ws/a.py"), PathChange(ChangeKind.DISK))
    assert queue.due_in() == pytest.approx(0.05)
    clock.now += 0.03
    queue.put(Path("/ws/b.py"), PathChange(ChangeKind.DISK))  # the quiet spell restarts
    assert queue.due_in() == pytest.approx(0.05)
    clock.now += 0.05
    assert queue.due_in() <= 0


def test_continuous_events_still_flush_after_the_maximum_delay() -> None:
    clock = FakeClock()
    queue = ChangeQueue(quiet=0.05, max_delay=0.25, clock=clock)
    for _ in range(10):  # one keystroke every 30 ms: never quiet for 50 ms
        queue.put(Path("/ws/a.py"), PathChange(ChangeKind.BUFFER, "text"))
        clock.now += 0.03
    assert queue.due_in() <= 0


def test_rescans_are_kept_apart_from_path_events() -> None:
    queue = ChangeQueue(clock=FakeClock())
    queue.rescan(Path("/ws/src"))
    queue.rescan(Path("/ws/src"))
    batch = queue.take()
    assert batch.rescan == {Path("/ws/src")}
    assert batch.paths == {}
    assert batch
