"""gdb's value printer on hand-built values (no process). Expected text is gdb 13's for the
same C objects (see tests/integration/test_variables_vs_gdb.py for the oracle runs)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pydbg.engine.evaluate import CHAR, DOUBLE, INT, LONGDOUBLE, UCHAR, UINT
from pydbg.engine.printing import PrintOptions, c_g_format, enum_text, format_value
from pydbg.engine.values import Access, Value, float_to_bytes
from pydbg.errors import MemoryAccessError
from pydbg.symbols.types import (
    ArrayType, BaseType, EnumType, Enumerator, FunctionType, Member, PointerType,
    QualifiedType, StructType, TypedefType, UnionType, VoidType, flag_enum_heuristic,
)

BOOL = BaseType("_Bool", 1, "boolean")
FLOAT = BaseType("float", 4, "float")
CONST_CHAR = QualifiedType(CHAR, const=True)


def ints(t, values):
    size = t.size
    return b"".join((v & ((1 << (8 * size)) - 1)).to_bytes(size, "little") for v in values)


def array(t, values):
    return Value.from_bytes(ArrayType(t, [len(values)]), ints(t, values))


def text(v, letter=None, **kw):
    return format_value(v, PrintOptions(format=letter, **kw))


class Strings:
    """Memory holding NUL-terminated strings at fixed addresses; the rest is unreadable."""

    def __init__(self, blobs: dict[int, bytes]) -> None:
        self.blobs = blobs

    def __call__(self, address: int, size: int) -> bytes:
        for base, data in self.blobs.items():
            if base <= address and address + size <= base + len(data):
                return data[address - base:address - base + size]
        raise MemoryAccessError(address)


# --------------------------------------------------------------------------- aggregates

def test_arrays_repeats_and_limit():
    assert text(array(INT, [1, 2, 3])) == "{1, 2, 3}"
    assert text(array(INT, [0] * 40)) == "{0 <repeats 40 times>}"
    assert text(array(INT, [0] * 10)) == "{" + ", ".join(["0"] * 10) + "}"
    assert text(array(INT, [1] + [7] * 11 + [2])) == "{1, 7 <repeats 11 times>, 2}"
    # `print elements` (200) counts a repeat block as `repeats` (10) elements.
    ramp = [7] * 150 + list(range(150, 300))
    out = text(array(INT, ramp))
    assert out.startswith("{7 <repeats 150 times>, 150, 151,") and out.endswith(", 299}")
    out = text(array(INT, list(range(300))))
    assert out.endswith(", 198, 199...}") and out.count(",") == 199
    out = text(array(INT, [5] * 20 + list(range(300))))
    assert out.startswith("{5 <repeats 20 times>, 0, 1,") and out.endswith(", 189...}")
    assert text(array(INT, [1, 255]), "x") == "{0x1, 0xff}"


def test_char_arrays_print_as_strings():
    name = Value.from_bytes(ArrayType(CHAR, [16]), b"shapes!".ljust(16, b"\0"))
    assert text(name) == '"shapes!\\000\\000\\000\\000\\000\\000\\000\\000"'
    far = Value.from_bytes(ArrayType(CHAR, [16]), b"far".ljust(16, b"\0"))
    assert text(far) == '"far", \'\\000\' <repeats 12 times>'
    assert text(Value.from_bytes(ArrayType(CHAR, [6]), b"hello\0")) == '"hello"'
    assert text(Value.from_bytes(ArrayType(CHAR, [4]), b"DCBA")) == '"DCBA"'
    assert text(Value.from_bytes(ArrayType(UCHAR, [4]), bytes([4, 3, 2, 1]))) == \
        '"\\004\\003\\002\\001"'
    assert text(Value.from_bytes(ArrayType(CHAR, [3]), b"hi\0"), "x") == "{0x68, 0x69, 0x0}"
    assert text(Value.from_bytes(ArrayType(CHAR, [3]), b"hi\0"), "d") == "{104, 105, 0}"
    long = Value.from_bytes(ArrayType(CHAR, [260]), b"a" * 259 + b"\0")
    assert text(long) == "'a' <repeats 259 times>"


def test_structs_unions_nesting_and_anonymous_members():
    point = StructType("point", 8, [Member("x", INT, 0), Member("y", INT, 4)])
    label = StructType("label", 24, [Member("name", ArrayType(CHAR, [8]), 0),
                                     Member("at", point, 8), Member("tag", UCHAR, 16),
                                     Member("next", PointerType(point), 16)])
    data = b"origin\0\0" + ints(INT, [0, -100]) + bytes(8)
    assert text(Value.from_bytes(label, data)) == \
        '{name = "origin\\000", at = {x = 0, y = -100}, tag = 0 \'\\000\', next = 0x0}'
    inner = StructType(None, 8, [Member("w", INT, 0), Member("h", INT, 4)])
    shape = StructType("shape", 12, [Member("kind", INT, 0), Member(None, inner, 4)])
    assert text(Value.from_bytes(shape, ints(INT, [1, 2, 3]))) == "{kind = 1, {w = 2, h = 3}}"
    word = UnionType("word", 4, [Member("u", UINT, 0), Member("b", ArrayType(UCHAR, [4]), 0)])
    assert text(Value.from_bytes(word, ints(UINT, [0x01020304])), "x") == \
        "{u = 0x1020304, b = {0x4, 0x3, 0x2, 0x1}}"
    assert text(Value.from_bytes(StructType("empty", 0, []), b"")) == "{<No data fields>}"
    opaque = StructType("opaque", 0, [], is_declaration=True)
    assert text(Value.from_bytes(opaque, b"")) == "<incomplete type>"


# --------------------------------------------------------------------------- scalars

@pytest.mark.parametrize("t,raw,expected", [
    (CHAR, 97, "97 'a'"), (UCHAR, 200, "200 '\\310'"), (CHAR, 10, "10 '\\n'"),
    (BaseType("signed char", 1, "signed_char"), -8, "-8 '\\370'"),
    (BOOL, 1, "true"), (BOOL, 0, "false"), (BOOL, 2, "2"),
    (TypedefType("wchar_t", INT), 119, "119 L'w'"),
    (BaseType("__int128", 16, "signed"), -7, "-7"),
])
def test_integers_chars_bools(t, raw, expected):
    assert text(Value.from_int(t, raw)) == expected


@pytest.mark.parametrize("t,x,expected", [
    (DOUBLE, 0.1, "0.10000000000000001"), (DOUBLE, 1.5, "1.5"), (DOUBLE, 1e100, "1e+100"),
    (DOUBLE, -2.25, "-2.25"), (DOUBLE, float("inf"), "inf"), (DOUBLE, float("-inf"), "-inf"),
    (DOUBLE, 100.0, "100"), (FLOAT, 0.1, "0.100000001"), (LONGDOUBLE, 0.1,
                                                           "0.100000000000000005551"),
    (LONGDOUBLE, 3.125, "3.125"), (DOUBLE, 1e16, "10000000000000000"),
])
def test_floats_use_decimal_dig_digits(t, x, expected):
    assert text(Value.from_bytes(t, float_to_bytes(x, t.size))) == expected


def test_c_g_format_switches_to_exponent_like_printf():
    assert c_g_format(Decimal("0.00001"), 21) == "1.00000000000000000000e-05".replace(
        "1.00000000000000000000e", "1e")
    assert c_g_format(Decimal("123456789"), 9) == "123456789"
    assert c_g_format(Decimal("1234567890"), 9) == "1.23456789e+09"


def test_enums_and_flag_enums():
    color = EnumType("color", 4, [Enumerator("RED", 0), Enumerator("GREEN", 1),
                                  Enumerator("BLUE", 2)],
                     is_flag_enum=flag_enum_heuristic([0, 1, 2]))
    perm = EnumType("perm", 4, [Enumerator("PERM_R", 4), Enumerator("PERM_W", 2),
                                Enumerator("PERM_X", 1)], is_flag_enum=True)
    sparse = EnumType("sparse", 4, [Enumerator("S_A", 1), Enumerator("S_B", 5)])
    assert enum_text(color, 1) == "GREEN"
    assert enum_text(color, 7) == "(GREEN | BLUE | unknown: 0x4)"
    assert enum_text(perm, 6) == "(PERM_R | PERM_W)"
    assert enum_text(perm, 12) == "(PERM_R | unknown: 0x8)"
    assert enum_text(perm, 8) == "(unknown: 0x8)"
    assert enum_text(perm, 0) == "0"
    assert enum_text(sparse, 3) == "3"
    assert text(Value.from_int(perm, 6), "x") == "0x6"


@pytest.mark.parametrize("letter,value,expected", [
    ("x", -1, "0xffffffff"), ("o", 8, "010"), ("t", 10, "1010"), ("d", -1, "-1"),
    ("u", -1, "4294967295"), ("c", 65, "65 'A'"), ("z", 5, "0x00000005"), ("x", 0, "0x0"),
    ("f", 3, "4.20389539e-45"),
])
def test_print_formats_on_int(letter, value, expected):
    assert text(Value.from_int(INT, value), letter) == expected


def test_print_formats_on_floats_use_the_bits():
    assert text(Value.from_float(DOUBLE, 2.25), "x") == "0x4002000000000000"
    assert text(Value.from_float(DOUBLE, 1.5), "d") == "4609434218613702656"
    assert text(Value.from_float(DOUBLE, 65.3), "c") == "65 'A'"
    assert text(Value.from_float(FLOAT, 1.5), "x") == "0x3fc00000"


# --------------------------------------------------------------------------- pointers

def test_pointer_prefixes_follow_c_value_print():
    sym = {0x4010: "v_int", 0x1139: "add", 0x4014: "v_int+4"}.get
    p_int = Value.from_int(PointerType(INT), 0x4010)
    assert text(p_int, symbolize=sym) == "(int *) 0x4010 <v_int>"
    assert text(p_int, "x", symbolize=sym) == "0x4010"
    assert text(Value.from_int(PointerType(VoidType()), 0x4014), symbolize=sym) == \
        "(void *) 0x4014 <v_int+4>"
    fn = FunctionType(INT, [INT, INT])
    assert text(Value.from_int(PointerType(fn), 0x1139), symbolize=sym) == \
        "(int (*)(int, int)) 0x1139 <add>"
    assert text(Value.from_int(TypedefType("binop", PointerType(fn)), 0), symbolize=sym) == \
        "(binop) 0x0"
    assert text(Value.at(fn, 0x1139, Access()), symbolize=sym) == \
        "{int (int, int)} 0x1139 <add>"


def test_char_pointers_print_their_string():
    mem = Strings({0x2000: b"hi \"there\"\n\0", 0x3000: b"x" * 300 + b"\0"})
    opts = dict(read_memory=mem)
    cp = PointerType(CONST_CHAR)
    assert text(Value.from_int(cp, 0x2000), **opts) == '0x2000 "hi \\"there\\"\\n"'
    assert text(Value.from_int(cp, 0), **opts) == "0x0"
    assert text(Value.from_int(cp, 0x10), **opts) == \
        "0x10 <error: Cannot access memory at address 0x10>"
    assert text(Value.from_int(cp, 0x3000), **opts) == "0x3000 'x' <repeats 200 times>..."
    # unsigned char * keeps its type prefix (only plain `char` loses it)
    assert text(Value.from_int(PointerType(UCHAR), 0x2000), **opts).startswith(
        "(unsigned char *) 0x2000 \"hi")
    # a typedef'd char pointer keeps its name
    assert text(Value.from_int(TypedefType("cstr", cp), 0x2000), **opts).startswith(
        '(cstr) 0x2000 "hi')


def test_unreadable_top_level_value_is_an_error():
    v = Value.at(INT, 0, Access(read_memory=Strings({})))
    with pytest.raises(MemoryAccessError, match="Cannot access memory at address 0x0"):
        text(v)
