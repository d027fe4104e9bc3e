"""gdb-style scripting: command blocks (commands, define, if, while, python), printf, dprintf,
source and the readers that feed multi-line blocks from a terminal, a file or -ex arguments.

A block's body is read by its command from the current line reader, so the same code serves
the REPL (continuation prompt `>`), `source`/-x files, -ex sequences and stored bodies.
"""

from __future__ import annotations

import code
import contextlib
import re
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from pydbg.cli.commands.registry import TOP, Command, command
from pydbg.engine.printf import format_values, parse_printf
from pydbg.engine.stops import Stop
from pydbg.errors import CommandError, PydbgError

if TYPE_CHECKING:
    from pydbg.cli.session import Session

MAX_USER_CALL_DEPTH = 1024
USER_GROUP = "user-defined"


# --------------------------------------------------------------------------- readers

class LineReader:
    """A source of command lines; blocks read their bodies from the innermost reader."""

    name: str | None = None     # a file name, for "FILE:N: Error in sourced command file:"
    lineno: int = 0
    interactive: bool = False

    def next_line(self, prompt: str) -> str | None:
        raise NotImplementedError


class ListReader(LineReader):
    """Lines of a file, of a stored body, or the remaining -ex arguments."""

    def __init__(self, lines: Iterable[str], name: str | None = None) -> None:
        self.lines = list(lines)
        self.name = name
        self.lineno = 0

    def next_line(self, prompt: str) -> str | None:
        if self.lineno >= len(self.lines):
            return None
        self.lineno += 1
        return self.lines[self.lineno - 1]


class TerminalReader(LineReader):
    """The REPL's input: a callable that shows a prompt and returns a line (None at EOF)."""

    def __init__(self, read: Callable[[str], str | None], interactive: bool = True) -> None:
        self.read = read
        self.interactive = interactive

    def next_line(self, prompt: str) -> str | None:
        return self.read(prompt)


@dataclass
class UserCommand:
    name: str
    body: list[str]
    doc: str | None = None


@dataclass
class ScriptState:
    """What scripting remembers per session (never module-wide)."""
    readers: list[LineReader] = field(default_factory=list)
    terminal: LineReader | None = None
    user_commands: dict[str, UserCommand] = field(default_factory=dict)
    python_globals: dict[str, Any] | None = None
    user_depth: int = 0
    # $arg0.. of the user commands being run, innermost last (None: not in one)
    user_args: list[list[str] | None] = field(default_factory=list)
    loop_depth: int = 0
    in_breakpoint_commands: bool = False
    pending_stop: Stop | None = None


def state(session: "Session") -> ScriptState:
    st = getattr(session, "_script_state", None)
    if st is None:
        st = ScriptState()
        session._script_state = st  # type: ignore[attr-defined]
    return st


def set_terminal(session: "Session", read: Callable[[str], str | None],
                 interactive: bool = True) -> None:
    """Called by the REPL: where block bodies come from when no file or -ex feeds them
    (INTERACTIVE: a person types them, so gdb's introductions are shown)."""
    state(session).terminal = TerminalReader(read, interactive)


def current_reader(session: "Session") -> LineReader | None:
    st = state(session)
    if st.readers:
        return st.readers[-1]
    return st.terminal


@contextlib.contextmanager
def reading_from(session: "Session", reader: LineReader):
    st = state(session)
    st.readers.append(reader)
    try:
        yield reader
    finally:
        st.readers.remove(reader)


class LoopBreak(Exception):
    """loop_break inside while."""


class LoopContinue(Exception):
    """loop_continue inside while."""


# ----------------------------------------------------------------------- block reading

def _first_word(text: str) -> str:
    m = re.match(r"[A-Za-z0-9_\-]+", text)
    return m.group(0) if m else ""


def _opens_block(text: str) -> str | None:
    """'python' for a python block, 'cli' for a nested command block, None otherwise."""
    word = _first_word(text)
    rest = text[len(word):].strip()
    if word in ("python", "py", "python-interactive", "pi"):
        return "python" if not rest and word in ("python", "py") else None
    if word in ("if", "while", "commands", "define", "document", "while-stepping"):
        return "cli"
    return None


