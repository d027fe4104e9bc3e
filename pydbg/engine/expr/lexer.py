"""Tokenizer for gdb's C expression language, following the lexer in gdb's c-exp.y.

Tokens are produced on demand so lexical errors surface in the same order as in gdb.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from pydbg.errors import ExpressionError

# x86-64 Linux (LP64) sizes, used by gdb's literal typing rule.
INT_BITS = 32
LONG_BITS = 64
LONG_LONG_BITS = 64

OPERATORS_3 = (">>=", "<<=", "...")
OPERATORS_2 = ("+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "++", "--", "->", "&&", "||",
               "::", "<<", ">>", "==", "!=", "<=", ">=")
OPERATORS_1 = "+-*/%|&^~!<>?:={}()[],.@"

# Element type and code-unit mask of each string/char prefix.
CHAR_KINDS = {"": ("char", 0xFF), "L": ("wchar_t", 0xFFFFFFFF), "u": ("char16_t", 0xFFFF),
              "U": ("char32_t", 0xFFFFFFFF)}

_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "e": 27}
_HEX = "0123456789abcdefABCDEF"
_DEC_FLOAT = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_HEX_FLOAT = re.compile(r"0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?\Z")
_DANGLING_EXPONENT = re.compile(r"[eE][+-]?\Z")
_DANGLING_HEX_EXPONENT = re.compile(r"[pP][+-]?\Z")


@dataclass
class Token:
    """One lexeme. kind is INT FLOAT CHAR STRING NAME QNAME DOLLAR ENTRY OP or EOF."""

    kind: str
    value: object
    start: int
    end: int
    c_type: str = ""
    imaginary: bool = False
    # STRING tokens: (code, raw) units before encoding; raw units come from \x and octal
    # escapes and are stored as-is, other characters are re-encoded for the final type.
    units: list[tuple[int, bool]] = field(default_factory=list)

    def is_op(self, *ops: str) -> bool:
        return self.kind == "OP" and self.value in ops

    def is_name(self, *names: str) -> bool:
        return self.kind == "NAME" and self.value in names


def _fits(value: int, bits: int, signed: bool) -> bool:
    return value < (1 << (bits - 1) if signed else 1 << bits)


def integer_type(value: int, base: int, unsigned: bool, longs: int) -> str:
    """gdb's C typing of an integer literal (c-exp.y parse_number) on LP64.

    First of int, unsigned int, long, unsigned long, long long, unsigned long long that
    holds the value; unsigned candidates only for U suffixes, non-decimal literals, or
    decimals too big for long long; L and LL suffixes skip the smaller sizes.
    """
    have_signed = not unsigned
    have_unsigned = unsigned or base != 10 or not _fits(value, LONG_LONG_BITS, True)
    candidates = [
        (longs == 0 and have_signed, INT_BITS, True, "int"),
        (longs == 0 and have_unsigned, INT_BITS, False, "unsigned int"),
        (longs <= 1 and have_signed, LONG_BITS, True, "long"),
        (longs <= 1 and have_unsigned, LONG_BITS, False, "unsigned long"),
        (have_signed, LONG_LONG_BITS, True, "long long"),
        (have_unsigned, LONG_LONG_BITS, False, "unsigned long long"),
    ]
    for allowed, bits, signed, name in candidates:
        if allowed and _fits(value, bits, signed):
            return name
    raise ExpressionError("Numeric constant too large.")


_COMPLEX_FLOAT_NAMES = {"float": "complex", "double": "double complex"}


def _parse_float(text: str) -> tuple[float, str, bool] | None:
    body, imaginary = text, False
    if body.endswith("i"):
        body, imaginary = body[:-1], True
    lower = body.lower()
    if lower.endswith(("df", "dd", "dl")):
        c_type = {"df": "_Decimal32", "dd": "_Decimal64", "dl": "_Decimal128"}[lower[-2:]]
        body = body[:-2]
    elif lower.endswith("f"):
        c_type, body = "float", body[:-1]
    elif lower.endswith("l"):
        c_type, body = "long double", body[:-1]
    else:
        c_type = "double"
    # gdb reads floats with scanf, which accepts a dangling exponent ("1e", "1.5e+").
    if body[:2].lower() == "0x":
        body = _DANGLING_HEX_EXPONENT.sub("", body)
        if not _HEX_FLOAT.match(body):
            return None
        value = float.fromhex(body)
    else:
        body = _DANGLING_EXPONENT.sub("", body)
        if not _DEC_FLOAT.match(body):
            return None
        value = float(body)
    if c_type == "float":
        # The literal's value is the float nearest to the text, not the double.
        try:
            value = struct.unpack("<f", struct.pack("<f", value))[0]
        except OverflowError:
            value = float("inf")
    if imaginary:
        c_type = _COMPLEX_FLOAT_NAMES.get(c_type, "_Complex " + c_type)
    return value, c_type, imaginary


def _parse_integer(text: str) -> tuple[int, str, bool] | None:
    base, digits = 10, text
    if len(text) >= 3 and text[0] == "0":
        prefix = text[1].lower()
        if prefix in "xbtd":
            base = {"x": 16, "b": 2, "t": 10, "d": 10}[prefix]
            digits = text[2:]
    if base == 10 and text[0] == "0" and len(text) > 1 and text[1].lower() not in "tdxb":
        base = 8
    value = 0
    unsigned, longs, imaginary, suffix = False, 0, False, False
    for ch in digits.lower():
        if ch == "l":
            longs += 1
            suffix = True
        elif ch == "u":
            unsigned = suffix = True
        elif ch == "i":
            imaginary = suffix = True
        else:
            digit = int(ch, 36) if ch.isalnum() and ch.isascii() else 99
            if suffix or digit >= base:
                return None
            value = value * base + digit
            if value >= 1 << 64:
                raise ExpressionError("Numeric constant too large.")
    c_type = integer_type(value, base, unsigned, longs)
    if imaginary:
        c_type = "_Complex " + c_type
    return value, c_type, imaginary


class Lexer:
    """Pull-based lexer: tokens are lexed only when the parser looks at them."""

    def __init__(self, text: str, comma_terminates: bool = False) -> None:
        self.text = text
        self.pos = 0
        self.comma_terminates = comma_terminates
        self.paren_depth = 0
        self.tokens: list[Token] = []
        self.index = 0
        self._eof: Token | None = None

    # -- the parser's interface

    def peek(self, ahead: int = 0) -> Token:
        while len(self.tokens) <= self.index + ahead:
            self.tokens.append(self._lex_one())
        return self.tokens[self.index + ahead]

    def next(self) -> Token:
        token = self.peek()
        if token.kind != "EOF":
            self.index += 1
        return token

    # -- lexing

    def _stop(self, at: int) -> Token:
        # Once the expression has ended (end of text, unmatched ')', 'if'...), it stays ended.
        if self._eof is None:
            self._eof = Token("EOF", None, at, at)
        return self._eof

    def _lex_one(self) -> Token:
        if self._eof is not None:
            return self._eof
        text = self.text
        while self.pos < len(text) and text[self.pos] in " \t\n":
            self.pos += 1
        start = self.pos
        if start >= len(text):
            return self._stop(start)
        for table, width in ((OPERATORS_3, 3), (OPERATORS_2, 2)):
            if text[start:start + width] in table:
                self.pos += width
                return Token("OP", text[start:start + width], start, self.pos)
        c = text[start]
        nxt = text[start + 1] if start + 1 < len(text) else ""
        if c in "([":
            self.paren_depth += 1
        elif c in ")]":
            # gdb ends the expression at an unbalanced closer (e.g. inside "if (...)").
            if self.paren_depth == 0:
                return self._stop(start)
            self.paren_depth -= 1
        elif c == "," and self.comma_terminates and self.paren_depth == 0:
            return self._stop(start)
        if "0" <= c <= "9" or (c == "." and "0" <= nxt <= "9"):
            return self._lex_number(start)
        if c == "@":
            rest = text[start + 1:]
            stripped = rest.lstrip(" \t\n")
            if stripped.startswith("entry"):
                after = stripped[5:6]
                if not (after.isalnum() or after == "_"):
                    self.pos = len(text) - len(stripped) + 5
                    return Token("ENTRY", "@entry", start, self.pos)
        if c in OPERATORS_1:
            self.pos += 1
            return Token("OP", c, start, self.pos)
        if c in "LuU" and nxt in ("'", '"'):
            return self._lex_quoted(start, c)
        if c in ("'", '"'):
            return self._lex_quoted(start, "")
        if not (c == "_" or c == "$" or c.isalpha()):
            raise ExpressionError(f"Invalid character '{c}' in expression.")
        end = start
        while end < len(text) and (text[end] in "_$" or text[end].isalnum()):
            end += 1
        name = text[start:end]
        # Breakpoint conditions: "if" and "thread N" / "task N" end the expression.
        if name == "if":
            return self._stop(start)
        if ("thread".startswith(name) or "task".startswith(name)) \
                and text[end:end + 1] in (" ", "\t") \
                and "0" <= text[end:].lstrip(" \t")[:1] <= "9":
            return self._stop(start)
        self.pos = end
        if name.startswith("$"):
            return Token("DOLLAR", name, start, end)
        return Token("NAME", name, start, end)

    def _lex_number(self, start: int) -> Token:
        text = self.text
        p = start
        hex_ = False
        if text[p] == "0" and text[p + 1:p + 2] in ("x", "X"):
            p += 2
            hex_ = True
        elif text[p] == "0" and text[p + 1:p + 2] in ("t", "T", "d", "D"):
            p += 2
        got_dot = got_e = got_p = False
        while p < len(text):
            ch = text[p]
            if not hex_ and not got_e and not got_p and ch in "eE":
                got_dot = got_e = True
            elif not got_e and not got_p and ch in "pP":
                got_dot = got_p = True
            elif not got_dot and ch == ".":
                got_dot = True
            elif ((got_e and text[p - 1] in "eE") or (got_p and text[p - 1] in "pP")) \
                    and ch in "+-":
                pass  # the exponent's sign, not a binary operator
            elif not (ch.isascii() and ch.isalnum()):
                break
            p += 1
        literal = text[start:p]
        self.pos = p
        if got_dot or got_e or got_p:
            parsed = _parse_float(literal)
            kind = "FLOAT"
        else:
            parsed = _parse_integer(literal)
            kind = "INT"
        if parsed is None:
            raise ExpressionError(f'Invalid number "{literal}".')
        value, c_type, imaginary = parsed
        return Token(kind, value, start, p, c_type=c_type, imaginary=imaginary)

    def _escape(self, p: int) -> tuple[list[tuple[int, bool]], int, int]:
        """Decode the escape after the backslash at p-1: (units, new position, host chars)."""
        text = self.text
        c = text[p] if p < len(text) else ""
        if c == "x":
            q = p + 1
            while q < len(text) and text[q] in _HEX:
                q += 1
            if q == p + 1:
                raise ExpressionError("\\x escape without a following hex digit")
            return [(int(text[p + 1:q], 16), True)], q, 1
        if c and c in "01234567":
            q = p
            while q < len(text) and q - p < 3 and text[q] in "01234567":
                q += 1
            return [(int(text[p:q], 8), True)], q, 1
        if c in ("u", "U"):
            width = 8 if c == "U" else 4
            q = p + 1
            while q < len(text) and q - p - 1 < width and text[q] in _HEX:
                q += 1
            if q == p + 1:
                raise ExpressionError(f"\\{c} escape without a following hex digit")
            return [(int(text[p + 1:q], 16), False)], q, 1
        if c == "\n":
            return [], p + 1, 0
        if c in _SIMPLE_ESCAPES:
            return [(_SIMPLE_ESCAPES[c], False)], p + 1, 1
        if c == "":
            return [], p, 0
        return [(ord(c), False)], p + 1, 1

    def _lex_quoted(self, start: int, prefix: str) -> Token:
        text = self.text
        p = start + len(prefix)
        quote = text[p]
        p += 1
        units: list[tuple[int, bool]] = []
        host_chars = 0
        while p < len(text):
            c = text[p]
            if c == "\\":
                new_units, p, count = self._escape(p + 1)
                units.extend(new_units)
                host_chars += count
            elif c == quote:
                break
            else:
                units.append((ord(c), False))
                host_chars += 1
                p += 1
        if p >= len(text):
            if quote == '"':
                raise ExpressionError("Unterminated string in expression.")
            raise ExpressionError("Unmatched single quote.")
        self.pos = p + 1
        element_type, _ = CHAR_KINDS[prefix]
        if quote == '"':
            return Token("STRING", element_type, start, self.pos, c_type=element_type,
                         units=units)
        if host_chars == 0:
            raise ExpressionError("A character constant must contain at least one character.")
        if host_chars > 2 and prefix == "":
            # gdb reads 'a long name' as a quoted symbol or file name.
            return Token("QNAME", text[start + 1:p], start, self.pos)
        if host_chars > 1:
            raise ExpressionError("Invalid character constant.")
        code = encode_units(units, element_type)[0]
        return Token("CHAR", code, start, self.pos, c_type=element_type)


def encode_units(units: list[tuple[int, bool]], element_type: str) -> list[int]:
    """Turn decoded characters into code units of element_type (UTF-8/16/32 as gdb's
    default host and target charsets do); raw escapes are truncated to the unit width."""
    mask = {"char": 0xFF, "char16_t": 0xFFFF}.get(element_type, 0xFFFFFFFF)
    out: list[int] = []
    for code, raw in units:
        if raw or code < 0x80:
            out.append(code & mask)
        elif element_type == "char":
            out.extend(chr(code).encode("utf-8", "surrogatepass"))
        elif element_type == "char16_t":
            data = chr(code).encode("utf-16-le", "surrogatepass")
            out.extend(int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2))
        else:
            out.append(code)
    return out
