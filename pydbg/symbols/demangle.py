"""gdb's "print name" of an ELF (minimal) symbol: what `print &x`, `info symbol` and frames show.

gdb tries each language's demangler on a symbol without debug info; for C programs the one
that fires is Ada's (ada_decode), which drops GCC's `.N` suffixes (`calls.0` -> `calls`) and
brackets other dotted suffixes (`puts@got.plt` -> `puts@got[plt]`, `f.cold` -> `f[cold]`).
"""

from __future__ import annotations

from functools import lru_cache

# gdb's ada_opname_table: encoded operator function names and how they print.
_OPERATORS = (
    ("Oadd", '"+"'), ("Osubtract", '"-"'), ("Omultiply", '"*"'), ("Odivide", '"/"'),
    ("Omod", '"mod"'), ("Orem", '"rem"'), ("Oexpon", '"**"'), ("Olt", '"<"'),
    ("Ole", '"<="'), ("Ogt", '">"'), ("Oge", '">="'), ("Oeq", '"="'), ("One", '"/="'),
    ("Oand", '"and"'), ("Oor", '"or"'), ("Oxor", '"xor"'), ("Oconcat", '"&"'),
    ("Oabs", '"abs"'), ("Onot", '"not"'),
)


# The C library's <ctype.h> tests in the "C" locale: ASCII only.
def _digit(c: str) -> bool:
    return "0" <= c <= "9"


