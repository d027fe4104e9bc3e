"""`pydbg trace`: a command-line tracer (think ltrace/uftrace for one program) for CI.

Prints one line (or one JSON object) per hit of each traced function or line, optional
expressions and return values, the program's exit status and, when it crashes, a backtrace.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from typing import IO, Any

from pydbg.engine.tracing import Captured, TraceEvent, Tracer
from pydbg.errors import PydbgError

USAGE = ("pydbg trace [-f FUNC|FILE:LINE]... [--ret] [--print EXPR]... [--count] [--json] "
         "[-o FILE] [-p PID | -- PROG ARGS]")

DESCRIPTION = """\
Trace calls of functions (or hits of source lines) in a program without stopping it.
Each hit prints its thread number, the function and its arguments (from DWARF), then the
--print expressions evaluated there; --ret adds a line with the return value when the call
returns. The program's exit status is reported last (and becomes pydbg trace's own exit
status; 128+N when it is killed by signal N); a crash prints a backtrace.

output lines:
  [1] add(a=1, b=2)                one call, in thread 1 (gdb's thread numbers)
  [1]   fold(n=2) returned 7       with --ret: nested calls are indented
  [1] basic.c:13 in add            a FILE:LINE probe
  --- SIGSEGV (Segmentation fault) in crash at crash.c:10 ---
  +++ exited with code 3 +++       (+++ attached to process N +++ first, with -p)

FUNC may be a shell pattern matched against the symbol table: -f 'sql_*'."""


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:   # type: ignore[override]
        raise _Usage(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pydbg trace", usage=USAGE, description=DESCRIPTION,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-f", "--function", dest="probes", action="append", default=[],
                   metavar="FUNC|FILE:LINE",
                   help="trace calls of FUNC (a glob such as 'sql_*' is allowed) or hits of "
                        "FILE:LINE; repeatable")
    p.add_argument("--ret", action="store_true",
                   help="also report each traced call's return value")
    p.add_argument("--print", dest="prints", action="append", default=[], metavar="EXPR",
                   help="evaluate EXPR at each hit and print it; repeatable")
    p.add_argument("--count", action="store_true",
                   help="print only a table of hits per location at the end")
    p.add_argument("--json", action="store_true", help="JSON Lines: one object per event")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the trace to FILE ('-' for stdout; default: stderr)")
    p.add_argument("-p", "--pid", type=int, help="attach to a running process")
    p.add_argument("command", nargs=argparse.REMAINDER, help="PROG ARGS...")
    return p


# ---------------------------------------------------------------------------- text

def _captured(c: Captured | None) -> str:
    if c is None:
        return ""
    if c.error is not None:
        return f"<error: {c.error}>"
    return c.text or ""


def _prints_text(event: TraceEvent) -> str:
    return "".join(f" {expr}={_captured(c)}" for expr, c in event.prints)


def format_text(event: TraceEvent) -> list[str]:
    """The text lines of one event."""
    indent = "  " * event.depth
    head = f"[{event.thread}] {indent}"
    kind = event.kind
    if kind == "call":
        if event.args is None:
            args = "?"
        else:
            args = ", ".join(f"{name}={_captured(c)}" for name, c in event.args)
        return [f"{head}{event.function or event.label}({args}){_prints_text(event)}"]
    if kind == "line":
        where = f" in {event.function}" if event.function else ""
        return [f"{head}{event.label}{where}{_prints_text(event)}"]
    if kind == "return":
        value = f" {_captured(event.value)}" if event.value is not None else ""
        return [f"{head}{event.function or event.label} returned{value}"]
    if kind == "signal":
        where = ""
        if event.function:
            where += f" in {event.function}"
        if event.location:
            where += f" at {event.location}"
        lines = [f"--- {event.signal} ({event.signal_text}){where} ---"]
        lines.extend(event.backtrace)
        return lines
    if kind == "exited":
        if not event.exit_code:
            return ["+++ exited normally +++"]
        return [f"+++ exited with code {event.exit_code} +++"]
    if kind == "killed":
        return [f"+++ killed by {event.signal} ({event.signal_text}) +++"]
    return [f"+++ {kind} +++"]


def _json_value(c: Captured | None) -> Any:
    if c is None:
        return None
    if c.error is not None:
        return {"error": c.error}
    text = c.text or ""
    try:
        return int(text)
    except ValueError:
        return text


def format_json(event: TraceEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"event": event.kind}
    if event.kind in ("call", "line", "return", "signal"):
        out["thread"] = event.thread
        out["tid"] = event.tid
    if event.kind in ("call", "line", "return"):
        out["location"] = event.label
        out["function"] = event.function
        out["depth"] = event.depth
    if event.kind == "call":
        out["args"] = None if event.args is None else \
            {name: _json_value(c) for name, c in event.args}
    if event.kind in ("call", "line") and event.prints:
        out["print"] = {expr: _json_value(c) for expr, c in event.prints}
    if event.kind == "return":
        out["value"] = _json_value(event.value)
    if event.kind in ("signal", "killed"):
        out["signal"] = event.signal
        out["description"] = event.signal_text
    if event.kind == "signal":
        out["function"] = event.function
        out["at"] = event.location
        out["backtrace"] = event.backtrace
    if event.kind == "exited":
        out["code"] = event.exit_code
    return out


def count_table(tracer: Tracer) -> list[str]:
    width = max([5] + [len(str(n)) for n in tracer.counts.values()])
    lines = [f"{'calls':>{width}}  location"]
    for label in tracer.order:
        lines.append(f"{tracer.counts[label]:>{width}}  {label}")
    lines.append(f"{tracer.total:>{width}}  total")
    return lines


# ---------------------------------------------------------------------------- main

class _Output:
    """Trace output: line-buffered on a terminal, block-buffered into files and pipes."""

    def __init__(self, stream: IO[str], close: bool) -> None:
        self.stream = stream
        self.close_stream = close
        self.interactive = stream.isatty() if hasattr(stream, "isatty") else False

    def line(self, text: str) -> None:
        self.stream.write(text + "\n")
        if self.interactive:
            self.stream.flush()

    def flush(self) -> None:
        self.stream.flush()

    def close(self) -> None:
        self.flush()
        if self.close_stream:
            self.stream.close()


def _backtrace_lines(session) -> list[str]:
    """The program's backtrace, exactly as the `bt` command prints it."""
    import io
    buffer = io.StringIO()
    saved, session.stdout = session.stdout, buffer
    try:
        session.dispatch("backtrace")
    finally:
        session.stdout = saved
    return buffer.getvalue().splitlines()


def _resolve_program(name: str) -> str:
    if os.sep in name or os.path.exists(name):
        return name
    return shutil.which(name) or name


def main(argv: list[str]) -> int:
    parser = _parser()
    program: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, program = argv[:cut], argv[cut + 1:]
    try:
        opts = parser.parse_args(argv)
    except _Usage as exc:
        print(f"pydbg trace: {exc}", file=sys.stderr)
        print(f"usage: {USAGE}", file=sys.stderr)
        return 2
    except SystemExit as exc:          # --help
        return int(exc.code or 0)
    program = program or list(opts.command)
    if program and program[0] == "--":
        program = program[1:]
    if opts.pid is None and not program:
        print("pydbg trace: a program to run (-- PROG ARGS) or -p PID is required",
              file=sys.stderr)
        print(f"usage: {USAGE}", file=sys.stderr)
        return 2
    if opts.pid is not None and program:
        print("pydbg trace: give either -p PID or a program, not both", file=sys.stderr)
        return 2
    if not opts.probes:
        print("pydbg trace: nothing to trace (use -f FUNC or -f FILE:LINE)", file=sys.stderr)
        return 2
    return _trace(opts, program)


def _trace(opts, program: list[str]) -> int:
    from pydbg.cli import commands  # noqa: F401  (the Session evaluates with their help)
    from pydbg.cli.main import original_environment
    from pydbg.cli.session import Session

    if opts.output is None:
        out = _Output(sys.stderr, close=False)
    elif opts.output == "-":
        out = _Output(sys.stdout, close=False)
    else:
        try:
            out = _Output(open(opts.output, "w"), close=True)
        except OSError as exc:
            print(f"pydbg trace: {opts.output}: {exc.strerror}", file=sys.stderr)
            return 1
    # The session only evaluates; nothing it would print belongs in the trace.
    quiet = open(os.devnull, "w")
    session = Session(stdout=quiet, stderr=quiet, batch=True, from_tty=False)
    target = session.target
    target.settings.environment = original_environment()
    try:
        if opts.pid is not None:
            target.attach(opts.pid)
        else:
            target.load_executable(_resolve_program(program[0]))
            target.run(program[1:], stop_at_entry=True)
    except PydbgError as exc:
        print(f"pydbg trace: {exc}", file=sys.stderr)
        out.close()
        return 1
    emit = (lambda e: out.line(json.dumps(format_json(e)))) if opts.json else \
        (lambda e: [out.line(text) for text in format_text(e)])
    # Hits are written as they happen, inside the engine's continue: no stop per hit.
    tracer = Tracer(target, returns=opts.ret and not opts.count,
                    expressions=opts.prints, capture=not opts.count,
                    backtrace=lambda: _backtrace_lines(session), sink=emit)
    status = 0
    try:
        for spec in opts.probes:
            tracer.add_probe(spec)
    except PydbgError as exc:
        print(f"pydbg trace: {exc}", file=sys.stderr)
        tracer.finish()
        out.close()
        return 1
    if opts.pid is not None:
        # Say when the probes are in: from here on every hit is traced.
        out.line(json.dumps({"event": "attached", "pid": opts.pid}) if opts.json else
                 f"+++ attached to process {opts.pid} +++")
        out.flush()
    try:
        for event in tracer.events():
            if opts.count and event.kind in ("call", "line", "return"):
                continue
            emit(event)
            if event.kind == "exited":
                status = event.exit_code or 0
            elif event.kind == "killed":
                import signal as _signal
                status = 128 + int(getattr(_signal, event.signal or "SIGKILL", 9))
        if tracer.interrupted:
            what = "detached" if opts.pid is not None else "killed"
            emit(TraceEvent("interrupted: program " + what))
            status = 130
    except PydbgError as exc:
        print(f"pydbg trace: {exc}", file=sys.stderr)
        status = 1
    except BrokenPipeError:
        return _reader_gone(tracer, out)
    finally:
        tracer.finish()
    try:
        if opts.count:
            if opts.json:
                out.line(json.dumps({"event": "summary",
                                     "counts": {label: tracer.counts[label]
                                                for label in tracer.order}}))
            else:
                for text in count_table(tracer):
                    out.line(text)
        out.close()
    except BrokenPipeError:
        return _reader_gone(tracer, out)
    quiet.close()
    return status


def _reader_gone(tracer: Tracer, out: _Output) -> int:
    """The reader went away (`| head`): stop quietly, as command-line tools do."""
    tracer.finish()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, out.stream.fileno())   # nothing more to flush at exit either
    return 141