def read_body(session: "Session", *, python: bool = False, intro: str | None = None
              ) -> list[str]:
    """Lines up to the matching `end`, re-indented two spaces per nesting level as gdb keeps
    them; a python body keeps its lines as typed."""
    reader = current_reader(session)
    if reader is None:
        return []
    if intro and reader.interactive and session.from_tty:
        session.out(intro)
        session.out("End with a line saying just \"end\".")
        session.flush()
    body: list[str] = []
    depth = 0
    in_python = False           # inside a python block nested in this one
    while True:
        line = reader.next_line(">")
        if line is None:
            return body
        text = line.strip()
        if python:
            if text == "end":
                return body
            body.append(line.rstrip("\n"))
            continue
        if in_python:
            if text == "end":
                in_python = False
                depth -= 1
                body.append("  " * depth + "end")
            else:
                body.append("  " * depth + line.rstrip("\n"))
            continue
        if text == "end":
            if depth == 0:
                return body
            depth -= 1
            body.append("  " * depth + "end")
            continue
        if text == "else":
            # Level 0 belongs to the block being read (split_else finds it there).
            body.append("  " * max(depth - 1, 0) + "else")
            continue
        body.append("  " * depth + text)
        kind = _opens_block(text)
        if kind is not None:
            depth += 1
            in_python = kind == "python"


def split_else(body: list[str]) -> tuple[list[str], list[str]]:
    """An if-body's then and else parts (the else at nesting level 0)."""
    for i, line in enumerate(body):
        if line == "else":
            return body[:i], body[i + 1:]
    return body, []


def _dedent(lines: list[str]) -> list[str]:
    import textwrap
    return textwrap.dedent("\n".join(lines)).splitlines()


def execute_body(session: "Session", lines: list[str]) -> None:
    """Run stored command lines; nested blocks read their own bodies from these lines.

    Errors propagate (the caller reports them once, as gdb aborts the whole script).
    """
    st = state(session)
    with reading_from(session, ListReader(_dedent(lines))) as reader:
        while True:
            line = reader.next_line(">")
            if line is None:
                return
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if st.user_args and st.user_args[-1] is not None:
                # gdb substitutes when a line runs, so an unused branch may name
                # arguments that were not given.
                text = substitute_args(text, st.user_args[-1])
            if text == "loop_break" and st.loop_depth:
                raise LoopBreak()
            if text == "loop_continue" and st.loop_depth:
                raise LoopContinue()
            session.dispatch(text)
            if session.quit_requested:
                return


# -------------------------------------------------------------------- running scripts

class SourcedError(CommandError):
    """An error in a sourced file, prefixed with gdb's FILE:LINE header."""


def run_script_file(session: "Session", path: str) -> None:
    """gdb's `source FILE`: run its commands in order; the first error aborts the file.

    A file that cannot be read is an error when typed at the terminal, a warning otherwise.
    """
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as exc:
        reader = current_reader(session)
        if session.from_tty and reader is not None and reader.interactive:
            raise CommandError(f"{path}: {exc.strerror}.") from None
        session.err(f"warning: {path}: {exc.strerror}")
        return
    with reading_from(session, ListReader(lines, name=path)) as reader:
        while not session.quit_requested:
            line = reader.next_line(">")
            if line is None:
                return
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            start = reader.lineno
            try:
                session.dispatch(text)
            except PydbgError as exc:
                raise SourcedError(f"{path}:{start}: Error in sourced command file:\n{exc}") \
                    from None
            finally:
                session.print_notices()
                session.flush()


def source_file(session: "Session", path: str) -> bool:
    """-x FILE and ~/.pydbginit: report an error (once) and say whether all went well."""
    try:
        run_script_file(session, path)
        return True
    except PydbgError as exc:
        session.err(str(exc))
        return False
    except KeyboardInterrupt:
        session.err("Quit")
        return False


def run_startup_commands(session: "Session", commands: list[tuple[str, str]]) -> bool:
    """The -ex/-x commands of the command line, in order.

    A block opened by an -ex (commands, define, if, while, python) takes its body from the
    -ex arguments that follow it, up to the matching `end`.
    """
    ok = True
    i = 0
    while i < len(commands) and not session.quit_requested:
        kind, text = commands[i]
        if kind == "x":
            ok = source_file(session, text)
            i += 1
            continue
        j = i
        while j < len(commands) and commands[j][0] == "ex" and \
                (j == i or "\n" not in commands[j][1]):
            j += 1
        if "\n" in text:
            # One -ex with embedded newlines is one command line, as in gdb; a block it
            # opens reads no body from the -ex arguments after it (gdb reads stdin).
            j = i + 1
        reader = ListReader([t for _, t in commands[i:j]])
        with reading_from(session, reader):
            while not session.quit_requested:
                line = reader.next_line(">")
                if line is None:
                    break
                ok = session.execute(line)
        i = j
    return ok


