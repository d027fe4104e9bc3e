"""The public Python API: a small, typed facade over the engine for scripts and `python`.

`pydbg.spawn(argv)` / `pydbg.attach(pid)` return a Debugger; the engine (Target) owns all
state, so the REPL and a script driving the same session always agree.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from pydbg.engine.stops import Stop as EngineStop
from pydbg.engine.stops import StopKind
from pydbg.errors import CommandError, PydbgError, TargetError

if TYPE_CHECKING:
    from pydbg.cli.session import Session
    from pydbg.engine.breakpoints import Breakpoint as EngineBreakpoint

__all__ = [
    "Array", "Breakpoint", "CString", "Debugger", "Float", "Frame", "Int", "Memory",
    "Pointer", "Registers", "Stop", "Struct", "Unavailable", "attach", "selected", "spawn",
]

OnHit = Callable[["Stop"], Any]
MAX_ARRAY_ELEMENTS = 100_000


# ------------------------------------------------------------------------------ values

class _Typed:
    """Mixin of converted values: the engine Value behind them, and gdb's text for it."""

    _value: Any
    _formatter: Callable[[Any, str | None], str] | None

    def _bind(self, value: Any, formatter) -> None:
        self._value = value
        self._formatter = formatter

    @property
    def type(self) -> Any:
        """The value's C type (a pydbg.symbols.types.CType from DWARF or a builtin)."""
        return self._value.type if self._value is not None else None

    @property
    def type_name(self) -> str:
        """The type as gdb's whatis names it ('int', 'struct point *')."""
        t = self.type
        if t is None:
            return "?"
        try:
            from pydbg.symbols.types import type_name
            return type_name(t)
        except (ImportError, AttributeError, TypeError):
            return str(getattr(t, "name", t))

    @property
    def engine_value(self) -> Any:
        """The engine's pydbg.engine.values.Value (for advanced use)."""
        return self._value

    def format(self, fmt: str | None = None) -> str:
        """gdb's text for the value, as `print[/FMT]` shows it (fmt: x d u o t c a f s z)."""
        if self._formatter is None or self._value is None:
            return repr(self)
        return self._formatter(self._value, fmt)


class Int(_Typed, int):
    """A C integer, char, bool or enum: an int that remembers its C type."""

    def __new__(cls, number: int, value: Any = None, formatter=None) -> "Int":
        obj = super().__new__(cls, number)
        obj._bind(value, formatter)
        return obj


class Float(_Typed, float):
    """A C float/double: a float that remembers its C type."""

    def __new__(cls, number: float, value: Any = None, formatter=None) -> "Float":
        obj = super().__new__(cls, number)
        obj._bind(value, formatter)
        return obj


class Pointer(_Typed, int):
    """A C pointer: an int (the address) with its C type."""

    def __new__(cls, address: int, value: Any = None, formatter=None) -> "Pointer":
        obj = super().__new__(cls, address)
        obj._bind(value, formatter)
        return obj

    def __repr__(self) -> str:
        return f"Pointer({int(self):#x})"


class CString(_Typed, str):
    """A C string (char * or char array): a str decoded as UTF-8 (errors replaced).

    .raw is the bytes up to the NUL and .address where they are in the program."""

    raw: bytes
    address: int | None

    def __new__(cls, raw: bytes, address: int | None, value: Any = None,
                formatter=None) -> "CString":
        obj = super().__new__(cls, raw.decode("utf-8", errors="replace"))
        obj.raw = raw
        obj.address = address
        obj._bind(value, formatter)
        return obj


class Struct(_Typed, dict):
    """A C struct or union: a dict of member name -> converted value (attribute access too)."""

    def __init__(self, members: dict[str, Any], value: Any = None, formatter=None) -> None:
        super().__init__(members)
        self._bind(value, formatter)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Array(_Typed, list):
    """A C array: a list of converted elements."""

    def __init__(self, elements: list[Any], value: Any = None, formatter=None) -> None:
        super().__init__(elements)
        self._bind(value, formatter)


@dataclass(frozen=True)
class Unavailable:
    """A value that cannot be read: optimized out, or an error reading it."""
    reason: str

    type = None
    type_name = "?"

    def __repr__(self) -> str:
        return f"<{self.reason}>"

    def format(self, fmt: str | None = None) -> str:
        return f"<{self.reason}>"


