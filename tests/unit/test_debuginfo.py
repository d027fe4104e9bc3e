"""Tests for pydbg.symbols.debuginfo: functions, scopes, inlined calls, globals, lookups.

The oracle is gdb 13 run statically on the same binaries (fixtures/types.c, types_extra.c):
its block tree (via gdb's Python API), `info scope`, `break`, `info functions`, addresses.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache

import pytest
from elftools.elf.elffile import ELFFile

from pydbg.symbols.debuginfo import (
    DebugInfo, DynamicBound, Function, InlinedCall, LocListRef, builtin_type,
)
from pydbg.symbols.types import ArrayType, format_type, ptype_text, type_name
from tests.support.build import VARIANTS, build

ORACLE_VARIANTS = {**VARIANTS, "O0-dwarf4": ["-O0", "-gdwarf-4"],
                   "O2-dwarf4": ["-O2", "-gdwarf-4"]}
TWO_CU = ["types.c", "types_extra.c"]


def gdb_batch(binary, commands: list[str]) -> str:
    args = []
    for c in commands:
        args += ["-ex", c]
    return subprocess.run(["gdb", "-batch", "-nx", *args, str(binary)], capture_output=True,
                          text=True, timeout=300).stdout


def open_info(path) -> DebugInfo:
    return DebugInfo.from_elffile(ELFFile(open(path, "rb")))


@lru_cache(maxsize=None)
def fixture(variant: str, sources: tuple[str, ...] = ("types.c",)):
    name = "types" if len(sources) == 1 else "types2cu"
    path = build(list(sources), ORACLE_VARIANTS[variant], name=name)
    return path, open_info(path)


def all_pcs(di: DebugInfo) -> list[int]:
    pcs = []
    for f in di.iter_functions():
        for lo, hi in f.ranges:
            pcs.extend(range(lo, hi))
    return sorted(set(pcs))


# gdb's own block tree for each pc, through its Python API: (start, end, function or "").
GDB_BLOCKS = """python
import sys
for pc in [{pcs}]:
    b = gdb.block_for_pc(pc)
    chain = []
    while b is not None and not b.is_static and not b.is_global:
        chain.append("%x-%x:%s" % (b.start, b.end, b.function.name if b.function else ""))
        b = b.superblock
    print("%x %s" % (pc, " ".join(chain)))
