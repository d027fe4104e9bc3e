"""Finding the separate debug file of a stripped ELF object, the way gdb does.

Looks by build-id (/usr/lib/debug/.build-id/ab/cdef....debug), then by .gnu_debuglink + CRC32.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass

DEFAULT_DEBUG_DIRS: tuple[str, ...] = ("/usr/lib/debug",)
_NT_GNU_BUILD_ID = 3


@dataclass(frozen=True)
class DebugLink:
    """The contents of a .gnu_debuglink section: a file name and the file's CRC32."""

    name: str
    crc: int


def read_build_id(elffile) -> str | None:
    """The GNU build-id of an ELFFile as lowercase hex, or None."""
    for sec in elffile.iter_sections():
        if sec["sh_type"] != "SHT_NOTE":
            continue
        for note in sec.iter_notes():
            if note["n_type"] == "NT_GNU_BUILD_ID" and note["n_name"] == "GNU":
                desc = note["n_desc"]
                return desc if isinstance(desc, str) else bytes(desc).hex()
    return None


def read_debuglink(elffile) -> DebugLink | None:
    """The .gnu_debuglink section of an ELFFile: NUL-terminated name, padding, CRC32."""
    sec = elffile.get_section_by_name(".gnu_debuglink")
    if sec is None or sec["sh_type"] == "SHT_NOBITS":
        return None
    data = sec.data()
    end = data.find(b"\0")
    if end <= 0:
        return None
    crc_at = (end + 4) & ~3       # the CRC is 4-byte aligned after the name's NUL
    if crc_at + 4 > len(data):
        return None
    e = "<" if elffile.little_endian else ">"
    (crc,) = struct.unpack_from(e + "I", data, crc_at)
    return DebugLink(data[:end].decode("utf-8", "replace"), crc)


def debuglink_crc32(path: str | os.PathLike) -> int:
    """The CRC gdb's gnu_debuglink_crc32 computes: the standard CRC-32 of the whole file."""
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc & 0xFFFFFFFF


def build_id_path(build_id: str, debug_dir: str) -> str:
    """Where a debug file with BUILD_ID lives under DEBUG_DIR."""
    return os.path.join(debug_dir, ".build-id", build_id[:2], build_id[2:] + ".debug")


def debuglink_candidates(object_path: str | os.PathLike, link_name: str,
                         debug_dirs: tuple[str, ...] = DEFAULT_DEBUG_DIRS) -> list[str]:
    """gdb's search order for a debuglink: next to the object, in .debug/, in each debug dir."""
    real_dir = os.path.dirname(os.path.realpath(object_path))
    out = [os.path.join(real_dir, link_name), os.path.join(real_dir, ".debug", link_name)]
    for d in debug_dirs:
        out.append(os.path.join(d, real_dir.lstrip("/"), link_name))
    return out


def find_debug_file(object_path: str | os.PathLike, build_id: str | None,
                    debuglink: DebugLink | None,
                    debug_dirs: tuple[str, ...] = DEFAULT_DEBUG_DIRS,
                    read_build_id_of=None) -> str | None:
    """Path of the separate debug file for OBJECT_PATH, or None.

    A build-id match is verified with READ_BUILD_ID_OF(path) when given (gdb's
    build_id_verify); a debuglink match must have the recorded CRC32.
    """
    own = os.path.realpath(object_path)
    if build_id and len(build_id) > 2:
        for d in debug_dirs:
            cand = build_id_path(build_id, d)
            if not os.path.isfile(cand) or os.path.realpath(cand) == own:
                continue
            if read_build_id_of is not None and read_build_id_of(cand) != build_id:
                continue
            return cand
    if debuglink is not None:
        for cand in debuglink_candidates(object_path, debuglink.name, debug_dirs):
            if not os.path.isfile(cand) or os.path.realpath(cand) == own:
                continue
            try:
                if debuglink_crc32(cand) == debuglink.crc:
                    return cand
            except OSError:
                continue
    return None