def to_python(value: Any, formatter=None, read_memory: Callable[[int, int], bytes] | None = None,
              depth: int = 0) -> Any:
    """An engine Value as a Python value keeping its C type (see the classes above)."""
    from pydbg.symbols.types import (ArrayType, BaseType, CompositeType, EnumType,
                                     FunctionType, PointerType, VoidType, strip_typedefs)
    try:
        if getattr(value, "entirely_optimized_out", False):
            return Unavailable("optimized out")
        t = strip_typedefs(value.type)
        if isinstance(t, VoidType):
            return None
        if isinstance(t, BaseType) and t.is_float:
            return Float(value.as_float(), value, formatter)
        if isinstance(t, (BaseType, EnumType)):
            return Int(value.as_int(), value, formatter)
        if isinstance(t, PointerType):
            address = value.as_unsigned()
            if _is_char(t.target) and address and read_memory is not None:
                from pydbg.engine.printf import read_c_string
                try:
                    return CString(read_c_string(read_memory, address), address, value,
                                   formatter)
                except PydbgError:
                    pass
            return Pointer(address, value, formatter)
        if isinstance(t, FunctionType):
            return Pointer(value.address or 0, value, formatter)
        if isinstance(t, ArrayType):
            elt = t.target
            if _is_char(elt):
                data = bytes(value.fetch())
                end = data.find(b"\0")
                return CString(data[:end] if end >= 0 else data, value.address, value,
                               formatter)
            size = max(_size(elt), 1)
            count = t.length if t.length is not None else 0
            count = min(count, MAX_ARRAY_ELEMENTS)
            return Array([to_python(value.component(elt, i * size), formatter, read_memory,
                                    depth + 1) for i in range(count)], value, formatter)
        if isinstance(t, CompositeType):
            members: dict[str, Any] = {}
            for index, member in enumerate(t.members):
                name = member.name or f"<anonymous {index}>"
                part = value.component(member.type, member.offset, member.bit_offset or 0,
                                       member.bit_size or 0)
                members[name] = to_python(part, formatter, read_memory, depth + 1)
            return Struct(members, value, formatter)
    except PydbgError as exc:
        return Unavailable(str(exc))
    return Int(value.as_int(), value, formatter)


def _is_char(t: Any) -> bool:
    from pydbg.symbols.types import BaseType, strip_typedefs
    t = strip_typedefs(t)
    return isinstance(t, BaseType) and t.size == 1 and \
        t.encoding in ("signed_char", "unsigned_char")


def _size(t: Any) -> int:
    try:
        return int(t.size)
    except (NotImplementedError, AttributeError):
        return 0


# ------------------------------------------------------------------------ registers, memory

class Registers:
    """The selected frame's registers by name: regs.rip, regs['eax'], regs.rax = 5."""

    def __init__(self, debugger: "Debugger") -> None:
        object.__setattr__(self, "_dbg", debugger)

    def _values(self) -> dict[str, int]:
        return self._dbg._session.frame_registers()

    def __getattr__(self, name: str) -> int:
        from pydbg.engine.format import register_value
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            value = register_value(name, self._values())
        except CommandError:
            value = None
        if value is None:
            raise AttributeError(f"Invalid register `{name}'")
        return value

    __getitem__ = __getattr__

    def __setattr__(self, name: str, value: int) -> None:
        from pydbg.arch.x86_64 import lookup_register
        if lookup_register(name) is None:
            raise AttributeError(f"Invalid register `{name}'")
        self._dbg._session.evaluate(f"${name} = {int(value)}")

    __setitem__ = __setattr__

    def as_dict(self) -> dict[str, int]:
        """Every register by name (user_regs_struct names, plus k0-k7 where present)."""
        return dict(self._values())

    def __repr__(self) -> str:
        v = self._values()
        return f"<Registers rip={v.get('rip', 0):#x} rsp={v.get('rsp', 0):#x}>"