end"""


@pytest.mark.parametrize("variant", sorted(ORACLE_VARIANTS))
def test_block_tree_matches_gdb_at_every_pc(variant):
    path, di = fixture(variant)
    pcs = all_pcs(di)
    out = gdb_batch(path, [GDB_BLOCKS.format(pcs=", ".join(map(str, pcs)))])
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert len(lines) == len(pcs)
    for pc in pcs:
        mine = []
        for b in di.scopes_at(pc):
            name = b.name if isinstance(b, (Function, InlinedCall)) else ""
            mine.append(f"{b.low:x}-{b.high:x}:{name}")
        assert " ".join(mine) == lines[f"{pc:x}"], hex(pc)


@pytest.mark.parametrize("variant", sorted(ORACLE_VARIANTS))
def test_info_scope_names_match_gdb_at_every_pc(variant):
    path, di = fixture(variant)
    pcs = all_pcs(di)
    cmds = []
    for pc in pcs:
        cmds += [f"echo =={pc:x}\\n", f"info scope *{pc:#x}"]
    expected = {}
    for chunk in gdb_batch(path, cmds).split("==")[1:]:
        pc, rest = chunk.split("\n", 1)
        expected[int(pc, 16)] = re.findall(r"(?m)^Symbol (\S+) is", rest)
    for pc in pcs:
        names = []
        # gdb lists the innermost block up to the innermost function (inlined or not);
        # an inlined function's own symbol lives in its block, first.
        for b in di.scopes_at(pc):
            if isinstance(b, InlinedCall):
                names.append(b.name)
            names += [v.name for v in b.variables]
            if isinstance(b, (Function, InlinedCall)):
                break
        assert names == expected[pc], hex(pc)


@pytest.mark.parametrize("variant", ["O0", "O2", "O2-nopie", "O2-dwarf4"])
def test_break_locations_match_instances(variant):
    path, di = fixture(variant)
    funcs = ["square", "sum_squares", "cube", "noargs", "use_inline", "add", "main",
             "shadow", "counter_fn", "vla_sum"]
    out = gdb_batch(path, [f"break {f}" for f in funcs] + ["info breakpoints"])
    # Group locations by breakpoint number ("1.2 ... 0xADDR in FUNC at FILE:LINE").
    per_bp: dict[int, list[int]] = {}
    for m in re.finditer(r"(?m)^(\d+)(?:\.\d+)?\s+.*?\s0x([0-9a-f]+) in ", out):
        per_bp.setdefault(int(m.group(1)), []).append(int(m.group(2), 16))
    inlined_total = 0
    for num, func in enumerate(funcs, start=1):
        addrs = sorted(set(per_bp[num]))
        instances = di.functions_named(func)
        assert len(instances) == len(addrs), func
        for addr in addrs:
            owners = [i for i in instances if i.contains(addr)]
            assert len(owners) == 1, (func, hex(addr))
            if isinstance(owners[0], InlinedCall):
                assert owners[0].start == addr      # gdb breaks at the block's entry
                inlined_total += 1
    if variant.startswith("O2"):
        assert inlined_total >= 5


@pytest.mark.parametrize("variant", ["O0", "O2", "O0-dwarf4"])
def test_functions_match_gdb_info_functions(variant):
    path, di = fixture(variant)
    out = gdb_batch(path, ["info functions"]).split("Non-debugging symbols:")[0]
    expected = {(int(m.group(1)), m.group(2))
                for m in re.finditer(r"(?m)^(\d+):\t(.*;)$", out)}
    mine = {(f.decl_line, ("" if f.is_external else "static ")
             + format_type(f.type, f.name, show=0) + ";") for f in di.iter_functions()}
    assert mine == expected


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_function_at_and_addresses(variant):
    path, di = fixture(variant)
    names = ["add", "main", "shadow", "area"]
    out = gdb_batch(path, [f"info address {n}" for n in names])
    addrs = dict(re.findall(r'Symbol "(\w+)" is a function at address 0x([0-9a-f]+)', out))
    for n in names:
        addr = int(addrs[n], 16)
        f = di.function_at(addr)
        assert f.name == n and f.low == addr and f.decl_file == "types.c"
        assert di.function_at(f.high - 1) is f
        assert f.frame_base is not None
    assert di.function_at(0) is None


def test_static_locals_and_scoped_names():
    path, di = fixture("O0-nopie")
    out = gdb_batch(path, ["print/x (long)&counter_fn::calls", "print/x (long)&counter_fn::tag",
                           "print/x (long)&'types.c'::file_static", "print/x (long)&v_point"])
    addrs = [int(a, 16) for a in re.findall(r"= (0x[0-9a-f]+)", out)]
    calls = di.find_global("counter_fn::calls")
    assert calls.static_address == addrs[0] and calls.function == "counter_fn"
    assert di.find_global("tag", function="counter_fn").static_address == addrs[1]
    assert di.find_global("'types.c'::file_static").static_address == addrs[2]
    assert di.find_global("v_point").static_address == addrs[3]
    assert di.find_global("calls") is None       # a static local is not a global
    assert di.find_global("nosuchvar") is None
    assert {v.name for v in di.static_locals("counter_fn")} == {"calls", "tag"}
    # At -O2 gcc turns `tag` into DW_OP_implicit_pointer (0xa0); `func::var` still finds it.
    _, di2 = fixture("O2")
    assert di2.find_global("counter_fn::tag").location[0] == 0xa0


def test_variables_parameters_and_locations():
    path, di = fixture("O0")
    f = di.find_function("add")
    assert [(p.name, type_name(p.type)) for p in f.params] == [("a", "int"), ("b", "int")]
    assert all(isinstance(p.location, bytes) and p.location[0] == 0x91 for p in f.params)
    shadow = di.find_function("shadow")
    assert [b.kind for b in shadow.walk()] == ["function", "lexical", "lexical"]
    # Optimized code: locations become location lists, with the CU info to read them.
    _, di2 = fixture("O2")
    loc = di2.find_function("main").params[0].location
    assert isinstance(loc, LocListRef) and loc.section == ".debug_loclists"
    assert loc.cu.version == 5 and loc.cu.name == "types.c"
    _, di4 = fixture("O2-dwarf4")
    loc4 = di4.find_function("main").params[0].location
    assert isinstance(loc4, LocListRef) and loc4.section == ".debug_loc"


def test_vla_bounds_are_dynamic():
    for variant in ("O0", "O2"):
        _, di = fixture(variant)
        fn = di.find_function("vla_sum")
        vla = next(v for b in fn.walk() for v in b.variables if v.name == "vla")
        assert isinstance(vla.type, ArrayType) and vla.type.is_variable_length()
        assert isinstance(vla.type.dynamic[0], DynamicBound)
        assert type_name(vla.type) == "int [variable length]"
        ext = next(v for v in fn.variables if v.name == "v_extern_decl")
        assert ext.is_declaration and ext.is_external


def test_inlined_chain_and_call_sites():
    path, di = fixture("O2")
    inst = [i for i in di.functions_named("square") if isinstance(i, InlinedCall)]
    assert inst and all(i.call_file == "types.c" and i.decl_line == 181 for i in inst)
    nested = [i for i in inst if isinstance(i.caller, InlinedCall)]
    assert nested and nested[0].caller.name == "sum_squares"
    assert nested[0].caller.caller.name == "use_inline"
    chain = di.inlined_chain_at(nested[0].start)
    assert [c.name for c in chain][:2] == ["square", "sum_squares"]
    assert chain[0].function.name == "use_inline"
    assert di.block_function_at(nested[0].start) is nested[0]


def test_types_by_name():
    _, di = fixture("O0")
    assert ptype_text(di.find_type("point_t")).startswith("type = struct point {")
    assert di.find_tagged_type("struct", "opaque") is None   # gdb: No struct type named opaque.
    assert di.find_tagged_type("struct", "opaque", allow_declaration=True) is not None
    assert type_name(di.find_type("unsigned")) == "unsigned int"
    assert type_name(di.find_type("long unsigned int")) == "unsigned long"
    assert di.find_type("enum color").is_flag_enum
    assert not di.find_type("enum multi").is_flag_enum
    assert di.find_type("no_such_type") is None
    assert builtin_type("unsigned char").size == 1


def test_two_cus_statics_and_opaque_completion():
    path, di = fixture("O0", tuple(TWO_CU))
    out = gdb_batch(path, ["ptype v_opaque", "print/x (long)&'types_extra.c'::file_static",
                           "print/x (long)&'types.c'::file_static",
                           "print/x (long)&extra_fn::extra_calls"])
    addrs = [int(a, 16) for a in re.findall(r"= (0x[0-9a-f]+)", out)]
    v = di.find_global("v_opaque")
    assert ptype_text(v.type, di.complete_type) == out.split("\n$")[0].strip()
    assert di.find_global("'types_extra.c'::file_static").static_address == addrs[0]
    assert di.find_global("file_static", file="types.c").static_address == addrs[1]
    assert di.find_global("extra_fn::extra_calls").static_address == addrs[2]
    # With a pc, the current CU's static wins (gdb's lookup order).
    extra = di.find_function("extra_fn")
    assert di.find_global("file_static", pc=extra.low).static_address == addrs[0]
    main = di.find_function("main")
    assert di.find_global("file_static", pc=main.low).static_address == addrs[1]


def test_pc_lookup_reads_only_one_cu():
    path = build(TWO_CU, ["-O0"], name="types2cu")
    di = open_info(path)
    extra_pc = int(re.search(r"at address 0x([0-9a-f]+)",
                             gdb_batch(path, ["info address extra_fn"])).group(1), 16)
    f = di.function_at(extra_pc)
    assert f.name == "extra_fn"
    assert di.loaded_cus() == ["types_extra.c"]
    assert [b.kind for b in di.scopes_at(extra_pc)] == ["function"]


def test_gdb_index_limits_name_lookups(tmp_path):
    src = build(TWO_CU, ["-O0"], name="types2cu")
    path = tmp_path / "indexed"
    shutil.copy(src, path)
    subprocess.run(["gdb-add-index", str(path)], check=True, capture_output=True)
    di = open_info(path)
    assert di.index is not None
    var = di.find_global("extra_counter")
    assert var is not None and var.cu.name == "types_extra.c"
    assert di.loaded_cus() == ["types_extra.c"]
    assert [type(i).__name__ for i in di.functions_named("add")] == ["Function"]
    assert sorted(di.loaded_cus()) == ["types.c", "types_extra.c"]
    out = gdb_batch(path, ["print/x (long)&extra_counter"])
    assert var.static_address == int(re.search(r"= (0x[0-9a-f]+)", out).group(1), 16)


def test_no_debug_info_is_empty():
    path = build("types.c", ["-O0"], debug=False)
    di = open_info(path)
    assert not di.has_dwarf
    assert di.function_at(0x1139) is None and di.scopes_at(0x1139) == []
    assert di.find_global("v_int") is None and di.functions_named("add") == []
    assert type_name(di.find_type("int")) == "int"


@pytest.mark.parametrize("variant", ["O0", "O2-dwarf4"])
def test_name_search_limits_global_lookups(variant):
    """Without an index, a big separate debug file (libc's) looks for a global only in the
    CUs whose bytes spell its name; the answers stay those of the full walk."""
    path = build(TWO_CU, ORACLE_VARIANTS[variant], name="types2cu")
    full = open_info(path)
    di = open_info(path)
    di.search_names = True
    var = di.find_global("extra_counter")
    assert var is not None and var.cu.name == "types_extra.c"
    assert di.loaded_cus() == ["types_extra.c"]
    want = full.find_global("extra_counter")
    assert (var.static_address, var.cu.name) == (want.static_address, want.cu.name)
    for name in ("'types.c'::file_static", "'types_extra.c'::file_static",
                 "extra_fn::extra_calls", "v_int"):
        got, want = di.find_global(name), full.find_global(name)
        assert (got.static_address, got.cu.name) == (want.static_address, want.cu.name)
    assert di.find_global("no_such_global") is None