def _alpha(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _lower(c: str) -> bool:
    return "a" <= c <= "z"


def _upper(c: str) -> bool:
    return "A" <= c <= "Z"


def _alnum(c: str) -> bool:
    return _alpha(c) or _digit(c)


def _xdigit(c: str) -> bool:
    return _digit(c) or "a" <= c <= "f" or "A" <= c <= "F"


def _remove_compiler_suffix(enc: str, length: int) -> tuple[int, int]:
    """A trailing `.cold`-style suffix: (new length, suffix start) or (length, -1)."""
    offset = length - 1
    while offset > 0 and _alpha(enc[offset]):
        offset -= 1
    if offset > 0 and enc[offset] == ".":
        return offset, offset + 1
    return length, -1


def _remove_trailing_digits(enc: str, length: int) -> int:
    """Drop `.N`, `$N`, `___N` or `__N` (compiler-made clash avoidance)."""
    if length > 1 and _digit(enc[length - 1]):
        i = length - 2
        while i > 0 and _digit(enc[i]):
            i -= 1
        if i >= 0 and enc[i] == ".":
            return i
        if i >= 0 and enc[i] == "$":
            return i
        if i >= 2 and enc.startswith("___", i - 2):
            return i - 2
        if i >= 1 and enc.startswith("__", i - 1):
            return i - 1
    return length


def _hex_char(text: str) -> str | None:
    if not text or not all(_xdigit(c) for c in text):
        return None
    try:
        return chr(int(text, 16))
    except (ValueError, OverflowError):
        return None


def ada_decode(encoded: str) -> str:
    """gdb's ada_decode (wrap, operators and wide characters on); `<NAME>` when not Ada."""
    original = encoded
    if encoded.startswith("."):
        encoded = encoded[1:]
    if encoded.startswith("_ada_"):
        encoded = encoded[5:]
    if encoded.startswith("___ghost_"):
        encoded = encoded[9:]
    if not encoded or encoded[0] in "_<":
        return _suppress(encoded or original)
    enc = encoded
    # Reads past the logical end see the real characters, as the C code does, then NULs.
    at = (lambda k: enc[k] if 0 <= k < len(enc) else "\0")
    len0 = len(enc)
    len0, suffix = _remove_compiler_suffix(enc, len0)
    len0 = _remove_trailing_digits(enc, len0)
    if len0 > 1 and at(len0 - 1) == "N" and (_digit(at(len0 - 2)) or _lower(at(len0 - 2))):
        len0 -= 1
    p = enc.find("___")
    if p != -1 and p < len0 - 3:
        if at(p + 3) == "X":
            len0 = p
        else:
            return _suppress(enc)
    if len0 > 3 and enc.startswith("TKB", len0 - 3):
        len0 -= 3
    if len0 > 2 and enc.startswith("TB", len0 - 2):
        len0 -= 2
    if len0 > 1 and enc.startswith("B", len0 - 1):
        len0 -= 1
    if len0 > 1 and _digit(at(len0 - 1)):
        i = len0 - 2
        while (i >= 0 and _digit(at(i))) or (i >= 1 and at(i) == "_" and _digit(at(i - 1))):
            i -= 1
        if i > 1 and at(i) == "_" and at(i - 1) == "_":
            len0 = i - 1
        elif i >= 0 and at(i) == "$":
            len0 = i
    out: list[str] = []
    i = 0
    while i < len0 and not _alpha(at(i)):
        out.append(at(i))
        i += 1
    at_start_name = True
    while i < len0:
        if at_start_name and at(i) == "O":
            matched = False
            for name, decoded in _OPERATORS:
                n = len(name)
                if enc[i + 1:i + n] == name[1:] and not _alnum(at(i + n)):
                    out.append(decoded)
                    at_start_name = False
                    i += n
                    matched = True
                    break
            if matched:
                continue
        at_start_name = False
        if i < len0 - 4 and enc.startswith("TK__", i):
            i += 2
        if len0 - i > 5 and enc.startswith("__B_", i) and _digit(at(i + 4)):
            k = i + 5
            while k < len0 and _digit(at(k)):
                k += 1
            if len0 - k > 2 and at(k) == "_" and at(k + 1) == "_":
                i = k
        if len0 - i > 3 and at(i) == "_" and at(i + 1) == "E" and _digit(at(i + 2)):
            k = i + 3
            while k < len0 and _digit(at(k)):
                k += 1
            if k < len0 and at(k) in "bs":
                k += 1
                if k == len0 or (k < len0 and at(k) == "_"):
                    i = k
        if at(i) == "N" and at(i + 1) == "_" and at(i + 2) == "_":
            ptr = i - 1
            while ptr >= 0 and (_digit(at(ptr)) or _lower(at(ptr))):
                ptr -= 1
            if ptr < 0 or (ptr > 0 and at(ptr) == "_" and at(ptr - 1) == "_"):
                i += 1
        if at(i) == "U" and _xdigit(at(i + 1)):
            ch = _hex_char(enc[i + 1:i + 3]) if len(enc) >= i + 3 else None
            if ch is not None:
                out.append(ch)
                i += 3
                continue
        elif at(i) == "W" and at(i + 1) == "W" and _xdigit(at(i + 2)):
            ch = _hex_char(enc[i + 2:i + 10]) if len(enc) >= i + 10 else None
            if ch is not None:
                out.append(ch)
                i += 10
                continue
        elif at(i) == "W" and _xdigit(at(i + 1)):
            ch = _hex_char(enc[i + 1:i + 5]) if len(enc) >= i + 5 else None
            if ch is not None:
                out.append(ch)
                i += 5
                continue
        if at(i) == "X" and i != 0 and _alnum(at(i - 1)):
            i += 1
            while i < len0 and at(i) in "bn":
                i += 1
            if i < len0:
                return _suppress(enc)
        elif i < len0 - 2 and at(i) == "_" and at(i + 1) == "_":
            out.append(".")
            at_start_name = True
            i += 2
        else:
            out.append(at(i))
            i += 1
    decoded = "".join(out)
    if any(_upper(c) or c == " " for c in decoded):
        return _suppress(enc)
    if suffix >= 0:
        decoded += "[" + enc[suffix:] + "]"
    return decoded


def _suppress(encoded: str) -> str:
    return encoded if encoded.startswith("<") else f"<{encoded}>"


@lru_cache(maxsize=8192)
def print_name(linkage_name: str) -> str:
    """The name gdb prints for an ELF symbol without debug info (its "natural name").

    gdb's Ada sniffer claims a symbol when decoding changes it and does not give `<...>`;
    anything else (plain C names, `_`-prefixed names) prints unchanged.
    """
    decoded = ada_decode(linkage_name)
    if decoded != linkage_name and not decoded.startswith("<"):
        return decoded
    return linkage_name
