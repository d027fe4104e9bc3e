"""The x86-64 register table checked against python-ptrace's struct, gdb's own tables and readelf.

gdb describes its registers with no process (`maint print registers`, `ptype $reg`).
"""

from __future__ import annotations

import ctypes
import re
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
from ptrace.binding.func import ptrace_registers_t

from pydbg.arch.x86_64 import (
    ALIASES, EFLAGS_BITS, GENERAL_REGISTERS, REGISTER_INFO, REGISTERS, USER_REGS_FIELDS,
    USER_REGS_SIZE, RegFormat, eflags_names, lookup_register, register_by_dwarf,
)
from tests.support.build import VARIANTS, build

LIBC = Path("/lib/x86_64-linux-gnu/libc.so.6")


def gdb(*commands: str) -> str:
    binary = build("basic.c", VARIANTS["O0"])
    args = ["gdb", "-batch", "-nx"]
    for c in commands:
        args += ["-ex", c]
    return subprocess.run(args + [str(binary)], capture_output=True, text=True,
                          check=True).stdout


@lru_cache(maxsize=1)
def gdb_register_table() -> dict[str, tuple[int, int, str]]:
    """name -> (number, size, type) from `maint print registers`."""
    table = {}
    for line in gdb("maint print registers").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 6 and parts[1].isdigit():
            table[parts[0]] = (int(parts[1]), int(parts[4]), parts[5])
    return table


def test_user_regs_offsets_match_python_ptrace() -> None:
    fields = [f[0] for f in ptrace_registers_t._fields_]
    assert tuple(fields) == USER_REGS_FIELDS
    assert ctypes.sizeof(ptrace_registers_t) == USER_REGS_SIZE
    for info in REGISTER_INFO.values():
        if info.field is None:
            assert info.offset is None
            continue
        assert getattr(ptrace_registers_t, info.field).offset == info.offset, info.name


def test_sizes_and_types_match_gdb() -> None:
    table = gdb_register_table()
    for name, info in REGISTER_INFO.items():
        if re.fullmatch(r"k\d", name):
            continue          # present only on AVX-512 targets, not in gdb's static tdesc
        _, size, gdb_type = table[name]
        assert size == info.size, name
        # gdb prints "*1" (unnamed type) for its pointer registers.
        assert (gdb_type == "*1") == (info.format in (RegFormat.DATA_PTR, RegFormat.CODE_PTR))
    ptypes = gdb(*[f"ptype ${n}" for n in REGISTERS if n not in ALIASES
                   and not re.fullmatch(r"k\d", n)]).splitlines()
    ptypes = [line for line in ptypes if line.startswith("type = ")]
    names = [n for n in REGISTERS if n not in ALIASES and not re.fullmatch(r"k\d", n)]
    for name, line in zip(names, ptypes, strict=True):
        expected = "flag i386_eflags {" if name == "eflags" else REGISTERS[name].type_name
        assert line == f"type = {expected}", name


def test_sub_registers_are_exactly_gdbs_pseudo_registers() -> None:
    table = gdb_register_table()
    first_pseudo = table["orig_rax"][0]
    gdb_subs = {n for n, (num, _, t) in table.items()
                if num > first_pseudo and t in ("int8_t", "int16_t", "int32_t")
                and n != "''"}          # gdb's unnamed slot where "sp" (word) would be
    ours = {n for n, r in REGISTERS.items() if r.parent != n and n not in ALIASES}
    assert ours == gdb_subs
    for name in gdb_subs:
        assert REGISTERS[name].size == table[name][1], name


def test_user_register_aliases_match_gdb() -> None:
    out = gdb("maint print user-registers").split()
    assert set(out[2::2]) == set(ALIASES)
    assert lookup_register("$pc").parent == "rip" and lookup_register("sp").parent == "rsp"
    assert lookup_register("$fp").parent == "rbp" and lookup_register("ps").parent == "eflags"
    assert lookup_register("eip") is None and lookup_register("foo") is None


def test_dwarf_numbers_match_readelf() -> None:
    # readelf exits 1 over libc's unusual notes but prints the frames fine.
    out = subprocess.run(["readelf", "--debug-dump=frames", str(LIBC)], capture_output=True,
                         text=True).stdout
    pairs = set(re.findall(r"\br(\d+) \((\w+)\)", out))
    assert len(pairs) >= 10
    for number, name in pairs:
        if name in REGISTER_INFO:
            assert REGISTER_INFO[name].dwarf == int(number), name
            assert register_by_dwarf(int(number)).name == name


def test_eflags_bits_match_gdb() -> None:
    out = gdb("ptype $eflags")
    bits = [(int(b), n) for n, b in re.findall(r"bool (\w+) @(\d+);", out)]
    assert tuple(bits) == EFLAGS_BITS
    assert eflags_names(0x293) == ["CF", "AF", "SF", "IF"]


@pytest.mark.parametrize("name,full,value,after", [
    # From gdb: `set $rax=-1`, `set $eax=5`, `p/x $rax`, and so on in sequence.
    ("eax", 0xFFFFFFFFFFFFFFFF, 5, 0xFFFFFFFF00000005),
    ("ax", 0xFFFFFFFF00000005, 0x1234, 0xFFFFFFFF00001234),
    ("ah", 0xFFFFFFFF00001234, 0x77, 0xFFFFFFFF00007734),
    ("al", 0xFFFFFFFF00007734, -1, 0xFFFFFFFF000077FF),
    ("eax", 0xFFFFFFFF000077FF, -1, 0xFFFFFFFFFFFFFFFF),
])
def test_sub_register_insert_keeps_other_bits_like_gdb(name: str, full: int, value: int,
                                                      after: int) -> None:
    reg = REGISTERS[name]
    assert reg.insert(full, value) == after
    assert reg.extract(after) == value & reg.mask


def test_extract_matches_recorded_gdb() -> None:
    # gdb with rax=0x8041424344454647: eax 0x44454647, ax 0x4647, al 0x47, ah 0x46.
    full = 0x8041424344454647
    assert [REGISTERS[n].extract(full) for n in ("eax", "ax", "al", "ah")] == \
        [0x44454647, 0x4647, 0x47, 0x46]
    assert REGISTERS["bh"].to_signed(0xFF) == -1 and REGISTERS["rip"].to_signed(1 << 63) > 0
    assert GENERAL_REGISTERS[:2] == ("rax", "rbx") and GENERAL_REGISTERS[-1] == "gs"
