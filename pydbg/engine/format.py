"""gdb's text for scalars (`print/FMT`), the `x` command, strings and `info registers`.

Pure functions: memory arrives through a read callback and symbols through a symbolizer.
"""

from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Sequence

from pydbg.arch.x86_64 import (
    GENERAL_REGISTERS, MASK_REGISTERS, SYSTEM_REGISTERS, RegFormat, Register,
    eflags_names, lookup_register,
)
from pydbg.errors import CommandError, MemoryAccessError

# symbolize(address) -> "name" / "name+off" (without the angle brackets), or None.
Symbolizer = Callable[[int], "str | None"]
# read_memory(address, length) -> bytes; it may return fewer bytes or raise
# MemoryAccessError when part of the range is unreadable.
MemoryReader = Callable[[int, int], bytes]

PRINT_FORMATS = frozenset("xduotacfsz")
X_FORMATS = PRINT_FORMATS | {"i"}
UNIT_SIZES = {"b": 1, "h": 2, "w": 4, "g": 8}
# Values gdb prints per `x` line for each unit size.
ITEMS_PER_LINE = {1: 8, 2: 8, 4: 4, 8: 2}
ADDRESS_BITS = 64
DEFAULT_PRINT_ELEMENTS = 200      # gdb's `set print elements`
DEFAULT_REPEAT_THRESHOLD = 10     # gdb's `set print repeats`
REGISTER_NAME_COLUMN = 15         # gdb's value_column_1
REGISTER_NATURAL_COLUMN = 35      # gdb's value_column_2 (15 + 2 + 16 + 2)


class FormatErrorWithOutput(CommandError):
    """A command error raised after some output lines were already produced."""

    def __init__(self, message: str, lines: list[str]) -> None:
        super().__init__(message)
        self.lines = lines


class ExamineError(MemoryAccessError):
    """`x` hit unreadable memory part way through.

    `lines` are the complete lines printed before; `partial` is the unfinished line (it
    ends with a tab), which gdb completes with this error's message on the same line.
    """

    def __init__(self, address: int, lines: list[str], partial: str,
                 next_address: int, last_address: int) -> None:
        super().__init__(address)
        self.lines = lines
        self.partial = partial
        self.next_address = next_address
        self.last_address = last_address

    @property
    def text(self) -> str:
        """Everything gdb shows for this command, error included."""
        return "\n".join(self.lines + [self.partial + str(self)])


# --------------------------------------------------------------------------- numbers

def _mask(size: int) -> int:
    return (1 << (8 * size)) - 1


def _as_signed(raw: int, size: int) -> int:
    raw &= _mask(size)
    return raw - (1 << (8 * size)) if raw >> (8 * size - 1) else raw


def format_hex(raw: int, size: int, pad: bool = False) -> str:
    """gdb's print_hex_chars: `0x` and the digits, zero-padded to SIZE bytes if PAD."""
    raw &= _mask(size)
    return f"0x{raw:0{2 * size}x}" if pad else f"{raw:#x}"


def format_octal(raw: int, size: int) -> str:
    """gdb's print_octal_chars: a leading 0, and plain `0` for zero."""
    raw &= _mask(size)
    return f"0{raw:o}" if raw else "0"


def format_binary(raw: int, size: int, pad: bool = False) -> str:
    """gdb's print_binary_chars: no prefix, zero-padded to the size's bits if PAD."""
    raw &= _mask(size)
    return f"{raw:0{8 * size}b}" if pad else f"{raw:b}"


def format_decimal(raw: int, size: int, signed: bool) -> str:
    return str(_as_signed(raw, size) if signed else raw & _mask(size))


def format_float_bits(raw: int, size: int) -> str:
    """RAW read as an IEEE float (4 bytes) or double (8 bytes), written the way gdb does."""
    if size == 4:
        exp_bits, mant_bits, digits, fmt = 8, 23, 9, "<f"
    elif size == 8:
        exp_bits, mant_bits, digits, fmt = 11, 52, 17, "<d"
    else:
        raise ValueError(f"no float type of size {size}")
    raw &= _mask(size)
    sign = "-" if raw >> (8 * size - 1) else ""
    exponent = (raw >> mant_bits) & ((1 << exp_bits) - 1)
    mantissa = raw & ((1 << mant_bits) - 1)
    if exponent == (1 << exp_bits) - 1:
        return f"{sign}inf" if mantissa == 0 else f"{sign}nan({mantissa:#x})"
    value = struct.unpack(fmt, raw.to_bytes(size, "little"))[0]
    return f"{value:.{digits}g}"


