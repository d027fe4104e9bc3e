"""Function calls without a process: the System V classes of argument types
(engine/infcall.py classify) and the evaluator's conversions of arguments (C's and gdb's
value_arg_coerce), seen through a fake caller that records what it is asked to pass."""

from __future__ import annotations

import struct

import pytest

from pydbg.engine.evaluate import CHAR, DOUBLE, INT, LONG, EvalScope, Evaluator
from pydbg.engine.infcall import classify
from pydbg.engine.values import Access, MemoryLval, Value
from pydbg.errors import ExpressionError
from pydbg.symbols.types import (
    ArrayType, BaseType, FunctionType, Member, PointerType, StructType, UnionType, VoidType,
)

FLOAT = BaseType("float", 4, "float")
SHORT = BaseType("short", 2, "signed")
LDOUBLE = BaseType("long double", 16, "float")
INT128 = BaseType("__int128", 16, "signed")
CDOUBLE = BaseType("complex double", 16, "complex")


def record(name: str, size: int, *fields: tuple[str, object, int]) -> StructType:
    return StructType(name, size, [Member(n, t, off) for n, t, off in fields])


@pytest.mark.parametrize("t, classes", [
    (INT, ("INTEGER",)), (PointerType(CHAR), ("INTEGER",)), (DOUBLE, ("SSE",)),
    (FLOAT, ("SSE",)), (LDOUBLE, ("X87",)), (INT128, ("INTEGER", "INTEGER")),
    (CDOUBLE, ("SSE", "SSE")),
    (record("pair", 8, ("a", INT, 0), ("b", INT, 4)), ("INTEGER",)),
    (record("dpair", 16, ("x", DOUBLE, 0), ("y", DOUBLE, 8)), ("SSE", "SSE")),
    (record("mixed", 16, ("n", LONG, 0), ("d", DOUBLE, 8)), ("INTEGER", "SSE")),
    (record("fpair", 8, ("a", FLOAT, 0), ("b", FLOAT, 4)), ("SSE",)),
    (record("fi", 8, ("f", FLOAT, 0), ("i", INT, 4)), ("INTEGER",)),
    (record("ffi", 12, ("a", FLOAT, 0), ("b", FLOAT, 4), ("i", INT, 8)), ("SSE", "INTEGER")),
    (record("arr", 12, ("v", ArrayType(FLOAT, [3]), 0)), ("SSE", "SSE")),
    (UnionType("u", 8, [Member("i", INT, 0), Member("d", DOUBLE, 0)]), ("INTEGER",)),
    (record("big", 32, ("v", ArrayType(LONG, [4]), 0)), ("MEMORY",)),
    (record("ld", 16, ("x", LDOUBLE, 0)), ("MEMORY",)),
    (record("packed", 5, ("c", CHAR, 0), ("i", INT, 1)), ("MEMORY",)),
])
def test_classes_of_the_system_v_abi(t, classes) -> None:
    assert classify(t) == classes


class FakeCaller:
    """Records the call instead of running it; place() writes into a little memory."""

    def __init__(self, memory: bytearray, result: bytes | None = None) -> None:
        self.memory = memory
        self.result = result
        self.calls: list[tuple[int, list[Value], object, str]] = []
        self.top = 0x2000 + len(memory)

    def function_name(self, address: int) -> str:
        return {0x500: "f", 0x600: "g"}.get(address, f"at 0x{address:#x}")

    def resolve_ifunc(self, address: int, name: str):
        return None

    def place(self, data: bytes) -> int:
        self.top = (self.top - len(data)) & ~0xF
        self.memory[self.top - 0x2000:self.top - 0x2000 + len(data)] = data
        return self.top

    def call(self, address, args, return_type, name):
        self.calls.append((address, args, return_type, name))
        return self.result


