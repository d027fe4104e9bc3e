"""The debugging target: one program, its process (if any) and its loaded ELF images.

Target joins pydbg.ptrace (process control) and pydbg.symbols (ELF/DWARF); every front end
(REPL, batch mode, trace, Python API) drives the same Target.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from pydbg.disasm import Disassembler
from pydbg.engine.breakpoints import (Breakpoint, BreakpointLocation, BreakpointTable,
                                      decide_hit)
from pydbg.engine.images import RT_CONSISTENT, ImageTracker, LinkMapEntry, LoadedImage
from pydbg.engine.infcall import CALL_DUMMY_KIND, discard_dummy_frames, dummy_return
from pydbg.engine.signals import SignalTable
from pydbg.engine.source import SourceManager
from pydbg.engine.stops import CodeLocation, Stop, StopKind
from pydbg.engine.stepover import plan_emulation
from pydbg.engine.threads import ThreadList
from pydbg.engine.watchpoints import SCOPE_KIND, WatchpointManager
from pydbg.errors import CommandError, PydbgError, SymbolError, TargetError
from pydbg.ptrace import Process, PtraceOp, StopEvent, StopReason, iter_maps
from pydbg.symbols import ElfImage

SOLIB_EVENT_SPEC = "<shlib event>"


@dataclass
class Settings:
    """gdb's `set` variables that the engine consults."""
    disable_randomization: bool = True
    disassembly_flavor: str = "att"
    confirm: bool = True
    breakpoint_pending: str = "auto"      # set breakpoint pending on|off|auto
    listsize: int = 10
    environment: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: str | None = None
    # `maint set step-over-emulation`: step off simple breakpoint instructions by emulation.
    emulate_step_over: bool = True
    # `set print elements/repeats/pretty` (0 means unlimited, as gdb shows it).
    print_elements: int = 200
    print_repeats: int = 10
    print_pretty: bool = False


_image_cache: dict[str, ElfImage] = {}


def open_image(path: str) -> ElfImage:
    """ElfImage objects are shared per path: parsed data survives re-runs."""
    real = os.path.realpath(path)
    image = _image_cache.get(real)
    if image is None:
        image = _image_cache[real] = ElfImage(real)
    return image


