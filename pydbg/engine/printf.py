"""gdb's printf: the format-string parser, argument splitting and C-style rendering.

Used by `printf`, `dprintf` and `pydbg trace`; pure (no process): callers convert each
argument to the Python value its conversion needs (int, float or bytes) first.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from pydbg.errors import CommandError, MemoryAccessError, PydbgError

_MASK64 = (1 << 64) - 1


class ArgClass(enum.Enum):
    """What a conversion consumes, as gdb's format_pieces classifies it."""
    INT = "int"                  # %d %i %u %x %o %X %c, no length modifier (or h)
    LONG = "long"                # %ld ...
    LONG_LONG = "long long"      # %lld ...
    SIZE_T = "size_t"            # %zd ...
    WIDE_CHAR = "wchar_t"        # %lc
    STRING = "string"            # %s
    WIDE_STRING = "wide string"  # %ls
    POINTER = "pointer"          # %p
    DOUBLE = "double"            # %f %e %g %E %G
    LONG_DOUBLE = "long double"  # %Lf ...
    DECFLOAT = "decimal float"   # %Hf %Df %DDf

    @property
    def is_integer(self) -> bool:
        return self in (ArgClass.INT, ArgClass.LONG, ArgClass.LONG_LONG, ArgClass.SIZE_T)

    @property
    def is_float(self) -> bool:
        return self in (ArgClass.DOUBLE, ArgClass.LONG_DOUBLE, ArgClass.DECFLOAT)


@dataclass(frozen=True)
class Piece:
    """Literal text, or one conversion specification ('%-5.2f')."""
    text: str                        # the literal (with '%%' already folded) or the spec
    argclass: ArgClass | None = None
    conversion: str = ""             # 'd', 'x', 's', 'p', 'f', ...
    flags: str = ""
    width: int | None = None
    precision: int | None = None
    short: bool = False              # the 'h' modifier: C converts the int to short


_ESCAPES = {"\\": "\\", "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t", "v": "\v", '"': '"'}


def read_format_string(text: str) -> tuple[str, str]:
    """Unescape a format string up to its closing quote: (format, rest after the quote).

    TEXT starts just after the opening quote. Raises gdb's errors for a bad escape or a
    missing closing quote.
    """
    out: list[str] = []
    i = 0
    while i < len(text) and text[i] != '"':
        ch = text[i]
        i += 1
        if ch == "\\":
            nxt = text[i] if i < len(text) else "\n"
            i += 1
            if nxt not in _ESCAPES:
                raise CommandError(f"Unrecognized escape character \\{nxt} in format string.")
            out.append(_ESCAPES[nxt])
        else:
            out.append(ch)
    if i >= len(text):
        raise CommandError("Bad format string, non-terminated '\"'.")
    return "".join(out), text[i + 1:]


