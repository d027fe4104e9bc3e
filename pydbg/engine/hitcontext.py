"""Breakpoint conditions and dprintf arguments compiled, once per breakpoint address, into
closures over frame 0's raw registers, so a hit that only reports and continues builds no frame.

A closure exists only where it provably computes what the general evaluator computes: integer
and pointer leaves at fixed locations, C's integer operators, checked on the hit that compiled it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from pydbg.arch.x86_64 import DWARF_TO_NAME, lookup_register
from pydbg.engine.evaluate import (
    BUILTINS, CHAR, INT, LONG, _convert_int, binop_promote, coerce_array, register_type,
    unop_promote,
)
from pydbg.engine.expr import nodes as n
from pydbg.engine.printf import ArgClass, Piece, convert_argument, render
from pydbg.engine.values import is_float, is_signed, type_size
from pydbg.errors import PydbgError
from pydbg.ptrace import Registers
from pydbg.symbols.debuginfo import LocListRef
from pydbg.symbols.dwarf_expr import decode
from pydbg.symbols.types import BaseType, CType, EnumType, PointerType, strip_typedefs, type_name

if TYPE_CHECKING:
    from pydbg.engine.data import Inspector
    from pydbg.engine.target import Target

MASK64 = (1 << 64) - 1
# A closure reads registers by user_regs_struct field; DWARF 0-16 are the general ones and rip.
_GPR_FIELD = {num: name for num, name in DWARF_TO_NAME.items() if num <= 16}
_INTEGER_ENCODINGS = ("signed", "unsigned", "signed_char", "unsigned_char", "boolean")
_ARITH = ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>")
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")

Raw = Any                                   # a ctypes user_regs_struct
Closure = Callable[[Raw], int]


class NotCompilable(Exception):
    """The expression (or this part of it) needs the general evaluator."""


class Fallback(Exception):
    """Raised by a closure on a hit it cannot decide (a division by zero, a shift gdb
    warns about, unreadable memory): that hit goes to the general evaluator."""


@dataclass(frozen=True)
class Compiled:
    """An integer- or pointer-valued expression: FN(raw registers) gives the value as the
    general evaluator's Value.as_int() would (signed per TYPE, within its size).
    SOURCE is the Python expression FN evaluates (for tests and `maint` output)."""
    type: CType
    fn: Closure
    is_pointer: bool
    source: str = ""
    bits: int = 64
    signed: bool = False


@dataclass(frozen=True)
class _Expr:
    """Python source computing a value of C TYPE, already reduced to its size and sign
    (BITS, SIGNED); CONST is its value when it does not depend on the hit."""
    type: CType
    src: str
    bits: int
    signed: bool
    const: int | None = None


def _scalar(t: CType) -> tuple[bool, int, bool]:
    """(is pointer, size, signed) of a type a closure can carry, else NotCompilable."""
    s = strip_typedefs(t)
    if isinstance(s, PointerType):
        return True, type_size(s), False
    if isinstance(s, EnumType) or (isinstance(s, BaseType) and
                                   s.encoding in _INTEGER_ENCODINGS):
        size = type_size(s)
        if 0 < size <= 8:
            return False, size, is_signed(s)
    raise NotCompilable(type_name(t))


def _reduce(src: str, bits: int, signed: bool) -> str:
    """SRC (any Python int) reduced to BITS as C converts: Evaluator's _convert_int."""
    mask = (1 << bits) - 1
    if not signed:
        return f"(({src}) & {mask:#x})"
    top = 1 << (bits - 1)
    return f"(((({src}) & {mask:#x}) ^ {top:#x}) - {top:#x})"


def _fits(e: _Expr, bits: int, signed: bool) -> bool:
    """Whether every value E can have is unchanged by reduction to (BITS, SIGNED)."""
    if e.const is not None:
        return _convert_int(e.const, bits, signed) == e.const
    if signed:
        return e.bits < bits or (e.signed and e.bits <= bits)
    return not e.signed and e.bits <= bits


def _convert(e: _Expr, bits: int, signed: bool) -> str:
    if _fits(e, bits, signed):
        return e.src
    return _reduce(e.src, bits, signed)


def _typed(t: CType, src: str, *, reduced: bool = False) -> _Expr:
    """An _Expr of type T from SRC (reduced to T's size and sign unless REDUCED says it is)."""
    _, size, signed = _scalar(t)
    bits = 8 * size
    return _Expr(t, src if reduced else _reduce(src, bits, signed), bits, signed)


def _constant(t: CType, value: int) -> _Expr:
    _, size, signed = _scalar(t)
    v = _convert_int(value, 8 * size, signed)
    return _Expr(t, f"({v})", 8 * size, signed, v)


