"""x86-64 disassembly on top of capstone, printed exactly as gdb (libopcodes) prints it.

Pure module: it takes bytes, an address and a symbolizer callback, and imports no other layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterator

from pydbg.errors import CommandError

if TYPE_CHECKING:
    import capstone     # imported on first use: 30 ms that a run with no `x/i` need not pay

__all__ = ["FLAVORS", "Disassembler", "Instruction", "Symbolizer"]

# Maps an address to "main+23" (gdb's <...> text), or None when gdb would print no name.
Symbolizer = Callable[[int], "str | None"]

FLAVORS = ("att", "intel")
_MASK64 = (1 << 64) - 1
# Decode this many instructions per capstone call: cheap for a 10-line `x/i`, lazy for a
# megabyte of .text.
_BATCH = 64


@dataclass(frozen=True)
class Instruction:
    """One decoded instruction; mnemonic and operands are already in gdb's spelling."""

    address: int
    size: int
    raw: bytes
    mnemonic: str
    operands: str
    branch_target: int | None = None
    is_call: bool = False
    is_return: bool = False
    is_jump: bool = False
    # Address a RIP-relative operand refers to: gdb prints it as a trailing "# 0x... <sym>".
    memory_target: int | None = None

    def text(self, symbolize: Symbolizer | None = None) -> str:
        """The instruction as gdb prints it, symbolizing targets with SYMBOLIZE if given."""
        if not self.operands:
            return self.mnemonic
        out = f"{self.mnemonic:<6} {self.operands}"
        if self.branch_target is not None:
            out += _symbol_suffix(self.branch_target, symbolize)
        if self.memory_target is not None:
            out += f"        # {self.memory_target:#x}"
            out += _symbol_suffix(self.memory_target, symbolize)
        return out


def _symbol_suffix(address: int, symbolize: Symbolizer | None) -> str:
    name = symbolize(address) if symbolize else None
    return f" <{name}>" if name else ""


class Disassembler:
    """Decodes x86-64 machine code in gdb's AT&T or Intel flavor."""

    def __init__(self, flavor: str = "att") -> None:
        self._engines: dict[str, capstone.Cs] = {}
        self.flavor = flavor

    @property
    def flavor(self) -> str:
        return self._flavor

    @flavor.setter
    def flavor(self, value: str) -> None:
        if value not in FLAVORS:
            raise CommandError(f'Undefined item: "{value}".')
        self._flavor = value

    def _engine(self) -> capstone.Cs:
        cs = self._engines.get(self._flavor)
        if cs is None:
            import capstone
            cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
            if self._flavor == "att":
                cs.syntax = capstone.CS_OPT_SYNTAX_ATT
            self._engines[self._flavor] = cs
        return cs

    def disassemble(self, code: bytes, address: int,
                    count: int | None = None) -> list[Instruction]:
        """Decode CODE (loaded at ADDRESS) until COUNT instructions or the bytes run out."""
        out: list[Instruction] = []
        if count is not None and count <= 0:
            return out
        for insn in self.iter_instructions(code, address):
            out.append(insn)
            if count is not None and len(out) >= count:
                break
        return out

    def iter_instructions(self, code: bytes, address: int) -> Iterator[Instruction]:
        """Decode CODE lazily; an undecodable byte gives "(bad)", a cut-off tail nothing."""
        cs = self._engine()
        att = self._flavor == "att"
        code = bytes(code)
        offset = 0
        while offset < len(code):
            progressed = False
            for insn in cs.disasm(code[offset:offset + _BATCH * 15], address + offset, _BATCH):
                progressed = True
                special = _respell(cs, insn, code, offset, address, att)
                if special is not None:
                    yield special
                    offset += special.size
                    break
                yield _convert(cs, insn, att)
                offset += insn.size
            if not progressed:
                if _truncated(cs, code, offset, address):
                    return
                bad = _undecodable(cs, code, offset, address + offset, att)
                yield bad
                offset += bad.size


# --- where capstone's instruction boundaries differ from libopcodes' ----------------------

def _respell(cs: capstone.Cs, insn: capstone.CsInsn, code: bytes, offset: int, address: int,
             att: bool) -> Instruction | None:
    """The few instructions whose length capstone and libopcodes disagree on."""
    raw = bytes(insn.bytes)
    i = 0
    while i < len(raw) - 1 and (raw[i] in _LEGACY_PREFIXES or 0x40 <= raw[i] <= 0x4F):
        if 0x40 <= raw[i] <= 0x4F and (raw[i + 1] in _LEGACY_PREFIXES
                                       or 0x40 <= raw[i + 1] <= 0x4F):
            # A REX prefix must come last; libopcodes shows a misplaced one on its own.
            return Instruction(address + offset, i + 1, raw[:i + 1],
                               _lone_words(raw[:i + 1]).rstrip(), "")
        i += 1
    if insn.bytes[0] == 0x9B and insn.size == 1 and offset + 1 < len(code) \
            and 0xD8 <= code[offset + 1] <= 0xDF:
        return _with_fwait(cs, code, offset, address, att)
    if insn.mnemonic.split()[-1] in ("ud0", "ud1") and insn.bytes[-2] == 0x0F:
        # ud0/ud1 take a ModRM operand pair that capstone leaves out: borrow imul's decoding
        # of the same bytes.
        end = offset + insn.size
        borrowed = code[offset:end - 1] + b"\xaf" + code[end:end + 13]
        for other in cs.disasm(borrowed, address + offset, 1):
            inner = _convert(cs, other, att)
            name = "ud1" if insn.bytes[-1] == 0xB9 else "ud0"
            mnemonic = inner.mnemonic.replace("imul", name)
            if mnemonic == name:
                mnemonic = name
            return Instruction(address + offset, other.size, code[offset:offset + other.size],
                               mnemonic, inner.operands, memory_target=inner.memory_target)
    return None


