"""The C type model built from DWARF, and gdb's C type printer (type names, ptype, whatis).

Pure values: debuginfo.py builds these from DIEs; the engine uses them to read and format values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

# DW_ATE_* encodings mapped to the words the rest of pydbg uses.
ENCODINGS = {
    0x1: "address", 0x2: "boolean", 0x3: "complex", 0x4: "float", 0x5: "signed",
    0x6: "signed_char", 0x7: "unsigned", 0x8: "unsigned_char", 0x9: "imaginary_float",
    0xa: "packed_decimal", 0xb: "numeric_string", 0xc: "edited", 0xd: "signed_fixed",
    0xe: "unsigned_fixed", 0xf: "decimal_float", 0x10: "UTF",
}


class CType:
    """Base of every type; identity comparison (types are shared and may be cyclic)."""

    __hash__ = object.__hash__

    @property
    def size(self) -> int:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {type_name(self)!r}>"


@dataclass(eq=False, repr=False)
class VoidType(CType):
    """`void` (gdb gives it size 1 so pointer arithmetic on void * works).

    UNSPECIFIED marks a DW_TAG_unspecified_type (what the assembler gives its functions
    for a return type): gdb prints it as void but will not call such a function without
    a cast giving the return type."""

    name: str = "void"
    unspecified: bool = False

    @property
    def size(self) -> int:
        return 1


@dataclass(eq=False, repr=False)
class BaseType(CType):
    """A DW_TAG_base_type; NAME is gdb's canonical spelling ("unsigned long")."""

    name: str
    byte_size: int
    encoding: str           # signed/unsigned/signed_char/unsigned_char/boolean/float/complex/...
    bit_size: int | None = None     # DW_AT_bit_size on base types (rare, e.g. _BitInt)

    @property
    def size(self) -> int:
        return self.byte_size

    @property
    def is_signed(self) -> bool:
        return self.encoding in ("signed", "signed_char", "signed_fixed")

    @property
    def is_float(self) -> bool:
        return self.encoding in ("float", "complex", "decimal_float", "imaginary_float")


@dataclass(eq=False, repr=False)
class PointerType(CType):
    """A pointer to TARGET (VoidType for `void *`)."""

    target: CType
    byte_size: int = 8

    @property
    def size(self) -> int:
        return self.byte_size


@dataclass(eq=False, repr=False)
class ArrayType(CType):
    """ELEMENT[dims[0]][dims[1]]...; a dim is None when unknown (flexible member, `x[]`).

    DWARF keeps all dimensions of a C array on one DIE; `target` gives the element of
    the outermost dimension (an ArrayType of the remaining dims, or ELEMENT), as gdb does.
    `dynamic[i]` is the raw DW_AT_upper_bound/count data of a variable-length dimension.
    """

    element: CType
    dims: list[int | None]
    dynamic: list[object | None] = field(default_factory=list)
    vector: bool = False    # gdb's vector types (registers, $_siginfo._pad)

    @property
    def target(self) -> CType:
        if len(self.dims) <= 1:
            return self.element
        return ArrayType(self.element, self.dims[1:], self.dynamic[1:])

    @property
    def length(self) -> int | None:
        """Element count of the outermost dimension."""
        return self.dims[0] if self.dims else None

    def is_variable_length(self, dim: int = 0) -> bool:
        return dim < len(self.dynamic) and self.dynamic[dim] is not None

    @property
    def size(self) -> int:
        n = self.element.size
        for d in self.dims:
            n *= d or 0
        return n


@dataclass(eq=False, repr=False)
class Member:
    """A struct/union field. OFFSET is the byte holding the first bit; BIT_OFFSET (0-7) and
    BIT_SIZE locate a bitfield within it (little-endian bit numbering), None otherwise."""

    name: str | None        # None for anonymous struct/union members
    type: CType
    offset: int
    bit_size: int | None = None
    bit_offset: int | None = None

    @property
    def bit_pos(self) -> int:
        """Bit position of the field from the start of the enclosing struct."""
        return self.offset * 8 + (self.bit_offset or 0)

    def __repr__(self) -> str:
        bits = f" : {self.bit_size}" if self.bit_size else ""
        return f"<Member {self.name} @{self.offset}{bits} {type_name(self.type)!r}>"


