"""Emulated step-over against the CPU: the same program run twice in lockstep, one process
stepping off each breakpoint by emulation and the other by single-step, compared after
every instruction (all registers, eflags included, and the memory they may touch)."""

from __future__ import annotations

import re
import subprocess
from collections import Counter

import pytest

from pydbg.engine.stops import StopKind
from pydbg.engine.target import Target
from pydbg.ptrace.emulate import KINDS
from tests.support.build import VARIANTS, build

FUNCTIONS = ("stepover_kinds", "so_leaf", "so_frame", "so_many")
_INSN = re.compile(r"^\s+([0-9a-f]+):\s")


def instruction_addresses(exe, function: str) -> list[int]:
    """Start address of each instruction of FUNCTION, from objdump (not from pydbg)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={function}",
                          str(exe)], capture_output=True, text=True, check=True).stdout
    return [int(m.group(1), 16) for line in out.splitlines() if (m := _INSN.match(line))]


def symbol(exe, name: str) -> int:
    out = subprocess.run(["nm", str(exe)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise KeyError(name)


def start(exe, emulate: bool, addresses: list[int]) -> Target:
    target = Target(str(exe))
    target.settings.emulate_step_over = emulate
    target.run(stdout=subprocess.DEVNULL, stop_at_entry=True)
    bias = target.main_bias()
    for address in addresses:
        target.add_breakpoint(f"*{address + bias:#x}", evaluate=lambda text: int(text, 0))
    return target


def memory_windows(target: Target, rsp: int, data: int) -> bytes:
    """The stack around rsp and the fixture's so_data array (every store goes there)."""
    return target.read_memory(rsp - 128, 384) + target.read_memory(data, 64)


def changes(before: bytes, after: bytes) -> dict[int, int]:
    # Only what the instruction wrote is compared: untouched stack bytes may differ between
    # the two processes (leftovers of the random stack canary, for one).
    return {i: b for i, (a, b) in enumerate(zip(before, after)) if a != b}


def lockstep(exe, functions=FUNCTIONS) -> Counter:
    """Run EXE emulating and single-stepping side by side; returns emulated kinds."""
    addresses = [a for f in functions for a in instruction_addresses(exe, f)]
    emulated, stepped = start(exe, True, addresses), start(exe, False, addresses)
    data = symbol(exe, "so_data") + emulated.main_bias()
    kinds: Counter = Counter()
    try:
        stop_e, stop_s = emulated.cont(), stepped.cont()
        while not stop_e.is_exit:
            assert stop_e.kind is StopKind.BREAKPOINT and stop_s.kind is StopKind.BREAKPOINT
            pe, ps = emulated.require_process(), stepped.require_process()
            pc = pe.get_pc()
            assert pc == ps.get_pc()
            site = pe.sites.get(pc)
            rsp = pe.get_registers().rsp
            assert rsp == ps.get_registers().rsp
            mem_e, mem_s = memory_windows(emulated, rsp, data), memory_windows(stepped, rsp, data)
            how_e, _ = pe.step_over_breakpoint(emulate=True)
            how_s, _ = ps.step_over_breakpoint(emulate=False)
            assert how_s == "stepped"
            if how_e == "emulated":
                kinds[site.emulation.kind] += 1
                if site.emulation.tail_is_same:
                    # Resumed right after the int3: the CPU itself must run the tail
                    # (`0f 1e fa`) to the same state as the whole instruction.
                    assert pe.get_pc() == pc + 1
                    assert pe.step_instruction().pc == pc + site.emulation.length
                    kinds["tail"] += 1
            else:
                assert site is None or site.emulation is None, f"{pc:#x} not emulated"
            regs_e = pe.refresh_registers().as_dict()
            regs_s = ps.refresh_registers().as_dict()
            what = f"at {pc:#x} ({site.emulation if site else None})"
            assert regs_e == regs_s, what
            assert changes(mem_e, memory_windows(emulated, rsp, data)) == \
                changes(mem_s, memory_windows(stepped, rsp, data)), what
            # Landed on the next breakpoint without trapping: compare it too.
            if pe.enabled_site_at(pe.get_pc()) is not None:
                stop_e.pc = stop_s.pc = pe.get_pc()
                continue
            stop_e, stop_s = emulated.cont(), stepped.cont()
            assert stop_e.is_exit == stop_s.is_exit
        assert stop_e.exit_code == stop_s.exit_code == 0
    finally:
        emulated.close()
        stepped.close()
    return kinds


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_kind_matches_single_step(variant):
    exe = build("stepover.c", VARIANTS[variant])
    kinds = lockstep(exe)
    assert set(kinds) == set(KINDS) | {"tail"}, kinds   # gcc's default -fcf-protection


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_compiler_prologues_are_emulated(variant):
    """Plain C functions: their prologues (push, mov %rsp,%rbp, sub $N,%rsp at -O0;
    push/xor/lea at -O2) are emulated and agree with the CPU."""
    exe = build("stepover.c", VARIANTS[variant])
    kinds = lockstep(exe, ("so_leaf", "so_frame", "so_many", "main"))
    assert kinds["push"] > 0 and sum(kinds.values()) >= 5, kinds


