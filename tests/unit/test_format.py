"""gdb's text for `x`, `print/FMT` and `info registers`, checked against gdb itself.

gdb reads fixtures/formats.c's sections with no process; our formatter reads the same bytes
through pyelftools and symbolizes with `nm`, and the two outputs must agree byte for byte.
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from pydbg.engine.format import (
    ExamineError, FormatErrorWithOutput, XDefaults, XSpec, format_address, format_char,
    format_float_bits, format_register_line, format_register_value, format_registers,
    format_scalar, format_x, parse_print_format, parse_x_spec, quote_string,
)
from pydbg.errors import CommandError, MemoryAccessError
from tests.support.build import VARIANTS, build

# ----------------------------------------------------------------------------- helpers


class ElfMemory:
    """An ELF file's allocated sections by address, as gdb reads them with no process."""

    def __init__(self, path: Path) -> None:
        self.sections: list[tuple[int, int, bytes | None]] = []
        with open(path, "rb") as f:
            for sec in ELFFile(f).iter_sections():
                if sec["sh_flags"] & SH_FLAGS.SHF_ALLOC and sec["sh_size"]:
                    data = None if sec["sh_type"] == "SHT_NOBITS" else sec.data()
                    self.sections.append((sec["sh_addr"], sec["sh_size"], data))

    def section_of(self, addr: int) -> tuple[int, int, bytes | None] | None:
        for sec in self.sections:
            if sec[0] <= addr < sec[0] + sec[1]:
                return sec
        return None

    def read(self, addr: int, length: int) -> bytes:
        out = bytearray()
        while len(out) < length:
            a = addr + len(out)
            sec = self.section_of(a)
            if sec is None:
                raise MemoryAccessError(a)
            start, size, data = sec
            n = min(length - len(out), start + size - a)
            out += bytes(n) if data is None else data[a - start:a - start + n]
        return bytes(out)


class NmSymbolizer:
    """gdb's minimal-symbol choice over `nm -S -n`: same section, sized symbols first."""

    def __init__(self, path: Path, memory: ElfMemory, base: int = 0) -> None:
        self.memory, self.base = memory, base
        out = subprocess.run(["nm", "-S", "-n", str(path)], capture_output=True, text=True,
                             check=True).stdout
        self.syms: list[tuple[int, int, str, str]] = []
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4:
                addr, size, typ, name = int(parts[0], 16), int(parts[1], 16), *parts[2:]
            elif len(parts) == 3:
                addr, size, typ, name = int(parts[0], 16), 0, *parts[1:]
            else:
                continue
            if typ.lower() in "tdbrgs" or typ in "VW":
                self.syms.append((addr, size, typ, name))
        self.addrs = [s[0] for s in self.syms]

    def __call__(self, address: int) -> str | None:
        addr = address - self.base
        sec = self.memory.section_of(addr)
        if sec is None:
            return None
        hi = bisect.bisect_right(self.addrs, addr) - 1
        best_zero = None
        while hi >= 0 and self.syms[hi][0] >= sec[0] and self.syms[hi][1] == 0:
            best_zero = best_zero or self.syms[hi]
            hi -= 1
        chosen = best_zero
        if hi >= 0 and self.syms[hi][0] >= sec[0] and addr < self.syms[hi][0] + self.syms[hi][1]:
            chosen = self.syms[hi]
        if chosen is None or (chosen[1] == 0 and chosen[2].lower() != "t"):
            return None
        off = addr - chosen[0]
        return chosen[3] + (f"+{off}" if off else "")


def run_gdb(binary: Path, commands: list[str], locale: str = "C.UTF-8") -> list[str]:
    """Each command's output (stdout and stderr, in order) from one gdb batch session."""
    args = ["gdb", "-batch", "-nx", "-ex", "set width 0", "-ex", "set height 0"]
    for i, cmd in enumerate(commands):
        args += ["-ex", f"echo @@@{i}\\n", "-ex", cmd]
    args += ["-ex", f"echo @@@{len(commands)}\\n", str(binary)]
    env = dict(os.environ, LC_ALL=locale, LANG=locale)
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=env, check=True).stdout
    parts = re.split(r"^@@@(\d+)\n", out, flags=re.M)
    result = {int(parts[k]): parts[k + 1] for k in range(1, len(parts) - 1, 2)}
    return [result[i].rstrip("\n") for i in range(len(commands))]