# ------------------------------------------------------------- breakpoint commands

def _body_without_silent(bp) -> tuple[bool, list[str]]:
    body = list(bp.commands)
    if body and body[0].strip() == "silent":
        return True, body[1:]
    return False, body


def run_stop_hook(session: "Session") -> None:
    """The user's `define hook-stop`, as gdb's normal_stop runs it: at every stop and exit
    (not at `kill` or `detach`); an error in it is reported and the stop goes on."""
    hook = state(session).user_commands.get("hook-stop")
    if hook is None:
        return
    try:
        run_user_command(session, hook, "")
    except PydbgError as exc:
        session.err(str(exc))


def prepare_stop(session: "Session", stop: Stop) -> bool:
    """Before a stop is announced: dprintf output and hook-stop. True means stay silent."""
    st = state(session)
    if not stop.is_exit:    # after an exit it runs once the exit is reported
        run_stop_hook(session)
    if stop.is_exit or not stop.breakpoints:
        return False
    silent = True
    st.user_args.append(None)
    try:
        for bp in stop.breakpoints:
            if bp.kind == "dprintf":
                try:
                    execute_body(session, bp.commands)
                except PydbgError as exc:
                    session.err(str(exc))
                continue
            if not _body_without_silent(bp)[0]:
                silent = False
    finally:
        st.user_args.pop()
    return silent


def run_breakpoint_commands(session: "Session", stop: Stop) -> None:
    """After a stop is announced: run its breakpoints' commands, as gdb's bpstat_do_actions.

    A command that resumes the program (continue, next...) ends that list; the stop it
    ends in is handled by this same loop, so thousands of hits never nest.
    """
    st = state(session)
    if st.in_breakpoint_commands:
        st.pending_stop = stop
        return
    st.in_breakpoint_commands = True
    st.user_args.append(None)
    try:
        while stop is not None and not stop.is_exit:
            st.pending_stop = None
            user = [b for b in stop.breakpoints if b.kind != "dprintf"]
            for bp in user:
                _, body = _body_without_silent(bp)
                try:
                    execute_body(session, body)
                except PydbgError as exc:
                    session.err(str(exc))
                    break
                if st.pending_stop is not None or session.quit_requested:
                    break
            if st.pending_stop is None and stop.breakpoints and not user and \
                    session.target.is_running:
                # Only dprintfs hit: gdb does not stop for them.
                nxt = session.target.cont(check_condition=session.check_condition)
                session.report_stop(nxt)
            stop = st.pending_stop
    finally:
        st.user_args.pop()
        st.in_breakpoint_commands = False
        st.pending_stop = None


# ------------------------------------------------------------------ printf / dprintf

def printf_text(session: "Session", arg: str) -> str:
    """The text gdb's printf prints for ARG ('"format", expr, ...')."""
    parsed = parse_printf(arg)
    values = [session.evaluate(expr) for expr in parsed.arguments]
    return format_values(parsed, values, session.target.read_memory)


@command("printf", group="scripts")
def cmd_printf(session: "Session", arg: str) -> None:
    """Formatted printing, like the C "printf" function.
    Usage: printf "format string", ARG1, ARG2, ARG3, ..., ARGN
    This supports most C printf format specifications, like %s, %d, etc.:
    %d %i %u %x %X %o %c %s %p %f %e %g %E %G %%, with flags (- + space # 0), width,
    precision and the length modifiers h, l, ll, z and L."""
    session.write(printf_text(session, arg))
    session.flush()


