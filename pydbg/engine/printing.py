"""gdb's value printer for C (valprint.c, c-valprint.c): structs, arrays, strings, pointers,
enums, floats and `print/FMT`, over the typed Values of values.py.

Pure: memory arrives through the values' Access, symbols through a symbolizer callback.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Callable

from pydbg.engine import format as fmt
from pydbg.engine.values import (
    MASK64, OptimizedOutValueError, Value, bytes_to_float, float_part_size, is_bool, is_char,
    is_signed, type_size, x87_to_decimal,
)
from pydbg.errors import ExpressionError, MemoryAccessError, PydbgError
from pydbg.symbols.types import (
    ArrayType, BaseType, CompositeType, CType, EnumType, FunctionType, PointerType,
    QualifiedType, TypedefType, VoidType, strip_typedefs, type_name,
)

MAX_VALUE_SIZE = 65536      # gdb's `max-value-size`

Symbolizer = Callable[[int], "str | None"]


@dataclass
class PrintOptions:
    """gdb's value_print_options that pydbg supports."""
    format: str | None = None
    symbolize: Symbolizer | None = None
    # `/a` names addresses by the ELF symbol's own name (gdb's print_address), where
    # pointers use its print name (print_address_demangle); None: use symbolize.
    symbolize_address: Symbolizer | None = None
    print_elements: int = fmt.DEFAULT_PRINT_ELEMENTS
    repeat_threshold: int = fmt.DEFAULT_REPEAT_THRESHOLD
    max_depth: int = 20
    pretty: bool = False        # `set print pretty`: one struct member per line
    # Reads the characters a `char *` points to (gdb's val_print_string).
    read_memory: Callable[[int, int], bytes] | None = None


# --------------------------------------------------------------------------- entry points

def format_value(value: Value, options: PrintOptions | None = None) -> str:
    """The text after `$N = ` for `print[/FMT] EXPR` (gdb's print_formatted/value_print)."""
    opts = options or PrintOptions()
    t = strip_typedefs(value.type)
    if opts.format not in (None, "s") and not isinstance(t, (CompositeType, ArrayType,
                                                              VoidType)):
        check_printable_size(value)
        if value.entirely_optimized_out:
            return "<optimized out>"
        return _scalar_formatted(value, opts)
    return value_print(value, opts)


def value_print(value: Value, opts: PrintOptions) -> str:
    """gdb's value_print: c_value_print's top-level `(type *) ` prefix for pointers."""
    check_printable_size(value)
    if value.is_lazy and value.lval is not None and \
            not isinstance(strip_typedefs(value.type), FunctionType):
        value.fetch()           # a top-level value that cannot be read is an error
    if value.entirely_optimized_out:
        return "<optimized out>"
    t = strip_typedefs(value.type)
    prefix = ""
    if isinstance(t, PointerType) and not _is_plain_char_pointer(value.type):
        prefix = f"({type_name(value.type)}) "
    return prefix + common_val_print(value, opts, 0)


def check_printable_size(value: Value) -> None:
    size = value.size
    if size > MAX_VALUE_SIZE and value.is_lazy:
        raise ExpressionError(f"value requires {size} bytes, which is more than "
                              f"max-value-size")


def _is_plain_char_pointer(t: CType) -> bool:
    """gdb's hack: no `(char *)` prefix for an unnamed pointer to a type named "char"."""
    if isinstance(t, TypedefType):
        return False
    while isinstance(t, QualifiedType):
        t = t.target
    if not isinstance(t, PointerType):
        return False
    target = t.target
    while isinstance(target, QualifiedType):
        target = target.target
    return isinstance(target, BaseType) and target.name == "char"


# --------------------------------------------------------------------------- the walk

def common_val_print(value: Value, opts: PrintOptions, depth: int,
                     level: int | None = None) -> str:
    """gdb's common_val_print: one value inside (or at) the top level.

    DEPTH counts toward `max-depth` (anonymous members do not); LEVEL is the nesting
    that `set print pretty` indents by (it defaults to DEPTH)."""
    if level is None:
        level = depth
    try:
        if value.entirely_optimized_out:
            return "<optimized out>"
        t = strip_typedefs(value.type)
        if isinstance(t, CompositeType):
            return _struct(value, t, opts, depth, level)
        if isinstance(t, ArrayType):
            return _array(value, t, opts, depth, level)
        if value.is_optimized_out:
            return "<optimized out>"
        if isinstance(t, PointerType):
            if opts.format and opts.format != "s":
                return _scalar_formatted(value, opts)
            return _pointer(value, t, opts)
        if isinstance(t, FunctionType):
            addr = value.address or 0
            # An ELF symbol without DWARF (evaluate marks it "text"): gdb's nodebug type.
            kind = "<text variable, no debug info>" if value.note == "text" \
                else type_name(value.type)
            return "{" + kind + "} " + fmt.format_address(addr, opts.symbolize)
        if isinstance(t, VoidType):
            return "void"
        if opts.format and opts.format != "s":
            return _scalar_formatted(value, opts)
        return _natural_scalar(value, t, opts)
    except MemoryAccessError as exc:
        return f"<error: {exc}>"
    except OptimizedOutValueError:
        return "<optimized out>"


