"""Typed values over the DWARF C type model: lazy contents, lvalues, optimized-out bits.

A Value knows its CType, where it lives (memory, a register, DWARF pieces, a convenience
variable) so assignment and watchpoints can use it, and which of its bits are unavailable.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Callable

from pydbg.errors import ExpressionError, MemoryAccessError
from pydbg.symbols.types import (
    ArrayType, BaseType, CompositeType, CType, EnumType, FunctionType, PointerType, VoidType,
    strip_typedefs,
)

MASK64 = (1 << 64) - 1


# --------------------------------------------------------------------------- lvalues

@dataclass(frozen=True)
class MemoryLval:
    """The object is in target memory at ADDRESS (runtime address)."""
    address: int


@dataclass(frozen=True)
class RegisterLval:
    """The object is (the low bytes of) DWARF register REGNO of the value's frame."""
    regno: int


@dataclass(frozen=True)
class UserRegisterLval:
    """A `$name` register (or part of one: $eax, $al) of the selected frame."""
    name: str


@dataclass(frozen=True)
class ConvenienceLval:
    """A convenience variable `$name`; assigning replaces its value."""
    name: str


@dataclass(frozen=True)
class PiecesLval:
    """An object assembled from DWARF pieces: ((kind, where, size_bits, bit_offset), ...)
    with kind 'memory' (where = address), 'register' (regno), 'implicit' or 'optimized'."""
    pieces: tuple[tuple[str, object, int, int], ...]


Lval = MemoryLval | RegisterLval | UserRegisterLval | ConvenienceLval | PiecesLval


@dataclass(frozen=True)
class Access:
    """How values reach the target; a missing callback means "not available here"."""
    read_memory: Callable[[int, int], bytes] | None = None
    write_memory: Callable[[int, bytes], None] | None = None
    # DWARF register number -> raw little-endian bytes of the register in the value's frame.
    read_register: Callable[[int], bytes] | None = None
    write_register: Callable[[int, bytes], None] | None = None
    write_user_register: Callable[[str, int], None] | None = None


NO_ACCESS = Access()


class OptimizedOutValueError(ExpressionError):
    def __init__(self) -> None:
        super().__init__("value has been optimized out")


# --------------------------------------------------------------------------- the value

