"""Location lists checked against readelf (DWARF 4 .debug_loc and DWARF 5 .debug_loclists),
hand-assembled lists for every DW_LLE kind, and variable values checked against gdb.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from elftools.dwarf.descriptions import describe_DWARF_expr, set_global_machine_arch
from elftools.elf.elffile import ELFFile

from pydbg.symbols.dwarf_expr import EvalContext, Implicit, Register, evaluate_location
from pydbg.symbols.loclists import (LocationListEntry, LocationLists, LocListError,
                                    location_entries, location_expression_at)
from tests.support.build import VARIANTS, build

MASK64 = (1 << 64) - 1
LOC_VARIANTS = {
    "O2-dwarf5": ["-O2"],
    "O2-nopie-dwarf5": VARIANTS["O2-nopie"],
    "O2-dwarf4": ["-O2", "-gdwarf-4"],
    "O1-dwarf4": ["-O1", "-gdwarf-4"],
    "Og-dwarf5": ["-Og"],
}


def readelf_lists(path: Path) -> dict[int, list[tuple[int, int, str]]]:
    """Parse `readelf --debug-dump=loc`: list offset -> [(low, high, expression text)]."""
    out = subprocess.run(["readelf", "--debug-dump=loc", str(path)], capture_output=True,
                         text=True, check=True).stdout
    lists: dict[int, list[tuple[int, int, str]]] = {}
    current: list | None = None
    for line in out.splitlines():
        m = re.match(r"    ([0-9a-f]{8}) (.*)", line)
        if m:
            offset, rest = int(m.group(1), 16), m.group(2)
            if rest.endswith("location view pair"):
                continue
            if current is None:
                current = lists.setdefault(offset, [])
            if rest.startswith("<End of list>"):
                current = None
                continue
            m2 = re.match(r"([0-9a-f]{16}) ([0-9a-f]{16}) (\(.*\))$", rest)
            if m2:
                current.append((int(m2.group(1), 16), int(m2.group(2), 16), m2.group(3)))
            continue
        m = re.match(r" {13}([0-9a-f]{16}) ([0-9a-f]{16}) (\(.*\))$", line)
        if m and current is not None:  # the range line under "views at ... for:"
            current.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    return lists


def iter_location_attrs(path: Path):
    with open(path, "rb") as f:
        elf = ELFFile(f)
        set_global_machine_arch(elf.get_machine_arch())
        dwarf = elf.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            for die in cu.iter_DIEs():
                for name in ("DW_AT_location", "DW_AT_frame_base"):
                    attr = die.attributes.get(name)
                    if attr is not None:
                        yield cu, die, attr


@pytest.mark.parametrize("variant", sorted(LOC_VARIANTS))
def test_lists_match_readelf(variant: str) -> None:
    path = build("locations.c", LOC_VARIANTS[variant])
    expected = readelf_lists(path)
    seen = 0
    for cu, die, attr in iter_location_attrs(path):
        if not LocationLists.is_location_list(attr, cu):
            continue
        want = expected[attr.value]
        got = [(e.low, e.high, describe_DWARF_expr(list(e.expr), cu.structs, cu.cu_offset))
               for e in location_entries(attr, cu)]
        assert got == want, f"list at {attr.value:#x}"
        for low, high, _ in want:
            if low < high:
                hit = location_expression_at(attr, cu, low)
                # The first entry covering low wins (gdb's rule).
                first = next(e for e in location_entries(attr, cu) if e.covers(low))
                assert hit == first.expr
                assert location_expression_at(attr, cu, high - 1) is not None
        assert location_expression_at(attr, cu, 0) is None
        seen += 1
    assert seen >= 15
    versions = {cu.header.version for cu, _, _ in iter_location_attrs(path)}
    assert versions == ({4} if "dwarf4" in variant else {5})


def test_expression_attribute_covers_every_pc() -> None:
    path = build("locations.c", ["-O2"])
    for cu, die, attr in iter_location_attrs(path):
        if attr.form == "DW_FORM_exprloc":
            assert location_expression_at(attr, cu, 0x1234) == bytes(attr.value)
            return
    raise AssertionError("no exprloc attribute")


# --------------------------------------------------------------------------- every DW_LLE kind

class FakeDwarfInfo:
    """A DWARFInfo stand-in: hashable and weakly referenceable, like the real one."""

    def __init__(self, **sections) -> None:
        self.__dict__.update(sections)


def fake_cu(version: int, loclists: bytes = b"", loc: bytes = b"", addr: bytes = b"",
            low_pc: int = 0x1000, addr_base: int | None = 8,
            loclists_base: int | None = None) -> SimpleNamespace:
    attrs = {"DW_AT_low_pc": SimpleNamespace(form="DW_FORM_addr", value=low_pc, raw_value=low_pc)}
    if addr_base is not None:
        attrs["DW_AT_addr_base"] = SimpleNamespace(form="DW_FORM_sec_offset", value=addr_base)
    if loclists_base is not None:
        attrs["DW_AT_loclists_base"] = SimpleNamespace(form="DW_FORM_sec_offset",
                                                       value=loclists_base)
    sec = lambda data: SimpleNamespace(stream=io.BytesIO(data)) if data else None
    dwarfinfo = FakeDwarfInfo(debug_loc_sec=sec(loc), debug_loclists_sec=sec(loclists),
                                debug_addr_sec=sec(addr))
    return SimpleNamespace(cu_offset=0, dwarfinfo=dwarfinfo,
                           header=SimpleNamespace(version=version, address_size=8),
                           structs=SimpleNamespace(dwarf_format=32),
                           get_top_DIE=lambda: SimpleNamespace(attributes=attrs))


def attr(form: str, value: int) -> SimpleNamespace:
    return SimpleNamespace(name="DW_AT_location", form=form, value=value, raw_value=value)


def q(v: int) -> bytes:
    return v.to_bytes(8, "little")


def test_every_dwarf5_entry_kind() -> None:
    # .debug_addr: 8-byte header, then [0x2000, 0x3000, 0x4000].
    addr = b"\0" * 8 + q(0x2000) + q(0x3000) + q(0x4000)
    e1, e2 = b"\x01\x50", b"\x01\x51"  # counted DW_OP_reg0 / DW_OP_reg1
    data = b"\0" * 4  # the list starts at offset 4
    data += b"\x04\x10\x20" + e1  # offset_pair from the CU base 0x1000
    data += b"\x01\x00" + b"\x04\x01\x02" + e2  # base_addressx 0 -> base 0x2000
    data += b"\x02\x01\x02" + e1  # startx_endx [0x3000, 0x4000)
    data += b"\x03\x02\x10" + e2  # startx_length 0x4000 + 0x10
    data += b"\x06" + q(0x5000) + b"\x04\x00\x08" + e1  # base_address 0x5000
    data += b"\x07" + q(0x6000) + q(0x6010) + e2  # start_end
    data += b"\x08" + q(0x7000) + b"\x04" + e1  # start_length
    data += b"\x09\x00\x01"  # GNU_view_pair is skipped
    data += b"\x05\x02\x30\x9f"  # default_location: DW_OP_lit0; DW_OP_stack_value
    data += b"\x00"
    cu = fake_cu(5, loclists=data, addr=addr)
    entries = location_entries(attr("DW_FORM_sec_offset", 4), cu)
    r0, r1 = bytes([0x50]), bytes([0x51])
    assert entries == [
        LocationListEntry(0x1010, 0x1020, r0), LocationListEntry(0x2001, 0x2002, r1),
        LocationListEntry(0x3000, 0x4000, r0), LocationListEntry(0x4000, 0x4010, r1),
        LocationListEntry(0x5000, 0x5008, r0), LocationListEntry(0x6000, 0x6010, r1),
        LocationListEntry(0x7000, 0x7004, r0),
        LocationListEntry(0, 0, b"\x30\x9f", is_default=True)]
    a = attr("DW_FORM_sec_offset", 4)
    assert location_expression_at(a, cu, 0x1015) == r0
    assert location_expression_at(a, cu, 0x4008) == r1
    assert location_expression_at(a, cu, 0x9999) == b"\x30\x9f"


def test_loclistx_uses_the_offset_table() -> None:
    first = b"\x07" + q(0x10) + q(0x20) + b"\x01\x50" + b"\x00"  # start_end
    second = b"\x08" + q(0x30) + b"\x02" + b"\x01\x51" + b"\x00"  # start_length
    # A 12-byte unit header, then DW_AT_loclists_base points at a 2-entry offset table whose
    # offsets count from that base.
    offsets = (8).to_bytes(4, "little") + (8 + len(first)).to_bytes(4, "little")
    cu = fake_cu(5, loclists=b"\0" * 12 + offsets + first + second, loclists_base=12)
    assert location_entries(attr("DW_FORM_loclistx", 0), cu) == [
        LocationListEntry(0x10, 0x20, b"\x50")]
    assert location_entries(attr("DW_FORM_loclistx", 1), cu) == [
        LocationListEntry(0x30, 0x32, b"\x51")]


def test_dwarf4_base_selection_and_end() -> None:
    data = q(0x10) + q(0x20) + (1).to_bytes(2, "little") + b"\x50"
    data += q(MASK64) + q(0x8000)  # base address selection
    data += q(0x4) + q(0x8) + (1).to_bytes(2, "little") + b"\x51"
    data += q(0) + q(0)
    cu = fake_cu(4, loc=data, low_pc=0x1000)
    assert location_entries(attr("DW_FORM_sec_offset", 0), cu) == [
        LocationListEntry(0x1010, 0x1020, b"\x50"), LocationListEntry(0x8004, 0x8008, b"\x51")]
    # DWARF 3: data4 is still a list pointer.
    cu3 = fake_cu(3, loc=data, low_pc=0)
    assert location_entries(attr("DW_FORM_data4", 0), cu3)[0].low == 0x10


def test_bad_lists_raise() -> None:
    cu = fake_cu(5, loclists=b"\0\0\0\0\x42")
    with pytest.raises(LocListError):
        location_entries(attr("DW_FORM_sec_offset", 4), cu)
    with pytest.raises(LocListError):
        location_entries(attr("DW_FORM_sec_offset", 400), cu)
    truncated = fake_cu(5, loclists=b"\0\0\0\0\x07\x01")
    with pytest.raises(LocListError):
        location_entries(attr("DW_FORM_sec_offset", 4), truncated)


# --------------------------------------------------------------------------- gdb oracle

REGS = ["rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp"] + [f"r{i}" for i in range(8, 16)]

GDB_SCRIPT = r"""
set pagination off
set confirm off
python
import gdb
ADDRS = @ADDRS@
NAMES = @NAMES@
REGS = @REGS@
for a in ADDRS:
    gdb.Breakpoint("*%#x" % a)
