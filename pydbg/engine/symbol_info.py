"""What gdb's `info symbol`, `info address` and `info line` say about an address or a name.

Pure text producers over the Target and the data Inspector; the commands live in
pydbg/cli/commands/symbols_info.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.arch.x86_64 import DWARF_TO_NAME
from pydbg.errors import ExpressionError, PydbgError, SymbolError
from pydbg.symbols.debuginfo import LocListRef
from pydbg.symbols.dwarf_expr import ByteReader, decode

if TYPE_CHECKING:
    from pydbg.engine.data import Inspector
    from pydbg.engine.target import Target


# --------------------------------------------------------------------------- info symbol

def info_symbol(target: "Target", address: int, arg: str) -> list[str]:
    """gdb's info_symbol_command: `add + 4 in section .text [of FILE]` per matching image."""
    out: list[str] = []
    if target.is_running and not target.images:
        target.image_for_address(address)   # loads the image list
    if target.images:       # while running, and (as in gdb) after the program exits
        images = [(img.image, img.bias, _objfile_name(target, img)) for img in target.images]
    elif target.exe_image is not None:
        images = [(target.exe_image, target.static_bias(),
                   target.executable or str(target.exe_image.path))]
    else:
        images = []
    # gdb names the file only when more than one objfile is loaded (a running program
    # always has the dynamic linker or the vDSO as well).
    multi = bool(target.images)
    for image, bias, name in images:
        try:
            found = image.minimal_symbol_at(address - bias)
        except PydbgError:
            continue
        if found is None:
            continue
        sym, offset, section = found
        loc = f"{sym.name} + {offset}" if offset else sym.name
        out.append(f"{loc} in section {section} of {name}" if multi
                   else f"{loc} in section {section}")
    if not out:
        out.append(f"No symbol matches {arg}.")
    return out


def _objfile_name(target: "Target", img) -> str:
    if img.is_main:
        return target.executable or img.path
    return img.path


# --------------------------------------------------------------------------- info address

def _dwarf_objfile(target: "Target", image) -> str:
    """gdb's name of the objfile holding IMAGE's DWARF: a separate debug file's own path."""
    if image.elffile.get_section_by_name(".debug_info") is None and image.debug_file:
        return image.debug_file
    return target.executable if image is target.exe_image else str(image.path)


def info_address(inspector: "Inspector", name: str) -> str:
    """gdb's info_address_command text for NAME (without the final newline)."""
    target = inspector.target
    ctx = inspector.ctx
    reader = inspector.reader
    # The selected frame's blocks first, then file statics and globals, as lookup_symbol.
    if reader is not None:
        found = reader.lookup_local(name)
        if found is not None:
            var, _block = found
            objfile = _dwarf_objfile(target, ctx.image) if ctx.image is not None else None
            return f'Symbol "{name}" is {_describe_variable(inspector, var, ctx.bias, objfile)}.'
    program = inspector.program
    glob = program.find_global(name, frame=ctx)
    fn = program.find_function(name)
    if glob is not None:
        var, bias, image = glob
        objfile = _dwarf_objfile(target, image)
        return f'Symbol "{name}" is {_describe_variable(inspector, var, bias, objfile)}.'
    if fn is not None:
        func, bias, _image = fn
        entry = (func.entry_pc if func.entry_pc is not None else func.ranges[0][0]) + bias
        return f'Symbol "{name}" is a function at address {entry:#x}.'
    found_sym = target.lookup_symbol_address(name)
    if found_sym is not None:
        address, _kind = found_sym
        return f'Symbol "{name}" is at {address:#x} in a file compiled without debugging.'
    raise ExpressionError(f'No symbol "{name}" in current context.')


