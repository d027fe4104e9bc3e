"""Stack frames of the stopped thread: CFI unwinding with a frame-pointer fallback, inlined
frames as gdb shows them, and the frame the user selected (gdb's frame.c/inline-frame.c).

Frames are computed lazily per stop: frame 0 needs only the registers, each further frame
one unwind step. The walk is bounded and stops on a non-increasing CFA.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from pydbg.arch.x86_64 import DWARF_TO_NAME
from pydbg.engine.report import SIGTRAMP_FUNCTION
from pydbg.engine.stops import CodeLocation, Stop, StopKind
from pydbg.errors import PydbgError
from pydbg.symbols.cfi import RBP, RIP, RSP, CallFrameInfo, RuleKind, UnwindRow, unwind_step
from pydbg.symbols.dwarf_expr import EvalContext, evaluate_value
from pydbg.symbols.functions import Block

if TYPE_CHECKING:
    from pydbg.engine.target import LoadedImage, Target
    from pydbg.symbols import ElfImage

MAX_FRAMES = 10_000
_MASK = (1 << 64) - 1
# The registers an unwinder recovers: rax..r15 and rip (DWARF 0-16).
GPR_DWARF = {num: name for num, name in DWARF_TO_NAME.items() if num <= RIP}
GPR_BY_NAME = {name: num for num, name in GPR_DWARF.items()}
# gdb's register order for `info frame`'s "Saved registers" list.
_GDB_ORDER = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10",
              "r11", "r12", "r13", "r14", "r15", "rip")
# mov $15,%rax; syscall: the rt_sigreturn trampoline (__restore_rt) on x86-64 Linux.
_SIGRETURN_CODE = bytes.fromhex("48c7c00f0000000f05")
_ENDBR64 = b"\xf3\x0f\x1e\xfa"


class FrameKind(enum.Enum):
    NORMAL = "normal"
    INLINE = "inline"        # an inlined call: shares registers with the frame it is inlined into
    SIGTRAMP = "sigtramp"    # gdb's "<signal handler called>"
    DUMMY = "dummy"          # gdb's "<function called from gdb>" (engine/infcall.py)
    TAILCALL = "tailcall"    # a function that tail-called the frame below (from call sites)


@dataclass(frozen=True)
class Origin:
    """Where a register value of a frame came from: 'reg' (live), 'mem' (saved at ADDRESS)
    or 'value' (computed, like the CFA)."""
    kind: str
    address: int | None = None


_LIVE = Origin("reg")
_VALUE = Origin("value")


@dataclass
class PhysicalFrame:
    """One real activation record: registers, CFA and how its caller is found."""
    index: int
    pc: int
    regs: dict[int, int]                 # DWARF register number -> value in this frame
    origins: dict[int, Origin]           # how each value was recovered (from the callee)
    exact_pc: bool                       # frame 0 or interrupted by a signal: no pc-1 lookups
    image: LoadedImage | None = None
    sigtramp: bool = False
    tailcall: bool = False               # synthesized from DW_TAG_call_site, no own registers
    dummy: object | None = None          # an infcall.DummyFrame: a function called from gdb
    row: UnwindRow | None = None
    cfa: int | None = None
    chain: list[Block] = field(default_factory=list)   # innermost inlined block .. function
    cu: object | None = None

    @property
    def lookup_pc(self) -> int:
        """gdb's get_frame_address_in_block: a return address may be past its call's end."""
        return self.pc if self.exact_pc else self.pc - 1


@dataclass
class Frame:
    """A frame as the user sees it (bt, frame N): physical or inlined."""
    level: int
    kind: FrameKind
    physical: PhysicalFrame
    location: CodeLocation
    function_start: int | None           # runtime entry of the (possibly inlined) function
    block: Block | None = None           # DWARF block (inlined call or function), if any
    inline_depth: int = 0                # index into physical.chain

    @property
    def pc(self) -> int:
        return self.physical.pc

    @property
    def cfa(self) -> int | None:
        return self.physical.cfa

    @property
    def regs(self) -> dict[int, int]:
        return self.physical.regs

    @property
    def function(self) -> str | None:
        return self.location.function

    @property
    def id(self) -> tuple:
        """gdb's frame_id: stack address, code address and inline depth."""
        chain = self.physical.chain
        return (self.physical.cfa, self.function_start,
                len(chain) - 1 - self.inline_depth if chain else 0)

    @property
    def stack_id(self) -> tuple:
        """gdb's get_stack_frame_id: the id of the real frame holding this one."""
        return (self.physical.cfa, function_start(self.physical))

    def register_values(self) -> dict[str, int]:
        """Registers of this frame by name (rip, rsp, rbx...), as far as unwinding knows."""
        return {GPR_DWARF[n]: v for n, v in self.physical.regs.items() if n in GPR_DWARF}


