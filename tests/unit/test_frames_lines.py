"""The line lookups frames and stepping rely on, checked against readelf --debug-dump.

Frame lines use the row containing the pc (pc - 1 for callers); stepping uses each row's
[start, end) range and its is_stmt flag. readelf's decoded line table is the reference.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict

import pytest

from pydbg.engine.target import open_image
from tests.support.build import VARIANTS, build


def _decoded_rows(exe) -> list[tuple[str, int, int, bool]]:
    """(file, line, address, is_stmt) rows of readelf's decoded line table, in order."""
    out = subprocess.run(["readelf", "--debug-dump=decodedline", str(exe)],
                         capture_output=True, text=True).stdout
    rows = []
    for text in out.splitlines():
        parts = text.split()
        if len(parts) < 3 or not parts[1].isdigit() or not parts[2].startswith("0x"):
            continue
        is_stmt = parts[-1] == "x"
        rows.append((parts[0], int(parts[1]), int(parts[2], 16), is_stmt))
    return rows


@pytest.mark.parametrize("variant", ["O0", "O2", "O2-nopie"])
def test_statement_rows_start_a_line_entry(variant: str) -> None:
    """A single is_stmt row whose line differs from the row before it starts a line entry
    (the step range) at its own address, and a return address just past it maps to it."""
    exe = build("stepping.c", VARIANTS[variant])
    image = open_image(str(exe))
    by_address: dict[int, list[tuple[str, int, bool]]] = defaultdict(list)
    for file, line, address, is_stmt in _decoded_rows(exe):
        by_address[address].append((file, line, is_stmt))
    checked = 0
    previous_line = None
    for address, rows in sorted(by_address.items()):
        lines = {r[1] for r in rows}
        if len(rows) == 1 and rows[0][2] and rows[0][1] != previous_line:
            entry = image.line_for_address(address)
            assert entry is not None, hex(address)
            assert (entry.line, entry.address) == (rows[0][1], address), hex(address)
            assert entry.is_stmt and entry.end > address
            # A caller frame looks up pc - 1: the byte after still belongs to this row.
            if entry.end > address + 1:
                assert image.line_for_address(address + 1).line == rows[0][1]
            checked += 1
        previous_line = rows[-1][1] if len(lines) == 1 else None
    assert checked >= (10 if variant == "O0" else 2)