# ------------------------------------------------------------------ DWARF locations

def _register_src(regno: int) -> str:
    field = _GPR_FIELD.get(regno)
    if field is None:
        raise NotCompilable(f"DWARF register {regno}")
    return f"raw.{field}"            # a c_ulong field: already an unsigned 64-bit int


@dataclass(frozen=True)
class _Location:
    kind: str             # "reg" (SRC is the register), "mem" (SRC is the address),
    src: str              # "value" (SRC is the value itself: DW_OP_stack_value)


def compile_dwarf(expr: bytes, *, bias: int, frame_base: Callable[[], str],
                  cfa: Callable[[], str]) -> _Location:
    """A location expression of the simple kinds compilers emit for scalars: one register,
    or an address (register/frame-base/CFA/static plus constants), optionally a value.
    Each source is a 64-bit unsigned value, as dwarf_expr's stack holds them."""
    ops = decode(expr)
    if len(ops) == 1 and (0x50 <= ops[0].opcode <= 0x6F or ops[0].opcode == 0x90):
        regno = ops[0].opcode - 0x50 if ops[0].opcode != 0x90 else int(ops[0].operands[0])
        return _Location("reg", _register_src(regno))
    stack: list[str] = []
    kind = "mem"
    for i, op in enumerate(ops):
        code, args = op.opcode, op.operands
        if 0x30 <= code <= 0x4F:
            stack.append(str(code - 0x30))
        elif 0x08 <= code <= 0x11:
            stack.append(str(int(args[0]) & MASK64))
        elif 0x70 <= code <= 0x8F:
            stack.append(_plus(_register_src(code - 0x70), int(args[0])))
        elif code == 0x92:
            stack.append(_plus(_register_src(int(args[0])), int(args[1])))
        elif code == 0x03:
            stack.append(str((int(args[0]) + bias) & MASK64))
        elif op.name == "DW_OP_fbreg":
            stack.append(_plus(frame_base(), int(args[0])))
        elif op.name == "DW_OP_call_frame_cfa":
            stack.append(cfa())
        elif op.name == "DW_OP_plus_uconst" and stack:
            stack.append(_plus(stack.pop(), int(args[0])))
        elif op.name in ("DW_OP_plus", "DW_OP_minus") and len(stack) >= 2:
            b, a = stack.pop(), stack.pop()
            sign = "-" if op.name == "DW_OP_minus" else "+"
            stack.append(f"(({a} {sign} {b}) & {MASK64:#x})")
        elif op.name == "DW_OP_stack_value" and i == len(ops) - 1 and stack:
            kind = "value"
        else:
            raise NotCompilable(op.name)
    if not stack:
        raise NotCompilable("empty DWARF stack")
    return _Location(kind, stack[-1])


def _plus(src: str, k: int) -> str:
    if k == 0:
        return src
    return f"(({src} + {k}) & {MASK64:#x})"


# ------------------------------------------------------------------ the compiler

