"""DWARF variables of a stopped program: locals and arguments of any frame, globals and
statics, entry values through call sites, and the lookups the expression evaluator uses.

Frames come from engine/frames.py; this module turns DWARF locations into typed Values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from pydbg.engine.values import (
    MASK64, Access, PiecesLval, RegisterLval, Value, type_size,
)
from pydbg.errors import ExpressionError, PydbgError, SymbolError
from pydbg.symbols.callsites import CallSite, call_sites_of, register_of
from pydbg.symbols.debuginfo import (
    Block, DebugInfo, DynamicBound, Function, InlinedCall, LocListRef, Variable,
)
from pydbg.symbols.dwarf_expr import (
    EvalContext, Implicit, Memory, OptimizedOut, OptimizedOutError, Pieces, Register,
    evaluate_location, evaluate_value,
)
from pydbg.symbols.loclists import location_lists_for
from pydbg.symbols.types import ArrayType, CType, EnumType

if TYPE_CHECKING:
    from pydbg.engine.target import Target
    from pydbg.symbols import ElfImage


class NoEntryValue(OptimizedOutError):
    """gdb's NO_ENTRY_VALUE_ERROR: the caller does not tell what was passed."""


# --------------------------------------------------------------------------- frames

@dataclass
class FrameContext:
    """One frame as variable lookup sees it (frames.py's Frame, or frame 0 without it)."""

    pc: int                                   # runtime pc
    lookup_pc: int                            # pc - 1 in caller frames (gdb's address in block)
    regs: dict[int, int]                      # DWARF register number -> value
    cfa: int | None
    image: "ElfImage | None"
    bias: int
    level: int = 0
    inline_depth: int = 0                     # 0 = innermost function-like block at the pc
    writable: bool = False                    # frame 0: registers can be written
    caller: Callable[[], "FrameContext | None"] | None = field(default=None, repr=False)
    vector: Callable[[int], bytes] | None = field(default=None, repr=False)  # xmm by DWARF no.
    tls_base: Callable[[int], int] | None = field(default=None, repr=False)
    _scopes: list[Block] | None = field(default=None, repr=False)

    @property
    def debug(self) -> DebugInfo | None:
        img = self.image
        if img is None or not img.has_debug_info:
            return None
        return img.debug_info

    @property
    def file_pc(self) -> int:
        return self.lookup_pc - self.bias

    def scopes(self) -> list[Block]:
        """The blocks of this frame, innermost first, ending with its function-like block."""
        if self._scopes is None:
            debug = self.debug
            blocks = debug.scopes_at(self.file_pc) if debug is not None else []
            out: list[Block] = []
            depth = 0
            for b in blocks:
                if depth == self.inline_depth:
                    out.append(b)
                if isinstance(b, (Function, InlinedCall)):
                    if depth == self.inline_depth:
                        break
                    depth += 1
            self._scopes = out
        return self._scopes

    @property
    def function_block(self) -> Function | InlinedCall | None:
        scopes = self.scopes()
        if scopes and isinstance(scopes[-1], (Function, InlinedCall)):
            return scopes[-1]
        return None

    @property
    def physical_function(self) -> Function | None:
        b = self.function_block
        if isinstance(b, InlinedCall):
            return b.function
        return b


