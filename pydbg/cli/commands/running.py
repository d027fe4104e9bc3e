"""Running the program: run, start, starti, continue, stepi, nexti, kill, attach, detach, file, quit."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command
from pydbg.engine.stops import StopKind
from pydbg.errors import CommandError, TargetError

if TYPE_CHECKING:
    from pydbg.cli.session import Session


def _count(arg: str, what: str = "count") -> int:
    arg = arg.strip()
    if not arg:
        return 1
    try:
        n = int(arg, 0)
    except ValueError:
        raise CommandError(f"No symbol \"{arg}\" in current context.") from None
    return n


def _start_process(session: "Session", arg: str, *, stop_at_main: bool,
                   stop_at_entry: bool = False) -> None:
    target = session.target
    if target.executable is None:
        raise TargetError("No executable file specified.\n"
                          "Use the \"file\" or \"exec-file\" command.")
    if target.is_running:
        if not session.ask("The program being debugged has been started already.\n"
                           "Start it from the beginning? (y or n) "):
            raise CommandError("Program not restarted.")
        target.kill()
    args = shlex.split(arg) if arg.strip() else None
    if stop_at_main:
        bp = target.add_breakpoint("main", temporary=True)
        session.out(breakpoint_set_message(bp))
    if session.from_tty:
        shown = " ".join([target.executable, *(args if args is not None else target.args)])
        session.out(f"Starting program: {shown} ")
    session.flush()
    stop = target.run(args, stop_at_entry=True)
    if stop_at_entry:
        stop.entry = True       # gdb's "Program stopped." with the frame line
        stop.source_only = False
        target.last_stop = stop
    else:
        stop = target.cont(check_condition=session.check_condition)
    session.report_stop(stop)


def breakpoint_set_message(bp) -> str:
    """gdb's 'Breakpoint 1 at 0x1139: file basic.c, line 12.'"""
    word = "Temporary breakpoint" if bp.temporary else "Breakpoint"
    if bp.kind == "dprintf":
        word = "Dprintf"
    locs = bp.locations
    if not locs:
        return f"{word} {bp.number} ({bp.spec}) pending."
    first = locs[0]
    addr = first.address if first.address is not None else first.file_address
    if len(locs) > 1:
        spec = bp.extra.get("canonical", bp.spec)
        return f"{word} {bp.number} at {addr:#x}: {spec}. ({len(locs)} locations)"
    if first.file and first.line:
        return f"{word} {bp.number} at {addr:#x}: file {first.file}, line {first.line}."
    return f"{word} {bp.number} at {addr:#x}"


@command("run", group="running", aliases=("r",))
def cmd_run(session: "Session", arg: str) -> None:
    """Start debugged program.
    Usage: run [ARGS...]
    ARGS are passed to the program (a shell is not used: quotes group words).
    With no ARGS, the arguments of the previous run (or of --args) are used again.
    A running program is killed first and started again; breakpoints are kept."""
    _start_process(session, arg, stop_at_main=False)


@command("start", group="running")
def cmd_start(session: "Session", arg: str) -> None:
    """Start the debugged program stopping at the beginning of the main procedure.
    Usage: start [ARGS...]
    Sets a temporary breakpoint on main, then runs as `run` does."""
    _start_process(session, arg, stop_at_main=True)


@command("starti", group="running")
def cmd_starti(session: "Session", arg: str) -> None:
    """Start the debugged program stopping at the first instruction.
    Usage: starti [ARGS...]
    ARGS are passed to the program, as with `run`."""
    _start_process(session, arg, stop_at_main=False, stop_at_entry=True)


@command("continue", group="running", aliases=("c", "cont", "fg"), repeat=True)
def cmd_continue(session: "Session", arg: str) -> None:
    """Continue program being debugged, after signal or breakpoint.
    Usage: continue [N]
    If N is given, the breakpoint the program stopped at is ignored N-1 more times."""
    target = session.target
    target.require_process()
    n = _count(arg)
    last = target.last_stop
    if n > 1 and last is not None and last.kind is StopKind.BREAKPOINT and last.breakpoints:
        bp = last.breakpoints[0]
        bp.ignore_count = n - 1
        if session.from_tty:
            session.out(f"Will ignore next {n - 1} crossings of breakpoint {bp.number}.  "
                        "Continuing.")
    elif session.from_tty:
        session.out("Continuing.")
    session.flush()
    stop = target.cont(check_condition=session.check_condition)
    session.report_stop(stop)


