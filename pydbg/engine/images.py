"""The ELF images mapped into a process, named as the dynamic linker's link_map names them.

Reads /proc/PID/maps for addresses and r_debug/link_map (glibc's <link.h>) for gdb's names.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydbg.errors import PydbgError
from pydbg.ptrace import iter_maps
from pydbg.symbols import ElfImage

AT_BASE = 7
AT_ENTRY = 9
DT_NULL = 0
DT_DEBUG = 21
RT_CONSISTENT, RT_ADD, RT_DELETE = 0, 1, 2

# Where gdb's solib-svr4 puts its shared-library event breakpoint, in this order.
SOLIB_BREAK_NAMES = ("r_debug_state", "_r_debug_state", "_dl_debug_state",
                     "rtld_db_dlactivity", "__dl_rtld_db_dlactivity", "_rtld_debug_state")

ReadMemory = Callable[[int, int], bytes]


@dataclass
class LoadedImage:
    """An ELF image mapped into the process at a load bias (runtime = file address + bias)."""
    path: str                   # gdb's name: link_map l_name, else the mapped file's path
    image: ElfImage
    bias: int
    start: int
    end: int
    is_main: bool = False
    map_path: str = ""          # the path /proc/PID/maps shows

    def contains(self, address: int) -> bool:
        return self.start <= address < self.end

    def text_bounds(self) -> tuple[int, int]:
        """Runtime [From, To) of .text, gdb's `info sharedlibrary` columns."""
        for s in self.image.sections():
            if s.name == ".text":
                return s.address + self.bias, s.address + self.bias + s.size
        return self.start, self.end


@dataclass(frozen=True)
class RDebug:
    """glibc's struct r_debug (r_debug_extended for version >= 2)."""
    version: int
    r_map: int
    r_brk: int
    r_state: int
    r_ldbase: int
    r_next: int = 0


@dataclass(frozen=True)
class LinkMapEntry:
    """One struct link_map: load bias, name and dynamic section of a loaded object."""
    address: int
    l_addr: int
    name: str
    l_ld: int


def read_r_debug(read: ReadMemory, address: int) -> RDebug:
    version, r_map, r_brk, r_state, r_ldbase = struct.unpack("<i4xQQi4xQ", read(address, 40))
    r_next = 0
    if version >= 2:
        r_next = struct.unpack("<Q", read(address + 40, 8))[0]
    return RDebug(version, r_map, r_brk, r_state, r_ldbase, r_next)


def read_c_string(read: ReadMemory, address: int, limit: int = 4096) -> str:
    out = bytearray()
    while len(out) < limit:
        # Stay within one page per read: the string may end just before unmapped memory.
        chunk = read(address + len(out), min(64, 0x1000 - (address + len(out)) % 0x1000))
        end = chunk.find(b"\0")
        if end >= 0:
            out += chunk[:end]
            break
        out += chunk
    return out.decode("utf-8", "replace")


def walk_link_map(read: ReadMemory, r_map: int, limit: int = 4096) -> list[LinkMapEntry]:
    """The link_map chain from R_MAP (the main program first, as the dynamic linker keeps it)."""
    out: list[LinkMapEntry] = []
    seen: set[int] = set()
    lm = r_map
    while lm and lm not in seen and len(out) < limit:
        seen.add(lm)
        l_addr, l_name, l_ld, l_next = struct.unpack("<QQQQ", read(lm, 32))
        name = read_c_string(read, l_name) if l_name else ""
        out.append(LinkMapEntry(lm, l_addr, name, l_ld))
        lm = l_next
    return out


def dynamic_tag(read: ReadMemory, dynamic: int, tag: int, limit: int = 1024) -> int | None:
    """The value of TAG in the Elf64_Dyn array at runtime address DYNAMIC."""
    for i in range(limit):
        d_tag, d_val = struct.unpack("<qQ", read(dynamic + 16 * i, 16))
        if d_tag == DT_NULL:
            return None
        if d_tag == tag:
            return d_val
    return None


def read_auxv(pid: int) -> dict[int, int]:
    try:
        data = Path(f"/proc/{pid}/auxv").read_bytes()
    except OSError:
        return {}
    out: dict[int, int] = {}
    for i in range(0, len(data) - 15, 16):
        key, value = struct.unpack_from("<QQ", data, i)
        out.setdefault(key, value)
    return out


def program_interpreter(image: ElfImage) -> str | None:
    """PT_INTERP of an executable ("/lib64/ld-linux-x86-64.so.2"), if it has one."""
    for seg in image.elffile.iter_segments():
        if seg["p_type"] == "PT_INTERP":
            return seg.get_interp_name()
    return None