gdb.execute("run")
while True:
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        break
    regs = {i: int(frame.read_register(r)) & ((1 << 64) - 1) for i, r in enumerate(REGS)}
    vals = {}
    for n in NAMES:
        try:
            v = frame.read_var(n)
            vals[n] = None if v.is_optimized_out else int(v) & ((1 << 64) - 1)
        except (ValueError, gdb.error):
            vals[n] = "missing"
    print("STOP", repr((int(frame.pc()), regs, vals)))
    try:
        gdb.execute("continue")
    except gdb.error:
        break
end
"""


def function_variables(path: Path, function: str):
    with open(path, "rb") as f:
        dwarf = ELFFile(f).get_dwarf_info()
        for cu in dwarf.iter_CUs():
            for die in cu.iter_DIEs():
                if die.tag == "DW_TAG_subprogram" and die.attributes.get("DW_AT_name") and \
                        die.attributes["DW_AT_name"].value == function.encode():
                    low = die.attributes["DW_AT_low_pc"].value
                    high = die.attributes["DW_AT_high_pc"].value + low
                    found = {}
                    stack = list(die.iter_children())
                    while stack:
                        d = stack.pop()
                        stack.extend(d.iter_children())
                        if d.tag in ("DW_TAG_variable", "DW_TAG_formal_parameter") and \
                                "DW_AT_location" in d.attributes and "DW_AT_name" in d.attributes:
                            found[d.attributes["DW_AT_name"].value.decode()] = (
                                cu, d.attributes["DW_AT_location"])
                    return low, high, found
    raise AssertionError(function)


def test_register_and_computed_values_match_gdb(tmp_path: Path) -> None:
    path = build("locations.c", VARIANTS["O2-nopie"])  # no PIE: file address == runtime pc
    low, high, variables = function_variables(path, "loc_moving")
    pcs = sorted({e.low for cu, a in variables.values() for e in location_entries(a, cu)
                  if low <= e.low < high})
    script = tmp_path / "cmds.gdb"
    script.write_text(GDB_SCRIPT.replace("@ADDRS@", repr(pcs))
                      .replace("@NAMES@", repr(sorted(variables))).replace("@REGS@", repr(REGS)))
    out = subprocess.run(["gdb", "-nx", "-batch", "-x", str(script), str(path)],
                         capture_output=True, text=True, timeout=60).stdout
    stops = [eval(line[5:]) for line in out.splitlines() if line.startswith("STOP ")]
    assert len(stops) >= len(pcs)  # breakpoints inside the loop hit more than once
    compared = 0
    for pc, regs, gdb_values in stops:
        ctx = EvalContext(read_register=regs.__getitem__)
        for name, (cu, loc_attr) in variables.items():
            expr = location_expression_at(loc_attr, cu, pc)
            if gdb_values[name] == "missing":
                continue  # out of its lexical block here; scoping is not this module's job
            if expr is None:
                assert gdb_values[name] is None, f"{name} at {pc:#x}: gdb has a value"
                continue
            loc = evaluate_location(expr, ctx)
            if isinstance(loc, Register):
                mine = regs[loc.regno]
            elif isinstance(loc, Implicit):
                mine = loc.value & MASK64
            else:
                continue  # entry values need the caller's frame: not this test's business
            assert mine == gdb_values[name], f"{name} at {pc:#x}"
            compared += 1
    assert compared >= 8
