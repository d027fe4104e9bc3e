"""Decides, once per breakpoint site, whether its displaced instruction can be emulated.

Decodes with capstone and returns a plain pydbg.ptrace.emulate.Emulation (or None: the
process then steps off the site the classic way, restore / single-step / re-insert).
capstone is imported on first need: the commonest site instructions are known by their
bytes, and its import (30 ms) is a good part of a short run's start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.ptrace.emulate import Emulation

if TYPE_CHECKING:
    import capstone

_GP64 = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
_GP32 = dict(zip(("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp"), _GP64[:8]))
_GP32.update({f"r{n}d": f"r{n}" for n in range(8, 16)})

_cs: capstone.Cs | None = None


def _engine() -> capstone.Cs:
    global _cs
    if _cs is None:
        import capstone
        _cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        _cs.detail = True  # Intel operand order: destination first
    return _cs


# Function entries of CET builds, push %rbp, nop, and the dynamic linker's r_brk (a ret),
# by their bytes: what _plan gives them (a test checks it against capstone).
KNOWN = {
    b"\xf3\x0f\x1e\xfa": Emulation("nop", 4, tail_is_same=True),     # endbr64
    b"\xf3\x0f\x1e\xfb": Emulation("nop", 4, tail_is_same=True),     # endbr32
    b"\x55": Emulation("push", 1, src="rbp"),
    b"\x90": Emulation("nop", 1),
    b"\xc3": Emulation("ret", 1),
}


def plan_emulation(code: bytes, address: int) -> Emulation | None:
    """The Emulation of the first instruction in CODE (at ADDRESS), or None if not simple."""
    code = bytes(code[:15])
    for known, emulation in KNOWN.items():
        if code.startswith(known):
            return emulation
    return decode_and_plan(code, address)


def decode_and_plan(code: bytes, address: int) -> Emulation | None:
    """plan_emulation through capstone, whatever the bytes."""
    import capstone
    cs = _engine()
    try:
        insn = next(cs.disasm(bytes(code[:15]), address, 1))
    except StopIteration:
        return None
    try:
        return _plan(cs, insn)
    except (capstone.CsError, KeyError, AttributeError):
        return None


def _reg(cs: capstone.Cs, op) -> tuple[str, int] | None:
    """(full register name, width) of a 32- or 64-bit general register operand."""
    from capstone import x86_const as X
    if op.type != X.X86_OP_REG:
        return None
    name = cs.reg_name(op.reg)
    if name in _GP64:
        return name, 8
    if name in _GP32:
        return _GP32[name], 4
    return None


def _mem(cs: capstone.Cs, insn, op) -> dict | None:
    """The memory operand's fields, if it is a plain one (no segment, 64-bit addressing)."""
    from capstone import x86_const as X
    if op.type != X.X86_OP_MEM or op.mem.segment != X.X86_REG_INVALID:
        return None
    if insn.prefix[3]:  # 0x67: 32-bit address arithmetic
        return None
    base = index = None
    if op.mem.base == X.X86_REG_RIP:
        base = "rip"
    elif op.mem.base != X.X86_REG_INVALID:
        base = cs.reg_name(op.mem.base)
        if base not in _GP64:
            return None
    if op.mem.index != X.X86_REG_INVALID:
        index = cs.reg_name(op.mem.index)
        if index not in _GP64 or base == "rip":
            return None
    return {"base": base, "index": index, "scale": op.mem.scale, "disp": op.mem.disp}


