"""`pydbg trace` end to end: exact output on recursion, mutual recursion, globs, line probes,
threads, a crash (its backtrace is gdb's), JSON Lines, --count, -o and -p."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, FIXTURES, REPO, run_gdb

BOOT = (f"import sys; sys.path.insert(0, {str(REPO)!r}); "
        "from pydbg.cli.main import main; sys.exit(main())")


def trace(*args: str, stdin=subprocess.DEVNULL, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `pydbg trace ARGS` as a user would (same environment as gdb in the oracle)."""
    return subprocess.run([sys.executable, "-c", BOOT, "trace", *args], capture_output=True,
                          text=True, env=CLEAN_ENV, cwd=FIXTURES, timeout=timeout, stdin=stdin)


CALLS = """\
[1] fold(n=3)
[1]   fold(n=2)
[1]     fold(n=1)
[1]       fold(n=0)
[1]       fold returned 0
[1]     fold returned 1
[1]   fold returned 3
[1] fold returned 6
[1] is_even(n=3)
[1]   is_odd(n=2)
[1]     is_even(n=1)
[1]       is_odd(n=0)
[1]       is_odd returned 0
[1]     is_even returned 0
[1]   is_odd returned 0
[1] is_even returned 0
[1] norm1(p={x = 3, y = -4})
[1] norm1 returned 7
[1] sql_open(fd=7)
[1] sql_open returned 107
[1] sql_close(fd=107)
[1] sql_close returned 0
[1] scale(v=1.5, k=4)
[1] scale returned 6
+++ exited with code 6 +++
"""


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_recursion_globs_and_return_values(variant):
    exe = build("trace_calls.c", VARIANTS[variant])
    got = trace("-f", "fold", "-f", "is_*", "-f", "norm1", "-f", "sql_*", "-f", "scale",
                "--ret", "--", str(exe))
    assert got.stderr == CALLS
    assert got.stdout == "hello 6 13\n"         # the program's own output is untouched
    assert got.returncode == 6                   # the program's exit status


def test_calls_without_returns_and_string_arguments():
    exe = build("trace_calls.c", VARIANTS["O0-nopie"])
    got = trace("-f", "greet", "-f", "fold", "--", str(exe))
    lines = got.stderr.splitlines()
    assert lines[:4] == ["[1] fold(n=3)", "[1] fold(n=2)", "[1] fold(n=1)", "[1] fold(n=0)"]
    assert re.fullmatch(r'\[1\] greet\(who=0x[0-9a-f]+ "you"\)', lines[4])
    assert lines[5:] == ["+++ exited with code 6 +++"]


def test_line_probe_with_print_expressions():
    exe = build("trace_calls.c", VARIANTS["O0"])
    got = trace("-f", "trace_calls.c:17", "--print", "r", "--print", "n + 1", "--print",
                "nosuch", "--", str(exe))
    err = '<error: No symbol "nosuch" in current context.>'
    assert got.stderr.splitlines() == [
        f"[1] trace_calls.c:17 in fold r=0 n + 1=2 nosuch={err}",
        f"[1] trace_calls.c:17 in fold r=1 n + 1=3 nosuch={err}",
        f"[1] trace_calls.c:17 in fold r=3 n + 1=4 nosuch={err}",
        "+++ exited with code 6 +++"]


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_crash_reports_gdbs_backtrace(variant):
    exe = build("trace_calls.c", VARIANTS[variant])
    got = trace("-f", "crash_now", "--", str(exe), "crash")
    expected_bt = [line for line in run_gdb(exe, ["run", "bt"], ["crash"]).stdout.splitlines()
                   if line.startswith("#")]
    assert len(expected_bt) == 2
    assert got.stderr.splitlines() == [
        "[1] crash_now(where=0x0)",
        "--- SIGSEGV (Segmentation fault) in crash_now at trace_calls.c:66 ---",
        *expected_bt,
        "+++ killed by SIGSEGV (Segmentation fault) +++"]
    assert got.returncode == 128 + 11


def test_threads_are_numbered_as_gdb_numbers_them():
    exe = build("threads.c", [*VARIANTS["O0"], "-pthread"])
    got = trace("-f", "work", "--ret", "-o", "-", "--", str(exe))
    lines = got.stdout.splitlines()
    assert lines[-1] == "+++ exited normally +++"
    assert "total=192" in lines
    # Threads run concurrently: each thread's own lines are in order, the mix is not.
    for worker in range(4):
        number = worker + 2          # thread 1 is main; workers are created in id order
        mine = [line for line in lines if line.startswith(f"[{number}] ")]
        expected = []
        for i in range(3):
            expected += [f"[{number}] work(id={worker}, i={i})",
                         f"[{number}] work returned {worker * 10 + i}"]
        assert mine == expected
    assert len([line for line in lines if line.startswith("[")]) == 24


def test_json_lines():
    exe = build("trace_calls.c", VARIANTS["O0"])
    got = trace("--json", "-f", "sql_*", "-f", "norm1", "--ret", "--print", "sink", "-o", "-",
                "--", str(exe))
    events = [json.loads(line) for line in got.stdout.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events] == ["call", "return", "call", "return", "call",
                                            "return", "exited"]
    norm, _, open_call, open_ret, close_call, _, exited = events
    assert norm["function"] == "norm1" and norm["args"] == {"p": "{x = 3, y = -4}"}
    assert open_call == {"event": "call", "thread": 1, "tid": open_call["tid"],
                         "location": "sql_open", "function": "sql_open", "depth": 0,
                         "args": {"fd": 7}, "print": {"sink": 0}}
    assert open_ret["value"] == 107 and open_ret["depth"] == 0
    assert close_call["args"] == {"fd": 107} and close_call["print"] == {"sink": 7}
    assert exited == {"event": "exited", "code": 6}