def _lone_words(prefixes: bytes) -> str:
    """Prefixes that do nothing for the instruction after them, as libopcodes prints them."""
    return "".join((_rex_word(b) if 0x40 <= b <= 0x4F else _LONE_PREFIX_WORDS[b]) + " "
                   for b in prefixes)


def _rex_word(rex: int) -> str:
    bits = "".join(c for c, bit in zip("WRXB", (8, 4, 2, 1)) if rex & bit)
    return "rex." + bits if bits else "rex"


def _with_fwait(cs: capstone.Cs, code: bytes, offset: int, address: int,
                att: bool) -> Instruction | None:
    """fwait + x87 instruction: libopcodes prints one instruction, e.g. fnstcw -> fstcw."""
    nxt = next(iter(cs.disasm(code[offset + 1:offset + 16], address + offset + 1, 1)), None)
    if nxt is not None:
        inner = _convert(cs, nxt, att)
    elif _truncated(cs, code, offset + 1, address):
        return None
    else:
        inner = _undecodable(cs, code, offset + 1, address + offset + 1, att)
    mnemonic = inner.mnemonic
    if mnemonic.startswith("fn") and mnemonic != "fnop":
        mnemonic = "f" + mnemonic[2:]
    return Instruction(address + offset, inner.size + 1, code[offset:offset + 1] + inner.raw,
                       mnemonic, inner.operands, memory_target=inner.memory_target)


def _undecodable(cs: capstone.Cs, code: bytes, offset: int, address: int,
                 att: bool) -> Instruction:
    """What gdb shows where capstone decodes nothing: mostly "(bad)"."""
    pre = _scan_prefixes(code[offset:offset + 15])
    i = offset + pre.opcode_offset
    if i + 1 < len(code) and 0xD8 <= code[i] <= 0xDF and code[i + 1] >= 0xC0:
        # An x87 register form capstone lacks (or an invalid one libopcodes skips whole).
        mnemonic, operands = _x87_register_form(code[i], code[i + 1], att)
        return Instruction(address, i + 2 - offset, code[offset:i + 2], mnemonic, operands)
    k = 0
    while offset + k < len(code) - 1 and k < 14 and (
            code[offset + k] in _LEGACY_PREFIXES or 0x40 <= code[offset + k] <= 0x4F):
        k += 1
    if k:
        # Prefixes capstone rejects (repeated, or before an invalid opcode): libopcodes
        # prints them as words in front of what follows.
        words = _lone_words(code[offset:offset + k]).rstrip()
        rest = next(iter(cs.disasm(code[offset + k:offset + 15], address + k, 1)), None)
        if rest is not None:
            inner = _convert(cs, rest, att)
            return replace(inner, address=address, size=k + inner.size,
                           raw=code[offset:offset + k + inner.size],
                           mnemonic=f"{words} {inner.mnemonic}")
        return Instruction(address, k + 1, code[offset:offset + k + 1], f"{words} (bad)", "")
    return Instruction(address, 1, code[offset:offset + 1], "(bad)", "")


def _truncated(cs: capstone.Cs, code: bytes, offset: int, address: int) -> bool:
    """Whether decoding at OFFSET fails only because CODE ends too soon."""
    tail = code[offset:]
    if len(tail) >= 15:
        return False
    padded = tail + b"\x90" * 15
    for insn in cs.disasm(padded, address + offset, 1):
        return insn.size > len(tail)
    return False


# --- conversion of capstone's text to libopcodes' text ------------------------------------

_JUMPS = frozenset({
    "jmp", "ljmp", "jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja", "js", "jns", "jp",
    "jnp", "jl", "jge", "jle", "jg", "jrcxz", "jecxz", "loop", "loope", "loopne",
})
_CALLS = frozenset({"call", "lcall"})
_RETURNS = frozenset({"ret", "retf", "retfq", "iret", "iretd", "iretq", "sysret", "sysretq",
                      "sysexit", "sysexitq"})
_DIRECT_BRANCHES = _JUMPS | _CALLS | {"xbegin"}

_LEGACY_PREFIXES = frozenset(b"\xf0\xf2\xf3\x2e\x36\x3e\x26\x64\x65\x66\x67")
_SEGMENT_WORDS = {0x2E: "cs", 0x36: "ss", 0x3E: "ds", 0x26: "es", 0x64: "fs", 0x65: "gs"}
_LONE_PREFIX_WORDS = {0xF0: "lock", 0xF2: "repnz", 0xF3: "repz", 0x66: "data16",
                      0x67: "addr32", **_SEGMENT_WORDS}
