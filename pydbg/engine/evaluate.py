"""gdb's C expression evaluator over typed Values: arithmetic with C promotions, pointers,
casts, members, `@`, sizeof, assignment, registers, convenience variables and history.

Pure: variables, types and target access reach it through the callbacks of an EvalScope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from pydbg.arch.x86_64 import RegFormat, lookup_register
from pydbg.engine.expr import nodes as n
from pydbg.engine.expr.parser import parse_expression
from pydbg.engine.values import (
    MASK64, NO_ACCESS, Access, ConvenienceLval, MemoryLval, PiecesLval, RegisterLval,
    UserRegisterLval, Value, fraction_to_x87, is_float, is_integer, is_signed,
    type_size,
)
from pydbg.errors import ExpressionError, PydbgError
from pydbg.symbols.types import (
    ArrayType, BaseType, CompositeType, CType, EnumType, FunctionType, PointerType,
    QualifiedType, TypedefType, VoidType, strip_typedefs, type_name,
)

# --------------------------------------------------------------------------- builtin types


def _base(name: str, size: int, encoding: str) -> BaseType:
    return BaseType(name, size, encoding)


VOID = VoidType()
INT = _base("int", 4, "signed")
UINT = _base("unsigned int", 4, "unsigned")
LONG = _base("long", 8, "signed")
ULONG = _base("unsigned long", 8, "unsigned")
LONGLONG = _base("long long", 8, "signed")
ULONGLONG = _base("unsigned long long", 8, "unsigned")
SHORT = _base("short", 2, "signed")
USHORT = _base("unsigned short", 2, "unsigned")
CHAR = _base("char", 1, "signed_char")
SCHAR = _base("signed char", 1, "signed_char")
UCHAR = _base("unsigned char", 1, "unsigned_char")
BOOL = _base("_Bool", 1, "boolean")
FLOAT = _base("float", 4, "float")
DOUBLE = _base("double", 8, "float")
LONGDOUBLE = _base("long double", 16, "float")
INT128 = _base("__int128", 16, "signed")
UINT128 = _base("unsigned __int128", 16, "unsigned")
EFLAGS = _base("i386_eflags", 4, "flags")
VOID_PTR = PointerType(VOID)
CODE_PTR = PointerType(FunctionType(VOID, [], False, False))

BUILTINS: dict[str, CType] = {t.name: t for t in [
    INT, UINT, LONG, ULONG, LONGLONG, ULONGLONG, SHORT, USHORT, CHAR, SCHAR, UCHAR, BOOL,
    FLOAT, DOUBLE, LONGDOUBLE, INT128, UINT128]}
BUILTINS["void"] = VOID
BUILTINS["complex"] = _base("complex", 8, "complex")
BUILTINS["double complex"] = _base("double complex", 16, "complex")
_LITERAL_TYPES = {"wchar_t": INT, "char16_t": USHORT, "char32_t": UINT}

_REG_TYPES: dict[str, CType] = {
    "int64_t": TypedefType("int64_t", LONG), "int32_t": TypedefType("int32_t", INT),
    "int16_t": TypedefType("int16_t", SHORT), "int8_t": TypedefType("int8_t", SCHAR),
    "uint64_t": TypedefType("uint64_t", ULONG), "long": LONG,
}


def register_type(name: str) -> CType:
    """The type gdb gives `$NAME` on amd64."""
    reg = lookup_register(name)
    assert reg is not None
    if reg.format is RegFormat.DATA_PTR:
        return VOID_PTR
    if reg.format is RegFormat.CODE_PTR:
        return CODE_PTR
    if reg.format is RegFormat.FLAGS:
        return EFLAGS
    return _REG_TYPES.get(reg.type_name, LONG)


class UnreadableVariable(ExpressionError):
    """A variable whose value cannot be had here while its type can: a thread-local one
    without a process (gdb's "Cannot read `NAME' without registers") or without storage
    in this thread yet. whatis, ptype and sizeof still see its TYPE, as gdb's
    EVAL_AVOID_SIDE_EFFECTS never reads the variable."""

    def __init__(self, message: str, t: CType) -> None:
        super().__init__(message)
        self.type = t


# --------------------------------------------------------------------------- the scope

@dataclass
class EvalScope:
    """What an expression can see, supplied by the engine for the selected frame."""

    access: Access = NO_ACCESS
    # name -> Value of a variable, function or enumerator visible here, or None
    lookup_variable: Callable[[str], Value | None] | None = None
    # ('file.c',) / ('func',), name -> Value (gdb's `'file.c'::var`, `func::var`)
    lookup_scoped: Callable[[tuple[str, ...], str], Value | None] | None = None
    lookup_entry_value: Callable[[str], Value] | None = None
    # ELF symbol without debug info: (runtime address, "func" | "object" ...)
    lookup_symbol: Callable[[str], tuple[int, str] | None] | None = None
    find_type: Callable[[str], CType | None] | None = None
    find_tagged: Callable[[str, str], CType | None] | None = None
    is_type_name: Callable[[str], bool] | None = None
    read_register: Callable[[str], int] | None = None
    write_register: Callable[[str, int], None] | None = None
    # $st0, $mxcsr, $xmm0, $ymm0...: a typed Value, or None if NAME is no such register
    special_register: Callable[[str], Value | None] | None = None
    history: list[Value] = field(default_factory=list)
    convenience: dict[str, Value] = field(default_factory=dict)
    warn: Callable[[str], None] | None = None
    # Starts a call of a function in the program (engine/infcall.py); None: no process.
    call_function: Callable[[], "FunctionCaller"] | None = None


class FunctionCaller(Protocol):
    """What a function call in an expression needs from the engine (engine/infcall.py)."""

    def function_name(self, address: int) -> str: ...

    def resolve_ifunc(self, address: int, name: str
                      ) -> tuple[int, FunctionType | None] | None:
        """For a GNU indirect function NAME: the function its resolver picks, its type."""

    def place(self, data: bytes) -> int:
        """Copy DATA (a string literal argument) into the program's memory: its address."""

    def call(self, address: int, args: list[Value], return_type: CType,
             name: str) -> bytes | None:
        """Run the function; the bytes of its RETURN_TYPE value (None for void)."""


class Evaluator:
    """Evaluates parsed expressions; AVOID_SIDE_EFFECTS (whatis, ptype, sizeof) computes
    types without reading or writing the target where it can."""

    def __init__(self, scope: EvalScope, avoid_side_effects: bool = False) -> None:
        self.scope = scope
        self.avoid = avoid_side_effects

    # ----------------------------------------------------------------- entry points
    def parse(self, text: str) -> n.Node:
        pred = self._is_type_name
        return parse_expression(text, is_type_name=pred)

    def _is_type_name(self, name: str) -> bool:
        if name in _LITERAL_TYPES:
            return self.scope.find_type is not None and self.scope.find_type(name) is not None
        if self.scope.is_type_name is not None:
            # A variable of the same name hides the typedef, as in C.
            if self.scope.lookup_variable is not None:
                try:
                    if self.scope.lookup_variable(name) is not None:
                        return False
                except UnreadableVariable:
                    return False
                except PydbgError:
                    pass
            return self.scope.is_type_name(name)
        return False

    def evaluate(self, text: str) -> Value:
        return self.eval(self.parse(text))

    def eval(self, node: n.Node) -> Value:
        method = getattr(self, "_eval_" + type(node).__name__, None)
        if method is None:
            raise ExpressionError(f"Expressions of this kind are not supported: {node.text}")
        return method(node)

    def type_of(self, node: n.Node) -> CType:
        """The type of NODE (a type name gives the type itself) without side effects."""
        if isinstance(node, n.TypeName):
            return self.resolve_type(node.type)
        saved = self.avoid
        self.avoid = True
        try:
            return self.eval(node).type
        finally:
            self.avoid = saved

    # ----------------------------------------------------------------- types
    def resolve_type(self, spec: Any) -> CType:
        if isinstance(spec, n.TypeName):
            spec = spec.type
        if isinstance(spec, n.PointerType):
            return _qualify(PointerType(self.resolve_type(spec.target)), spec.qualifiers)
        if isinstance(spec, n.ArrayType):
            return ArrayType(self.resolve_type(spec.element), [spec.length])
        if isinstance(spec, n.FunctionType):
            params = [self.resolve_type(p) for p in spec.params]
            if len(params) == 1 and isinstance(params[0], VoidType):
                params = []
            # C's `()` declares no prototype: gdb prints `void (*)()`, not `(void)`.
            prototyped = bool(spec.params) or spec.varargs
            return FunctionType(self.resolve_type(spec.result), params, spec.varargs,
                                prototyped)
        if isinstance(spec, n.BaseType):
            t: CType | None
            if spec.kind == "builtin":
                t = BUILTINS.get(spec.name)
                if t is None and self.scope.find_type is not None:
                    t = self.scope.find_type(spec.name)
                if t is None:
                    raise ExpressionError(f"No symbol \"{spec.name}\" in current context.")
            elif spec.kind == "typedef":
                t = self.scope.find_type(spec.name) if self.scope.find_type else None
                if t is None:
                    t = _LITERAL_TYPES.get(spec.name)
                if t is None:
                    raise ExpressionError(f"No symbol \"{spec.name}\" in current context.")
            else:
                t = self.scope.find_tagged(spec.kind, spec.name) if self.scope.find_tagged \
                    else None
                if t is None:
                    raise ExpressionError(f"No {spec.kind} type named {spec.name}.")
            return _qualify(t, spec.qualifiers)
        raise ExpressionError("Invalid type.")

    # ----------------------------------------------------------------- leaves
    def _eval_IntLiteral(self, node: n.IntLiteral) -> Value:
        t = BUILTINS.get(node.c_type.removeprefix("_Complex "), LONG)
        return Value.from_int(t, node.value)

    def _eval_FloatLiteral(self, node: n.FloatLiteral) -> Value:
        t = BUILTINS.get(node.c_type, DOUBLE)
        return Value.from_float(t, node.value)

    def _eval_CharLiteral(self, node: n.CharLiteral) -> Value:
        t = CHAR if node.c_type == "char" else self._named_type(node.c_type)
        return Value.from_int(t, node.value)

    def _named_type(self, name: str) -> CType:
        found = self.scope.find_type(name) if self.scope.find_type else None
        return found or _LITERAL_TYPES.get(name, INT)

    def _eval_StringLiteral(self, node: n.StringLiteral) -> Value:
        elt = CHAR if node.element_type == "char" else self._named_type(node.element_type)
        width = type_size(elt)
        data = b"".join((u & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
                        for u in (*node.elements, 0))
        return Value.from_bytes(ArrayType(elt, [len(node.elements) + 1]), data)

    def _eval_TypeName(self, node: n.TypeName) -> Value:
        raise ExpressionError("Attempt to use a type name as an expression")

    def _eval_Identifier(self, node: n.Identifier) -> Value:
        name = node.name
        if self.scope.lookup_variable is not None:
            try:
                found = self.scope.lookup_variable(name)
            except UnreadableVariable as exc:
                found = self._type_only(exc)
            if found is not None:
                return found
        sym = self.scope.lookup_symbol(name) if self.scope.lookup_symbol else None
        if sym is not None:
            address, kind = sym
            if kind == "func":
                ft = FunctionType(INT, [], False, False)
                v = Value(ft, MemoryLval(address), self.scope.access)
                v.note = "text"
                return v
            raise ExpressionError(f"'{name}' has unknown type; cast it to its declared type")
        if self.scope.is_type_name is not None and self.scope.is_type_name(name):
            raise ExpressionError("Attempt to use a type name as an expression")
        raise ExpressionError(f"No symbol \"{name}\" in current context.")

    def _eval_ScopedName(self, node: n.ScopedName) -> Value:
        found = None
        if self.scope.lookup_scoped is not None:
            try:
                found = self.scope.lookup_scoped(node.scope, node.name)
            except UnreadableVariable as exc:
                found = self._type_only(exc)
        if found is None:
            if not node.scope:
                return self._eval_Identifier(n.Identifier(name=node.name))
            scope = node.scope[-1]
            if scope.endswith((".c", ".h")) or "." in scope:
                raise ExpressionError(f"No symbol \"{scope}\" in current context.")
            raise ExpressionError(f"No symbol \"{node.name}\" in function \"{scope}\".")
        return found

    def _type_only(self, exc: UnreadableVariable) -> Value:
        """A variable that cannot be read here: its type is enough without side effects."""
        if not self.avoid:
            raise exc
        return Value(exc.type, MemoryLval(0), self.scope.access)

    def _eval_EntryValue(self, node: n.EntryValue) -> Value:
        if self.scope.lookup_entry_value is None:
            raise ExpressionError(f"No symbol \"{node.name}\" in current context.")
        return self.scope.lookup_entry_value(node.name)

    def _eval_DollarVariable(self, node: n.DollarVariable) -> Value:
        name = node.name
        reg = lookup_register(name)
        if reg is not None:
            t = register_type(name)
            if self.scope.read_register is None:
                if self.avoid:
                    return Value.from_int(t, 0)
                raise ExpressionError("No registers.")
            raw = self.scope.read_register(name)
            v = Value.from_int(t, raw)
            v.lval = UserRegisterLval(name)
            return v
        if self.scope.special_register is not None:
            special = self.scope.special_register(name)
            if special is not None:
                return special
        value = self.scope.convenience.get(name)
        if value is None:
            return Value(VOID, ConvenienceLval(name), _contents=b"")
        v = value.copy_not_lval()
        v.lval = ConvenienceLval(name)
        return v

    def _eval_History(self, node: n.History) -> Value:
        # gdb's access_value_history: $, $$N count back from the end, $N from the start.
        history = self.scope.history
        index = node.index if node.index > 0 else len(history) + node.index
        if index <= 0:
            if node.index == 0:
                raise ExpressionError("The history is empty.")
            raise ExpressionError(f"History does not go back to $${-node.index}.")
        if index > len(history):
            raise ExpressionError(f"History has not yet reached ${index}.")
        return history[index - 1]

    # ----------------------------------------------------------------- unary
    def _eval_Unary(self, node: n.Unary) -> Value:
        op = node.op
        if op == "&":
            v = self.eval(node.operand)
            if isinstance(node.operand, (n.Identifier, n.ScopedName)):
                return self._address_of_variable(v, node.operand.name)
            return self.address_of(v)
        if op == "*":
            return self.deref(self.eval(node.operand))
        if op in ("++", "--"):
            target = self.eval(node.operand)
            one = Value.from_int(INT, 1)
            new = self.binop("+" if op == "++" else "-", target, one)
            return self.assign(target, new)
        v = coerce_array(self.eval(node.operand))
        t = strip_typedefs(v.type)
        if op == "!":
            if isinstance(t, CompositeType):
                raise ExpressionError("Argument to negate operation not a number.")
            if self.avoid:
                return Value.from_int(INT, 0)
            return Value.from_int(INT, 0 if v.is_true() else 1)
        if isinstance(t, PointerType) or not _is_number(t):
            what = {"-": "Argument to arithmetic operation not a number or boolean.",
                    "+": "Argument to positive operation not a number.",
                    "~": "Argument to complement operation not an integer, boolean."}[op]
            raise ExpressionError(what)
        if is_float(t):
            if op == "~":
                raise ExpressionError("Argument to complement operation not an integer, "
                                      "boolean.")
            rt = v.type if not isinstance(t, BaseType) else t
            if self.avoid:
                return Value.from_float(rt, 0.0)
            x = v.as_float()
            return Value.from_float(rt, -x if op == "-" else x)
        rt = unop_promote(t)
        if type_size(rt) > 8 and op in ("-", "~"):
            raise ExpressionError("That operation is not available on integers of more "
                                  "than 8 bytes.")
        if self.avoid:
            return Value.from_int(rt, 0)
        x = v.as_int()
        return Value.from_int(rt, -x if op == "-" else ~x if op == "~" else x)

    def _eval_Postfix(self, node: n.Postfix) -> Value:
        target = self.eval(node.operand)
        old = target.copy_not_lval() if not self.avoid else target
        new = self.binop("+" if node.op == "++" else "-", target, Value.from_int(INT, 1))
        self.assign(target, new)
        return old

    def _address_of_variable(self, v: Value, name: str) -> Value:
        """gdb's address_of_variable: its messages name the variable."""
        t = strip_typedefs(v.type)
        if self.avoid:
            return Value.from_int(PointerType(v.type), 0)
        if v.address is not None or isinstance(t, FunctionType):
            return self.address_of(v)
        if isinstance(v.lval, RegisterLval):
            raise ExpressionError(f"Address requested for identifier \"{name}\" which is "
                                  f"in register ${_dwarf_register_name(v.lval.regno)}")
        raise ExpressionError(f"Can't take address of \"{name}\" which isn't an lvalue.")

    def address_of(self, v: Value) -> Value:
        t = strip_typedefs(v.type)
        if isinstance(t, FunctionType) and v.address is not None:
            return Value.from_int(PointerType(v.type), v.address)
        if v.bitsize and v.address is not None:
            # gdb: a bitfield's address is that of its containing storage unit.
            unit = 8 * max(type_size(v.type), 1)
            bit = 8 * (v.address - (v.lval.address if isinstance(v.lval, MemoryLval) else 0))
            start = (bit + v.bitpos) // unit * unit // 8
            base = v.lval.address if isinstance(v.lval, MemoryLval) else 0
            return Value.from_int(PointerType(v.type), base + start)
        if v.address is None:
            raise ExpressionError("Attempt to take address of value not located in memory.")
        return Value(PointerType(v.type), None, v.access,
                     _contents=(v.address & MASK64).to_bytes(8, "little"))

    def deref(self, v: Value) -> Value:
        t = strip_typedefs(v.type)
        if isinstance(t, ArrayType):
            return v.component(t.target, 0)
        if isinstance(t, FunctionType):
            return v
        if isinstance(t, PointerType):
            target = t.target
            if isinstance(strip_typedefs(target), VoidType):
                raise ExpressionError("Attempt to dereference a generic pointer.")
            if self.avoid and v.is_lazy:
                return Value(target, MemoryLval(0), self.scope.access)
            if v.note:
                raise ExpressionError("Cannot access memory through a synthetic pointer.")
            return Value.at(target, v.as_unsigned(), self.scope.access)
        if is_integer(t) and not isinstance(t, EnumType):
            if self.avoid and v.is_lazy:
                return Value(INT, MemoryLval(0), self.scope.access)
            return Value.at(INT, v.as_unsigned(), self.scope.access)
        raise ExpressionError("Attempt to take contents of a non-pointer value.")

    # ----------------------------------------------------------------- binary
    def _eval_Binary(self, node: n.Binary) -> Value:
        op = node.op
        if op == "&&":
            left = self.eval(node.left)
            if self.avoid:
                self.eval(node.right)
                return Value.from_int(INT, 0)
            if not coerce_array(left).is_true():
                return Value.from_int(INT, 0)
            return Value.from_int(INT, 1 if coerce_array(self.eval(node.right)).is_true() else 0)
        if op == "||":
            left = self.eval(node.left)
            if self.avoid:
                self.eval(node.right)
                return Value.from_int(INT, 0)
            if coerce_array(left).is_true():
                return Value.from_int(INT, 1)
            return Value.from_int(INT, 1 if coerce_array(self.eval(node.right)).is_true() else 0)
        if op == ",":
            self.eval(node.left)
            return self.eval(node.right)
        left = self.eval(node.left)
        right = self.eval(node.right)
        if op == "@":
            return self.artificial_array(left, right)
        return self.binop(op, left, right)

    def artificial_array(self, left: Value, right: Value) -> Value:
        if not is_integer(strip_typedefs(right.type)):
            raise ExpressionError("Non-integral right operand of '@'.")
        if left.address is None or left.bitsize:
            raise ExpressionError("Only values in memory can be extended with '@'.")
        count = right.as_int() if not self.avoid else max(right.as_int(), 1)
        if count <= 0:
            raise ExpressionError(f"Invalid number {count} of repetitions.")
        return Value.at(ArrayType(left.type, [count]), left.address, left.access)

    def binop(self, op: str, left: Value, right: Value) -> Value:
        left, right = coerce_array(left), coerce_array(right)
        lt, rt = strip_typedefs(left.type), strip_typedefs(right.type)
        lp, rp = isinstance(lt, PointerType), isinstance(rt, PointerType)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return self._compare(op, left, right)
        if lp or rp:
            return self._pointer_arith(op, left, right, lt, rt)
        if not _is_number(lt) or not _is_number(rt):
            if isinstance(lt, CompositeType) or isinstance(rt, CompositeType):
                raise ExpressionError("Argument to arithmetic operation not a number or "
                                      "boolean.")
            raise ExpressionError("Argument to arithmetic operation not a number or boolean.")
        result = binop_promote(lt, rt)
        if is_float(result):
            if op in ("%", "<<", ">>", "&", "|", "^"):
                raise ExpressionError("Integer only operation.")
            if self.avoid:
                return Value.from_float(result, 0.0)
            if type_size(result) == 16 and op in ("+", "-", "*", "/"):
                exact = _long_double_op(op, left, right)
                if exact is not None:
                    return Value.from_bytes(result, exact)
            a, b = left.as_float(), right.as_float()
            if op == "+":
                r = a + b
            elif op == "-":
                r = a - b
            elif op == "*":
                r = a * b
            elif op == "/":
                if b == 0:
                    r = float("nan") if a == 0 or a != a else \
                        (float("inf") if (a > 0) == (str(b)[0] != "-") else float("-inf"))
                else:
                    r = a / b
            else:
                raise ExpressionError(f"Operator {op} is not supported here.")
            return Value.from_float(result, r)
        if type_size(result) > 8:
            raise ExpressionError("That operation is not available on integers of more than "
                                  "8 bytes.")
        if self.avoid:
            return Value.from_int(result, 0)
        bits = 8 * type_size(result)
        mask = (1 << bits) - 1
        signed = is_signed(result)
        a, b = _convert_int(left.as_int(), bits, signed), _convert_int(right.as_int(), bits,
                                                                        signed)
        if op == "+":
            r = a + b
        elif op == "-":
            r = a - b
        elif op == "*":
            r = a * b
        elif op in ("/", "%"):
            if b == 0:
                raise ExpressionError("Division by zero")
            q = abs(a) // abs(b)
            if (a < 0) != (b < 0):
                q = -q
            r = q if op == "/" else a - q * b
        elif op in ("<<", ">>"):
            # gdb warns about (and zeroes) shifts C leaves undefined.
            count = right.as_int()
            if count < 0:
                self._warn("right shift count is negative" if op == ">>"
                           else "left shift count is negative")
                r = 0
            elif count >= bits:
                self._warn("left shift count >= width of type" if op == "<<"
                           else "right shift count >= width of type")
                r = 0
            else:
                r = a << count if op == "<<" else a >> count
        elif op == "&":
            r = a & b
        elif op == "|":
            r = a | b
        elif op == "^":
            r = a ^ b
        else:
            raise ExpressionError(f"Operator {op} is not supported here.")
        return Value.from_int(result, r & mask)

    def _warn(self, text: str) -> None:
        if self.scope.warn is not None:
            self.scope.warn(f"warning: {text}")

    def _pointer_arith(self, op: str, left: Value, right: Value, lt: CType, rt: CType) -> Value:
        lp, rp = isinstance(lt, PointerType), isinstance(rt, PointerType)
        if op == "+" and lp != rp:
            ptr, other = (left, right) if lp else (right, left)
            ot = strip_typedefs(other.type)
            if not is_integer(ot):
                raise ExpressionError("Argument to arithmetic operation not a number or "
                                      "boolean.")
            size = _pointee_size(strip_typedefs(ptr.type))
            if self.avoid:
                return Value.from_int(ptr.type, 0)
            return Value.from_int(ptr.type, ptr.as_unsigned() + other.as_int() * size)
        if op == "-" and lp and not rp:
            if not is_integer(rt):
                raise ExpressionError("First argument of `-' is a pointer and second argument "
                                      "is neither\nan integer nor a pointer of the same type.")
            size = _pointee_size(lt)
            if self.avoid:
                return Value.from_int(left.type, 0)
            return Value.from_int(left.type, left.as_unsigned() - right.as_int() * size)
        if op == "-" and lp and rp:
            s1, s2 = _pointee_size(lt), _pointee_size(rt)
            if s1 != s2:
                raise ExpressionError("First argument of `-' is a pointer and second argument "
                                      "is neither\nan integer nor a pointer of the same type.")
            if self.avoid:
                return Value.from_int(LONG, 0)
            diff = _convert_int(left.as_unsigned() - right.as_unsigned(), 64, True)
            return Value.from_int(LONG, int(diff / s1) if s1 else diff)
        if op in ("&", "|", "^", "*", "/", "%", "<<", ">>") and lp != rp:
            # gdb does integer arithmetic on a pointer and an integer for these.
            a = Value.from_int(LONG, left.as_unsigned()) if lp else left
            b = Value.from_int(LONG, right.as_unsigned()) if rp else right
            return self.binop(op, a, b)
        raise ExpressionError("Argument to arithmetic operation not a number or boolean.")

    def _compare(self, op: str, left: Value, right: Value) -> Value:
        lt, rt = strip_typedefs(left.type), strip_typedefs(right.type)
        if self.avoid:
            return Value.from_int(INT, 0)
        if isinstance(lt, PointerType) or isinstance(rt, PointerType) or \
                isinstance(lt, FunctionType) or isinstance(rt, FunctionType):
            a = _as_address(left)
            b = _as_address(right)
        elif _is_number(lt) and _is_number(rt):
            result = binop_promote(lt, rt)
            if is_float(result):
                a, b = left.as_float(), right.as_float()
            else:
                bits = 8 * min(type_size(result), 16)
                a = _convert_int(left.as_int(), bits, is_signed(result))
                b = _convert_int(right.as_int(), bits, is_signed(result))
        elif isinstance(lt, CompositeType) and isinstance(rt, CompositeType) and \
                op in ("==", "!="):
            eq = left.fetch() == right.fetch()
            return Value.from_int(INT, int(eq == (op == "==")))
        else:
            raise ExpressionError("Argument to arithmetic operation not a number or boolean.")
        r = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
             ">=": a >= b}[op]
        return Value.from_int(INT, int(r))

    # ----------------------------------------------------------------- assignment
    def _eval_Assign(self, node: n.Assign) -> Value:
        target = self.eval(node.target)
        value = self.eval(node.value)
        if node.op != "=":
            value = self.binop(node.op[:-1], target, value)
        return self.assign(target, value)

    def assign(self, target: Value, value: Value) -> Value:
        """Store VALUE into the lvalue TARGET (converted to its type) and return the result."""
        lval = target.lval
        if isinstance(lval, ConvenienceLval):
            if self.avoid:
                return value
            stored = value.copy_not_lval()
            self.scope.convenience[lval.name] = stored
            out = stored.copy_not_lval()
            out.lval = lval
            return out
        if target.readonly:
            raise ExpressionError("Left operand of assignment is not a modifiable lvalue.")
        if lval is None or isinstance(lval, PiecesLval):
            if target.is_optimized_out and lval is None:
                raise ExpressionError("value has been optimized out")
            raise ExpressionError("Left operand of assignment is not an lvalue.")
        new = self.cast(value, target.type)
        if self.avoid:
            return new
        data = new.fetch()
        if isinstance(lval, UserRegisterLval):
            if self.scope.write_register is None:
                raise ExpressionError("No registers.")
            self.scope.write_register(lval.name, int.from_bytes(data, "little"))
            out = Value.from_bytes(target.type, data)
            out.lval = lval
            return out
        access = target.access
        if isinstance(lval, MemoryLval):
            if access.write_memory is None:
                raise ExpressionError(f"Cannot access memory at address {target.address:#x}")
            address = target.address
            assert address is not None
            if target.bitsize:
                nbytes = (target.bitpos + target.bitsize + 7) // 8
                old = int.from_bytes(access.read_memory(address, nbytes), "little")
                fieldmask = ((1 << target.bitsize) - 1) << target.bitpos
                bits = (int.from_bytes(data, "little") << target.bitpos) & fieldmask
                access.write_memory(address, ((old & ~fieldmask) | bits)
                                    .to_bytes(nbytes, "little"))
            else:
                access.write_memory(address, data)
            return Value(target.type, lval, access, target.offset, target.bitpos,
                         target.bitsize)
        if isinstance(lval, RegisterLval):
            if access.write_register is None or access.read_register is None:
                raise ExpressionError("Attempt to assign to an unmodifiable value.")
            old = bytearray(access.read_register(lval.regno))
            if target.bitsize:
                nbytes = (target.bitpos + target.bitsize + 7) // 8
                cur = int.from_bytes(old[target.offset:target.offset + nbytes], "little")
                fieldmask = ((1 << target.bitsize) - 1) << target.bitpos
                bits = (int.from_bytes(data, "little") << target.bitpos) & fieldmask
                old[target.offset:target.offset + nbytes] = \
                    ((cur & ~fieldmask) | bits).to_bytes(nbytes, "little")
            else:
                old[target.offset:target.offset + len(data)] = data
            access.write_register(lval.regno, bytes(old))
            return Value(target.type, lval, access, target.offset, target.bitpos,
                         target.bitsize, _contents=data if not target.bitsize else None)
        raise ExpressionError("Left operand of assignment is not an lvalue.")

    # ----------------------------------------------------------------- casts
    def _eval_Cast(self, node: n.Cast) -> Value:
        t = self.resolve_type(node.type.type)
        if isinstance(node.operand, n.Call):
            # `(int) strlen ("abc")`: the cast gives a function without debug info its
            # return type (gdb's default_return_type).
            return self.cast(self._eval_Call(node.operand, t), t)
        return self.cast(self.eval(node.operand), t)

    def cast(self, v: Value, t: CType) -> Value:
        """gdb's value_cast for C."""
        to = strip_typedefs(t)
        frm = strip_typedefs(v.type)
        if isinstance(to, VoidType):
            return Value(t, _contents=b"")
        if isinstance(frm, VoidType):
            raise ExpressionError("Invalid cast.")     # `(int) $unset`, a void call
        if isinstance(to, ArrayType) and isinstance(frm, ArrayType):
            return v.with_type(t)
        if isinstance(frm, ArrayType) or isinstance(frm, FunctionType):
            v = coerce_array(v)
            frm = strip_typedefs(v.type)
        if isinstance(to, CompositeType):
            if isinstance(frm, CompositeType) and (frm is to or (
                    frm.name == to.name and frm.keyword == to.keyword and frm.size == to.size)):
                return v.with_type(t)
            raise ExpressionError("Invalid cast.")
        if isinstance(to, (PointerType, EnumType)) or is_integer(to) or is_float(to) or \
                (isinstance(to, BaseType) and to.encoding in ("boolean", "flags")):
            if isinstance(frm, CompositeType):
                raise ExpressionError("Invalid cast.")
            if self.avoid and v.is_lazy:
                return Value.from_int(t, 0)
            if is_float(to):
                return Value.from_float(t, v.as_float())
            if isinstance(to, BaseType) and to.encoding == "boolean" and is_float(frm):
                return Value.from_int(t, int(v.as_float() != 0))
            if isinstance(frm, PointerType):
                return Value.from_int(t, v.as_unsigned())
            return Value.from_int(t, v.as_int())
        if isinstance(to, ArrayType):
            if v.size == type_size(to):
                return v.with_type(t)
            raise ExpressionError("Invalid cast.")
        raise ExpressionError("Invalid cast.")

    def _eval_MemoryValue(self, node: n.MemoryValue) -> Value:
        t = self.resolve_type(node.type.type)
        addr = coerce_array(self.eval(node.address))
        if self.avoid and addr.is_lazy:
            return Value(t, MemoryLval(0), self.scope.access)
        return Value.at(t, _as_address(addr), self.scope.access)

    def _eval_SizeOf(self, node: n.SizeOf) -> Value:
        if isinstance(node.operand, n.TypeName):
            t = self.resolve_type(node.operand.type)
        else:
            t = self.type_of(node.operand)
        st = strip_typedefs(t)
        if isinstance(st, VoidType):
            size = 1
        else:
            size = type_size(st)
        return Value.from_int(INT, size)

    def _eval_AlignOf(self, node: n.AlignOf) -> Value:
        t = strip_typedefs(self.resolve_type(node.type.type))
        return Value.from_int(INT, _alignment(t))

    # ----------------------------------------------------------------- postfix
    def _eval_Member(self, node: n.Member) -> Value:
        base = self.eval(node.base)
        if node.arrow:
            bt = strip_typedefs(base.type)
            if isinstance(bt, PointerType):
                base = self.deref(base)
            elif not isinstance(bt, CompositeType):
                raise ExpressionError("Attempt to extract a component of a value that is not "
                                      "a structure pointer.")
        return self.member(base, node.name)

    def member(self, base: Value, name: str) -> Value:
        t = strip_typedefs(base.type)
        if not isinstance(t, CompositeType):
            raise ExpressionError("Attempt to extract a component of a value that is not a "
                                  "structure.")
        m = t.member(name)
        if m is None:
            raise ExpressionError(f"There is no member named {name}.")
        if m.bit_size:
            return base.component(m.type, m.offset, m.bit_offset or 0, m.bit_size)
        return base.component(m.type, m.offset)

    def _eval_Index(self, node: n.Index) -> Value:
        base = self.eval(node.base)
        index = self.eval(node.index)
        bt = strip_typedefs(base.type)
        it = strip_typedefs(index.type)
        if not isinstance(bt, (ArrayType, PointerType)) and isinstance(it, (ArrayType,
                                                                           PointerType)):
            base, index, bt = index, base, it
        if isinstance(bt, ArrayType):
            if not is_integer(strip_typedefs(index.type)):
                raise ExpressionError("Argument to arithmetic operation not a number or "
                                      "boolean.")
            i = index.as_int() if not self.avoid or not index.is_lazy else 0
            elt = bt.target
            size = type_size(elt)
            if base.address is not None or base.lval is not None and base.is_lazy:
                if base.address is not None:
                    return Value.at(elt, base.address + i * size, base.access)
            if 0 <= i < (bt.length or 0):
                return base.component(elt, i * size)
            raise ExpressionError("no such vector element")
        if isinstance(bt, PointerType):
            return self.deref(self.binop("+", base, index))
        raise ExpressionError(f"cannot subscript something of type `{type_name(base.type)}'")

    def _eval_Conditional(self, node: n.Conditional) -> Value:
        cond = coerce_array(self.eval(node.condition))
        if self.avoid:
            return self.eval(node.if_true)
        return self.eval(node.if_true if cond.is_true() else node.if_false)

    def _eval_Call(self, node: n.Call, default_return: CType | None = None) -> Value:
        """gdb's evaluate_funcall and call_function_by_hand: C's argument conversions
        here; the ABI and running the program are the scope's call_function's."""
        function = self.eval(node.function)
        args = [self.eval(a) for a in node.args]
        ftype, nodebug = self._callee_type(function)
        rtype = _return_type(ftype, nodebug, default_return)
        if self.avoid:
            if ftype is not None and not nodebug:
                rtype = ftype.return_type     # gdb: an unspecified return type is void here
            elif rtype is None:
                _unknown_return_type(node.function.name
                                     if isinstance(node.function, n.Identifier) else None)
            size = 0 if isinstance(strip_typedefs(rtype), VoidType) else type_size(rtype)
            return Value(rtype, _contents=bytes(size))
        if self.scope.call_function is None:
            raise ExpressionError("You can't do that without a process to debug.")
        caller = self.scope.call_function()
        address = _function_address(function)
        resolved = caller.resolve_ifunc(address, node.function.name) \
            if isinstance(node.function, n.Identifier) else None
        if resolved is not None:      # gdb calls the function an ifunc's resolver picks
            address, ftype = resolved
            nodebug = False
            rtype = _return_type(ftype, nodebug, default_return)
        name = caller.function_name(address)
        if rtype is None:
            _unknown_return_type(name)
        params = ftype.params if ftype is not None and not nodebug else []
        if len(args) < len(params):
            raise ExpressionError("Too few arguments in function call.")
        # gdb: a function without debug info, cast to its return type, takes the arguments
        # as they are; else a prototype converts them, or C's default promotions apply.
        as_is = default_return is not None and (ftype is None or nodebug)
        passed = []
        for i, arg in enumerate(args):
            prototyped = as_is or (i < len(params) and ftype is not None and ftype.prototyped)
            param = params[i] if i < len(params) else None
            passed.append(self._argument(arg, param, prototyped, caller))
        data = caller.call(address, passed, rtype, name)
        if data is None or isinstance(strip_typedefs(rtype), VoidType):
            return Value(rtype, _contents=b"")
        return Value.from_bytes(rtype, data, access=self.scope.access)

    def _callee_type(self, function: Value) -> tuple[FunctionType | None, bool]:
        """(the function's type, or None when it has none, and whether it is an ELF
        symbol without debug info) of what is called."""
        t = strip_typedefs(function.type)
        if isinstance(t, FunctionType):
            return t, function.note == "text"
        if isinstance(t, PointerType):
            target = strip_typedefs(t.target)
            return (target if isinstance(target, FunctionType) else None), False
        if isinstance(t, ArrayType) or (is_integer(t) and not isinstance(t, EnumType)):
            return None, False
        raise ExpressionError("Invalid data type for function to be called.")

    def _argument(self, arg: Value, param: CType | None, prototyped: bool,
                  caller: FunctionCaller) -> Value:
        """gdb's value_arg_coerce: ARG converted to the type it is passed as."""
        at = strip_typedefs(arg.type)
        if isinstance(at, ArrayType) and arg.address is None:
            # A string literal (or {...}): the function gets a pointer to a copy of it.
            arg = Value.at(arg.type, caller.place(arg.fetch()), self.scope.access)
        passed = param if param is not None else arg.type
        t = strip_typedefs(passed)
        if is_integer(t):
            if type_size(t) < 4:
                passed = INT           # no ABI passes less than an int
        elif is_float(t):
            if not prototyped:          # C's default promotions
                if type_size(t) < 8:
                    passed = DOUBLE
                elif type_size(t) > 8:
                    passed = LONGDOUBLE
        elif isinstance(t, FunctionType):
            passed = PointerType(passed)
        elif isinstance(t, ArrayType):
            passed = PointerType(t.target)
        return self.cast(arg, passed)

    def _eval_ArrayLiteral(self, node: n.ArrayLiteral) -> Value:
        values = [self.eval(e) for e in node.elements]
        if not values:
            raise ExpressionError("A syntax error in expression, near `}'.")
        t = values[0].type
        data = b"".join(self.cast(v, t).fetch() for v in values)
        return Value.from_bytes(ArrayType(t, [len(values)]), data)


# --------------------------------------------------------------------------- C rules

def _dwarf_register_name(regno: int) -> str:
    from pydbg.arch.x86_64 import DWARF_TO_NAME
    if 17 <= regno <= 32:
        return f"xmm{regno - 17}"
    return DWARF_TO_NAME.get(regno, str(regno))


def _qualify(t: CType, q: Any) -> CType:
    if q is None or not (q.const or q.volatile or q.restrict or q.atomic):
        return t
    return QualifiedType(t, q.const, q.volatile, q.restrict, q.atomic)


def _is_number(t: CType) -> bool:
    t = strip_typedefs(t)
    return isinstance(t, EnumType) or (isinstance(t, BaseType) and t.encoding in (
        "signed", "unsigned", "signed_char", "unsigned_char", "boolean", "float", "UTF",
        "flags"))


def unop_promote(t: CType) -> CType:
    """gdb's unop_promote: integers narrower than int become int."""
    t = strip_typedefs(t)
    if type_size(t) < 4 or (isinstance(t, BaseType) and t.encoding == "boolean"):
        return INT
    if isinstance(t, EnumType) or (isinstance(t, BaseType) and t.encoding == "flags"):
        return UINT if not is_signed(t) else INT
    return t


def binop_promote(t1: CType, t2: CType) -> CType:
    """gdb's binop_promote for C."""
    t1, t2 = strip_typedefs(t1), strip_typedefs(t2)
    f1, f2 = is_float(t1), is_float(t2)
    if f1 or f2:
        if f1 and f2:
            return t1 if type_size(t1) >= type_size(t2) else t2
        return t1 if f1 else t2
    len1, len2 = type_size(t1), type_size(t2)
    u1, u2 = not is_signed(t1), not is_signed(t2)
    if len1 < 4:
        u1, len1 = False, 4
    if len2 < 4:
        u2, len2 = False, 4
    if len1 > len2:
        unsigned, length = u1, len1
    elif len2 > len1:
        unsigned, length = u2, len2
    else:
        unsigned, length = u1 or u2, len1
    if length <= 4:
        return UINT if unsigned else INT
    if length <= 8:
        return ULONG if unsigned else LONG
    return UINT128 if unsigned else INT128


def _long_double_op(op: str, left: Value, right: Value) -> bytes | None:
    """OP on long doubles with x87 precision (exact rationals rounded to 64 bits)."""
    from fractions import Fraction
    a, b = left.as_fraction(), right.as_fraction()
    if a is None or b is None or (op == "/" and b == 0):
        return None
    r = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
         "/": lambda: a / b}[op]()
    return fraction_to_x87(Fraction(r)).ljust(16, b"\0")


