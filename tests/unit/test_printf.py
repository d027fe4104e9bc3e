"""gdb's printf format engine, without a process: parsing, errors and C-style rendering.

Expected texts were printed by gdb 13 for the same format and values (`gdb -batch -ex
'printf ...'`); the cli oracle test runs more of them against gdb live.
"""

from __future__ import annotations

import pytest

from pydbg.engine.printf import (
    ArgClass, check_argument_count, convert_argument, parse_format, parse_printf, render,
    split_arguments,
)
from pydbg.errors import CommandError


def fmt(text: str, *values) -> str:
    cmd = parse_printf(text)
    check_argument_count(cmd, len(values))
    return render(cmd.pieces, list(values))


@pytest.mark.parametrize("line, values, expected", [
    ('"%d|%i|%u|%x|%o|%X\\n"', (-1, 2, -1, -1, 8, 255), "-1|2|4294967295|ffffffff|10|FF\n"),
    ('"%ld|%lu|%lx|%lld|%llu|%llx\\n"', (-1,) * 6,
     "-1|18446744073709551615|ffffffffffffffff|-1|18446744073709551615|ffffffffffffffff\n"),
    ('"%5d|%-5d|%05d|%+d|% d|%.3d\\n"', (42,) * 6, "   42|42   |00042|+42| 42|042\n"),
    ('"%05d|%5.3d|%-05d|"', (-42, -7, 3), "-0042| -007|3    |"),
    ('"%c%c|%5c|"', (72, 105, ord("x")), "Hi|    x|"),
    ('"%c"', (0x263A,), ":"),
    ('"%p|%p|%20p|"', (0, 4096, 255), "(nil)|0x1000|                0xff|"),
    ('"%-6p|"', (16,), "0x10  |"),
    ('"%p"', (-1,), "0xffffffffffffffff"),
    ('"%#x|%#o|%#X"', (255, 8, 255), "0xff|010|0XFF"),
    ('"%#x|%#o"', (0, 0), "0|0"),
    ('"%zd|%zu|%zx"', (-1, -1, 255), "-1|18446744073709551615|ff"),
    ('"%u|%d"', (5000000000, 5000000000), "705032704|705032704"),
    ('"%x"', (3000000000,), "b2d05e00"),
    ('"%hd|%hu"', (70000, -1), "4464|65535"),
    ('"%g|%e|%f"', (3.5, 1e10, -2.25), "3.5|1.000000e+10|-2.250000"),
    ('"%-+8.3f|%08.3f|%.0f|%#.0f"', (3.14159, -3.14159, 2.5, 2.5), "+3.142  |-003.142|2|2."),
    ('"%e|%E|%G|%g"', (0.000012345, 12345678.9, 1e-10, 100000.0),
     "1.234500e-05|1.234568E+07|1E-10|100000"),
    ('"%Lf"', (2.5,), "2.500000"),
    ('"%s|%10s|%-10s|%.2s|"', (b"lit", b"abc", b"abc", b"abc"), "lit|       abc|abc       |ab|"),
    ('"%s"', (None,), "(null)"),
    ('"100%% %d%%"', (5,), "100% 5%"),
    ('"\\t\\\\\\"\\a|\\e\\b\\f\\r\\v"', (), '\t\\"\a|\x1b\b\f\r\v'),
    ('"no args\\n"', (), "no args\n"),
])
def test_rendering_matches_gdb(line, values, expected):
    assert fmt(line, *values) == expected


