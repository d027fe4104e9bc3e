"""watch / rwatch / awatch against gdb on fixtures/watch.c at -O0 and -O2, PIE and not.

Globals of 1, 2, 4, 8 and 16 bytes, an unaligned member (three debug registers), a struct
member, array elements, a local of a recursive function (deleted when its frame returns,
through continue, next and finish), hits while stepping, conditions, ignore counts, `run`
again, a watchpoint set before the program runs, and a global written by another thread.
"""

from __future__ import annotations

import re

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

SCENARIOS = {
    "sizes": ["break main", "run", "watch g_char", "awatch g_short", "watch counter",
              "watch g_long", "info watchpoints", "continue", "continue", "continue",
              "continue", "continue", "info watchpoints"],
    "wide-and-unaligned": ["break main", "run", "watch g_pair", "continue", "continue",
                           "delete", "watch g_packed.val", "watch g_point.y", "continue",
                           "continue", "delete", "watch g_array[3]", "awatch g_array[4]",
                           "info watchpoints", "continue", "continue", "info watchpoints"],
    # x86 cannot watch reads alone: a read watchpoint ignores the write that changes it.
    "read": ["break main", "run", "rwatch g_reads", "continue", "continue", "continue",
             "continue", "info watchpoints", "delete", "continue"],
    "recursive-local": ["break depth_sum if n == 1", "run", "watch local",
                        "info watchpoints", "continue", "continue", "info watchpoints",
                        "delete", "continue"],
    "scope-finish-next": ["break depth_sum if n == 0", "run", "watch local", "finish",
                          "info watchpoints", "watch local", "next", "next", "next",
                          "next", "info watchpoints", "delete", "continue"],
    # a local of an outer frame: its own return ends it, not the inner frame's
    "outer-frame": ["break depth_sum if n == 0", "run", "up", "watch local", "delete 1",
                    "continue", "continue"],
    "stepping": ["break main", "run", "watch counter", "next", "next", "next", "next",
                 "step", "step", "step", "finish", "finish"],
    "conditions": ["break main", "run", "watch counter if counter > 5", "awatch g_reads",
                   "ignore 3 1", "info watchpoints", "continue", "continue", "continue",
                   "info watchpoints", "disable 3", "continue"],
    "rerun": ["break add", "run", "watch counter", "continue", "run", "continue",
              "continue", "disable 2", "continue", "info breakpoints"],
    "before-run": ["watch counter", "watch -location g_point.y", "info watchpoints", "run",
                   "info watchpoints", "continue", "continue", "continue"],
}
CASES = [(name, v) for name in SCENARIOS for v in VARIANTS]


def _clean(text: str) -> str:
    """The program starts a thread at its end; how gdb reports the threads exiting varies
    run to run (the main thread too, `[New process N]`): thread notices are not compared."""
    text = re.sub(r"(?m)^\[(?:New )?(?:Thread|process) [^\]]*\]\n", "", text)
    return normalize(text)


def _compare(exe, commands: list[str]) -> str:
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert _clean(got.stdout) == _clean(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()
    return got.stdout


@pytest.mark.parametrize("scenario,variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_watchpoints_match_gdb(scenario: str, variant: str) -> None:
    exe = build("watch.c", VARIANTS[variant])
    out = _compare(exe, SCENARIOS[scenario])
    assert "watchpoint" in out


def _without_thread_names(text: str) -> str:
    """pydbg does not yet print gdb's `[Switching to Thread ...]` and `Thread 2 "watch"
    hit ` (for breakpoints neither): compare the rest of the report."""
    text = re.sub(r"(?m)^\[Switching to Thread .*\]\n", "", text)
    text = re.sub(r'(?m)^Thread \d+ "[^"]*" hit ', "", text)
    return _clean(text)


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_write_from_another_thread_triggers(variant: str) -> None:
    exe = build("watch.c", VARIANTS[variant])
    commands = ["watch g_thread_value", "run", "info watchpoints", "continue"]
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert _without_thread_names(got.stdout) == _without_thread_names(expected.stdout)
    assert "New value = 42" in got.stdout
    assert "exited normally" in got.stdout


def test_errors_when_set() -> None:
    """gdb's texts where it has them; the four-register limit is checked when a watchpoint
    is set (gdb finds out at the next resume). What a single watchpoint cannot get from
    the debug registers becomes a software one (test_software_watchpoints_vs_gdb.py)."""
    exe = build("watch.c", VARIANTS["O2"])
    commands = ["watch 5", "rwatch 5", "watch", "watch nosuch", "rwatch g_big",
                "awatch g_big", "break add", "run", "rwatch sum", "watch g_pair", "watch g_long", "watch g_point", "watch counter",
                "info watchpoints", "delete 4", "watch counter", "continue"]
    got = run_pydbg(exe, commands)
    assert got.stderr.splitlines() == [
        "Cannot watch constant value `5'.",
        "Cannot watch constant value `5'.",
        "Argument required (expression to compute).",
        'No symbol "nosuch" in current context.',
        "Expression cannot be implemented with read/access watchpoint.",
        "Expression cannot be implemented with read/access watchpoint.",
        # at -O2 `sum` lives in a register
        "Expression cannot be implemented with read/access watchpoint.",
        "There are not enough available hardware resources for this watchpoint.",
    ]
    assert "Hardware watchpoint 5: counter" in got.stdout
    assert "Old value = 0\nNew value = 3" in got.stdout
