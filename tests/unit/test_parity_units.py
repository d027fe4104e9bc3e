"""Pieces of gdb parity that need no process: ELF print names, the signal table, x87/SSE
register decoding and formatting, DWARF location descriptions.

Expected texts are gdb 13's (its output on the same inputs, noted next to each case).
"""

from __future__ import annotations

import struct
import subprocess

from pydbg.engine import fpregs, signals
from pydbg.engine.printing import PrintOptions, float_text, format_value
from pydbg.engine.symbol_info import describe_location
from pydbg.engine.values import Value
from pydbg.symbols.demangle import print_name
from pydbg.symbols.types import BaseType, ptype_text


# --------------------------------------------------------------------------- print names

def test_print_names_are_gdbs():
    # gdb 13: `p (int *) &'NAME'` on globals with these assembler names.
    cases = {
        "calls.0": "calls", "a.b.c": "a.b[c]", "pkg.Name": "pkg[Name]",
        "x.constprop.0": "x.constprop", "y.12": "y", "z.isra": "z[isra]",
        "puts@got.plt": "puts@got[plt]", "fooB": "foo", "foo__bar": "foo.bar",
        "Foo.0": "Foo.0", "Oadd": '"+"', "xUab": "x\u00ab", "a.b__c.2": "a.b.c",
        "main": "main", "__libc_start_main": "__libc_start_main", "_start": "_start",
    }
    for linkage, shown in cases.items():
        assert print_name(linkage) == shown, linkage


# --------------------------------------------------------------------------- signals

def test_info_signals_table_is_gdbs():
    gdb = subprocess.run(["gdb", "-nx", "-batch", "-ex", "info signals"],
                         capture_output=True, text=True, timeout=60).stdout
    table = signals.SignalTable()
    ours = [signals.HEADER, ""] + [table.row(n) for n in signals.GDB_SIGNALS] + \
        ["", 'Use the "handle" command to change these tables.']
    assert ours == gdb.rstrip("\n").split("\n")


def test_signal_names_and_numbers():
    assert signals.signal_name(34) == "SIG34"
    assert signals.signal_description(34) == "Real-time event 34"
    assert signals.signal_name(10) == "SIGUSR1"
    assert signals.host_signal("SIGPOLL") == 29
    assert signals.host_signal("SIGEMT") is None
    # `handle 14` means gdb's own 14th signal, not Linux's 14.
    assert signals.from_command_number(14) == "SIGALRM"
    assert signals.from_command_number(10) == "SIGBUS"
    table = signals.SignalTable()
    table.thread_db_loaded()     # what gdb does once libthread_db is loaded
    assert table.row("SIG32").startswith("SIG32         No\tNo\tYes")


# --------------------------------------------------------------------------- registers

def _xstate(**fields) -> bytes:
    """A 1024-byte XSAVE area: FCW 0x37f, MXCSR 0x1f80, XCR0 = x87|SSE|AVX."""
    buf = bytearray(1024)
    struct.pack_into("<H", buf, 0, 0x37F)
    struct.pack_into("<I", buf, 24, 0x1F80)
    struct.pack_into("<Q", buf, 464, 0x7)
    struct.pack_into("<Q", buf, 512, 0x7)
    for off, data in fields.values():
        buf[off:off + len(data)] = data
    return bytes(buf)


def test_tag_word_is_rebuilt_from_fxsave():
    # All empty: gdb shows ftag 0xffff.
    assert fpregs.full_tag_word(_xstate()) == 0xFFFF
    # st0 = 2.5 (valid) with TOP = 7: physical register 7 tagged 0, the rest empty.
    two_and_half = (0xA000000000000000).to_bytes(8, "little") + (0x4000).to_bytes(2, "little")
    xs = _xstate(fsw=(2, struct.pack("<H", 7 << 11)), ftw=(4, b"\x80"),
                 st0=(32, two_and_half))
    assert fpregs.full_tag_word(xs) == 0x3FFF


