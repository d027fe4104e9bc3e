"""A program that forks while breakpoints are set: the child gets the original bytes back
and runs on untraced (gdb's detach-on-fork), instead of dying of an inherited int3."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, FIXTURES, REPO, normalize, run_gdb, run_pydbg


_NOTICE = re.compile(r"(?m)^\[Detaching after (v?fork) from child process (?:\d+|PID)\]\n")


def _children(text: str) -> str:
    """The output with the detach notices taken out: gdb writes its notice and the child
    its line to the same pipe, and under load gdb's can come second."""
    return _NOTICE.sub("", text)


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_forked_children_run_on_like_under_gdb(variant):
    exe = build("forks.c", VARIANTS[variant])
    commands = ["break work", "run", "continue", "info breakpoints"]
    gdb, pydbg = run_gdb(exe, commands), run_pydbg(exe, commands)
    assert _children(normalize(pydbg.stdout)) == _children(normalize(gdb.stdout))
    assert _NOTICE.findall(pydbg.stdout) == _NOTICE.findall(gdb.stdout) == ["fork", "vfork"]
    # pydbg announces the child before letting it run: its notice always comes first.
    assert pydbg.stdout.index("[Detaching after fork") < pydbg.stdout.index("child 42")
    assert "child 42\n" in gdb.stdout and "child exit 7" in gdb.stdout
    assert "[Detaching after fork from child process" in gdb.stdout
    assert "system 3" in gdb.stdout


def test_trace_of_a_forking_program_keeps_its_child():
    exe = build("forks.c", VARIANTS["O0"])
    boot = (f"import sys; sys.path.insert(0, {str(REPO)!r}); "
            "from pydbg.cli.main import main; sys.exit(main())")
    got = subprocess.run([sys.executable, "-c", boot, "trace", "-f", "work", "--", str(exe)],
                         capture_output=True, text=True, env=CLEAN_ENV, cwd=FIXTURES,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert got.stderr.splitlines() == ["[1] work(x=1)", "+++ exited normally +++"]
    assert got.stdout == "child 42\nparent 2, child exit 7\nsystem 3\n"
