"""A debugging session: one Target plus what a gdb front end remembers between commands.

The REPL and batch mode both feed lines to Session.execute(); commands print through
Session.out()/err() so output can be captured by tests and by batch mode.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

from pydbg.cli.commands.registry import TOP, Command, CommandTable
from pydbg.engine.stops import CodeLocation, Stop
from pydbg.engine.target import Target
from pydbg.errors import CommandError, PydbgError

_WORD = re.compile(r"\s*([A-Za-z0-9_.\-!]+|[^\sA-Za-z0-9_]?)")


@dataclass
class XState:
    """gdb's sticky defaults for `x` (format, unit) and the next address to examine."""
    fmt: str = "x"
    unit: str = "w"
    next_address: int | None = None
    last_address: int | None = None


@dataclass
class Session:
    target: Target = field(default_factory=Target)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    batch: bool = False
    from_tty: bool = True
    confirm: Callable[[str], bool] | None = None
    last_command: str | None = None
    x_state: XState = field(default_factory=XState)
    value_history: list[Any] = field(default_factory=list)
    convenience: dict[str, Any] = field(default_factory=dict)
    quit_requested: bool = False
    exit_code: int = 0
    last_listed: tuple[str, int] | None = None
    previous_location: CodeLocation | None = None

    def __post_init__(self) -> None:
        # Thread notices are printed as they happen, like gdb's.
        self.target.notice_sink = self._print_now

    def _print_now(self, text: str) -> None:
        self.out(text)
        self.flush()

    # ------------------------------------------------------------------ output
    def out(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def write(self, text: str) -> None:
        self.stdout.write(text)

    def err(self, text: str) -> None:
        self.stdout.flush()
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def flush(self) -> None:
        self.stdout.flush()

    def ask(self, question: str) -> bool:
        """gdb's y/n query: batch mode and `set confirm off` answer yes."""
        if self.batch or not self.target.settings.confirm or self.confirm is None:
            return True
        return self.confirm(question)

    # --------------------------------------------------------------- dispatch
    def execute(self, line: str, *, from_repeat: bool = False) -> bool:
        """Run one command line; returns False if it failed (the error was printed)."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        try:
            self.dispatch(line)
            return True
        except PydbgError as exc:
            self.err(str(exc))
            return False
        except KeyboardInterrupt:
            self.err("Quit")
            return False
        finally:
            self.print_notices()
            self.flush()

    def dispatch(self, line: str, table: CommandTable = TOP) -> None:
        cmd, arg = self.resolve(line, table)
        if cmd.handler is None:
            raise CommandError(f"Undefined command: \"{line}\".  Try \"help\".")
        cmd.handler(self, arg)

    def resolve(self, line: str, table: CommandTable = TOP) -> tuple[Command, str]:
        """Find the command for a line, descending into prefix commands ('info reg')."""
        word, rest = split_command(line)
        if not word:
            raise CommandError(f"Undefined command: \"{line}\".  Try \"help\".")
        cmd = table.lookup(word)
        if cmd.subcommands is not None and rest:
            sub_word, _ = split_command(rest)
            if sub_word:
                try:
                    return self.resolve(rest, cmd.subcommands)
                except CommandError:
                    if not cmd.allow_unknown_sub:
                        raise
        return cmd, rest

    def repeatable(self, line: str) -> bool:
        try:
            cmd, _ = self.resolve(line)
        except PydbgError:
            return False
        return cmd.repeat

    def print_notices(self) -> None:
        notices = self.target.notices
        while notices:
            self.out(notices.pop(0))

    # ------------------------------------------------------------------ stops
    def report_stop(self, stop: Stop) -> None:
        """Print a stop the way gdb does and remember it for the next one."""
        from pydbg.engine.report import stop_lines
        self.print_notices()
        for text in stop_lines(stop, stop.pid, self.frame_args_text, self.previous_location):
            self.out(text)
        self.previous_location = stop.location
        if stop.location is not None and stop.location.file and stop.location.line:
            self.last_listed = (stop.location.file, stop.location.line)
        if stop.is_exit:
            self.previous_location = None
        self.after_stop(stop)

    def frame_args_text(self, loc: CodeLocation) -> str | None:
        """Arguments for frame lines; filled in once DWARF variables are available."""
        hook = getattr(self.target, "frame_args_text", None)
        return hook(loc) if hook is not None else None

    def after_stop(self, stop: Stop) -> None:
        """Hook for displays and breakpoint commands (scripting)."""

    # ------------------------------------------------------------- expressions
    def scope(self):
        from pydbg.engine.evaluate import EvalScope
        target = self.target
        running = target.is_running
        return EvalScope(
            read_register=self._read_register if running else None,
            write_register=self._write_register if running else None,
            read_memory=target.read_memory,
            write_memory=target.write_memory if running else None,
            lookup_symbol=target.lookup_symbol_address,
            history=self.value_history,
            convenience=self.convenience,
        )

    def _read_register(self, name: str) -> int:
        from pydbg.engine.format import register_value
        value = register_value(name, self.frame_registers())
        if value is None:
            raise CommandError(f"Invalid register `{name}'")
        return value

    def _write_register(self, name: str, value: int) -> None:
        from pydbg.arch.x86_64 import lookup_register
        reg = lookup_register(name)
        if reg is None:
            raise CommandError(f"Invalid register `{name}'")
        full = self.frame_registers()[reg.parent]
        self.target.set_register(reg.parent, reg.insert(full, value))

    def frame_registers(self) -> dict[str, int]:
        return self.target.registers()

    def selected_pc(self) -> int:
        return self.frame_registers()["rip"]

    def parse_expression(self, text: str):
        from pydbg.engine.expr.parser import parse_expression
        return parse_expression(text)

    def evaluate(self, text: str):
        from pydbg.engine.evaluate import Evaluator
        if not text.strip():
            raise CommandError("Argument required (expression to compute).")
        return Evaluator(self.scope()).evaluate(text)

    def evaluate_int(self, text: str) -> int:
        return self.evaluate(text).as_int()

    def evaluate_address(self, text: str) -> int:
        value = self.evaluate(text)
        return value.as_int() & 0xFFFFFFFFFFFFFFFF

    def check_condition(self, bp) -> bool:
        return self.evaluate(bp.condition).truth()

    def format_value(self, value, letter: str | None = None) -> str:
        from pydbg.engine import format as fmt
        t = value.type
        if t.kind == "void":
            return "void"
        if t.kind == "float" and letter in (None, "f"):
            return _format_float(value.value, t.size)
        if t.kind == "bool" and letter is None:
            return "true" if value.value else "false"
        kind = t.kind if t.kind in ("int", "char", "data_ptr", "code_ptr", "flags") else "int"
        type_name = t.name if kind in ("data_ptr", "code_ptr") else None
        return fmt.format_scalar(value.as_int(), t.size, t.signed, letter, kind=kind,
                                 symbolize=self.target.symbolic_suffix, type_name=type_name)

    def record_history(self, value) -> int:
        self.value_history.append(value)
        return len(self.value_history)

    def history_value(self, index: int):
        from pydbg.engine.evaluate import Evaluator
        from pydbg.engine.expr import nodes
        return Evaluator(self.scope()).eval(nodes.History(index=index))

    def source_file(self, path: str) -> bool:
        """Run the commands of a file (gdb's `source` / -x); stops at the first error."""
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError as exc:
            self.err(f"{path}: {exc.strerror}.")
            return False
        for line in lines:
            if self.quit_requested:
                break
            if not self.execute(line):
                return False
        return True


def _format_float(value: float, size: int) -> str:
    """gdb prints floats with the shortest text that reads back to the same value."""
    import math
    import struct
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if math.isnan(value):
        return "nan(0x8000000000000)" if size == 8 else "nan(0x400000)"
    if size == 4:
        for digits in range(1, 10):
            text = f"{value:.{digits}g}"
            if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
                return text
    for digits in range(1, 18):
        text = f"{value:.{digits}g}"
        if float(text) == value:
            return text
    return repr(value)


def split_command(line: str) -> tuple[str, str]:
    """Split 'x/4x $sp' into ('x', '/4x $sp') and 'info  reg' into ('info', 'reg')."""
    line = line.lstrip()
    m = re.match(r"[A-Za-z0-9_\-]+", line)
    if m is None:
        # gdb allows a few one-character punctuation commands ('!' shell, '|' pipe).
        return (line[:1], line[1:].strip()) if line else ("", "")
    word = m.group(0)
    return word, line[m.end():].strip()
