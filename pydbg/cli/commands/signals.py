"""Signals: info signals, handle, signal (gdb's infrun signal tables)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command
from pydbg.engine import signals as sigs
from pydbg.errors import CommandError

if TYPE_CHECKING:
    from pydbg.cli.session import Session


def _numeric(word: str) -> str:
    try:
        return sigs.from_command_number(int(word))
    except ValueError as exc:
        raise CommandError(str(exc)) from None


@command("signals", group="status", prefix="info", aliases=("handle",))
def cmd_info_signals(session: "Session", arg: str) -> None:
    """What debugger does when program gets various signals.
    Specify a signal as argument to print info on that signal only."""
    table = session.target.signals
    session.out(sigs.HEADER)
    spec = arg.strip()
    if spec:
        if spec in sigs.DESCRIPTIONS:
            name = spec
        else:
            name = _numeric(str(session.evaluate_int(spec)))
        session.out(table.row(name))
        return
    session.out("")
    for name in sigs.GDB_SIGNALS:
        session.out(table.row(name))
    session.out("")
    session.out("Use the \"handle\" command to change these tables.")


# Action words and the shortest prefix gdb accepts for each (handle_command).
_ACTIONS = (("all", 1), ("stop", 1), ("ignore", 1), ("print", 2), ("pass", 2),
            ("nostop", 3), ("noignore", 3), ("noprint", 4), ("nopass", 4))


def _action(word: str) -> str | None:
    for name, shortest in _ACTIONS:
        if len(word) >= shortest and name.startswith(word):
            return name
    return None


@command("handle", group="running")
def cmd_handle(session: "Session", arg: str) -> None:
    """Specify how to handle signals.
    Usage: handle SIGNAL [ACTIONS]
    Args are signals and actions to apply to those signals.
    If no actions are specified, the current settings for the specified signals
    will be displayed instead.

    Symbolic signals (e.g. SIGSEGV) are recommended but numeric signals
    from 1-15 are allowed for compatibility with old versions of GDB.
    Numeric ranges may be specified with the form LOW-HIGH (e.g. 1-5).
    The special arg "all" is recognized to mean all signals except those
    used by the debugger, typically SIGTRAP and SIGINT.

    Recognized actions include "stop", "nostop", "print", "noprint",
    "pass", "nopass", "ignore", or "noignore".
    Stop means reenter debugger if this signal happens (implies print).
    Print means print a message if this signal happens.
    Pass means let program see this signal; otherwise program doesn't know.
    Ignore is a synonym for nopass and noignore is a synonym for pass.
    Pass and Stop may be combined."""
    if not arg.strip():
        raise CommandError("Argument required (signal to handle).")
    table = session.target.signals
    chosen: dict[str, None] = {}     # gdb's sigs[]: the signals named so far, in order
    for word in shlex.split(arg):
        action = _action(word)
        if action is not None and action != "all":
            # An action applies to every signal named before it (gdb's SET_SIGS).
            for name in chosen:
                d = table.by_name(name)
                if action == "stop":
                    d.stop = d.print = True
                elif action == "nostop":
                    d.stop = False
                elif action == "print":
                    d.print = True
                elif action == "noprint":
                    d.print = d.stop = False
                elif action in ("pass", "noignore"):
                    d.pass_ = True
                else:               # nopass, ignore
                    d.pass_ = False
            continue
        every = action == "all"
        if every:
            names = list(sigs.GDB_SIGNALS)
        elif word[:1].isdigit():
            low, _, high = word.partition("-")
            digits = "".join(c for c in low if c.isdigit()) or "0"
            first = sigs.GDB_SIGNALS.index(_numeric(digits))
            last = first
            if high:
                hdigits = ""
                for c in high:
                    if not c.isdigit():
                        break
                    hdigits += c
                last = sigs.GDB_SIGNALS.index(_numeric(hdigits or "0"))
            first, last = min(first, last), max(first, last)
            names = list(sigs.GDB_SIGNALS[first:last + 1])
        elif word in sigs.DESCRIPTIONS:
            names = [word]
        else:
            raise CommandError(f"Unrecognized or ambiguous flag word: \"{word}\".")
        for name in names:
            if name in sigs.DEBUGGER_SIGNALS:
                if every or name in chosen:
                    continue
                if session.ask(f"{name} is used by the debugger.\n"
                               "Are you sure you want to change it? (y or n) "):
                    chosen[name] = None
                else:
                    session.out("Not confirmed, unchanged.")
                continue
            chosen[name] = None
    if chosen and session.from_tty:
        session.out(sigs.HEADER)
        for name in sigs.GDB_SIGNALS:
            if name in chosen:
                session.out(table.row(name))


@command("signal", group="running")
def cmd_signal(session: "Session", arg: str) -> None:
    """Continue program with the specified signal.
    Usage: signal SIGNAL
    The SIGNAL argument is processed the same as the handle command.

    An argument of "0" means continue the program without sending it a signal.
    This is useful in cases where the program stopped because of a signal,
    and you want to resume the program while discarding the signal."""
    target = session.target
    spec = arg.strip()
    if not spec:
        raise CommandError("Argument required (signal number).")
    target.require_process()
    if spec == "0":
        signum = 0
    else:
        name = spec if spec in sigs.DESCRIPTIONS else _numeric(spec) if spec.isdigit() \
            else None
        if name is None:
            raise CommandError(f"Bad signal name: {spec}.")   # gdb's gdb_signal_from_name
        host = sigs.host_signal(name)
        if host is None:
            raise CommandError(f"Signal {name} does not exist on this system.")
        signum = host
    if session.from_tty:
        if signum == 0:
            session.out("Continuing with no signal.")
        else:
            session.out(f"Continuing with signal {sigs.signal_name(signum)}.")
    session.flush()
    stop = target.cont(sig=signum, check_condition=session.check_condition)
    session.report_stop(stop)
