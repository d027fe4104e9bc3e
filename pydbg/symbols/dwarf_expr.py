"""DWARF expression decoder and evaluator (DWARF 2-5 plus the GNU extensions gcc emits).

Pure: registers, memory, frame base, CFA, entry values and .debug_addr come in as callbacks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

from pydbg.errors import SymbolError

MASK64 = (1 << 64) - 1


class DwarfExprError(SymbolError):
    """A DWARF expression is malformed or cannot be evaluated in this context."""


class UnknownOpError(DwarfExprError):
    """The expression uses an opcode this evaluator does not know."""

    def __init__(self, opcode: int) -> None:
        self.opcode = opcode
        # gdb's wording (dwarf2/expr.c).
        super().__init__(f"Unhandled dwarf expression opcode 0x{opcode:x}")


class OptimizedOutError(SymbolError):
    """The value depends on something the debugger cannot recover (e.g. an entry value)."""

    def __init__(self, message: str = "value has been optimized out") -> None:
        super().__init__(message)


# --------------------------------------------------------------------------- byte reading

class ByteReader:
    """Little-endian cursor over bytes with the LEB128 and fixed-size reads DWARF needs."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def _need(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise DwarfExprError("DWARF data truncated")

    def u8(self) -> int:
        self._need(1)
        v = self.data[self.pos]
        self.pos += 1
        return v

    def _fixed(self, fmt: str, n: int) -> int:
        self._need(n)
        v = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += n
        return v

    def s8(self) -> int:
        return self._fixed("<b", 1)

    def u16(self) -> int:
        return self._fixed("<H", 2)

    def s16(self) -> int:
        return self._fixed("<h", 2)

    def u32(self) -> int:
        return self._fixed("<I", 4)

    def s32(self) -> int:
        return self._fixed("<i", 4)

    def u64(self) -> int:
        return self._fixed("<Q", 8)

    def s64(self) -> int:
        return self._fixed("<q", 8)

    def uint(self, size: int) -> int:
        self._need(size)
        v = int.from_bytes(self.data[self.pos:self.pos + size], "little")
        self.pos += size
        return v

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.u8()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def sleb(self) -> int:
        result = shift = 0
        while True:
            b = self.u8()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result

    def bytes(self, n: int) -> bytes:
        self._need(n)
        v = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(v)

    def cstring(self) -> bytes:
        end = self.data.index(b"\0", self.pos)
        v = self.data[self.pos:end]
        self.pos = end + 1
        return bytes(v)


# --------------------------------------------------------------------------- opcodes