@lru_cache(maxsize=None)
def fixture(variant: str) -> tuple[Path, ElfMemory, NmSymbolizer, dict[str, int]]:
    path = build("formats.c", VARIANTS[variant])
    memory = ElfMemory(path)
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    symbols = {p[2]: int(p[0], 16) for p in (l.split() for l in out.splitlines()) if len(p) == 3}
    return path, memory, NmSymbolizer(path, memory), symbols


def x_text(address: int, memory: ElfMemory, sym: NmSymbolizer, count: int, fmt: str,
           unit: str, charset: str = "utf-8") -> str:
    """Our `x` output as gdb would show it, error line included."""
    try:
        result = format_x(address, memory.read, count, fmt, unit, sym, charset=charset)
    except ExamineError as e:
        return e.text
    return "\n".join(result.warnings + result.lines)


def assert_all_match(cases: list[str], expected: list[str], got: list[str]) -> None:
    bad = [(c, e, g) for c, e, g in zip(cases, expected, got) if e != g]
    detail = "\n".join(f"{c}\n  gdb: {e!r}\n  our: {g!r}" for c, e, g in bad[:8])
    assert not bad, f"{len(bad)} of {len(cases)} differ from gdb:\n{detail}"


# --------------------------------------------------------------------------- x vs gdb

NUMERIC_TARGETS = [("schars", 0), ("uchars", 0), ("shorts", 0), ("ushorts", 2), ("ints", 0),
                   ("ints", 4), ("longs", 0), ("floats", 0), ("doubles", 0), ("ptrs", 0),
                   ("funcs", 0), ("strptrs", 0), ("empty_tail", 8), ("greeting", 0),
                   ("main", 0), ("_fini", 0)]
STRING_TARGETS = ["greeting", "escapes", "repeats", "longstr", "strings", "longrep", "wide16",
                  "wide32", "schars", "uchars", "ints", "main", "_fini", "utf8", "tail_ascii",
                  "tail_two", "tail_bad", "tail_rep", "exact200", "quotes", "wide16b",
                  "wide32b", "empty_tail"]


def x_cases(symbols: dict[str, int]) -> list[tuple[int, int, str, str]]:
    cases = []
    for (name, off), fmt, unit, count in itertools.product(
            NUMERIC_TARGETS, "xduotacfz", "bhwg", (1, 3, 9)):
        cases.append((symbols[name] + off, count, fmt, unit))
    for name, unit, count in itertools.product(STRING_TARGETS, ("", "h", "w", "g"), (1, 3)):
        cases.append((symbols[name], count, "s", unit))
    # Backwards: strings are searched for NULs, other units just step back.
    for (name, off), count, unit in itertools.product(
            [("strings", 9), ("strings", 4), ("longstr", 216), ("_IO_stdin_used", 8),
             ("wide16b", 20), ("exact200", 201), ("greeting", 0)], (-1, -2, -5), ("", "h")):
        cases.append((symbols[name] + off, count, "s", unit))
    for (name, off), fmt, unit, count in itertools.product(
            [("ints", 16), ("schars", 3), ("_IO_stdin_used", 2)], "xdca", "bwg", (-1, -9, 0)):
        cases.append((symbols[name] + off, count, fmt, unit))
    # Past the end of .bss and of .fini: output stops at the first unreadable byte.
    for off, fmt, unit, count in itertools.product((4, 10, 12, 16), "xcs", "bwg", (2, 9)):
        cases.append((symbols["empty_tail"] + off, count, fmt, unit))
    return cases


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_x_matches_gdb(variant: str) -> None:
    path, memory, sym, symbols = fixture(variant)
    cases = x_cases(symbols)
    commands = [f"x/{count}{fmt}{unit} {addr:#x}" for addr, count, fmt, unit in cases]
    expected = run_gdb(path, commands)
    got = [x_text(a, memory, sym, c, f, u) for a, c, f, u in cases]
    assert_all_match(commands, expected, got)


def test_x_strings_in_ascii_locale_match_gdb() -> None:
    path, memory, sym, symbols = fixture("O0")
    cases = [(symbols[n], c, "s", u) for n, u, c in
             itertools.product(STRING_TARGETS, ("", "h", "w"), (1, 2))]
    cases += [(symbols["escapes"] + i, 12, "c", "b") for i in (0, 60)]
    cases += [(symbols["utf8"], 16, "c", "b"), (symbols["schars"], 16, "c", "w")]
    commands = [f"x/{count}{fmt}{unit} {addr:#x}" for addr, count, fmt, unit in cases]
    expected = run_gdb(path, commands, locale="C")
    got = [x_text(a, memory, sym, c, f, u, charset="ascii") for a, c, f, u in cases]
    assert_all_match(commands, expected, got)