def format_address(address: int, symbolize: Symbolizer | None = None) -> str:
    """`0x401136 <main+4>` (gdb's print_address); just the hex when no symbol is near."""
    address &= _mask(ADDRESS_BITS // 8)
    text = f"{address:#x}"
    sym = symbolize(address) if symbolize else None
    return f"{text} <{sym}>" if sym else text


# ------------------------------------------------------------------ characters, strings

# Escapes gdb writes by name; everything else unprintable becomes \ooo or \xhh.
_NAMED_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_OK, _INVALID, _INCOMPLETE, _EOF = "ok", "invalid", "incomplete", "eof"


def _printable(code: int, charset: str) -> bool:
    """Like glibc's iswprint in gdb's host locale (C.UTF-8, or plain ASCII)."""
    if charset == "ascii":
        return 0x20 <= code < 0x7F
    return unicodedata.category(chr(code)) not in ("Cc", "Cn", "Cs", "Zl", "Zp")


@dataclass
class _Converted:
    """One step of gdb's wchar_iterator: a character, an invalid unit, or a bad tail."""

    result: str
    code: int | None = None
    units: tuple[int, ...] = ()
    repeat: int = 0

    def same_as(self, other: "_Converted") -> bool:
        if self.result != other.result:
            return False
        if self.result == _OK:
            return self.code == other.code
        return self.units == other.units


def _iterate_chars(units: Sequence[int], width: int, charset: str) -> Iterator[_Converted]:
    """Decode target characters like gdb's iconv-based wchar_iterator."""
    chars = list(_decode_units(units, width, charset))
    # gdb asks iconv for one character at a time; when the character is followed by an
    # incomplete sequence, iconv reports EINVAL and gdb drops the converted character.
    if len(chars) >= 2 and chars[-1].result == _INCOMPLETE and chars[-2].result == _OK:
        del chars[-2]
    return iter(chars)


def _decode_units(units: Sequence[int], width: int, charset: str) -> Iterator[_Converted]:
    i, n = 0, len(units)
    while i < n:
        u = units[i]
        if width == 1:
            if u < 0x80:
                yield _Converted(_OK, u, (u,))
                i += 1
                continue
            if charset == "ascii":
                yield _Converted(_INVALID, None, (u,))
                i += 1
                continue
            step = _utf8_step(units, i)
            if step is None:
                yield _Converted(_INVALID, None, (u,))
                i += 1
            elif step == 0:
                yield _Converted(_INCOMPLETE, None, tuple(units[i:]))
                return
            else:
                seq = bytes(units[i:i + step])
                yield _Converted(_OK, ord(seq.decode("utf-8")), tuple(seq))
                i += step
        elif width == 2:
            if 0xD800 <= u < 0xDC00:
                if i + 1 >= n:
                    yield _Converted(_INCOMPLETE, None, tuple(units[i:]))
                    return
                lo = units[i + 1]
                if 0xDC00 <= lo < 0xE000:
                    code = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    yield _Converted(_OK, code, (u, lo))
                    i += 2
                    continue
                yield _Converted(_INVALID, None, (u,))
            elif 0xDC00 <= u < 0xE000:
                yield _Converted(_INVALID, None, (u,))
            else:
                yield _Converted(_OK, u, (u,))
            i += 1
        else:
            if u > 0x10FFFF or 0xD800 <= u < 0xE000:
                yield _Converted(_INVALID, None, (u,))
            else:
                yield _Converted(_OK, u, (u,))
            i += 1


def _utf8_step(data: Sequence[int], i: int) -> int | None:
    """Length of the UTF-8 sequence at I; 0 if it is cut short by the end; None if bad."""
    b = data[i]
    if 0xC2 <= b <= 0xDF:
        need, lo, hi = 1, 0x80, 0xBF
    elif 0xE0 <= b <= 0xEF:
        need = 2
        lo, hi = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F)}.get(b, (0x80, 0xBF))
    elif 0xF0 <= b <= 0xF4:
        need = 3
        lo, hi = {0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}.get(b, (0x80, 0xBF))
    else:
        return None
    for j in range(1, need + 1):
        if i + j >= len(data):
            return 0
        c = data[i + j]
        if not ((lo <= c <= hi) if j == 1 else (0x80 <= c <= 0xBF)):
            return None
    return need + 1


