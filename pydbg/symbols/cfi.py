"""Call frame information (.eh_frame via .eh_frame_hdr, .debug_frame) and one-step unwinding.

Pure: FDEs are parsed lazily from section bytes; registers and memory come in as callbacks.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from pydbg.errors import SymbolError
from pydbg.symbols.dwarf_expr import ByteReader, DwarfExprError, EvalContext, evaluate_value

# DWARF register numbers on x86-64 (System V psABI, figure 3.36).
RBP, RSP, RIP = 6, 7, 16
ADDRESS_SIZE = 8

ReadMemory = Callable[[int, int], bytes]


class CfiError(SymbolError):
    """Call frame information is malformed or uses something we cannot interpret."""


class RuleKind(enum.Enum):
    UNDEFINED = "undefined"
    SAME_VALUE = "same_value"
    OFFSET = "offset"  # saved at CFA+N
    VAL_OFFSET = "val_offset"  # value is CFA+N
    REGISTER = "register"  # saved in another register
    EXPRESSION = "expression"  # saved at the address an expression computes
    VAL_EXPRESSION = "val_expression"  # value is what an expression computes
    ARCHITECTURAL = "architectural"


@dataclass(frozen=True)
class RegisterRule:
    """How to recover one caller register; ARG is N, a register number or expression bytes."""

    kind: RuleKind
    arg: int | bytes | None = None


@dataclass(frozen=True)
class CfaRule:
    """CFA = register + offset, or the value of a DWARF expression when expression is set."""

    register: int | None
    offset: int = 0
    expression: bytes | None = None


@dataclass(frozen=True)
class UnwindRow:
    """One row of an FDE's table: rules valid for file addresses [start, end)."""

    start: int
    end: int
    cfa: CfaRule
    rules: Mapping[int, RegisterRule]
    return_address_register: int
    is_signal_frame: bool
    function_start: int  # the FDE's range
    function_end: int

    def rule(self, regno: int) -> RegisterRule | None:
        """The explicit rule for REGNO, or None when the CFI leaves it unspecified."""
        return self.rules.get(regno)


# --------------------------------------------------------------------------- entries

@dataclass
class _Cie:
    offset: int
    version: int
    augmentation: str
    address_size: int
    code_align: int
    data_align: int
    ra_register: int
    fde_encoding: int
    is_signal_frame: bool
    instructions: bytes
    has_aug_data: bool
    initial: tuple[CfaRule, dict[int, RegisterRule]] | None = None


@dataclass
class _Fde:
    offset: int
    cie: _Cie
    start: int
    end: int
    instructions: bytes
    rows: list[UnwindRow] | None = None
    row_starts: list[int] = field(default_factory=list)


DW_EH_PE_omit = 0xFF
DW_EH_PE_pcrel = 0x10
DW_EH_PE_datarel = 0x30

_FIXED_SIZES = {0x00: 8, 0x02: 2, 0x03: 4, 0x04: 8, 0x0A: 2, 0x0B: 4, 0x0C: 8}


def _read_encoded(r: ByteReader, encoding: int, section_address: int,
                  data_base: int = 0, apply: bool = True) -> int:
    """Read a pointer in a DW_EH_PE_* encoding; pc-relative means relative to the field itself."""
    field_address = section_address + r.pos
    fmt = encoding & 0x0F
    if fmt == 0x00:
        v = r.u64()
    elif fmt == 0x01:
        v = r.uleb()
    elif fmt == 0x02:
        v = r.u16()
    elif fmt == 0x03:
        v = r.u32()
    elif fmt == 0x04:
        v = r.u64()
    elif fmt == 0x09:
        v = r.sleb()
    elif fmt == 0x0A:
        v = r.s16()
    elif fmt == 0x0B:
        v = r.s32()
    elif fmt == 0x0C:
        v = r.s64()
    else:
        raise CfiError(f"unsupported pointer encoding {encoding:#x}")
    if apply:
        rel = encoding & 0x70
        if rel == DW_EH_PE_pcrel:
            v += field_address
        elif rel == DW_EH_PE_datarel:
            v += data_base
        elif rel != 0:
            raise CfiError(f"unsupported pointer encoding {encoding:#x}")
    return v & ((1 << 64) - 1)