def test_x_sticky_defaults_and_next_address_match_gdb() -> None:
    """A session of `x` commands, some with no address or no letters, as gdb runs it."""
    path, memory, sym, symbols = fixture("O0")
    script = [f"x/3xw {symbols['ints']:#x}", "x", "x/2", "x/c", "x/2a", "x/2f", "x/2dh",
              "x/2f", "x/2fw", "x/2f", "x/s", "x", "x/2", "x/3xg", "x/b", "x/-3", "x",
              f"x/2sh {symbols['wide16b']:#x}", "x", f"x/-2s {symbols['strings'] + 9:#x}",
              "x", "x/-1s", "x/2s", "x/4ub", "x/xw"]
    expected = run_gdb(path, script)
    defaults, next_address = XDefaults(), 0
    got = []
    for command in script:
        spec = parse_x_spec(command[1:].lstrip(" ") if command != "x" else "", defaults)
        address = int(spec.rest, 16) if spec.rest else next_address
        result = format_x(address, memory.read, spec.count, spec.fmt, spec.unit, sym)
        got.append("\n".join(result.warnings + result.lines))
        defaults, next_address = defaults.after(spec), result.next_address
    assert_all_match(script, expected, got)


# ---------------------------------------------------------------------- print vs gdb

C_TYPES = [("signed char", 1, True), ("unsigned char", 1, False), ("short", 2, True),
           ("unsigned short", 2, False), ("int", 4, True), ("unsigned int", 4, False),
           ("long", 8, True), ("unsigned long", 8, False)]
VALUES = [0, 1, -1, 7, 10, 27, 34, 39, 65, 92, 127, 128, 200, 255, 256, 321, 4660, 32767,
          -32768, 65535, 0x41424344, 0x7FFFFFFF, -0x80000000, 0x3F800000, 0x7F800000,
          0xFF800000, 0x7FC00001, 0x40490FDB, 0x123456789, 0x3FF0000000000000,
          0x7FF8000000000001, -0x10000000000000, 0x7FFFFFFFFFFFFFFF, -0x8000000000000000]
M64 = (1 << 64) - 1


def test_print_formats_match_gdb() -> None:
    path, _, sym, _ = fixture("O0")
    cases, got = [], []
    for (ctype, size, signed), value, fmt in itertools.product(
            C_TYPES, VALUES, [None, *"xduotacfsz"]):
        slash = f"/{fmt}" if fmt else ""
        cases.append(f"print{slash} ({ctype}){value & M64:#x}")
        kind = "char" if size == 1 else "int"
        got.append(format_scalar(value & M64, size, signed, fmt, kind=kind, symbolize=sym))
    expected = [re.sub(r"^\$\d+ = ", "", e) for e in run_gdb(path, cases)]
    assert_all_match(cases, expected, got)


def test_print_addresses_and_pointers_match_gdb() -> None:
    path, _, sym, symbols = fixture("O0")
    addrs = [symbols["ints"], symbols["ints"] + 8, symbols["add"], symbols["main"] + 4,
             symbols["greeting"] + 3, 0, 0x10, M64]
    cases, got = [], []
    for addr, fmt in itertools.product(addrs, [None, "a", "x", "s", "c", "d", "z"]):
        slash = f"/{fmt}" if fmt else ""
        for ctype, kind in (("void *", "data_ptr"), ("void (*)()", "code_ptr")):
            cases.append(f"print{slash} ({ctype}){addr:#x}")
            got.append(format_scalar(addr, 8, False, fmt, kind=kind, type_name=ctype,
                                     symbolize=sym))
        if fmt == "a":
            cases.append(f"print/a {addr:#x}")
            got.append(format_scalar(addr, 8, False, "a", symbolize=sym))
    expected = [re.sub(r"^\$\d+ = ", "", e) for e in run_gdb(path, cases)]
    assert_all_match(cases, expected, got)


# ------------------------------------------------------------------ info registers

