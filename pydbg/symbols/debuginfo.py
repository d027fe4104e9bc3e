"""The DWARF program model: functions, lexical scopes, inlined calls, variables and types.

Lazy: a pc reads only its CU (via .debug_aranges); names read CUs once (or as .gdb_index says).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable, Iterator, Union

from elftools.dwarf.compileunit import CompileUnit
from elftools.dwarf.die import DIE
from elftools.dwarf.typeunit import TypeUnit
from elftools.dwarf.ranges import BaseAddressEntry, RangeEntry
from elftools.elf.elffile import ELFFile

from pydbg.errors import SymbolError
from pydbg.symbols.gdb_index import GdbIndex
from pydbg.symbols.types import (
    ENCODINGS, ArrayType, BaseType, CompositeType, CType, EnumType, Enumerator, FunctionType,
    Member, PointerType, QualifiedType, StructType, TypedefType, UnionType, VoidType,
    canonical_base_name, flag_enum_heuristic,
)

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
DW_OP_addr = 0x03
DW_INL_inlined = 1
DW_INL_declared_inlined = 3
# C and assembler: gdb names their symbols in linkage form (store_sym_names_in_linkage_form_p),
# so a function with a DW_AT_linkage_name is found by that (glibc's atoi is `__GI_atoi`).
_LINKAGE_FORM_LANGUAGES = frozenset({0x1, 0x2, 0xc, 0x1d, 0x2c, 0x8001})
_C_LIKE_LANGUAGES = frozenset({0x1, 0x2, 0xc, 0x1d, 0x2c, 0x10, 0x15})    # C*, ObjC, OpenCL

_ADDR_FORMS = {"DW_FORM_addr", "DW_FORM_addrx", "DW_FORM_addrx1", "DW_FORM_addrx2",
               "DW_FORM_addrx3", "DW_FORM_addrx4", "DW_FORM_GNU_addr_index"}
_EXPR_FORMS = {"DW_FORM_exprloc", "DW_FORM_block", "DW_FORM_block1", "DW_FORM_block2",
               "DW_FORM_block4"}
_LOCLIST_FORMS = {"DW_FORM_sec_offset", "DW_FORM_loclistx", "DW_FORM_data4", "DW_FORM_data8"}
_REF_FORMS = {"DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8",
              "DW_FORM_ref_udata", "DW_FORM_ref_addr", "DW_FORM_ref_sig8"}
_QUAL_TAGS = {"DW_TAG_const_type": "const", "DW_TAG_volatile_type": "volatile",
              "DW_TAG_restrict_type": "restrict", "DW_TAG_atomic_type": "atomic"}
_TYPE_NAME_TAGS = ("DW_TAG_typedef", "DW_TAG_base_type", "DW_TAG_unspecified_type")
_TAGGED = {"DW_TAG_structure_type": "struct", "DW_TAG_class_type": "struct",
           "DW_TAG_union_type": "union", "DW_TAG_enumeration_type": "enum"}


# --------------------------------------------------------------------------- values

@dataclass(frozen=True)
class CUInfo:
    """What the engine needs to evaluate a CU's expressions and location lists."""

    offset: int                 # .debug_info offset of the unit header
    name: str                   # DW_AT_name ("types.c")
    comp_dir: str
    version: int
    address_size: int
    offset_size: int
    base_address: int           # DW_AT_low_pc: base of location and range lists
    addr_base: int | None = None
    loclists_base: int | None = None
    language: int | None = None
    producer: str = ""


@dataclass(frozen=True)
class LocListRef:
    """A location list: OFFSET is absolute in SECTION (".debug_loclists" for DWARF 5,
    ".debug_loc" before); the CU gives base address, address size and DW_AT_addr_base."""

    offset: int
    section: str
    cu: CUInfo = field(repr=False)


# Raw DW_AT_location / DW_AT_frame_base: an expression's bytes, a location list, or absent.
Location = Union[bytes, LocListRef, None]


@dataclass(frozen=True)
class DynamicBound:
    """A variable-length array dimension (ArrayType.dynamic[i]).

    Evaluating LOCATION gives the bound; with IS_REFERENCE it is the location of an
    artificial variable whose value is the bound (or CONST_VALUE when it has one).
    IS_COUNT: the bound is the element count, else the upper bound (count = ub - LOWER + 1).
    """

    location: Location
    is_reference: bool
    is_count: bool
    lower_bound: int = 0
    const_value: int | bytes | None = None


@dataclass(eq=False)
class Variable:
    """A variable or parameter as DWARF describes it; the engine evaluates LOCATION.

    CONST_VALUE is an int (DW_FORM_sdata/udata) or the raw little-endian bytes of the
    value (DW_FORM_dataN and blocks), to be read like memory of TYPE.
    """

    name: str
    type: CType
    location: Location = None
    const_value: int | bytes | None = None
    is_param: bool = False
    decl_line: int | None = None
    decl_file: str | None = None
    cu: CUInfo | None = field(default=None, repr=False)
    is_external: bool = False
    is_declaration: bool = False
    is_artificial: bool = False
    die_offset: int = 0
    function: str | None = None     # enclosing function for static locals found by name

    @property
    def static_address(self) -> int | None:
        """The link-time address when LOCATION is exactly `DW_OP_addr X` (globals, statics)."""
        loc = self.location
        if isinstance(loc, bytes) and len(loc) == 9 and loc[0] == DW_OP_addr:
            return int.from_bytes(loc[1:], "little")
        return None

    @property
    def is_optimized_out(self) -> bool:
        return self.location is None and self.const_value is None and not self.is_declaration


@dataclass(eq=False, kw_only=True)
class Block:
    """A lexical scope with pc RANGES ([low, high) pairs, link-time addresses)."""

    kind: str = "lexical"           # "lexical", "inlined" or "function"
    ranges: list[tuple[int, int]] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    children: list["Block"] = field(default_factory=list, repr=False)
    parent: "Block | None" = field(default=None, repr=False)
    die_offset: int = 0

    def contains(self, pc: int) -> bool:
        return any(lo <= pc < hi for lo, hi in self.ranges)

    @property
    def low(self) -> int:
        return min(lo for lo, _ in self.ranges) if self.ranges else 0

    @property
    def high(self) -> int:
        return max(hi for _, hi in self.ranges) if self.ranges else 0

    @property
    def start(self) -> int:
        """gdb's BLOCK_ENTRY_PC: the start of the first range as listed in DWARF."""
        return self.ranges[0][0] if self.ranges else 0

    def innermost_at(self, pc: int) -> list["Block"]:
        """Blocks containing PC from this one inwards (outermost first)."""
        chain: list[Block] = [self]
        node: Block = self
        while True:
            for child in node.children:
                if child.contains(pc):
                    chain.append(child)
                    node = child
                    break
            else:
                return chain

    @property
    def caller(self) -> "Function | InlinedCall | None":
        """The nearest enclosing function-like block (the frame that called an inlined one)."""
        b = self.parent
        while b is not None and not isinstance(b, (Function, InlinedCall)):
            b = b.parent
        return b

    def walk(self) -> Iterator["Block"]:
        yield self
        for child in self.children:
            yield from child.walk()

    def lookup(self, name: str) -> Variable | None:
        for v in self.variables:
            if v.name == name:
                return v
        return None


