"""gdb's text for stops and frames, shared by the REPL, batch mode and trace output."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from pydbg.engine.signals import signal_description, signal_name
from pydbg.engine.stops import CodeLocation, Stop, StopKind

_source_cache: dict[str, list[str] | None] = {}


def source_lines(path: str | None) -> list[str] | None:
    """The lines of a source file (cached), or None when it cannot be read."""
    if path is None:
        return None
    if path not in _source_cache:
        try:
            text = Path(path).read_text(errors="replace")
            _source_cache[path] = text.splitlines()
        except OSError:
            _source_cache[path] = None
    return _source_cache[path]


def source_line_text(loc: CodeLocation, sources=None) -> str | None:
    """gdb's '12\\t<source>' line for a location, or its message for a missing file.

    With SOURCES (an engine.source.SourceManager) the file is found through `directory`
    and substitute-path, and `list` is centred on the line afterwards.
    """
    if loc.line is None:
        return None
    if sources is not None and loc.fullname is not None:
        from pydbg.engine.source import SourceRef
        return sources.stop_line(SourceRef(loc.file or loc.fullname, loc.fullname, loc.library),
                                 loc.line)
    lines = source_lines(loc.fullname)
    if lines is None:
        return f"{loc.line}\t{loc.file}: No such file or directory."
    if 1 <= loc.line <= len(lines):
        return f"{loc.line}\t{lines[loc.line - 1]}"
    return f"Line number {loc.line} out of range; \"{loc.file}\" has {len(lines)} lines."


def frame_function_text(loc: CodeLocation, args_text: str | None = None) -> str:
    name = loc.function or "??"
    return f"{name} ({args_text or ''})"


SIGTRAMP_FUNCTION = "<signal handler called>"

# The first line of a watchpoint's report (engine/watchpoints.py TITLES), which gdb's
# maybe_print_thread_hit_breakpoint prefixes with the thread.
_WATCHPOINT_TITLE = re.compile(r"Hardware (?:read |access \(read/write\) )?watchpoint \d+: ")


def frame_line(loc: CodeLocation, *, print_address: bool | None = None,
               args_text: str | None = None) -> str:
    """'add (a=1, b=2) at basic.c:12' or '0x000055555555513d in crash () at crash.c:10'."""
    if loc.function == SIGTRAMP_FUNCTION:
        return SIGTRAMP_FUNCTION      # a signal trampoline frame (engine.frames)
    if print_address is None:
        print_address = not loc.line_start or loc.line is None
    text = ""
    if print_address:
        text = f"0x{loc.pc:016x} in "
    text += frame_function_text(loc, args_text)
    if loc.file is not None and loc.line is not None:
        text += f" at {loc.file}:{loc.line}"
    elif loc.library is not None:
        text += f" from {loc.library}"
    return text


def event_lines(stop: Stop, thread_label: str | None = None,
                switch_notice: str | None = None) -> list[str]:
    """What gdb prints as it handles a signal (or `starti`'s entry) event, before its
    normal_stop runs hook-stop: a blank line, `Program received signal ...` and the
    `[Switching to ...]` notice."""
    out: list[str] = []
    if stop.kind is StopKind.SIGNAL:
        sig = stop.signal or 0
        out.append("")
        out.append(f"{thread_label or 'Program'} received signal {signal_name(sig)}, "
                   f"{signal_description(sig)}.")
    elif stop.kind is StopKind.STEP and stop.entry:
        out.append("")
        out.append(f"{thread_label or 'Program'} stopped.")
    else:
        return out
    if switch_notice is not None:
        out.append(switch_notice)
    return out


def stop_lines(stop: Stop, pid: int | None,
               args_for: Callable[[CodeLocation], str | None] | None = None,
               previous: CodeLocation | None = None, sources=None,
               thread_label: str | None = None, switch_notice: str | None = None,
               event: bool = True) -> list[str]:
    """The lines gdb prints when the program stops (after run/continue/step...).

    THREAD_LABEL (`Thread 2 "prog"`, engine/threads.py) names the thread that stopped, as
    gdb does once the program has had several: `Thread 2 "prog" hit Breakpoint 1, ...`.
    SWITCH_NOTICE (`[Switching to Thread ...]`) comes first, or after the line of a signal,
    which gdb prints as it handles the event, before normal_stop. EVENT off leaves out
    those lines (event_lines), printed already before hook-stop.
    """
    hit = f"{thread_label} hit " if thread_label else ""
    out: list[str] = []
    if switch_notice is not None and stop.kind is not StopKind.SIGNAL and not stop.entry:
        out.append(switch_notice)
    loc = stop.location
    args_text = args_for(loc) if (args_for is not None and loc is not None) else None
    if stop.kind is StopKind.EXITED:
        code = stop.exit_code or 0
        if code == 0:
            out.append(f"[Inferior 1 (process {pid}) exited normally]")
        else:
            out.append(f"[Inferior 1 (process {pid}) exited with code {code:02o}]")
        return out
    if stop.kind is StopKind.KILLED:
        sig = stop.signal or 9
        out.append("")
        out.append(f"Program terminated with signal {signal_name(sig)}, "
                   f"{signal_description(sig)}.")
        out.append("The program no longer exists.")
        return out
    if stop.condition_error:
        # gdb reports a condition that cannot be evaluated on stderr, then stops.
        from pydbg.engine.source import ErrorText
        out.extend(ErrorText(line) for line in stop.condition_error.splitlines())
    if stop.messages and stop.kind is not StopKind.WATCHPOINT:
        out.extend(stop.messages)   # a watched frame returned here (engine/watchpoints.py)
    if stop.kind is StopKind.BREAKPOINT and stop.breakpoints:
        # A dprintf sharing the address printed already; gdb names the breakpoint that
        # stopped (a dprintf's own bpstat prints nothing).
        bp = next((b for b in stop.breakpoints if b.kind != "dprintf"), stop.breakpoints[0])
        out.append("")
        name = bp.description()
        if len(bp.locations) > 1:
            # gdb names the location hit of a multi-location breakpoint: "Breakpoint 1.2".
            for index, bl in enumerate(bp.locations, 1):
                if bl.address == stop.pc:
                    name += f".{index}"
                    break
        if loc is not None:
            out.append(f"{hit}{name}, {frame_line(loc, args_text=args_text)}")
    elif stop.kind is StopKind.SIGNAL:
        if event:
            out.extend(event_lines(stop, thread_label, switch_notice))
        if loc is not None:
            out.append(frame_line(loc, args_text=args_text))
    elif stop.kind is StopKind.WATCHPOINT:
        out.extend(hit + m if hit and _WATCHPOINT_TITLE.match(m) else m for m in stop.messages)
        if loc is not None:
            out.append(frame_line(loc, args_text=args_text))
    elif stop.kind in (StopKind.STEP, StopKind.ATTACHED):
        if stop.entry and event:
            out.extend(event_lines(stop, thread_label, switch_notice))
        if loc is None:
            return out
        same_function = previous is not None and previous.function == loc.function and \
            previous.function is not None
        if stop.source_only is not None:   # decided by the stepping engine (frame ids)
            same_function = stop.source_only
        if stop.kind is StopKind.ATTACHED or not same_function or loc.line is None:
            out.append(frame_line(loc, args_text=args_text))
            if loc.line is None:
                return out
        elif not loc.line_start:
            # Mid-line after stepi in the same function: gdb prefixes the pc to the source.
            text = source_line_text(loc, sources)
            if text is not None:
                from pydbg.engine.source import ErrorText
                out.append(text if isinstance(text, ErrorText) else f"0x{loc.pc:016x}\t{text}")
            return out
    if loc is not None and loc.line is not None:
        text = source_line_text(loc, sources)
        if text is not None:
            out.append(text)
    return out
