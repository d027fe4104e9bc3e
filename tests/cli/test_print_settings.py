"""set/show print elements, repeats and pretty, and how print, output, info locals and
displays follow them, against gdb on fixtures/types.c."""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

SETTINGS = [
    "break area", "run", "show print elements", "show print repeats", "show print pretty",
    "set print pretty on", "show print pretty", "p v_rect", "p v_points", "p v_shape",
    "p v_flags", "p v_number", "p v_anon_struct", "p/x v_rect", "output v_point",
    "p v_matrix", "p v_node", "p *s", "display v_point", "info locals",
    "set print pretty off", "set print elements 4", "show print elements", "p v_matrix",
    "p v_buf", "p v_int_arr4", "p v_str", "p v_names", "p v_cube", "x/s v_str",
    "set print elements unlimited", "show print elements", "set print elements 0",
    "show print elements", "set print elem 3+4", "show print elem", "p v_str",
    "set print repeats 2", "show print repeats", "p v_matrix", "p v_buf",
    "set print repeats 0", "show print repeats", "set print repeats unlimited", "p v_matrix",
    "set print elements 200", "set print repeats 10", "p v_matrix",
    # errors, and the settings pydbg accepts without acting on them
    "set print elements -1", "set print elements foo", "set print pretty foo",
    "set print elements", "set print repeats", "set print nosuch 1", "show print nosuch",
    "set print frame-arguments scalars", "set print pretty", "show print pretty",
]


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_print_settings_match_gdb(variant: str) -> None:
    exe = build("types.c", VARIANTS[variant])
    expected = run_gdb(exe, SETTINGS)
    got = run_pydbg(exe, SETTINGS)
    assert normalize(got.stdout) == normalize(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()
