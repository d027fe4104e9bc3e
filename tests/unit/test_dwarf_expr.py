"""DWARF expression evaluation: hand-assembled expressions (expected values from the DWARF
spec) and real -O2 expressions (decoding checked against pyelftools, addresses against nm).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.elf.elffile import ELFFile

from pydbg.errors import MemoryAccessError, SymbolError
from pydbg.symbols.dwarf_expr import (DwarfExprError, EvalContext, Implicit, Memory,
                                      OptimizedOut, OptimizedOutError, Piece, Pieces, Register,
                                      UnknownOpError, decode, evaluate_location, evaluate_value,
                                      format_expr)
from pydbg.symbols.loclists import location_entries, LocationLists
from tests.support.build import VARIANTS, build

MASK64 = (1 << 64) - 1


def uleb(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def sleb(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        done = (v == 0 and not b & 0x40) or (v == -1 and b & 0x40)
        out.append(b | (0 if done else 0x80))
        if done:
            return bytes(out)


def lit(n: int) -> bytes:
    return bytes([0x30 + n])


def consts(n: int) -> bytes:
    return b"\x11" + sleb(n)


REGS = {0: 0x10, 5: 0x1000, 6: 0x7FF0, 7: 0x7F00, 17: 42}
MEMORY = {0x1000: 0x1122334455667788, 0x1008: 0xDEADBEEF, 0x7F10: 0x2000}


def read_memory(address: int, size: int) -> bytes:
    base = address & ~7
    if base not in MEMORY:
        raise MemoryAccessError(address)
    word = MEMORY[base].to_bytes(8, "little") + b"\0" * 8
    return word[address - base:address - base + size]


def ctx(**kw) -> EvalContext:
    kw.setdefault("read_register", REGS.__getitem__)
    kw.setdefault("read_memory", read_memory)
    return EvalContext(**kw)


def value(expr: bytes, **kw) -> int:
    return evaluate_value(expr, ctx(**kw))


# --------------------------------------------------------------------------- literals & stack

@pytest.mark.parametrize("expr, expected", [
    (lit(0), 0), (lit(31), 31),
    (b"\x08\xff", 0xFF), (b"\x09\xff", MASK64), (b"\x0a\x34\x12", 0x1234),
    (b"\x0b\xfe\xff", (-2) & MASK64), (b"\x0c\x78\x56\x34\x12", 0x12345678),
    (b"\x0d\xff\xff\xff\xff", MASK64), (b"\x0e" + (2**63).to_bytes(8, "little"), 2**63),
    (b"\x0f" + (-5 & MASK64).to_bytes(8, "little"), (-5) & MASK64),
    (b"\x10" + uleb(624485), 624485), (consts(-123456), (-123456) & MASK64),
])
def test_constants(expr: bytes, expected: int) -> None:
    assert value(expr) == expected


def test_stack_operations() -> None:
    assert value(lit(1) + lit(2) + b"\x12" + b"\x22" + b"\x22") == 5  # dup, plus, plus
    assert value(lit(1) + lit(2) + b"\x13") == 1  # drop
    assert value(lit(1) + lit(2) + b"\x14") == 1  # over
    assert value(lit(7) + lit(8) + lit(9) + b"\x15\x02") == 7  # pick 2
    assert value(lit(1) + lit(2) + b"\x16") == 1  # swap
    # rot: (1 2 3) -> (3 1 2), top is 2
    assert value(lit(1) + lit(2) + lit(3) + b"\x17") == 2
    assert value(lit(1) + lit(2) + lit(3) + b"\x17" + b"\x13") == 1
    assert value(lit(1) + lit(2) + lit(3) + b"\x17" + b"\x13\x13") == 3


@pytest.mark.parametrize("ops, expected", [
    (consts(-5) + b"\x19", 5),  # abs
    (lit(12) + lit(10) + b"\x1a", 8),  # and
    (consts(-7) + lit(2) + b"\x1b", (-3) & MASK64),  # div truncates toward zero
    (lit(3) + lit(10) + b"\x1c", (-7) & MASK64),  # minus
    (lit(17) + lit(5) + b"\x1d", 2),  # mod
    (lit(6) + lit(7) + b"\x1e", 42),  # mul
    (lit(5) + b"\x1f", (-5) & MASK64),  # neg
    (lit(0) + b"\x20", MASK64),  # not
    (lit(12) + lit(3) + b"\x21", 15),  # or
    (lit(1) + b"\x23" + uleb(300), 301),  # plus_uconst
    (lit(1) + lit(4) + b"\x24", 16),  # shl
    (consts(-16) + lit(2) + b"\x25", ((-16) & MASK64) >> 2),  # shr is logical
    (consts(-16) + lit(2) + b"\x26", (-4) & MASK64),  # shra is arithmetic
    (lit(12) + lit(10) + b"\x27", 6),  # xor
    (consts(-1) + lit(1) + b"\x2d", 1),  # lt compares signed
    (consts(-1) + lit(1) + b"\x2b", 0),  # gt
    (lit(2) + lit(2) + b"\x29", 1), (lit(2) + lit(3) + b"\x2e", 1),  # eq, ne
    (lit(2) + lit(2) + b"\x2a", 1), (lit(3) + lit(2) + b"\x2c", 0),  # ge, le
])
def test_arithmetic(ops: bytes, expected: int) -> None:
    assert value(ops) == expected


def test_division_by_zero() -> None:
    with pytest.raises(DwarfExprError, match="Division by zero"):
        value(lit(1) + lit(0) + b"\x1b")


def test_skip_and_bra() -> None:
    # lit1; bra +1 (over lit5); lit5 ... -> lit7 on top
    assert value(lit(1) + b"\x28\x01\x00" + lit(5) + lit(7)) == 7
    assert value(lit(0) + b"\x28\x01\x00" + lit(5)) == 5
    # skip over a lit: lit3; skip +1; lit9 -> 3
    assert value(lit(3) + b"\x2f\x01\x00" + lit(9)) == 3
    # loop: count down from 3 to 0 with bra backwards: lit3; [dup; bra ->; ] ...
    loop = lit(3) + lit(1) + b"\x1c" + b"\x12" + b"\x28" + (-6 & 0xFFFF).to_bytes(2, "little")
    assert value(loop) == 0
    with pytest.raises(DwarfExprError):
        value(lit(0) + b"\x2f\x05\x00")  # lands outside the expression


# --------------------------------------------------------------------------- registers & memory

def test_register_ops() -> None:
    assert evaluate_location(b"\x55", ctx()) == Register(5)  # reg5
    assert evaluate_location(b"\x90" + uleb(17), ctx()) == Register(17)  # regx
    assert evaluate_location(b"\x75" + sleb(8), ctx()) == Memory(0x1008)  # breg5 8
    assert evaluate_location(b"\x92" + uleb(7) + sleb(-16), ctx()) == Memory(0x7F00 - 16)
    assert evaluate_value(b"\x56", ctx()) == 0x7FF0  # frame base = DW_OP_reg6 -> rbp's value
    with pytest.raises(DwarfExprError, match="must be used either alone"):
        evaluate_location(b"\x55" + lit(1), ctx())


def test_memory_ops() -> None:
    assert value(b"\x75\x00\x06") == 0x1122334455667788  # breg5 0; deref
    assert value(b"\x75\x00\x94\x02") == 0x7788  # deref_size 2
    assert value(lit(0) + b"\x75\x08\x18") == 0xDEADBEEF  # xderef ignores the address space
    assert value(lit(0) + b"\x75\x00\x95\x01") == 0x88  # xderef_size
    assert value(b"\x75\x00\xa6\x04" + uleb(0x30)) == 0x55667788  # deref_type
    with pytest.raises(MemoryAccessError):
        value(lit(8) + b"\x06")


def test_addresses_frame_base_cfa_and_bias() -> None:
    assert evaluate_location(b"\x03" + (0x4010).to_bytes(8, "little"), ctx(load_bias=0x1000)) \
        == Memory(0x5010)
    table = [0x4000, 0x4020]
    assert evaluate_location(b"\xa1\x01", ctx(read_address_index=table.__getitem__,
                                               load_bias=0x100)) == Memory(0x4120)
    assert value(b"\xa2\x01", read_address_index=table.__getitem__, load_bias=0x100) == 0x4020
    assert value(b"\xfb\x00", read_address_index=table.__getitem__) == 0x4000
    assert evaluate_location(b"\x91" + sleb(-20), ctx(frame_base=lambda: 0x8000)) \
        == Memory(0x8000 - 20)
    assert evaluate_location(b"\x9c", ctx(cfa=lambda: 0x7F20)) == Memory(0x7F20)
    with pytest.raises(DwarfExprError, match="frame base"):
        evaluate_location(b"\x91\x00", ctx())


def test_tls_and_parameter_ref() -> None:
    tls = lambda off: 0x7000_0000 + off
    expr = b"\x0e" + (0x10).to_bytes(8, "little")
    assert evaluate_location(expr + b"\xe0", ctx(tls_address=tls)) == Memory(0x7000_0010)
    assert evaluate_location(expr + b"\x9b", ctx(tls_address=tls)) == Memory(0x7000_0010)
    ref = b"\xfa" + (0x1234).to_bytes(4, "little") + b"\x9f"
    assert evaluate_location(ref, ctx(parameter_ref=lambda die: die + 1)) \
        == Implicit((0x1235).to_bytes(8, "little"))
    assert isinstance(evaluate_location(ref, ctx()), OptimizedOut)


# --------------------------------------------------------------------------- implicit & pieces

def test_stack_value_and_implicit_value() -> None:
    loc = evaluate_location(b"\x75\x02\x9f", ctx())  # breg5 2; stack_value
    assert loc == Implicit((0x1002).to_bytes(8, "little")) and loc.value == 0x1002
    assert evaluate_location(b"\x9e\x04\x01\x02\x03\x04", ctx()) == Implicit(b"\x01\x02\x03\x04")
    assert evaluate_location(b"", ctx()) == OptimizedOut("empty location")


def test_implicit_pointer_is_unavailable() -> None:
    for op in (0xA0, 0xF2):
        loc = evaluate_location(bytes([op]) + (0x2A).to_bytes(4, "little") + sleb(0), ctx())
        assert isinstance(loc, OptimizedOut) and "implicit pointer" in loc.reason


def test_entry_value() -> None:
    expr = b"\xa3\x01\x55\x9f"  # entry_value(reg5); stack_value
    assert evaluate_location(expr, ctx(entry_value=lambda e: 0x99 if e == b"\x55" else 0)) \
        == Implicit((0x99).to_bytes(8, "little"))
    assert isinstance(evaluate_location(expr, ctx()), OptimizedOut)
    gnu = b"\xf3\x01\x54\x9f"

    def unavailable(block: bytes) -> int:
        raise OptimizedOutError()
    assert isinstance(evaluate_location(gnu, ctx(entry_value=unavailable)), OptimizedOut)
    with pytest.raises(OptimizedOutError):
        evaluate_value(gnu, ctx())


def test_pieces() -> None:
    # reg5 piece 4; (nothing) piece 4 -> second half optimized out
    loc = evaluate_location(b"\x55\x93\x04\x93\x04", ctx())
    assert loc == Pieces((Piece(Register(5), 32),
                          Piece(OptimizedOut("piece without a location"), 32)))
    # memory piece, stack value piece, bit piece from a register
    expr = b"\x75\x00\x93\x02" + lit(7) + b"\x9f\x93\x02" + b"\x50\x9d\x03\x05"
    loc = evaluate_location(expr, ctx())
    assert loc == Pieces((Piece(Memory(0x1000), 16), Piece(Implicit((7).to_bytes(8, "little")), 16),
                          Piece(Register(0), 3, 5)))


def test_typed_stack_ops_are_treated_as_integers() -> None:
    assert value(b"\xa4" + uleb(0x30) + b"\x04" + (77).to_bytes(4, "little")) == 77
    assert value(b"\xa5" + uleb(17) + uleb(0x30)) == 42  # regval_type
    assert value(lit(5) + b"\xa8" + uleb(0x30) + b"\xa9" + uleb(0)) == 5  # convert, reinterpret
    assert value(b"\xf5" + uleb(0) + uleb(0x30) + b"\xf7" + uleb(0)) == 0x10


def test_call_ops_use_the_callback() -> None:
    subs = {0x40: lit(9)}
    assert value(b"\x98\x40\x00", call=subs.__getitem__) == 9
    assert value(lit(1) + b"\x99\x40\x00\x00\x00" + b"\x22", call=subs.__getitem__) == 10
    with pytest.raises(DwarfExprError):
        value(b"\x98\x40\x00")


def test_errors() -> None:
    with pytest.raises(UnknownOpError, match="Unhandled dwarf expression opcode 0xfe"):
        value(b"\xfe")
    with pytest.raises(SymbolError):  # UnknownOpError is a SymbolError for front ends
        decode(b"\x01")
    with pytest.raises(DwarfExprError, match="underflow"):
        value(b"\x22")
    with pytest.raises(DwarfExprError, match="truncated"):
        decode(b"\x0c\x01")


def test_nop_and_uninit_are_ignored() -> None:
    assert value(lit(3) + b"\x96\xf0") == 3


# --------------------------------------------------------------------------- real expressions

def all_expressions(path: Path):
    """Every exprloc and location-list expression in PATH, with its CU."""
    with open(path, "rb") as f:
        dwarf = ELFFile(f).get_dwarf_info()
        for cu in dwarf.iter_CUs():
            for die in cu.iter_DIEs():
                for attr in die.attributes.values():
                    if attr.form == "DW_FORM_exprloc":
                        yield cu, die, bytes(attr.value)
                    elif attr.name == "DW_AT_location" and LocationLists.is_location_list(attr, cu):
                        for entry in location_entries(attr, cu):
                            yield cu, die, entry.expr


@pytest.mark.parametrize("flags", [["-O2"], ["-O2", "-gdwarf-4"], ["-O0"]])
def test_real_expressions_decode_like_pyelftools(flags: list[str]) -> None:
    path = build("locations.c", flags)
    count = 0
    names = set()
    for cu, die, expr in all_expressions(path):
        theirs = DWARFExprParser(cu.structs).parse_expr(list(expr))
        mine = decode(expr)
        assert [(op.name, op.offset) for op in mine] == [(op.op_name, op.offset) for op in theirs]
        for a, b in zip(mine, theirs):
            if not any(isinstance(x, bytes) for x in a.operands):
                assert list(a.operands) == [x for x in b.args if isinstance(x, int)], a.name
        assert format_expr(expr)
        names.update(op.name for op in mine)
        count += 1
    assert count > 20
    if flags == ["-O2"]:
        assert {"DW_OP_entry_value", "DW_OP_stack_value", "DW_OP_piece",
                "DW_OP_call_frame_cfa"} <= names


def nm(path: Path) -> dict[str, int]:
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    return {p[2]: int(p[0], 16) for p in (line.split() for line in out.splitlines()) if len(p) == 3}


@pytest.mark.parametrize("variant", ["O0", "O2", "O2-nopie"])
def test_real_global_tls_and_frame_base(variant: str) -> None:
    path = build("locations.c", VARIANTS[variant])
    symbols = nm(path)
    bias = 0x5555_5555_4000 if "nopie" not in variant else 0
    seen = set()
    for cu, die, expr in all_expressions(path):
        name = die.attributes.get("DW_AT_name")
        name = name.value.decode() if name else ""
        if die.tag == "DW_TAG_variable" and name == "loc_global":
            loc = evaluate_location(expr, ctx(load_bias=bias))
            assert loc == Memory(symbols["loc_global"] + bias)
            seen.add("global")
        elif die.tag == "DW_TAG_variable" and name == "loc_tls":
            # The TLS offset of loc_tls in the module's block is its symbol value (nm).
            loc = evaluate_location(expr, ctx(tls_address=lambda off: 0x7000_0000 + off))
            assert loc == Memory(0x7000_0000 + symbols["loc_tls"])
            seen.add("tls")
        elif die.tag == "DW_TAG_subprogram" and expr == b"\x9c":
            assert evaluate_value(expr, ctx(cfa=lambda: 0x7FFF_0000)) == 0x7FFF_0000
            seen.add("frame_base")
    assert seen == {"global", "tls", "frame_base"}


def test_real_O0_locals_are_fbreg() -> None:
    path = build("locations.c", VARIANTS["O0"])
    fbreg = [expr for cu, die, expr in all_expressions(path)
             if die.tag in ("DW_TAG_variable", "DW_TAG_formal_parameter") and expr[:1] == b"\x91"]
    assert len(fbreg) >= 8
    for expr in fbreg:
        offset = decode(expr)[0].operands[0]
        assert evaluate_location(expr, ctx(frame_base=lambda: 0x9000)) == Memory(0x9000 + offset)