class Memory:
    """The program's memory: read(addr, n) -> bytes, write(addr, data)."""

    def __init__(self, debugger: "Debugger") -> None:
        self._dbg = debugger

    def read(self, address: int, size: int) -> bytes:
        return self._dbg.target.read_memory(int(address), int(size))

    def write(self, address: int, data: bytes) -> None:
        self._dbg.target.write_memory(int(address), bytes(data))

    def read_int(self, address: int, size: int = 8, signed: bool = False) -> int:
        return int.from_bytes(self.read(address, size), "little", signed=signed)

    def read_string(self, address: int, limit: int = 4096) -> bytes:
        """Bytes at ADDRESS up to the first NUL (at most LIMIT)."""
        from pydbg.engine.printf import read_c_string
        return read_c_string(self._dbg.target.read_memory, int(address), limit)


# ------------------------------------------------------------------------ stops, frames

class Frame:
    """One stack frame: function, file, line, args; frame['name'] evaluates a variable there."""

    def __init__(self, debugger: "Debugger", level: int, stop: EngineStop | None) -> None:
        self._dbg = debugger
        self.level = level
        self._stop = stop

    def _engine_frame(self):
        self._dbg._check_current(self._stop)
        frame = self._dbg.target.frames.frame(self.level)
        if frame is None:
            raise CommandError(f"No frame at level {self.level}.")
        return frame

    @property
    def pc(self) -> int:
        return self._engine_frame().pc

    @property
    def function(self) -> str | None:
        return self._engine_frame().location.function

    @property
    def file(self) -> str | None:
        return self._engine_frame().location.file

    @property
    def line(self) -> int | None:
        return self._engine_frame().location.line

    @property
    def args(self) -> dict[str, Any]:
        """The function's parameters (from DWARF) as Python values; {} without DWARF."""
        inspector = self._inspector()
        if inspector.reader is None:
            return {}
        out: dict[str, Any] = {}
        for var in inspector.reader.params():
            try:
                out[var.name] = self._dbg._convert(inspector.reader.read(var))
            except PydbgError as exc:
                out[var.name] = Unavailable(str(exc))
        return out

    @property
    def locals(self) -> dict[str, Any]:
        """The local variables visible at this frame's pc, innermost block first."""
        inspector = self._inspector()
        if inspector.reader is None:
            return {}
        out: dict[str, Any] = {}
        for var in inspector.reader.locals():
            if var.name in out:
                continue        # shadowed by an inner block's variable
            try:
                out[var.name] = self._dbg._convert(inspector.reader.read(var))
            except PydbgError as exc:
                out[var.name] = Unavailable(str(exc))
        return out

    def _inspector(self):
        return self._dbg._session.inspector(self._engine_frame())

    def __getitem__(self, name: str) -> Any:
        """Evaluate NAME (any expression) in this frame."""
        return self.evaluate(name)

    def evaluate(self, expr: str) -> Any:
        """A C expression evaluated in this frame, as a Python value (it may call functions
        of the program, as Debugger.evaluate)."""
        session = self._dbg._session
        inspector = self._inspector()
        inspector.allow_calls(session.check_condition,
                              lambda stop: session.report_stop(stop, commands=False))
        return self._dbg._convert(inspector.evaluate(expr))

    def older(self) -> "Frame | None":
        """The caller's frame, or None at the outermost one."""
        frames = self._dbg.target.frames
        return Frame(self._dbg, self.level + 1, self._stop) \
            if frames.frame(self.level + 1) is not None else None

    def __repr__(self) -> str:
        try:
            return f"<Frame #{self.level} {self.function} at {self.file}:{self.line}>"
        except PydbgError:
            return f"<Frame #{self.level} (gone)>"


class Stop:
    """Why the program stopped: kind ('breakpoint', 'step', 'signal', 'exited', 'killed'...),
    pc, thread, the breakpoint hit, the signal name, the exit code and frame 0."""

    def __init__(self, debugger: "Debugger", stop: EngineStop) -> None:
        self._dbg = debugger
        self.engine_stop = stop
        self.kind: str = stop.kind.value
        self.pc: int | None = stop.pc
        self.thread: int = stop.tid
        self.exit_code: int | None = stop.exit_code
        self.return_value: Any = None
        from pydbg.engine.signals import signal_name
        self.signal: str | None = signal_name(stop.signal) if stop.signal else None
        bps = [b for b in stop.breakpoints if not b.internal]
        self.breakpoints: list[Breakpoint] = [debugger._wrap_breakpoint(b) for b in bps]

    @property
    def breakpoint(self) -> "Breakpoint | None":
        return self.breakpoints[0] if self.breakpoints else None

    @property
    def is_exit(self) -> bool:
        return self.engine_stop.is_exit

    @property
    def frame(self) -> Frame:
        """Frame 0 at this stop (valid while the program has not moved on)."""
        return Frame(self._dbg, 0, self.engine_stop)

    @property
    def function(self) -> str | None:
        loc = self.engine_stop.location
        return loc.function if loc is not None else None

    def __repr__(self) -> str:
        where = f" in {self.function}" if self.function else ""
        pc = f" at {self.pc:#x}" if self.pc is not None else ""
        return f"<Stop {self.kind}{pc}{where}>"


