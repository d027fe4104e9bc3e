"""`set debug ptrace on` (teaching mode): the narration tells the truth about each step.

The bytes and instructions it names are checked against objdump and gdb, not against
pydbg itself; the order of operations against what a breakpoint hit must do."""

from __future__ import annotations

import os
import re
import subprocess

from pydbg.engine.explain import describe_status
from tests.support.build import VARIANTS, build
from tests.support.oracle import run_gdb, run_pydbg

NARRATION = re.compile(r"^\[ptrace\] (.*)$", re.M)


def file_byte(exe, address: int) -> int:
    """The byte at a link-time ADDRESS of EXE, from objdump."""
    out = subprocess.run(["objdump", "-d", f"--start-address={address:#x}",
                          f"--stop-address={address + 1:#x}", str(exe)],
                         capture_output=True, text=True, check=True).stdout
    return int(re.search(rf"^\s*{address:x}:\s+([0-9a-f]{{2}})", out, re.M).group(1), 16)


def test_breakpoint_hit_and_step_over_are_told_as_they_happen():
    exe = build("basic.c", VARIANTS["O0-nopie"])
    got = run_pydbg(exe, ["set debug ptrace on", "show debug ptrace", "break add", "run",
                          "continue", "set debug ptrace off", "show debug ptrace",
                          "continue"])
    assert "Narration of ptrace operations is on." in got.stdout
    assert "Narration of ptrace operations is off." in got.stdout
    said = NARRATION.findall(got.stderr)
    site = int(re.search(r"Breakpoint 1 at (0x[0-9a-f]+)", got.stdout).group(1), 16)
    insert = f"insert breakpoint at {site:#x} <add+10>: save byte " \
             f"{file_byte(exe, site):#04x}, write 0xcc (int3)"
    trapped = f"the int3 at {site:#x} <add+10> trapped: rip is {site + 1:#x}, one past " \
              f"it; the breakpoint is at {site:#x}"
    assert insert in said and trapped in said
    # The first hit is reported; `continue` steps over the displaced instruction, which
    # is the one gdb disassembles there, without a second trap.
    gdb_insn = run_gdb(exe, [f"x/i {site:#x}"]).stdout.split(":", 1)[1].strip()
    step = [s for s in said if s.startswith(f"step over {site:#x}")]
    assert step and f"emulate `{' '.join(gdb_insn.split())}`" in step[0]
    first_hit = said.index(trapped)
    assert said[first_hit - 2].startswith("PTRACE_CONT thread ")
    assert re.fullmatch(r"waitpid: thread \d+ stopped by SIGTRAP", said[first_hit - 1])
    # Nothing is said once it is off: two hits were told (run, continue), not three.
    assert said.count(trapped) == 2
    assert got.stdout.count("\nBreakpoint 1, add (") == 3


def test_detach_is_told_byte_by_byte():
    exe = build("basic.c", VARIANTS["O0-nopie"])
    got = run_pydbg(exe, ["break add", "run", "set debug ptrace on", "detach"])
    said = NARRATION.findall(got.stderr)
    site = int(re.search(r"Breakpoint 1 at (0x[0-9a-f]+)", got.stdout).group(1), 16)
    assert f"remove breakpoint at {site:#x} <add+10>: write back " \
           f"{file_byte(exe, site):#04x}" in said
    assert re.fullmatch(r"PTRACE_DETACH \d+: it runs on without us", said[-1])


def test_wait_statuses_in_words():
    assert describe_status(0x57f) == "stopped by SIGTRAP"
    assert describe_status((3 << 16) | 0x57f) == "stopped by SIGTRAP (PTRACE_EVENT_CLONE)"
    assert describe_status(0x0300) == "exited with code 3"
    assert describe_status(0x9) == "killed by SIGKILL"
    assert os.WIFSTOPPED(0x137f) and describe_status(0x137f) == "stopped by SIGSTOP"


def test_bad_setting_is_one_error_line():
    got = run_pydbg(None, ["set debug ptrace maybe", "show debug ptrace"])
    assert got.stderr == "\"on\" or \"off\" expected.\n"
    assert got.stdout == "Narration of ptrace operations is off.\n"


def test_a_variable_written_is_told_at_once():
    exe = build("basic.c", VARIANTS["O0-nopie"])
    got = run_pydbg(exe, ["break add", "run", "set debug ptrace on", "set var counter = 7",
                          "set debug ptrace off", "print counter"])
    said = NARRATION.findall(got.stderr)
    nm = subprocess.run(["nm", str(exe)], capture_output=True, text=True, check=True).stdout
    address = int(re.search(r"^([0-9a-f]+) [BD] counter$", nm, re.M).group(1), 16)
    assert said == [f"write 4 byte(s) at {address:#x} <counter> (/proc/PID/mem)"]
    assert "$1 = 7" in got.stdout
