"""`set debug ptrace on`: each low-level operation on the program, told as it happens.

For teaching (how a debugger works: the patched int3 byte, the trap, rip one past it, the
step-over) and for seeing what a command costs. The process layer reports its operations
to an observer (pydbg.ptrace.process.PtraceOp); this turns them into one line each, with
the engine's symbols (`<main+4>`) and the displaced instruction as gdb would print it.
"""

from __future__ import annotations

import os
import signal as _signal
from typing import TYPE_CHECKING, Callable

from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.engine.target import Target
    from pydbg.ptrace.process import PtraceOp

PREFIX = "[ptrace] "
# Stop statuses' event codes (status >> 16, ptrace(2)).
_EVENTS = {1: "fork", 2: "vfork", 3: "clone", 4: "exec", 5: "vfork-done", 6: "exit",
           7: "seccomp", 0x80: "stop"}
_EMULATION_NOTES = {
    "nop": "nothing to do but move rip",
    "push": "rsp -= 8, store the register at [rsp]",
    "mov": "copy the register",
    "mov_imm": "load the constant",
    "lea": "compute the address into the register",
    "add": "add, and set the flags", "sub": "subtract, and set the flags",
    "xor": "xor, and set the flags",
    "cmp": "only set the flags (a subtraction)", "test": "only set the flags (an and)",
    "load": "read memory into the register", "store": "write the value to memory",
    "ret": "pop the return address into rip",
}


def _signal_name(number: int) -> str:
    try:
        return _signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_status(status: int) -> str:
    """A waitpid status in words."""
    if os.WIFEXITED(status):
        return f"exited with code {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        return f"killed by {_signal_name(os.WTERMSIG(status))}"
    if os.WIFSTOPPED(status):
        text = f"stopped by {_signal_name(os.WSTOPSIG(status))}"
        event = status >> 16
        if event:
            text += f" (PTRACE_EVENT_{_EVENTS.get(event, str(event)).upper()})"
        return text
    return f"status {status:#x}"


class PtraceNarrator:
    """An observer for Process: writes one line per operation through WRITE."""

    def __init__(self, target: "Target", write: Callable[[str], None]) -> None:
        self.target = target
        self.write = write
        # A 1-byte write is usually a breakpoint being inserted or removed, which the next
        # operation says better: hold it until we know.
        self._pending_write: tuple[int, int] | None = None

    def __call__(self, op: "PtraceOp") -> None:
        try:
            lines = self._lines(op)
        except Exception:   # noqa: BLE001 - never let the story break what it tells
            lines = [f"{op.op} {op.details}"]
        for line in lines:
            self.write(PREFIX + line)

    def flush(self) -> None:
        """Tell a held write now (narration is being turned off)."""
        pending, self._pending_write = self._pending_write, None
        if pending is not None:
            self.write(PREFIX + self._write_line(*pending))

    def _write_line(self, address: int, size: int) -> str:
        return f"write {size} byte(s) at {self._where(address)} (/proc/PID/mem)"

    # ------------------------------------------------------------------ helpers
    def _where(self, address: int, why: bool = False) -> str:
        """ADDRESS <symbol+off>; WHY: also say what an internal breakpoint there is for."""
        try:
            name = self.target.symbolic_suffix(address)
        except PydbgError:
            name = None
        text = f"{address:#x} <{name}>" if name else f"{address:#x}"
        if why and address in self.target.solib_event_addresses():
            text += " (the dynamic linker calls it as libraries come and go)"
        return text

    def _instruction(self, address: int) -> str | None:
        """The instruction at ADDRESS as the program sees it (breakpoints shadowed)."""
        process = self.target.process
        if process is None or not process.is_alive:
            return None
        try:
            code = process.readable_prefix(address, 15)
            insns = self.target.disassembler.disassemble(code, address, count=1)
        except PydbgError:
            return None
        return " ".join(insns[0].text().split()) if insns else None

    def _lines(self, op: "PtraceOp") -> list[str]:
        d = op.details
        out: list[str] = []
        pending, self._pending_write = self._pending_write, None
        if op.op in ("insert-breakpoint", "remove-breakpoint") and pending is not None \
                and pending[0] == d.get("address"):
            pending = None
        if pending is not None:
            out.append(self._write_line(*pending))
        name = op.op
        if name == "write-memory" and d["size"] == 1:
            self._pending_write = (d["address"], d["size"])
        elif name == "write-memory":
            out.append(self._write_line(d["address"], d["size"]))
        elif name == "launch":
            aslr = "on" if d.get("aslr") else "off"
            out.append(f"fork, PTRACE_TRACEME, execve {' '.join(d['argv'])}: process "
                       f"{d['pid']} stops before its first instruction (ASLR {aslr})")
        elif name == "attach":
            out.append(f"PTRACE_ATTACH {d['pid']}: the kernel stops it with SIGSTOP")
        elif name == "insert-breakpoint":
            out.append(f"insert breakpoint at {self._where(d['address'], why=True)}: save byte "
                       f"{d['original']:#04x}, write {d['patched']:#04x} (int3)")
        elif name == "remove-breakpoint":
            out.append(f"remove breakpoint at {self._where(d['address'])}: write back "
                       f"{d['original']:#04x}")
        elif name == "cont":
            sig = d.get("signal") or 0
            out.append(f"PTRACE_CONT thread {d['tid']}" +
                       (f", delivering {_signal_name(sig)}" if sig else ""))
        elif name == "singlestep":
            out.append(f"PTRACE_SINGLESTEP thread {d['tid']}: the CPU traps after one "
                       f"instruction")
        elif name == "wait":
            out.append(f"waitpid: thread {d['tid']} {describe_status(d['status'])}")
        elif name == "breakpoint-trap":
            address = d["address"]
            out.append(f"the int3 at {self._where(address)} trapped: rip is "
                       f"{address + 1:#x}, one past it; the breakpoint is at {address:#x}")
        elif name == "emulate-step-over" and d.get("tail"):
            address = d["address"]
            out.append(f"step over {self._where(address)} by resuming at {address + 1:#x}, "
                       f"right after the int3: what is left of `{self._instruction(address)}`"
                       f" is a hint NOP the CPU runs itself; no register written")
        elif name == "emulate-step-over":
            address = d["address"]
            insn = self._instruction(address)
            note = _EMULATION_NOTES.get(d.get("kind", ""), "")
            out.append(f"step over {self._where(address)} without lifting the int3: "
                       f"emulate `{insn or '?'}` ({note}), no second trap")
        elif name == "filtered-hit":
            out.append(f"hit at {self._where(d['address'])} decided without stopping "
                       f"(compiled condition, dprintf or trace probe)")
        elif name == "set-registers":
            rip = d.get("rip")
            out.append(f"PTRACE_SETREGS thread {d['tid']}: registers written back" +
                       (f", rip = {self._where(rip)}" if rip is not None else ""))
        elif name == "write-debug-register":
            out.append(f"PTRACE_POKEUSER: DR{d['index']} = {d['value']:#x}")
        elif name == "detach-fork":
            out.append(f"PTRACE_DETACH {d['pid']}, a child the program forked" +
                       (" (vfork: it shares our memory)" if d.get("shares_memory") else
                        ", after writing back the bytes under our int3s in its copy"))
        elif name == "kill":
            out.append(f"kill {d['pid']} (SIGKILL)")
        elif name == "detach":
            out.append(f"PTRACE_DETACH {d['pid']}: it runs on without us")
        else:
            out.append(f"{name} " + " ".join(f"{k}={v}" for k, v in d.items()))
        return out
