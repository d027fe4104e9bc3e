"""Memory and code views against gdb: x formats, disassemble forms, mappings, shadowing."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg
from tests.support.session import Recorder


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_disassemble_forms_and_mappings_match_gdb(variant):
    exe = build("basic.c", VARIANTS[variant])
    commands = ["break sub", "run", "disassemble", "disassemble main",
                "disassemble $pc,$pc+12", "disassemble sub,+8", "disassemble /r $pc,+6",
                "x/6i main", "x/2i", "x/8xb &table", "x/4dw &table", "x/2a $sp", "x/3uh &table",
                "x/2ob &table", "x/2tb &table", "x/3c &greeting", "x/s &greeting",
                "x", "info proc mappings"]
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert normalize(got.stdout, frame_args=False) == normalize(expected.stdout, frame_args=False)
    assert got.stderr == expected.stderr


def test_memory_reads_show_original_bytes_under_breakpoints():
    exe = build("basic.c", VARIANTS["O0-nopie"])
    rec = Recorder(exe)
    try:
        static = rec.run("x/16xb add")              # from the file, before running
        rec.run("break *add")
        rec.run("break *add+1")
        rec.run("break add")
        out = rec.run("run")
        assert "Breakpoint 1, " in out
        assert rec.run("x/16xb add") == static     # no 0xcc shows through
        dis = rec.run("x/3i add")
        assert "push   %rbp" in dis and "int3" not in dis
    finally:
        rec.close()


def test_disable_randomization_off_moves_the_program():
    exe = build("basic.c", VARIANTS["O0"])
    bases = set()
    rec = Recorder(exe)
    try:
        rec.run("set disable-randomization off")
        assert "is off" in rec.run("show disable-randomization")
        rec.run("break add")
        for _ in range(3):
            rec.run("run")
            bases.add(rec.target.main_bias())
        rec.run("set disable-randomization on")
        rec.run("run")
        fixed = rec.target.main_bias()
    finally:
        rec.close()
    assert len(bases) >= 2            # ASLR on: the PIE moves (same base thrice is ~2^-56)
    assert fixed == 0x555555554000    # ASLR off: gdb's familiar base


def test_attach_from_the_command_line_with_p():
    exe = build("spin.c", VARIANTS["O0"])
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("READY")
        got = run_pydbg(None, ["info registers rip", "detach"], extra=["-p", str(proc.pid)])
        assert "rip            0x" in got.stdout, got.stderr
        assert f"[Inferior 1 (process {proc.pid}) detached]" in got.stdout
        proc.stdin.write("x")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "1000"
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()
