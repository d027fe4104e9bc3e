"""Shared libraries as gdb shows them: link-map names, separate debug info, PLT breakpoints
that move into the library, pending breakpoints resolved by dlopen; gdb is the oracle."""

from __future__ import annotations

import os
import subprocess
import re

import pytest

from pydbg.engine.stops import StopKind
from pydbg.engine.target import Target
from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, run_gdb, run_pydbg, normalize

QUIET = ["set confirm off"]


def plugins() -> tuple[str, str]:
    with_debug = build("sharedlib_plugin.c", ["-O0", "-shared", "-fPIC"], name="libplugin.so")
    without = build("sharedlib_plugin.c", ["-O2", "-shared", "-fPIC"],
                    name="libplugin_nodebug.so", debug=False)
    return str(with_debug), str(without)


def same(exe, commands, args=(), *, frame_args=False):
    """Run COMMANDS under gdb and pydbg; return both normalized (stdout, stderr)."""
    g = run_gdb(exe, commands, args=list(args))
    p = run_pydbg(exe, commands, args=list(args))
    assert "Traceback" not in p.stderr, p.stderr
    want = (normalize(g.stdout, frame_args=frame_args), normalize(g.stderr))
    got = (normalize(p.stdout, frame_args=frame_args), normalize(p.stderr))
    return want, got


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_abort_stops_in_libc_with_separate_debug_info(variant):
    exe = build("crash.c", VARIANTS[variant])
    want, got = same(exe, QUIET + ["run", "info sharedlibrary", "x/3i $pc"], ["abort"])
    assert got == want
    # The stop line names libc's function and its (absent) source, not "?? () from".
    assert "__pthread_kill_implementation (...) at ./nptl/pthread_kill.c:44" in got[0]
    assert "44\t./nptl/pthread_kill.c: No such file or directory." in got[1]
    assert "/lib/x86_64-linux-gnu/libc.so.6" in got[0]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_break_puts_moves_from_plt_stub_into_libc(variant):
    exe = build("sharedlib_main.c", VARIANTS[variant])
    want, got = same(exe, QUIET + ["break puts", "info breakpoints", "run", "info breakpoints",
                                   "x/2i $pc", "disassemble"])
    assert got[0] == want[0]
    assert got[1].splitlines()[0] == want[1].splitlines()[0]
    assert "<puts@plt>" in got[0] and "in __GI__IO_puts at ./libio/ioputs.c:35" in got[0]
    assert "Address range " in got[0]     # _IO_puts has a .cold part


def test_pending_breakpoint_resolved_by_dlopen_and_missing_debug_footnote():
    exe = build("sharedlib_main.c", VARIANTS["O0"])
    commands = QUIET + ["set breakpoint pending on", "break plugin_add", "info breakpoints",
                        "run", "info breakpoints", "info sharedlibrary", "continue",
                        "info sharedlibrary", "info breakpoints", "continue"]
    want, got = same(exe, commands, plugins())
    assert got == want
    assert "Breakpoint 1 (plugin_add) pending." in got[0]
    assert "Yes (*)" in got[0]
    assert "(*): Shared library is missing debugging information." in got[0]


def test_batch_pending_query_is_answered_no_as_gdb_does():
    exe = build("sharedlib_main.c", VARIANTS["O0"])
    commands = ["break nosuch", "info breakpoints", "show breakpoint pending"]
    g, p = run_gdb(exe, commands), run_pydbg(exe, commands)
    # gdb's preamble turns confirm off; say it is on again for both.
    g = run_gdb(exe, ["set confirm on"] + commands)
    p = run_pydbg(exe, ["set confirm on"] + commands)
    assert p.stdout == g.stdout
    assert p.returncode == g.returncode == 0
    assert "(y or [n]) [answered N; input not from terminal]" in p.stdout
    assert p.stderr.strip() == g.stderr.strip() == 'Function "nosuch" not defined.'
    g, p = run_gdb(exe, QUIET + commands), run_pydbg(exe, QUIET + commands)
    assert p.stdout == g.stdout and "pending on future" not in p.stdout


def test_rerun_re_resolves_library_breakpoints():
    exe = build("sharedlib_main.c", VARIANTS["O2"])
    commands = QUIET + ["break puts", "run", "info breakpoints", "run", "info breakpoints"]
    want, got = same(exe, commands)
    assert got == want


