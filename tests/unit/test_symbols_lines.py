"""Line tables, functions and breakpoint placement of ElfImage, with gdb 13 as the oracle.

gdb runs statically on each fixture binary (no process): `break` for every function and
every source line, `find_pc_line`/blocks for every code byte, and `maint info line-table`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from pydbg.errors import SymbolError
from pydbg.symbols import ElfImage
from pydbg.symbols.functions import analyze_amd64_prologue
from tests.support.build import FIXTURES, VARIANTS, build

SYMTEST = ("symtest_main.c", "symtest_util.c")
PROGRAMS = {
    "basic": (("basic.c",), ("basic.c",)),
    "symtest": (SYMTEST, SYMTEST + ("symtest.h",)),
    "crash": (("crash.c",), ("crash.c",)),
}
# Functions without debug info that every program has, plus PLT and missing names.
NON_DEBUG = ["_start", "_init", "_fini", "frame_dummy", "register_tm_clones",
             "deregister_tm_clones", "__do_global_dtors_aux", "printf", "nosuch"]

_BREAK_ORACLE = r'''
import gdb, json, os
gdb.execute("set breakpoint pending off")
out = []
for spec in json.loads(os.environ["ORACLE_SPECS"]):
    try:
        bp = gdb.Breakpoint(spec)
    except gdb.error as e:
        out.append({"spec": spec, "error": str(e)})
        continue
    out.append({"spec": spec, "locations": [
        [l.address, l.source[1] if l.source else None, l.source[0] if l.source else None]
        for l in bp.locations]})
    bp.delete()
print("ORACLE" + json.dumps(out))
'''

_PC_ORACLE = r'''
import gdb, json, os
out = []
for a in json.loads(os.environ["ORACLE_ADDRS"]):
    r = {"a": a}
    sal = gdb.find_pc_line(a)
    if sal.symtab is not None and sal.line:
        r["line"] = [sal.line, sal.pc, sal.last, sal.symtab.filename, sal.symtab.fullname()]
    try:
        b = gdb.block_for_pc(a)
    except RuntimeError:
        b = None
    # Without nested functions (C fixtures), a pc's function is its outermost
    # function block: the one just inside the file's static block.
    if b is not None and (b.is_static or b.is_global):
        b = None
    while b is not None and b.superblock is not None and not b.superblock.is_static:
        b = b.superblock
    if b is not None and b.function is not None:
        r["func"] = [b.function.name, b.start, b.end]
    out.append(r)
print("ORACLE" + json.dumps(out))
'''


def _gdb_script(tmp_dir: Path, name: str, text: str) -> Path:
    p = tmp_dir / name
    if not p.exists():
        p.write_text(text)
    return p


@pytest.fixture(scope="session")
def oracle_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gdb-oracle")


def run_gdb_python(script: Path, binary: Path, env_name: str, payload) -> list:
    env = dict(os.environ, **{env_name: json.dumps(payload)})
    p = subprocess.run(["gdb", "-batch", "-nx", "-x", str(script), str(binary)], env=env,
                       capture_output=True, text=True, timeout=300)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("ORACLE")]
    assert lines, p.stdout[-2000:] + p.stderr[-2000:]
    return json.loads(lines[0][len("ORACLE"):])


@lru_cache(maxsize=None)
def program(name: str, variant: str, debug: bool = True, strip: bool = False) -> Path:
    return build(list(PROGRAMS[name][0]), VARIANTS[variant], debug=debug, strip=strip)


def function_names(files: tuple[str, ...]) -> list[str]:
    names: set[str] = set()
    for f in files:
        text = (FIXTURES / f).read_text()
        names |= set(re.findall(r"^(?:static\s+)?(?:inline\s+)?[\w ]+?\**\b(\w+)\s*\([^;]*$",
                                text, re.M))
    return sorted(names)


def ours_for_spec(im: ElfImage, spec: str) -> list[list]:
    try:
        if ":" in spec:
            file, rest = spec.rsplit(":", 1)
            if rest.isdigit():
                matches = im.addresses_for_line(file, int(rest))
            else:
                matches = im.breakpoint_locations(rest, file)
        else:
            matches = im.breakpoint_locations(spec)
    except SymbolError:
        return []
    return sorted([m.address, m.line, m.name] for m in matches)


def compare_breaks(oracle_dir: Path, binary: Path, specs: list[str],
                   min_located: int | None = None) -> list:
    script = _gdb_script(oracle_dir, "break_oracle.py", _BREAK_ORACLE)
    im = ElfImage(binary)
    bad = []
    located = 0
    for r in run_gdb_python(script, binary, "ORACLE_SPECS", specs):
        want = sorted(r.get("locations", []))
        located += bool(want)
        got = ours_for_spec(im, r["spec"])
        if want != got:
            bad.append((r["spec"], want, got))
    # Guard against an oracle that silently finds nothing.
    assert located >= (len(specs) // 3 if min_located is None else min_located), located
    return bad


# ----- breakpoints: every function and every line, as gdb places them -----

@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_break_every_function_and_line_matches_gdb(oracle_dir, name: str, variant: str) -> None:
    sources, files = PROGRAMS[name]
    specs = function_names(files) + NON_DEBUG
    for f in files:
        n = len((FIXTURES / f).read_text().splitlines())
        specs += [f"{f}:{i}" for i in range(1, n + 2)]
    if name == "symtest":
        specs += ["symtest_util.c:scale", "symtest_main.c:scale", "symtest.h:clamp",
                  "symtest_util.c:clamp", "symtest_main.c:accumulate", "symtest_util.c:printf"]
    assert compare_breaks(oracle_dir, program(name, variant), specs) == []


@pytest.mark.parametrize("flags", [["-O1"], ["-O3"], ["-Os"], ["-O0", "-fcf-protection"],
                                   ["-O2", "-gdwarf-4"], ["-O0", "-fomit-frame-pointer"],
                                   ["-O2", "-fno-omit-frame-pointer"]])
def test_break_matches_gdb_with_other_flags(oracle_dir, flags: list[str]) -> None:
    files = PROGRAMS["symtest"][1]
    specs = function_names(files) + ["_start", "printf"]
    for f in files:
        n = len((FIXTURES / f).read_text().splitlines())
        specs += [f"{f}:{i}" for i in range(1, n + 2)]
    assert compare_breaks(oracle_dir, build(list(SYMTEST), flags), specs) == []


@pytest.mark.parametrize("variant", ["O0", "O2", "O0-nopie"])
@pytest.mark.parametrize("debug,strip", [(False, False), (False, True), (True, True)])
def test_break_without_debug_info_matches_gdb(oracle_dir, variant, debug, strip) -> None:
    specs = function_names(PROGRAMS["basic"][1]) + NON_DEBUG + ["fflush", "atoi", "strtol"]
    binary = program("basic", variant, debug=debug, strip=strip)
    assert compare_breaks(oracle_dir, binary, specs, min_located=2) == []


def test_break_examples_from_gdb_transcript() -> None:
    # gdb -batch -nx -ex 'break basic.c:13' -ex 'break add' basic (-O0, PIE):
    #   Breakpoint 1 at 0x116e: file basic.c, line 13.
    #   Breakpoint 2 at 0x1163: file basic.c, line 12.
    binary = program("basic", "O0")
    out = subprocess.run(["gdb", "-batch", "-nx", "-ex", "break basic.c:13", "-ex", "break add",
                          str(binary)], capture_output=True, text=True).stdout
    want = re.findall(r"at (0x[0-9a-f]+): file (\S+), line (\d+)\.", out)
    im = ElfImage(binary)
    m1 = im.addresses_for_line("basic.c", 13)
    m2 = im.breakpoint_locations("add")
    got = [(hex(m.address), m.name, str(m.line)) for m in m1 + m2]
    assert got == want and len(got) == 2
    assert im.breakpoint_addresses("add") == [m2[0].address]


def test_line_errors_match_gdb() -> None:
    binary = program("symtest", "O0")
    im = ElfImage(binary)
    out = subprocess.run(["gdb", "-batch", "-nx", "-ex", "break nosuch.c:3",
                          "-ex", "break symtest_util.c:99", str(binary)],
                         capture_output=True, text=True).stderr
    want = [ln for ln in out.splitlines() if ln.startswith("No ")]
    got = []
    for file, line in (("nosuch.c", 3), ("symtest_util.c", 99)):
        with pytest.raises(SymbolError) as e:
            im.addresses_for_line(file, line)
        got.append(str(e.value))
    assert got == want == ["No source file named nosuch.c.",
                           'No line 99 in file "symtest_util.c".']


def test_full_path_and_default_file() -> None:
    im = ElfImage(program("symtest", "O0"))
    main_file = im.main_source_file()
    assert main_file == str(FIXTURES / "symtest_main.c")
    by_path = im.addresses_for_line(main_file, 15)
    assert by_path == im.addresses_for_line("symtest_main.c", 15)
    assert by_path == im.addresses_for_line("fixtures/symtest_main.c", 15)
    with pytest.raises(SymbolError):
        im.addresses_for_line("xtures/symtest_main.c", 15)  # not a path-component tail


def test_source_files_match_gdb_info_sources() -> None:
    binary = program("symtest", "O2")
    out = subprocess.run(["gdb", "-batch", "-nx", "-ex", "info sources", str(binary)],
                         capture_output=True, text=True).stdout
    listed = [ln for ln in out.splitlines() if ln.startswith("/") and not ln.endswith(":")]
    want = [p.strip() for ln in listed for p in ln.split(",") if p.strip()]
    assert ElfImage(binary).source_files() == want


# ----- line tables -----

def gdb_line_tables(binary: Path, file: str) -> list[list[tuple]]:
    out = subprocess.run(["gdb", "-batch", "-nx", "-ex", "maint expand-symtabs",
                          "-ex", f"maint info line-table {file}",
                          str(binary)], capture_output=True, text=True).stdout
    tables = []
    for block in out.split("symtab: ")[1:]:
        rows = []
        for m in re.finditer(r"^\d+\s+(\d+|END)\s+0x([0-9a-f]+)\s+(Y?)", block, re.M):
            line, addr, stmt = m.groups()
            rows.append((0 if line == "END" else int(line), int(addr, 16), stmt == "Y"))
        if rows:
            tables.append(rows)
    return tables


@pytest.mark.parametrize("variant", list(VARIANTS) + ["O3"])
@pytest.mark.parametrize("name", ["basic", "symtest"])
def test_line_tables_match_gdb(name: str, variant: str) -> None:
    binary = (program(name, variant) if variant in VARIANTS
              else build(list(PROGRAMS[name][0]), ["-O3"]))
    im = ElfImage(binary)
    for file in PROGRAMS[name][1]:
        ours = [[(r.line, r.address, r.is_stmt) for r in sub.rows] for sub in im.line_tables(file)]
        # gdb lists the CUs in its own expansion order.
        assert sorted(ours) == sorted(gdb_line_tables(binary, file)), file


def readelf_rows(binary: Path) -> set[tuple[str, int, int]]:
    out = subprocess.run(["readelf", "--debug-dump=decodedline", str(binary)],
                         capture_output=True, text=True).stdout
    rows = set()
    for m in re.finditer(r"^(\S+)\s+(\d+)\s+0x([0-9a-f]+)", out, re.M):
        rows.add((os.path.basename(m.group(1)), int(m.group(2)), int(m.group(3), 16)))
    return rows


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_line_rows_come_from_readelf_decodedline(variant: str) -> None:
    binary = program("symtest", variant)
    im = ElfImage(binary)
    raw = readelf_rows(binary)
    for file in PROGRAMS["symtest"][1]:
        # gdb merges and drops rows but never invents one.
        ours = {(file, r.line, r.address) for sub in im.line_tables(file) for r in sub.rows
                if r.line}
        assert ours and ours <= raw, file


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", ["basic", "symtest"])
def test_pc_lookups_match_gdb_for_every_code_byte(oracle_dir, name: str, variant: str) -> None:
    binary = program(name, variant)
    im = ElfImage(binary)
    addrs = [a for s in im.sections() if s.flags & 0x4 and s.size
             for a in range(s.address, s.address + s.size)]
    script = _gdb_script(oracle_dir, "pc_oracle.py", _PC_ORACLE)
    bad = []
    for r in run_gdb_python(script, binary, "ORACLE_ADDRS", addrs):
        a = r["a"]
        le = im.line_for_address(a)
        got = [le.line, le.address, le.end - 1, le.name, le.file] if le else None
        if got != r.get("line"):
            bad.append(("line", hex(a), r.get("line"), got))
        if "func" in r:
            f = im.function_at(a)
            if f is None or [f.name, f.low, f.high] != r["func"]:
                bad.append(("func", hex(a), r["func"], f))
    assert bad == []


def test_function_at_falls_back_to_elf_symbols() -> None:
    im = ElfImage(program("basic", "O0", debug=False))
    add = im.get_symbol("add")
    f = im.function_at(add.address + 3)
    assert (f.name, f.low, f.high, f.has_debug_info) == ("add", add.address,
                                                         add.address + add.size, False)
    assert im.function_at(im.get_symbol("printf@plt").address).name == "printf@plt"


def test_function_info_has_declaration() -> None:
    im = ElfImage(program("symtest", "O0"))
    [f] = im.functions_named("never_called")
    text = (FIXTURES / "symtest_util.c").read_text().splitlines()
    assert text[f.line - 1].startswith("int never_called(")
    assert f.file == str(FIXTURES / "symtest_util.c") and f.has_debug_info
    assert len(im.functions_named("clamp")) == 2  # one static copy per file at -O0
    assert im.function_at(f.low) == f


# ----- laziness -----

def test_queries_parse_only_the_compilation_units_they_need() -> None:
    im = ElfImage(program("symtest", "O2"))
    cus = im._all_cus()
    assert len(cus) == 2 and all(c._lines is None and c._scopes is None for c in cus)
    scale = im.get_symbol("scale")
    assert im.line_for_address(scale.address + 1) is not None
    decoded = [c for c in cus if c._lines is not None]
    assert len(decoded) == 1 and decoded[0].name == "symtest_util.c"
    im.addresses_for_line("symtest_util.c", 9)
    assert [c.name for c in cus if c._lines is not None] == ["symtest_util.c"]
    assert all(c._scopes is None for c in cus if c.name == "symtest_main.c")


# ----- prologue analysis (gdb's amd64_analyze_prologue) -----

@pytest.mark.parametrize("code,result", [
    (b"\x55\x48\x89\xe5\x90", (0x1004, False)),                  # push %rbp; mov %rsp,%rbp
    (b"\xf3\x0f\x1e\xfa\x55\x48\x89\xe5", (0x1008, False)),      # endbr64 first
    (b"\x55\x48\x8b\xec", (0x1004, False)),                      # the other movq encoding
    (b"\x55\x89\xe5", (0x1003, False)),                          # movl %esp,%ebp
    (b"\x55\x53\x48\x83\xec\x08", (0x1001, True)),               # push without frame
    (b"\x48\x83\xec\x08\xc3", (0x1000, True)),                   # frameless
    (b"\xf3\x0f\x1e\xfa\x48\x83\xec\x08", (0x1004, True)),       # endbr64, frameless
    # gcc's main() realignment: lea 0x8(%rsp),%r10; and $-16,%rsp; push -8(%r10); frame
    (b"\x4c\x8d\x54\x24\x08\x48\x83\xe4\xf0\x41\xff\x72\xf8\x55\x48\x89\xe5", (0x1011, False)),
])
def test_prologue_analysis(code: bytes, result: tuple[int, bool]) -> None:
    def read(addr: int, n: int) -> bytes:
        off = addr - 0x1000
        if off >= len(code):
            raise SymbolError("out of range")
        return code[off:off + n]
    assert analyze_amd64_prologue(read, 0x1000) == result
