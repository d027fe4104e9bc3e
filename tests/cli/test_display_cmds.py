"""delete/disable/enable display N (delete, disable and enable as prefix commands that also
take breakpoint numbers), against gdb on fixtures/watch.c."""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

DISPLAY_CMDS = [
    "break add", "run", "display a", "display/x b", "display counter", "info display",
    "disable display 2", "info display", "continue", "enable display 2", "disable display",
    "info display", "enable display", "delete display 1", "info display",
    "delete display 9", "disable display 9", "delete display 2-3", "info display",
    "display a", "delete display", "info display", "dis d 1", "en disp 1", "d d 1",
]

# The prefixes still take breakpoint numbers and their own keywords.
BREAKPOINT_CMDS = [
    "break add", "break depth_sum", "tbreak read_twice", "disable 2", "info breakpoints",
    "enable once 2", "enable delete 1", "disable breakpoints 3", "info breakpoints",
    "delete breakpoints 3", "delete 2", "info breakpoints", "delete", "info breakpoints",
]


@pytest.mark.parametrize("commands", [DISPLAY_CMDS, BREAKPOINT_CMDS],
                         ids=["displays", "breakpoints"])
@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_display_subcommands_match_gdb(commands: list[str], variant: str) -> None:
    exe = build("watch.c", VARIANTS[variant])
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert normalize(got.stdout) == normalize(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()
