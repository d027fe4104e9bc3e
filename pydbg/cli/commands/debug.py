"""`set debug ptrace on|off`: narrate each operation on the program (teaching mode).

gdb's `set debug` settings print internal traces for its developers; this one is meant for
a demo of how a debugger works: the int3 byte patched in, the trap, rip one past it, the
step-over, every ptrace request and wait status, one line each (engine/explain.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command, prefix_command
from pydbg.cli.commands.support import parse_bool
from pydbg.engine.explain import PtraceNarrator

if TYPE_CHECKING:
    from pydbg.cli.session import Session

prefix_command("debug", parent="set", group="support",
               doc="Generic command for setting pydbg debugging flags.")
prefix_command("debug", parent="show", group="support",
               doc="Generic command for showing pydbg debugging flags.")


@command("ptrace", group="support", prefix="set debug")
def cmd_set_debug_ptrace(session: "Session", arg: str) -> None:
    """Set narration of the debugger's operations on the program.
    Usage: set debug ptrace on|off
    When on, each low-level operation is told on its own line as it happens: breakpoint
    bytes written (the saved byte and the int3), PTRACE_CONT and PTRACE_SINGLESTEP,
    each waitpid status, a trap decoded as a breakpoint (rip one past the int3), how a
    breakpoint is stepped over (the emulated instruction), registers written back."""
    target = session.target
    if parse_bool(arg):
        if not isinstance(target.observer, PtraceNarrator):
            target.set_observer(PtraceNarrator(target, session.err))
    else:
        if isinstance(target.observer, PtraceNarrator):
            target.observer.flush()
        target.set_observer(None)


@command("ptrace", group="support", prefix="show debug")
def cmd_show_debug_ptrace(session: "Session", arg: str) -> None:
    """Show whether the debugger's operations on the program are narrated."""
    state = "on" if isinstance(session.target.observer, PtraceNarrator) else "off"
    session.out(f"Narration of ptrace operations is {state}.")