@dataclass(eq=False, repr=False)
class CompositeType(CType):
    """Common part of struct and union; IS_DECLARATION marks an incomplete (opaque) type."""

    name: str | None
    byte_size: int
    members: list[Member] = field(default_factory=list)
    is_declaration: bool = False
    decl_file: str | None = None
    decl_line: int | None = None

    keyword = "struct"

    @property
    def size(self) -> int:
        return self.byte_size

    def member(self, name: str) -> Member | None:
        """The member NAME, looking through anonymous struct/union members like C does.

        For a member found inside an anonymous member, the returned Member's offset is
        relative to this type.
        """
        for m, base in self.iter_fields():
            if m.name == name:
                if base == 0:
                    return m
                return Member(m.name, m.type, m.offset + base, m.bit_size, m.bit_offset)
        return None

    def iter_fields(self) -> Iterator[tuple[Member, int]]:
        """(member, base offset) pairs, descending into anonymous members."""
        for m in self.members:
            yield m, 0
            if m.name is None:
                inner = strip_typedefs(m.type)
                if isinstance(inner, CompositeType):
                    for sub, base in inner.iter_fields():
                        yield sub, base + m.offset


@dataclass(eq=False, repr=False)
class StructType(CompositeType):
    keyword = "struct"


@dataclass(eq=False, repr=False)
class UnionType(CompositeType):
    keyword = "union"


@dataclass(frozen=True)
class Enumerator:
    name: str
    value: int


@dataclass(eq=False, repr=False)
class EnumType(CType):
    """An enum; IS_FLAG_ENUM follows gdb 13's rule (every value >= 0 with at most one bit set)
    so values print as `(A | B)`; UNDERLYING is the DW_AT_type if the compiler gave one."""

    name: str | None
    byte_size: int
    enumerators: list[Enumerator] = field(default_factory=list)
    is_flag_enum: bool = False
    is_unsigned: bool = True
    underlying: CType | None = None
    is_declaration: bool = False
    decl_file: str | None = None
    decl_line: int | None = None

    keyword = "enum"

    @property
    def size(self) -> int:
        return self.byte_size

    def name_of(self, value: int) -> str | None:
        for e in self.enumerators:
            if e.value == value:
                return e.name
        return None


@dataclass(eq=False, repr=False)
class TypedefType(CType):
    name: str
    target: CType
    decl_file: str | None = None
    decl_line: int | None = None

    @property
    def size(self) -> int:
        return self.target.size


@dataclass(eq=False, repr=False)
class QualifiedType(CType):
    """const/volatile/restrict/_Atomic applied to TARGET."""

    target: CType
    const: bool = False
    volatile: bool = False
    restrict: bool = False
    atomic: bool = False

    @property
    def size(self) -> int:
        return self.target.size


@dataclass(eq=False, repr=False)
class FunctionType(CType):
    """A function signature; PROTOTYPED distinguishes `int (void)` from K&R `int ()`."""

    return_type: CType
    params: list[CType] = field(default_factory=list)
    varargs: bool = False
    prototyped: bool = True

    @property
    def size(self) -> int:
        return 1   # gdb: sizeof a function is 1


# --------------------------------------------------------------------------- helpers

_QUALS = ("const", "volatile", "restrict", "atomic")


def _peel(t: CType) -> tuple[frozenset[str], CType]:
    """Split qualifier layers off T: (qualifier names, unqualified type)."""
    quals: set[str] = set()
    while isinstance(t, QualifiedType):
        quals.update(q for q in _QUALS if getattr(t, q))
        t = t.target
    return frozenset(quals), t


