"""Functions and lexical blocks of one compilation unit, and amd64 prologue analysis.

Blocks follow gdb's rules (which DIEs make a block, entry pc, innermost block at a pc)
because gdb's breakpoint placement for FILE:LINE and FUNC depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

from elftools.dwarf.compileunit import CompileUnit
from elftools.dwarf.die import DIE
from elftools.dwarf.ranges import BaseAddressEntry, RangeEntry


@dataclass(frozen=True)
class FunctionInfo:
    """A function containing an address: DWARF subprogram if known, else ELF symbol."""

    name: str
    low: int                     # lowest address
    high: int                    # one past the highest address
    entry: int = 0               # entry pc (start of the first range)
    ranges: tuple[tuple[int, int], ...] = ()
    file: str | None = None      # absolute path of the declaring file, if DWARF
    line: int | None = None      # declaration line, if DWARF
    has_debug_info: bool = False


@dataclass(eq=False)
class Block:
    """A gdb block: a function, an inlined call, or a lexical block with locals."""

    ranges: list[tuple[int, int]]
    name: str | None = None          # set for functions and inlined calls
    inlined: bool = False
    die_offset: int = 0
    origin_offset: int | None = None  # abstract DIE this concrete instance comes from
    decl_file: int | None = None
    decl_line: int | None = None
    call_file: int | None = None      # call site of an inlined call
    call_line: int | None = None
    parent: Block | None = None
    children: list[Block] = field(default_factory=list)

    @property
    def start(self) -> int:
        return min(lo for lo, _ in self.ranges)

    @property
    def end(self) -> int:
        return max(hi for _, hi in self.ranges)

    @property
    def entry_pc(self) -> int:
        # gdb 13's block::entry_pc: start if contiguous, else the first listed range.
        return self.ranges[0][0] if len(self.ranges) > 1 else self.start

    @property
    def is_function(self) -> bool:
        return self.name is not None

    def contains(self, pc: int) -> bool:
        return any(lo <= pc < hi for lo, hi in self.ranges)

    def containing_function(self) -> Block | None:
        """Nearest enclosing function block, inlined ones included."""
        b: Block | None = self
        while b is not None and not b.is_function:
            b = b.parent
        return b

    def linkage_function(self) -> Block | None:
        """Nearest enclosing function block that is not an inlined call."""
        b: Block | None = self
        while b is not None and (not b.is_function or b.inlined):
            b = b.parent
        return b

    def depth(self) -> int:
        n, b = 0, self.parent
        while b is not None:
            n, b = n + 1, b.parent
        return n

    def iter_tree(self) -> Iterator[Block]:
        yield self
        for c in self.children:
            yield from c.iter_tree()


_LOCAL_SYMBOL_TAGS = {
    "DW_TAG_variable", "DW_TAG_formal_parameter", "DW_TAG_label", "DW_TAG_typedef",
    "DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_enumeration_type",
    "DW_TAG_class_type", "DW_TAG_imported_declaration", "DW_TAG_imported_module",
}

_LOCLIST_FORMS = {"DW_FORM_sec_offset", "DW_FORM_loclistx", "DW_FORM_data4", "DW_FORM_data8"}


class CuScopes:
    """The block tree of one compilation unit, built on first use."""

    def __init__(self, cu: CompileUnit, range_lists) -> None:
        self.cu = cu
        self._range_lists = range_lists
        top = cu.get_top_DIE()
        self.producer = _attr_str(top, "DW_AT_producer") or ""
        low = top.attributes.get("DW_AT_low_pc")
        self._base = low.value if low is not None else 0
        self.functions: list[Block] = []
        self.has_loclist = False
        self._walk(top, None)
        self.functions.sort(key=lambda b: b.start)

    # gdb sets compunit locations_valid for GCC >= 4.5 CUs that use location lists;
    # `break FUNC` then trusts the entry pc instead of skipping the prologue.
    @property
    def locations_valid(self) -> bool:
        return self.has_loclist and _gcc_version(self.producer) >= (4, 5)

    @property
    def is_clang(self) -> bool:
        return "clang" in self.producer

    def die_ranges(self, die: DIE) -> list[tuple[int, int]]:
        return die_ranges(die, self.cu, self._range_lists, self._base)

    def _origin(self, die: DIE) -> DIE | None:
        for a in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if a in die.attributes:
                try:
                    return die.get_DIE_from_attribute(a)
                except Exception:  # malformed reference: treat as absent
                    return None
        return None

    def die_name(self, die: DIE) -> str | None:
        seen = 0
        d: DIE | None = die
        while d is not None and seen < 8:
            # gdb's dwarf2_physname names a C function by its (unmangled) linkage name:
            # glibc's `abort` is declared asm("__GI_abort"), and gdb shows __GI_abort.
            linkage = _attr_str(d, "DW_AT_linkage_name")
            if linkage and not linkage.startswith("_Z"):
                return linkage
            name = _attr_str(d, "DW_AT_name")
            if name:
                return name
            d = self._origin(d)
            seen += 1
        return None

    def _decl(self, die: DIE) -> tuple[int | None, int | None]:
        d: DIE | None = die
        for _ in range(8):
            if d is None:
                break
            if "DW_AT_decl_line" in d.attributes:
                f = d.attributes.get("DW_AT_decl_file")
                return (f.value if f else None), d.attributes["DW_AT_decl_line"].value
            d = self._origin(d)
        return None, None

    def _has_local_symbols(self, die: DIE) -> bool:
        for d in (die, self._origin(die)):
            if d is None:
                continue
            for c in d.iter_children():
                if c.tag in _LOCAL_SYMBOL_TAGS:
                    return True
        return False

    def _note_location(self, die: DIE) -> None:
        loc = die.attributes.get("DW_AT_location")
        if loc is not None and loc.form in _LOCLIST_FORMS:
            if loc.form in ("DW_FORM_data4", "DW_FORM_data8") and self.cu.header.version >= 4:
                return
            self.has_loclist = True

    def _walk(self, die: DIE, parent: Block | None) -> None:
        for child in die.iter_children():
            tag = child.tag
            if tag in ("DW_TAG_subprogram", "DW_TAG_inlined_subroutine"):
                ranges = self.die_ranges(child)
                name = self.die_name(child)
                # gdb's read_func_scope ignores nameless or code-less functions entirely.
                if not ranges or (tag == "DW_TAG_subprogram" and not name):
                    continue
                origin = self._origin(child)
                decl_file, decl_line = self._decl(child)
                cf = child.attributes.get("DW_AT_call_file")
                cl = child.attributes.get("DW_AT_call_line")
                b = Block(ranges, name=name or "??", inlined=tag == "DW_TAG_inlined_subroutine",
                          die_offset=child.offset,
                          origin_offset=origin.offset if origin is not None else None,
                          decl_file=decl_file, decl_line=decl_line,
                          call_file=cf.value if cf is not None else None,
                          call_line=cl.value if cl is not None else None, parent=parent)
                if parent is not None:
                    parent.children.append(b)
                if not b.inlined:
                    # Nested (GNU C, C++ lambda) functions may lie outside their parent's
                    # ranges, so every real function is also reachable from this list.
                    self.functions.append(b)
                self._walk(child, b)
            elif tag == "DW_TAG_lexical_block":
                if parent is None:
                    continue
                ranges = self.die_ranges(child)
                if not ranges:
                    self._walk(child, parent)
                    continue
                b = Block(ranges, die_offset=child.offset, parent=parent)
                self._walk(child, b)
                # gdb only makes a block when the scope declares something; otherwise
                # its nested blocks belong to the enclosing one.
                if self._has_local_symbols(child):
                    parent.children.append(b)
                else:
                    for c in b.children:
                        c.parent = parent
                        parent.children.append(c)
            elif tag in ("DW_TAG_variable", "DW_TAG_formal_parameter"):
                if parent is not None:
                    self._note_location(child)
            elif tag in ("DW_TAG_namespace", "DW_TAG_module", "DW_TAG_structure_type",
                         "DW_TAG_class_type", "DW_TAG_union_type"):
                # C++ member functions (lambdas too) may be defined inside their class.
                if child.has_children:
                    self._walk(child, parent)

    def iter_blocks(self) -> Iterator[Block]:
        for f in self.functions:
            if f.parent is None:
                yield from f.iter_tree()

    def innermost_block(self, pc: int) -> Block | None:
        best: Block | None = None
        best_depth = -1
        for f in self.functions:
            if f.contains(pc):
                depth = f.depth()
                # Of aliases with one range (gas's clone3, __clone3...) gdb's block search
                # finds the last one listed.
                if depth >= best_depth:
                    best, best_depth = f, depth
        b = best
        while b is not None:
            for c in b.children:
                if c.contains(pc) and not (c.is_function and not c.inlined):
                    b = c
                    break
            else:
                return b
        return None

    def function_containing(self, pc: int) -> Block | None:
        b = self.innermost_block(pc)
        return b.linkage_function() if b is not None else None

    def blocks_named(self, name: str) -> list[Block]:
        return [b for b in self.iter_blocks() if b.is_function and b.name == name]


def die_ranges(die: DIE, cu: CompileUnit, range_lists, base: int) -> list[tuple[int, int]]:
    """Address ranges of a DIE from low/high pc or DW_AT_ranges, in listed order."""
    attrs = die.attributes
    if "DW_AT_ranges" in attrs:
        if range_lists is None:
            return []
        entries = range_lists.get_range_list_at_offset(attrs["DW_AT_ranges"].value, cu=cu)
        out = []
        for e in entries:
            if isinstance(e, BaseAddressEntry):
                base = e.base_address
            elif isinstance(e, RangeEntry):
                lo, hi = e.begin_offset, e.end_offset
                if not e.is_absolute:
                    lo, hi = lo + base, hi + base
                if hi > lo:
                    out.append((lo, hi))
        return out
    low = attrs.get("DW_AT_low_pc")
    high = attrs.get("DW_AT_high_pc")
    if low is None or high is None:
        return []
    hi = high.value
    if high.form != "DW_FORM_addr":
        hi = low.value + hi
    # Functions the linker discarded keep a zero low_pc.
    if hi <= low.value or low.value == 0:
        return []
    return [(low.value, hi)]


def _attr_str(die: DIE, name: str) -> str | None:
    a = die.attributes.get(name)
    if a is None:
        return None
    v = a.value
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _gcc_version(producer: str) -> tuple[int, int]:
    """(major, minor) of a "GNU C17 12.2.0 ..." producer; (0, 0) if not GCC."""
    if not producer.startswith("GNU ") or "clang" in producer:
        return (0, 0)
    for word in producer.split()[1:]:
        parts = word.split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return (int(parts[0]), int(parts[1]))
    return (0, 0)


_ENDBR64 = b"\xf3\x0f\x1e\xfa"


def analyze_amd64_prologue(read_code: Callable[[int, int], bytes], pc: int) -> tuple[int, bool]:
    """gdb's amd64_analyze_prologue: (pc after the frame setup, frameless?).

    Recognises `[endbr64] push %rbp; mov %rsp,%rbp` (either encoding of movq or movl);
    anything else is a frameless function whose breakpoint goes at its first byte.
    """
    def read(addr: int, n: int) -> bytes:
        try:
            return read_code(addr, n)
        except Exception:  # unreadable code: stop analysing, as gdb does on error
            return b""

    pc = _skip_stack_align(read, pc)
    if read(pc, 4) == _ENDBR64:
        pc += 4
    if read(pc, 1) != b"\x55":        # push %rbp
        return pc, True
    buf = read(pc + 1, 3)
    if buf in (b"\x48\x89\xe5", b"\x48\x8b\xec"):    # movq %rsp,%rbp
        return pc + 4, False
    if buf[:2] in (b"\x89\xe5", b"\x8b\xec"):         # movl %esp,%ebp
        return pc + 3, False
    return pc + 1, True


def _skip_stack_align(read: Callable[[int, int], bytes], pc: int) -> int:
    """Skip gcc's main() stack realignment (amd64_analyze_stack_align), if present.

    leaq 8(%rsp),%REG ; andq $-N,%rsp ; pushq -8(%REG)
    """
    buf = read(pc, 18)
    if len(buf) < 12:
        return pc
    # lea 0x8(%rsp),%reg: [REX.W or REX.WR] 8d (modrm 01 reg 100) 24 08
    if buf[0] not in (0x48, 0x4c) or buf[1] != 0x8d or buf[3] != 0x24 or buf[4] != 0x08:
        return pc
    modrm = buf[2]
    if modrm & 0xc7 != 0x44:
        return pc
    reg = ((modrm >> 3) & 7) | (8 if buf[0] == 0x4c else 0)
    if reg == 4 or reg == 5:  # %rsp / %rbp cannot be the scratch register
        return pc
    off = 5
    # and $imm8,%rsp: 48 83 e4 XX ; and $imm32,%rsp: 48 81 e4 XX XX XX XX
    if buf[off:off + 3] == b"\x48\x83\xe4":
        off += 4
    elif buf[off:off + 3] == b"\x48\x81\xe4":
        off += 7
    else:
        return pc
    # push -8(%reg): [41] ff 7X f8
    p = buf[off:off + 4]
    if reg >= 8:
        if p[:1] != b"\x41":
            return pc
        p = buf[off + 1:off + 4]
        size = 4
    else:
        p = p[:3]
        size = 3
    if len(p) < 3 or p[0] != 0xff or p[1] != (0x70 | (reg & 7)) or p[2] != 0xf8:
        return pc
    return pc + off + size