def _print_wchar(conv: _Converted, quoter: str, need_escape: bool,
                 charset: str) -> tuple[str, bool]:
    """gdb's print_wchar: one character as it appears inside quotes."""
    w = conv.code if conv.result == _OK else None
    if w is not None and w in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[w], False
    if w is not None and _printable(w, charset) and not (need_escape and w in _HEX_DIGITS):
        prefix = "\\" if (quoter and w == ord(quoter)) or w == 0x5C else ""
        return prefix + chr(w), False
    out, escaped = [], False
    for u in conv.units:
        # Octal fits 3 digits; a hex escape has no length limit, so the next
        # character must not look like a hex digit.
        if u <= 0o777:
            out.append(f"\\{u:03o}")
            escaped = False
        else:
            out.append(f"\\x{u:x}")
            escaped = True
    return "".join(out), escaped


def format_char(value: int, signed: bool = True, charset: str = "utf-8") -> str:
    """A C char value as gdb prints it: `65 'A'`, `-1 '\\377'`, `10 '\\n'`."""
    raw = value & 0xFF
    number = _as_signed(raw, 1) if signed else raw
    text = "".join(_print_wchar(c, "'", False, charset)[0]
                   for c in _iterate_chars([raw], 1, charset))
    return f"{number} '{text}'"


def quote_string(units: Sequence[int] | bytes, width: int = 1, *, force_ellipsis: bool = False,
                 c_style_terminator: bool = True, charset: str = "utf-8",
                 print_elements: int | None = DEFAULT_PRINT_ELEMENTS,
                 repeat_threshold: int | None = DEFAULT_REPEAT_THRESHOLD) -> str:
    """gdb's generic_printstr: quoted text with escapes, `'x' <repeats N times>` runs, `...`.

    UNITS are the character codes (bytes for WIDTH 1); a trailing 0 is dropped. The `u`/`U`
    prefix of char16_t/char32_t strings is added for WIDTH 2/4.
    """
    prefix = {1: "", 2: "u", 4: "U"}[width]
    units = list(units)
    if c_style_terminator and not force_ellipsis and units and units[-1] == 0:
        units.pop()
    if not units:
        return prefix + '""'
    print_max = print_elements if print_elements else 1 << 62
    threshold = repeat_threshold if repeat_threshold else 1 << 62

    chars = _iterate_chars(units, width, charset)
    converted: list[_Converted] = []
    count = 0
    while count < print_max:
        # count_next_character: group the next run of identical characters.
        if not converted:
            converted.append(next(chars, _Converted(_EOF)))
        current = converted[-1]
        current.repeat = 1
        if current.result == _EOF:
            break
        while True:
            d = next(chars, _Converted(_EOF))
            if d.result != _EOF and d.same_as(current):
                current.repeat += 1
            else:
                break
        converted.append(d)
        count += current.repeat
    finished = converted[-1].result == _EOF
    converted[-1] = _Converted(_EOF)

    out: list[str] = []
    need_escape = False
    elements = 0
    last = "start"
    for elem in converted:
        if elem.result == _EOF:
            if last == "single":
                out.append('"')
            break
        if elem.result == _INCOMPLETE:
            if last == "single":
                out.append('"')
            if last != "start":
                out.append(", ")
            text, need_escape = _print_wchar(elem, "", need_escape, charset)
            out.append(f"<incomplete sequence {text}>")
            break
        if elem.repeat > threshold:
            if last == "single":
                out.append('"')
            if last != "start":
                out.append(", ")
            # gdb quotes the repeated character with the string's quoter, not "'".
            text, need_escape = _print_wchar(elem, '"', need_escape, charset)
            out.append(f"'{text}' <repeats {elem.repeat} times>")
            elements += elem.repeat
            last = "repeat"
        else:
            if last != "single":
                if last != "start":
                    out.append(", ")
                out.append('"')
            repeat = elem.repeat
            if print_max < repeat + elements:
                repeat = print_max - elements
                finished = False
            for _ in range(repeat):
                text, need_escape = _print_wchar(elem, '"', need_escape, charset)
                out.append(text)
                elements += 1
            last = "single"
    if force_ellipsis or not finished:
        out.append("...")
    return prefix + "".join(out)


# ------------------------------------------------------------------------ print/FMT