_REP_WORDS = frozenset({"rep", "repe", "repz", "repne", "repnz", "bnd", "xacquire", "xrelease"})

# One-byte string instructions: opcode -> (name, operand pattern).
_STRING_OPS = {
    0xA4: "movs", 0xA5: "movs", 0xA6: "cmps", 0xA7: "cmps", 0xAA: "stos", 0xAB: "stos",
    0xAC: "lods", 0xAD: "lods", 0xAE: "scas", 0xAF: "scas", 0x6C: "ins", 0x6D: "ins",
    0x6E: "outs", 0x6F: "outs",
}
_ACC = {1: "al", 2: "ax", 4: "eax", 8: "rax"}
_INTEL_SIZE = {1: "BYTE", 2: "WORD", 4: "DWORD", 8: "QWORD"}
_SIZE_SUFFIX = {1: "b", 2: "w", 4: "l", 8: "q"}

# Integer mnemonics whose AT&T size suffix libopcodes never prints in 64-bit mode.
_NO_SUFFIX = frozenset({"push", "pop", "call", "jmp", "ret", "lcall", "ljmp", "retf",
                        "sgdt", "sidt", "lgdt", "lidt", "sldt", "lldt", "str", "ltr", "smsw",
                        "lmsw", "verr", "verw"})
# Instructions that take xacquire/xrelease.
_HLE = frozenset({"add", "adc", "and", "btc", "btr", "bts", "cmpxchg", "cmpxchg8b",
                  "cmpxchg16b", "dec", "inc", "neg", "not", "or", "sbb", "sub", "xor", "xadd",
                  "xchg", "mov"})
# Text that shows an operand-size (66) or REX prefix was needed.
_USES_66 = re.compile(r"\b%?(ax|bx|cx|dx|si|di|bp|sp|r\d+w|[xyz]?mm\d+)\b|WORD|w$|w ")
_USES_REX_W = re.compile(r"\b%?(r[a-d]x|r[sd]i|r[sb]p|r\d+|cr\d+|dr\d+|db\d+)\b|QWORD|q$|q ")
_MEMORY_TEXT = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_EXTENDED_REG = re.compile(r"\b%?(r(8|9|1[0-5])[dwb]?|[xyz]mm(8|9|1[0-5])|[cd]r(8|9|1[0-5]))\b")
_BYTE_REGS_NEEDING_REX = re.compile(r"\b%?(spl|bpl|sil|dil|r\d+b?)\b")
# Immediate widths where capstone's detail reports the operand size instead.
_IMM_SIZES = {"xabort": (1,), "int": (1,), "enter": (2, 1)}
_PCLMUL = {0x00: "lqlqdq", 0x01: "hqlqdq", 0x02: "lqhqdq", 0x03: "hqhqdq", 0x10: "lqhqdq",
           0x11: "hqhqdq"}
# capstone's names that libopcodes spells differently.
_INTEL_RENAME = {"pushfq": "pushf", "popfq": "popf", "iretd": "iret"}
_FIXED_SIZE_16 = frozenset({"push", "pop", "ret", "retf", "iret", "iretd", "pushf", "pushfq",
                            "popf", "popfq", "leave", "enter", "lret"})
_ATT_RENAME = {"lretl": "lret", "iretl": "iret", "pushfq": "pushf", "popfq": "popf",
               "lcalll": "lcall", "ljmpl": "ljmp"}
# Operand sizes capstone's Intel printer gets wrong.
_INTEL_PTR_FIX = {"comisd": "QWORD", "comiss": "DWORD", "movabs": "", "wrssd": "", "wrssq": "",
                  "wrussd": "", "wrussq": "", "vlddqu": "", "bndmov": "", "invpcid": "",
                  "invept": "OWORD", "invvpid": "OWORD"}
# Instructions on which a REX or 66 prefix usually does nothing, so libopcodes may print it.
_REX_SUSPECT = frozenset({"call", "jmp", "ret", "push", "pop", "leave", "nop", "lea"}) | _JUMPS
_SHIFTS = frozenset({"shl", "shr", "sal", "sar", "rol", "ror", "rcl", "rcr", "shld", "shrd"})

_INTEL_PTR = re.compile(r"^(\w+) ptr ")
_INTEL_PTR_NAMES = {
    "byte": "BYTE", "word": "WORD", "dword": "DWORD", "qword": "QWORD", "xword": "TBYTE",
    "tbyte": "TBYTE", "xmmword": "XMMWORD", "ymmword": "YMMWORD", "zmmword": "ZMMWORD",
    "fword": "FWORD", "oword": "OWORD",
}


@dataclass
class _Prefixes:
    """The legacy prefixes and REX byte in front of the opcode."""

    legacy: bytes
    rex: int
    opcode_offset: int


def _scan_prefixes(raw: bytes) -> _Prefixes:
    """Legacy prefixes, then at most one REX right before the opcode."""
    i = 0
    while i < len(raw) - 1 and raw[i] in _LEGACY_PREFIXES:
        i += 1
    rex = 0
    if i < len(raw) - 1 and 0x40 <= raw[i] <= 0x4F:
        rex = raw[i]
        i += 1
    return _Prefixes(raw[:i - (1 if rex else 0)], rex, i)


