"""One ELF image on disk: segments, sections, symbols, and lazy DWARF line/function queries.

Opening parses only the ELF header; everything else is parsed on first use and cached.
All addresses are file (link-time) addresses; the engine adds the load bias.
"""

from __future__ import annotations

import array
import dataclasses
import fnmatch
import os
import struct
import sys
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from pydbg.errors import SymbolError
from pydbg.symbols.demangle import print_name
from pydbg.symbols.debugfile import (DEFAULT_DEBUG_DIRS, DebugLink, find_debug_file,
                                     read_build_id, read_debuglink)
from pydbg.symbols.functions import (Block, CuScopes, FunctionInfo, analyze_amd64_prologue,
                                     die_ranges)
from pydbg.symbols.lines import (CuLines, FileNamer, LineEntry, LineMatch, Subfile,
                                 decode_line_program, matches_filename)


@dataclass(frozen=True)
class Symbol:
    """An ELF symbol (or a synthetic PLT symbol such as "puts@plt")."""

    name: str
    address: int
    size: int
    kind: str           # "func" | "object" | "other"
    binding: str        # "global" | "local" | "weak"
    section: str | None
    ifunc: bool = False     # STT_GNU_IFUNC: the address is a resolver picking the function


@dataclass(frozen=True)
class Segment:
    """A PT_LOAD program header."""

    vaddr: int
    memsz: int
    offset: int
    filesz: int
    flags: int          # PF_X=1, PF_W=2, PF_R=4


@dataclass(frozen=True)
class Section:
    """An ELF section header."""

    name: str
    address: int
    size: int
    offset: int
    flags: int          # SHF_* bits
    type: str = ""


_SHF_ALLOC = 0x2
_SHF_EXECINSTR = 0x4
_SHF_TLS = 0x400
_STT = {0: "NOTYPE", 1: "OBJECT", 2: "FUNC", 3: "SECTION", 4: "FILE", 5: "COMMON", 6: "TLS",
        10: "GNU_IFUNC"}
_KIND = {"FUNC": "func", "GNU_IFUNC": "func", "OBJECT": "object", "TLS": "object",
         "COMMON": "object"}
_BIND = {0: "local", 1: "global", 2: "weak", 10: "global"}
_SHN_UNDEF, _SHN_ABS, _SHN_COMMON = 0, 0xFFF1, 0xFFF2


@dataclass(frozen=True)
class _MinSym:
    """gdb's minimal symbol: what `<sym+off>` and breakpoints on non-debug code use."""

    symbol: Symbol
    is_text: bool           # in an executable section
    trampoline: bool = False   # "puts" alias of "puts@plt"
    origin: int = 0         # 0 .symtab, 1 .dynsym, 2 synthetic

    @property
    def klass(self) -> int:
        # linespec's classify_mtype: globals, then file-statics, then trampolines.
        if self.trampoline:
            return 2
        return 1 if self.symbol.binding == "local" else 0


class _Cu:
    """One compilation unit, with its line table and block tree built on demand."""

    def __init__(self, image: ElfImage, cu) -> None:
        self.image = image
        self.cu = cu
        top = cu.get_top_DIE()
        self.name = _attr_str(top, "DW_AT_name")
        self.comp_dir = _attr_str(top, "DW_AT_comp_dir")
        low = top.attributes.get("DW_AT_low_pc")
        self.low = low.value if low is not None else 0
        self._ranges: list[tuple[int, int]] | None = None
        self._namer: FileNamer | None | bool = False
        self._lines: CuLines | None = None
        self._scopes: CuScopes | None = None
        self._file_names: list[tuple[str, str]] | None = None

    @property
    def offset(self) -> int:
        return self.cu.cu_offset

    @property
    def scopes(self) -> CuScopes:
        if self._scopes is None:
            self._scopes = CuScopes(self.cu, self.image._range_lists())
        return self._scopes

    @property
    def ranges(self) -> list[tuple[int, int]]:
        if self._ranges is None:
            self._ranges = die_ranges(self.cu.get_top_DIE(), self.cu, self.image._range_lists(),
                                      self.low)
        return self._ranges

    @property
    def end(self) -> int:
        return max((hi for _, hi in self.ranges), default=0)

    @property
    def namer(self) -> FileNamer | None:
        if self._namer is False:
            lp = self.image.dwarf.line_program_for_CU(self.cu)
            self._lp = lp
            self._namer = FileNamer(lp, self.name, self.comp_dir) if lp is not None else None
        return self._namer  # type: ignore[return-value]

    @property
    def lines(self) -> CuLines | None:
        if self._lines is None:
            namer = self.namer
            if namer is None:
                return None
            low = min((lo for lo, _ in self.ranges), default=self.low)
            self._lines = decode_line_program(self._lp, namer, low, self.end)
        return self._lines

    @property
    def file_names(self) -> list[tuple[str, str]]:
        """(display name, absolute path) of every file the line table names."""
        if self._file_names is None:
            namer = self.namer
            names: list[tuple[str, str]] = []
            if namer is not None:
                if self.name:
                    names.append((self.name, namer.fullname(self.name)))
                names.extend(namer.all_names())
            self._file_names = list(dict.fromkeys(names))
        return self._file_names

    def file_name(self, index: int | None) -> str | None:
        if index is None or self.namer is None:
            return None
        n = self.namer.names(index)
        return n[1] if n else None