# name -> opcode; operand kinds: u1 s1 u2 s2 u4 s4 u8 s8 uleb sleb addr off block(uleb-counted)
_OPS: dict[int, tuple[str, tuple[str, ...]]] = {
    0x03: ("DW_OP_addr", ("addr",)),
    0x06: ("DW_OP_deref", ()),
    0x08: ("DW_OP_const1u", ("u1",)),
    0x09: ("DW_OP_const1s", ("s1",)),
    0x0A: ("DW_OP_const2u", ("u2",)),
    0x0B: ("DW_OP_const2s", ("s2",)),
    0x0C: ("DW_OP_const4u", ("u4",)),
    0x0D: ("DW_OP_const4s", ("s4",)),
    0x0E: ("DW_OP_const8u", ("u8",)),
    0x0F: ("DW_OP_const8s", ("s8",)),
    0x10: ("DW_OP_constu", ("uleb",)),
    0x11: ("DW_OP_consts", ("sleb",)),
    0x12: ("DW_OP_dup", ()),
    0x13: ("DW_OP_drop", ()),
    0x14: ("DW_OP_over", ()),
    0x15: ("DW_OP_pick", ("u1",)),
    0x16: ("DW_OP_swap", ()),
    0x17: ("DW_OP_rot", ()),
    0x18: ("DW_OP_xderef", ()),
    0x19: ("DW_OP_abs", ()),
    0x1A: ("DW_OP_and", ()),
    0x1B: ("DW_OP_div", ()),
    0x1C: ("DW_OP_minus", ()),
    0x1D: ("DW_OP_mod", ()),
    0x1E: ("DW_OP_mul", ()),
    0x1F: ("DW_OP_neg", ()),
    0x20: ("DW_OP_not", ()),
    0x21: ("DW_OP_or", ()),
    0x22: ("DW_OP_plus", ()),
    0x23: ("DW_OP_plus_uconst", ("uleb",)),
    0x24: ("DW_OP_shl", ()),
    0x25: ("DW_OP_shr", ()),
    0x26: ("DW_OP_shra", ()),
    0x27: ("DW_OP_xor", ()),
    0x28: ("DW_OP_bra", ("s2",)),
    0x29: ("DW_OP_eq", ()),
    0x2A: ("DW_OP_ge", ()),
    0x2B: ("DW_OP_gt", ()),
    0x2C: ("DW_OP_le", ()),
    0x2D: ("DW_OP_lt", ()),
    0x2E: ("DW_OP_ne", ()),
    0x2F: ("DW_OP_skip", ("s2",)),
    0x90: ("DW_OP_regx", ("uleb",)),
    0x91: ("DW_OP_fbreg", ("sleb",)),
    0x92: ("DW_OP_bregx", ("uleb", "sleb")),
    0x93: ("DW_OP_piece", ("uleb",)),
    0x94: ("DW_OP_deref_size", ("u1",)),
    0x95: ("DW_OP_xderef_size", ("u1",)),
    0x96: ("DW_OP_nop", ()),
    0x97: ("DW_OP_push_object_address", ()),
    0x98: ("DW_OP_call2", ("u2",)),
    0x99: ("DW_OP_call4", ("u4",)),
    0x9A: ("DW_OP_call_ref", ("off",)),
    0x9B: ("DW_OP_form_tls_address", ()),
    0x9C: ("DW_OP_call_frame_cfa", ()),
    0x9D: ("DW_OP_bit_piece", ("uleb", "uleb")),
    0x9E: ("DW_OP_implicit_value", ("block",)),
    0x9F: ("DW_OP_stack_value", ()),
    0xA0: ("DW_OP_implicit_pointer", ("off", "sleb")),
    0xA1: ("DW_OP_addrx", ("uleb",)),
    0xA2: ("DW_OP_constx", ("uleb",)),
    0xA3: ("DW_OP_entry_value", ("block",)),
    0xA4: ("DW_OP_const_type", ("uleb", "block1")),
    0xA5: ("DW_OP_regval_type", ("uleb", "uleb")),
    0xA6: ("DW_OP_deref_type", ("u1", "uleb")),
    0xA7: ("DW_OP_xderef_type", ("u1", "uleb")),
    0xA8: ("DW_OP_convert", ("uleb",)),
    0xA9: ("DW_OP_reinterpret", ("uleb",)),
    0xE0: ("DW_OP_GNU_push_tls_address", ()),
    0xF0: ("DW_OP_GNU_uninit", ()),
    0xF1: ("DW_OP_GNU_encoded_addr", ("encoded",)),
    0xF2: ("DW_OP_GNU_implicit_pointer", ("off", "sleb")),
    0xF3: ("DW_OP_GNU_entry_value", ("block",)),
    0xF4: ("DW_OP_GNU_const_type", ("uleb", "block1")),
    0xF5: ("DW_OP_GNU_regval_type", ("uleb", "uleb")),
    0xF6: ("DW_OP_GNU_deref_type", ("u1", "uleb")),
    0xF7: ("DW_OP_GNU_convert", ("uleb",)),
    0xF9: ("DW_OP_GNU_reinterpret", ("uleb",)),
    0xFA: ("DW_OP_GNU_parameter_ref", ("u4",)),
    0xFB: ("DW_OP_GNU_addr_index", ("uleb",)),
    0xFC: ("DW_OP_GNU_const_index", ("uleb",)),
    0xFD: ("DW_OP_GNU_variable_value", ("off",)),
}
for _i in range(32):
    _OPS[0x30 + _i] = (f"DW_OP_lit{_i}", ())
    _OPS[0x50 + _i] = (f"DW_OP_reg{_i}", ())
    _OPS[0x70 + _i] = (f"DW_OP_breg{_i}", ("sleb",))

OP_NAMES: dict[int, str] = {code: name for code, (name, _) in _OPS.items()}


@dataclass(frozen=True)
class Op:
    """One decoded operation: its byte offset in the expression, opcode, name and operands."""

    offset: int
    opcode: int
    name: str
    operands: tuple[int | bytes, ...]
    end: int  # offset of the next operation; DW_OP_skip/bra count from here