# Recorded from gdb 13.1: `break add`, `run`, a few `set $reg=...`, then the commands below
# (fixtures/basic.c at -O0, PIE loaded at 0x555555554000).
RECORDED_INFO_REGISTERS = """\
rax            0x8041424344454647  -9205003306692950457
rbx            0xfffffffffffffffe  -2
rcx            0x555555557dd8      93824992247256
rdx            0x80                128
rsi            0xfedcba9876543210  -81985529216486896
rdi            0x0                 0
rbp            0x7fffffffe660      0x7fffffffe660
rsp            0x7fffffffe660      0x7fffffffe660
r8             0xffffffff80007fff  -2147450881
r9             0x7ffff7fce6d0      140737353934544
r10            0x7ffff7fca878      140737353918584
r11            0x7ffff7fe0a60      140737354009184
r12            0x1234567890abcdef  1311768467294899695
r13            0x7fffffffe7b8      140737488349112
r14            0x555555557dd8      93824992247256
r15            0x7ffff7ffd020      140737354125344
rip            0x555555555163      0x555555555163 <add+10>
eflags         0x246               [ PF ZF IF ]
cs             0x33                51
ss             0x2b                43
ds             0x0                 0
es             0x0                 0
fs             0x0                 0
gs             0x0                 0
k0             0x0                 0
k1             0x0                 0
k2             0x0                 0
k3             0x0                 0
k4             0x0                 0
k5             0x0                 0
k6             0x0                 0
k7             0x0                 0"""

RECORDED_SUB_REGISTERS = """\
eax            0x44454647          1145390663
ax             0x4647              17991
al             0x47                71
ah             0x46                70
ebx            0xfffffffe          -2
bx             0xfffe              -2
bl             0xfe                -2
bh             0xff                -1
ecx            0x55557dd8          1431666136
cx             0x7dd8              32216
cl             0xd8                -40
ch             0x7d                125
edx            0x80                128
dx             0x80                128
dl             0x80                -128
dh             0x0                 0
esi            0x76543210          1985229328
si             0x3210              12816
sil            0x10                16
edi            0x0                 0
di             0x0                 0
dil            0x0                 0
ebp            0xffffe660          -6560
bp             0xe660              -6560
bpl            0x60                96
esp            0xffffe660          -6560
spl            0x60                96
r8d            0x80007fff          -2147450881
r8w            0x7fff              32767
r8l            0xff                -1
r12d           0x90abcdef          -1867788817
r12w           0xcdef              -12817
r12l           0xef                -17
pc             0x555555555163      0x555555555163 <add+10>
sp             0x7fffffffe660      0x7fffffffe660
fp             0x7fffffffe660      0x7fffffffe660
ps             0x246               [ PF ZF IF ]
fs_base        0x7ffff7dd2740      140737351853888
gs_base        0x0                 0
orig_rax       0xffffffffffffffff  -1"""

RECORDED_SYSTEM = """\
fs_base        0x7ffff7dd2740      140737351853888
gs_base        0x0                 0
orig_rax       0xffffffffffffffff  -1"""

# (print command, gdb's text after "$N = ") in the same stopped state.
RECORDED_PRINTS = [
    ("$sp", None, "(void *) 0x7fffffffe660"),
    ("$pc", None, "(void (*)()) 0x555555555163 <add+10>"),
    ("$fp", None, "(void *) 0x7fffffffe660"),
    ("$rip", None, "(void (*)()) 0x555555555163 <add+10>"),
    ("$rsp", None, "(void *) 0x7fffffffe660"),
    ("$rax", None, "-9205003306692950457"),
    ("$eax", None, "1145390663"),
    ("$ax", None, "17991"),
    ("$al", None, "71"),
    ("$ah", None, "70"),
    ("$rbx", None, "-2"),
    ("$ebx", None, "-2"),
    ("$bl", None, "-2"),
    ("$eflags", None, "[ PF ZF IF ]"),
    ("$ps", None, "[ PF ZF IF ]"),
    ("$cs", None, "51"),
    ("$fs_base", None, "140737351853888"),
    ("$orig_rax", None, "-1"),
    ("$r8d", None, "-2147450881"),
    ("$r8w", None, "32767"),
    ("$sp", "x", "0x7fffffffe660"),
    ("$eflags", "x", "0x246"),
    ("$eflags", "t", "1001000110"),
    ("$pc", "d", "93824992235875"),
    ("$pc", "a", "0x555555555163 <add+10>"),
    ("$rbx", "x", "0xfffffffffffffffe"),
    ("$rbx", "u", "18446744073709551614"),
    ("$rbx", "o", "01777777777777777777776"),
    ("$rbx", "c", "-2 '\\376'"),
    ("$sp", "c", "96 '`'"),
    ("$rbx", "f", "-nan(0xffffffffffffe)"),
    ("$eflags", "f", "8.15555706e-43"),
    ("$eflags", "z", "0x00000246"),
    ("$al", "z", "0x47"),
    ("$al", "a", "0x47"),
    ("$pc", "s", "(void (*)()) 0x555555555163 <add+10>"),
    ("$dl", "x", "0x80"),
    ("$dl", "d", "-128"),
    ("$dl", "c", "-128 '\\200'"),
    ("$r8d", "u", "2147516415"),
    ("$r8w", "t", "111111111111111"),
    ("$r12", "z", "0x1234567890abcdef"),
    ("$rsi", "f", "-1.2313300687736946e+303"),
    ("$rsi", "a", "0xfedcba9876543210"),
]
PIE_BASE = 0x555555554000


