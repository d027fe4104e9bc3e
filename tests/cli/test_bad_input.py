"""Bad input never crashes the shell nor harms the target: one clear line, then go on."""

from __future__ import annotations

import os

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import run_gdb, run_pydbg
from tests.support.session import Recorder


@pytest.fixture
def rec():
    r = Recorder(build("basic.c", VARIANTS["O0"]))
    yield r
    r.close()


def test_command_errors_match_gdb_wording(rec):
    assert rec.error("frobnicate") == 'Undefined command: "frobnicate".  Try "help".'
    assert rec.error("info frobnicate") == \
        'Undefined info command: "frobnicate".  Try "help info".'
    assert rec.error("s") != ""        # step comes with source-level debugging; no crash
    out = rec.run("break nosuch")             # as gdb: an error line, the query declined,
    assert rec.last_error.strip() == 'Function "nosuch" not defined.'   # and no failure
    assert "[answered N; input not from terminal]" in out
    assert rec.error("delete x") == "Arguments must be breakpoint numbers."
    assert rec.error("condition 9 1") == "No breakpoint number 9."
    assert rec.error("continue") == "The program is not being run."
    assert rec.error("info registers") == "The program has no registers now."
    assert rec.error("x/4x 0") == "Cannot access memory at address 0x0"
    assert rec.error("print 1 +") == "A syntax error in expression, near `'."
    assert rec.error("print nosuchvar") == 'No symbol "nosuchvar" in current context.'
    assert rec.error("break basic.c:9999") == 'Line 9999 out of range; "basic.c" has fewer lines.' \
        or rec.last_error.strip().startswith("No line 9999")


def test_ambiguous_prefix(rec):
    rec.run("dis")                # gdb's alias of disable: not ambiguous
    assert rec.ok
    message = rec.error("de")
    assert message.startswith('Ambiguous command "de": ') and "delete" in message \
        and "detach" in message


def test_errors_while_running_leave_the_target_alone(rec):
    rec.run("break add")
    rec.run("run")
    before = rec.target.registers()
    for bad in ("x/4x 0", "print $nosuch + ", "info registers foo", "stepi abc",
                "disassemble 0", "set var $rax = (", "frobnicate"):
        rec.run(bad)
        assert not rec.ok and rec.last_error.strip(), bad
        assert "Traceback" not in rec.last_error
    assert rec.target.registers() == before
    out = rec.run("continue")
    assert "Breakpoint 1, add" in out


def test_errors_match_gdb_on_the_same_commands():
    exe = build("basic.c", VARIANTS["O0"])
    commands = ["frobnicate", "break nosuch", "x/4x 0", "info registers", "print 1 +",
                "break add", "run", "x/2x 0", "info registers foo", "p $rip"]
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert got.stderr.splitlines() == [l for l in expected.stderr.splitlines()
                                       if "Make breakpoint pending" not in l]


def test_missing_and_non_elf_files(tmp_path):
    missing = tmp_path / "nope"
    got = run_pydbg(missing, ["run"])
    assert f"{missing}: No such file or directory." in got.stderr
    assert "Traceback" not in got.stderr
    text = tmp_path / "text.txt"
    text.write_text("not an ELF file\n")
    got = run_pydbg(text, ["info breakpoints"])
    assert f'"{text}": not in executable format: file format not recognized' in got.stderr
    assert "No breakpoints or watchpoints." in got.stdout


def test_stripped_binary_debuggable_by_address_and_dynamic_symbols():
    exe = build("basic.c", VARIANTS["O0"], name="basic-stripped", strip=True, debug=False)
    rec = Recorder(exe)
    try:
        rec.run("break add")
        assert rec.last_error.strip() == 'Function "add" not defined.'
        out = rec.run("break printf")
        assert out.startswith("Breakpoint 1 at 0x"), rec.last_error
        out = rec.run("run")
        assert "Breakpoint 1, " in out and "printf" in out
        out = rec.run("x/2i $pc")
        assert "=> 0x" in out
        rec.run("continue")
        assert "exited normally" in rec.stdout.getvalue()
    finally:
        rec.close()


def test_running_a_non_executable_file(tmp_path):
    script = tmp_path / "data.bin"
    script.write_bytes(b"\x7fELF" + bytes(60))
    got = run_pydbg(script, ["run"])
    assert got.stderr.strip() and "Traceback" not in got.stderr