def _struct(value: Value, t: CompositeType, opts: PrintOptions, depth: int,
            level: int = 0) -> str:
    if t.is_declaration and not t.members:
        return "<incomplete type>"
    if depth >= opts.max_depth:
        return "{...}"
    if not t.members:
        return "{<No data fields>}"
    parts = []
    for m in t.members:
        if m.bit_size:
            sub = value.component(m.type, m.offset, m.bit_offset or 0, m.bit_size)
        else:
            sub = value.component(m.type, m.offset)
        text = common_val_print(sub, opts, depth + (0 if m.name is None else 1), level + 1)
        parts.append(text if m.name is None else f"{m.name} = {text}")
    if opts.pretty:
        # gdb's cp_print_value_fields: two spaces per level, the brace one level out.
        pad = "  " * (level + 1)
        return "{\n" + ",\n".join(pad + p for p in parts) + "\n" + "  " * level + "}"
    return "{" + ", ".join(parts) + "}"


def _array(value: Value, t: ArrayType, opts: PrintOptions, depth: int,
           level: int = 0) -> str:
    element = t.target
    elt_size = type_size(element)
    length = t.length
    if not length or elt_size == 0 or t.size == 0:
        # An array of unknown length prints like a pointer to its first element.
        addr = value.address
        if addr is None:
            return "{}" if length == 0 else "<optimized out>"
        return _pointer_text(addr, element, opts)
    if _is_textual(element, opts.format) and not value.is_optimized_out:
        data = value.fetch()
        units = [int.from_bytes(data[i:i + elt_size], "little")
                 for i in range(0, len(data), elt_size)]
        return fmt.quote_string(units, elt_size if elt_size in (1, 2, 4) else 1,
                                print_elements=opts.print_elements,
                                repeat_threshold=opts.repeat_threshold)
    if depth >= opts.max_depth:
        return "{...}"
    data = value.fetch()
    out: list[str] = []
    things = 0
    i = 0
    while i < length and things < opts.print_elements:
        elem = value.component(element, i * elt_size)
        reps = 1
        chunk = data[i * elt_size:(i + 1) * elt_size]
        avail = value.bits_unavailable(i * elt_size * 8, elt_size * 8)
        while i + reps < length:
            j = i + reps
            if data[j * elt_size:(j + 1) * elt_size] != chunk or \
                    value.bits_unavailable(j * elt_size * 8, elt_size * 8) != avail:
                break
            reps += 1
        text = common_val_print(elem, opts, depth + 1, level + 1)
        if reps > opts.repeat_threshold:
            out.append(f"{text} <repeats {reps} times>")
            i += reps
            things += opts.repeat_threshold
        else:
            out.append(text)
            i += 1
            things += 1
    body = ", ".join(out)
    if i < length:
        body += "..."
    return "{" + body + "}"


def _is_textual(t: CType, format_letter: str | None) -> bool:
    """gdb's c_textual_element_type."""
    if format_letter not in (None, "s"):
        return False
    if _wide_char_width(t):
        return True
    return is_char(t)


def _wide_char_width(t: CType) -> int:
    """4 for wchar_t/char32_t, 2 for char16_t (typedef names gdb treats as characters)."""
    while isinstance(t, (TypedefType, QualifiedType)):
        if isinstance(t, TypedefType) and t.name in ("wchar_t", "char32_t", "char16_t"):
            return 2 if t.name == "char16_t" else 4
        t = t.target
    if isinstance(t, BaseType) and t.name in ("wchar_t", "char32_t", "char16_t"):
        return 2 if t.name == "char16_t" else 4
    return 0


def _wide_char_name(t: CType) -> str:
    while isinstance(t, (TypedefType, QualifiedType)):
        if isinstance(t, TypedefType) and t.name in ("wchar_t", "char32_t", "char16_t"):
            return t.name
        t = t.target
    return getattr(t, "name", "wchar_t")