def test_register_values_and_rows():
    xmm0 = struct.pack("<dd", 5.0, 0.0)
    fp = fpregs.FpRegisters(lambda: _xstate(x=(160, xmm0)), lambda data: None, None)
    assert fp.features() == fpregs.Features(avx=True, avx512=False)

    def fmt(value, letter):
        return format_value(value, PrintOptions(format=letter))
    # gdb 13 at `break half` in stepping.c (xmm0 = 5.0).
    assert fmt(fp.value("xmm0"), None) == (
        "{v8_bfloat16 = {0, 0, 0, 2.312, 0, 0, 0, 0}, v8_half = {0, 0, 0, 2.0391, 0, 0, 0, "
        "0}, v4_float = {0, 2.3125, 0, 0}, v2_double = {5, 0}, v16_int8 = {0, 0, 0, 0, 0, 0, "
        "20, 64, 0, 0, 0, 0, 0, 0, 0, 0}, v8_int16 = {0, 0, 0, 16404, 0, 0, 0, 0}, v4_int32 "
        "= {0, 1075052544, 0, 0}, v2_int64 = {4617315517961601024, 0}, uint128 = "
        "4617315517961601024}")
    assert fpregs.register_row("st0", fp.value("st0"), fmt) == \
        "st0            0                   (raw 0x00000000000000000000)"
    assert fpregs.register_row("fctrl", fp.value("fctrl"), fmt) == \
        "fctrl          0x37f               895"
    assert fpregs.register_row("mxcsr", fp.value("mxcsr"), fmt) == \
        "mxcsr          0x1f80              [ IM DM ZM OM UM PM ]"
    assert fmt(fp.value("ftag"), None) == "65535"


def test_register_writes_go_to_fxsave():
    written: list[bytes] = []
    fp = fpregs.FpRegisters(_xstate, written.append, None)
    v = fp.value("xmm1")
    fp.access.write_register(v.lval.regno, struct.pack("<QQ", 5, 0))
    assert written and written[0][176:192] == struct.pack("<QQ", 5, 0)


def test_half_and_bfloat16_print_like_gdb():
    half = BaseType("half", 2, "float")
    bf16 = BaseType("bfloat16", 2, "float")
    assert float_text((0x4014).to_bytes(2, "little"), half) == "2.0391"
    assert float_text((0x4014).to_bytes(2, "little"), bf16) == "2.312"
    assert float_text((0xFFFF).to_bytes(2, "little"), half) == "-nan(0x3ff)"
    assert float_text((0xFFFF).to_bytes(2, "little"), bf16) == "-nan(0x7f)"


def test_flag_types_ptype():
    text = ptype_text(fpregs.MXCSR)
    assert text.splitlines()[0] == "type = flag i386_mxcsr {"
    assert "    bool DAZ @6;" in text and text.endswith("    bool FZ @15;\n}")
    assert Value.from_int(fpregs.MXCSR, 0x1FA0) is not None


# --------------------------------------------------------------------------- info address

def test_location_descriptions():
    # gdb 13 `info address` texts for gcc's locations (after 'Symbol "x" is ').
    assert describe_location(bytes([0x91, 0x6C])) == \
        "a complex DWARF expression:\n     0: DW_OP_fbreg -20\n"
    assert describe_location(bytes([0x55])) == "a variable in $rdi"
    assert describe_location(bytes([0x34, 0x9F])) == "the constant 4"
    assert describe_location(bytes([0x75, 0x00, 0x31, 0x24, 0x9F])) == (
        "a complex DWARF expression:\n     0: DW_OP_breg5 0 [$rdi]\n     2: DW_OP_lit1\n"
        "     3: DW_OP_shl\n     4: DW_OP_stack_value\n")
    # A frame base of DW_OP_breg6 (rbp) names the register.
    assert describe_location(bytes([0x91, 0x6C]), bytes([0x76, 0x10])) == \
        "a variable at frame base reg $rbp offset 16+-20"
    assert describe_location(bytes([0x50, 0x93, 0x04, 0x51, 0x93, 0x04])) == \
        "a variable in $rax [4-byte piece], and a variable in $rdx [4-byte piece]"
