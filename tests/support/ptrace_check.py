"""Whether ptrace works here; under PYDBG_REQUIRE_PTRACE=1 its absence is a test failure."""

from __future__ import annotations

import os
from functools import lru_cache

import pytest


@lru_cache(maxsize=1)
def ptrace_problem() -> str | None:
    from pydbg.errors import PydbgError
    from pydbg.ptrace import Process, StopReason
    try:
        proc = Process.launch(["/bin/true"])
        event = proc.cont()
        if event.reason is not StopReason.EXITED:
            proc.kill()
            return f"unexpected stop under ptrace: {event}"
    except (OSError, PydbgError) as exc:
        return f"ptrace does not work here: {exc}"
    except Exception as exc:  # the binding raises its own PtraceError type
        return f"ptrace does not work here: {exc}"
    return None


def require_ptrace() -> None:
    problem = ptrace_problem()
    if problem is None:
        return
    if os.environ.get("PYDBG_REQUIRE_PTRACE") == "1":
        pytest.fail(f"PYDBG_REQUIRE_PTRACE=1 but {problem}", pytrace=False)
    pytest.skip(problem)


def live_children() -> list[int]:
    """Our child processes that still exist (zombies included): a test must reap them all."""
    pids = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return pids


@pytest.fixture(autouse=True)
def ptrace_and_no_orphans():
    """For tests that drive real processes: ptrace must work, and no child may be left."""
    require_ptrace()
    before = set(live_children())
    yield
    left = set(live_children()) - before
    assert not left, f"test left child processes behind: {sorted(left)}"