@dataclass(eq=False, kw_only=True)
class InlinedCall(Block):
    """One inlined instance of NAME, called from CALL_FILE:CALL_LINE."""

    kind: str = "inlined"
    name: str = ""
    call_file: str | None = None
    call_line: int | None = None
    call_column: int | None = None
    entry_pc: int | None = None     # DW_AT_entry_pc when given, else the first range start
    decl_file: str | None = None
    decl_line: int | None = None
    origin_offset: int = 0          # the abstract DW_TAG_subprogram
    function: "Function | None" = field(default=None, repr=False)   # concrete container

    @property
    def params(self) -> list[Variable]:
        return [v for v in self.variables if v.is_param]


@dataclass(eq=False, kw_only=True)
class Function(Block):
    """A concrete (out-of-line) function; its Block tree holds the scopes and inlined calls."""

    kind: str = "function"
    name: str = ""
    linkage_name: str | None = None
    decl_file: str | None = None
    decl_line: int | None = None
    frame_base: Location = None
    type: FunctionType | None = field(default=None, repr=False)
    is_external: bool = False
    entry_pc: int | None = None
    cu: CUInfo | None = field(default=None, repr=False)
    origin_offset: int | None = None    # abstract origin when this is an inline function's copy

    @property
    def return_type(self) -> CType | None:
        return self.type.return_type if self.type else None

    @property
    def params(self) -> list[Variable]:
        return [v for v in self.variables if v.is_param]

    @property
    def inlined(self) -> list[InlinedCall]:
        """Every inlined call inside this function, outer calls before the ones they contain."""
        return [b for b in self.walk() if isinstance(b, InlinedCall)]

    @property
    def is_inline_copy(self) -> bool:
        return self.origin_offset is not None


# --------------------------------------------------------------------------- small DIE helpers

def _key(die: DIE) -> int:
    """A cache key for DIE: .debug_types offsets are kept apart from .debug_info ones."""
    return -1 - die.offset if isinstance(die.cu, TypeUnit) else die.offset


def _text(v: object) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _attr(die: DIE, name: str) -> object | None:
    a = die.attributes.get(name)
    return None if a is None else a.value


def _ref(die: DIE, name: str) -> DIE | None:
    a = die.attributes.get(name)
    if a is None or a.form not in _REF_FORMS:
        return None
    if a.form == "DW_FORM_ref_sig8":
        return _type_unit_die(die.dwarfinfo, a.raw_value)
    return die.get_DIE_from_attribute(name)


def _type_unit_die(dwarf, signature: int) -> DIE | None:
    """The type DIE of a type unit: DWARF 5 keeps them in .debug_info, which pyelftools'
    signature lookup (.debug_types only) does not search."""
    table = getattr(dwarf, "_pydbg_type_units", None)
    if table is None:
        table = {}
        for unit in dwarf.iter_CUs():
            if unit.header.get("unit_type") in ("DW_UT_type", "DW_UT_split_type"):
                table[unit["type_signature"]] = unit.cu_offset + unit["type_offset"]
        dwarf._pydbg_type_units = table
    offset = table.get(signature)
    if offset is not None:
        return dwarf.get_DIE_from_refaddr(offset)
    try:
        return dwarf.get_DIE_by_sig8(signature)
    except Exception:     # pyelftools cannot read every .debug_types; the type stays unknown
        return None


def _origins(die: DIE) -> Iterator[DIE]:
    """DIE, then what it completes: its DW_AT_specification / DW_AT_abstract_origin chain."""
    seen = 0
    cur: DIE | None = die
    while cur is not None and seen < 8:
        yield cur
        seen += 1
        nxt = _ref(cur, "DW_AT_abstract_origin") or _ref(cur, "DW_AT_specification")
        cur = nxt


def _chain_attr(die: DIE, name: str) -> tuple[DIE, object] | None:
    for d in _origins(die):
        if name in d.attributes:
            return d, d.attributes[name].value
    return None


def _die_name(die: DIE) -> str | None:
    found = _chain_attr(die, "DW_AT_name")
    return _text(found[1]) if found else None


def _is_decl(die: DIE) -> bool:
    return bool(_attr(die, "DW_AT_declaration"))


def _expr_bytes(value: object) -> bytes:
    return bytes(value) if isinstance(value, (list, tuple, bytes)) else b""


def _uleb(data: bytes, pos: int) -> int:
    result = shift = 0
    while pos < len(data):
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return result


# --------------------------------------------------------------------------- per-CU index

@dataclass
class _CUData:
    """Everything one walk of a CU's DIE tree found, keyed for lookup."""

    cu: CompileUnit
    info: CUInfo
    files: list[str]
    funcs: list[tuple[int, int, int]] = field(default_factory=list)    # (lo, hi, die offset)
    func_names: dict[str, list[int]] = field(default_factory=dict)     # concrete subprograms
    inlined_names: dict[str, list[int]] = field(default_factory=dict)  # inlined_subroutine DIEs
    abstract_names: dict[str, list[int]] = field(default_factory=dict)
    globals: dict[str, list[int]] = field(default_factory=dict)        # CU-level variables
    locals: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # (func, var)
    types: dict[str, list[int]] = field(default_factory=dict)          # typedef/base names
    tagged: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    walked: bool = False


def _add(index: dict, key: object, value: object) -> None:
    index.setdefault(key, []).append(value)


# --------------------------------------------------------------------------- DebugInfo

