"""Engine-level stops: a ptrace StopEvent enriched with breakpoints hit and a source location."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from pydbg.ptrace import StopEvent

if TYPE_CHECKING:
    from pydbg.engine.breakpoints import Breakpoint


class StopKind(enum.Enum):
    BREAKPOINT = "breakpoint"
    STEP = "step"                # stepi/nexti/step/next/finish/until ended normally
    SIGNAL = "signal"
    WATCHPOINT = "watchpoint"
    EXITED = "exited"
    KILLED = "killed"
    ATTACHED = "attached"


@dataclass(frozen=True)
class CodeLocation:
    """Where a pc is, symbolically, as gdb shows it in frame lines."""
    pc: int
    function: str | None = None      # "add", or None for gdb's "??"
    offset: int = 0                  # pc - function start
    file: str | None = None          # as gdb names it ("basic.c")
    fullname: str | None = None      # absolute path, for reading source
    line: int | None = None
    line_start: bool = False         # pc is the first address of its line-table row
    library: str | None = None       # shared library path, for gdb's "from /lib/..."


class _LazyLocation:
    """Stop.location: the given value, or locator(pc) computed on first read."""

    def __get__(self, stop: "Stop | None", owner: type) -> CodeLocation | None:
        if stop is None:
            return None                      # the dataclass default
        value = stop.__dict__.get("_location")
        if value is None and stop.locator is not None and stop.pc is not None:
            value = stop.__dict__["_location"] = stop.locator(stop.pc)
            stop.locator = None
        return value

    def __set__(self, stop: "Stop", value: CodeLocation | None) -> None:
        stop.__dict__["_location"] = value


@dataclass
class Stop:
    kind: StopKind
    tid: int
    pc: int | None = None
    pid: int | None = None           # the process (for exit reports after it is gone)
    signal: int | None = None
    exit_code: int | None = None
    breakpoints: list["Breakpoint"] = field(default_factory=list)
    # Given, or worked out from pc by `locator` when first asked for: finding a pc's
    # function and line can mean reading a library's debug info, which a stop that is
    # never shown (the entry stop of `run`, a dprintf hit) should not pay for.
    location: CodeLocation | None = _LazyLocation()   # type: ignore[assignment]
    locator: Callable[[int], CodeLocation] | None = field(default=None, repr=False,
                                                          compare=False)
    event: StopEvent | None = None
    condition_error: str | None = None
    # Set by stepping commands: True prints only the source line (same frame and function,
    # gdb's SRC_LINE), False the frame line too; None lets the report guess.
    source_only: bool | None = None
    # stepi/nexti stops show inlined functions starting at the pc (gdb skips them otherwise).
    stepi: bool = False
    messages: list[str] = field(default_factory=list)   # e.g. watchpoint Old/New values
    # Nothing is printed for it: a function called from an expression returned to its
    # dummy frame after the call was abandoned (engine/infcall.py; gdb's stop_stack_dummy).
    silent: bool = False
    # The first instruction, as `starti` stops there: gdb's GDB_SIGNAL_0 "Program stopped.".
    entry: bool = False

    @property
    def is_exit(self) -> bool:
        return self.kind in (StopKind.EXITED, StopKind.KILLED)
