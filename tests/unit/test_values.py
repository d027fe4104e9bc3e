"""Typed values and the C evaluator without a process: memory is a bytearray, variables are
hand-built Values. Expected results are C's (and gdb's, checked against gdb 13 by hand)."""

from __future__ import annotations

import struct

import pytest

from pydbg.engine.evaluate import (
    CHAR, DOUBLE, INT, LONG, UINT, ULONG, EvalScope, Evaluator, binop_promote,
)
from pydbg.engine.printing import PrintOptions, format_value
from pydbg.engine.values import (
    Access, ConvenienceLval, MemoryLval, PiecesLval, RegisterLval, Value, fraction_to_x87,
    x87_to_decimal,
)
from pydbg.errors import ExpressionError, MemoryAccessError
from pydbg.symbols.types import (
    ArrayType, BaseType, EnumType, Enumerator, Member, PointerType, StructType, TypedefType,
    type_name,
)

BASE = 0x1000


class Memory:
    """A flat little-endian memory at BASE; reads outside it fail like ptrace would."""

    def __init__(self, size: int = 256) -> None:
        self.data = bytearray(size)

    def read(self, address: int, size: int) -> bytes:
        if address < BASE or address + size > BASE + len(self.data):
            raise MemoryAccessError(address)
        return bytes(self.data[address - BASE:address - BASE + size])

    def write(self, address: int, data: bytes) -> None:
        if address < BASE or address + len(data) > BASE + len(self.data):
            raise MemoryAccessError(address)
        self.data[address - BASE:address - BASE + len(data)] = data

    def put(self, offset: int, fmt: str, *values) -> None:
        struct.pack_into(fmt, self.data, offset, *values)


POINT = StructType("point", 8, [Member("x", INT, 0), Member("y", INT, 4)])
BITS = StructType("bits", 4, [Member("a", UINT, 0, 3, 0), Member("b", INT, 0, 5, 3),
                              Member("c", UINT, 1, 12, 0)])
COLOR = EnumType("color", 4, [Enumerator("RED", 0), Enumerator("GREEN", 1)])


@pytest.fixture
def world():
    mem = Memory()
    access = Access(read_memory=mem.read, write_memory=mem.write)
    mem.put(0, "<ii", 3, -4)                    # struct point p at BASE
    mem.put(8, "<5i", 10, 20, 30, 40, 50)       # int arr[5] at BASE+8
    mem.put(28, "<Q", BASE + 8)                 # int *ip at BASE+28
    mem.data[36:42] = b"hello\0"                # char s[6] at BASE+36
    mem.put(44, "<I", 5 | (-7 & 0x1F) << 3 | 1000 << 8)   # struct bits at BASE+44
    mem.put(48, "<d", 2.5)                      # double d at BASE+48
    # Each lookup reads afresh, as variables in a frame do.
    variables = {
        "p": lambda: Value.at(POINT, BASE, access),
        "arr": lambda: Value.at(ArrayType(INT, [5]), BASE + 8, access),
        "ip": lambda: Value.at(PointerType(INT), BASE + 28, access),
        "s": lambda: Value.at(ArrayType(CHAR, [6]), BASE + 36, access),
        "bf": lambda: Value.at(BITS, BASE + 44, access),
        "d": lambda: Value.at(DOUBLE, BASE + 48, access),
        "col": lambda: Value.from_int(COLOR, 1),
        "u": lambda: Value.from_int(UINT, 5),
    }
    types = {"point_t": TypedefType("point_t", POINT)}

    def lookup(name: str) -> Value | None:
        make = variables.get(name)
        return make() if make else None

    scope = EvalScope(access=access, lookup_variable=lookup,
                      find_type=types.get, is_type_name=lambda n: n in types,
                      find_tagged=lambda kw, n: POINT if (kw, n) == ("struct", "point") else None,
                      history=[], convenience={})
    return mem, scope


def ev(scope: EvalScope, text: str) -> Value:
    return Evaluator(scope).evaluate(text)


def show(scope: EvalScope, text: str, letter: str | None = None) -> str:
    return format_value(ev(scope, text), PrintOptions(format=letter))


# --------------------------------------------------------------------------- arithmetic