class Breakpoint:
    """A breakpoint set with Debugger.break_at (the engine's breakpoint table owns it)."""

    def __init__(self, debugger: "Debugger", bp: "EngineBreakpoint") -> None:
        self._dbg = debugger
        self.engine_breakpoint = bp

    @property
    def number(self) -> int:
        return self.engine_breakpoint.number

    @property
    def location(self) -> str:
        return self.engine_breakpoint.spec

    @property
    def addresses(self) -> list[int]:
        return list(self.engine_breakpoint.addresses())

    @property
    def hit_count(self) -> int:
        return self.engine_breakpoint.hit_count

    @property
    def condition(self) -> str | None:
        return self.engine_breakpoint.condition

    @condition.setter
    def condition(self, text: str | None) -> None:
        bp = self.engine_breakpoint
        if text:
            self._dbg._session.parse_expression(text)
        bp.condition = text or None
        bp.condition_ast = None

    @property
    def enabled(self) -> bool:
        return self.engine_breakpoint.enabled

    @enabled.setter
    def enabled(self, on: bool) -> None:
        self.engine_breakpoint.enabled = bool(on)
        self._dbg.target.sync_sites()

    @property
    def on_hit(self) -> OnHit | None:
        return self._dbg._callbacks.get(self.number)

    @on_hit.setter
    def on_hit(self, callback: OnHit | None) -> None:
        if callback is None:
            self._dbg._callbacks.pop(self.number, None)
        else:
            self._dbg._callbacks[self.number] = callback

    def delete(self) -> None:
        self._dbg.target.delete_breakpoint(self.number)
        self._dbg._callbacks.pop(self.number, None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Breakpoint) and \
            other.engine_breakpoint is self.engine_breakpoint

    def __hash__(self) -> int:
        return id(self.engine_breakpoint)

    def __repr__(self) -> str:
        return f"<Breakpoint {self.number} at {self.location}>"


# ------------------------------------------------------------------------------ debugger