@lru_cache(maxsize=4096)
def _decode_cached(expr: bytes, address_size: int, offset_size: int) -> tuple[Op, ...]:
    r = ByteReader(expr)
    ops: list[Op] = []
    while not r.at_end():
        start = r.pos
        code = r.u8()
        entry = _OPS.get(code)
        if entry is None:
            raise UnknownOpError(code)
        name, kinds = entry
        operands: list[int | bytes] = []
        for kind in kinds:
            if kind == "uleb":
                operands.append(r.uleb())
            elif kind == "sleb":
                operands.append(r.sleb())
            elif kind == "addr":
                operands.append(r.uint(address_size))
            elif kind == "off":
                operands.append(r.uint(offset_size))
            elif kind == "block":
                operands.append(r.bytes(r.uleb()))
            elif kind == "block1":
                operands.append(r.bytes(r.u8()))
            elif kind == "encoded":
                # Only the absolute pointer encodings make sense in a location expression.
                r.u8()
                operands.append(r.uint(address_size))
            else:
                size = int(kind[1:])
                v = r.uint(size)
                if kind[0] == "s" and v >> (8 * size - 1):
                    v -= 1 << (8 * size)
                operands.append(v)
        ops.append(Op(start, code, name, tuple(operands), r.pos))
    return tuple(ops)


def decode(expr: bytes | Sequence[int], address_size: int = 8,
           offset_size: int = 4) -> tuple[Op, ...]:
    """Decode EXPR into operations; raises UnknownOpError for an opcode not in DWARF 2-5/GNU."""
    return _decode_cached(bytes(expr), address_size, offset_size)


# --------------------------------------------------------------------------- locations

@dataclass(frozen=True)
class Memory:
    """The object lives in target memory at ADDRESS (a runtime address)."""

    address: int


@dataclass(frozen=True)
class Register:
    """The object lives in DWARF register REGNO."""

    regno: int


@dataclass(frozen=True)
class Implicit:
    """The object has no location; DATA is its value (little-endian)."""

    data: bytes

    @property
    def value(self) -> int:
        return int.from_bytes(self.data, "little")


@dataclass(frozen=True)
class OptimizedOut:
    """The object (or this piece of it) is not available at this pc."""

    reason: str = ""


@dataclass(frozen=True)
class Piece:
    """SIZE_BITS bits of an object, taken from LOCATION starting BIT_OFFSET bits in."""

    location: "Memory | Register | Implicit | OptimizedOut"
    size_bits: int
    bit_offset: int = 0


@dataclass(frozen=True)
class Pieces:
    """An object split across several locations, lowest-addressed piece first."""

    pieces: tuple[Piece, ...]


Location = Memory | Register | Implicit | Pieces | OptimizedOut


@dataclass
class EvalContext:
    """What an expression may ask of the outside world; a missing callback is an error if used.

    read_register(regno) -> int and read_memory(address, size) -> bytes work on the frame the
    expression belongs to; load_bias relocates DW_OP_addr/addrx (file -> runtime addresses).
    """

    read_register: Callable[[int], int] | None = None
    read_memory: Callable[[int, int], bytes] | None = None
    frame_base: Callable[[], int] | None = None
    cfa: Callable[[], int] | None = None
    load_bias: int = 0
    # The value the expression block (usually DW_OP_regN) had on entry to the function;
    # raise OptimizedOutError when the caller's frame cannot tell.
    entry_value: Callable[[bytes], int] | None = None
    # .debug_addr lookup: index -> file address (DW_OP_addrx/constx and their GNU forms).
    read_address_index: Callable[[int], int] | None = None
    # TLS offset (in the module's TLS block) -> runtime address.
    tls_address: Callable[[int], int] | None = None
    # DW_OP_GNU_parameter_ref: DIE offset of a formal parameter -> its value at the call site.
    parameter_ref: Callable[[int], int] | None = None
    # DW_OP_call2/call4/call_ref: DIE offset -> that DIE's DW_AT_location expression.
    call: Callable[[int], bytes] | None = None
    push_object_address: Callable[[], int] | None = None
    address_size: int = 8
    offset_size: int = 4


def _need(callback: Callable | None, what: str) -> Callable:
    if callback is None:
        raise DwarfExprError(f"DWARF expression needs {what}, which is not available here")
    return callback


def _signed(v: int) -> int:
    return v - (1 << 64) if v >> 63 else v