def test_continue_counts_every_hit_with_and_without_emulation():
    """A breakpoint on each instruction of the hand-written function: `continue` reports
    each one once, emulating or not, and the program's output is the same."""
    exe = build("stepover.c", VARIANTS["O2"])
    addresses = instruction_addresses(exe, "stepover_kinds")
    hits = {}
    for emulate in (True, False):
        target = start(exe, emulate, addresses)
        seen = []
        try:
            while True:
                stop = target.cont()
                if stop.is_exit:
                    assert stop.exit_code == 0
                    break
                seen.append(stop.pc - target.main_bias())
        finally:
            target.close()
        hits[emulate] = seen
    assert hits[True] == hits[False] == addresses


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_conditional_breakpoint_one_trap_per_hit(variant):
    """`break so_leaf if $rdi == 2` stops once either way; with emulation on, the hits that
    only continue never single-step, and the condition is parsed once."""
    from tests.support.session import Recorder
    exe = build("stepover.c", VARIANTS[variant])
    outputs, ops = {}, {}
    for setting in ("on", "off"):
        rec = Recorder(exe)
        seen: Counter = Counter()
        rec.target.observer = lambda op: seen.update([(op.op, op.details.get("address"))])
        try:
            rec.run(f"maint set step-over-emulation {setting}")
            rec.run("break so_leaf if $rdi == 2")
            out = rec.run("run") + rec.run("print $rdi") + rec.run("continue")
            bp = rec.target.breakpoints.get(1)
            assert bp.hit_count == 1 and bp.condition_ast is not None
            site = bp.locations[0].address
        finally:
            rec.close()
        outputs[setting] = re.sub(r"process \d+", "process N", out)
        # Per step-off at so_leaf: classic = remove + single-step + insert; else one emulation.
        ops[setting] = (seen[("remove-breakpoint", site)], seen[("emulate-step-over", site)])
    assert outputs["on"] == outputs["off"]
    assert "Breakpoint 1, " in outputs["on"] and "$1 = 2" in outputs["on"]
    # Four calls of so_leaf: three hits only continue, one stops and is continued from.
    assert ops["off"] == (4, 0)
    assert ops["on"] == (0, 4)


def test_maint_show_step_over_emulation():
    from tests.support.session import Recorder
    rec = Recorder()
    assert rec.run("maint show step-over-emulation") == \
        "Emulation of instructions displaced by breakpoints is on.\n"
    rec.run("maintenance set step-over-emulation off")
    assert rec.target.settings.emulate_step_over is False
    assert rec.error("mt set step-over-emulation maybe") == '"on" or "off" expected.'


def test_writing_code_under_a_site_drops_its_emulation():
    exe = build("stepover.c", VARIANTS["O0"])
    address = instruction_addresses(exe, "stepover_kinds")[1]  # push %rbp
    target = start(exe, True, [address])
    try:
        site = target.require_process().sites[address + target.main_bias()]
        assert site.emulation is not None and site.emulation.kind == "push"
        target.write_memory(site.address, b"\x90")   # now a nop
        assert site.emulation is None
        target.sync_sites()
        assert site.emulation is not None and site.emulation.kind == "nop"
        target.write_memory(site.address, b"\x55")
        stop = target.cont()
        assert stop.kind is StopKind.BREAKPOINT and stop.pc == site.address
    finally:
        target.close()


def test_endbr64_site_resumes_without_writing_registers():
    """A breakpoint on endbr64 resumes right after its int3 (the CPU runs `0f 1e fa`):
    hits that only continue write no registers at all, and every hit is still seen."""
    exe = build("stepover.c", [*VARIANTS["O2"], "-fcf-protection=full"])
    entry = symbol(exe, "so_leaf")
    assert subprocess.run(["objdump", "-d", f"--start-address={entry:#x}",
                           f"--stop-address={entry + 4:#x}", str(exe)], capture_output=True,
                          text=True, check=True).stdout.rstrip().endswith("endbr64")
    ops: list[tuple[str, int | None]] = []
    target = start(exe, True, [entry])
    process = target.require_process()
    process.observer = lambda op: ops.append((op.op, op.details.get("address")))
    site = entry + target.main_bias()
    try:
        hits = 0
        while not (stop := target.cont()).is_exit:
            assert stop.pc == site
            assert process.get_registers().rip == site       # reported at the site
            hits += 1
        assert stop.exit_code == 0 and hits >= 3
    finally:
        target.close()
    steps = [i for i, op in enumerate(ops) if op == ("emulate-step-over", site)]
    assert len(steps) == hits
    # (The dynamic linker's own breakpoint, on a `ret`, is still single-stepped.)
    assert all(ops[i + 1][0] == "cont" for i in steps), ops


def test_a_run_without_decoding_needs_no_capstone():
    """capstone (30 ms to import) is loaded on first need: not for a run whose only
    breakpoint sites are the dynamic linker's ret and endbr64 function entries."""
    import sys
    from tests.support.build import REPO
    exe = build("stepover.c", ["-O2", "-fcf-protection=full"])
    code = ("import sys; from pydbg.cli.main import main; "
            f"main(['-nx', '-batch', '-ex', 'break so_leaf', '-ex', 'run', {str(exe)!r}]); "
            "print('capstone' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=60).stdout
    assert "Breakpoint 1, so_leaf" in out and out.splitlines()[-1] == "False"