def format_flags(value: int, type_name: str = "i386_eflags") -> str:
    """EFLAGS the way gdb prints its flags type: `[ CF ZF IF ]` (`[ ]` when none);
    TYPE_NAME "i386_mxcsr" names MXCSR's bits instead."""
    if type_name == "i386_mxcsr":
        from pydbg.arch.x86_64 import MXCSR_BITS
        names = [n for bit, n in MXCSR_BITS if value >> bit & 1]
    else:
        names = eflags_names(value)
    return "[" + "".join(f" {n}" for n in names) + " ]"


def _natural(raw: int, size: int, signed: bool, kind: str, symbolize: Symbolizer | None,
             type_name: str | None, charset: str) -> str:
    if kind == "flags":
        return format_flags(raw)
    if kind in ("data_ptr", "code_ptr"):
        text = format_address(raw, symbolize)
        return f"({type_name}) {text}" if type_name else text
    if kind == "char":
        return format_char(raw, signed, charset)
    return format_decimal(raw, size, signed)


def _format_with_letter(raw: int, size: int, signed: bool, fmt: str, pad: bool,
                        symbolize: Symbolizer | None, charset: str) -> str:
    """gdb's print_scalar_formatted for an integer-like value of SIZE bytes."""
    if fmt == "x":
        return format_hex(raw, size, pad)
    if fmt == "z":
        return format_hex(raw, size, True)
    if fmt == "t":
        return format_binary(raw, size, pad)
    if fmt == "o":
        return format_octal(raw, size)
    if fmt == "d":
        return format_decimal(raw, size, True)
    if fmt == "u":
        return format_decimal(raw, size, False)
    if fmt == "c":
        return format_char(raw, signed, charset)
    if fmt == "a":
        # A signed value is sign-extended to an address (p/a -1 -> 0xffffffffffffffff).
        value = _as_signed(raw, size) if signed else raw
        return format_address(value, symbolize)
    if fmt == "f":
        if size in (4, 8):
            return format_float_bits(raw, size)
        return format_decimal(raw, size, signed)
    raise CommandError(f'Undefined output format "{fmt}".')


def format_scalar(value: int, size: int, signed: bool, fmt: str | None = None, *,
                  kind: str = "int", symbolize: Symbolizer | None = None,
                  type_name: str | None = None, charset: str = "utf-8") -> str:
    """An integer-like value as `print` / `print/FMT` shows it (after `$N = `).

    KIND is "int", "char", "data_ptr", "code_ptr" or "flags" and decides the natural
    form (FMT None or "s"); TYPE_NAME, for pointers, adds gdb's `(void *) ` prefix.
    """
    raw = value & _mask(size)
    if fmt is None or fmt == "s":
        return _natural(raw, size, signed, kind, symbolize, type_name, charset)
    if fmt == "i":
        raise CommandError('Format letter "i" is meaningless in "print" command.')
    return _format_with_letter(raw, size, signed, fmt, False, symbolize, charset)


def parse_print_format(spec: str) -> tuple[str | None, str]:
    """Split `/x expr` into ("x", "expr"); no `/` gives (None, spec). gdb's errors for misuse."""
    if not spec.startswith("/"):
        return None, spec
    p = 1
    count_text = ""
    if spec[p:p + 1] == "-":
        count_text, p = "-", p + 1
    while p < len(spec) and spec[p].isdigit():
        count_text += spec[p]
        p += 1
    size = fmt = None
    while p < len(spec) and "a" <= spec[p] <= "z":
        if spec[p] in UNIT_SIZES:
            size = spec[p]
        elif spec[p] not in "rm":
            fmt = spec[p]
        p += 1
    rest = spec[p:].lstrip(" \t")
    if size:
        raise CommandError('Size letters are meaningless in "print" command.')
    if count_text and count_text != "1":
        raise CommandError('Item count other than 1 is meaningless in "print" command.')
    if fmt == "i":
        raise CommandError('Format letter "i" is meaningless in "print" command.')
    if fmt is not None and fmt not in PRINT_FORMATS:
        raise CommandError(f'Undefined output format "{fmt}".')
    return fmt, rest


# ------------------------------------------------------------------------- registers

def _register(name: str) -> Register:
    reg = lookup_register(name)
    if reg is None:
        raise CommandError(f"Invalid register `{name}'")
    return reg


