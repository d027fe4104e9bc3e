"""The x87, SSE and AVX registers as gdb shows them: $st0-7, $fctrl.., $mxcsr, $xmm/$ymm/$zmm.

Values come from the XSAVE area (PTRACE_GETREGSET NT_X86_XSTATE, standard layout) and carry
gdb's types (union vec128 {v8_bfloat16, v8_half, v4_float, ...}); writes go back through
the FXSAVE area or the whole XSAVE area. Also the `info registers` rows and groups for them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from pydbg.engine.values import Access, RegisterLval, Value
from pydbg.symbols.types import ArrayType, BaseType, Member, TypedefType, UnionType

# --------------------------------------------------------------------------- gdb's types

INT = BaseType("int", 4, "signed")
I387_EXT = BaseType("builtin_type_i387_ext", 10, "float")
MXCSR = BaseType("i386_mxcsr", 4, "flags")
_BF16 = BaseType("bfloat16", 2, "float")
_HALF = BaseType("half", 2, "float")
_FLOAT = BaseType("float", 4, "float")
_DOUBLE = BaseType("double", 8, "float")
_I8 = BaseType("int8_t", 1, "signed")
_I16 = BaseType("int16_t", 2, "signed")
_I32 = BaseType("int32_t", 4, "signed")
_I64 = BaseType("int64_t", 8, "signed")
_U128 = BaseType("uint128_t", 16, "unsigned")
_I128 = BaseType("int128_t", 16, "signed")

_LANES = (("bfloat16", _BF16, "bf16"), ("half", _HALF, "h"), ("float", _FLOAT, "f"),
          ("double", _DOUBLE, "d"), ("int8", _I8, "i8"), ("int16", _I16, "i16"),
          ("int32", _I32, "i32"), ("int64", _I64, "i64"))
# vec128 comes from the target description, whose float lanes have gdb's builtin names.
_TDESC_FLOATS = {"bfloat16": BaseType("builtin_type_bfloat16", 2, "float"),
                 "half": BaseType("builtin_type_ieee_half", 2, "float"),
                 "float": BaseType("builtin_type_ieee_single", 4, "float"),
                 "double": BaseType("builtin_type_ieee_double", 8, "float")}


def _vector_union(name: str, size: int, typedefs: bool, wide: tuple[str, BaseType]) -> UnionType:
    members = []
    for word, elt, short in _LANES:
        if typedefs:
            elt = _TDESC_FLOATS.get(word, elt)
        n = size // elt.size
        t = ArrayType(elt, [n], vector=True)
        members.append(Member(f"v{n}_{word}", TypedefType(f"v{n}{short}", t) if typedefs
                              else t, 0))
    wname, wtype = wide
    n = size // 16
    members.append(Member(wname if n == 1 else f"v{n}_{wname}",
                          wtype if n == 1 else ArrayType(wtype, [n], vector=True), 0))
    return UnionType(name, size, members)


VEC128 = _vector_union("vec128", 16, True, ("uint128", _U128))
VEC256 = _vector_union("builtin_type_vec256i", 32, False, ("int128", _I128))
VEC512 = _vector_union("builtin_type_vec512i", 64, False, ("int128", _I128))

# --------------------------------------------------------------------------- the layout

_FX_ST, _FX_XMM, _XSTATE_BV = 32, 160, 512
_XCR0 = 464      # the kernel's copy of XCR0 in the FXSAVE software-reserved bytes
# Standard-format XSAVE offsets (CPUID leaf 0xD; the same on Intel and on AMD's AVX-512
# CPUs, which keep the MPX hole) and sizes of the components gdb shows: bit -> bytes.
_COMPONENT_SIZES = {2: 256, 5: 64, 6: 512, 7: 1024}
_INTEL_OFFSETS = {2: 576, 5: 1088, 6: 1152, 7: 1664}


def xsave_offsets(xstate: bytes) -> dict[int, int]:
    """Offsets of the XSAVE components XCR0 enables (the area may end early: a kernel
    can return fewer bytes than the layout spans; what is missing reads as zero)."""
    xcr0 = struct.unpack_from("<Q", xstate, _XCR0)[0] if len(xstate) >= 512 else 3
    return {b: off for b, off in _INTEL_OFFSETS.items() if xcr0 >> b & 1}
# Control words: (offset, size, mask) in the FXSAVE area, as gdb's i387 fxsave map.
_CONTROL = {"fctrl": (0, 2, 0xFFFF), "fstat": (2, 2, 0xFFFF), "fiseg": (12, 4, 0xFFFF),
            "fioff": (8, 4, 0xFFFFFFFF), "foseg": (20, 4, 0xFFFF),
            "fooff": (16, 4, 0xFFFFFFFF), "fop": (6, 2, 0x7FF)}
FLOAT_GROUP = tuple(f"st{i}" for i in range(8)) + (
    "fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")


@dataclass(frozen=True)
class Features:
    """Which register files the CPU and kernel expose (bits of XCR0)."""
    avx: bool
    avx512: bool

    @classmethod
    def from_xstate(cls, xstate: bytes) -> "Features":
        offsets = xsave_offsets(xstate)
        return cls(2 in offsets, all(b in offsets for b in (5, 6, 7)))

    def xmm_count(self) -> int:
        return 32 if self.avx512 else 16

    def names(self) -> list[str]:
        """Every register this module provides, as gdb's register names."""
        out = list(FLOAT_GROUP) + ["mxcsr"]
        out += [f"xmm{i}" for i in range(self.xmm_count())]
        if self.avx:
            out += [f"ymm{i}" for i in range(self.xmm_count())]
        if self.avx512:
            out += [f"zmm{i}" for i in range(32)]
        return out

    def group(self, group: str) -> list[str] | None:
        """gdb's `info registers GROUP` for the float/vector groups (None: not ours)."""
        n = self.xmm_count()
        if group == "float":
            return list(FLOAT_GROUP)
        if group == "sse":
            return [f"xmm{i}" for i in range(16)] + ["mxcsr"] + \
                [f"xmm{i}" for i in range(16, n)]
        if group == "vector":
            return ["mxcsr"] + self.wide_registers()
        return None

    def wide_registers(self) -> list[str]:
        """The widest view of the vector registers (what `info all-registers` lists)."""
        if self.avx512:
            return [f"zmm{i}" for i in range(32)]
        if self.avx:
            return [f"ymm{i}" for i in range(16)]
        return [f"xmm{i}" for i in range(16)]

    def all_registers_tail(self) -> tuple[list[str], list[str]]:
        """(registers after the general ones and before k0-k7, the vector registers)."""
        return list(FLOAT_GROUP) + ["mxcsr"], self.wide_registers()