def _split_operands(op_str: str) -> list[str]:
    """Split capstone's "a, b, c" at top-level commas (not inside () [] {})."""
    if not op_str:
        return []
    out, depth, start = [], 0, 0
    for i, ch in enumerate(op_str):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(op_str[start:i].strip())
            start = i + 1
    out.append(op_str[start:].strip())
    return out


def _hex(value: int) -> str:
    return f"{value:#x}"


def _signed_hex(value: int) -> str:
    return f"-{-value:#x}" if value < 0 else f"{value:#x}"


def _imm(value: int, size: int) -> str:
    """An immediate as libopcodes prints it: unsigned, in the operand's width."""
    if size and size < 8:
        value &= (1 << (size * 8)) - 1
    return _hex(value & _MASK64)


@dataclass
class _Detail:
    """What the formatting needs from capstone's detail mode, copied out of it."""

    modrm: int
    sib: int
    # Per memory operand: segment, base, index, scale, displacement.
    mems: list[tuple[str | None, str | None, str | None, int, int]]
    imms: list[tuple[int, int]]  # value, size


def _detail(cs: capstone.Cs, insn: capstone.CsInsn) -> _Detail:
    """Decode INSN again with operand details; detail mode is 4x slower, so only on demand."""
    from capstone import x86_const as X
    cs.detail = True
    try:
        d = next(cs.disasm(insn.bytes, insn.address, 1))
        name = d.reg_name
        mems, imms = [], []
        for op in d.operands:
            if op.type == X.X86_OP_MEM:
                m = op.mem
                mems.append((name(m.segment) if m.segment else None,
                             name(m.base) if m.base else None,
                             name(m.index) if m.index else None, m.scale, m.disp))
            elif op.type == X.X86_OP_IMM:
                imms.append((op.imm, op.size))
        return _Detail(d.modrm, d.sib, mems, imms)
    finally:
        cs.detail = False


@dataclass
class _Mem:
    """A memory operand as libopcodes sees it (from capstone's detail and the ModRM/SIB)."""

    segment: str | None
    base: str | None
    index: str | None
    scale: int
    disp: int
    has_disp: bool
    riz: bool
    rip: bool
    absolute: bool
    addr32: bool


def _mem_of(d: _Detail, mem: tuple, pre: _Prefixes, opcode: int) -> _Mem:
    seg, base, index, scale, disp = mem
    if seg not in ("fs", "gs"):
        # cs/ds/es/ss do nothing in 64-bit mode: libopcodes prints them as prefix words.
        seg = None
    addr32 = 0x67 in pre.legacy
    if opcode in (0xA0, 0xA1, 0xA2, 0xA3):
        # movabs with a 64-bit absolute address: no ModRM at all.
        return _Mem(seg, None, None, 1, disp, True, False, False, True, addr32)
    mod, rm = d.modrm >> 6, d.modrm & 7
    has_sib = rm == 4
    base3 = (d.sib & 7) if has_sib else rm
    has_disp = mod in (1, 2) or (mod == 0 and base3 == 5)
    rip = base in ("rip", "eip")
    scale_bits = (d.sib >> 6) & 3 if has_sib else 0
    riz = has_sib and index is None and (scale_bits != 0 or (base is not None and base3 != 4))
    absolute = base is None and index is None and not riz
    if has_sib:
        scale = 1 << scale_bits
    return _Mem(seg, base, index, scale, disp, has_disp, riz, rip, absolute, addr32)


def _att_mem(mem: _Mem) -> str:
    seg = f"%{mem.segment}:" if mem.segment else ""
    if mem.rip:
        return f"{seg}{_signed_hex(mem.disp)}(%{mem.base})"
    if mem.absolute:
        return f"{seg}{_hex(mem.disp & (0xFFFFFFFF if mem.addr32 else _MASK64))}"
    disp = _signed_hex(mem.disp) if mem.has_disp else ""
    inner = f"%{mem.base}" if mem.base else ""
    if mem.index or mem.riz:
        index = mem.index or ("eiz" if mem.addr32 else "riz")
        inner += f",%{index},{mem.scale}"
    return f"{seg}{disp}({inner})"


def _intel_mem(mem: _Mem) -> str:
    seg = f"{mem.segment}:" if mem.segment else ""
    if mem.rip:
        return f"{seg}[{mem.base}+{_hex(mem.disp & _MASK64)}]"
    if mem.absolute:
        return f"{seg or 'ds:'}{_hex(mem.disp & (0xFFFFFFFF if mem.addr32 else _MASK64))}"
    inner = mem.base or ""
    if mem.index or mem.riz:
        index = mem.index or ("eiz" if mem.addr32 else "riz")
        inner += f"{'+' if mem.base else ''}{index}*{mem.scale}"
    if mem.has_disp:
        inner += ("+" if mem.disp >= 0 else "") + _signed_hex(mem.disp)
    return f"{seg}[{inner}]"


def _is_att_memory(operand: str) -> bool:
    body = operand.lstrip("*")
    if body.startswith("%st"):
        return False
    return "(" in body or (not body.startswith(("$", "%")) and body[:1].isdigit()) or (
        body.startswith("%") and ":" in body)