class ExpressionCompiler:
    """Compiles parsed expressions against one hit's Inspector (frame 0 at a breakpoint
    address) into one Python function of the raw registers. What it reads (which
    variable, where it lives at this pc, the frame base and CFA rules) is decided here,
    once; the function only reads registers and memory."""

    def __init__(self, inspector: "Inspector", read_memory: Callable[[int, int], bytes]) -> None:
        self.inspector = inspector
        self.read_memory = read_memory
        self._cfa: str | None = None
        self._frame_base: str | None = None

    # ----- public -----

    def compile(self, node: n.Node) -> Compiled:
        e = self._node(node)
        is_pointer, _, _ = _scalar(e.type)
        return Compiled(e.type, self.function(e.src), is_pointer, e.src, e.bits, e.signed)

    def compile_variable(self, var) -> Compiled:
        """Variable VAR of this frame (a parameter, say) read where it lives at this pc."""
        reader = self.inspector.reader
        if reader is None or var.is_declaration:
            raise NotCompilable("no frame")
        e = self._variable(var, reader)
        is_pointer, _, _ = _scalar(e.type)
        return Compiled(e.type, self.function(e.src), is_pointer, e.src, e.bits, e.signed)

    def function(self, body: str, **names: Any) -> Callable[[Raw], Any]:
        """`lambda raw: BODY` as one function (no call per node), with the helpers
        generated sources use plus NAMES in scope."""
        read = self.read_memory

        def rd(address: int, size: int, signed: bool) -> int:
            data = read(address, size)
            if len(data) < size:
                raise Fallback()        # the evaluator reports the unreadable byte
            return int.from_bytes(data, "little", signed=signed)

        namespace = {"_rd": rd, "_div": _div, "_mod": _mod, "_shl": _shl, "_shr": _shr,
                     **names}
        code = compile(f"def _hit(raw):\n    return {body}\n", "<pydbg hit>", "exec")
        exec(code, namespace)            # noqa: S102 - source built from ints and field names
        return namespace["_hit"]

    def printf(self, pieces: Sequence[Piece], args: Sequence[Compiled]) -> Callable[[Raw], str]:
        """printf.render of PIECES with compiled integer/pointer ARGS, as one function."""
        names: dict[str, Any] = {"_render": render, "_convert": convert_argument,
                                 "_read": self.read_memory}
        parts: list[str] = []
        it = iter(args)
        for i, piece in enumerate(pieces):
            if piece.argclass is None:
                parts.append(repr(piece.text))
                continue
            arg = next(it)
            if piece.argclass.is_float:
                raise NotCompilable("float conversion")
            value = _Expr(arg.type, arg.source, arg.bits, arg.signed)
            if piece.argclass.is_integer and piece.conversion in "diu" and not piece.flags \
                    and piece.width is None and piece.precision is None:
                # _format_int of a plain %d/%i/%u: the value as C's int/long/short holds it.
                bits = 16 if piece.short else 32 if piece.argclass is ArgClass.INT else 64
                parts.append(f"str({_convert(value, bits, piece.conversion != 'u')})")
                continue
            names[f"_p{i}"] = piece
            parts.append(f"_render((_p{i},), (_convert(_p{i}, {arg.source}, _read),))")
        return self.function(" + ".join(parts) or "''", **names)

    # ----- frame facts -----

    def cfa(self) -> str:
        if self._cfa is None:
            frame = self.inspector.frame
            if frame is None or frame.level != 0 or frame.physical.sigtramp:
                raise NotCompilable("no frame 0")
            row = frame.physical.row
            if row is None or row.cfa.expression is not None or row.cfa.register is None:
                raise NotCompilable("CFA without a register rule")
            self._cfa = _plus(_register_src(row.cfa.register), int(row.cfa.offset))
        return self._cfa

    def frame_base(self) -> str:
        if self._frame_base is None:
            reader, ctx = self.inspector.reader, self.inspector.ctx
            function = ctx.physical_function if ctx is not None else None
            if reader is None or function is None or function.frame_base is None:
                raise NotCompilable("no frame base")
            expr = reader.expression_at(function.frame_base)
            if not expr:
                raise NotCompilable("frame base optimized out")
            # evaluate_value: a register location means the register's contents.
            self._frame_base = compile_dwarf(expr, bias=reader.frame.bias,
                                             frame_base=self._no_base, cfa=self.cfa).src
        return self._frame_base

    @staticmethod
    def _no_base() -> str:
        raise NotCompilable("DW_OP_fbreg in a frame base")

    # ----- nodes -----

    def _node(self, node: n.Node) -> _Expr:
        method = getattr(self, "_c_" + type(node).__name__, None)
        if method is None:
            raise NotCompilable(type(node).__name__)
        return method(node)

    def _c_IntLiteral(self, node: n.IntLiteral) -> _Expr:
        if node.imaginary or node.c_type.startswith("_Complex"):
            raise NotCompilable("complex literal")
        return _constant(BUILTINS.get(node.c_type, LONG), node.value)

    def _c_CharLiteral(self, node: n.CharLiteral) -> _Expr:
        if node.c_type != "char":
            raise NotCompilable("wide character")
        return _constant(CHAR, node.value)

    def _c_DollarVariable(self, node: n.DollarVariable) -> _Expr:
        reg = lookup_register(node.name)
        frame = self.inspector.frame
        if reg is None or frame is None or frame.level != 0:
            raise NotCompilable("not a register of frame 0")   # convenience variables change
        if reg.parent not in _USER_REGS:
            raise NotCompilable(f"${node.name} is not in user_regs_struct")
        src = f"raw.{reg.parent}"
        if reg.shift:
            src = f"({src} >> {reg.shift})"
        return _typed(register_type(node.name), f"({src} & {reg.mask:#x})")

    def _c_Identifier(self, node: n.Identifier) -> _Expr:
        insp = self.inspector
        name = node.name
        reader = insp.reader
        found = reader.lookup_local(name) if reader is not None else None
        if found is not None and not found[0].is_declaration:
            return self._variable(found[0], reader)
        # Inspector.lookup_variable's order: globals, then functions, then enumerators.
        g = insp.program.find_global(name, None, None, insp.ctx)
        if g is not None:
            var, bias, image = g
            return self._variable(var, insp._static_reader(image, bias))  # noqa: SLF001
        if found is not None:
            raise NotCompilable("declaration without a definition")
        if insp.program.find_function(name) is not None:
            raise NotCompilable("function")
        en = insp.program.find_enumerator(name, insp.ctx)
        if en is None:
            raise NotCompilable("unknown name")       # gdb's error comes from the evaluator
        t, value = en
        return _constant(t, value)

    def _variable(self, var, reader) -> _Expr:
        t = var.type
        _, size, signed = _scalar(t)
        if var.const_value is not None:
            c = var.const_value
            raw = c if isinstance(c, int) else int.from_bytes(bytes(c)[:size].ljust(size, b"\0"),
                                                              "little")
            return _constant(t, raw)
        if isinstance(var.location, LocListRef) and reader.frame.pc == 0:
            raise NotCompilable("location list outside a frame")
        expr = reader.expression_at(var.location)
        if not expr:
            raise NotCompilable("optimized out")
        loc = compile_dwarf(expr, bias=reader.frame.bias, frame_base=self.frame_base,
                            cfa=self.cfa)
        if loc.kind in ("reg", "value"):
            # The low SIZE bytes of the register (or of the 8-byte DW_OP_stack_value).
            return _typed(t, loc.src)
        return _typed(t, f"_rd({loc.src}, {size}, {signed})", reduced=True)

    def _c_Unary(self, node: n.Unary) -> _Expr:
        op = node.op
        if op not in ("-", "+", "~", "!"):
            raise NotCompilable(op)
        e = self._node(node.operand)
        is_pointer, _, _ = _scalar(e.type)
        if op == "!":
            return self._fold(INT, f"(0 if {e.src} else 1)", 32, True, (e,))
        if is_pointer:
            raise NotCompilable("pointer operand")
        rt = unop_promote(e.type)
        _, size, signed = _scalar(rt)
        bits = 8 * size
        src = _convert(e, bits, signed)      # as_int() of the operand, as rt holds it
        if op == "+":
            return self._fold(rt, src, bits, signed, (e,))
        return self._fold(rt, _reduce(f"{op}{src}", bits, signed), bits, signed, (e,))

    def _c_Binary(self, node: n.Binary) -> _Expr:
        op = node.op
        if op not in _ARITH and op not in _COMPARE and op not in ("&&", "||"):
            raise NotCompilable(op)
        a, b = self._node(node.left), self._node(node.right)
        lp, _, _ = _scalar(a.type)
        rp, _, _ = _scalar(b.type)
        if op == "&&":
            return self._fold(INT, f"(1 if {a.src} and {b.src} else 0)", 32, True, (a, b))
        if op == "||":
            return self._fold(INT, f"(1 if {a.src} or {b.src} else 0)", 32, True, (a, b))
        if op in _COMPARE:
            if lp or rp:
                # _as_address: a pointer's unsigned value, an integer's low 64 bits.
                x, y = _convert(a, 64, False), _convert(b, 64, False)
            else:
                result = binop_promote(a.type, b.type)
                if is_float(result):
                    raise NotCompilable("float comparison")
                bits = 8 * min(type_size(result), 16)
                x, y = _convert(a, bits, is_signed(result)), _convert(b, bits, is_signed(result))
            return self._fold(INT, f"(1 if {x} {op} {y} else 0)", 32, True, (a, b))
        if lp or rp:
            raise NotCompilable("pointer arithmetic")
        result = binop_promote(a.type, b.type)
        if is_float(result) or type_size(result) > 8:
            raise NotCompilable("result type")
        bits = 8 * type_size(result)
        signed = is_signed(result)
        x, y = _convert(a, bits, signed), _convert(b, bits, signed)
        if op in ("/", "%"):
            src = f"{'_div' if op == '/' else '_mod'}({x}, {y})"
        elif op in ("<<", ">>"):
            # The count is the right operand's own value (as_int), not converted.
            src = f"{'_shl' if op == '<<' else '_shr'}({x}, {b.src}, {bits})"
        else:
            src = f"({x} {op} {y})"
        return self._fold(result, _reduce(src, bits, signed), bits, signed, (a, b))

    @staticmethod
    def _fold(t: CType, src: str, bits: int, signed: bool, parts: tuple[_Expr, ...]) -> _Expr:
        """An _Expr, computed now when every part is a constant."""
        if all(p.const is not None for p in parts):
            try:
                value = eval(src, {"_div": _div, "_mod": _mod,   # noqa: S307 - ints only
                                   "_shl": _shl, "_shr": _shr})
            except Fallback:
                return _Expr(t, src, bits, signed)
            return _Expr(t, f"({value})", bits, signed, value)
        return _Expr(t, src, bits, signed)