def test_count_table_and_output_file(tmp_path):
    exe = build("trace_calls.c", VARIANTS["O2"])
    out = tmp_path / "trace.txt"
    got = trace("--count", "-f", "fold", "-f", "is_*", "-f", "trace_calls.c:17", "-o", str(out),
                "--", str(exe))
    assert got.stderr == ""
    assert out.read_text() == (
        "+++ exited with code 6 +++\n"
        "calls  location\n"
        "    4  fold\n"
        "    2  is_even\n"
        "    2  is_odd\n"
        "    3  trace_calls.c:17\n"
        "   11  total\n")
    got = trace("--count", "--json", "-f", "fold", "-o", "-", "--", str(exe))
    assert got.stdout.splitlines()[-2:] == [
        '{"event": "exited", "code": 6}', '{"event": "summary", "counts": {"fold": 4}}']


def test_attach_to_a_running_process():
    exe = build("spin.c", VARIANTS["O0"])
    spin = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=CLEAN_ENV)
    try:
        ready = spin.stdout.readline()
        assert ready.startswith("READY")
        tracer = subprocess.Popen([sys.executable, "-c", BOOT, "trace", "--count", "-f", "tick",
                                   "-p", str(spin.pid)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=CLEAN_ENV)
        assert tracer.stderr.readline() == f"+++ attached to process {spin.pid} +++\n"
        spin.stdin.write("x")
        spin.stdin.flush()
        assert spin.stdout.readline().strip() == "1000"
        spin.stdin.close()
        out, err = tracer.communicate(timeout=60)
        assert err.splitlines() == ["+++ exited normally +++", "calls  location",
                                    " 1000  tick", " 1000  total"]
        assert tracer.returncode == 0
    finally:
        if spin.poll() is None:
            spin.kill()
        spin.wait()


@pytest.mark.parametrize("args, message, status", [
    (["--", "true"], "pydbg trace: nothing to trace (use -f FUNC or -f FILE:LINE)", 2),
    (["-f", "fold"], "pydbg trace: a program to run (-- PROG ARGS) or -p PID is required", 2),
    (["-f", "nosuch", "--", "TRACE_CALLS"], 'pydbg trace: Function "nosuch" not defined.', 1),
    (["-f", "zz*", "--", "TRACE_CALLS"], 'pydbg trace: No function matches "zz*".', 1),
    (["-f", "x", "--", "./nonexistent"], "pydbg trace: ./nonexistent: No such file or "
                                          "directory.", 1),
    (["--bogus"], "pydbg trace: unrecognized arguments: --bogus", 2),
])
def test_usage_errors(args, message, status):
    exe = str(build("trace_calls.c", VARIANTS["O0"]))
    got = trace(*[exe if a == "TRACE_CALLS" else a for a in args])
    assert got.stderr.splitlines()[0] == message
    assert got.returncode == status
    assert got.stdout == ""


def test_a_reader_going_away_ends_the_trace_quietly():
    exe = build("trace_calls.c", VARIANTS["O0"])
    cmd = f"{sys.executable} -c {BOOT!r} trace -f fold -o - -- {exe} | head -1"
    got = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, env=CLEAN_ENV,
                         cwd=FIXTURES, timeout=60)
    assert got.stdout.splitlines()[0] in ("[1] fold(n=3)", "hello 6 13")
    assert "Traceback" not in got.stderr


def _traced(exe, specs: list[str], *, filters: bool, prints=(), threads=False):
    """Trace in-process; returns (lines, hits the process layer absorbed)."""
    from pydbg.cli.trace import format_text
    from pydbg.engine.target import Target
    from pydbg.engine.tracing import Tracer
    target = Target(str(exe))
    target.settings.environment = dict(CLEAN_ENV)
    ops: list[str] = []
    target.observer = lambda op: ops.append(op.op)
    lines: list[str] = []
    try:
        target.run(stdout=subprocess.DEVNULL, stop_at_entry=True)
        tracer = Tracer(target, expressions=list(prints),
                        sink=lambda e: lines.extend(format_text(e)))
        if not filters:
            tracer._hit_filter = lambda address, bps: None   # noqa: SLF001
        for spec in specs:
            tracer.add_probe(spec)
        for event in tracer.events():
            lines.extend(format_text(event))
    finally:
        target.close()
    return lines, ops.count("filtered-hit")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_probe_hits_after_the_first_are_reported_from_the_process_layer(variant):
    """Without --ret, a probe's later hits are formatted by its compiled closures inside
    the process layer's wait: the same lines as the engine's path gives. (Only where the
    step-over emulates the probed instruction: fold's `cmpl $0,-0x14(%rbp)` at -O0.)"""
    exe = build("trace_calls.c", VARIANTS[variant])
    specs, prints = ["fold", "sql_*", "is_*"], ["sink"]
    fast, absorbed = _traced(exe, specs, filters=True, prints=prints)
    slow, none = _traced(exe, specs, filters=False, prints=prints)
    assert fast == slow and none == 0
    assert absorbed >= 3 and fast[-1] == "+++ exited with code 6 +++"
    assert sum(line.startswith("[1] fold(") for line in fast) == 4


def test_threads_traced_from_the_process_layer_keep_gdb_numbers():
    exe = build("threads.c", [*VARIANTS["O0"], "-pthread"])
    lines, absorbed = _traced(exe, ["work"], filters=True)
    assert absorbed > 0
    for worker in range(4):
        mine = [line for line in lines if line.startswith(f"[{worker + 2}] ")]
        assert mine == [f"[{worker + 2}] work(id={worker}, i={i})" for i in range(3)]