def _is_intel_memory(operand: str) -> bool:
    return "[" in operand or " ptr " in operand


_GPR = frozenset(
    [f"r{n}" for n in "ax bx cx dx si di bp sp".split()]
    + [f"e{n}" for n in "ax bx cx dx si di bp sp".split()]
    + "ax bx cx dx si di bp sp al bl cl dl ah bh ch dh sil dil bpl spl".split()
    + [f"r{i}{s}" for i in range(8, 16) for s in ("", "d", "w", "b")]
)
# Operands rewritten before the main loop, which must pass through it untouched.
_PLACEHOLDERS = {"__one__": "1", "__dx__": "(%dx)"}
_SIZED_REGS = _GPR | {"es", "cs", "ss", "ds", "fs", "gs"}
_DECORATION = re.compile(r"\s*(\{[^}]*\})")


def _undecorate(operand: str) -> tuple[str, str]:
    """Split an AVX-512 operand into its body and its "{%k1}{z}" / "{1to16}" decorations."""
    i = operand.find("{")
    if i < 0:
        return operand, ""
    return operand[:i].rstrip(), "".join(_DECORATION.findall(operand[i:]))


def _convert(cs: capstone.Cs, insn: capstone.CsInsn, att: bool) -> Instruction:
    """capstone's decoding of one instruction, in libopcodes' words.

    Mnemonic and register operands mostly come from capstone's text; memory operands are
    rebuilt from the detail (ModRM/SIB decide whether libopcodes shows a zero displacement,
    a scale of 1 or %riz); prefixes are re-derived from the bytes.
    """
    raw = bytes(insn.bytes)
    name = insn.insn_name()
    pre = _scan_prefixes(raw)
    opcode = raw[pre.opcode_offset]
    words = insn.mnemonic.split()
    cs_words, base = words[:-1], words[-1]
    if 0xD8 <= opcode <= 0xDF and pre.opcode_offset + 1 < len(raw) \
            and raw[pre.opcode_offset + 1] >= 0xC0:
        mnemonic, operands = _x87_register_form(opcode, raw[pre.opcode_offset + 1], att)
        return Instruction(insn.address, insn.size, raw, _lone_words(raw[:pre.opcode_offset])
                           + mnemonic, operands)
    if opcode in _STRING_OPS or opcode == 0xD7:
        mnemonic, operands = _string_op(opcode, pre, att)
        return Instruction(insn.address, insn.size, raw, mnemonic, operands)
    if opcode == 0x90 and 0x66 in pre.legacy and 0xF3 not in pre.legacy and not pre.rex:
        # libopcodes decodes 66 90 as what it is, not as capstone's "nop".
        return Instruction(insn.address, insn.size, raw,
                           _prefix_words(cs, insn, pre, cs_words, "xchg", False, text="%ax")
                           + "xchg", "%ax,%ax" if att else "ax,ax")

    texts = _split_operands(insn.op_str)
    if opcode in (0xD0, 0xD1) and texts:
        # Shift/rotate by one: libopcodes leaves the count out in AT&T, writes "1" in Intel.
        if att:
            texts = [t for t in texts if t not in ("$1", "$0x1")]
        else:
            texts = [t if t not in ("1", "0x1") else "__one__" for t in texts]
    if att and opcode in (0xEC, 0xED, 0xEE, 0xEF):
        texts = ["__dx__" if t == "%dx" else t for t in texts]
    if name == "sal":
        # libopcodes calls both encodings of the left shift "shl".
        name, base = "shl", "shl" + base[3:]
    elif opcode == 0x9B and base == "wait":
        name = base = "fwait"
    elif att and opcode == 0x63 and not pre.rex & 8:
        name = base = "movsxd"
    base = (_ATT_RENAME if att else _INTEL_RENAME).get(base, base)
    forced_suffix = ""
    if name in ("sysret", "sysexit") and not pre.rex & 8:
        forced_suffix = "l" if att else "d"
    word_suffix = name in _FIXED_SIZE_16 and 0x66 in pre.legacy and not pre.rex & 8
    if word_suffix:
        # An operand-size prefix on a stack or far-control instruction: libopcodes says "w"
        # unless a 16-bit register operand already shows it.
        base = name = _INTEL_RENAME.get(name, name)
    if opcode == 0x0F and raw[pre.opcode_offset + 1] in (0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E,
                                                          0x1F) and name == "nop" \
            and len(texts) == 2:
        # Hint NOPs: libopcodes shows only the r/m operand.
        texts = texts[1:] if att else texts[:1]

    branch_target = None
    if name in _DIRECT_BRANCHES and len(texts) == 1 and texts[0][:1].isdigit():
        branch_target = int(texts[0], 0)
        texts = []
    is_memory = _is_att_memory if att else _is_intel_memory
    needs_detail = any(is_memory(t) for t in texts) or "-" in insn.op_str
    d = _detail(cs, insn) if needs_detail else None
    mem_ops = d.mems if d else []
    imm_ops = d.imms if d else []
    imm_sizes = _IMM_SIZES.get(name)

    out: list[str] = []
    has_mem = has_sized_reg = False
    memory_target = None
    imm_values: list[int] = []
    for text in texts:
        body, deco = _undecorate(text)
        if not body and out and not att:
            out[-1] += deco  # Intel: "zmm2{rn-sae}", where capstone writes "zmm2, {rn-sae}"
            continue
        if body in _PLACEHOLDERS:
            out.append(_PLACEHOLDERS[body])
            continue
        if is_memory(body):
            has_mem = True
            mem = _mem_of(d, mem_ops.pop(0), pre, opcode)
            if att:
                body = ("*" if body.startswith("*") else "") + _att_mem(mem)
            else:
                body = _intel_ptr(name, body) + _intel_mem(mem)
            if mem.rip:
                memory_target = (insn.address + insn.size + mem.disp) & _MASK64
        elif att and body.startswith("$") or not att and body[:1] in "-0123456789" and body:
            value = int(body.lstrip("$"), 0)
            size = 0
            if imm_ops:
                value, size = imm_ops.pop(0)
            if imm_sizes:
                size = imm_sizes[len(imm_values)]
            imm_values.append(value)
            body = ("$" if att else "") + _imm(value, size)
        else:
            reg = body.lstrip("*%")
            if att and reg.startswith("dr") and reg[2:].isdigit():
                body = "%db" + reg[2:]  # libopcodes' AT&T name for debug registers
            if reg in _SIZED_REGS and not (reg == "cl" and name in _SHIFTS):
                has_sized_reg = True
        out.append(body + deco)

    if name in ("pclmulqdq", "vpclmulqdq") and imm_values and imm_values[0] in _PCLMUL:
        # libopcodes prints the four useful immediates as part of the name.
        base = base.replace("qdq", _PCLMUL[imm_values[0]])
        out = out[1:] if att else out[:-1]

    stem = base
    if att and base != name and base.startswith(name) and len(base) - len(name) <= 2:
        suffix = base[len(name):]
        if name == "crc32":
            keep = has_mem
        elif name in _NO_SUFFIX:
            keep = False
        elif name.startswith("f"):
            keep = has_mem
        else:
            keep = has_mem and not has_sized_reg
        stem = name + (suffix if keep else "")
    if word_suffix and not has_sized_reg or (
            word_suffix and name == "pop" and out and out[0].lstrip("%") in ("fs", "gs")):
        stem += "w"
    stem += forced_suffix
    hint = ""
    if name in _JUMPS and name not in ("jmp", "ljmp"):
        if 0x2E in pre.legacy:
            hint = ",pn"
        elif 0x3E in pre.legacy:
            hint = ",pt"
    joined = ",".join(out)
    has_sib = d is not None and has_mem and (d.modrm & 7) == 4 and d.modrm >> 6 != 3
    mnemonic = _prefix_words(cs, insn, pre, cs_words, name, has_mem, bool(hint),
                             f"{stem} {joined}", has_sib) + stem + hint
    if branch_target is not None:
        out = [_hex(branch_target)]
    return Instruction(
        insn.address, insn.size, raw, mnemonic, ",".join(out),
        branch_target=branch_target,
        is_call=name in _CALLS,
        is_return=name in _RETURNS,
        is_jump=name in _JUMPS,
        memory_target=memory_target,
    )


