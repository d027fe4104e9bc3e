"""Source-level execution control on top of Target: step, next, finish, until, advance,
stepi/nexti, following gdb's infrun rules (step ranges, frame ids, step-resume breakpoints).

Each command returns the Stop to report; Stop.source_only tells the report whether gdb
would print just the source line (same frame, same function) or the frame line too.
"""

from __future__ import annotations

import signal
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from pydbg.engine.frames import (Frame, FrameKind, FrameStack, call_site, frames_for,
                                 function_start)
from pydbg.engine.stops import Stop, StopKind
from pydbg.errors import CommandError, PydbgError
from pydbg.symbols.functions import analyze_amd64_prologue

if TYPE_CHECKING:
    from pydbg.engine.breakpoints import Breakpoint
    from pydbg.engine.target import Target

_MAX_STEPS = 1_000_000   # single steps per command before giving up (a safety net only)


@dataclass
class _StepState:
    """gdb's thread_control_state for one step/next/until."""
    start: int                    # step range [start, end)
    end: int
    frame_id: tuple
    stack_id: tuple
    start_function: int | None    # the real function stepping began in
    line: int | None
    file: str | None
    over_calls: bool


@dataclass
class FinishResult:
    stop: Stop
    value: object | None = None      # pydbg.engine.evaluate.Value of the return value
    function_type: object | None = None