def _wrap(quals: frozenset[str], t: CType) -> CType:
    if not quals:
        return t
    return QualifiedType(t, **{q: True for q in quals})


def qualifiers(t: CType) -> frozenset[str]:
    """The qualifiers ('const', 'volatile', ...) applying to T itself, through typedefs."""
    return _peel(check_typedef(t))[0]


def check_typedef(t: CType) -> CType:
    """gdb's check_typedef: resolve typedefs at the top, keeping the qualifiers met on the way."""
    quals, bare = _peel(t)
    while isinstance(bare, TypedefType):
        q2, bare = _peel(bare.target)
        quals = quals | q2
    return _wrap(quals, bare)


def strip_typedefs(t: CType) -> CType:
    """The underlying concrete type: typedefs AND qualifiers removed at the top level."""
    while isinstance(t, (TypedefType, QualifiedType)):
        t = t.target
    return t


def strip_qualifiers(t: CType) -> CType:
    return _peel(t)[1]


def is_integral(t: CType) -> bool:
    t = strip_typedefs(t)
    return isinstance(t, EnumType) or (isinstance(t, BaseType) and not t.is_float)


def is_scalar(t: CType) -> bool:
    t = strip_typedefs(t)
    return isinstance(t, (BaseType, EnumType, PointerType))


def flag_enum_heuristic(values: list[int]) -> bool:
    """gdb 13 (dwarf2/read.c): a flag enum has no negative value and no multi-bit value."""
    return all(v >= 0 and bin(v).count("1") <= 1 for v in values)


_INT_WORDS = {"char", "short", "int", "long", "signed", "unsigned"}


def canonical_base_name(name: str) -> str:
    """gdb's canonical C spelling of an integer type name: "long unsigned int" -> "unsigned long".

    gdb runs DWARF names through its C++ name canonicalizer, which normalizes the
    integer keyword soup but leaves names it does not parse ("__int128 unsigned").
    """
    words = name.split()
    if not words or any(w not in _INT_WORDS for w in words):
        return name
    longs = words.count("long")
    unsigned = "unsigned" in words
    signed = "signed" in words
    if "char" in words:
        return "unsigned char" if unsigned else ("signed char" if signed else "char")
    if "short" in words:
        core = "short"
    elif longs >= 2:
        core = "long long"
    elif longs == 1:
        core = "long"
    else:
        core = "int"
    return f"unsigned {core}" if unsigned else core


# --------------------------------------------------------------------------- gdb's C printer
# A transcription of gdb 13's c-typeprint.c (c_print_type_1, c_type_print_base_1,
# c_type_print_varspec_prefix/suffix, c_type_print_args, c_type_print_modifier): SHOW > 0
# expands one more level of struct bodies and typedefs, SHOW <= 0 prints names,
# SHOW < 0 prints anonymous aggregates as `{...}`.

Resolver = Callable[[CompositeType | EnumType], CType | None]


def _name(t: CType) -> str | None:
    """gdb's type->name () of an unqualified type."""
    if isinstance(t, (BaseType, VoidType, TypedefType)):
        return t.name
    if isinstance(t, (CompositeType, EnumType)):
        return t.name
    return None


def _modifier(quals: frozenset[str], pre_space: bool, post_space: bool) -> str:
    words = [w for w, q in (("const", "const"), ("volatile", "volatile"),
                            ("restrict", "restrict"), ("_Atomic", "atomic")) if q in quals]
    if not words:
        return ""
    return (" " if pre_space else "") + " ".join(words) + (" " if post_space else "")


