"""Calling functions of the program (`print f(...)`, `call f(...)`) against gdb: each kind
of argument and return value, stops inside a called function, signals, exit, no process.
"""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg
from tests.support.session import Recorder


def compare(exe, commands: list[str]) -> str:
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert normalize(got.stdout) == normalize(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()
    return got.stdout


# Stopped after `op = add`, so the function pointer is set.
VALUES = [
    "break 94", "run",
    "p add(2, 3)", "call twice(4)", "p add(1,2) * 10", "p add(add(1,2), add(3,4))",
    "p mul_long(100000, 100000)", "p next_char('a')", "p next_char(255)", "p neg_short(7)",
    "p is_even(4)", "p is_even(3)",
    # double, float and long double arguments and results (xmm0-7, st0, the stack)
    "p half(5)", "p half(5.0)", "p fmix(1.5, 2, 0.25)", "p ldscale(1.25, 3)",
    "p dsum10(1,2,3,4,5,6,7,8,9,10)", "p sum8(1,2,3,4,5,6,7,8)",
    # pointers and strings: a literal is copied into the program's memory
    "p length(\"hello\")", "p length(buffer)", "p first_char(\"xyz\")", "p name_of(4)",
    "p cell_at(1)", "p *cell_at(2)", "p cell_at(0)[1]", "p length(names[2])",
    "call copy_into(buffer, \"copied\")", "p buffer",
    # varargs: default promotions, and al = vector registers used
    "p sum_ints(3, 10, 20, 30)", "p sum_ints(2, 'a', (short)2)", "p avg(2, 1.0, 2.0)",
    "p avg(2, 1.5f, 2.5f)",
    # structs by value and returned in registers or memory
    "p pair_sum(origin)", "p dpair_sum(make_dpair(2.5))", "p big_sum(large)",
    "p make_pair(3, 4)", "p make_dpair(0.5)", "p make_mixed(9, 0.25)", "p make_big(10)",
    "p make_tiny('z')", "p make_pair(5,6).b", "p make_big(1).v[3]",
    # void functions: print shows `void`, call nothing
    "p bump(2)", "call bump(3)", "p calls",
    # a K&R definition, function pointers, recursion
    "p old_style(40, 'b')", "p op(3, 4)", "p (*op)(5, 6)", "p factorial(5)",
    "p ((int (*)(int, int))add)(20, 22)",
    # C's conversions of the arguments and gdb's checks
    "p add(1)", "p add(1, 2, 3)", "p add(1.9, 2)", "p calls(1)", "p cells(1)",
    "p &add(1,2)", "p add(1,2) = 5", "p -add(1,2)", "p add(1,2) ? 10 : 20",
    # libc: unknown return types need a cast; ifuncs call what their resolver picks
    "p strlen(\"abc\")", "p (int)strlen(\"abc\")", "p (long)labs(-5)", "p abs(-3)",
    "p wcslen(L\"ab\")", "p (int)wcslen(L\"abc\")", "whatis strlen(\"x\")",
    "whatis (long)strlen(\"x\")", "p (int)(strlen(\"abc\"))", "p (char)add(60, 5)",
    "output add(5,5)", "call/x add(255, 0)", "p/x add(255, 1)", "call (void)add(1,2)",
    "p (void)add(1,2)", "whatis add(1,2)", "ptype make_pair(1,2)", "p sizeof(make_big(1))",
    "p $", "p $$3", "call", "p calls",
]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_arguments_and_return_values(variant: str) -> None:
    out = compare(build("infcall.c", VARIANTS[variant]), VALUES)
    assert "$1 = 5" in out and "{v = {10, 11, 12, 13}}" in out


@pytest.mark.parametrize("variant", ["O0", "O2", "O2-nopie"])
def test_breakpoint_inside_a_called_function(variant: str) -> None:
    """gdb's message, the `<function called from gdb>` frame, and the silent stop when
    the function returns later (continue, finish, next)."""
    compare(build("basic.c", VARIANTS[variant]),
            ["break sub", "run", "break add", "info registers rip",
             "p twice(4)", "bt", "frame 2", "frame 3", "p a", "p add(7,7)", "frame",
             "bt full", "continue", "bt", "info registers rip",
             "p add(1,1)", "p add(2,2)", "bt", "finish", "bt", "up", "finish", "bt",
             "p add(5,5)", "next", "next", "next", "next", "bt", "info registers rip",
             "delete", "p twice(6)", "continue"])


def test_breakpoint_at_the_called_address_is_hit_at_once() -> None:
    compare(build("infcall.c", VARIANTS["O0"]),
            ["break main", "run", "break *add", "p add(1,2)", "bt", "c", "p calls",
             "info breakpoints"])


def test_display_shows_at_a_stop_in_a_called_function_and_commands_do_not_run(
        tmp_path) -> None:
    script = tmp_path / "commands.gdb"
    script.write_text("commands 2\np 999\nend\n")
    compare(build("basic.c", VARIANTS["O0"]),
            ["break sub", "run", "display counter", "break add", f"source {script}",
             "p add(1,2)", "p 5", "c", "p 6"])


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_signal_and_exit_inside_a_called_function(variant: str) -> None:
    compare(build("infcall.c", VARIANTS[variant]),
            ["break 94", "run", "p crash(0)", "bt", "p calls", "c",
             "run", "call leave(3)", "info registers rip", "p add(1,2)", "bt"])


def test_without_a_process() -> None:
    compare(build("infcall.c", VARIANTS["O0"]),
            ["p add(2, 3)", "call twice(4)", "p add(1)", "p nosuch(1)", "p add(nosuch)",
             "whatis add(1,2)", "ptype make_big(3)", "p sizeof(add(1,2))", "call",
             "p 5", "call", "call 7", "call (void)0", "p (int)(void)0",
             "output (long)$nonexistent"])


def test_registers_are_put_back_exactly() -> None:
    rec = Recorder(build("infcall.c", VARIANTS["O0"]))
    try:
        rec.run("break factorial")
        rec.run("run")
        before = rec.run("info all-registers")
        rec.run("up")
        frame = rec.run("frame")
        outputs = [rec.run(line) for line in (
            "p dsum10(1,2,3,4,5,6,7,8,9,10)", "p ldscale(1.5, 2)", "p make_big(3)",
            "call bump(1)", "p avg(2, 1.0, 2.0)", "p length(\"four\")")]
        assert outputs == ["$1 = 385\n", "$2 = 3\n", "$3 = {v = {3, 4, 5, 6}}\n", "",
                           "$4 = 1.5\n", "$5 = 4\n"]
        assert rec.run("frame") == frame            # frame 1 stays selected
        rec.run("frame 0")
        assert rec.run("info all-registers") == before
        assert not rec.target.dummy_frames
        assert not [b for b in rec.target.breakpoints.all() if b.kind == "call_dummy"]
        # The program goes on as if nothing had happened.
        assert "factorial (n=2)" in rec.run("continue")
    finally:
        rec.close()


def test_abandoned_call_is_forgotten_by_a_new_run() -> None:
    rec = Recorder(build("basic.c", VARIANTS["O0"]))
    try:
        rec.run("break add")
        rec.run("run")
        assert "will be abandoned" in rec.error("p twice(3)")
        assert len(rec.target.dummy_frames) == 1
        rec.run("delete")
        rec.run("run")
        assert not rec.target.dummy_frames
        assert "[Inferior 1 (process" in rec.stdout.getvalue().splitlines()[-1]
    finally:
        rec.close()


def test_call_in_a_threaded_program() -> None:
    rec = Recorder(build("threads.c", VARIANTS["O0"] + ["-pthread"]))
    try:
        rec.run("break work")
        rec.run("run")
        rec.run("delete")
        assert rec.run("p work(2, 3)").splitlines()[-1] == "$1 = 23"
    finally:
        rec.close()


def test_python_api_calls_functions() -> None:
    import subprocess

    import pydbg
    from pydbg.errors import PydbgError
    from tests.support.oracle import CLEAN_ENV
    exe = str(build("infcall.c", VARIANTS["O0"]))
    with pydbg.spawn([exe], env=dict(CLEAN_ENV), stdout=subprocess.DEVNULL) as dbg:
        dbg.break_at("factorial")
        stop = dbg.cont()
        assert stop.frame["n"] == 3
        assert dbg.evaluate("add(40, 2)") == 42
        assert dbg.evaluate("half(5)") == 2.5
        assert dbg.frame.evaluate("add(1, 2) + n") == 6
        with pytest.raises(PydbgError, match="stopped while in a function called"):
            dbg.evaluate("factorial(4)")


def test_a_call_cut_short_returns_silently_later():
    """If running the called function raises inside the engine, its dummy frame is left
    unclaimed: when the function returns later the old registers come back silently."""
    rec = Recorder(build("basic.c", VARIANTS["O0"]))
    try:
        rec.run("break add")
        rec.run("run")
        before = rec.target.registers()
        import pydbg.engine.infcall as infcall
        real = infcall.InferiorCall._run

        def interrupted(self, dummy, address):
            raise KeyboardInterrupt
        infcall.InferiorCall._run = interrupted
        try:
            rec.run("print twice(4)")
        except KeyboardInterrupt:
            pass
        finally:
            infcall.InferiorCall._run = real
        dummies = rec.target.dummy_frames
        assert len(dummies) == 1 and not dummies[0].claimed
        out = rec.run("continue")            # twice() runs into add's breakpoint...
        assert "Breakpoint 1, add (a=4, b=4)" in out
        out = rec.run("continue")            # ...then returns to its dummy frame
        assert out == ""
        after = rec.target.registers()
        assert rec.target.dummy_frames == []
        assert after == before               # every register put back, silently
    finally:
        rec.close()