class _FrameSection:
    """One .eh_frame or .debug_frame section: entries parsed on demand and cached by offset."""

    def __init__(self, data: bytes, address: int, is_eh: bool) -> None:
        self.data = data
        self.address = address
        self.is_eh = is_eh
        self._cies: dict[int, _Cie] = {}
        self._fdes: dict[int, _Fde | None] = {}
        self._index: tuple[list[int], list[_Fde]] | None = None

    def _entry_header(self, offset: int) -> tuple[ByteReader, int, int, bool] | None:
        """(reader after the id field, id, end offset, is_64bit), or None at a terminator."""
        r = ByteReader(self.data, offset)
        length = r.u32()
        if length == 0:
            return None
        is64 = length == 0xFFFFFFFF
        if is64:
            length = r.u64()
        end = r.pos + length
        if end > len(self.data):
            raise CfiError(f"CFI entry at {offset:#x} runs past the end of its section")
        ident = r.u64() if is64 else r.u32()
        return r, ident, end, is64

    def _is_cie(self, ident: int, is64: bool) -> bool:
        if self.is_eh:
            return ident == 0
        return ident == (0xFFFFFFFFFFFFFFFF if is64 else 0xFFFFFFFF)

    def get_cie(self, offset: int) -> _Cie:
        cie = self._cies.get(offset)
        if cie is not None:
            return cie
        hdr = self._entry_header(offset)
        if hdr is None:
            raise CfiError(f"no CIE at offset {offset:#x}")
        r, ident, end, is64 = hdr
        if not self._is_cie(ident, is64):
            raise CfiError(f"entry at {offset:#x} is not a CIE")
        version = r.u8()
        augmentation = r.cstring().decode("ascii", "replace")
        address_size = ADDRESS_SIZE
        if augmentation.startswith("eh"):
            r.u64()  # old GCC "eh" augmentation: an EH table pointer we do not need
        if version >= 4:
            address_size = r.u8()
            r.u8()  # segment selector size
        code_align = r.uleb()
        data_align = r.sleb()
        ra_register = r.u8() if version == 1 else r.uleb()
        fde_encoding = 0x00  # absptr
        is_signal = False
        has_aug_data = augmentation.startswith("z")
        if has_aug_data:
            aug_len = r.uleb()
            aug_end = r.pos + aug_len
            for ch in augmentation[1:]:
                if ch == "R":
                    fde_encoding = r.u8()
                elif ch == "L":
                    r.u8()
                elif ch == "P":
                    enc = r.u8()
                    _read_encoded(r, enc & 0x7F, self.address, apply=False)
                elif ch == "S":
                    is_signal = True
                elif ch in "BG":
                    pass
                else:
                    break  # unknown letter: the length lets us skip the rest safely
            r.pos = aug_end
        cie = _Cie(offset, version, augmentation, address_size, code_align, data_align,
                   ra_register, fde_encoding, is_signal, r.bytes(end - r.pos), has_aug_data)
        self._cies[offset] = cie
        return cie

    def get_fde(self, offset: int) -> _Fde | None:
        """The FDE at OFFSET, or None when the entry there is a CIE or a terminator."""
        if offset in self._fdes:
            return self._fdes[offset]
        hdr = self._entry_header(offset)
        fde = None
        if hdr is not None:
            r, ident, end, is64 = hdr
            if not self._is_cie(ident, is64):
                id_field = r.pos - (8 if is64 else 4)
                cie = self.get_cie(id_field - ident if self.is_eh else ident)
                if self.is_eh:
                    start = _read_encoded(r, cie.fde_encoding, self.address)
                    size = _read_encoded(r, cie.fde_encoding & 0x0F, self.address, apply=False)
                    if cie.has_aug_data:
                        r.pos += r.uleb()
                else:
                    start = r.uint(cie.address_size)
                    size = r.uint(cie.address_size)
                fde = _Fde(offset, cie, start, start + size, r.bytes(end - r.pos))
        self._fdes[offset] = fde
        return fde

    def iter_entry_offsets(self) -> list[int]:
        offsets = []
        pos = 0
        while pos + 4 <= len(self.data):
            r = ByteReader(self.data, pos)
            length = r.u32()
            if length == 0:
                if self.is_eh:
                    break  # the zero terminator ends .eh_frame
                pos += 4
                continue
            if length == 0xFFFFFFFF:
                length = r.u64()
            offsets.append(pos)
            pos = r.pos + length
        return offsets

    def find_fde_by_scan(self, pc: int) -> _Fde | None:
        """Linear-time index over every FDE, built once; the fallback when there is no hdr."""
        if self._index is None:
            fdes = []
            for off in self.iter_entry_offsets():
                fde = self.get_fde(off)
                if fde is not None and fde.end > fde.start:
                    fdes.append(fde)
            fdes.sort(key=lambda f: f.start)
            self._index = ([f.start for f in fdes], fdes)
        starts, fdes = self._index
        i = bisect.bisect_right(starts, pc) - 1
        # Ranges may nest when the linker kept discarded-section FDEs; check a few back.
        while i >= 0 and starts[i] <= pc:
            if pc < fdes[i].end:
                return fdes[i]
            if pc - starts[i] > 1 << 24:
                break
            i -= 1
        return None


