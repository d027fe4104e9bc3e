"""Separate debug files: build-id and .gnu_debuglink lookup, and ElfImage reading through them.

Expected values come from readelf, nm, objcopy and gdb run on the same files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pydbg.symbols import ElfImage
from pydbg.symbols.debugfile import (DebugLink, build_id_path, debuglink_crc32,
                                     find_debug_file, read_build_id, read_debuglink)
from tests.support.build import VARIANTS, build

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


def readelf_build_id(path) -> str | None:
    out = subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def nm_symbols(path) -> dict[str, int]:
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.setdefault(parts[2], int(parts[0], 16))
    return syms


def split_debug(exe: Path, where: Path, debug_name: str = "prog.debug") -> tuple[Path, Path]:
    """objcopy's recipe for a stripped program plus its debug file, linked by debuglink."""
    where.mkdir(parents=True, exist_ok=True)
    debug = where / debug_name
    stripped = where / "prog"
    subprocess.run(["objcopy", "--only-keep-debug", str(exe), str(debug)], check=True)
    subprocess.run(["objcopy", "--strip-all", f"--add-gnu-debuglink={debug}", str(exe),
                    str(stripped)], check=True, cwd=where)
    return stripped, debug


@pytest.fixture(scope="module")
def basic_exe() -> Path:
    return build("basic.c", VARIANTS["O0"])


def test_build_id_and_debuglink_are_read_as_readelf_shows_them(basic_exe, tmp_path):
    with open(basic_exe, "rb") as f:
        assert read_build_id(ELFFile(f)) == readelf_build_id(basic_exe)
        assert read_debuglink(ELFFile(f)) is None
    stripped, debug = split_debug(basic_exe, tmp_path)
    with open(stripped, "rb") as f:
        link = read_debuglink(ELFFile(f))
    assert link == DebugLink("prog.debug", zlib.crc32(debug.read_bytes()))
    assert debuglink_crc32(debug) == link.crc
    # (The CRC after the name is binary: it need not decode as UTF-8.)
    dump = subprocess.run(["readelf", "-p", ".gnu_debuglink", str(stripped)],
                          capture_output=True, text=True, errors="replace").stdout
    assert "prog.debug" in dump


def test_debuglink_search_order_and_crc_check(basic_exe, tmp_path):
    stripped, debug = split_debug(basic_exe, tmp_path / "bin")
    link = DebugLink("prog.debug", debuglink_crc32(debug))
    # Next to the object.
    assert find_debug_file(stripped, None, link, ()) == str(debug)
    # In its .debug/ directory.
    dot = tmp_path / "bin" / ".debug"
    dot.mkdir()
    shutil.move(debug, dot / "prog.debug")
    assert find_debug_file(stripped, None, link, ()) == str(dot / "prog.debug")
    # Under a global debug directory, mirroring the object's directory.
    mirror = tmp_path / "dbg" / str(stripped.parent.resolve()).lstrip("/")
    mirror.mkdir(parents=True)
    shutil.move(dot / "prog.debug", mirror / "prog.debug")
    assert find_debug_file(stripped, None, link, (str(tmp_path / "dbg"),)) == \
        str(mirror / "prog.debug")
    # A file with the wrong CRC is someone else's debug file.
    bad = DebugLink("prog.debug", link.crc ^ 1)
    assert find_debug_file(stripped, None, bad, (str(tmp_path / "dbg"),)) is None


def test_build_id_lookup_verifies_the_id(basic_exe, tmp_path):
    bid = readelf_build_id(basic_exe)
    stripped, debug = split_debug(basic_exe, tmp_path / "bin")
    root = tmp_path / "debugroot"
    target = Path(build_id_path(bid, str(root)))
    assert target == root / ".build-id" / bid[:2] / f"{bid[2:]}.debug"
    target.parent.mkdir(parents=True)
    shutil.copy(debug, target)
    assert find_debug_file(stripped, bid, None, (str(root),),
                           read_build_id_of=lambda p: bid) == str(target)
    assert find_debug_file(stripped, bid, None, (str(root),),
                           read_build_id_of=lambda p: "00" * 20) is None


