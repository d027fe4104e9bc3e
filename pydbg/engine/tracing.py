"""The tracing engine behind `pydbg trace`: probes on functions and lines, return values via
a temporary breakpoint at the return address (matched by stack pointer), per-location counts.

A probe's function name and return type are worked out once; a hit reads the arguments of
frame 0 through the data engine and nothing else, and text is made only for what is output.
"""

from __future__ import annotations

import fnmatch
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from pydbg.engine.breakpoints import Breakpoint, BreakpointLocation
from pydbg.engine.signals import signal_description, signal_name
from pydbg.engine.stops import Stop, StopKind
from pydbg.errors import CommandError, PydbgError

# Signals after which the program is (almost always) about to die: show where it crashed.
CRASH_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGSYS", "SIGTRAP"}


def frame_arguments(inspector) -> list[tuple[str, str]] | None:
    """(name, gdb text) of each parameter of the inspector's frame, as gdb's frame lines
    show them with `set print frame-arguments all` (`a=1`, `p={x = 3, y = -4}`); None
    when the function has no DWARF. Entry values (`n@entry=`) are not looked up: that
    needs the caller's frame, too dear for every hit."""
    from pydbg.engine.data import _summary, value_print_nested
    from pydbg.engine.values import is_aggregate
    ctx = inspector.ctx
    reader = inspector.reader
    if ctx is None or ctx.function_block is None or reader is None:
        return None
    opts = inspector.print_options()
    out = []
    for var in reader.params():
        try:
            value = reader.read(var)
            text = value_print_nested(value, opts) if is_aggregate(var.type) else \
                _summary(value, opts)
        except PydbgError as exc:
            text = f"<error: {exc}>"
        out.append((var.name, text))
    return out


@dataclass
class _CapturePlan:
    """What a probe hit reads, compiled for one address: (name, value closure, printer)
    per argument and --print expression, and the CFA (for --ret)."""
    args: list[tuple[str, Callable, Callable]]
    prints: list[tuple[str, Callable, Callable]]
    cfa: Callable | None


def scalar_printer(t) -> Callable[[int], str] | None:
    """gdb's natural text of an integer, enum, bool or char of type T from its value, as
    printing._natural_scalar makes it from a Value (without building one: a hit prints
    many); None for the other kinds (pointers, wide characters), which the printer does."""
    from pydbg.engine import format as fmt
    from pydbg.engine.printing import _wide_char_width, enum_text
    from pydbg.engine.values import is_char, is_signed
    from pydbg.symbols.types import BaseType, EnumType, strip_typedefs
    s = strip_typedefs(t)
    if isinstance(s, EnumType):
        return lambda v: enum_text(s, v)
    if not isinstance(s, BaseType) or _wide_char_width(t):
        return None
    if s.encoding == "boolean":
        mask = (1 << (8 * s.size)) - 1
        return lambda v: "true" if v & mask == 1 else "false" if v & mask == 0 else \
            str(v & mask)
    if s.encoding not in ("signed", "unsigned", "signed_char", "unsigned_char"):
        return None
    if is_char(s):
        signed = is_signed(s)
        return lambda v: fmt.format_char(v, signed)
    return str