class Stepper:
    """Runs one stepping command on a Target."""

    def __init__(self, target: Target,
                 check_condition: Callable[[Breakpoint], bool] | None = None,
                 notify: Callable[[str], None] | None = None) -> None:
        """NOTIFY receives messages gdb prints before running (default: self.notices)."""
        self.target = target
        self.check_condition = check_condition
        self.notices: list[str] = []
        self.notify = notify if notify is not None else self.notices.append

    # ------------------------------------------------------------------ helpers

    def _stack(self) -> FrameStack:
        regs = self.target.registers()
        return FrameStack(self.target, regs, None)

    def _line_at(self, pc: int):
        """(LineEntry with runtime addresses, bias) at PC, or (None, 0)."""
        img = self.target.image_for_address(pc)
        if img is None or not img.image.has_debug_info:
            return None, 0
        entry = img.image.line_for_address(pc - img.bias)
        return entry, img.bias

    def _single_step(self, over_calls: bool = False) -> Stop:
        target = self.target
        delivering = target._signal_to_pass()  # noqa: SLF001 - a pending signal goes in now
        stop = target.step_instruction(over_calls=over_calls,
                                       check_condition=self.check_condition)
        if delivering and stop.kind is StopKind.SIGNAL and stop.signal == signal.SIGTRAP:
            # Stepping while delivering a signal lands on the handler's first instruction;
            # the kernel reports that step as a plain SIGTRAP.
            stop.kind, stop.signal = StopKind.STEP, None
        return stop

    def _finish_stop(self, stop: Stop, state: _StepState | None) -> Stop:
        """Decide gdb's SRC_LINE vs SRC_AND_LOC for a stop that ended a step."""
        if stop.kind is not StopKind.STEP or state is None:
            return stop
        try:
            stack = frames_for(self.target)
            f0 = stack.frame(0)
        except PydbgError:
            return stop
        if f0 is None:
            return stop
        stop.source_only = (f0.id == state.frame_id
                            and state.start_function == _real_function_start(f0))
        return stop

    # ------------------------------------------------------------------ step / next

    def step(self, over_calls: bool, count: int = 1) -> Stop:
        """`step` / `next` COUNT times; stops early on anything but a finished step."""
        stop: Stop | None = None
        for _ in range(max(count, 1)):
            stop = self._step_once(over_calls)
            if stop.kind is not StopKind.STEP:
                return stop
        assert stop is not None
        return stop

    def _step_once(self, over_calls: bool) -> Stop:
        target = self.target
        stack = frames_for(target)
        f0 = stack.frame(0)
        assert f0 is not None
        if not over_calls and stack.skipped:
            return self._reveal_inline(stack)
        pc = f0.pc
        entry, bias = self._line_at(pc)
        if entry is None:
            bounds = target.function_bounds(pc)
            if bounds is None:
                raise CommandError("Cannot find bounds of current function")
            name, lo, hi = bounds
            self.notify(f"Single stepping until exit from function {name},\n"
                        "which has no line number information.")
            start, end, line, file = lo, hi, None, None
        else:
            start, end = entry.address + bias, entry.end + bias
            # At a hidden inlined call this is its call site, which is what gdb steps from.
            line, file = f0.location.line, f0.location.fullname
        state = _StepState(start, end, f0.id, f0.stack_id, _real_function_start(f0), line,
                           file, over_calls)
        return self._run_steps(state)

    def _reveal_inline(self, stack: FrameStack) -> Stop:
        """`step` at the call site of an inlined function enters it without running."""
        old = self.target.last_stop
        stack.step_into_inline()
        f0 = stack.frame(0)
        assert f0 is not None
        stop = Stop(StopKind.STEP, old.tid if old else 0, pc=f0.pc, location=f0.location,
                    event=old.event if old else None, source_only=False)
        stack.stop = stop
        self.target.last_stop = stop
        return stop

    def _run_steps(self, state: _StepState) -> Stop:
        target = self.target
        for _ in range(_MAX_STEPS):
            stop = self._single_step()
            if stop.kind is not StopKind.STEP or stop.pc is None:
                return stop
            pc = stop.pc
            if state.start <= pc < state.end:
                continue
            verdict = self._after_leaving_range(state, pc)
            if isinstance(verdict, Stop):
                return verdict
            if verdict == "stop":
                return self._finish_stop(target.last_stop or stop, state)
        raise CommandError("Stepping did not finish.")

    def _after_leaving_range(self, state: _StepState, pc: int) -> Stop | str:
        """gdb's process_event_stop_test once the pc left the step range: 'stop',
        'continue', or a Stop that ended the command (breakpoint, signal, exit)."""
        target = self.target
        stack = self._stack()
        f0 = stack.frame(0)
        assert f0 is not None

        # Returning from a signal handler: step on through the trampoline.
        if f0.kind is FrameKind.SIGTRAMP:
            return "continue"

        # Stepped into a subroutine call?
        if f0.stack_id != state.stack_id:
            caller = stack.caller_regs(_outer_of_physical(stack, f0))
            caller_id = _caller_stack_id(stack, f0)
            if caller is not None and caller_id == state.stack_id:
                return self._into_subroutine(state, stack, f0, caller[0])

        # Stepped onto the first instruction of an inlined call (shown at its call site).
        if f0.id == state.frame_id and stack.skipped:
            cu = f0.physical.cu
            name, full, line = call_site(cu, stack.skipped[-1]) if cu is not None \
                else (None, None, None)
            same_line = line == state.line and full == state.file
            if not state.over_calls:
                if same_line:
                    stack.step_into_inline()
                self._adopt(stack)
                return "stop"
            return "continue" if same_line else self._stop_here(stack)

        # Deeper inside an inlined call of the frame being stepped.
        if f0.kind is FrameKind.INLINE and f0.id != state.frame_id and \
                _stepped_in_from(stack, f0, state.frame_id):
            if state.over_calls:
                return "continue"
            return self._stop_here(stack)

        entry, bias = self._line_at(pc)
        if entry is None:
            return self._stop_here(stack)
        refresh = True
        new_line: int | None = entry.line
        if pc == entry.address + bias and (entry.line != state.line
                                           or entry.file != state.file):
            if entry.is_stmt:
                return self._stop_here(stack)
            if f0.id == state.frame_id:
                refresh = False   # not a statement: look further for this line's stop
            else:
                new_line = None   # new frame: any statement row of any line will do
        # The range always follows the pc; the line we step away from only on refresh.
        state.start, state.end = entry.address + bias, entry.end + bias
        if refresh:
            state.line, state.file = new_line, entry.file
            state.frame_id, state.stack_id = f0.id, f0.stack_id
        return "continue"

    def _adopt(self, stack: FrameStack) -> None:
        """Make STACK (built during stepping) the cached frames of the final stop."""
        stop = self.target.last_stop
        stack.stop = stop
        self.target._frame_stack = stack  # noqa: SLF001 - keeps revealed inline frames

    def _stop_here(self, stack: FrameStack) -> str:
        self._adopt(stack)
        return "stop"

    def _into_subroutine(self, state: _StepState, stack: FrameStack, f0: Frame,
                         caller_regs: dict[int, int]) -> Stop | str:
        target = self.target
        return_pc = caller_regs.get(16)
        func_start = _real_function_start(f0)
        has_lines = func_start is not None and self._line_at(func_start)[0] is not None
        if not state.over_calls and not has_lines:
            plt_target = self._plt_target(f0.pc)
            if plt_target is not None and self._line_at(plt_target)[0] is not None:
                func_start, has_lines = plt_target, True
        if state.over_calls or not has_lines or return_pc is None:
            if return_pc is None:
                return self._stop_here(stack)
            # Run to the return address, in this very frame (recursion may hit it first).
            stop = target.run_to(return_pc, frame_sp=caller_regs.get(7),
                                 check_condition=self.check_condition)
            if stop.kind is not StopKind.STEP:
                return stop
            pc = stop.pc or 0
            if state.start <= pc < state.end:
                return "continue"
            return self._after_leaving_range(state, pc)
        stop_at = self._post_prologue(func_start)
        if stop_at != f0.pc:
            stop = target.run_to(stop_at, check_condition=self.check_condition)
            if stop.kind is not StopKind.STEP:
                return stop
        self._adopt(frames_for(target))
        return "stop"

    def _plt_target(self, pc: int) -> int | None:
        """Where a PLT stub jumps: the function of the same name in another image."""
        found = self.target.symbolize(pc)
        if found is None or not found[0].endswith("@plt"):
            return None
        # The stub jumps through its GOT slot: once bound (or an ifunc), that is the target.
        stub = pc - found[1]
        try:
            code = self.target.read_memory(stub, 16)
            for i in range(len(code) - 5):
                if code[i] == 0xFF and code[i + 1] == 0x25:
                    disp = struct.unpack_from("<i", code, i + 2)[0]
                    slot = stub + i + 6 + disp
                    dest = int.from_bytes(self.target.read_memory(slot, 8), "little")
                    # A lazily bound slot still points back into its own stub.
                    if not stub <= dest < stub + 32 and \
                            self.target.image_for_address(dest) is not None:
                        return dest
                    break
        except PydbgError:
            pass
        base = found[0][:-len("@plt")]
        for img in self.target.images:
            if img.contains(pc):
                continue
            sym = img.image.get_symbol(base)
            if sym is not None and sym.kind == "func":
                return sym.address + img.bias
        return None

    def _post_prologue(self, func_start: int) -> int:
        """gdb's handle_step_into_function: past `push %rbp; mov %rsp,%rbp`, then to the
        end of that line if it ends inside the function."""
        target = self.target
        after, frameless = analyze_amd64_prologue(target.read_memory, func_start)
        pc = func_start if frameless else after
        entry, bias = self._line_at(pc)
        bounds = target.function_bounds(func_start)
        func_end = bounds[2] if bounds else None
        if entry is not None and entry.address + bias != pc and func_end is not None \
                and entry.end + bias < func_end:
            pc = entry.end + bias
        return pc

    # ------------------------------------------------------------------ stepi / nexti

    def stepi(self, over_calls: bool, count: int = 1) -> Stop:
        """`stepi` / `nexti` COUNT times. gdb compares the frame before the last
        instruction with the one after it to decide whether to show the frame line."""
        target = self.target
        stop: Stop | None = None
        for _ in range(max(count, 1)):
            before = frames_for(target).frame(0)
            assert before is not None
            start_id, start_function = before.id, _real_function_start(before)
            stop = self._single_step(over_calls)
            stop.stepi = True
            if stop.kind is not StopKind.STEP or stop.is_exit:
                return stop
        assert stop is not None
        try:
            f = frames_for(target).frame(0)
            if f is not None:
                stop.source_only = f.id == start_id and \
                    _real_function_start(f) == start_function
        except PydbgError:
            pass
        return stop

    # ------------------------------------------------------------------ finish

    def finish(self, frame: Frame) -> FinishResult:
        """Run until FRAME returns; an inlined frame is stepped out of instead."""
        target = self.target
        stack = frames_for(target)
        caller = stack.frame(frame.level + 1)
        if caller is None:
            raise CommandError("\"finish\" not meaningful in the outermost frame.")
        if frame.kind is FrameKind.INLINE:
            state = _StepState(frame.pc, frame.pc, caller.id, caller.stack_id, None, None,
                               None, over_calls=True)
            stop = self._run_steps(state)
            if stop.kind is StopKind.STEP:
                stop.source_only = False
            return FinishResult(stop)
        if frame.kind is FrameKind.SIGTRAMP:
            raise CommandError("\"finish\" not meaningful in the outermost frame.")
        image = frame.physical.image
        rtype = return_type(image.image, frame.physical.lookup_pc - image.bias) \
            if image is not None else None
        if caller.kind is FrameKind.DUMMY:
            return self._finish_to_dummy(caller, rtype)
        stop = target.run_to(caller.pc, frame_sp=frame.cfa,
                             check_condition=self.check_condition)
        if stop.kind is not StopKind.STEP:
            return FinishResult(stop)
        stop.source_only = False
        return FinishResult(stop, _returned_value(target, rtype), rtype)

    def _finish_to_dummy(self, dummy_frame: Frame, rtype) -> FinishResult:
        """`finish` out of a function called from an expression: once it returns, gdb
        puts back the registers of before the call and shows where the program was."""
        from pydbg.engine.infcall import pop_dummy_frame, run_to_dummy
        target = self.target
        dummy = dummy_frame.physical.dummy
        stop = run_to_dummy(target, dummy, self.check_condition)
        if stop is not None:
            dummy.claimed = False
            return FinishResult(stop)
        value = _returned_value(target, rtype)
        pop_dummy_frame(target, dummy)
        stop = target._make_stop(StopKind.STEP, dummy.tid,      # noqa: SLF001
                                 dummy.registers["rip"])
        stop.source_only = False
        target.last_stop = stop
        return FinishResult(stop, value, rtype)

    # ------------------------------------------------------------------ until / advance

    def until_next(self) -> Stop:
        """`until` without argument: `next`, but never stopping in a backward jump."""
        target = self.target
        stack = frames_for(target)
        f0 = stack.frame(0)
        assert f0 is not None
        pc = f0.pc
        entry, bias = self._line_at(pc)
        func_start = _real_function_start(f0)
        if entry is None or func_start is None:
            found = target.symbolize(pc)
            if found is None:
                raise CommandError("Execution is not within a known function.")
            start, end = pc - found[1], pc + 1
            line = file = None
        else:
            start, end = func_start, entry.end + bias
            # Later rows of the same line that are not statements belong to it too.
            while True:
                nxt, nbias = self._line_at(end)
                if nxt is None or nxt.line != entry.line or nxt.file != entry.file or \
                        nxt.is_stmt:
                    break
                end = nxt.end + nbias
            line, file = f0.location.line, f0.location.fullname
        state = _StepState(start, end, f0.id, f0.stack_id, func_start, line, file, True)
        return self._run_steps(state)

    def until_location(self, addresses: list[int], frame: Frame, anywhere: bool) -> Stop:
        """`until LOCATION` (only in FRAME) / `advance LOCATION` (any frame); both also
        stop when FRAME returns to its caller."""
        target = self.target
        stack = frames_for(target)
        caller_pc = None
        caller_sp = None
        if frame.kind is FrameKind.INLINE:
            outer = _outer_of_physical(stack, frame)
        else:
            outer = frame
        regs = stack.caller_regs(outer)
        if regs is not None:
            caller_pc = regs[0].get(16)
            caller_sp = regs[0].get(7)
        frame_cfa = frame.cfa
        internal = target.breakpoints.new("until", internal=True)
        from pydbg.engine.breakpoints import BreakpointLocation
        internal.locations = [BreakpointLocation(a, "", a) for a in addresses]
        ret_bp = None
        if caller_pc is not None:
            ret_bp = target.breakpoints.new("until-return", internal=True)
            ret_bp.locations = [BreakpointLocation(caller_pc, "", caller_pc)]
        target.sync_sites()
        try:
            while True:
                stop = target.cont(check_condition=self.check_condition)
                if stop.kind is not StopKind.BREAKPOINT:
                    return stop
                ours = [b for b in stop.breakpoints if b is internal or b is ret_bp]
                user = [b for b in stop.breakpoints if b not in ours]
                if user:
                    stop.breakpoints = user
                    return stop
                rsp = target.registers()["rsp"]
                hit_return = ret_bp in ours and caller_sp is not None and rsp >= caller_sp
                hit_location = internal in ours
                if hit_location and not anywhere and not hit_return:
                    here = frames_for(target).frame(0)
                    hit_location = here is not None and here.cfa == frame_cfa
                if hit_location or hit_return:
                    stop.kind = StopKind.STEP
                    stop.breakpoints = []
                    stop.source_only = False
                    return stop
        finally:
            target.breakpoints.remove(internal.number)
            if ret_bp is not None:
                target.breakpoints.remove(ret_bp.number)
            if target.is_running:
                target.sync_sites()


