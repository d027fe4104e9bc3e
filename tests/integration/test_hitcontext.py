"""Conditions and dprintf arguments compiled per breakpoint address (engine/hitcontext.py):
every compiled expression gives gdb's value (`print/x`) and the general evaluator's, on every
hit, at -O0 and -O2, PIE and not; hits the closure cannot decide fall back to the evaluator."""

from __future__ import annotations

import io
import os
import re
import signal

import pytest

from pydbg.cli.hitpath import hit_frame
from pydbg.cli.session import Session
from pydbg.engine.hitcontext import ExpressionCompiler, Fallback, NotCompilable
from pydbg.engine.stops import StopKind
from pydbg.engine.target import Target
from pydbg.errors import PydbgError
from pydbg.ptrace import StopReason
from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, FIXTURES, normalize, run_gdb, run_pydbg

HITS = 6
# Every expression the compiler handles, mixing C's promotions and conversions.
EXPRESSIONS = [
    "c", "uc", "s", "us", "i", "u", "l", "ul", "b", "col", "local",
    "c + uc", "s * us", "i - u", "l + ul", "u > i", "i < u", "-1 < u", "c == -128",
    "uc >= 120", "-c", "~uc", "+s", "!p", "!b", "p == 0", "p != 0 && i > 0",
    "i < 0 || u == 0", "col == BLUE", "col == 5", "col + 1", "-col", "b + 1",
    "i * 1000000000", "l * 3", "ul >> 3", "u << 4", "i << 31", "l / 7", "l % 7",
    "i / -2", "-7 % i", "(ul & 0xff) ^ 0x5a", "g_long", "g_uint + 1", "s_char * 2",
    "g_long < g_uint", "'A' + c", "07 + 0x10", "10000000000 + i", "4000000000 + u",
    "$edi", "$rdi + 1", "$sp != 0", "$al", "$pc == $rip", "RED", "GREEN - BLUE",
    "l / (i + 3)", "u << i", "i >= -1 && i <= 1 || us > 40000",
]


def _pydbg_session(exe) -> Session:
    out = io.StringIO()
    target = Target(str(exe))
    # The oracle's environment and directory: the program's stack is laid out as under gdb.
    target.settings.environment = dict(CLEAN_ENV)
    target.settings.cwd = str(FIXTURES)
    return Session(target, stdout=out, stderr=out, batch=True)


def _gdb_values(exe) -> list[list[str]]:
    """gdb's `print/x EXPR` text (or error) for each hit and expression."""
    commands = ["break probe", "run"]
    for _ in range(HITS):
        commands += [f"print/x {e}" for e in EXPRESSIONS] + ["continue"]
    result = run_gdb(exe, commands)
    # Values and errors interleave on stdout and stderr: print each with its own marker.
    text = result.stdout
    values = re.findall(r"^\$\d+ = (.*)$", text, re.M)
    errors = result.stderr.splitlines()
    assert not errors or all("Division by zero" in e or "shift" in e for e in errors), errors
    return values


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_compiled_expressions_match_gdb_and_the_evaluator(variant):
    exe = build("hitpath_exprs.c", VARIANTS[variant])
    gdb_values = iter(_gdb_values(exe))
    session = _pydbg_session(exe)
    target = session.target
    target.add_breakpoint("probe")
    stop = target.run()
    try:
        compiled_count = _compare_hits(session, stop, gdb_values)
    finally:
        target.close()
    # At -O0 everything is on the stack, at -O2 in registers: all of it compiles.
    assert compiled_count >= HITS * (len(EXPRESSIONS) - 6), compiled_count


def _compare_hits(session: Session, stop, gdb_values) -> int:
    target = session.target
    compiled_count = 0
    for hit in range(HITS):
        assert stop.kind is StopKind.BREAKPOINT, stop
        inspector = session.inspector(frame=hit_frame(target))
        raw = target.process.get_registers()._raw
        for text in EXPRESSIONS:
            node = inspector.evaluator().parse(text)
            try:
                general = inspector.evaluate(text)
                size = general.type.size
                want = general.as_int() & ((1 << (8 * size)) - 1)
            except PydbgError as exc:
                general, want = None, str(exc)
            warned = bool(inspector.warnings)
            inspector.warnings.clear()
            if general is not None:
                expected = next(gdb_values)
                assert expected == f"{want:#x}", (text, hit, expected, want)
            try:
                compiled = ExpressionCompiler(inspector, target.read_memory).compile(node)
            except NotCompilable as exc:
                # Only what the evaluator could not read either stays uncompiled.
                assert general is None or general.is_optimized_out, (text, exc)
                continue
            try:
                got = compiled.fn(raw)
            except (Fallback, PydbgError):
                assert general is None or warned, (text, hit)   # the evaluator's error
                continue
            assert not warned, (text, hit)
            assert general is not None, (text, hit, got, want)
            assert got & ((1 << (8 * compiled.type.size)) - 1) == want, (text, hit)
            assert got == general.as_int() or compiled.is_pointer, (text, hit)
            compiled_count += 1
        stop = target.cont()
    assert stop.kind is StopKind.EXITED
    return compiled_count