def parse_format(fmt: str) -> list[Piece]:
    """Split an unescaped format string into literal pieces and conversions (gdb's rules)."""
    pieces: list[Piece] = []
    literal: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        i += 1
        if ch != "%":
            literal.append(ch)
            continue
        if i < n and fmt[i] == "%":
            literal.append("%")
            i += 1
            continue
        if literal:
            pieces.append(Piece("".join(literal)))
            literal = []
        start = i - 1
        flags = ""
        while i < n and fmt[i] in "0-+ #":
            flags += fmt[i]
            i += 1
        j = i
        while i < n and fmt[i].isdigit():
            i += 1
        width = int(fmt[j:i]) if i > j else None
        precision = None
        if i < n and fmt[i] == ".":
            i += 1
            j = i
            while i < n and fmt[i].isdigit():
                i += 1
            precision = int(fmt[j:i]) if i > j else 0
        lcount = 0
        seen_h = seen_big_l = seen_z = seen_dec = False
        if i < n:
            m = fmt[i]
            if m == "h":
                seen_h, i = True, i + 1
            elif m == "l":
                i += 1
                lcount = 1
                if i < n and fmt[i] == "l":
                    lcount, i = 2, i + 1
            elif m == "L":
                seen_big_l, i = True, i + 1
            elif m == "H":
                seen_dec, i = True, i + 1
            elif m == "D":
                seen_dec, i = True, i + 1
                if i < n and fmt[i] == "D":
                    i += 1
            elif m == "z":
                seen_z, i = True, i + 1
        conv = fmt[i] if i < n else ""
        bad = False
        has = set(flags)
        if conv in "uoxXdi" and conv:
            if conv == "u" and "#" in has:
                bad = True
            if conv in "uoxX" and has & {" ", "+"}:
                bad = True
            if seen_z:
                argclass = ArgClass.SIZE_T
            else:
                argclass = [ArgClass.INT, ArgClass.LONG, ArgClass.LONG_LONG][lcount]
            bad = bad or seen_big_l
        elif conv == "c":
            argclass = ArgClass.INT if lcount == 0 else ArgClass.WIDE_CHAR
            bad = lcount > 1 or seen_h or seen_big_l or precision is not None or \
                bool(has & {"0", " ", "+"})
        elif conv == "p":
            argclass = ArgClass.POINTER
            bad = bool(lcount or seen_h or seen_big_l or precision is not None or
                       has & {"#", "0", " ", "+"})
        elif conv == "s":
            argclass = ArgClass.STRING if lcount == 0 else ArgClass.WIDE_STRING
            bad = lcount > 1 or seen_h or seen_big_l or bool(has & {"0", " ", "+"})
        elif conv in ("e", "f", "g", "E", "G"):
            argclass = ArgClass.DECFLOAT if seen_dec else \
                ArgClass.LONG_DOUBLE if seen_big_l else ArgClass.DOUBLE
            bad = bool(lcount or seen_h)
        elif conv == "*":
            raise CommandError("`*' not supported for precision or width in printf")
        elif conv == "n":
            raise CommandError("Format specifier `n' not supported in printf")
        elif conv == "":
            raise CommandError("Incomplete format specifier at end of format string")
        else:
            raise CommandError(f"Unrecognized format specifier '{conv}' in printf")
        if bad:
            raise CommandError(f"Inappropriate modifiers to format specifier '{conv}' in printf")
        i += 1
        pieces.append(Piece(fmt[start:i], argclass, conv, flags, width, precision, seen_h))
    if literal:
        pieces.append(Piece("".join(literal)))
    return pieces


def split_arguments(text: str) -> list[str]:
    """Split 'a, f(b, c), "x,y"' at top-level commas, as gdb's parse_to_comma does."""
    args: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            current.append(ch)
            if ch == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            current.append(ch)
        elif ch in "([{":
            depth += 1
            current.append(ch)
        elif ch in ")]}":
            depth -= 1
            current.append(ch)
        elif ch == "," and depth <= 0:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    last = "".join(current).strip()
    if last or args:
        args.append(last)
    return args


@dataclass(frozen=True)
class PrintfCommand:
    """A parsed `printf "FORMAT", ARGS...` line: its pieces and argument expressions."""
    pieces: tuple[Piece, ...]
    arguments: tuple[str, ...]

    @property
    def conversions(self) -> list[Piece]:
        return [p for p in self.pieces if p.argclass is not None]


def parse_printf(arg: str) -> PrintfCommand:
    """Parse the argument of gdb's printf: a quoted format, then comma-separated expressions."""
    s = arg.lstrip()
    if not s:
        raise CommandError("Argument required (format-control string and values to print).")
    if not s.startswith('"'):
        raise CommandError("Bad format string, missing '\"'.")
    fmt, rest = read_format_string(s[1:])
    pieces = parse_format(fmt)
    rest = rest.lstrip()
    if rest and not rest.startswith(","):
        raise CommandError("Invalid argument syntax")
    rest = rest[1:].strip() if rest else ""
    arguments = split_arguments(rest) if rest else []
    if arguments and arguments[-1] == "":
        arguments.pop()     # gdb accepts one trailing comma
    if any(not a for a in arguments):
        raise CommandError("A syntax error in expression, near `'.")
    return PrintfCommand(tuple(pieces), tuple(arguments))


