"""Attach, detach and the promises around them: the code is restored, the process runs on."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest
from elftools.elf.elffile import ELFFile

from pydbg.errors import TargetError
from pydbg.ptrace import Process, StopReason
from tests.support.build import VARIANTS, build
from tests.support.session import Recorder


def file_bytes_at(exe, vaddr: int, size: int) -> bytes:
    """Bytes of the ELF file at a link-time address, read with pyelftools directly."""
    with open(exe, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= vaddr < seg["p_vaddr"] + seg["p_filesz"]:
                f.seek(seg["p_offset"] + vaddr - seg["p_vaddr"])
                return f.read(size)
    raise AssertionError("address not in file")


def text_range(exe) -> tuple[int, int]:
    with open(exe, "rb") as f:
        sec = ELFFile(f).get_section_by_name(".text")
        return sec["sh_addr"], sec["sh_size"]


class Spinner:
    """spin.c as a child: answers each byte on stdin with its tick count."""

    def __init__(self, exe) -> None:
        self.proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("READY"), line
        self.pid = self.proc.pid

    def poke(self) -> None:
        self.proc.stdin.write("x")
        self.proc.stdin.flush()

    def answer(self) -> int:
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_attach_break_detach_restores_code_and_keeps_running(variant):
    exe = build("spin.c", VARIANTS[variant])
    spinner = Spinner(exe)
    rec = Recorder()
    try:
        out = rec.run(f"attach {spinner.pid}")
        assert rec.ok, rec.last_error
        assert f"Attaching to program: {os.path.realpath(exe)}, process {spinner.pid}" in out
        out = rec.run("break tick")
        assert out.startswith("Breakpoint 1 at 0x"), out
        spinner.poke()
        out = rec.run("continue")
        assert re.search(r"Breakpoint 1(\.\d+)?, ", out) and "spin.c:10" in out
        rec.session.from_tty = True
        out = rec.run("continue 5")
        rec.session.from_tty = False
        assert "Will ignore next 4 crossings of breakpoint 1" in out
        out = rec.run("info breakpoints")
        assert "breakpoint already hit 6 times" in out
        out = rec.run("detach")
        assert f"[Inferior 1 (process {spinner.pid}) detached]" in out
        # Every byte of .text is the file's again.
        lo, size = text_range(exe)
        base = 0
        if "nopie" not in variant:
            with open(f"/proc/{spinner.pid}/maps") as f:
                for line in f:
                    parts = line.split()
                    if parts[-1] == os.path.realpath(exe) and int(parts[2], 16) == 0:
                        base = int(parts[0].split("-")[0], 16)
                        break
        with open(f"/proc/{spinner.pid}/mem", "rb") as mem:
            mem.seek(base + lo)
            assert mem.read(size) == file_bytes_at(exe, lo, size)
        assert spinner.answer() == 1000        # the first poke's ticks all ran
        spinner.poke()
        assert spinner.answer() == 2000        # and it still works after detach
        with open(f"/proc/{spinner.pid}/status") as f:
            assert "TracerPid:\t0" in f.read()
    finally:
        rec.close()
        spinner.close()


def test_quit_detaches_an_attached_process():
    exe = build("spin.c", VARIANTS["O0"])
    spinner = Spinner(exe)
    try:
        rec = Recorder()
        rec.run(f"attach {spinner.pid}")
        rec.run("break tick")
        rec.run("quit")
        rec.close()
        spinner.poke()
        assert spinner.answer() == 1000
    finally:
        spinner.close()


def test_attach_errors_are_one_line():
    rec = Recorder()
    assert rec.error("attach 999999999") == "ptrace: No such process."
    assert rec.error("attach") == "Argument required (process-id to attach)."
    assert rec.error("attach abc") == "Illegal process-id: abc."


def test_attach_to_an_already_traced_process_explains_why():
    exe = build("spin.c", VARIANTS["O0"])
    spinner = Spinner(exe)
    first = Process.attach(spinner.pid)
    try:
        with pytest.raises(TargetError) as info:
            Process.attach(spinner.pid)
        message = str(info.value)
        assert message.startswith("ptrace: Operation not permitted")
        assert f"already traced by process {os.getpid()}" in message
    finally:
        first.detach()
        spinner.close()


def test_exitkill_leaves_no_orphan_when_pydbg_dies(tmp_path):
    """A spawned program dies with pydbg, even on SIGKILL (PTRACE_O_EXITKILL)."""
    exe = build("spin.c", VARIANTS["O0"])
    script = tmp_path / "victim.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(os.getcwd())!r})
        from pydbg.ptrace import Process
        p = Process.launch([{str(exe)!r}], stdout=-3)  # DEVNULL: keep our pipe clean
        p.resume()
        print(p.pid, flush=True)
        sys.stdin.read()
    """))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    holder = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    line = holder.stdout.readline()
    child = int(line.split()[0])
    assert os.path.exists(f"/proc/{child}")
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    holder.stdout.close()
    holder.stdin.close()
    # The tracee is killed by the kernel when its tracer exits; it was our grandchild, so
    # init reaps it. Wait for it with pidfd-free polling of its state.
    for _ in range(1000):
        try:
            with open(f"/proc/{child}/stat") as f:
                state = f.read().split(")")[1].split()[0]
        except FileNotFoundError:
            break
        if state in ("Z", "X"):
            break
        os.sched_yield()
    else:
        raise AssertionError("the spawned program outlived pydbg")