class FrameReader:
    """Reads the variables of one frame: DWARF locations evaluated with its registers."""

    def __init__(self, frame: FrameContext, read_memory: Callable[[int, int], bytes],
                 write_memory: Callable[[int, bytes], None] | None = None,
                 write_register: Callable[[int, bytes], None] | None = None) -> None:
        self.frame = frame
        self.read_memory = read_memory
        self.write_memory = write_memory
        self.write_register = write_register
        self.access = Access(read_memory=read_memory, write_memory=write_memory,
                             read_register=self.register_bytes,
                             write_register=write_register if frame.writable else None)

    # ----------------------------------------------------------------- registers
    def register_bytes(self, regno: int) -> bytes:
        regs = self.frame.regs
        if regno in regs:
            return (regs[regno] & MASK64).to_bytes(8, "little")
        if 17 <= regno <= 32 and self.frame.vector is not None:
            return self.frame.vector(regno)
        raise OptimizedOutError(f"register {regno} is not available")

    def register_value(self, regno: int) -> int:
        return int.from_bytes(self.register_bytes(regno)[:8], "little")

    # ----------------------------------------------------------------- DWARF context
    def eval_context(self, function: Function | None) -> EvalContext:
        frame = self.frame

        def frame_base() -> int:
            if function is None or function.frame_base is None:
                raise ExpressionError("Could not find the frame base for this function.")
            expr = self.expression_at(function.frame_base)
            if expr is None:
                raise OptimizedOutError()
            return evaluate_value(expr, self.eval_context(None))

        def cfa() -> int:
            if frame.cfa is None:
                raise OptimizedOutError("the CFA is not known")
            return frame.cfa

        def address_index(index: int) -> int:
            return self._debug_addr(index)

        return EvalContext(read_register=self.register_value, read_memory=self.read_memory,
                           frame_base=frame_base, cfa=cfa, load_bias=frame.bias,
                           entry_value=self.entry_value,
                           read_address_index=address_index,
                           tls_address=frame.tls_base)

    def _debug_addr(self, index: int) -> int:
        debug = self.frame.debug
        cu = debug.cu_for_pc(self.frame.file_pc) if debug else None
        if debug is None or cu is None:
            raise SymbolError("DW_OP_addrx needs a compilation unit")
        ll = location_lists_for(debug.dwarf)
        return ll._address(debug.dwarf.get_CU_at(cu.offset), index)  # noqa: SLF001

    def expression_at(self, location, pc: int | None = None) -> bytes | None:
        """The expression of a location (a location list is looked up at the frame's pc)."""
        if location is None:
            return None
        if isinstance(location, LocListRef):
            debug = self.frame.debug
            if debug is None:
                return None
            entries = _location_list(debug, location)
            if entries is None:
                return None
            at = self.frame.file_pc if pc is None else pc
            default = None
            for e in entries:
                if e.is_default:
                    default = e.expr
                elif e.covers(at):
                    return e.expr
            return default
        return bytes(location)

    # ----------------------------------------------------------------- variables
    def read(self, var: Variable, function: Function | None = None) -> Value:
        """The value of VAR in this frame (<optimized out> where DWARF cannot say)."""
        if function is None:
            function = self.frame.physical_function
        t = var.type
        if var.const_value is not None:
            c = var.const_value
            if isinstance(c, int):
                return Value.from_int(t, c)
            return Value.from_bytes(t, bytes(c))
        expr = self.expression_at(var.location)
        if expr is None:
            return Value.optimized_out(t)
        t = self.resolve_dynamic(t, function)
        return self.value_at_location(t, expr, function)

    def resolve_dynamic(self, t: CType, function: Function | None) -> CType:
        """A variable-length array type with its bounds read in this frame."""
        if not isinstance(t, ArrayType) or not any(d is not None for d in t.dynamic):
            return t
        dims = list(t.dims)
        for i, bound in enumerate(t.dynamic):
            if bound is None:
                continue
            try:
                n = self._bound_value(bound, function)
            except PydbgError:
                return t
            dims[i] = n if bound.is_count else n - bound.lower_bound + 1
        return ArrayType(t.element, dims, [None] * len(dims))

    def _bound_value(self, bound: DynamicBound, function: Function | None) -> int:
        if bound.const_value is not None:
            c = bound.const_value
            return c if isinstance(c, int) else int.from_bytes(bytes(c), "little", signed=True)
        expr = self.expression_at(bound.location)
        if expr is None:
            raise OptimizedOutError()
        ctx = self.eval_context(function)
        if not bound.is_reference:
            return _signed64(evaluate_value(expr, ctx))
        loc = evaluate_location(expr, ctx)
        if isinstance(loc, Memory):
            return _signed64(int.from_bytes(self.read_memory(loc.address, 8), "little"))
        if isinstance(loc, Register):
            return _signed64(self.register_value(loc.regno))
        if isinstance(loc, Implicit):
            return _signed64(int.from_bytes(loc.data[:8].ljust(8, b"\0"), "little"))
        raise OptimizedOutError()

    def value_at_location(self, t: CType, expr: bytes, function: Function | None) -> Value:
        ctx = self.eval_context(function)
        try:
            loc = evaluate_location(expr, ctx)
        except OptimizedOutError:
            return Value.optimized_out(t)
        return self.value_from_location(t, loc)

    def value_from_location(self, t: CType, loc) -> Value:
        if isinstance(loc, Memory):
            return Value.at(t, loc.address, self.access)
        if isinstance(loc, Register):
            try:
                self.register_bytes(loc.regno)
            except OptimizedOutError:
                return Value.optimized_out(t)
            return Value(t, RegisterLval(loc.regno), self.access)
        if isinstance(loc, Implicit):
            return Value.from_bytes(t, loc.data)
        if isinstance(loc, Pieces):
            return self._pieces(t, loc)
        if isinstance(loc, OptimizedOut):
            v = Value.optimized_out(t)
            if loc.reason.startswith("implicit pointer"):
                v.unavailable = ()
                v.note = "<synthetic pointer>"
            return v
        return Value.optimized_out(t)

    def _pieces(self, t: CType, loc: Pieces) -> Value:
        size = type_size(t)
        bits = bytearray(size * 8)      # one entry per bit: value
        unavailable: list[tuple[int, int]] = []
        pos = 0
        desc = []
        for piece in loc.pieces:
            n = piece.size_bits
            where = piece.location
            data = None
            if isinstance(where, Memory):
                nbytes = (piece.bit_offset + n + 7) // 8
                data = self.read_memory(where.address, nbytes)
                desc.append(("memory", where.address, n, piece.bit_offset))
            elif isinstance(where, Register):
                try:
                    data = self.register_bytes(where.regno)
                    desc.append(("register", where.regno, n, piece.bit_offset))
                except OptimizedOutError:
                    data = None
            elif isinstance(where, Implicit):
                data = where.data
                desc.append(("implicit", None, n, piece.bit_offset))
            if data is None:
                unavailable.append((pos, pos + n))
                desc.append(("optimized", None, n, 0))
            else:
                raw = int.from_bytes(bytes(data), "little") >> piece.bit_offset
                for k in range(n):
                    if pos + k < len(bits):
                        bits[pos + k] = (raw >> k) & 1
            pos += n
        if pos < size * 8:
            unavailable.append((pos, size * 8))
        value = sum(b << i for i, b in enumerate(bits))
        contents = value.to_bytes(size, "little")
        merged = tuple((s, min(e, size * 8)) for s, e in unavailable if s < size * 8)
        return Value(t, PiecesLval(tuple(desc)), self.access, _contents=contents,
                     unavailable=merged)

    # ----------------------------------------------------------------- entry values
    def entry_value(self, block: bytes) -> int:
        """DW_OP_entry_value(BLOCK): what the caller passed in register BLOCK names."""
        regno = register_of(block)
        if regno is None and len(block) >= 2 and 0x70 <= block[0] <= 0x8F and block[1] == 0:
            regno = block[0] - 0x70     # DW_OP_bregN 0: the same register
        if regno is None:
            raise NoEntryValue("DW_OP_entry_value is supported only for single DW_OP_reg*")
        param, caller = self.call_site_parameter(regno)
        if param.value is None:
            raise NoEntryValue()
        reader = FrameReader(caller, self.read_memory)
        return evaluate_value(param.value, reader.eval_context(caller.physical_function))

    def call_site_parameter(self, regno: int | None):
        """The caller's DW_TAG_call_site_parameter for register REGNO of this frame
        (None: a stack slot, which pydbg does not match)."""
        site, caller = self.call_site()
        for p in site.parameters:
            if regno is not None and register_of(p.location) == regno:
                return p, caller
        raise NoEntryValue(f"Cannot find matching parameter at DW_TAG_call_site "
                           f"{caller.pc:#x} at {_msym(caller, caller.pc)}")

    def call_site(self) -> tuple[CallSite, FrameContext]:
        """The caller's call site for this frame (gdb's dwarf_expr_reg_to_entry_parameter)."""
        frame = self.frame
        fn = frame.physical_function
        if fn is None:
            raise NoEntryValue("DW_OP_entry_value resolving requires a function")
        func_addr = (fn.entry_pc if fn.entry_pc is not None else fn.start) + frame.bias
        caller = frame.caller() if frame.caller is not None else None
        if caller is None:
            raise NoEntryValue(f"DW_OP_entry_value resolving requires caller of "
                               f"{func_addr:#x} ({_msym(frame, func_addr)})")
        caller_fn = caller.physical_function
        site = None
        if caller_fn is not None and caller.debug is not None:
            site = _call_sites(caller.debug, caller_fn).get(caller.pc - caller.bias)
        if site is None:
            raise NoEntryValue(f"DW_OP_entry_value resolving cannot find DW_TAG_call_site "
                               f"{caller.pc:#x} in {_msym(caller, caller.pc)}")
        if site.origin_name is not None:
            if site.origin_name != fn.name:
                raise NoEntryValue(f"DW_OP_entry_value resolving expects callee "
                                   f"{site.origin_name} but the called frame is for "
                                   f"{fn.name} at {func_addr:#x}")
        elif site.target is not None:
            reader = FrameReader(caller, self.read_memory)
            try:
                target = evaluate_value(site.target, reader.eval_context(caller_fn))
            except PydbgError as exc:
                raise NoEntryValue(str(exc)) from None
            if target != func_addr:
                raise NoEntryValue(f"DW_OP_entry_value resolving expects callee "
                                   f"{_msym(frame, target)} at {target:#x} but the called "
                                   f"frame is for {_msym(frame, func_addr)} at {func_addr:#x}")
        else:
            raise NoEntryValue(f"DW_AT_call_target is not specified at DW_TAG_call_site "
                               f"{caller.pc:#x} in {_msym(caller, caller.pc)}")
        return site, caller

    def read_at_entry(self, var: Variable) -> Value:
        """gdb's read_variable_at_entry: VAR's value when the function was entered."""
        block = self.frame.physical_function
        if block is None:
            raise NoEntryValue()
        # gdb's get_frame_func is get_pc_function_start: the entry (BLOCK_ENTRY_PC, which
        # ignores DW_AT_entry_pc) of the out-of-line function, even for inlined frames.
        entry = block.start
        if entry is None:
            raise NoEntryValue()
        expr = self.expression_at(var.location, pc=entry)
        if expr is None:
            return Value.optimized_out(var.type)
        regno = register_of(expr)
        if regno is None and not (expr[:1] == b"\x91" and _single_op(expr)):
            raise NoEntryValue("DWARF-2 expression error: DW_OP_entry_value is supported "
                               "only for single DW_OP_reg* or for DW_OP_fbreg(*)")
        param, caller = self.call_site_parameter(regno)
        if param.value is None:
            raise NoEntryValue()
        reader = FrameReader(caller, self.read_memory)
        expr = param.value + b"\x9f"       # DW_OP_stack_value, as gdb appends
        return reader.value_at_location(var.type, expr, caller.physical_function)

    # ----------------------------------------------------------------- listings
    def locals(self) -> list[Variable]:
        """gdb's `info locals` order: innermost block first; blocks other than a function's
        top-level one list their symbols in gdb's hash-table order."""
        out: list[Variable] = []
        for b in self.frame.scopes():
            vars_ = [v for v in b.variables if not v.is_param]
            if isinstance(b, (Function, InlinedCall)):
                out.extend(vars_)
            else:
                out.extend(hashed_order(b.variables, vars_))
        return out

    def params(self) -> list[Variable]:
        b = self.frame.function_block
        return [v for v in b.variables if v.is_param] if b is not None else []

    def lookup_local(self, name: str) -> tuple[Variable, Block] | None:
        for b in self.frame.scopes():
            for v in b.variables:
                if v.name == name:
                    return v, b
        return None