@dataclass
class _State:
    stack: list[int] = field(default_factory=list)
    kind: str = "memory"  # memory | register | implicit | stack_value | unavailable
    regno: int = 0
    data: bytes = b""
    reason: str = ""
    touched: bool = False  # any op since the last piece

    def pop(self) -> int:
        if not self.stack:
            raise DwarfExprError("DWARF expression stack underflow")
        return self.stack.pop()

    def top(self) -> int:
        if not self.stack:
            raise DwarfExprError("DWARF expression stack underflow")
        return self.stack[-1]


_LOCATION_ENDERS = {"DW_OP_piece", "DW_OP_bit_piece"}


def _check_alone(ops: tuple[Op, ...], i: int) -> None:
    if i + 1 < len(ops) and ops[i + 1].name not in _LOCATION_ENDERS:
        # gdb's wording (dwarf2/expr.c: dwarf_expr_require_composition).
        raise DwarfExprError(
            f"DWARF-2 expression error: `{ops[i].name}' operations must be used either alone "
            "or in conjunction with DW_OP_piece or DW_OP_bit_piece.")


def _read_uint(ctx: EvalContext, address: int, size: int) -> int:
    data = _need(ctx.read_memory, "target memory")(address, size)
    return int.from_bytes(data[:size], "little")