def _reg_kind(reg: Register) -> str:
    return {RegFormat.INT: "int", RegFormat.DATA_PTR: "data_ptr",
            RegFormat.CODE_PTR: "code_ptr", RegFormat.FLAGS: "flags"}[reg.format]


def _pad_to_column(text: str, column: int) -> str:
    # gdb always puts at least one space between columns.
    text += " "
    return text + " " * (column - len(text)) if len(text) < column else text


def format_register_line(name: str, value: int | None,
                         symbolize: Symbolizer | None = None) -> str:
    """One `info registers` line for register NAME (as typed) holding VALUE (its own bits).

    VALUE None means gdb could not fetch it (`<unavailable>`).
    """
    reg = _register(name)
    shown = name[1:] if name.startswith("$") else name
    line = _pad_to_column(shown, REGISTER_NAME_COLUMN)
    if value is None:
        return line + "<unavailable>"
    raw = value & reg.mask
    line += format_hex(raw, reg.size)
    natural = _natural(raw, reg.size, reg.signed, _reg_kind(reg), symbolize, None, "utf-8")
    return _pad_to_column(line, REGISTER_NATURAL_COLUMN) + natural


def register_value(name: str, values: Mapping[str, int]) -> int | None:
    """NAME's own bits (e.g. $ah, $r8d, $pc) taken from VALUES of the full registers."""
    reg = _register(name)
    full = values.get(reg.parent)
    return None if full is None else reg.extract(full)


def default_register_names(values: Mapping[str, int]) -> list[str]:
    """gdb's `info registers` list: the general registers, then k0-k7 if they are known."""
    return list(GENERAL_REGISTERS) + [k for k in MASK_REGISTERS if k in values]


def format_registers(values: Mapping[str, int], names: Sequence[str] | None = None,
                     symbolize: Symbolizer | None = None) -> list[str]:
    """`info registers [NAME...]`: VALUES maps full register names (user_regs_struct
    fields, optionally k0-k7) to raw values; NAMES are as the user typed them.

    An unknown name raises FormatErrorWithOutput carrying the lines printed before it,
    as gdb prints registers up to the bad one.
    """
    if not names:
        names = default_register_names(values)
    lines: list[str] = []
    for name in names:
        bare = name[1:] if name.startswith("$") else name
        if lookup_register(bare) is not None:
            lines.append(format_register_line(bare, register_value(bare, values), symbolize))
        elif bare == "general":
            lines += [format_register_line(n, values.get(n), symbolize)
                      for n in default_register_names(values)]
        elif bare == "system":
            lines += [format_register_line(n, values.get(n), symbolize)
                      for n in SYSTEM_REGISTERS]
        else:
            raise FormatErrorWithOutput(f"Invalid register `{bare}'", lines)
    return lines


def format_register_value(name: str, values: Mapping[str, int], fmt: str | None = None,
                          symbolize: Symbolizer | None = None) -> str:
    """`print[/FMT] $NAME`: `(void *) 0x7ffe...` for $sp, `[ ZF PF ]` for $eflags, ..."""
    reg = _register(name)
    value = register_value(name, values)
    if value is None:
        return "<unavailable>"
    type_name = reg.type_name if reg.format in (RegFormat.DATA_PTR, RegFormat.CODE_PTR) else None
    return format_scalar(value, reg.size, reg.signed, fmt, kind=_reg_kind(reg),
                         symbolize=symbolize, type_name=type_name)


# ---------------------------------------------------------------------------- x spec

@dataclass(frozen=True)
class XSpec:
    """A decoded `x/NFU`: count (negative reads backwards), format letter, unit letter.

    unit is b/h/w/g, "a" (pointer size, i.e. g) or "" (strings: bytes unless given).
    """

    count: int
    fmt: str
    unit: str
    rest: str = ""


@dataclass(frozen=True)
class XDefaults:
    """gdb's sticky state for `x`: last format and size (start as x, w) and last count."""

    fmt: str = "x"
    unit: str = "w"
    count: int = 1

    def after(self, spec: XSpec, succeeded: bool = True) -> "XDefaults":
        """The defaults for the next `x` once SPEC ran; gdb remembers the count even
        when the examine failed, the format and size only when it succeeded."""
        if not succeeded:
            return XDefaults(self.fmt, self.unit, spec.count)
        return XDefaults(spec.fmt, "b" if spec.fmt == "s" else spec.unit, spec.count)