def _convert_int(v: int, bits: int, signed: bool) -> int:
    v &= (1 << bits) - 1
    if signed and v >> (bits - 1):
        v -= 1 << bits
    return v


def _pointee_size(t: CType) -> int:
    target = strip_typedefs(t.target) if isinstance(t, PointerType) else t
    if isinstance(target, (VoidType, FunctionType)):
        return 1
    size = type_size(target)
    return size if size else 1


def _as_address(v: Value) -> int:
    t = strip_typedefs(v.type)
    if isinstance(t, FunctionType):
        return v.address or 0
    if is_float(t):
        raise ExpressionError("Value can't be converted to integer.")
    return v.as_unsigned() if isinstance(t, PointerType) else v.as_int() & MASK64


def coerce_array(v: Value) -> Value:
    """C's array-to-pointer and function-to-pointer decay (gdb's coerce_array)."""
    t = strip_typedefs(v.type)
    if isinstance(t, ArrayType):
        if v.address is None:
            raise ExpressionError("Attempt to take address of value not located in memory.")
        return Value(PointerType(t.target), None, v.access,
                     _contents=(v.address & MASK64).to_bytes(8, "little"))
    if isinstance(t, FunctionType) and v.address is not None:
        return Value(PointerType(v.type), None, v.access,
                     _contents=(v.address & MASK64).to_bytes(8, "little"))
    return v


