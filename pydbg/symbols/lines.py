"""DWARF line programs turned into gdb-style per-file line tables, and pc/line lookups.

The decoding mirrors gdb's lnp_state_machine and buildsym so that pc->line and line->pc
answers (and therefore breakpoint addresses and `step` boundaries) match gdb exactly.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Iterable

from elftools.dwarf.constants import DW_LNE_end_sequence, DW_LNE_set_address, DW_LNS_set_file
from elftools.dwarf.lineprogram import LineProgram


@dataclass(frozen=True)
class LineEntry:
    """The line-table row range containing an address (gdb's symtab_and_line)."""

    file: str           # absolute path (comp_dir joined), like gdb's symtab_to_fullname
    line: int
    address: int        # first address of the row
    end: int            # first address past the row's range
    is_stmt: bool
    name: str = ""      # file name as gdb displays it ("basic.c", "/usr/include/stdio.h")


@dataclass(frozen=True)
class LineMatch:
    """One location for a FILE:LINE request, after gdb's prologue skipping."""

    address: int
    file: str | None    # absolute path; None without line info (ELF-only function)
    line: int | None    # line gdb reports (may differ from the request)
    name: str | None = None  # display file name
    function: str | None = None


@dataclass
class Row:
    """One entry of a gdb line table; line 0 marks the end of a range."""

    address: int
    line: int
    is_stmt: bool
    prologue_end: bool = False


@dataclass
class Subfile:
    """The rows of one source file within one compilation unit (a gdb symtab)."""

    name: str           # gdb's symtab filename (display name)
    fullname: str       # absolute, normalised path
    rows: list[Row] = field(default_factory=list)
    _addresses: list[int] | None = None

    def addresses(self) -> list[int]:
        if self._addresses is None:
            self._addresses = [r.address for r in self.rows]
        return self._addresses

    def record(self, line: int, address: int, is_stmt: bool, prologue_end: bool) -> None:
        # buildsym_compunit::record_line: an end marker deletes rows at its own address,
        # and an end marker after nothing (or after another end marker) is dropped.
        if line == 0:
            last_line = None
            while self.rows:
                last = self.rows[-1]
                last_line = last.line
                if last.address != address:
                    break
                self.rows.pop()
            if last_line is None or last_line == 0:
                return
        self.rows.append(Row(address, line, is_stmt, prologue_end))

    def finish(self) -> None:
        # Stable sort by address, end markers first among rows at one address.
        self.rows.sort(key=lambda r: (r.address, r.line != 0))
        self._addresses = None


def matches_filename(filename: str, search: str) -> bool:
    """gdb's compare_filenames_for_search: SEARCH must be a path-component tail of FILENAME."""
    if len(filename) < len(search) or not filename.endswith(search):
        return False
    if len(filename) == len(search):
        return True
    return not os.path.isabs(search) and filename[len(filename) - len(search) - 1] == "/"


class CuLines:
    """The decoded line tables of one compilation unit (all its subfiles)."""

    def __init__(self, subfiles: list[Subfile], cu_end: int) -> None:
        self.subfiles = subfiles
        self.cu_end = cu_end

    def find_pc_line(self, pc: int) -> LineEntry | None:
        """gdb's find_pc_sect_line(pc, notcurrent=0) restricted to this CU."""
        best: Row | None = None
        best_sub: Subfile | None = None
        best_end = 0
        alt: Row | None = None
        for sub in self.subfiles:
            rows = sub.rows
            if not rows:
                continue
            if rows[0].address > pc and (alt is None or rows[0].address < alt.address):
                alt = rows[0]
            addrs = sub.addresses()
            i = bisect_right(addrs, pc)
            prev = rows[i - 1] if i > 0 else None
            item = i
            if prev is not None and prev.line and (best is None or prev.address > best.address):
                best, best_sub = prev, sub
                if not best.is_stmt:
                    j = i - 1
                    while (j > 0 and rows[j - 1].address == rows[j].address
                           and rows[j - 1].line != 0 and not rows[j].is_stmt):
                        j -= 1
                    if rows[j].is_stmt:
                        best = rows[j]
                if best_end <= best.address:
                    best_end = 0
            if (best is not None and item < len(rows) and rows[item].address > best.address
                    and (best_end == 0 or best_end > rows[item].address)):
                best_end = rows[item].address
        if best is None or best_sub is None or best.line == 0:
            return None
        if best_end and (alt is None or best_end < alt.address):
            end = best_end
        elif alt is not None:
            end = alt.address
        else:
            end = self.cu_end
        return LineEntry(best_sub.fullname, best.line, best.address, end, best.is_stmt,
                         best_sub.name)

    def subfiles_matching(self, search: str) -> list[Subfile]:
        return [s for s in self.subfiles
                if matches_filename(s.name, search) or matches_filename(s.fullname, search)]


def source_fullname(name: str, comp_dir: str | None) -> str:
    """gdb's symtab_to_fullname: comp_dir-joined; real directory if the file exists."""
    if not os.path.isabs(name) and comp_dir:
        name = f"{comp_dir}/{name}"
    if os.path.exists(name):
        # gdb opens the source with OPF_RETURN_REALPATH: real directory, same basename.
        return os.path.join(os.path.realpath(os.path.dirname(name)), os.path.basename(name))
    return name


def _file_entries(lp: LineProgram) -> list:
    return list(lp.header["file_entry"])


def _str(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


class FileNamer:
    """Turns line-header file indexes into gdb subfile names and absolute paths."""

    def __init__(self, lp: LineProgram, cu_name: str | None, comp_dir: str | None) -> None:
        self.version = lp.header["version"]
        self.dirs = [_str(d) for d in lp.header["include_directory"]]
        self.files = _file_entries(lp)
        self.cu_name = cu_name
        self.comp_dir = comp_dir

    def entry(self, index: int):
        i = index if self.version >= 5 else index - 1
        if 0 <= i < len(self.files):
            return self.files[i]
        return None

    def _include_dir(self, dir_index: int) -> str | None:
        # DWARF 5 directory 0 is the compilation directory itself; before DWARF 5
        # index 0 meant "the compilation directory" and had no entry.
        if self.version >= 5:
            return self.dirs[dir_index] if 0 <= dir_index < len(self.dirs) else None
        if dir_index == 0:
            return None
        i = dir_index - 1
        return self.dirs[i] if 0 <= i < len(self.dirs) else None

    def names(self, index: int) -> tuple[str, str] | None:
        """(gdb display name, absolute path) for a file index, or None if invalid."""
        fe = self.entry(index)
        if fe is None:
            return None
        name = _str(fe.name)
        directory = self._include_dir(fe.dir_index)
        if not os.path.isabs(name) and directory:
            name = f"{directory}/{name}"
        # buildsym's start_subfile: a name equal to the CU's primary file (possibly
        # comp_dir-qualified) reuses the primary subfile and so its shorter name.
        if self.cu_name:
            primary = self.cu_name
            if os.path.isabs(name) and not os.path.isabs(primary) and self.comp_dir:
                primary = f"{self.comp_dir}/{primary}"
            if primary == name:
                name = self.cu_name
        return name, self.fullname(name)

    def fullname(self, name: str) -> str:
        return source_fullname(name, self.comp_dir)

    def all_names(self) -> Iterable[tuple[str, str]]:
        start = 0 if self.version >= 5 else 1
        for i in range(start, start + len(self.files)):
            n = self.names(i)
            if n is not None:
                yield n


@dataclass
class _MachineState:
    """gdb's lnp_state_machine registers plus its bookkeeping, reset per sequence."""

    is_stmt: bool
    current: Subfile | None
    line: int = 1
    address: int = 0
    prologue_end: bool = False
    line_has_nonzero_disc: bool = False
    last_subfile: Subfile | None = None
    last_line: int = 0
    last_address: int = 0
    stmt_at_address: bool = False
    recording: bool = True


def decode_line_program(lp: LineProgram, namer: FileNamer, cu_low: int, cu_end: int) -> CuLines:
    """Decode LP into gdb-style subfile line tables (dwarf_decode_lines_1 + buildsym)."""
    subfiles: dict[str, Subfile] = {}
    # The primary file always exists first, as gdb starts the CU's symtab with it.
    if namer.cu_name:
        primary = namer.fullname(namer.cu_name)
        subfiles[namer.cu_name] = Subfile(namer.cu_name, primary)

    def subfile_for(index: int) -> Subfile | None:
        n = namer.names(index)
        if n is None:
            return None
        sub = subfiles.get(n[0])
        if sub is None:
            sub = subfiles[n[0]] = Subfile(n[0], n[1])
        return sub

    line_base = lp.header["line_base"]
    line_range = lp.header["line_range"]
    opcode_base = lp.header["opcode_base"]
    default_is_stmt = bool(lp.header["default_is_stmt"])

    def new_state() -> _MachineState:
        return _MachineState(is_stmt=default_is_stmt, current=subfile_for(1))

    def record_line(s: _MachineState, end_sequence: bool) -> None:
        current = s.current
        if current is not None:
            file_changed = s.last_subfile is not current
            ignore = ((file_changed and not end_sequence and s.last_address == s.address
                       and not s.is_stmt and s.stmt_at_address)
                      or (not end_sequence and s.line == 0))
            if (file_changed and not ignore) or end_sequence:
                if s.last_subfile is not None and s.recording:
                    s.last_subfile.record(0, s.address, True, False)
            if not end_sequence and not ignore:
                if (current is not s.last_subfile or s.line != s.last_line
                        or not s.line_has_nonzero_disc):
                    s.last_subfile = current
                    if s.recording:
                        current.record(s.line, s.address, s.is_stmt, s.prologue_end)
                    s.last_line = s.line
        if s.last_address != s.address:
            s.stmt_at_address = False
            s.last_address = s.address
        s.stmt_at_address |= s.is_stmt

    # pyelftools reports neither DW_LNS_advance_line nor DW_LNE_set_discriminator as
    # entries; each entry carrying a state is a row, so re-derive gdb's "this line has
    # had a non-zero discriminator" flag from consecutive rows.
    s = new_state()
    for e in lp.get_entries():
        cmd = e.command
        st = e.state
        if st is None:
            if e.is_extended and cmd == DW_LNE_set_address:
                addr = e.args[0]
                # Sequences of functions the linker garbage-collected start at 0 or -1.
                if (addr == 0 and addr < cu_low) or addr in (2**64 - 1, 2**64 - 2):
                    s.recording = False
            elif not e.is_extended and cmd == DW_LNS_set_file:
                sub = subfile_for(e.args[0])
                if sub is not None:
                    # gdb 13 remembers the file being left as the "last" one even when
                    # its latest row was ignored; the end marker then goes there.
                    s.last_subfile = s.current
                    s.line_has_nonzero_disc = False
                    s.current = sub
            continue
        special = (line_base + (cmd - opcode_base) % line_range
                   if not e.is_extended and cmd >= opcode_base else 0)
        if st.line != s.line or special:
            s.line_has_nonzero_disc = st.discriminator != 0
        else:
            s.line_has_nonzero_disc |= st.discriminator != 0
        s.line = st.line
        s.address = st.address
        s.is_stmt = bool(st.is_stmt)
        s.prologue_end = bool(st.prologue_end)
        if e.is_extended and cmd == DW_LNE_end_sequence:
            record_line(s, True)
            s = new_state()
            continue
        record_line(s, False)
    for sub in subfiles.values():
        sub.finish()
    return CuLines([sub for sub in subfiles.values()], cu_end)