def parse_x_spec(text: str, defaults: XDefaults = XDefaults()) -> XSpec:
    """Decode the argument of `x` (`/4xw &table`, `&table` or nothing) like gdb.

    The address expression, if any, is returned in `rest`. A bare `x` repeats the last
    positive count; letters left out come from DEFAULTS as in gdb's decode_format.
    """
    if not text.startswith("/"):
        rest = text.strip()
        count = defaults.count if not rest and defaults.count > 0 else 1
        return XSpec(count, defaults.fmt, defaults.unit, rest)
    p = 1
    count = 1
    if text[p:p + 1] == "-":
        count, p = -1, p + 1
    digits = ""
    while p < len(text) and text[p].isdigit():
        digits += text[p]
        p += 1
    if digits:
        count *= int(digits)
    size = fmt = "?"
    while p < len(text) and "a" <= text[p] <= "z":
        if text[p] in UNIT_SIZES:
            size = text[p]
        elif text[p] not in "rm":
            fmt = text[p]
        p += 1
    rest = text[p:].lstrip(" \t")
    if fmt == "?":
        fmt = defaults.fmt if size == "?" else ("x" if defaults.fmt == "i" else defaults.fmt)
        if size == "?":
            size = defaults.unit
    elif size == "?":
        if fmt == "a":
            size = "a"
        elif fmt == "f":
            size = defaults.unit if defaults.unit in ("w", "g") else "g"
        elif fmt == "c":
            size = "b"
        elif fmt == "s":
            size = ""
        else:
            size = defaults.unit
    if fmt not in X_FORMATS:
        raise CommandError(f'Undefined output format "{fmt}".')
    return XSpec(count, fmt, size, rest)


# --------------------------------------------------------------------------------- x

@dataclass
class XResult:
    """What `x` printed, and where the next `x` starts; unpacks as (lines, next_address).

    last_address is the last item examined (gdb's $_); warnings go to stderr first.
    """

    lines: list[str]
    next_address: int
    last_address: int
    warnings: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator:
        return iter((self.lines, self.next_address))


class _Reader:
    """read_memory with gdb's fall-back to single bytes after a failed block read."""

    def __init__(self, read_memory: MemoryReader) -> None:
        self._read = read_memory

    def read(self, address: int, length: int) -> tuple[bytes, int | None]:
        """As many bytes as readable from ADDRESS; the first bad address or None."""
        data = self._try(address, length)
        if data is not None and len(data) == length:
            return data, None
        out = bytearray()
        for i in range(length):
            b = self._try(address + i, 1)
            if not b:
                return bytes(out), address + i
            out += b[:1]
        return bytes(out), None

    def _try(self, address: int, length: int) -> bytes | None:
        if address < 0 or address + length > 1 << ADDRESS_BITS:
            return None
        try:
            return bytes(self._read(address, length))
        except MemoryAccessError:
            return None


def format_x(address: int, read_memory: MemoryReader, count: int, fmt: str, unit: str,
             symbolize: Symbolizer | None = None, *, charset: str = "utf-8",
             print_elements: int | None = DEFAULT_PRINT_ELEMENTS,
             repeat_threshold: int | None = DEFAULT_REPEAT_THRESHOLD) -> XResult:
    """gdb's `x/COUNT FMT UNIT ADDRESS` output lines (without a trailing newline each).

    FMT is any x letter but `i` (the caller disassembles); UNIT is b/h/w/g/a or "".
    Unreadable memory raises ExamineError carrying the output up to that point; for
    strings gdb instead prints `<error: ...>` inline and carries on.
    """
    if fmt == "i":
        raise ValueError("x/i is formatted by the disassembler, not format_x")
    if fmt not in PRINT_FORMATS:
        raise CommandError(f'Undefined output format "{fmt}".')
    reader = _Reader(read_memory)
    if fmt == "s":
        return _examine_strings(address, reader, count, unit, symbolize, charset,
                                print_elements, repeat_threshold)
    size = UNIT_SIZES["g" if unit == "a" else unit]
    backward = count < 0
    start = address
    if backward:
        # gdb steps back COUNT items, prints them forwards, and leaves the next `x`
        # at the lowest address so that repeating it keeps going backwards.
        count = -count
        start = address - count * size
    lines: list[str] = []
    per_line = ITEMS_PER_LINE[size]
    addr = last = start
    while count > 0:
        line = format_address(addr, symbolize) + ":"
        for _ in range(min(per_line, count)):
            line += "\t"
            last = addr
            data, bad = reader.read(addr, size)
            if bad is not None:
                raise ExamineError(bad, lines, line, addr + size, addr)
            raw = int.from_bytes(data, "little")
            # x examines through gdb's signed intN_t types.
            line += _format_with_letter(raw, size, True, fmt, True, symbolize, charset)
            addr += size
            count -= 1
        lines.append(line)
    return XResult(lines, start if backward else addr, last)