# ---------------------------------------------------------------------- frame helpers

def _real_function_start(frame: Frame) -> int | None:
    """gdb's find_pc_function: the (not inlined) function containing the frame's pc."""
    return frame.stack_id[1]


def _outer_of_physical(stack: FrameStack, frame: Frame) -> Frame:
    """The non-inlined frame of FRAME's physical frame."""
    f = frame
    while f.kind is FrameKind.INLINE:
        nxt = stack.frame(f.level + 1)
        if nxt is None or nxt.physical is not f.physical:
            break
        f = nxt
    return f


def _caller_stack_id(stack: FrameStack, frame: Frame) -> tuple | None:
    """The stack id of the caller of FRAME's physical frame (past main too)."""
    outer = _outer_of_physical(stack, frame)
    nxt = stack.frame(outer.level + 1)
    if nxt is not None:
        return nxt.stack_id
    regs = stack.caller_regs(outer)
    if regs is None:
        return None
    phys = stack.make_physical(outer.physical.index + 1, regs[0].get(16, 0), regs[0], regs[1],
                               exact=outer.physical.sigtramp)
    return (phys.cfa, function_start(phys))


def _stepped_in_from(stack: FrameStack, frame: Frame, step_id: tuple) -> bool:
    f = stack.frame(frame.level + 1)
    while f is not None:
        if f.id == step_id:
            return True
        if f.kind is not FrameKind.INLINE:
            break
        f = stack.frame(f.level + 1)
    return False


