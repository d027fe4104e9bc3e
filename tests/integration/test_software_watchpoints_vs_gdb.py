"""Software watchpoints against gdb on fixtures/watch.c at -O0 and -O2, PIE and not.

`set can-use-hw-watchpoints 0` makes `watch` software ("Watchpoint N: expr"); a value in a
register (`sum` at -O2) or one needing more than four debug registers (g_big) falls back
to one silently, as in gdb. While one is enabled every resume single-steps (into calls)
and the value is checked after each step: changes, conditions, ignore counts, a local's
scope end through continue, next and finish, gdb giving up on an optimized-out value, and
blocking system calls of a threaded program (pthread_join) on the way to exit.
"""

from __future__ import annotations

import re

import pytest

from tests.support.build import VARIANTS, build
# The same comparison as the hardware watchpoints' (thread notices left out).
from tests.integration.test_watchpoints_vs_gdb import _compare

SW = "set can-use-hw-watchpoints 0"
SCENARIOS = {
    "global": [SW, "show can-use-hw-watchpoints", "break main", "run", "watch counter",
               "info watchpoints", "continue", "continue", "continue", "info watchpoints",
               "delete", "continue"],
    "recursive-local": [SW, "break depth_sum if n == 1", "run", "watch local",
                        "info watchpoints", "continue", "continue", "info watchpoints",
                        "delete", "continue"],
    "scope-finish-next": [SW, "break depth_sum if n == 0", "run", "watch local", "finish",
                          "info watchpoints", "watch local", "next", "next", "next",
                          "next", "info watchpoints", "delete", "continue"],
    "outer-frame": [SW, "break depth_sum if n == 0", "run", "up", "watch local",
                    "delete 1", "continue", "continue"],
    "stepping": [SW, "break main", "run", "watch counter", "next", "next", "next", "next",
                 "step", "step", "step", "finish", "finish"],
    "conditions": [SW, "break main", "run", "watch counter if counter > 5", "watch g_long",
                   "ignore 3 1", "info watchpoints", "continue", "continue",
                   "info watchpoints", "disable 2", "watch g_point.y", "continue",
                   "delete", "continue"],
    # `sum` is in a register at -O2 (and optimized out after one step: gdb gives up on
    # it); g_big needs five debug registers. Both become software watchpoints.
    "fallback": ["break add", "run", "watch sum", "watch g_big", "info watchpoints",
                 "continue", "continue", "info watchpoints", "continue", "continue"],
    # hardware watchpoints set before stay hardware; after `set ... 1` they are again.
    "switching": ["break add", "run", SW, "watch sum", "info watchpoints",
                  "set can-use-hw-watchpoints 1", "watch g_long", "info watchpoints",
                  "continue", "continue", "continue", "continue"],
}
CASES = [(name, v) for name in SCENARIOS for v in VARIANTS]


@pytest.mark.parametrize("scenario,variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_software_watchpoints_match_gdb(scenario: str, variant: str) -> None:
    exe = build("watch.c", VARIANTS[variant])
    out = _compare(exe, SCENARIOS[scenario])
    assert re.search(r"(?m)^Watchpoint \d+: ", out)


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_through_thread_creation_and_join(variant: str) -> None:
    """pthread_create/pthread_join single-stepped: the join's futex wait lets the other
    thread run, and the program exits."""
    exe = build("watch.c", VARIANTS[variant])
    out = _compare(exe, ["break 72", "run", SW, "watch counter", "continue", "continue"])
    assert "Watchpoint 2: counter" in out
    assert "exited normally" in out


def test_setting_and_errors() -> None:
    exe = build("watch.c", VARIANTS["O0"])
    out = _compare(exe, ["set can-use-hw-watchpoints", "set can-use-hw-watchpoints foo",
                         "set can-use-hw-watchpoints 2", "show can-use-hw-watchpoints",
                         "set can-use-hw-watchpoints 1+1", "show can-use-hw-watchpoints",
                         SW, "rwatch nosuch", "rwatch 5", "awatch g_big", "rwatch g_reads",
                         "watch g_reads", "info watchpoints", "show can-use-hw-watchpoints"])
    assert "Watchpoint 1: g_reads" in out
    assert "is 0." in out


def test_continue_single_steps_only_for_enabled_software_watchpoints() -> None:
    """Hardware watchpoints, a disabled software one, or none: `continue` is the plain
    resume (the breakpoint hit path is untouched); an enabled software one steps."""
    from pydbg.engine.data import Inspector
    from pydbg.engine.target import Target
    target = Target(build("watch.c", VARIANTS["O0"]))
    try:
        target.add_breakpoint("main")
        target.run()
        watches = target.watchpoints
        hw = watches.add("counter", "write", lambda: Inspector(target))
        assert hw.kind == "hw watchpoint" and not watches.software_active()
        watches.can_use_hw = 0
        sw = watches.add("g_long", "write", lambda: Inspector(target))
        assert sw.kind == "watchpoint" and watches.software_active()
        sw.enabled = False
        assert not watches.software_active()
        sw.enabled = True
        stop = target.cont()
        assert stop.messages[1:] == ["Hardware watchpoint 2: counter", "",
                                     "Old value = 0", "New value = 3"]
    finally:
        target.kill()