class ImageTracker:
    """Keeps a process's image list: main program first, then libraries in load order.

    gdb lists libraries in the order it discovered them (the dynamic linker first, as
    it is known from the start), so new ones are appended, never re-sorted.
    """

    def __init__(self, pid: int, read: ReadMemory, executable: str | None,
                 exe_image: ElfImage | None, open_image: Callable[[str], ElfImage]) -> None:
        self.pid = pid
        self.read = read
        self.executable = executable
        self.exe_image = exe_image
        self.open_image = open_image
        self.images: list[LoadedImage] = []
        self._auxv = read_auxv(pid)
        self._interp = program_interpreter(exe_image) if exe_image is not None else None

    # ------------------------------------------------------------- r_debug
    def r_debug_address(self) -> int | None:
        """&_r_debug: DT_DEBUG of the executable, else the dynamic linker's _r_debug."""
        main = self.main()
        if main is not None:
            dyn = [s for s in main.image.sections() if s.name == ".dynamic"]
            if dyn:
                try:
                    value = dynamic_tag(self.read, dyn[0].address + main.bias, DT_DEBUG)
                except PydbgError:
                    value = None
                if value:
                    return value
        interp = self.interpreter()
        if interp is not None:
            sym = interp.image.get_symbol("_r_debug")
            if sym is not None:
                return sym.address + interp.bias
        return None

    def r_debug(self) -> RDebug | None:
        address = self.r_debug_address()
        if address is None:
            return None
        try:
            return read_r_debug(self.read, address)
        except PydbgError:
            return None

    def link_map(self) -> list[LinkMapEntry]:
        """Every namespace's link_map entries (empty before the dynamic linker set them up)."""
        out: list[LinkMapEntry] = []
        rd = self.r_debug()
        seen: set[int] = set()
        while rd is not None and rd.r_map and rd.r_map not in seen:
            seen.add(rd.r_map)
            try:
                out.extend(walk_link_map(self.read, rd.r_map))
                rd = read_r_debug(self.read, rd.r_next) if rd.r_next else None
            except PydbgError:
                break
        return out

    def event_address(self) -> int | None:
        """Where the dynamic linker reports (un)loading: r_brk, else _dl_debug_state."""
        rd = self.r_debug()
        if rd is not None and rd.r_brk:
            return rd.r_brk
        interp = self.interpreter()
        if interp is None:
            return None
        for name in SOLIB_BREAK_NAMES:
            sym = interp.image.get_symbol(name)
            if sym is not None:
                return sym.address + interp.bias
        return None

    # -------------------------------------------------------------- images
    def main(self) -> LoadedImage | None:
        return next((i for i in self.images if i.is_main), None)

    def interpreter(self) -> LoadedImage | None:
        base = self._auxv.get(AT_BASE)
        if not base:
            return None
        return next((i for i in self.images if i.start == base), None)

    def refresh(self) -> bool:
        """Re-read maps and the link map; True when images were added or removed."""
        try:
            maps = list(iter_maps(self.pid))
        except OSError:
            return False
        spans: dict[str, tuple[int, int]] = {}
        for start, end, _perms, _offset, path in maps:
            if not path.startswith("/"):
                continue
            lo, hi = spans.get(path, (start, end))
            spans[path] = (min(lo, start), max(hi, end))
        # dlclose'd libraries vanish from maps.
        kept = [i for i in self.images if spans.get(i.map_path, (None,))[0] == i.start]
        changed = len(kept) != len(self.images)
        self.images = kept
        known = {i.map_path for i in self.images}
        exe_real = os.path.realpath(self.executable) if self.executable else None
        # The main program first: naming libraries needs its DT_DEBUG.
        new = sorted(((p, s) for p, s in spans.items() if p not in known),
                     key=lambda ps: os.path.realpath(ps[0]) != exe_real)
        entries: list[LinkMapEntry] | None = None
        for path, (start, end) in new:
            is_main = exe_real is not None and os.path.realpath(path) == exe_real
            try:
                image = self.exe_image if is_main and self.exe_image else self.open_image(path)
            except (PydbgError, OSError, ValueError):
                continue
            segs = image.load_segments()
            if not segs:
                continue
            low_vaddr = min(s.vaddr for s in segs) & ~0xFFF
            bias = start - low_vaddr if image.is_pie else 0
            name = path
            if not is_main and entries is None:
                entries = self.link_map()
            if is_main:
                bias = self._main_bias(image, bias)
            elif entries:
                entry = next((e for e in entries if start <= e.l_ld < end), None)
                if entry is None:
                    # Mapped but not yet on the link map (dlopen in progress, or a file
                    # the program mapped itself): gdb does not list it yet.
                    continue
                name = entry.name or path
            elif start == self._auxv.get(AT_BASE) and self._interp:
                name = self._interp
            self.images.append(LoadedImage(name, image, bias, start, end, is_main, path))
            changed = True
        self.images.sort(key=lambda i: not i.is_main)
        return changed

    def _main_bias(self, image: ElfImage, guess: int) -> int:
        # AT_ENTRY is exact even when the first mapping is not the lowest segment.
        entry = self._auxv.get(AT_ENTRY)
        if entry is None:
            return guess
        return entry - image.entry if image.is_pie else 0