def _location_list(debug: DebugInfo, location: LocListRef) -> list | None:
    """The entries of a location list, decoded once per image (every read of a variable
    at every stop asks for them; None if the list is malformed)."""
    cache = debug.__dict__.get("_pydbg_location_lists")
    if cache is None:
        cache = debug.__dict__["_pydbg_location_lists"] = {}
    key = (location.cu.offset, location.offset)
    if key in cache:
        return cache[key]
    cu = debug.dwarf.get_CU_at(location.cu.offset)
    reader = location_lists_for(debug.dwarf)
    try:
        if location.cu.version >= 5:
            entries = reader._parse_v5(cu, location.offset)  # noqa: SLF001
        else:
            entries = reader._parse_v4(cu, location.offset)  # noqa: SLF001
    except PydbgError:
        entries = None
    cache[key] = entries
    return entries


def _signed64(v: int) -> int:
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def _single_op(expr: bytes) -> bool:
    """EXPR is one DW_OP_fbreg with its SLEB128 operand and nothing else."""
    i = 1
    while i < len(expr) and expr[i] & 0x80:
        i += 1
    return i == len(expr) - 1


def _msym(frame: FrameContext, address: int) -> str:
    """gdb's minimal symbol name for ADDRESS ("???" when none)."""
    img = frame.image
    if img is None:
        return "???"
    try:
        found = img.symbolize(address - frame.bias)
    except PydbgError:
        found = None
    return found[0].name if found else "???"


