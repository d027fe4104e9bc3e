"""Hardware watchpoints (watch/rwatch/awatch) on the x86-64 debug registers DR0-DR3 and DR7,
with gdb's decisions and text when one triggers or the frame of its locals returns; and
software watchpoints (kind "watchpoint"), gdb's fallback when the debug registers cannot do
it (a value in a register, more than four registers needed, `set can-use-hw-watchpoints 0`):
while one is enabled every resume single-steps and the value is checked after each step.

A watchpoint is a Breakpoint of kind "hw watchpoint", "read watchpoint" or "acc watchpoint"
whose WatchState lives in `extra["watch"]`; a watchpoint on locals owns an internal
"watchpoint_scope" breakpoint at its frame's return address, as in gdb's breakpoint.c.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from pydbg.engine.breakpoints import decide_hit
from pydbg.engine.stops import Stop, StopKind
from pydbg.engine.values import MemoryLval, Value
from pydbg.errors import CommandError, ExpressionError, PydbgError

if TYPE_CHECKING:
    from pydbg.engine.breakpoints import Breakpoint
    from pydbg.engine.data import Inspector
    from pydbg.engine.target import Target
    from pydbg.ptrace import StopEvent

NUM_SLOTS = 4                      # DR0-DR3
MAX_LENGTH = 8                     # the longest range one debug register watches (amd64)
RW_WRITE = 0b01                    # DR7 R/W field: break on data writes
RW_ACCESS = 0b11                   # ... on reads or writes (x86 has no read-only watch)
_LEN_BITS = {1: 0b00, 2: 0b01, 4: 0b11, 8: 0b10}
_LOCAL_SLOWDOWN = 1 << 8           # DR7.LE, which gdb sets too

KIND_OF_ACCESS = {"write": "hw watchpoint", "read": "read watchpoint",
                  "access": "acc watchpoint"}
SOFTWARE_KIND = "watchpoint"
TITLES = {SOFTWARE_KIND: "Watchpoint", "hw watchpoint": "Hardware watchpoint",
          "read watchpoint": "Hardware read watchpoint",
          "acc watchpoint": "Hardware access (read/write) watchpoint"}
WATCH_KINDS = tuple(TITLES)
SCOPE_KIND = "watchpoint_scope"

RESOURCES_ERROR = "There are not enough available hardware resources for this watchpoint."
READ_ACCESS_ERROR = "Expression cannot be implemented with read/access watchpoint."
NO_HW_READ_ERROR = "Can't set read/access watchpoint when hardware watchpoints are disabled."
LEFT_SCOPE = ["", "Watchpoint {n} deleted because the program has left the block in",
              "which its expression is valid."]

# gdb's x86_handle_nonaligned_watchpoint: the largest aligned piece to use next, by
# (bytes left - 1, address % 8).
_SIZE_TRY = [
    [1, 1, 1, 1, 1, 1, 1, 1],
    [2, 1, 2, 1, 2, 1, 2, 1],
    [2, 1, 2, 1, 2, 1, 2, 1],
    [4, 1, 2, 1, 4, 1, 2, 1],
    [4, 1, 2, 1, 4, 1, 2, 1],
    [4, 1, 2, 1, 4, 1, 2, 1],
    [4, 1, 2, 1, 4, 1, 2, 1],
    [8, 1, 2, 1, 4, 1, 2, 1],
]

Slot = tuple[int, int, int]        # (address, length, R/W bits) of one debug register


# --------------------------------------------------------------------------- registers

def split_range(address: int, length: int) -> list[tuple[int, int]]:
    """The aligned (address, length) pieces of 1, 2, 4 or 8 bytes that cover a range, as
    gdb splits an unaligned or long object across debug registers."""
    pieces = []
    while length > 0:
        attempt = MAX_LENGTH - 1 if length > MAX_LENGTH else length - 1
        size = _SIZE_TRY[attempt][address % MAX_LENGTH]
        pieces.append((address, size))
        address += size
        length -= size
    return pieces


def slots_for(ranges: list[tuple[int, int]], rw: int) -> list[Slot]:
    """The debug registers RANGES need (identical pieces share one register)."""
    out: list[Slot] = []
    for address, length in ranges:
        for piece in split_range(address, length):
            slot = (piece[0], piece[1], rw)
            if slot not in out:
                out.append(slot)
    return out


def dr7_value(slots: list[Slot]) -> int:
    """DR7 enabling SLOTS in DR0.. in order: local enable, R/W and LEN fields."""
    value = _LOCAL_SLOWDOWN if slots else 0
    for index, (_, length, rw) in enumerate(slots):
        value |= 1 << (2 * index)
        value |= rw << (16 + 4 * index)
        value |= _LEN_BITS[length] << (18 + 4 * index)
    return value


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[0] + b[1] and b[0] < a[0] + a[1]


# --------------------------------------------------------------------------- state

@dataclass
class WatchState:
    """What a watchpoint watches and the value it last saw."""
    expression: str                         # evaluated at each check (after `-location`)
    access: str                             # "write" | "read" | "access"
    ranges: list[tuple[int, int]] = field(default_factory=list)
    value: Value | None = None              # None: unreadable (gdb's <unreadable>)
    lvalue: Value | None = None             # a plain object: re-read, not re-evaluated
    frame_id: tuple | None = None           # the frame of the locals used (None: global)
    frame_cfa: int | None = None            # its CFA: once sp reaches it, the frame is gone
    tid: int | None = None                  # the thread running that frame
    scope_bp: "Breakpoint | None" = None
    software: bool = False                  # checked after each single step, no registers

    @property
    def rw(self) -> int:
        return RW_WRITE if self.access == "write" else RW_ACCESS

    def slots(self) -> list[Slot]:
        return [] if self.software else slots_for(self.ranges, self.rw)


class _ReadRecorder:
    """Records the target memory an evaluation reads: gdb watches every memory value of
    an expression's value chain (`*p` watches p and *p)."""

    def __init__(self, target: "Target") -> None:
        self.target = target
        self.reads: list[tuple[int, int]] = []
        self.active = False

    @contextlib.contextmanager
    def installed(self) -> Iterator["_ReadRecorder"]:
        target = self.target
        original = target.read_memory
        shadowed = "read_memory" in vars(target)

        def read(address: int, size: int) -> bytes:
            data = original(address, size)
            if self.active:
                self.reads.append((address, size))
            return data

        target.read_memory = read          # type: ignore[method-assign]
        try:
            yield self
        finally:
            if shadowed:
                target.read_memory = original   # type: ignore[method-assign]
            else:
                del target.read_memory

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        self.active = True
        try:
            yield
        finally:
            self.active = False