def check_argument_count(command: PrintfCommand, count: int) -> None:
    if count != len(command.conversions):
        raise CommandError("Wrong number of arguments for specified format-string")


# ----------------------------------------------------------------------------- rendering

def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _pad(body: str, width: int | None, left: bool) -> str:
    if width is None or len(body) >= width:
        return body
    return body.ljust(width) if left else body.rjust(width)


def _format_int(piece: Piece, value: int) -> str:
    conv, flags = piece.conversion, piece.flags
    bits = 32 if piece.argclass is ArgClass.INT else 64
    if piece.short:
        bits = 16
    if conv == "c":
        return _pad(chr(value & 0xFF), piece.width, "-" in flags)
    signed = conv in "di"
    value = _signed(value, bits) if signed else value & ((1 << bits) - 1)
    sign = ""
    if value < 0:
        sign, value = "-", -value
    elif signed and "+" in flags:
        sign = "+"
    elif signed and " " in flags:
        sign = " "
    base = {"o": "o", "x": "x", "X": "X"}.get(conv, "d")
    digits = format(value, base)
    if piece.precision is not None:
        digits = "" if piece.precision == 0 and value == 0 else digits.zfill(piece.precision)
    prefix = sign
    if "#" in flags:
        if conv in "xX" and value != 0:
            prefix += "0" + conv
        elif conv == "o" and not digits.startswith("0"):
            digits = "0" + digits
    width = piece.width
    if width is not None and "0" in flags and "-" not in flags and piece.precision is None:
        digits = digits.zfill(width - len(prefix))
    return _pad(prefix + digits, width, "-" in flags)


def _format_float(piece: Piece, value: float) -> str:
    spec = "%" + piece.flags + (str(piece.width) if piece.width is not None else "")
    if piece.precision is not None:
        spec += f".{piece.precision}"
    if math.isnan(value) or math.isinf(value):
        # C never zero-pads inf/nan and spells nan's sign.
        text = ("-" if math.copysign(1.0, value) < 0 else
                "+" if "+" in piece.flags else " " if " " in piece.flags else "") + \
            ("nan" if math.isnan(value) else "inf")
        if piece.conversion.isupper():
            text = text.upper()
        return _pad(text, piece.width, "-" in piece.flags)
    return (spec + piece.conversion) % value


def _format_string(piece: Piece, value: bytes) -> str:
    spec = "%" + piece.flags.replace("#", "") + \
        (str(piece.width) if piece.width is not None else "")
    if piece.precision is not None:
        spec += f".{piece.precision}"
    data = (spec.encode() + b"s") % value
    return data.decode("utf-8", errors="replace")


def _format_pointer(piece: Piece, value: int) -> str:
    value &= _MASK64
    body = "(nil)" if value == 0 else f"{value:#x}"
    return _pad(body, piece.width, "-" in piece.flags)


def render(pieces: Sequence[Piece], values: Sequence[int | float | bytes | None]) -> str:
    """The text of a parsed format with one converted value per conversion.

    Integer and pointer conversions take ints, float conversions floats, %s bytes
    (None for a null pointer: gdb prints "(null)").
    """
    out: list[str] = []
    it = iter(values)
    for piece in pieces:
        if piece.argclass is None:
            out.append(piece.text)
            continue
        value = next(it)
        cls = piece.argclass
        if cls.is_integer:
            out.append(_format_int(piece, int(value)))   # type: ignore[arg-type]
        elif cls is ArgClass.POINTER:
            out.append(_format_pointer(piece, int(value)))  # type: ignore[arg-type]
        elif cls.is_float:
            out.append(_format_float(piece, float(value)))  # type: ignore[arg-type]
        elif cls in (ArgClass.STRING, ArgClass.WIDE_STRING):
            if value is None:
                out.append(_format_string(piece, b"(null)"))
            else:
                out.append(_format_string(piece, bytes(value)))  # type: ignore[arg-type]
        else:  # wide char: gdb prints it as a one-character string
            out.append(_pad(chr(int(value)), piece.width, "-" in piece.flags))  # type: ignore
    return "".join(out)