_USER_REGS = frozenset(Registers.names)


def _div(x: int, y: int) -> int:
    """Evaluator.binop's C division (truncating); a zero divisor is the evaluator's
    "Division by zero" error."""
    if y == 0:
        raise Fallback()
    q = abs(x) // abs(y)
    return -q if (x < 0) != (y < 0) else q


def _mod(x: int, y: int) -> int:
    return x - _div(x, y) * y


def _shl(x: int, count: int, bits: int) -> int:
    if not 0 <= count < bits:
        raise Fallback()                # the evaluator warns and gives 0
    return x << count


def _shr(x: int, count: int, bits: int) -> int:
    if not 0 <= count < bits:
        raise Fallback()
    return x >> count


# ------------------------------------------------------------------ frame 0 of a hit

def hit_frame(target: "Target"):
    """Frame 0 of the breakpoint hit being decided (before any Stop exists): built as for
    a stop at the breakpoints there, so a breakpoint on an inlined function sees its frame,
    and shared by every condition, dprintf and trace probe of this hit."""
    from pydbg.engine.frames import FrameStack
    from pydbg.engine.stops import Stop, StopKind
    process = target.require_process()
    regs = process.get_registers()
    cached = getattr(target, "_hit_frames", None)
    # The Registers object lives exactly as long as this stop of this thread.
    if cached is not None and cached[0] is regs:
        return cached[1].frame(0)
    pc = regs.rip
    stop = Stop(StopKind.BREAKPOINT, process.current_tid, pc=pc, pid=process.pid)
    stop.breakpoints = target.breakpoints.at_address(pc)
    stack = FrameStack(target, target.registers(), stop)
    target._hit_frames = (regs, stack)
    return stack.frame(0)


