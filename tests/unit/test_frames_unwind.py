"""FrameStack without a process: a hand-built stack over a real -O0 binary.

Addresses come from objdump and lines from readelf --debug-dump=decodedline, so the
expected frames do not come from pydbg's own ELF/DWARF readers.
"""

from __future__ import annotations

import re
import struct
import subprocess

import pytest

from pydbg.engine import frames as frames_mod
from pydbg.engine.frames import FrameKind, FrameStack
from pydbg.engine.target import LoadedImage, open_image
from pydbg.errors import MemoryAccessError
from tests.support.build import VARIANTS, build

def _exe():
    return build("stepping.c", VARIANTS["O0-nopie"])


def _objdump(exe) -> str:
    return subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(exe)],
                          capture_output=True, text=True, check=True).stdout


def _function_start(dump: str, name: str) -> int:
    m = re.search(rf"^([0-9a-f]+) <{name}>:", dump, re.M)
    assert m, name
    return int(m.group(1), 16)


def _return_address_of_call(dump: str, caller: str, callee: str) -> int:
    """The address after the first `call <callee>` inside CALLER."""
    body = dump.split(f"<{caller}>:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    for i, line in enumerate(body):
        if re.search(rf"call\s+[0-9a-f]+ <{callee}>", line):
            return int(body[i + 1].split(":")[0].strip(), 16)
    raise AssertionError(f"no call to {callee} in {caller}")


def _readelf_line(exe, address: int) -> int:
    """The line of the last decoded-line row at or before ADDRESS (readelf's view)."""
    out = subprocess.run(["readelf", "--debug-dump=decodedline", str(exe)],
                         capture_output=True, text=True).stdout
    best = None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "stepping.c" and parts[1].isdigit():
            addr = int(parts[2], 16)
            if addr <= address and (best is None or addr >= best[0]):
                best = (addr, int(parts[1]))
    assert best is not None
    return best[1]


class FakeTarget:
    """Just what FrameStack asks of a Target: images, memory and registers."""

    def __init__(self, exe, memory: dict[int, bytes], regs: dict[str, int]) -> None:
        image = open_image(str(exe))
        self.images = [LoadedImage(str(exe), image, 0, 0x400000, 0x500000, True)]
        self.memory = memory
        self.regs = regs
        self.is_running = True
        self.last_stop = None

    def image_for_address(self, address: int):
        return self.images[0] if self.images[0].contains(address) else None

    def read_memory(self, address: int, size: int) -> bytes:
        for base, data in self.memory.items():
            if base <= address and address + size <= base + len(data):
                return data[address - base:address - base + size]
        image = self.images[0].image
        try:
            return image.read(address, size)
        except Exception:
            raise MemoryAccessError(address) from None

    def registers(self) -> dict[str, int]:
        return dict(self.regs)


def _stack_in_square(exe, dump):
    """Registers and memory of square(3) just after its `mov %rsp,%rbp`, called by main."""
    square = _function_start(dump, "square")
    ret = _return_address_of_call(dump, "main", "square")
    sp = 0x7ffffffde000
    main_rbp = sp + 0x60
    stack = bytearray(0x100)
    struct.pack_into("<QQ", stack, 0, main_rbp, ret)           # saved rbp, return address
    struct.pack_into("<QQ", stack, 0x60, 0, 0x7ffff7dfc24a)    # main's saved rbp and RA
    regs = {"rip": square + 4, "rsp": sp, "rbp": sp, "rax": 0, "rbx": 0, "rcx": 0, "rdx": 0,
            "rsi": 0, "rdi": 3, "r8": 0, "r9": 0, "r10": 0, "r11": 0, "r12": 0, "r13": 0,
            "r14": 0, "r15": 0}
    return FakeTarget(exe, {sp: bytes(stack)}, regs), square, ret, sp


@pytest.fixture(scope="module")
def setup():
    exe = _exe()
    return exe, _objdump(exe)


def test_cfi_unwind_square_to_main(setup) -> None:
    exe, dump = setup
    target, square, ret, sp = _stack_in_square(exe, dump)
    stack = FrameStack(target, target.registers())
    f0, f1 = stack.frame(0), stack.frame(1)
    assert f0.kind is FrameKind.NORMAL and f0.function == "square"
    assert f0.location.line == _readelf_line(exe, square + 4)
    assert f0.cfa == sp + 16                      # after push %rbp: CFA = rbp + 16
    assert f1.function == "main" and f1.pc == ret
    assert f1.location.line == _readelf_line(exe, ret - 1)    # a return address: pc - 1
    assert not f1.location.line_start             # gdb prints the address of caller frames
    assert stack.frame(2) is None                 # backtrace past-main is off
    assert stack.count() == 2
    assert f1.register_values()["rsp"] == sp + 16
    assert f1.register_values()["rbp"] == sp + 0x60


def test_saved_registers_and_frame_base(setup) -> None:
    exe, dump = setup
    target, square, ret, sp = _stack_in_square(exe, dump)
    stack = FrameStack(target, target.registers())
    f0 = stack.frame(0)
    # gdb: "rbp at <sp>, rip at <sp+8>"; Arglist at the frame pointer.
    assert stack.saved_registers(f0) == [("rbp", sp), ("rip", sp + 8)]
    assert stack.frame_base(f0) == sp


def test_frame_pointer_fallback_without_cfi(setup, monkeypatch) -> None:
    exe, dump = setup
    target, square, ret, sp = _stack_in_square(exe, dump)
    monkeypatch.setattr(frames_mod, "cfi_for", lambda image: None)
    stack = FrameStack(target, target.registers())
    assert [f.function for f in stack] == ["square", "main"]
    assert stack.frame(1).pc == ret
    assert stack.frame(0).cfa == sp + 16


def test_fallback_at_function_entry(setup, monkeypatch) -> None:
    exe, dump = setup
    square = _function_start(dump, "square")
    ret = _return_address_of_call(dump, "main", "square")
    sp = 0x7ffffffde008
    stack_bytes = bytearray(0x100)
    struct.pack_into("<Q", stack_bytes, 0, ret)      # only the return address is pushed
    regs = {"rip": square, "rsp": sp, "rbp": 0x7ffffffde060}
    target = FakeTarget(exe, {sp: bytes(stack_bytes)}, regs)
    monkeypatch.setattr(frames_mod, "cfi_for", lambda image: None)
    stack = FrameStack(target, target.registers())
    assert stack.frame(0).location.line_start     # at the first instruction of its line
    assert stack.frame(1).pc == ret and stack.frame(1).function == "main"


def test_corrupt_stack_stops_the_walk(setup) -> None:
    exe, dump = setup
    target, square, ret, sp = _stack_in_square(exe, dump)
    # A return address pointing back into square with a frame pointer below the CFA.
    stack_bytes = bytearray(target.memory[sp])
    struct.pack_into("<QQ", stack_bytes, 0, sp - 0x100, square + 8)
    target.memory = {sp - 0x100: bytes(0x100) + bytes(stack_bytes)}
    stack = FrameStack(target, target.registers())
    frames = list(stack)
    assert len(frames) < frames_mod.MAX_FRAMES
    assert stack.stop_reason is not None and "corrupt stack" in stack.stop_reason


def test_unreadable_stack_reports_memory_error(setup) -> None:
    exe, dump = setup
    target, square, ret, sp = _stack_in_square(exe, dump)
    target.memory = {}
    stack = FrameStack(target, target.registers())
    assert [f.function for f in stack] == ["square"]
    # The return address (at CFA-8) is what gdb reads first.
    assert stack.stop_reason == \
        f"Backtrace stopped: Cannot access memory at address {sp + 8:#x}"