@dataclass
class _Evaluation:
    value: Value
    ranges: list[tuple[int, int]]
    lvalue: Value | None
    inspector: "Inspector"


def _object_range(value: Value) -> tuple[int, int] | None:
    address = value.address
    if address is None:
        return None
    if value.bitsize:
        return address, (value.bitpos + value.bitsize + 7) // 8
    return address, value.size


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop duplicates and ranges inside another one, keeping first-seen order."""
    out: list[tuple[int, int]] = []
    for r in ranges:
        if r[1] <= 0 or r in out:
            continue
        if any(o[0] <= r[0] and r[0] + r[1] <= o[0] + o[1] for o in out):
            continue
        out = [o for o in out if not (r[0] <= o[0] and o[0] + o[1] <= r[0] + r[1])]
        out.append(r)
    return out


def _looks_constant(text: str) -> bool:
    """gdb refuses `watch 5`: no variable, register or memory in the expression."""
    stripped = re.sub(r"'(\\.|[^'])*'|\"(\\.|[^\"])*\"", "", text)
    return not re.search(r"[A-Za-z_$]", re.sub(r"\b0[xX][0-9a-fA-F]+|\b\d+\.?\d*([eE][-+]?\d+)?"
                                               r"[uUlLfF]*", "", stripped))


# --------------------------------------------------------------------------- manager

class WatchpointManager:
    """The watchpoints of a Target: setting them, arming the debug registers, and deciding
    what a debug trap or a return from a watched frame means."""

    def __init__(self, target: "Target") -> None:
        self.target = target
        self._programmed: tuple[int, list[Slot]] | None = None   # (pid, slots in DR0..)
        self.can_use_hw = 1              # `set can-use-hw-watchpoints N` (0: software only)
        self._stepping = False           # inside software_cont: a nested cont() is real

    # ----------------------------------------------------------------- listing
    def all(self, enabled_only: bool = False) -> list["Breakpoint"]:
        return [b for b in self.target.breakpoints.user_breakpoints()
                if b.kind in WATCH_KINDS and (b.enabled or not enabled_only)]

    @staticmethod
    def state(bp: "Breakpoint") -> WatchState:
        return bp.extra["watch"]

    # ----------------------------------------------------------------- setting
    def add(self, expression: str, access: str, make_inspector: Callable[[], "Inspector"],
            *, condition: str | None = None, location: bool = False) -> "Breakpoint":
        """`watch`/`rwatch`/`awatch EXPR` (`-location EXPR` with LOCATION), evaluated in
        the frame MAKE_INSPECTOR's Inspector looks at. Raises gdb's errors."""
        text = expression.strip()
        if not text:
            raise CommandError("Argument required (expression to compute).")
        found = self._evaluate(text, make_inspector)
        state = WatchState(text, access)
        spec = text
        if location:
            from pydbg.symbols.types import type_name
            address = found.value.address
            if address is None:
                raise ExpressionError("Cannot take address of value not in memory.")
            state.expression = f"* ({type_name(found.value.type)} *) {address:#x}"
            spec = f"-location {text}"
            found.inspector.blocks_used.clear()     # an address is valid everywhere
        state.software = self._check_implementable(text, found, access)
        state.ranges = found.ranges
        state.lvalue = found.lvalue
        state.value = self._fetched(found.value)
        others = [s for b in self.all(enabled_only=True) for s in self.state(b).slots()]
        if len(set(others) | set(state.slots())) > NUM_SLOTS:
            raise CommandError(RESOURCES_ERROR)
        frame = found.inspector.frame if found.inspector.blocks_used else None
        target = self.target
        kind = SOFTWARE_KIND if state.software else KIND_OF_ACCESS[access]
        bp = target.breakpoints.new(spec, kind=kind)
        bp.condition = condition
        bp.extra["watch"] = state
        if frame is not None:
            state.frame_id, state.frame_cfa = frame.id, frame.cfa
            process = target.process
            state.tid = process.current_tid if process is not None else None
            self._insert_scope_breakpoint(bp, frame)
        target.sync_sites()
        return bp

    def _evaluate(self, text: str, make_inspector: Callable[[], "Inspector"]) -> _Evaluation:
        recorder = _ReadRecorder(self.target)
        with recorder.installed():
            inspector = make_inspector()
            with recorder.recording():
                value = inspector.evaluate(text)
        ranges = list(recorder.reads)
        own = _object_range(value) if isinstance(value.lval, MemoryLval) else None
        if own is not None:
            ranges.append(own)
        lvalue = None
        # A plain object (`counter`, `s.x`, `a[3]`): re-read it rather than re-evaluate.
        if own is not None and all(_overlaps(r, own) and own[0] <= r[0] and
                                   r[0] + r[1] <= own[0] + own[1] for r in recorder.reads):
            lvalue = dataclasses.replace(value, _contents=None)
        return _Evaluation(value, _merge(ranges), lvalue, inspector)

    def _check_implementable(self, text: str, found: _Evaluation, access: str) -> bool:
        """Raises gdb's error for what cannot be watched; True when only a software
        watchpoint can do it (gdb's can_use_hardware_watchpoint said no)."""
        if not found.ranges and found.value.lval is None and _looks_constant(text):
            raise CommandError(f"Cannot watch constant value `{text}'.")
        if access != "write" and not self.can_use_hw:
            raise CommandError(NO_HW_READ_ERROR)
        if not found.ranges:
            if access != "write":
                raise CommandError(READ_ACCESS_ERROR)
            return True                   # in a register: nothing for the debug registers
        if len(slots_for(found.ranges, RW_WRITE)) > NUM_SLOTS:
            if access != "write":
                raise CommandError(READ_ACCESS_ERROR)
            return True
        return not self.can_use_hw

    @staticmethod
    def _fetched(value: Value) -> Value | None:
        try:
            value.fetch()
        except PydbgError:
            return None
        return value

    def _insert_scope_breakpoint(self, bp: "Breakpoint", frame) -> None:
        """gdb's watchpoint_scope breakpoint: at the return address of the watched frame
        (the caller of its real, not inlined, frame)."""
        from pydbg.engine.breakpoints import BreakpointLocation
        stack = self.target.frames
        level = frame.level + 1
        caller = stack.frame(level)
        while caller is not None and caller.physical is frame.physical:
            level += 1
            caller = stack.frame(level)
        if caller is None:
            return
        scope = self.target.breakpoints.new(f"<watchpoint {bp.number} scope>", internal=True,
                                            kind=SCOPE_KIND)
        scope.locations = [BreakpointLocation(caller.pc, "", caller.pc)]
        scope.extra["watchpoint"] = bp.number
        self.state(bp).scope_bp = scope

    # ----------------------------------------------------------------- registers
    def sync(self) -> None:
        """Program DR0-DR3/DR7 for the enabled watchpoints (called with sync_sites)."""
        target = self.target
        table = target.breakpoints
        for scope in [b for b in table.all() if b.kind == SCOPE_KIND]:
            owner = table.get(scope.extra.get("watchpoint", 0))
            if owner is None or owner.kind not in WATCH_KINDS:
                table.remove(scope.number)
        process = target.process
        if process is None or not process.is_alive:
            self._programmed = None
            return
        slots: list[Slot] = []
        for bp in self.all(enabled_only=True):
            for slot in self.state(bp).slots():
                if slot not in slots:
                    slots.append(slot)
        slots = slots[:NUM_SLOTS]
        programmed = self._programmed
        if programmed is not None and programmed[0] == process.pid and programmed[1] == slots:
            return
        if programmed is None and not slots:
            return
        # DR7 off first: an enabled register must never hold a range its length misfits.
        process.write_debug_register(7, 0)
        for index, (address, _, _) in enumerate(slots):
            process.write_debug_register(index, address)
        if slots:
            process.write_debug_register(7, dr7_value(slots))
        self._programmed = (process.pid, slots)

    # ----------------------------------------------------------------- run/exit
    def after_attach(self) -> None:
        """A new process: watchpoints on locals are gone (gdb deletes them at exit); the
        others are evaluated again in it and armed."""
        self._programmed = None
        for bp in self.all():
            state = self.state(bp)
            if state.frame_cfa is not None:
                self._remove(bp)
                continue
            try:
                found = self._evaluate(state.expression, self._global_inspector)
            except PydbgError:
                continue
            if state.software or \
                    found.ranges and len(slots_for(found.ranges, state.rw)) <= NUM_SLOTS:
                state.ranges, state.lvalue = found.ranges, found.lvalue
                state.value = self._fetched(found.value)

    def on_exit(self) -> None:
        for bp in self.all():
            if self.state(bp).frame_cfa is not None:
                self._remove(bp)
        self._programmed = None

    def _global_inspector(self) -> "Inspector":
        from pydbg.engine.data import Inspector
        return Inspector(self.target, use_selected=False)

    def _remove(self, bp: "Breakpoint") -> None:
        table = self.target.breakpoints
        table.remove(bp.number)
        scope = self.state(bp).scope_bp
        if scope is not None:
            table.remove(scope.number)

    # ----------------------------------------------------------------- triggers
    def handle_trap(self, event: "StopEvent",
                    check_condition: Callable[["Breakpoint"], bool] | None) -> Stop | None:
        """A debug-register trap (DR6 in event.debug_status): gdb's bpstat_check_watchpoint
        for each watchpoint whose range was hit; a Stop to report, or None to go on."""
        target = self.target
        dr6 = event.debug_status or 0
        programmed = self._programmed[1] if self._programmed is not None else []
        hit = [(a, n) for i, (a, n, _) in enumerate(programmed) if dr6 & (1 << i)]
        messages: list[str] = []
        stopping: list["Breakpoint"] = []
        error = None
        for bp in self.all(enabled_only=True):
            state = self.state(bp)
            if state.software or not any(_overlaps(h, r) for h in hit for r in state.ranges):
                continue
            if self._frame_gone(state, event.tid):
                messages += self._left_scope(bp)
                continue
            lines = self._check_value(bp, state)
            if lines is None:
                continue
            stops, error = decide_hit(bp, check_condition, error)
            if stops:
                messages += lines
                stopping.append(bp)
        self.sync()
        if not messages:
            return None
        stop = target._make_stop(StopKind.WATCHPOINT, event.tid, event.pc,  # noqa: SLF001
                                 event=event)
        stop.breakpoints = stopping
        stop.messages = messages
        stop.condition_error = error
        return stop

    def _check_value(self, bp: "Breakpoint", state: WatchState) -> list[str] | None:
        """gdb's watchpoint_check and print_it_watchpoint: the report lines, or None when
        this trigger does not stop (a write of the same value; a read watchpoint seeing a
        change, which on x86 means a write)."""
        old = state.value
        new = self._current_value(state)
        changed = _contents(old) != _contents(new)
        state.value = new
        title = f"{TITLES[bp.kind]} {bp.number}: {bp.spec}"
        if state.access == "write" or (state.access == "access" and changed):
            if not changed:
                return None
            return ["", title, "", f"Old value = {self._text(old)}",
                    f"New value = {self._text(new)}"]
        if state.access == "read" and changed:
            return None
        return ["", title, "", f"Value = {self._text(new)}"]

    def _current_value(self, state: WatchState) -> Value | None:
        if state.lvalue is not None:
            return self._fetched(dataclasses.replace(state.lvalue, _contents=None))
        make = self._global_inspector
        if state.frame_id is not None:
            frame = self._find_frame(state.frame_id)
            if frame is None:
                return state.value
            from pydbg.engine.data import Inspector

            def make() -> "Inspector":
                return Inspector(self.target, frame=frame)
        try:
            found = self._evaluate(state.expression, make)
        except PydbgError:
            return None
        if found.ranges and len(slots_for(found.ranges, state.rw)) <= NUM_SLOTS:
            state.ranges = found.ranges       # a pointer in the chain may have moved
        return self._fetched(found.value)

    def _find_frame(self, frame_id: tuple):
        try:
            for frame in self.target.frames:
                if frame.id == frame_id:
                    return frame
        except PydbgError:
            return None
        return None

    def _text(self, value: Value | None) -> str:
        if value is None:
            return "<unreadable>"
        from pydbg.engine.data import Inspector
        try:
            return Inspector(self.target, use_selected=False).format(value)
        except PydbgError as exc:
            return f"<error: {exc}>"

    # ----------------------------------------------------------------- scope
    def _frame_gone(self, state: WatchState, tid: int) -> bool:
        """The watched frame has returned when the stack pointer of its thread is back
        at (or above) its CFA."""
        if state.frame_cfa is None or state.tid != tid:
            return False
        process = self.target.process
        if process is None or not process.is_alive:
            return False
        try:
            return process.get_registers(tid).rsp >= state.frame_cfa
        except PydbgError:
            return False

    def _left_scope(self, bp: "Breakpoint") -> list[str]:
        self._remove(bp)
        self.sync()
        return [line.format(n=bp.number) for line in LEFT_SCOPE]

    def scope_hit(self, scope: "Breakpoint", tid: int) -> list[str]:
        """The return-address breakpoint of a watched frame was reached: gdb's message if
        that frame (not a deeper activation returning to the same place) has returned."""
        owner = self.target.breakpoints.get(scope.extra.get("watchpoint", 0))
        if owner is None or owner.kind not in WATCH_KINDS:
            self.target.breakpoints.remove(scope.number)
            return []
        if not self._frame_gone(self.state(owner), tid):
            return []
        return self._left_scope(owner)

    def after_step(self, stop: Stop, check_condition: Callable[["Breakpoint"], bool] | None
                   = None) -> None:
        """After a single step: a step out of a watched frame deletes its watchpoint and
        ends the step there, with gdb's message; software watchpoints are checked."""
        if stop.is_exit:
            return
        watched = self.all()
        if not watched:
            return
        lines: list[str] = []
        if any(self.state(b).frame_cfa is not None for b in watched):
            for bp in watched:
                if self._frame_gone(self.state(bp), stop.tid):
                    lines += self._left_scope(bp)
        if any(self.state(b).software for b in watched):
            lines += self._check_software(stop, check_condition)
        if lines:
            stop.messages = lines + stop.messages
            if stop.kind is StopKind.STEP:
                stop.kind = StopKind.WATCHPOINT

    # ----------------------------------------------------------------- software
    def software_active(self) -> bool:
        """An enabled software watchpoint makes every resume a single-step (gdb's
        bpstat_should_step); not inside software_cont, whose nested cont() is real."""
        return not self._stepping and any(
            b.enabled and self.state(b).software for b in self.all())

    def software_cont(self, sig: int | None,
                      check_condition: Callable[["Breakpoint"], bool] | None) -> Stop:
        """`continue` while a software watchpoint is enabled: single-step (into calls, as
        gdb does) until a watchpoint changes, a breakpoint is reached, a signal or exit."""
        target = self.target
        if sig:
            target._pending_signal = sig        # noqa: SLF001 - delivered by the first step
        self._stepping = True
        try:
            # Ctrl-C between two steps must stop the program (at its next step), not us.
            with target._forward_sigint():    # noqa: SLF001
                return self._software_loop(check_condition)
        finally:
            self._stepping = False
            target._clear_hit_filters()         # noqa: SLF001 - none belong to stepping

    def _software_loop(self, check_condition: Callable[["Breakpoint"], bool] | None
                       ) -> Stop:
        from pydbg.ptrace import StopReason
        target = self.target
        while True:
            stop = self._software_step(check_condition)
            if stop.kind not in (StopKind.STEP, StopKind.WATCHPOINT) or \
                    stop.pc is None or stop.event is None:
                return stop
            # Internal breakpoints (run_to's, the solib event) count when reached,
            # with what the step reported (`finish` out of a watched frame).
            if any(b.internal and b.kind != SCOPE_KIND
                   for b in target.breakpoints.at_address(stop.pc)):
                event = dataclasses.replace(stop.event, reason=StopReason.BREAKPOINT,
                                            address=stop.pc)
                hit = target._breakpoint_hit(event, check_condition)  # noqa: SLF001
                if hit is not None:
                    hit.messages = stop.messages + hit.messages
                    hit.condition_error = hit.condition_error or stop.condition_error
                    target.last_stop = hit
                    return hit
            if stop.kind is StopKind.WATCHPOINT:
                return stop

    def _software_step(self, check_condition: Callable[["Breakpoint"], bool] | None
                       ) -> Stop:
        """One step of software_cont. A `syscall` with other threads alive may block
        until they act (pthread_join): it runs with them, to the instruction after it."""
        target = self.target
        process = target.require_process()
        if len(process.threads) < 2:
            return target.step_instruction(check_condition=check_condition)
        pc = process.get_pc()
        try:
            is_syscall = process.read_memory(pc, 2) == b"\x0f\x05"
        except PydbgError:
            is_syscall = False
        if not is_syscall:
            return target.step_instruction(check_condition=check_condition)
        # A real cont(): _stepping is set, so it does not come back here.
        stop = target.cont_to(pc + 2, process.current_tid, check_condition)
        self.after_step(stop, check_condition)
        target.last_stop = stop
        return stop

    def _check_software(self, stop: Stop,
                        check_condition: Callable[["Breakpoint"], bool] | None) -> list[str]:
        """gdb's watchpoint_check for each software watchpoint after a step: the report
        lines of those that changed (conditions and ignore counts as for a hit)."""
        messages: list[str] = []
        for bp in self.all(enabled_only=True):
            state = self.state(bp)
            if not state.software:
                continue
            old = state.value
            lines = self._check_value(bp, state)
            if any(v is not None and v.is_optimized_out for v in (old, state.value)):
                # gdb cannot compare an optimized-out value: it gives up on the watchpoint.
                stop.condition_error = (f"Error evaluating expression for watchpoint "
                                        f"{bp.number}\nvalue has been optimized out")
                messages.append(f"Watchpoint {bp.number} deleted.")
                self._remove(bp)
                continue
            if lines is None:
                continue
            stops, stop.condition_error = decide_hit(bp, check_condition,
                                                     stop.condition_error or None)
            if stops:
                messages += lines
                if bp not in stop.breakpoints:
                    stop.breakpoints.append(bp)
        return messages


def _contents(value: Value | None) -> bytes | None:
    if value is None:
        return None
    try:
        return value.fetch()
    except PydbgError:
        return None


__all__ = ["KIND_OF_ACCESS", "SCOPE_KIND", "SOFTWARE_KIND", "TITLES", "WATCH_KINDS", "WatchState",
           "WatchpointManager", "dr7_value", "slots_for", "split_range"]
