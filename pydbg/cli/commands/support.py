"""Support commands: help, echo, shell, set/show settings, info proc/sharedlibrary/inferiors."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import (TOP, CommandTable, command, prefix_command,
                                         prefix_table)
from pydbg.errors import CommandError

if TYPE_CHECKING:
    from pydbg.cli.session import Session

GROUPS = {
    "breakpoints": "Making program stop at certain points.",
    "data": "Examining data.",
    "files": "Specifying and examining files.",
    "running": "Running the program.",
    "stack": "Examining the stack.",
    "status": "Status inquiries.",
    "support": "Support facilities.",
    "scripts": "Scripting: user commands, breakpoint commands, Python.",
    "misc": "Other commands.",
}


@command("help", group="support", aliases=("h",))
def cmd_help(session: "Session", arg: str) -> None:
    """Print list of commands.
    Usage: help [COMMAND | CLASS]
    With a command name, prints its documentation; with a class name, lists its commands."""
    arg = arg.strip()
    if not arg:
        session.out("List of classes of commands:\n")
        for name, text in GROUPS.items():
            session.out(f"{name} -- {text}")
        session.out("")
        session.out('Type "help" followed by a class name for a list of commands in that class.')
        session.out('Type "help" followed by command name for full documentation.')
        session.out("Command name abbreviations are allowed if unambiguous.")
        return
    if arg in GROUPS:
        session.out(f"{GROUPS[arg]}\n\nList of commands:\n")
        for table in _all_tables():
            for name in table.names():
                cmd = table.commands[name]
                if cmd.group == arg:
                    full = f"{table.prefix} {name}".strip()
                    session.out(f"{full} -- {cmd.summary}")
        return
    cmd, rest = session.resolve(arg)
    session.out(cmd.doc or f"No documentation for \"{arg}\".")
    if cmd.subcommands is not None and not rest:
        session.out("")
        session.out(f"List of {cmd.name} subcommands:\n")
        for name in cmd.subcommands.names():
            session.out(f"{cmd.name} {name} -- {cmd.subcommands.commands[name].summary}")
    if cmd.aliases:
        session.out(f"\nAliases: {', '.join(cmd.aliases)}")


def _all_tables() -> list[CommandTable]:
    tables = [TOP]
    for name in sorted(TOP.commands):
        sub = TOP.commands[name].subcommands
        if sub is not None:
            tables.append(sub)
    return tables


@command("echo", group="support")
def cmd_echo(session: "Session", arg: str) -> None:
    """Print a constant string.  Give string as argument.
    C escape sequences may be used in the argument; \\n ends a line.
    No newline is added at the end of the argument."""
    session.write(_unescape(arg))


def _unescape(text: str) -> str:
    out = []
    i = 0
    escapes = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "a": "\a", "r": "\r", "e": "\x1b"}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
                continue
            if nxt in "01234567":
                j = i + 1
                while j < len(text) and j < i + 4 and text[j] in "01234567":
                    j += 1
                out.append(chr(int(text[i + 1:j], 8)))
                i = j
                continue
            out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@command("shell", group="support", aliases=("!",))
def cmd_shell(session: "Session", arg: str) -> None:
    """Execute the rest of the line as a shell command.
    With no arguments, runs an inferior shell."""
    session.flush()
    subprocess.run(arg or os.environ.get("SHELL", "/bin/sh"), shell=True)


@command("pwd", group="files")
def cmd_pwd(session: "Session", arg: str) -> None:
    """Print working directory."""
    session.out(f"Working directory {os.getcwd()}.")


@command("cd", group="files")
def cmd_cd(session: "Session", arg: str) -> None:
    """Set working directory to DIR for debugger and program being debugged."""
    path = os.path.expanduser(arg.strip() or "~")
    try:
        os.chdir(path)
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}.") from None
    session.out(f"Working directory {os.getcwd()}.")


# ------------------------------------------------------------------ set / show
_BOOL = {"on": True, "1": True, "yes": True, "enable": True,
         "off": False, "0": False, "no": False, "disable": False}


def parse_bool(value: str) -> bool:
    value = value.strip().lower() or "on"
    if value not in _BOOL:
        raise CommandError("\"on\" or \"off\" expected.")
    return _BOOL[value]


@command("disable-randomization", group="running", prefix="set")
def cmd_set_disable_randomization(session: "Session", arg: str) -> None:
    """Set disabling of debuggee's virtual address space randomization.
    When on (the default), the program runs with ASLR off, so addresses repeat run to run."""
    session.target.settings.disable_randomization = parse_bool(arg)


@command("disable-randomization", group="running", prefix="show")
def cmd_show_disable_randomization(session: "Session", arg: str) -> None:
    """Show disabling of debuggee's virtual address space randomization."""
    state = "on" if session.target.settings.disable_randomization else "off"
    session.out(f"Disabling randomization of debuggee's virtual address space is {state}.")


@command("confirm", group="support", prefix="set")
def cmd_set_confirm(session: "Session", arg: str) -> None:
    """Set whether to confirm potentially dangerous operations."""
    session.target.settings.confirm = parse_bool(arg)