def _examine_strings(address: int, reader: _Reader, count: int, unit: str,
                     symbolize: Symbolizer | None, charset: str,
                     print_elements: int | None, repeat_threshold: int | None) -> XResult:
    warnings: list[str] = []
    width = {"h": 2, "w": 4}.get(unit, 1)
    if unit not in ("", "b", "h", "w"):
        warnings.append(f"warning: Unable to display strings with size '{unit}', "
                        "using 'b' instead.")
    lines: list[str] = []
    rewound = None
    if count < 0:
        start, count, backward_lines = _find_string_backward(
            address, -count, width, reader, print_elements)
        lines += backward_lines
        address = start
        rewound = start - width
    addr = last = address
    for _ in range(count):
        last = addr
        text, consumed = _examine_one_string(addr, reader, width, charset,
                                             print_elements, repeat_threshold)
        lines.append(f"{format_address(addr, symbolize)}:\t{text}")
        addr += consumed
    return XResult(lines, rewound if rewound is not None else addr, last, warnings)


def _examine_one_string(address: int, reader: _Reader, width: int, charset: str,
                        print_elements: int | None,
                        repeat_threshold: int | None) -> tuple[str, int]:
    """gdb's val_print_string for `x/s`: the text and how many bytes it used."""
    limit = print_elements if print_elements else 1 << 62
    units: list[int] = []
    addr = address
    error_at = None
    found_nul = False
    # gdb reads 8 characters at a time until a NUL, the limit, or an error.
    while not found_nul and error_at is None and len(units) < limit:
        nfetch = min(8, limit - len(units))
        data, bad = reader.read(addr, nfetch * width)
        whole = len(data) // width
        for k in range(whole):
            c = int.from_bytes(data[k * width:(k + 1) * width], "little")
            units.append(c)
            addr += width
            if c == 0:
                found_nul = True
                break
        if bad is not None and not found_nul:
            error_at = address + len(units) * width
    force_ellipsis = False
    if not found_nul and error_at is None:
        peek, bad = reader.read(addr, width)
        if bad is None and int.from_bytes(peek, "little") != 0:
            force_ellipsis = True
    text = ""
    if error_at is None or units:
        text = quote_string(units, width, force_ellipsis=force_ellipsis, charset=charset,
                            print_elements=print_elements, repeat_threshold=repeat_threshold)
    if error_at is not None:
        text += f"<error: Cannot access memory at address {error_at:#x}>"
    return text, len(units) * width


def _find_string_backward(address: int, count: int, width: int, reader: _Reader,
                          print_elements: int | None) -> tuple[int, int, list[str]]:
    """gdb's find_string_backward: start of the COUNTth string before ADDRESS."""
    chunk = 0x20
    lines: list[str] = []
    original = count
    counted = 0
    start = address
    read_error = False
    addr = address
    limit = print_elements if print_elements else -1
    while count > 0 and not read_error:
        addr -= chunk * width
        # gdb reads backwards byte by byte after a failure, reporting where it stopped.
        data, bad = reader.read(addr, chunk * width)
        if bad is not None or len(data) < chunk * width:
            tail = bytearray()
            for a in range(addr + chunk * width - 1, addr - 1, -1):
                b, bad_b = reader.read(a, 1)
                if bad_b is not None:
                    lines.append(f"Cannot access memory at address {a:#x}")
                    break
                tail[:0] = b
            data = bytes(chunk * width - len(tail)) + bytes(tail)
            chars_read = len(tail) // width
        else:
            chars_read = chunk
        read_error = chars_read != chunk
        i = 0
        while i < chars_read and count > 0:
            offset = (chunk - i - 1) * width
            if not any(data[offset:offset + width]) or counted == limit:
                count -= 1
                start = addr + offset + width
                counted = 0
            i += 1
            counted += 1
    if read_error:
        start -= counted * width
    return start, original - count, lines
