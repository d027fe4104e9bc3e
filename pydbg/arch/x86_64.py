"""The x86-64 register table as data: DWARF numbers, sizes, user_regs_struct slots, gdb types.

Also gdb's sub-registers and aliases ($eax, $r8w, $ah, $pc, $sp, $fp, $ps) and EFLAGS bit names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class RegFormat(str, Enum):
    """How gdb types a register, which decides its "natural" printed form."""

    INT = "int"            # signed or unsigned integer: decimal
    DATA_PTR = "data_ptr"  # void *: hex (+ <symbol>), printed as (void *) 0x...
    CODE_PTR = "code_ptr"  # void (*)(): hex + <symbol>, printed as (void (*)()) 0x...
    FLAGS = "flags"        # i386_eflags: [ CF ZF ... ]


@dataclass(frozen=True)
class RegisterInfo:
    """One full register: where it lives and how gdb types it."""

    name: str
    dwarf: int | None       # DWARF register number (System V x86-64 psABI), None if none
    size: int               # bytes gdb gives the register (segments are 4, eflags 4)
    offset: int | None      # byte offset in struct user_regs_struct, None if not there
    field: str | None       # python-ptrace user_regs_struct field name
    format: RegFormat
    signed: bool
    type_name: str          # what gdb's `ptype $reg` says


@dataclass(frozen=True)
class Register:
    """A name the user can write after `$`: a full register, a part of one, or an alias."""

    name: str
    parent: str             # full register holding the bits (a RegisterInfo name)
    size: int               # bytes
    shift: int              # bit position of the low bit inside the parent
    format: RegFormat
    signed: bool
    type_name: str

    @property
    def mask(self) -> int:
        return (1 << (8 * self.size)) - 1

    def extract(self, full: int) -> int:
        """This register's value (unsigned, `size` bytes) from the parent's raw value."""
        return (full >> self.shift) & self.mask

    def insert(self, full: int, value: int) -> int:
        """The parent's new raw value after writing VALUE here; gdb keeps the other bits."""
        parent_mask = (1 << (8 * REGISTER_INFO[self.parent].size)) - 1
        cleared = full & ~(self.mask << self.shift)
        return (cleared | ((value & self.mask) << self.shift)) & parent_mask

    def to_signed(self, raw: int) -> int:
        """RAW (as returned by extract) read as this register's C type."""
        raw &= self.mask
        if self.signed and raw >> (8 * self.size - 1):
            return raw - (1 << (8 * self.size))
        return raw


def _info(name: str, dwarf: int | None, size: int, field: str | None,
          fmt: RegFormat = RegFormat.INT, signed: bool = True,
          type_name: str = "int64_t") -> RegisterInfo:
    offset = USER_REGS_FIELDS.index(field) * 8 if field in USER_REGS_FIELDS else None
    return RegisterInfo(name, dwarf, size, offset, field, fmt, signed, type_name)


# Field order of Linux struct user_regs_struct (each an unsigned long), as in python-ptrace.
USER_REGS_FIELDS: tuple[str, ...] = (
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
    "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
    "gs_base", "ds", "es", "fs", "gs",
)
USER_REGS_SIZE = 8 * len(USER_REGS_FIELDS)

_F = RegFormat
REGISTER_INFO: dict[str, RegisterInfo] = {r.name: r for r in [
    _info("rax", 0, 8, "rax"),
    _info("rbx", 3, 8, "rbx"),
    _info("rcx", 2, 8, "rcx"),
    _info("rdx", 1, 8, "rdx"),
    _info("rsi", 4, 8, "rsi"),
    _info("rdi", 5, 8, "rdi"),
    _info("rbp", 6, 8, "rbp", _F.DATA_PTR, False, "void *"),
    _info("rsp", 7, 8, "rsp", _F.DATA_PTR, False, "void *"),
    *[_info(f"r{n}", n, 8, f"r{n}") for n in range(8, 16)],
    _info("rip", 16, 8, "rip", _F.CODE_PTR, False, "void (*)()"),
    _info("eflags", 49, 4, "eflags", _F.FLAGS, False, "i386_eflags"),
    _info("cs", 51, 4, "cs", type_name="int32_t"),
    _info("ss", 52, 4, "ss", type_name="int32_t"),
    _info("ds", 53, 4, "ds", type_name="int32_t"),
    _info("es", 50, 4, "es", type_name="int32_t"),
    _info("fs", 54, 4, "fs", type_name="int32_t"),
    _info("gs", 55, 4, "gs", type_name="int32_t"),
    _info("fs_base", 58, 8, "fs_base", type_name="long"),
    _info("gs_base", 59, 8, "gs_base", type_name="long"),
    _info("orig_rax", None, 8, "orig_rax", type_name="long"),
    # AVX-512 mask registers: gdb lists them in `info registers` on CPUs that have them;
    # they live in the XSAVE area, not user_regs_struct.
    *[_info(f"k{n}", 118 + n, 8, None, signed=False, type_name="uint64_t") for n in range(8)],
]}

