"""The ptrace layer on real processes: launch, sites, stepping over them, memory, exits."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from pydbg.errors import MemoryAccessError, TargetError
from pydbg.ptrace import Process, StopReason
from tests.support.build import VARIANTS, build


def nm_address(exe, name: str) -> int:
    for line in subprocess.run(["nm", str(exe)], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise KeyError(name)


def runtime_base(pid: int, exe) -> int:
    """Load base of a PIE from /proc/PID/maps (independent of pydbg's own computation)."""
    real = os.path.realpath(exe)
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == real and int(parts[2], 16) == 0:
                return int(parts[0].split("-")[0], 16)
    raise AssertionError("executable not mapped")


def test_launch_runs_to_exit_with_code():
    exe = build("basic.c", VARIANTS["O0"])
    proc = Process.launch([str(exe), "5"], stdout=subprocess.DEVNULL)
    event = proc.cont()
    assert event.reason is StopReason.EXITED and event.exit_code == 5
    assert not proc.is_alive


def test_exec_failure_is_one_clear_error(tmp_path):
    with pytest.raises(TargetError, match="No such file or directory"):
        Process.launch([str(tmp_path / "missing")])
    script = tmp_path / "notexec"
    script.write_text("hello")
    with pytest.raises(TargetError, match="Permission denied"):
        Process.launch([str(script)])


@pytest.mark.parametrize("variant", ["O0", "O0-nopie"])
def test_adjacent_breakpoints_and_shadowed_memory(variant):
    exe = build("basic.c", VARIANTS[variant])
    proc = Process.launch([str(exe)], stdout=subprocess.DEVNULL)
    try:
        base = runtime_base(proc.pid, exe) if "nopie" not in variant else 0
        add = nm_address(exe, "add") + base
        original = proc.read_memory(add, 4)
        for offset in (0, 1, 4):   # push %rbp; mov %rsp,%rbp (two sites on neighbours)
            proc.create_site(add + offset).enable()
        assert proc.read_memory_raw(add, 1) == b"\xcc"
        assert proc.read_memory(add, 4) == original          # shadowing hides the int3
        hits = []
        while True:
            event = proc.cont()
            if event.is_exit:
                break
            assert event.reason is StopReason.BREAKPOINT
            hits.append(event.pc - add)
        # add() is called 5 times (3 in the loop, 1 from twice(), ... see basic.c): every
        # call traps at all three sites, in order.
        assert hits == [0, 1, 4] * (len(hits) // 3) and len(hits) >= 12
        assert event.exit_code == 0
    finally:
        proc.kill()


@pytest.mark.parametrize("spin", [0.0, 5.0])
def test_polling_and_blocking_waits_see_the_same_events(spin):
    """wait() polls before it blocks (spin_seconds); never polling, or polling through
    the whole run, must give the same hits and the exit status."""
    exe = build("basic.c", VARIANTS["O0"])
    proc = Process.launch([str(exe)], stdout=subprocess.DEVNULL)
    proc.spin_seconds = spin
    try:
        add = nm_address(exe, "add") + runtime_base(proc.pid, exe)
        proc.create_site(add).enable()
        hits = 0
        while not (event := proc.cont()).is_exit:
            assert event.reason is StopReason.BREAKPOINT and event.pc == add
            hits += 1
        assert hits >= 4 and event.exit_code == 0
    finally:
        proc.kill()


def test_single_step_moves_one_instruction():
    exe = build("basic.c", VARIANTS["O0-nopie"])
    add = nm_address(exe, "add")
    proc = Process.launch([str(exe)], stdout=subprocess.DEVNULL)
    try:
        proc.create_site(add).enable()
        assert proc.cont().pc == add
        event = proc.step_instruction()       # push %rbp (1 byte), stepping off the site
        assert event.reason is StopReason.SINGLE_STEP and event.pc == add + 1
        assert proc.read_memory_raw(add, 1) == b"\xcc"     # the site is back in place
        assert proc.step_instruction().pc == add + 4         # mov %rsp,%rbp (3 bytes)
    finally:
        proc.kill()


def test_unmapped_memory_reports_the_address():
    exe = build("basic.c", VARIANTS["O0"])
    proc = Process.launch([str(exe)])
    try:
        with pytest.raises(MemoryAccessError, match="Cannot access memory at address 0x0"):
            proc.read_memory(0, 8)
    finally:
        proc.kill()


def test_registers_write_back():
    exe = build("basic.c", VARIANTS["O0-nopie"])
    add = nm_address(exe, "add")
    proc = Process.launch([str(exe)], stdout=subprocess.DEVNULL)
    try:
        proc.create_site(add).enable()
        proc.cont()
        proc.set_register("rax", 0x1234)
        proc.step_instruction()
        assert proc.get_registers().rax == 0x1234
    finally:
        proc.kill()


def test_signal_stop_and_exit_by_signal():
    exe = build("crash.c", VARIANTS["O0"])
    proc = Process.launch([str(exe)])
    event = proc.cont()
    assert event.reason is StopReason.SIGNAL and event.signal == signal.SIGSEGV
    event = proc.cont(signal.SIGSEGV)
    assert event.reason is StopReason.KILLED and event.signal == signal.SIGSEGV


def test_kill_reaps_the_process():
    exe = build("spin.c", VARIANTS["O0"])
    proc = Process.launch([str(exe)], stdin=subprocess.PIPE if False else None,
                          stdout=subprocess.DEVNULL)
    pid = proc.pid
    event = proc.kill()
    assert event is not None and event.reason is StopReason.KILLED
    assert not os.path.exists(f"/proc/{pid}")
