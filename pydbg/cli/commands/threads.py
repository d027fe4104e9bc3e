"""Threads: info threads, thread [ID], thread apply, thread name, thread find, taas."""

from __future__ import annotations

import contextlib
import io
import re
from typing import TYPE_CHECKING, Iterator

from pydbg.cli.commands.registry import command, prefix_command
from pydbg.cli.commands.stack import frame_text, print_frame_and_source
from pydbg.engine.threads import ThreadInfo, ThreadList
from pydbg.errors import CommandError, PydbgError

if TYPE_CHECKING:
    from pydbg.cli.session import Session


def _threads(session: "Session") -> ThreadList:
    return session.target.threads


def _live(session: "Session") -> list[ThreadInfo]:
    return _threads(session).all() if session.target.is_running else []


# ------------------------------------------------------------------- thread IDs

def _number(session: "Session", text: str, whole: str) -> int:
    """One number of a thread ID: digits or a convenience variable."""
    if text.startswith("$"):
        return session.evaluate_int(text)
    if not text.isdigit():
        raise CommandError(f"Invalid thread ID: {whole}")
    return int(text)


def parse_thread_id(session: "Session", text: str) -> int:
    """gdb's parse_thread_id: `N`, `1.N` or `$VAR` (pydbg has inferior 1 only)."""
    inferior, dot, number = text.partition(".")
    if not dot:
        inferior, number = "1", text
    if number.startswith("-"):
        raise CommandError(f"negative value: {text}")
    if not inferior.isdigit() or int(inferior) == 0 or not number:
        raise CommandError(f"Invalid thread ID: {text}")
    value = _number(session, number, text)
    if value <= 0:
        raise CommandError(f"Invalid thread ID: {text}")
    if int(inferior) != 1:
        raise CommandError(f"No inferior number '{int(inferior)}'")
    return value


_ID_TOKEN = re.compile(r"(?:(?P<inf>\d+)\.)?(?P<first>\*|\$\w+|\d+)(?:(?P<dash>-)(?P<last>\$\w+|\d+)?)?")


def parse_id_list(session: "Session", text: str) -> tuple[list[int], str]:
    """gdb's tid_range_parser: thread numbers from `1 3-5 1.2 *` (all threads), in the
    order given, and the rest of TEXT (the command of `thread apply`)."""
    numbers: list[int] = []
    rest = text.strip()
    while rest and (rest[0].isdigit() or rest[0] in "$*"):
        word, _, tail = rest.partition(" ")
        m = _ID_TOKEN.fullmatch(word)
        if m is None:
            raise CommandError(f"Invalid thread ID: {rest}")
        if m["inf"] is not None and int(m["inf"]) != 1:
            raise CommandError(f"No inferior number '{int(m['inf'])}'")
        if m["first"] == "*":
            numbers += [t.number for t in _live(session)]
        else:
            first = _number(session, m["first"], rest)
            if first <= 0:
                raise CommandError(f"Invalid thread ID: {rest}")
            last = first
            if m["dash"]:
                last = _number(session, m["last"], rest) if m["last"] else 0
                if last < first:
                    raise CommandError("inverted range")
            numbers += range(first, last + 1)
        rest = tail.strip()
    return numbers, rest


# ------------------------------------------------------------------- info threads

@command("threads", group="status", prefix="info")
def cmd_info_threads(session: "Session", arg: str) -> None:
    """Display currently known threads.
    Usage: info threads [OPTION]... [ID]...
    If ID is given, it is a space-separated list of IDs of threads to display.
    Otherwise, all threads are displayed.

    Options:
      -gid
        Show global thread IDs."""
    rest = arg.strip()
    show_gid = False
    while rest.startswith("-") and not rest[1:2].isdigit():
        word, _, tail = rest.partition(" ")
        if word == "--":
            rest = tail.strip()
            break
        if word != "-gid":
            raise CommandError(f"Unrecognized option at: {rest}")
        show_gid, rest = True, tail.strip()
    threads = _live(session)
    if rest:
        wanted, _ = parse_id_list(session, rest)
        if not wanted:
            raise CommandError(f"Invalid thread ID: {rest}")
        threads = [t for t in threads if t.number in wanted]
        if not threads:
            session.out(f"No threads match '{rest}'.")
            return
    if not threads:
        session.out("No threads.")
        return
    lister = _threads(session)
    ids = {t.tid: lister.target_id_with_name(t) for t in threads}
    width = max(len("Target Id"), *(len(text) for text in ids.values()))
    current = lister.current()
    gid = "GId  " if show_gid else ""
    session.out(f"  Id   {gid}{'Target Id':<{width}} Frame ")
    for info in threads:
        mark = "*" if current is not None and info.tid == current.tid else " "
        gid = f"{info.number:<4} " if show_gid else ""
        session.out(f"{mark} {info.number:<4} {gid}{ids[info.tid]:<{width}} "
                    f"{_frame0_text(session, info)}")


