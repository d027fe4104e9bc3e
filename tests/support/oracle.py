"""Run gdb (the oracle) and pydbg on the same program and commands, and normalise output.

Both run with the same small environment, no shell and no LINES/COLUMNS, so the program's
stack layout (and so its register values) is identical under the two debuggers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"

CLEAN_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": os.environ.get("HOME", "/root"),
    "LANG": "C.UTF-8",
}

_GDB_PREAMBLE = ["set startup-with-shell off", "unset environment LINES",
                 "unset environment COLUMNS", "set pagination off", "set width 0",
                 "set confirm off"]


def run_gdb(exe: str | os.PathLike, commands: list[str], args: list[str] = (),
            cwd: str | os.PathLike = FIXTURES, timeout: float = 60) -> subprocess.CompletedProcess:
    argv = ["gdb", "-nx", "-batch"]
    for cmd in _GDB_PREAMBLE + list(commands):
        argv += ["-ex", cmd]
    argv += ["--args", str(exe), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=CLEAN_ENV, cwd=cwd,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def run_pydbg(exe: str | os.PathLike | None, commands: list[str], args: list[str] = (),
              cwd: str | os.PathLike = FIXTURES, timeout: float = 60,
              extra: list[str] = ()) -> subprocess.CompletedProcess:
    # Start pydbg from this checkout without PYTHONPATH: the program's environment (and so
    # its stack layout) must be exactly gdb's.
    boot = (f"import sys; sys.path.insert(0, {str(REPO)!r}); "
            "from pydbg.cli.main import main; sys.exit(main())")
    argv = [sys.executable, "-c", boot, "-nx", "-batch", *extra]
    for cmd in commands:
        argv += ["-ex", cmd]
    if exe is not None:
        argv += ["--args", str(exe), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=CLEAN_ENV, cwd=cwd,
                          timeout=timeout, stdin=subprocess.DEVNULL)


_DROP = (
    re.compile(r"^\[Thread debugging using libthread_db enabled\]$"),
    re.compile(r"^Using host libthread_db library .*$"),
    re.compile(r"^\[Inferior 1 \(process \d+\) killed\]$"),
)


def normalize(text: str, *, frame_args: bool = True) -> str:
    """Drop gdb-only noise and pids; optionally blank out frame arguments."""
    out = []
    for line in text.splitlines():
        if any(p.match(line) for p in _DROP):
            continue
        line = re.sub(r"process \d+", "process PID", line)
        line = re.sub(r"\(LWP \d+\)", "(LWP N)", line)
        if not frame_args:
            line = re.sub(r"^((?:Temporary breakpoint|Breakpoint) \d+, |#\d+\s+(?:0x[0-9a-f]+ in )?)?"
                          r"((?:0x[0-9a-f]+ in )?[\w.@]+) \(.*?\)( at | from |$)",
                          r"\1\2 (...)\3", line)
        out.append(line)
    return "\n".join(out).strip("\n")