def _compile_capture(inspector, args_text: list[tuple[str, str]],
                     prints: list[tuple[str, "Captured"]], cfa: int | None,
                     need_cfa: bool) -> _CapturePlan | None:
    """Closures giving exactly the texts this hit printed (ARGS_TEXT, PRINTS), or None."""
    from pydbg.engine.data import _summary
    from pydbg.engine.hitcontext import ExpressionCompiler, Fallback, NotCompilable
    from pydbg.engine.values import Value
    reader = inspector.reader
    if reader is None:
        return None
    target = inspector.target
    compiler = ExpressionCompiler(inspector, target.read_memory)
    raw = target.raw_registers()
    opts = inspector.print_options()
    params = reader.params()
    if len(params) != len(args_text):
        return None

    def arg_printer(t):
        return scalar_printer(t) or (lambda v: _summary(Value.from_int(t, v), opts))

    def print_printer(t):
        return scalar_printer(t) or (lambda v: inspector.format(Value.from_int(t, v)))

    plan = _CapturePlan([], [], None)
    try:
        for var, (name, text) in zip(params, args_text):
            compiled = compiler.compile_variable(var)
            fmt = arg_printer(compiled.type)
            if name != var.name or fmt(compiled.fn(raw)) != text:
                return None
            plan.args.append((name, compiled.fn, fmt))
        for expr, captured in prints:
            if captured.text is None:
                return None
            compiled = compiler.compile(inspector.evaluator().parse(expr))
            fmt = print_printer(compiled.type)
            if fmt(compiled.fn(raw)) != captured.text:
                return None
            plan.prints.append((expr, compiled.fn, fmt))
        if need_cfa:
            plan.cfa = compiler.function(compiler.cfa())
            if plan.cfa(raw) != cfa:
                return None
    except (NotCompilable, Fallback, PydbgError):
        return None
    return plan     # (aggregate arguments are printed by the general path only)


# ------------------------------------------------------------------------------ events

@dataclass
class Captured:
    """A value read at a hit: its gdb text, or why it could not be read."""
    text: str | None
    error: str | None = None


@dataclass
class TraceEvent:
    kind: str                     # call | line | return | signal | exited | killed | detached
    thread: int = 0               # gdb-style thread number (1 = the main thread)
    tid: int = 0
    label: str = ""               # the probe as given ("add", "basic.c:13")
    function: str | None = None
    depth: int = 0                # traced calls pending in this thread (with returns)
    args: list[tuple[str, Captured]] | None = None   # None: no DWARF parameters known
    prints: list[tuple[str, Captured]] = field(default_factory=list)
    value: Captured | None = None  # return value
    signal: str | None = None
    signal_text: str | None = None
    exit_code: int | None = None
    backtrace: list[str] = field(default_factory=list)
    location: str | None = None   # "file.c:12" where known (line probes, signals)


@dataclass
class _Probe:
    label: str
    function: str | None
    is_line: bool
    planned: bool = False               # return type looked up (at the first hit)
    return_kind: str | None = None      # int | float | void | other (None: no DWARF)
    return_size: int = 8
    return_type: Any = None
    compiled: dict[int, Any] | None = None   # per address: hitcontext.CompiledEntry


@dataclass
class _Pending:
    probe: _Probe
    cfa: int
    return_address: int


