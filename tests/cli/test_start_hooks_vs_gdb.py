"""`starti` and when hook-stop runs, with gdb 13 as the oracle: "Program stopped." (and a
signal's line) come before hook-stop; an exit or a signal death runs it after the exit
lines; `kill` does not run it."""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg



@pytest.fixture
def hook(tmp_path):
    """`source` of a file defining hook-stop (gdb reads an -ex block's body from stdin)."""
    path = tmp_path / "hook.gdb"
    path.write_text("define hook-stop\necho [hook]\\n\nend\n")
    return [f"source {path}"]


def _same(exe, commands, args=()):
    gdb = run_gdb(exe, commands, args=args)
    pydbg = run_pydbg(exe, ["set confirm off", *commands], args=args)
    expected = normalize(gdb.stdout)
    assert normalize(pydbg.stdout) == expected
    return expected


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_starti_stops_at_the_first_instruction(variant):
    exe = build("basic.c", VARIANTS[variant])
    out = _same(exe, ["starti 3", "info registers rip", "stepi", "break add", "continue",
                      "delete", "continue", "print $_exitcode"])
    assert out.startswith("\nProgram stopped.\n0x") or out.startswith("Program stopped.\n0x")
    assert "in _start () from " in out
    assert out.endswith("$1 = 3")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_hook_stop_at_starti_breakpoints_and_exit(variant, hook):
    exe = build("basic.c", VARIANTS[variant])
    out = _same(exe, [*hook, "starti", "break add", "continue", "delete", "continue"])
    assert out.startswith("Program stopped.\n[hook]\n0x")
    assert out.endswith("exited normally]\n[hook]")


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_hook_stop_after_a_signal_line_and_a_signal_death(variant, hook):
    exe = build("crash.c", VARIANTS[variant])
    out = _same(exe, [*hook, "run", "continue"])
    assert "Segmentation fault.\n[hook]\n" in out
    assert out.endswith("The program no longer exists.\n[hook]")


def test_kill_does_not_run_hook_stop(hook):
    exe = build("basic.c", VARIANTS["O0"])
    out = _same(exe, [*hook, "break add", "run", "kill", "echo done\\n"])
    assert out.count("[hook]") == 1
