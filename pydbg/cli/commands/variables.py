"""Program variables and types: info locals/args, ptype, whatis, display/undisplay.

Displays are kept on the Session and shown after every stop (Session.after_stop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command
from pydbg.engine import format as fmt
from pydbg.engine.expr import nodes
from pydbg.errors import CommandError, PydbgError
from pydbg.symbols.types import ptype_text, whatis_text

if TYPE_CHECKING:
    from pydbg.cli.session import Session
    from pydbg.symbols.debuginfo import Block


# --------------------------------------------------------------------------- locals, args

@command("locals", group="stack", prefix="info")
def cmd_info_locals(session: "Session", arg: str) -> None:
    """All local variables of current stack frame or those matching REGEXPs.
    Usage: info locals
    Variables of nested blocks come first, as in gdb; statics are included."""
    _require_frame(session)
    for line in session.inspector().locals_lines():
        session.out(line)


@command("args", group="stack", prefix="info")
def cmd_info_args(session: "Session", arg: str) -> None:
    """All argument variables of current stack frame.
    Usage: info args"""
    _require_frame(session)
    for line in session.inspector().args_lines():
        session.out(line)


def _require_frame(session: "Session") -> None:
    if not session.target.is_running:
        raise CommandError("No frame selected.")


# --------------------------------------------------------------------------- types

def _type_of(session: "Session", text: str, show_ptype: bool) -> str:
    text = text.strip()
    if not text:
        raise CommandError("The history is empty.")
    inspector = session.inspector()
    evaluator = inspector.evaluator(avoid_side_effects=True)
    node = evaluator.parse(text)
    if isinstance(node, nodes.TypeName):
        t = evaluator.resolve_type(node.type)
        names_type = True
    else:
        t = evaluator.eval(node).type
        names_type = False
    for warning in inspector.warnings:
        session.err(warning)
    if show_ptype:
        return ptype_text(t, _resolver(session))
    return whatis_text(t, names_type)


def _resolver(session: "Session"):
    from pydbg.engine.data import _program_scope

    program = _program_scope(session.target)

    def resolve(t):
        found = program.find_tagged(t.keyword, t.name) if t.name else None
        if found is not None and not getattr(found, "is_declaration", True):
            return found
        return None
    return resolve


@command("ptype", group="data")
def cmd_ptype(session: "Session", arg: str) -> None:
    """Print definition of type TYPE, or of the type of expression EXP.
    Usage: ptype[/FLAGS] TYPE | EXPRESSION
    Struct, union and enum bodies are shown and typedefs expanded one level."""
    text = arg.strip()
    if text.startswith("/"):
        text = text.split(None, 1)[1] if " " in text else ""
    session.out(_type_of(session, text, True))


@command("whatis", group="data")
def cmd_whatis(session: "Session", arg: str) -> None:
    """Print data type of expression EXP.
    Usage: whatis EXP | TYPE
    For a type name, only one level of typedefs is unrolled."""
    session.out(_type_of(session, arg, False))


# --------------------------------------------------------------------------- displays

@dataclass
class Display:
    """One `display` expression (gdb's struct display)."""
    number: int
    text: str
    letter: str | None = None       # print-style format (/x)
    count: int = 1                  # x-style (/i, /s, /4xw): count, letter and unit
    unit: str | None = None
    block: "Block | None" = None
    enabled: bool = True

    @property
    def x_style(self) -> bool:
        return self.unit is not None

    def format_text(self) -> str:
        """As `info display` shows the format: `/x ` or `/1bi `."""
        if self.x_style:
            return f"/{self.count}{self.unit}{self.letter} "
        return f"/{self.letter} " if self.letter else ""


@dataclass
class DisplayList:
    items: list[Display] = field(default_factory=list)
    counter: int = 0


def _displays(session: "Session") -> DisplayList:
    found = getattr(session, "_display_list", None)
    if found is None:
        found = DisplayList()
        session._display_list = found   # type: ignore[attr-defined]
    return found


def _parse_display_format(text: str) -> tuple[str | None, int, str | None, str]:
    """gdb's decode_format(&exp, 0, 0) for display: (letter, count, unit, rest)."""
    if not text.startswith("/"):
        return None, 1, None, text
    p = 1
    digits = ""
    while p < len(text) and text[p].isdigit():
        digits += text[p]
        p += 1
    letter = unit = None
    while p < len(text) and text[p].isalpha():
        c = text[p]
        if c in fmt.UNIT_SIZES:
            unit = c
        elif c not in "rm":
            letter = c
        p += 1
    rest = text[p:].strip()
    count = int(digits) if digits else 1
    if letter is not None and letter not in fmt.X_FORMATS:
        raise CommandError(f'Undefined output format "{letter}".')
    if unit and letter is None:
        letter = "x"
    if letter in ("i", "s"):
        unit = "b"
    return letter, count, unit, rest


def _innermost(blocks: list["Block"]) -> "Block | None":
    best, depth = None, -1
    for b in blocks:
        d, p = 0, b.parent
        while p is not None:
            d, p = d + 1, p.parent
        if d > depth:
            best, depth = b, d
    return best


def _in_scope(session: "Session", d: Display) -> bool:
    """gdb's contained_in (selected block, display block, allow_nested)."""
    if d.block is None:
        return True
    if not session.target.is_running:
        return False
    inspector = session.inspector()
    if inspector.ctx is None:
        return False
    scopes = inspector.ctx.scopes()
    b = scopes[0] if scopes else None
    while b is not None:
        if b is d.block:
            return True
        b = b.parent
    return False


@command("display", group="data")
def cmd_display(session: "Session", arg: str) -> None:
    """Print value of expression EXP each time the program stops.
    Usage: display[/FMT] EXP
    /FMT may be a print format (/x) or an examine format (/i, /s, /4xw) as for x.
    With no argument, displays every expression now."""
    arg = arg.strip()
    if not arg:
        do_displays(session)
        return
    letter, count, unit, text = _parse_display_format(arg)
    inspector = session.inspector()
    inspector.evaluator().parse(text)       # a bad expression is refused here, as in gdb
    # Evaluating records which frame-local blocks the expression needs.
    try:
        inspector.evaluator(avoid_side_effects=True).evaluate(text)
    except PydbgError:
        if not inspector.blocks_used:
            raise
    state = _displays(session)
    state.counter += 1
    d = Display(state.counter, text, letter, count, unit, _innermost(inspector.blocks_used))
    state.items.append(d)
    if session.from_tty:
        _do_one_display(session, d)


def do_displays(session: "Session") -> None:
    """Show every enabled display whose block is in scope (after each stop)."""
    state = getattr(session, "_display_list", None)
    if state is None:
        return
    for d in list(state.items):
        if d.enabled:
            _do_one_display(session, d)


def _do_one_display(session: "Session", d: Display) -> None:
    if not _in_scope(session, d):
        return
    if d.x_style:
        from pydbg.cli.commands.data import examine
        head = f"{d.number}: x/" + (str(d.count) if d.count != 1 else "") + (d.letter or "x")
        if d.letter not in ("i", "s"):
            head += d.unit or ""
        head += " " + d.text
        if d.count != 1 or d.letter == "i":
            session.out(head)
        else:
            session.write(head + "  ")
        try:
            address = session.evaluate_address(d.text)
            examine(session, fmt.XSpec(d.count, d.letter or "x",
                                       "" if d.letter == "s" else (d.unit or "w")), address)
        except PydbgError as exc:
            session.out(f"<error: {exc}>")
        return
    prefix = f"{d.number}: " + (f"/{d.letter} " if d.letter else "") + d.text + " = "
    try:
        inspector = session.inspector()
        value = session.evaluate(d.text, inspector)
        text = inspector.format(value, d.letter)
    except PydbgError as exc:
        text = f"<error: {exc}>"
    session.out(prefix + text)


@command("display", group="data", prefix="info")
def cmd_info_display(session: "Session", arg: str) -> None:
    """Expressions to display when program stops, with code numbers."""
    state = _displays(session)
    if not state.items:
        session.out("There are no auto-display expressions now.")
        return
    session.out("Auto-display expressions now in effect:")
    session.out("Num Enb Expression")
    for d in state.items:
        line = f"{d.number}:   {'y' if d.enabled else 'n'}  {d.format_text()}{d.text}"
        if d.block is not None and not _in_scope(session, d):
            line += " (cannot be evaluated in the current context)"
        session.out(line)


def _numbers(arg: str) -> list[int]:
    out: list[int] = []
    for word in arg.split():
        if "-" in word.strip("-"):
            lo, _, hi = word.partition("-")
            if not (lo.isdigit() and hi.isdigit()):
                raise CommandError("Arguments must be display numbers.")
            out.extend(range(int(lo), int(hi) + 1))
        elif word.isdigit():
            out.append(int(word))
        else:
            raise CommandError("Arguments must be display numbers.")
    return out


def _map_displays(session: "Session", arg: str, action) -> None:
    state = _displays(session)
    for num in _numbers(arg):
        found = [d for d in state.items if d.number == num]
        if not found:
            session.out(f"No display number {num}.")
            continue
        action(state, found[0])


@command("undisplay", group="data")
def cmd_undisplay(session: "Session", arg: str) -> None:
    """Cancel some expressions to be displayed when program stops.
    Usage: undisplay [NUM]...
    With no argument, cancels every display (after confirmation)."""
    state = _displays(session)
    if not arg.strip():
        if session.ask("Delete all auto-display expressions? "):
            state.items.clear()
        return
    _map_displays(session, arg, lambda st, d: st.items.remove(d))
