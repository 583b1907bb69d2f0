"""The malloc controls a long-running server uses: harmless where malloc is not glibc's."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

from quiver.workspace.memory import limit_arenas, release_free_memory


def test_releasing_free_memory_is_safe_to_call_at_any_time() -> None:
    garbage = [bytes(1000) for _ in range(10_000)]
    del garbage
    release_free_memory()
    release_free_memory()


def test_a_malloc_arena_max_set_by_the_user_wins() -> None:
    code = "from quiver.workspace.memory import limit_arenas; print(limit_arenas())"
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={"MALLOC_ARENA_MAX": "4", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "False"


def test_the_arena_cap_is_set_on_glibc() -> None:
    capped = limit_arenas()
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    if on_glibc and not os.environ.get("MALLOC_ARENA_MAX"):
        assert capped is True