def test_stripped_program_reads_symbols_and_lines_from_its_debug_file(basic_exe, tmp_path):
    stripped, debug = split_debug(basic_exe, tmp_path)
    image = ElfImage(stripped, debug_dirs=())
    # Lazy: opening the program does not look for (or open) the debug file.
    image.load_segments()
    assert image._debug_image is False
    assert image.elffile.get_section_by_name(".symtab") is None
    assert image.has_symtab and image.has_debug_info
    assert image.debug_file == str(debug)
    want = nm_symbols(basic_exe)
    for name in ("main", "add", "sub"):
        assert image.get_symbol(name).address == want[name]
    # gdb on the stripped file (it follows the debuglink too) is the oracle for placement.
    out = subprocess.run(["gdb", "-nx", "-batch", "-ex", "break add", "-ex", "info line sub",
                          str(stripped)], capture_output=True, text=True).stdout
    m = re.search(r"Breakpoint 1 at (0x[0-9a-f]+): file (\S+), line (\d+)\.", out)
    assert m, out
    (loc,) = image.breakpoint_locations("add")
    assert (loc.address, loc.name, loc.line) == (int(m.group(1), 16), m.group(2),
                                                  int(m.group(3)))
    m = re.search(r'Line (\d+) of "(\S+)" starts at address (0x[0-9a-f]+)', out)
    entry = image.line_for_address(int(m.group(3), 16))
    assert (entry.line, entry.name) == (int(m.group(1)), m.group(2))
    assert image.symbolize(want["add"] + 4)[0].name == "add"


def test_no_debug_dirs_means_no_lookup(basic_exe, tmp_path):
    stripped, _debug = split_debug(basic_exe, tmp_path)
    image = ElfImage(stripped, debug_dirs=None)
    assert image.debug_file is None
    assert not image.has_debug_info and not image.has_symtab


def _libc_debug_path() -> str | None:
    bid = readelf_build_id(LIBC)
    path = build_id_path(bid, "/usr/lib/debug") if bid else None
    return path if path and os.path.isfile(path) else None


@pytest.mark.skipif(_libc_debug_path() is None, reason="libc6-dbg is not installed")
def test_libc_debug_info_through_build_id():
    image = ElfImage(LIBC)
    assert image.debug_file == _libc_debug_path()
    assert image.elffile.get_section_by_name(".debug_info") is None
    assert image.has_debug_info
    syms = nm_symbols(_libc_debug_path())
    pc = syms["__pthread_kill_implementation"] + 268
    # gdb's own answer for the same file address.
    out = subprocess.run(["gdb", "-nx", "-batch", "-ex", f"info line *{pc:#x}",
                          "-ex", f"x/i {pc:#x}", "-ex", f"x/i {syms['raise'] + 4:#x}",
                          "-ex", "info address abort", LIBC],
                         capture_output=True, text=True).stdout
    m = re.search(r'Line (\d+) of "(\S+)"', out)
    entry = image.line_for_address(pc)
    assert (entry.line, entry.name) == (int(m.group(1)), m.group(2))
    assert f"<__pthread_kill_implementation+268>" in out
    sym, off = image.symbolize(pc)
    assert (sym.name, off) == ("__pthread_kill_implementation", 268)
    # <__GI_raise+4>: gdb prefers the DWARF (linkage) name to the ELF alias "raise".
    gdb_name = re.search(r"<(\w+)\+4>", out.splitlines()[-2]).group(1)
    sym, off = image.symbolize(syms["raise"] + 4)
    assert (sym.name, off) == (gdb_name, 4)
    assert image.function_at(pc).name == "__pthread_kill_implementation"
    # `break abort` lands where gdb puts it, without indexing all of libc's DWARF.
    (loc,) = image.breakpoint_locations("abort")
    assert loc.function == "abort" and loc.name == "./stdlib/abort.c"
    assert image._name_index is None


@pytest.mark.skipif(_libc_debug_path() is None, reason="libc6-dbg is not installed")
def test_libc_name_lookups_skip_names_libc_does_not_define():
    image = ElfImage(LIBC)
    di = image.debug_info
    syms = nm_symbols(_libc_debug_path())
    assert "add" not in syms and "abort" in syms
    # Names no ELF symbol carries are not searched for in libc's ~2000 CUs.
    assert not di.may_name("add", has_address="code")
    assert not di.may_name("add", has_address="data")
    assert di.find_global("add") is None and di.functions_named("add") == []
    assert di.may_name("abort", has_address="code")
    # ...nor a function's name among its variables.
    assert not di.may_name("abort", has_address="data")
    assert di.may_name("environ", has_address="data")
    # Type names are not symbols: only the string data can rule them out.
    assert di.may_name("pthread_attr_t")
    assert not di.may_name("no_such_type_xyzzy")
