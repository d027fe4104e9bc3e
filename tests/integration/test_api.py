"""The Python API over real processes: spawn/attach, breakpoints with conditions and callbacks,
stops, frames, typed values, registers, memory, stepping, gdb commands, exit status.

Expected values come from the fixture's source (the values it computes) and from gdb's
`print` of the same expressions (for .format())."""

from __future__ import annotations

import subprocess

import pytest

import pydbg
from pydbg.errors import PydbgError, TargetError
from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, run_gdb


@pytest.fixture(params=["O0", "O2"])
def exe(request):
    return str(build("trace_calls.c", VARIANTS[request.param]))


def spawn(exe, *args):
    return pydbg.spawn([exe, *args], env=dict(CLEAN_ENV), stdout=subprocess.DEVNULL)


def test_run_iterates_breakpoint_stops_until_exit(exe):
    with spawn(exe) as dbg:
        bp = dbg.break_at("fold")
        seen = [stop.frame["n"] for stop in dbg.run()]
        assert seen == [3, 2, 1, 0]
        assert bp.hit_count == 4
        assert dbg.exit_code == 6 and dbg.exit_signal is None
        assert not dbg.is_running


def test_conditions_and_callbacks_decide_what_run_yields(exe):
    with spawn(exe) as dbg:
        calls = []

        def on_fold(stop):
            calls.append(int(stop.frame["n"]))
            return stop.frame["n"] == 1

        dbg.break_at("fold", on_hit=on_fold)
        dbg.break_at("sql_open", condition="fd == 7")
        dbg.break_at("sql_close", condition="fd == 0")      # never true
        stops = [(s.kind, s.function, s.breakpoint.number) for s in dbg.run()]
        assert stops == [("breakpoint", "fold", 1), ("breakpoint", "sql_open", 2)]
        assert calls == [3, 2, 1, 0]


def test_frames_args_locals_and_callers(exe, request):
    with spawn(exe) as dbg:
        dbg.break_at("fold", condition="n == 0")
        stop = dbg.cont()
        assert stop.kind == "breakpoint" and stop.pc == dbg.registers.rip
        frame = stop.frame
        assert (frame.function, frame.args, frame.line) == ("fold", {"n": 0}, 14)
        callers = []
        f = frame
        while f is not None:
            callers.append((f.level, f.function))
            f = f.older()
        assert callers == [(0, "fold"), (1, "fold"), (2, "fold"), (3, "fold"), (4, "main")]
        assert [fr.args.get("n") for fr in dbg.backtrace(4)] == [0, 1, 2, 3]
        assert dbg.backtrace()[2]["n + 10"] == 12
        main_locals = dbg.backtrace()[4].locals
        assert set(main_locals) >= {"p", "total", "fd"}
        if request.node.callspec.params["exe"] == "O0":   # -O2 does not keep p around
            assert main_locals["p"] == {"x": 3, "y": -4}


def test_a_stop_goes_stale_when_the_program_moves_on(exe):
    with spawn(exe) as dbg:
        dbg.break_at("fold")
        first = dbg.cont()
        dbg.cont()
        with pytest.raises(TargetError, match="moved on"):
            first.frame.args


def test_values_keep_their_c_types_and_gdbs_text():
    exe = build("trace_calls.c", VARIANTS["O0"])
    exprs = ["grid", "name", "ratios", "corners", "motto", "shade", "flag", "corners[1]",
             "ratios[1] * 2", "&sink", "(char)65"]
    expected_text = {}
    gdb = run_gdb(exe, ["break sql_open", "run"] + [f"print {e}" for e in exprs])
    for line in gdb.stdout.splitlines():
        if line.startswith("$"):
            number, _, text = line.partition(" = ")
            expected_text[exprs[int(number[1:]) - 1]] = text
    with spawn(str(exe)) as dbg:
        dbg.break_at("sql_open")
        dbg.cont()
        values = {e: dbg.evaluate(e) for e in exprs}
        assert {e: v.format() for e, v in values.items()} == expected_text
        assert values["grid"] == [[1, 2, 3], [4, 5, 6]]
        assert isinstance(values["grid"], pydbg.Array) and values["grid"].type_name == "int [2][3]"
        assert values["name"] == "pydbg" and isinstance(values["name"], pydbg.CString)
        assert values["name"].raw == b"pydbg"
        assert values["ratios"] == [0.5, 1.25, -2.0]
        assert isinstance(values["ratios"][0], pydbg.Float)
        assert values["corners"][1] == {"x": -3, "y": 4} and values["corners"][1].y == 4
        assert values["motto"] == "trace all the things"
        assert values["motto"].address == int(dbg.evaluate("(long)motto"))
        assert values["shade"] == 5 and values["shade"].format() == "GREEN"
        assert values["flag"] == 1 and values["flag"].format() == "true"
        assert values["ratios[1] * 2"] == 2.5
        assert isinstance(values["&sink"], pydbg.Pointer)
        assert values["&sink"] == dbg.frame.evaluate("(long)&sink")
        assert values["(char)65"].format("x") == "0x41"
        with pytest.raises(PydbgError, match="No symbol \"nosuch\" in current context."):
            dbg.evaluate("nosuch")
        with pytest.raises(PydbgError, match="Cannot access memory at address 0x0"):
            dbg.evaluate("*crash_target")


