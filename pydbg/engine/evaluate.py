"""Expression evaluation over a stopped target: registers, symbols, memory, integers.

This is the scalar core (issue: process control); typed DWARF variables plug in through
the `lookup_variable` hook of EvalScope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydbg.arch.x86_64 import lookup_register
from pydbg.engine.expr import nodes as n
from pydbg.engine.expr.parser import parse_expression
from pydbg.errors import ExpressionError, PydbgError

_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class ScalarType:
    """The C scalar types the scalar evaluator knows."""
    name: str
    size: int
    signed: bool
    kind: str = "int"          # int | char | bool | data_ptr | code_ptr | flags | float
    target: "ScalarType | None" = None   # pointee, for pointers

    def pointer_to(self) -> "ScalarType":
        return ScalarType(f"{self.name} *", 8, False, "data_ptr", self)


INT = ScalarType("int", 4, True)
UINT = ScalarType("unsigned int", 4, False)
LONG = ScalarType("long", 8, True)
ULONG = ScalarType("unsigned long", 8, False)
LONGLONG = ScalarType("long long", 8, True)
ULONGLONG = ScalarType("unsigned long long", 8, False)
CHAR = ScalarType("char", 1, True, "char")
VOID = ScalarType("void", 1, False, "void")
VOID_PTR = ScalarType("void *", 8, False, "data_ptr", VOID)
CODE_PTR = ScalarType("void (*)()", 8, False, "code_ptr")
DOUBLE = ScalarType("double", 8, True, "float")

BASE_TYPES = {t.name: t for t in [
    INT, UINT, LONG, ULONG, LONGLONG, ULONGLONG, CHAR, DOUBLE,
    ScalarType("signed char", 1, True, "char"), ScalarType("unsigned char", 1, False, "char"),
    ScalarType("short", 2, True), ScalarType("unsigned short", 2, False),
    ScalarType("_Bool", 1, False, "bool"), ScalarType("float", 4, True, "float"),
    VOID,
]}


@dataclass
class Value:
    """A typed value; address/register make it an lvalue that assignment can write."""
    type: ScalarType
    value: int | float
    address: int | None = None
    register: str | None = None
    convenience: str | None = None

    def as_int(self) -> int:
        if isinstance(self.value, float):
            return int(self.value)
        return self.value

    def truth(self) -> bool:
        return bool(self.value)


def _wrap(value: int, t: ScalarType) -> int:
    bits = 8 * t.size
    value &= (1 << bits) - 1
    if t.signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def make_int(value: int, t: ScalarType = INT) -> Value:
    return Value(t, _wrap(value, t))


@dataclass
class EvalScope:
    """What expressions can see: supplied by the engine for the selected frame."""
    read_register: Callable[[str], int] | None = None
    write_register: Callable[[str, int], None] | None = None
    read_memory: Callable[[int, int], bytes] | None = None
    write_memory: Callable[[int, bytes], None] | None = None
    lookup_symbol: Callable[[str], tuple[int, str] | None] | None = None  # -> (address, kind)
    lookup_variable: Callable[[str], Any] | None = None
    history: list[Value] = field(default_factory=list)
    convenience: dict[str, Value] = field(default_factory=dict)


class Evaluator:
    def __init__(self, scope: EvalScope) -> None:
        self.scope = scope

    def evaluate(self, text: str) -> Value:
        return self.eval(parse_expression(text, is_type_name=lambda name: name in BASE_TYPES))

    def eval(self, node: n.Node) -> Value:
        method = getattr(self, "_eval_" + type(node).__name__, None)
        if method is None:
            raise ExpressionError(f"Expressions of this kind are not supported yet: {node.text}")
        return method(node)

    # leaves
    def _eval_IntLiteral(self, node: n.IntLiteral) -> Value:
        return make_int(node.value, BASE_TYPES.get(node.c_type, LONG))

    def _eval_CharLiteral(self, node: n.CharLiteral) -> Value:
        return make_int(node.value, CHAR)

    def _eval_FloatLiteral(self, node: n.FloatLiteral) -> Value:
        return Value(DOUBLE, node.value)

    def _eval_DollarVariable(self, node: n.DollarVariable) -> Value:
        reg = lookup_register(node.name)
        if reg is not None:
            if self.scope.read_register is None:
                raise ExpressionError("No registers.")
            raw = self.scope.read_register(node.name)
            t = _register_type(reg)
            return Value(t, _wrap(raw, t), register=node.name)
        value = self.scope.convenience.get(node.name)
        if value is None:
            return Value(VOID, 0, convenience=node.name)
        return Value(value.type, value.value, convenience=node.name)

    def _eval_History(self, node: n.History) -> Value:
        history = self.scope.history
        if not history:
            if node.index <= 0:
                return Value(VOID, 0)
            raise ExpressionError("History is empty.")
        index = node.index if node.index > 0 else len(history) + node.index
        if not 1 <= index <= len(history):
            raise ExpressionError(f"History has not yet reached ${index}.")
        return history[index - 1]

    def _eval_Identifier(self, node: n.Identifier) -> Value:
        if self.scope.lookup_variable is not None:
            found = self.scope.lookup_variable(node.name)
            if found is not None:
                return found
        sym = self.scope.lookup_symbol(node.name) if self.scope.lookup_symbol else None
        if sym is None:
            raise ExpressionError(f"No symbol \"{node.name}\" in current context.")
        address, kind = sym
        if kind == "func":
            return Value(CODE_PTR, address, address=address)
        raise ExpressionError(f"'{node.name}' has unknown type; cast it to its declared type")

    # operators
    def _eval_Unary(self, node: n.Unary) -> Value:
        if node.op == "&":
            return self._address_of(node.operand)
        v = self.eval(node.operand)
        if node.op == "-":
            if v.type.kind == "float":
                return Value(v.type, -v.value)
            t = _promote(v.type)
            return make_int(-v.as_int(), t)
        if node.op == "+":
            return v
        if node.op == "!":
            return make_int(0 if v.truth() else 1)
        if node.op == "~":
            t = _promote(v.type)
            return make_int(~v.as_int(), t)
        if node.op == "*":
            return self._deref(v)
        if node.op in ("++", "--"):
            delta = 1 if node.op == "++" else -1
            return self._store(v, make_int(v.as_int() + delta, v.type))
        raise ExpressionError(f"Unsupported operator {node.op}")

    def _address_of(self, operand: n.Node) -> Value:
        if isinstance(operand, n.Identifier) and self.scope.lookup_symbol is not None and \
                (self.scope.lookup_variable is None or
                 self.scope.lookup_variable(operand.name) is None):
            sym = self.scope.lookup_symbol(operand.name)
            if sym is not None:
                t = CODE_PTR if sym[1] == "func" else VOID_PTR
                return Value(t, sym[0])
        v = self.eval(operand)
        if v.address is None:
            raise ExpressionError("Attempt to take address of value not located in memory.")
        return Value(v.type.pointer_to(), v.address)

    def _deref(self, v: Value) -> Value:
        if v.type.kind not in ("data_ptr", "code_ptr") and v.type.kind != "int":
            raise ExpressionError("Attempt to take contents of a non-pointer value.")
        target = v.type.target
        if v.type.kind == "int":
            target = LONG if v.type.size == 8 else INT
        if target is None or target.kind == "void":
            raise ExpressionError("Attempt to take contents of a non-pointer value.")
        address = v.as_int() & _MASK64
        return self._load(address, target)

    def _load(self, address: int, t: ScalarType) -> Value:
        if self.scope.read_memory is None:
            raise ExpressionError("No memory.")
        data = self.scope.read_memory(address, t.size)
        if t.kind == "float":
            import struct
            value = struct.unpack("<f" if t.size == 4 else "<d", data)[0]
            return Value(t, value, address=address)
        return Value(t, int.from_bytes(data, "little", signed=t.signed), address=address)

    def _eval_Binary(self, node: n.Binary) -> Value:
        if node.op == "&&":
            left = self.eval(node.left)
            return make_int(1 if left.truth() and self.eval(node.right).truth() else 0)
        if node.op == "||":
            left = self.eval(node.left)
            return make_int(1 if left.truth() or self.eval(node.right).truth() else 0)
        if node.op == ",":
            self.eval(node.left)
            return self.eval(node.right)
        left, right = self.eval(node.left), self.eval(node.right)
        return binary_op(node.op, left, right)

    def _eval_Assign(self, node: n.Assign) -> Value:
        target = self.eval(node.target)
        value = self.eval(node.value)
        if node.op != "=":
            value = binary_op(node.op[:-1], target, value)
        return self._store(target, value)

    def _store(self, target: Value, value: Value) -> Value:
        if target.convenience is not None:
            stored = Value(value.type, value.value)
            self.scope.convenience[target.convenience] = stored
            return stored
        if target.register is not None:
            if self.scope.write_register is None:
                raise ExpressionError("No registers.")
            raw = value.as_int() & ((1 << (8 * target.type.size)) - 1)
            self.scope.write_register(target.register, raw)
            return Value(target.type, _wrap(raw, target.type), register=target.register)
        if target.address is not None and self.scope.write_memory is not None:
            t = target.type
            if t.kind == "float":
                import struct
                data = struct.pack("<f" if t.size == 4 else "<d", float(value.value))
                new: int | float = float(value.value)
            else:
                new = _wrap(value.as_int(), t)
                data = (new & ((1 << (8 * t.size)) - 1)).to_bytes(t.size, "little")
            self.scope.write_memory(target.address, data)
            return Value(t, new, address=target.address)
        raise ExpressionError("Left operand of assignment is not an lvalue.")

    def _eval_Conditional(self, node: n.Conditional) -> Value:
        return self.eval(node.if_true if self.eval(node.condition).truth() else node.if_false)

    def _eval_Cast(self, node: n.Cast) -> Value:
        t = resolve_type(node.type.type)
        v = self.eval(node.operand)
        if t.kind == "float":
            return Value(t, float(v.value))
        return make_int(v.as_int(), t)

    def _eval_SizeOf(self, node: n.SizeOf) -> Value:
        if isinstance(node.operand, n.TypeName):
            size = resolve_type(node.operand.type).size
        else:
            size = self.eval(node.operand).type.size
        return make_int(size, ULONG)

    def _eval_Call(self, node: n.Call) -> Value:
        raise ExpressionError("Calling functions in the program is not supported by pydbg yet.")


def resolve_type(spec: Any) -> ScalarType:
    if isinstance(spec, n.PointerType):
        return resolve_type(spec.target).pointer_to()
    if isinstance(spec, n.BaseType) and spec.name in BASE_TYPES:
        return BASE_TYPES[spec.name]
    name = getattr(spec, "name", str(spec))
    raise ExpressionError(f"No symbol \"{name}\" in current context.")


def _register_type(reg: Any) -> ScalarType:
    kind = reg.format.value
    if kind == "data_ptr":
        return VOID_PTR
    if kind == "code_ptr":
        return CODE_PTR
    if kind == "flags":
        return ScalarType("i386_eflags", 4, False, "flags")
    return {8: LONG, 4: INT, 2: ScalarType("short", 2, True),
            1: ScalarType("int8_t", 1, True)}[reg.size]


def _promote(t: ScalarType) -> ScalarType:
    if t.kind in ("data_ptr", "code_ptr"):
        return LONG
    if t.size < 4 or t.kind in ("char", "bool", "flags"):
        return INT
    return t


def _common(a: ScalarType, b: ScalarType) -> ScalarType:
    a, b = _promote(a), _promote(b)
    if a.size != b.size:
        return a if a.size > b.size else b
    if not a.signed:
        return a
    return b if not b.signed else a


def binary_op(op: str, left: Value, right: Value) -> Value:
    lt, rt = left.type, right.type
    if "float" in (lt.kind, rt.kind):
        a, b = float(left.value), float(right.value)
        ops: dict[str, Callable[[float, float], Any]] = {
            "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
            "/": lambda x, y: x / y if y else _div_zero(),
        }
        cmp = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
        if op in cmp:
            return make_int(int(cmp[op]))
        if op in ops:
            return Value(DOUBLE, ops[op](a, b))
        raise ExpressionError("Integer only operation.")
    a, b = left.as_int(), right.as_int()
    # Pointer arithmetic scales by the pointee's size.
    if op in ("+", "-") and lt.kind == "data_ptr" and rt.kind != "data_ptr":
        size = lt.target.size if lt.target and lt.target.kind != "void" else 1
        return Value(lt, (a + (b if op == "+" else -b) * size) & _MASK64)
    if op == "+" and rt.kind == "data_ptr" and lt.kind != "data_ptr":
        size = rt.target.size if rt.target and rt.target.kind != "void" else 1
        return Value(rt, (b + a * size) & _MASK64)
    if op == "-" and lt.kind == "data_ptr" and rt.kind == "data_ptr":
        size = lt.target.size if lt.target and lt.target.kind != "void" else 1
        return make_int((a - b) // size, LONG)
    t = _common(lt, rt)
    if not t.signed:
        a &= (1 << (8 * t.size)) - 1
        b &= (1 << (8 * t.size)) - 1
    if op in ("==", "!=", "<", "<=", ">", ">="):
        result = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                  ">": a > b, ">=": a >= b}[op]
        return make_int(int(result))
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op in ("/", "%"):
        if b == 0:
            _div_zero()
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        r = q if op == "/" else a - q * b
    elif op == "<<":
        r = a << b
    elif op == ">>":
        r = a >> b
    elif op == "&":
        r = a & b
    elif op == "|":
        r = a | b
    elif op == "^":
        r = a ^ b
    else:
        raise ExpressionError(f"Operator {op} is not supported here.")
    return make_int(r, t)


def _div_zero() -> Any:
    raise ExpressionError("Division by zero")
