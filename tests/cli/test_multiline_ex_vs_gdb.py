"""An -ex argument with embedded newlines is one command line, as gdb 13 takes it: `commands`
keeps the breakpoint numbers up to the first other word, and the block reads no body from
the -ex arguments after it (gdb reads it from stdin, empty here)."""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

MULTI = "commands 1\nsilent\nprint a\ncontinue\nend"


def _without_prompt(text: str) -> str:
    # gdb -batch shows its `>` prompt as it reads the (empty) body from stdin.
    return text.replace("\n>", "\n")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_multiline_ex_is_one_command_line(variant):
    exe = build("basic.c", VARIANTS[variant])
    commands = ["break add", MULTI, "info breakpoints", "run", "print 1\nprint 2",
                "echo a\nb\\n", "commands foo", "print 7"]
    gdb = run_gdb(exe, commands)
    pydbg = run_pydbg(exe, commands)
    expected = _without_prompt(normalize(gdb.stdout))
    assert normalize(pydbg.stdout) == expected
    assert normalize(pydbg.stderr) == normalize(gdb.stderr)
    assert "\nBreakpoint 1, add (" in expected or "\nBreakpoint 1.1, add (" in expected
    assert "Arguments must be breakpoint numbers." not in pydbg.stdout + pydbg.stderr
