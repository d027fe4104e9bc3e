"""The step-over emulator without a process: decoding sites into Emulation values and
applying them to registers and memory. Encodings are as gas/objdump print them; flag values
are the x86 manual's (the integration test checks the same against the CPU itself)."""

from __future__ import annotations

import pytest

from pydbg.engine.stepover import plan_emulation
from pydbg.errors import MemoryAccessError
from pydbg.ptrace.emulate import AF, CF, OF, PF, SF, ZF, Emulation, apply, arith_flags

PLANS = [
    ("f30f1efa", Emulation("nop", 4, tail_is_same=True)),                # endbr64
    ("f30f1efb", Emulation("nop", 4, tail_is_same=True)),                # endbr32
    ("90", Emulation("nop", 1)),
    ("6690", Emulation("nop", 2)),                                       # xchg %ax,%ax
    ("0f1f4000", Emulation("nop", 4)),                                   # nopl 0x0(%rax)
    ("662e0f1f840000000000", Emulation("nop", 10)),                      # cs nopw 0x0(%rax,%rax,1)
    ("55", Emulation("push", 1, src="rbp")),
    ("4157", Emulation("push", 2, src="r15")),
    ("4889e5", Emulation("mov", 3, 8, dst="rbp", src="rsp")),            # mov %rsp,%rbp
    ("89f3", Emulation("mov", 2, 4, dst="rbx", src="rsi")),              # mov %esi,%ebx
    ("4883ec28", Emulation("sub", 4, 8, dst="rsp", imm=0x28)),           # sub $0x28,%rsp
    ("4881c400100000", Emulation("add", 7, 8, dst="rsp", imm=0x1000)),   # add $0x1000,%rsp
    ("31c0", Emulation("xor", 2, 4, dst="rax", src="rax")),              # xor %eax,%eax
    ("b801000000", Emulation("mov_imm", 5, 4, dst="rax", imm=1)),        # mov $0x1,%eax
    ("48c7c1ffffffff", Emulation("mov_imm", 7, 8, dst="rcx", imm=-1)),   # mov $-1,%rcx
    ("48b88877665544332211", Emulation("mov_imm", 10, 8, dst="rax", imm=0x1122334455667788)),
    ("488d7c2410", Emulation("lea", 5, 8, dst="rdi", base="rsp", disp=0x10)),  # lea 0x10(%rsp),%rdi
    ("488d54c707", Emulation("lea", 5, 8, dst="rdx", base="rdi",
                                 index="rax", scale=8, disp=7)),  # lea 0x7(%rdi,%rax,8),%rdx
    ("8b45fc", Emulation("load", 3, 4, dst="rax", base="rbp", disp=-4)),  # mov -0x4(%rbp),%eax
    ("488b05992e0000", Emulation("load", 7, 8, dst="rax", base="rip", disp=0x2e99)),
    ("c745fc05000000", Emulation("store", 7, 4, imm=5, base="rbp", disp=-4)),  # movl $5,-4(%rbp)
    ("48897c2408", Emulation("store", 5, 8, src="rdi", base="rsp", disp=8)),  # mov %rdi,8(%rsp)
    ("c3", Emulation("ret", 1)),                                         # ret
    ("85ff", Emulation("test", 2, 4, dst="rdi", src="rdi")),             # test %edi,%edi
    ("83ff05", Emulation("cmp", 3, 4, dst="rdi", imm=5)),                # cmp $5,%edi
    ("4883f8ff", Emulation("cmp", 4, 8, dst="rax", imm=(1 << 64) - 1)),  # cmp $-1,%rax
    ("837dec00", Emulation("cmp", 4, 4, base="rbp", disp=-0x14)),        # cmpl $0,-0x14(%rbp)
    ("48393d10000000", Emulation("cmp", 7, 8, src="rdi", base="rip", disp=0x10)),
    ("f7c380000000", Emulation("test", 6, 4, dst="rbx", imm=0x80)),      # test $0x80,%ebx
]

NOT_EMULATED = [
    "e800000000",      # call
    "c20800",          # ret $8
    "f2c3",            # bnd ret
    "7400",            # je
    "f390",            # pause
    "f0480fc10f",      # lock xadd
    "4883e007",        # and $7,%rax (not a kind we emulate)
    "6655",            # push %bp (16-bit)
    "88c3",            # mov %al,%bl (8-bit)
    "648b042528000000",  # mov %fs:0x28,%eax (segment)
    "678b00",          # mov (%eax),%eax (32-bit addressing)
    "48f7e1",          # mul %rcx
    "84c0",            # test %al,%al (8-bit)
    "66833f00",        # cmpw $0,(%rdi) (16-bit)
    "3b7dfc",          # cmp -0x4(%rbp),%edi (memory second operand)
    "",                # nothing to decode
]


@pytest.mark.parametrize("code,expected", PLANS)
def test_plan(code, expected):
    assert plan_emulation(bytes.fromhex(code) + b"\x90" * 8, 0x401000) == expected


@pytest.mark.parametrize("code", NOT_EMULATED)
def test_not_emulated(code):
    assert plan_emulation(bytes.fromhex(code), 0x401000) is None