def test_registers_and_memory(exe):
    with spawn(exe) as dbg:
        dbg.break_at("sql_open")
        dbg.cont()
        regs = dbg.registers
        assert regs.rdi & 0xFFFFFFFF == 7 or dbg.frame.args == {"fd": 7}
        regs.rax = 0x1122334455667788
        assert (regs.rax, regs.eax, regs["ax"], regs.al) == (0x1122334455667788, 0x55667788,
                                                             0x7788, 0x88)
        assert regs.as_dict()["rax"] == 0x1122334455667788
        with pytest.raises(AttributeError):
            regs.nosuch
        address = int(dbg.evaluate("&sink"))
        dbg.memory.write(address, (1234).to_bytes(4, "little"))
        assert dbg.evaluate("sink") == 1234
        assert dbg.memory.read_int(address, 4) == 1234
        motto = int(dbg.evaluate("(long)motto"))
        assert dbg.memory.read_string(motto) == b"trace all the things"
        assert dbg.memory.read(motto, 5) == b"trace"


def test_finish_and_return_values(exe):
    with spawn(exe) as dbg:
        dbg.break_at("fold", condition="n == 2")
        dbg.cont()
        done = dbg.finish()
        assert done.return_value == 3 and done.function == "fold"
        dbg.break_at("scale")
        dbg.cont()
        assert dbg.finish().return_value == 6.0


def test_step_next_stepi():
    exe = str(build("trace_calls.c", VARIANTS["O0"]))
    with spawn(exe) as dbg:
        dbg.break_at("main")
        dbg.cont()
        line = dbg.frame.line
        dbg.next()
        assert dbg.frame.line > line and dbg.frame.function == "main"
        stop = dbg.step()
        assert stop.function == "fold" and dbg.frame.args == {"n": 3}
        start = dbg.registers.rip
        dbg.stepi()
        assert dbg.registers.rip != start


def test_crash_is_a_signal_stop_with_a_backtrace():
    exe = str(build("trace_calls.c", VARIANTS["O0"]))
    with spawn(exe, "crash") as dbg:
        stops = list(dbg.run())
        assert [(s.kind, s.signal, s.function) for s in stops] == \
            [("signal", "SIGSEGV", "crash_now")]
        assert dbg.exit_signal == "SIGSEGV" and dbg.exit_code is None


def test_execute_gdb_commands(exe):
    with spawn(exe) as dbg:
        out = dbg.execute("break norm1", to_string=True)
        assert out.startswith("Breakpoint 1 at ")
        dbg.cont()
        assert dbg.execute("print p", to_string=True) == "$1 = {x = 3, y = -4}\n"
        with pytest.raises(PydbgError, match='Undefined command: "nosuch"'):
            dbg.execute("nosuch")
        assert [b.location for b in dbg.breakpoints] == ["norm1"]
        dbg.breakpoints[0].delete()
        assert dbg.breakpoints == []


def test_breakpoint_properties(exe):
    with spawn(exe) as dbg:
        bp = dbg.break_at("fold")
        assert bp.addresses and bp.location == "fold" and bp.enabled
        bp.condition = "n == 1"
        assert dbg.cont().frame["n"] == 1
        bp.enabled = False
        bp2 = dbg.break_at("sql_open", temporary=True)
        assert dbg.cont().breakpoint == bp2
        assert bp2 not in dbg.breakpoints
        with pytest.raises(PydbgError):
            bp.condition = "n =="


def test_attach_and_detach():
    exe = build("spin.c", VARIANTS["O0"])
    spin = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=CLEAN_ENV)
    try:
        assert spin.stdout.readline().startswith("READY")
        with pydbg.attach(spin.pid) as dbg:
            assert dbg.pid == spin.pid
            dbg.break_at("tick")
            spin.stdin.write("x")
            spin.stdin.flush()
            stop = dbg.cont()
            assert stop.function == "tick" and dbg.evaluate("ticks") == 0
        # Leaving the with-block detached: the process runs on correctly.
        assert spin.stdout.readline().strip() == "1000"
    finally:
        spin.stdin.close()
        spin.wait(timeout=30)


def test_selected_needs_a_python_command():
    with pytest.raises(TargetError, match="python"):
        pydbg.selected()


def test_spawn_errors():
    with pytest.raises(PydbgError, match="No such file or directory"):
        pydbg.spawn(["/nonexistent/program"])
