"""run/start/kill/restart: breakpoints survive a restart, run ARGS sets new args."""

from __future__ import annotations

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg
from tests.support.session import Recorder


def test_restart_keeps_breakpoints_and_run_args_replace_the_old():
    exe = build("basic.c", VARIANTS["O0"])
    rec = Recorder(exe, args=["4"])
    try:
        rec.run("break sub")
        out = rec.run("run")
        assert "Breakpoint 1, sub" in out
        first_pid = rec.target.process.pid
        out = rec.run("run 7")                   # batch mode answers the restart query
        assert "Breakpoint 1, sub" in out
        assert rec.target.process.pid != first_pid
        out = rec.run("continue")
        assert "exited with code 07" in out
        out = rec.run("run")                     # the args of the last run are kept
        rec.run("delete")
        out = rec.run("continue")
        assert "exited with code 07" in out
    finally:
        rec.close()


def test_start_kill_and_info_breakpoints_match_gdb():
    exe = build("basic.c", VARIANTS["O0-nopie"])
    commands = ["start", "info breakpoints", "kill", "info breakpoints", "start 2",
                "next" if False else "info registers rip", "continue"]
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert normalize(got.stdout, frame_args=False) == normalize(expected.stdout, frame_args=False)


def test_demo_builds_and_runs(tmp_path):
    got = run_pydbg(None, ["break add", "run", "info registers rip", "continue", "kill"],
                    extra=["--demo"], cwd=tmp_path)
    assert "Breakpoint 1, add" in got.stdout, got.stderr
    assert "rip            0x" in got.stdout