class _EhFrameHdr:
    """The binary-search table of .eh_frame_hdr: (initial location, FDE address), sorted."""

    def __init__(self, data: bytes, address: int) -> None:
        self.data = data
        self.address = address
        r = ByteReader(data)
        version = r.u8()
        eh_ptr_enc, count_enc, self.table_enc = r.u8(), r.u8(), r.u8()
        self.count = 0
        if version != 1 or eh_ptr_enc == DW_EH_PE_omit:
            return
        _read_encoded(r, eh_ptr_enc, address, address)
        if count_enc == DW_EH_PE_omit or self.table_enc == DW_EH_PE_omit:
            return
        count = _read_encoded(r, count_enc, address, address)
        self.entry_size = _FIXED_SIZES.get(self.table_enc & 0x0F, 0)
        if not self.entry_size:
            return  # a variable-size table cannot be binary-searched
        self.table = r.pos
        self.count = min(count, (len(data) - r.pos) // (2 * self.entry_size))

    def _field(self, i: int, which: int) -> int:
        r = ByteReader(self.data, self.table + (2 * i + which) * self.entry_size)
        return _read_encoded(r, self.table_enc, self.address, self.address)

    def lookup(self, pc: int) -> int | None:
        """Address of the FDE whose initial location is the greatest one <= PC."""
        if not self.count:
            return None
        i = bisect.bisect_right(range(self.count), pc, key=lambda k: self._field(k, 0)) - 1
        if i < 0:
            return None
        return self._field(i, 1)


# --------------------------------------------------------------------------- rows

def _execute(instructions: bytes, cie: _Cie, section: _FrameSection, cfa: CfaRule,
             rules: dict[int, RegisterRule], initial: dict[int, RegisterRule] | None,
             start: int, end: int, rows: list[tuple[int, int, CfaRule, dict]] | None
             ) -> tuple[CfaRule, dict[int, RegisterRule]]:
    """Run CFA instructions; with ROWS, append (start, end, cfa, rules) for each address range."""
    r = ByteReader(instructions)
    daf, caf = cie.data_align, cie.code_align
    loc = start
    stack: list[tuple[CfaRule, dict[int, RegisterRule]]] = []

    def advance(new_loc: int) -> None:
        nonlocal loc
        if rows is not None and new_loc > loc:
            rows.append((loc, min(new_loc, end), cfa, dict(rules)))
            loc = new_loc

    def restore(reg: int) -> None:
        if initial is not None and reg in initial:
            rules[reg] = initial[reg]
        else:
            rules.pop(reg, None)

    while not r.at_end():
        op = r.u8()
        high, low = op & 0xC0, op & 0x3F
        if high == 0x40:
            advance(loc + low * caf)
        elif high == 0x80:
            rules[low] = RegisterRule(RuleKind.OFFSET, r.uleb() * daf)
        elif high == 0xC0:
            restore(low)
        elif op == 0x00:  # nop
            pass
        elif op == 0x01:  # set_loc
            if section.is_eh:
                advance(_read_encoded(r, cie.fde_encoding, section.address))
            else:
                advance(r.uint(cie.address_size))
        elif op == 0x02:
            advance(loc + r.u8() * caf)
        elif op == 0x03:
            advance(loc + r.u16() * caf)
        elif op == 0x04:
            advance(loc + r.u32() * caf)
        elif op == 0x05:  # offset_extended
            reg = r.uleb()
            rules[reg] = RegisterRule(RuleKind.OFFSET, r.uleb() * daf)
        elif op == 0x06:  # restore_extended
            restore(r.uleb())
        elif op == 0x07:
            rules[r.uleb()] = RegisterRule(RuleKind.UNDEFINED)
        elif op == 0x08:
            rules[r.uleb()] = RegisterRule(RuleKind.SAME_VALUE)
        elif op == 0x09:  # register
            reg = r.uleb()
            rules[reg] = RegisterRule(RuleKind.REGISTER, r.uleb())
        elif op == 0x0A:  # remember_state
            stack.append((cfa, dict(rules)))
        elif op == 0x0B:  # restore_state keeps the location, restores everything else
            if stack:
                cfa, saved = stack.pop()
                rules.clear()
                rules.update(saved)
        elif op == 0x0C:  # def_cfa
            reg = r.uleb()
            cfa = CfaRule(reg, r.uleb())
        elif op == 0x0D:  # def_cfa_register
            cfa = CfaRule(r.uleb(), cfa.offset if cfa.expression is None else 0)
        elif op == 0x0E:  # def_cfa_offset
            cfa = CfaRule(cfa.register, r.uleb())
        elif op == 0x0F:  # def_cfa_expression
            cfa = CfaRule(None, 0, r.bytes(r.uleb()))
        elif op == 0x10:  # expression
            reg = r.uleb()
            rules[reg] = RegisterRule(RuleKind.EXPRESSION, r.bytes(r.uleb()))
        elif op == 0x11:  # offset_extended_sf
            reg = r.uleb()
            rules[reg] = RegisterRule(RuleKind.OFFSET, r.sleb() * daf)
        elif op == 0x12:  # def_cfa_sf
            reg = r.uleb()
            cfa = CfaRule(reg, r.sleb() * daf)
        elif op == 0x13:  # def_cfa_offset_sf
            cfa = CfaRule(cfa.register, r.sleb() * daf)
        elif op == 0x14:  # val_offset
            reg = r.uleb()
            rules[reg] = RegisterRule(RuleKind.VAL_OFFSET, r.uleb() * daf)
        elif op == 0x15:  # val_offset_sf
            reg = r.uleb()
            rules[reg] = RegisterRule(RuleKind.VAL_OFFSET, r.sleb() * daf)
        elif op == 0x16:  # val_expression
            reg = r.uleb()
            rules[reg] = RegisterRule(RuleKind.VAL_EXPRESSION, r.bytes(r.uleb()))
        elif op == 0x2E:  # GNU_args_size: only matters for exception handling
            r.uleb()
        elif op == 0x2F:  # GNU_negative_offset_extended
            reg = r.uleb()
            rules[reg] = RegisterRule(RuleKind.OFFSET, -r.uleb() * daf)
        elif op == 0x2D:  # GNU_window_save (SPARC) / AArch64 negate_ra_state: not x86
            pass
        else:
            raise CfiError(f"unknown CFA instruction {op:#x}")
    if rows is not None and loc < end:
        rows.append((loc, end, cfa, dict(rules)))
    return cfa, rules


def _cie_initial(cie: _Cie, section: _FrameSection) -> tuple[CfaRule, dict[int, RegisterRule]]:
    if cie.initial is None:
        cfa, rules = _execute(cie.instructions, cie, section, CfaRule(None), {}, None, 0, 0, None)
        cie.initial = (cfa, rules)
    return cie.initial


def _fde_rows(fde: _Fde, section: _FrameSection) -> list[UnwindRow]:
    if fde.rows is None:
        cie = fde.cie
        cfa, init_rules = _cie_initial(cie, section)
        raw: list[tuple[int, int, CfaRule, dict]] = []
        _execute(fde.instructions, cie, section, cfa, dict(init_rules), init_rules,
                 fde.start, fde.end, raw)
        fde.rows = [UnwindRow(s, e, c, rl, cie.ra_register, cie.is_signal_frame,
                              fde.start, fde.end) for s, e, c, rl in raw]
        fde.row_starts = [row.start for row in fde.rows]
    return fde.rows


# --------------------------------------------------------------------------- public

class CallFrameInfo:
    """All CFI of one ELF image; find_row(pc) parses only the FDE and CIE that pc needs."""

    def __init__(self, eh_frame: tuple[bytes, int] | None = None,
                 eh_frame_hdr: tuple[bytes, int] | None = None,
                 debug_frame: tuple[bytes, int] | None = None) -> None:
        """Each argument is (section bytes, section address) or None when absent."""
        self._eh = _FrameSection(*eh_frame, is_eh=True) if eh_frame else None
        self._debug = _FrameSection(*debug_frame, is_eh=False) if debug_frame else None
        hdr = _EhFrameHdr(*eh_frame_hdr) if eh_frame_hdr and self._eh else None
        self._hdr = hdr if hdr is not None and hdr.count else None

    @classmethod
    def from_elffile(cls, elffile: Any) -> "CallFrameInfo":
        """Read the CFI sections of a pyelftools ELFFile (section bytes are copied once)."""
        def section(name: str) -> tuple[bytes, int] | None:
            sec = elffile.get_section_by_name(name)
            if sec is None or sec.header["sh_type"] == "SHT_NOBITS":
                return None
            return sec.data(), sec.header["sh_addr"]
        return cls(section(".eh_frame"), section(".eh_frame_hdr"), section(".debug_frame"))

    @classmethod
    def from_path(cls, path: str | Path) -> "CallFrameInfo":
        from elftools.elf.elffile import ELFFile
        with open(path, "rb") as f:
            return cls.from_elffile(ELFFile(f))

    @property
    def has_cfi(self) -> bool:
        return self._eh is not None or self._debug is not None

    def _find_fde(self, pc: int) -> tuple[_Fde, _FrameSection] | None:
        if self._hdr is not None:
            assert self._eh is not None
            fde_addr = self._hdr.lookup(pc)
            if fde_addr is not None:
                fde = self._eh.get_fde(fde_addr - self._eh.address)
                if fde is not None and fde.start <= pc < fde.end:
                    return fde, self._eh
        if self._debug is not None:
            fde = self._debug.find_fde_by_scan(pc)
            if fde is not None:
                return fde, self._debug
        if self._hdr is None and self._eh is not None:
            fde = self._eh.find_fde_by_scan(pc)
            if fde is not None:
                return fde, self._eh
        return None

    def find_function_range(self, pc: int) -> tuple[int, int] | None:
        """The [start, end) file-address range of the FDE covering PC."""
        found = self._find_fde(pc)
        return (found[0].start, found[0].end) if found else None

    def find_row(self, pc: int) -> UnwindRow | None:
        """The unwind row for file address PC, or None when no FDE covers it.

        For a caller frame (pc = a return address) look up pc - 1 unless the callee row
        says is_signal_frame: the call may be the last instruction of its function.
        """
        # Memoised per pc: a breakpoint hit unwinds the same pc thousands of times.
        cache = self.__dict__.setdefault("_row_cache", {})
        if pc in cache:
            return cache[pc]
        try:
            found = self._find_fde(pc)
            if found is None:
                row = None
            else:
                fde, section = found
                rows = _fde_rows(fde, section)
                i = bisect.bisect_right(fde.row_starts, pc) - 1
                row = None if i < 0 or pc >= rows[i].end else rows[i]
        except DwarfExprError as e:  # truncated data surfaces from the byte reader
            raise CfiError(f"malformed CFI: {e}") from e
        if len(cache) >= 65536:
            cache.clear()
        cache[pc] = row
        return row

    def iter_fde_ranges(self) -> list[tuple[int, int]]:
        """Every FDE's [start, end) (full parse of the headers; for tests and tools)."""
        ranges = []
        for section in (self._eh, self._debug):
            if section is None:
                continue
            for off in section.iter_entry_offsets():
                fde = section.get_fde(off)
                if fde is not None:
                    ranges.append((fde.start, fde.end))
        return ranges


def _u(data: bytes) -> int:
    return int.from_bytes(data, "little")


def _register_size(regno: int) -> int:
    return 16 if 17 <= regno <= 32 else ADDRESS_SIZE


def unwind_step(row: UnwindRow, regs: Mapping[int, int], read_memory: ReadMemory,
                load_bias: int = 0) -> dict[int, int] | None:
    """The caller's registers (DWARF numbers) from the callee's REGS, or None when outermost.

    rsp becomes the CFA and rip the return address. Registers the CFI does not mention keep
    their value (gdb's convention for unspecified registers); undefined ones are left out.
    """
    def read_register(regno: int) -> int:
        try:
            return regs[regno]
        except KeyError:
            raise CfiError(f"register {regno} is not available for unwinding") from None

    ctx = EvalContext(read_register=read_register, read_memory=read_memory, load_bias=load_bias)
    if row.cfa.expression is not None:
        cfa = evaluate_value(row.cfa.expression, ctx)
    elif row.cfa.register is None:
        raise CfiError("CFI row has no CFA rule")
    else:
        cfa = (read_register(row.cfa.register) + row.cfa.offset) & ((1 << 64) - 1)
    ctx.cfa = lambda: cfa

    ra_rule = row.rules.get(row.return_address_register)
    if ra_rule is None or ra_rule.kind is RuleKind.UNDEFINED:
        return None

    caller = {reg: val for reg, val in regs.items() if reg not in row.rules}
    caller[RSP] = cfa
    for reg, rule in row.rules.items():
        kind, arg = rule.kind, rule.arg
        if kind is RuleKind.UNDEFINED or kind is RuleKind.ARCHITECTURAL:
            caller.pop(reg, None)
        elif kind is RuleKind.SAME_VALUE:
            if reg in regs:
                caller[reg] = regs[reg]
        elif kind is RuleKind.OFFSET:
            caller[reg] = _u(read_memory(cfa + int(arg), _register_size(reg)))
        elif kind is RuleKind.VAL_OFFSET:
            caller[reg] = (cfa + int(arg)) & ((1 << 64) - 1)
        elif kind is RuleKind.REGISTER:
            caller[reg] = read_register(int(arg))
        elif kind is RuleKind.EXPRESSION:
            addr = evaluate_value(bytes(arg), ctx, initial_stack=[cfa])
            caller[reg] = _u(read_memory(addr, _register_size(reg)))
        elif kind is RuleKind.VAL_EXPRESSION:
            caller[reg] = evaluate_value(bytes(arg), ctx, initial_stack=[cfa])
    ra = caller.get(row.return_address_register)
    if ra is None:
        return None
    caller[RIP] = ra
    return caller


def unwind_with_frame_pointer(regs: Mapping[int, int], read_memory: ReadMemory,
                              at_function_entry: bool = False) -> dict[int, int] | None:
    """Unwind code without CFI through the rbp chain ([rbp] = caller's rbp, [rbp+8] = RA).

    AT_FUNCTION_ENTRY: pc is on the first instruction, so only the return address is pushed.
    Returns None when the chain ends (rbp or the return address is 0).
    """
    caller = dict(regs)
    if at_function_entry:
        rsp = regs[RSP]
        ra = _u(read_memory(rsp, 8))
        caller[RSP] = rsp + 8
    else:
        rbp = regs.get(RBP, 0)
        if rbp == 0:
            return None
        caller[RBP] = _u(read_memory(rbp, 8))
        ra = _u(read_memory(rbp + 8, 8))
        caller[RSP] = rbp + 16
    if ra == 0:
        return None
    caller[RIP] = ra
    return caller