@command("dprintf", group="breakpoints")
def cmd_dprintf(session: "Session", arg: str) -> None:
    """Set a dynamic printf at specified location.
    Usage: dprintf LOCATION,"format string",ARG1,ARG2,...
    Each time the program reaches LOCATION, the arguments are printed with the format
    (as the printf command does) and the program continues without stopping."""
    from pydbg.cli.commands.running import breakpoint_set_message
    location, comma, rest = arg.partition(",")
    if not location.strip():
        raise CommandError("No default breakpoint address now.")
    rest = rest.strip()
    if not comma or not rest:
        raise CommandError("Format string required")
    if not rest.startswith('"'):
        # gdb checks the quoting now; the conversions are checked at each hit.
        raise CommandError("Bad format string, missing '\"'.")
    bp = session.target.add_breakpoint(location.strip(), kind="dprintf",
                                       evaluate=session.evaluate_address)
    bp.commands = [f"printf {rest}"]
    session.out(breakpoint_set_message(bp))


@command("commands", group="breakpoints")
def cmd_commands(session: "Session", arg: str) -> None:
    """Set commands to be executed when the given breakpoints are hit.
    Give a space-separated breakpoint list as argument after "commands".
    A list element can be a breakpoint number (e.g. `5') or a range of numbers
    (e.g. `5-7'), or an empty list to apply to the last breakpoint set.
    With no argument, the targeted breakpoint is the last one set.
    The commands themselves follow starting on the next line.
    Type a line containing "end" to indicate the end of them.
    Give "silent" as the first line to make the breakpoint silent;
    then no output is printed when it is hit, except what the commands print."""
    from pydbg.cli.commands.breakpoints import parse_numbers
    table = session.target.breakpoints
    if arg.strip():
        # gdb's number_or_range_parser stops, silently, at the first word that is not a
        # number, range or $variable (so "1\nsilent..." from a multi-line -ex means 1).
        words = []
        for word in arg.split():
            if not re.match(r"\$|-?\d", word):
                break
            words.append(word)
        if not words:
            return
        numbers = parse_numbers(" ".join(words))
    else:
        user = table.user_breakpoints()
        if not user:
            raise CommandError("Argument required (one or more breakpoint numbers).")
        numbers = [max(b.number for b in user)]
    bps = []
    for number in numbers:
        bp = table.get(number)
        if bp is None or bp.internal:
            # gdb says so and still reads the commands (for the numbers that exist).
            session.out(f"No breakpoint number {number}.")
            continue
        bps.append(bp)
    listed = " ".join(str(n) for n in numbers)
    body = read_body(session, intro=f"Type commands for breakpoint(s) {listed}, one per line.")
    for bp in bps:
        if bp.kind == "dprintf":
            continue
        bp.commands = list(body)


@command("end", group="scripts")
def cmd_end(session: "Session", arg: str) -> None:
    """End a list of commands or actions (commands, define, document, if, while, python)."""
    raise CommandError("This command cannot be used at the top level.")


# ---------------------------------------------------------------------- if / while

def _truth(value: Any) -> bool:
    """A condition's truth, as gdb's value_true (arrays decay to non-null pointers)."""
    try:
        from pydbg.engine.evaluate import value_as_bool
    except ImportError:
        return bool(value.truth())
    return value_as_bool(value)


@command("if", group="scripts")
def cmd_if(session: "Session", arg: str) -> None:
    """Execute nested commands once IF the conditional expression is non zero.
    The conditional expression must follow the word `if' and must in turn be
    followed by a new line.  The nested commands must be entered one per line,
    and should be terminated by the word 'else' or `end'.  If an else clause
    is used, the same rules apply to its nested commands as to the first ones."""
    if not arg.strip():
        raise CommandError("if command requires an argument.")
    then, orelse = split_else(read_body(session))
    if _truth(session.evaluate(arg)):
        execute_body(session, then)
    else:
        execute_body(session, orelse)


@command("while", group="scripts")
def cmd_while(session: "Session", arg: str) -> None:
    """Execute nested commands WHILE the conditional expression is non zero.
    The conditional expression must follow the word `while' and must in turn be
    followed by a new line.  The nested commands must be entered one per line,
    and should be terminated by the word `end'.
    Inside the loop, loop_break leaves it and loop_continue starts the next iteration."""
    if not arg.strip():
        raise CommandError("while command requires an argument.")
    body = read_body(session)
    st = state(session)
    st.loop_depth += 1
    try:
        while _truth(session.evaluate(arg)):
            try:
                execute_body(session, body)
            except LoopBreak:
                break
            except LoopContinue:
                continue
            if session.quit_requested:
                break
    finally:
        st.loop_depth -= 1


