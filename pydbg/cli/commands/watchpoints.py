"""Watchpoint commands: watch, rwatch, awatch and info watchpoints.

The engine (engine/watchpoints.py) owns the debug registers and the reports; delete,
disable, enable, condition and ignore work on watchpoints as on breakpoints.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydbg.cli.commands.breakpoints import show_breakpoint_table, split_condition
from pydbg.cli.commands.registry import command
from pydbg.engine.watchpoints import TITLES, WATCH_KINDS
from pydbg.errors import CommandError

if TYPE_CHECKING:
    from pydbg.cli.session import Session

_LOCATION = re.compile(r"^(?:-l|-location)(?:\s+|$)")


def _set_watchpoint(session: "Session", arg: str, access: str) -> None:
    text, condition = split_condition(arg)
    location = False
    m = _LOCATION.match(text)
    if m is not None:
        location, text = True, text[m.end():]
    if not text.strip():
        raise CommandError("Argument required (expression to compute).")
    if condition is not None:
        session.parse_expression(condition)   # a bad condition sets nothing, as in gdb
    bp = session.target.watchpoints.add(text, access, session.inspector,
                                        condition=condition, location=location)
    session.out(f"{TITLES[bp.kind]} {bp.number}: {bp.spec}")


@command("watch", group="breakpoints")
def cmd_watch(session: "Session", arg: str) -> None:
    """Set a watchpoint for EXPRESSION.
    Usage: watch [-location] EXPRESSION [if CONDITION]
    A watchpoint stops execution of your program whenever the value of
    an expression changes (a hardware watchpoint: x86-64 debug registers DR0-DR3;
    a software one, which single-steps, when they cannot do it or with
    `set can-use-hw-watchpoints 0`).
    With -location, the address the expression names is watched, whatever scope.
    A watchpoint on local variables is deleted when their frame returns."""
    _set_watchpoint(session, arg, "write")


@command("rwatch", group="breakpoints")
def cmd_rwatch(session: "Session", arg: str) -> None:
    """Set a read watchpoint for EXPRESSION.
    Usage: rwatch [-location] EXPRESSION [if CONDITION]
    A read watchpoint stops execution of your program whenever the value of
    an expression is read (x86 traps reads and writes; a write that changes the
    value is not reported, as in gdb)."""
    _set_watchpoint(session, arg, "read")


@command("awatch", group="breakpoints")
def cmd_awatch(session: "Session", arg: str) -> None:
    """Set an access watchpoint for EXPRESSION.
    Usage: awatch [-location] EXPRESSION [if CONDITION]
    An access watchpoint stops execution of your program whenever the value of
    an expression is either read or written."""
    _set_watchpoint(session, arg, "access")


@command("watchpoints", group="breakpoints", prefix="info")
def cmd_info_watchpoints(session: "Session", arg: str) -> None:
    """Status of specified watchpoints (all watchpoints if no argument).
    Usage: info watchpoints [NUM]..."""
    bps = [b for b in session.target.breakpoints.user_breakpoints() if b.kind in WATCH_KINDS]
    show_breakpoint_table(session, bps, arg, "watchpoint", "watchpoints")


@command("can-use-hw-watchpoints", group="breakpoints", prefix="set")
def cmd_set_can_use_hw_watchpoints(session: "Session", arg: str) -> None:
    """Set debugger's willingness to use watchpoint hardware.
    Usage: set can-use-hw-watchpoints N
    If zero, gdb will not use hardware for new watchpoints, even if
    such is available.  (However, any hardware watchpoints that were
    created before setting this to nonzero, will continue to use watchpoint
    hardware.)"""
    text = arg.strip()
    if not text:
        raise CommandError("Argument required (integer to set it to).")
    session.target.watchpoints.can_use_hw = session.evaluate(text).as_int()


@command("can-use-hw-watchpoints", group="breakpoints", prefix="show")
def cmd_show_can_use_hw_watchpoints(session: "Session", arg: str) -> None:
    """Show debugger's willingness to use watchpoint hardware."""
    value = session.target.watchpoints.can_use_hw
    session.out(f"Debugger's willingness to use watchpoint hardware is {value}.")
