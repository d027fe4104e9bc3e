"""Threads: clones are traced, breakpoints hit in any thread are reported, all-stop holds."""

from __future__ import annotations

import re

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg
from tests.support.session import Recorder


def test_breakpoint_in_threads_counts_every_hit():
    exe = build("threads.c", VARIANTS["O0"] + ["-pthread"])
    rec = Recorder(exe)
    try:
        rec.run("break work")
        out = rec.run("run")
        hits = 1 if "Breakpoint 1, work" in out else 0
        tids = set()
        while "exited normally" not in out:
            tids.add(rec.target.process.current_tid)
            out = rec.run("continue")
            hits += out.count("Breakpoint 1, work")
            assert rec.ok, rec.last_error
        assert hits == 12                       # 4 threads x 3 calls, none lost
        assert len(tids) >= 2                   # reported from several threads
        text = rec.stdout.getvalue()
        assert len(re.findall(r"\[New Thread 0x[0-9a-f]+ \(LWP \d+\)\]", text)) == 4
    finally:
        rec.close()


def test_thread_notices_match_gdb():
    exe = build("threads.c", VARIANTS["O0"] + ["-pthread"])
    expected = run_gdb(exe, ["run"])
    got = run_pydbg(exe, ["run"])
    def notices(text, kind):
        return sorted(re.sub(r"LWP \d+", "LWP N", l) for l in normalize(text).splitlines()
                      if l.startswith(kind))
    # Thread pointers are deterministic with ASLR off; LWP numbers are not. Which thread
    # exits gdb itself reports depends on timing, so those must only name known threads.
    assert notices(got.stdout, "[New Thread") == notices(expected.stdout, "[New Thread")
    announced = {l.split()[2] for l in notices(got.stdout, "[New Thread")}
    assert {l.split()[1] for l in notices(got.stdout, "[Thread 0x")} <= announced
    assert got.stdout.strip().endswith("exited normally]")
