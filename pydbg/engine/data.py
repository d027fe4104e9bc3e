"""The data engine: expressions, variables and value text for the selected frame of a Target.

Joins frames (engine/frames.py), DWARF variables (engine/variables.py), the evaluator and the
printer; front ends (print, display, info locals, bt full, frame lines) go through Inspector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from pydbg.arch.x86_64 import DWARF_TO_NAME, MASK_REGISTERS, lookup_register
from pydbg.engine.evaluate import EvalScope, Evaluator, UnreadableVariable
from pydbg.engine.printing import PrintOptions, common_val_print, check_printable_size, format_value
from pydbg.engine.tls import TlsError, tls_reader
from pydbg.engine.values import MemoryLval, Value, is_aggregate
from pydbg.engine.variables import FrameContext, FrameReader, NoEntryValue, ProgramScope
from pydbg.errors import ExpressionError, PydbgError
from pydbg.symbols.debuginfo import Block, Variable
from pydbg.symbols.types import FunctionType, VoidType

if TYPE_CHECKING:
    from pydbg.engine.frames import Frame
    from pydbg.engine.target import Target

_UNLIMITED = 1 << 62


# --------------------------------------------------------------------------- frames

def selected_frame(target: "Target") -> "Frame | None":
    if not target.is_running:
        return None
    try:
        return target.frames.selected
    except PydbgError:
        return None


def _frame_of_level(target: "Target", level: int) -> "Frame | None":
    try:
        return target.frames.frame(level)
    except PydbgError:
        return None


def frame_context(target: "Target", frame: "Frame") -> FrameContext:
    """A FrameContext (what variable reading needs) for one of frames.py's frames."""
    phys = frame.physical
    img = phys.image
    ctx = FrameContext(
        pc=phys.pc, lookup_pc=phys.lookup_pc, regs=dict(phys.regs), cfa=phys.cfa,
        image=img.image if img is not None else None, bias=img.bias if img is not None else 0,
        level=frame.level, inline_depth=frame.inline_depth, writable=True,
        vector=_vector_reader(target), tls_base=tls_reader(target, img))

    def caller() -> FrameContext | None:
        level = frame.level + 1
        while True:
            f = _frame_of_level(target, level)
            if f is None:
                return None
            if f.physical is not phys:
                return frame_context(target, f)
            level += 1

    ctx.caller = caller
    return ctx


def _vector_reader(target: "Target") -> Callable[[int], bytes]:
    cache: dict[str, bytes] = {}

    def read(regno: int) -> bytes:
        if "x" not in cache:
            process = target.require_process()
            cache["x"] = process.get_xstate()
        data = cache["x"]
        i = regno - 17
        return data[160 + 16 * i:160 + 16 * i + 16]
    return read


def static_context(target: "Target", image, bias: int) -> FrameContext:
    """A frame-less context for globals and statics of IMAGE."""
    img = None
    for li in getattr(target, "images", []) or []:
        if li.image is image:
            img = li
    return FrameContext(pc=0, lookup_pc=0, regs={}, cfa=None, image=image, bias=bias,
                        tls_base=tls_reader(target, img) if target.is_running else None)


# --------------------------------------------------------------------------- inspector