def _describe_variable(inspector: "Inspector", var, bias: int,
                       objfile: str | None = None) -> str:
    if var.const_value is not None:
        return "constant"
    if var.static_address is not None:
        return f"static storage at address {var.static_address + bias:#x}"
    loc = var.location
    if loc is None:
        return "optimized out"
    ctx = inspector.ctx
    frame_base = None
    if ctx is not None:
        fn = ctx.physical_function
        frame_base = fn.frame_base if fn is not None else None
        if isinstance(frame_base, LocListRef):
            frame_base = None
    if isinstance(loc, LocListRef):
        debug = ctx.debug if ctx is not None else None
        items = _loclist_items(debug, loc) if debug is not None else []
        text = "multi-location:\n"
        for item in items:
            if item[0] == "base":
                # gdb 13 prints the (unrelocated) base with no line break after it.
                text += f"  Base address {item[1]:#x}"
                continue
            _, low, high, expr = item
            text += (f"  Range {low + bias:#x}-{high + bias:#x}: "
                     f"{describe_location(bytes(expr), frame_base, objfile)}\n")
        return text
    return describe_location(bytes(loc), frame_base, objfile)


def _loclist_items(debug, loc: LocListRef) -> list[tuple]:
    """("base", address) and ("range", low, high, expr) in list order (file addresses):
    gdb's loclist_describe_location shows base-address entries too."""
    from pydbg.symbols import loclists as ll
    cu = debug.dwarf.get_CU_at(loc.cu.offset)
    reader = ll.location_lists_for(debug.dwarf)
    try:
        if loc.cu.version < 5:
            return [("range", e.low, e.high, e.expr)
                    for e in reader._parse_v4(cu, loc.offset)  # noqa: SLF001
                    if not e.is_default]
        entries = iter(reader._parse_v5(cu, loc.offset))  # noqa: SLF001
        # Walk the raw list again only to see where its base-address entries are.
        r = ByteReader(reader._loclists, loc.offset)  # noqa: SLF001
        size = cu.header.address_size
        items: list[tuple] = []
        while True:
            kind = r.u8()
            if kind == ll.DW_LLE_end_of_list:
                return items
            if kind == ll.DW_LLE_base_addressx:
                items.append(("base", reader._address(cu, r.uleb())))  # noqa: SLF001
                continue
            if kind == ll.DW_LLE_base_address:
                items.append(("base", r.uint(size)))
                continue
            if kind == ll.DW_LLE_GNU_view_pair:
                r.uleb()
                r.uleb()
                continue
            if kind in (ll.DW_LLE_startx_endx, ll.DW_LLE_offset_pair):
                r.uleb()
                r.uleb()
            elif kind == ll.DW_LLE_startx_length:
                r.uleb()
                r.uleb()
            elif kind == ll.DW_LLE_start_end:
                r.uint(size)
                r.uint(size)
            elif kind == ll.DW_LLE_start_length:
                r.uint(size)
                r.uleb()
            r.bytes(r.uleb())
            e = next(entries)
            if not e.is_default:
                items.append(("range", e.low, e.high, e.expr))
    except (PydbgError, StopIteration):
        return []


# DWARF opcodes the piece describer recognises.
_OP_ADDR, _OP_CONST8U, _OP_REGX, _OP_FBREG = 0x03, 0x0E, 0x90, 0x91
_OP_PIECE, _OP_BIT_PIECE, _OP_STACK_VALUE = 0x93, 0x9D, 0x9F
_OP_TLS = (0xE0, 0x9B)   # DW_OP_GNU_push_tls_address, DW_OP_form_tls_address


def _reg_name(regno: int) -> str:
    if 17 <= regno <= 32:
        return f"xmm{regno - 17}"
    if 33 <= regno <= 40:
        return f"st{regno - 33}"
    return DWARF_TO_NAME.get(regno, str(regno))


def _piece_end(data: bytes, pos: int) -> bool:
    return pos >= len(data) or data[pos] in (_OP_PIECE, _OP_BIT_PIECE)


