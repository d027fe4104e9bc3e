"""Reader for gdb's `.gdb_index` section (versions 7-9): name -> CUs and pc -> CU lookups.

Lets DebugInfo walk only the CUs an index names instead of indexing every CU itself.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from dataclasses import dataclass

# Symbol kinds stored in bits 28-30 of a CU vector entry.
KIND_NAMES = {0: "none", 1: "type", 2: "variable", 3: "function", 4: "other"}


@dataclass(frozen=True)
class IndexEntry:
    cu_offset: int      # .debug_info offset of the CU (type units are skipped)
    kind: str
    is_static: bool


class GdbIndex:
    """A parsed .gdb_index; raises ValueError for versions it does not understand."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 24:
            raise ValueError("truncated .gdb_index")
        self.version, cu_list, types_list, addr_area, sym_table, pool = struct.unpack_from(
            "<6I", data, 0)
        if not 7 <= self.version <= 9:
            raise ValueError(f"unsupported .gdb_index version {self.version}")
        self.data = data
        self.cus = [struct.unpack_from("<Q", data, off)[0]
                    for off in range(cu_list, types_list, 16)]
        ranges = []
        for off in range(addr_area, sym_table, 20):
            lo, hi, idx = struct.unpack_from("<QQI", data, off)
            if hi > lo and idx < len(self.cus):
                ranges.append((lo, hi, self.cus[idx]))
        ranges.sort()
        self._ranges = ranges
        self._keys = [r[0] for r in ranges]
        self._sym_table = sym_table
        self._slots = (pool - sym_table) // 8
        self._pool = pool

    @staticmethod
    def _hash(name: str, version: int) -> int:
        # gdb's mapped_index_string_hash (lower-cased since version 5).
        r = 0
        for c in name.encode():
            if version >= 5 and 65 <= c <= 90:
                c += 32
            r = (r * 67 + c - 113) & 0xFFFFFFFF
        return r

    def lookup(self, name: str) -> list[IndexEntry]:
        """Every CU the index lists for NAME (empty when the name is not indexed)."""
        if not self._slots:
            return []
        mask = self._slots - 1
        h = self._hash(name, self.version)
        slot = h & mask
        step = ((h * 17) & mask) | 1
        want = name.encode()
        for _ in range(self._slots):
            name_off, vec_off = struct.unpack_from("<II", self.data, self._sym_table + 8 * slot)
            if name_off == 0 and vec_off == 0:
                return []
            start = self._pool + name_off
            end = self.data.index(b"\0", start)
            if self.data[start:end] == want:
                return self._vector(self._pool + vec_off)
            slot = (slot + step) & mask
        return []

    def _vector(self, off: int) -> list[IndexEntry]:
        (count,) = struct.unpack_from("<I", self.data, off)
        out = []
        for i in range(count):
            (v,) = struct.unpack_from("<I", self.data, off + 4 + 4 * i)
            idx = v & 0xFFFFFF
            if idx < len(self.cus):     # indexes past the CU list are type units
                out.append(IndexEntry(self.cus[idx], KIND_NAMES.get((v >> 28) & 7, "other"),
                                      bool(v >> 31)))
        return out

    def cu_for_pc(self, pc: int) -> int | None:
        i = bisect_right(self._keys, pc) - 1
        if i >= 0 and self._ranges[i][0] <= pc < self._ranges[i][1]:
            return self._ranges[i][2]
        return None