class Tracer:
    """Drives a Target whose process is stopped (just spawned or attached) and yields events.

    Arguments and --print expressions are read through the data engine (engine.data) in
    frame 0 of each hit; BACKTRACE (from the front end) gives the lines shown at a crash.
    """

    def __init__(self, target, *, returns: bool = False,
                 expressions: list[str] | tuple[str, ...] = (), capture: bool = True,
                 backtrace: Callable[[], list[str]] | None = None,
                 sink: Callable[[TraceEvent], None] | None = None) -> None:
        self.target = target
        self.returns = returns
        self.expressions = list(expressions)
        self._expressions_key = "\n".join(self.expressions)
        self.capture = capture
        self.backtrace = backtrace
        # With a SINK, probe hits are reported inside Target.cont as they happen (no Stop
        # per hit, see _report_hit) and events() yields only signals and the exit.
        self.sink = sink
        self._stop_regs: Any = None       # the Registers of the stop being reported
        self._previous_report: Callable | None = None
        self.counts: dict[str, int] = {}
        self.order: list[str] = []
        self._labels: dict[int, tuple[str, bool]] = {}   # breakpoint number -> (label, line?)
        self._probe_cache: dict[tuple[int, int], _Probe] = {}
        self._pending: dict[int, list[_Pending]] = {}   # return address -> pending calls
        self._return_bps: dict[int, Breakpoint] = {}
        self._depth: dict[int, int] = {}
        self.interrupted = False

    # ----------------------------------------------------------------- threads
    def thread_number(self, tid: int) -> int:
        """gdb's thread number of TID, as the engine's thread list numbers it (1 for the
        main thread, then in order of creation), so a trace agrees with `info threads`."""
        info = self.target.threads.get(tid)
        return info.number if info is not None else 0

    # ------------------------------------------------------------------ probes
    def add_probe(self, spec: str) -> list[str]:
        """Trace FUNC, a glob of functions ('sql_*') or FILE:LINE; returns the labels set."""
        spec = spec.strip()
        if not spec:
            raise CommandError("Empty trace location.")
        if any(ch in spec for ch in "*?[") and ":" not in spec:
            names = self._glob(spec)
            if not names:
                raise CommandError(f"No function matches \"{spec}\".")
            for name in names:
                self._add(name, name, is_line=False)
            return names
        is_line = ":" in spec or spec.isdigit()
        self._add(spec, spec, is_line=is_line)
        return [spec]

    def _glob(self, pattern: str) -> list[str]:
        target = self.target
        images = [img.image for img in getattr(target, "images", [])] or \
            ([target.exe_image] if target.exe_image is not None else [])
        names: list[str] = []
        for image in images:
            try:
                found = image.symbols_matching(pattern)
            except (PydbgError, AttributeError):
                continue
            for sym in found:
                name = sym.name.split("@", 1)[0]
                if name and name not in names and fnmatch.fnmatchcase(name, pattern):
                    names.append(name)
            if names:
                break      # the program's own functions; libraries only if it has none
        return sorted(names)

    def _add(self, spec: str, label: str, *, is_line: bool) -> None:
        # A user-level breakpoint, so the engine re-resolves it when libraries load.
        bp = self.target.add_breakpoint(spec)
        bp.extra["trace_label"] = label
        if self.sink is not None:
            bp.extra["report_only"] = True
        self._labels[bp.number] = (label, is_line)
        if label not in self.counts:
            self.counts[label] = 0
            self.order.append(label)

    def _probe(self, bp: Breakpoint, address: int) -> _Probe | None:
        """The probe of a traced breakpoint at one of its addresses (worked out once)."""
        key = (bp.number, address)
        probe = self._probe_cache.get(key)
        if probe is None:
            entry = self._labels.get(bp.number)
            if entry is None:
                return None
            label, is_line = entry
            loc = next((l for l in bp.locations if l.address == address), None)
            if loc is None:
                loc = BreakpointLocation(address, "", address)
            probe = self._probe_cache[key] = self._make_probe(label, loc, is_line)
        return probe

    def _make_probe(self, label: str, loc: BreakpointLocation, is_line: bool) -> _Probe:
        target = self.target
        address = loc.address
        assert address is not None
        function = loc.function or target.symbolic_suffix(address)
        if function and "+" in function:
            function = function.split("+", 1)[0]
        return _Probe(label, function, is_line)

    def _plan_return(self, probe: _Probe, inspector) -> None:
        """How the function's value comes back (from its DWARF return type), once."""
        probe.planned = True
        ctx = inspector.ctx
        func = ctx.physical_function if ctx is not None else None
        if func is None:
            return
        from pydbg.symbols.types import BaseType, CompositeType, VoidType, strip_typedefs
        rtype = func.return_type
        t = strip_typedefs(rtype) if rtype is not None else None
        probe.return_type = rtype
        if t is None or isinstance(t, VoidType):
            probe.return_kind = "void"
        elif isinstance(t, BaseType) and t.is_float:
            probe.return_kind = "float"
            probe.return_size = t.size
        elif isinstance(t, CompositeType):
            probe.return_kind = "other"
        else:
            probe.return_kind = "int"
            probe.return_size = t.size

    # -------------------------------------------------------------------- loop
    def events(self) -> Iterator[TraceEvent]:
        """Continue the program, yielding an event per hit, until it exits or is killed
        (with a sink, hits go to the sink as they happen and only the rest is yielded)."""
        target = self.target
        previous = target.report_and_continue
        previous_factory = target.hit_filter_factory
        if self.sink is not None:
            target.report_and_continue = self._report_hit
            target.hit_filter_factory = self._hit_filter
            self._previous_report = previous
        try:
            yield from self._events()
        finally:
            target.report_and_continue = previous
            target.hit_filter_factory = previous_factory

    def _hit_filter(self, address: int, bps: list[Breakpoint]) -> Callable[[int, Any], bool] | None:
        """For the process layer (Target.hit_filter_factory): report the calls at ADDRESS
        from the closures compiled at an earlier hit there, with no event, Stop or frame.
        Not with --ret (each call plants a return breakpoint) nor where a closure is
        missing; a hit the closures cannot read is reported the general way."""
        if self.returns or self.sink is None or not bps:
            return None
        probes = []
        for bp in bps:
            if bp.number not in self._labels or bp.condition or bp.ignore_count or \
                    bp.thread is not None or bp.temporary:
                return None
            probe = self._probe(bp, address)
            if probe is None:
                return None
            if self.capture:
                entry = (probe.compiled or {}).get(address)
                if entry is None or entry.compiled is None or \
                        not entry.is_current(self.target, self._expressions_key):
                    return None
            probes.append((bp, probe))
        sink, counts, capture = self.sink, self.counts, self.capture

        def report_calls(tid: int, raw: Any) -> bool:
            events = []
            if capture:
                thread = self.thread_number(tid)
                depth = self._depth.get(tid, 0)
                for _, probe in probes:
                    fast = self._fast_capture(probe, address, tid)
                    if fast is None:
                        return True
                    event = TraceEvent("line" if probe.is_line else "call", thread, tid,
                                       probe.label, probe.function, depth)
                    event.args, event.prints, _ = fast
                    events.append(event)
            for bp, probe in probes:
                bp.hit_count += 1
                counts[probe.label] += 1
            for event in events:
                sink(event)
            return False
        return report_calls

    def _report_hit(self, bp: Breakpoint, event) -> None:
        """A hit of a probe or of a return breakpoint, reported without a Stop."""
        if bp.number not in self._labels and bp.extra.get("trace_return") is None:
            if self._previous_report is not None:
                self._previous_report(bp, event)
            return
        address = event.address if event.address is not None else event.pc
        tid = event.tid
        thread = self.thread_number(tid)
        regs = self._registers(tid)
        sink = self.sink
        assert sink is not None
        if regs is not self._stop_regs:
            # The first breakpoint of this stop: a return here comes before new calls.
            self._stop_regs = regs
            if address in self._pending:
                returned = self._on_return(address, tid, thread)
                if returned is not None:
                    sink(returned)
        probe = self._probe(bp, address)
        if probe is None:
            return
        self.counts[probe.label] += 1
        if self.capture:
            sink(self._on_call(probe, tid, thread))

    def _events(self) -> Iterator[TraceEvent]:
        target = self.target
        while True:
            try:
                stop = target.cont()
            except KeyboardInterrupt:
                self.interrupted = True
                return
            if stop.is_exit:
                yield self._exit_event(stop)
                return
            if stop.kind is StopKind.BREAKPOINT:
                yield from self._on_breakpoint(stop)
                continue
            if stop.kind is StopKind.SIGNAL:
                name = signal_name(stop.signal or 0)
                if name == "SIGINT":
                    self.interrupted = True
                    return
                yield self._signal_event(stop, name)
                continue

    def _on_breakpoint(self, stop: Stop) -> Iterator[TraceEvent]:
        address = stop.pc
        assert address is not None
        tid = stop.tid
        thread = self.thread_number(tid)
        if address in self._pending:
            event = self._on_return(address, tid, thread)
            if event is not None:
                yield event
        for bp in stop.breakpoints:
            probe = self._probe(bp, address)
            if probe is None:
                continue
            self.counts[probe.label] += 1
            if not self.capture:
                continue
            yield self._on_call(probe, tid, thread)

    def _registers(self, tid: int):
        return self.target.require_process().get_registers(tid)

    def _on_call(self, probe: _Probe, tid: int, thread: int) -> TraceEvent:
        depth = self._depth.get(tid, 0)
        event = TraceEvent("line" if probe.is_line else "call", thread, tid, probe.label,
                           probe.function, depth)
        target = self.target
        address = self._registers(tid).rip
        # Arguments and --print values come from closures compiled for this address
        # (engine/hitcontext.py) when they can; the frame is built only when they cannot.
        fast = self._fast_capture(probe, address, tid)
        if fast is not None:
            event.args, event.prints, cfa = fast
        else:
            inspector, cfa = self._capture_in_frame(probe, address, event)
        if self.returns and not probe.is_line:
            if not probe.planned:
                self._plan_return(probe, inspector if fast is None else
                                  self._frame_inspector())
            self._expect_return(probe, tid, cfa)
        return event

    def _frame_inspector(self):
        from pydbg.engine.data import Inspector
        from pydbg.engine.hitcontext import hit_frame
        return Inspector(self.target, frame=hit_frame(self.target))   # frame 0 of this hit

    def _capture_in_frame(self, probe: _Probe, address: int, event: TraceEvent):
        """Arguments and --print values read through the data engine in frame 0; then
        compiles them for the next hits here (checked against what was just read)."""
        from pydbg.engine.hitcontext import frame_is_fixed
        inspector = self._frame_inspector()
        args_text = None
        if not probe.is_line:
            try:
                args_text = frame_arguments(inspector)
            except PydbgError as exc:
                event.args = [("?", Captured(None, str(exc)))]
            else:
                if args_text is not None:
                    event.args = [(n, Captured(t)) for n, t in args_text]
        event.prints = [(expr, self._capture(inspector, expr)) for expr in self.expressions]
        frame = inspector.frame
        cfa = frame.cfa if frame is not None else None
        entry = self._compiled_entry(probe, address)
        if entry.compiled is None and entry.attempts < 3 and frame_is_fixed(frame) and \
                (args_text is not None or probe.is_line):
            entry.attempts += 1
            entry.compiled = _compile_capture(inspector, args_text or [], event.prints, cfa,
                                              self.returns and not probe.is_line)
        return inspector, cfa

    def _compiled_entry(self, probe: _Probe, address: int):
        from pydbg.engine.hitcontext import current_entry
        if probe.compiled is None:
            probe.compiled = {}
        return current_entry(probe.compiled, address, self.target, self._expressions_key)

    def _fast_capture(self, probe: _Probe, address: int, tid: int):
        """(args, prints, cfa) from the closures compiled for ADDRESS, or None."""
        from pydbg.engine.hitcontext import Fallback
        table = probe.compiled
        entry = table.get(address) if table is not None else None
        if entry is None or entry.compiled is None or \
                not entry.is_current(self.target, self._expressions_key):
            return None
        plan = entry.compiled
        raw = self.target.raw_registers(tid)
        try:
            args = None if probe.is_line else \
                [(name, Captured(fmt(fn(raw)))) for name, fn, fmt in plan.args]
            prints = [(expr, Captured(fmt(fn(raw)))) for expr, fn, fmt in plan.prints]
            cfa = plan.cfa(raw) if plan.cfa is not None else None
        except (Fallback, PydbgError):
            return None
        return args, prints, cfa

    def _capture(self, inspector, expr: str) -> Captured:
        try:
            return Captured(inspector.format(inspector.evaluate(expr)))
        except PydbgError as exc:
            return Captured(None, str(exc).splitlines()[0] if str(exc) else "error")

    # ---------------------------------------------------------------- returns
    def _expect_return(self, probe: _Probe, tid: int, cfa: int | None) -> None:
        target = self.target
        if cfa is None:
            return
        try:
            return_address = int.from_bytes(target.read_memory(cfa - 8, 8), "little")
        except PydbgError:
            return
        self._pending.setdefault(return_address, []).append(
            _Pending(probe, cfa, return_address))
        self._depth[tid] = self._depth.get(tid, 0) + 1
        if return_address not in self._return_bps:
            bp = target.breakpoints.new(f"*{return_address:#x}", internal=True)
            bp.locations = [BreakpointLocation(return_address, "", return_address)]
            bp.extra["trace_return"] = True
            if self.sink is not None:
                bp.extra["report_only"] = True
            self._return_bps[return_address] = bp
            target.sync_sites()

    def _on_return(self, address: int, tid: int, thread: int) -> TraceEvent | None:
        regs = self._registers(tid)
        rsp = regs["rsp"]
        pending = self._pending[address]
        match = None
        for i in range(len(pending) - 1, -1, -1):
            # After `ret` the stack pointer is the callee's CFA: that identifies the
            # activation, so recursive calls returning to the same address are told apart.
            if pending[i].cfa == rsp:
                match = pending.pop(i)
                break
        if match is None:
            return None
        if not pending:
            del self._pending[address]
            bp = self._return_bps.pop(address, None)
            if bp is not None:
                self.target.breakpoints.remove(bp.number)
                self.target.sync_sites()
        depth = max(self._depth.get(tid, 1) - 1, 0)
        self._depth[tid] = depth
        probe = match.probe
        event = TraceEvent("return", thread, tid, probe.label, probe.function, depth)
        event.value = self._return_value(probe, regs, tid)
        return event

    def _return_value(self, probe: _Probe, regs, tid: int) -> Captured | None:
        kind = probe.return_kind
        if kind == "void":
            return None
        if kind == "other":
            return Captured(None, "struct return values are not shown")
        size = probe.return_size
        if kind == "float":
            try:
                fx = self.target.require_process().get_fp_registers(tid)
            except Exception:      # noqa: BLE001 - no FP state: say so, do not fail the trace
                return Captured(None, "xmm0 unavailable")
            data = fx[160:160 + 16]   # xmm0 in the FXSAVE area
        else:
            data = (regs["rax"] & ((1 << 64) - 1)).to_bytes(8, "little")
        text = self._format_raw(probe, data[:size] if size <= 16 else data)
        return Captured(text)

    def _format_raw(self, probe: _Probe, data: bytes) -> str:
        if probe.return_type is not None:
            try:
                from pydbg.engine.printing import PrintOptions, format_value
                from pydbg.engine.values import Value
                value = Value.from_bytes(probe.return_type, data)
                return format_value(value, PrintOptions(symbolize=self.target.symbolic_suffix,
                                                        read_memory=self.target.read_memory))
            except (ImportError, PydbgError, ValueError, TypeError, AttributeError):
                pass
        if probe.return_kind == "float":
            if len(data) == 4:
                return repr(struct.unpack("<f", data)[0])
            return repr(struct.unpack("<d", data[:8])[0])
        if probe.return_kind == "int":
            return str(int.from_bytes(data, "little", signed=True))
        return str(int.from_bytes(data[:8], "little"))   # unknown type: rax as gdb's long

    # --------------------------------------------------------- signals, exit
    def _signal_event(self, stop: Stop, name: str) -> TraceEvent:
        tid = stop.tid
        event = TraceEvent("signal", self.thread_number(tid), tid, signal=name,
                           signal_text=signal_description(stop.signal or 0))
        loc = stop.location
        if loc is not None:
            event.function = loc.function
            if loc.file and loc.line:
                event.location = f"{loc.file}:{loc.line}"
        if name in CRASH_SIGNALS and self.backtrace is not None:
            try:
                event.backtrace = self.backtrace()
            except PydbgError as exc:
                event.backtrace = [str(exc)]
        return event

    def _exit_event(self, stop: Stop) -> TraceEvent:
        if stop.kind is StopKind.EXITED:
            return TraceEvent("exited", exit_code=stop.exit_code or 0)
        sig = stop.signal or 9
        return TraceEvent("killed", signal=signal_name(sig), signal_text=signal_description(sig))

    def finish(self) -> None:
        """Leave the process: kill one we started, detach from one we attached to."""
        target = self.target
        if target.is_running:
            target.close()

    @property
    def total(self) -> int:
        return sum(self.counts.values())