@lru_cache(maxsize=None)
def recorded_state() -> tuple[dict[str, int], NmSymbolizer]:
    """Register values parsed from gdb's hex column, and a symbolizer for basic.c."""
    values = {}
    for line in (RECORDED_INFO_REGISTERS + "\n" + RECORDED_SYSTEM).splitlines():
        name, raw = line.split()[:2]
        values[name] = int(raw, 16)
    path = build("basic.c", VARIANTS["O0"])
    return values, NmSymbolizer(path, ElfMemory(path), base=PIE_BASE)


def test_info_registers_matches_recorded_gdb() -> None:
    values, sym = recorded_state()
    assert format_registers(values, None, sym) == RECORDED_INFO_REGISTERS.splitlines()


def test_info_registers_without_mask_registers_is_the_general_list() -> None:
    values, sym = recorded_state()
    without_k = {k: v for k, v in values.items() if not re.fullmatch(r"k\d", k)}
    assert format_registers(without_k, [], sym) == RECORDED_INFO_REGISTERS.splitlines()[:24]


def test_info_registers_named_and_sub_registers_match_recorded_gdb() -> None:
    values, sym = recorded_state()
    expected = RECORDED_SUB_REGISTERS.splitlines()
    names = [line.split()[0] for line in expected]
    assert format_registers(values, names, sym) == expected
    assert format_registers(values, ["$" + n for n in names], sym) == expected
    for line in expected:
        name = line.split()[0]
        assert format_register_line(name, int(line.split()[1], 16), sym) == line


def test_info_registers_groups() -> None:
    values, sym = recorded_state()
    assert format_registers(values, ["system"], sym) == RECORDED_SYSTEM.splitlines()
    assert format_registers(values, ["general"], sym) == RECORDED_INFO_REGISTERS.splitlines()


def test_info_registers_unknown_name_keeps_earlier_lines() -> None:
    values, sym = recorded_state()
    with pytest.raises(FormatErrorWithOutput) as err:
        format_registers(values, ["eflags", "rax", "foo", "rbx"], sym)
    assert str(err.value) == "Invalid register `foo'"
    assert err.value.lines == [RECORDED_INFO_REGISTERS.splitlines()[i] for i in (17, 0)]
    for bad in ("eip", "ip", "spw", "RAX", "rax,", "1", "sl"):
        with pytest.raises(CommandError, match=f"Invalid register `{re.escape(bad)}'"):
            format_registers(values, [bad], sym)
    with pytest.raises(CommandError, match="Invalid register `foo'"):
        format_register_line("foo", 0)


def test_print_registers_match_recorded_gdb() -> None:
    values, sym = recorded_state()
    for expr, fmt, expected in RECORDED_PRINTS:
        assert format_register_value(expr, values, fmt, sym) == expected, (expr, fmt)


def test_eflags_forms_match_recorded_gdb() -> None:
    # gdb: eflags 0x293 -> [ CF AF SF IF ]; 0x54fd7 after `set $eflags=0xffffffff`.
    assert format_register_line("eflags", 0x293) == \
        "eflags         0x293               [ CF AF SF IF ]"
    assert format_register_line("eflags", 0x54FD7) == \
        "eflags         0x54fd7             [ CF PF AF ZF SF TF IF DF OF NT RF AC ]"
    assert format_scalar(0x202, 4, False, kind="flags") == "[ IF ]"
    assert format_scalar(0, 4, False, kind="flags") == "[ ]"


# ------------------------------------------------------------- parsing and API edges

