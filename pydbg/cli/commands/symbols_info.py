"""Asking about symbols: info symbol, info address, info line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command
from pydbg.errors import CommandError, SymbolError

if TYPE_CHECKING:
    from pydbg.cli.session import Session
    from pydbg.engine import symbol_info


@command("symbol", group="status", prefix="info")
def cmd_info_symbol(session: "Session", arg: str) -> None:
    """Describe what symbol is at location ADDR.
    Usage: info symbol ADDR
    Only for symbols with fixed locations (global or static scope)."""
    from pydbg.engine import symbol_info
    if not arg.strip():
        raise CommandError("Argument required (address).")
    address = session.evaluate_address(arg)
    for line in symbol_info.info_symbol(session.target, address, arg.strip()):
        session.out(line)


@command("address", group="status", prefix="info")
def cmd_info_address(session: "Session", arg: str) -> None:
    """Describe where symbol SYM is stored.
    Usage: info address SYM"""
    from pydbg.engine import symbol_info
    if not arg.strip():
        raise CommandError("Argument required.")
    session.out(symbol_info.info_address(session.inspector(), arg.strip()))


@command("line", group="status", prefix="info")
def cmd_info_line(session: "Session", arg: str) -> None:
    """Core addresses of the code for a source line.
    Usage: info line [LOCATION]
    Line can be specified as
      LINENUM, to list around that line in current file,
      FILENAME:LINENUM, to list around line in that file,
      FUNCTION, to list around beginning of that function,
      FILENAME:FUNCTION, to distinguish among like-named static functions.
      *ADDRESS, to list around the line containing that address.
    Default is to describe the last source line that was listed.

    This sets the default address for "x" to the line's first instruction
    so that "x/i" suffices to start examining the machine code.
    The address is also stored as the value of "$_"."""
    from pydbg.engine import symbol_info
    target = session.target
    spec = arg.strip()
    sources = target.sources
    if not spec:
        ref = sources.current
        if ref is None:
            raise CommandError("No line number information available.")
        line = sources.last_line_listed or sources.current_line
        infos = [symbol_info.line_info_for_line(target, ref.fullname, line)]
    elif spec.startswith("*"):
        infos = [symbol_info.line_info_for_pc(target, session.evaluate_address(spec[1:]))]
    else:
        infos = _line_infos_for_spec(session, spec)
    for info in infos:
        session.out(info.text)
        if info.start is not None:
            session.set_next_address(info.start)
            # Repeating `info line` describes the following line, as in gdb.
            sources.last_line_listed = info.line + 1


def _line_infos_for_spec(session: "Session", spec: str) -> list["symbol_info.LineInfo"]:
    from pydbg.engine import symbol_info
    from pydbg.engine.frames import block_chain
    from pydbg.errors import PydbgError
    target = session.target
    file, _, rest = spec.rpartition(":")
    if spec.isdigit() or (file and rest.strip().isdigit()):
        line = int(rest if file else spec)
        if not file:
            file = symbol_info.default_file_display(target)
            if file is None:
                raise SymbolError("No symbol table is loaded.  Use the \"file\" command.")
        return [symbol_info.line_info_for_line(target, file, line)]
    # A function: gdb's list mode gives one answer per place linespec finds it (the
    # function itself and its inlined copies), each the line at the entry, no prologue.
    try:
        locations = target.resolve_location(spec)
    except PydbgError:
        locations = []
    images = {str(image.path): (image, bias or 0) for image, bias in
              target._search_images()}  # noqa: SLF001 - linespec's image order
    entries: list[int] = []
    for loc in locations:
        image, bias = images.get(loc.image_path, (None, 0))
        entry = loc.file_address
        if image is not None:
            chain, _ = block_chain(image, loc.file_address)
            entry = next((b.entry_pc for b in chain if b.name == spec and
                          b.entry_pc is not None), entry)
        if entry + bias not in entries:
            entries.append(entry + bias)
    if not entries:
        found = session.inspector().program.find_function(spec)
        if found is not None:
            func, bias, _image = found
            entries = [(func.entry_pc if func.entry_pc is not None
                        else func.ranges[0][0]) + bias]
    if not entries:
        sym = target.lookup_symbol_address(spec)
        if sym is None:
            raise SymbolError(f"Function \"{spec}\" not defined.")
        entries = [sym[0]]
    return [symbol_info.line_info_for_pc(target, pc) for pc in entries]