def _slices(name: str, offsets: dict[int, int] | None = None
            ) -> list[tuple[int, int]] | None:
    """(offset, length) pieces of the XSAVE area that make up NAME, low bytes first."""
    offsets = offsets or _INTEL_OFFSETS
    if name.startswith("st") and name[2:].isdigit() and int(name[2:]) < 8:
        return [(_FX_ST + 16 * int(name[2:]), 10)]
    if name == "mxcsr":
        return [(24, 4)]
    if name in _CONTROL:
        off, size, _ = _CONTROL[name]
        return [(off, size)]
    for prefix, width in (("xmm", 16), ("ymm", 32), ("zmm", 64)):
        if name.startswith(prefix) and name[3:].isdigit():
            i = int(name[3:])
            if not 0 <= i < 32:
                return None
            if i >= 16:
                return [(offsets.get(7, 0) + 64 * (i - 16), width)]
            parts = [(_FX_XMM + 16 * i, 16)]
            if width >= 32:
                parts.append((offsets.get(2, 0) + 16 * i, 16))
            if width == 64:
                parts.append((offsets.get(6, 0) + 32 * i, 32))
            return parts
    return None


def register_type(name: str):
    if name.startswith("st"):
        return I387_EXT
    if name == "mxcsr":
        return MXCSR
    if name in _CONTROL or name == "ftag":
        return INT
    return {"x": VEC128, "y": VEC256, "z": VEC512}[name[0]]


def _tag(raw: bytes) -> int:
    """gdb's i387_tag: 0 valid, 1 zero, 2 special, for an x87 register's 10 bytes."""
    exponent = int.from_bytes(raw[8:10], "little") & 0x7FFF
    integer = raw[7] & 0x80
    fraction = int.from_bytes(raw[:8], "little") & ((1 << 63) - 1)
    if exponent == 0x7FFF:
        return 2
    if exponent == 0:
        return 1 if fraction == 0 and not integer else 2
    return 0 if integer else 2


def full_tag_word(xstate: bytes) -> int:
    """The i387 tag word rebuilt from FXSAVE's abridged one, as gdb does."""
    abridged = xstate[4]
    top = (xstate[3] >> 3) & 7
    ftag = 0
    for fpreg in range(7, -1, -1):
        if abridged & (1 << fpreg):
            this = (fpreg + 8 - top) % 8
            tag = _tag(xstate[_FX_ST + 16 * this:_FX_ST + 16 * this + 10])
        else:
            tag = 3
        ftag |= tag << (2 * fpreg)
    return ftag


def _live(xstate: bytes) -> bytes:
    """XSTATE with components XSTATE_BV marks as in their initial state zeroed: the
    kernel may hand back stale bytes for them."""
    if len(xstate) < _XSTATE_BV + 8:
        return xstate
    bv = struct.unpack_from("<Q", xstate, _XSTATE_BV)[0]
    out = bytearray(xstate)
    if not bv & 1:           # x87 at reset: FCW 0x37f, everything else 0
        out[0:24] = (0x37F).to_bytes(2, "little") + bytes(22)
        out[_FX_ST:_FX_XMM] = bytes(_FX_XMM - _FX_ST)
    if not bv & 2:
        out[_FX_XMM:_FX_XMM + 256] = bytes(256)
    for bit, off in xsave_offsets(xstate).items():
        if not bv >> bit & 1:
            end = min(off + _COMPONENT_SIZES[bit], len(out))
            out[off:end] = bytes(max(end - off, 0))
    return bytes(out)


