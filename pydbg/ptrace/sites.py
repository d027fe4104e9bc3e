"""A breakpoint site: one int3 (0xCC) patched at one address.

The user's logical breakpoints live in the engine and own sites; a site only knows its
address, whether it is patched in, the original byte it covers and, when the engine found the
displaced instruction simple, how to emulate it (one trap per hit instead of two).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from pydbg.ptrace.emulate import Emulation
    from pydbg.ptrace.process import Process

INT3 = 0xCC


class BreakpointSite:
    def __init__(self, process: "Process", address: int) -> None:
        self.process = process
        self.address = address
        self.enabled = False
        self.saved_byte: int | None = None
        # Set by the engine once per site; None steps off by restore/single-step/re-insert.
        self.emulation: "Emulation | None" = None
        self.emulation_planned = False
        # Set by the engine for hits it would only report and continue from (a false
        # condition, a dprintf, a trace probe): called with the thread id and raw registers
        # of the thread that hit, it returns whether the hit is to be reported. When it
        # says no, wait() moves the thread past the emulated instruction and resumes it
        # without returning an event.
        self.hit_filter: Callable[[int, Any], bool] | None = None

    def enable(self) -> None:
        if self.enabled:
            return
        original = self.process.read_memory_raw(self.address, 1)
        self.saved_byte = original[0]
        self.process.write_memory_raw(self.address, bytes([INT3]))
        self.enabled = True
        self.process.notify("insert-breakpoint", address=self.address,
                            original=self.saved_byte, patched=INT3)

    def disable(self) -> None:
        if not self.enabled:
            return
        assert self.saved_byte is not None
        # A process that died under us has no memory left to restore: nothing to harm.
        if self.process.is_alive:
            self.process.write_memory_raw(self.address, bytes([self.saved_byte]))
        self.enabled = False
        self.process.notify("remove-breakpoint", address=self.address,
                            original=self.saved_byte, patched=INT3)

    def __repr__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"<BreakpointSite {self.address:#x} {state}>"