@pytest.mark.parametrize("line, message", [
    ('', "Argument required (format-control string and values to print)."),
    ('abc', "Bad format string, missing '\"'."),
    ('"abc', "Bad format string, non-terminated '\"'."),
    ('"%s" "x"', "Invalid argument syntax"),
    ('"abc" junk', "Invalid argument syntax"),
    ('"%q\\n", 1', "Unrecognized format specifier 'q' in printf"),
    ('"%n\\n", 1', "Format specifier `n' not supported in printf"),
    ('"%*d\\n", 5, 65', "`*' not supported for precision or width in printf"),
    ('"%a\\n", 1.0', "Unrecognized format specifier 'a' in printf"),
    ('"%hhd\\n", 1', "Unrecognized format specifier 'h' in printf"),
    ('"%jd\\n", 1', "Unrecognized format specifier 'j' in printf"),
    ('"%1$d\\n", 1', "Unrecognized format specifier '$' in printf"),
    ('"%lf\\n", 1.5', "Inappropriate modifiers to format specifier 'f' in printf"),
    ('"%#p\\n", 1', "Inappropriate modifiers to format specifier 'p' in printf"),
    ('"%.5p\\n", 1', "Inappropriate modifiers to format specifier 'p' in printf"),
    ('"%llc\\n", 1', "Inappropriate modifiers to format specifier 'c' in printf"),
    ('"%5%|\\n"', "Unrecognized format specifier '%' in printf"),
    ('"\\x41"', "Unrecognized escape character \\x in format string."),
    ('"\\101"', "Unrecognized escape character \\1 in format string."),
    ('"%"', "Incomplete format specifier at end of format string"),
])
def test_errors_are_gdbs(line, message):
    with pytest.raises(CommandError) as exc:
        parse_printf(line)
    assert str(exc.value) == message


def test_argument_count_is_checked():
    for line, count in [('"%d\\n"', 0), ('"%d\\n", 1, 2', 2), ('"%d %s\\n", 1', 1)]:
        cmd = parse_printf(line)
        with pytest.raises(CommandError, match="Wrong number of arguments"):
            check_argument_count(cmd, len(cmd.arguments))
        assert len(cmd.arguments) == count


def test_arguments_split_at_top_level_commas():
    assert split_arguments('a, f(b, c), "x,y", \'a\', s[1,2]') == \
        ["a", "f(b, c)", '"x,y"', "'a'", "s[1,2]"]
    assert parse_printf('"x" , ').arguments == ()
    assert parse_printf('"%d%d\\n", 1 , 2').arguments == ("1", "2")


def test_classes_of_conversions():
    classes = [p.argclass for p in parse_format("%d %ld %lld %zu %c %lc %s %ls %p %f %Lg")
               if p.argclass is not None]
    assert classes == [ArgClass.INT, ArgClass.LONG, ArgClass.LONG_LONG, ArgClass.SIZE_T,
                       ArgClass.INT, ArgClass.WIDE_CHAR, ArgClass.STRING, ArgClass.WIDE_STRING,
                       ArgClass.POINTER, ArgClass.DOUBLE, ArgClass.LONG_DOUBLE]


def _typed(ctype, raw: bytes):
    from pydbg.engine.values import Value
    return Value.from_bytes(ctype, raw)


def test_integers_for_float_formats_are_reinterpreted_like_gdb():
    # gdb: `printf "%g|%f", 3, 10L` prints 4.2039e-45|0.000000 (the bits, not the number)
    from pydbg.engine.evaluate import CHAR, INT, LONG
    piece_g, = [p for p in parse_format("%g") if p.argclass]
    three = _typed(INT, (3).to_bytes(4, "little"))
    assert render(parse_format("%g"), [convert_argument(piece_g, three, None)]) == \
        "4.2039e-45"
    ten = _typed(LONG, (10).to_bytes(8, "little"))
    assert render(parse_format("%f"), [convert_argument(piece_g, ten, None)]) == "0.000000"
    one = _typed(CHAR, b"\x01")     # not the size of a float type: converted
    assert render(parse_format("%f"), [convert_argument(piece_g, one, None)]) == "1.000000"


def test_strings_come_from_memory_or_literals():
    from pydbg.engine.evaluate import CHAR, LONG
    from pydbg.symbols.types import ArrayType, PointerType
    memory = {0x1000: b"hello\0junk"}

    def read(address, size):
        base = 0x1000
        data = memory[base]
        return data[address - base:address - base + size]

    piece, = [p for p in parse_format("%s") if p.argclass]
    ptr = _typed(PointerType(CHAR), (0x1000).to_bytes(8, "little"))
    assert convert_argument(piece, ptr, read) == b"hello"
    literal = _typed(ArrayType(CHAR, [4]), b"abc\0")
    assert convert_argument(piece, literal, read) == b"abc"
    null = _typed(PointerType(CHAR), bytes(8))
    assert convert_argument(piece, null, read) is None
    d, = [p for p in parse_format("%d") if p.argclass]
    assert convert_argument(d, _typed(LONG, (7).to_bytes(8, "little")), read) == 7