def _intel_ptr(name: str, body: str) -> str:
    """The "QWORD PTR " in front of an Intel memory operand."""
    forced = _INTEL_PTR_FIX.get(name)
    if forced is not None:
        return forced and forced + " PTR "
    if body.startswith("ptr "):
        return "FWORD PTR "  # far pointer: capstone names no size
    m = _INTEL_PTR.match(body)
    if not m:
        return ""
    return _INTEL_PTR_NAMES.get(m.group(1), m.group(1).upper()) + " PTR "


def _prefix_words(cs: capstone.Cs, insn: capstone.CsInsn, pre: _Prefixes, cs_words: list[str],
                  name: str, has_mem: bool, hinted: bool = False, text: str = "",
                  has_sib: bool = False) -> str:
    """The prefixes libopcodes prints as words ("lock ", "cs ", "data16 ", "rex.W ", ...).

    libopcodes prints every prefix the instruction did not use. capstone does not say which
    it used, so a suspicious prefix is dropped and the instruction decoded again: if nothing
    changes, the prefix was unused.
    """
    words = []
    reps = [w for w in cs_words if w in _REP_WORDS]
    last66 = len(pre.legacy) - 1 - pre.legacy[::-1].find(b"\x66") if 0x66 in pre.legacy else -1
    for i, b in enumerate(pre.legacy):
        if b == 0xF0:
            words.append("lock")
        elif b in (0xF2, 0xF3):
            if reps:
                w = reps.pop(0)
                if w in ("rep", "repe", "repz"):
                    w = "repz"
                elif w in ("repne", "repnz"):
                    w = "repnz"
                words.append(w)
            elif _prefix_unused(cs, insn, b):
                if (0xF0 in pre.legacy or name == "xchg" and has_mem) and name in _HLE:
                    words.append("xacquire" if b == 0xF2 else "xrelease")
                elif b == 0xF3 and name == "mov" and has_mem and insn.bytes[
                        pre.opcode_offset] in (0x88, 0x89, 0xC6, 0xC7):
                    words.append("xrelease")
                else:
                    words.append("repz" if b == 0xF3 else "repnz")
        elif b in (0x2E, 0x3E) and hinted:
            pass
        elif b in (0x2E, 0x36, 0x3E, 0x26):
            words.append("notrack" if b == 0x3E and "notrack" in cs_words else _SEGMENT_WORDS[b])
        elif b in (0x64, 0x65):
            if not has_mem:
                words.append(_SEGMENT_WORDS[b])
        elif b == 0x66:
            if i != last66:
                words.append("data16")
            elif (name in _REX_SUSPECT or not _USES_66.search(text)) \
                    and name not in _FIXED_SIZE_16 and name not in ("movsxd", "bsf", "bsr") \
                    and _prefix_unused(cs, insn, 0x66):
                words.append("data16")
        elif b == 0x67:
            if not has_mem and name not in ("jecxz", "loop", "loope", "loopne"):
                words.append("addr32")
    if pre.rex and _rex_unused(cs, insn, pre, name, text, has_mem, has_sib):
        words.append(_rex_word(pre.rex))
    return "".join(w + " " for w in words)


