"""Emulation of simple displaced instructions, so stepping off a breakpoint costs one trap.

The engine decodes a site's instruction once and hands over a plain Emulation; apply() then
does to registers and memory exactly what the CPU would, or nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, MutableMapping

from pydbg.errors import PydbgError

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1

# eflags bits the arithmetic kinds define.
CF, PF, AF, ZF, SF, OF = 1 << 0, 1 << 2, 1 << 4, 1 << 6, 1 << 7, 1 << 11
ARITH_FLAGS = CF | PF | AF | ZF | SF | OF

KINDS = ("nop", "push", "mov", "mov_imm", "lea", "add", "sub", "xor", "load", "store",
         "cmp", "test", "ret")
# Kinds that touch (or may touch) memory: a hardware watchpoint must see them, so they are
# not emulated while debug registers are in use.
MEMORY_KINDS = ("push", "load", "store", "cmp", "test", "ret")

# Even parity of each byte value (PF is set when the low byte has an even number of 1s).
_PARITY = tuple(bin(b).count("1") % 2 == 0 for b in range(256))


@dataclass(frozen=True)
class Emulation:
    """What one displaced instruction does, in user_regs_struct register names.

    kind    nop | push | mov | mov_imm | lea | add | sub | xor | load | store | cmp | test
            | ret (a near return: rip popped from the stack)
            (cmp/test only set flags; their first operand is DST, or memory when DST is None)
    length  instruction length in bytes (rip advances by it)
    width   operand size in bytes, 4 or 8 (a 4-byte register result zero-extends)
    dst/src full 64-bit register names; src None with kind store means "store imm"
    imm     immediate, already sign-extended to the operand width
    base/index/scale/disp  the memory operand (lea/load/store); base "rip" is rip-relative
    tail_is_same  the bytes after the int3 decode as an instruction that does the same and
            ends where this one does (endbr64 = f3 + `0f 1e fa`, a hint NOP): the thread
            may resume at address + 1 with no register written at all
    """
    kind: str
    length: int
    width: int = 8
    dst: str | None = None
    src: str | None = None
    imm: int = 0
    base: str | None = None
    index: str | None = None
    scale: int = 1
    disp: int = 0
    tail_is_same: bool = False

    def effective_address(self, regs: MutableMapping[str, int], address: int) -> int:
        """The memory operand's address for an instruction at ADDRESS."""
        if self.base == "rip":
            ea = address + self.length
        else:
            ea = regs[self.base] if self.base else 0
        if self.index:
            ea += regs[self.index] * self.scale
        return (ea + self.disp) & MASK64


ReadMemory = Callable[[int, int], bytes]
WriteMemory = Callable[[int, bytes], None]


def apply(emu: Emulation, regs: MutableMapping[str, int], address: int,
          read_memory: ReadMemory, write_memory: WriteMemory) -> bool:
    """Execute EMU at ADDRESS on REGS and memory; False (nothing changed) if memory failed.

    REGS maps full register names to unsigned 64-bit values; the caller flushes them.
    """
    kind = emu.kind
    mask = MASK64 if emu.width == 8 else MASK32
    updates: dict[str, int] = {}
    if kind == "nop":
        pass
    elif kind == "push":
        # push %rsp stores the value before the decrement: read the source first.
        value = regs[emu.src]
        rsp = (regs["rsp"] - 8) & MASK64
        if not _write(write_memory, rsp, value.to_bytes(8, "little")):
            return False
        updates["rsp"] = rsp
    elif kind == "mov":
        updates[emu.dst] = regs[emu.src] & mask
    elif kind == "mov_imm":
        updates[emu.dst] = emu.imm & mask
    elif kind == "lea":
        updates[emu.dst] = emu.effective_address(regs, address) & mask
    elif kind == "load":
        try:
            data = read_memory(emu.effective_address(regs, address), emu.width)
        except PydbgError:  # unreadable: let the CPU fault on it for real
            return False
        updates[emu.dst] = int.from_bytes(data, "little")
    elif kind == "store":
        value = (regs[emu.src] if emu.src else emu.imm) & mask
        if not _write(write_memory, emu.effective_address(regs, address),
                      value.to_bytes(emu.width, "little")):
            return False
    elif kind in ("add", "sub", "xor"):
        a = regs[emu.dst] & mask
        b = (regs[emu.src] if emu.src else emu.imm) & mask
        result, flags = arith_flags(kind, a, b, emu.width)
        updates[emu.dst] = result
        updates["eflags"] = (regs["eflags"] & ~ARITH_FLAGS) | flags
    elif kind in ("cmp", "test"):
        if emu.dst is not None:
            a = regs[emu.dst] & mask
        else:
            try:
                data = read_memory(emu.effective_address(regs, address), emu.width)
            except PydbgError:  # unreadable: let the CPU fault on it for real
                return False
            a = int.from_bytes(data, "little")
        b = (regs[emu.src] if emu.src else emu.imm) & mask
        # cmp is a sub, test an and, that only keep the flags.
        _, flags = arith_flags("sub" if kind == "cmp" else "and", a, b, emu.width)
        updates["eflags"] = (regs["eflags"] & ~ARITH_FLAGS) | flags
    elif kind == "ret":
        try:
            target = int.from_bytes(read_memory(regs["rsp"], 8), "little")
        except PydbgError:
            return False
        regs["rsp"] = (regs["rsp"] + 8) & MASK64
        regs["rip"] = target
        return True
    else:
        return False
    for name, value in updates.items():
        regs[name] = value
    regs["rip"] = (address + emu.length) & MASK64
    return True


def arith_flags(kind: str, a: int, b: int, width: int) -> tuple[int, int]:
    """(result, flags) of `add`/`sub`/`xor`/`and` on WIDTH-byte unsigned operands, as the
    CPU sets CF PF AF ZF SF OF (xor and and clear CF, OF and AF, as Intel and AMD
    processors do)."""
    bits = 8 * width
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)
    flags = 0
    if kind == "add":
        full = a + b
        result = full & mask
        if full > mask:
            flags |= CF
        if ~(a ^ b) & (a ^ result) & sign:
            flags |= OF
        if (a ^ b ^ result) & 0x10:
            flags |= AF
    elif kind == "sub":
        result = (a - b) & mask
        if a < b:
            flags |= CF
        if (a ^ b) & (a ^ result) & sign:
            flags |= OF
        if (a ^ b ^ result) & 0x10:
            flags |= AF
    elif kind == "xor":
        result = a ^ b
    elif kind == "and":
        result = a & b
    else:
        raise ValueError(kind)
    if result == 0:
        flags |= ZF
    if result & sign:
        flags |= SF
    if _PARITY[result & 0xFF]:
        flags |= PF
    return result, flags


def _write(write_memory: WriteMemory, address: int, data: bytes) -> bool:
    try:
        write_memory(address, data)
    except PydbgError:  # e.g. a stack page not mapped yet: only the CPU grows the stack
        return False
    return True