# gdb's flag types of the x86 registers: (bit, field name) as `ptype $eflags` lists them.
FLAG_FIELDS: dict[str, tuple[tuple[int, str], ...]] = {
    "i386_eflags": ((0, "CF"), (1, ""), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"),
                    (8, "TF"), (9, "IF"), (10, "DF"), (11, "OF"), (14, "NT"), (16, "RF"),
                    (17, "VM"), (18, "AC"), (19, "VIF"), (20, "VIP"), (21, "ID")),
    "i386_mxcsr": ((0, "IE"), (1, "DE"), (2, "ZE"), (3, "OE"), (4, "UE"), (5, "PE"),
                   (6, "DAZ"), (7, "IM"), (8, "DM"), (9, "ZM"), (10, "OM"), (11, "UM"),
                   (12, "PM"), (15, "FZ")),
}


def _dim_text(a: ArrayType) -> str:
    if a.is_variable_length(0):
        return "variable length"
    return "" if a.dims[0] is None else str(a.dims[0])


class _Printer:
    def __init__(self, resolver: Resolver | None) -> None:
        self.resolver = resolver

    def _complete(self, t: CType) -> CType:
        # gdb's check_typedef also replaces an opaque struct by its definition elsewhere.
        if self.resolver and isinstance(t, (CompositeType, EnumType)) and t.is_declaration:
            return self.resolver(t) or t
        return t

    def print_type(self, t: CType, varstring: str, show: int, level: int) -> str:
        if show > 0:
            t = check_typedef(t)
        quals, bare = _peel(t)
        out = self.base(t, show, level)
        is_decl = isinstance(bare, (PointerType, FunctionType)) or \
            (isinstance(bare, ArrayType) and not bare.vector)
        if varstring or ((show > 0 or _name(bare) is None) and is_decl):
            out += " "
        out += self.prefix(t, show, False, bool(varstring))
        out += varstring
        out += self.suffix(t, show, False)
        return out

    def base(self, t: CType, show: int, level: int) -> str:
        quals, bare = _peel(t)
        name = _name(bare)
        if show <= 0 and name is not None:
            # C spells tagged types with their keyword: "struct point", not "point".
            keyword = bare.keyword + " " if isinstance(bare, (CompositeType, EnumType)) else ""
            return _modifier(quals, False, True) + keyword + name
        quals, bare = _peel(check_typedef(t))
        bare = self._complete(bare)
        if isinstance(bare, FunctionType):
            return self.base(bare.return_type, show, level)
        if isinstance(bare, PointerType):
            return self.base(bare.target, show, level)
        if isinstance(bare, ArrayType):
            return self.base(bare.target, show, level)
        if isinstance(bare, CompositeType):
            return self.composite(bare, quals, show, level)
        if isinstance(bare, EnumType):
            return self.enum(bare, quals, show)
        if isinstance(bare, VoidType):
            return bare.name     # gdb prints no qualifier here: ptype `const void *` is `void *`
        if isinstance(bare, BaseType) and bare.encoding == "flags" and show > 0 and \
                bare.name in FLAG_FIELDS:
            body = "".join(f"{'':{level + 4}}bool {n + ' ' if n else ''}@{bit};\n"
                           for bit, n in FLAG_FIELDS[bare.name])
            return f"flag {bare.name} {{\n{body}{'':{level}}}}"
        return _modifier(quals, False, True) + (_name(bare) or "<unnamed type>")

    def composite(self, t: CompositeType, quals: frozenset[str], show: int, level: int) -> str:
        out = _modifier(quals, False, True) + t.keyword + " "
        if t.name is not None:
            out += t.name
            if show > 0:
                out += " "
        if show < 0:
            if t.name is None:
                out += "{...}"
        elif show > 0 or t.name is None:
            out += "{\n"
            if not t.members:
                note = "<incomplete type>" if t.is_declaration else "<no data fields>"
                out += " " * (level + 4) + note + "\n"
            for m in t.members:
                out += " " * (level + 4)
                out += self.print_type(m.type, m.name or "", show - 1, level + 4)
                if m.bit_size:
                    out += f" : {m.bit_size}"
                out += ";\n"
            out += " " * level + "}"
        return out

    def enum(self, t: EnumType, quals: frozenset[str], show: int) -> str:
        out = _modifier(quals, False, True) + "enum "
        if t.name is not None:
            out += t.name
            if show > 0:
                out += " "
        if show < 0:
            if t.name is None:
                out += "{...}"
        elif show > 0 or t.name is None:
            parts = []
            last = 0
            for e in t.enumerators:
                text = e.name
                if e.value != last:
                    text += f" = {e.value}"
                    last = e.value
                last += 1
                parts.append(text)
            out += "{" + ", ".join(parts) + "}"
        return out

    def prefix(self, t: CType, show: int, passed_ptr: bool, post_space: bool) -> str:
        quals, bare = _peel(t)
        if _name(bare) is not None and show <= 0:
            return ""
        if isinstance(bare, PointerType):
            return (self.prefix(bare.target, show, True, True) + "*"
                    + _modifier(quals, True, post_space))
        if isinstance(bare, FunctionType):
            return self.prefix(bare.return_type, show, False, False) + ("(" if passed_ptr else "")
        if isinstance(bare, ArrayType):
            return self.prefix(bare.target, show, False, post_space) + ("(" if passed_ptr else "")
        if isinstance(bare, TypedefType):
            return self.prefix(bare.target, show, passed_ptr, False)
        return ""

    def suffix(self, t: CType, show: int, passed_ptr: bool) -> str:
        quals, bare = _peel(t)
        if _name(bare) is not None and show <= 0:
            return ""
        if isinstance(bare, ArrayType):
            if bare.vector:
                return ((")" if passed_ptr else "") + " __attribute__ ((vector_size("
                        + _dim_text(bare) + ")))" + self.suffix(bare.target, show, False))
            return ((")" if passed_ptr else "") + "[" + _dim_text(bare) + "]"
                    + self.suffix(bare.target, show, False))
        if isinstance(bare, PointerType):
            return self.suffix(bare.target, show, True)
        if isinstance(bare, FunctionType):
            return ((")" if passed_ptr else "") + self.args(bare)
                    + self.suffix(bare.return_type, show, passed_ptr))
        if isinstance(bare, TypedefType):
            return self.suffix(bare.target, show, passed_ptr)
        return ""

    def args(self, f: FunctionType) -> str:
        parts = [self.print_type(p, "", 0, 0) for p in f.params]
        if parts and f.varargs:
            parts.append("...")
        elif not parts and f.prototyped:
            parts.append("void")
        return "(" + ", ".join(parts) + ")"