@command("confirm", group="support", prefix="show")
def cmd_show_confirm(session: "Session", arg: str) -> None:
    """Show whether to confirm potentially dangerous operations."""
    state = "on" if session.target.settings.confirm else "off"
    session.out(f"Whether to confirm potentially dangerous operations is {state}.")


@command("disassembly-flavor", group="data", prefix="set")
def cmd_set_flavor(session: "Session", arg: str) -> None:
    """Set the disassembly flavor: att (the default) or intel."""
    flavor = arg.strip()
    if flavor not in ("att", "intel"):
        raise CommandError(f"Undefined item: \"{flavor}\".")
    session.target.settings.disassembly_flavor = flavor
    session.target.disassembler.flavor = flavor


@command("disassembly-flavor", group="data", prefix="show")
def cmd_show_flavor(session: "Session", arg: str) -> None:
    """Show the disassembly flavor."""
    session.out(f"The disassembly flavor is \"{session.target.settings.disassembly_flavor}\".")


@command("args", group="running", prefix="set")
def cmd_set_args(session: "Session", arg: str) -> None:
    """Set argument list to give program being debugged when it is started."""
    import shlex
    session.target.args = shlex.split(arg)


@command("args", group="running", prefix="show")
def cmd_show_args(session: "Session", arg: str) -> None:
    """Show argument list to give program being debugged when it is started."""
    import shlex
    text = " ".join(shlex.quote(a) for a in session.target.args)
    session.out(f"Argument list to give program being debugged when it is started is \"{text}\".")


def _ignored_setting(name: str) -> None:
    """Settings gdb scripts commonly change that have no effect here (no pager)."""
    def handler(session: "Session", arg: str) -> None:
        pass
    handler.__doc__ = f"Set {name} (accepted for gdb script compatibility; pydbg has no pager)."
    command(name, group="support", prefix="set")(handler)


for _name in ("pagination", "height", "width", "verbose", "logging", "style"):
    _ignored_setting(_name)


# Settings gdb scripts set that already describe what pydbg does (their other values are
# refused, not ignored): NAME -> (the values pydbg's behaviour matches, why).
_FIXED_SETTINGS = {
    "startup-with-shell": (("off", "0", "no"), "pydbg starts the program directly"),
    "debuginfod": (None, "pydbg reads debug info from local files only"),
    "non-stop": (("off", "0", "no"), "pydbg stops every thread at each stop (all-stop)"),
    "auto-load": (None, "pydbg loads no scripts by itself"),
    "history": (None, "the shell's history is kept in ~/.pydbg_history"),
    "follow-fork-mode": (("parent",), "pydbg follows the parent across fork"),
    "detach-on-fork": (("on", "1", "yes"), "a forked child runs on without pydbg"),
    "charset": (None, "strings are read as bytes and printed as gdb prints them"),
}


def _fixed_setting(name: str, values: tuple[str, ...] | None, why: str) -> None:
    def handler(session: "Session", arg: str) -> None:
        words = arg.split()
        if values is not None and words and words[-1].lower() not in values:
            raise CommandError(f"pydbg supports only \"set {name} {values[0]}\": {why}.")
    handler.__doc__ = (f"Set {name} (accepted for gdb script compatibility: {why}).")
    command(name, group="support", prefix="set")(handler)


for _name, (_values, _why) in _FIXED_SETTINGS.items():
    _fixed_setting(_name, _values, _why)


# ------------------------------------------------------------------ set/show print
# gdb's other `set print` settings: accepted (scripts set them) but without effect here.
_OTHER_PRINT_SETTINGS = (
    "address", "array", "array-indexes", "asm-demangle", "demangle", "entry-values",
    "finish", "frame-arguments", "frame-info", "inferior-events", "max-depth",
    "max-symbolic-offset", "memory-tag-violations", "nibbles", "null-stop", "object",
    "pascal_static-members", "raw-frame-arguments", "raw-values", "sevenbit-strings",
    "static-members", "symbol", "symbol-filename", "symbol-loading", "thread-events", "type",
    "union", "vtbl")


def _print_prefix_handler(verb: str):
    def handler(session: "Session", arg: str) -> None:
        word = arg.split()[0] if arg.split() else ""
        if not word:
            if verb == "show":
                for name in ("elements", "pretty", "repeats"):
                    session.out(f"print {name}:  {_SHOW_PRINT[name](session)}")
                return
            session.out("List of set print subcommands:\n")
            for name in prefix_table("set print").names():
                cmd = prefix_table("set print").commands[name]
                session.out(f"set print {name} -- {cmd.summary}")
            return
        if any(name.startswith(word) for name in _OTHER_PRINT_SETTINGS):
            return
        raise CommandError(f"Undefined {verb} print command: \"{arg.strip()}\".  "
                           f"Try \"help {verb} print\".")
    return handler


