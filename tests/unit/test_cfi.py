"""CFI tables checked row by row against readelf, and unwinding checked against gdb's backtrace.

The unwind test needs no ptrace of ours: gdb stops the fixture, dumps registers and the stack.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pydbg.errors import MemoryAccessError
from pydbg.symbols.cfi import (CallFrameInfo, CfaRule, RegisterRule, RuleKind, UnwindRow,
                               unwind_step, unwind_with_frame_pointer)
from tests.support.build import VARIANTS, build

LIBC = Path("/lib/x86_64-linux-gnu/libc.so.6")
REGNAMES = ["rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp"]
REGNAMES += [f"r{i}" for i in range(8, 16)]
REGNAMES += ["rip"] + [f"xmm{i}" for i in range(16)]
REGNO = {name: i for i, name in enumerate(REGNAMES)}

CFI_VARIANTS = {
    **VARIANTS,
    "O0-omitfp": ["-O0", "-fomit-frame-pointer"],
    "O2-omitfp": ["-O2", "-fomit-frame-pointer"],
    "O2-async": ["-O2", "-fasynchronous-unwind-tables"],
    "O2-debugframe": ["-O2", "-fno-asynchronous-unwind-tables"],
    "O0-debugframe": ["-O0", "-fno-asynchronous-unwind-tables"],
}


# --------------------------------------------------------------------------- readelf oracle

def readelf_fdes(path: Path) -> list[dict]:
    """Parse `readelf --debug-dump=frames-interp` into FDEs with their rows (text cells)."""
    # readelf exits 1 on libc.so.6 (its .gnu_debuglink target is absent) yet prints the tables.
    out = subprocess.run(["readelf", "--debug-dump=frames-interp", str(path)],
                         capture_output=True, text=True).stdout
    assert "Contents of the .eh_frame section" in out
    fdes: list[dict] = []
    cies: dict[tuple[str, int], dict] = {}
    section = ""
    current: dict | None = None
    columns: list[str] = []
    for line in out.splitlines():
        m = re.match(r"Contents of the (\S+) section", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ (CIE|FDE)(.*)", line)
        if m:
            offset, kind, rest = int(m.group(1), 16), m.group(2), m.group(3)
            current = {"section": section, "offset": offset, "rows": []}
            if kind == "CIE":
                cies[(section, offset)] = current
            else:
                cie = int(re.search(r"cie=([0-9a-f]+)", rest).group(1), 16)
                lo, hi = re.search(r"pc=([0-9a-f]+)\.\.([0-9a-f]+)", rest).groups()
                current.update(cie=cies[(section, cie)], lo=int(lo, 16), hi=int(hi, 16))
                fdes.append(current)
            continue
        if line.startswith("   LOC"):
            columns = line.split()[2:]
            continue
        m = re.match(r"([0-9a-f]{16}) (.*)", line)
        if m and current is not None:
            cells = m.group(2).split()
            current["rows"].append((int(m.group(1), 16), cells[0], dict(zip(columns, cells[1:]))))
    return fdes


def describe_cfa(cfa: CfaRule) -> str:
    if cfa.expression is not None:
        return "exp"
    return f"{REGNAMES[cfa.register]}{cfa.offset:+d}"


def describe_rule(rule: RegisterRule | None) -> str:
    if rule is None or rule.kind is RuleKind.UNDEFINED:
        return "u"
    return {
        RuleKind.SAME_VALUE: lambda: "s",
        RuleKind.OFFSET: lambda: f"c{rule.arg:+d}",
        RuleKind.VAL_OFFSET: lambda: f"v{rule.arg:+d}",
        RuleKind.REGISTER: lambda: REGNAMES[rule.arg],
        RuleKind.EXPRESSION: lambda: "exp",
        RuleKind.VAL_EXPRESSION: lambda: "vexp",
    }[rule.kind]()


def check_row(row: UnwindRow | None, cfa: str, cells: dict[str, str], where: str) -> None:
    assert row is not None, f"no row for {where}"
    assert describe_cfa(row.cfa) == cfa, where
    for col, text in cells.items():
        regno = row.return_address_register if col == "ra" else REGNO[col]
        assert describe_rule(row.rule(regno)) == text, f"{where} column {col}"


def expected_rows(fde: dict) -> list[tuple[int, int, str, dict]]:
    """(start, end, cfa, cells) per address range; an FDE without rows uses its CIE's row."""
    rows = fde["rows"] or [(fde["lo"],) + fde["cie"]["rows"][-1][1:]]
    merged: dict[int, tuple] = {}
    for loc, cfa, cells in rows:
        merged[loc] = (cfa, cells)  # several rows at one LOC: the last one holds
    locs = sorted(merged)
    ranges = []
    for i, loc in enumerate(locs):
        end = locs[i + 1] if i + 1 < len(locs) else fde["hi"]
        if loc < end:
            ranges.append((loc, end, *merged[loc]))
    return ranges