CONDITIONS = ["i == 1", "u > 2", "c < 0 && uc != 0", "col == BLUE", "p == 0",
              "l / (i + 3) < -1", "local % 2 == 0", "g_long + i > -7", "$edi == -2"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_conditions_and_dprintf_match_gdb(variant):
    exe = build("hitpath_exprs.c", VARIANTS[variant])
    commands = [f"break probe if {c}" for c in CONDITIONS]
    commands += ['dprintf probe,"c=%d uc=%u s=%hd i=%d u=%u l=%ld ul=%lx b=%d col=%d p=%s|%c\\n",'
                 ' c, uc, s, i, u, l, ul, b, col, 0, uc / 3 + 40',
                 "run"] + ["continue"] * 30 + ["info breakpoints"]
    gdb = run_gdb(exe, commands)
    pydbg = run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert normalize(pydbg.stderr) == normalize(gdb.stderr)
    assert sum(line.startswith("c=") for line in gdb.stdout.splitlines()) == HITS


def test_condition_errors_fall_back_to_the_evaluator():
    """A closure that meets a division by zero leaves that hit to the evaluator, whose
    error stops the program as gdb's does; the other hits stay on the closure."""
    exe = build("hitpath_exprs.c", VARIANTS["O2"])
    commands = ["break probe if 100 / (i - 1) == 1000", "run", "print i", "continue",
                "info breakpoints"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert normalize(pydbg.stderr) == normalize(gdb.stderr)
    assert "Division by zero" in gdb.stdout + gdb.stderr


def test_a_sigtrap_from_kill_at_a_one_byte_site_is_a_signal():
    """At a site whose displaced instruction is one byte, a thread can sit just past it:
    a SIGTRAP sent by kill() there must be reported as a signal, not as a hit."""
    exe = build("hitpath_trap.c", VARIANTS["O2"])
    target = Target(str(exe))
    bp = target.add_breakpoint("one_byte_site")
    stop = target.run()
    try:
        assert stop.kind is StopKind.BREAKPOINT and bp in stop.breakpoints
        process = target.process
        site = process.sites[stop.pc]
        assert site.emulation is not None and site.emulation.length == 1
        assert process.step_over_breakpoint() == ("emulated", None)
        assert process.get_pc() == stop.pc + 1
        os.kill(process.pid, signal.SIGTRAP)
        event = process.cont()
        assert event.reason is StopReason.SIGNAL and event.signal == signal.SIGTRAP
        assert event.pc == stop.pc + 1
    finally:
        target.close()


def test_sigtrap_at_a_one_byte_site_like_gdb():
    exe = build("hitpath_trap.c", VARIANTS["O0"])
    commands = ["break one_byte_site", "run", "continue", "continue"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)


@pytest.mark.parametrize("variant", ["O0", "O0-nopie"])
def test_conditions_and_dprintf_in_threads_match_gdb(variant):
    """Hits in four threads: every dprintf line once (in whatever order the threads ran),
    the condition true in exactly one hit, hit counts as gdb's. (At -O2 work's arguments
    are optimized out at its entry: errors, not what this is about.)"""
    exe = build("threads.c", [*VARIANTS[variant], "-pthread"])
    commands = ['dprintf work,"id=%d i=%d\\n",id,i', "break work if id == 2 && i == 1",
                "run", "print id * 100 + i", "continue", "info breakpoints"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)

    def lines(text: str, prefix: str) -> list[str]:
        return sorted(line for line in text.splitlines() if line.startswith(prefix))
    for prefix in ("id=", "$1 = ", "total=", "[Inferior 1"):
        assert lines(normalize(pydbg.stdout), prefix) == lines(normalize(gdb.stdout), prefix)
    assert len(lines(gdb.stdout, "id=")) == 12
    info = normalize(gdb.stdout).split("Num ")[-1]
    assert info in normalize(pydbg.stdout)
    assert pydbg.stderr == gdb.stderr == ""


def test_mask_registers_are_still_shown_after_a_conditional_hit():
    """k0-k7 are read (XSAVE) only for `info registers` and `$kN` now, not on every hit."""
    exe = build("hitpath_exprs.c", VARIANTS["O0"])
    commands = ["break probe if i == 1", "run", "info registers", "p $k1", "up",
                "info registers k0 k7 rip", "p $k0 + 1"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert normalize(pydbg.stdout) == normalize(gdb.stdout)
    assert pydbg.stderr == gdb.stderr