# ------------------------------------------------------------------------------- caches

_cfi_cache: dict[int, tuple[ElfImage, CallFrameInfo | None]] = {}


def cfi_for(image: ElfImage) -> CallFrameInfo | None:
    """The CallFrameInfo of an image, parsed once per image for the whole session."""
    # Keyed by identity (images are shared per path); the image is kept in the value so
    # its id cannot be reused by another object.
    hit = _cfi_cache.get(id(image))
    if hit is not None and hit[0] is image:
        return hit[1]
    try:
        cfi = CallFrameInfo.from_elffile(image.elffile)
        result = cfi if cfi.has_cfi else None
    except (PydbgError, ValueError, OSError):
        result = None
    _cfi_cache[id(image)] = (image, result)
    return result


def _cu_of(image: ElfImage, file_pc: int):
    """The compilation unit (with its block tree) covering a file address, or None."""
    if not image.has_debug_info:
        return None
    try:
        return image._cu_for_address(file_pc)  # noqa: SLF001 - block trees live on the CU
    except (PydbgError, ValueError, KeyError, AttributeError):
        return None


def block_chain(image: ElfImage, file_pc: int) -> tuple[list[Block], object | None]:
    """[innermost inlined call, ..., the real function] containing FILE_PC, and its CU."""
    cu = _cu_of(image, file_pc)
    if cu is None:
        return [], None
    cache = getattr(cu, "_pydbg_chains", None)
    if cache is None:
        cache = {}
        try:
            cu._pydbg_chains = cache
        except AttributeError:
            pass
    chain = cache.get(file_pc)
    if chain is None:
        b = cu.scopes.innermost_block(file_pc)
        chain = []
        while b is not None:
            if b.is_function:
                chain.append(b)
                if not b.inlined:
                    break
            b = b.parent
        cache[file_pc] = chain
    return list(chain), cu


def _has_noncontiguous_blocks(cu) -> bool:
    cached = getattr(cu, "_pydbg_noncontiguous", None)
    if cached is None:
        cached = any(len(b.ranges) > 1 for b in cu.scopes.iter_blocks())
        try:
            cu._pydbg_noncontiguous = cached
        except AttributeError:
            pass
    return cached


def call_site(cu, block: Block) -> tuple[str | None, str | None, int | None]:
    """(display name, full path, line) of an inlined block's call site."""
    name = full = None
    namer = getattr(cu, "namer", None)
    if namer is not None and block.call_file is not None:
        names = namer.names(block.call_file)
        if names:
            name, full = names
    return name, full, block.call_line


def function_start(phys: PhysicalFrame) -> int | None:
    img = phys.image
    bias = img.bias if img else 0
    if phys.chain:
        return phys.chain[-1].entry_pc + bias
    if img is None:
        return None
    func = img.image.function_at(phys.lookup_pc - bias)
    return func.low + bias if func is not None else None


# ------------------------------------------------------------------------------- stack

