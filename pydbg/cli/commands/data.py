"""Examining data: print, output, set var, x, info registers, disassemble."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command
from pydbg.engine import format as fmt
from pydbg.errors import CommandError, MemoryAccessError, PydbgError
from pydbg.symbols.types import VoidType, strip_typedefs

if TYPE_CHECKING:
    from pydbg.cli.session import Session


@command("print", group="data", aliases=("p", "inspect"), repeat=True)
def cmd_print(session: "Session", arg: str) -> None:
    """Print value of expression EXP.
    Usage: print [/FMT] [EXP]
    FMT is a format letter: x(hex), d(decimal), u(unsigned), o(octal), t(binary),
    c(char), a(address), f(float), s(string), z(zero-padded hex).
    The value is recorded in the value history as $N; `print` alone shows the last one.
    Registers are written $NAME ($rip, $sp, $eax); `$N` and `$` name history values."""
    letter, expr = fmt.parse_print_format(arg.strip())
    inspector = session.inspector()
    if not expr.strip():
        value = session.history_value(0)
    else:
        value = session.evaluate(expr, inspector)
    text = inspector.format(value, letter)
    number = session.record_history(value)
    session.out(f"${number} = {text}")


@command("output", group="data")
def cmd_output(session: "Session", arg: str) -> None:
    """Like "print" but don't put in value history and don't print newline.
    Usage: output [/FMT] EXP"""
    letter, expr = fmt.parse_print_format(arg.strip())
    inspector = session.inspector()
    value = session.evaluate(expr, inspector)
    session.write(inspector.format(value, letter))


@command("call", group="data")
def cmd_call(session: "Session", arg: str) -> None:
    """Call a function in the program.
    Usage: call EXP
    The argument is the function name and arguments, in the notation of the
    current working language.  The result is printed and saved in the value
    history, if it is not void."""
    letter, expr = fmt.parse_print_format(arg.strip())
    inspector = session.inspector()
    if not expr.strip():
        if not session.value_history:
            raise CommandError("The history is empty.")
        value = session.history_value(0)
    else:
        value = session.evaluate(expr, inspector)
    if isinstance(strip_typedefs(value.type), VoidType):
        return                  # gdb's `call` prints no void result
    text = inspector.format(value, letter)
    number = session.record_history(value)
    session.out(f"${number} = {text}")


def _assign(session: "Session", expr: str) -> None:
    if not expr.strip():
        raise CommandError("Argument required (expression to compute).")
    session.evaluate(expr)


@command("variable", group="data", prefix="set", aliases=("var",))
def cmd_set_var(session: "Session", arg: str) -> None:
    """Evaluate expression EXP and assign result to variable VAR.
    Usage: set var VAR = EXP
    VAR may be a register ($rax), a convenience variable ($foo) or a program variable."""
    _assign(session, arg)


@command("x", group="data", repeat=True)
def cmd_x(session: "Session", arg: str) -> None:
    """Examine memory: x/FMT ADDRESS.
    ADDRESS is an expression for the memory address to examine.
    FMT is a repeat count followed by a format letter and a size letter.
    Format letters are o(octal), x(hex), d(decimal), u(unsigned decimal),
      t(binary), f(float), a(address), i(instruction), c(char), s(string)
      and z(hex, zero padded on the left).
    Size letters are b(byte), h(halfword), w(word), g(giant, 8 bytes).
    Defaults for format and size are the ones last used; the default count is 1.
    With no ADDRESS, continues after the last address examined."""
    state = session.x_state
    defaults = fmt.XDefaults(state.fmt, state.unit)
    spec = fmt.parse_x_spec(arg.strip(), defaults) if arg.strip().startswith("/") else \
        fmt.XSpec(1, defaults.fmt, defaults.unit, arg.strip())
    if not arg.strip().startswith("/") and defaults.fmt == "s":
        spec = fmt.XSpec(1, "s", "", arg.strip())
    if spec.rest:
        address = session.evaluate_address(spec.rest)
    elif state.next_address is not None:
        address = state.next_address
    else:
        raise CommandError("Argument required (starting display address).")
    if not arg.strip() and state.last_count > 0:
        spec = fmt.XSpec(state.last_count, spec.fmt, spec.unit, spec.rest)
    state.last_count = spec.count
    examine(session, spec, address)


def examine(session: "Session", spec: "fmt.XSpec", address: int) -> None:
    """Print `x/FMT` output for ADDRESS (the x command and `display/FMT`)."""
    state = session.x_state
    target = session.target
    symbolize = target.symbolic_suffix
    if spec.fmt == "i":
        next_address = _examine_instructions(session, address, spec.count)
        state.fmt, state.next_address = "i", next_address
        _set_examined(session, state.last_address, spec)
        return
    try:
        settings = target.settings    # x/s follows `set print elements/repeats` (0: none)
        result = fmt.format_x(address, target.read_memory, spec.count, spec.fmt, spec.unit,
                              symbolize, print_elements=settings.print_elements,
                              repeat_threshold=settings.print_repeats)
    except fmt.ExamineError as exc:
        for line in exc.lines:
            session.out(line)
        if exc.partial:
            session.write(exc.partial)
            session.flush()
        state.next_address = exc.next_address
        raise MemoryAccessError(exc.address) from None
    for warning in result.warnings:
        session.err(warning)
    for line in result.lines:
        session.out(line)
    new = fmt.XDefaults(state.fmt, state.unit).after(spec)
    state.fmt, state.unit = new.fmt, new.unit
    state.next_address = result.next_address
    state.last_address = result.last_address
    _set_examined(session, result.last_address, spec)


_X_TYPES = {"b": "int8_t", "h": "int16_t", "w": "int32_t", "g": "int64_t"}


def _set_examined(session: "Session", address: int | None, spec: "fmt.XSpec") -> None:
    """gdb's $_ (last address examined, typed) and $__ (its contents)."""
    from pydbg.engine.evaluate import INT, LONG, SCHAR, SHORT
    from pydbg.engine.values import Value
    from pydbg.symbols.types import BaseType, PointerType
    if address is None:
        return
    unit = spec.unit or session.x_state.unit
    # gdb examines strings and instructions through int8_t, addresses as int64_t;
    # a string's or instruction's contents stay lazy, so $__ is void.
    if spec.fmt in ("s", "i"):
        unit = "b"
    elif unit == "a":
        unit = "g"
    base = {"b": SCHAR, "h": SHORT, "w": INT, "g": LONG}.get(unit)
    if base is None:
        return
    # gdb's builtin intN_t are plain integers (an int8_t * is no string).
    t = BaseType(_X_TYPES[unit], base.size, "signed")
    session.convenience["_"] = Value.from_int(PointerType(t), address)
    if spec.fmt in ("s", "i"):
        session.convenience.pop("__", None)
        return
    try:
        data = session.target.read_memory(address, base.size)
        session.convenience["__"] = Value.from_bytes(t, data)
    except PydbgError:
        session.convenience.pop("__", None)


