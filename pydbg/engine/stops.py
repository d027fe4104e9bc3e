"""Engine-level stops: a ptrace StopEvent enriched with breakpoints hit and a source location."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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


@dataclass
class Stop:
    kind: StopKind
    tid: int
    pc: int | None = None
    pid: int | None = None           # the process (for exit reports after it is gone)
    signal: int | None = None
    exit_code: int | None = None
    breakpoints: list["Breakpoint"] = field(default_factory=list)
    location: CodeLocation | None = None
    event: StopEvent | None = None
    condition_error: str | None = None
    # Set by stepping commands: True prints only the source line (same frame and function,
    # gdb's SRC_LINE), False the frame line too; None lets the report guess.
    source_only: bool | None = None
    # stepi/nexti stops show inlined functions starting at the pc (gdb skips them otherwise).
    stepi: bool = False
    messages: list[str] = field(default_factory=list)   # e.g. watchpoint Old/New values

    @property
    def is_exit(self) -> bool:
        return self.kind in (StopKind.EXITED, StopKind.KILLED)
