"""Times the breakpoint path: pydbg against gdb and against raw C ptrace loops.

Usage: python benchmarks/run.py [--repeat N] [--hits N]   (see README, "Benchmarks")
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOOP_FLAGS = ["-g", "-O2", "-fcf-protection=full"]
GDB_PREFIX = ["gdb", "-nx", "-q", "-batch", "-iex", "set debuginfod enabled off",
              "-iex", "set startup-with-shell off"]
PYDBG_PREFIX = [sys.executable, "-m", "pydbg", "-nx", "-q", "-batch"]

# The targets: (row, reference row, maximum ratio).
TARGETS = [("a", "b", 0.25), ("a", "e", 1.5), ("f", "g", 0.25)]


@dataclass
class Row:
    key: str
    label: str
    argv: list[str] | None          # None: not available
    check: "re.Pattern[str] | None" = None   # must match stdout+stderr of every run
    note: str = ""
    seconds: float | None = None
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)     # user+system, children included


def compile_c(source: Path, out: Path, flags: list[str]) -> Path:
    subprocess.run(["gcc", *flags, "-o", str(out), str(source)], check=True)
    return out


def file_address(exe: Path, symbol: str) -> int:
    for line in subprocess.run(["nm", str(exe)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == symbol:
            return int(parts[0], 16)
    raise SystemExit(f"{symbol} not found in {exe}")


def entry_address(exe: Path) -> int:
    out = subprocess.run(["readelf", "-h", str(exe)], capture_output=True, text=True,
                         check=True).stdout
    return int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", out).group(1), 16)


def run_once(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process and its children, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, proc.stdout


def measure_once(row: Row) -> None:
    if row.argv is None:
        return
    elapsed, cpu, output = run_once(row.argv)
    if row.check is not None and not row.check.search(output):
        tail = "\n".join(output.splitlines()[-5:])
        raise SystemExit(f"({row.key}) {row.label}: unexpected output:\n{tail}")
    row.times.append(elapsed)
    row.cpu.append(cpu)
    row.seconds = statistics.median(row.times)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    ap.add_argument("--hits", type=int, default=10000, help="calls of work()")
    args = ap.parse_args()
    if shutil.which("gcc") is None or shutil.which("gdb") is None:
        raise SystemExit("benchmarks need gcc and gdb")

    with tempfile.TemporaryDirectory(prefix="pydbg-bench-") as tmp:
        build = Path(tmp)
        exe = compile_c(HERE / "loop.c", build / "loop", LOOP_FLAGS)
        two = compile_c(HERE / "ptrace_two_traps.c", build / "ptrace_two_traps", ["-O2"])
        one = compile_c(HERE / "ptrace_one_trap.c", build / "ptrace_one_trap", ["-O2"])
        work, entry = f"{file_address(exe, 'work'):#x}", f"{entry_address(exe):#x}"
        prog = ["--args", str(exe), str(args.hits)] if args.hits != 10000 else [str(exe)]
        gdb_prog = ["--args", str(exe), str(args.hits)]

        dprintf = 'dprintf work,"i=%d\\n",i'
        cond = "break work if i == -1"
        # pydbg as a regular install runs it: byte-compiled (these machines set
        # PYTHONDONTWRITEBYTECODE, so an editable checkout would compile on every start).
        compileall.compile_dir(str(REPO / "pydbg"), quiet=2)

        def pydbg(cmds: list[str], argv: list[str] = prog) -> list[str]:
            out = PYDBG_PREFIX[:]
            for c in cmds:
                out += ["-ex", c]
            return out + argv

        def gdb(cmds: list[str]) -> list[str]:
            out = GDB_PREFIX[:]
            for c in cmds:
                out += ["-ex", c]
            return out + gdb_prog

        exited = re.compile(r"exited normally")
        rows = [
            Row("a", "pydbg -batch, dprintf work", pydbg([dprintf, "run"]),
                re.compile(rf"i={args.hits - 1}\n")),
            Row("b", "gdb -batch, dprintf work", gdb([dprintf, "run"]),
                re.compile(rf"i={args.hits - 1}\n")),
            Row("c", "pydbg trace -f work",
                [*PYDBG_PREFIX[:3], "trace", "-f", "work", "--", str(exe), str(args.hits)],
                re.compile(rf"work\(i={args.hits - 1}\)")),
            Row("d", "C ptrace loop, two traps per hit",
                [str(two), work, entry, str(exe), str(args.hits)],
                re.compile(rf"hits={args.hits}\b")),
            Row("e", "C ptrace loop, one trap per hit",
                [str(one), work, entry, str(exe), str(args.hits)],
                re.compile(rf"hits={args.hits}\b")),
            Row("e2", "C ptrace loop, one trap per hit, polling wait",
                [str(one), "--poll", work, entry, str(exe), str(args.hits)],
                re.compile(rf"hits={args.hits}\b")),
            Row("f", f"pydbg -batch, {cond}", pydbg([cond, "run"]), exited),
            Row("g", f"gdb -batch, {cond}", gdb([cond, "run"]), exited),
            Row("s1", "pydbg -batch, run without breakpoints", pydbg(["run"]), exited),
            Row("s2", "gdb -batch, run without breakpoints", gdb(["run"]), exited),
            Row("f0", f"pydbg, as (f) with maint set step-over-emulation off",
                pydbg(["maint set step-over-emulation off", cond, "run"]), exited),
        ]
        print(f"loop: {args.hits} calls of work(); gcc {' '.join(LOOP_FLAGS)}; "
              f"median of {args.repeat} runs; {os.cpu_count()} CPUs; "
              f"load average {load_average()}", flush=True)
        # Round robin (every row once per round): a change in the machine's load during
        # the run then weighs on every row alike instead of on a few.
        for _ in range(args.repeat):
            for row in rows:
                measure_once(row)
        for row in rows:
            shown = "not available" if row.seconds is None else \
                f"{row.seconds:7.3f} s  ({min(row.times):.3f}-{max(row.times):.3f})  " \
                f"cpu {statistics.median(row.cpu):.3f} s"
            print(f"  ({row.key:>2}) {row.label:<52} {shown}", flush=True)
        print(f"load average after: {load_average()}")

    t = {r.key: r.seconds for r in rows}
    print("ratios:")

    def ratio(a: str, b: str, what: str, target: float | None = None) -> None:
        if t.get(a) is None or t.get(b) is None:
            print(f"  {what:<44} n/a")
            return
        value = t[a] / t[b]
        verdict = "" if target is None else (f"  target <= {target}: "
                                             f"{'met' if value <= target else 'NOT met'}")
        print(f"  {what:<44} {value:6.2f}{verdict}")

    ratio("a", "b", "dprintf pydbg/gdb (a/b)", 0.25)
    ratio("a", "e", "dprintf pydbg/C-one-trap (a/e)", 1.5)
    ratio("c", "b", "trace pydbg/gdb (c/b)")
    ratio("c", "e", "trace pydbg/C-one-trap (c/e)")
    ratio("f", "g", "never-true condition pydbg/gdb (f/g)", 0.25)
    ratio("f", "e", "never-true condition pydbg/C-one-trap (f/e)")
    ratio("d", "e", "C two traps / one trap (d/e)")
    ratio("f0", "f", "pydbg without/with emulation (f0/f)")
    # pydbg polls before it blocks in waitpid; (e2) is the C loop with the same poll.
    ratio("a", "e2", "dprintf pydbg/C-one-trap polling (a/e2)")
    ratio("e", "e2", "C one trap, blocking/polling wait (e/e2)")
    if t.get("s1") is not None and t.get("f") is not None and t.get("e") is not None:
        # Start-up (interpreter, imports, ELF/DWARF) is paid once; the rest is per hit.
        per_hit = (t["f"] - t["s1"]) / args.hits * 1e6
        print(f"  per hit, start-up excluded: pydbg (f-s1) {per_hit:.1f} us, "
              f"gdb (g-s2) {(t['g'] - t['s2']) / args.hits * 1e6:.1f} us, "
              f"C one trap (e) {t['e'] / args.hits * 1e6:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
