"""engine/hitcontext.py without a process: compiled expressions against the general
evaluator on random C expressions over registers and literals, compiled DWARF locations
against dwarf_expr, and tracing's scalar printer against the value printer."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from ptrace.binding import func as pt

from pydbg.arch.x86_64 import DWARF_TO_NAME, lookup_register
from pydbg.engine.data import _summary
from pydbg.engine.evaluate import (
    BOOL, CHAR, INT, LONG, SCHAR, SHORT, UCHAR, UINT, ULONG, USHORT, EvalScope, Evaluator,
)
from pydbg.engine.hitcontext import ExpressionCompiler, Fallback, NotCompilable, compile_dwarf
from pydbg.engine.printing import PrintOptions, format_value
from pydbg.engine.tracing import scalar_printer
from pydbg.engine.values import Value
from pydbg.errors import ExpressionError
from pydbg.symbols.dwarf_expr import EvalContext, Memory, Register, evaluate_location
from pydbg.symbols.types import EnumType, Enumerator, TypedefType, type_name

LEAVES = ["$eax", "$ax", "$al", "$rax", "$rsp", "$r8d", "$rip", "$cl", "0", "1", "7",
          "255", "4000000000u", "2147483647", "0x7fffffffffffffff", "10l", "3ul", "'a'",
          "65535", "-1", "$pc"]
BINARY = ["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "==", "!=", "<", "<=", ">",
          ">=", "&&", "||"]
UNARY = ["-", "~", "!", "+"]


def _random_expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(LEAVES)
    if rng.random() < 0.2:
        return f"{rng.choice(UNARY)}({_random_expression(rng, depth - 1)})"
    return (f"({_random_expression(rng, depth - 1)} {rng.choice(BINARY)} "
            f"{_random_expression(rng, depth - 1)})")


def _registers(rng: random.Random) -> pt.ptrace_registers_t:
    raw = pt.ptrace_registers_t()
    interesting = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
                   0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF]
    for name, _ in pt.ptrace_registers_t._fields_:
        value = rng.choice(interesting) if rng.random() < 0.5 else rng.getrandbits(64)
        setattr(raw, name, value)
    return raw


def _fake_inspector() -> SimpleNamespace:
    """What the compiler asks of an Inspector for registers and literals: frame 0."""
    frame = SimpleNamespace(level=0, physical=SimpleNamespace(sigtramp=False, row=None))
    return SimpleNamespace(frame=frame, reader=None, ctx=None, program=None)


def _evaluator(raw, warnings: list[str]) -> Evaluator:
    def read_register(name: str) -> int:
        reg = lookup_register(name)
        return reg.extract(getattr(raw, reg.parent))
    return Evaluator(EvalScope(read_register=read_register, warn=warnings.append))


@pytest.mark.parametrize("seed", range(8))
def test_compiled_expressions_equal_the_evaluator(seed):
    rng = random.Random(seed)
    compiled_count = 0
    for _ in range(300):
        text = _random_expression(rng, 3)
        raw = _registers(rng)
        warnings: list[str] = []
        evaluator = _evaluator(raw, warnings)
        node = evaluator.parse(text)
        try:
            general = evaluator.eval(node)
            want = general.as_int()
        except ExpressionError:
            general = None
        try:
            compiled = ExpressionCompiler(_fake_inspector(), lambda a, n: b"").compile(node)
        except NotCompilable:
            continue        # pointer arithmetic, say: the evaluator's business
        try:
            got = compiled.fn(raw)
        except Fallback:
            assert general is None or warnings, text
            continue
        assert general is not None and not warnings, text
        assert type_name(compiled.type) == type_name(general.type), text
        if compiled.is_pointer:
            want &= (1 << 64) - 1
        assert got == want, (text, got, want)
        compiled_count += 1
    assert compiled_count > 150


def test_constant_parts_are_folded():
    node = _evaluator(pt.ptrace_registers_t(), []).parse("$edi == 2 * 3 - 7")
    compiled = ExpressionCompiler(_fake_inspector(), lambda a, n: b"").compile(node)
    assert "(-1)" in compiled.source and "*" not in compiled.source


# ----------------------------------------------------------------------------- DWARF

def _uleb(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _sleb(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        done = (v == 0 and not b & 0x40) or (v == -1 and b & 0x40)
        out.append(b | (0 if done else 0x80))
        if done:
            return bytes(out)


LOCATIONS = [
    bytes([0x55]),                                   # DW_OP_reg5 (rdi)
    bytes([0x90]) + _uleb(12),                       # DW_OP_regx 12
    bytes([0x91]) + _sleb(-20),                      # DW_OP_fbreg -20
    bytes([0x77]) + _sleb(8),                        # DW_OP_breg7 (rsp) 8
    bytes([0x92]) + _uleb(3) + _sleb(-4096),         # DW_OP_bregx 3 -4096
    bytes([0x03]) + (0x4010).to_bytes(8, "little"),  # DW_OP_addr 0x4010
    bytes([0x9C, 0x23]) + _uleb(16),                 # call_frame_cfa; plus_uconst 16
    bytes([0x75]) + _sleb(0) + bytes([0x9F]),        # DW_OP_breg5 0; DW_OP_stack_value
    bytes([0x75, 0x00, 0x31, 0x1C, 0x9F]),           # breg5 0; lit1; minus; stack_value
    bytes([0x70, 0x10, 0x76, 0x00, 0x22]),           # breg0 16; breg6 0; plus
    bytes([0x0C]) + (0xFFFFFFFF).to_bytes(4, "little") + bytes([0x9F]),   # const4u; value
]


@pytest.mark.parametrize("expr", LOCATIONS, ids=lambda e: e.hex())
def test_compiled_locations_equal_dwarf_expr(expr):
    rng = random.Random(expr)
    bias = 0x555555554000
    for _ in range(50):
        raw = _registers(rng)
        cfa_offset, base_offset = rng.randrange(-64, 64), rng.randrange(-64, 64)

        def reg(n: int) -> int:
            return getattr(raw, DWARF_TO_NAME[n])
        cfa = (reg(7) + cfa_offset) & ((1 << 64) - 1)
        frame_base = (reg(6) + base_offset) & ((1 << 64) - 1)
        want = evaluate_location(expr, EvalContext(read_register=reg, load_bias=bias,
                                                   frame_base=lambda: frame_base,
                                                   cfa=lambda: cfa))
        loc = compile_dwarf(expr, bias=bias,
                            frame_base=lambda: f"((raw.rbp + {base_offset}) & {2**64 - 1})",
                            cfa=lambda: f"((raw.rsp + {cfa_offset}) & {2**64 - 1})")
        got = eval(f"lambda raw: {loc.src}")(raw)   # noqa: S307 - test of generated source
        if isinstance(want, Register):
            assert loc.kind == "reg" and got == reg(want.regno)
        elif isinstance(want, Memory):
            assert loc.kind == "mem" and got == want.address
        else:
            assert loc.kind == "value" and got == int.from_bytes(want.data[:8], "little")


def test_unsupported_locations_are_refused():
    for expr in (bytes([0x55, 0x93, 0x04]),           # reg5; piece 4
                 bytes([0xF3, 0x01, 0x55, 0x9F]),     # entry_value(reg5); stack_value
                 bytes([0x91, 0x00, 0x06])):          # fbreg 0; deref
        with pytest.raises(NotCompilable):
            compile_dwarf(expr, bias=0, frame_base=lambda: "0", cfa=lambda: "0")


# ----------------------------------------------------------------------------- printing

COLOR = EnumType("color", 4, [Enumerator("RED", 0), Enumerator("GREEN", 5),
                              Enumerator("BLUE", -3)], is_unsigned=False)
FLAGS = EnumType("flags", 4, [Enumerator("A", 1), Enumerator("B", 2), Enumerator("C", 8)],
                 is_flag_enum=True)
TYPES = [INT, UINT, LONG, ULONG, SHORT, USHORT, CHAR, SCHAR, UCHAR, BOOL, COLOR, FLAGS,
         TypedefType("myint", INT), TypedefType("uint8_t", UCHAR)]


@pytest.mark.parametrize("t", TYPES, ids=lambda t: type_name(t))
def test_scalar_printer_equals_the_value_printer(t):
    printer = scalar_printer(t)
    assert printer is not None
    size = t.size
    values = [0, 1, 2, 3, 5, 7, 9, 10, 13, 27, 34, 39, 92, 127, 128, 200, 255, 256, 65535,
              -1, -3, -128, -129, 2 ** 31 - 1, -2 ** 31, 2 ** 63 - 1]
    opts = PrintOptions()
    for v in values:
        value = Value.from_int(t, v)
        n = value.as_int()
        assert printer(n) == _summary(Value.from_int(t, v), opts), (type_name(t), v)
        assert printer(n) == format_value(value, opts), (type_name(t), v)
    assert size > 0
