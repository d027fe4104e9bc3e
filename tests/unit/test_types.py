"""Tests for pydbg.symbols.types: gdb's type names, `ptype` and `whatis` text.

Expected text comes from gdb 13, run on the same fixture binaries (fixtures/types.c).
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache

import pytest
from elftools.elf.elffile import ELFFile

from pydbg.symbols.debuginfo import DebugInfo
from pydbg.symbols.types import (
    ArrayType, BaseType, EnumType, Enumerator, FunctionType, Member, PointerType,
    QualifiedType, StructType, TypedefType, UnionType, VoidType, canonical_base_name,
    check_typedef, flag_enum_heuristic, format_type, ptype_text, strip_typedefs, type_name,
    whatis_text,
)
from tests.support.build import VARIANTS, build

# Every variant the oracle comparison runs on: the shared ones plus DWARF 4.
ORACLE_VARIANTS = {**VARIANTS, "O0-dwarf4": ["-O0", "-gdwarf-4"],
                   "O2-dwarf4": ["-O2", "-gdwarf-4"],
                   # Types moved to type units (.debug_info in DWARF 5, .debug_types in 4).
                   "O2-typeunits": ["-O2", "-fdebug-types-section"],
                   "O0-dwarf4-typeunits": ["-O0", "-gdwarf-4", "-fdebug-types-section"]}


def gdb_batch(binary, commands: list[str]) -> subprocess.CompletedProcess:
    args = []
    for c in commands:
        args += ["-ex", c]
    return subprocess.run(["gdb", "-batch", "-nx", *args, str(binary)],
                          capture_output=True, text=True, timeout=120)


@lru_cache(maxsize=None)
def fixture(variant: str):
    path = build("types.c", ORACLE_VARIANTS[variant])
    elf = ELFFile(open(path, "rb"))   # kept open for the session: pyelftools reads lazily
    return path, DebugInfo.from_elffile(elf)


def answers(output: str) -> dict[str, list[str]]:
    """Split `echo ==NAME` separated gdb output into NAME -> ['type = ...', ...]."""
    result = {}
    for chunk in output.split("==")[1:]:
        name, rest = chunk.split("\n", 1)
        parts = [p.rstrip("\n") for p in re.split(r"(?m)^(?=type = )", rest) if p.strip()]
        result[name] = parts
    return result


def gdb_variables(binary) -> dict[str, int]:
    """name -> declaration line of each debug variable `info variables` lists."""
    out = gdb_batch(binary, ["info variables"]).stdout
    out = out.split("Non-debugging symbols:")[0]
    names = {}
    # An entry starts with "LINE:<tab>"; struct bodies continue on the following lines.
    for m in re.finditer(r"(?ms)^(\d+):\t(.*?)(?=^\d+:\t|^$|\Z)", out):
        decl = m.group(2).strip()
        fp = re.search(r"\(\*+(\w+)", decl)
        if fp:
            name = fp.group(1)
        else:
            name = re.search(r"(\w+)(?:\[\d*\])*;$", decl).group(1)
        names[name] = int(m.group(1))
    return names


# --------------------------------------------------------------------------- hand-built types
# Expected strings are gdb's output for the same C declarations in fixtures/types.c.

INT = BaseType("int", 4, "signed")
CHAR = BaseType("char", 1, "signed_char")


def point():
    s = StructType("point", 8)
    s.members = [Member("x", INT, 0), Member("y", INT, 4)]
    return s


def test_names_of_derived_types():
    const_char = QualifiedType(CHAR, const=True)
    assert type_name(PointerType(PointerType(const_char))) == "const char **"
    assert type_name(PointerType(point())) == "struct point *"
    assert type_name(ArrayType(CHAR, [6])) == "char [6]"
    assert type_name(ArrayType(INT, [3, 4])) == "int [3][4]"
    fn = FunctionType(INT, [INT, INT])
    assert type_name(PointerType(fn)) == "int (*)(int, int)"
    assert type_name(ArrayType(PointerType(fn), [2])) == "int (*[2])(int, int)"
    assert type_name(PointerType(FunctionType(PointerType(fn), [INT]))) == \
        "int (*(*)(int))(int, int)"
    assert type_name(QualifiedType(PointerType(CHAR), const=True)) == "char * const"
    assert type_name(PointerType(FunctionType(VoidType(), []))) == "void (*)(void)"
    assert type_name(PointerType(FunctionType(VoidType(), [], prototyped=False))) == \
        "void (*)()"
    varfn = FunctionType(PointerType(CHAR), [PointerType(const_char)], varargs=True)
    assert type_name(PointerType(varfn)) == "char *(*)(const char *, ...)"
    assert type_name(PointerType(ArrayType(INT, [4]))) == "int (*)[4]"


def test_ptype_expands_one_level():
    p = point()
    node = StructType("node", 24)
    node.members = [Member("value", INT, 0), Member("left", PointerType(node), 8),
                    Member("right", PointerType(node), 16)]
    assert ptype_text(PointerType(TypedefType("point_t", p))) == \
        "type = struct point {\n    int x;\n    int y;\n} *"
    assert ptype_text(node) == ("type = struct node {\n    int value;\n    struct node *left;\n"
                                "    struct node *right;\n}")
    assert ptype_text(ArrayType(p, [3])) == "type = struct point {\n    int x;\n    int y;\n} [3]"
    assert whatis_text(TypedefType("point_t", p)) == "type = point_t"
    assert whatis_text(TypedefType("point_t", p), names_type=True) == "type = struct point"
    assert ptype_text(QualifiedType(TypedefType("point_t", p), const=True)).startswith(
        "type = const struct point {")


def test_bitfields_anonymous_members_and_flexible_arrays():
    uint = BaseType("unsigned int", 4, "unsigned")
    flags = StructType("flags", 4, [Member("flag", uint, 0, 1, 0), Member("mode", uint, 0, 3, 1)])
    assert ptype_text(flags) == ("type = struct flags {\n    unsigned int flag : 1;\n"
                                 "    unsigned int mode : 3;\n}")
    inner = StructType(None, 8, [Member("radius", BaseType("double", 8, "float"), 0)])
    u = UnionType(None, 8, [Member("circle", inner, 0), Member(None, inner, 0)])
    shape = StructType("shape", 16, [Member("kind", INT, 0), Member(None, u, 8)])
    assert ptype_text(shape) == (
        "type = struct shape {\n    int kind;\n    union {\n        struct {...} circle;\n"
        "        struct {...};\n    };\n}")
    assert shape.member("radius").offset == 8
    packet = StructType("packet", 2, [Member("len", BaseType("unsigned short", 2, "unsigned"), 0),
                                      Member("data", ArrayType(CHAR, [None]), 2)])
    assert "    char data[];\n" in ptype_text(packet)
    opaque = StructType("opaque", 0, [], is_declaration=True)
    assert ptype_text(PointerType(opaque)) == \
        "type = struct opaque {\n    <incomplete type>\n} *"
    assert ptype_text(PointerType(opaque), resolver=lambda t: point()).startswith(
        "type = struct point {")


def test_enums():
    color = EnumType("color", 4, [Enumerator("RED", 0), Enumerator("GREEN", 1),
                                  Enumerator("BLUE", 2)])
    sparse = EnumType("sparse", 4, [Enumerator("S_A", 1), Enumerator("S_B", 5),
                                    Enumerator("S_C", 6), Enumerator("S_D", 20)])
    assert ptype_text(color) == "type = enum color {RED, GREEN, BLUE}"
    assert ptype_text(sparse) == "type = enum sparse {S_A = 1, S_B = 5, S_C, S_D = 20}"
    assert whatis_text(EnumType(None, 4, [Enumerator("A", 1)])) == "type = enum {...}"
    assert format_type(EnumType(None, 4, [Enumerator("A", 1)]), "v", show=0) == "enum {A = 1} v"
    # gdb prints (enum perm)3 as (PERM_W | PERM_X) but (enum multi)15 as 15.
    assert flag_enum_heuristic([4, 2, 1]) and flag_enum_heuristic([0, 1, 2])
    assert not flag_enum_heuristic([3, 12]) and not flag_enum_heuristic([-1, 0, 1])
    assert not flag_enum_heuristic([1, 5, 6, 20])


def test_typedef_helpers_and_base_names():
    t = QualifiedType(TypedefType("myint", TypedefType("inner", INT)), volatile=True)
    assert strip_typedefs(t) is INT
    assert type_name(check_typedef(t)) == "volatile int"
    assert t.size == 4
    assert ArrayType(INT, [3, 4]).size == 48 and ArrayType(INT, [3, 4]).target.dims == [4]
    assert canonical_base_name("long unsigned int") == "unsigned long"
    assert canonical_base_name("short int") == "short"
    assert canonical_base_name("long long unsigned int") == "unsigned long long"
    assert canonical_base_name("__int128 unsigned") == "__int128 unsigned"
    assert canonical_base_name("signed char") == "signed char"


# --------------------------------------------------------------------------- gdb oracle

@pytest.mark.parametrize("variant", sorted(ORACLE_VARIANTS))
def test_every_global_matches_gdb_whatis_and_ptype(variant):
    path, di = fixture(variant)
    expected_vars = gdb_variables(path)
    assert len(expected_vars) > 70
    mine = {v.name: v for v in di.iter_globals() if v.cu.name == "types.c"}
    assert set(mine) == set(expected_vars)
    for name, line in expected_vars.items():
        assert mine[name].decl_line == line, name
    cmds = []
    for name in sorted(expected_vars):
        cmds += [f"echo =={name}\\n", f"whatis {name}", f"ptype {name}"]
    gdb = answers(gdb_batch(path, cmds).stdout)
    for name in sorted(expected_vars):
        var = di.find_global(name)
        assert var is not None, name
        got = [whatis_text(var.type), ptype_text(var.type, di.complete_type)]
        assert got == gdb[name], name


def gdb_type_names(binary) -> list[str]:
    out = gdb_batch(binary, ["info types"]).stdout
    names = []
    for line in out.splitlines():
        m = re.match(r"^(?:\d+:)?\t(.*?);?$", line)
        if not m:
            continue
        decl = m.group(1)
        if decl.startswith("typedef "):
            names.append(re.search(r"(\w+)$", decl).group(1))
        else:
            names.append(decl)
    return names


@pytest.mark.parametrize("variant", ["O0", "O2", "O2-dwarf4", "O2-typeunits",
                                     "O0-dwarf4-typeunits"])
def test_every_type_name_matches_gdb_whatis_and_ptype(variant):
    path, di = fixture(variant)
    names = gdb_type_names(path)
    assert "struct shape" in names and "binop_fn" in names and "unsigned long" in names
    cmds = []
    for name in names:
        cmds += [f"echo =={name}\\n", f"whatis {name}", f"ptype {name}"]
    result = gdb_batch(path, cmds)
    gdb = answers(result.stdout)
    checked = 0
    for name in names:
        t = di.find_type(name)
        assert t is not None, name
        if not gdb[name]:
            # gdb's C parser rejects a few DWARF spellings ("complex float").
            continue
        assert [whatis_text(t, names_type=True), ptype_text(t, di.complete_type)] == \
            gdb[name], name
        checked += 1
    assert checked >= len(names) - 4


def test_functions_types_match_gdb():
    path, di = fixture("O0")
    names = ["add", "noargs", "varfn", "main", "area", "counter_fn"]
    cmds = []
    for n in names:
        cmds += [f"echo =={n}\\n", f"whatis {n}", f"ptype {n}"]
    gdb = answers(gdb_batch(path, cmds).stdout)
    for n in names:
        f = di.find_function(n)
        assert [whatis_text(f.type), ptype_text(f.type)] == gdb[n], n
