"""The per-hit path of breakpoints that only report and continue: conditions and dprintf.

Formats and expressions are parsed once per location. A hit first tries the closure compiled
for its address (engine/hitcontext.py: registers and memory only, no frame, no Stop); the
general evaluator in frame 0 of the hit decides the first hit, validates the closure, and
takes every hit the closure cannot decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from pydbg.engine.hitcontext import (
    MAX_ATTEMPTS, CompiledEntry, ExpressionCompiler, Fallback, NotCompilable, compile_checked,
    current_entry, frame_is_fixed, hit_frame,
)
from pydbg.engine.printf import ArgClass, PrintfCommand, format_values, parse_printf
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.cli.session import Session
    from pydbg.engine.breakpoints import Breakpoint
    from pydbg.engine.target import Target
    from pydbg.engine.stops import StopEvent

_CACHE_KEY = "dprintf_parsed"
_CONDITION_KEY = "condition_compiled"
_FLOAT_CLASSES = (ArgClass.DOUBLE, ArgClass.LONG_DOUBLE, ArgClass.DECFLOAT)


@dataclass
class _Parsed:
    commands: list[str]                        # the body this was parsed from
    printf: PrintfCommand | None               # None: not a lone printf, run the body
    nodes: dict[int, list[Any]] = field(default_factory=dict)  # per address: argument ASTs
    compiled: dict[int, CompiledEntry] = field(default_factory=dict)  # per address
    key: str = field(init=False, default="")   # the body as one string (compiled entries')

    def __post_init__(self) -> None:
        self.key = "\n".join(self.commands)


# ------------------------------------------------------------------ conditions

def check_condition(session: "Session", bp: "Breakpoint") -> bool:
    """A breakpoint condition, evaluated in frame 0 of the thread that hit it."""
    target = session.target
    raw = target.raw_registers()
    cache = bp.extra.get(_CONDITION_KEY)
    if cache is not None:
        entry = cache.get(raw.rip)
        if entry is not None and entry.compiled is not None and \
                entry.is_current(target, bp.condition):
            try:
                return entry.compiled.fn(raw) != 0
            except (Fallback, PydbgError):
                pass    # this hit needs the general evaluator (which gives gdb's error)
    return _general_condition(session, bp, raw)


def _general_condition(session: "Session", bp: "Breakpoint", raw) -> bool:
    from pydbg.engine.evaluate import value_as_bool
    target = session.target
    frame = hit_frame(target)
    # The hit's own frame 0 (a breakpoint on an inlined function sees its frame).
    inspector = session.inspector(frame=frame)
    evaluator = inspector.evaluator()
    # Parsed once per condition text, not once per hit (cached on the breakpoint).
    node = bp.condition_ast
    if node is None or bp.extra.get("condition_ast_text") != bp.condition:
        node = evaluator.parse(bp.condition)
        bp.condition_ast = node
        bp.extra["condition_ast_text"] = bp.condition
    value = evaluator.eval(node)
    result = value_as_bool(value)
    cache = bp.extra.setdefault(_CONDITION_KEY, {})
    entry = current_entry(cache, raw.rip, target, bp.condition)
    if entry.compiled is None and entry.attempts < MAX_ATTEMPTS and not inspector.warnings:
        entry.attempts += 1
        if frame_is_fixed(frame):
            entry.compiled = compile_checked(inspector, target.read_memory, node, value,
                                             raw)
    return result


# ------------------------------------------------------------------ hit filters

def hit_filter(session: "Session", address: int,
               bps: list["Breakpoint"]) -> Callable[[int, Any], bool] | None:
    """A closure of (thread id, raw registers) that decides the next hits at ADDRESS inside
    the process layer (the site's hit_filter), or None.

    Only for what the closures compiled and validated on earlier hits decide alone: every
    breakpoint there a plain conditional one, or every one a dprintf without a condition.
    Anything the closures cannot decide (Fallback, an error) is reported, and the
    engine's general path takes that hit as before.
    """
    target = session.target
    if not bps or any(bp.temporary or bp.internal or bp.thread is not None or
                      bp.ignore_count or "report_only" in bp.extra for bp in bps):
        return None
    if all(bp.kind == "dprintf" and not bp.condition for bp in bps):
        renders = []
        for bp in bps:
            parsed = bp.extra.get(_CACHE_KEY)
            if parsed is None or parsed.printf is None or parsed.commands != bp.commands:
                return None
            entry = parsed.compiled.get(address)
            if entry is None or entry.compiled is None or \
                    not entry.is_current(target, parsed.key):
                return None
            renders.append((bp, entry.compiled))
        write, flush = session.write, session.flush

        def print_and_go_on(tid: int, raw) -> bool:
            try:
                texts = [render(raw) for _, render in renders]
            except (Fallback, PydbgError):
                return True          # nothing printed: the general path prints this hit
            for (bp, _), text in zip(renders, texts):
                bp.hit_count += 1
                write(text)
            flush()                  # per hit, as dprintf_hit does
            return False
        return print_and_go_on
    if all(bp.kind == "breakpoint" and bp.condition for bp in bps):
        tests = []
        for bp in bps:
            entry = (bp.extra.get(_CONDITION_KEY) or {}).get(address)
            if entry is None or entry.compiled is None or \
                    not entry.is_current(target, bp.condition):
                return None
            tests.append(entry.compiled.fn)

        def any_condition_holds(tid: int, raw) -> bool:
            try:
                return any(test(raw) != 0 for test in tests)
            except (Fallback, PydbgError):
                return True          # the general evaluator decides (and gives the error)
        return any_condition_holds
    return None


# ------------------------------------------------------------------ dprintf

def dprintf_hit(session: "Session", bp: "Breakpoint", event: "StopEvent") -> None:
    """Print one dprintf hit (gdb's dprintf-style gdb: printf in the debugger)."""
    parsed = bp.extra.get(_CACHE_KEY)
    if parsed is None or parsed.commands != bp.commands:
        parsed = bp.extra[_CACHE_KEY] = _parse(bp.commands)
    target = session.target
    try:
        if parsed.printf is None:
            from pydbg.cli.commands.scripting import execute_body
            # Frame 0 of the hit, whatever frame was selected before `continue`.
            target.frames.selected_level = 0
            execute_body(session, bp.commands)
            target.breakpoints_changed()   # the body may have changed conditions...
            return
        address = event.address if event.address is not None else (event.pc or 0)
        text = None
        entry = parsed.compiled.get(address)
        if entry is not None and entry.compiled is not None and \
                entry.is_current(target, parsed.key):
            text = _compiled_dprintf(target, parsed, entry.compiled)
        if text is None:
            text = _general_dprintf(session, parsed, address)
        session.write(text)
    except PydbgError as exc:
        session.err(str(exc))
    finally:
        # Flushed per hit, as gdb does: the program may write to the same terminal or pipe.
        session.flush()


def _compiled_dprintf(target: "Target", parsed: _Parsed, render) -> str | None:
    try:
        return render(target.raw_registers())
    except (Fallback, PydbgError):
        return None      # the general path prints this hit (or its error)


def _general_dprintf(session: "Session", parsed: _Parsed, address: int) -> str:
    target = session.target
    frame = hit_frame(target)
    inspector = session.inspector(frame=frame)
    evaluator = inspector.evaluator()
    nodes = parsed.nodes.get(address)
    if nodes is None:
        nodes = parsed.nodes[address] = [evaluator.parse(text)
                                         for text in parsed.printf.arguments]
    try:
        values = [evaluator.eval(node) for node in nodes]
    finally:
        for warning in inspector.warnings:
            session.err(warning)
    text = format_values(parsed.printf, values, target.read_memory)
    entry = current_entry(parsed.compiled, address, target, parsed.key)
    if entry.compiled is None and entry.attempts < MAX_ATTEMPTS and not inspector.warnings:
        entry.attempts += 1
        if frame_is_fixed(frame):
            entry.compiled = _compile_dprintf(target, parsed, inspector, nodes, values, text)
    return text


def _compile_dprintf(target: "Target", parsed: _Parsed, inspector, nodes: list,
                     values: list, text: str):
    """One function of the raw registers rendering the format as this hit did (TEXT), or
    None if an argument needs the general evaluator."""
    assert parsed.printf is not None
    raw = target.raw_registers()
    read = target.read_memory
    args = []
    for piece, node, value in zip(parsed.printf.conversions, nodes, values):
        if piece.argclass in _FLOAT_CLASSES:
            return None     # float conversions reinterpret or convert: general path
        c = compile_checked(inspector, read, node, value, raw)
        if c is None:
            return None
        args.append(c)
    try:
        render = ExpressionCompiler(inspector, read).printf(parsed.printf.pieces, args)
        same = render(raw) == text
    except (NotCompilable, Fallback, PydbgError):
        return None
    return render if same else None


def _parse(commands: list[str]) -> _Parsed:
    lines = [c.strip() for c in commands if c.strip()]
    if len(lines) == 1 and lines[0].startswith("printf "):
        try:
            return _Parsed(list(commands), parse_printf(lines[0][len("printf "):]))
        except PydbgError:
            pass   # the body reports it, as the printf command would
    return _Parsed(list(commands), None)