def _run(expr: bytes, ctx: EvalContext, initial_stack: Sequence[int],
         pieces: list[Piece], depth: int = 0) -> _State:
    ops = decode(expr, ctx.address_size, ctx.offset_size)
    by_offset = {op.offset: i for i, op in enumerate(ops)}
    st = _State(stack=[v & MASK64 for v in initial_stack])
    push = st.stack.append
    i = 0
    steps = 0
    while i < len(ops):
        steps += 1
        if steps > 100000:
            raise DwarfExprError("DWARF expression does not terminate")
        op = ops[i]
        code, name, args = op.opcode, op.name, op.operands
        i += 1
        if name not in _LOCATION_ENDERS:
            st.touched = True
        if 0x30 <= code <= 0x4F:
            push(code - 0x30)
        elif 0x50 <= code <= 0x6F or code == 0x90:
            _check_alone(ops, i - 1)
            st.kind, st.regno = "register", (code - 0x50 if code != 0x90 else int(args[0]))
        elif 0x70 <= code <= 0x8F:
            reg = _need(ctx.read_register, "registers")(code - 0x70)
            push((reg + int(args[0])) & MASK64)
        elif code == 0x92:  # bregx
            reg = _need(ctx.read_register, "registers")(int(args[0]))
            push((reg + int(args[1])) & MASK64)
        elif code == 0x03 or code == 0xF1:  # addr, GNU_encoded_addr
            push((int(args[0]) + ctx.load_bias) & MASK64)
        elif code in (0xA1, 0xFB):  # addrx, GNU_addr_index
            addr = _need(ctx.read_address_index, ".debug_addr")(int(args[0]))
            push((addr + ctx.load_bias) & MASK64)
        elif code in (0xA2, 0xFC):  # constx, GNU_const_index: not relocated (TLS offsets)
            push(_need(ctx.read_address_index, ".debug_addr")(int(args[0])) & MASK64)
        elif 0x08 <= code <= 0x11:
            push(int(args[0]) & MASK64)
        elif name == "DW_OP_dup":
            push(st.top())
        elif name == "DW_OP_drop":
            st.pop()
        elif name == "DW_OP_over":
            if len(st.stack) < 2:
                raise DwarfExprError("DWARF expression stack underflow")
            push(st.stack[-2])
        elif name == "DW_OP_pick":
            n = int(args[0])
            if n >= len(st.stack):
                raise DwarfExprError("DWARF expression stack underflow")
            push(st.stack[-1 - n])
        elif name == "DW_OP_swap":
            a, b = st.pop(), st.pop()
            push(a)
            push(b)
        elif name == "DW_OP_rot":
            a, b, c = st.pop(), st.pop(), st.pop()
            push(a)
            push(c)
            push(b)
        elif name in ("DW_OP_deref", "DW_OP_deref_size", "DW_OP_GNU_deref_type",
                      "DW_OP_deref_type"):
            size = ctx.address_size if name == "DW_OP_deref" else int(args[0])
            push(_read_uint(ctx, st.pop(), size))
        elif name in ("DW_OP_xderef", "DW_OP_xderef_size", "DW_OP_xderef_type"):
            # x86-64 has a single address space: ignore the space identifier.
            size = ctx.address_size if name == "DW_OP_xderef" else int(args[0])
            addr = st.pop()
            st.pop()
            push(_read_uint(ctx, addr, size))
        elif name == "DW_OP_abs":
            push(abs(_signed(st.pop())) & MASK64)
        elif name == "DW_OP_neg":
            push(-st.pop() & MASK64)
        elif name == "DW_OP_not":
            push(~st.pop() & MASK64)
        elif name == "DW_OP_plus_uconst":
            push((st.pop() + int(args[0])) & MASK64)
        elif name in _BINARY:
            b, a = st.pop(), st.pop()
            push(_BINARY[name](a, b) & MASK64)
        elif name == "DW_OP_skip":
            i = _jump(by_offset, op.end + int(args[0]), len(expr), len(ops))
        elif name == "DW_OP_bra":
            if st.pop() != 0:
                i = _jump(by_offset, op.end + int(args[0]), len(expr), len(ops))
        elif name == "DW_OP_fbreg":
            push((_need(ctx.frame_base, "a frame base")() + int(args[0])) & MASK64)
        elif name == "DW_OP_call_frame_cfa":
            push(_need(ctx.cfa, "the CFA")() & MASK64)
        elif name in ("DW_OP_form_tls_address", "DW_OP_GNU_push_tls_address"):
            push(_need(ctx.tls_address, "thread-local storage")(st.pop()) & MASK64)
        elif name == "DW_OP_push_object_address":
            push(_need(ctx.push_object_address, "an object address")() & MASK64)
        elif name in ("DW_OP_nop", "DW_OP_GNU_uninit"):
            pass
        elif name in ("DW_OP_call2", "DW_OP_call4", "DW_OP_call_ref"):
            if depth > 16:
                raise DwarfExprError("DWARF expression calls nest too deeply")
            sub = _need(ctx.call, "DIE lookups")(int(args[0]))
            if sub:
                inner = _run(sub, ctx, st.stack, pieces, depth + 1)
                st.stack = inner.stack
                push = st.stack.append
        elif name == "DW_OP_stack_value":
            _check_alone(ops, i - 1)
            st.kind = "stack_value"
        elif name == "DW_OP_implicit_value":
            _check_alone(ops, i - 1)
            st.kind, st.data = "implicit", bytes(args[0])
        elif name in ("DW_OP_implicit_pointer", "DW_OP_GNU_implicit_pointer"):
            _check_alone(ops, i - 1)
            st.kind = "unavailable"
            st.reason = f"implicit pointer to DIE {int(args[0]):#x}+{int(args[1])}"
        elif name in ("DW_OP_entry_value", "DW_OP_GNU_entry_value"):
            if ctx.entry_value is None:
                raise OptimizedOutError()
            push(ctx.entry_value(bytes(args[0])) & MASK64)
        elif name == "DW_OP_GNU_parameter_ref":
            if ctx.parameter_ref is None:
                raise OptimizedOutError()
            push(ctx.parameter_ref(int(args[0])) & MASK64)
        elif name in ("DW_OP_const_type", "DW_OP_GNU_const_type"):
            # Typed stack entries are kept as plain integers (their type is not tracked).
            push(int.from_bytes(bytes(args[1])[:8], "little"))
        elif name in ("DW_OP_regval_type", "DW_OP_GNU_regval_type"):
            push(_need(ctx.read_register, "registers")(int(args[0])) & MASK64)
        elif name in ("DW_OP_convert", "DW_OP_GNU_convert", "DW_OP_reinterpret",
                      "DW_OP_GNU_reinterpret"):
            push(st.pop())
        elif name in _LOCATION_ENDERS:
            size_bits = int(args[0]) * 8 if name == "DW_OP_piece" else int(args[0])
            bit_offset = int(args[1]) if name == "DW_OP_bit_piece" else 0
            pieces.append(Piece(_piece_location(st), size_bits, bit_offset))
            st.kind, st.touched = "memory", False
        else:
            # DW_OP_GNU_variable_value needs a whole variable evaluated from its DIE.
            raise DwarfExprError(f"{name} is not supported")
    return st