def test_parse_x_spec_follows_gdb_defaults() -> None:
    d = XDefaults()
    assert parse_x_spec("/4xw", d) == XSpec(4, "x", "w")
    assert parse_x_spec("/4xw &table", d) == XSpec(4, "x", "w", "&table")
    assert parse_x_spec("", d) == XSpec(1, "x", "w")
    assert parse_x_spec("", XDefaults("d", "h", 3)) == XSpec(3, "d", "h")
    assert parse_x_spec("&t", XDefaults("d", "h", 3)) == XSpec(1, "d", "h", "&t")
    assert parse_x_spec("", XDefaults("d", "h", -3)) == XSpec(1, "d", "h")
    assert parse_x_spec("/-3", d) == XSpec(-3, "x", "w")
    assert parse_x_spec("/2xbw", d) == XSpec(2, "x", "w")      # last size letter wins
    assert parse_x_spec("/2uxw", d) == XSpec(2, "x", "w")      # last format letter wins
    assert parse_x_spec("/a", d).unit == "a"
    assert parse_x_spec("/c", d).unit == "b"
    assert parse_x_spec("/s", d).unit == ""
    assert parse_x_spec("/f", XDefaults("x", "h")).unit == "g"
    assert parse_x_spec("/f", XDefaults("x", "w")).unit == "w"
    assert parse_x_spec("/h", XDefaults("i", "b")) == XSpec(1, "x", "h")
    assert XDefaults().after(XSpec(1, "s", "h")) == XDefaults("s", "b")
    assert XDefaults().after(XSpec(2, "a", "a")) == XDefaults("a", "a", 2)
    assert XDefaults().after(XSpec(4, "c", "b"), succeeded=False) == XDefaults("x", "w", 4)
    with pytest.raises(CommandError, match='Undefined output format "q".'):
        parse_x_spec("/q")


def test_parse_print_format_errors_are_gdbs() -> None:
    assert parse_print_format("/x 255") == ("x", "255")
    assert parse_print_format("main") == (None, "main")
    with pytest.raises(CommandError, match='Size letters are meaningless in "print" command.'):
        parse_print_format("/xw 1")
    with pytest.raises(CommandError, match="Item count other than 1 is meaningless"):
        parse_print_format("/2x 1")
    with pytest.raises(CommandError, match='Format letter "i" is meaningless'):
        parse_print_format("/i $pc")


def test_examine_error_carries_partial_output() -> None:
    memory = bytes(range(1, 13))

    def short_reader(address: int, length: int) -> bytes:
        # Returns what exists rather than raising: the formatter must cope with both.
        return memory[address - 0x1000:address - 0x1000 + length]

    with pytest.raises(ExamineError) as err:
        format_x(0x1000, short_reader, 20, "x", "b")
    e = err.value
    assert e.address == 0x100C and isinstance(e, MemoryAccessError)
    assert e.lines == ["0x1000:\t0x01\t0x02\t0x03\t0x04\t0x05\t0x06\t0x07\t0x08"]
    assert e.partial == "0x1008:\t0x09\t0x0a\t0x0b\t0x0c\t"
    assert e.text.endswith("0x0c\tCannot access memory at address 0x100c")
    lines, nxt = format_x(0x1000, short_reader, 3, "d", "w")
    assert lines == ["0x1000:\t67305985\t134678021\t202050057"] and nxt == 0x100C


def test_small_pieces() -> None:
    assert format_char(65) == "65 'A'"
    assert format_char(200, signed=False) == "200 '\\310'"
    assert format_char(0xE9, charset="ascii") == "-23 '\\351'"
    assert format_float_bits(0x7FC00000, 4) == "nan(0x400000)"
    assert format_float_bits(0xFFF0000000000000, 8) == "-inf"
    assert format_address(0x10, lambda a: None) == "0x10"
    assert format_address(0x10, lambda a: "x+4") == "0x10 <x+4>"
    assert quote_string(b"ab" + b"c" * 11 + b"\0") == "\"ab\", 'c' <repeats 11 times>"
    assert quote_string(b"abc", print_elements=2) == '"ab"...'
    assert quote_string([0x263A, 0x61, 0], 2, charset="ascii") == 'u"\\x263a\\141"'
    assert format_scalar(-1, 4, True, "x") == "0xffffffff"
    assert format_scalar(10, 4, True, "t") == "1010"
    assert format_scalar(5, 4, True, "z") == "0x00000005"
    with pytest.raises(CommandError, match='Undefined output format "y".'):
        format_scalar(1, 4, True, "y")