def check_against_readelf(path: Path, sample_every: int = 1) -> int:
    cfi = CallFrameInfo.from_path(path)
    fdes = [f for f in readelf_fdes(path) if f["hi"] > f["lo"]]
    # Where both sections describe a pc, CallFrameInfo (like gdb) prefers .eh_frame.
    eh_ranges = [(f["lo"], f["hi"]) for f in fdes if f["section"] == ".eh_frame"]
    checked = 0
    for n, fde in enumerate(fdes):
        if n % sample_every:
            continue
        if fde["section"] == ".debug_frame" and any(lo <= fde["lo"] < hi for lo, hi in eh_ranges):
            continue
        for start, end, cfa, cells in expected_rows(fde):
            for pc in {start, end - 1, (start + end) // 2}:
                row = cfi.find_row(pc)
                check_row(row, cfa, cells, f"{path.name} {fde['section']} pc={pc:#x}")
                assert row.start <= pc < row.end
                assert (row.function_start, row.function_end) == (fde["lo"], fde["hi"])
                checked += 1
    return checked


@pytest.mark.parametrize("variant", sorted(CFI_VARIANTS))
def test_rows_match_readelf(variant: str) -> None:
    path = build("unwind.c", CFI_VARIANTS[variant])
    assert check_against_readelf(path) > 20


def test_debug_frame_only_functions_come_from_debug_frame() -> None:
    path = build("unwind.c", CFI_VARIANTS["O2-debugframe"])
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert elf.get_section_by_name(".debug_frame") is not None
        leaf = elf.get_section_by_name(".symtab").get_symbol_by_name("unwind_leaf")[0]["st_value"]
        cfi = CallFrameInfo.from_elffile(elf)
    row = cfi.find_row(leaf)
    assert row is not None and row.cfa == CfaRule(7, 8)
    assert cfi._debug is not None and cfi._debug._index is not None


def test_libc_sample_matches_readelf() -> None:
    assert check_against_readelf(LIBC, sample_every=23) > 300


def test_hdr_lookup_is_lazy() -> None:
    cfi = CallFrameInfo.from_path(LIBC)
    with open(LIBC, "rb") as f:
        sym = ELFFile(f).get_section_by_name(".dynsym").get_symbol_by_name("qsort")[0]
    assert cfi.find_row(sym["st_value"]) is not None
    assert cfi._hdr is not None
    assert len(cfi._eh._fdes) == 1 and len(cfi._eh._cies) == 1
    assert cfi._eh._index is None


def test_pc_outside_any_fde() -> None:
    cfi = CallFrameInfo.from_path(build("unwind.c", VARIANTS["O2"]))
    assert cfi.find_row(0) is None
    assert cfi.find_row(1 << 40) is None


# --------------------------------------------------------------------------- unwind_step units

def test_unwind_step_offset_rules() -> None:
    row = UnwindRow(0x1000, 0x1010, CfaRule(7, 24), {
        16: RegisterRule(RuleKind.OFFSET, -8), 3: RegisterRule(RuleKind.OFFSET, -16),
        12: RegisterRule(RuleKind.VAL_OFFSET, -40), 13: RegisterRule(RuleKind.REGISTER, 0),
        0: RegisterRule(RuleKind.UNDEFINED)}, 16, False, 0x1000, 0x1010)
    mem = {0x7000 + 24 - 8: 0x401234, 0x7000 + 24 - 16: 0xBB}
    read = lambda a, n: mem[a].to_bytes(n, "little")
    caller = unwind_step(row, {7: 0x7000, 16: 0x1004, 0: 5, 3: 1, 6: 0x66}, read)
    assert caller == {7: 0x7018, 16: 0x401234, 3: 0xBB, 12: 0x7018 - 40, 13: 5, 6: 0x66}


def test_unwind_step_expressions_and_outermost() -> None:
    # CFA = rsp + 8 via an expression; rbx saved at CFA-16 via DW_CFA_expression.
    row = UnwindRow(0, 1, CfaRule(None, 0, bytes([0x77, 0x08])), {
        16: RegisterRule(RuleKind.VAL_EXPRESSION, bytes([0x31])),  # lit1
        3: RegisterRule(RuleKind.EXPRESSION, bytes([0x08, 16, 0x1C]))}, 16, False, 0, 1)
    mem = {0x108 - 16: 0x33}
    caller = unwind_step(row, {7: 0x100}, lambda a, n: mem[a].to_bytes(n, "little"))
    assert caller == {7: 0x108, 16: 1, 3: 0x33}
    outer = UnwindRow(0, 1, CfaRule(7, 8), {16: RegisterRule(RuleKind.UNDEFINED)}, 16, False, 0, 1)
    assert unwind_step(outer, {7: 0x100}, lambda a, n: b"\0" * n) is None


def test_frame_pointer_fallback() -> None:
    mem = {0x200: 0x300, 0x208: 0x4010, 0x300: 0, 0x308: 0x4020}
    read = lambda a, n: mem[a].to_bytes(n, "little")
    caller = unwind_with_frame_pointer({6: 0x200, 7: 0x1F0, 16: 0x4000}, read)
    assert caller == {6: 0x300, 7: 0x210, 16: 0x4010}
    assert unwind_with_frame_pointer({6: 0, 7: 0x100, 16: 1}, read) is None
    entry = unwind_with_frame_pointer({6: 0x200, 7: 0x208, 16: 0x4000}, read,
                                      at_function_entry=True)
    assert entry == {6: 0x200, 7: 0x210, 16: 0x4010}


# --------------------------------------------------------------------------- gdb oracle

GDB_SCRIPT = r"""
set pagination off
set confirm off
set backtrace past-main on
set backtrace past-entry on
handle SIGUSR1 nostop noprint pass
break @FUNCTION@
run
bt
info registers
info proc mappings
python
maps = gdb.execute("info proc mappings", to_string=True)
end_addr = max(int(l.split()[1], 16) for l in maps.splitlines() if l.strip().endswith("[stack]"))
rsp = int(gdb.parse_and_eval("$rsp"))
gdb.execute("dump binary memory %s %d %d" % ("@STACKFILE@", rsp, end_addr))
print("STACK-RANGE %#x %#x" % (rsp, end_addr))
# gdb adds inline frames and tail-call frames (from DW_TAG_call_site) that CFI cannot
# see; the real frames are the NORMAL ones.
f = gdb.newest_frame().older()
while f is not None:
    if f.type() in (gdb.NORMAL_FRAME, gdb.SIGTRAMP_FRAME):
        print("CALLER-PC %#x" % f.pc())
    f = f.older()
end
kill
"""


class Snapshot:
    """What gdb saw at the breakpoint: registers, return addresses, mappings, the stack."""

    def __init__(self, binary: Path, tmp: Path, function: str = "unwind_leaf") -> None:
        stack_file = tmp / "stack.bin"
        script = tmp / "cmds.gdb"
        script.write_text(GDB_SCRIPT.replace("@STACKFILE@", str(stack_file))
                          .replace("@FUNCTION@", function))
        out = subprocess.run(["gdb", "-nx", "-batch", "-x", str(script), str(binary)],
                             capture_output=True, text=True, timeout=60).stdout
        self.regs = {}
        for m in re.finditer(r"^(r\w\w|r\d+)\s+0x([0-9a-f]+)", out, re.M):
            if m.group(1) in REGNO:
                self.regs[REGNO[m.group(1)]] = int(m.group(2), 16)
        self.return_addresses = [int(a, 16) for a in re.findall(r"^CALLER-PC (\S+)", out, re.M)]
        self.maps: list[tuple[int, int, int, str]] = []
        mapping = r"^\s+0x(\w+)\s+0x(\w+)\s+0x\w+\s+0x(\w+)\s+\S+\s+(/\S+)$"
        for m in re.finditer(mapping, out, re.M):
            lo, hi, offset = (int(g, 16) for g in m.groups()[:3])
            self.maps.append((lo, hi, offset, m.group(4)))
        lo, hi = (int(x, 16) for x in re.search(r"STACK-RANGE (\S+) (\S+)", out).groups())
        self.stack_lo = lo
        self.stack = stack_file.read_bytes()
        assert len(self.stack) == hi - lo and 16 in self.regs and self.return_addresses

    def read_memory(self, address: int, size: int) -> bytes:
        off = address - self.stack_lo
        if off < 0 or off + size > len(self.stack):
            raise MemoryAccessError(address)
        return self.stack[off:off + size]

    def image_for(self, pc: int) -> tuple[str, int]:
        """The file mapped at PC and its load bias (lowest mapping minus first PT_LOAD page)."""
        path = next(p for lo, hi, _, p in self.maps if lo <= pc < hi)
        base = min(lo for lo, _, off, p in self.maps if p == path and off == 0)
        with open(path, "rb") as f:
            first = min(s["p_vaddr"] for s in ELFFile(f).iter_segments()
                        if s["p_type"] == "PT_LOAD")
        return path, base - (first & ~0xFFF)


def unwind_all(snap: Snapshot) -> list[int]:
    cfis: dict[str, CallFrameInfo] = {}
    regs = dict(snap.regs)
    pcs = []
    exact_pc = True  # frame 0, and any frame a signal interrupted, has an exact pc
    for _ in range(100):
        pc = regs[16]
        path, bias = snap.image_for(pc)
        cfi = cfis.setdefault(path, CallFrameInfo.from_path(path))
        # A return address may sit just past its call at the end of a function.
        row = cfi.find_row(pc - bias - (0 if exact_pc else 1))
        assert row is not None, f"no CFI for {pc:#x} in {path}"
        caller = unwind_step(row, regs, snap.read_memory, bias)
        if caller is None:
            return pcs
        pcs.append(caller[16])
        regs, exact_pc = caller, row.is_signal_frame
    raise AssertionError("unwinding did not reach the outermost frame")


@pytest.mark.parametrize("variant", ["O0", "O2", "O2-nopie", "O0-omitfp", "O2-debugframe"])
def test_unwind_matches_gdb_backtrace(variant: str, tmp_path: Path) -> None:
    snap = Snapshot(build("unwind.c", CFI_VARIANTS[variant]), tmp_path)
    pcs = unwind_all(snap)
    assert pcs == snap.return_addresses
    assert len(pcs) >= 18  # leaf .. recursion .. qsort in libc .. main .. _start


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_unwind_through_a_signal_frame(variant: str, tmp_path: Path) -> None:
    snap = Snapshot(build("unwind.c", CFI_VARIANTS[variant]), tmp_path, "signal_leaf")
    pcs = unwind_all(snap)
    assert pcs == snap.return_addresses
    # signal_leaf <- on_signal <- __restore_rt <- raise's internals <- main <- ... <- _start
    assert len(pcs) >= 7


def test_frame_pointer_chain_matches_gdb_in_O0_code(tmp_path: Path) -> None:
    binary = build("unwind.c", VARIANTS["O0"])
    snap = Snapshot(binary, tmp_path)
    regs = dict(snap.regs)
    own = [lo for lo, hi, _, p in snap.maps if Path(p) == binary]
    pcs = []
    # Follow rbp only while inside the -O0 binary (libc's qsort keeps no frame pointer).
    while True:
        regs = unwind_with_frame_pointer(regs, snap.read_memory)
        pcs.append(regs[16])
        if snap.image_for(regs[16])[0] != str(binary):
            break
    assert own and pcs == snap.return_addresses[:len(pcs)]
    assert len(pcs) >= 12


def test_plt_cfa_expression_from_the_linker() -> None:
    # ld describes .plt with DW_CFA_def_cfa_expression:
    #   CFA = rsp + 8 + ((rip & 15) >= 11 ? 8 : 0)   (bfd/elf64-x86-64.c, elf_x86_64_eh_frame_plt)
    path = build("unwind.c", VARIANTS["O2"])
    with open(path, "rb") as f:
        plt = ELFFile(f).get_section_by_name(".plt")["sh_addr"]
    cfi = CallFrameInfo.from_path(path)
    row = cfi.find_row(plt + 0x10)
    assert row is not None and row.cfa.expression is not None
    assert plt % 16 == 0
    stack = {0x7000: 0x4444, 0x7008: 0x5555}
    read = lambda a, n: stack[a].to_bytes(n, "little")
    # Before the entry's push (rip & 15 < 11) the RA is at rsp; after it, at rsp + 8.
    for rip, cfa, ra in ((plt + 0x10 + 5, 0x7008, 0x4444), (plt + 0x10 + 11, 0x7010, 0x5555)):
        caller = unwind_step(cfi.find_row(rip), {7: 0x7000, 16: rip}, read)
        assert caller is not None and (caller[7], caller[16]) == (cfa, ra)