@pytest.fixture
def world():
    memory = bytearray(256)

    def read(address: int, size: int) -> bytes:
        return bytes(memory[address - 0x2000:address - 0x2000 + size])

    access = Access(read_memory=read)
    # f: int f(short, double, char *), prototyped; g: a K&R `int g()`; h: no debug info.
    functions = {
        "f": Value(FunctionType(INT, [SHORT, DOUBLE, PointerType(CHAR)], False, True),
                   MemoryLval(0x500), access),
        "g": Value(FunctionType(INT, [FLOAT], False, False), MemoryLval(0x600), access),
        "v": Value(FunctionType(INT, [INT], True, True), MemoryLval(0x700), access),
        "asm": Value(FunctionType(VoidType(unspecified=True), [], False, False),
                     MemoryLval(0x800), access),
    }
    nodebug = Value(FunctionType(INT, [], False, False), MemoryLval(0x900), access)
    nodebug.note = "text"
    functions["h"] = nodebug
    caller = FakeCaller(memory, struct.pack("<i", 42))
    scope = EvalScope(access=access, lookup_variable=functions.get,
                      call_function=lambda: caller)
    return scope, caller, memory


def passed(caller: FakeCaller) -> list[tuple[str, bytes]]:
    return [(getattr(a.type, "name", None) or type(a.type).__name__, a.fetch())
            for a in caller.calls[-1][1]]


def test_a_prototype_converts_the_arguments(world) -> None:
    scope, caller, memory = world
    v = Evaluator(scope).evaluate('f(70000, 3, "hi")')
    assert v.as_int() == 42 and caller.calls[-1][3] == "f"
    args = passed(caller)
    # a short parameter gets an int, as gdb passes it (the callee reads its low half);
    # 3 becomes a double
    assert args[0] == ("int", struct.pack("<i", 70000))
    assert args[1] == ("double", struct.pack("<d", 3.0))
    # the string literal was copied into the program: the function gets its address
    address = struct.unpack("<Q", args[2][1])[0]
    assert bytes(memory[address - 0x2000:address - 0x2000 + 3]) == b"hi\0"


def test_default_promotions_without_a_prototype(world) -> None:
    scope, caller, _ = world
    Evaluator(scope).evaluate("g(1.5f, 'a', (short)2)")
    assert passed(caller) == [("double", struct.pack("<d", 1.5)),
                              ("int", struct.pack("<i", 97)), ("int", struct.pack("<i", 2))]
    Evaluator(scope).evaluate("v(1, 2.5f, (char)3)")       # varargs after the prototype
    assert passed(caller) == [("int", struct.pack("<i", 1)), ("double", struct.pack("<d", 2.5)),
                              ("int", struct.pack("<i", 3))]


def test_a_cast_gives_an_unknown_function_its_return_type(world) -> None:
    scope, caller, _ = world
    for text in ("h(1)", "asm()"):
        with pytest.raises(ExpressionError, match="has unknown return type; cast the call"):
            Evaluator(scope).evaluate(text)
    assert not caller.calls
    assert Evaluator(scope).evaluate("(long)h(2.5f)").type.name == "long"
    # without debug info the arguments go as they are (a float stays a float)
    assert passed(caller) == [("float", struct.pack("<f", 2.5))]
    assert caller.calls[-1][2] is LONG


def test_gdbs_checks_and_side_effect_free_evaluation(world) -> None:
    scope, caller, _ = world
    with pytest.raises(ExpressionError, match="^Too few arguments in function call.$"):
        Evaluator(scope).evaluate("f(1, 2)")
    with pytest.raises(ExpressionError, match="^'at 0x0x5' has unknown return type"):
        Evaluator(scope).evaluate("5(1)")
    # whatis / ptype / sizeof never call
    assert Evaluator(scope, avoid_side_effects=True).evaluate("f(1)").type is INT
    assert not caller.calls
    scope.call_function = None
    with pytest.raises(ExpressionError, match="^You can't do that without a process"):
        Evaluator(scope).evaluate("f(1, 2, 0)")