# ------------------------------------------------------------------ define / document

def split_user_args(text: str) -> list[str]:
    """gdb's user_args: whitespace-separated words; quotes and backslashes keep spaces."""
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        start = i
        squote = dquote = bsquote = False
        while i < n:
            ch = text[i]
            if ch in " \t" and not (squote or dquote or bsquote):
                break
            if bsquote:
                bsquote = False
            elif ch == "\\":
                bsquote = True
            elif squote:
                squote = ch != "'"
            elif dquote:
                dquote = ch != '"'
            elif ch == "'":
                squote = True
            elif ch == '"':
                dquote = True
            i += 1
        args.append(text[start:i])
    return args


_ARG_REF = re.compile(r"\$arg(c|\d+)(?![A-Za-z0-9_])")


def substitute_args(line: str, args: list[str]) -> str:
    def repl(m: re.Match) -> str:
        which = m.group(1)
        if which == "c":
            return str(len(args))
        index = int(which)
        if index >= len(args):
            raise CommandError(f"Missing argument {index} in user function.")
        return args[index]
    return _ARG_REF.sub(repl, line)


def run_user_command(session: "Session", cmd: UserCommand, arg: str) -> None:
    st = state(session)
    if st.user_depth >= MAX_USER_CALL_DEPTH:
        raise CommandError("Max user call depth exceeded -- command aborted.")
    st.user_depth += 1
    st.user_args.append(split_user_args(arg))
    try:
        execute_body(session, cmd.body)
    except RecursionError:
        raise CommandError("Max user call depth exceeded -- command aborted.") from None
    finally:
        st.user_args.pop()
        st.user_depth -= 1


def _user_handler(name: str):
    def handler(session: "Session", arg: str) -> None:
        cmd = state(session).user_commands.get(name)
        if cmd is None:
            raise CommandError(f"Undefined command: \"{name}\".  Try \"help\".")
        run_user_command(session, cmd, arg)
    handler.__doc__ = "User-defined."
    return handler


@command("define", group="scripts")
def cmd_define(session: "Session", arg: str) -> None:
    """Define a new command name.  Command name is argument.
    Definition appears on following lines, one command per line.
    End with a line of just "end".
    Use the "document" command to give documentation for the new command.
    Commands defined in this way may accept an unlimited number of arguments
    accessed via $arg0 .. $argN.  $argc tells how many arguments have
    been passed."""
    name = arg.strip()
    if not name:
        raise CommandError("Argument required (name of command to define).")
    if not re.fullmatch(r"[A-Za-z0-9_\-.]+", name):
        raise CommandError(f"Junk in argument list: \"{name}\"")
    st = state(session)
    existing = TOP.commands.get(name)
    if existing is not None:
        if existing.group == USER_GROUP:
            if name in st.user_commands and \
                    not session.ask(f"Redefine command \"{name}\"? (y or n) "):
                raise CommandError(f"Command \"{name}\" not redefined.")
        elif not session.ask(f"Really redefine built-in command \"{name}\"? (y or n) "):
            raise CommandError(f"Command \"{name}\" not redefined.")
    body = read_body(session, intro=f"Type commands for definition of \"{name}\".")
    old = st.user_commands.get(name)
    st.user_commands[name] = UserCommand(name, body, old.doc if old else None)
    handler = _user_handler(name)
    if old is not None and old.doc:
        handler.__doc__ = old.doc
    TOP.add(Command(name, handler, USER_GROUP))


@command("document", group="scripts")
def cmd_document(session: "Session", arg: str) -> None:
    """Document a user-defined command.
    Give command name as argument.  Give documentation on following lines.
    End with a line of just "end"."""
    name = arg.strip()
    if not name:
        raise CommandError("Argument required (name of command to define).")
    st = state(session)
    cmd = TOP.commands.get(name)
    if name not in st.user_commands:
        if cmd is not None and cmd.group != USER_GROUP:
            raise CommandError(f"Command \"{name}\" is built-in.")
        raise CommandError(f"Undefined command: \"{name}\".")
    body = read_body(session, intro=f"Type documentation for \"{name}\".")
    doc = "\n".join(line.strip() for line in body)
    st.user_commands[name].doc = doc
    handler = _user_handler(name)
    handler.__doc__ = doc or "User-defined."
    TOP.add(Command(name, handler, USER_GROUP))


