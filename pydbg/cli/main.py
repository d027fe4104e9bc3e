"""The `pydbg` command line, gdb-compatible: -q -nx -batch -ex -x --args -p, plus --demo.

It builds a Session, runs the startup commands in order, then the REPL unless -batch.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydbg import __version__
from pydbg.errors import PydbgError

USAGE = """\
Usage: pydbg [OPTIONS] [PROGRAM [PID]]
       pydbg [OPTIONS] --args PROGRAM [ARGS...]
       pydbg [OPTIONS] -p PID
       pydbg --demo
       pydbg trace [-f FUNC|FILE:LINE]... [--ret] [--print EXPR]... [--count] [--json]
                   [-o FILE] [-p PID | -- PROG ARGS]     (pydbg trace --help)

Options (as gdb's):
  --args             Arguments after the program name are passed to the program.
  -batch             Exit after processing options; no prompt, plain output.
  -ex CMD            Execute a single command (may be repeated, runs in order with -x).
  -x FILE            Execute commands from FILE.
  -nx, -n            Do not read ~/.pydbginit.
  -q, -quiet         Do not print the version banner.
  -p PID             Attach to running process PID.
  --demo             Debug a bundled demo program (compiled with gcc on first use).
  --version          Print version information and exit.
  --help             Print this message and exit."""


@dataclass
class Options:
    program: str | None = None
    program_args: list[str] = field(default_factory=list)
    pid: int | None = None
    batch: bool = False
    quiet: bool = False
    nx: bool = False
    commands: list[tuple[str, str]] = field(default_factory=list)  # ("ex"|"x", text)
    demo: bool = False


class UsageError(Exception):
    pass


def _take(argv: list[str], i: int, flag: str) -> tuple[str, int]:
    if "=" in argv[i] and argv[i].startswith("--"):
        return argv[i].split("=", 1)[1], i + 1
    if i + 1 >= len(argv):
        raise UsageError(f"option '{flag}' requires an argument")
    return argv[i + 1], i + 2


def parse_args(argv: list[str]) -> Options:
    opts = Options()
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        bare = name.lstrip("-")
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            i += 1
            continue
        if bare == "args":
            if i + 1 >= len(argv):
                raise UsageError("--args requires a program name")
            opts.program = argv[i + 1]
            opts.program_args = argv[i + 2:]
            break
        if bare in ("batch",):
            opts.batch = opts.quiet = True
        elif bare in ("q", "quiet", "silent"):
            opts.quiet = True
        elif bare in ("nx", "n", "nh"):
            opts.nx = True
        elif bare in ("ex", "eval-command"):
            value, i = _take(argv, i, arg)
            opts.commands.append(("ex", value))
            continue
        elif bare in ("x", "command"):
            value, i = _take(argv, i, arg)
            opts.commands.append(("x", value))
            continue
        elif bare in ("p", "pid"):
            value, i = _take(argv, i, arg)
            try:
                opts.pid = int(value)
            except ValueError:
                raise UsageError(f"invalid pid: {value}") from None
            continue
        elif bare == "demo":
            opts.demo = True
        elif bare in ("help", "h"):
            raise UsageError("")
        elif bare == "version":
            print(f"pydbg {__version__}")
            raise SystemExit(0)
        else:
            raise UsageError(f"unrecognized option '{arg}'")
        i += 1
    if opts.program is None and positional:
        opts.program = positional[0]
        if len(positional) > 1:
            try:
                opts.pid = int(positional[1])
            except ValueError:
                raise UsageError(f"core files are not supported: {positional[1]}") from None
    return opts


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "trace":
        from pydbg.cli.trace import main as trace_main
        return trace_main(argv[1:])
    try:
        opts = parse_args(argv)
    except UsageError as exc:
        if str(exc):
            print(f"pydbg: {exc}", file=sys.stderr)
            print("Use `pydbg --help' for a complete list of options.", file=sys.stderr)
            return 1
        print(USAGE)
        return 0

    from pydbg.cli import commands  # noqa: F401  (registers every command)
    from pydbg.cli.session import Session

    session = Session(batch=opts.batch, from_tty=not opts.batch)
    session.target.settings.environment = original_environment()
    if not opts.quiet:
        print(f"pydbg {__version__}, a gdb-compatible debugger in Python.\n"
              "Type \"help\" for a list of commands.")
    if opts.demo:
        from pydbg.demo import build_demo
        try:
            opts.program = str(build_demo())
        except PydbgError as exc:
            print(exc, file=sys.stderr)
            return 1
    if opts.program is not None:
        _load_program(session, opts.program)
        session.target.args = list(opts.program_args)
    if not opts.nx:
        init = Path.home() / ".pydbginit"
        if init.is_file():
            session.source_file(str(init))
    ok = True
    if opts.pid is not None:
        ok = session.execute(f"attach {opts.pid}")
    if opts.commands and not session.quit_requested:
        # In order; a block opened by an -ex (define, commands...) reads the -ex that follow.
        from pydbg.cli.commands.scripting import run_startup_commands
        ok = run_startup_commands(session, opts.commands)
    if opts.batch or session.quit_requested:
        session.target.close()
        if session.quit_requested:
            return session.exit_code
        return 0 if ok else 1
    from pydbg.cli.repl import run_repl
    if opts.demo and session.from_tty:
        print("Demo program: try `break add`, `run`, `info registers rip`, `x/4i $pc`, "
              "`continue`.")
    return run_repl(session)


def original_environment() -> dict[str, str]:
    """The environment pydbg was started with, before Python's own changes to it.

    CPython may add LC_CTYPE (PEP 538 locale coercion); the program should see exactly
    what the user's shell gave us, as under gdb, or its stack layout differs.
    """
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return dict(os.environ)
    env: dict[str, str] = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            key, _, value = item.partition(b"=")
            env[os.fsdecode(key)] = os.fsdecode(value)
    return env


def _load_program(session, program: str) -> None:
    from pydbg.errors import SymbolError
    try:
        session.target.load_executable(program)
    except SymbolError as exc:
        session.err(str(exc))
        return
    image = session.target.exe_image
    if session.from_tty:
        print(f"Reading symbols from {program}...")
    if image is not None and not image.has_debug_info and not session.batch:
        print(f"(No debugging symbols found in {program})")


if __name__ == "__main__":
    raise SystemExit(main())