class DebugInfo:
    """The DWARF model of one ELF image; every answer is in link-time (unrelocated) addresses."""

    def __init__(self, elffile: ELFFile, dwarf=None) -> None:
        self.elffile = elffile
        # DWARF is parsed once per image: ElfImage passes the DWARFInfo it already has.
        if dwarf is None and elffile.has_dwarf_info():
            dwarf = elffile.get_dwarf_info()
        self.dwarf = dwarf
        self._cus: dict[int, _CUData] = {}
        self._cu_offsets: list[int] | None = None
        self._arange_keys: list[int] | None = None
        self._arange_entries: list[tuple[int, int, int]] = []
        self._cu_ranges: list[tuple[int, int, int]] | None = None   # for CUs without aranges
        self._types: dict[int, CType] = {}
        self._functions: dict[int, Function] = {}
        self._rnglists = None
        self._void = VoidType()
        self._unknown = BaseType("<unknown type>", 0, "unknown")
        self.index: GdbIndex | None = None
        self._name_blob: bytes | None = None
        # Optional "is NAME an ELF symbol here?" test. ElfImage sets it for big separate
        # debug files (libc's), whose full .symtab names every function and variable
        # with an address: a name it lacks is not worth walking every CU for.
        self.symbol_filter: Callable[[str, str], bool] | None = None
        # Optional "which CUs hold the code of the ELF symbols called NAME?" (by address,
        # through .debug_aranges): without an index, where functions are looked for.
        self.code_cus: Callable[[str], list[int]] | None = None
        # Set for the same big files: global variables are looked for only in the CUs whose
        # bytes spell their name (see _cus_spelling) rather than in every CU.
        self.search_names = False
        self._raw: dict[str, bytes] = {}
        self._spelled: dict[str, set[int] | None] = {}    # _cus_spelling's answers
        section = elffile.get_section_by_name(".gdb_index") if self.dwarf is not None else None
        if section is not None:
            try:
                self.index = GdbIndex(section.data())
            except ValueError:     # unknown version: fall back to our own per-CU indexes
                self.index = None

    @classmethod
    def from_elffile(cls, elffile: ELFFile, dwarf=None) -> "DebugInfo":
        return cls(elffile, dwarf)

    @property
    def has_dwarf(self) -> bool:
        return self.dwarf is not None and self.dwarf.has_debug_info

    # ----------------------------------------------------------------- CUs

    def _all_cu_offsets(self) -> list[int]:
        if self._cu_offsets is None:
            self._cu_offsets = ([cu.cu_offset for cu in self.dwarf.iter_CUs()]
                                if self.has_dwarf else [])
        return self._cu_offsets

    def _die_cu(self, die: DIE) -> _CUData:
        """The unit data of DIE's unit (a CU, or a DWARF 4 .debug_types unit)."""
        if isinstance(die.cu, TypeUnit):
            key = -1 - die.cu.cu_offset     # .debug_types offsets get their own key space
            if key not in self._cus:
                self._cus[key] = self._unit_data(die.cu, key)
            return self._cus[key]
        return self._cu_data(die.cu.cu_offset)

    def _cu_data(self, offset: int) -> _CUData:
        cud = self._cus.get(offset)
        if cud is None:
            cud = self._unit_data(self.dwarf.get_CU_at(offset), offset)
            self._cus[offset] = cud
        return cud

    def _unit_data(self, cu: CompileUnit, offset: int) -> _CUData:
        top = cu.get_top_DIE()
        low = _attr(top, "DW_AT_low_pc")
        info = CUInfo(
            offset=offset, name=_text(_attr(top, "DW_AT_name") or ""),
            comp_dir=_text(_attr(top, "DW_AT_comp_dir") or ""),
            version=cu["version"], address_size=cu["address_size"],
            offset_size=4 if cu.structs.dwarf_format == 32 else 8,
            base_address=low if isinstance(low, int) else 0,
            addr_base=_attr(top, "DW_AT_addr_base") or _attr(top, "DW_AT_GNU_addr_base"),
            loclists_base=_attr(top, "DW_AT_loclists_base"),
            language=_attr(top, "DW_AT_language"),
            producer=_text(_attr(top, "DW_AT_producer") or ""))
        return _CUData(cu=cu, info=info, files=self._file_names(cu))

    def _file_names(self, cu: CompileUnit) -> list[str]:
        """Display names indexed like DW_AT_decl_file (gdb: dir/name unless in comp_dir)."""
        try:
            lp = self.dwarf.line_program_for_CU(cu)
        except Exception:       # a broken line table must not hide the rest of the CU
            lp = None
        if lp is None:
            return []
        dirs = [_text(d) for d in lp.header["include_directory"]]
        names = []
        v5 = lp.header["version"] >= 5
        for fe in lp.header["file_entry"]:
            name = _text(fe.name)
            di = fe.dir_index
            if not name.startswith("/") and di > 0:
                d = dirs[di] if v5 else (dirs[di - 1] if di - 1 < len(dirs) else "")
                if d:
                    name = f"{d}/{name}"
            names.append(name)
        if not v5:
            names.insert(0, names[0] if names else "")   # DWARF < 5 file numbers start at 1
        return names

    def _file(self, cud: _CUData, index: object) -> str | None:
        if isinstance(index, int) and 0 <= index < len(cud.files):
            return cud.files[index]
        return None

    def cu_for_pc(self, pc: int) -> CUInfo | None:
        off = self._cu_offset_for_pc(pc)
        return None if off is None else self._cu_data(off).info

    def _cu_offset_for_pc(self, pc: int) -> int | None:
        if not self.has_dwarf:
            return None
        if self._arange_keys is None:
            entries = []
            aranges = self.dwarf.get_aranges()
            if aranges is not None:
                entries = sorted((e.begin_addr, e.begin_addr + e.length, e.info_offset)
                                 for e in aranges.entries if e.length)
            self._arange_entries = entries
            self._arange_keys = [e[0] for e in entries]
        if not self._arange_entries and self.index is not None:
            return self.index.cu_for_pc(pc)
        i = bisect_right(self._arange_keys, pc) - 1
        if i >= 0:
            lo, hi, off = self._arange_entries[i]
            if lo <= pc < hi:
                return off
        # CUs that .debug_aranges does not describe: read only their top DIE's ranges.
        if self._cu_ranges is None:
            covered = {e[2] for e in self._arange_entries}
            self._cu_ranges = []
            for off in self._all_cu_offsets():
                if off in covered:
                    continue
                cud = self._cu_data(off)
                for lo, hi in self._die_ranges(cud.cu.get_top_DIE(), cud):
                    self._cu_ranges.append((lo, hi, off))
        for lo, hi, off in self._cu_ranges:
            if lo <= pc < hi:
                return off
        return None

    def _die_ranges(self, die: DIE, cud: _CUData) -> list[tuple[int, int]]:
        low = die.attributes.get("DW_AT_low_pc")
        if low is not None:
            high = die.attributes.get("DW_AT_high_pc")
            if high is None:
                return [(low.value, low.value + 1)]
            hi = high.value if high.form in _ADDR_FORMS else low.value + high.value
            return [(low.value, hi)] if hi > low.value else []
        rng = die.attributes.get("DW_AT_ranges")
        if rng is None:
            return []
        if self._rnglists is None:
            self._rnglists = self.dwarf.range_lists()
        if self._rnglists is None:
            return []
        base = cud.info.base_address
        out = []
        for e in self._rnglists.get_range_list_at_offset(rng.value, cu=cud.cu):
            if isinstance(e, BaseAddressEntry):
                base = e.base_address
            elif isinstance(e, RangeEntry):
                lo, hi = (e.begin_offset, e.end_offset) if e.is_absolute else \
                    (base + e.begin_offset, base + e.end_offset)
                if hi > lo:
                    out.append((lo, hi))
        return out

    @staticmethod
    def _has_pc_attrs(die: DIE) -> bool:
        return "DW_AT_low_pc" in die.attributes or "DW_AT_ranges" in die.attributes

    def loaded_cus(self) -> list[str]:
        """Names of the CUs whose DIE trees have been read so far (laziness diagnostics)."""
        return [cud.info.name for off, cud in sorted(self._cus.items()) if cud.walked and off >= 0]

    # ----------------------------------------------------------------- the per-CU walk

    def _all_unit_keys(self) -> list[int]:
        """CU offsets, then keys of DWARF 4 .debug_types units (which hold named types)."""
        keys = list(self._all_cu_offsets())
        if self.has_dwarf and self.dwarf.has_debug_types():
            if not any(k < 0 for k in self._cus):
                for tu in self.dwarf.iter_TUs():
                    self._die_cu(tu.get_top_DIE())
            keys += sorted((k for k in self._cus if k < 0), reverse=True)
        return keys

    def _walked(self, offset: int) -> _CUData:
        cud = self._cus[offset] if offset < 0 else self._cu_data(offset)
        if not cud.walked:
            self._walk(cud, cud.cu.get_top_DIE(), None)
            cud.funcs.sort()
            cud.walked = True
        return cud

    def _walk(self, cud: _CUData, die: DIE, func: int | None) -> None:
        for child in die.iter_children():
            tag = child.tag
            if tag == "DW_TAG_subprogram":
                name = _die_name(child)
                if self._has_pc_attrs(child):
                    for lo, hi in self._die_ranges(child, cud):
                        cud.funcs.append((lo, hi, child.offset))
                    if name:
                        _add(cud.func_names, self._search_name(child, cud, name), child.offset)
                elif name and _attr(child, "DW_AT_inline") in (DW_INL_inlined,
                                                               DW_INL_declared_inlined):
                    _add(cud.abstract_names, name, child.offset)
                if child.has_children and not _is_decl(child):
                    self._walk(cud, child, child.offset if self._has_pc_attrs(child) else func)
            elif tag == "DW_TAG_inlined_subroutine":
                name = _die_name(child)
                if name:
                    _add(cud.inlined_names, name, child.offset)
                self._walk(cud, child, func)
            elif tag == "DW_TAG_lexical_block":
                self._walk(cud, child, func)
            elif tag == "DW_TAG_variable":
                name = _die_name(child)
                if not name:
                    continue
                if func is None and die.tag in ("DW_TAG_compile_unit", "DW_TAG_partial_unit"):
                    _add(cud.globals, name, child.offset)
                elif func is not None and not _is_decl(child):
                    # Indexed for `func::var`; gdb resolves any local of FUNC's blocks there
                    # (statics usually, but also e.g. a static turned into an implicit pointer).
                    _add(cud.locals, name, (func, child.offset))
            elif tag in _TYPE_NAME_TAGS:
                if func is None and "DW_AT_name" in child.attributes:
                    _add(cud.types, _canon(child), child.offset)
            elif tag in _TAGGED:
                if func is None and "DW_AT_name" in child.attributes:
                    _add(cud.tagged, (_TAGGED[tag], _text(_attr(child, "DW_AT_name"))),
                         child.offset)

    @staticmethod
    def _search_name(die: DIE, cud: _CUData, name: str) -> str:
        """The name gdb looks a function up by (dwarf2_physname): its linkage name in C."""
        if cud.info.language in _LINKAGE_FORM_LANGUAGES:
            linkage = _chain_attr(die, "DW_AT_linkage_name")
            if linkage is not None:
                return _text(linkage[1])
        return name

    def may_name(self, name: str, has_address: str | None = None) -> bool:
        """False when the identifier NAME is spelled in none of the DWARF string data, so
        no DIE can be called NAME and no CU needs reading. Without an index this spares
        walking every CU of a big library (libc's separate debug file takes a minute).
        HAS_ADDRESS "code" or "data": NAME is a function or a variable, and symbol_filter
        must know a symbol of that kind too (libc's `atoi` is no variable)."""
        if self.dwarf is None or self.index is not None or not _IDENTIFIER.fullmatch(name):
            return True
        if has_address and self.symbol_filter is not None and \
                not self.symbol_filter(name, has_address):
            return False
        if self._name_blob is None:
            parts = []
            for sec_name in (".debug_str", ".debug_info", ".debug_types", ".debug_line_str"):
                sec = self.elffile.get_section_by_name(sec_name)
                if sec is not None and sec["sh_type"] != "SHT_NOBITS":
                    parts.append(sec.data())
            self._name_blob = b"\0".join(parts) + b"\0"
        # Merged string tables share tails ("add" may sit at the end of "do_add").
        return name.encode() + b"\0" in self._name_blob

    def _cus_spelling(self, name: str) -> set[int] | None:
        """Offsets of the CUs that may hold a DIE named NAME: those whose .debug_info bytes
        hold a DW_FORM_strp offset of NAME in .debug_str, or NAME itself (DW_FORM_string).
        A raw byte search (a stray match only adds a CU); None where other forms could
        carry the name (string offset tables, a supplementary file, DWARF 64, type units)."""
        if name not in self._spelled:     # a search of libc's bytes takes 0.1-0.2 s
            self._spelled[name] = self._search_spelling(name)
        return self._spelled[name]

    def _search_spelling(self, name: str) -> set[int] | None:
        if not self.has_dwarf or self.dwarf.has_debug_types() or any(
                self.elffile.get_section_by_name(n) is not None
                for n in (".debug_str_offsets", ".gnu_debugaltlink")):
            return None
        info, strings = self._raw_section(".debug_info"), self._raw_section(".debug_str")
        starts = self._unit_starts(info)
        if starts is None:
            return None
        key = name.encode() + b"\0"
        needles = [key]
        at = strings.find(key)
        while at >= 0:
            needles.append(at.to_bytes(4, "little"))
            at = strings.find(key, at + 1)
        found: set[int] = set()
        for needle in needles:
            at = info.find(needle)
            while at >= 0:
                found.add(starts[bisect_right(starts, at) - 1])
                at = info.find(needle, at + 1)
        return found

    def _raw_section(self, name: str) -> bytes:
        data = self._raw.get(name)
        if data is None:
            sec = self.elffile.get_section_by_name(name)
            data = sec.data() if sec is not None and sec["sh_type"] != "SHT_NOBITS" else b""
            self._raw[name] = data
        return data

    @staticmethod
    def _unit_starts(info: bytes) -> list[int] | None:
        """Offsets of the units in .debug_info (None if one is DWARF 64)."""
        starts = []
        pos = 0
        while pos + 4 <= len(info):
            length = int.from_bytes(info[pos:pos + 4], "little")
            if length >= 0xFFFFFFF0:
                return None
            starts.append(pos)
            pos += 4 + length
        return starts

    def _iter_walked(self, prefer: int | None = None, name: str | None = None,
                     spelled: bool = False) -> Iterator[_CUData]:
        """Each CU's index, PREFER's CU first (gdb searches the current CU first).

        With a .gdb_index and a NAME, only the CUs the index lists for NAME are read, plus
        those already read (like gdb, which also searches its expanded symtabs: the index
        omits e.g. optimized-out statics).
        """
        offsets = self._all_unit_keys()
        # SPELLED: NAME is a DIE's own DW_AT_name (not a canonical spelling of a type).
        only = self._cus_spelling(name) if spelled and name is not None and \
            self.index is None and self.search_names else None
        if only is not None:
            offsets = [off for off in offsets if off in only]
        if name is not None and self.index is not None:
            listed = {e.cu_offset for e in self.index.lookup(name)}
            listed.update(off for off, cud in self._cus.items() if cud.walked)
            offsets = [off for off in offsets if off in listed]
            if prefer not in listed:
                prefer = None
        if prefer is not None:
            yield self._walked(prefer)
        for off in offsets:
            if off != prefer:
                yield self._walked(off)

    # ----------------------------------------------------------------- types

    def type_at(self, die: DIE) -> CType:
        """The CType described by a type DIE (cached per DIE; cycles handled)."""
        t = self._types.get(_key(die))
        if t is None:
            t = self._build_type(die)
        return t

    def _type_of(self, die: DIE) -> CType:
        """The type in DW_AT_type of DIE (following origins), void if there is none."""
        for d in _origins(die):
            t = _ref(d, "DW_AT_type")
            if t is not None:
                return self.type_at(t)
        return self._void

    def _build_type(self, die: DIE) -> CType:
        tag = die.tag
        cache = self._types
        sig = _ref(die, "DW_AT_signature")
        if sig is not None:
            t = self.type_at(sig)
            cache[_key(die)] = t
            return t
        if tag in ("DW_TAG_type_unit", "DW_TAG_compile_unit"):
            return self._unknown
        if tag == "DW_TAG_base_type":
            name = canonical_base_name(_text(_attr(die, "DW_AT_name") or "?"))
            t: CType = BaseType(name, _attr(die, "DW_AT_byte_size") or 0,
                                ENCODINGS.get(_attr(die, "DW_AT_encoding"), "unknown"),
                                _attr(die, "DW_AT_bit_size"))
            cache[_key(die)] = t
            return t
        if tag == "DW_TAG_unspecified_type":
            t = VoidType(_text(_attr(die, "DW_AT_name") or "void"), unspecified=True)
            cache[_key(die)] = t
            return t
        if tag in ("DW_TAG_pointer_type", "DW_TAG_reference_type",
                   "DW_TAG_rvalue_reference_type"):
            p = PointerType(self._void, _attr(die, "DW_AT_byte_size") or die.cu["address_size"])
            cache[_key(die)] = p
            p.target = self._type_of(die)
            return p
        if tag in _QUAL_TAGS:
            q = QualifiedType(self._void, **{_QUAL_TAGS[tag]: True})
            cache[_key(die)] = q
            q.target = self._type_of(die)
            return q
        if tag == "DW_TAG_typedef":
            td = TypedefType(_text(_attr(die, "DW_AT_name") or ""), self._void,
                             *self._decl(die))
            cache[_key(die)] = td
            td.target = self._type_of(die)
            return td
        if tag in ("DW_TAG_structure_type", "DW_TAG_class_type", "DW_TAG_union_type"):
            return self._build_composite(die)
        if tag == "DW_TAG_enumeration_type":
            return self._build_enum(die)
        if tag == "DW_TAG_array_type":
            return self._build_array(die)
        if tag in ("DW_TAG_subroutine_type", "DW_TAG_subprogram"):
            f = FunctionType(self._void)
            cache[_key(die)] = f
            self._fill_function_type(f, die)
            return f
        # Anything else (Ada, C++ member pointers...) is shown as its name.
        t = BaseType(_text(_attr(die, "DW_AT_name") or f"<{tag}>"),
                     _attr(die, "DW_AT_byte_size") or 0, "unknown")
        cache[_key(die)] = t
        return t

    def _decl(self, die: DIE) -> tuple[str | None, int | None]:
        cud = self._die_cu(die)
        return self._file(cud, _attr(die, "DW_AT_decl_file")), _attr(die, "DW_AT_decl_line")

    def _build_composite(self, die: DIE) -> CType:
        cls = UnionType if die.tag == "DW_TAG_union_type" else StructType
        name = _attr(die, "DW_AT_name")
        t = cls(None if name is None else _text(name), _attr(die, "DW_AT_byte_size") or 0,
                [], _is_decl(die), *self._decl(die))
        self._types[_key(die)] = t
        for child in die.iter_children():
            if child.tag != "DW_TAG_member" or _is_decl(child):
                continue     # C++ static members are declarations
            mtype = self._type_of(child)
            mname = _attr(child, "DW_AT_name")
            loc = child.attributes.get("DW_AT_data_member_location")
            byte_off = 0
            if loc is not None:
                if isinstance(loc.value, int):
                    byte_off = loc.value
                else:   # DWARF 2 style `DW_OP_plus_uconst N`
                    expr = _expr_bytes(loc.value)
                    if expr[:1] == b"\x23":
                        byte_off = _uleb(expr, 1)
            bit_size = _attr(child, "DW_AT_bit_size")
            bit_pos = None
            if bit_size:
                dbo = _attr(child, "DW_AT_data_bit_offset")
                if dbo is not None:
                    bit_pos = dbo
                else:
                    # DWARF 2-4: DW_AT_bit_offset counts from the storage unit's MSB.
                    unit = _attr(child, "DW_AT_byte_size") or mtype.size
                    bit_pos = byte_off * 8 + unit * 8 - (_attr(child, "DW_AT_bit_offset") or 0) \
                        - bit_size
            if bit_pos is not None:
                m = Member(None if mname is None else _text(mname), mtype, bit_pos // 8,
                           bit_size, bit_pos % 8)
            else:
                m = Member(None if mname is None else _text(mname), mtype, byte_off)
            t.members.append(m)
        return t

    def _build_enum(self, die: DIE) -> CType:
        name = _attr(die, "DW_AT_name")
        under = _ref(die, "DW_AT_type")
        t = EnumType(None if name is None else _text(name), _attr(die, "DW_AT_byte_size") or 4,
                     [], False, True, None, _is_decl(die), *self._decl(die))
        self._types[_key(die)] = t
        if under is not None:
            t.underlying = self.type_at(under)
        for child in die.iter_children():
            if child.tag != "DW_TAG_enumerator":
                continue
            a = child.attributes.get("DW_AT_const_value")
            value = a.value if a is not None else 0
            if isinstance(value, (list, bytes)):
                value = int.from_bytes(bytes(value), "little")
            t.enumerators.append(Enumerator(_text(_attr(child, "DW_AT_name") or ""), value))
        values = [e.value for e in t.enumerators]
        t.is_unsigned = all(v >= 0 for v in values)
        t.is_flag_enum = flag_enum_heuristic(values)
        return t

    def _build_array(self, die: DIE) -> CType:
        a = ArrayType(self._void, [], [])
        self._types[_key(die)] = a
        a.element = self._type_of(die)
        for child in die.iter_children():
            if child.tag not in ("DW_TAG_subrange_type", "DW_TAG_enumeration_type"):
                continue
            count: int | None = None
            dynamic = None
            lower = _attr(child, "DW_AT_lower_bound")
            lower = lower if isinstance(lower, int) else 0
            for attr_name in ("DW_AT_count", "DW_AT_upper_bound"):
                at = child.attributes.get(attr_name)
                if at is None:
                    continue
                if at.form in _EXPR_FORMS or at.form in _REF_FORMS or \
                        at.form in ("DW_FORM_sec_offset", "DW_FORM_loclistx"):
                    # Variable-length: the bound lives in an expression or a variable DIE.
                    dynamic = self._dynamic_bound(child, attr_name, lower)
                else:
                    v = at.value
                    if attr_name == "DW_AT_count":
                        count = v
                    else:
                        size = {"DW_FORM_data1": 1, "DW_FORM_data2": 2,
                                "DW_FORM_data4": 4, "DW_FORM_data8": 8}.get(at.form)
                        if size and v == (1 << (8 * size)) - 1:
                            v = -1   # old gcc wrote `x[0]` as upper bound -1 unsigned
                        count = v - lower + 1
                break
            a.dims.append(count)
            a.dynamic.append(dynamic)
        if not a.dims:
            a.dims.append(None)
            a.dynamic.append(None)
        return a

    def _dynamic_bound(self, die: DIE, attr_name: str, lower: int) -> DynamicBound:
        at = die.attributes[attr_name]
        cud = self._die_cu(die)
        is_count = attr_name == "DW_AT_count"
        if at.form in _REF_FORMS:
            # gcc points at an artificial variable holding the bound (gdb: is_reference).
            target = die.get_DIE_from_attribute(attr_name)
            tcud = self._die_cu(target)
            return DynamicBound(self._location(target, "DW_AT_location", tcud), True, is_count,
                                lower, self._const_value(target))
        return DynamicBound(self._location_value(at, cud), False, is_count, lower, None)

    def _fill_function_type(self, f: FunctionType, die: DIE) -> None:
        f.return_type = self._type_of(die)
        src = die
        # A concrete instance may carry no parameter DIEs of its own.
        for d in _origins(die):
            if d.has_children:
                src = d
                break
        # gdb's prototyped_function_p: only C-like languages have unprototyped functions
        # (gas's subprograms for glibc's clone3 print as `void (void)`).
        language = self._die_cu(die).info.language
        f.prototyped = bool(_chain_attr(die, "DW_AT_prototyped")) or (
            language is not None and language not in _C_LIKE_LANGUAGES)
        for child in src.iter_children():
            if child.tag == "DW_TAG_formal_parameter":
                f.params.append(self._type_of(child))
            elif child.tag == "DW_TAG_unspecified_parameters":
                f.varargs = True

    # ----------------------------------------------------------------- locations

    def _location_value(self, at, cud: _CUData) -> Location:
        if at.form in _EXPR_FORMS:
            return _expr_bytes(at.value)
        if at.form in _LOCLIST_FORMS:
            section = ".debug_loclists" if cud.info.version >= 5 else ".debug_loc"
            return LocListRef(at.value, section, cud.info)
        return None

    def _location(self, die: DIE, name: str, cud: _CUData) -> Location:
        at = die.attributes.get(name)
        return None if at is None else self._location_value(at, cud)

    @staticmethod
    def _const_value(die: DIE) -> int | bytes | None:
        at = die.attributes.get("DW_AT_const_value")
        if at is None:
            return None
        if at.form in ("DW_FORM_sdata", "DW_FORM_udata", "DW_FORM_implicit_const"):
            return at.value
        size = {"DW_FORM_data1": 1, "DW_FORM_data2": 2, "DW_FORM_data4": 4,
                "DW_FORM_data8": 8, "DW_FORM_data16": 16}.get(at.form)
        if size:
            v = at.value
            return v if isinstance(v, bytes) else (v & ((1 << (8 * size)) - 1)).to_bytes(
                size, "little")
        if at.form in ("DW_FORM_string", "DW_FORM_strp", "DW_FORM_line_strp") or \
                at.form.startswith("DW_FORM_strx"):
            return at.value + b"\0" if isinstance(at.value, bytes) else None
        return _expr_bytes(at.value)

    # ----------------------------------------------------------------- variables and blocks

    def _variable(self, die: DIE, cud: _CUData, is_param: bool) -> Variable | None:
        name = _die_name(die)
        if not name:
            return None
        const = self._const_value(die)
        if const is None:
            for d in _origins(die):
                if d is not die and "DW_AT_const_value" in d.attributes:
                    const = self._const_value(d)
                    break
        location = self._location(die, "DW_AT_location", cud)
        decl_file = decl_line = None
        for d in _origins(die):
            if "DW_AT_decl_line" in d.attributes:
                decl_line = _attr(d, "DW_AT_decl_line")
                decl_file = self._file(self._die_cu(d), _attr(d, "DW_AT_decl_file"))
                break
        return Variable(
            name=name, type=self._type_of(die), location=location, const_value=const,
            is_param=is_param, decl_line=decl_line, decl_file=decl_file, cu=cud.info,
            is_external=bool(_chain_attr(die, "DW_AT_external")),
            is_declaration=_is_decl(die) and location is None,
            is_artificial=bool(_attr(die, "DW_AT_artificial")), die_offset=die.offset)

    def _fill_block(self, block: Block, die: DIE, cud: _CUData, func: Function) -> None:
        referenced: set[int] = set()
        self._fill_children(block, die, cud, func, referenced)
        # gdb's inherit_abstract_dies: parts of the abstract tree the concrete one does not
        # mention still exist in the scope, as optimized-out symbols.
        origin = _ref(die, "DW_AT_abstract_origin")
        if origin is not None and origin.has_children:
            self._fill_children(block, origin, self._die_cu(origin), func,
                                referenced, skip=referenced)

    def _fill_children(self, block: Block, die: DIE, cud: _CUData, func: Function,
                       referenced: set[int], skip: set[int] | None = None) -> None:
        for child in die.iter_children():
            if skip is not None and child.offset in skip:
                continue
            ao = child.attributes.get("DW_AT_abstract_origin")
            if ao is not None and ao.form in _REF_FORMS:
                referenced.add(child.get_DIE_from_attribute("DW_AT_abstract_origin").offset)
            tag = child.tag
            if tag in ("DW_TAG_formal_parameter", "DW_TAG_variable"):
                if tag == "DW_TAG_variable" and _is_decl(child) and \
                        not _chain_attr(child, "DW_AT_external"):
                    continue
                var = self._variable(child, cud, tag == "DW_TAG_formal_parameter")
                if var is not None:
                    block.variables.append(var)
            elif tag == "DW_TAG_lexical_block":
                if not self._has_pc_attrs(child):
                    # gdb: a block without pc bounds just groups its children into ours
                    # (their abstract origins do not count as referenced by our DIE).
                    self._fill_children(block, child, cud, func, set())
                    continue
                ranges = self._die_ranges(child, cud)
                if not ranges:
                    continue
                sub = Block(kind="lexical", ranges=ranges, parent=block, die_offset=child.offset)
                self._fill_block(sub, child, cud, func)
                block.children.append(sub)
            elif tag == "DW_TAG_inlined_subroutine":
                ranges = self._die_ranges(child, cud)
                if not ranges:
                    continue
                call = self._inlined_call(child, cud, ranges, func)
                call.parent = block
                self._fill_block(call, child, cud, func)
                block.children.append(call)

    def _inlined_call(self, die: DIE, cud: _CUData, ranges: list[tuple[int, int]],
                      func: Function | None) -> InlinedCall:
        origin = _ref(die, "DW_AT_abstract_origin")
        decl_file, decl_line = (None, None)
        if origin is not None:
            for d in _origins(origin):
                if "DW_AT_decl_line" in d.attributes:
                    decl_file, decl_line = self._decl(d)
                    break
        entry = die.attributes.get("DW_AT_entry_pc")
        entry_pc = ranges[0][0]
        if entry is not None:
            entry_pc = entry.value if entry.form in _ADDR_FORMS else ranges[0][0] + entry.value
        return InlinedCall(
            ranges=ranges, die_offset=die.offset, name=_die_name(die) or "",
            call_file=self._file(cud, _attr(die, "DW_AT_call_file")),
            call_line=_attr(die, "DW_AT_call_line"), call_column=_attr(die, "DW_AT_call_column"),
            entry_pc=entry_pc, decl_file=decl_file, decl_line=decl_line,
            origin_offset=origin.offset if origin is not None else 0, function=func)

    def _function(self, offset: int) -> Function:
        fn = self._functions.get(offset)
        if fn is not None:
            return fn
        die = self.dwarf.get_DIE_from_refaddr(offset)
        cud = self._die_cu(die)
        ranges = self._die_ranges(die, cud)
        decl_file = decl_line = None
        for d in _origins(die):
            if "DW_AT_decl_line" in d.attributes:
                decl_file, decl_line = self._decl(d)
                break
        origin = _ref(die, "DW_AT_abstract_origin")
        linkage = _chain_attr(die, "DW_AT_linkage_name") or _chain_attr(
            die, "DW_AT_MIPS_linkage_name")
        entry = die.attributes.get("DW_AT_entry_pc")
        entry_pc = None
        if entry is not None:
            entry_pc = entry.value if entry.form in _ADDR_FORMS else ranges[0][0] + entry.value
        fn = Function(
            ranges=ranges, die_offset=offset, name=_die_name(die) or "",
            linkage_name=_text(linkage[1]) if linkage else None,
            decl_file=decl_file, decl_line=decl_line,
            frame_base=self._location(die, "DW_AT_frame_base", cud),
            type=self.type_at(die), is_external=bool(_chain_attr(die, "DW_AT_external")),
            entry_pc=entry_pc, cu=cud.info,
            origin_offset=origin.offset if origin is not None else None)
        self._functions[offset] = fn
        self._fill_block(fn, die, cud, fn)
        return fn

    # ----------------------------------------------------------------- pc queries

    def function_at(self, pc: int) -> Function | None:
        """The concrete function whose code contains PC (link-time address)."""
        off = self._cu_offset_for_pc(pc)
        if off is None:
            return None
        cud = self._walked(off)
        best = None
        for lo, hi, die_off in cud.funcs:
            if lo > pc:
                break
            # Of aliases with one range (gas's clone3, __clone3...) gdb's block search
            # finds the last one listed.
            if pc < hi and (best is None or hi - lo <= best[1] - best[0]):
                best = (lo, hi, die_off)
        return None if best is None else self._function(best[2])

    def scopes_at(self, pc: int) -> list[Block]:
        """Blocks containing PC, innermost first, ending with the Function."""
        fn = self.function_at(pc)
        if fn is None:
            return []
        return list(reversed(fn.innermost_at(pc)))

    def inlined_chain_at(self, pc: int) -> list[InlinedCall]:
        """Inlined calls containing PC, innermost first (each one is a virtual gdb frame)."""
        return [b for b in self.scopes_at(pc) if isinstance(b, InlinedCall)]

    def block_function_at(self, pc: int) -> Function | InlinedCall | None:
        """The innermost function-like block at PC: an inlined call or the Function."""
        for b in self.scopes_at(pc):
            if isinstance(b, (Function, InlinedCall)):
                return b
        return None

    # ----------------------------------------------------------------- name queries

    def functions_named(self, name: str) -> list[Function | InlinedCall]:
        """Every concrete copy and every inlined instance of the function NAME."""
        out: list[Function | InlinedCall] = []
        if not self.may_name(name, has_address="code"):
            return out
        # A big library's CUs are not all walked: its symbols say which hold the code
        # (inlined copies elsewhere in it are not found, as for its breakpoints).
        cuds: Iterable[_CUData] = self._iter_walked(name=name)
        if self.index is None and self.code_cus is not None:
            cuds = [self._walked(off) for off in self.code_cus(name)]
        for cud in cuds:
            for off in cud.func_names.get(name, ()):
                out.append(self._function(off))
            for off in cud.inlined_names.get(name, ()):
                inst = self._inlined_instance(cud, off)
                if inst is not None:
                    out.append(inst)
        return out

    def _inlined_instance(self, cud: _CUData, die_offset: int) -> InlinedCall | None:
        die = cud.cu.get_DIE_from_refaddr(die_offset)
        ranges = self._die_ranges(die, cud)
        if not ranges:
            return None
        fn = self.function_at(ranges[0][0])
        if fn is not None:
            for b in fn.walk():
                if b.die_offset == die_offset:
                    return b   # type: ignore[return-value]
        return self._inlined_call(die, cud, ranges, fn)

    def find_function(self, name: str) -> Function | None:
        """The first concrete function NAME (external definitions before static ones)."""
        found = [f for f in self.functions_named(name) if isinstance(f, Function)]
        found.sort(key=lambda f: not f.is_external)
        return found[0] if found else None

    def iter_functions(self) -> Iterator[Function]:
        """Every concrete function of every CU (reads all DIEs: for `info functions`)."""
        for cud in self._iter_walked():
            for offs in cud.func_names.values():
                for off in offs:
                    yield self._function(off)

    def find_global(self, name: str, file: str | None = None, function: str | None = None,
                    pc: int | None = None) -> Variable | None:
        """A global or static variable by NAME.

        Accepts gdb's scoped spellings in NAME: `'file.c'::var` and `func::var` (a local of
        FUNC, statics first: the engine needs a frame for the others). FILE restricts to CUs of that source file; PC prefers its CU's statics, as
        gdb does for the current frame's file.  Definitions beat declarations.
        """
        if "::" in name:
            scope, _, name = name.rpartition("::")
            scope = scope.strip()
            if scope[:1] in "'\"" and scope[-1:] == scope[:1]:
                file = scope[1:-1]
            elif scope.endswith((".c", ".h", ".cc", ".cpp")):
                file = scope
            else:
                function = scope
        prefer = self._cu_offset_for_pc(pc) if pc is not None else None
        candidates: list[Variable] = []
        if not self.may_name(function or name, has_address="code" if function else "data"):
            return None
        for cud in self._iter_walked(prefer, function or name, spelled=True):
            if file is not None and not _file_matches(cud.info.name, file):
                continue
            if function is not None:
                found = []
                for func_off, var_off in cud.locals.get(name, ()):
                    fdie = cud.cu.get_DIE_from_refaddr(func_off)
                    if _die_name(fdie) == function:
                        var = self._variable(cud.cu.get_DIE_from_refaddr(var_off), cud, False)
                        if var is not None:
                            var.function = function
                            found.append(var)
                if found:
                    # A static wins over a same-named automatic in a nested block.
                    found.sort(key=lambda v: v.static_address is None)
                    return found[0]
                continue
            for off in cud.globals.get(name, ()):
                var = self._global_variable(off, cud)
                if var is not None:
                    candidates.append(var)
            if candidates and any(not v.is_declaration for v in candidates) and \
                    cud.info.offset == prefer:
                break
        if function is not None:
            return None
        defs = [v for v in candidates if not v.is_declaration]
        if defs:
            # gdb: the current file's static first, then external definitions.
            defs.sort(key=lambda v: (v.cu.offset != prefer, not v.is_external))
            return defs[0]
        return candidates[0] if candidates else None

    def require_global(self, name: str, file: str | None = None, function: str | None = None,
                       pc: int | None = None) -> Variable:
        """find_global, raising gdb's error when there is no such variable."""
        var = self.find_global(name, file, function, pc)
        if var is None:
            raise SymbolError(f'No symbol "{name.rpartition("::")[2]}" in current context.')
        return var

    def _global_variable(self, offset: int, cud: _CUData) -> Variable | None:
        die = cud.cu.get_DIE_from_refaddr(offset)
        return self._variable(die, cud, False)

    def iter_globals(self) -> Iterator[Variable]:
        """Every CU-level variable definition (reads all DIEs: for `info variables`)."""
        for cud in self._iter_walked():
            for offs in cud.globals.values():
                for off in offs:
                    var = self._global_variable(off, cud)
                    if var is not None and not var.is_declaration:
                        yield var

    def static_locals(self, function: str) -> list[Variable]:
        """The `static` variables declared inside FUNCTION."""
        out = []
        for cud in self._iter_walked():
            for name, pairs in cud.locals.items():
                for func_off, var_off in pairs:
                    if _die_name(cud.cu.get_DIE_from_refaddr(func_off)) == function:
                        var = self._variable(cud.cu.get_DIE_from_refaddr(var_off), cud, False)
                        if var is not None and var.static_address is not None:
                            var.function = function
                            out.append(var)
        return out

    def find_type(self, name: str, pc: int | None = None) -> CType | None:
        """A typedef or base type by NAME ("myint", "unsigned long"); "struct point" and the
        like are passed to find_tagged_type. Standard C names work without debug info."""
        name = " ".join(name.split())
        first = name.split(" ", 1)[0]
        if first in ("struct", "union", "enum") and " " in name:
            return self.find_tagged_type(first, name.split(" ", 1)[1])
        canon = canonical_base_name(name)
        prefer = self._cu_offset_for_pc(pc) if pc is not None else None
        if self.has_dwarf:
            for key in ((canon,) if self.index is None else (canon, None)):
                # An index may spell base types its own way: retry without it.
                for cud in self._iter_walked(prefer, key):
                    for off in cud.types.get(canon, ()):
                        return self.type_at(cud.cu.get_DIE_from_refaddr(off))
        return builtin_type(canon)

    def find_tagged_type(self, keyword: str, name: str, pc: int | None = None,
                         allow_declaration: bool = False) -> CType | None:
        """`struct NAME` / `union NAME` / `enum NAME`: a complete definition. gdb reports
        "No struct type named NAME." when only declarations exist, hence ALLOW_DECLARATION."""
        keyword = "struct" if keyword == "class" else keyword
        prefer = self._cu_offset_for_pc(pc) if pc is not None else None
        decl = None
        if not self.has_dwarf or not self.may_name(name):
            return None
        for cud in self._iter_walked(prefer, name):
            for off in cud.tagged.get((keyword, name), ()):
                t = self.type_at(cud.cu.get_DIE_from_refaddr(off))
                if not getattr(t, "is_declaration", False):
                    return t
                decl = decl or t
        return decl if allow_declaration else None

    def require_tagged_type(self, keyword: str, name: str, pc: int | None = None) -> CType:
        """find_tagged_type, raising gdb's "No struct type named NAME." when absent."""
        t = self.find_tagged_type(keyword, name, pc)
        if t is None:
            raise SymbolError(f"No {keyword} type named {name}.")
        return t

    def complete_type(self, t: CType) -> CType | None:
        """The definition of an opaque struct/union/enum (a resolver for ptype_text)."""
        if isinstance(t, (CompositeType, EnumType)) and t.name:
            found = self.find_tagged_type(t.keyword, t.name)
            if found is not None and not getattr(found, "is_declaration", True):
                return found
        return None

    def iter_types(self) -> Iterator[tuple[str, CType]]:
        """(name, type) of every CU-level named type: typedefs, base types, tags."""
        for cud in self._iter_walked():
            for name, offs in cud.types.items():
                for off in offs:
                    yield name, self.type_at(cud.cu.get_DIE_from_refaddr(off))
            for (kw, name), offs in cud.tagged.items():
                for off in offs:
                    yield f"{kw} {name}", self.type_at(cud.cu.get_DIE_from_refaddr(off))


