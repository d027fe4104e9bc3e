"""Tests for pydbg.engine.tls on a made-up process image laid out as glibc 2.36 lays it out:
descriptors, link_map, struct pthread, DTV and slotinfo list in a sparse memory."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import pytest

from pydbg.engine.images import LinkMapEntry, LoadedImage
from pydbg.engine.tls import FORCED_DYNAMIC_TLS_OFFSET, TlsError, TlsResolver, tls_reader
from pydbg.errors import MemoryAccessError

# glibc 2.36 x86-64's {bits, count, offset} descriptors (nm -D libc.so.6, read back).
DESCRIPTORS = {
    "link_map_l_tls_modid": (64, 1, 1152), "link_map_l_tls_offset": (64, 1, 1144),
    "pthread_dtvp": (64, 1, 8), "dtv_dtv": (128, 134217727, 0),
    "dtv_t_pointer_val": (64, 1, 0), "dtv_t_counter": (64, 1, 0),
    "rtld_global__dl_tls_dtv_slotinfo_list": (64, 1, 4208),
    "dtv_slotinfo_list_len": (64, 1, 0), "dtv_slotinfo_list_next": (64, 1, 8),
    "dtv_slotinfo_list_slotinfo": (128, 0, 16), "dtv_slotinfo_gen": (64, 1, 0),
    "dtv_slotinfo_map": (64, 1, 8),
}
LIBC_BIAS, DESC_BASE = 0x7FFFF7D00000, 0x1000
RTLD_GLOBAL = 0x7FFFF7FFD000
TP, DTV, SLOTINFO = 0x7FFFF7DD2740, 0x4052A0, 0x7FFFF7FFE000
MAIN_LM, LIB_LM = 0x7FFFF7FFE2E0, 0x405800


@dataclass
class Sym:
    address: int
    kind: str = "object"


class Image:
    def __init__(self, symbols: dict[str, int]) -> None:
        self.symbols = symbols

    def get_symbol(self, name: str):
        return Sym(self.symbols[name]) if name in self.symbols else None


class Memory:
    def __init__(self) -> None:
        self.bytes: dict[int, int] = {}

    def put(self, address: int, data: bytes) -> None:
        for i, b in enumerate(data):
            self.bytes[address + i] = b

    def word(self, address: int, value: int) -> None:
        self.put(address, struct.pack("<Q", value))

    def read(self, address: int, size: int) -> bytes:
        try:
            return bytes(self.bytes[address + i] for i in range(size))
        except KeyError:
            raise MemoryAccessError(address) from None


@dataclass
class Process:
    memory: Memory
    pid: int = 4242
    current_tid: int = 4242

    def read_memory(self, address: int, size: int) -> bytes:
        return self.memory.read(address, size)


@dataclass
class Target:
    images: list
    memory: Memory
    tp: int = TP
    links: list = field(default_factory=list)
    executable: str = "/work/prog"
    exe_image: object = None

    def require_process(self) -> Process:
        return Process(self.memory)

    def read_memory(self, address: int, size: int) -> bytes:
        raise AssertionError("TLS lookups must read through the process, not the target")

    def registers(self) -> dict[str, int]:
        return {"fs_base": self.tp}

    def link_map(self) -> list[LinkMapEntry]:
        return self.links


def make(*, lib_gen: int = 1, dtv_gen: int = 1, lib_slot: int = 0x55555555A860,
         lib_tls_offset: int = FORCED_DYNAMIC_TLS_OFFSET, descriptors: bool = True):
    """A main program (module 1, static TLS) and a dlopened library (module 2)."""
    mem = Memory()
    libc_syms = {"_rtld_global": RTLD_GLOBAL - LIBC_BIAS}
    if descriptors:
        for i, (name, desc) in enumerate(DESCRIPTORS.items()):
            libc_syms["_thread_db_" + name] = DESC_BASE + 16 * i
            mem.put(LIBC_BIAS + DESC_BASE + 16 * i, struct.pack("<III", *desc))
    main = LoadedImage("/work/prog", Image({}), 0x555555554000, 0x555555554000,
                       0x555555559000, is_main=True)
    lib = LoadedImage("/work/libplugin.so", Image({}), 0x7FFFF7FB0000, 0x7FFFF7FB0000,
                      0x7FFFF7FB5000)
    libc = LoadedImage("/lib/libc.so.6", Image(libc_syms), LIBC_BIAS, LIBC_BIAS,
                       LIBC_BIAS + 0x1D0000)
    links = [LinkMapEntry(MAIN_LM, 0x555555554000, "", 0x555555557DC8),
             LinkMapEntry(LIB_LM, 0x7FFFF7FB0000, "/work/libplugin.so", 0x7FFFF7FB3E00)]
    mem.word(MAIN_LM + 1152, 1)
    mem.word(MAIN_LM + 1144, 0x40)
    mem.word(LIB_LM + 1152, 2)
    mem.word(LIB_LM + 1144, lib_tls_offset)
    mem.word(TP + 8, DTV)                       # header.dtv
    mem.word(DTV, dtv_gen)                      # dtv[0].counter
    mem.word(DTV + 16, TP - 0x40)               # dtv[1]: the executable's static block
    mem.word(DTV + 32, lib_slot)                # dtv[2]
    mem.word(RTLD_GLOBAL + 4208, SLOTINFO)
    mem.word(SLOTINFO, 64)                      # len
    mem.word(SLOTINFO + 8, 0)                   # next
    for modid, (gen, lm) in enumerate([(0, 0), (0, MAIN_LM), (lib_gen, LIB_LM)]):
        mem.word(SLOTINFO + 16 + 16 * modid, gen)
        mem.word(SLOTINFO + 24 + 16 * modid, lm)
    target = Target([main, libc, lib], mem, links=links)
    return target, main, lib


def test_executable_block_from_the_dtv():
    target, main, _lib = make()
    assert TlsResolver(target).block(main) == TP - 0x40
    assert tls_reader(target, main)(0xC) == TP - 0x40 + 0xC


def test_library_block_from_the_dtv():
    target, _main, lib = make()
    assert TlsResolver(target).block(lib) == 0x55555555A860


def test_stale_dtv_falls_back_to_static_tls():
    # The DTV predates the module's generation; the module sits in static TLS all the same.
    target, _main, lib = make(lib_gen=3, dtv_gen=2, lib_tls_offset=0x1C0)
    assert TlsResolver(target).block(lib) == TP - 0x1C0


def test_unallocated_dynamic_block_is_gdbs_not_yet_allocated_error():
    target, _main, lib = make(lib_slot=(1 << 64) - 1)       # TLS_DTV_UNALLOCATED
    with pytest.raises(TlsError) as err:
        TlsResolver(target).block(lib)
    assert str(err.value) == (
        "The inferior has not yet allocated storage for thread-local variables in\n"
        "the shared library `/work/libplugin.so'\nfor Thread 0x7ffff7dd2740 (LWP 4242)")


def test_without_glibc_descriptors_there_is_no_thread_library():
    target, main, _lib = make(descriptors=False)
    with pytest.raises(TlsError) as err:
        TlsResolver(target).block(main)
    assert str(err.value) == ("Cannot find thread-local storage for process 4242, executable "
                              "file /work/prog:\nCannot find thread-local variables on this "
                              "target")


def test_unreadable_structures_and_an_empty_dtv_are_the_same_error():
    target, main, _lib = make()
    target.memory.word(DTV + 16, 0)     # before _dl_allocate_tls_init filled the DTV in
    with pytest.raises(TlsError, match="Cannot find thread-local variables on this target"):
        TlsResolver(target).block(main)
    target, main, _lib = make()
    target.tp = 0x1000                  # a thread pointer to unmapped memory
    with pytest.raises(TlsError, match="^Cannot find thread-local storage for process 4242"):
        TlsResolver(target).block(main)


def test_module_missing_from_the_link_map():
    target, _main, lib = make()
    target.links = target.links[:1]
    with pytest.raises(TlsError, match="shared library /work/libplugin.so:\nTLS load module "
                                       "not found$"):
        TlsResolver(target).block(lib)