def _examine_instructions(session: "Session", address: int, count: int) -> int:
    target = session.target
    pc = _current_pc(session)
    addr = address
    for _ in range(max(count, 1)):
        code = _read_code(session, addr, 16)
        insns = target.disassembler.disassemble(code, addr, count=1)
        if not insns:
            raise MemoryAccessError(addr)
        insn = insns[0]
        session.out(_instruction_line(session, insn, pc, label_style="x"))
        session.x_state.last_address = insn.address
        addr += insn.size
    return addr


def _read_code(session: "Session", address: int, size: int) -> bytes:
    data = session.target.readable_prefix(address, size)
    if not data:
        raise MemoryAccessError(address)
    return data


def _current_pc(session: "Session") -> int | None:
    target = session.target
    if not target.is_running:
        return None
    return session.selected_pc()


def _instruction_line(session: "Session", insn, pc: int | None, *, label_style: str,
                      func_start: int | None = None, raw: bool = False) -> str:
    """One disassembly line: `=> 0x... <main+4>:\\tmov ...` (x/i) or `   0x... <+4>:\\t...`."""
    marker = "=> " if pc == insn.address else "   "
    target = session.target
    if label_style == "x":
        sym = target.symbolic_suffix(insn.address)
        label = f"{insn.address:#x} <{sym}>:" if sym else f"{insn.address:#x}:"
    elif label_style == "range":
        # `disassemble START,END` spells offsets out, "+0" included.
        found = target.symbolize(insn.address)
        label = f"0x{insn.address:016x}"
        label += f" <{found[0]}{found[1]:+d}>:" if found else ":"
    else:
        # Offsets count from the entry pc: negative in a function's .cold part.
        off = insn.address - func_start if func_start is not None else 0
        label = f"0x{insn.address:016x} <{off:+d}>:"
    text = insn.text(target.symbolic_suffix)
    if raw:
        # gdb 13 pads the bytes to objdump's 7-byte column so instructions line up.
        text = " ".join(f"{b:02x}" for b in insn.raw).ljust(19) + "\t" + text
    return f"{marker}{label}\t{text}"