class Memory:
    def __init__(self, base: int, size: int) -> None:
        self.base, self.data = base, bytearray(size)

    def read(self, address: int, size: int) -> bytes:
        if not self.base <= address <= address + size <= self.base + len(self.data):
            raise MemoryAccessError(address)
        return bytes(self.data[address - self.base:address - self.base + size])

    def write(self, address: int, data: bytes) -> None:
        if not self.base <= address <= address + len(data) <= self.base + len(self.data):
            raise MemoryAccessError(address)
        self.data[address - self.base:address - self.base + len(data)] = data


def regs(**values: int) -> dict[str, int]:
    base = {name: 0 for name in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                                 "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")}
    base.update(rip=0x401000, eflags=0x202)
    base.update(values)
    return base


def test_push_writes_below_rsp_and_advances():
    mem = Memory(0x7000, 0x100)
    r = regs(rsp=0x7080, rbp=0x1122334455667788)
    assert apply(Emulation("push", 1, src="rbp"), r, 0x401000, mem.read, mem.write)
    assert r["rsp"] == 0x7078 and r["rip"] == 0x401001
    assert mem.read(0x7078, 8) == (0x1122334455667788).to_bytes(8, "little")


def test_push_rsp_stores_the_old_value():
    mem = Memory(0x7000, 0x100)
    r = regs(rsp=0x7080)
    assert apply(Emulation("push", 1, src="rsp"), r, 0x401000, mem.read, mem.write)
    assert mem.read(0x7078, 8) == (0x7080).to_bytes(8, "little")


def test_failed_write_changes_nothing():
    mem = Memory(0x7000, 0x100)
    r = regs(rsp=0x7000)
    before = dict(r)
    assert not apply(Emulation("push", 1, src="rbp"), r, 0x401000, mem.read, mem.write)
    assert r == before


def test_32bit_results_zero_extend():
    r = regs(rbx=-1 & (2**64 - 1), rsi=0xFFFFFFFF_87654321)
    apply(Emulation("mov", 2, 4, dst="rbx", src="rsi"), r, 0x401000, None, None)
    assert r["rbx"] == 0x87654321
    apply(Emulation("mov_imm", 5, 4, dst="rcx", imm=-1), r, 0x401000, None, None)
    assert r["rcx"] == 0xFFFFFFFF


def test_lea_rip_relative_uses_next_instruction():
    r = regs()
    apply(Emulation("lea", 7, 8, dst="r10", base="rip", disp=0x2e99), r, 0x401000, None, None)
    assert r["r10"] == 0x401000 + 7 + 0x2e99


def test_load_and_store():
    mem = Memory(0x7000, 0x100)
    r = regs(rbp=0x7080, rdi=0xAABBCCDD11223344)
    apply(Emulation("store", 4, 8, src="rdi", base="rbp", disp=-8), r, 0x401000,
          mem.read, mem.write)
    apply(Emulation("store", 7, 4, imm=-2, base="rbp", disp=-16), r, 0x401000, mem.read, mem.write)
    apply(Emulation("load", 3, 4, dst="rax", base="rbp", disp=-8), r, 0x401000, mem.read, mem.write)
    assert r["rax"] == 0x11223344
    assert mem.read(0x7070, 4) == b"\xfe\xff\xff\xff"


# (kind, a, b, width) -> (result, flags), worked out from the Intel SDM's definitions.
FLAG_CASES = [
    ("add", 0x7FFFFFFFFFFFFFFF, 1, 8, 0x8000000000000000, OF | SF | AF | PF),
    ("add", 0xFFFFFFF0, 0x10, 4, 0, CF | ZF | PF),
    ("add", 0x0F, 0x01, 4, 0x10, AF),
    ("sub", 0, 1, 4, 0xFFFFFFFF, CF | SF | AF | PF),
    ("sub", 0x80000000, 1, 4, 0x7FFFFFFF, OF | AF | PF),
    ("sub", 5, 5, 8, 0, ZF | PF),
    ("xor", 0x3, 0x0, 8, 0x3, PF),
    ("xor", 0x80000000, 0x1, 4, 0x80000001, SF),
]


@pytest.mark.parametrize("kind,a,b,width,result,flags", FLAG_CASES)
def test_flags(kind, a, b, width, result, flags):
    assert arith_flags(kind, a, b, width) == (result, flags)


def test_arith_keeps_other_eflags_bits():
    r = regs(rsp=0x7080, eflags=0x202 | CF | ZF)
    apply(Emulation("sub", 4, 8, dst="rsp", imm=0x28), r, 0x401000, None, None)
    assert r["rsp"] == 0x7058 and r["eflags"] == 0x202 | AF  # 0x80 - 0x28 borrows from bit 4


def test_instructions_known_by_their_bytes_plan_as_capstone_plans_them():
    from pydbg.engine.stepover import KNOWN, decode_and_plan
    for code, emulation in KNOWN.items():
        assert decode_and_plan(code + b"\x90" * 8, 0x1000) == emulation, code.hex()