def frame_is_fixed(frame) -> bool:
    """Whether frame 0 at this pc is the same whatever breakpoints are there: gdb hides an
    inlined call starting at the pc unless a breakpoint on it stopped us (frames.py), so
    there a closure (which knows no breakpoints) is not used."""
    if frame is None or frame.level != 0 or frame.physical.sigtramp:
        return False
    phys = frame.physical
    if phys.image is None:
        return False
    file_pc = phys.pc - phys.image.bias
    for block in phys.chain:
        if block.inlined and (block.entry_pc == file_pc or
                              any(lo == file_pc for lo, _ in block.ranges)):
            return False
    return True


# ------------------------------------------------------------------ per-address cache

@dataclass
class CompiledEntry:
    """What was compiled for one breakpoint address: COMPILED (one Compiled, or a list
    for dprintf arguments) is None while hits need the general evaluator; ATTEMPTS counts
    hits whose compilation did not validate. Closures depend on the process (a re-run
    moves everything) and its image list (a library load may bring a new definition)."""
    process: Any
    images: Any
    text: str
    compiled: Any = None
    attempts: int = 0

    def is_current(self, target: "Target", text: str) -> bool:
        return self.process is target.process and self.images is target.images and \
            self.text == text


MAX_ATTEMPTS = 3


def current_entry(cache: dict, address: int, target: "Target", text: str) -> CompiledEntry:
    """The entry for ADDRESS, replaced by an empty one when it is stale."""
    entry = cache.get(address)
    if entry is None or not entry.is_current(target, text):
        entry = cache[address] = CompiledEntry(target.process, target.images, text)
    return entry


def compile_checked(inspector: "Inspector", read_memory: Callable[[int, int], bytes],
                    node: n.Node, expected: Any, raw: Raw) -> Compiled | None:
    """NODE compiled for this hit, or None; it must give this hit's EXPECTED Value (the
    general evaluator's) exactly, type included, or it is not used."""
    try:
        compiled = ExpressionCompiler(inspector, read_memory).compile(node)
    except (NotCompilable, PydbgError):
        return None
    try:
        got = compiled.fn(raw)
        value = coerce_array(expected)
        want = value.as_int()
    except (Fallback, PydbgError):
        return None
    if type_name(compiled.type) != type_name(value.type):
        return None
    if compiled.is_pointer:
        want &= (1 << (8 * type_size(compiled.type))) - 1
    return compiled if got == want else None


__all__ = ["Compiled", "CompiledEntry", "ExpressionCompiler", "Fallback", "MAX_ATTEMPTS",
           "NotCompilable", "compile_checked", "compile_dwarf", "current_entry",
           "frame_is_fixed", "hit_frame"]