def _canon(die: DIE) -> str:
    name = _text(_attr(die, "DW_AT_name") or "")
    return canonical_base_name(name) if die.tag == "DW_TAG_base_type" else name


def _file_matches(cu_name: str, file: str) -> bool:
    """gdb's filename matching: FILE equals the CU name or is a trailing path component."""
    if cu_name == file:
        return True
    return cu_name.endswith("/" + file.lstrip("/")) or file.endswith("/" + cu_name)


# gdb's built-in C types (x86-64 LP64), used when DWARF does not define a type name.
_BUILTINS = {
    "char": (1, "signed_char"), "signed char": (1, "signed_char"),
    "unsigned char": (1, "unsigned_char"), "short": (2, "signed"),
    "unsigned short": (2, "unsigned"), "int": (4, "signed"), "unsigned int": (4, "unsigned"),
    "long": (8, "signed"), "unsigned long": (8, "unsigned"), "long long": (8, "signed"),
    "unsigned long long": (8, "unsigned"), "float": (4, "float"), "double": (8, "float"),
    "long double": (16, "float"), "_Bool": (1, "boolean"), "__int128": (16, "signed"),
    "unsigned __int128": (16, "unsigned"),
}


def builtin_type(name: str) -> CType | None:
    """gdb's built-in type NAME (canonical spelling), or None."""
    name = canonical_base_name(" ".join(name.split()))
    if name == "void":
        return VoidType()
    if name == "unsigned":
        name = "unsigned int"
    spec = _BUILTINS.get(name)
    if spec is None:
        return None
    return BaseType(name, spec[0], spec[1])


__all__ = [
    "Block", "CUInfo", "DebugInfo", "DynamicBound", "Function", "InlinedCall", "LocListRef",
    "Location", "Variable", "builtin_type",
]
