"""Breakpoints that only report and continue (dprintf) and never-true conditions, against
gdb: dprintf hits print without a stop (no hook-stop), in frame 0 of the hit even when
another frame was selected, with step-over emulation on and off."""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

SCRIPT = [
    "define hook-stop", 'printf "[hook]\\n"', "end",
    'dprintf add,"a=%d b=%d\\n", a, b',
    "break sub if b == 1",
    "run", "up", "continue",
]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("emulation", ["on", "off"])
def test_dprintf_and_condition_match_gdb(variant, emulation, tmp_path):
    exe = build("basic.c", VARIANTS[variant])
    script = tmp_path / "script.gdb"
    script.write_text("\n".join(SCRIPT) + "\n")
    gdb = run_gdb(exe, [f"source {script}"])
    pydbg = run_pydbg(exe, [f"maint set step-over-emulation {emulation}",
                            "set confirm off", f"source {script}"])
    # Up to the exit: whether hook-stop runs at exit is the scripting commands' business.
    expected = normalize(gdb.stdout).removesuffix("\n[hook]")
    assert normalize(pydbg.stdout).removesuffix("\n[hook]") == expected
    # hook-stop runs for the real stop only (at -O2 sub is folded away: no stop at all).
    assert expected.count("[hook]") == expected.count("\nBreakpoint 2, ")
    assert sum(line.startswith("a=") for line in expected.splitlines()) == \
        (4 if variant.startswith("O0") else 1)


def test_never_true_condition_runs_to_exit_like_gdb():
    exe = build("stepover.c", VARIANTS["O2"])
    commands = ["break so_leaf if x == -1", "run", "info breakpoints"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert "stop only if x == -1" in gdb.stdout and "exited normally" in gdb.stdout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_condition_sees_the_inlined_function_it_breaks_on(variant):
    """At -O2 `add` is inlined into main: its condition is evaluated in the inlined frame,
    where `a` exists, not in main's."""
    exe = build("basic.c", VARIANTS[variant])
    commands = ["break add if a == 2", "run", "print b", "continue"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert pydbg.stderr == gdb.stderr == ""