_SITES_CACHE: dict[tuple[int, int], dict[int, CallSite]] = {}


def _call_sites(debug: DebugInfo, fn: Function) -> dict[int, CallSite]:
    key = (id(debug), fn.die_offset)
    sites = _SITES_CACHE.get(key)
    if sites is None:
        sites = call_sites_of(debug.dwarf.get_DIE_from_refaddr(fn.die_offset))
        _SITES_CACHE[key] = sites
    return sites


# --------------------------------------------------------------------------- gdb's order

def _symbol_hash(name: str) -> int:
    """gdb's default_search_name_hash (dictionary.c) for C names."""
    def iw(s: str) -> int:
        h = 0
        for ch in s:
            if ch == "(":
                break
            if ch.isspace():
                continue
            h = (h * 67 + ord(ch.lower()) - 113) & 0xFFFFFFFF
        return h

    s = name
    if s.startswith("_"):
        if s.startswith("_ada_"):
            s = s[5:]
        else:
            return iw(name)
    h = 0
    i = 0
    while i < len(s):
        ch = s[i]
        if ch in "$.X":
            return iw(name) if i == 0 and s is name else h
        if ch in " (":
            return iw(name)
        if ch == "_" and i + 1 < len(s) and s[i + 1] == "_" and i != 0:
            c = s[i + 2] if i + 2 < len(s) else ""
            if not ("a" <= c <= "z") and c != "O":
                return h
            h = 0
            i += 2
            continue
        if ch == "T" and s[i:] == "TKB":
            return h
        h = (h * 67 + ord(ch.lower()) - 113) & 0xFFFFFFFF
        i += 1
    return h