# ------------------------------------------------------------------ value conversion

def _category(value: Any) -> str:
    """'float', 'ptr', 'array', 'struct', 'func' or 'int' for an engine Value's C type."""
    from pydbg.symbols.types import (ArrayType, BaseType, CompositeType, FunctionType,
                                     PointerType, strip_typedefs)
    t = getattr(value, "type", None)
    if t is None:
        return "float" if isinstance(value, float) else "int"
    t = strip_typedefs(t)
    if isinstance(t, BaseType) and t.is_float:
        return "float"
    if isinstance(t, PointerType):
        return "ptr"
    if isinstance(t, ArrayType):
        return "array"
    if isinstance(t, CompositeType):
        return "struct"
    if isinstance(t, FunctionType):
        return "func"
    return "int"


def _size_of(value: Any) -> int:
    size = getattr(value, "size", None)
    return int(size) if isinstance(size, int) else 8


def _as_int(value: Any) -> int:
    """gdb's value_as_long: floats truncate, pointers give their address."""
    if isinstance(value, (int, float)):
        return int(value)
    category = _category(value)
    if category == "struct":
        raise CommandError("Value can't be converted to integer.")
    if category == "func":
        address = getattr(value, "address", None)
        return int(address or 0)
    if category == "array":
        address = getattr(value, "address", None)
        if address is None:
            raise CommandError("Value can't be converted to integer.")
        return int(address)
    return int(value.as_int())


def _as_float(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return float(value.as_float())


def read_c_string(read_memory: Callable[[int, int], bytes], address: int,
                  limit: int = 1 << 20) -> bytes:
    """Bytes at ADDRESS up to (not including) the first NUL."""
    out = bytearray()
    chunk = 256
    while len(out) < limit:
        try:
            data = read_memory(address + len(out), chunk - (address + len(out)) % chunk)
        except PydbgError:
            # Near the end of a mapping: go byte by byte to find how far we can read.
            try:
                data = read_memory(address + len(out), 1)
            except PydbgError:
                raise MemoryAccessError(address + len(out)) from None
        end = data.find(b"\0")
        if end >= 0:
            out += data[:end]
            return bytes(out)
        out += data
    return bytes(out)


def convert_argument(piece: Piece, value: Any,
                     read_memory: Callable[[int, int], bytes]) -> int | float | bytes | None:
    """The Python value a conversion prints, from an engine value, by gdb's rules."""
    cls = piece.argclass
    assert cls is not None
    category = _category(value)
    if cls in (ArgClass.STRING, ArgClass.WIDE_STRING):
        if category == "array" and getattr(value, "address", None) is None:
            # A string literal, or an array not in memory: its own bytes.
            data = bytes(value.fetch())
            end = data.find(b"\0")
            return data[:end] if end >= 0 else data
        address = _as_int(value) & _MASK64
        if not address:
            return None
        return read_c_string(read_memory, address)
    if cls.is_float:
        if category == "float":
            return _as_float(value)
        # gdb: a non-float argument the size of a float type is reinterpreted, not converted.
        size = _size_of(value)
        if category in ("int", "ptr") and size in (4, 8):
            bits = _as_int(value) & ((1 << (8 * size)) - 1)
            return struct.unpack("<f" if size == 4 else "<d", bits.to_bytes(size, "little"))[0]
        return float(_as_int(value))
    return _as_int(value)


def format_values(command: PrintfCommand, values: Sequence[Any],
                  read_memory: Callable[[int, int], bytes]) -> str:
    """Render a parsed printf with already evaluated engine values."""
    check_argument_count(command, len(values))
    pieces = command.conversions
    converted = [convert_argument(p, v, read_memory) for p, v in zip(pieces, values)]
    return render(command.pieces, converted)