def format_type(t: CType, varstring: str = "", show: int = -1, level: int = 0,
                resolver: Resolver | None = None) -> str:
    """gdb's c_print_type: T declared as VARSTRING at expansion level SHOW.

    e.g. format_type(int_fn_ptr, "fp") -> "int (*fp)(int, int)"; `info variables` uses
    show=0, `whatis` -1, `ptype` 1.  RESOLVER completes opaque structs like gdb does.
    """
    return _Printer(resolver).print_type(t, varstring, show, level)


def type_name(t: CType) -> str:
    """gdb's name for T as shown in `whatis` and value prefixes: `struct point *`,
    `const char **`, `int (*)(int, int)`, `char [6]`, `unsigned long`."""
    return format_type(t, "", -1)


def ptype_text(t: CType, resolver: Resolver | None = None) -> str:
    """The output of gdb's `ptype EXPR` for a value of type T (typedefs expanded one level,
    struct/union/enum bodies shown)."""
    return "type = " + format_type(t, "", 1, 0, resolver)


def whatis_text(t: CType, names_type: bool = False) -> str:
    """The output of gdb's `whatis`. NAMES_TYPE is True when the user's expression was a
    type name itself: gdb then peels exactly one typedef level (`whatis myint3` -> myint2)."""
    if names_type:
        bare = _peel(t)[1]
        if isinstance(bare, TypedefType):
            t = bare.target
    return "type = " + format_type(t, "", -1)