def _prefix_unused(cs: capstone.Cs, insn: capstone.CsInsn, prefix: int) -> bool:
    """Whether dropping every PREFIX byte in front of the opcode leaves the same instruction."""
    raw = bytes(insn.bytes)
    pre = _scan_prefixes(raw)
    head = bytes(b for b in raw[:pre.opcode_offset] if b != prefix)
    dropped = pre.opcode_offset - len(head)
    for other in cs.disasm(head + raw[pre.opcode_offset:], insn.address + dropped, 1):
        return other.size == len(raw) - dropped and (other.mnemonic, other.op_str) == (
            insn.mnemonic, insn.op_str)
    return False


def _rex_unused(cs: capstone.Cs, insn: capstone.CsInsn, pre: _Prefixes, name: str,
                text: str, has_mem: bool, has_sib: bool) -> bool:
    """Whether some bit of the REX prefix does nothing (libopcodes then prints all of it)."""
    rex = pre.rex
    suspect = name in _REX_SUSPECT
    registers = _MEMORY_TEXT.sub("", text).replace("QWORD PTR", "")
    if rex == 0x40:
        return (suspect or not _BYTE_REGS_NEEDING_REX.search(registers)) \
            and _prefix_unused(cs, insn, rex)
    candidates = []
    if rex & 8 and (suspect or not _USES_REX_W.search(registers)):
        candidates.append(8)
    extended = len(_EXTENDED_REG.findall(text))
    # libopcodes counts REX.B as used as soon as it decodes a ModRM memory operand, even one
    # without a base (RIP-relative), and REX.X as soon as there is a SIB byte.
    rxb = [bit for bit in (4, 2, 1)
           if rex & bit and not (bit == 1 and has_mem) and not (bit == 2 and has_sib)]
    if rxb and (suspect or extended < len(rxb)):
        candidates.extend(rxb)
    raw = bytes(insn.bytes)
    at = pre.opcode_offset - 1
    for bit in candidates:
        changed = raw[:at] + bytes([rex & ~bit]) + raw[at + 1:]
        for other in cs.disasm(changed, insn.address, 1):
            if other.size == len(raw) and (other.mnemonic, other.op_str) == (
                    insn.mnemonic, insn.op_str):
                return True
    return False


def _string_op(opcode: int, pre: _Prefixes, att: bool) -> tuple[str, str]:
    """movs/cmps/stos/lods/scas/ins/outs/xlat, whose operands libopcodes spells out."""
    name = _STRING_OPS.get(opcode, "xlat")
    sized = opcode % 2 == 1 and name != "xlat"
    has_source = name in ("movs", "cmps", "lods", "outs", "xlat")
    a32 = 0x67 in pre.legacy
    last66 = len(pre.legacy) - 1 - pre.legacy[::-1].find(b"\x66") if 0x66 in pre.legacy else -1
    src_seg = "ds"
    words = []
    for i, b in enumerate(pre.legacy):
        if b == 0xF0:
            words.append("lock")
        elif b == 0xF3:
            words.append("repz" if name in ("cmps", "scas", "xlat") else "rep")
        elif b == 0xF2:
            words.append("repnz")
        elif b in _SEGMENT_WORDS:
            # Only a source operand takes a segment, and only fs/gs show in 64-bit mode.
            if not has_source:
                words.append(_SEGMENT_WORDS[b])
            elif b in (0x64, 0x65):
                src_seg = _SEGMENT_WORDS[b]
        elif b == 0x66 and not (sized and i == last66):
            words.append("data16")
    rex_w_used = sized and name not in ("ins", "outs")
    if pre.rex and (pre.rex & 7 or pre.rex == 0x40 or not rex_w_used):
        words.append(_rex_word(pre.rex))  # no ModRM, so R/X/B never count
    prefix = "".join(w + " " for w in words)
    if name == "xlat":
        bx = "ebx" if a32 else "rbx"
        return prefix + "xlat", f"%{src_seg}:(%{bx})" if att else f"BYTE PTR {src_seg}:[{bx}]"
    if not sized:
        size = 1
    elif pre.rex & 8 and rex_w_used:
        size = 8
    elif 0x66 in pre.legacy:
        size = 2
    else:
        size = 4
    si, di = ("esi", "edi") if a32 else ("rsi", "rdi")
    acc = _ACC[size]
    if att:
        src, dst = f"%{src_seg}:(%{si})", f"%es:(%{di})"
        sfx = _SIZE_SUFFIX[size]
        forms = {
            "movs": (name + sfx, f"{src},{dst}"), "cmps": (name + sfx, f"{dst},{src}"),
            "stos": (name, f"%{acc},{dst}"), "lods": (name, f"{src},%{acc}"),
            "scas": (name, f"{dst},%{acc}"), "ins": (name + sfx, f"(%dx),{dst}"),
            "outs": (name + sfx, f"{src},(%dx)"),
        }
    else:
        ptr = _INTEL_SIZE[size] + " PTR "
        src, dst = f"{ptr}{src_seg}:[{si}]", f"{ptr}es:[{di}]"
        forms = {
            "movs": (name, f"{dst},{src}"), "cmps": (name, f"{src},{dst}"),
            "stos": (name, f"{dst},{acc}"), "lods": (name, f"{acc},{src}"),
            "scas": (name, f"{acc},{dst}"), "ins": (name, f"{dst},dx"),
            "outs": (name, f"dx,{src}"),
        }
    mnemonic, operands = forms[name]
    return prefix + mnemonic, operands