def _step_instructions(session: "Session", arg: str, over_calls: bool) -> None:
    from pydbg.engine.stepping import Stepper
    target = session.target
    target.require_process()
    count = _count(arg)
    if count <= 0:
        return
    # The stepping engine decides, by frame ids, whether gdb shows the frame line too.
    session.report_stop(Stepper(target, session.check_condition).stepi(over_calls, count))


@command("stepi", group="running", aliases=("si",), repeat=True)
def cmd_stepi(session: "Session", arg: str) -> None:
    """Step one instruction exactly.
    Usage: stepi [N]"""
    _step_instructions(session, arg, over_calls=False)


@command("nexti", group="running", aliases=("ni",), repeat=True)
def cmd_nexti(session: "Session", arg: str) -> None:
    """Step one instruction, but proceed through subroutine calls.
    Usage: nexti [N]"""
    _step_instructions(session, arg, over_calls=True)


@command("kill", group="running", aliases=("k",))
def cmd_kill(session: "Session", arg: str) -> None:
    """Kill execution of program being debugged."""
    target = session.target
    process = target.require_process()
    if not session.ask("Kill the program being debugged? (y or n) "):
        raise CommandError("Not confirmed.")
    pid = process.pid
    target.kill()
    session.out(f"[Inferior 1 (process {pid}) killed]")
    session.previous_location = None


@command("attach", group="running")
def cmd_attach(session: "Session", arg: str) -> None:
    """Attach to a process or file outside of GDB.
    Usage: attach PID
    The process is stopped; `detach` lets it run on, `quit` detaches too."""
    arg = arg.strip()
    if not arg:
        raise CommandError("Argument required (process-id to attach).")
    try:
        pid = int(arg, 0)
    except ValueError:
        raise CommandError(f"Illegal process-id: {arg}.") from None
    target = session.target
    if target.is_running:
        if not session.ask("A program is being debugged already.  Kill it? (y or n) "):
            raise CommandError("Not killed.")
        target.kill()
    stop = target.attach(pid)
    session.out(f"Attaching to program: {target.executable}, process {pid}")
    session.report_stop(stop)


@command("detach", group="running")
def cmd_detach(session: "Session", arg: str) -> None:
    """Detach the process: restore its code and let it run on.
    Every breakpoint byte and debug register is restored first."""
    target = session.target
    target.require_process()
    exe = target.executable
    pid = target.detach()
    if session.from_tty:
        session.out(f"Detaching from program: {exe}, process {pid}")
    session.out(f"[Inferior 1 (process {pid}) detached]")
    session.previous_location = None


@command("file", group="files")
def cmd_file(session: "Session", arg: str) -> None:
    """Use FILE as program to be debugged.
    Usage: file FILE"""
    path = arg.strip()
    if not path:
        raise CommandError("No executable file now.")
    session.target.load_executable(path)
    image = session.target.exe_image
    if image is not None and not image.has_symtab and not image.has_debug_info:
        session.out(f"Reading symbols from {path}...")
        session.out(f"(No debugging symbols found in {path})")
    elif session.from_tty:
        session.out(f"Reading symbols from {path}...")


@command("quit", group="support", aliases=("q", "exit"))
def cmd_quit(session: "Session", arg: str) -> None:
    """Exit pydbg.
    Usage: quit [EXPR]
    A program pydbg started is killed; one it attached to is detached and keeps running."""
    target = session.target
    if target.is_running and target.process is not None:
        verb = "kill" if target.process.spawned else "detach"
        if not session.ask(f"A debugging session is active.\n\n\tInferior 1 [process "
                           f"{target.process.pid}] will be {verb}ed.\n\n"
                           f"Quit anyway? (y or n) "):
            raise CommandError("Not confirmed.")
    if arg.strip():
        session.exit_code = session.evaluate_int(arg)
    session.quit_requested = True
