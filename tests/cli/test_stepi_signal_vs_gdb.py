"""stepi/nexti while a signal is delivered land on the handler's first instruction; gdb
reports a plain step there (the kernel's SIGTRAP for that step is not a signal stop)."""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("step", ["stepi", "nexti"])
def test_stepi_into_a_signal_handler(variant, step):
    exe = build("unwind.c", VARIANTS[variant])
    commands = ["run", step, "bt 2", step, "info registers rip"]
    gdb = run_gdb(exe, commands)
    pydbg = run_pydbg(exe, commands)
    expected = normalize(gdb.stdout)
    assert normalize(pydbg.stdout) == expected
    assert "SIGTRAP" not in expected
    assert "on_signal" in expected
