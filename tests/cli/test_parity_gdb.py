"""Parity with gdb on everyday commands that used to differ: info symbol/address/line, $_
and $__, signal handling, x87/SSE/AVX registers, $_siginfo, ELF symbol print names.

Each scenario runs under gdb (the oracle) and pydbg with the same program and commands;
stdout and stderr must match after the oracle's normalisation.
"""

from __future__ import annotations

import re

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

ALL = list(VARIANTS)
PIE = ["O0", "O2"]
O0 = ["O0", "O0-nopie"]

# name: (sources, commands, variants)
SCENARIOS: dict[str, tuple[str | list[str], list[str], list[str]]] = {
    # -- info symbol / info address / info line ------------------------------------------
    "info-symbol-static": ("basic.c", [
        "info symbol add", "info symbol main+4", "info symbol &counter", "info symbol 0",
        "info symbol &table[1]", "info address add", "info address counter",
        "info address nosuch", "info line add", "info line basic.c:13", "info line 30",
        "info line 1", "info line *0", "info symbol", "info address"], ALL),
    "info-symbol-running": ("basic.c", [
        "break add", "run", "info symbol $pc", "info symbol &counter", "info symbol $sp",
        "info address sum", "info address a", "info line *$pc", "info line", "info line",
        "x/i", "info symbol table"], ALL),
    "info-address-locals": ("data_values.c", [
        "break nested", "run", "info address y", "info address x", "info address calls",
        "info address d_file_static", "info address nested", "info address d_labels",
        "info symbol &calls", "info line square", "p &calls", "output &calls"], ALL),
    "info-address-tls-and-loclists": ("locations.c", [
        "info address loc_tls", "break main", "run", "info address loc_tls",
        "info address argc", "info address argv"], ALL),
    "info-line-after-list": ("basic.c", [
        "list add", "info line", "break 13", "run", "list", "info line", "p $_"], O0),
    # -- $_ and $__ -------------------------------------------------------------------------
    "examine-sets-underscore": ("basic.c", [
        "break add", "run", "x/s greeting", "p $_", "p $__", "x/2s greeting", "p $_",
        "x/2a $sp", "p $_", "p $__", "x/2i $pc", "p $_", "p $__", "x/3c greeting", "p $_",
        "p $__", "x/2f &table", "p $_", "p $__", "x", "p $__", "whatis $_", "p *$_"], ALL),
    "breakpoints-set-underscore": ("basic.c", [
        "break add", "break main", "tbreak sub", "dprintf basic.c:30,\"hi\\n\"",
        "info breakpoints", "p $_", "x/i", "run", "info breakpoints 1", "p $_", "p $__"],
        ALL),
    "breakpoint-row-without-symbol": ("basic.c", [
        "tbreak *0", "break *add", "info breakpoints"], ["O0"]),
    "break-line-several-places": ("basic.c", [
        "break 13", "break basic.c:13", "tbreak 13", "list 20,20", "break 13", "run",
        "break 13"], ["O2", "O2-nopie"]),
    # -- ELF symbols by gdb's print name (`calls.0` -> `calls`) ---------------------------
    "print-names": ("parity_names.c", [
        "p n_ptrs", "info symbol n_ptrs[0]", "info symbol n_ptrs[1]", "info symbol n_ptrs[6]",
        "x/2a n_ptrs", "p/a n_ptrs[3]", "break bump", "run", "p &calls", "x/wx &calls",
        "info symbol &calls", "output n_ptrs[4]"], ALL),
    # -- signals ------------------------------------------------------------------------------
    "info-signals": ("unwind.c", [
        "info signals", "info signals SIGUSR1", "info signals 14", "info handle 3",
        "info signals 99", "handle SIGUSR1 nostop noprint", "info signals SIGUSR1",
        "handle 14-15 nopass", "handle all nopass", "info signals SIGHUP", "handle",
        "handle SIGFOO stop", "handle stop SIGUSR2 print", "info signals SIGUSR2",
        "handle p SIGUSR1"], ["O0"]),
    "handle-stop": ("unwind.c", [
        "handle SIGUSR1 stop print", "run", "bt 3", "info signals SIG32",
        "info symbol $pc"], PIE),
    "handle-nostop-noprint": ("unwind.c", [
        "handle SIGUSR1 nostop noprint", "break signal_leaf", "run", "bt 3"], PIE),
    "handle-nopass": ("unwind.c", [
        "handle SIGUSR1 nopass", "break signal_leaf", "run", "kill"], PIE),
    "handle-nostop-print-step": ("unwind.c", [
        "handle SIGUSR1 nostop print", "break main", "run", "next", "next", "bt 1"], PIE),
    "signal-command": ("unwind.c", [
        "break signal_leaf", "run", "signal SIGUSR2"], PIE),
    # -- x87 / SSE / AVX registers ------------------------------------------------------------
    "vector-registers": ("stepping.c", [
        "whatis $xmm0", "ptype $xmm0", "whatis $xmm0.v2_double", "p $xmm0", "break half",
        "run", "p $xmm0", "p/x $xmm0", "p $xmm0.v2_double[0]", "p $xmm0.v4_float",
        "p $xmm0.v8_bfloat16", "p $xmm0.v8_half", "p $ymm0", "p $ymm0.v8_float[1]",
        "ptype $ymm0", "p $st0", "whatis $st0", "p $fctrl", "p $ftag", "p $mxcsr",
        "ptype $mxcsr", "ptype $eflags", "p/x $mxcsr", "p $xmm0.uint128",
        "info registers st0 fctrl mxcsr xmm0 ymm0", "info registers float",
        "info registers sse", "info registers vector", "info registers xmm0 foo rip",
        "p $xmm99"], ["O0", "O0-nopie"]),
    "vector-register-writes": ("stepping.c", [
        "break half", "run", "set var $xmm0.v2_double[1] = 2.5", "p $xmm0.v2_double",
        "set var $xmm2.uint128 = 5", "p $xmm2.v4_int32", "set var $ymm3.v8_int32[7] = 9",
        "p $ymm3.v8_int32", "p $st1 = 2.5", "p $st1", "info registers st1", "p $ftag",
        "finish"], ["O0"]),
    "all-registers": ("stepping.c", ["break half", "run", "info all-registers"], ["O0"]),
    # -- after the program exits gdb keeps it relocated; `file` undoes that -------------------
    "after-exit": ("basic.c", [
        "break sub", "run", "c", "p &counter", "x/2i add", "info line add", "info symbol add",
        "info address counter", "break add", "tbreak basic.c:30", "info breakpoints",
        "x/4xb &table", "file {exe}", "p &counter", "info breakpoints"], ALL),
    # -- $_siginfo ----------------------------------------------------------------------------
    "siginfo": ("crash.c", [
        "p $_siginfo", "run", "ptype $_siginfo", "p $_siginfo", "whatis $_siginfo",
        "p $_siginfo._sifields._sigfault.si_addr", "p $_siginfo.si_signo",
        "ptype $_siginfo._sifields._timer", "kill", "p $_siginfo"], ["O0", "O2-nopie"]),
}

# The program's own output (unwind.c prints one line at exit) may interleave differently.
_PROGRAM_OUTPUT = re.compile(r"^\d+ \d+ \d+ -?\d+$")


def _clean(text: str) -> str:
    return "\n".join(line for line in normalize(text).splitlines()
                     if not _PROGRAM_OUTPUT.match(line))


@pytest.mark.parametrize("scenario,variant",
                         [(s, v) for s, (_, _, vs) in SCENARIOS.items() for v in vs])
def test_matches_gdb(scenario, variant):
    sources, commands, _ = SCENARIOS[scenario]
    exe = build(sources, VARIANTS[variant])
    commands = [c.replace("{exe}", str(exe)) for c in commands]
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert _clean(got.stdout) == _clean(expected.stdout)
    assert _clean(got.stderr) == _clean(expected.stderr)
