"""Location lists: DWARF 2-4 .debug_loc and DWARF 5 .debug_loclists (every DW_LLE kind).

Resolves a DIE's location attribute to (low, high, expression) entries in file addresses.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from pydbg.errors import SymbolError
from pydbg.symbols.dwarf_expr import ByteReader, DwarfExprError

# DW_LLE_* (DWARF 5, 7.7.3) plus the GNU view pair that -gvariable-location-views=incompat5 emits.
DW_LLE_end_of_list = 0x00
DW_LLE_base_addressx = 0x01
DW_LLE_startx_endx = 0x02
DW_LLE_startx_length = 0x03
DW_LLE_offset_pair = 0x04
DW_LLE_default_location = 0x05
DW_LLE_base_address = 0x06
DW_LLE_start_end = 0x07
DW_LLE_start_length = 0x08
DW_LLE_GNU_view_pair = 0x09

_EXPR_FORMS = {"DW_FORM_exprloc", "DW_FORM_block", "DW_FORM_block1", "DW_FORM_block2",
               "DW_FORM_block4"}
_OFFSET_FORMS = {"DW_FORM_sec_offset", "DW_FORM_data4", "DW_FORM_data8"}


class LocListError(SymbolError):
    """A location list is malformed or refers to data that is missing."""


@dataclass(frozen=True)
class LocationListEntry:
    """EXPR describes the object for file addresses [low, high); a default entry has no range."""

    low: int
    high: int
    expr: bytes
    is_default: bool = False

    def covers(self, pc: int) -> bool:
        return self.low <= pc < self.high


def _section_bytes(sec: Any) -> bytes:
    if sec is None:
        return b""
    stream = sec.stream
    if hasattr(stream, "getvalue"):
        return stream.getvalue()
    pos = stream.tell()
    stream.seek(0)
    data = stream.read()
    stream.seek(pos)
    return data


class LocationLists:
    """Location-list reader for one pyelftools DWARFInfo; section bytes are read once."""

    def __init__(self, dwarfinfo: Any) -> None:
        self.dwarfinfo = dwarfinfo
        self._loc = _section_bytes(dwarfinfo.debug_loc_sec)
        self._loclists = _section_bytes(dwarfinfo.debug_loclists_sec)
        self._addr = _section_bytes(dwarfinfo.debug_addr_sec)
        self._cache: dict[tuple[int, int], list[LocationListEntry]] = {}
        self._cu_info: dict[int, tuple[int, int | None, int | None]] = {}

    # -- per-CU facts

    def _cu_facts(self, cu: Any) -> tuple[int, int | None, int | None]:
        """(base address, DW_AT_addr_base, DW_AT_loclists_base) of CU."""
        facts = self._cu_info.get(cu.cu_offset)
        if facts is None:
            top = cu.get_top_DIE()
            attrs = top.attributes
            addr_base = attrs["DW_AT_addr_base"].value if "DW_AT_addr_base" in attrs else None
            if addr_base is None and "DW_AT_GNU_addr_base" in attrs:
                addr_base = attrs["DW_AT_GNU_addr_base"].value
            lists_base = (attrs["DW_AT_loclists_base"].value
                          if "DW_AT_loclists_base" in attrs else None)
            base = 0
            if "DW_AT_low_pc" in attrs:
                low = attrs["DW_AT_low_pc"]
                if low.form.startswith("DW_FORM_addrx"):
                    base = (low.value if addr_base is None
                            else self._address(cu, low.raw_value, addr_base))
                else:
                    base = low.value
            facts = (base, addr_base, lists_base)
            self._cu_info[cu.cu_offset] = facts
        return facts

    def _address(self, cu: Any, index: int, addr_base: int | None = None) -> int:
        if addr_base is None:
            addr_base = self._cu_facts(cu)[1]
        if addr_base is None:
            # DWARF 5 says the base defaults to the first table after its 8-byte header.
            addr_base = 8
        size = cu.header.address_size
        pos = addr_base + index * size
        if pos + size > len(self._addr):
            raise LocListError(f"address index {index} is outside .debug_addr")
        return int.from_bytes(self._addr[pos:pos + size], "little")

    # -- attribute -> list

    @staticmethod
    def is_location_list(attr: Any, cu: Any) -> bool:
        """Does ATTR (DW_AT_location and friends) point at a location list?"""
        if attr.form == "DW_FORM_loclistx":
            return True
        if attr.form == "DW_FORM_sec_offset":
            return True
        # Before DWARF 4, data4/data8 were loclistptr; afterwards they are constants.
        return attr.form in ("DW_FORM_data4", "DW_FORM_data8") and cu.header.version < 4

    def get_entries(self, attr: Any, cu: Any) -> list[LocationListEntry]:
        """The entries of ATTR's list (an expression attribute gives one all-covering entry)."""
        if attr.form in _EXPR_FORMS:
            return [LocationListEntry(0, 1 << 64, bytes(attr.value))]
        if not self.is_location_list(attr, cu):
            raise LocListError(f"{attr.name} with form {attr.form} is not a location")
        version = cu.header.version
        if attr.form == "DW_FORM_loclistx":
            # raw_value: pyelftools may or may not have translated the index already.
            offset = self._loclistx_offset(cu, attr.raw_value)
        else:
            offset = attr.value
        key = (cu.cu_offset, offset)
        entries = self._cache.get(key)
        if entries is None:
            try:
                if version >= 5:
                    entries = self._parse_v5(cu, offset)
                else:
                    entries = self._parse_v4(cu, offset)
            except DwarfExprError as e:  # the byte reader ran off the section
                raise LocListError(f"location list at {offset:#x}: {e}") from e
            self._cache[key] = entries
        return entries

    def _loclistx_offset(self, cu: Any, index: int) -> int:
        base = self._cu_facts(cu)[2]
        if base is None:
            base = 12 if cu.structs.dwarf_format == 32 else 20  # just past the first header
        size = 4 if cu.structs.dwarf_format == 32 else 8
        pos = base + index * size
        return base + int.from_bytes(self._loclists[pos:pos + size], "little")

    def _parse_v4(self, cu: Any, offset: int) -> list[LocationListEntry]:
        if offset >= len(self._loc):
            raise LocListError(f"location list offset {offset:#x} is outside .debug_loc")
        size = cu.header.address_size
        all_ones = (1 << (8 * size)) - 1
        base = self._cu_facts(cu)[0]
        r = ByteReader(self._loc, offset)
        entries = []
        while True:
            begin, end = r.uint(size), r.uint(size)
            if begin == 0 and end == 0:
                return entries
            if begin == all_ones:  # base address selection entry
                base = end
                continue
            expr = r.bytes(r.u16())
            entries.append(LocationListEntry(base + begin, base + end, expr))

    def _parse_v5(self, cu: Any, offset: int) -> list[LocationListEntry]:
        if offset >= len(self._loclists):
            raise LocListError(f"location list offset {offset:#x} is outside .debug_loclists")
        size = cu.header.address_size
        base = self._cu_facts(cu)[0]
        r = ByteReader(self._loclists, offset)
        entries = []

        def counted() -> bytes:
            return r.bytes(r.uleb())

        while True:
            kind = r.u8()
            if kind == DW_LLE_end_of_list:
                return entries
            if kind == DW_LLE_base_addressx:
                base = self._address(cu, r.uleb())
            elif kind == DW_LLE_startx_endx:
                low, high = self._address(cu, r.uleb()), self._address(cu, r.uleb())
                entries.append(LocationListEntry(low, high, counted()))
            elif kind == DW_LLE_startx_length:
                low = self._address(cu, r.uleb())
                length = r.uleb()
                entries.append(LocationListEntry(low, low + length, counted()))
            elif kind == DW_LLE_offset_pair:
                low, high = r.uleb(), r.uleb()
                entries.append(LocationListEntry(base + low, base + high, counted()))
            elif kind == DW_LLE_default_location:
                entries.append(LocationListEntry(0, 0, counted(), is_default=True))
            elif kind == DW_LLE_base_address:
                base = r.uint(size)
            elif kind == DW_LLE_start_end:
                low, high = r.uint(size), r.uint(size)
                entries.append(LocationListEntry(low, high, counted()))
            elif kind == DW_LLE_start_length:
                low = r.uint(size)
                length = r.uleb()
                entries.append(LocationListEntry(low, low + length, counted()))
            elif kind == DW_LLE_GNU_view_pair:
                r.uleb()
                r.uleb()
            else:
                raise LocListError(f"unknown DW_LLE kind {kind:#x} at {r.pos - 1:#x}")

    def get_expression_at(self, attr: Any, cu: Any, pc: int) -> bytes | None:
        """The expression valid at file address PC (first match, then the default), or None."""
        default = None
        for entry in self.get_entries(attr, cu):
            if entry.is_default:
                default = entry.expr
            elif entry.covers(pc):
                return entry.expr
        return default


_readers: "weakref.WeakKeyDictionary[Any, LocationLists]" = weakref.WeakKeyDictionary()


def location_lists_for(dwarfinfo: Any) -> LocationLists:
    """The shared LocationLists of a DWARFInfo (created on first use)."""
    reader = _readers.get(dwarfinfo)
    if reader is None:
        reader = LocationLists(dwarfinfo)
        _readers[dwarfinfo] = reader
    return reader


def location_entries(die_attr: Any, cu: Any) -> list[LocationListEntry]:
    """All (low, high, expr) entries of a location attribute, in file addresses."""
    return location_lists_for(cu.dwarfinfo).get_entries(die_attr, cu)


def location_expression_at(die_attr: Any, cu: Any, pc: int) -> bytes | None:
    """The DWARF expression for a location attribute at file address PC, or None if none."""
    return location_lists_for(cu.dwarfinfo).get_expression_at(die_attr, cu, pc)
