"""Examining the stack: backtrace, frame, up, down, info frame."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command
from pydbg.engine.frames import Frame, FrameKind, FrameStack, Origin
from pydbg.engine.report import frame_line
from pydbg.engine.source import ErrorText, SourceRef
from pydbg.errors import CommandError

if TYPE_CHECKING:
    from pydbg.cli.session import Session


def frame_args(session: "Session", frame: Frame) -> str | None:
    """Arguments of a frame line, read by the data layer in that frame."""
    from pydbg.engine.data import frame_args_for
    if frame.kind in (FrameKind.SIGTRAMP, FrameKind.DUMMY):
        return None
    return frame_args_for(session.target, frame)


def frame_text(session: "Session", frame: Frame, *, print_level: bool = True) -> str:
    """'#1  0x0000555555555174 in main () at t.c:3' (or '<signal handler called>')."""
    prefix = f"#{frame.level:<2} " if print_level else ""
    if frame.kind is FrameKind.SIGTRAMP:
        return prefix + "<signal handler called>"
    if frame.kind is FrameKind.DUMMY:
        return prefix + frame.location.function     # <function called from gdb>
    return prefix + frame_line(frame.location, args_text=frame_args(session, frame))


def print_frame_and_source(session: "Session", frame: Frame) -> None:
    """gdb's print_stack_frame(frame, 1, SRC_AND_LOC): the frame line, then its source."""
    session.out(frame_text(session, frame))
    loc = frame.location
    sources = session.target.sources
    if loc.line is not None and loc.fullname is not None:
        text = sources.stop_line(SourceRef(loc.file or loc.fullname, loc.fullname, loc.library),
                                 loc.line)
        if isinstance(text, ErrorText):
            session.err(text)
        elif text:
            session.out(text)


def _stack(session: "Session") -> FrameStack:
    return session.target.frames


@command("backtrace", group="stack", aliases=("bt", "where"))
def cmd_backtrace(session: "Session", arg: str) -> None:
    """Print backtrace of all stack frames, or innermost COUNT frames.
    Usage: backtrace [full] [COUNT | -COUNT]
    With a negative COUNT, print the outermost -COUNT frames.
    `full` also prints the local variables of each frame.
    Frames of inlined calls are shown without an address, as in gdb."""
    full = False
    count: int | None = None
    for word in arg.split():
        if word in ("full", "-full"):
            full = True
        elif word in ("no-filters", "-no-filters", "hide", "-hide"):
            continue
        else:
            if count is not None:
                raise CommandError(f"A syntax error in expression, near `{word}'.")
            try:
                count = int(word, 0)
            except ValueError:
                count = session.evaluate_int(word)
    stack = _stack(session)
    frames: list[Frame]
    if count is not None and count < 0:
        total = stack.count()
        frames = [f for f in stack if f.level >= total + count]
    else:
        frames = []
        for f in stack:
            if count is not None and len(frames) >= count:
                break
            frames.append(f)
    for f in frames:
        session.out(frame_text(session, f))
        if full:
            for line in _locals_lines(session, f):
                session.out(line)
    if count is not None and count > 0 and stack.frame(count) is not None:
        if session.from_tty:
            session.out("(More stack frames follow...)")
    elif stack.stop_reason and (count is None or count < 0 or stack.frame(count) is None):
        session.out(stack.stop_reason)


def _locals_lines(session: "Session", frame: Frame) -> list[str]:
    from pydbg.engine.data import frame_locals_lines
    if frame.kind is FrameKind.SIGTRAMP:
        return []
    if frame.kind is FrameKind.DUMMY:
        return ["No symbol table info available."]
    if frame.location.line is None:
        return ["No symbol table info available."]
    lines = frame_locals_lines(session.target, frame)
    if lines in (["No locals."], ["No symbol table info available."]):
        return lines            # gdb's messages are not indented like variables
    return [" " * 8 + line for line in lines]


def _select_and_print(session: "Session", level: int) -> None:
    stack = _stack(session)
    frame = stack.select(level)
    print_frame_and_source(session, frame)


@command("frame", group="stack", aliases=("f",))
def cmd_frame(session: "Session", arg: str) -> None:
    """Select and print a stack frame.
    Usage: frame [LEVEL]
           frame level LEVEL
           frame function NAME
    With no argument, print the selected frame."""
    words = arg.split()
    if words and not session.target.is_running:
        raise CommandError("No registers.")
    stack = _stack(session)
    if not words:
        print_frame_and_source(session, stack.selected)
        return
    if words[0] == "level" and len(words) == 2:
        _select_and_print(session, _level(session, words[1]))
        return
    if words[0] == "function" and len(words) == 2:
        for f in stack:
            if f.function == words[1]:
                _select_and_print(session, f.level)
                return
        raise CommandError(f"No frame for function \"{words[1]}\".")
    _select_and_print(session, _level(session, arg.strip()))


