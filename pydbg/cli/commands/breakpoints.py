"""Breakpoint commands: break, tbreak, delete, disable, enable, condition, ignore, info break."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command, prefix_command, prefix_table
from pydbg.cli.commands.running import breakpoint_set_message
from pydbg.engine.breakpoints import Breakpoint
from pydbg.errors import CommandError, SymbolError

if TYPE_CHECKING:
    from pydbg.cli.session import Session

_IF = re.compile(r"(?:^|\s)if(?:\s|\(|$)")


def split_condition(arg: str) -> tuple[str, str | None]:
    """'add if a == 1' -> ('add', 'a == 1'); gdb also accepts 'if' right after the location."""
    m = _IF.search(arg)
    if m is None:
        return arg.strip(), None
    location = arg[:m.start()].strip()
    cond = arg[m.end() - (1 if arg[m.end() - 1:m.end()] == "(" else 0):].strip()
    if not cond:
        raise CommandError("Argument required (boolean expression).")
    return location, cond


def _set_breakpoint(session: "Session", arg: str, *, temporary: bool) -> Breakpoint | None:
    location, cond = split_condition(arg)
    target = session.target
    if cond is not None:
        session.parse_expression(cond)  # reject a bad condition before setting anything
    try:
        bp = target.add_breakpoint(location, temporary=temporary, condition=cond,
                                   evaluate=session.evaluate_address)
    except SymbolError as exc:
        # gdb's NOT_FOUND_ERROR: a library loaded later may define the function.
        if not str(exc).startswith(("Function \"", "No source file named")):
            raise
        pending = target.settings.breakpoint_pending
        if pending == "off":
            raise
        if pending == "auto":
            question = "Make breakpoint pending on future shared library load? (y or [n]) "
            if not target.settings.confirm:
                raise  # gdb's nquery answers its default, no
            if session.batch or session.confirm is None or not sys.stdin.isatty():
                # Not a terminal: gdb says what it asked, takes the default and goes on;
                # declining is not a failure (gdb -batch exits 0 after it).
                session.err(str(exc))
                session.out(question + "[answered N; input not from terminal]")
                return None
            session.err(str(exc))
            if not session.confirm(question):
                return None
        else:
            session.err(str(exc))
        bp = target.add_pending_breakpoint(location, temporary=temporary, condition=cond)
    if location.strip().isdigit() and len(bp.locations) > 1:
        # gdb names a bare LINE by its canonical FULLNAME:LINE when it has several places.
        full = _default_fullname(target)
        if full:
            bp.extra["canonical"] = f"{full}:{location.strip()}"
    session.out(breakpoint_set_message(bp))
    return bp


def _default_fullname(target) -> str | None:
    """The absolute path of the file a bare line number refers to (gdb's default symtab)."""
    stop = target.last_stop
    if stop is not None and stop.location is not None and stop.location.fullname:
        return stop.location.fullname
    if target.sources.current is not None:
        return target.sources.current.fullname
    return target.exe_image.main_source_file() if target.exe_image is not None else None


@command("break", group="breakpoints", aliases=("b", "br", "bre", "brea"))
def cmd_break(session: "Session", arg: str) -> None:
    """Set breakpoint at specified location.
    Usage: break [LOCATION] [if CONDITION]
    LOCATION may be a function name (add), a line number (12, in the current file),
    FILE:LINE (basic.c:12), or *ADDRESS (*0x401136, *main+4).
    With no LOCATION, uses the current execution address of the selected frame.
    CONDITION is evaluated each time the breakpoint is reached; the program stops
    only when it is true (non-zero)."""
    _set_breakpoint(session, arg, temporary=False)


@command("tbreak", group="breakpoints")
def cmd_tbreak(session: "Session", arg: str) -> None:
    """Set a temporary breakpoint.
    Like "break" except the breakpoint is only temporary,
    so it will be deleted when hit."""
    _set_breakpoint(session, arg, temporary=True)


def parse_numbers(arg: str, what: str = "breakpoint") -> list[int]:
    """gdb's number lists: '1 3 5-7'."""
    numbers: list[int] = []
    for word in arg.split():
        m = re.fullmatch(r"(\d+)-(\d+)", word)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise CommandError(f"inverted range")
            numbers.extend(range(lo, hi + 1))
        elif word.lstrip("$").isdigit():
            numbers.append(int(word.lstrip("$")))
        else:
            raise CommandError(f"Convenience variable must have integer value.\n"
                               f"Args must be numbers or '$' variables."
                               if word.startswith("$") else
                               f"Arguments must be {what} numbers.")
    return numbers


# delete/disable/enable are prefix commands (`delete display 2`) that also take numbers.
for _prefix in ("delete", "disable", "enable"):
    prefix_table(_prefix)


@command("delete", group="breakpoints", aliases=("d",), allow_unknown_sub=True)
def cmd_delete(session: "Session", arg: str) -> None:
    """Delete all or some breakpoints.
    Usage: delete [BREAKPOINTNUM]...
    Arguments are breakpoint numbers with spaces in between, or ranges like 2-4.
    To delete all breakpoints, give no argument."""
    table = session.target.breakpoints
    words = arg.split()
    if words and words[0] in ("breakpoints", "br", "b"):
        words = words[1:]
    if not words:
        if table.user_breakpoints() and not session.ask("Delete all breakpoints? (y or n) "):
            return
        for bp in table.user_breakpoints():
            table.remove(bp.number)
        session.target.sync_sites()
        return
    for number in parse_numbers(" ".join(words)):
        bp = table.get(number)
        if bp is None or bp.internal:
            # gdb's map_breakpoint_numbers prints this (stdout), it is no error.
            session.out(f"No breakpoint number {number}.")
            continue
        table.remove(number)
    session.target.sync_sites()


def _set_enabled(session: "Session", arg: str, enabled: bool) -> None:
    table = session.target.breakpoints
    words = arg.split()
    once = delete = False
    count = 1
    if words and words[0] in ("once", "delete", "count") and enabled:
        once, delete = words[0] in ("once", "count"), words[0] == "delete"
        if words[0] == "count":
            if len(words) < 2:
                raise CommandError("Argument required (hit count).")
            count = _enable_count(words[1])
            words = words[1:]
        words = words[1:]
    if words and words[0] in ("breakpoints",):
        words = words[1:]
    targets = table.user_breakpoints() if not words else []
    for number in parse_numbers(" ".join(words)) if words else []:
        bp = table.get(number)
        if bp is None or bp.internal:
            # gdb's map_breakpoint_numbers prints this (stdout), it is no error.
            session.out(f"No breakpoint number {number}.")
            continue
        targets.append(bp)
    for bp in targets:
        bp.enabled = enabled
        if delete:
            bp.temporary = True
            bp.extra.pop("enable_count", None)
        if once:
            # gdb's disp_disable: disabled once it has stopped the program COUNT times.
            bp.temporary = False
            bp.extra["enable_count"] = count
        elif enabled and "enable_count" in bp.extra:
            bp.extra["enable_count"] = 0     # gdb: the disposition stays, the count goes
    session.target.sync_sites()


def _enable_count(text: str) -> int:
    """gdb's get_number: a count that is not a number counts 0 (disabled at the next hit)."""
    try:
        return int(text, 0)
    except ValueError:
        return 0


@command("disable", group="breakpoints", aliases=("disa", "dis"), allow_unknown_sub=True)
def cmd_disable(session: "Session", arg: str) -> None:
    """Disable all or some breakpoints.
    Usage: disable [BREAKPOINTNUM]...
    A disabled breakpoint is not forgotten, but has no effect until re-enabled."""
    _set_enabled(session, arg, False)


@command("enable", group="breakpoints", aliases=("en",), allow_unknown_sub=True)
def cmd_enable(session: "Session", arg: str) -> None:
    """Enable all or some breakpoints.
    Usage: enable [BREAKPOINTNUM]...
           enable once BREAKPOINTNUM...     (disable when hit next)
           enable count N BREAKPOINTNUM...  (disable after N hits)
           enable delete BREAKPOINTNUM...   (delete when hit next)"""
    _set_enabled(session, arg, True)


@command("display", group="data", prefix="delete")
def cmd_delete_display(session: "Session", arg: str) -> None:
    """Cancel some expressions to be displayed when program stops.
    Usage: delete display [NUM]...
    With no argument, cancels every display (after confirmation)."""
    from pydbg.cli.commands.variables import cmd_undisplay
    cmd_undisplay(session, arg)


def _enable_displays(session: "Session", arg: str, enabled: bool) -> None:
    from pydbg.cli.commands.variables import _displays, _map_displays

    def apply(state, d) -> None:
        d.enabled = enabled
    if not arg.strip():
        for d in _displays(session).items:
            d.enabled = enabled
        return
    _map_displays(session, arg, apply)


@command("display", group="data", prefix="disable")
def cmd_disable_display(session: "Session", arg: str) -> None:
    """Disable some expressions to be displayed when program stops.
    Usage: disable display [NUM]...
    With no argument, disables every display."""
    _enable_displays(session, arg, False)


@command("display", group="data", prefix="enable")
def cmd_enable_display(session: "Session", arg: str) -> None:
    """Enable some expressions to be displayed when program stops.
    Usage: enable display [NUM]...
    With no argument, enables every display."""
    _enable_displays(session, arg, True)


def _one_breakpoint(session: "Session", word: str) -> Breakpoint:
    try:
        number = int(word)
    except ValueError:
        raise CommandError(f"Bad breakpoint argument: '{word}'") from None
    bp = session.target.breakpoints.get(number)
    if bp is None or bp.internal:
        raise CommandError(f"No breakpoint number {number}.")
    return bp


@command("condition", group="breakpoints")
def cmd_condition(session: "Session", arg: str) -> None:
    """Specify breakpoint number N to break only if COND is true.
    Usage: condition N COND
    With no COND, breakpoint number N is made unconditional."""
    parts = arg.split(None, 1)
    if not parts:
        raise CommandError("Argument required (breakpoint number).")
    bp = _one_breakpoint(session, parts[0])
    if len(parts) == 1:
        bp.condition = None
        bp.condition_ast = None
        session.out(f"Breakpoint {bp.number} now unconditional.")
        return
    session.parse_expression(parts[1])
    bp.condition = parts[1].strip()
    bp.condition_ast = None


@command("ignore", group="breakpoints")
def cmd_ignore(session: "Session", arg: str) -> None:
    """Set ignore-count of breakpoint number N to COUNT.
    Usage: ignore N COUNT
    The next COUNT times the breakpoint is reached, it does not stop."""
    parts = arg.split()
    if not parts:
        raise CommandError("Argument required (a breakpoint number).")
    bp = _one_breakpoint(session, parts[0])
    if len(parts) < 2:
        raise CommandError("Second argument (specified ignore-count) is missing.")
    count = max(session.evaluate_int(" ".join(parts[1:])), 0)
    bp.ignore_count = count
    if not session.from_tty:   # gdb only reports this to a terminal
        return
    if count == 0:
        session.out(f"Will stop next time breakpoint {bp.number} is reached.")
    elif count == 1:
        session.out(f"Will ignore next crossing of breakpoint {bp.number}.")
    else:
        session.out(f"Will ignore next {count} crossings of breakpoint {bp.number}.")


def _what(session: "Session", loc) -> str:
    if loc.file and loc.line:
        return f"in {loc.function} at {loc.file}:{loc.line}" if loc.function else \
            f"at {loc.file}:{loc.line}"
    addr = loc.address if loc.address is not None else loc.file_address
    sym = session.target.symbolic_suffix(addr)
    return f"<{sym}>" if sym else ""


def breakpoint_table_lines(session: "Session", bps: list[Breakpoint]) -> list[str]:
    watch_kinds = ("hw watchpoint", "read watchpoint", "acc watchpoint", "watchpoint")
    # gdb sizes the Address column for the widest address shown: with only pending
    # breakpoints (no location at all) it is 10 columns, not 18.
    # A hardware watchpoint has locations (gdb's 64-bit address column) only while the
    # program runs; the Type column widens for "read watchpoint".
    # A software watchpoint of a register value has none (is_no_memory_software_watchpoint).
    running = session.target.is_running
    width = 19 if any(bp.locations or (bp.kind in watch_kinds and running and
                                       (bp.kind != "watchpoint" or bp.extra["watch"].ranges))
                      for bp in bps) else 11
    type_width = max([15] + [len(bp.kind) + 1 for bp in bps])
    lines = [f"Num     {'Type':<{type_width}}Disp Enb {'Address':<{width}}What"]
    for bp in bps:
        disp = "del" if bp.temporary else ("dis" if "enable_count" in bp.extra else "keep")
        enb = "y" if bp.enabled else "n"
        if bp.kind in watch_kinds:
            lines.append(f"{bp.number:<8}{bp.kind:<{type_width}}{disp:<5}{enb:<4}"
                         f"{'':<{width}}{bp.spec}")
        elif not bp.locations:
            lines.append(f"{bp.number:<8}{bp.kind:<{type_width}}{disp:<5}{enb:<4}{'<PENDING>':<{width}}{bp.spec}")
        elif len(bp.locations) == 1:
            loc = bp.locations[0]
            addr = loc.address if loc.address is not None else loc.file_address
            # gdb keeps the column's trailing space when there is nothing to say.
            lines.append(f"{bp.number:<8}{bp.kind:<{type_width}}{disp:<5}{enb:<4}"
                         f"{'0x%016x' % addr:<19}{_what(session, loc)}")
        else:
            lines.append(f"{bp.number:<8}{bp.kind:<{type_width}}{disp:<5}{enb:<4}{'<MULTIPLE>':<19}")
        if bp.condition:
            lines.append(f"\tstop only if {bp.condition}")
        if bp.hit_count:
            times = "time" if bp.hit_count == 1 else "times"
            lines.append(f"\tbreakpoint already hit {bp.hit_count} {times}")
        if bp.ignore_count:
            lines.append(f"\tignore next {bp.ignore_count} hits")
        if bp.extra.get("enable_count", 0) > 1:
            lines.append(f"\tdisable after next {bp.extra['enable_count']} hits")
        for line in bp.commands:
            lines.append(f"        {line}")
        if len(bp.locations) > 1:
            for i, loc in enumerate(bp.locations, 1):
                addr = loc.address if loc.address is not None else loc.file_address
                # gdb marks an enabled location of a disabled breakpoint "y-".
                enb = ("y" if bp.enabled else "y-") if loc.enabled else "n"
                lines.append(f"{f'{bp.number}.{i}':<{type_width + 13}}{enb:<4}{'0x%016x' % addr:<19}"
                             f"{_what(session, loc)}".rstrip())
    return lines


def show_breakpoint_table(session: "Session", bps: list[Breakpoint], arg: str,
                          one: str, many: str) -> list[Breakpoint]:
    """Print gdb's table for BPS (filtered by the numbers in ARG); returns what was shown."""
    if arg.strip():
        wanted = set(parse_numbers(arg))
        bps = [b for b in bps if b.number in wanted]
        if not bps:
            session.out(f"No {one} matching '{arg.strip()}'.")
            return []
    if not bps:
        session.out(f"No {many}.")
        return []
    for line in breakpoint_table_lines(session, bps):
        session.out(line)
    return bps


@command("breakpoints", group="breakpoints", prefix="info", aliases=("b", "br", "break"))
def cmd_info_breakpoints(session: "Session", arg: str) -> None:
    """Status of specified breakpoints (all user-settable breakpoints if no argument).
    Usage: info breakpoints [NUM]...
    The "Type" column indicates one of: breakpoint, watchpoint, dprintf.
    The "Disp" column contains one of "keep", "del", or "dis" to indicate
    the disposition of the breakpoint after it gets hit."""
    bps = show_breakpoint_table(session, session.target.breakpoints.user_breakpoints(), arg,
                                "breakpoint or watchpoint", "breakpoints or watchpoints")
    if not bps:
        return
    # gdb leaves $_ (and `x`) at the (first) location of the last breakpoint listed.
    last = [bp.locations[0] for bp in bps if bp.locations]
    if last:
        loc = last[-1]
        session.set_next_address(loc.address if loc.address is not None
                                 else loc.file_address)


prefix_command("breakpoint", parent="set", group="breakpoints",
               doc="Breakpoint specific settings.")
prefix_command("breakpoint", parent="show", group="breakpoints",
               doc="Breakpoint specific settings.")


@command("pending", group="breakpoints", prefix="set breakpoint")
def cmd_set_breakpoint_pending(session: "Session", arg: str) -> None:
    """Set debugger's behavior regarding pending breakpoints.
    If on, an unrecognized breakpoint location will cause gdb to create a
    pending breakpoint.  If off, an unrecognized breakpoint location results in
    an error.  If auto, an unrecognized breakpoint location results in a
    user-query to see if a pending breakpoint should be created."""
    value = arg.strip().lower() or "on"
    values = {"on": "on", "1": "on", "yes": "on", "enable": "on", "off": "off", "0": "off",
              "no": "off", "disable": "off", "auto": "auto", "-1": "auto"}
    if value not in values:
        raise CommandError("\"on\", \"off\" or \"auto\" expected.")
    session.target.settings.breakpoint_pending = values[value]


@command("pending", group="breakpoints", prefix="show breakpoint")
def cmd_show_breakpoint_pending(session: "Session", arg: str) -> None:
    """Show debugger's behavior regarding pending breakpoints."""
    session.out("Debugger's behavior regarding pending breakpoints is "
                f"{session.target.settings.breakpoint_pending}.")
