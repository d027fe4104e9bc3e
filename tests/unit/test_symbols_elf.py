"""ElfImage's ELF side (header, segments, sections, memory, symbols, PLT) against binutils and gdb.

Expected values come from readelf, nm, objdump and gdb run on the same fixture binaries.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from pydbg.errors import SymbolError
from pydbg.symbols import ElfImage
from tests.support.build import REPO, VARIANTS, build

SYMTEST = ["symtest_main.c", "symtest_util.c"]


def run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


@pytest.fixture(params=list(VARIANTS), scope="module")
def basic(request) -> ElfImage:
    im = ElfImage(build("basic.c", VARIANTS[request.param]))
    yield im
    im.close()


# ----- opening -----

def test_missing_file_error_matches_gdb(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SymbolError) as e:
        ElfImage(missing)
    gdb = subprocess.run(["gdb", "-batch", "-nx", str(missing)], capture_output=True,
                         text=True).stderr.strip()
    assert str(e.value) == gdb == f"{missing}: No such file or directory."


def test_non_elf_error_matches_gdb(tmp_path: Path) -> None:
    junk = tmp_path / "notelf.txt"
    junk.write_text("hello\n")
    with pytest.raises(SymbolError) as e:
        ElfImage(junk)
    gdb = subprocess.run(["gdb", "-batch", "-nx", str(junk)], capture_output=True,
                         text=True).stderr.strip()
    assert str(e.value) == gdb
    assert "not in executable format: file format not recognized" in str(e.value)


def test_truncated_elf_is_not_an_executable(tmp_path: Path) -> None:
    stub = tmp_path / "stub"
    stub.write_bytes(b"\x7fELF\x02\x01")
    with pytest.raises(SymbolError, match="not in executable format"):
        ElfImage(stub)


def test_directory_error(tmp_path: Path) -> None:
    with pytest.raises(SymbolError, match="Is a directory"):
        ElfImage(tmp_path)


def test_open_is_lazy() -> None:
    im = ElfImage(build("basic.c", VARIANTS["O0"]))
    # Only the header: no section list, symbols or DWARF until a query needs them.
    assert im._sections is None and im._minsyms is None and im._dwarf is None
    im.get_symbol("main")
    assert im._dwarf is None


# ----- header, segments, sections -----

def test_header_matches_readelf(basic: ElfImage) -> None:
    out = run("readelf", "-hW", str(basic.path))
    entry = int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", out).group(1), 16)
    assert basic.entry == entry
    assert basic.is_pie == ("DYN" in re.search(r"Type:\s+(\S+)", out).group(1))
    assert basic.has_symtab and basic.has_debug_info


def test_load_segments_match_readelf(basic: ElfImage) -> None:
    out = run("readelf", "-lW", str(basic.path))
    want = []
    for m in re.finditer(r"^\s+LOAD\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)\s+(\S+)\s+(.{3})", out, re.M):
        off, vaddr, filesz, memsz, flg = m.groups()
        flags = (4 if "R" in flg else 0) | (2 if "W" in flg else 0) | (1 if "E" in flg else 0)
        want.append((int(vaddr, 16), int(memsz, 16), int(off, 16), int(filesz, 16), flags))
    got = [(s.vaddr, s.memsz, s.offset, s.filesz, s.flags) for s in basic.load_segments()]
    assert got == want and len(got) >= 2


def test_sections_match_readelf(basic: ElfImage) -> None:
    out = run("readelf", "-SW", str(basic.path))
    want = {}
    for m in re.finditer(r"^\s+\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)",
                         out, re.M):
        name, addr, off, size = m.groups()
        want[name] = (int(addr, 16), int(off, 16), int(size, 16))
    want.pop("NULL", None)  # the unnamed section 0
    got = {s.name: (s.address, s.offset, s.size) for s in basic.sections() if s.name}
    assert got == want


def test_read_matches_objdump_and_bss_is_zero(basic: ElfImage) -> None:
    rodata = next(s for s in basic.sections() if s.name == ".rodata")
    dump = run("objdump", "-s", "-j", ".rodata", str(basic.path))
    expect = bytearray()
    for m in re.finditer(r"^ ([0-9a-f]+) ((?:[0-9a-f]{2,8} ){1,4})", dump, re.M):
        expect += bytes.fromhex(m.group(2).replace(" ", ""))
    assert basic.read(rodata.address, rodata.size) == bytes(expect)
    greeting = basic.get_symbol("greeting")
    assert basic.read(greeting.address, greeting.size) == b"hello, pydbg\0"
    table = basic.get_symbol("table")
    assert basic.read(table.address, 32) == b"".join(v.to_bytes(8, "little") for v in (1, 2, 3, 4))
    counter = basic.get_symbol("counter")
    bss = basic.section_at(counter.address)
    assert bss is not None and bss.name == ".bss"
    assert basic.read(counter.address, 4) == b"\0\0\0\0"


def test_read_outside_sections_fails(basic: ElfImage) -> None:
    with pytest.raises(SymbolError, match="Cannot access memory at address 0x10"):
        basic.read(0x10, 4)


# ----- symbols -----

def nm_symbols(path: Path) -> list[tuple[str, int, int, str]]:
    out = run("nm", "-S", "--defined-only", str(path))
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            syms.append((parts[3], int(parts[0], 16), int(parts[1], 16), parts[2]))
    return syms


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("sources", ["basic.c", "symtest"])
def test_symbols_match_nm(sources: str, variant: str) -> None:
    path = build(SYMTEST if sources == "symtest" else sources, VARIANTS[variant])
    im = ElfImage(path)
    syms = nm_symbols(path)
    counts: dict[str, int] = {}
    for name, *_ in syms:
        counts[name] = counts.get(name, 0) + 1
    checked = 0
    for name, addr, size, typ in syms:
        if counts[name] > 1:
            continue
        s = im.get_symbol(name)
        assert s is not None, name
        assert (s.address, s.size) == (addr, size), name
        assert s.kind == ("func" if typ in "Tt" else "object"), name
        assert s.binding == ("local" if typ.islower() else "global"), name
        checked += 1
    assert checked >= 8
    assert im.get_symbol("no_such_symbol") is None


def test_symbol_binding_and_kind_match_readelf() -> None:
    path = build("basic.c", VARIANTS["O0"])
    im = ElfImage(path)
    out = run("readelf", "-sW", str(path))
    seen = 0
    for m in re.finditer(r"^\s+\d+: ([0-9a-f]+)\s+(\d+) (FUNC|OBJECT)\s+(LOCAL|GLOBAL|WEAK)\s+\S+\s+\d+ (\S+)$",
                         out, re.M):
        value, size, typ, bind, name = m.groups()
        if name not in ("add", "sub", "twice", "main", "counter", "greeting", "table"):
            continue
        s = im.get_symbol(name)
        assert (s.address, s.size, s.kind, s.binding) == (
            int(value, 16), int(size), typ.lower() if typ == "OBJECT" else "func", bind.lower())
        seen += 1
    assert seen == 7


def test_symbols_matching_glob_matches_nm() -> None:
    path = build(SYMTEST, VARIANTS["O0"])
    im = ElfImage(path)
    want = sorted({n for n, _a, _s, t in nm_symbols(path) if t in "Tt" and n.startswith("s")})
    got = sorted({s.name for s in im.symbols_matching("s*")})
    assert got == want
    assert [s.name for s in im.symbols_matching("never_call?d")] == ["never_called"]
    assert all(s.kind == "func" for s in im.symbols_matching("*"))


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_plt_symbols_match_objdump(variant: str) -> None:
    path = build("basic.c", VARIANTS[variant])
    im = ElfImage(path)
    out = run("objdump", "-d", str(path))
    plt = {name: int(addr, 16) for addr, name in re.findall(r"^([0-9a-f]+) <(\w+@plt)>:", out, re.M)}
    assert {"printf@plt", "fflush@plt"} <= set(plt)  # -O2 calls strtol, not atoi
    for name, addr in plt.items():
        s = im.get_symbol(name)
        assert s is not None and s.address == addr and s.kind == "func", name
        assert im.symbolize(addr) == (s, 0)
        assert im.symbolize(addr + 6)[1] == 6
    # `break printf` before the program runs resolves to the PLT stub, as in gdb.
    assert im.get_symbol("printf").name == "printf@plt"


def test_got_slot_symbols_match_gdb_disassembly() -> None:
    path = build("basic.c", VARIANTS["O0"])
    im = ElfImage(path)
    plt = im.get_symbol("printf@plt")
    out = subprocess.run(["gdb", "-batch", "-nx", "-ex", f"x/i {plt.address}", str(path)],
                         capture_output=True, text=True).stdout
    slot, name = re.search(r"# (0x[0-9a-f]+) <([^>]+)>", out).groups()
    sym, off = im.symbolize(int(slot, 16))
    assert (sym.name, off) == (name, 0) == ("printf@got.plt", 0)


def _gdb_info_symbol(path: Path, addrs: list[int]) -> list[str]:
    args = ["gdb", "-batch", "-nx"]
    for a in addrs:
        args += ["-ex", f"info symbol {a:#x}"]
    out = subprocess.run(args + [str(path)], capture_output=True, text=True).stdout
    return out.strip().splitlines()


def _info_symbol_text(im: ElfImage, a: int) -> str:
    r = im.symbolize(a)
    if r is None:
        return f"No symbol matches {a:#x}."
    s, off = r
    sec = im.section_at(a).name
    # gdb prints "natural" names: "completed.0" is shown as "completed".
    name = re.sub(r"^(\w+)\.\d+$", r"\1", s.name).replace("@got.plt", "@got[plt]")
    return f"{name} + {off} in section {sec}" if off else f"{name} in section {sec}"


@pytest.mark.parametrize("variant", ["O0", "O2", "O2-nopie"])
@pytest.mark.parametrize("strip", [False, True])
def test_symbolize_matches_gdb_info_symbol(variant: str, strip: bool) -> None:
    path = build("basic.c", VARIANTS[variant], strip=strip)
    im = ElfImage(path)
    addrs = []
    for s in im.sections():
        if s.flags & 0x2 and s.size and s.name != ".interp":
            step = 1 if s.flags & 0x4 else 4
            addrs += range(s.address, s.address + min(s.size, 0x600), step)
    addrs += [0x10, max(s.address + s.size for s in im.sections()) + 0x100]
    want = _gdb_info_symbol(path, addrs)
    got = [_info_symbol_text(im, a) for a in addrs]
    assert len(want) == len(got)
    mismatches = [(hex(a), w, g) for a, w, g in zip(addrs, want, got) if w != g]
    assert mismatches == []


def test_stripped_binary_keeps_dynamic_and_plt_symbols() -> None:
    path = build("basic.c", VARIANTS["O0"], strip=True)
    im = ElfImage(path)
    assert not im.has_symtab and not im.has_debug_info
    assert im.get_symbol("main") is None and im.get_symbol("add") is None
    assert im.get_symbol("stdout") is not None  # a copy-relocated .dynsym object
    assert im.get_symbol("printf").name == "printf@plt"
    assert im.line_for_address(im.entry) is None
    assert im.function_at(im.entry) is None
    assert im.source_files() == [] and im.main_source_file() is None
    with pytest.raises(SymbolError, match="No source file named basic.c."):
        im.addresses_for_line("basic.c", 13)


# ----- layering -----

def test_symbols_package_imports_no_process_layer() -> None:
    for py in (REPO / "pydbg" / "symbols").glob("*.py"):
        tree = ast.parse(py.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                assert not n.startswith(("pydbg.ptrace", "pydbg.engine", "pydbg.cli", "ptrace")), \
                    f"{py.name} imports {n}"


# ----- the name pre-check that spares decoding a library's symbols -----

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


@pytest.mark.parametrize("path", ["fixture", LIBC])
def test_may_name_never_misses_a_symbol(path: str) -> None:
    """No false negative: every minimal symbol's name (and its @plt alias) passes the
    raw-bytes check, on a fixture and on libc (whose .symtab is in its debug file)."""
    exe = build("basic.c", VARIANTS["O0"]) if path == "fixture" else Path(path)
    names = {s.name for s in ElfImage(exe).symbols()}
    assert len(names) > 20
    fresh = ElfImage(exe)           # checked before anything decoded the symbols
    missed = [n for n in sorted(names) if not fresh._may_name(n)]
    assert missed == []
    assert fresh._minsyms is None


def test_may_name_rejects_absent_names_and_string_tails() -> None:
    """A name that only ends a longer string (tail-merged string tables) is no symbol."""
    im = ElfImage(LIBC)
    names = {s.name for s in ElfImage(LIBC).symbols()}
    tails = sorted({n[k:] for n in names if "@" not in n for k in range(1, len(n) - 3)}
                   - names)
    assert len(tails) > 100
    assert not any(im._may_name(t) for t in tails[:2000])
    assert not im._may_name("no_such_function_in_libc")
    assert im._may_name("printf") and im._may_name("malloc")
    assert im.get_symbol("no_such_function_in_libc") is None
    assert im.breakpoint_locations("no_such_function_in_libc") == []
    assert im._minsyms is None      # none of that decoded libc's symbols