def _describe_piece(data: bytes, pos: int, frame_base, objfile: str | None = None
                    ) -> tuple[str, int]:
    """gdb's locexpr_describe_location_piece: (text, new position); ("", pos) if unknown."""
    op = data[pos]
    if 0x50 <= op <= 0x6F:
        return f"a variable in ${_reg_name(op - 0x50)}", pos + 1
    if op == _OP_REGX:
        r = ByteReader(data, pos + 1)
        return f"a variable in ${_reg_name(r.uleb())}", r.pos
    if op == _OP_FBREG:
        r = ByteReader(data, pos + 1)
        offset = r.sleb()
        if not _piece_end(data, r.pos) or not frame_base:
            return "", pos
        base = bytes(frame_base)
        if 0x70 <= base[0] <= 0x8F:
            b = ByteReader(base, 1)
            base_offset = b.sleb()
            reg = base[0] - 0x70
        elif 0x50 <= base[0] <= 0x6F:
            base_offset, reg = 0, base[0] - 0x50
        else:
            return "", pos
        return (f"a variable at frame base reg ${_reg_name(reg)} offset "
                f"{base_offset}+{offset}"), r.pos
    if 0x70 <= op <= 0x8F:
        r = ByteReader(data, pos + 1)
        offset = r.sleb()
        if _piece_end(data, r.pos):
            return f"a variable at offset {offset} from base reg ${_reg_name(op - 0x70)}", r.pos
        return "", pos
    if op in (_OP_ADDR, _OP_CONST8U) and pos + 9 < len(data) and data[pos + 9] in _OP_TLS \
            and _piece_end(data, pos + 10):
        offset = int.from_bytes(data[pos + 1:pos + 9], "little")
        where = f" for `{objfile}'" if objfile else ""
        return (f"a thread-local variable at offset {offset:#x} in the thread-local "
                f"storage{where}"), pos + 10
    if 0x30 <= op <= 0x4F and pos + 1 < len(data) and data[pos + 1] == _OP_STACK_VALUE:
        return f"the constant {op - 0x30}", pos + 2
    return "", pos


def describe_location(data: bytes, frame_base=None, objfile: str | None = None) -> str:
    """gdb's locexpr_describe_location_1: plain words where it can, else a disassembly."""
    out = ""
    pos = 0
    first = True
    while pos < len(data):
        here = pos
        if not first:
            out += ", and "
        first = False
        text, pos = _describe_piece(data, pos, frame_base, objfile)
        disassemble = not text and data[pos] not in (_OP_PIECE, _OP_BIT_PIECE)
        out += text
        if disassemble:
            out += "a complex DWARF expression:\n"
            body, pos = disassemble_expression(data, pos)
            out += body
        if pos < len(data):
            empty = pos == here
            if disassemble:
                out += "   "
            r = ByteReader(data, pos + 1)
            if data[pos] == _OP_PIECE:
                n = r.uleb()
                out += f"an empty {n}-byte piece" if empty else f" [{n}-byte piece]"
            elif data[pos] == _OP_BIT_PIECE:
                bits, off = r.uleb(), r.uleb()
                out += (f"an empty {bits}-bit piece" if empty
                        else f" [{bits}-bit piece, offset {off} bits]")
            else:
                break
            pos = r.pos
    return out


def disassemble_expression(data: bytes, start: int = 0, indent: int = 0,
                           origin: int = 0) -> tuple[str, int]:
    """gdb's disassemble_dwarf_expression up to the next piece: one line per operation,
    numbered from ORIGIN (a nested DW_OP_entry_value block keeps the outer numbering)."""
    out = ""
    try:
        ops = decode(data[start:])
    except PydbgError:
        return out, len(data)
    for op in ops:
        at = start + op.offset
        if op.opcode in (_OP_PIECE, _OP_BIT_PIECE):
            return out, at
        line = f"  {at - origin:>{indent + 4}}: {op.name}"
        args = op.operands
        code = op.opcode
        if code == _OP_ADDR:
            line += f" {args[0]:#x}"
        elif 0x50 <= code <= 0x6F:
            line += f" [${_reg_name(code - 0x50)}]"
        elif code == _OP_REGX:
            line += f" {args[0]} [${_reg_name(args[0])}]"
        elif 0x70 <= code <= 0x8F:
            line += f" {args[0]} [${_reg_name(code - 0x70)}]"
        elif code == 0x92:     # DW_OP_bregx
            line += f" register {args[0]} [${_reg_name(args[0])}] offset {args[1]}"
        elif code in (0x2F, 0x28):   # DW_OP_skip, DW_OP_bra: target offset
            prefix = " to " if code == 0x2F else " "
            line += f"{prefix}{start + op.end + args[0] - origin}"
        elif code in (0xA3, 0xF3):   # DW_OP_entry_value, DW_OP_GNU_entry_value
            inner_start = start + op.end - len(args[0])
            body, _ = disassemble_expression(data[:start + op.end], inner_start,
                                             indent + 2, origin)
            out += line + "\n" + body
            continue
        elif code == 0x9E:     # DW_OP_implicit_value
            line += f" {len(args[0])}"
        elif args:
            line += "".join(f" {a}" for a in args if not isinstance(a, bytes))
        out += line + "\n"
    return out, len(data)