def _pointer(value: Value, t: PointerType, opts: PrintOptions) -> str:
    if value.note:
        return value.note
    addr = value.as_unsigned()
    return _pointer_text(addr, t.target, opts)


def _pointer_text(addr: int, target: CType, opts: PrintOptions) -> str:
    """gdb's print_unpacked_pointer: address, <symbol>, and the string for char pointers."""
    if isinstance(strip_typedefs(target), FunctionType):
        return fmt.format_address(addr, opts.symbolize)
    text = fmt.format_address(addr, opts.symbolize)
    if addr != 0 and _is_textual(target, opts.format):
        return text + " " + read_string_text(addr, target, opts)
    return text


def read_string_text(addr: int, elt: CType, opts: PrintOptions) -> str:
    """gdb's val_print_string for a char pointer: up to `print elements` characters."""
    reader = opts.read_memory
    width = _wide_char_width(elt) or max(type_size(elt), 1)
    limit = opts.print_elements
    units: list[int] = []
    error_at = None
    address = addr
    found_nul = False
    if reader is None:
        return f"<error: Cannot access memory at address {addr:#x}>"
    while len(units) < limit:
        n = min(8, limit - len(units))
        failed_at = None
        try:
            data = reader(address, n * width)
        except PydbgError:
            # gdb's partial_memory_read: keep what can be read before the fault.
            data = b""
            for k in range(n * width):
                try:
                    data += reader(address + k, 1)
                except PydbgError:
                    break
            failed_at = address + len(data)
        for k in range(len(data) // width):
            u = int.from_bytes(data[k * width:(k + 1) * width], "little")
            units.append(u)
            address += width
            if u == 0:
                found_nul = True
                break
        if found_nul:
            break
        if failed_at is not None:
            error_at = failed_at
            break
    force_ellipsis = False
    if not found_nul and error_at is None:
        try:
            peek = reader(address, width)
            if int.from_bytes(peek[:width], "little") != 0:
                force_ellipsis = True
        except PydbgError:
            pass
    out = ""
    if error_at is None or units:
        out = fmt.quote_string(units, width, force_ellipsis=force_ellipsis,
                               print_elements=limit, repeat_threshold=opts.repeat_threshold)
    if error_at is not None:
        out += f"<error: Cannot access memory at address {error_at:#x}>"
    return out


# --------------------------------------------------------------------------- scalars

def _natural_scalar(value: Value, t: CType, opts: PrintOptions) -> str:
    if isinstance(t, EnumType):
        return enum_text(t, value.as_int())
    if isinstance(t, BaseType):
        if t.encoding == "boolean":
            n = value.as_unsigned()
            return "true" if n == 1 else "false" if n == 0 else str(n)
        if t.encoding == "float":
            return float_text(value.fetch(), t)
        if t.encoding == "flags":
            return fmt.format_flags(value.as_unsigned(), t.name)
        if t.encoding == "complex":
            half = t.byte_size // 2
            part = BaseType("", half, "float")
            data = value.fetch()
            return f"{float_text(data[:half], part)} + {float_text(data[half:], part)}i"
        width = _wide_char_width(value.type)
        if width:
            return wide_char_text(value.as_int(), width, _wide_char_name(value.type))
        if is_char(t):
            return fmt.format_char(value.as_int(), is_signed(t))
        return str(value.as_int())
    return str(value.as_int())


def wide_char_text(n: int, width: int, name: str = "wchar_t") -> str:
    """`119 L'w'`: a wchar_t (L), char16_t (u) or char32_t (U) value."""
    prefix = {"char16_t": "u", "char32_t": "U"}.get(name, "L")
    code = n & ((1 << (8 * width)) - 1)
    quoted = fmt.quote_string([code], width, c_style_terminator=False)
    inner = quoted[quoted.index('"') + 1:-1]
    if inner == "'":
        inner = "\\'"
    elif inner == '\\"':
        inner = '"'
    return f"{n} {prefix}'{inner}'"


def enum_text(t: EnumType, n: int) -> str:
    """gdb's generic_val_print_enum_1, flag enums included."""
    name = t.name_of(n)
    if name is not None:
        return name
    if not t.is_flag_enum:
        return str(n)
    val = n
    parts: list[str] = []
    for e in t.enumerators:
        if e.value and val & e.value:
            parts.append(e.name)
            val &= ~e.value
    if val:
        parts.append(f"unknown: 0x{val & MASK64:x}")
        return "(" + " | ".join(parts) + ")"
    if not parts:
        return "0"
    return "(" + " | ".join(parts) + ")"


def float_text(data: bytes, t: BaseType) -> str:
    """%g with DECIMAL_DIG digits, as gdb's floatformat_printf_format."""
    size = float_part_size(t)
    if size in (4, 8):
        return fmt.format_float_bits(int.from_bytes(data[:size], "little"), size)
    if size == 10:
        se = int.from_bytes(data[8:10], "little")
        mant = int.from_bytes(data[:8], "little")
        sign = "-" if se >> 15 else ""
        if se & 0x7FFF == 0x7FFF:
            frac = mant & ((1 << 63) - 1)
            return f"{sign}inf" if frac == 0 else f"{sign}nan({frac:#x})"
        return c_g_format(x87_to_decimal(data[:10]), 21)
    if size == 2:
        # IEEE half (%.5g) or bfloat16, the top half of a float (8 bits: %.4g).
        raw = int.from_bytes(data[:2], "little")
        bf16 = t.name in ("bfloat16", "builtin_type_bfloat16")
        exp_bits, mant_bits = (8, 7) if bf16 else (5, 10)
        mant = raw & ((1 << mant_bits) - 1)
        if (raw >> mant_bits) & ((1 << exp_bits) - 1) == (1 << exp_bits) - 1:
            sign = "-" if raw >> 15 else ""
            return f"{sign}inf" if mant == 0 else f"{sign}nan({mant:#x})"
        if bf16:
            return c_g_format(Decimal(struct.unpack("<f", (raw << 16).to_bytes(4, "little"))[0]),
                              4)
        return c_g_format(Decimal(struct.unpack("<e", data[:2])[0]), 5)
    return str(int.from_bytes(data, "little"))


def c_g_format(d: Decimal, precision: int) -> str:
    """C's %.{precision}g of an exact decimal value."""
    if d == 0:
        return "-0" if d.is_signed() else "0"
    sign = "-" if d < 0 else ""
    d = abs(d)
    with localcontext() as ctx:
        ctx.prec = precision
        ctx.rounding = ROUND_HALF_EVEN
        r = +d
    exp = r.adjusted()
    if -4 <= exp < precision:
        with localcontext() as ctx:
            ctx.prec = 200
            text = f"{r:.{max(precision - 1 - exp, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return sign + text
    digits = r.as_tuple().digits
    mant = "".join(str(x) for x in digits).ljust(precision, "0")
    body = mant[0] + ("." + mant[1:] if len(mant) > 1 else "")
    body = body.rstrip("0").rstrip(".") if "." in body else body
    return f"{sign}{body}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"


def _scalar_formatted(value: Value, opts: PrintOptions) -> str:
    """gdb's print_scalar_formatted: /x /d /u /o /t /c /a /f /z on one scalar."""
    letter = opts.format or ""
    t = strip_typedefs(value.type)
    if value.is_optimized_out:
        return "<optimized out>"
    data = value.fetch()
    size = len(data)
    if isinstance(t, BaseType) and t.encoding in ("float", "complex"):
        psize = float_part_size(t) if t.encoding == "float" else size // 2
        raw = int.from_bytes(data[:psize], "little")
        if letter == "f":
            return float_text(data, t) if t.encoding == "float" else \
                float_text(data[:psize], BaseType("", psize, "float"))
        if letter == "c":
            return fmt.format_char(int(bytes_to_float(data[:psize], psize)) & 0xFF, True)
        if letter == "a":
            raise ExpressionError("Value can't be converted to integer.")
        return fmt.format_scalar(raw, psize, True, letter, symbolize=opts.symbolize)
    if size > 8 and letter in ("d", "u", "c", "a"):
        if letter in ("d", "u"):
            return fmt.format_decimal(int.from_bytes(data, "little"), size, letter == "d")
        raise ExpressionError("That operation is not available on integers of more than "
                              "8 bytes.")
    raw = int.from_bytes(data, "little")
    signed = is_signed(value.type) and not isinstance(t, PointerType)
    if letter == "f":
        if size in (4, 8) and not is_bool(t):
            return fmt.format_float_bits(raw, size)
        return fmt.format_decimal(raw, size, signed)
    if letter == "c":
        # gdb casts to (unsigned) char of the value's signedness.
        return fmt.format_char(raw & 0xFF, signed)
    symbolize = opts.symbolize_address if letter == "a" and opts.symbolize_address \
        else opts.symbolize
    return fmt.format_scalar(raw, size, signed, letter, symbolize=symbolize)


__all__ = ["MAX_VALUE_SIZE", "PrintOptions", "c_g_format", "enum_text", "float_text",
           "format_value", "read_string_text", "value_print",
           "wide_char_text"]