def test_engine_names_images_by_link_map_and_tracks_dlopen():
    exe = build("sharedlib_main.c", VARIANTS["O0"])
    lib, nodebug = plugins()
    target = Target(str(exe), [lib, nodebug])
    target.settings.environment = dict(CLEAN_ENV)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        bp = target.add_pending_breakpoint("plugin_add")
        stop = target.run(stdout=devnull)
        assert stop.kind is StopKind.BREAKPOINT and stop.breakpoints == [bp]
        assert stop.location.function == "plugin_add" and stop.location.line == 6
        names = [img.path for img in target.images if not img.is_main]
        assert names == ["/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", lib]
        # Each image's bias matches where /proc/PID/maps has the file's first mapping.
        maps = open(f"/proc/{target.process.pid}/maps").read().splitlines()
        for img in target.images:
            first = next(line for line in maps if line.endswith(" " + img.map_path))
            assert int(first.split("-")[0], 16) == img.start
        stop = target.cont()
        assert stop.location.library == nodebug
        assert [loc.image_path for loc in bp.locations] == \
            [os.path.realpath(nodebug), os.path.realpath(lib)]
        assert target.cont().kind is StopKind.EXITED
    finally:
        target.close()
        os.close(devnull)


def test_interactive_pending_query_yes(tmp_path):
    import sys

    import pexpect
    from tests.support.oracle import REPO
    exe = build("sharedlib_main.c", VARIANTS["O0"])
    lib, _ = plugins()
    env = dict(CLEAN_ENV, HOME=str(tmp_path), TERM="xterm", PYTHONPATH=str(REPO),
               PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(sys.executable, ["-m", "pydbg", "-q", "--args", str(exe), lib],
                          env=env, cwd=str(tmp_path), encoding="utf-8", timeout=30,
                          dimensions=(40, 200))
    try:
        child.expect(r"\(pydbg\)")
        child.sendline("break plugin_add")
        child.expect(re.escape('Function "plugin_add" not defined.'))
        child.expect(re.escape("Make breakpoint pending on future shared library load? "
                               "(y or [n]) "))
        child.sendline("y")
        child.expect(re.escape("Breakpoint 1 (plugin_add) pending."))
        child.expect(r"\(pydbg\)")
        child.sendline("run")
        child.expect(r"Breakpoint 1, plugin_add \(.*\) at sharedlib_plugin.c:6")
        child.expect(r"\(pydbg\)")
        child.sendline("kill")
        child.expect(r"\(y or n\) ")
        child.sendline("y")
        child.expect(r"\(pydbg\)")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_libc_functions_and_external_variables_like_gdb(variant):
    """Names libc defines: functions found through the CU holding their code (not by
    reading every CU of libc's debug file), and an external variable DWARF gives no
    location for (`environ`) read at its ELF symbol, as gdb's LOC_UNRESOLVED."""
    exe = build("basic.c", VARIANTS[variant])
    want, got = same(exe, QUIET + ["break main", "run", "print atoi", "ptype printf",
                                   "whatis atoi", "info line atoi", "print &environ",
                                   "whatis environ", "print environ == 0"])
    assert got == want
    assert "<__GI_atoi>" in want[0] and "<environ>" in want[0] and "$3 = 0" in want[0]


def test_function_lookup_in_libc_reads_only_the_cus_with_its_code():
    exe = build("basic.c", VARIANTS["O0"])
    target = Target(str(exe))
    target.settings.environment = dict(CLEAN_ENV)
    try:
        target.add_breakpoint("main")
        target.run(stdout=subprocess.DEVNULL)
        libc = next(i.image for i in target.images if "libc.so" in i.path)

        def walked() -> int:
            return sum(c.walked for c in libc.debug_info._cus.values())  # noqa: SLF001
        before = walked()
        # gdb looks a C function up by its DW_AT_linkage_name: glibc's atoi is __GI_atoi.
        assert libc.debug_info.find_function("__GI_atoi").name == "atoi"
        assert libc.debug_info.find_function("atoi") is None
        assert 1 <= walked() - before <= 2     # libc has about two thousand
        # The ELF symbol `puts` finds its function (_IO_puts) by address, one CU more.
        from pydbg.engine.variables import ProgramScope
        address, _ = target.lookup_symbol_address("puts")
        function, _, image = ProgramScope(target).function_at(address)
        assert (function.name, image) == ("_IO_puts", libc)
        assert 1 <= walked() - before <= 3
    finally:
        target.close()
