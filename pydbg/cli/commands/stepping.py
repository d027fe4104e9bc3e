"""Source-level stepping: step, next, finish, until, advance (stepi/nexti live in running)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command
from pydbg.cli.commands.stack import frame_text
from pydbg.engine.stepping import Stepper
from pydbg.errors import CommandError

if TYPE_CHECKING:
    from pydbg.cli.session import Session


def _count(session: "Session", arg: str) -> int:
    arg = arg.strip()
    if not arg:
        return 1
    try:
        return int(arg, 0)
    except ValueError:
        return session.evaluate_int(arg)


def _stepper(session: "Session") -> Stepper:
    session.target.require_process()

    def notify(text: str) -> None:
        session.out(text)
        session.flush()

    return Stepper(session.target, session.check_condition, notify)


def _report(session: "Session", stepper: Stepper, stop) -> None:
    for text in stepper.notices:
        session.out(text)
    session.report_stop(stop)


def _step(session: "Session", arg: str, over_calls: bool) -> None:
    stepper = _stepper(session)
    count = _count(session, arg)
    if count <= 0:
        return
    stop = stepper.step(over_calls, count)
    _report(session, stepper, stop)


@command("step", group="running", aliases=("s",), repeat=True)
def cmd_step(session: "Session", arg: str) -> None:
    """Step program until it reaches a different source line.
    Usage: step [N]
    Argument N means step N times (or till program stops for another reason).
    Calls into functions with line information are entered; others are stepped over."""
    _step(session, arg, over_calls=False)


@command("next", group="running", aliases=("n",), repeat=True)
def cmd_next(session: "Session", arg: str) -> None:
    """Step program, proceeding through subroutine calls.
    Usage: next [N]
    Unlike "step", if the current source line calls a subroutine,
    this command does not enter the subroutine, but instead steps over
    the call, in effect treating it as a single source line."""
    _step(session, arg, over_calls=True)


@command("finish", group="running", aliases=("fin",), repeat=True)
def cmd_finish(session: "Session", arg: str) -> None:
    """Execute until selected stack frame returns.
    Usage: finish
    Upon return, the value returned is printed and put in the value history."""
    stepper = _stepper(session)
    stack = session.target.frames
    frame = stack.selected
    if stack.frame(frame.level + 1) is None:
        raise CommandError("\"finish\" not meaningful in the outermost frame.")
    if session.from_tty:
        session.out("Run till exit from " + frame_text(session, frame))
    result = stepper.finish(frame)
    _report(session, stepper, result.stop)
    if result.value is not None:
        number = session.record_history(result.value)
        session.out(f"Value returned is ${number} = {session.format_value(result.value)}")


def _locations(session: "Session", spec: str) -> list[int]:
    locs = session.target.resolve_location(spec, session.evaluate_address)
    addresses = [loc.address for loc in locs if loc.address is not None]
    if not addresses:
        raise CommandError(f"Function \"{spec}\" not defined.")
    return addresses


@command("until", group="running", aliases=("u",), repeat=True)
def cmd_until(session: "Session", arg: str) -> None:
    """Execute until past the current line or past a LOCATION.
    Usage: until [LOCATION]
    Without argument, like "next" but a jump backward (a loop) does not stop it.
    With LOCATION, run until it is reached in the current frame, or the frame returns."""
    stepper = _stepper(session)
    if not arg.strip():
        stop = stepper.until_next()
    else:
        frame = session.target.frames.selected
        stop = stepper.until_location(_locations(session, arg), frame, anywhere=False)
    _report(session, stepper, stop)


@command("advance", group="running", repeat=True)
def cmd_advance(session: "Session", arg: str) -> None:
    """Continue the program up to the given location (same form as args for break command).
    Usage: advance LOCATION
    Execution also stops upon exit from the current stack frame."""
    stepper = _stepper(session)
    if not arg.strip():
        raise CommandError("Argument required (a location).")
    frame = session.target.frames.selected
    stop = stepper.until_location(_locations(session, arg), frame, anywhere=True)
    _report(session, stepper, stop)
