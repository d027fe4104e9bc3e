"""The per-hit path of breakpoints that only report and continue: conditions and dprintf.

Formats and expressions are parsed once per location; each hit evaluates them in frame 0
of the hit (inlined frames shown as a stop there would show them) inside Target.cont,
without making or reporting a Stop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydbg.engine.printf import PrintfCommand, format_values, parse_printf
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.cli.session import Session
    from pydbg.engine.breakpoints import Breakpoint
    from pydbg.engine.target import Target
    from pydbg.ptrace import StopEvent

_CACHE_KEY = "dprintf_parsed"


@dataclass
class _Parsed:
    commands: list[str]                        # the body this was parsed from
    printf: PrintfCommand | None               # None: not a lone printf, run the body
    nodes: dict[int, list[Any]] = field(default_factory=dict)  # per address: argument ASTs


def hit_frame(target: "Target"):
    """Frame 0 of the breakpoint hit being decided (before any Stop exists): built as for
    a stop at the breakpoints there, so a breakpoint on an inlined function sees its frame,
    and shared by every condition and dprintf of this hit."""
    from pydbg.engine.frames import FrameStack
    from pydbg.engine.stops import Stop, StopKind
    process = target.require_process()
    regs = process.get_registers()
    cached = getattr(target, "_hit_frames", None)
    # The Registers object lives exactly as long as this stop of this thread.
    if cached is not None and cached[0] is regs:
        return cached[1].frame(0)
    pc = regs.rip
    stop = Stop(StopKind.BREAKPOINT, process.current_tid, pc=pc, pid=process.pid)
    stop.breakpoints = target.breakpoints.at_address(pc)
    stack = FrameStack(target, target.registers(), stop)
    target._hit_frames = (regs, stack)
    return stack.frame(0)


def dprintf_hit(session: "Session", bp: "Breakpoint", event: "StopEvent") -> None:
    """Print one dprintf hit (gdb's dprintf-style gdb: printf in the debugger)."""
    parsed = bp.extra.get(_CACHE_KEY)
    if parsed is None or parsed.commands != bp.commands:
        parsed = bp.extra[_CACHE_KEY] = _parse(bp.commands)
    target = session.target
    try:
        if parsed.printf is None:
            from pydbg.cli.commands.scripting import execute_body
            # Frame 0 of the hit, whatever frame was selected before `continue`.
            target.frames.selected_level = 0
            execute_body(session, bp.commands)
            return
        inspector = session.inspector(frame=hit_frame(target))
        evaluator = inspector.evaluator()
        address = event.address if event.address is not None else (event.pc or 0)
        nodes = parsed.nodes.get(address)
        if nodes is None:
            nodes = parsed.nodes[address] = [evaluator.parse(text)
                                             for text in parsed.printf.arguments]
        try:
            values = [evaluator.eval(node) for node in nodes]
        finally:
            for warning in inspector.warnings:
                session.err(warning)
        session.write(format_values(parsed.printf, values, target.read_memory))
    except PydbgError as exc:
        session.err(str(exc))
    finally:
        session.flush()


def _parse(commands: list[str]) -> _Parsed:
    lines = [c.strip() for c in commands if c.strip()]
    if len(lines) == 1 and lines[0].startswith("printf "):
        try:
            return _Parsed(list(commands), parse_printf(lines[0][len("printf "):]))
        except PydbgError:
            pass   # the body reports it, as the printf command would
    return _Parsed(list(commands), None)