class FrameStack:
    """The frames of one stop of one thread, unwound on demand."""

    def __init__(self, target: Target, regs: dict[str, int],
                 stop: Stop | None = None) -> None:
        self.target = target
        self.live = dict(regs)
        self.stop = stop
        self.selected_level = 0
        self.frames: list[Frame] = []
        self.physicals: list[PhysicalFrame] = []
        self.stop_reason: str | None = None      # "Backtrace stopped: ..." text, if any
        self.complete = False
        self.skipped: list[Block] = []           # inlined calls hidden at frame 0 (entry pc)
        dwarf = {num: regs[name] for num, name in GPR_DWARF.items() if name in regs}
        pc = regs.get("rip", 0)
        phys = self.make_physical(0, pc, dwarf, {n: _LIVE for n in dwarf}, exact=True)
        self.physicals.append(phys)
        self._expand(phys, first=True)

    # ----- public -----

    def frame(self, level: int) -> Frame | None:
        """Frame LEVEL (0 = innermost), unwinding as far as needed; None past the end."""
        while level >= len(self.frames) and not self.complete:
            self._unwind_one()
        return self.frames[level] if 0 <= level < len(self.frames) else None

    def __iter__(self) -> Iterator[Frame]:
        level = 0
        while True:
            f = self.frame(level)
            if f is None:
                return
            yield f
            level += 1

    def count(self) -> int:
        while not self.complete:
            self._unwind_one()
        return len(self.frames)

    @property
    def selected(self) -> Frame:
        f = self.frame(self.selected_level)
        if f is None:
            self.selected_level = 0
            f = self.frames[0]
        return f

    def select(self, level: int) -> Frame:
        f = self.frame(level)
        if f is None:
            from pydbg.errors import CommandError
            raise CommandError(f"No frame at level {level}.")
        self.selected_level = level
        return f

    def caller(self, frame: Frame) -> Frame | None:
        return self.frame(frame.level + 1)

    def caller_regs(self, frame: Frame) -> tuple[dict[int, int], dict[int, Origin]] | None:
        """Registers of FRAME's caller (and where they were saved), even past main."""
        if frame.kind is FrameKind.INLINE:
            return frame.physical.regs, frame.physical.origins
        result = self._unwind_physical(frame.physical)
        if isinstance(result, str) or result is None:
            return None
        return result[0], result[1]

    def registers_by_name(self, frame: Frame) -> dict[str, int]:
        """gdb's frame registers: live ones for frame 0, unwound ones above (others kept)."""
        values = dict(self.live)
        for num, name in GPR_DWARF.items():
            if num in frame.physical.regs:
                values[name] = frame.physical.regs[num]
        return values

    def step_into_inline(self) -> bool:
        """gdb's step_into_inline_frame: reveal one hidden inlined frame at frame 0."""
        if not self.skipped:
            return False
        self.skipped.pop()
        self.frames = []
        self.physicals = self.physicals[:1]
        self.complete = False
        self.stop_reason = None
        self._expand(self.physicals[0], first=True, keep_skip=True)
        self.selected_level = 0
        return True

    # ----- building frames -----

    def make_physical(self, index: int, pc: int, regs: dict[int, int],
                       origins: dict[int, Origin], exact: bool) -> PhysicalFrame:
        target = self.target
        img = target.image_for_address(pc if exact else pc - 1) if target.is_running else None
        phys = PhysicalFrame(index, pc, regs, origins, exact, img)
        if img is not None:
            lookup = phys.lookup_pc - img.bias
            cfi = cfi_for(img.image)
            if cfi is not None:
                try:
                    phys.row = cfi.find_row(lookup)
                except PydbgError:
                    phys.row = None
            phys.chain, phys.cu = block_chain(img.image, lookup)
        if phys.row is not None and phys.row.is_signal_frame:
            phys.sigtramp = True
        elif self._is_sigreturn(pc):
            phys.sigtramp = True
        phys.cfa = self._cfa(phys)
        return phys

    def _is_sigreturn(self, pc: int) -> bool:
        try:
            return self.target.read_memory(pc, len(_SIGRETURN_CODE)) == _SIGRETURN_CODE
        except PydbgError:
            return False

    def _cfa(self, phys: PhysicalFrame) -> int | None:
        row = phys.row
        try:
            if row is not None:
                if row.cfa.expression is not None:
                    ctx = self._ctx(phys)
                    return evaluate_value(row.cfa.expression, ctx)
                if row.cfa.register is not None and row.cfa.register in phys.regs:
                    return (phys.regs[row.cfa.register] + row.cfa.offset) & _MASK
                return None
            fallback = self._fallback_layout(phys)
            return fallback[0] if fallback else None
        except PydbgError:
            return None

    def _ctx(self, phys: PhysicalFrame) -> EvalContext:
        def read_register(num: int) -> int:
            return phys.regs[num]
        bias = phys.image.bias if phys.image else 0
        return EvalContext(read_register=read_register, read_memory=self.target.read_memory,
                           load_bias=bias)

    def _expand(self, phys: PhysicalFrame, first: bool = False, keep_skip: bool = False) -> None:
        """Append the user-visible frames of one physical frame (inlined ones first)."""
        chain = phys.chain
        level = len(self.frames)
        img = phys.image
        bias = img.bias if img else 0
        library = img.path if img is not None and not img.is_main else None
        if phys.sigtramp:
            loc = CodeLocation(phys.pc, SIGTRAMP_FUNCTION, library=library)
            self.frames.append(Frame(level, FrameKind.SIGTRAMP, phys, loc, function_start(phys)))
            return
        if phys.dummy is not None:
            from pydbg.engine.infcall import DUMMY_FUNCTION
            self.frames.append(Frame(level, FrameKind.DUMMY, phys,
                                     CodeLocation(phys.pc, DUMMY_FUNCTION), None))
            return
        start = 0
        if first and not keep_skip:
            self.skipped = self._blocks_to_skip(phys)
        if first:
            start = len(self.skipped)
        outer_kind = FrameKind.TAILCALL if phys.tailcall else FrameKind.NORMAL
        if phys.tailcall and chain:
            # One frame per tail call, named by the innermost function there (gdb gives
            # tail-call frames no inlined frames of their own).
            self.frames.append(Frame(level, FrameKind.TAILCALL, phys,
                                     self._line_location(phys, chain[0].name),
                                     chain[0].entry_pc + bias, chain[0], 0))
            return
        if not chain:
            self.frames.append(Frame(level, outer_kind, phys, self._plain_location(phys),
                                     function_start(phys)))
            return
        cu = phys.cu
        for depth in range(start, len(chain)):
            block = chain[depth]
            if depth == start and depth == 0:
                loc = self._line_location(phys, block.name)
            else:
                name, full, line = call_site(cu, chain[depth - 1])
                loc = CodeLocation(phys.pc, block.name, 0, file=name, fullname=full, line=line,
                                   line_start=True, library=library)
            kind = FrameKind.INLINE if block.inlined else outer_kind
            self.frames.append(Frame(len(self.frames), kind, phys, loc, block.entry_pc + bias,
                                     block, depth))

    def _blocks_to_skip(self, phys: PhysicalFrame) -> list[Block]:
        """gdb's skip_inline_frames: inlined calls whose first instruction is the pc are
        shown as their call site, unless a user breakpoint for that function stopped us."""
        out: list[Block] = []
        img = phys.image
        if img is None or not phys.chain or (self.stop is not None and self.stop.stepi):
            return out
        file_pc = phys.pc - img.bias
        for block in phys.chain:
            if not block.inlined:
                break
            if block.entry_pc == file_pc or self._starting_point(phys, block, file_pc):
                if self._user_breakpoint_for(block):
                    break
                out.append(block)
            else:
                break
        return out

    def _starting_point(self, phys: PhysicalFrame, block: Block, file_pc: int) -> bool:
        cu = phys.cu
        if cu is None or not _has_noncontiguous_blocks(cu):
            return False
        before = cu.scopes.innermost_block(file_pc - 1)
        if before is None:
            return True
        b = before
        while b is not None:
            if b is block:
                return False
            b = b.parent
        return True

    def _user_breakpoint_for(self, block: Block) -> bool:
        stop = self.stop
        if stop is None or stop.kind is not StopKind.BREAKPOINT:
            return False
        for bp in stop.breakpoints:
            if bp.internal:
                continue
            for loc in bp.locations:
                if loc.address != stop.pc:
                    continue
                if loc.function is None or loc.function == block.name or \
                        bp.spec.strip() == block.name:
                    return True
        return False

    def _line_location(self, phys: PhysicalFrame, function: str | None) -> CodeLocation:
        img = phys.image
        assert img is not None
        library = img.path if not img.is_main else None
        entry = img.image.line_for_address(phys.lookup_pc - img.bias) \
            if img.image.has_debug_info else None
        if entry is None:
            return CodeLocation(phys.pc, function, library=library)
        return CodeLocation(phys.pc, function, 0, file=entry.name, fullname=entry.file,
                            line=entry.line,
                            # gdb shows the pc unless it starts an is_stmt row.
                            line_start=(phys.exact_pc and entry.address == phys.pc - img.bias
                                        and entry.is_stmt),
                            library=library)

    def _plain_location(self, phys: PhysicalFrame) -> CodeLocation:
        img = phys.image
        if img is None:
            return CodeLocation(phys.pc)
        file_pc = phys.lookup_pc - img.bias
        func = img.image.function_at(file_pc)
        name = func.name if func is not None else None
        if name is None:
            found = img.image.symbolize(file_pc, print_names=True)
            name = found[0].name if found is not None else None
        loc = self._line_location(phys, name)
        return loc

    # ----- unwinding -----

    def _unwind_one(self) -> None:
        last = self.physicals[-1]
        if self._is_outermost(last):
            self.complete = True
            return
        if len(self.frames) >= MAX_FRAMES:
            self.complete = True
            return
        result = self._unwind_physical(last)
        if result is None or isinstance(result, str):
            self.stop_reason = result
            self.complete = True
            return
        regs, origins = result
        caller_pc = regs.get(RIP, 0)
        if caller_pc == 0:
            self.complete = True
            return
        if getattr(self.target, "dummy_frames", None):
            from pydbg.engine.infcall import dummy_frame_at
            dummy = dummy_frame_at(self.target, caller_pc, regs.get(RSP))
            if dummy is not None:
                # The function was called from an expression: its caller is the dummy
                # frame, whose own caller has the registers of before the call.
                phys = PhysicalFrame(last.index + 1, caller_pc, regs, origins, True,
                                     dummy=dummy, cfa=dummy.sp_after)
                self.physicals.append(phys)
                self._expand(phys)
                return
        caller = self.make_physical(last.index + 1, caller_pc, regs, origins,
                                     exact=last.sigtramp or last.dummy is not None)
        if (not last.sigtramp and not caller.sigtramp and last.dummy is None
                and caller.cfa is not None and last.cfa is not None):
            if caller.cfa == last.cfa and caller.pc == last.pc:
                self.stop_reason = ("Backtrace stopped: previous frame identical to this "
                                    "frame (corrupt stack?)")
                self.complete = True
                return
            if caller.cfa < last.cfa:
                self.stop_reason = ("Backtrace stopped: previous frame inner to this frame "
                                    "(corrupt stack?)")
                self.complete = True
                return
        for tail in self._tail_calls(last, caller):
            self._expand(tail)
        self.physicals.append(caller)
        self._expand(caller)

    def _tail_calls(self, callee: PhysicalFrame, caller: PhysicalFrame) -> list[PhysicalFrame]:
        """gdb's tail-call frames: functions between CALLER's call site and CALLEE that
        jumped (not called) onward, found through DW_TAG_call_site; innermost first."""
        img = caller.image
        if img is None or not caller.chain or callee.sigtramp or caller.sigtramp or \
                callee.dummy is not None:
            return []
        try:
            path = tail_call_path(img.image, caller.chain[-1].die_offset,
                                  caller.pc - img.bias, function_start(callee), img.bias,
                                  lambda name: self._resolve_function(img, name))
        except PydbgError:
            return []
        out = []
        for site_pc in reversed(path):
            site_img = self.target.image_for_address(site_pc - 1) or img
            phys = PhysicalFrame(caller.index, site_pc, dict(caller.regs), caller.origins,
                                 False, site_img, tailcall=True)
            phys.chain, phys.cu = block_chain(site_img.image, site_pc - 1 - site_img.bias)
            phys.cfa = callee.cfa    # gdb gives a tail-call frame its callee's stack address
            out.append(phys)
        return out

    def _resolve_function(self, home: LoadedImage, name: str
                          ) -> list[tuple[ElfImage, int, Block]]:
        """A called function by name: in the calling image first, then any other one."""
        images = [home] + [i for i in self.target.images if i is not home]
        for img in images:
            found = _functions_named(img.image, name)
            if found:
                return [(img.image, img.bias, b) for b in found]
        return []

    def _is_outermost(self, phys: PhysicalFrame) -> bool:
        """gdb stops at main (backtrace past-main off) and at the entry point function."""
        img = phys.image
        if img is None or phys.sigtramp:
            return False
        file_pc = phys.lookup_pc - img.bias
        if img.is_main:
            func = phys.chain[-1].name if phys.chain else None
            if func is None:
                f = img.image.function_at(file_pc)
                func = f.name if f else None
            if func == "main":
                return True
            entry = img.image.entry
            f = img.image.function_at(file_pc)
            if f is not None and f.low <= entry < f.high:
                return True
        return False

    def _unwind_physical(self, phys: PhysicalFrame
                         ) -> tuple[dict[int, int], dict[int, Origin]] | str | None:
        """The caller's registers and their origins; None when outermost; a message on error."""
        read = self.target.read_memory
        if phys.dummy is not None:
            saved = phys.dummy.registers   # type: ignore[attr-defined]
            caller = {num: saved[name] for num, name in GPR_DWARF.items() if name in saved}
            return caller, {num: _VALUE for num in caller}
        try:
            if phys.row is not None:
                bias = phys.image.bias if phys.image else 0
                caller = unwind_step(phys.row, phys.regs, read, bias)
                if caller is None:
                    return None
                return caller, self._row_origins(phys)
            layout = self._fallback_layout(phys)
            if layout is None:
                return None
            cfa, ra_at, rbp_at = layout
            caller = dict(phys.regs)
            ra = int.from_bytes(read(ra_at, 8), "little")
            caller[RIP] = ra
            caller[RSP] = cfa
            origins = {n: _LIVE for n in caller}
            origins[RIP] = Origin("mem", ra_at)
            origins[RSP] = _VALUE
            if rbp_at is not None:
                caller[RBP] = int.from_bytes(read(rbp_at, 8), "little")
                origins[RBP] = Origin("mem", rbp_at)
            return caller, origins
        except PydbgError as exc:
            text = str(exc)
            if text.startswith("Cannot access memory"):
                return f"Backtrace stopped: {text}"
            return None

    def _row_origins(self, phys: PhysicalFrame) -> dict[int, Origin]:
        row = phys.row
        assert row is not None
        cfa = phys.cfa
        origins: dict[int, Origin] = {n: _LIVE for n in phys.regs if n not in row.rules}
        origins[RSP] = _VALUE
        for reg, rule in row.rules.items():
            kind = rule.kind
            if kind is RuleKind.OFFSET and cfa is not None:
                origins[reg] = Origin("mem", (cfa + int(rule.arg)) & _MASK)
            elif kind is RuleKind.EXPRESSION and cfa is not None:
                try:
                    addr = evaluate_value(bytes(rule.arg), self._ctx(phys), initial_stack=[cfa])
                    origins[reg] = Origin("mem", addr)
                except PydbgError:
                    origins[reg] = _VALUE
            elif kind in (RuleKind.VAL_OFFSET, RuleKind.VAL_EXPRESSION):
                origins[reg] = _VALUE
            elif kind in (RuleKind.SAME_VALUE, RuleKind.REGISTER):
                origins[reg] = _LIVE
        if row.return_address_register in origins:
            origins[RIP] = origins[row.return_address_register]
        return origins

    def _fallback_layout(self, phys: PhysicalFrame) -> tuple[int, int, int | None] | None:
        """(CFA, address of the return address, address of the saved rbp) without CFI,
        from gdb's amd64 prologue analysis: entry, after `push %rbp`, or an rbp frame."""
        rsp = phys.regs.get(RSP)
        if rsp is None:
            return None
        start = function_start(phys)
        state = self._prologue_state(start, phys.pc) if start is not None else "entry"
        if state == "entry":
            return rsp + 8, rsp, None
        if state == "pushed":
            return rsp + 16, rsp + 8, rsp
        rbp = phys.regs.get(RBP, 0)
        if rbp == 0:
            return None
        return rbp + 16, rbp + 8, rbp

    def _prologue_state(self, start: int, pc: int) -> str:
        """'entry' (nothing pushed), 'pushed' (rbp pushed, no frame yet) or 'frame'."""
        read = self.target.read_memory
        try:
            code = read(start, 12)
        except PydbgError:
            return "entry"
        p = 4 if code[:4] == _ENDBR64 else 0
        if pc <= start + p or code[p:p + 1] != b"\x55":
            return "entry"
        if pc <= start + p + 1:
            return "pushed"
        mov = code[p + 1:p + 4]
        if mov in (b"\x48\x89\xe5", b"\x48\x8b\xec") or mov[:2] in (b"\x89\xe5", b"\x8b\xec"):
            return "frame"
        return "pushed"

    # ----- info frame -----

    def frame_base(self, frame: Frame) -> int | None:
        """gdb's amd64 frame base ("Arglist at"): rbp in a frame with a frame pointer,
        else the stack pointer adjusted for what the prologue pushed."""
        if frame.kind is not FrameKind.NORMAL:
            return None
        phys = frame.physical
        rsp = phys.regs.get(RSP)
        if rsp is None:
            return None
        start = function_start(phys)
        if start is None:
            return (rsp - 8) & _MASK
        state = self._prologue_state(start, phys.pc)
        if state == "frame":
            return phys.regs.get(RBP)
        if state == "pushed":
            return rsp
        return (rsp - 8) & _MASK

    def saved_registers(self, frame: Frame) -> list[tuple[str, int]]:
        """(register, address) of the caller's registers this frame saved in memory."""
        if frame.kind is FrameKind.TAILCALL:
            return []
        if frame.kind is FrameKind.INLINE:
            origins = frame.physical.origins
        else:
            result = self.caller_regs(frame)
            if result is None:
                return []
            origins = result[1]
        out = []
        for name in _GDB_ORDER:
            num = GPR_BY_NAME[name]
            o = origins.get(num)
            if name != "rsp" and o is not None and o.kind == "mem" and o.address is not None:
                out.append((name, o.address))
        return out