def hashed_order(all_symbols: list[Variable], shown: list[Variable]) -> list[Variable]:
    """The order gdb's hashed block dictionary iterates SHOWN (a subset of ALL_SYMBOLS)."""
    nbuckets = len(all_symbols) // 5 + 1      # gdb: DICT_HASHTABLE_SIZE(n) = n / 5 + 1
    index = {id(v): i for i, v in enumerate(all_symbols)}
    return sorted(shown, key=lambda v: (_symbol_hash(v.name) % nbuckets, index[id(v)]))


# --------------------------------------------------------------------------- the program

class ProgramScope:
    """Name lookups over every loaded image: globals, functions, types, enumerators.

    The program itself is searched fully. Libraries (libc with its separate debug info is
    huge) are searched only where it is cheap: variables and functions that have an ELF
    symbol of that name, and types/enumerators of the compilation unit being executed.
    """

    def __init__(self, target: "Target") -> None:
        self.target = target
        self._enumerators: dict[tuple[int, int | None], dict[str, tuple[EnumType, int]]] = {}

    def images(self, prefer: "ElfImage | None" = None
               ) -> Iterator[tuple["ElfImage", int, bool]]:
        """(image, bias, is_main) with DWARF: PREFER first, the program, then libraries."""
        seen = set()
        order: list[tuple[ElfImage, int, bool]] = []
        t = self.target
        if t.is_running and t.images:
            for img in t.images:
                order.append((img.image, img.bias, img.is_main))
        elif t.exe_image is not None:
            order.append((t.exe_image, getattr(t, "static_bias", lambda: 0)(), True))
        if prefer is not None:
            order.sort(key=lambda p: p[0] is not prefer)
        for image, bias, is_main in order:
            if id(image) in seen:
                continue
            seen.add(id(image))
            try:
                if not image.has_debug_info:
                    continue
            except PydbgError:
                continue
            yield image, bias, is_main

    @staticmethod
    def _has_symbol(image: "ElfImage", name: str) -> bool:
        try:
            return image.get_symbol(name) is not None
        except PydbgError:
            return False

    def find_global(self, name: str, file: str | None = None, function: str | None = None,
                    frame: FrameContext | None = None) -> tuple[Variable, int, "ElfImage"] | None:
        prefer = frame.image if frame is not None else None
        for image, bias, is_main in self.images(prefer):
            if not is_main and function is None and not self._has_symbol(image, name):
                continue
            pc = frame.file_pc if frame is not None and image is prefer else None
            try:
                var = image.debug_info.find_global(name, file, function, pc)
            except PydbgError:
                continue
            if var is not None and not var.is_declaration:
                return var, bias, image
        return None

    def find_function(self, name: str) -> tuple[Function, int, "ElfImage"] | None:
        for image, bias, is_main in self.images():
            if not is_main and not self._has_symbol(image, name):
                continue
            try:
                fn = image.debug_info.find_function(name)
            except PydbgError:
                continue
            if fn is not None:
                return fn, bias, image
        return None

    def function_at(self, address: int) -> tuple[Function, int, "ElfImage"] | None:
        """The DWARF function whose code holds a runtime ADDRESS (its CU found through
        .debug_aranges, so a library's other CUs stay unread)."""
        found = self.target.image_at(address)
        if found is None:
            return None
        image, bias = found
        try:
            if not image.has_debug_info:
                return None
            fn = image.debug_info.function_at(address - bias)
        except PydbgError:
            return None
        return (fn, bias, image) if fn is not None else None

    def _cu_offset(self, image: "ElfImage", is_main: bool,
                   frame: FrameContext | None) -> tuple[bool, int | None]:
        """(search this image?, only this CU offset) for type-like names."""
        if is_main:
            return True, None
        if frame is None or frame.image is not image:
            return False, None
        try:
            off = image.debug_info._cu_offset_for_pc(frame.file_pc)  # noqa: SLF001
        except PydbgError:
            return False, None
        return off is not None, off

    def find_type(self, name: str, frame: FrameContext | None = None) -> CType | None:
        from pydbg.symbols.debuginfo import builtin_type
        for image, _, is_main in self.images(frame.image if frame else None):
            search, only = self._cu_offset(image, is_main, frame)
            if not search:
                continue
            try:
                debug = image.debug_info
                if only is None:
                    t = debug.find_type(name, frame.file_pc if frame and
                                        frame.image is image else None)
                    if t is not None:
                        return t
                else:
                    cud = debug._walked(only)  # noqa: SLF001
                    canon = _canonical(name)
                    for off in cud.types.get(canon, ()):
                        return debug.type_at(cud.cu.get_DIE_from_refaddr(off))
            except PydbgError:
                continue
        return builtin_type(name)

    def find_tagged(self, keyword: str, name: str,
                    frame: FrameContext | None = None) -> CType | None:
        decl = None
        for image, _, is_main in self.images(frame.image if frame else None):
            search, only = self._cu_offset(image, is_main, frame)
            if not search:
                continue
            try:
                debug = image.debug_info
                if only is None:
                    t = debug.find_tagged_type(keyword, name, allow_declaration=True)
                else:
                    cud = debug._walked(only)  # noqa: SLF001
                    offs = cud.tagged.get((keyword, name), ())
                    t = debug.type_at(cud.cu.get_DIE_from_refaddr(offs[0])) if offs else None
            except PydbgError:
                continue
            if t is not None:
                if not getattr(t, "is_declaration", False):
                    return t
                decl = decl or t
        return decl

    def is_type_name(self, name: str, frame: FrameContext | None = None) -> bool:
        for image, _, is_main in self.images(frame.image if frame else None):
            search, only = self._cu_offset(image, is_main, frame)
            if not search:
                continue
            try:
                debug = image.debug_info
                if only is not None:
                    if name in debug._walked(only).types:  # noqa: SLF001
                        return True
                    continue
                for cud in debug._iter_walked(None, name):  # noqa: SLF001
                    if name in cud.types:
                        return True
            except PydbgError:
                continue
        return False

    def find_enumerator(self, name: str, frame: FrameContext | None = None
                        ) -> tuple[EnumType, int] | None:
        for image, _, is_main in self.images(frame.image if frame else None):
            search, only = self._cu_offset(image, is_main, frame)
            if not search:
                continue
            table = self._enumerator_table(image, only)
            if name in table:
                return table[name]
        return None

    def _enumerator_table(self, image: "ElfImage",
                          only: int | None) -> dict[str, tuple[EnumType, int]]:
        key = (id(image), only)
        table = self._enumerators.get(key)
        if table is not None:
            return table
        table = {}
        try:
            debug = image.debug_info
            cus = [debug.dwarf.get_CU_at(only)] if only is not None else debug.dwarf.iter_CUs()
            for cu in cus:
                for child in cu.get_top_DIE().iter_children():
                    if child.tag == "DW_TAG_enumeration_type":
                        t = debug.type_at(child)
                        if isinstance(t, EnumType):
                            for e in t.enumerators:
                                table.setdefault(e.name, (t, e.value))
        except PydbgError:
            pass
        self._enumerators[key] = table
        return table


def _canonical(name: str) -> str:
    from pydbg.symbols.types import canonical_base_name
    return canonical_base_name(" ".join(name.split()))


__all__ = ["FrameContext", "FrameReader", "NoEntryValue", "ProgramScope", "hashed_order"]