class Inspector:
    """Expressions and variables as seen from one frame (the selected one by default)."""

    def __init__(self, target: "Target", history: list | None = None,
                 convenience: dict | None = None, frame: "Frame | None" = None,
                 use_selected: bool = True) -> None:
        self.target = target
        self.history = history if history is not None else []
        self.convenience = convenience if convenience is not None else {}
        self.frame = frame if frame is not None else (
            selected_frame(target) if use_selected else None)
        self.program = _program_scope(target)
        self.ctx = frame_context(target, self.frame) if self.frame is not None else None
        self.reader = self._reader(self.ctx, self.frame) if self.ctx is not None else None
        self.warnings: list[str] = []
        # blocks of the locals an expression used (display remembers the innermost)
        self.blocks_used: list[Block] = []
        # Expressions may call functions in the program (engine/infcall.py) once a front
        # end allows it for a command the user typed; breakpoint conditions and dprintf
        # arguments, evaluated while the program runs, do not.
        self.calls_allowed = False
        self.check_condition: Callable | None = None   # for breakpoints a call hits
        self.report_stop: Callable | None = None       # shows a stop abandoning a call

    # ----------------------------------------------------------------- access
    def _reader(self, ctx: FrameContext, frame: "Frame | None" = None) -> FrameReader:
        target = self.target
        write_memory = target.write_memory if target.is_running else None
        return FrameReader(ctx, target.read_memory, write_memory,
                           self._register_writer(frame) if ctx.writable else None)

    def _register_writer(self, frame: "Frame | None") -> Callable[[int, bytes], None]:
        """Writes a DWARF register of FRAME: live in frame 0, else where the callee saved
        it (gdb's put_frame_register)."""
        def write(regno: int, data: bytes) -> None:
            name = DWARF_TO_NAME.get(regno)
            if name is None or regno > 16:
                raise ExpressionError("Writing this register is not supported.")
            value = int.from_bytes(data[:8], "little")
            origin = None
            if frame is not None and frame.physical.index != 0:
                origin = frame.physical.origins.get(regno)
            if origin is None or origin.kind == "reg":
                self.target.set_register(name, value)
            elif origin.kind == "mem" and origin.address is not None:
                self.target.write_memory(origin.address, data[:8])
            else:
                raise ExpressionError("Attempt to assign to an unmodifiable value.")
            if frame is not None:
                frame.physical.regs[regno] = value     # the cached frame stays truthful
        return write

    def _static_reader(self, image, bias: int) -> FrameReader:
        if self.ctx is not None and self.ctx.image is image:
            return self.reader  # type: ignore[return-value]
        return self._reader(static_context(self.target, image, bias))

    # ----------------------------------------------------------------- lookups
    def lookup_variable(self, name: str) -> Value | None:
        if self.reader is not None:
            found = self.reader.lookup_local(name)
            if found is not None:
                var, block = found
                self.blocks_used.append(block)
                if var.is_declaration:
                    return self._global(name)
                try:
                    return self._named(self.reader.read(var), var)
                except TlsError as exc:     # a function's `static __thread`
                    raise UnreadableVariable(str(exc), var.type) from None
        g = self._global(name)
        if g is not None:
            return g
        fn = self.program.find_function(name)
        if fn is not None:
            function, bias, _ = fn
            entry = function.entry_pc if function.entry_pc is not None else function.start
            t = function.type or FunctionType(VoidType(), [], False, False)
            return Value(t, MemoryLval(entry + bias), self._access())
        en = self.program.find_enumerator(name, self.ctx)
        if en is not None:
            return Value.from_int(en[0], en[1])
        return self._aliased_function(name)

    def _aliased_function(self, name: str) -> Value | None:
        """An ELF alias (libc's `puts`) of a DWARF function named otherwise (`_IO_puts`,
        found as `__GI__IO_puts`): gdb's find_function_alias_target types the minimal
        symbol by the function whose entry is at its address (not for an ifunc)."""
        sym = self.target.lookup_symbol_address(name)
        if sym is None or sym[1] != "func":
            return None
        address = sym[0]
        fn = self.program.function_at(address)
        if fn is None:
            return None
        function, bias, image = fn
        entry = function.entry_pc if function.entry_pc is not None else function.start
        if entry + bias != address or function.type is None or \
                image.is_gnu_ifunc(address - bias, name):
            return None
        return Value(function.type, MemoryLval(address), self._access())

    def _access(self):
        if self.reader is not None:
            return self.reader.access
        return self._reader(static_context(self.target, None, 0)).access

    def _global(self, name: str, file: str | None = None,
                function: str | None = None) -> Value | None:
        found = self.program.find_global(name, file, function, self.ctx)
        if found is None:
            return None
        var, bias, image = found
        if var.location is None and var.const_value is None and var.is_external:
            # gdb's LOC_UNRESOLVED: an external variable DWARF gives no location for
            # (glibc's `environ`) lives at its ELF symbol.
            sym = image.get_symbol(var.name)
            if sym is not None and sym.kind != "func":
                return self._named(Value(var.type, MemoryLval(sym.address + bias),
                                         self._access()), var)
        return self._read_static(var, image, bias)

    def _read_static(self, var: Variable, image, bias: int) -> Value:
        """A global or static variable (no frame); thread-local ones need a process."""
        if not self.target.is_running and _uses_tls(var):
            raise UnreadableVariable(f"Cannot read `{var.name}' without registers", var.type)
        try:
            return self._named(self._static_reader(image, bias).read(var, None), var)
        except TlsError as exc:
            raise UnreadableVariable(str(exc), var.type) from None

    @staticmethod
    def _named(v: Value, var: Variable) -> Value:
        v.name = var.name
        return v

    def lookup_scoped(self, scope: tuple[str, ...], name: str) -> Value | None:
        if not scope:
            return self._global(name)
        file = function = None
        for s in scope:
            if s.endswith((".c", ".h", ".cc", ".cpp")) or "/" in s:
                file = s
            else:
                function = s
        if function is None:
            return self._global(name, file=file)
        found = self.program.find_global(name, file, function, self.ctx)
        if found is None:
            return None
        var, bias, image = found
        if not _needs_frame(var):
            return self._read_static(var, image, bias)
        # An automatic variable: read it in the innermost frame running FUNCTION.
        level = 0
        while True:
            f = _frame_of_level(self.target, level) if self.target.is_running else None
            if f is None:
                raise ExpressionError(f"No frame is currently executing in block {function}.")
            if f.function == function:
                ctx = frame_context(self.target, f)
                reader = self._reader(ctx, f)
                hit = reader.lookup_local(name)
                if hit is not None:
                    return self._named(reader.read(hit[0]), hit[0])
            level += 1

    def lookup_entry_value(self, name: str) -> Value:
        if self.reader is None:
            raise ExpressionError(f"No symbol \"{name}\" in current context.")
        for var in self.reader.params():
            if var.name == name:
                try:
                    return self.reader.read_at_entry(var)
                except NoEntryValue as exc:
                    raise ExpressionError(str(exc)) from None
        raise ExpressionError(f"No symbol \"{name}\" in current context.")

    def find_type(self, name: str):
        return self.program.find_type(name, self.ctx)

    def find_tagged(self, keyword: str, name: str):
        return self.program.find_tagged(keyword, name, self.ctx)

    def is_type_name(self, name: str) -> bool:
        return self.program.is_type_name(name, self.ctx)

    # ----------------------------------------------------------------- registers
    def read_register(self, name: str) -> int:
        reg = lookup_register(name)
        if reg is None:
            raise ExpressionError(f"Invalid register `{name}'")
        if self.frame is not None and self.frame.level != 0:
            values = dict(self.target.frames.registers_by_name(self.frame))
            values["rip"] = self.frame.pc      # tail-call frames have a pc of their own
        else:
            values = self.target.registers()
        if reg.parent in MASK_REGISTERS:
            values.update(self.target.mask_registers())   # an XSAVE read: only on demand
        if reg.parent not in values:
            raise ExpressionError("value is not available")
        return reg.extract(values[reg.parent])

    def special_register(self, name: str) -> Value | None:
        """$st0-7, $fctrl.., $mxcsr, $xmm/$ymm/$zmm of the current thread (gdb's x87/SSE/
        AVX registers; outer frames see the live ones, which no ABI saves)."""
        from pydbg.engine import fpregs
        if name == "_siginfo":
            return self._siginfo()
        if name in ("_thread", "_gthread", "_inferior"):
            return self._thread_variable(name)
        if not fpregs.is_fp_register(name):
            return None
        if not self.target.is_running:
            return fpregs.unavailable_value(name)
        regs = self.target.fp_registers()
        if not fpregs.is_fp_register(name, regs.features()):
            return None
        return regs.value(name)

    def _thread_variable(self, name: str) -> Value:
        """gdb's $_thread / $_gthread (the selected thread's number, 0 without one) and
        $_inferior (always 1: pydbg debugs one program)."""
        from pydbg.symbols.types import BaseType
        number = 1
        if name != "_inferior":
            info = self.target.threads.current()
            number = info.number if info is not None else 0
        return Value.from_int(BaseType("int", 4, "signed"), number)

    def _siginfo(self) -> Value | None:
        """gdb's $_siginfo (void, as an unset convenience variable, without a process)."""
        from pydbg.engine.siginfo import siginfo_value
        if not self.target.is_running:
            return None
        try:
            return siginfo_value(self.target.require_process().get_siginfo())
        except (PydbgError, OSError):
            return None

    def write_register(self, name: str, value: int) -> None:
        reg = lookup_register(name)
        if reg is None:
            raise ExpressionError(f"Invalid register `{name}'")
        if self.frame is not None and self.frame.level != 0:
            raise ExpressionError("Writing the registers of an outer frame is not supported.")
        full = self.target.registers()[reg.parent]
        self.target.set_register(reg.parent, reg.insert(full, value))

    # ----------------------------------------------------------------- evaluation
    def scope(self) -> EvalScope:
        running = self.target.is_running
        return EvalScope(
            access=self._access(),
            lookup_variable=self.lookup_variable,
            lookup_scoped=self.lookup_scoped,
            lookup_entry_value=self.lookup_entry_value,
            lookup_symbol=self.target.lookup_symbol_address,
            find_type=self.find_type,
            find_tagged=self.find_tagged,
            is_type_name=self.is_type_name,
            read_register=self.read_register if running else None,
            write_register=self.write_register if running else None,
            special_register=self.special_register,
            history=self.history,
            convenience=self.convenience,
            warn=self.warnings.append,
            call_function=self._start_call if running else None,
        )

    def allow_calls(self, check_condition: Callable | None = None,
                    report_stop: Callable | None = None) -> None:
        """Let expressions call functions in the program: CHECK_CONDITION decides the
        conditions of breakpoints such a function hits, REPORT_STOP shows a stop that
        abandons the call."""
        self.calls_allowed = True
        self.check_condition = check_condition
        self.report_stop = report_stop

    def _start_call(self):
        from pydbg.engine.infcall import InferiorCall
        if not self.calls_allowed:
            raise ExpressionError("Calling functions of the program is not supported by "
                                  "pydbg in breakpoint conditions and dprintf.")
        return InferiorCall(self.target, self.check_condition, self.report_stop)

    def evaluator(self, avoid_side_effects: bool = False) -> Evaluator:
        return Evaluator(self.scope(), avoid_side_effects)

    def evaluate(self, text: str) -> Value:
        return self.evaluator().evaluate(text)

    def print_options(self, letter: str | None = None) -> PrintOptions:
        settings = getattr(self.target, "settings", None)
        # Values name ELF symbols by gdb's print name (print_address_demangle).
        opts = PrintOptions(format=letter, symbolize=self.target.print_symbolic_suffix,
                            symbolize_address=self.target.symbolic_suffix,
                            read_memory=self.target.read_memory)
        if settings is not None:
            # `set print elements/repeats 0` means unlimited.
            opts.print_elements = settings.print_elements or _UNLIMITED
            opts.repeat_threshold = settings.print_repeats or _UNLIMITED
            opts.pretty = settings.print_pretty
        return opts

    def format(self, value: Value, letter: str | None = None) -> str:
        return format_value(value, self.print_options(letter))

    # ----------------------------------------------------------------- listings
    def locals_lines(self) -> list[str]:
        """`info locals` (and `bt full`) lines, or gdb's message when there are none."""
        if self.reader is None:
            raise ExpressionError("No frame selected.")
        if self.ctx is not None and self.ctx.function_block is None:
            return ["No symbol table info available."]
        out = []
        for var in self.reader.locals():
            out.append(f"{var.name} = {self._variable_text(var)}")
        return out or ["No locals."]

    def args_lines(self) -> list[str]:
        if self.reader is None:
            raise ExpressionError("No frame selected.")
        if self.ctx is not None and self.ctx.function_block is None:
            return ["No symbol table info available."]
        out = [f"{v.name} = {self._variable_text(v)}" for v in self.reader.params()]
        return out or ["No arguments."]

    def _variable_text(self, var: Variable) -> str:
        assert self.reader is not None
        opts = self.print_options()
        try:
            if var.is_declaration:
                v = self._global(var.name)
                if v is None:
                    return "<optimized out>"
            else:
                v = self.reader.read(var)
            if v.is_lazy and v.lval is not None:
                v.fetch()
        except PydbgError as exc:
            return f"<error reading variable {var.name} ({exc})>"
        return value_print_nested(v, opts)

    def frame_args_text(self) -> str:
        """The `a=1, b=b@entry=2` of a frame line (gdb's print_frame_args, entry values
        'default', `print frame-arguments scalars`)."""
        if self.reader is None:
            return ""
        parts = []
        opts = self.print_options()
        for var in self.reader.params():
            parts.append(self._frame_arg(var, opts))
        return ", ".join(parts)

    def _frame_arg(self, var: Variable, opts: PrintOptions) -> str:
        assert self.reader is not None
        val = entry = None
        val_error = entry_error = None
        try:
            val = self.reader.read(var)
            if val.is_lazy:
                val.fetch()
        except PydbgError as exc:
            val, val_error = None, str(exc)
        try:
            entry = self.reader.read_at_entry(var)
            if entry.is_lazy:
                entry.fetch()
            if entry.is_optimized_out:
                entry = None
        except NoEntryValue:
            entry = None
        except PydbgError as exc:
            entry, entry_error = None, str(exc)
        equal = False
        if val is not None and entry is not None:
            try:
                if val.fetch() == entry.fetch() and not val.is_optimized_out:
                    equal = True
                    entry = None
            except PydbgError:
                pass
        if val_error and entry_error and val_error == entry_error:
            entry_error = None
        name = var.name
        text = name + "=" + (f"{name}@entry=" if equal else "")
        if val is not None:
            text += _summary(val, opts)
        else:
            text += f"<error: {val_error}>"
        if entry is not None:
            text += f", {name}@entry={_summary(entry, opts)}"
        elif entry_error:
            text += f", {name}@entry=<error: {entry_error}>"
        return text


