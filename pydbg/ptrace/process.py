"""Process control over ptrace: spawn or attach, resume/step/wait, memory and registers.

All-stop model: when wait() returns an event every thread of the process is stopped, and
resume() restarts them all. Events come back as StopEvent values, never as exceptions.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ptrace.binding import func as pt

from pydbg.errors import MemoryAccessError, TargetError
from pydbg.ptrace.emulate import MEMORY_KINDS, Emulation
from pydbg.ptrace.emulate import apply as apply_emulation
from pydbg.ptrace.sites import BreakpointSite
from pydbg.ptrace.stop import StopEvent, StopReason

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.personality.restype = ctypes.c_int
_libc.personality.argtypes = [ctypes.c_ulong]
# glibc's ptrace() called directly: the breakpoint hot path makes four ptrace calls per hit,
# and python-ptrace's wrappers cost as much again as the calls.
_ptrace = _libc.ptrace
_ptrace.restype = ctypes.c_long
_ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_GETSIGINFO = 0x4202

ADDR_NO_RANDOMIZE = 0x0040000
SYS_TGKILL = 234
WALL = 0x40000000  # __WALL: wait for clone children (threads) too
DEVNULL = -3  # same value as subprocess.DEVNULL: the stream goes to /dev/null

# wait() polls this long before blocking: about ten breakpoint round trips.
SPIN_SECONDS = 0.0005

PTRACE_O_EXITKILL = 0x100000
PTRACE_OPTIONS = (pt.PTRACE_O_TRACECLONE | pt.PTRACE_O_TRACEEXEC |
                  pt.PTRACE_O_TRACEFORK | pt.PTRACE_O_TRACEVFORK)

# si_code values of SIGTRAP (asm-generic/siginfo.h).
SI_KERNEL = 0x80
TRAP_BRKPT = 1
TRAP_TRACE = 2
TRAP_HWBKPT = 4

PTRACE_GETREGSET = 0x4204
NT_X86_XSTATE = 0x202
XSTATE_MAX = 4096

# offsetof(struct user, u_debugreg) on x86-64.
DEBUGREG_OFFSET = 848

Observer = Callable[["PtraceOp"], None]


@dataclass(frozen=True)
class PtraceOp:
    """One low-level operation, reported to an optional observer (teaching mode)."""
    op: str
    details: dict[str, Any] = field(default_factory=dict)


class Registers:
    """The general-purpose registers of one stopped thread (struct user_regs_struct)."""

    __slots__ = ("_raw", "dirty", "_kernel_rip", "_only_rip")
    names = tuple(name for name, _ in pt.ptrace_registers_t._fields_)
    _known = frozenset(names)          # written twice per breakpoint hit (rip)

    def __init__(self, raw: pt.ptrace_registers_t) -> None:
        self._raw = raw
        self.dirty = False
        self._kernel_rip = raw.rip     # what the kernel holds until we write
        self._only_rip = True          # no register but rip was written

    @property
    def needs_write(self) -> bool:
        """Whether the kernel's copy differs: a rip moved back to the kernel's own value
        (a hit resumed right after its int3) costs no SETREGS."""
        return self.dirty and not (self._only_rip and self._raw.rip == self._kernel_rip)

    def __getitem__(self, name: str) -> int:
        try:
            return getattr(self._raw, name)
        except AttributeError:
            raise KeyError(name) from None

    def __setitem__(self, name: str, value: int) -> None:
        if name not in self._known:
            raise KeyError(name)
        setattr(self._raw, name, value & 0xFFFFFFFFFFFFFFFF)
        self.dirty = True
        if name != "rip":
            self._only_rip = False

    def __getattr__(self, name: str) -> int:
        return getattr(self._raw, name)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self._raw, name) for name in self.names}


class Thread:
    """One traced thread (LWP) and what we know of its state."""

    def __init__(self, tid: int) -> None:
        self.tid = tid
        self.running = False
        self.regs: Registers | None = None
        self.pending_signal = 0      # delivered with its next resume
        self.stop_requested = False  # we sent it a SIGSTOP that it has not reported yet
        self.expect_initial_stop = False  # a new clone reports a SIGSTOP first
        self.stepping = False
        self.xstate: bytes | None = None  # read once per stop, like regs

    def __repr__(self) -> str:
        return f"<Thread {self.tid} {'running' if self.running else 'stopped'}>"


def _fast_ptrace(request: int, tid: int, data: int) -> None:
    """ptrace(REQUEST, TID, 0, DATA) for requests that return 0 or -1 (errno)."""
    if _ptrace(request, tid, None, data) == -1:
        code = ctypes.get_errno()
        raise pt.PtraceError(f"ptrace(cmd={request}, pid={tid}) error #{code}: "
                             f"{os.strerror(code)}", errno=code, pid=tid)


def _getregs(tid: int) -> pt.ptrace_registers_t:
    raw = pt.ptrace_registers_t()
    _fast_ptrace(pt.PTRACE_GETREGS, tid, ctypes.addressof(raw))
    return raw


def _tgkill(pid: int, tid: int, sig: int) -> None:
    _libc.syscall(SYS_TGKILL, pid, tid, sig)


def _errno_text(code: int) -> str:
    return os.strerror(code)


class Process:
    """A traced process. Create with launch() or attach()."""

    def __init__(self, pid: int, spawned: bool, observer: Observer | None = None) -> None:
        self.pid = pid
        self.spawned = spawned
        self.observer = observer
        self.threads: dict[int, Thread] = {pid: Thread(pid)}
        self.current_tid = pid
        self.is_alive = True
        self.exit_event: StopEvent | None = None
        self.sites: dict[int, BreakpointSite] = {}
        self.thread_notices: list[tuple[str, int]] = []  # ("new"|"exited", tid), drained by the engine
        # Called as each thread appears or exits (the engine prints gdb's [New Thread ...]).
        self.thread_callback: Callable[[str, int], None] | None = None
        self._mem_fd: int | None = None
        self._debug_regs_used = False
        self._debug_values: dict[int, int] = {}   # DRn as last written, for new threads
        # Watchpoint traps other threads reported while we stopped them: wait() gives them
        # out before resuming anything (the write they report has happened already).
        self._pending_events: list[StopEvent] = []
        # Step off a breakpoint by emulating its displaced instruction where the site has an
        # Emulation (one trap per hit); False always uses restore/single-step/re-insert.
        self.emulate_step_over = True
        # Breakpoint events are plain frozen values: one per (site, thread) is reused for
        # every hit there instead of building one per hit.
        self._hit_events: dict[int, StopEvent] = {}
        # Set when a hit its filter decided could not be absorbed (see _filter_hit).
        self.hit_decided = False
        # How long wait() polls before it blocks (see _spin_then_wait); 0 never polls.
        self.spin_seconds = SPIN_SECONDS if len(os.sched_getaffinity(0)) > 1 else 0.0

    # ----------------------------------------------------------------- creation
    @classmethod
    def launch(cls, argv: list[str], *, env: dict[str, str] | None = None,
               cwd: str | None = None, disable_aslr: bool = True,
               stdin: int | None = None, stdout: int | None = None, stderr: int | None = None,
               observer: Observer | None = None) -> "Process":
        """Fork and exec argv[0] under ptrace; returns with the process stopped at exec."""
        path = argv[0]
        if not os.path.exists(path):
            raise TargetError(f"{path}: No such file or directory.")
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise TargetError(f"Cannot exec {path}: Permission denied.")
        env = dict(os.environ if env is None else env)
        # Like gdb: LINES/COLUMNS describe the terminal the program shares with us.
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:  # child: keep it to async-signal-safe calls as far as Python allows
            try:
                os.close(read_end)
                for target_fd, fd in ((0, stdin), (1, stdout), (2, stderr)):
                    if fd == DEVNULL:
                        fd = os.open(os.devnull, os.O_RDWR)
                    if fd is not None and fd != target_fd:
                        os.dup2(fd, target_fd)
                if disable_aslr:
                    current = _libc.personality(0xFFFFFFFF)
                    _libc.personality(current | ADDR_NO_RANDOMIZE)
                if cwd:
                    os.chdir(cwd)
                pt.ptrace_traceme()
                os.closerange(3, write_end)
                os.closerange(write_end + 1, 1024)
                os.execve(path, argv, env)
            except OSError as exc:
                os.write(write_end, f"{exc.errno}".encode())
            except BaseException:
                os.write(write_end, b"0")
            os._exit(127)
        os.close(write_end)
        failure = os.read(read_end, 64)
        os.close(read_end)
        if failure:
            os.waitpid(pid, 0)
            code = int(failure or b"0")
            raise TargetError(f"Cannot exec {path}: {_errno_text(code) if code else 'failed'}.")
        _, status = os.waitpid(pid, WALL)
        if not os.WIFSTOPPED(status):
            raise TargetError(f"During startup program exited with code {os.waitstatus_to_exitcode(status)}.")
        proc = cls(pid, spawned=True, observer=observer)
        proc.notify("launch", argv=list(argv), pid=pid, aslr=not disable_aslr)
        pt.ptrace_setoptions(pid, PTRACE_OPTIONS | PTRACE_O_EXITKILL)
        return proc

    @classmethod
    def attach(cls, pid: int, observer: Observer | None = None) -> "Process":
        """Attach to every thread of a running process; returns with all of them stopped."""
        task_dir = Path(f"/proc/{pid}/task")
        if not task_dir.exists():
            raise TargetError("ptrace: No such process.")
        if pid == os.getpid():
            raise TargetError("I refuse to debug myself!")
        try:
            pt.ptrace_attach(pid)
        except pt.PtraceError as exc:
            raise TargetError(_attach_error(pid, exc.errno)) from None
        proc = cls(pid, spawned=False, observer=observer)
        proc.notify("attach", pid=pid)
        proc._wait_for_sigstop(proc.threads[pid])
        pt.ptrace_setoptions(pid, PTRACE_OPTIONS)
        # Threads may be created while we attach: repeat until the task list is stable.
        while True:
            tids = {int(t) for t in os.listdir(task_dir)} - set(proc.threads)
            if not tids:
                break
            for tid in sorted(tids):    # gdb's order (/proc/PID/task), so its numbering
                try:
                    pt.ptrace_attach(tid)
                except pt.PtraceError:
                    continue  # it exited meanwhile
                th = Thread(tid)
                proc.threads[tid] = th
                proc._wait_for_sigstop(th)
                pt.ptrace_setoptions(tid, PTRACE_OPTIONS)
        return proc

    def _wait_for_sigstop(self, th: Thread) -> None:
        while True:
            _, status = os.waitpid(th.tid, WALL)
            if os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGSTOP:
                return
            if os.WIFSTOPPED(status):
                # Another signal arrived first: keep it for later and wait on.
                th.pending_signal = os.WSTOPSIG(status)
                self._ptrace_cont(th, 0)
                continue
            raise TargetError("ptrace: No such process.")

    # ---------------------------------------------------------------- observers
    def _thread_notice(self, kind: str, tid: int) -> None:
        if self.thread_callback is not None:
            self.thread_callback(kind, tid)
        else:
            self.thread_notices.append((kind, tid))

    def notify(self, op: str, **details: Any) -> None:
        if self.observer is not None:
            try:
                self.observer(PtraceOp(op, details))
            except Exception:   # noqa: BLE001
                # An observer that fails (its output closed...) is dropped: raising here,
                # between a waitpid and its handling, would lose a thread's status.
                self.observer = None

    # ------------------------------------------------------------------ memory
    def _mem(self) -> int:
        if self._mem_fd is None:
            try:
                self._mem_fd = os.open(f"/proc/{self.pid}/mem", os.O_RDWR | os.O_CLOEXEC)
            except OSError as exc:
                raise TargetError(f"Cannot open memory of process {self.pid}: {exc.strerror}") from None
        return self._mem_fd

    def _close_mem(self) -> None:
        if self._mem_fd is not None:
            os.close(self._mem_fd)
            self._mem_fd = None

    def read_memory_raw(self, address: int, size: int) -> bytes:
        """Bytes as they are in the process, int3 patches included."""
        if size <= 0:
            return b""
        if address < 0 or address + size > 1 << 63:
            raise MemoryAccessError(address)
        fd = self._mem()
        try:
            data = os.pread(fd, size, address)
        except OSError:
            data = b""
        if len(data) == size:
            return data
        # Short or failed read: find the first unreadable byte for gdb's message.
        good = bytearray(data)
        addr = address + len(good)
        while len(good) < size:
            try:
                chunk = os.pread(fd, min(size - len(good), 4096 - (addr % 4096)), addr)
            except OSError:
                chunk = b""
            if not chunk:
                raise MemoryAccessError(addr)
            good += chunk
            addr += len(chunk)
        return bytes(good)

    def read_memory(self, address: int, size: int) -> bytes:
        """Bytes as the program sees them: breakpoint int3 bytes are shadowed."""
        data = self.read_memory_raw(address, size)
        if not self.sites:
            return data
        end = address + size
        patched = None
        for site in self.sites.values():
            if site.enabled and address <= site.address < end:
                if patched is None:
                    patched = bytearray(data)
                patched[site.address - address] = site.saved_byte
        return bytes(patched) if patched is not None else data

    def readable_prefix(self, address: int, size: int) -> bytes:
        """As many shadowed bytes from address as can be read, up to size."""
        try:
            return self.read_memory(address, size)
        except MemoryAccessError as exc:
            n = exc.address - address
            return self.read_memory(address, n) if n > 0 else b""

    def write_memory_raw(self, address: int, data: bytes) -> None:
        try:
            written = os.pwrite(self._mem(), data, address)
        except OSError:
            written = 0
        if written != len(data):
            raise MemoryAccessError(address)
        self.notify("write-memory", address=address, size=len(data))

    def write_memory(self, address: int, data: bytes) -> None:
        """Write program data; bytes under enabled breakpoint sites update the saved byte."""
        buf = bytearray(data)
        end = address + len(buf)
        for site in self.sites.values():
            if site.enabled and address <= site.address < end:
                site.saved_byte = buf[site.address - address]
                buf[site.address - address] = 0xCC
            if site.emulation_planned and site.address - 15 < end and address < site.address + 15:
                # The displaced instruction may have changed: the engine decodes it again.
                site.emulation = None
                site.emulation_planned = False
        self.write_memory_raw(address, bytes(buf))

    # --------------------------------------------------------------- registers
    def thread(self, tid: int | None = None) -> Thread:
        return self.threads[self.current_tid if tid is None else tid]

    def get_registers(self, tid: int | None = None) -> Registers:
        th = self.thread(tid)
        if th.running:
            raise TargetError("Selected thread is running.")
        if th.regs is None:
            th.regs = Registers(_getregs(th.tid))
        return th.regs

    def set_register(self, name: str, value: int, tid: int | None = None) -> None:
        regs = self.get_registers(tid)
        regs[name] = value
        self._flush_registers(self.thread(tid))

    def refresh_registers(self, tid: int | None = None) -> Registers:
        """Write back pending register changes, then read the registers from the kernel."""
        th = self.thread(tid)
        self._flush_registers(th)
        th.regs = th.xstate = None
        return self.get_registers(th.tid)

    def _flush_registers(self, th: Thread) -> None:
        regs = th.regs
        if regs is not None and regs.dirty:
            if regs.needs_write:
                _fast_ptrace(pt.PTRACE_SETREGS, th.tid, ctypes.addressof(regs._raw))
                regs._kernel_rip = regs._raw.rip
                regs._only_rip = True
                if self.observer:
                    self.notify("set-registers", tid=th.tid, rip=regs._raw.rip)
            regs.dirty = False

    def get_pc(self, tid: int | None = None) -> int:
        return self.get_registers(tid).rip

    def set_pc(self, pc: int, tid: int | None = None) -> None:
        self.set_register("rip", pc, tid)

    def get_fp_registers(self, tid: int | None = None) -> bytes:
        """The 512-byte FXSAVE area (x87, MXCSR, xmm0-15) of a stopped thread."""
        th = self.thread(tid)
        buf = ctypes.create_string_buffer(512)
        pt.ptrace(pt.PTRACE_GETFPREGS, th.tid, 0, ctypes.addressof(buf))
        return buf.raw

    def set_fp_registers(self, data: bytes, tid: int | None = None) -> None:
        th = self.thread(tid)
        buf = ctypes.create_string_buffer(bytes(data), 512)
        th.xstate = None
        pt.ptrace(pt.PTRACE_SETFPREGS, th.tid, 0, ctypes.addressof(buf))

    def get_xstate(self, tid: int | None = None) -> bytes:
        """The XSAVE area (PTRACE_GETREGSET NT_X86_XSTATE): x87/SSE, AVX, AVX-512 state."""
        th = self.thread(tid)
        if th.xstate is not None:
            return th.xstate
        if th.running:
            raise TargetError("Selected thread is running.")
        buf = ctypes.create_string_buffer(XSTATE_MAX)
        iov = (ctypes.c_void_p * 2)(ctypes.addressof(buf), XSTATE_MAX)
        pt.ptrace(PTRACE_GETREGSET, th.tid, NT_X86_XSTATE, ctypes.addressof(iov))
        th.xstate = buf.raw[:iov[1]]
        return th.xstate

    def get_siginfo(self, tid: int | None = None) -> bytes:
        """The 128-byte siginfo_t of the signal that stopped a thread (PTRACE_GETSIGINFO)."""
        th = self.thread(tid)
        buf = ctypes.create_string_buffer(128)
        pt.ptrace(PTRACE_GETSIGINFO, th.tid, 0, ctypes.addressof(buf))
        return buf.raw

    def set_xstate(self, data: bytes, tid: int | None = None) -> None:
        """Write the XSAVE area back (PTRACE_SETREGSET NT_X86_XSTATE): AVX/AVX-512 halves."""
        th = self.thread(tid)
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        iov = (ctypes.c_void_p * 2)(ctypes.addressof(buf), len(data))
        th.xstate = None
        pt.ptrace(PTRACE_GETREGSET + 1, th.tid, NT_X86_XSTATE, ctypes.addressof(iov))

    def read_debug_register(self, index: int, tid: int | None = None) -> int:
        th = self.thread(tid)
        return pt.ptrace_peekuser(th.tid, DEBUGREG_OFFSET + 8 * index) & 0xFFFFFFFFFFFFFFFF

    def write_debug_register(self, index: int, value: int) -> None:
        """Write DRn in every thread (watchpoints are process-wide, like gdb's); a clone
        not stopped yet gets them at its first stop (Linux starts clones without any)."""
        self._debug_regs_used = True
        self._debug_values[index] = value
        for th in self.threads.values():
            if not th.running:
                pt.ptrace_pokeuser(th.tid, DEBUGREG_OFFSET + 8 * index, value)
        self.notify("write-debug-register", index=index, value=value)

    def _inherit_debug_registers(self, th: Thread) -> None:
        """Linux starts a clone with no debug registers: give it the process's."""
        for index in (0, 1, 2, 3, 7):   # addresses before DR7 enables them
            if index in self._debug_values:
                try:
                    pt.ptrace_pokeuser(th.tid, DEBUGREG_OFFSET + 8 * index,
                                       self._debug_values[index])
                except pt.PtraceError:
                    pass

    # ---------------------------------------------------------- breakpoint sites
    def create_site(self, address: int) -> BreakpointSite:
        site = self.sites.get(address)
        if site is None:
            site = self.sites[address] = BreakpointSite(self, address)
        return site

    def remove_site(self, address: int) -> None:
        site = self.sites.pop(address, None)
        if site is not None:
            site.disable()

    def enabled_site_at(self, address: int) -> BreakpointSite | None:
        site = self.sites.get(address)
        return site if site is not None and site.enabled else None

    # --------------------------------------------------------------- execution
    def _ptrace_cont(self, th: Thread, sig: int) -> None:
        self._flush_registers(th)
        th.regs = th.xstate = None
        _fast_ptrace(pt.PTRACE_CONT, th.tid, sig)
        th.running = True
        if self.observer:
            self.notify("cont", tid=th.tid, signal=sig)

    def _ptrace_step(self, th: Thread, sig: int) -> None:
        self._flush_registers(th)
        th.regs = th.xstate = None
        pt.ptrace(pt.PTRACE_SINGLESTEP, th.tid, 0, sig)
        th.running = True
        th.stepping = True
        if self.observer:
            self.notify("singlestep", tid=th.tid, signal=sig)

    def _check_alive(self) -> None:
        if not self.is_alive:
            raise TargetError("The program is not being run.")

    def step_instruction(self, tid: int | None = None, sig: int = 0) -> StopEvent:
        """Execute one instruction of one thread (others stay stopped)."""
        self._check_alive()
        th = self.thread(tid)
        pc = self.get_pc(th.tid)
        site = self.enabled_site_at(pc)
        if site is not None:
            site.disable()
        try:
            self._ptrace_step(th, sig)
            event = self._wait_thread(th)
        finally:
            if site is not None and self.is_alive:
                site.enable()
        return event

    def step_over_breakpoint(self, tid: int | None = None, sig: int = 0,
                             emulate: bool | None = None) -> tuple[str, StopEvent | None]:
        """Move a thread stopped at an enabled site past its displaced instruction.

        Returns ("none", None) if there is no site at its pc, ("emulated", None) if the
        instruction was emulated, ("stepped", event) after restore/single-step/re-insert.
        EMULATE overrides emulate_step_over.
        """
        self._check_alive()
        th = self.thread(tid)
        regs = self.get_registers(th.tid)
        site = self.sites.get(regs.rip)
        if site is None or not site.enabled:
            return "none", None
        if emulate is None:
            emulate = self.emulate_step_over
        emu = site.emulation
        # A signal to deliver goes the classic way (its handler runs before the
        # instruction); memory accesses must stay visible to hardware watchpoints.
        if emulate and emu is not None and not sig and \
                not (self._debug_regs_used and emu.kind in MEMORY_KINDS) and \
                self._emulate(th, emu, regs, site.address):
            return "emulated", None
        return "stepped", self.step_instruction(th.tid, sig)

    def _emulate(self, th: Thread, emu: Emulation, regs: Registers, address: int) -> bool:
        if emu.tail_is_same:
            regs["rip"] = address + 1      # the CPU runs the rest (see Emulation)
        elif not apply_emulation(emu, regs, address, self.read_memory, self.write_memory):
            return False
        if self.observer:
            self.notify("emulate-step-over", tid=th.tid, address=address, kind=emu.kind,
                        tail=emu.tail_is_same)
        return True

    def resume(self, sig: int = 0, tid: int | None = None) -> StopEvent | None:
        """Continue all threads. The current thread first steps off a breakpoint site.

        Returns an event only if stepping off the site already stopped the thread (a signal
        arrived, the process exited); otherwise None, and wait() gives the next event.
        """
        self._check_alive()
        if self._pending_events and not sig:
            # Another thread's watchpoint trap is still to be reported: nothing runs.
            event = self._pending_events.pop(0)
            self.current_tid = event.tid
            return event
        th = self.thread(tid)
        how, event = self.step_over_breakpoint(th.tid, sig)
        if how == "stepped":
            sig = 0
            assert event is not None
            if event.reason is not StopReason.SINGLE_STEP:
                return event
        for other in self.threads.values():
            if not other.running:
                self._ptrace_cont(other, sig if other is th else other.pending_signal)
                other.pending_signal = 0
        return None

    def cont(self, sig: int = 0) -> StopEvent:
        """resume() then wait(): the next stop of the process."""
        event = self.resume(sig)
        return event if event is not None else self.wait()

    def wait(self) -> StopEvent:
        """Block until a thread reports an event worth stopping for; stop all the others."""
        self.hit_decided = False
        while True:
            tid, status = self._waitpid_any()
            th = self.threads.get(tid)
            if th is None:
                # A clone whose creation event we have not seen yet: it starts stopped.
                th = self.threads[tid] = Thread(tid)
                th.expect_initial_stop = True
            th.running = False
            event = self._classify(th, status)
            if event is None:
                continue
            if event.reason is StopReason.BREAKPOINT:
                absorbed, event = self._filter_hit(th, event)
                if absorbed:
                    continue
            if event.is_exit:
                return event
            self.current_tid = th.tid
            if len(self.threads) > 1:
                self._stop_all_others(th)
            return event

    def _filter_hit(self, th: Thread, event: StopEvent) -> tuple[bool, StopEvent]:
        """Ask the site's hit filter whether to report this hit; if not, move the thread
        past the emulated instruction and resume it alone (the other threads, if any,
        never stopped). Returns (True, _) when the hit was absorbed, else (False, event
        to report), which may be a later event of the thread."""
        site = self.sites.get(event.pc)
        if site is None or site.hit_filter is None:
            return False, event
        emu = site.emulation
        # Only where the step-over needs no single-step (which lifts the int3 and could
        # let another thread run past it unseen) and no watchpoint could see its write.
        if emu is None or not self.emulate_step_over or \
                (self._debug_regs_used and emu.kind in MEMORY_KINDS):
            return False, event
        regs = self.get_registers(th.tid)
        try:
            report = site.hit_filter(th.tid, regs._raw)
        except Exception:   # noqa: BLE001 - e.g. a closed output: let the engine see the hit
            report = True
        if report:
            return False, event
        if self.observer:
            self.notify("filtered-hit", tid=th.tid, address=site.address)
        if not self._emulate(th, emu, regs, site.address):
            # Memory the emulation needs failed (a stack page not there yet...): the
            # classic step-over lifts the int3, so it must not run while other threads
            # do. The hit goes up like any other, marked decided (printed, counted).
            self.hit_decided = True
            return False, event
        self._ptrace_cont(th, 0)
        return True, event

    def take_hit_decided(self) -> bool:
        """Whether the breakpoint event just returned was already decided by its site's
        hit filter (to be continued from, not evaluated again); clears the mark."""
        decided, self.hit_decided = self.hit_decided, False
        return decided

    def _waitpid_any(self) -> tuple[int, int]:
        if len(self.threads) == 1:          # the common case, once per breakpoint hit
            for th in self.threads.values():
                return self._spin_then_wait(th.tid)
        running = [t for t in self.threads.values() if t.running]
        if len(self.threads) == 1 or len(running) == 1:
            th = running[0] if running else next(iter(self.threads.values()))
            return self._spin_then_wait(th.tid)
        # Several threads: scan them without blocking, sleep on SIGCHLD between scans.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            while True:
                for th in list(self.threads.values()):
                    tid, status = self._waitpid(th.tid, os.WNOHANG)
                    if tid:
                        return tid, status
                signal.sigtimedwait({signal.SIGCHLD}, 0.2)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _spin_then_wait(self, tid: int) -> tuple[int, int]:
        """Poll briefly before blocking: a breakpoint that is hit again within microseconds
        then finds us awake. A blocked tracer and a stopped tracee both leave their CPUs
        idle, and under virtualisation each idle exit and cross-CPU wake-up costs more than
        the whole ptrace round trip (measured 3x on the benchmark loop). The poll is bounded
        by spin_seconds of our CPU per resume, and skipped with a single CPU, where it would
        only take time from the tracee."""
        if self.spin_seconds > 0:
            deadline = time.perf_counter() + self.spin_seconds
            while True:
                got, status = self._waitpid(tid, os.WNOHANG)
                if got:
                    return got, status
                if time.perf_counter() > deadline:
                    break
        return self._waitpid(tid, 0)

    def _waitpid(self, tid: int, flags: int) -> tuple[int, int]:
        while True:
            try:
                got, status = os.waitpid(tid, flags | WALL)
            except ChildProcessError:
                # The thread is gone without a status for us (reaped elsewhere).
                return tid, 0x9  # as if killed by SIGKILL
            if got and self.observer:
                self.notify("wait", tid=got, status=status)
            return got, status

    def _classify(self, th: Thread, status: int) -> StopEvent | None:
        """Turn a wait status into an event; None means handled internally, keep waiting."""
        stepping, th.stepping = th.stepping, False
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            self.threads.pop(th.tid, None)
            if th.tid != self.pid:
                self._thread_notice("exited", th.tid)
                return None
            self._mark_dead()
            if os.WIFEXITED(status):
                ev = StopEvent(StopReason.EXITED, th.tid, exit_code=os.WEXITSTATUS(status))
            else:
                ev = StopEvent(StopReason.KILLED, th.tid, signal=os.WTERMSIG(status))
            self.exit_event = ev
            return ev
        if not os.WIFSTOPPED(status):
            return None
        sig = os.WSTOPSIG(status)
        event_code = status >> 16
        if sig == signal.SIGTRAP and event_code:
            return self._ptrace_event(th, event_code, stepping)
        if sig == signal.SIGSTOP and (th.stop_requested or th.expect_initial_stop):
            if th.expect_initial_stop:
                self._inherit_debug_registers(th)
                # Announced now that it is stopped, so its registers (fs_base) can be read.
                self._thread_notice("new", th.tid)
            th.stop_requested = th.expect_initial_stop = False
            self._restart(th, stepping)
            return None
        if sig == signal.SIGTRAP:
            return self._classify_trap(th, stepping)
        return StopEvent(StopReason.SIGNAL, th.tid, pc=self.get_pc(th.tid), signal=sig)

    def _restart(self, th: Thread, stepping: bool) -> None:
        """Resume a thread after an event handled internally, the way it was running."""
        if stepping:
            self._ptrace_step(th, 0)
        else:
            self._ptrace_cont(th, 0)

    def _ptrace_event(self, th: Thread, code: int, stepping: bool) -> StopEvent | None:
        if code == pt.PTRACE_EVENT_CLONE:
            new_tid = pt.ptrace_geteventmsg(th.tid)
            if new_tid not in self.threads:
                new = self.threads[new_tid] = Thread(new_tid)
                new.expect_initial_stop = True
                new.running = True
            self._restart(th, stepping)
            return None
        if code in (pt.PTRACE_EVENT_FORK, pt.PTRACE_EVENT_VFORK):
            self._detach_forked(pt.ptrace_geteventmsg(th.tid),
                                shares_memory=code == pt.PTRACE_EVENT_VFORK)
            self._restart(th, stepping)
            return None
        if code == pt.PTRACE_EVENT_EXEC:
            # The old image is gone: its threads, sites and memory file with it.
            self.threads = {self.pid: th}
            th.tid = self.pid
            self.sites.clear()
            self._close_mem()
            return StopEvent(StopReason.EXEC, th.tid, pc=self.get_pc(th.tid))
        self._restart(th, stepping)
        return None

    def _detach_forked(self, child: int, shares_memory: bool) -> None:
        """gdb's detach-on-fork: a forked child, traced and stopped from birth, gets back
        the bytes under our int3s (its memory is a copy of ours, int3s included, and a
        trap without us would kill it) and runs on untraced. A vfork child shares our
        memory until it execs: its bytes are ours, so they stay as they are."""
        try:
            os.waitpid(child, WALL)        # its first stop
        except ChildProcessError:
            return
        if not shares_memory:
            try:
                fd = os.open(f"/proc/{child}/mem", os.O_RDWR)
                try:
                    for site in self.sites.values():
                        if site.enabled and site.saved_byte is not None:
                            os.pwrite(fd, bytes([site.saved_byte]), site.address)
                finally:
                    os.close(fd)
            except OSError:
                pass                       # it is gone already
        # Announced before it runs on (gdb's order): its output comes after the notice.
        self.notify("detach-fork", pid=child, shares_memory=shares_memory)
        self._thread_notice("vfork" if shares_memory else "fork", child)
        try:
            pt.ptrace_detach(child)
        except pt.PtraceError:
            pass

    def _classify_trap(self, th: Thread, stepping: bool) -> StopEvent:
        pc = self.get_pc(th.tid)
        if not stepping and not self._debug_regs_used:
            site = self.sites.get(pc - 1)
            emu = site.emulation if site is not None and site.enabled else None
            # Without single-step or debug registers, a SIGTRAP with the pc just past one
            # of our int3 bytes is that int3 (one GETSIGINFO less per hit) -- unless the
            # thread can be at site+1 without executing it: when the displaced instruction
            # is one byte long (push %rbp, nop), after stepping over it, a kill(SIGTRAP)
            # lands there too, and only si_code tells. (Sites are instruction starts; the
            # length is the one the step-over emulation decoded.)
            if emu is not None and emu.length > 1:
                th.regs["rip"] = pc - 1    # written back with the next resume
                return self._breakpoint_event(th.tid, pc - 1)
        info = pt.siginfo()
        _fast_ptrace(PTRACE_GETSIGINFO, th.tid, ctypes.addressof(info))
        code = info.si_code
        dr6 = None
        if self._debug_regs_used:
            dr6 = self.read_debug_register(6, th.tid)
            if dr6 & 0xF:
                pt.ptrace_pokeuser(th.tid, DEBUGREG_OFFSET + 8 * 6, 0)
                return StopEvent(StopReason.WATCHPOINT, th.tid, pc=pc, debug_status=dr6)
        if code in (SI_KERNEL, TRAP_BRKPT) and self.enabled_site_at(pc - 1) is not None:
            # Written back with the next resume: a hit that only continues costs one SETREGS.
            self.get_registers(th.tid)["rip"] = pc - 1
            return self._breakpoint_event(th.tid, pc - 1)
        if stepping and code in (TRAP_TRACE, TRAP_BRKPT, TRAP_HWBKPT):
            return StopEvent(StopReason.SINGLE_STEP, th.tid, pc=pc)
        return StopEvent(StopReason.SIGNAL, th.tid, pc=pc, signal=signal.SIGTRAP)

    def _breakpoint_event(self, tid: int, address: int) -> StopEvent:
        if self.observer:
            self.notify("breakpoint-trap", tid=tid, address=address)
        event = self._hit_events.get(address)
        if event is None or event.tid != tid:
            event = self._hit_events[address] = StopEvent(StopReason.BREAKPOINT, tid,
                                                          pc=address, address=address)
        return event

    def _wait_thread(self, th: Thread) -> StopEvent:
        """Wait for one thread that was resumed alone (single-step)."""
        while True:
            # A step ends within microseconds: polling first saves the sleep and wake-up
            # (software watchpoints single-step whole programs).
            tid, status = self._spin_then_wait(th.tid)
            th.running = False
            event = self._classify(th, status)
            if event is not None:
                if not event.is_exit:
                    self.current_tid = th.tid
                return event
            if th.tid not in self.threads:
                # The stepped thread exited on its own; stop here with the rest.
                return self.wait()

    def _stop_all_others(self, th: Thread) -> None:
        # Clones created while we stop the others are running too: loop until none is.
        while True:
            others = [t for t in self.threads.values() if t.running and t is not th]
            if not others:
                return
            for other in others:
                if not other.stop_requested and not other.expect_initial_stop:
                    _tgkill(self.pid, other.tid, signal.SIGSTOP)
                    other.stop_requested = True
            for other in others:
                self._collect_stop(other)

    def _collect_stop(self, other: Thread) -> None:
        """Wait until a thread we asked to stop is stopped; keep what it reports instead."""
        while other.running and other.tid in self.threads:
            _, status = self._waitpid(other.tid, 0)
            other.running = False
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                self.threads.pop(other.tid, None)
                self._thread_notice("exited", other.tid)
                return
            if not os.WIFSTOPPED(status):
                continue
            sig = os.WSTOPSIG(status)
            if sig == signal.SIGSTOP and (other.stop_requested or other.expect_initial_stop):
                if other.expect_initial_stop:
                    self._inherit_debug_registers(other)
                    other.expect_initial_stop = False
                    self._thread_notice("new", other.tid)
                else:
                    other.stop_requested = False
                return
            if sig == signal.SIGTRAP and status >> 16:
                if status >> 16 == pt.PTRACE_EVENT_CLONE:
                    new_tid = pt.ptrace_geteventmsg(other.tid)
                    if new_tid not in self.threads:
                        new = self.threads[new_tid] = Thread(new_tid)
                        new.expect_initial_stop = True
                        new.running = True
                return
            if sig == signal.SIGTRAP:
                # A breakpoint hit we will not report now: back the pc up so the thread
                # traps again when resumed (if the site is still there).
                pc = self.get_pc(other.tid)
                if self.enabled_site_at(pc - 1) is not None:
                    self.set_pc(pc - 1, other.tid)
                    return
                if self._debug_regs_used:
                    dr6 = self.read_debug_register(6, other.tid)
                    if dr6 & 0xF:
                        pt.ptrace_pokeuser(other.tid, DEBUGREG_OFFSET + 8 * 6, 0)
                        self._pending_events.append(StopEvent(
                            StopReason.WATCHPOINT, other.tid, pc=pc, debug_status=dr6))
                        return
            other.pending_signal = sig

    # ------------------------------------------------------------- termination
    def _mark_dead(self) -> None:
        self.is_alive = False
        self._close_mem()
        for site in self.sites.values():
            site.enabled = False
        self.threads.clear()

    def interrupt(self) -> None:
        """Ask a running process to stop (Ctrl-C): it reports SIGINT."""
        if self.is_alive:
            os.kill(self.pid, signal.SIGINT)

    def kill(self) -> StopEvent | None:
        """Kill the process and reap every thread; returns the exit event."""
        if not self.is_alive:
            return self.exit_event
        self.notify("kill", pid=self.pid)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for tid in list(self.threads):
            if tid == self.pid:
                continue
            try:
                os.waitpid(tid, WALL)
            except ChildProcessError:
                pass
        while True:
            try:
                _, status = os.waitpid(self.pid, WALL)
            except ChildProcessError:
                status = signal.SIGKILL
                break
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                break
        self._mark_dead()
        if os.WIFEXITED(status):
            self.exit_event = StopEvent(StopReason.EXITED, self.pid, exit_code=os.WEXITSTATUS(status))
        else:
            self.exit_event = StopEvent(StopReason.KILLED, self.pid, signal=signal.SIGKILL)
        return self.exit_event

    def detach(self) -> None:
        """Restore every patched byte and debug register, then let the process run on."""
        if not self.is_alive:
            return
        for site in self.sites.values():
            site.disable()
        self.sites.clear()
        if self._debug_regs_used:
            for index in (7, 0, 1, 2, 3):
                try:
                    self.write_debug_register(index, 0)
                except pt.PtraceError:
                    pass
        for th in list(self.threads.values()):
            self._flush_registers(th)
            if th.stop_requested or th.expect_initial_stop:
                # Consume the SIGSTOP we sent, or the process would stop once we leave.
                pt.ptrace_cont(th.tid, th.pending_signal)
                th.pending_signal = 0
                while True:
                    _, status = os.waitpid(th.tid, WALL)
                    if not os.WIFSTOPPED(status) or os.WSTOPSIG(status) == signal.SIGSTOP:
                        break
                    pt.ptrace_cont(th.tid, os.WSTOPSIG(status) if not status >> 16 else 0)
                if not os.WIFSTOPPED(status):
                    continue
            try:
                pt.ptrace_detach(th.tid, th.pending_signal)
            except pt.PtraceError:
                pass
        self.notify("detach", pid=self.pid)
        self.is_alive = False
        self._close_mem()
        self.threads.clear()

    def close(self) -> None:
        """Leave the process as a user would expect: kill it if we spawned it, else detach."""
        if not self.is_alive:
            return
        if self.spawned:
            self.kill()
        else:
            self.detach()

    # ----------------------------------------------------------------- queries
    def thread_ids(self) -> list[int]:
        return sorted(self.threads)

    def stopped(self) -> bool:
        return all(not t.running for t in self.threads.values())


def _attach_error(pid: int, code: int | None) -> str:
    """gdb's attach error text, plus why: ptrace_scope, an existing tracer, or rights."""
    if code == errno.ESRCH:
        return "ptrace: No such process."
    if code != errno.EPERM:
        return f"ptrace: {_errno_text(code or 0)}."
    reasons = []
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("TracerPid:") and int(line.split()[1]) != 0:
                reasons.append(f"process {pid} is already traced by process {int(line.split()[1])}")
    except OSError:
        pass
    try:
        scope = int(Path("/proc/sys/kernel/yama/ptrace_scope").read_text())
        if scope > 0 and not reasons:
            reasons.append(f"/proc/sys/kernel/yama/ptrace_scope is {scope}; "
                           "try as root or set it to 0")
    except (OSError, ValueError):
        pass
    if not reasons:
        reasons.append("you may lack permission to trace this process (another user's, or setuid)")
    return "ptrace: Operation not permitted (" + "; ".join(reasons) + ")."


def iter_maps(pid: int) -> Iterable[tuple[int, int, str, int, str]]:
    """(start, end, perms, offset, path) for each line of /proc/PID/maps."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5].strip() if len(parts) > 5 else ""
            yield start, end, parts[1], int(parts[2], 16), path