# x87 instructions on registers (ModRM mod == 3): libopcodes' names and operand forms, which
# differ from capstone's (two operands where it prints one, fcomip for fcompi, ...).
# Per opcode D8..DF and ModRM reg field: a name for all eight st(i), or a list per rm value.
# Form "i": %st(i); "is": %st(i),%st; "si": %st,%st(i); "": none.
_X87_REG: dict[int, list] = {
    0xD8: [("fadd", "is"), ("fmul", "is"), ("fcom", "i"), ("fcomp", "i"), ("fsub", "is"),
           ("fsubr", "is"), ("fdiv", "is"), ("fdivr", "is")],
    0xD9: [("fld", "i"), ("fxch", "i"), ["fnop"] + [None] * 7, None,
           ["fchs", "fabs", None, None, "ftst", "fxam", None, None],
           ["fld1", "fldl2t", "fldl2e", "fldpi", "fldlg2", "fldln2", "fldz", None],
           ["f2xm1", "fyl2x", "fptan", "fpatan", "fxtract", "fprem1", "fdecstp", "fincstp"],
           ["fprem", "fyl2xp1", "fsqrt", "fsincos", "frndint", "fscale", "fsin", "fcos"]],
    0xDA: [("fcmovb", "is"), ("fcmove", "is"), ("fcmovbe", "is"), ("fcmovu", "is"), None,
           [None, "fucompp"] + [None] * 6, None, None],
    0xDB: [("fcmovnb", "is"), ("fcmovne", "is"), ("fcmovnbe", "is"), ("fcmovnu", "is"),
           ["fneni(8087 only)", "fndisi(8087 only)", "fnclex", "fninit", "fnsetpm(287 only)",
            "frstpm(287 only)", None, None],
           ("fucomi", "is"), ("fcomi", "is"), None],
    0xDC: [("fadd", "si"), ("fmul", "si"), None, None, ("fsub", "si"), ("fsubr", "si"),
           ("fdiv", "si"), ("fdivr", "si")],
    0xDD: [("ffree", "i"), None, ("fst", "i"), ("fstp", "i"), ("fucom", "i"), ("fucomp", "i"),
           None, None],
    0xDE: [("faddp", "si"), ("fmulp", "si"), None, [None, "fcompp"] + [None] * 6,
           ("fsubp", "si"), ("fsubrp", "si"), ("fdivp", "si"), ("fdivrp", "si")],
    0xDF: [("ffreep", "i"), None, None, None, ["fnstsw"] + [None] * 7, ("fucomip", "is"),
           ("fcomip", "is"), None],
}


# AT&T keeps the historic System V mix-up of fsub/fsubr and fdiv/fdivr with a %st(i)
# destination; Intel syntax does not.
_INTEL_X87_SWAP = {"fsub": "fsubr", "fsubr": "fsub", "fdiv": "fdivr", "fdivr": "fdiv",
                   "fsubp": "fsubrp", "fsubrp": "fsubp", "fdivp": "fdivrp", "fdivrp": "fdivp"}


def _x87_register_form(opcode: int, modrm: int, att: bool) -> tuple[str, str]:
    """Mnemonic and operands of an x87 instruction with ModRM mod == 3."""
    entry = _X87_REG[opcode][(modrm >> 3) & 7]
    rm = modrm & 7
    if isinstance(entry, list):
        name = entry[rm]
        if name == "fnstsw":
            return name, "%ax" if att else "ax"
        return (name, "") if name else ("(bad)", "")
    if entry is None:
        return "(bad)", ""
    name, form = entry
    if not att and opcode in (0xDC, 0xDE):
        name = _INTEL_X87_SWAP.get(name, name)
    sti, st = (f"%st({rm})", "%st") if att else (f"st({rm})", "st")
    if form == "i":
        return name, sti
    if (form == "is") == att:
        return name, f"{sti},{st}"
    return name, f"{st},{sti}"