_FRAME_OPS = {"DW_OP_fbreg", "DW_OP_call_frame_cfa", "DW_OP_regx", "DW_OP_bregx",
              "DW_OP_entry_value", "DW_OP_GNU_entry_value", "DW_OP_regval_type",
              "DW_OP_GNU_regval_type", "DW_OP_push_object_address"}


def _needs_frame(var: Variable) -> bool:
    """gdb's symbol_read_needs_frame: the location uses registers or the pc."""
    from pydbg.symbols.debuginfo import LocListRef
    from pydbg.symbols.dwarf_expr import decode
    if var.const_value is not None:
        return False
    loc = var.location
    if loc is None:
        return False
    if isinstance(loc, LocListRef):
        return True
    try:
        ops = decode(loc)
    except PydbgError:
        return True
    return any(0x50 <= op.opcode <= 0x8F or op.name in _FRAME_OPS for op in ops)


def _uses_tls(var: Variable) -> bool:
    """The location is thread-local (gdb's SYMBOL_NEEDS_REGISTERS for TLS)."""
    from pydbg.symbols.debuginfo import LocListRef
    from pydbg.symbols.dwarf_expr import decode
    loc = var.location
    if var.const_value is not None or loc is None or isinstance(loc, LocListRef):
        return False
    try:
        ops = decode(loc)
    except PydbgError:
        return False
    return any(op.name in _TLS_OPS for op in ops)


