"""Stop events: why a traced thread stopped, as a plain value.

The ptrace layer returns these from wait(); nothing in pydbg raises an exception to say
"the target stopped".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class StopReason(enum.Enum):
    BREAKPOINT = "breakpoint"      # int3 at one of our breakpoint sites
    SINGLE_STEP = "single-step"    # a PTRACE_SINGLESTEP finished
    WATCHPOINT = "watchpoint"      # a hardware debug register fired (DR6 says which)
    SIGNAL = "signal"              # a signal is about to be delivered to the thread
    EXITED = "exited"              # the whole process exited normally (exit_code)
    KILLED = "killed"              # the whole process was terminated by a signal
    EXEC = "exec"                  # the process called execve
    THREAD_CREATED = "thread-created"
    THREAD_EXITED = "thread-exited"


@dataclass(frozen=True)
class StopEvent:
    reason: StopReason
    tid: int
    pc: int | None = None
    signal: int | None = None      # the pending signal for SIGNAL, the fatal one for KILLED
    exit_code: int | None = None
    address: int | None = None     # the breakpoint site address, or the faulting address
    debug_status: int | None = None  # DR6 for WATCHPOINT / hardware single-step
    new_tid: int | None = None     # for THREAD_CREATED

    @property
    def is_exit(self) -> bool:
        return self.reason in (StopReason.EXITED, StopReason.KILLED)
