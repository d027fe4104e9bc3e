"""Calling functions of the program from expressions (gdb's infcall.c, with amd64's
push_dummy_call): System V x86-64 argument passing, a return address at the program's entry
point with an internal breakpoint on it, and every register put back once the call returns.

A call stopped by a breakpoint or a signal leaves a *dummy frame* behind (gdb's
`<function called from gdb>`); when its function returns later, the program stops there
silently and the registers of before the call come back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from pydbg.engine.breakpoints import Breakpoint, BreakpointLocation
from pydbg.engine.stops import Stop, StopKind
from pydbg.errors import ExpressionError, PydbgError
from pydbg.symbols.types import (
    ArrayType, BaseType, CompositeType, CType, EnumType, FunctionType, PointerType, VoidType,
    strip_typedefs,
)

if TYPE_CHECKING:
    from pydbg.engine.target import Target
    from pydbg.engine.values import Value
    from pydbg.ptrace import StopEvent

CALL_DUMMY_KIND = "call_dummy"          # the internal breakpoint a called function returns to
DUMMY_FUNCTION = "<function called from gdb>"
RED_ZONE = 128                          # below rsp, the called-from code may keep data there
_INT_REGS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
_MAX_SSE = 8
_FX_XMM = 160                           # xmm0 in the FXSAVE area
_FX_ST = 32                             # st0 in the FXSAVE area
_MASK = (1 << 64) - 1

_ABANDONED = ("Evaluation of the expression containing the function\n"
              "({name}) will be abandoned.")
_SILENT = "When the function is done executing, GDB will silently stop."


# ------------------------------------------------------------------- classification

INTEGER, SSE, X87, COMPLEX_X87, MEMORY = "INTEGER", "SSE", "X87", "COMPLEX_X87", "MEMORY"


def classify(t: CType) -> tuple[str, ...]:
    """The System V classes of a value of type T, one per eightbyte (INTEGER, SSE), or a
    single X87 / COMPLEX_X87 (long double, its complex) or MEMORY."""
    t = strip_typedefs(t)
    size = t.size if not isinstance(t, VoidType) else 0
    if isinstance(t, (PointerType, EnumType)):
        return (INTEGER,)
    if isinstance(t, BaseType):
        if t.encoding == "float":
            return (X87,) if size > 8 else (SSE,)
        if t.encoding == "complex":
            if size > 16:
                return (COMPLEX_X87,)
            return (SSE,) if size <= 8 else (SSE, SSE)
        return (INTEGER,) * max(1, (size + 7) // 8) if size <= 16 else (MEMORY,)
    if isinstance(t, (CompositeType, ArrayType)):
        if size == 0 or size > 16:
            return (MEMORY,)
        leaves: list[tuple[int, CType]] = []
        if not _scalars(t, 0, leaves):
            return (MEMORY,)
        classes = []
        for chunk in range((size + 7) // 8):
            kinds = [k for off, k in ((o, classify(s)) for o, s in leaves)
                     if chunk * 8 <= off < chunk * 8 + 8]
            flat = [c for k in kinds for c in k]
            if any(c in (X87, COMPLEX_X87, MEMORY) for c in flat):
                return (MEMORY,)
            classes.append(INTEGER if any(c == INTEGER for c in flat) else SSE)
        return tuple(classes)
    return (MEMORY,)


def _scalars(t: CType, base: int, out: list[tuple[int, CType]]) -> bool:
    """(offset, type) of every scalar inside T; False when one is misaligned (packed)."""
    t = strip_typedefs(t)
    if isinstance(t, CompositeType):
        for member, sub in t.iter_fields():
            if member.name is None:
                continue
            if not _scalars(member.type, base + sub + member.offset, out):
                return False
        return True
    if isinstance(t, ArrayType):
        step = t.target.size or 1
        for i in range(t.length or 0):
            if not _scalars(t.target, base + i * step, out):
                return False
        return True
    size = t.size
    if size and base % min(size, 16):
        return False
    out.append((base, t))
    return True


# ------------------------------------------------------------------- dummy frames

@dataclass
class DummyFrame:
    """A call in progress, or abandoned at a stop inside it (gdb's dummy_frame)."""
    name: str                       # the function, for messages
    tid: int
    return_address: int             # the entry point, where an internal breakpoint waits
    sp_after: int                   # rsp once the function returned (its ret popped our address)
    registers: dict[str, int]       # the general registers before the call
    fp_state: bytes                 # the XSAVE area (or FXSAVE) before the call
    xsave: bool
    breakpoint: Breakpoint
    claimed: bool = True            # someone waits for its return (the call, `finish`)
    saved: dict[str, Any] = field(default_factory=dict)   # the Target's stop state


def dummy_frame_at(target: "Target", pc: int, sp: int | None) -> DummyFrame | None:
    """The dummy frame a function returns to when its return address is PC and its caller's
    stack pointer SP (for the unwinder: gdb's `<function called from gdb>` frame)."""
    for dummy in reversed(getattr(target, "dummy_frames", ())):
        if dummy.return_address == pc and dummy.sp_after == sp:
            return dummy
    return None


def dummy_return(target: "Target", event: "StopEvent", pc: int | None) -> Stop | None:
    """A thread reached PC: if a called function just returned to its dummy frame, the
    Stop for that. A call waiting for it gets the Stop as it is; an abandoned call's
    registers come back and the Stop is silent (gdb's stop_stack_dummy)."""
    process = target.process
    if pc is None or process is None or not process.is_alive:
        return None
    sp = process.get_registers(event.tid).rsp
    dummy = dummy_frame_at(target, pc, sp)
    if dummy is None or dummy.tid != event.tid:
        return None
    stop = target._make_stop(StopKind.BREAKPOINT, event.tid, pc, event=event)  # noqa: SLF001
    stop.breakpoints = [dummy.breakpoint]
    if dummy.claimed:
        return stop
    # Later calls of this thread whose frames this return skipped (a longjmp) go with it.
    later = target.dummy_frames[target.dummy_frames.index(dummy) + 1:]
    for inner in [d for d in later if d.tid == dummy.tid]:
        _remove(target, inner)
    pop_dummy_frame(target, dummy)
    stop.pc = dummy.registers["rip"]
    stop.silent = True
    return stop


def pop_dummy_frame(target: "Target", dummy: DummyFrame) -> None:
    """Put back the registers of before the call and forget its dummy frame."""
    process = target.require_process()
    _write_registers(process, dummy.tid, dummy.registers)
    _restore_fp(process, dummy)
    _remove(target, dummy)


def _remove(target: "Target", dummy: DummyFrame) -> None:
    if dummy in target.dummy_frames:
        target.dummy_frames.remove(dummy)
    target.breakpoints.remove(dummy.breakpoint.number)
    target.sync_sites()


def discard_dummy_frames(target: "Target") -> None:
    """A new process (or none): calls of the old one are gone, and their breakpoints."""
    for bp in [b for b in target.breakpoints.all() if b.kind == CALL_DUMMY_KIND]:
        target.breakpoints.remove(bp.number)
    target.dummy_frames.clear()


def _write_registers(process, tid: int, values: dict[str, int]) -> None:
    regs = process.get_registers(tid)
    for name, value in values.items():
        regs[name] = value
    process.set_register("rip", values["rip"], tid)     # writes them all back at once


def _restore_fp(process, dummy: DummyFrame) -> None:
    if dummy.xsave:
        process.set_xstate(dummy.fp_state, dummy.tid)
    else:
        process.set_fp_registers(dummy.fp_state, dummy.tid)


def _save_fp(process, tid: int) -> tuple[bytes, bool]:
    try:
        if hasattr(process, "set_xstate"):
            return bytes(process.get_xstate(tid)), True
    except Exception:     # noqa: BLE001 - no XSAVE here (old CPU, some VMs): FXSAVE will do
        pass
    return bytes(process.get_fp_registers(tid)), False


# ------------------------------------------------------------------- one call

def _arg_bytes(v: "Value") -> bytes:
    data = v.fetch()
    return bytes(data[:v.size]).ljust(v.size, b"\0")


class InferiorCall:
    """One call of a function in the program, prepared by the evaluator: place() copies
    data (string literals) below the red zone, call() passes the arguments and runs it.

    CHECK_CONDITION decides conditions of breakpoints the function hits; REPORT_STOP shows
    a stop that abandons the call (the front end's stop report) before the error."""

    def __init__(self, target: "Target",
                 check_condition: Callable[[Breakpoint], bool] | None = None,
                 report_stop: Callable[[Stop], None] | None = None) -> None:
        process = target.require_process()
        self.target = target
        self.check_condition = check_condition
        self.report_stop = report_stop
        self.tid = process.current_tid
        self.registers = dict(process.get_registers(self.tid).as_dict())
        self.sp = (self.registers["rsp"] - RED_ZONE) & ~0xF

    def function_name(self, address: int) -> str:
        """gdb's get_function_name: the function there, a symbol, or `at 0x...`."""
        target = self.target
        bounds = target.function_bounds(address)
        if bounds is not None:
            return bounds[0]
        found = target.symbolize(address, demangle=True)
        if found is not None:
            return found[0]
        return f"at 0x{address:#x}"      # sic: gdb's RAW_FUNCTION_ADDRESS_FORMAT

    def resolve_ifunc(self, address: int, name: str
                      ) -> tuple[int, FunctionType | None] | None:
        """gdb's gnu_ifunc_resolve_addr: when NAME is an ELF GNU ifunc symbol at ADDRESS,
        call its resolver for the function it picks; that function's address and type
        (from its debug info, else from what the resolver is declared to return). None
        when it is no ifunc."""
        from pydbg.engine.values import Value
        target = self.target
        img = target.image_for_address(address)
        if img is None or not img.image.is_gnu_ifunc(address - img.bias, name):
            return None
        resolver_type = self._function_type(address)
        # gdb passes the hardware capabilities; x86-64 glibc's resolvers ignore them.
        hwcap = Value.from_int(BaseType("unsigned long", 8, "unsigned"), 0)
        data = InferiorCall(target, self.check_condition, self.report_stop).call(
            address, [hwcap], PointerType(VoidType()), self.function_name(address))
        chosen = int.from_bytes(data or bytes(8), "little")
        ftype = self._function_type(chosen)
        if ftype is None and resolver_type is not None:
            picked = strip_typedefs(resolver_type.return_type)
            if isinstance(picked, PointerType) and \
                    isinstance(strip_typedefs(picked.target), FunctionType):
                ftype = strip_typedefs(picked.target)     # type: ignore[assignment]
        return chosen, ftype

    def _function_type(self, address: int) -> FunctionType | None:
        """The DWARF type of the function containing ADDRESS (gdb's find_function_type)."""
        target = self.target
        img = target.image_for_address(address)
        if img is None or not img.image.has_debug_info:
            return None
        try:
            func = img.image.debug_info.function_at(address - img.bias)
        except (PydbgError, AttributeError, KeyError, ValueError):
            return None
        t = getattr(func, "type", None) if func is not None else None
        return t if isinstance(t, FunctionType) else None

    def place(self, data: bytes) -> int:
        """gdb's value_coerce_to_target: a string literal argument is copied into memory
        from the program's malloc (which gdb never frees), so later heap addresses agree."""
        from pydbg.engine.values import Value
        target = self.target
        sym = target.lookup_symbol_address("malloc")
        if sym is None or sym[1] != "func":
            raise ExpressionError("evaluation of this expression requires the program to "
                                  "have a function \"malloc\".")
        size = Value.from_int(BaseType("int", 4, "signed"), len(data))
        got = InferiorCall(target, self.check_condition, self.report_stop).call(
            sym[0], [size], PointerType(BaseType("char", 1, "signed_char")), "malloc")
        address = int.from_bytes(got or bytes(8), "little")
        if address == 0:
            raise ExpressionError("No memory available to program: call to malloc failed")
        target.write_memory(address, data)
        return address

    def _push(self, data: bytes, align: int = 16) -> int:
        """Copy DATA onto the stack below what is in use; its address."""
        self.sp = (self.sp - len(data)) & ~(align - 1)
        self.target.write_memory(self.sp, data)
        return self.sp

    def entry_point(self) -> int:
        target = self.target
        image = target.exe_image
        if image is None:
            raise ExpressionError("Cannot call functions: the program has no entry point.")
        return image.entry + target.main_bias()

    # ----------------------------------------------------------------- the call
    def call(self, address: int, args: list["Value"], return_type: CType,
             name: str) -> bytes | None:
        """Call the function at ADDRESS with ARGS (already converted to the types passed)
        and return the bytes of its RETURN_TYPE value (None for void)."""
        target = self.target
        process = target.require_process()
        rtype = strip_typedefs(return_type)
        rclass = classify(rtype) if not isinstance(rtype, VoidType) else ()
        struct_address = None
        if rclass == (MEMORY,):
            struct_address = self._push(bytes(rtype.size))

        ints: list[int] = []
        sses: list[bytes] = []
        stack: list[tuple[bytes, int]] = []
        if struct_address is not None:
            ints.append(struct_address)
        for arg in args:
            data = _arg_bytes(arg)
            classes = classify(arg.type)
            n_int, n_sse = classes.count(INTEGER), classes.count(SSE)
            if classes[0] in (MEMORY, X87, COMPLEX_X87) or \
                    len(ints) + n_int > len(_INT_REGS) or len(sses) + n_sse > _MAX_SSE:
                align = 16 if classes[0] in (X87, COMPLEX_X87) or \
                    _alignment(arg.type) > 8 else 8
                stack.append((data, align))
                continue
            for i, cls in enumerate(classes):
                chunk = data[8 * i:8 * i + 8].ljust(8, b"\0")
                if cls == INTEGER:
                    ints.append(int.from_bytes(chunk, "little"))
                else:
                    sses.append(chunk)

        # The stack arguments, in order from the lowest address; the area ends 16-aligned.
        area = bytearray()
        for data, align in stack:
            while len(area) % align:
                area += b"\0"
            area += data
            while len(area) % 8:
                area += b"\0"
        sp = (self.sp - len(area)) & ~0xF
        if area:
            target.write_memory(sp, bytes(area))
        return_address = self.entry_point()
        sp -= 8
        target.write_memory(sp, return_address.to_bytes(8, "little"))

        fp_state, xsave = _save_fp(process, self.tid)
        regs = dict(self.registers)
        for reg, value in zip(_INT_REGS, ints):
            regs[reg] = value & _MASK
        regs["rax"] = len(sses)            # vector registers used, for varargs functions
        regs["rsp"] = sp
        regs["rip"] = address
        if "orig_rax" in regs:
            regs["orig_rax"] = _MASK       # no system call restart on the way (gdb too)

        bp = target.breakpoints.new(f"*{return_address:#x}", internal=True,
                                    kind=CALL_DUMMY_KIND)
        bp.locations = [BreakpointLocation(return_address, "", return_address)]
        dummy = DummyFrame(name, self.tid, return_address, sp + 8, self.registers, fp_state,
                           xsave, bp)
        dummy.saved = {"last_stop": target.last_stop,
                       "frame_stack": getattr(target, "_frame_stack", None),
                       "pending_signal": getattr(target, "_pending_signal", 0)}
        target.dummy_frames.append(dummy)
        try:
            if sses:
                fx = bytearray(process.get_fp_registers(self.tid))
                for i, chunk in enumerate(sses):
                    fx[_FX_XMM + 16 * i:_FX_XMM + 16 * i + 16] = chunk.ljust(16, b"\0")
                process.set_fp_registers(bytes(fx), self.tid)
            _write_registers(process, self.tid, regs)
            target.sync_sites()
        except BaseException:
            if process.is_alive:
                pop_dummy_frame(target, dummy)
            else:
                _remove(target, dummy)
            raise
        try:
            stop = self._run(dummy, address)
        except BaseException:
            # Cut short (Ctrl-C in the engine, a vanished process): like an abandoned
            # call, its return, whenever it comes, puts the registers back silently.
            dummy.claimed = False
            raise
        if stop is not None:
            self._abandon(dummy, stop)
        try:
            return self._return_bytes(rtype, rclass, struct_address)
        finally:
            pop_dummy_frame(target, dummy)
            target.last_stop = dummy.saved["last_stop"]
            target._frame_stack = dummy.saved["frame_stack"]       # noqa: SLF001
            target._pending_signal = dummy.saved["pending_signal"]  # noqa: SLF001

    def _run(self, dummy: DummyFrame, address: int) -> Stop | None:
        """Run until the function returns (None) or something else stops the program."""
        target = self.target
        process = target.require_process()
        if process.enabled_site_at(address) is not None:
            # A breakpoint where the call starts: gdb steps over a breakpoint only at the
            # pc the program stopped at, so this one is hit before anything runs.
            from pydbg.ptrace import StopEvent, StopReason
            event = StopEvent(StopReason.BREAKPOINT, self.tid, pc=address, address=address)
            stop = target._handle_event(event, self.check_condition)   # noqa: SLF001
            if stop is not None:
                target.last_stop = stop
                return stop
        return run_to_dummy(target, dummy, self.check_condition)

    def _abandon(self, dummy: DummyFrame, stop: Stop) -> None:
        """gdb's messages for a call that did not return; the stop is shown first."""
        target = self.target
        if stop.is_exit:
            if dummy in target.dummy_frames:
                target.dummy_frames.remove(dummy)
        else:
            dummy.claimed = False
        if self.report_stop is not None:
            self.report_stop(stop)
        name = dummy.name
        if stop.is_exit:
            raise ExpressionError("The program being debugged exited while in a function "
                                  "called from GDB.\n" + _ABANDONED.format(name=name))
        if stop.tid != dummy.tid:
            raise ExpressionError("The program stopped in another thread while making a "
                                  "function call from GDB.\n" + _ABANDONED.format(name=name)
                                  + "\n" + _SILENT)
        if stop.kind is StopKind.SIGNAL:
            raise ExpressionError(
                "The program being debugged was signaled while in a function called from "
                "GDB.\nGDB remains in the frame where the signal was received.\n"
                "To change this behavior use \"set unwindonsignal on\".\n"
                + _ABANDONED.format(name=name) + "\n" + _SILENT)
        raise ExpressionError("The program being debugged stopped while in a function "
                              "called from GDB.\n" + _ABANDONED.format(name=name) + "\n"
                              + _SILENT)

    def _return_bytes(self, rtype: CType, rclass: tuple[str, ...],
                      struct_address: int | None) -> bytes | None:
        """The value just returned, by its class (rax/rdx, xmm0/xmm1, st0, memory)."""
        if not rclass:
            return None
        target = self.target
        size = rtype.size
        if rclass == (MEMORY,):
            assert struct_address is not None
            return target.read_memory(struct_address, size)
        process = target.require_process()
        regs = process.get_registers(self.tid)
        fx = process.get_fp_registers(self.tid)
        if rclass == (X87,):
            return fx[_FX_ST:_FX_ST + 10].ljust(size, b"\0")
        if rclass == (COMPLEX_X87,):
            half = size // 2
            return fx[_FX_ST:_FX_ST + 10].ljust(half, b"\0") + \
                fx[_FX_ST + 16:_FX_ST + 26].ljust(half, b"\0")
        ints = [regs.rax, regs.rdx]
        sses = [fx[_FX_XMM:_FX_XMM + 8], fx[_FX_XMM + 16:_FX_XMM + 24]]
        out = b""
        for cls in rclass:
            if cls == INTEGER:
                out += ints.pop(0).to_bytes(8, "little")
            else:
                out += sses.pop(0)
        return out[:size]


def run_to_dummy(target: "Target", dummy: DummyFrame,
                 check_condition: Callable[[Breakpoint], bool] | None) -> Stop | None:
    """Continue until DUMMY's function returns to it (None), or until another stop (a
    breakpoint, a signal, the exit), which is returned. The caller pops the dummy frame."""
    dummy.claimed = True
    stop = target.cont(sig=0, check_condition=check_condition)
    if stop.kind is StopKind.BREAKPOINT and dummy.breakpoint in stop.breakpoints:
        return None
    return stop


def _alignment(t: CType) -> int:
    t = strip_typedefs(t)
    if isinstance(t, ArrayType):
        return _alignment(t.target)
    if isinstance(t, CompositeType):
        return max((_alignment(m.type) for m in t.members), default=1)
    if isinstance(t, VoidType):
        return 1
    return max(1, min(t.size, 16))


__all__ = ["CALL_DUMMY_KIND", "DUMMY_FUNCTION", "DummyFrame", "InferiorCall", "classify",
           "discard_dummy_frames", "dummy_frame_at", "dummy_return", "pop_dummy_frame",
           "run_to_dummy"]