_TLS_OPS = {"DW_OP_form_tls_address", "DW_OP_GNU_push_tls_address"}


def value_print_nested(v: Value, opts: PrintOptions) -> str:
    """A variable's value as `info locals` prints it (gdb's common_val_print: no pointer
    type prefix)."""
    try:
        check_printable_size(v)
        return common_val_print(v, opts, 0)
    except PydbgError as exc:
        return f"<error: {exc}>"


def _summary(v: Value, opts: PrintOptions) -> str:
    """`print frame-arguments scalars`: aggregates are `...`."""
    try:
        if v.entirely_optimized_out:
            return "<optimized out>"
        if is_aggregate(v.type):
            return "..."
        return common_val_print(v, opts, 0)
    except PydbgError as exc:
        return f"<error: {exc}>"


def _program_scope(target: "Target") -> ProgramScope:
    """One ProgramScope per target (it caches enumerator tables)."""
    cached = getattr(target, "_pydbg_program_scope", None)
    if cached is None:
        cached = ProgramScope(target)
        try:
            target._pydbg_program_scope = cached
        except AttributeError:
            pass
    return cached


# --------------------------------------------------------------------------- frame hooks

def frame_args_for(target: "Target", frame: "Frame") -> str:
    """Arguments of FRAME as a frame line shows them."""
    try:
        return Inspector(target, frame=frame).frame_args_text()
    except PydbgError:
        return ""


def frame_locals_lines(target: "Target", frame: "Frame") -> list[str]:
    """`bt full`'s local variable lines of FRAME (without the 8-space indent)."""
    try:
        return Inspector(target, frame=frame).locals_lines()
    except PydbgError as exc:
        return [str(exc)]


__all__ = ["Inspector", "frame_args_for", "frame_context", "frame_locals_lines",
           "selected_frame", "static_context", "value_print_nested"]
