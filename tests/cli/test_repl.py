"""The interactive shell in a real pseudo-terminal: prompt, repeat, completion, history, Ctrl-C/D."""

from __future__ import annotations

import os
import sys

import pexpect
import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, REPO

PROMPT = r"\(pydbg\)"   # prompt-toolkit draws the trailing space with cursor moves


def spawn(tmp_path, *args: str) -> pexpect.spawn:
    env = dict(CLEAN_ENV, HOME=str(tmp_path), TERM="xterm", PYTHONPATH=str(REPO),
               PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(sys.executable, ["-m", "pydbg", "-q", *args], env=env,
                          cwd=str(tmp_path), encoding="utf-8", timeout=30,
                          dimensions=(40, 200))
    try:
        child.expect(PROMPT)
    except Exception:
        child.close(force=True)
        raise
    return child


@pytest.fixture(autouse=True)
def _reap_children(monkeypatch):
    """Close every spawned shell even when a test fails half way."""
    spawned = []
    original = pexpect.spawn.__init__

    def tracking_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        spawned.append(self)

    monkeypatch.setattr(pexpect.spawn, "__init__", tracking_init)
    yield
    for child in spawned:
        if child.isalive():
            child.close(force=True)


def finish(child: pexpect.spawn) -> None:
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_break_run_repeat_and_history(tmp_path):
    exe = build("basic.c", VARIANTS["O0"])
    child = spawn(tmp_path, str(exe))
    child.sendline("break add")
    child.expect("Breakpoint 1 at 0x[0-9a-f]+: file basic.c, line 12.")
    child.expect(PROMPT)
    child.sendline("run")
    child.expect("Starting program: ")
    child.expect(r"Breakpoint 1, add \(.*\) at basic.c:12")
    child.expect(PROMPT)
    child.sendline("stepi")
    child.expect(r"0x[0-9a-f]+\s+12\s")
    child.expect(PROMPT)
    child.sendline("info registers rip")
    child.expect(r"rip\s+0x([0-9a-f]+)")
    first = int(child.match.group(1), 16)
    child.expect(PROMPT)
    child.sendline("si")
    child.expect(PROMPT)
    child.sendline("")                      # Enter repeats the last command (si)
    child.expect(PROMPT)
    child.sendline("i r rip")
    child.expect(r"rip\s+0x([0-9a-f]+)")
    assert int(child.match.group(1), 16) > first
    child.expect(PROMPT)
    child.sendline("quit")
    child.expect(r"Quit anyway\? \(y or n\)")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    history = (tmp_path / ".pydbg_history").read_text()
    assert "break add" in history and "i r rip" in history


def test_completion_of_command_names(tmp_path):
    child = spawn(tmp_path)
    # "inf" alone is ambiguous as a subcommand word: only completion can make it "inferiors".
    child.send("info inf")
    child.expect("inf")
    child.send("\t")
    child.expect("eriors")            # the redraw inserts the rest (with cursor codes around)
    child.sendline("")
    child.expect("Num  Description")
    child.expect(PROMPT)
    finish(child)


def test_ctrl_c_stops_the_running_program_and_ctrl_d_quits(tmp_path):
    exe = build("spin.c", VARIANTS["O0"])
    child = spawn(tmp_path, str(exe))
    child.sendline("run")
    child.expect(r"READY (\d+)")
    pid = int(child.match.group(1))
    child.sendcontrol("c")
    child.expect("Program received signal SIGINT, Interrupt.")
    child.expect(PROMPT)
    child.sendline("info registers rip")
    child.expect(r"rip\s+0x")
    child.expect(PROMPT)
    child.sendcontrol("d")                  # quits, killing the spawned program
    child.expect(pexpect.EOF)
    child.close()
    assert not os.path.exists(f"/proc/{pid}") or \
        open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] in "ZX"


def test_help_is_generated_from_docstrings(tmp_path):
    child = spawn(tmp_path)
    child.sendline("help break")
    child.expect("Set breakpoint at specified location.")
    child.expect(PROMPT)
    child.sendline("help")
    child.expect("List of classes of commands:")
    child.expect(PROMPT)
    child.sendline("help running")
    child.expect(r"run -- Start debugged program.")
    child.expect(PROMPT)
    finish(child)