_site_cache: dict[tuple[str, int], dict] = {}


def _call_sites(image: ElfImage, die_offset: int) -> dict:
    from pydbg.symbols.callsites import call_sites_of
    key = (str(image.path), die_offset)
    if key not in _site_cache:
        try:
            _site_cache[key] = call_sites_of(image.dwarf.get_DIE_from_refaddr(die_offset))
        except Exception:  # noqa: BLE001 - malformed DWARF: no call sites
            _site_cache[key] = {}
    return _site_cache[key]


def _functions_named(image: ElfImage, name: str) -> list[Block]:
    """Out-of-line DWARF functions NAME; a call origin that only names a declaration
    (glibc's __pthread_kill) is found through the ELF symbol, as gdb does."""
    try:
        blocks = image._function_blocks(name)  # noqa: SLF001 - DIE offsets are needed here
    except (PydbgError, AttributeError):
        blocks = []
    found = [b for _cu, b in blocks if not b.inlined]
    if found:
        return found
    sym = image.get_symbol(name)
    if sym is None or sym.kind != "func":
        return []
    chain, _cu = block_chain(image, sym.address)
    if chain and chain[-1].entry_pc == sym.address:
        return [chain[-1]]
    return []


def tail_call_path(caller_image: ElfImage, caller_die: int, return_pc: int,
                   callee_start: int | None, caller_bias: int,
                   resolve: Callable[[str], list[tuple[ElfImage, int, Block]]]) -> list[int]:
    """Runtime return pcs of the tail-call sites leading from the call at RETURN_PC (file
    address) in the caller to the function starting at CALLEE_START; caller side first.
    RESOLVE finds a called function by name (image, bias, block) in any loaded image.
    Ambiguous paths keep only what all of them share, as gdb's call_site_find_chain."""
    if callee_start is None:
        return []
    site = _call_sites(caller_image, caller_die).get(return_pc)
    if site is None or site.origin_name is None:
        return []
    targets = resolve(site.origin_name)
    if len(targets) != 1:
        return []
    image, bias, first = targets[0]
    if first.entry_pc + bias == callee_start:
        return []
    paths: list[list[int]] = []

    def search(image: ElfImage, bias: int, func: Block, path: list[int],
               seen: set[tuple[str, int]]) -> None:
        if len(paths) > 16 or len(path) > 8:
            return
        for s in _call_sites(image, func.die_offset).values():
            if not s.tail_call or s.origin_name is None:
                continue
            for nimage, nbias, nxt in resolve(s.origin_name):
                here = path + [s.return_pc + bias]
                key = (str(nimage.path), nxt.die_offset)
                if nxt.entry_pc + nbias == callee_start:
                    paths.append(here)
                elif key not in seen:
                    search(nimage, nbias, nxt, here, seen | {key})

    search(image, bias, first, [], {(str(image.path), first.die_offset)})
    if not paths:
        return []
    if all(p == paths[0] for p in paths):
        return paths[0]
    prefix = []
    for column in zip(*paths):
        if any(c != column[0] for c in column):
            break
        prefix.append(column[0])
    suffix: list[int] = []
    for column in zip(*(reversed(p) for p in paths)):
        if any(c != column[0] for c in column):
            break
        suffix.insert(0, column[0])
    return prefix + suffix


def frames_for(target: Target) -> FrameStack:
    """The (cached) frames of the current stop; rebuilt when the program moved or a
    register was written."""
    regs = target.registers()
    cached: FrameStack | None = getattr(target, "_frame_stack", None)
    if cached is not None and cached.stop is target.last_stop and cached.live == regs:
        return cached
    stack = FrameStack(target, regs, target.last_stop)
    if cached is not None and cached.stop is target.last_stop:
        stack.selected_level = cached.selected_level   # e.g. `set var $rax = 1` in frame 2
    target._frame_stack = stack
    return stack


def refine_stop(target: Target, stop: Stop) -> None:
    """Give a stop gdb's frame-0 location: inlined frames and their call sites included."""
    if stop.is_exit or stop.pc is None or not target.is_running:
        return
    try:
        frame = frames_for(target).frame(0)
    except PydbgError:
        return
    if frame is None or frame.pc != stop.pc:
        return
    stop.location = frame.location