@command("disassemble", group="data", aliases=("disas",))
def cmd_disassemble(session: "Session", arg: str) -> None:
    """Disassemble a specified section of memory.
    Usage: disassemble[/r] [FUNCTION | ADDRESS | START,END | START,+LENGTH]
    With no argument, disassembles the function around the selected frame's pc.
    /r also shows the raw bytes of each instruction. `=>` marks the current pc."""
    arg = arg.strip()
    raw = False
    m = re.match(r"/([a-z]+)\s*", arg)
    if m:
        raw = "r" in m.group(1)
        arg = arg[m.end():]
    target = session.target
    pc = _current_pc(session)
    if "," in arg:
        start_text, end_text = arg.split(",", 1)
        start = session.evaluate_address(start_text)
        end_text = end_text.strip()
        end = start + session.evaluate_int(end_text[1:]) if end_text.startswith("+") else \
            session.evaluate_address(end_text)
        session.out(f"Dump of assembler code from {start:#x} to {end:#x}:")
        _disassemble_range(session, start, end, pc, raw, by_function=False)
        session.out("End of assembler dump.")
        return
    if arg:
        address = session.evaluate_address(arg)
    else:
        if pc is None:
            raise CommandError("No frame selected.")
        address = pc
    found = target.function_ranges(address)
    if found is None:
        raise CommandError("No function contains specified address.")
    name, entry, ranges = found
    session.out(f"Dump of assembler code for function {name}:")
    for start, end in ranges:
        if len(ranges) > 1:
            session.out(f"Address range {start:#x} to {end:#x}:")
        _disassemble_range(session, start, end, pc, raw, by_function=True, func_start=entry)
    session.out("End of assembler dump.")


def _disassemble_range(session: "Session", start: int, end: int, pc: int | None, raw: bool,
                       by_function: bool, func_start: int | None = None) -> None:
    """Instructions that start in [start, end); the last may extend past end, as in gdb."""
    target = session.target
    style = "func" if by_function else "range"
    if func_start is None:
        func_start = start
    code = target.readable_prefix(start, end - start + 15) if end > start else b""
    addr = start
    for insn in target.disassembler.disassemble(code, start):
        if insn.address >= end:
            return
        if insn.address + insn.size > start + len(code):
            break  # truncated by unreadable memory
        session.out(_instruction_line(session, insn, pc, label_style=style,
                                      func_start=func_start, raw=raw))
        addr = insn.address + insn.size
    if addr < end:
        # gdb prints the address label, then the error, for the first unreadable instruction.
        label = _instruction_line(session, _Placeholder(addr), pc, label_style=style,
                                  func_start=func_start)
        session.write(label.rsplit("\t", 1)[0] + "\t\n")
        session.flush()
        raise MemoryAccessError(addr)


class _Placeholder:
    """Stands in for an instruction that could not be read, to print its label."""

    def __init__(self, address: int) -> None:
        self.address = address
        self.raw = b""

    def text(self, symbolize=None) -> str:
        return ""


@command("registers", group="data", prefix="info", aliases=("r",))
def cmd_info_registers(session: "Session", arg: str) -> None:
    """List of integer registers and their contents, for selected stack frame.
    Usage: info registers [NAME...]
    NAME may be a register ($rax or rax), a part of one (eax, al) or a group (general)."""
    target = session.target
    if not target.is_running:
        raise CommandError("The program has no registers now.")
    _print_registers(session, arg.split() if arg.strip() else None)


def _print_registers(session: "Session", names: list[str] | None) -> None:
    """Rows for NAMES (general registers by default); x87/SSE/AVX ones by fpregs."""
    from pydbg.engine import fpregs
    target = session.target
    values = session.frame_registers()
    fp = target.fp_registers()
    features = fp.features()
    inspector = session.inspector()
    plain: list[str] = []

    def flush() -> None:
        if not plain:
            return
        try:
            lines = fmt.format_registers(values, list(plain), target.symbolic_suffix)
        except fmt.FormatErrorWithOutput as exc:
            for line in exc.lines:
                session.out(line)
            raise
        plain.clear()
        for line in lines:
            session.out(line)

    for name in names or [None]:
        if name is None:
            plain.extend(fmt.default_register_names(values))
            continue
        bare = name[1:] if name.startswith("$") else name
        group = features.group(bare)
        wanted = group if group is not None else \
            [bare] if fpregs.is_fp_register(bare, features) else None
        if wanted is None:
            plain.append(name)
            continue
        flush()
        for reg in wanted:
            session.out(fpregs.register_row(reg, fp.value(reg), inspector.format))
    flush()


@command("all-registers", group="data", prefix="info")
def cmd_info_all_registers(session: "Session", arg: str) -> None:
    """List of all registers and their contents, for selected stack frame.
    Usage: info all-registers [NAME...]"""
    from pydbg.arch.x86_64 import GENERAL_REGISTERS, MASK_REGISTERS
    target = session.target
    if not target.is_running:
        raise CommandError("The program has no registers now.")
    if arg.strip():
        _print_registers(session, arg.split())
        return
    features = target.fp_registers().features()
    x87, vectors = features.all_registers_tail()
    masks = list(MASK_REGISTERS) if features.avx512 else []
    _print_registers(session, list(GENERAL_REGISTERS) + x87 + masks + vectors)