def _plan_compare(kind: str, cs: capstone.Cs, insn, dst, src) -> Emulation | None:
    """cmp/test of a 4- or 8-byte register or memory operand with a register or an
    immediate (capstone gives the immediate sign-extended to the operand size)."""
    from capstone import x86_const as X
    width = dst.size
    if width not in (4, 8):
        return None
    sreg = _reg(cs, src)
    if sreg is not None:
        if sreg[1] != width:
            return None
        operand: dict = {"src": sreg[0]}
    elif src.type == X.X86_OP_IMM:
        operand = {"imm": src.imm & ((1 << (8 * width)) - 1)}
    else:
        return None
    dreg = _reg(cs, dst)
    if dreg is not None:
        return Emulation(kind, insn.size, width, dst=dreg[0], **operand)
    mem = _mem(cs, insn, dst)
    if mem is None:
        return None
    return Emulation(kind, insn.size, width, **mem, **operand)


_ENDBR = (b"\xf3\x0f\x1e\xfa", b"\xf3\x0f\x1e\xfb")


def _plan(cs: capstone.Cs, insn) -> Emulation | None:
    from capstone import x86_const as X
    iid, ops, length = insn.id, insn.operands, insn.size
    if iid in (X.X86_INS_ENDBR64, X.X86_INS_ENDBR32) and bytes(insn.bytes) in _ENDBR:
        # Without its f3 prefix (under the int3) endbr is `0f 1e fa/fb`, a hint NOP: the
        # CPU can execute the rest itself.
        return Emulation("nop", length, tail_is_same=True)
    if iid in (X.X86_INS_ENDBR64, X.X86_INS_ENDBR32, X.X86_INS_NOP):
        return Emulation("nop", length)
    if insn.prefix[0]:  # lock / rep: not simple
        return None
    if iid == X.X86_INS_RET and not ops and bytes(insn.bytes) == b"\xc3":
        return Emulation("ret", length)   # plain near ret (no imm16, no bnd prefix)
    if iid == X.X86_INS_PUSH and len(ops) == 1:
        reg = _reg(cs, ops[0])
        if reg is not None and reg[1] == 8:
            return Emulation("push", length, src=reg[0])
        return None
    if len(ops) != 2:
        return None
    dst, src = ops
    dreg = _reg(cs, dst)
    if iid in (X.X86_INS_CMP, X.X86_INS_TEST):
        return _plan_compare("cmp" if iid == X.X86_INS_CMP else "test", cs, insn, dst, src)
    if iid in (X.X86_INS_MOV, X.X86_INS_MOVABS):
        if dreg is not None:
            width = dreg[1]
            sreg = _reg(cs, src)
            if sreg is not None and sreg[1] == width:
                return Emulation("mov", length, width, dst=dreg[0], src=sreg[0])
            if src.type == X.X86_OP_IMM:
                return Emulation("mov_imm", length, width, dst=dreg[0], imm=src.imm)
            mem = _mem(cs, insn, src) if src.size == width else None
            if mem is not None:
                return Emulation("load", length, width, dst=dreg[0], **mem)
            return None
        mem = _mem(cs, insn, dst)
        if mem is None or dst.size not in (4, 8):
            return None
        sreg = _reg(cs, src)
        if sreg is not None and sreg[1] == dst.size:
            return Emulation("store", length, dst.size, src=sreg[0], **mem)
        if src.type == X.X86_OP_IMM:
            return Emulation("store", length, dst.size, imm=src.imm, **mem)
        return None
    if dreg is None:
        return None
    if iid == X.X86_INS_LEA:
        mem = _mem(cs, insn, src)
        if mem is not None:
            return Emulation("lea", length, dreg[1], dst=dreg[0], **mem)
        return None
    if iid in (X.X86_INS_ADD, X.X86_INS_SUB, X.X86_INS_XOR):
        kind = {X.X86_INS_ADD: "add", X.X86_INS_SUB: "sub", X.X86_INS_XOR: "xor"}[iid]
        sreg = _reg(cs, src)
        if sreg is not None and sreg[1] == dreg[1]:
            return Emulation(kind, length, dreg[1], dst=dreg[0], src=sreg[0])
        if src.type == X.X86_OP_IMM:
            return Emulation(kind, length, dreg[1], dst=dreg[0], imm=src.imm)
    return None
