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
from pydbg.cli.hitpath import check_condition, dprintf_hit, hit_filter
from pydbg.engine.stops import CodeLocation, Stop, StopKind
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
    last_count: int = 1     # a bare `x` repeats the last count, as gdb's last_count


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
        # dprintf hits print and continue inside Target.cont, as gdb's never stop.
        self.target.report_and_continue = self._dprintf_hit
        # ...and once compiled, later hits are decided inside the process layer.
        self.target.hit_filter_factory = self._hit_filter

    def _print_now(self, text: str) -> None:
        self.out(text)
        self.flush()

    def _dprintf_hit(self, bp, event) -> None:
        dprintf_hit(self, bp, event)

    def _hit_filter(self, address: int, bps: list) -> Callable[[int, Any], bool] | None:
        return hit_filter(self, address, bps)

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
    def report_stop(self, stop: Stop, commands: bool = True) -> None:
        """Print a stop the way gdb does and remember it for the next one. COMMANDS off:
        its breakpoints' commands do not run (a stop that abandons a function call)."""
        from pydbg.engine.report import event_lines, stop_lines
        from pydbg.engine.source import ErrorText
        from pydbg.cli.commands.scripting import prepare_stop, run_stop_hook
        self.print_notices()
        self.note_exit(stop)
        if stop.silent:     # a called function returned to its dummy frame (infcall.py)
            self.previous_location = stop.location
            return
        switch = self.target.threads.switch_notice(stop)
        if switch is not None and stop.kind is not StopKind.SIGNAL and \
                not (stop.breakpoints and all(b.kind == "dprintf" for b in stop.breakpoints)):
            self.out(switch)    # gdb's normal_stop, before hook-stop and the report
            switch = None
        label = self.target.threads.stop_label(stop)
        # A signal's line (and `starti`'s "Program stopped.") comes before hook-stop.
        for text in event_lines(stop, label, switch):
            self.out(text)
        if prepare_stop(self, stop):
            # `silent` breakpoint commands, or only dprintfs hit: nothing is announced.
            self.previous_location = stop.location
            self.after_stop(stop, commands)
            return
        self.target.refine_stop(stop)
        for text in stop_lines(stop, stop.pid, self.frame_args_text, self.previous_location,
                               self.target.sources, label, switch, event=False):
            if isinstance(text, ErrorText):
                self.err(text)
            else:
                self.out(text)
        self.previous_location = stop.location
        if stop.location is not None and stop.location.file and stop.location.line:
            self.last_listed = (stop.location.file, stop.location.line)
        if stop.is_exit:
            self.previous_location = None
            run_stop_hook(self)     # gdb's normal_stop runs hook-stop after an exit too
        self.after_stop(stop, commands)

    def note_exit(self, stop: Stop) -> None:
        """gdb's $_exitcode / $_exitsignal: an exit sets one and clears the other."""
        from pydbg.engine.evaluate import INT
        from pydbg.engine.values import Value
        if stop.kind is StopKind.EXITED:
            self.convenience["_exitcode"] = Value.from_int(INT, stop.exit_code or 0)
            self.convenience.pop("_exitsignal", None)
        elif stop.kind is StopKind.KILLED:
            self.convenience["_exitsignal"] = Value.from_int(INT, stop.signal or 9)
            self.convenience.pop("_exitcode", None)

    def frame_args_text(self, loc: CodeLocation) -> str | None:
        """Arguments for the frame line of a stop (frame 0 at LOC's pc)."""
        from pydbg.engine.data import frame_args_for
        target = self.target
        if not target.is_running:
            return None
        try:
            frame = target.frames.frame(0)
        except PydbgError:
            return None
        if frame is None or frame.pc != loc.pc:
            return None
        return frame_args_for(target, frame)

    def after_stop(self, stop: Stop, commands: bool = True) -> None:
        """Hook for displays and breakpoint commands (scripting)."""
        from pydbg.cli.commands.scripting import run_breakpoint_commands
        from pydbg.cli.commands.variables import do_displays
        if not stop.is_exit:
            do_displays(self)
        if commands:
            run_breakpoint_commands(self, stop)

    # ------------------------------------------------------------- expressions
    def inspector(self, frame=None):
        """The data engine for the selected frame (or FRAME): variables, expressions."""
        from pydbg.engine.data import Inspector
        return Inspector(self.target, self.value_history, self.convenience, frame=frame)

    def scope(self):
        return self.inspector().scope()

    def frame_registers(self, masks: bool = True) -> dict[str, int]:
        """Registers of the selected frame (outer frames: as the unwinder recovered them);
        MASKS adds k0-k7 (an XSAVE read), which are not unwound: every frame shows the
        live ones, as gdb does."""
        if not self.target.is_running:
            return self.target.registers()
        frames = self.target.frames
        if frames.selected_level == 0:
            return self.target.registers(masks=masks)
        values = dict(frames.registers_by_name(frames.selected))
        if masks:
            values.update(self.target.mask_registers())
        return values

    def selected_pc(self) -> int:
        return self.frame_registers(masks=False)["rip"]

    def parse_expression(self, text: str):
        return self.inspector().evaluator().parse(text)

    def evaluate(self, text: str, inspector=None):
        if not text.strip():
            raise CommandError("Argument required (expression to compute).")
        inspector = inspector or self.inspector()
        # Commands may call functions of the program; a stop inside one is reported as
        # gdb does, without its breakpoints' commands.
        inspector.allow_calls(self.check_condition,
                              lambda stop: self.report_stop(stop, commands=False))
        try:
            return inspector.evaluate(text)
        finally:
            for warning in inspector.warnings:
                self.err(warning)

    def evaluate_int(self, text: str) -> int:
        return self.evaluate(text).as_int()

    def evaluate_address(self, text: str) -> int:
        from pydbg.engine.evaluate import coerce_array
        return coerce_array(self.evaluate(text)).as_int() & 0xFFFFFFFFFFFFFFFF

    def check_condition(self, bp) -> bool:
        """A breakpoint condition, evaluated in frame 0 of the thread that hit it."""
        return check_condition(self, bp)

    def set_next_address(self, address: int) -> None:
        """gdb's set_next_address: `x` continues at ADDRESS and $_ is `(void *) ADDRESS`
        (after `info breakpoints`, `info line`)."""
        from pydbg.engine.values import Value
        from pydbg.symbols.types import PointerType, VoidType
        self.x_state.next_address = address
        self.convenience["_"] = Value.from_int(PointerType(VoidType()), address)

    def format_value(self, value, letter: str | None = None) -> str:
        return self.inspector().format(value, letter)

    def record_history(self, value) -> int:
        """gdb's record_latest_value: the history keeps a copy, not the lvalue."""
        try:
            value = value.history_copy()
        except (PydbgError, AttributeError):
            pass
        self.value_history.append(value)
        return len(self.value_history)

    def history_value(self, index: int):
        from pydbg.engine.expr import nodes
        return self.inspector().evaluator().eval(nodes.History(index=index))

    def source_file(self, path: str) -> bool:
        """Run the commands of a file (gdb's `source` / -x); stops at the first error.

        Multi-line blocks (commands, define, if, while, python) are read from the file too.
        """
        from pydbg.cli.commands.scripting import source_file
        return source_file(self, path)


def split_command(line: str) -> tuple[str, str]:
    """Split 'x/4x $sp' into ('x', '/4x $sp') and 'info  reg' into ('info', 'reg')."""
    line = line.lstrip()
    m = re.match(r"[A-Za-z0-9_\-]+", line)
    if m is None:
        # gdb allows a few one-character punctuation commands ('!' shell, '|' pipe).
        return (line[:1], line[1:].strip()) if line else ("", "")
    word = m.group(0)
    return word, line[m.end():].strip()
