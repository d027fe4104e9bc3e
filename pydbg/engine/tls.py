"""Addresses of thread-local variables: a thread's TLS block for a module, found the way
libthread_db finds it for gdb (td_thr_tls_get_addr), without libthread_db.

glibc describes its private structures for debuggers in `_thread_db_*` symbols of libc
(libpthread before 2.34), each {size in bits, count, offset} as uint32s (nptl_db/structs.def).
With them: link_map.l_tls_modid names the module, the thread pointer (fs_base on x86-64) is
the thread's struct pthread, whose DTV holds the module's block; a module in static TLS sits
at l_tls_offset below the thread pointer (TLS variant II).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from pydbg.engine.images import LoadedImage, program_interpreter
from pydbg.errors import ExpressionError, PydbgError

if TYPE_CHECKING:
    from pydbg.engine.target import Target

# include/link.h: l_tls_offset before static TLS is assigned, and for dynamic-only modules.
NO_TLS_OFFSET = 0
FORCED_DYNAMIC_TLS_OFFSET = (1 << 64) - 1

_NO_THREAD_DB = "Cannot find thread-local variables on this target"

_REQUIRED = ("pthread_dtvp", "dtv_dtv", "dtv_t_pointer_val")
_OPTIONAL = ("link_map_l_tls_modid", "link_map_l_tls_offset", "dtv_t_counter",
             "rtld_global__dl_tls_dtv_slotinfo_list", "dtv_slotinfo_list_len",
             "dtv_slotinfo_list_next", "dtv_slotinfo_list_slotinfo", "dtv_slotinfo_gen",
             "dtv_slotinfo_map")


class TlsError(ExpressionError):
    """A thread's TLS block for a module cannot be found (gdb's wording)."""


@dataclass(frozen=True)
class Field:
    """One `_thread_db_TYPE_FIELD` descriptor: a field (or array) of a glibc structure."""
    bits: int
    count: int
    offset: int

    @property
    def size(self) -> int:
        return self.bits // 8

    def address(self, base: int, index: int = 0) -> int:
        return base + self.offset + index * self.size


class TlsResolver:
    """TLS block addresses in the current thread of TARGET's process."""

    def __init__(self, target: "Target") -> None:
        self.target = target
        # The process's own reads: a watchpoint records target.read_memory calls as the
        # value chain it watches, and the DTV is no part of a variable's value.
        self.read_memory = target.require_process().read_memory
        self.fields: dict[str, Field] | None = self._read_fields()

    # ----------------------------------------------------------------- glibc's descriptors
    def _symbol(self, name: str) -> int | None:
        """Runtime address of the data symbol NAME in some loaded image."""
        for img in self.target.images:
            try:
                sym = img.image.get_symbol(name)
            except PydbgError:
                continue
            if sym is not None and sym.kind != "func" and sym.address:
                return sym.address + img.bias
        return None

    def _read_fields(self) -> dict[str, Field] | None:
        """The descriptors TLS lookups need; None when no loaded image has them (glibc
        not loaded yet, or another C library)."""
        out: dict[str, Field] = {}
        for name in _REQUIRED + _OPTIONAL:
            address = self._symbol("_thread_db_" + name)
            if address is None:
                if name in _REQUIRED:
                    return None
                continue
            try:
                bits, count, offset = struct.unpack("<III", self.read_memory(address, 12))
            except PydbgError:
                return None
            if bits not in (32, 64, 128):
                if name in _REQUIRED:
                    return None
                continue
            out[name] = Field(bits, count, offset)
        return out

    def _read(self, name: str, base: int, index: int = 0) -> int:
        """The word FIELD (or its element INDEX) of the structure at BASE."""
        assert self.fields is not None
        f = self.fields[name]
        size = min(f.size, 8)
        return int.from_bytes(self.read_memory(f.address(base, index), size), "little")

    def _has(self, *names: str) -> bool:
        return self.fields is not None and all(n in self.fields for n in names)

    # ----------------------------------------------------------------- the lookup
    def thread_pointer(self) -> int:
        return self.target.registers().get("fs_base", 0)

    def block(self, img: LoadedImage) -> int:
        """The current thread's TLS block of IMG (its DW_OP_form_tls_address base)."""
        try:
            return self._block(img)
        except TlsError:
            raise
        except PydbgError:
            # glibc's structures are not readable (yet): as gdb without libthread_db.
            raise self._generic(img, _NO_THREAD_DB, threads=False) from None

    def _block(self, img: LoadedImage) -> int:
        tp = self.thread_pointer()
        if self.fields is None or not tp:
            if tp and img.is_main and self._is_static():
                return tp - _static_offset(img)   # a static program without descriptors
            raise self._generic(img, _NO_THREAD_DB, threads=False)
        lm = self._link_map_of(img)
        if lm is None:
            if not img.is_main:
                raise self._generic(img, "TLS load module not found")
            modid, tls_offset = 1, None   # a static program: the executable is module 1
        elif not self._has("link_map_l_tls_modid"):
            raise self._generic(img, "No TLS library support")
        else:
            modid = self._read("link_map_l_tls_modid", lm)
            tls_offset = self._read("link_map_l_tls_offset", lm) \
                if self._has("link_map_l_tls_offset") else None
        if modid == 0:
            raise self._generic(img, "there is no TLS segment in the given module")
        dtv = self._read("pthread_dtvp", tp)
        if not dtv:
            raise self._generic(img, _NO_THREAD_DB, threads=False)
        current = True
        modgen = self._module_generation(modid)
        if modgen is not None and self._has("dtv_t_counter"):
            # dtv[0].counter: the generation this thread's DTV is up to date with.
            dtvgen = self._read("dtv_t_counter", self.fields["dtv_dtv"].address(dtv, 0))
            current = dtvgen >= modgen
        if current:
            slot = self.fields["dtv_dtv"].address(dtv, modid)
            pointer = self._read("dtv_t_pointer_val", slot)
            if pointer == 0:
                # The dynamic linker has not filled the DTV in yet (_dl_allocate_tls_init):
                # gdb, which loads libthread_db once the libraries are ready, cannot either.
                raise self._generic(img, _NO_THREAD_DB, threads=False)
            if not pointer & 1:               # TLS_DTV_UNALLOCATED is odd
                return pointer
        # Not in the DTV (yet): a module in static TLS is there all the same.
        if tls_offset is not None and tls_offset not in (NO_TLS_OFFSET,
                                                         FORCED_DYNAMIC_TLS_OFFSET):
            return (tp - tls_offset) & ((1 << 64) - 1)
        raise self._not_allocated(img)

    def _module_generation(self, modid: int) -> int | None:
        """The DTV generation module MODID needs (its dtv_slotinfo's gen), if readable."""
        if not self._has("rtld_global__dl_tls_dtv_slotinfo_list", "dtv_slotinfo_list_len",
                         "dtv_slotinfo_list_next", "dtv_slotinfo_list_slotinfo",
                         "dtv_slotinfo_gen"):
            return None
        rtld_global = self._symbol("_rtld_global")
        if rtld_global is None:
            return None
        assert self.fields is not None
        slot = self._read("rtld_global__dl_tls_dtv_slotinfo_list", rtld_global)
        base = 0
        for _ in range(1 << 16):
            if not slot:
                return None
            length = self._read("dtv_slotinfo_list_len", slot)
            if modid < base + length:
                info = self.fields["dtv_slotinfo_list_slotinfo"].address(slot, modid - base)
                return self._read("dtv_slotinfo_gen", info)
            base += length
            slot = self._read("dtv_slotinfo_list_next", slot)
        return None

    def _link_map_of(self, img: LoadedImage) -> int | None:
        """The address of IMG's struct link_map (its l_ld lies in IMG's mappings)."""
        for entry in self.target.link_map():
            if img.start <= entry.l_ld < img.end:
                return entry.address
        return None

    def _is_static(self) -> bool:
        exe = self.target.exe_image
        return exe is not None and program_interpreter(exe) is None

    # ----------------------------------------------------------------- gdb's messages
    def _thread_name(self, threads: bool = True) -> str:
        process = self.target.require_process()
        if threads:
            return f"Thread {self.thread_pointer():#x} (LWP {process.current_tid})"
        return f"process {process.pid}"

    def _objfile(self, img: LoadedImage) -> tuple[str, str]:
        if img.is_main:
            return "executable", os.path.abspath(self.target.executable or img.path)
        return "shared library", img.path

    def _generic(self, img: LoadedImage, reason: str, threads: bool = True) -> TlsError:
        kind, name = self._objfile(img)
        what = "executable file" if img.is_main else kind
        return TlsError(f"Cannot find thread-local storage for {self._thread_name(threads)}, "
                        f"{what} {name}:\n{reason}")

    def _not_allocated(self, img: LoadedImage) -> TlsError:
        kind, name = self._objfile(img)
        return TlsError("The inferior has not yet allocated storage for thread-local "
                        f"variables in\nthe {kind} `{name}'\nfor {self._thread_name()}")


def _static_offset(img: LoadedImage) -> int:
    """l_tls_offset of a static executable's block (csu/libc-tls.c: roundup(memsz, align))."""
    for seg in img.image.elffile.iter_segments():
        if seg["p_type"] == "PT_TLS":
            align = max(seg["p_align"], 1)
            return (seg["p_memsz"] + align - 1) // align * align
    raise TlsError("Cannot find thread-local storage")


def tls_reader(target: "Target", img: LoadedImage | None) -> Callable[[int], int] | None:
    """DW_OP_form_tls_address for variables of IMG: block of the current thread + offset."""
    if img is None:
        return None

    def address(offset: int) -> int:
        return TlsResolver(target).block(img) + offset
    return address


__all__ = ["TlsError", "TlsResolver", "tls_reader"]