@pytest.mark.parametrize("text,expected", [
    ("7 / 2", "3"), ("-7 / 2", "-3"), ("-7 % 2", "-1"), ("7.0 / 2", "3.5"),
    ("2147483647 + 1", "-2147483648"), ("u - 6", "4294967295"), ("-u", "4294967291"),
    ("'A' + 1", "66"), ("1 == 1", "1"), ("!0", "1"), ("~0", "-1"), ("3 ? 4 : 5", "4"),
    ("0 || 2", "1"), ("5 > 3 && 2 > 1", "1"), ("(char)321", "65 'A'"),
    ("(unsigned char)-1", "255 '\\377'"), ("1.5f * 2", "3"), ("(float)1 / 3", "0.333333343"),
    ("0.1", "0.10000000000000001"), ("10 % 3", "1"), ("1 << 4", "16"),
    ("-1 < 1u", "0"), ("sizeof(int)", "4"), ("sizeof(struct point)", "8"),
    ("sizeof p", "8"), ("sizeof(point_t *)", "8"), ("col == 1", "1"), ("col", "GREEN"),
])
def test_c_arithmetic(world, text, expected):
    _, scope = world
    assert show(scope, text) == expected


@pytest.mark.parametrize("left,right,expected", [
    (CHAR, CHAR, "int"), (INT, UINT, "unsigned int"), (INT, LONG, "long"),
    (UINT, LONG, "long"), (ULONG, LONG, "unsigned long"), (INT, DOUBLE, "double"),
    (BaseType("float", 4, "float"), INT, "float"),
])
def test_binop_promotion_follows_gdb(left, right, expected):
    assert type_name(binop_promote(left, right)) == expected


def test_division_by_zero_is_an_error(world):
    _, scope = world
    with pytest.raises(ExpressionError, match="Division by zero"):
        ev(scope, "1 / 0")


def test_shift_too_far_warns_and_gives_zero(world):
    _, scope = world
    warnings: list[str] = []
    scope.warn = warnings.append
    assert ev(scope, "1 << 40").as_int() == 0
    assert warnings == ["warning: left shift count >= width of type"]


# --------------------------------------------------------------------------- memory

def test_members_elements_and_pointer_arithmetic(world):
    _, scope = world
    assert show(scope, "p") == "{x = 3, y = -4}"
    assert ev(scope, "p.y").as_int() == -4
    assert ev(scope, "arr[3]").as_int() == 40
    assert ev(scope, "*(ip + 2)").as_int() == 30
    assert ev(scope, "ip[4]").as_int() == 50
    assert ev(scope, "&arr[2] - &arr[0]").as_int() == 2
    assert ev(scope, "(long)(ip + 1) - (long)ip").as_int() == 4
    assert show(scope, "*arr@3") == "{10, 20, 30}"
    assert show(scope, "arr[1]@2") == "{20, 30}"
    assert show(scope, "s") == '"hello"'
    assert show(scope, "*s@3") == '"hel"'
    assert show(scope, "&p") == "(struct point *) 0x1000"
    assert show(scope, "*(struct point *)&arr") == "{x = 10, y = 20}"
    assert show(scope, "{int} 0x1004") == "-4"


def test_bitfields_read_and_write(world):
    mem, scope = world
    assert show(scope, "bf") == "{a = 5, b = -7, c = 1000}"
    assert show(scope, "bf", "x") == "{a = 0x5, b = 0xfffffff9, c = 0x3e8}"
    ev(scope, "bf.b = 3")
    assert show(scope, "bf") == "{a = 5, b = 3, c = 1000}"
    ev(scope, "bf.c += 1")
    assert ev(scope, "bf.c").as_int() == 1001
    assert ev(scope, "bf.a").as_int() == 5     # neighbours untouched


def test_assignment_converts_to_the_target_type(world):
    mem, scope = world
    assert show(scope, "p.x = 3.7") == "3"
    assert struct.unpack_from("<i", mem.data, 0)[0] == 3
    assert show(scope, "d = 7") == "7"
    assert struct.unpack_from("<d", mem.data, 48)[0] == 7.0
    assert show(scope, "arr[0]++") == "10"
    assert show(scope, "arr[0]") == "11"
    assert show(scope, "++arr[0]") == "12"


def test_lvalue_kinds_expose_address_and_size(world):
    """What watchpoints need: an lvalue's address and size."""
    _, scope = world
    v = ev(scope, "p.y")
    assert (v.address, v.size) == (BASE + 4, 4)
    assert isinstance(v.lval, MemoryLval)
    assert ev(scope, "arr").size == 20
    assert ev(scope, "1 + 2").address is None