def _level(session: "Session", text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        return session.evaluate_int(text)


def _move(session: "Session", arg: str, direction: int, silent: bool = False) -> None:
    stack = _stack(session)
    count = _level(session, arg.strip()) if arg.strip() else 1
    target_level = stack.selected_level + direction * count
    if target_level < 0:
        if not arg.strip():
            raise CommandError("Bottom (innermost) frame selected; you cannot go down.")
        target_level = 0
    elif stack.frame(target_level) is None:
        if not arg.strip():
            raise CommandError("Initial frame selected; you cannot go up.")
        target_level = stack.count() - 1
    if silent:
        stack.select(target_level)
    else:
        _select_and_print(session, target_level)


@command("up", group="stack", repeat=True)
def cmd_up(session: "Session", arg: str) -> None:
    """Select and print stack frame that called this one.
    Usage: up [COUNT]
    An argument says how many frames up to go."""
    _move(session, arg, +1)


@command("down", group="stack", aliases=("do", "dow"), repeat=True)
def cmd_down(session: "Session", arg: str) -> None:
    """Select and print stack frame called by this one.
    Usage: down [COUNT]
    An argument says how many frames down to go."""
    _move(session, arg, -1)


@command("frame", group="stack", prefix="info", aliases=("f",))
def cmd_info_frame(session: "Session", arg: str) -> None:
    """All about the selected stack frame.
    Usage: info frame [LEVEL]
    Shows the frame's address (its CFA), pc, saved return address, caller and callee,
    argument and locals base, and where the caller's registers were saved."""
    stack = _stack(session)
    frame = stack.frame(_level(session, arg.strip())) if arg.strip() else stack.selected
    if frame is None:
        raise CommandError(f"No frame at level {arg.strip()}.")
    for line in info_frame_lines(session, stack, frame):
        session.out(line)


def info_frame_lines(session: "Session", stack: FrameStack, frame: Frame) -> list[str]:
    from pydbg.engine.stepping import _outer_of_physical
    out = [f"Stack level {frame.level}, frame at {_hex(frame.cfa)}:"]
    loc = frame.location
    text = f" rip = {frame.pc:#x}"
    if frame.kind not in (FrameKind.SIGTRAMP, FrameKind.DUMMY) and loc.function:
        text += f" in {loc.function}"
    if loc.file is not None and loc.line is not None:
        text += f" ({loc.file}:{loc.line})"
    caller_regs = stack.caller_regs(_skip_artificial(stack, frame))
    saved_rip = caller_regs[0].get(16) if caller_regs is not None else None
    text += "; saved rip = " + (f"{saved_rip:#x}" if saved_rip is not None else "<not saved>")
    out.append(text)
    caller = stack.frame(frame.level + 1)
    inner = stack.frame(frame.level - 1) if frame.level > 0 else None
    text = ""
    if caller is None:
        if stack.stop_reason:
            reason = stack.stop_reason.replace("Backtrace stopped: ", "")
            out.append(f" Outermost frame: {reason}")
    elif frame.kind is FrameKind.TAILCALL:
        text += " tail call frame"
    elif frame.kind is FrameKind.INLINE:
        text += f" inlined into frame {caller.level}"
    else:
        text += f" called by frame at {_hex(caller.cfa)}"
    if inner is not None and caller is not None:
        text += ","
    if inner is not None:
        text += f" caller of frame at {_hex(inner.cfa)}"
    if text:
        out.append(text)
    if loc.line is not None:
        out.append(" source language c.")
    base = stack.frame_base(frame)
    if base is None:
        out.append(" Arglist at unknown address.")
        locals_text = " Locals at unknown address,"
    else:
        args = frame_args(session, frame) or ""
        out.append(f" Arglist at {base:#x}, args: {args}")
        locals_text = f" Locals at {base:#x},"
    sp_text = _previous_sp(stack, frame, caller_regs)
    out.append(locals_text + sp_text)
    saved = stack.saved_registers(frame)
    if saved:
        out.append(" Saved registers:")
        out.append(" " + ",".join(f" {name} at {addr:#x}" for name, addr in saved))
    return out


def _skip_artificial(stack: FrameStack, frame: Frame) -> Frame:
    """gdb's skip_artificial_frames: inlined and tail-call frames up to a real one."""
    from pydbg.engine.stepping import _outer_of_physical
    f = _outer_of_physical(stack, frame)
    while f.kind is FrameKind.TAILCALL:
        nxt = stack.frame(f.level + 1)
        if nxt is None:
            break
        f = _outer_of_physical(stack, nxt)
    return f


def _previous_sp(stack: FrameStack, frame: Frame, caller_regs) -> str:
    if frame.kind is FrameKind.TAILCALL:
        return " Previous frame's sp in rsp"
    if frame.kind is FrameKind.INLINE:
        origin: Origin | None = frame.physical.origins.get(7)
        value = frame.physical.regs.get(7)
    else:
        if caller_regs is None:
            return ""
        origin = caller_regs[1].get(7)
        value = caller_regs[0].get(7)
    if origin is None or value is None:
        return ""
    if origin.kind == "mem" and origin.address is not None:
        return f" Previous frame's sp at {origin.address:#x}"
    if origin.kind == "reg":
        return " Previous frame's sp in rsp"
    return f" Previous frame's sp is {value:#x}"


def _hex(value: int | None) -> str:
    return f"{value:#x}" if value is not None else "<unavailable>"


@command("up-silently", group="stack")
def cmd_up_silently(session: "Session", arg: str) -> None:
    """Same as the `up' command, but does not print anything.
    This is useful in command scripts."""
    _move(session, arg, +1, silent=True)


@command("down-silently", group="stack")
def cmd_down_silently(session: "Session", arg: str) -> None:
    """Same as the `down' command, but does not print anything.
    This is useful in command scripts."""
    _move(session, arg, -1, silent=True)


@command("select-frame", group="stack")
def cmd_select_frame(session: "Session", arg: str) -> None:
    """Select a stack frame without printing anything.
    Usage: select-frame LEVEL"""
    if not session.target.is_running:
        raise CommandError("No stack.")
    _stack(session).select(_level(session, arg.strip()) if arg.strip() else 0)