# ---------------------------------------------------------------------- return values

def return_type(image, file_pc: int):
    """The CType a function returns (None for void or unknown), from its DWARF."""
    try:
        func = image.debug_info.function_at(file_pc)
    except (PydbgError, AttributeError, KeyError, ValueError):
        return None
    if func is None:
        return None
    from pydbg.symbols.types import VoidType, strip_typedefs
    rtype = func.return_type
    if rtype is None or isinstance(strip_typedefs(rtype), VoidType):
        return None
    return rtype


def _leaf_types(t, base: int, out: list[tuple[int, object]]) -> None:
    """(byte offset, scalar type) of every scalar inside T, for ABI classification."""
    from pydbg.symbols.types import ArrayType, CompositeType, strip_qualifiers, strip_typedefs
    t = strip_qualifiers(strip_typedefs(t))
    if isinstance(t, CompositeType):
        for member, sub in t.iter_fields():
            if member.name is None:
                continue
            _leaf_types(member.type, base + sub + member.offset, out)
    elif isinstance(t, ArrayType):
        step = t.target.size or 1
        for i in range(t.length or 0):
            _leaf_types(t.target, base + i * step, out)
    else:
        out.append((base, t))


def return_bytes(target: Target, rtype) -> bytes | None:
    """The bytes of a value just returned (System V x86-64: rax/rdx, xmm0/xmm1, st0, or
    memory at rax for large aggregates)."""
    from pydbg.symbols.types import BaseType, CompositeType, strip_qualifiers, strip_typedefs
    t = strip_qualifiers(strip_typedefs(rtype))
    size = t.size
    regs = target.registers()
    ints = [regs["rax"], regs["rdx"]]
    fx = target.require_process().get_fp_registers()
    sses = [fx[160:176], fx[176:192]]
    if isinstance(t, BaseType) and t.is_float:
        if size > 8 and t.encoding == "float":      # long double: x87 st0
            return fx[32:42].ljust(size, b"\0")
        if t.encoding == "complex":
            if size == 8:                            # complex float: both halves in xmm0
                return sses[0][:8]
            if size == 16:
                return sses[0][:8] + sses[1][:8]
            return None
        return sses[0][:size]
    if not isinstance(t, CompositeType):
        data = b"".join(v.to_bytes(8, "little") for v in ints)
        return data[:size]
    if size > 16:
        return target.read_memory(regs["rax"], size)   # returned through memory
    leaves: list[tuple[int, object]] = []
    _leaf_types(t, 0, leaves)
    out = b""
    next_int = next_sse = 0
    for chunk in range((size + 7) // 8):
        lo, hi = chunk * 8, chunk * 8 + 8
        parts = [lt for off, lt in leaves if lo <= off < hi]
        all_float = bool(parts) and all(isinstance(p, BaseType) and p.is_float and p.size <= 8
                                        for p in parts)
        if all_float:
            out += sses[next_sse][:8]
            next_sse += 1
        else:
            out += ints[next_int].to_bytes(8, "little")
            next_int += 1
    return out[:size]


def read_return_value(target: Target, rtype):
    """The Value a function just returned, as `finish` prints it."""
    from pydbg.engine.values import Access, Value
    data = return_bytes(target, rtype)
    if data is None:
        return None
    return Value.from_bytes(rtype, data, access=Access(read_memory=target.read_memory))


def _returned_value(target: "Target", rtype):
    """The value a function of type RTYPE just returned (None: void or unreadable)."""
    if rtype is None:
        return None
    try:
        return read_return_value(target, rtype)
    except PydbgError:
        return None