def _frame0_text(session: "Session", info: ThreadInfo) -> str:
    """gdb's print_stack_frame (LOCATION) of the thread's innermost frame."""
    target = session.target
    with _threads(session).switched(info):
        try:
            frame = target.frames.frame(0)
            if frame is not None:
                return frame_text(session, frame, print_level=False)
        except PydbgError:
            pass
        from pydbg.engine.report import frame_line
        return frame_line(target.locate(target.require_process().get_pc()))


# ------------------------------------------------------------------------- thread

def _cmd_thread(session: "Session", arg: str) -> None:
    lister = _threads(session)
    word = arg.split()[0] if arg.split() else ""
    if not word:
        current = lister.current()
        if current is None:
            raise CommandError("No thread selected")
        session.out(f"[Current thread is {current.number} ({lister.target_id(current)})]")
        return
    number = parse_thread_id(session, word)
    info = lister.by_number(number) if session.target.is_running else None
    if info is None:
        raise CommandError(f"Unknown thread {word}.")
    lister.select(info)
    session.out(f"[Switching to thread {info.number} ({lister.target_id(info)})]")
    print_frame_and_source(session, session.target.frames.selected)


_cmd_thread.__doc__ = """Use this command to switch between threads.
The new thread ID must be currently known.
Usage: thread [ID]
Without ID, shows the current thread."""

prefix_command("thread", group="running", aliases=("t",), doc=_cmd_thread.__doc__,
               handler=_cmd_thread, allow_unknown_sub=True)


@command("name", group="running", prefix="thread")
def cmd_thread_name(session: "Session", arg: str) -> None:
    """Set the current thread's name.
    Usage: thread name [NAME]
    If NAME is not given, then any existing name is removed."""
    current = _threads(session).current()
    if current is None:
        raise CommandError("No thread selected")
    current.name = arg.strip() or None


@command("find", group="running", prefix="thread")
def cmd_thread_find(session: "Session", arg: str) -> None:
    """Find threads that match a regular expression.
    Usage: thread find REGEXP
    Will display thread ids whose name, target ID, or extra info matches REGEXP."""
    if not arg.strip():
        raise CommandError("Command requires an argument.")
    pattern = _basic_regex(arg.strip())
    lister = _threads(session)
    matches = 0
    for info in _live(session):
        for label, text in (("name", info.name), ("target name", lister.target_name(info)),
                            ("target id", lister.target_id(info))):
            if text is not None and pattern.search(text):
                session.out(f"Thread {info.number} has {label} '{text}'")
                matches += 1
    if not matches:
        session.out(f"No threads match '{arg.strip()}'")


def _basic_regex(text: str) -> re.Pattern[str]:
    """gdb's re_comp takes POSIX basic regular expressions: ( ) { } | + ? are literal
    unless escaped."""
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "(){}|+?":
            out.append(text[i + 1])
            i += 2
            continue
        out.append("\\" + ch if ch in "(){}|+?" else ch)
        i += 1
    try:
        return re.compile("".join(out))
    except re.error as exc:
        raise CommandError(f"Invalid regexp: {exc}") from None


# ------------------------------------------------------------------- thread apply