class ElfImage:
    """An executable or shared object opened for symbol and line queries."""

    def __init__(self, path: str | os.PathLike,
                 debug_dirs: tuple[str, ...] | None = DEFAULT_DEBUG_DIRS) -> None:
        """DEBUG_DIRS: where to look for a separate debug file (None: do not look)."""
        given = str(path)
        self.path = Path(path)
        if not os.path.exists(given):
            raise SymbolError(f"{given}: No such file or directory.")
        if os.path.isdir(given):
            raise SymbolError(f"{given}: Is a directory.")
        shown = given if os.path.isabs(given) else os.path.join(os.getcwd(), given)
        self._stream: BinaryIO = open(given, "rb")
        try:
            if self._stream.read(4) != b"\x7fELF":
                raise SymbolError(f'"{shown}": not in executable format: '
                                  "file format not recognized")
            self._stream.seek(0)
            self.elffile = ELFFile(self._stream)
        except (ELFError, SymbolError, struct.error) as e:
            self._stream.close()
            if isinstance(e, SymbolError):
                raise
            raise SymbolError(f'"{shown}": not in executable format: '
                              "file format not recognized") from e
        self.is_pie = self.elffile["e_type"] == "ET_DYN"
        self.entry: int = self.elffile["e_entry"]
        self._sections: list[Section] | None = None
        self._minsyms: list[_MinSym] | None = None
        self._by_address: list[_MinSym] | None = None
        self._by_address_keys: list[int] | None = None
        self._pc_tiers: list[tuple[list[_MinSym], list[int]]] = []
        self._by_name: dict[str, list[_MinSym]] | None = None
        self._symbol_strings: list[bytes] | None = None   # see _may_name
        self._dwarf = None
        self._cus: list[_Cu] | None = None
        self._cu_by_offset: dict[int, _Cu] = {}
        self._aranges = None
        self._aranges_loaded = False
        self._cu_ranges: list[tuple[int, int, int]] | None = None
        self._cu_range_keys: list[int] = []
        self._rl_loaded = False
        self._rl = None
        self._name_index: dict[str, list[tuple[int, int]]] | None = None
        self._debug_dirs = debug_dirs
        self._debug_image: ElfImage | None | bool = False   # False: not looked for yet
        self._file_name_blob: bytes | None = None

    # ----- lifetime -----

    def close(self) -> None:
        if isinstance(self._debug_image, ElfImage):
            self._debug_image.close()
        self._stream.close()

    def __enter__(self) -> ElfImage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ElfImage({str(self.path)!r})"

    # ----- segments and sections -----

    def load_segments(self) -> list[Segment]:
        out = []
        for seg in self.elffile.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                out.append(Segment(seg["p_vaddr"], seg["p_memsz"], seg["p_offset"],
                                   seg["p_filesz"], seg["p_flags"]))
        return out

    def sections(self) -> list[Section]:
        if self._sections is None:
            self._sections = [Section(s.name, s["sh_addr"], s["sh_size"], s["sh_offset"],
                                      s["sh_flags"], s["sh_type"])
                              for s in self.elffile.iter_sections()]
        return self._sections

    def section_at(self, address: int) -> Section | None:
        """The allocated (non-TLS) section containing a file address."""
        for s in self.sections():
            if (s.flags & _SHF_ALLOC and not s.flags & _SHF_TLS and s.size
                    and s.address <= address < s.address + s.size):
                return s
        return None

    def read(self, address: int, size: int) -> bytes:
        """Bytes at a file address, from the file's allocated sections (.bss reads as zeros)."""
        out = bytearray()
        addr = address
        while len(out) < size:
            sec = self.section_at(addr)
            if sec is None:
                raise SymbolError(f"Cannot access memory at address {addr:#x}")
            n = min(size - len(out), sec.address + sec.size - addr)
            if sec.type == "SHT_NOBITS":
                out += bytes(n)
            else:
                self._stream.seek(sec.offset + addr - sec.address)
                data = self._stream.read(n)
                if len(data) != n:
                    raise SymbolError(f"Cannot access memory at address {addr + len(data):#x}")
                out += data
            addr += n
        return bytes(out)

    # ----- separate debug file -----

    @property
    def build_id(self) -> str | None:
        """The GNU build-id (hex), if the image has one."""
        return read_build_id(self.elffile)

    @property
    def debug_link(self) -> DebugLink | None:
        return read_debuglink(self.elffile)

    @property
    def debug_image(self) -> ElfImage | None:
        """The separate debug file (gdb's "separate debug objfile"), found on first use.

        Only looked for when this file lacks .symtab or .debug_info; opening it parses
        its ELF header only.
        """
        if self._debug_image is False:
            self._debug_image = None
            own_complete = (self.elffile.get_section_by_name(".debug_info") is not None
                            and self.elffile.get_section_by_name(".symtab") is not None)
            if self._debug_dirs is not None and not own_complete:
                path = find_debug_file(self.path, self.build_id, self.debug_link,
                                       self._debug_dirs, _build_id_of)
                if path is not None:
                    try:
                        self._debug_image = ElfImage(path, debug_dirs=None)
                    except SymbolError:
                        self._debug_image = None
        return self._debug_image  # type: ignore[return-value]

    @property
    def debug_file(self) -> str | None:
        """Path of the separate debug file, if one was found."""
        d = self.debug_image
        return str(d.path) if d is not None else None

    def _dwarf_elffile(self) -> ELFFile | None:
        """The ELFFile holding this image's DWARF: itself, else its separate debug file."""
        # Cached: pyelftools walks the section headers on every by-name lookup, and this is
        # asked on every breakpoint hit.
        try:
            return self._dwarf_source
        except AttributeError:
            pass
        source = None
        if self.elffile.get_section_by_name(".debug_info") is not None:
            source = self.elffile
        else:
            d = self.debug_image
            if d is not None and d.elffile.get_section_by_name(".debug_info") is not None:
                source = d.elffile
        self._dwarf_source: ELFFile | None = source
        return source

    @property
    def has_separate_debug_info(self) -> bool:
        d = self._dwarf_elffile()
        return d is not None and d is not self.elffile

    # ----- ELF symbols -----

    @property
    def has_symtab(self) -> bool:
        try:
            return self._has_symtab
        except AttributeError:
            pass
        found = self.elffile.get_section_by_name(".symtab") is not None
        if not found:
            d = self.debug_image
            found = d is not None and d.has_symtab
        self._has_symtab = found
        return found

    def _read_symbols(self, secname: str, origin: int) -> list[_MinSym]:
        sec = self.elffile.get_section_by_name(secname)
        if sec is None or sec["sh_entsize"] == 0:
            return []
        strtab = self.elffile.get_section(sec["sh_link"]).data()
        data = sec.data()
        sections = self.sections()
        little = self.elffile.little_endian
        e = "<" if little else ">"
        if self.elffile.elfclass == 64:
            fmt, order = e + "IBBHQQ", (0, 1, 2, 3, 4, 5)
        else:
            fmt, order = e + "IIIBBH", (0, 3, 4, 5, 1, 2)
        out = []
        for raw in struct.iter_unpack(fmt, data[:len(data) - len(data) % struct.calcsize(fmt)]):
            st_name, st_info, _other, shndx, value, size = (raw[i] for i in order)
            stt = _STT.get(st_info & 0xF, "OTHER")
            if stt in ("SECTION", "FILE") or shndx == _SHN_UNDEF or st_name == 0:
                continue
            end = strtab.find(b"\0", st_name)
            name = strtab[st_name:end].decode("utf-8", "replace")
            if not name or name.startswith(".L"):
                continue
            secname_ = None
            is_text = False
            if shndx not in (_SHN_ABS, _SHN_COMMON) and shndx < len(sections):
                secname_ = sections[shndx].name
                is_text = bool(sections[shndx].flags & _SHF_EXECINSTR)
            sym = Symbol(name, value, size, _KIND.get(stt, "other"),
                         _BIND.get(st_info >> 4, "global"), secname_, stt == "GNU_IFUNC")
            out.append(_MinSym(sym, is_text, origin=origin))
        return out

    def _plt_symbols(self) -> list[_MinSym]:
        """Synthetic "name@plt" symbols, as BFD makes for gdb and objdump."""
        got_names: dict[int, str] = {}
        slot_names: dict[int, str] = {}
        dynsym = self.elffile.get_section_by_name(".dynsym")
        if dynsym is None:
            return []
        for relname in (".rela.plt", ".rel.plt", ".rela.dyn", ".rel.dyn"):
            rel = self.elffile.get_section_by_name(relname)
            if rel is None or not hasattr(rel, "iter_relocations"):
                continue
            for r in rel.iter_relocations():
                symidx = r["r_info_sym"]
                rtype = r["r_info_type"]
                if symidx == 0:
                    # An ifunc slot (R_X86_64_IRELATIVE): BFD names its stub after the
                    # resolver's address, "*ABS*+0x9f1c0@plt".
                    if rtype == 37 and relname.endswith(".plt") and r.is_RELA():
                        name = f"*ABS*+{r['r_addend']:#x}"
                        got_names.setdefault(r["r_offset"], name)
                    continue
                # R_X86_64_JUMP_SLOT (7) and R_X86_64_GLOB_DAT (6)
                if rtype not in (6, 7):
                    continue
                name = dynsym.get_symbol(symidx).name
                if name:
                    got_names.setdefault(r["r_offset"], name)
                    if rtype == 7 and relname.endswith(".plt"):
                        slot_names.setdefault(r["r_offset"], name)
        out: list[_MinSym] = []
        # gdb names each lazily-bound GOT slot "NAME@got.plt" (elf_rel_plt_read_minimal_symbols).
        ptr = 8 if self.elffile.elfclass == 64 else 4
        for addr, name in slot_names.items():
            sec = self.section_at(addr)
            if sec is not None and sec.name in (".got.plt", ".got"):
                sym = Symbol(f"{name}@got.plt", addr, ptr, "object", "global", sec.name)
                out.append(_MinSym(sym, False, origin=2))
        for secname in (".plt", ".plt.sec", ".plt.got"):
            sec = self.elffile.get_section_by_name(secname)
            if sec is None or sec["sh_size"] == 0:
                continue
            data = sec.data()
            base = sec["sh_addr"]
            entsize = sec["sh_entsize"] or 16
            if secname == ".plt" and self.elffile.get_section_by_name(".plt.sec") is not None:
                continue  # with IBT the .plt stubs only push and jump to PLT0
            for off in range(0, len(data) - entsize + 1, entsize):
                entry = data[off:off + entsize]
                target = _plt_entry_target(entry, base + off)
                if target is None or target not in got_names:
                    continue
                name = got_names[target]
                sym = Symbol(f"{name}@plt", base + off, entsize, "func", "global", secname)
                out.append(_MinSym(sym, True, origin=2))
                if name.startswith("*ABS*"):
                    continue
                tramp = Symbol(name, base + off, entsize, "func", "global", secname)
                out.append(_MinSym(tramp, True, trampoline=True, origin=2))
        return out

    def _may_name(self, name: str) -> bool:
        """False when no minimal symbol is called NAME, found without decoding symbols:
        every breakpoint is looked up again in each library as it loads, and libc's
        thousands of symbols cost far more than this search of raw string and symbol
        tables (a string ending in NAME, then a symbol whose st_name points at it)."""
        if self._minsyms is not None or name.startswith("*ABS*"):   # ifunc PLT stubs
            return True
        tables = self._symbol_strings
        if tables is None:
            tables = self._symbol_strings = self._name_tables()
        for suffix in ("@got.plt", "@plt"):      # synthetic names made from .dynsym's
            if name.endswith(suffix):
                name = name[:-len(suffix)]
                break
        key = name.encode("utf-8", "replace") + b"\0"
        for strtab, st_names in tables:
            at = strtab.find(key)
            while at >= 0:
                if at in st_names:
                    return True
                at = strtab.find(key, at + 1)
        return False

    def _name_tables(self) -> list[tuple[bytes, array.array | frozenset[int]]]:
        """(string table, st_name of every symbol) of .symtab (ours or the debug file's)
        and .dynsym."""
        sources = [(self, ".symtab")]
        if self.elffile.get_section_by_name(".symtab") is None and self.debug_image is not None:
            sources = [(self.debug_image, ".symtab")]
        sources.append((self, ".dynsym"))
        tables: list[tuple[bytes, array.array | frozenset[int]]] = []
        for image, secname in sources:
            sec = image.elffile.get_section_by_name(secname)
            if sec is None or not sec["sh_entsize"]:
                continue
            strtab = image.elffile.get_section(sec["sh_link"]).data()
            data = sec.data()
            entsize = sec["sh_entsize"]
            if entsize % 4 == 0 and image.elffile.little_endian == (sys.byteorder == "little"):
                # st_name is the first 32-bit word of Elf32_Sym and Elf64_Sym alike.
                words = memoryview(data[:len(data) - len(data) % entsize]).cast("I")
                st_names: array.array | frozenset[int] = array.array("I", words[::entsize // 4])
            else:
                e = "<" if image.elffile.little_endian else ">"
                st_names = frozenset(v for (v,) in struct.iter_unpack(
                    e + "I" + "x" * (entsize - 4), data[:len(data) - len(data) % entsize]))
            tables.append((strtab, st_names))
        return tables

    def _load_minsyms(self) -> list[_MinSym]:
        if self._minsyms is None:
            syms = self._read_symbols(".symtab", 0)
            d = self.debug_image if not syms else None
            if d is not None:
                # A stripped object's full symbol table lives in its debug file, whose
                # section headers match ours (NOBITS copies), so section names agree.
                syms = d._read_symbols(".symtab", 0)
            from_debug = len(syms) if d is not None else 0
            own = self._read_symbols(".dynsym", 1) + self._plt_symbols()
            syms += own
            seen: set[tuple[str, int, str | None]] = set()
            unique = []
            for m in syms:
                key = (m.symbol.name, m.symbol.address, m.symbol.section)
                if key in seen:
                    continue
                seen.add(key)
                unique.append(m)
            self._minsyms = unique
            by_name: dict[str, list[_MinSym]] = {}
            for m in unique:
                by_name.setdefault(m.symbol.name, []).append(m)
            self._by_name = by_name
            addr_syms = self._sorted_by_address(unique)
            self._by_address = addr_syms
            self._by_address_keys = [m.symbol.address for m in addr_syms]
            # gdb keeps a separate debug file's symbols in their own objfile, searched by
            # pc after this one's (.dynsym): see _lookup_minsym_by_pc.
            self._pc_tiers = [(addr_syms, self._by_address_keys)]
            if from_debug:
                self._pc_tiers = []
                for tier in (own, syms[:from_debug]):
                    tier = self._sorted_by_address(
                        list({(m.symbol.name, m.symbol.address, m.symbol.section): m
                              for m in reversed(tier)}.values()))
                    self._pc_tiers.append((tier, [m.symbol.address for m in tier]))
        return self._minsyms

    @staticmethod
    def _sorted_by_address(syms: list[_MinSym]) -> list[_MinSym]:
        """Symbols with an address, as gdb sorts minimal symbols: by address, then name."""
        out = [m for m in syms if m.symbol.section is not None and not m.trampoline]
        out.sort(key=lambda m: (m.symbol.address, m.symbol.name))
        return out

    def symbols(self) -> list[Symbol]:
        """Every defined symbol (.symtab, .dynsym, then synthetic @plt), de-duplicated."""
        return [m.symbol for m in self._load_minsyms() if not m.trampoline]

    def _minsyms_named(self, name: str) -> list[_MinSym]:
        """The minimal symbols called NAME; a name the raw tables rule out (_may_name)
        decodes nothing."""
        if not self._may_name(name):
            return []
        self._load_minsyms()
        assert self._by_name is not None
        return self._by_name.get(name, [])

    def get_symbol(self, name: str) -> Symbol | None:
        """The minimal symbol NAME: .symtab before .dynsym, global before local, func first."""
        cands = [m for m in self._minsyms_named(name) if not m.trampoline]
        if not cands:
            cands = self._minsyms_named(name + "@plt")
        if not cands:
            return None
        rank = {"global": 0, "weak": 1, "local": 2}
        best = min(cands, key=lambda m: (m.origin, rank.get(m.symbol.binding, 3),
                                         m.symbol.kind != "func"))
        return best.symbol

    def _has_symbol_named(self, name: str, kind: str | None = None) -> bool:
        """Whether some ELF symbol (not a PLT alias) is called NAME; KIND "code" wants one
        in executable sections, "data" one elsewhere (a variable's)."""
        return any(not m.trampoline and (kind is None or m.is_text == (kind == "code"))
                   for m in self._minsyms_named(name))

    def symbols_matching(self, glob: str) -> list[Symbol]:
        """Function symbols whose name matches the shell pattern GLOB, by address."""
        out = {}
        for m in self._load_minsyms():
            s = m.symbol
            if m.trampoline or s.kind != "func" or not fnmatch.fnmatchcase(s.name, glob):
                continue
            out.setdefault((s.name, s.address), s)
        return sorted(out.values(), key=lambda s: (s.address, s.name))

    def is_gnu_ifunc(self, address: int, name: str) -> bool:
        """Whether the ELF symbol NAME at ADDRESS is a GNU indirect function (gdb's
        mst_text_gnu_ifunc): calling it means calling what its resolver returns."""
        self._load_minsyms()
        assert self._by_address is not None and self._by_address_keys is not None
        i = bisect_left(self._by_address_keys, address)
        while i < len(self._by_address) and self._by_address_keys[i] == address:
            sym = self._by_address[i].symbol
            if sym.ifunc and sym.name == name:
                return True
            i += 1
        return False

    def _lookup_minsym_by_pc(self, pc: int) -> _MinSym | None:
        """gdb's lookup_minimal_symbol_by_pc_section (preferring text symbols).

        A stripped library's own .dynsym is searched first, then its debug file's .symtab,
        which wins only with a symbol closer to PC: gdb names libc's fclose `fclose`, not
        the debug file's `fclose@@GLIBC_2.2.5`, and its local clone3 `clone3`."""
        self._load_minsyms()
        sec = self.section_at(pc)
        if sec is None:
            return None
        best = None
        for msyms, keys in self._pc_tiers:
            m = self._search_minsyms(msyms, keys, pc, sec)
            if m is not None and (best is None or m.symbol.address > best.symbol.address):
                best = m
        return best

    @staticmethod
    def _search_minsyms(msyms: list[_MinSym], keys: list[int], pc: int,
                        sec: Section) -> _MinSym | None:
        hi = bisect_right(keys, pc) - 1
        best_zero = -1
        while hi >= 0:
            m = msyms[hi].symbol
            if m.section != sec.name:
                hi -= 1
                continue
            prev = msyms[hi - 1] if hi > 0 else None
            # Identical address/size/section: prefer the global text symbol.
            if (prev is not None and not _is_mst_text(msyms[hi]) and _is_mst_text(prev)
                    and prev.symbol.size == m.size and prev.symbol.address == m.address
                    and prev.symbol.section == m.section):
                hi -= 1
                continue
            if m.size == 0 and best_zero == -1:
                best_zero = hi
                hi -= 1
                continue
            if (prev is not None and m.size and pc >= m.address + m.size
                    and pc < prev.symbol.address + prev.symbol.size):
                hi -= 1
                continue
            break
        if best_zero != -1 and (hi < 0 or msyms[hi].symbol.size == 0):
            hi = best_zero
        # A sized symbol that ends before PC does not cover it.
        end = msyms[hi].symbol.address + msyms[hi].symbol.size if hi >= 0 else 0
        if hi >= 0 and msyms[hi].symbol.size and pc >= end:
            if best_zero == -1:
                return None
            hi = best_zero
        return msyms[hi] if hi >= 0 else None

    def symbolize(self, address: int, print_names: bool = False
                  ) -> tuple[Symbol, int] | None:
        """(symbol, offset) for gdb's `<sym+off>`, or None outside any symbol.

        PRINT_NAMES gives an ELF symbol gdb's print name (`calls` for `calls.0`), as
        gdb's value printer and `info symbol` show it; `x` and disassembly do not."""
        m = self._lookup_minsym_by_pc(address)
        # gdb 13's build_address_symbolic names code by its DWARF function (glibc's
        # __GI_raise, not the ELF alias raise), offsets from its entry pc (negative in a
        # .cold part), except exactly at an ELF symbol that is not the entry (<f.cold>).
        block = None
        if (m is None or m.is_text) and self.has_debug_info:
            cu = self._cu_for_address(address)
            block = cu.scopes.function_containing(address) if cu is not None else None
        if block is not None and block.name and not (
                m is not None and m.symbol.address == address and block.entry_pc != address):
            sec = m.symbol.section if m is not None else None
            sym = Symbol(block.name, block.entry_pc, block.end - block.start, "func",
                         "global", sec)
            return sym, address - block.entry_pc
        if m is None:
            return None
        if print_names:
            name = print_name(m.symbol.name)
            if name != m.symbol.name:
                return dataclasses.replace(m.symbol, name=name), address - m.symbol.address
        return m.symbol, address - m.symbol.address

    def minimal_symbol_at(self, address: int, print_names: bool = True
                          ) -> tuple[Symbol, int, str] | None:
        """gdb's lookup_minimal_symbol_by_pc_section over ELF symbols only (no DWARF):
        (symbol, offset, section name) for `info symbol`, or None."""
        sec = self.section_at(address)
        m = self._lookup_minsym_by_pc(address) if sec is not None else None
        if m is None:
            return None
        sym = m.symbol
        if print_names:
            sym = dataclasses.replace(sym, name=print_name(sym.name))
        return sym, address - m.symbol.address, sec.name

    # ----- DWARF plumbing -----

    @property
    def has_debug_info(self) -> bool:
        return self._dwarf_elffile() is not None

    @property
    def dwarf(self):
        if self._dwarf is None:
            source = self._dwarf_elffile()
            if source is None:
                raise SymbolError(f"No debugging symbols found in {self.path}")
            self._dwarf = source.get_dwarf_info()
        return self._dwarf

    @property
    def debug_info(self):
        """The DWARF program model (variables, types, scopes) over the same DWARFInfo."""
        di = getattr(self, "_debug_info", None)
        if di is None:
            from pydbg.symbols.debuginfo import DebugInfo
            source = self._dwarf_elffile()
            di = DebugInfo(source if source is not None else self.elffile,
                           self.dwarf if source is not None else None)
            if self.has_separate_debug_info:
                di.symbol_filter = self._has_symbol_named
                di.code_cus = self._cu_offsets_by_minsym
                di.search_names = True
            self._debug_info = di
        return di

    def _range_lists(self):
        if not self._rl_loaded:
            self._rl_loaded = True
            self._rl = self.dwarf.range_lists()
        return self._rl

    def _cu_at_offset(self, offset: int) -> _Cu:
        cu = self._cu_by_offset.get(offset)
        if cu is None:
            cu = self._cu_by_offset[offset] = _Cu(self, self.dwarf.get_CU_at(offset))
        return cu

    def _all_cus(self) -> list[_Cu]:
        if self._cus is None:
            self._cus = [self._cu_at_offset(cu.cu_offset) for cu in self.dwarf.iter_CUs()] \
                if self.has_debug_info else []
        return self._cus

    def _cu_for_address(self, address: int) -> _Cu | None:
        if not self.has_debug_info:
            return None
        if not self._aranges_loaded:
            self._aranges_loaded = True
            self._aranges = self.dwarf.get_aranges()
        if self._aranges is not None:
            off = self._aranges.cu_offset_at_addr(address)
            if off is not None:
                cu = self._cu_at_offset(off)
                if any(lo <= address < hi for lo, hi in cu.ranges) or not cu.ranges:
                    return cu
        # No (or incomplete) .debug_aranges: fall back to each CU's own ranges.
        if self._cu_ranges is None:
            # Like gdb, trust .debug_aranges for the CUs it lists; read the ranges of the
            # others only (reading every CU of libc's debug file takes seconds).
            covered = ({e.info_offset for e in self._aranges.entries}
                       if self._aranges is not None else set())
            spans = [(lo, hi, cu.cu_offset) for cu in self.dwarf.iter_CUs()
                     if cu.cu_offset not in covered
                     for lo, hi in self._cu_at_offset(cu.cu_offset).ranges]
            spans.sort()
            self._cu_ranges = spans
            self._cu_range_keys = [lo for lo, _, _ in spans]
        i = bisect_right(self._cu_range_keys, address) - 1
        # Ranges of different CUs do not nest, but scan back a little in case they overlap.
        for lo, hi, offset in reversed(self._cu_ranges[max(0, i - 8):i + 1]):
            if lo <= address < hi:
                return self._cu_at_offset(offset)
        return None

    # ----- lines -----

    def line_for_address(self, address: int) -> LineEntry | None:
        """The line-table row range containing ADDRESS (gdb's find_pc_line)."""
        cache = self.__dict__.setdefault("_line_cache", {})
        if address in cache:
            return cache[address]
        cu = self._cu_for_address(address)
        entry = None if cu is None or cu.lines is None else cu.lines.find_pc_line(address)
        if len(cache) >= 65536:
            cache.clear()
        cache[address] = entry
        return entry

    def source_files(self) -> list[str]:
        """Absolute paths of every file named by a line table, in CU order."""
        out: dict[str, None] = {}
        for cu in self._all_cus():
            for _name, full in cu.file_names:
                out.setdefault(full)
        return list(out)

    def main_source_file(self) -> str | None:
        """The file defining `main` (gdb's default for `list` and `break LINE`)."""
        for cu, b in self._function_blocks("main"):
            if not b.inlined:
                f = cu.file_name(b.decl_file)
                if f:
                    return f
                le = cu.lines.find_pc_line(b.entry_pc) if cu.lines else None
                if le:
                    return le.file
        sym = self.get_symbol("main")
        if sym is not None:
            le = self.line_for_address(sym.address)
            if le is not None:
                return le.file
        return None

    def _cus_for_file(self, file: str) -> list[_Cu]:
        base = os.path.basename(file)
        if not self._may_name_file(base):
            return []
        out = []
        for cu in self._all_cus():
            # Compare basenames first: cheap, and rejects almost every CU.
            if any(os.path.basename(n) == base and (matches_filename(n, file)
                                                    or matches_filename(f, file))
                   for n, f in cu.file_names):
                out.append(cu)
        return out

    def _may_name_file(self, base: str) -> bool:
        """False when no line table can name BASE: its bytes appear in none of the
        sections holding file names. Saves reading every line-table header of a big
        library (libc's take seconds) for `break FILE:LINE` in another image."""
        if self._file_name_blob is None:
            source = self._dwarf_elffile()
            parts = []
            for name in (".debug_line", ".debug_line_str", ".debug_str"):
                sec = source.get_section_by_name(name) if source is not None else None
                if sec is not None and sec["sh_type"] != "SHT_NOBITS":
                    parts.append(sec.data())
            self._file_name_blob = b"\0".join(parts)
        return base.encode() in self._file_name_blob

    def has_source_file(self, file: str) -> bool:
        return bool(self._cus_for_file(file))

    def line_tables(self, file: str) -> list[Subfile]:
        """gdb's line table(s) for FILE, one per compilation unit that has rows for it
        (what `maint info line-table FILE` prints); rows with line 0 end a range."""
        out = []
        for cu in self._cus_for_file(file):
            if cu.lines is not None:
                out.extend(s for s in cu.lines.subfiles_matching(file) if s.rows)
        return out

    def addresses_for_line(self, file: str, line: int) -> list[LineMatch]:
        """Breakpoint locations for FILE:LINE exactly as gdb's `break FILE:LINE` picks them.

        Raises SymbolError with gdb's wording if the file or line is unknown.
        """
        cus = self._cus_for_file(file)
        if not cus:
            raise SymbolError(f'No source file named {file}.')
        tables = []
        for cu in cus:
            lines = cu.lines
            if lines is None:
                continue
            for sub in lines.subfiles_matching(file):
                tables.append((cu, sub))
        found, best = self._exact_line_pcs(tables, line)
        if not found and best is not None:
            found, _ = self._exact_line_pcs(tables, best)
        # One location per block: a line split over several ranges of one scope
        # (a loop header, say) keeps only its first address.
        blocks: list[Block | None] = []
        for cu, sub, pc, ln in found:
            blocks.append(cu.scopes.innermost_block(pc))
        keep = [True] * len(found)
        for i in range(len(found)):
            if blocks[i] is None:
                continue
            for j in range(i + 1, len(found)):
                if blocks[j] is blocks[i]:
                    keep[j] = False
                    break
        out: list[LineMatch] = []
        seen: set[int] = set()
        for i, (cu, sub, pc, ln) in enumerate(found):
            if not keep[i]:
                continue
            func = blocks[i].containing_function() if blocks[i] is not None else None
            new_pc, new_line, new_sub = self._skip_prologue_sal(cu, pc)
            if new_pc != pc:
                pc = new_pc
                ln = new_line if new_line is not None else ln
                sub_name, sub_full = new_sub if new_sub else (sub.name, sub.fullname)
            else:
                sub_name, sub_full = sub.name, sub.fullname
            if pc in seen:
                continue
            seen.add(pc)
            out.append(LineMatch(pc, sub_full, ln, sub_name, func.name if func else None))
        if not out:
            raise SymbolError(f'No line {line} in file "{file}".')
        return out

    @staticmethod
    def _exact_line_pcs(tables, line: int):
        """find_pcs_for_symtab_line over all matching tables: exact is_stmt rows, in
        table order, plus the smallest later line that has code (for sliding)."""
        found = []
        best: int | None = None
        for cu, sub in tables:
            for row in sub.rows:
                if not row.is_stmt:
                    continue
                if row.line == line:
                    found.append((cu, sub, row.address, line))
                elif row.line > line and (best is None or row.line < best):
                    best = row.line
        return found, best

    # ----- functions -----

    def function_at(self, address: int) -> FunctionInfo | None:
        """The function containing ADDRESS: DWARF subprogram if present, else ELF symbol."""
        cu = self._cu_for_address(address)
        if cu is not None:
            b = cu.scopes.function_containing(address)
            if b is not None:
                return self._function_info(cu, b)
        m = self._lookup_minsym_by_pc(address)
        if m is not None and m.is_text:
            s = m.symbol
            high = s.address + s.size if s.size else self._next_text_symbol_address(s.address)
            return FunctionInfo(s.name, s.address, high, s.address, ((s.address, high),))
        return None

    def _function_info(self, cu: _Cu, b: Block) -> FunctionInfo:
        return FunctionInfo(b.name or "??", b.start, b.end, b.entry_pc, tuple(b.ranges),
                            cu.file_name(b.decl_file), b.decl_line, True)

    def _next_text_symbol_address(self, address: int) -> int:
        self._load_minsyms()
        assert self._by_address is not None and self._by_address_keys is not None
        i = bisect_right(self._by_address_keys, address)
        sec = self.section_at(address)
        for m in self._by_address[i:]:
            if m.is_text:
                return m.symbol.address
        return sec.address + sec.size if sec else address + 1

    def functions_named(self, name: str) -> list[FunctionInfo]:
        """Out-of-line DWARF functions called NAME (static ones may repeat across CUs)."""
        return [self._function_info(cu, b) for cu, b in self._function_blocks(name)
                if not b.inlined]

    def _build_name_index(self) -> dict[str, list[tuple[int, int]]]:
        """name -> [(cu offset, die offset)] of CU-level subprograms, by a shallow scan."""
        if self._name_index is None:
            index: dict[str, list[tuple[int, int]]] = {}
            for cu in self._all_cus():
                top = cu.cu.get_top_DIE()
                for die in top.iter_children():
                    if die.tag != "DW_TAG_subprogram":
                        continue
                    name = _attr_str(die, "DW_AT_name")
                    if name is None:
                        for a in ("DW_AT_abstract_origin", "DW_AT_specification"):
                            if a in die.attributes:
                                try:
                                    name = _attr_str(die.get_DIE_from_attribute(a), "DW_AT_name")
                                except Exception:  # dangling reference
                                    name = None
                                break
                    if name:
                        index.setdefault(name, []).append((cu.offset, die.offset))
            self._name_index = index
        return self._name_index

    def _cu_offsets_by_minsym(self, name: str) -> list[int]:
        """CUs holding the code of ELF symbols called NAME.

        System libraries' debug files are too big to index every function name (libc's
        takes seconds); their full .symtab names nearly every function, so the symbol's
        address finds the CU through .debug_aranges instead.
        """
        offsets: set[int] = set()
        for m in self._minsyms_named(name):
            if m.is_text and not m.trampoline and m.symbol.section is not None:
                cu = self._cu_for_address(m.symbol.address)
                if cu is not None:
                    offsets.add(cu.offset)
        return sorted(offsets)

    def _function_blocks(self, name: str) -> list[tuple[_Cu, Block]]:
        """DWARF function blocks named NAME: out-of-line copies and inlined calls."""
        if not self.has_debug_info:
            return []
        out = []
        if self.has_separate_debug_info:
            cu_offsets = self._cu_offsets_by_minsym(name)
        else:
            cu_offsets = sorted({cu_off for cu_off, _ in self._build_name_index().get(name, [])})
        for off in cu_offsets:
            cu = self._cu_at_offset(off)
            out.extend((cu, b) for b in cu.scopes.blocks_named(name))
        return out

    def breakpoint_locations(self, function: str, file: str | None = None) -> list[LineMatch]:
        """Locations of gdb's `break [FILE:]FUNCTION`, sorted by address.

        Empty when nothing is called FUNCTION (gdb: 'Function "X" not defined.').
        """
        found: list[LineMatch] = []
        seen: set[int] = set()

        def add(m: LineMatch | None) -> None:
            if m is not None and m.address not in seen:
                seen.add(m.address)
                found.append(m)

        if file is not None:
            # gdb searches only the static/global blocks of the CUs that have a symtab
            # for FILE: their out-of-line functions, neither inlined calls nor ELF symbols.
            cus = {cu.offset for cu in self._cus_for_file(file)}
            for cu, b in self._function_blocks(function):
                if cu.offset in cus and not b.inlined:
                    add(self._function_start(cu, b.entry_pc, function))
            return sorted(found, key=lambda m: m.address)
        for cu, b in self._function_blocks(function):
            add(self._function_start(cu, b.entry_pc, function))
        msyms = [m for m in self._minsyms_named(function)
                 if m.is_text and m.symbol.section is not None]
        if msyms:
            klass = min(m.klass for m in msyms)
            for m in msyms:
                if m.klass == klass:
                    cu = self._cu_for_address(m.symbol.address)
                    add(self._function_start(cu, m.symbol.address, function))
        return sorted(found, key=lambda m: m.address)

    def breakpoint_addresses(self, function: str, file: str | None = None) -> list[int]:
        """Post-prologue address(es) of FUNCTION as gdb's `break FUNCTION` chooses them."""
        return [m.address for m in self.breakpoint_locations(function, file)]

    def _function_start(self, cu: _Cu | None, func_addr: int, name: str) -> LineMatch:
        """find_function_start_sal(func_addr, funfirstline=true)."""
        le = cu.lines.find_pc_line(func_addr) if cu is not None and cu.lines else None
        if le is not None and cu is not None and cu.scopes.locations_valid:
            return LineMatch(func_addr, le.file, le.line, le.name, name)
        pc, line, sub = self._skip_prologue_sal(cu, func_addr)
        if pc != func_addr and sub is not None:
            return LineMatch(pc, sub[1], line, sub[0], name)
        if le is not None:
            return LineMatch(pc, le.file, le.line, le.name, name)
        return LineMatch(pc, None, None, None, name)

    def _skip_prologue_sal(self, cu: _Cu | None, sal_pc: int
                           ) -> tuple[int, int | None, tuple[str, str] | None]:
        """gdb's skip_prologue_sal: (pc, line, (display name, path)) after the prologue.

        Leaves SAL_PC alone when it is already past the prologue of its function.
        """
        sym = cu.scopes.function_containing(sal_pc) if cu is not None else None
        if sym is not None and cu is not None:
            start = sym.entry_pc
            # With trustworthy locations gdb makes a second pass that does not skip.
            force_skip = not cu.scopes.locations_valid
        else:
            msym = self._lookup_minsym_by_pc(sal_pc)
            if msym is None:
                return sal_pc, None, None
            start = msym.symbol.address
            force_skip = True
        skip = True
        pc = start
        start_sal: LineEntry | None = None
        while True:  # gdb's do { ... } while (!force_skip && skip--)
            pc = start
            if skip:
                lt = self._skip_prologue_using_linetable(cu, sym, start)
                if lt is not None:
                    pc = lt
                    start_sal = self.line_for_address(pc)
                    force_skip = True
                    break
                pc = self._amd64_skip_prologue(cu, start)
            start_sal = self.line_for_address(pc)
            if skip and start_sal is not None and start_sal.address != pc:
                if sym is not None:
                    same_function = sym.entry_pc <= start_sal.end < sym.end
                else:
                    same_function = (self._lookup_minsym_by_pc(start_sal.end) is
                                     self._lookup_minsym_by_pc(pc))
                if same_function:
                    pc = start_sal.end
                    start_sal = self.line_for_address(pc)
            if force_skip or not skip:
                break
            skip = False
        if sal_pc >= pc:
            return sal_pc, None, None
        line = start_sal.line if start_sal else None
        names = (start_sal.name, start_sal.file) if start_sal else None
        # Landing inside an inlined call reports the call site's line, as gdb does.
        if cu is not None:
            b = cu.scopes.innermost_block(pc)
            inl = None
            while b is not None:
                if b.is_function and b.inlined:
                    inl = b
                elif b.is_function:
                    break
                b = b.parent
            if inl is not None and inl.call_line:
                line = inl.call_line
                if cu.namer is not None and inl.call_file is not None:
                    names = cu.namer.names(inl.call_file) or names
        return pc, line, names

    def _skip_prologue_using_linetable(self, cu: _Cu | None, sym: Block | None,
                                       func_addr: int) -> int | None:
        """The first prologue_end row inside the function, if the compiler marked one."""
        if cu is None or cu.lines is None:
            return None
        if sym is not None:
            lo, hi = sym.start, sym.end
        else:
            f = self.function_at(func_addr)
            if f is None:
                return None
            lo, hi = f.low, f.high
        le = cu.lines.find_pc_line(lo)
        if le is None:
            return None
        for sub in cu.lines.subfiles:
            if sub.name != le.name:
                continue
            for row in sub.rows:
                if lo <= row.address < hi and row.prologue_end:
                    return row.address
        return None

    def _amd64_skip_prologue(self, cu: _Cu | None, start: int) -> int:
        # gdb's amd64_skip_prologue; its clang-only line-table shortcut is not modelled
        # (clang marks prologue_end, which is honoured before we get here).
        pc, frameless = analyze_amd64_prologue(self.read, start)
        return start if frameless else pc


def _build_id_of(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return read_build_id(ELFFile(f))
    except (OSError, ELFError, struct.error):
        return None


def _is_mst_text(m: _MinSym) -> bool:
    return m.is_text and m.symbol.binding != "local"


def _plt_entry_target(entry: bytes, address: int) -> int | None:
    """GOT slot a PLT entry jumps through (`[bnd] jmp *disp(%rip)`), if any."""
    for i in range(0, len(entry) - 5):
        if entry[i] == 0xFF and entry[i + 1] == 0x25:
            disp = struct.unpack_from("<i", entry, i + 2)[0]
            return address + i + 6 + disp
    return None


def _attr_str(die, name: str) -> str | None:
    a = die.attributes.get(name)
    if a is None:
        return None
    v = a.value
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