def _piece_location(st: _State) -> Memory | Register | Implicit | OptimizedOut:
    if not st.touched:
        return OptimizedOut("piece without a location")
    if st.kind == "register":
        return Register(st.regno)
    if st.kind == "stack_value":
        return Implicit(st.pop().to_bytes(8, "little"))
    if st.kind == "implicit":
        return Implicit(st.data)
    if st.kind == "unavailable":
        return OptimizedOut(st.reason)
    return Memory(st.pop())


def _jump(by_offset: dict[int, int], target: int, length: int, count: int) -> int:
    if target == length:
        return count
    if target not in by_offset:
        raise DwarfExprError("DW_OP_skip/DW_OP_bra target is not an operation boundary")
    return by_offset[target]


def _div(a: int, b: int) -> int:
    if b == 0:
        raise DwarfExprError("Division by zero")
    sa, sb = _signed(a), _signed(b)
    q = abs(sa) // abs(sb)
    return q if (sa < 0) == (sb < 0) else -q


def _mod(a: int, b: int) -> int:
    if b == 0:
        raise DwarfExprError("Division by zero")
    return a % b


_BINARY: dict[str, Callable[[int, int], int]] = {
    "DW_OP_and": lambda a, b: a & b,
    "DW_OP_or": lambda a, b: a | b,
    "DW_OP_xor": lambda a, b: a ^ b,
    "DW_OP_plus": lambda a, b: a + b,
    "DW_OP_minus": lambda a, b: a - b,
    "DW_OP_mul": lambda a, b: a * b,
    "DW_OP_div": _div,
    "DW_OP_mod": _mod,
    "DW_OP_shl": lambda a, b: a << b if b < 64 else 0,
    "DW_OP_shr": lambda a, b: a >> b if b < 64 else 0,
    "DW_OP_shra": lambda a, b: _signed(a) >> min(b, 63),
    "DW_OP_eq": lambda a, b: int(_signed(a) == _signed(b)),
    "DW_OP_ne": lambda a, b: int(_signed(a) != _signed(b)),
    "DW_OP_lt": lambda a, b: int(_signed(a) < _signed(b)),
    "DW_OP_le": lambda a, b: int(_signed(a) <= _signed(b)),
    "DW_OP_gt": lambda a, b: int(_signed(a) > _signed(b)),
    "DW_OP_ge": lambda a, b: int(_signed(a) >= _signed(b)),
}


def evaluate_location(expr: bytes | Sequence[int], ctx: EvalContext,
                      initial_stack: Sequence[int] = ()) -> Location:
    """Evaluate a location description; unavailable entry values give OptimizedOut."""
    expr = bytes(expr)
    if not expr:
        return OptimizedOut("empty location")
    pieces: list[Piece] = []
    try:
        st = _run(expr, ctx, initial_stack, pieces)
    except OptimizedOutError as e:
        return OptimizedOut(str(e))
    if pieces:
        return Pieces(tuple(pieces))
    if st.kind == "register":
        return Register(st.regno)
    if st.kind == "stack_value":
        return Implicit(st.top().to_bytes(8, "little"))
    if st.kind == "implicit":
        return Implicit(st.data)
    if st.kind == "unavailable":
        return OptimizedOut(st.reason)
    return Memory(st.top())


def evaluate_value(expr: bytes | Sequence[int], ctx: EvalContext,
                   initial_stack: Sequence[int] = ()) -> int:
    """Evaluate EXPR for a single integer (CFI rules, DW_AT_frame_base, array bounds).

    A register location yields the register's contents, so DW_AT_frame_base = DW_OP_reg6
    means "the frame base is the value of rbp".
    """
    expr = bytes(expr)
    if not expr:
        raise DwarfExprError("empty DWARF expression")
    st = _run(expr, ctx, initial_stack, [])
    if st.kind == "register":
        return _need(ctx.read_register, "registers")(st.regno) & MASK64
    if st.kind == "implicit":
        return int.from_bytes(st.data[:8], "little")
    if st.kind == "unavailable":
        raise OptimizedOutError()
    return st.top()


def format_expr(expr: bytes | Sequence[int], address_size: int = 8) -> str:
    """Render EXPR as 'DW_OP_breg7 (rsp): 8; DW_OP_deref' style text (close to readelf's)."""
    parts = []
    for op in decode(expr, address_size):
        args = []
        for a in op.operands:
            args.append(bytes(a).hex() if isinstance(a, bytes) else str(a))
        parts.append(op.name + (": " + " ".join(args) if args else ""))
    return "; ".join(parts)