prefix_command("print", parent="set", group="data", aliases=("p", "pr"),
               handler=_print_prefix_handler("set"), allow_unknown_sub=True,
               doc="Generic command for setting how things print.")
prefix_command("print", parent="show", group="data", aliases=("p", "pr"),
               handler=_print_prefix_handler("show"), allow_unknown_sub=True,
               doc="Generic command for showing print settings.")


def _limit(session: "Session", arg: str) -> int:
    """gdb's var_uinteger: a number or "unlimited" (shown and stored as 0)."""
    text = arg.strip()
    if not text:
        raise CommandError("Argument required (integer to set it to, or \"unlimited\").")
    if "unlimited".startswith(text) and len(text) >= 1 and text[0] == "u":
        return 0
    n = session.evaluate_int(text)
    if n < 0 or n >= 0xFFFFFFFF:
        raise CommandError(f"integer {n} out of range")
    return n


def _limit_text(n: int) -> str:
    return "unlimited" if n == 0 else str(n)


_SHOW_PRINT = {
    "elements": lambda s: "Limit on string chars or array elements to print is "
                          f"{_limit_text(s.target.settings.print_elements)}.",
    "repeats": lambda s: "Threshold for repeated print elements is "
                         f"{_limit_text(s.target.settings.print_repeats)}.",
    "pretty": lambda s: "Pretty formatting of structures is "
                        f"{'on' if s.target.settings.print_pretty else 'off'}.",
}


@command("elements", group="data", prefix="set print")
def cmd_set_print_elements(session: "Session", arg: str) -> None:
    """Set limit on string chars or array elements to print.
    "unlimited" causes there to be no limit."""
    session.target.settings.print_elements = _limit(session, arg)


@command("repeats", group="data", prefix="set print")
def cmd_set_print_repeats(session: "Session", arg: str) -> None:
    """Set threshold for repeated print elements.
    "unlimited" causes all elements to be individually printed."""
    session.target.settings.print_repeats = _limit(session, arg)


@command("pretty", group="data", prefix="set print")
def cmd_set_print_pretty(session: "Session", arg: str) -> None:
    """Set pretty formatting of structures."""
    session.target.settings.print_pretty = parse_bool(arg)


@command("elements", group="data", prefix="show print")
def cmd_show_print_elements(session: "Session", arg: str) -> None:
    """Show limit on string chars or array elements to print."""
    session.out(_SHOW_PRINT["elements"](session))


@command("repeats", group="data", prefix="show print")
def cmd_show_print_repeats(session: "Session", arg: str) -> None:
    """Show threshold for repeated print elements."""
    session.out(_SHOW_PRINT["repeats"](session))


@command("pretty", group="data", prefix="show print")
def cmd_show_print_pretty(session: "Session", arg: str) -> None:
    """Show pretty formatting of structures."""
    session.out(_SHOW_PRINT["pretty"](session))


# ------------------------------------------------------------------------ info
@command("mappings", group="status", prefix="info proc")
def cmd_info_proc_mappings(session: "Session", arg: str) -> None:
    """List memory regions mapped in the process (from /proc/PID/maps)."""
    process = session.target.process
    if process is None or not process.is_alive:
        raise CommandError("No current process: you must name one.")
    session.out(f"process {process.pid}")
    session.out("Mapped address spaces:\n")
    session.out(f"{'Start Addr':>20} {'End Addr':>18} {'Size':>10} {'Offset':>10}  Perms  objfile")
    for start, end, perms, offset, path in session.target.memory_mappings():
        session.out(f"{start:#20x} {end:#18x} {end - start:#10x} {offset:#10x}  {perms}   {path}")


@command("sharedlibrary", group="status", prefix="info", aliases=("dll", "shared"))
def cmd_info_sharedlibrary(session: "Session", arg: str) -> None:
    """Status of loaded shared object libraries."""
    target = session.target
    if not target.is_running:
        session.out("No shared libraries loaded at this time.")
        return
    target._refresh_images()
    libs = [img for img in target.images if not img.is_main]
    if not libs:
        session.out("No shared libraries loaded at this time.")
        return
    session.out("From                To                  Syms Read   Shared Object Library")
    missing_debug = False
    for img in libs:
        lo, hi = img.text_bounds()
        # gdb flags a library whose symbols include no debug info (even via a debug file).
        read = "Yes" if img.image.has_debug_info else "Yes (*)"
        missing_debug = missing_debug or not img.image.has_debug_info
        session.out(f"0x{lo:016x}  0x{hi:016x}  {read:<12}{img.path}")
    if missing_debug:
        session.out("(*): Shared library is missing debugging information.")


@command("inferiors", group="status", prefix="info")
def cmd_info_inferiors(session: "Session", arg: str) -> None:
    """Print a list of inferiors being managed."""
    target = session.target
    desc = f"process {target.process.pid}" if target.is_running and target.process else "<null>"
    session.out("  Num  Description       Connection           Executable        ")
    session.out(f"* 1    {desc:<17} {'1 (native)' if target.is_running else '':<20} "
                f"{target.executable or '':<17} ")
