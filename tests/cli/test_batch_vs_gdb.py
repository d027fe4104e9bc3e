"""pydbg -batch against gdb -batch: the same program and commands give the same text.

Frame arguments are blanked until DWARF variables land (`add (...)`); everything else,
register values included, must be identical.
"""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

SCENARIOS = {
    "break-run-registers": (["break add", "run", "info registers", "p $rip", "p/x $sp",
                             "p $sp", "p $eflags", "p/x $eax", "x/8xb $pc", "x/2xg $sp",
                             "x/3i $pc", "continue", "info breakpoints", "continue 2",
                             "info breakpoints", "delete", "continue"], []),
    "tbreak-stepi-nexti": (["tbreak main", "run", "info breakpoints", "stepi", "x/i $pc",
                            "nexti 3", "x/2i $pc", "stepi 2", "info registers rip",
                            "kill"], []),
    "line-breakpoints": (["break basic.c:13", "break 19", "run", "c", "info breakpoints",
                          "c", "c"], []),
    "exit-code": (["run"], ["3"]),
    "conditions-and-ignore": (["break add if $rsi == 2", "break sub", "ignore 2 1",
                               "run", "p $rsi", "info breakpoints", "c", "info breakpoints"],
                              []),
    "set-registers": (["break sub", "run", "set $rax = 5", "p $rax", "set var $rdi = 0x10",
                       "p $rdi", "p $edi + 1", "info registers rax rdi", "c"], []),
    "static-disassemble": (["disassemble add", "disassemble main", "x/4i add", "x/s &greeting",
                            "x/4dg &table", "info breakpoints"], []),
    "runtime-disassemble": (["break twice", "run", "disassemble", "disassemble /r add",
                             "x/2i $pc"], []),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_basic_program_matches_gdb(variant, scenario):
    commands, args = SCENARIOS[scenario]
    exe = build("basic.c", VARIANTS[variant])
    expected = run_gdb(exe, commands, args)
    got = run_pydbg(exe, commands, args)
    assert normalize(got.stdout, frame_args=False) == normalize(expected.stdout, frame_args=False)
    assert got.stderr.strip() == expected.stderr.strip()
    assert got.returncode == expected.returncode


CRASH_SCENARIOS = {
    "segv": (["run", "info registers rip", "x/i $pc", "continue"], []),
    "abort": (["run", "continue"], ["abort"]),
    "sigkill": (["run"], ["kill"]),
}


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
@pytest.mark.parametrize("scenario", list(CRASH_SCENARIOS))
def test_crashing_program_matches_gdb(variant, scenario):
    commands, args = CRASH_SCENARIOS[scenario]
    exe = build("crash.c", VARIANTS[variant])
    expected = run_gdb(exe, commands, args)
    got = run_pydbg(exe, commands, args)
    assert normalize(got.stdout, frame_args=False) == normalize(expected.stdout, frame_args=False)
    assert got.returncode == expected.returncode


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_enable_once_count_and_delete_like_gdb(variant):
    """`enable once` and `enable count N` disable a breakpoint after it stopped the
    program that many times ("dis"); a plain `enable` keeps that disposition."""
    exe = build("basic.c", VARIANTS[variant])
    commands = ["break add", "break sub", "enable once 1", "info breakpoints", "run",
                "info breakpoints", "enable count 2 1", "info breakpoints", "continue",
                "continue", "info breakpoints", "enable 1", "info breakpoints",
                "enable delete 2", "enable count x 1", "enable count", "info breakpoints"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert pydbg.stderr == gdb.stderr
    assert gdb.stderr.endswith("Argument required (hit count).\n")


@pytest.mark.parametrize("command", ["ignore 3 1", "condition 3 x", "delete 3", "disable 3",
                                     "enable 3", "enable once 3"])
def test_missing_breakpoint_numbers_on_gdbs_streams(command):
    """delete/disable/enable report a missing number on stdout (gdb's
    map_breakpoint_numbers: no error); ignore and condition raise an error (stderr)."""
    exe = build("basic.c", VARIANTS["O0"])
    gdb, pydbg = run_gdb(exe, [command]), run_pydbg(exe, [command])
    assert (pydbg.stdout, pydbg.stderr) == (gdb.stdout, gdb.stderr)
    assert "No breakpoint number 3." in gdb.stdout + gdb.stderr


def test_settings_gdb_scripts_set_are_accepted():
    """Lines found at the top of gdb scripts run under pydbg too; a value pydbg cannot
    honour is refused in one line rather than ignored."""
    exe = build("basic.c", VARIANTS["O0"])
    settings = ["set pagination off", "set height 0", "set width 0", "set confirm off",
                "set startup-with-shell off", "set debuginfod enabled off",
                "set non-stop off", "set auto-load safe-path /", "set history save off",
                "set follow-fork-mode parent", "set detach-on-fork on", "set charset UTF-8",
                "set print pretty on", "set breakpoint pending on"]
    gdb, pydbg = run_gdb(exe, settings + ["run"]), run_pydbg(exe, settings + ["run"])
    assert gdb.stderr == pydbg.stderr == ""
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    refused = run_pydbg(exe, ["set non-stop on", "set follow-fork-mode child"])
    assert refused.stderr.splitlines() == [
        'pydbg supports only "set non-stop off": pydbg stops every thread at each stop '
        "(all-stop).",
        'pydbg supports only "set follow-fork-mode parent": pydbg follows the parent '
        "across fork."]
