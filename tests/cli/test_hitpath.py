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


# ------------------------------------------------------------------ hit filters
# After the first hit at an address, hits that only report and continue are decided by a
# filter inside the process layer (Process.wait absorbs them): counts, output and changes
# made at a stop must be what gdb shows.

@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_filtered_condition_keeps_counts_and_sees_a_changed_condition(variant):
    exe = build("hitpath_exprs.c", VARIANTS[variant])
    commands = ["break probe if i == 1", "run", "info breakpoints",
                "condition 1 i == 2", "continue", "print i", "info breakpoints",
                "condition 1 i > 100", "continue", "info breakpoints"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert pydbg.stderr == gdb.stderr
    assert "breakpoint already hit 2 times" in gdb.stdout and "$1 = 2" in gdb.stdout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_filtered_dprintf_prints_every_hit_and_counts_them(variant):
    exe = build("hitpath_exprs.c", VARIANTS[variant])
    commands = ['dprintf probe,"i=%d l=%ld p=%p\\n", i, l, p', "run", "info breakpoints"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert "already hit 6 times" in gdb.stdout


def _filtered_hits(variant: str, commands: list[str]) -> tuple[str, int]:
    """Output of COMMANDS and how many hits the process layer absorbed."""
    from tests.support.session import Recorder
    ops: list[str] = []
    rec = Recorder(build("hitpath_exprs.c", VARIANTS[variant]))
    rec.target.observer = lambda op: ops.append(op.op)
    try:
        out = "".join(rec.run(c) for c in commands)
    finally:
        rec.close()
    return out, ops.count("filtered-hit")


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_hits_after_the_first_are_absorbed_by_the_filter(variant):
    out, absorbed = _filtered_hits(variant, ['dprintf probe,"i=%d\\n", i', "run"])
    assert [line for line in out.splitlines() if line.startswith("i=")] == \
        [f"i={k - 3}" for k in range(6)]
    assert absorbed == 5                      # all but the first, which compiled the format
    out, absorbed = _filtered_hits(variant, ["break probe if i == 2", "run", "print i"])
    assert "$1 = 2" in out and absorbed == 4  # k = 1..4 are false; k = 5 stops


def test_no_filter_where_a_hit_must_stop_or_count_down():
    """Ignore counts and temporary breakpoints go the engine's way; once the temporary
    one is gone, the dprintf sharing its address is filtered."""
    out, absorbed = _filtered_hits("O0", ["break probe", "ignore 1 3", "run", "print i"])
    assert "$1 = 0" in out and absorbed == 0
    out, absorbed = _filtered_hits("O0", ['dprintf probe,"i=%d\\n", i', "tbreak probe",
                                          "run", "continue"])
    assert "Temporary breakpoint 2, probe" in out
    assert sum(line.startswith("i=") for line in out.splitlines()) == 6
    assert absorbed == 4     # hit 1 stops, hit 2 goes the engine's way and sets the filter


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_stop_at_a_dprintf_address_names_the_breakpoint_like_gdb(variant):
    exe = build("hitpath_exprs.c", VARIANTS[variant])
    commands = ['dprintf probe,"i=%d\\n", i', "tbreak probe", "run", "continue"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert "\nTemporary breakpoint 2, probe (" in gdb.stdout


@pytest.mark.parametrize("kind", ["dprintf", "condition"])
def test_a_filtered_hit_whose_emulation_fails_is_stepped_over_once(kind):
    """If the emulated step-over fails after the filter decided (memory it needs is not
    there), the hit goes up marked decided: not printed or evaluated again, stepped
    over the classic way with every thread stopped."""
    from tests.support.session import Recorder
    rec = Recorder(build("hitpath_exprs.c", VARIANTS["O2"]))
    try:
        rec.run('dprintf probe,"i=%d\\n", i' if kind == "dprintf" else "break probe if i == 2")
        rec.run("break main")
        out = rec.run("run")
        process = rec.target.process
        real, failures = process._emulate, []

        def flaky(th, emu, regs, address):     # fails once, on the third hit's step-over
            failures.append(address)
            return False if len(failures) == 3 else real(th, emu, regs, address)
        process._emulate = flaky
        out = rec.run("continue")
        if kind == "condition":
            out += rec.run("print i") + rec.run("continue")
    finally:
        rec.close()
    assert len(failures) >= 3
    if kind == "dprintf":
        assert [line for line in out.splitlines() if line.startswith("i=")] == \
            [f"i={k - 3}" for k in range(6)]
    else:
        assert out.count("Breakpoint 1, probe") == 1 and "$1 = 2" in out
    assert "exited with code" in out


def test_a_condition_changed_while_running_is_not_decided_by_an_old_filter():
    """A dprintf whose body runs commands (here `condition`) changes a breakpoint in the
    middle of `continue`: the filter built from the old condition must not decide the
    next hits."""
    from tests.support.session import Recorder
    rec = Recorder(build("hitpath_exprs.c", VARIANTS["O0"]))
    try:
        rec.run("break probe if i == 100")
        rec.run("dprintf hitpath_exprs.c:20,\"x\\n\"")
        bp = rec.target.breakpoints.get(2)
        bp.commands = ['printf "at 20\\n"', "condition 1 i == 1"]
        out = rec.run("run") + rec.run("print i")
    finally:
        rec.close()
    assert "Breakpoint 1, probe" in out and "$1 = 1" in out
    assert out.count("at 20") == 4      # calls with i = -3..0 passed line 20 first