@dataclass(eq=False)
class Value:
    """A C value of TYPE. Contents are read on first use (LAZY) through ACCESS.

    OFFSET is the byte offset of this object inside its LVAL (a member of a struct held
    in a register, say); BITPOS/BITSIZE locate a bitfield inside the bytes at OFFSET.
    UNAVAILABLE lists [start, end) bit ranges that are optimized out.
    """

    type: CType
    lval: Lval | None = None
    access: Access = field(default=NO_ACCESS, repr=False)
    offset: int = 0
    bitpos: int = 0
    bitsize: int = 0
    _contents: bytes | None = field(default=None, repr=False)
    unavailable: tuple[tuple[int, int], ...] = ()
    # set when the value is of a pointer with gdb's "synthetic pointer" (implicit pointer)
    note: str | None = None
    name: str | None = None        # the variable this value was read from, for messages
    readonly: bool = False         # value history entries keep their address but are fixed
    # the DWARF pieces (for PiecesLval) are read through this
    _pieces_reader: Callable[[], tuple[bytes, tuple[tuple[int, int], ...]]] | None = \
        field(default=None, repr=False)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_bytes(cls, t: CType, data: bytes, lval: Lval | None = None,
                   access: Access = NO_ACCESS) -> "Value":
        size = type_size(t)
        data = bytes(data[:size]).ljust(size, b"\0")
        return cls(t, lval, access, _contents=data)

    @classmethod
    def at(cls, t: CType, address: int, access: Access) -> "Value":
        """The object of type T at ADDRESS (read lazily)."""
        return cls(t, MemoryLval(address & MASK64), access)

    @classmethod
    def from_int(cls, t: CType, n: int) -> "Value":
        size = type_size(t)
        if size == 0:
            return cls(t, _contents=b"")
        return cls(t, _contents=(n & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))

    @classmethod
    def from_float(cls, t: CType, x: float) -> "Value":
        return cls(t, _contents=float_to_bytes(x, type_size(t)))

    @classmethod
    def optimized_out(cls, t: CType, lval: Lval | None = None) -> "Value":
        size = type_size(t)
        return cls(t, lval, _contents=bytes(size), unavailable=((0, 8 * size),))

    # ----------------------------------------------------------------- facts
    @property
    def size(self) -> int:
        return type_size(self.type)

    @property
    def address(self) -> int | None:
        """The runtime address of the object when it lives in memory (watchpoints use it)."""
        if isinstance(self.lval, MemoryLval):
            return (self.lval.address + self.offset) & MASK64
        return None

    @property
    def is_bitfield(self) -> bool:
        return self.bitsize > 0

    @property
    def is_lazy(self) -> bool:
        return self._contents is None

    @property
    def is_optimized_out(self) -> bool:
        """True when any bit is unavailable (gdb prints scalars as <optimized out> then)."""
        if self._contents is None and self._pieces_reader is not None:
            self.fetch()
        return bool(self.unavailable)

    @property
    def entirely_optimized_out(self) -> bool:
        if not self.is_optimized_out:
            return False
        bits = 8 * self.size if not self.bitsize else self.bitsize
        covered = sum(min(e, bits) - max(s, 0) for s, e in self.unavailable if e > 0 and s < bits)
        return covered >= bits

    def bits_unavailable(self, start: int, length: int) -> bool:
        if self._contents is None and self._pieces_reader is not None:
            self.fetch()
        return any(s < start + length and e > start for s, e in self.unavailable)

    # ----------------------------------------------------------------- contents
    def fetch(self) -> bytes:
        """The object's bytes (a bitfield: its value as bytes of its declared type)."""
        if self._contents is not None:
            return self._contents
        size = self.size
        lval = self.lval
        if self.bitsize:
            raw = self._read_raw(self.offset, (self.bitpos + self.bitsize + 7) // 8)
            n = int.from_bytes(raw, "little") >> self.bitpos
            n &= (1 << self.bitsize) - 1
            if is_signed(self.type) and n >> (self.bitsize - 1):
                n -= 1 << self.bitsize
            self._contents = (n & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            return self._contents
        if size == 0:
            self._contents = b""
            return b""
        if isinstance(lval, MemoryLval) or isinstance(lval, RegisterLval) or \
                isinstance(lval, PiecesLval):
            self._contents = self._read_raw(self.offset, size)
            return self._contents
        raise ExpressionError("value is not available")

    def _read_raw(self, offset: int, size: int) -> bytes:
        lval = self.lval
        if isinstance(lval, MemoryLval):
            if self.access.read_memory is None:
                raise MemoryAccessError(lval.address + offset)
            data = self.access.read_memory((lval.address + offset) & MASK64, size)
            if len(data) < size:
                raise MemoryAccessError(lval.address + offset + len(data))
            return bytes(data[:size])
        if isinstance(lval, RegisterLval):
            if self.access.read_register is None:
                raise ExpressionError("No registers.")
            data = self.access.read_register(lval.regno)
            return bytes(data[offset:offset + size]).ljust(size, b"\0")
        if isinstance(lval, PiecesLval) and self._pieces_reader is not None:
            data, unavailable = self._pieces_reader()
            if unavailable and not self.unavailable:
                self.unavailable = tuple((s - 8 * offset, e - 8 * offset) for s, e in unavailable
                                         if e > 8 * offset and s < 8 * (offset + size))
            return bytes(data[offset:offset + size]).ljust(size, b"\0")
        raise ExpressionError("value is not available")

    @property
    def contents(self) -> bytes:
        return self.fetch()

    def as_int(self) -> int:
        """The value as a Python int (signed per its type); floats are truncated."""
        t = strip_typedefs(self.type)
        if isinstance(t, BaseType) and t.is_float:
            return int(self.as_float())
        if self.is_optimized_out:
            raise OptimizedOutValueError()
        data = self.fetch()
        if isinstance(t, (CompositeType, ArrayType)):
            raise ExpressionError("Value can't be converted to integer.")
        return int.from_bytes(data, "little", signed=is_signed(self.type))

    @property
    def value(self) -> int | float:
        """The scalar as a Python number (floats for float types)."""
        t = strip_typedefs(self.type)
        if isinstance(t, BaseType) and t.is_float:
            return self.as_float()
        return self.as_int()

    def truth(self) -> bool:
        return self.is_true()

    def as_unsigned(self) -> int:
        return self.as_int() & ((1 << (8 * max(self.size, 1))) - 1)

    def as_float(self) -> float:
        t = strip_typedefs(self.type)
        if isinstance(t, BaseType) and t.is_float:
            if self.is_optimized_out:
                raise OptimizedOutValueError()
            return bytes_to_float(self.fetch()[:float_part_size(t)], float_part_size(t))
        return float(self.as_int())

    def as_fraction(self):
        """The exact value as a Fraction (None for inf/nan); long doubles keep 64 bits."""
        from fractions import Fraction
        t = strip_typedefs(self.type)
        if isinstance(t, BaseType) and t.is_float:
            data = self.fetch()
            if float_part_size(t) == 10:
                if _x87_special(data) is not None:
                    return None
                return x87_to_fraction(data[:10])
            x = self.as_float()
            if x != x or x in (float("inf"), float("-inf")):
                return None
            return Fraction(x)
        return Fraction(self.as_int())

    def is_true(self) -> bool:
        t = strip_typedefs(self.type)
        if isinstance(t, BaseType) and t.is_float:
            return self.as_float() != 0.0
        if isinstance(t, (CompositeType, ArrayType)) and not isinstance(t, ArrayType):
            raise ExpressionError("Attempt to take contents of a non-pointer value.")
        return self.as_int() != 0

    # ----------------------------------------------------------------- parts
    def component(self, t: CType, byte_offset: int, bitpos: int = 0,
                  bitsize: int = 0) -> "Value":
        """A sub-object (member, element) BYTE_OFFSET bytes in; lazy when the parent is."""
        size = type_size(t)
        start_bit = 8 * byte_offset + bitpos
        length = bitsize or 8 * size
        unavailable = tuple((max(s - start_bit, 0), min(e - start_bit, length))
                            for s, e in self.unavailable
                            if s < start_bit + length and e > start_bit)
        if self._contents is None and self.lval is not None and \
                not isinstance(self.lval, PiecesLval):
            return Value(t, self.lval, self.access, self.offset + byte_offset, bitpos, bitsize,
                         unavailable=unavailable, readonly=self.readonly)
        parent = self.fetch()
        if bitsize:
            raw = parent[byte_offset:byte_offset + (bitpos + bitsize + 7) // 8]
            n = (int.from_bytes(raw, "little") >> bitpos) & ((1 << bitsize) - 1)
            if is_signed(t) and n >> (bitsize - 1):
                n -= 1 << bitsize
            data = (n & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        else:
            data = parent[byte_offset:byte_offset + size].ljust(size, b"\0")
        return Value(t, self.lval, self.access, self.offset + byte_offset, bitpos, bitsize,
                     _contents=data, unavailable=self.unavailable and unavailable,
                     readonly=self.readonly)

    def with_type(self, t: CType) -> "Value":
        """The same object seen as type T (gdb's value_cast of lvalues, e.g. arrays)."""
        v = Value(t, self.lval, self.access, self.offset, self.bitpos, self.bitsize,
                  unavailable=self.unavailable, note=self.note,
                  _pieces_reader=self._pieces_reader)
        if self._contents is not None:
            size = type_size(t)
            v._contents = self._contents[:size].ljust(size, b"\0")
        return v

    def history_copy(self) -> "Value":
        """gdb's record_latest_value: contents fetched and frozen; the address is kept
        (so `p &$1` works) but assignments are refused."""
        data = self.fetch()
        return Value(self.type, self.lval if isinstance(self.lval, MemoryLval) else None,
                     self.access, self.offset, self.bitpos, self.bitsize, _contents=data,
                     unavailable=self.unavailable, note=self.note, readonly=True)

    def copy_not_lval(self) -> "Value":
        """A non-lvalue copy of the current contents (history entries)."""
        data = self.fetch()
        return Value(self.type, None, self.access, _contents=data,
                     unavailable=self.unavailable, note=self.note)


def scalar_value(name: str, size: int, signed: bool, kind: str, number: int | float) -> Value:
    """A value of a scalar described by words (kind: int, char, bool, float, data_ptr,
    code_ptr, enum), for callers that do not hold a DWARF type (e.g. `finish`)."""
    if kind == "float":
        return Value.from_float(BaseType(name, size, "float"), float(number))
    if kind in ("data_ptr", "code_ptr"):
        target: CType = FunctionType(VoidType(), [], False, False) if kind == "code_ptr" \
            else VoidType()
        return Value.from_int(PointerType(target, size), int(number))
    encoding = {"char": "signed_char" if signed else "unsigned_char",
                "bool": "boolean"}.get(kind, "signed" if signed else "unsigned")
    return Value.from_int(BaseType(name, size, encoding), int(number))


# --------------------------------------------------------------------------- type facts

def type_size(t: CType) -> int:
    try:
        return t.size
    except NotImplementedError:
        return 0


def is_signed(t: CType) -> bool:
    t = strip_typedefs(t)
    if isinstance(t, BaseType):
        return t.is_signed or (t.encoding == "float")
    if isinstance(t, EnumType):
        return not t.is_unsigned
    return False


def is_float(t: CType) -> bool:
    t = strip_typedefs(t)
    return isinstance(t, BaseType) and t.encoding == "float"


def is_pointer(t: CType) -> bool:
    return isinstance(strip_typedefs(t), PointerType)


def is_integer(t: CType) -> bool:
    t = strip_typedefs(t)
    return isinstance(t, EnumType) or (isinstance(t, BaseType) and not t.is_float
                                       and t.encoding != "unknown")


def is_bool(t: CType) -> bool:
    t = strip_typedefs(t)
    return isinstance(t, BaseType) and t.encoding == "boolean"


def is_char(t: CType) -> bool:
    """gdb's one-byte textual integer types (char, signed char, unsigned char, int8_t)."""
    t = strip_typedefs(t)
    if isinstance(t, BaseType) and t.name in ("int8_t", "uint8_t") and \
            t.encoding in ("signed", "unsigned"):
        return False    # gdb's builtin int8_t (what `x` examines through) is no char
    return isinstance(t, BaseType) and t.byte_size == 1 and \
        t.encoding in ("signed_char", "unsigned_char", "signed", "unsigned", "UTF")


def is_aggregate(t: CType) -> bool:
    return isinstance(strip_typedefs(t), (CompositeType, ArrayType))


def float_part_size(t: BaseType) -> int:
    """Bytes of the IEEE format a float type uses (long double: 10-byte x87 in 16)."""
    if t.byte_size == 16 and t.encoding == "float":
        return 10
    return t.byte_size


# --------------------------------------------------------------------------- floats

def bytes_to_float(data: bytes, size: int) -> float:
    if size == 4:
        return struct.unpack("<f", data[:4])[0]
    if size == 8:
        return struct.unpack("<d", data[:8])[0]
    if size == 10:
        return float(x87_to_decimal(data[:10])) if not _x87_special(data) else \
            _x87_special(data)  # type: ignore[return-value]
    if size == 2:
        return struct.unpack("<e", data[:2])[0]
    raise ExpressionError(f"Cannot handle a float of {size} bytes")


def float_to_bytes(x: float, size: int) -> bytes:
    if size == 4:
        try:
            return struct.pack("<f", x)
        except OverflowError:
            return struct.pack("<f", float("inf") if x > 0 else float("-inf"))
    if size == 8:
        return struct.pack("<d", x)
    if size in (10, 16):
        return decimal_to_x87(x).ljust(size, b"\0")
    if size == 2:
        return struct.pack("<e", x)
    raise ExpressionError(f"Cannot handle a float of {size} bytes")


def _x87_special(data: bytes) -> float | None:
    se = int.from_bytes(data[8:10], "little")
    exp = se & 0x7FFF
    mant = int.from_bytes(data[:8], "little")
    if exp == 0x7FFF:
        if mant & ((1 << 63) - 1) == 0:
            return float("-inf") if se >> 15 else float("inf")
        return float("nan")
    return None


def x87_to_decimal(data: bytes) -> Decimal:
    """The exact value of an x87 80-bit extended float."""
    se = int.from_bytes(data[8:10], "little")
    sign = -1 if se >> 15 else 1
    exp = se & 0x7FFF
    mant = int.from_bytes(data[:8], "little")
    if exp == 0:
        exp = 1
    e = exp - 16383 - 63
    with localcontext() as ctx:
        ctx.prec = 200
        if e >= 0:
            return Decimal(sign * mant * (1 << e))
        return Decimal(sign * mant) / (Decimal(2) ** (-e))


def x87_to_fraction(data: bytes):
    from fractions import Fraction
    se = int.from_bytes(data[8:10], "little")
    sign = -1 if se >> 15 else 1
    exp = se & 0x7FFF
    mant = int.from_bytes(data[:8], "little")
    if exp == 0:
        exp = 1
    return sign * Fraction(mant) * Fraction(2) ** (exp - 16383 - 63)


def fraction_to_x87(r) -> bytes:
    """The x87 80-bit value nearest the rational R (round half to even)."""
    if r == 0:
        return bytes(10)
    sign = 0x8000 if r < 0 else 0
    r = abs(r)
    e = r.numerator.bit_length() - r.denominator.bit_length()
    # Find e with 2**63 <= r / 2**(e-63) < 2**64.
    while True:
        scaled = r / (2 ** (e - 63)) if e - 63 >= 0 else r * (2 ** (63 - e))
        if scaled >= 2 ** 64:
            e += 1
        elif scaled < 2 ** 63:
            e -= 1
        else:
            break
    mant, rem = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * rem
    if twice > scaled.denominator or (twice == scaled.denominator and mant & 1):
        mant += 1
        if mant == 2 ** 64:
            mant, e = 2 ** 63, e + 1
    exp = e + 16383
    if exp >= 0x7FFF:
        return (1 << 63).to_bytes(8, "little") + (0x7FFF | sign).to_bytes(2, "little")
    if exp <= 0:
        return bytes(8) + sign.to_bytes(2, "little")    # denormals: flushed (rare in gdb use)
    return mant.to_bytes(8, "little") + (exp | sign).to_bytes(2, "little")


def decimal_to_x87(x: float) -> bytes:
    """An x87 80-bit value (exactly representing the double X)."""
    import math
    if x == 0:
        return (b"\0" * 8) + ((0x8000 if math.copysign(1, x) < 0 else 0).to_bytes(2, "little"))
    if math.isinf(x):
        return (1 << 63).to_bytes(8, "little") + ((0x7FFF | (0x8000 if x < 0 else 0))
                                                  .to_bytes(2, "little"))
    if math.isnan(x):
        return (3 << 62).to_bytes(8, "little") + (0x7FFF).to_bytes(2, "little")
    m, e = math.frexp(abs(x))       # x = m * 2**e, 0.5 <= m < 1
    mant = int(m * (1 << 64))       # exact: a double has 53 bits
    exp = e - 1 + 16383
    se = exp | (0x8000 if x < 0 else 0)
    return mant.to_bytes(8, "little") + se.to_bytes(2, "little")


__all__ = [
    "Access", "ConvenienceLval", "Lval", "MemoryLval", "NO_ACCESS", "OptimizedOutValueError",
    "PiecesLval", "RegisterLval", "UserRegisterLval", "Value", "bytes_to_float",
    "float_part_size", "float_to_bytes", "is_aggregate", "is_bool", "is_char", "is_float",
    "is_integer", "is_pointer", "is_signed", "type_size", "x87_to_decimal",
]
