"""`attach` to a program with threads: gdb 13 (the oracle) and pydbg attach in turn to the
same running process and print the same `[New LWP n]` lines, stop and thread list."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg


def _without_attaching_line(text: str) -> str:
    # gdb -batch does not print "Attaching to program: ..." (not from a terminal).
    return "\n".join(line for line in text.splitlines()
                     if not line.startswith("Attaching to program: "))


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_attach_announces_the_other_threads(variant):
    exe = build("threads_attach.c", [*VARIANTS[variant], "-pthread"])
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()     # the workers are running once READY is printed
        assert line.startswith("READY"), line
        commands = [f"attach {proc.pid}", "info threads", "detach"]
        gdb = run_gdb(exe, commands)
        pydbg = run_pydbg(exe, commands)
        expected = normalize(gdb.stdout)
        assert _without_attaching_line(normalize(pydbg.stdout)) == expected
        tasks = sorted(int(t) for t in os.listdir(f"/proc/{proc.pid}/task"))
        assert expected.startswith("".join(f"[New LWP {t}]\n" for t in tasks[1:]))
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()