@command("user", group="scripts", prefix="show")
def cmd_show_user(session: "Session", arg: str) -> None:
    """Show definitions of non-python/scheme user defined commands.
    Argument is the name of the user defined command.
    With no argument, show definitions of all user defined commands."""
    st = state(session)
    name = arg.strip()
    if name:
        if name not in st.user_commands:
            raise CommandError(f"Undefined command: \"{name}\".  Try \"help\".")
        names = [name]
    else:
        names = sorted(st.user_commands)
    for n in names:
        session.out(f"User command \"{n}\":")
        for line in st.user_commands[n].body:
            session.out(f"  {line}")
        session.out("")


# --------------------------------------------------------------------------- source

@command("source", group="support")
def cmd_source(session: "Session", arg: str) -> None:
    """Read commands from a file named FILE.
    Usage: source FILE
    Blocks (commands, define, if, while, python) may span several lines of the file.
    The first error stops the file."""
    path = arg.strip()
    if not path:
        raise CommandError("source command requires file name of file to source.")
    import os
    run_script_file(session, os.path.expanduser(path))


# --------------------------------------------------------------------------- python

def python_globals(session: "Session") -> dict[str, Any]:
    st = state(session)
    if st.python_globals is None:
        import pydbg
        from pydbg import api
        st.python_globals = {"__name__": "__main__", "__builtins__": __builtins__,
                             "pydbg": pydbg, "dbg": api.Debugger.from_session(session)}
    return st.python_globals


@contextlib.contextmanager
def _python_context(session: "Session"):
    from pydbg import api
    session.flush()
    with api.selecting(session), contextlib.redirect_stdout(session.stdout):
        yield


def run_python(session: "Session", source: str, mode: str = "exec") -> None:
    """Run Python with pydbg (and `dbg`, this session's Debugger) bound, as gdb's python."""
    namespace = python_globals(session)
    try:
        with _python_context(session):
            compiled = compile(source, "<string>", mode)
            exec(compiled, namespace)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        session.flush()
        session.stderr.write(_python_traceback(exc))
        raise CommandError("Error while executing Python code.") from None
    finally:
        session.flush()


def _python_traceback(exc: BaseException) -> str:
    """The traceback of the user's code; pydbg's own frames are left out (as gdb's C
    frames are absent from its Python tracebacks)."""
    import os
    import pydbg
    root = os.path.dirname(os.path.abspath(pydbg.__file__))
    tb = traceback.TracebackException.from_exception(exc)
    frames = [f for f in tb.stack if not os.path.abspath(f.filename).startswith(root)]
    tb.stack = traceback.StackSummary.from_list(frames)
    return "".join(tb.format())


@command("python", group="scripts", aliases=("py",))
def cmd_python(session: "Session", arg: str) -> None:
    """Evaluate a Python command.
    Usage: python [CODE]
    The command can be given as an argument, for instance:
        python print(pydbg.selected().registers.rip)
    If no argument is given, the following lines are read and used as the Python code,
    up to a line saying just "end".
    The module `pydbg` (the Python API) and `dbg` (this session's Debugger) are bound;
    pydbg.selected() returns the same Debugger."""
    if arg.strip():
        run_python(session, arg.strip())
        return
    body = read_body(session, python=True)
    run_python(session, "\n".join(_dedent(body)))


@command("python-interactive", group="scripts", aliases=("pi",))
def cmd_python_interactive(session: "Session", arg: str) -> None:
    """Start an interactive Python prompt.
    Usage: python-interactive [EXPRESSION]
    With an argument, it is evaluated (or executed) and a non-None result is printed,
    as the Python prompt would. Without, an interactive Python session starts with
    pydbg and dbg bound; Ctrl-D returns to pydbg."""
    if arg.strip():
        run_python(session, arg.strip(), mode="single")
        return
    namespace = python_globals(session)
    with _python_context(session):
        console = code.InteractiveConsole(namespace)
        try:
            console.interact(banner="", exitmsg="")
        except SystemExit:
            pass


# ----------------------------------------------------------------------- registration

def _register_user_group() -> None:
    """`help user-defined` lists the commands made with define."""
    from pydbg.cli.commands import support
    support.GROUPS.setdefault(USER_GROUP, "User-defined commands.")


_register_user_group()
