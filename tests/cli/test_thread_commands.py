"""Threads as gdb shows them: `Thread N "name" hit ...` stop reports, [Switching to ...],
info threads, thread, thread apply/name/find, taas and $_thread, against gdb itself.

fixtures/threads_park.c makes the stops deterministic: every thread but the last worker
sleeps in park() when that worker stops. Only the order of [New Thread ...] and
[Thread ... exited] notices depends on timing (in gdb too): they are compared as sets.
"""

from __future__ import annotations

import re

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

_NOTICE = re.compile(r"^\[(New Thread|Thread) 0x[0-9a-f]+ \(LWP N\)( exited)?\]$")
# gdb's linux-nat says this when the main thread is seen exiting before the others.
_GDB_ONLY = "[New process PID]"


def _park(variant: str = "O0") -> str:
    return str(build("threads_park.c", [*VARIANTS[variant], "-pthread"]))


def _same_as_gdb(exe: str, commands: list[str], args: list[str] = ()) -> str:
    """Run both; the text must match but for the order of thread notices. Returns it."""
    expected, got = run_gdb(exe, commands, args), run_pydbg(exe, commands, args)

    def split(text: str) -> tuple[list[str], list[str]]:
        lines = [line for line in normalize(text).splitlines() if line != _GDB_ONLY]
        return ([line for line in lines if not _NOTICE.match(line)],
                sorted(line for line in lines if _NOTICE.match(line) and "exited" not in line))
    assert split(got.stdout) == split(expected.stdout)
    assert got.stderr == expected.stderr
    return normalize(got.stdout)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_stop_reports_name_the_thread(variant):
    """Breakpoint, watchpoint and temporary breakpoint hits in thread 4, each one after
    [Switching to ...] only when the thread selected at the resume was another one."""
    out = _same_as_gdb(_park(variant), [
        "break stop_here", "run", "bt 1", "thread 1", "watch counter", "continue",
        "continue", "tbreak done", "continue", "info breakpoints"])
    assert out.count("[Switching to Thread 0x") == 2
    assert re.search(r'\nThread 4 "threads_park" hit Breakpoint 1(\.\d)?, stop_here \(', out)
    assert 'Thread 4 "threads_park" hit Hardware watchpoint 2: counter' in out
    assert 'Thread 4 "threads_park" hit Temporary breakpoint 3, done (' in out


def test_thread_switching_commands():
    out = _same_as_gdb(_park(), [
        "break stop_here", "run", "info threads", "thread", "p $_thread", "thread 1",
        "thread", "p $_thread", "p $_gthread", "p $_inferior", "ptype $_thread", "bt",
        "thread 2", "info threads", "thread 1.4", "up", "thread 4", "frame",
        "info threads 2 4", "info threads 1-2", "info threads -gid", "info threads 9",
        "set $n = 3", "thread $n", "thread 2 3"])
    assert "* 4    Thread 0x" in out and "[Switching to thread 1 (Thread 0x" in out


def test_thread_apply_and_names():
    _same_as_gdb(_park(), [
        "break stop_here", "run", "thread apply all bt 1", "thread apply 1 3 p $_thread",
        "thread apply 1-2 4 p $_thread", "thread apply all -ascending p $_thread",
        "thread apply all -q p $_thread", "taas p $_thread", "thread apply all -s p nosuch",
        "thread apply 1 2 -c p nosuch", "thread apply 2 -s -q p 1", "thread apply 1 thread",
        "thread name parked", "thread 1", "thread name main thread", "info threads 1 4",
        "thread find main", "thread find park", "thread find (LWP", "thread find zzz",
        "thread name", "thread find main", "thread apply 9 p 1", "p $_thread"])


def test_thread_errors():
    _same_as_gdb(_park(), [
        "thread", "thread 1", "info threads", "info threads 1", "thread apply all p 1",
        "thread name x", "thread find x", "p $_thread", "break stop_here", "run",
        "thread 9", "thread foo", "thread 0", "thread -1", "thread 1.0", "thread 2.1",
        "thread 1-2", "thread apply", "thread apply all", "thread apply 1",
        "thread apply 1 2", "thread apply foo p 1", "thread apply 0 p 1",
        "thread apply 3-2 p 1", "thread apply all -c -s p 1", "info threads foo",
        "info threads -foo", "thread find"])


def test_continuing_from_another_thread():
    """The thread that hit the breakpoint steps past it first (one hit, not two), and
    the signal a thread got is delivered to it, not to the selected thread."""
    out = _same_as_gdb(_park(), ["break stop_here", "tbreak done", "run", "thread 2",
                                 "continue", "info breakpoints"])
    assert "breakpoint already hit 1 time" in out
    out = _same_as_gdb(_park(), ["break stop_here", "break on_usr1", "run", "continue",
                                 "thread 1", "continue", "p $_thread"], ["signal"])
    assert 'Thread 4 "threads_park" received signal SIGUSR1' in out
    assert 'Thread 4 "threads_park" hit Breakpoint 2, on_usr1 (sig=10)' in out


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_signals_name_the_thread(variant):
    """`received signal` comes before [Switching to ...], as gdb prints it while handling
    the event; a `nostop print` signal names its thread too."""
    out = _same_as_gdb(_park(variant), ["break stop_here", "run", "thread 2", "continue",
                                        "thread 1", "continue"], ["crash"])
    assert "received signal SIGSEGV, Segmentation fault.\n[Switching to Thread 0x" in out
    assert "Program terminated with signal SIGSEGV" in out
    out = _same_as_gdb(_park(variant), ["handle SIGUSR1 nostop print", "run"], ["signal"])
    assert 'Thread 4 "threads_park" received signal SIGUSR1, User defined signal 1.' in out


@pytest.mark.parametrize("static", [False, True])
def test_single_threaded_programs_keep_their_reports(static):
    """One thread: `Breakpoint 1, ...`, no [Switching ...]; the target id is the pthread
    (libc's nptl loaded), or `process N` in a static program without threads."""
    flags = [*VARIANTS["O0"], "-static"] if static else VARIANTS["O0"]
    exe = str(build("basic.c", flags, name="basic_static" if static else None))
    out = _same_as_gdb(exe, ["break add", "run", "info threads", "thread", "thread 1",
                             "thread apply all bt 1", "p $_thread", "continue", "kill",
                             "info threads", "thread"])
    assert "\nBreakpoint 1, add (" in out and "Switching to Thread" not in out
    assert ("process PID" in out) == static


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_stepping_a_thread_blocked_in_a_system_call(variant):
    """gdb's steps let every thread run: stepping a thread that waits in a system call
    does not hang; the step ends where another thread stops (here thread 4 at `done`), or
    at the exit."""
    out = _same_as_gdb(_park(variant), ["break stop_here", "tbreak done", "run", "thread 1",
                                        "stepi", "p $_thread", "thread 2", "next"])
    assert re.search(r'\[Switching to Thread 0x[0-9a-f]+ \(LWP N\)\]\n\n'
                     r'Thread 4 "threads_park" hit Temporary breakpoint 2, done ', out)
    assert out.endswith("exited normally]")