# gdb's `info registers` (group "general") order, without k0-k7 (shown only when known).
GENERAL_REGISTERS: tuple[str, ...] = (
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs",
)
MASK_REGISTERS: tuple[str, ...] = tuple(f"k{n}" for n in range(8))
SYSTEM_REGISTERS: tuple[str, ...] = ("fs_base", "gs_base", "orig_rax")

# Sub-register names, as gdb's amd64 pseudo registers (note: no "sp" word, no "eip").
_GPR_ORDER = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp")
_BYTE_NAMES = ("al", "bl", "cl", "dl", "sil", "dil", "bpl", "spl")
_HIGH_BYTE_NAMES = ("ah", "bh", "ch", "dh")
_WORD_NAMES = ("ax", "bx", "cx", "dx", "si", "di", "bp", None)
_DWORD_NAMES = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp")

# gdb's user-register aliases; $fp really is the frame's base address, which for
# frame 0 of code compiled with a frame pointer is %rbp.
ALIASES: dict[str, str] = {"pc": "rip", "sp": "rsp", "fp": "rbp", "ps": "eflags"}


def _build_registers() -> dict[str, Register]:
    regs: dict[str, Register] = {}
    for info in REGISTER_INFO.values():
        regs[info.name] = Register(info.name, info.name, info.size, 0, info.format,
                                   info.signed, info.type_name)
    for alias, target in ALIASES.items():
        r = regs[target]
        regs[alias] = Register(alias, r.parent, r.size, 0, r.format, r.signed, r.type_name)
    parts: list[tuple[str, str, int, int]] = []
    for i, parent in enumerate(_GPR_ORDER):
        parts.append((_BYTE_NAMES[i], parent, 1, 0))
        if i < 4:
            parts.append((_HIGH_BYTE_NAMES[i], parent, 1, 8))
        if _WORD_NAMES[i]:
            parts.append((_WORD_NAMES[i], parent, 2, 0))
        parts.append((_DWORD_NAMES[i], parent, 4, 0))
    for n in range(8, 16):
        parts += [(f"r{n}l", f"r{n}", 1, 0), (f"r{n}w", f"r{n}", 2, 0),
                  (f"r{n}d", f"r{n}", 4, 0)]
    int_types = {1: "int8_t", 2: "int16_t", 4: "int32_t"}
    for name, parent, size, shift in parts:
        regs[name] = Register(name, parent, size, shift, RegFormat.INT, True, int_types[size])
    return regs


REGISTERS: dict[str, Register] = _build_registers()

DWARF_TO_NAME: dict[int, str] = {r.dwarf: r.name for r in REGISTER_INFO.values()
                                 if r.dwarf is not None}

# EFLAGS bits gdb names (its i386_eflags type); bit 1 and IOPL (12-13) have no name.
# gdb's i386_mxcsr flags type (the rounding-control bits 13-14 have no name).
MXCSR_BITS: tuple[tuple[int, str], ...] = (
    (0, "IE"), (1, "DE"), (2, "ZE"), (3, "OE"), (4, "UE"), (5, "PE"), (6, "DAZ"),
    (7, "IM"), (8, "DM"), (9, "ZM"), (10, "OM"), (11, "UM"), (12, "PM"), (15, "FZ"),
)
EFLAGS_BITS: tuple[tuple[int, str], ...] = (
    (0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"),
    (10, "DF"), (11, "OF"), (14, "NT"), (16, "RF"), (17, "VM"), (18, "AC"),
    (19, "VIF"), (20, "VIP"), (21, "ID"),
)


def lookup_register(name: str) -> Register | None:
    """The register, sub-register or alias called NAME (a leading `$` is allowed)."""
    return REGISTERS.get(name[1:] if name.startswith("$") else name)


def register_by_dwarf(number: int) -> RegisterInfo | None:
    """The full register with DWARF number NUMBER, or None."""
    name = DWARF_TO_NAME.get(number)
    return REGISTER_INFO[name] if name else None


def eflags_names(value: int) -> list[str]:
    """Names of the set EFLAGS bits in gdb's order."""
    return [name for bit, name in EFLAGS_BITS if value >> bit & 1]