def _function_address(v: Value) -> int:
    """Where a called function starts: a function's address, a pointer's value."""
    t = strip_typedefs(v.type)
    if isinstance(t, FunctionType):
        if v.address is None:
            raise ExpressionError("Attempt to take address of value not located in memory.")
        return v.address
    return coerce_array(v).as_unsigned() & MASK64


def _return_type(ftype: FunctionType | None, nodebug: bool,
                 default: CType | None) -> CType | None:
    """What a called function returns: its declared type, else the cast's (DEFAULT)."""
    rtype: CType | None = None
    if ftype is not None and not nodebug:
        rtype = ftype.return_type
        if isinstance(rtype, VoidType) and rtype.unspecified:
            rtype = None         # an assembler function's DW_TAG_unspecified_type
    return rtype if rtype is not None else default


def _unknown_return_type(name: str | None) -> None:
    if name is None:
        raise ExpressionError("function has unknown return type; cast the call to its "
                              "declared return type")
    raise ExpressionError(f"'{name}' has unknown return type; cast the call to its "
                          "declared return type")


def _alignment(t: CType) -> int:
    t = strip_typedefs(t)
    if isinstance(t, ArrayType):
        return _alignment(t.element)
    if isinstance(t, CompositeType):
        return max((_alignment(m.type) for m in t.members), default=1)
    return max(1, min(type_size(t), 16))


def value_as_bool(v: Value) -> bool:
    """A breakpoint condition's truth (arrays and functions decay to non-null pointers)."""
    return coerce_array(v).is_true()


__all__ = [
    "BUILTINS", "CHAR", "DOUBLE", "EvalScope", "Evaluator", "INT", "LONG", "ULONG", "VOID",
    "binop_promote", "coerce_array", "register_type", "unop_promote",
    "value_as_bool",
]