class Debugger:
    """One debugged program. Use as a context manager: leaving it kills a program it
    started and detaches from one it attached to."""

    def __init__(self, session: "Session") -> None:
        self._session = session
        self._callbacks: dict[int, OnHit] = {}
        self.registers = Registers(self)
        self.memory = Memory(self)

    @classmethod
    def from_session(cls, session: "Session") -> "Debugger":
        """The Debugger of a CLI session (what `python` commands get as pydbg.selected())."""
        existing = getattr(session, "_api_debugger", None)
        if existing is None:
            existing = cls(session)
            session._api_debugger = existing  # type: ignore[attr-defined]
        return existing

    # ---------------------------------------------------------------- state
    @property
    def target(self):
        """The engine's Target (pydbg.engine.target.Target)."""
        return self._session.target

    @property
    def pid(self) -> int | None:
        process = self.target.process
        return process.pid if process is not None else None

    @property
    def is_running(self) -> bool:
        return self.target.is_running

    @property
    def last_stop(self) -> Stop | None:
        stop = self.target.last_stop
        return Stop(self, stop) if stop is not None else None

    @property
    def exit_code(self) -> int | None:
        """The exit status once the program has exited normally (None before)."""
        return self._exit_code

    @property
    def exit_signal(self) -> str | None:
        """The signal's name when the program was killed by one."""
        return self._exit_signal

    _exit_code: int | None = None
    _exit_signal: str | None = None

    @property
    def frame(self) -> Frame:
        """The selected frame."""
        return Frame(self, self.target.frames.selected_level, self.target.last_stop)

    def backtrace(self, limit: int | None = None) -> list[Frame]:
        frames = []
        for frame in self.target.frames:
            if limit is not None and frame.level >= limit:
                break
            frames.append(Frame(self, frame.level, self.target.last_stop))
        return frames

    # ----------------------------------------------------------- breakpoints
    def break_at(self, location: str, condition: str | None = None,
                 on_hit: OnHit | None = None, temporary: bool = False) -> Breakpoint:
        """Break at a function, FILE:LINE, LINE or *ADDRESS (an int is taken as an address).

        ON_HIT(stop) is called at each hit during run(); return True to have run() yield
        the stop, anything else to go on.
        """
        spec = f"*{location:#x}" if isinstance(location, int) else str(location)
        session = self._session
        if condition:
            session.parse_expression(condition)
        bp = self.target.add_breakpoint(spec, temporary=temporary, condition=condition,
                                        evaluate=session.evaluate_address)
        wrapped = Breakpoint(self, bp)
        if on_hit is not None:
            self._callbacks[bp.number] = on_hit
        return wrapped

    @property
    def breakpoints(self) -> list[Breakpoint]:
        return [Breakpoint(self, b) for b in self.target.breakpoints.user_breakpoints()]

    def _wrap_breakpoint(self, bp) -> Breakpoint:
        return Breakpoint(self, bp)

    # -------------------------------------------------------------- running
    def _record(self, stop: EngineStop) -> Stop:
        # Thread notices are for terminals; a script reads threads from its stops.
        self.target.notices.clear()
        self._session.note_exit(stop)
        if stop.kind is StopKind.EXITED:
            self._exit_code, self._exit_signal = stop.exit_code or 0, None
        elif stop.kind is StopKind.KILLED:
            from pydbg.engine.signals import signal_name
            self._exit_code, self._exit_signal = None, signal_name(stop.signal or 9)
        if self._session.previous_location is not None or stop.location is not None:
            self._session.previous_location = None if stop.is_exit else stop.location
        return Stop(self, stop)

    def _start_if_needed(self) -> None:
        if not self.target.is_running:
            self._exit_code = self._exit_signal = None
            self.target.run(stop_at_entry=True)

    def cont(self) -> Stop:
        """Continue until the next stop (a breakpoint whose condition holds, a signal, exit)."""
        self._start_if_needed()
        stop = self.target.cont(check_condition=self._session.check_condition)
        return self._record(stop)

    def run(self) -> Iterator[Stop]:
        """Run (starting the program if needed) and yield each stop until it exits.

        Breakpoints with an on_hit callback are yielded only when it returns True. The
        exit itself is not yielded: see exit_code / exit_signal afterwards.
        """
        while True:
            stop = self.cont()
            if stop.is_exit:
                return
            engine = stop.engine_stop
            if engine.kind is StopKind.BREAKPOINT and engine.breakpoints:
                callbacks = [self._callbacks.get(b.number) for b in engine.breakpoints
                             if not b.internal]
                if callbacks and all(cb is not None for cb in callbacks):
                    results = [cb(stop) for cb in callbacks if cb is not None]
                    if not any(r is True for r in results):
                        continue
                else:
                    for cb in callbacks:
                        if cb is not None:
                            cb(stop)
            yield stop

    def stepi(self) -> Stop:
        """One machine instruction."""
        return self._record(self.target.step_instruction())

    def nexti(self) -> Stop:
        """One machine instruction, stepping over calls."""
        return self._record(self.target.step_instruction(over_calls=True))

    def step(self) -> Stop:
        """To the next source line, entering calls (gdb's step)."""
        return self._command_stop("step")

    def next(self) -> Stop:
        """To the next source line in this function, over calls (gdb's next)."""
        return self._command_stop("next")

    def finish(self) -> Stop:
        """Run until the selected frame returns; stop.return_value holds what it returned."""
        history = len(self._session.value_history)
        stop = self._command_stop("finish")
        if len(self._session.value_history) > history:
            value = self._session.value_history[-1]
            stop.return_value = self._convert(value)
        return stop

    def _command_stop(self, name: str) -> Stop:
        from pydbg.cli.commands.registry import TOP
        if name not in TOP.commands:
            raise CommandError(f"\"{name}\" is not available in this version of pydbg.")
        self.target.require_process()
        self.execute(name, to_string=True)
        stop = self.target.last_stop
        if stop is None:
            raise TargetError("The program is not being run.")
        return self._record(stop)

    def kill(self) -> None:
        self.target.kill()

    def detach(self) -> None:
        self.target.detach()

    def close(self) -> None:
        """Kill a program we started, detach from one we attached to."""
        self.target.close()

    def __enter__(self) -> "Debugger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- data
    def _convert(self, value: Any) -> Any:
        result = to_python(value, self._session.format_value, self.target.read_memory)
        if isinstance(result, Unavailable) and result.reason != "optimized out":
            # The value itself cannot be read (gdb's print fails the same way).
            from pydbg.errors import ExpressionError
            raise ExpressionError(result.reason)
        return result

    def evaluate(self, expr: str) -> Any:
        """A C expression in the selected frame, as a Python value (Int, Float, Pointer,
        CString, Struct, Array: each keeps its C type and formats as gdb with .format())."""
        return self._convert(self._session.evaluate(expr))

    def format(self, expr: str, fmt: str | None = None) -> str:
        """gdb's `print[/FMT] EXPR` text (without the `$N = `)."""
        return self._session.format_value(self._session.evaluate(expr), fmt)

    def execute(self, command: str, to_string: bool = False) -> str | None:
        """Run a pydbg (gdb) command; with to_string, return its output instead of printing.

        Errors raise pydbg.errors.PydbgError, as gdb.execute raises gdb.error."""
        session = self._session
        if not to_string:
            session.dispatch(command)
            session.print_notices()
            session.flush()
            return None
        buffer = io.StringIO()
        saved = session.stdout
        session.stdout = buffer
        try:
            session.dispatch(command)
            session.print_notices()
        finally:
            session.stdout = saved
        return buffer.getvalue()

    def _check_current(self, stop: EngineStop | None) -> None:
        if stop is not None and stop is not self.target.last_stop:
            raise TargetError("The program has moved on since this stop.")
        self.target.require_process()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.is_running else "not running"
        return f"<Debugger {self.target.executable} ({state})>"


