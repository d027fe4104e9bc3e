"""display/undisplay/info display, breakpoint conditions, and data commands without a
process, against gdb on basic.c; plus what pydbg refuses (calling target functions)."""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg
from tests.support.session import Recorder

CONDITIONS = [
    'break add if *(int*)0 == 1', 'break sub if a - b == 2',
    'break twice if x > 0 && counter >= 3', 'run', 'info breakpoints', 'c', 'c', 'info locals',
    'c',
]

DISPLAYS = [
    'display counter', 'display/x counter', 'break add', 'run', 'display a', 'display/x b',
    'display sum * 2', 'display/i $pc', 'display greeting', 'display/s greeting',
    'display nosuch', 'info display', 'next', 'undisplay 2', 'c', 'undisplay 4-5',
    'info locals', 'finish', 'info display', 'display total', 'display/d counter',
    'info display', 'undisplay 9', 'undisplay', 'info display', 'c',
]

NO_PROCESS = [
    'info locals', 'info args', 'p counter', 'p table', 'p greeting', 'p &table[1]',
    'p *table@2', 'p table[1] + table[2]', 'p add', 'p main', 'ptype add', 'whatis table',
    'p a', 'p $pc', 'p sizeof(table)', 'display counter', 'display/x table', 'info display',
    'x/2dg &table', 'p $_', 'p $__', 'output table', 'set var counter = 1', 'p nosuch',
    'ptype struct nosuch', 'whatis 1 +', 'p (char)',
]

# At -O2 `twice` is inlined and gdb checks a condition's symbols in the block of each
# location when the breakpoint is set; pydbg only parses it then (see the report).
SCENARIOS = {"conditions": (CONDITIONS, ["O0", "O0-nopie"]),
             "displays": (DISPLAYS, ["O0", "O2"]),
             "no-process": (NO_PROCESS, ["O0", "O2-nopie"])}
CASES = [(name, v) for name, (_, variants) in SCENARIOS.items() for v in variants]


@pytest.mark.parametrize("scenario,variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_data_commands_match_gdb(scenario: str, variant: str) -> None:
    exe = build("basic.c", VARIANTS[variant])
    commands = SCENARIOS[scenario][0]
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert normalize(got.stdout) == normalize(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()


def test_condition_error_stops_and_says_so() -> None:
    exe = build("basic.c", VARIANTS["O0"])
    got = run_pydbg(exe, ["break add if *(int *)0 == 1", "run", "p a", "kill"])
    assert "Error in testing breakpoint condition:\nCannot access memory at address 0x0" \
        in got.stderr
    assert "Breakpoint 1, add (a=0, b=0) at basic.c:12" in got.stdout
    assert "$1 = 0" in got.stdout


def test_function_calls_in_conditions_are_refused_clearly() -> None:
    """Commands call functions (tests/integration/test_infcall_vs_gdb.py); a breakpoint
    condition, evaluated while the program runs, does not: the breakpoint stops."""
    rec = Recorder(build("basic.c", VARIANTS["O0"]))
    try:
        rec.run("break add if twice(1) == 2")
        out = rec.run("run")
        assert "Breakpoint 1, add (a=0, b=0) at basic.c:12" in out
        assert rec.session.stderr.getvalue().strip() == (
            "Error in testing breakpoint condition:\nCalling functions of the program is "
            "not supported by pydbg in breakpoint conditions and dprintf.")
        assert rec.run("p sub(5, 2)") == "$1 = 3\n"
    finally:
        rec.close()


def test_display_immediately_when_interactive() -> None:
    """From a terminal gdb shows a new display at once (batch -ex commands do not)."""
    rec = Recorder(build("basic.c", VARIANTS["O0"]))
    try:
        rec.session.from_tty = True
        rec.run("break add")
        rec.run("run")
        assert rec.run("display/x b") == "1: /x b = 0x0\n"
        assert rec.run("display a + b") == "2: a + b = 0\n"
        assert "1: /x b = 0x1" in rec.run("continue")
        assert rec.run("info display").splitlines()[2:] == ["1:   y  /x b", "2:   y  a + b"]
    finally:
        rec.close()