@command("apply", group="running", prefix="thread")
def cmd_thread_apply(session: "Session", arg: str) -> None:
    """Apply a command to a list of threads.
    Usage: thread apply ID... [OPTION]... COMMAND
           thread apply all [-ascending] [OPTION]... COMMAND
    ID is a space-separated list of IDs of threads to apply COMMAND on
    (`all`: every thread, in descending order unless -ascending).
    Prints per-inferior thread number and target system's thread id
    followed by COMMAND output.

    By default, an error raised during the execution of COMMAND
    aborts "thread apply".

    Options:
      -q
        Disables printing the thread information.

      -c
        Print any error raised by COMMAND and continue.

      -s
        Silently ignore any errors or empty output produced by COMMAND."""
    rest = arg.strip()
    if not rest:
        raise CommandError("Please specify a thread ID list")
    word, _, tail = rest.partition(" ")
    if "all".startswith(word) and word:
        _apply_all(session, tail, silent=False)
        return
    numbers, cmd = parse_id_list(session, rest)
    flags, cmd = _options(cmd, "thread apply", all_threads=False)
    if not cmd:
        raise CommandError("Please specify a command following the thread ID list")
    if cmd == rest or cmd[0].isdigit():
        raise CommandError(f"Invalid thread ID: {cmd}")
    threads = []
    for number in numbers:
        info = _threads(session).by_number(number) if session.target.is_running else None
        if info is None:
            session.err(f"warning: Unknown thread {number}")
            continue
        threads.append(info)
    _apply(session, threads, cmd, flags)


@command("taas", group="running")
def cmd_taas(session: "Session", arg: str) -> None:
    """Apply a command to all threads (ignoring errors and empty output).
    Usage: taas [OPTION]... COMMAND
    shortcut for 'thread apply all -s [OPTION]... COMMAND'
    See "help thread apply all" for available options."""
    _apply_all(session, arg, silent=True)


def _apply_all(session: "Session", arg: str, silent: bool) -> None:
    flags, cmd = _options(arg.strip(), "thread apply all", all_threads=True)
    if silent:
        flags.add("-s")
        if "-c" in flags:
            raise CommandError("thread apply all: -c and -s are mutually exclusive")
    if not cmd:
        raise CommandError("Please specify a command at the end of 'thread apply all'")
    threads = _live(session)
    if "-ascending" not in flags:
        threads.reverse()
    _apply(session, threads, cmd, flags)


def _options(text: str, name: str, all_threads: bool) -> tuple[set[str], str]:
    """Leading -q / -c / -s (and -ascending for `all`) options; `--` ends them."""
    flags: set[str] = set()
    known = {"-q", "-c", "-s"} | ({"-ascending"} if all_threads else set())
    rest = text.strip()
    while rest.startswith("-"):
        word, _, tail = rest.partition(" ")
        if word == "--":
            rest = tail.strip()
            break
        if word not in known:
            break               # gdb takes an unknown option as the command's start
        flags.add(word)
        rest = tail.strip()
    if "-c" in flags and "-s" in flags:
        raise CommandError(f"{name}: -c and -s are mutually exclusive")
    return flags, rest


def _apply(session: "Session", threads: list[ThreadInfo], cmd: str, flags: set[str]) -> None:
    """gdb's thr_try_catch_cmd for each thread, its selection restored afterwards."""
    lister = _threads(session)
    for info in threads:
        if not session.target.is_running or lister.get(info.tid) is None:
            continue
        header = f"\nThread {info.number} ({lister.target_id_with_name(info)}):"
        with lister.switched(info):
            if "-s" in flags:
                with _captured(session) as out:
                    try:
                        session.dispatch(cmd)
                    except PydbgError:
                        continue
                if out.getvalue():
                    if "-q" not in flags:
                        session.out(header)
                    session.write(out.getvalue())
                continue
            if "-q" not in flags:
                session.out(header)
            try:
                session.dispatch(cmd)
            except PydbgError as exc:
                if "-c" not in flags:
                    raise
                session.out(str(exc))     # gdb prints it as output, then goes on


@contextlib.contextmanager
def _captured(session: "Session") -> Iterator[io.StringIO]:
    """The output of commands run meanwhile, kept instead of printed (thread apply -s)."""
    saved, session.stdout = session.stdout, io.StringIO()
    try:
        yield session.stdout
    finally:
        session.stdout = saved