# ---------------------------------------------------------------------------- entry points

def _new_session() -> "Session":
    from pydbg.cli import commands  # noqa: F401  (evaluation and execute() use the commands)
    from pydbg.cli.session import Session
    return Session(batch=True, from_tty=False)


def spawn(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
          stdin: int | None = None, stdout: int | None = None, stderr: int | None = None,
          aslr: bool = False) -> Debugger:
    """Start ARGV[0] with ARGV[1:] under the debugger, stopped at its first instruction.

    STDIN/STDOUT/STDERR are file descriptors for the program (default: ours); ENV its
    environment (default: ours); ASLR stays off unless asked for, as in gdb.
    """
    if not argv:
        raise TargetError("spawn() needs a program to run.")
    program = str(argv[0])
    if os.sep not in program and not os.path.exists(program):
        program = shutil.which(program) or program
    session = _new_session()
    target = session.target
    target.notice_sink = None
    target.load_executable(program)
    if env is not None:
        target.settings.environment = dict(env)
    target.settings.cwd = cwd
    target.settings.disable_randomization = not aslr
    target.run([str(a) for a in argv[1:]], stdin=stdin, stdout=stdout, stderr=stderr,
               stop_at_entry=True)
    return Debugger.from_session(session)


def attach(pid: int) -> Debugger:
    """Attach to a running process (it stays stopped until run()/cont())."""
    session = _new_session()
    session.target.notice_sink = None
    session.target.attach(int(pid))
    return Debugger.from_session(session)


_selected: list["Session"] = []


@contextlib.contextmanager
def selecting(session: "Session") -> Iterator[None]:
    """Make SESSION's Debugger the one pydbg.selected() returns (the `python` command)."""
    _selected.append(session)
    try:
        yield
    finally:
        _selected.pop()


def selected() -> Debugger:
    """The Debugger of the pydbg session running this Python code (as gdb's
    gdb.selected_inferior()); only inside the `python` command."""
    if not _selected:
        raise TargetError("No pydbg session is running this code "
                          "(pydbg.selected() works inside the `python` command).")
    return Debugger.from_session(_selected[-1])