# --------------------------------------------------------------------------- info line

@dataclass
class LineInfo:
    """One `info line` answer: the text, and where `x` goes next (None: nowhere)."""
    text: str
    start: int | None = None
    line: int | None = None


def _print_address(target: "Target", address: int) -> str:
    sym = target.symbolic_suffix(address)
    return f"{address:#x} <{sym}>" if sym else f"{address:#x}"


def _line_range(target: "Target", pc: int):
    """(LineEntry, bias) of the line-table row containing runtime PC."""
    if target.is_running:
        img = target.image_for_address(pc)
        if img is None:
            return None, 0
        image, bias = img.image, img.bias
    else:
        image, bias = target.exe_image, target.static_bias()
    if image is None or not image.has_debug_info:
        return None, 0
    return image.line_for_address(pc - bias), bias


def _search_images(target: "Target"):
    return target._search_images()  # noqa: SLF001 - the same order linespec uses


def line_info_for_pc(target: "Target", pc: int) -> LineInfo:
    """`info line *ADDR` / `info line FUNC`: the row containing PC."""
    entry, bias = _line_range(target, pc)
    if entry is None:
        if pc == 0:
            return LineInfo("No line number information available.")
        return LineInfo("No line number information available for address "
                        f"{_print_address(target, pc)}")
    return _line_text(target, entry.name, entry.line, entry, bias)


def _line_text(target: "Target", display: str, line: int, entry, bias: int) -> LineInfo:
    start = entry.address + bias
    if entry.line != line:
        return LineInfo(f'Line {line} of "{display}" is at address '
                        f"{_print_address(target, start)} but contains no code.", start, line)
    return LineInfo(f'Line {line} of "{display}" starts at address '
                    f"{_print_address(target, start)} and ends at "
                    f"{_print_address(target, entry.end + bias)}.", start, line)


def line_info_for_line(target: "Target", file: str, line: int) -> LineInfo:
    """`info line [FILE:]LINE`, in gdb's list mode: the first is_stmt row of LINE (or of
    the next line that has code) in address order, then the row that covers it."""
    best: tuple[int, int, int, str] | None = None      # (line, address, bias, display)
    exact: tuple[int, int, str] | None = None
    display_name = None
    for image, bias in _search_images(target):
        try:
            tables = image.line_tables(file)
        except PydbgError:
            continue
        for sub in tables:
            display_name = display_name or sub.name
            for row in sub.rows:
                if not row.is_stmt or row.line == 0:
                    continue
                if row.line == line:
                    if exact is None:
                        exact = (row.address, bias or 0, sub.name)
                    break
                if row.line > line and (best is None or row.line < best[0]):
                    best = (row.line, row.address, bias or 0, sub.name)
        if exact is not None:
            break
    if exact is None and best is None:
        if display_name is None:
            raise SymbolError(f"No source file named {file}.")
        return LineInfo(f'Line number {line} is out of range for "{display_name}".')
    if exact is not None:
        address, bias, name = exact
    else:
        _, address, bias, name = best
    entry, ebias = _line_range(target, address + bias)
    if entry is None:
        return LineInfo(f'Line number {line} is out of range for "{name}".')
    return _line_text(target, name, line, entry, ebias)


def default_file_display(target: "Target") -> str | None:
    """The current source file, as `info line N` and `list N` default to."""
    cur = target.sources.current
    if cur is not None:
        return cur.fullname
    return target.default_source_file()