def test_errors_are_gdbs(world):
    _, scope = world
    cases = {
        "p.z": "There is no member named z.",
        "d.x": "Attempt to extract a component of a value that is not a structure.",
        "nosuch": 'No symbol "nosuch" in current context.',
        "*d": "Attempt to take contents of a non-pointer value.",
        "&(1 + 2)": "Attempt to take address of value not located in memory.",
        "1 = 2": "Left operand of assignment is not an lvalue.",
        "(1 + 2)@2": "Only values in memory can be extended with '@'.",
        "p@0": "Invalid number 0 of repetitions.",
        "(struct point)1": "Invalid cast.",
        "(struct nosuch *)0": "No struct type named nosuch.",
        "add(1, 2)": 'No symbol "add" in current context.',
        "(1 + 2)(3)": "You can't do that without a process to debug.",
    }
    for text, message in cases.items():
        with pytest.raises(ExpressionError) as info:
            ev(scope, text)
        assert str(info.value) == message, text
    with pytest.raises(MemoryAccessError, match="Cannot access memory at address 0x0"):
        ev(scope, "*(int *)0").fetch()


# --------------------------------------------------------------------------- $ variables

def test_convenience_variables_and_history(world):
    _, scope = world
    assert show(scope, "$foo") == "void"
    assert show(scope, "$foo = p") == "{x = 3, y = -4}"
    assert show(scope, "$foo.y") == "-4"
    assert show(scope, "$n = 5") == "5"
    assert show(scope, "$n++") == "5"
    assert show(scope, "$n") == "6"
    assert isinstance(ev(scope, "$n").lval, ConvenienceLval)
    scope.history.extend([Value.from_int(INT, 1).history_copy(),
                          ev(scope, "p").history_copy()])
    assert show(scope, "$") == "{x = 3, y = -4}"
    assert show(scope, "$$") == "1"
    assert show(scope, "$1 + 1") == "2"
    assert show(scope, "&$2") == "(struct point *) 0x1000"   # history keeps the address
    with pytest.raises(ExpressionError, match="not a modifiable lvalue"):
        ev(scope, "$2.x = 1")
    with pytest.raises(ExpressionError, match=r"History has not yet reached \$9."):
        ev(scope, "$9")


def test_registers_through_the_scope(world):
    _, scope = world
    regs = {"rip": 0x401000, "rsp": 0x7ffe0000, "rax": 0xFFFFFFFF00000001}
    scope.read_register = lambda name: {"pc": regs["rip"], "sp": regs["rsp"],
                                        "eax": regs["rax"] & 0xFFFFFFFF}.get(name, regs.get(name))
    written = {}
    scope.write_register = lambda name, value: written.update({name: value})
    assert show(scope, "$pc") == "(void (*)()) 0x401000"
    assert show(scope, "$sp") == "(void *) 0x7ffe0000"
    assert show(scope, "$eax") == "1"
    assert show(scope, "$rax") == "-4294967295"
    ev(scope, "$rax = 7")
    assert written == {"rax": 7}


def test_type_of_without_side_effects(world):
    mem, scope = world
    e = Evaluator(scope)
    assert type_name(e.type_of(e.parse("p.x = 99"))) == "int"
    assert struct.unpack_from("<i", mem.data, 0)[0] == 3     # nothing written
    assert type_name(e.type_of(e.parse("*(int *)0"))) == "int"   # nothing read
    assert type_name(e.type_of(e.parse("arr[1] + 1L"))) == "long"
    assert type_name(e.type_of(e.parse("&arr"))) == "int (*)[5]"


# --------------------------------------------------------------------------- Value itself

def test_optimized_out_pieces_and_registers():
    v = Value.optimized_out(INT)
    assert v.is_optimized_out and v.entirely_optimized_out
    assert format_value(v) == "<optimized out>"
    # A struct whose second half is unavailable (DW_OP_piece with nothing for it).
    half = Value(POINT, PiecesLval((("register", 0, 32, 0), ("optimized", None, 32, 0))),
                 _contents=(72).to_bytes(4, "little") + bytes(4), unavailable=((32, 64),))
    assert format_value(half) == "{x = 72, y = <optimized out>}"
    regs = {3: (0x1122334455667788).to_bytes(8, "little")}
    r = Value(INT, RegisterLval(3), Access(read_register=regs.__getitem__))
    assert r.as_int() == 0x55667788


def test_long_double_is_exact():
    data = fraction_to_x87(__import__("fractions").Fraction(5, 6))
    assert str(x87_to_decimal(data))[:22] == "0.83333333333333333331"
    assert format_value(Value.from_bytes(BaseType("long double", 16, "float"),
                                         data.ljust(16, b"\0"))) == "0.833333333333333333315"