class Target:
    def __init__(self, executable: str | None = None, args: list[str] | None = None,
                 observer: Callable[[PtraceOp], None] | None = None) -> None:
        self.settings = Settings()
        self.args: list[str] = list(args or [])
        self.observer = observer
        self.executable: str | None = None
        self.exe_image: ElfImage | None = None
        self.process: Process | None = None
        self.breakpoints = BreakpointTable()
        self.watchpoints = WatchpointManager(self)
        self.signals = SignalTable()
        self.threads = ThreadList(self)       # gdb's thread numbers, names, selection
        # Functions called from expressions that have not returned yet (engine/infcall.py).
        self.dummy_frames: list = []
        self.images: list[LoadedImage] = []
        self.last_stop: Stop | None = None
        self.notices: list[str] = []          # text the front end prints before the next prompt
        # Where to print notices that happen while the program runs (None: keep them).
        self.notice_sink: Callable[[str], None] | None = None
        # Runs a dprintf's action (set by the front end); its hits then continue at once.
        self.report_and_continue: Callable[[Breakpoint, StopEvent], None] | None = None
        # Given an address and its breakpoints after a hit there went on, returns a
        # closure of the raw registers deciding such hits without us (set by the front
        # end, which compiled the conditions and formats), or None.
        self.hit_filter_factory: Callable[[int, list[Breakpoint]],
                                          Callable[[int, Any], bool] | None] | None = None
        self._filters_offered: set[int] = set()   # addresses asked this cont()
        self.disassembler = Disassembler()
        self._maps_loaded = False
        self._tracker: ImageTracker | None = None
        self._solib_event: Breakpoint | None = None   # the dynamic linker's r_brk
        self.sources = SourceManager(lambda: self.settings.listsize)
        self._frame_stack = None              # pydbg.engine.frames cache for the current stop
        if executable is not None:
            self.load_executable(executable)

    # ------------------------------------------------------------------ program
    def load_executable(self, path: str) -> ElfImage:
        """gdb's `file`: read symbols of the program to run."""
        p = Path(path)
        if not p.exists():
            raise SymbolError(f"{path}: No such file or directory.")
        image = open_image(str(p))
        self.executable = str(p.resolve())
        self.exe_image = image
        if not self.is_running and self.images:
            # A new `file` is unrelocated until it runs: so are its breakpoints.
            self.images = []
            for bp in self.breakpoints.all():
                if bp.kind in ("breakpoint", "dprintf"):
                    self._reresolve(bp)
        return image

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.is_alive

    @property
    def frames(self):
        """The frames of the current stop (a pydbg.engine.frames.FrameStack), unwound lazily;
        it also holds the selected frame."""
        if not self.is_running:
            raise TargetError("No stack.")
        from pydbg.engine.frames import frames_for
        return frames_for(self)

    def refine_stop(self, stop: Stop) -> None:
        """Give STOP its frame-0 location as gdb shows it (inlined frames, call sites)."""
        from pydbg.engine.frames import refine_stop
        refine_stop(self, stop)

    def frame_args_for(self, frame) -> str:
        """`a=1, b=b@entry=2`: the arguments of a frame line (engine/data.py)."""
        from pydbg.engine.data import frame_args_for
        return frame_args_for(self, frame)

    def frame_locals_lines(self, frame) -> list[str]:
        """`bt full`'s variable lines for FRAME, unindented (engine/data.py)."""
        from pydbg.engine.data import frame_locals_lines
        return frame_locals_lines(self, frame)

    def require_process(self) -> Process:
        if not self.is_running:
            raise TargetError("The program is not being run.")
        assert self.process is not None
        return self.process

    # ---------------------------------------------------------------- lifecycle
    def run(self, args: list[str] | None = None, *, stdin: int | None = None,
            stdout: int | None = None, stderr: int | None = None,
            stop_at_entry: bool = False) -> Stop:
        """Start the program (killing a running one) and continue to the first stop."""
        if self.executable is None:
            raise TargetError("No executable file specified.\n"
                              "Use the \"file\" or \"exec-file\" command.")
        if args is not None:
            self.args = list(args)
        if self.is_running:
            self.kill()
        for bp in self.breakpoints.all():   # gdb's run clears hit counts
            bp.hit_count = 0
        self.process = Process.launch([self.executable, *self.args],
                                      env=self.settings.environment, cwd=self.settings.cwd,
                                      disable_aslr=self.settings.disable_randomization,
                                      stdin=stdin, stdout=stdout, stderr=stderr,
                                      observer=self.observer)
        self._after_attach()
        if stop_at_entry:
            return self._make_stop(StopKind.STEP, self.process.current_tid, self.process.get_pc())
        return self.cont()

    def attach(self, pid: int) -> Stop:
        if self.is_running:
            raise TargetError("A program is being debugged already.")
        exe = f"/proc/{pid}/exe"
        process = Process.attach(pid, observer=self.observer)
        self.process = process
        try:
            if self.executable is None or not os.path.samefile(self.executable, exe):
                self.load_executable(os.readlink(exe))
        except (OSError, PydbgError):
            pass
        self._after_attach()
        # gdb's "[New LWP n]" for each thread but the main one, before the stop.
        for tid in sorted(t for t in process.threads if t != pid):
            try:
                pointer = process.get_registers(tid).fs_base
            except Exception:
                pointer = 0
            self._thread_pointers[tid] = pointer
            self.threads.on_thread("new", tid, pointer)
            self.notices.append(f"[New LWP {tid}]")
        stop = self._make_stop(StopKind.ATTACHED, process.current_tid, process.get_pc())
        self.last_stop = stop
        return stop

    def _on_thread(self, kind: str, tid: int) -> None:
        """gdb's [New Thread 0x7ffff7d8a6c0 (LWP 123)] / [Thread ... exited] notices, and
        [Detaching after fork from child process N] for a child let go (ptrace layer)."""
        process = self.process
        if kind in ("fork", "vfork"):
            self.notices.append(f"[Detaching after {kind} from child process {tid}]")
            if self.notice_sink is not None:
                while self.notices:
                    self.notice_sink(self.notices.pop(0))
            return
        if kind == "new":
            pointer = 0
            if process is not None:
                try:
                    pointer = process.get_registers(tid).fs_base
                except Exception:
                    pointer = 0
            self._thread_pointers[tid] = pointer
            self.notices.append(f"[New Thread {pointer:#x} (LWP {tid})]")
        else:
            pointer = self._thread_pointers.pop(tid, 0)
            self.notices.append(f"[Thread {pointer:#x} (LWP {tid}) exited]")
        self.threads.on_thread(kind, tid, pointer)
        if self.notice_sink is not None:
            while self.notices:
                self.notice_sink(self.notices.pop(0))

    def _after_attach(self) -> None:
        """A new process image: compute load biases and (re)insert breakpoint sites."""
        assert self.process is not None
        self.process.thread_callback = self._on_thread
        self._thread_pointers: dict[int, int] = {}
        self.threads.reset()
        discard_dummy_frames(self)
        self.images = []
        self._tracker = None
        self._maps_loaded = False
        self._refresh_images()
        for bp in self.breakpoints.all():
            if bp.kind in ("breakpoint", "dprintf"):
                self._reresolve(bp)
        self._insert_solib_event_breakpoint()
        self.watchpoints.after_attach()
        self.reset_breakpoints()
        # A new process loads its libraries afresh: gdb reports a library's missing source
        # file again rather than `N\tin FILE`.
        self.sources.forget()

    def solib_event_addresses(self) -> list[int]:
        """Where the internal breakpoint on the dynamic linker's r_brk is set."""
        bp = self._solib_event
        return list(bp.addresses()) if bp is not None else []

    def set_observer(self, observer: Callable[[PtraceOp], None] | None) -> None:
        """Report the process layer's operations to OBSERVER (None: stop), for this
        process and the ones started later (`set debug ptrace`)."""
        self.observer = observer
        if self.process is not None:
            self.process.observer = observer

    def detach(self) -> int:
        process = self.require_process()
        pid = process.pid
        process.detach()
        self.process = None
        self.last_stop = None
        return pid

    def kill(self) -> None:
        process = self.require_process()
        process.kill()
        self.process = None
        self.last_stop = None

    def close(self) -> None:
        """Leave as gdb's quit does: kill a spawned process, detach from an attached one."""
        if self.is_running:
            assert self.process is not None
            self.process.close()
        self.process = None

    # ------------------------------------------------------------------ images
    def _refresh_images(self) -> bool:
        """Re-read the process's images (pydbg.engine.images); True if the list changed."""
        process = self.process
        if process is None:
            return False
        tracker = self._tracker
        if tracker is None or tracker.pid != process.pid:
            tracker = self._tracker = ImageTracker(
                process.pid, process.read_memory, self.executable, self.exe_image, open_image)
        changed = tracker.refresh()
        self.images = tracker.images
        self._maps_loaded = True
        return changed

    def link_map(self) -> list[LinkMapEntry]:
        """The dynamic linker's link_map entries (engine/tls.py finds a module's here)."""
        if self.process is None or self._tracker is None:
            return []
        return self._tracker.link_map()

    # ------------------------------------------------------- shared libraries
    def _insert_solib_event_breakpoint(self) -> None:
        """gdb's internal shlib-event breakpoint on the dynamic linker's r_brk."""
        for bp in [b for b in self.breakpoints.all() if b.spec == SOLIB_EVENT_SPEC]:
            self.breakpoints.remove(bp.number)
        self._solib_event = None
        address = self._tracker.event_address() if self._tracker is not None else None
        if address is None:
            return
        bp = self.breakpoints.new(SOLIB_EVENT_SPEC, internal=True)
        bp.locations = [BreakpointLocation(address, "", address)]
        self._solib_event = bp

    def _on_solib_event(self) -> None:
        """The dynamic linker changed its link map: refresh images, re-set breakpoints."""
        assert self._tracker is not None
        rd = self._tracker.r_debug()
        # RT_ADD/RT_DELETE announce a change still in progress; RT_CONSISTENT ends it.
        if rd is not None and rd.r_state != RT_CONSISTENT:
            return
        if self._refresh_images():
            self.reset_breakpoints()
            if any(os.path.basename(i.path).startswith("libc.so") for i in self.images):
                # gdb loads libthread_db with libc: glibc's internal SIG32/SIG33 then
                # pass silently (lin_thread_get_thread_signals).
                self.signals.thread_db_loaded()

    def reset_breakpoints(self) -> None:
        """gdb's breakpoint_re_set: resolve FUNCTION breakpoints again over every image.

        Pending breakpoints get their locations once a library defines the function; a
        breakpoint on a PLT stub moves to the function once its library is loaded.
        """
        for bp in self.breakpoints.all():
            if bp.internal or bp.kind not in ("breakpoint", "dprintf"):
                continue
            if bp.spec.startswith("*") or (bp.locations and
                                           _split_file_line(bp.spec)[1] is not None):
                continue
            try:
                found = self.resolve_location(bp.spec)
            except PydbgError:
                continue
            old = {(loc.image_path, loc.file_address): loc for loc in bp.locations}
            for loc in found:
                prev = old.get((loc.image_path, loc.file_address))
                if prev is not None:
                    loc.enabled = prev.enabled
            bp.locations = found
        self.sync_sites()

    def memory_mappings(self) -> list[tuple[int, int, str, int, str]]:
        """(start, end, perms, offset, path) of each mapping of the running process."""
        return list(iter_maps(self.require_process().pid))

    def image_for_address(self, address: int) -> LoadedImage | None:
        for img in self.images:
            if img.contains(address):
                return img
        if self.is_running:
            self._refresh_images()
            for img in self.images:
                if img.contains(address):
                    return img
        return None

    def static_bias(self) -> int:
        """The program's load bias while no process runs: the last run's (gdb keeps the
        program relocated after it exits), 0 before the first run or a new `file`."""
        return self.main_bias()

    def main_bias(self) -> int:
        for img in self.images:
            if img.is_main:
                return img.bias
        return 0

    def _image_bias(self, path: str) -> int | None:
        """Bias of an image: 0 before the program runs (gdb shows file addresses then)."""
        if not self.is_running:
            return self.static_bias() if self.exe_image and \
                path == str(self.exe_image.path) else None
        for img in self.images:
            if str(img.image.path) == path:
                return img.bias
        return None

    # ----------------------------------------------------------------- symbols
    def symbolize(self, address: int, demangle: bool = False) -> tuple[str, int] | None:
        """(symbol, offset) for gdb's <sym+off>, from ELF symbol tables (DEMANGLE: ELF
        symbols by gdb's print name, as the value printer shows them)."""
        img = self.image_for_address(address) if self.is_running else None
        if img is not None:
            found = img.image.symbolize(address - img.bias, demangle)
        elif not self.is_running and self.exe_image is not None:
            found = self.exe_image.symbolize(address - self.static_bias(), demangle)
        else:
            found = None
        if found is None:
            return None
        sym, off = found
        return sym.name, off

    def symbolic_suffix(self, address: int, demangle: bool = False) -> str | None:
        """'main+4' (or 'main') for an address, None when no symbol covers it."""
        found = self.symbolize(address, demangle)
        if found is None:
            return None
        name, off = found
        # A .cold part before its function's entry pc has a negative offset: <f-12>.
        return f"{name}{off:+d}" if off else name

    def print_symbolic_suffix(self, address: int) -> str | None:
        """symbolic_suffix with ELF symbols by gdb's print name (values, `info symbol`)."""
        return self.symbolic_suffix(address, demangle=True)

    def locate(self, pc: int) -> CodeLocation:
        """Function, file and line of a runtime pc, as gdb's frame line needs them."""
        if self.is_running:
            img = self.image_for_address(pc)
            bias = img.bias if img else 0
            image = img.image if img else None
            library = img.path if img and not img.is_main else None
        else:
            image, bias, library = self.exe_image, self.static_bias(), None
        if image is None:
            return CodeLocation(pc)
        file_pc = pc - bias
        function, offset = None, 0
        func = image.function_at(file_pc)
        if func is not None:
            function, offset = func.name, file_pc - func.low
        else:
            found = image.symbolize(file_pc, print_names=True)
            if found is not None:
                function, offset = found[0].name, found[1]
        entry = image.line_for_address(file_pc) if image.has_debug_info else None
        if entry is None:
            return CodeLocation(pc, function, offset, library=library)
        return CodeLocation(pc, function, offset, file=entry.name, fullname=entry.file,
                            line=entry.line, line_start=(entry.address == file_pc),
                            library=library)

    def lookup_symbol_address(self, name: str) -> tuple[int, str] | None:
        """(runtime address, kind) of an ELF symbol, main image first; a library's
        definition wins over the program's PLT stub, as in gdb's minimal symbol lookup."""
        stub = None
        for image, bias in self._search_images():
            sym = image.get_symbol(name)
            if sym is None:
                continue
            if sym.name != name:          # "name@plt": keep looking for the real one
                stub = stub or (sym.address + (bias or 0), sym.kind)
                continue
            return sym.address + (bias or 0), sym.kind
        return stub

    def image_at(self, address: int) -> tuple[ElfImage, int] | None:
        """(image, load bias) holding a runtime ADDRESS: a loaded image while the program
        runs, else the executable at its static bias."""
        if self.is_running:
            img = self.image_for_address(address)
            return (img.image, img.bias) if img is not None else None
        if self.exe_image is not None:
            return self.exe_image, self.static_bias()
        return None

    def _function_at(self, address: int):
        """(FunctionInfo, bias) for the function containing a runtime address, or None."""
        found = self.image_at(address)
        if found is None:
            return None
        image, bias = found
        func = image.function_at(address - bias)
        return (func, bias) if func is not None else None

    def function_bounds(self, address: int) -> tuple[str, int, int] | None:
        """(name, start, end) of the function containing a runtime address."""
        found = self._function_at(address)
        if found is None:
            return None
        func, bias = found
        return func.name, func.low + bias, func.high + bias

    def function_ranges(self, address: int
                        ) -> tuple[str, int, list[tuple[int, int]]] | None:
        """(name, entry pc, [(start, end)...] in DWARF order) of the function at an address,
        runtime addresses; a function with a .cold part has two ranges."""
        found = self._function_at(address)
        if found is None:
            return None
        func, bias = found
        ranges = [(lo + bias, hi + bias) for lo, hi in func.ranges] or \
            [(func.low + bias, func.high + bias)]
        entry = (func.entry or func.low) + bias
        return func.name, entry, ranges

    def default_source_file(self) -> str | None:
        if self.last_stop is not None and self.last_stop.location and \
                self.last_stop.location.file:
            return self.last_stop.location.file
        if self.sources.current is not None:
            return self.sources.current.fullname
        return self.exe_image.main_source_file() if self.exe_image else None

    # --------------------------------------------------------------- locations
    def resolve_location(self, spec: str, evaluate: Callable[[str], int] | None = None
                         ) -> list[BreakpointLocation]:
        """Addresses for a gdb location: FUNC, FILE:LINE, LINE, *ADDRESS."""
        spec = spec.strip()
        if not spec:
            if self.last_stop is None or self.last_stop.pc is None:
                raise CommandError("No default breakpoint location now selected.")
            return [self._location_at(self.last_stop.pc)]
        if spec.startswith("*"):
            if evaluate is None:
                raise CommandError("Cannot evaluate address expressions here.")
            return [self._location_at(evaluate(spec[1:]))]
        images = self._search_images()
        file, line = _split_file_line(spec)
        if line is not None:
            explicit_file = file is not None
            if file is None:
                file = self.default_source_file()
                if file is None:
                    raise SymbolError("No symbol table is loaded.  Use the \"file\" command.")
            found: list[BreakpointLocation] = []
            for image, bias in images:
                try:
                    matches = image.addresses_for_line(file, line)
                except SymbolError:   # this image (e.g. libc) does not have the file
                    continue
                for match in matches:
                    loc = BreakpointLocation(match.address, str(image.path),
                                             match.address + bias if bias is not None else None,
                                             match.function, match.name, match.line)
                    found.append(loc)
            if not found:
                if not any(image.has_source_file(file) for image, _ in images):
                    raise SymbolError(f"No source file named {file}.")
                if explicit_file:
                    raise SymbolError(f"No line {line} in file \"{file}\".")
                raise SymbolError(f"No line {line} in the current file.")
            return found
        name = spec
        # Every image counts (gdb's linespec searches all objfiles); a PLT stub is only
        # used while no loaded library defines the function itself.
        real: list[BreakpointLocation] = []
        stubs: list[BreakpointLocation] = []
        for image, bias in images:
            for match in image.breakpoint_locations(name):
                a = match.address
                sec = image.section_at(a)
                is_stub = sec is not None and sec.name in (".plt", ".plt.sec", ".plt.got")
                loc = self._make_location(image, bias, a)
                if match.line is not None:
                    # A start inside an inlined call is reported at its call site.
                    loc.file, loc.line = match.name or loc.file, match.line
                from pydbg.engine.frames import block_chain
                if loc.function != name and any(b.name == name
                                                 for b in block_chain(image, a)[0]):
                    loc.function = name   # an inlined instance is "in NAME", as gdb says
                (stubs if is_stub else real).append(loc)
        if real or stubs:
            # gdb keeps a breakpoint's locations in address order (1.1 is the lowest).
            return sorted(real or stubs, key=lambda loc: (
                loc.address if loc.address is not None else loc.file_address))
        raise SymbolError(f"Function \"{name}\" not defined.")

    def _search_images(self) -> list[tuple[ElfImage, int | None]]:
        """The main image first, then shared libraries (only known while running)."""
        if self.is_running:
            if not self._maps_loaded:
                self._refresh_images()
            result = [(img.image, img.bias) for img in self.images]
            if result:
                return result
        return [(self.exe_image, self.static_bias())] if self.exe_image is not None else []

    def _make_location(self, image: ElfImage, bias: int | None, file_addr: int
                       ) -> BreakpointLocation:
        loc = BreakpointLocation(file_addr, str(image.path),
                                 file_addr + bias if bias is not None else None)
        func = image.function_at(file_addr)
        loc.function = func.name if func else None
        entry = image.line_for_address(file_addr) if image.has_debug_info else None
        if entry is not None:
            loc.file, loc.line = entry.name, entry.line
        return loc

    def _location_at(self, address: int) -> BreakpointLocation:
        img = self.image_for_address(address) if self.is_running else None
        if img is not None:
            loc = self._make_location(img.image, img.bias, address - img.bias)
        elif self.exe_image is not None and not self.is_running:
            bias = self.static_bias()
            loc = self._make_location(self.exe_image, bias, address - bias)
        else:
            loc = BreakpointLocation(address, "", address)
        loc.address = address
        return loc

    def _reresolve(self, bp: Breakpoint) -> None:
        """Recompute runtime addresses after (re)start; keep explicit addresses as they are."""
        if bp.spec.startswith("*"):
            for loc in bp.locations:
                bias = self._image_bias(loc.image_path) if loc.image_path else None
                if loc.address is None and bias is not None:
                    loc.address = loc.file_address + bias
            return
        for loc in bp.locations:
            bias = self._image_bias(loc.image_path)
            loc.address = loc.file_address + bias if bias is not None else None
        if not bp.locations:
            try:
                bp.locations = self.resolve_location(bp.spec)
            except PydbgError:
                pass

    # -------------------------------------------------------------- breakpoints
    def add_breakpoint(self, spec: str, *, temporary: bool = False, condition: str | None = None,
                       internal: bool = False, kind: str = "breakpoint",
                       evaluate: Callable[[str], int] | None = None) -> Breakpoint:
        locations = self.resolve_location(spec, evaluate)
        bp = self.breakpoints.new(spec, temporary=temporary, internal=internal, kind=kind)
        bp.locations = locations
        bp.condition = condition
        self.sync_sites()
        return bp

    def add_pending_breakpoint(self, spec: str, *, temporary: bool = False,
                               condition: str | None = None, kind: str = "breakpoint"
                               ) -> Breakpoint:
        """A breakpoint with no location yet (gdb's <PENDING>): resolved when a shared
        library defining SPEC is loaded (see reset_breakpoints)."""
        bp = self.breakpoints.new(spec, temporary=temporary, kind=kind)
        bp.condition = condition
        return bp

    def delete_breakpoint(self, number: int) -> None:
        if self.breakpoints.remove(number) is None:
            raise CommandError(f"No breakpoint number {number}.")
        self.sync_sites()

    def sync_sites(self) -> None:
        """Make the int3 sites in the process match the enabled breakpoint locations."""
        process = self.process
        if process is None or not process.is_alive:
            return
        self.watchpoints.sync()      # debug registers, and scope breakpoints of dead ones
        self._clear_hit_filters()    # built from breakpoints that may have changed
        wanted = self.breakpoints.wanted_addresses()
        for address in list(process.sites):
            if address not in wanted:
                process.remove_site(address)
        for address in wanted:
            site = process.create_site(address)
            if not site.emulation_planned:
                # Decoded once per site: hits that only continue then cost one trap.
                site.emulation_planned = True
                site.emulation = plan_emulation(process.readable_prefix(address, 15), address)
            if not site.enabled:
                try:
                    site.enable()
                except PydbgError:
                    process.sites.pop(address, None)
                    self.notices.append(
                        f"Warning:\nCannot insert breakpoint at {address:#x}.\n"
                        f"Cannot access memory at address {address:#x}")

    # --------------------------------------------------------------- execution
    def cont(self, sig: int | None = None,
             check_condition: Callable[[Breakpoint], bool] | None = None) -> Stop:
        """Continue until a breakpoint whose condition holds, a signal to stop for, or exit."""
        process = self.require_process()
        if self.watchpoints.software_active():   # gdb single-steps to check their values
            return self.watchpoints.software_cont(sig, check_condition)
        process.emulate_step_over = self.settings.emulate_step_over
        stop = self.threads.resume_left_threads(check_condition)
        if stop is not None:   # stepping another thread off its breakpoint stopped it
            self.last_stop = stop
            return stop
        if sig is None:
            sig = self._signal_to_pass()
        self._pending_signal = 0
        self._clear_hit_filters()    # whatever built one outside a cont() (a function call)
        # One SIGINT handler for the whole loop, not one per breakpoint hit.
        try:
            with self._forward_sigint():
                while True:
                    event = process.cont(sig)
                    sig = 0
                    self._drain_thread_notices()
                    stop = self._handle_event(event, check_condition)
                    if stop is not None:
                        self.last_stop = stop
                        return stop
                    if event.reason is StopReason.SIGNAL and \
                            self.signals.get(event.signal or 0).pass_:
                        sig = event.signal or 0
        finally:
            # Filters live for one cont(): commands given at the stop may change any
            # breakpoint, condition or setting they were built from.
            self._clear_hit_filters()

    def breakpoints_changed(self) -> None:
        """Commands run while the program runs (a dprintf's body) call this after they may
        have changed breakpoints: hit filters built from the old ones must not decide."""
        self._clear_hit_filters()

    def _clear_hit_filters(self) -> None:
        self._filters_offered.clear()
        if self.process is not None:
            for site in self.process.sites.values():
                site.hit_filter = None

    def _offer_hit_filter(self, address: int,
                          check_condition: Callable[[Breakpoint], bool] | None) -> None:
        """After a hit at ADDRESS that went on: let the front end's filter decide the next
        ones inside the process layer (no event, no Stop, no engine round trip)."""
        if address in self._filters_offered or self.hit_filter_factory is None or \
                self.process is None:
            return
        self._filters_offered.add(address)
        site = self.process.sites.get(address)
        if site is None or site.emulation is None:
            return
        bps = self.breakpoints.at_address(address)
        if check_condition is None and any(bp.condition for bp in bps):
            return          # this cont() does not test conditions: every such hit stops
        site.hit_filter = self.hit_filter_factory(address, bps)

    def _signal_to_pass(self) -> int:
        """A signal the program stopped with is delivered on resume, unless gdb would not."""
        stop = self.last_stop
        if stop is not None and stop.kind is StopKind.SIGNAL and stop.signal:
            # Not when another thread was selected since: it has the signal (threads.py).
            if self.signals.get(stop.signal).pass_ and \
                    (self.process is None or stop.tid == self.process.current_tid):
                return stop.signal
        # A `handle nostop` signal that arrived during a single-step goes in next.
        return getattr(self, "_pending_signal", 0)

    def _handle_event(self, event: StopEvent,
                      check_condition: Callable[[Breakpoint], bool] | None) -> Stop | None:
        """The engine's verdict on a ptrace event: a Stop to report, or None to go on."""
        if event.reason is StopReason.EXITED:
            self._after_exit()
            return Stop(StopKind.EXITED, event.tid, exit_code=event.exit_code, event=event,
                        pid=event.tid)
        if event.reason is StopReason.KILLED:
            self._after_exit()
            return Stop(StopKind.KILLED, event.tid, signal=event.signal, event=event,
                        pid=event.tid)
        if event.reason is StopReason.BREAKPOINT:
            return self._breakpoint_hit(event, check_condition)
        if event.reason is StopReason.WATCHPOINT:
            return self.watchpoints.handle_trap(event, check_condition)
        if event.reason is StopReason.SIGNAL:
            disp = self.signals.get(event.signal or 0)
            if not disp.stop:
                if disp.print:
                    self._signal_notice(event.signal or 0, event.tid)
                return None
            return self._make_stop(StopKind.SIGNAL, event.tid, event.pc, event=event,
                                   signal=event.signal)
        if event.reason is StopReason.EXEC:
            self._after_attach()
            return None
        if event.reason is StopReason.SINGLE_STEP:
            return self._make_stop(StopKind.STEP, event.tid, event.pc, event=event)
        return self._make_stop(StopKind.SIGNAL, event.tid, event.pc, event=event,
                               signal=event.signal)

    def _breakpoint_hit(self, event: StopEvent,
                        check_condition: Callable[[Breakpoint], bool] | None) -> Stop | None:
        address = event.address if event.address is not None else event.pc
        if self.process is not None and self.process.take_hit_decided():
            return None     # its filter printed or rejected it: only stepping over is left
        hit: list[Breakpoint] = []
        left_scope: list[str] = []
        error = None
        event_bp = self._solib_event
        if event_bp is not None and address in event_bp.addresses():
            self._on_solib_event()
        if self.dummy_frames:       # a function called from an expression returned?
            stop = dummy_return(self, event, address)
            if stop is not None:
                return stop
        for bp in self.breakpoints.at_address(address):
            if bp is event_bp or bp.kind == CALL_DUMMY_KIND:
                continue
            if bp.kind == SCOPE_KIND:   # a watched frame may have returned here
                left_scope += self.watchpoints.scope_hit(bp, event.tid)
                continue
            if bp.thread is not None and bp.thread != event.tid:
                continue
            stops, error = decide_hit(bp, check_condition, error)
            if stops:
                hit.append(bp)
        if left_scope:
            stop = self._make_stop(StopKind.BREAKPOINT if hit else StopKind.WATCHPOINT,
                                   event.tid, address, event=event)
            stop.breakpoints, stop.messages, stop.condition_error = hit, left_scope, error
            stop.source_only = False
            self.sync_sites()
            return stop
        if not hit:
            if error is None:
                self._offer_hit_filter(address, check_condition)
            return None
        if self.report_and_continue is not None and error is None and \
                all((bp.kind == "dprintf" or "report_only" in bp.extra) and not bp.temporary
                    for bp in hit):
            # Breakpoints that only report and continue (dprintf; `pydbg trace` probes mark
            # theirs extra["report_only"]) make no Stop: no location lookup, no stop
            # report, no re-sync of sites per hit.
            for bp in hit:
                self.report_and_continue(bp, event)
            self._offer_hit_filter(address, check_condition)
            return None
        stop = self._make_stop(StopKind.BREAKPOINT, event.tid, address, event=event)
        stop.breakpoints = hit
        stop.condition_error = error
        for bp in hit:
            if bp.temporary:
                self.breakpoints.remove(bp.number)
        self.sync_sites()
        return stop

    def _make_stop(self, kind: StopKind, tid: int, pc: int | None, *,
                   event: StopEvent | None = None, signal: int | None = None) -> Stop:
        pid = self.process.pid if self.process is not None else None
        return Stop(kind, tid, pc=pc, signal=signal, locator=self.locate, event=event,
                    pid=pid)

    def _after_exit(self) -> None:
        # Locations keep their last runtime addresses (gdb shows them after exit); a new
        # run recomputes them.
        self.process = None
        self.watchpoints.on_exit()
        self.dummy_frames.clear()
        # Temporary internal breakpoints of a finished run mean nothing in the next one.
        for bp in [b for b in self.breakpoints.all() if b.internal]:
            self.breakpoints.remove(bp.number)

    def _signal_notice(self, signum: int, tid: int | None = None) -> None:
        """gdb's report of a signal `handle ... nostop print` lets through."""
        from pydbg.engine.signals import signal_description, signal_name
        label = self.threads.stop_label(Stop(StopKind.SIGNAL, tid)) if tid else None
        self.notices.append(f"\n{label or 'Program'} received signal {signal_name(signum)}, "
                            f"{signal_description(signum)}.")
        if self.notice_sink is not None:
            while self.notices:
                self.notice_sink(self.notices.pop(0))

    def _drain_thread_notices(self) -> None:
        process = self.process
        if process is None or not process.thread_notices:
            return
        for kind, tid in process.thread_notices:
            if kind == "new":
                self.notices.append(f"[New Thread {tid} (LWP {tid})]")
            elif kind in ("fork", "vfork"):
                self.notices.append(f"[Detaching after {kind} from child process {tid}]")
            else:
                self.notices.append(f"[Thread {tid} (LWP {tid}) exited]")
        process.thread_notices.clear()

    @contextlib.contextmanager
    def _forward_sigint(self) -> Iterator[None]:
        """While the program runs, Ctrl-C must stop it, not us.

        A spawned program shares our terminal's process group and gets the SIGINT from
        the terminal itself; an attached one has to be sent it.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        process = self.process
        same_group = False
        try:
            same_group = process is not None and os.getpgid(process.pid) == os.getpgid(0)
        except OSError:
            pass

        def handler(signum, frame):  # noqa: ARG001
            if process is not None and process.is_alive and not same_group:
                process.interrupt()

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def step_instruction(self, over_calls: bool = False,
                         check_condition: Callable[[Breakpoint], bool] | None = None) -> Stop:
        """stepi / nexti: one machine instruction (a call as a whole for nexti).
        CHECK_CONDITION decides conditions of watchpoints the instruction triggers."""
        process = self.require_process()
        pc = process.get_pc()
        if over_calls:
            insn = self.decode_instruction(pc)
            if insn is not None and insn.is_call:
                return self.run_to(pc + insn.size, frame_sp=process.get_registers().rsp,
                                   check_condition=check_condition)
        stop = self.threads.step_through_syscall(check_condition)
        if stop is not None:    # a blocking call, which the other threads may have to end
            return stop
        sig = self._signal_to_pass()
        self._pending_signal = 0
        with self._forward_sigint():
            event = process.step_instruction(sig=sig)
        self._drain_thread_notices()
        if event.reason is StopReason.SINGLE_STEP and self.dummy_frames:
            stop = dummy_return(self, event, event.pc)   # stepped out of a called function
            if stop is not None:
                self.last_stop = stop
                return stop
        if event.reason is StopReason.SINGLE_STEP:
            # Landing on a breakpoint counts as hitting it, as in gdb.
            hit = [b for b in self.breakpoints.at_address(event.pc)
                   if not b.internal] if event.pc is not None else []
            if check_condition is not None:   # a conditional one only if it holds
                hit = [b for b in hit if not b.condition or _holds(check_condition, b)]
            if hit:
                for bp in hit:
                    bp.hit_count += 1
                stop = self._make_stop(StopKind.BREAKPOINT, event.tid, event.pc, event=event)
                stop.breakpoints = hit
                self.watchpoints.after_step(stop, check_condition)
                self.last_stop = stop
                return stop
        stop = self._handle_event(event, check_condition)
        if stop is None and event.reason is StopReason.SIGNAL and \
                self.signals.get(event.signal or 0).pass_:
            self._pending_signal = event.signal or 0
        if stop is None:  # e.g. a signal gdb does not stop for: the step still completed
            stop = self._make_stop(StopKind.STEP, event.tid, process.get_pc() if
                                   process.is_alive else None, event=event)
        self.watchpoints.after_step(stop, check_condition)   # left a watched frame? changed?
        self.last_stop = stop
        return stop

    def run_to(self, address: int, frame_sp: int | None = None,
               check_condition: Callable[[Breakpoint], bool] | None = None) -> Stop:
        """Continue until address is reached (in the frame whose sp is frame_sp, if given)."""
        internal = self.breakpoints.new(f"*{address:#x}", internal=True)
        internal.locations = [BreakpointLocation(address, "", address)]
        self.sync_sites()
        try:
            while True:
                stop = self.cont(check_condition=check_condition)
                if stop.kind is StopKind.BREAKPOINT and internal in stop.breakpoints:
                    process = self.require_process()
                    if frame_sp is not None and process.get_registers().rsp <= frame_sp - 8:
                        continue  # a deeper recursive activation reached it first
                    user = [b for b in stop.breakpoints if b is not internal]
                    stop.breakpoints = user
                    if not user:
                        stop.kind = StopKind.STEP
                    return stop
                return stop
        finally:
            if self.breakpoints.remove(internal.number) is not None:
                self.sync_sites()

    # ---------------------------------------------------------- memory, regs
    def read_memory(self, address: int, size: int) -> bytes:
        if self.is_running:
            return self.require_process().read_memory(address, size)
        if self.exe_image is not None:
            # gdb reads the executable's sections when no process runs.
            try:
                return self.exe_image.read(address - self.static_bias(), size)
            except SymbolError:
                pass
        from pydbg.errors import MemoryAccessError
        raise MemoryAccessError(address)

    def readable_prefix(self, address: int, size: int) -> bytes:
        """As many bytes from address as can be read, up to size (for disassembly)."""
        if self.is_running:
            return self.require_process().readable_prefix(address, size)
        try:
            return self.read_memory(address, size)
        except PydbgError:
            out = bytearray()
            for i in range(size):
                try:
                    out += self.read_memory(address + i, 1)
                except PydbgError:
                    break
            return bytes(out)

    def write_memory(self, address: int, data: bytes) -> None:
        self.require_process().write_memory(address, data)

    def decode_instruction(self, address: int):
        try:
            code = self.read_memory(address, 16)
        except PydbgError:
            return None
        insns = self.disassembler.disassemble(code, address, count=1)
        return insns[0] if insns else None

    def cont_to(self, address: int, tid: int,
                check_condition: Callable[[Breakpoint], bool] | None = None) -> Stop:
        """Let every thread run until thread TID reaches ADDRESS (an internal breakpoint
        for it alone), or anything else stops the program first; reaching it is a STEP
        stop. For a step that may wait on the other threads (a blocking system call)."""
        after = self.breakpoints.new(f"*{address:#x}", internal=True)
        after.locations = [BreakpointLocation(address, "", address)]
        after.thread = tid                       # other threads may pass there too
        self.sync_sites()
        try:
            stop = self.cont(check_condition=check_condition)
        finally:
            if self.breakpoints.remove(after.number) is not None:
                self.sync_sites()
        if stop.kind is StopKind.BREAKPOINT and after in stop.breakpoints:
            stop.breakpoints = [b for b in stop.breakpoints if b is not after]
            if not stop.breakpoints:
                stop.kind = StopKind.STEP
        return stop

    def raw_registers(self, tid: int | None = None) -> Any:
        """The current stop's user_regs_struct of TID (the current thread), not copied:
        what the per-hit closures of engine/hitcontext.py read."""
        return self.require_process().get_registers(tid)._raw

    def registers(self, masks: bool = False) -> dict[str, int]:
        """Frame 0's registers by user_regs_struct name; MASKS adds k0-k7 where the CPU
        has them (an XSAVE read: only `info registers` and `$k0` want them, not a hit)."""
        process = self.require_process()
        values = process.get_registers().as_dict()
        if masks:
            values.update(self._mask_registers(process))
        return values

    def mask_registers(self) -> dict[str, int]:
        """k0-k7 of the current thread ({} on CPUs without AVX-512)."""
        return self._mask_registers(self.require_process())

    _xstate_ok: bool | None = None

    def _mask_registers(self, process: Process) -> dict[str, int]:
        # AVX-512 opmask registers live in the XSAVE area (standard format offset 0x440);
        # gdb lists them in `info registers` on such CPUs, so we do too.
        if self._xstate_ok is False:
            return {}
        try:
            xstate = process.get_xstate()
        except Exception:
            Target._xstate_ok = False
            return {}
        from pydbg.engine.fpregs import xsave_offsets
        # The opmask component's offset is the CPU's (Intel 0x440, AMD 0x340).
        offset = xsave_offsets(xstate).get(5) if len(xstate) > 512 else None
        if offset is None or len(xstate) < offset + 64:
            Target._xstate_ok = False
            return {}
        Target._xstate_ok = True
        header_bv = struct.unpack_from("<Q", xstate, 512)[0]
        if not header_bv & (1 << 5):   # component in its init state: all zero
            return {f"k{i}": 0 for i in range(8)}
        return {f"k{i}": struct.unpack_from("<Q", xstate, offset + 8 * i)[0] for i in range(8)}

    def fp_registers(self):
        """The x87/SSE/AVX registers of the current thread (pydbg.engine.fpregs)."""
        from pydbg.engine.fpregs import FpRegisters
        process = self.require_process()
        return FpRegisters(process.get_xstate, process.set_fp_registers,
                           getattr(process, "set_xstate", None))

    def set_register(self, name: str, value: int) -> None:
        self.require_process().set_register(name, value)


def _holds(check_condition: Callable[[Breakpoint], bool], bp: Breakpoint) -> bool:
    """A breakpoint condition; one that cannot be evaluated stops, as in gdb."""
    try:
        return check_condition(bp)
    except PydbgError:
        return True


def _split_file_line(spec: str) -> tuple[str | None, int | None]:
    """'basic.c:12' -> ('basic.c', 12); '12' -> (None, 12); 'add' -> (None, None)."""
    if spec.isdigit():
        return None, int(spec)
    if ":" in spec:
        file, _, line = spec.rpartition(":")
        if line.strip().isdigit() and file:
            return file.strip(), int(line)
    return None, None