def raw_bytes(name: str, xstate: bytes) -> bytes:
    xstate = _live(xstate)
    if name == "ftag":
        return full_tag_word(xstate).to_bytes(4, "little")
    if name in _CONTROL:
        off, size, mask = _CONTROL[name]
        return (int.from_bytes(xstate[off:off + size], "little") & mask).to_bytes(4, "little")
    parts = _slices(name, xsave_offsets(xstate))
    assert parts is not None
    return b"".join(xstate[off:off + n].ljust(n, b"\0") for off, n in parts)


def is_fp_register(name: str, features: Features | None = None) -> bool:
    """Whether $NAME is one of ours (for the CPU FEATURES describes, if given)."""
    if name != "ftag" and _slices(name) is None:
        return False
    return features is None or name in features.names()


# --------------------------------------------------------------------------- values

def unavailable_value(name: str) -> Value:
    """$NAME without a process: its type (for whatis/ptype), but no contents."""
    def no_registers(_regno: int) -> bytes:
        from pydbg.errors import ExpressionError
        raise ExpressionError("No registers.")
    return Value(register_type(name), RegisterLval(FpRegisters.BASE),
                 Access(read_register=no_registers,
                        write_register=lambda regno, data: no_registers(regno)))


class FpRegisters:
    """Reads and writes the registers of the current thread through the process."""

    # Private register numbers for RegisterLval (not DWARF numbers).
    BASE = 0x10000

    def __init__(self, get_xstate: Callable[[], bytes],
                 set_fxsave: Callable[[bytes], None],
                 set_xstate: Callable[[bytes], None] | None) -> None:
        self._get = get_xstate
        self._set_fxsave = set_fxsave
        self._set_xstate = set_xstate
        self._names: list[str] = []
        self.access = Access(read_register=self._read, write_register=self._write)

    def features(self) -> Features:
        return Features.from_xstate(self._get())

    def _number(self, name: str) -> int:
        if name not in self._names:
            self._names.append(name)
        return self.BASE + self._names.index(name)

    def value(self, name: str) -> Value:
        data = raw_bytes(name, self._get())
        t = register_type(name)
        return Value(t, RegisterLval(self._number(name)), self.access,
                     _contents=data[:t.size])

    def _read(self, regno: int) -> bytes:
        return raw_bytes(self._names[regno - self.BASE], self._get())

    def _write(self, regno: int, data: bytes) -> None:
        name = self._names[regno - self.BASE]
        xstate = bytearray(_live(self._get()))
        if name == "ftag":
            # Back to FXSAVE's abridged form: a register is in use unless tagged empty.
            tags = int.from_bytes(data[:2], "little")
            xstate[4] = sum(1 << i for i in range(8) if (tags >> 2 * i) & 3 != 3)
        elif name in _CONTROL:
            off, size, _ = _CONTROL[name]
            xstate[off:off + size] = data[:size]
        else:
            pos = 0
            for off, n in _slices(name, xsave_offsets(bytes(xstate))) or []:
                if off + n > len(xstate):
                    xstate.extend(bytes(off + n - len(xstate)))
                xstate[off:off + n] = data[pos:pos + n]
                pos += n
        fx_only = name in _CONTROL or name in ("ftag", "mxcsr") or name.startswith("st") \
            or (name.startswith("xmm") and int(name[3:]) < 16)
        if fx_only or self._set_xstate is None:
            self._set_fxsave(bytes(xstate[:512]))
        else:
            # Mark every component as live: XRSTOR resets the ones XSTATE_BV leaves out
            # (their bytes were zeroed above, so nothing else changes).
            bv = struct.unpack_from("<Q", xstate, _XSTATE_BV)[0]
            for bit in xsave_offsets(bytes(xstate)):
                bv |= 1 << bit
            struct.pack_into("<Q", xstate, _XSTATE_BV, bv | 3)
            self._set_xstate(bytes(xstate))


# --------------------------------------------------------------------------- info registers

def register_row(name: str, value: Value, format_value: Callable[[Value, str | None], str]
                 ) -> str:
    """One `info registers` row: gdb's default_print_one_register_info."""
    def pad(text: str, col: int) -> str:
        text += " "
        return text + " " * (col - len(text)) if len(text) < col else text
    line = pad(name, 15)
    t = value.type
    if t is I387_EXT:
        raw = value.fetch()
        return pad(line + format_value(value, None), 35) + \
            f"(raw 0x{raw[::-1].hex()})"
    if t in (VEC128, VEC256, VEC512):
        return line + format_value(value, "x")
    return pad(line + format_value(value, "x"), 35) + format_value(value, None)
