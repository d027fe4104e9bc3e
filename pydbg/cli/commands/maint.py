"""gdb's `maintenance` commands that pydbg has: switches for the engine's internals.

`maint set/show step-over-emulation` chooses how `continue` steps off a breakpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command, prefix_command
from pydbg.errors import CommandError

if TYPE_CHECKING:
    from pydbg.cli.session import Session

prefix_command("maintenance", group="support", aliases=("mt", "maint"),
               doc="Commands for use by pydbg maintainers.")
prefix_command("set", parent="maintenance", group="support",
               doc="Set pydbg internal variables used by the pydbg maintainer.")
prefix_command("show", parent="maintenance", group="support",
               doc="Show pydbg internal variables used by the pydbg maintainer.")

_BOOL = {"on": True, "1": True, "yes": True, "enable": True,
         "off": False, "0": False, "no": False, "disable": False}


@command("step-over-emulation", group="support", prefix="maintenance set")
def cmd_set_step_over_emulation(session: "Session", arg: str) -> None:
    """Set whether stepping off a breakpoint emulates its displaced instruction.
    Usage: maint set step-over-emulation on|off
    When on (the default), simple instructions under a breakpoint (endbr64, nops, push,
    register moves, mov/lea, add/sub/xor, plain loads and stores) are emulated, so a
    breakpoint that only reports and continues costs one trap; when off, every step-off
    restores the byte, single-steps and re-inserts the breakpoint."""
    value = arg.strip().lower() or "on"
    if value not in _BOOL:
        raise CommandError("\"on\" or \"off\" expected.")
    session.target.settings.emulate_step_over = _BOOL[value]


@command("step-over-emulation", group="support", prefix="maintenance show")
def cmd_show_step_over_emulation(session: "Session", arg: str) -> None:
    """Show whether stepping off a breakpoint emulates its displaced instruction."""
    state = "on" if session.target.settings.emulate_step_over else "off"
    session.out(f"Emulation of instructions displaced by breakpoints is {state}.")
