"""gdb's thread list: numbers in order of appearance, target ids, names and the selected thread.

The process layer knows LWPs; this adds what gdb shows of them (`Thread 2 "prog" hit ...`,
`[Switching to Thread 0x... (LWP n)]`, `info threads`) and lets commands look at one thread.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from pydbg.engine.stops import Stop, StopKind
from pydbg.errors import PydbgError
from pydbg.ptrace import StopReason

if TYPE_CHECKING:
    from pydbg.engine.target import Target


@dataclass
class ThreadInfo:
    number: int                 # gdb's per-inferior thread number (1 = the main thread)
    tid: int
    pointer: int = 0            # the pthread_t (its fs_base) when it was announced
    name: str | None = None     # set by `thread name`; else the kernel's comm is shown


class ThreadList:
    """The threads of the target's process as gdb numbers and names them."""

    def __init__(self, target: "Target") -> None:
        self._target = target
        self._pid: int | None = None
        self._by_tid: dict[int, ThreadInfo] = {}
        self._next = 1
        self._numbered: set[int] = set()        # every tid this process ever numbered
        # gdb's previous_inferior_ptid: the thread selected when the program last resumed;
        # a stop in another one prints [Switching to ...].
        self.previous_tid: int | None = None
        # Breakpoint stops of threads switched away from: they step off it on resume.
        self._left: dict[int, Stop] = {}
        self._nptl: dict[str, bool] = {}         # image path -> has glibc's nptl

    # ------------------------------------------------------------------ bookkeeping
    def reset(self) -> None:
        """A new process: numbering starts again at 1 with its main thread."""
        process = self._target.process
        self._pid = process.pid if process is not None else None
        self._by_tid = {}
        self._next = 1
        self._numbered = set()
        self.previous_tid = self._pid
        self._left = {}
        if self._pid is not None:
            self._add(self._pid)

    def _add(self, tid: int, pointer: int = 0) -> ThreadInfo:
        info = self._by_tid[tid] = ThreadInfo(self._next, tid, pointer)
        self._next += 1
        self._numbered.add(tid)
        return info

    def on_thread(self, kind: str, tid: int, pointer: int = 0) -> None:
        """A thread appeared ("new") or exited. Threads are numbered in the order their
        clone events came (the process's thread table order); one may report its first
        stop before an older sibling does, so every unnumbered one is numbered now."""
        self.sync()
        if kind == "new":
            info = self._by_tid.get(tid) or self._add(tid)
            info.pointer = pointer or info.pointer
        else:
            # sync() above already forgot it (the process dropped it first): only a thread
            # never numbered takes one now, as in gdb; the others keep theirs.
            if tid not in self._numbered:
                self._add(tid)
            self._by_tid.pop(tid, None)

    def sync(self) -> None:
        """Number threads the process knows but we do not yet (attach, missed notices) and
        forget ones that are gone."""
        process = self._target.process
        if process is None or not process.is_alive:
            self._by_tid = {}
            return
        if process.pid != self._pid:
            self.reset()
        for tid in process.threads:
            if tid not in self._by_tid:
                self._add(tid)
        for tid in [t for t in self._by_tid if t not in process.threads]:
            del self._by_tid[tid]

    # ---------------------------------------------------------------------- queries
    def all(self) -> list[ThreadInfo]:
        """The live threads, by number."""
        self.sync()
        return sorted(self._by_tid.values(), key=lambda t: t.number)

    def get(self, tid: int) -> ThreadInfo | None:
        self.sync()
        return self._by_tid.get(tid)

    def by_number(self, number: int) -> ThreadInfo | None:
        return next((t for t in self.all() if t.number == number), None)

    def current(self) -> ThreadInfo | None:
        """The selected thread (gdb's inferior_thread), None without a process."""
        process = self._target.process
        if process is None or not process.is_alive:
            return None
        return self.get(process.current_tid)

    def show_in_stops(self) -> bool:
        """gdb's show_thread_that_caused_stop: once a second thread has existed, stop
        reports name the thread, even after the others exited."""
        return self._next > 2

    def pointer(self, info: ThreadInfo) -> int:
        """The thread's pthread_t: its fs_base now (the main thread's is set up after it
        starts), or what it was when the thread was announced."""
        process = self._target.process
        if process is not None:
            th = process.threads.get(info.tid)
            if th is not None and not th.running:
                try:
                    return process.get_registers(info.tid).fs_base or info.pointer
                except (PydbgError, OSError):
                    pass
        return info.pointer

    def target_id(self, info: ThreadInfo) -> str:
        """gdb's target_pid_to_str: `Thread 0x7ffff7d85740 (LWP 12)` once libthread_db
        would be loaded (libc is), else `LWP 12`, or `process 12` for a lone main thread."""
        process = self._target.process
        if self._thread_db():
            return f"Thread {self.pointer(info):#x} (LWP {info.tid})"
        if process is not None and (info.tid != process.pid or len(process.threads) > 1):
            return f"LWP {info.tid}"
        return f"process {info.tid}"

    def _thread_db(self) -> bool:
        """Whether gdb would have libthread_db loaded: a loaded image (libc, or a static
        program) holds glibc's nptl, which its __nptl_version symbol tells."""
        for img in self._target.images:
            key = str(img.path)
            found = self._nptl.get(key)
            if found is None:
                found = self._nptl[key] = img.image.get_symbol("__nptl_version") is not None
            if found:
                return True
        return False

    def name(self, info: ThreadInfo) -> str | None:
        """The name `thread name` gave it, else the kernel's (/proc/PID/task/TID/comm)."""
        if info.name is not None:
            return info.name
        return self.target_name(info)

    def target_name(self, info: ThreadInfo) -> str | None:
        """The kernel's name of the thread (its comm), as gdb's linux-nat reads it."""
        pid = self._pid
        try:
            with open(f"/proc/{pid}/task/{info.tid}/comm") as f:
                return f.read().rstrip("\n")
        except OSError:
            return None

    def target_id_with_name(self, info: ThreadInfo) -> str:
        """`Thread 0x... (LWP 12) "prog"`: the Target Id column of `info threads`."""
        name = self.name(info)
        text = self.target_id(info)
        return f'{text} "{name}"' if name is not None else text

    # ------------------------------------------------------------------ stop reports
    def stop_label(self, stop: Stop) -> str | None:
        """`Thread 2 "prog"` for gdb's `Thread 2 "prog" hit Breakpoint 1, ...` once the
        program has had several threads; None before (the report says `Breakpoint 1, `)."""
        if stop.is_exit or not self.show_in_stops():
            return None
        info = self.get(stop.tid)
        if info is None:
            return None
        name = self.name(info)
        return f'Thread {info.number} "{name}"' if name is not None else \
            f"Thread {info.number}"

    def switch_notice(self, stop: Stop) -> str | None:
        """`[Switching to Thread 0x... (LWP n)]` when STOP is in another thread than the
        one selected when the program resumed (gdb's normal_stop); it is selected now."""
        if stop.is_exit or stop.kind is StopKind.ATTACHED:
            return None
        previous, self.previous_tid = self.previous_tid, stop.tid
        if previous is None or previous == stop.tid:
            return None
        info = self.get(stop.tid)
        if info is None:
            return None
        return f"[Switching to {self.target_id(info)}]"

    # -------------------------------------------------------------------- selection
    def select(self, info: ThreadInfo) -> None:
        """Make INFO's thread the current one (gdb's switch_to_thread): commands read its
        registers and frames, and stepping commands step it; frame 0 is selected."""
        target = self._target
        process = target.require_process()
        if process.current_tid != info.tid:
            self._leave(process.current_tid)
            process.current_tid = info.tid
            self._arrive(info.tid)
            target._frame_stack = None     # noqa: SLF001 - the old thread's frames
        else:
            with contextlib.suppress(PydbgError):
                target.frames.select(0)
        # gdb's proceed() takes the selected thread as the one a stop switches away from.
        self.previous_tid = info.tid

    @contextlib.contextmanager
    def switched(self, info: ThreadInfo) -> Iterator[None]:
        """Look at INFO's thread for a while (info threads, thread apply), then go back to
        the selected thread and frame, if the program did not run meanwhile."""
        target = self._target
        process = target.require_process()
        old_tid, old_previous = process.current_tid, self.previous_tid
        old_stack, old_stop = target._frame_stack, target.last_stop   # noqa: SLF001
        if old_tid != info.tid:
            self._leave(old_tid)
            process.current_tid = info.tid
            self._arrive(info.tid)
        target._frame_stack = None    # noqa: SLF001 - frame 0 selected, as gdb's switch
        self.previous_tid = info.tid
        try:
            yield
        finally:
            if target.process is process and process.is_alive and \
                    target.last_stop is old_stop:
                if process.current_tid != old_tid:
                    self._leave(process.current_tid)
                    process.current_tid = old_tid
                    self._arrive(old_tid)
                target._frame_stack = old_stack                       # noqa: SLF001
                self.previous_tid = old_previous

    # ------------------------------------------------------------------- resuming
    # What a stop leaves to do on resume belongs to its thread, as in gdb: stepping off the
    # breakpoint it hit, delivering the signal it got. The engine keeps that for the
    # current thread (last_stop, Target._pending_signal); while another thread is
    # selected it is kept here and in the thread's pending_signal.

    def _leave(self, tid: int) -> None:
        """The current thread TID stops being the selected one."""
        target, process = self._target, self._target.process
        th = process.threads.get(tid) if process is not None else None
        if th is None:
            return
        stop = target.last_stop
        if stop is not None and stop.tid == tid and stop.kind is StopKind.BREAKPOINT:
            self._left[tid] = stop
        # While TID is still the current thread, this is the signal it would resume with.
        sig = target._signal_to_pass()                               # noqa: SLF001
        target._pending_signal = 0                                   # noqa: SLF001
        if sig:
            th.pending_signal = sig

    def _arrive(self, tid: int) -> None:
        """Thread TID becomes the selected one again: the engine delivers its signal."""
        target, process = self._target, self._target.process
        th = process.threads.get(tid) if process is not None else None
        if th is None or not th.pending_signal:
            return
        stop = target.last_stop
        if not (stop is not None and stop.tid == tid and stop.kind is StopKind.SIGNAL):
            target._pending_signal = th.pending_signal               # noqa: SLF001
        th.pending_signal = 0

    def resume_left_threads(self, check_condition) -> Stop | None:
        """Before the program resumes: a thread switched away from (`thread N`) after it
        reported a breakpoint hit first steps past it, as gdb's step-over chain does
        (resumed on it, it would report the same hit again). Returns a Stop if that
        step itself stopped the thread (a signal, a watchpoint)."""
        if not self._left:
            return None
        target = self._target
        process = target.process
        left, self._left = self._left, {}
        if process is None or not process.is_alive:
            return None
        for tid, stop in left.items():
            th = process.threads.get(tid)
            if tid == process.current_tid or th is None or th.running:
                continue
            if process.get_pc(tid) != stop.pc:
                continue
            how, event = process.step_over_breakpoint(tid)
            if how != "stepped" or event is None or event.reason is StopReason.SINGLE_STEP:
                continue
            found = target._handle_event(event, check_condition)     # noqa: SLF001
            if found is not None:
                if process.is_alive:
                    process.current_tid = event.tid
                return found
            if event.reason is StopReason.SIGNAL and \
                    target.signals.get(event.signal or 0).pass_:
                th.pending_signal = event.signal or 0   # a `handle nostop` one: on resume
        return None

    def step_through_syscall(self, check_condition) -> Stop | None:
        """A single step of a thread interrupted in a system call that the kernel restarts
        on resume (a futex wait, a blocking read, pause), while other threads exist: the
        call may wait for them, so they run meanwhile (gdb's steps let every thread run),
        and the step ends where the call returns, or at another thread's stop. None for an
        ordinary instruction, which the thread steps alone."""
        target = self._target
        process = target.require_process()
        if len(process.threads) < 2:
            return None
        regs = process.get_registers()
        result = regs.rax - (1 << 64) if regs.rax >> 63 else regs.rax
        if result not in _RESTART or regs.orig_rax >> 63:
            return None
        pc, tid = regs.rip, process.current_tid
        # Restart the call as the kernel would (rip back over the 2-byte syscall), but
        # from user space: orig_rax -1 keeps the kernel from backing up rip again.
        regs["rax"] = _RESTART[result] if _RESTART[result] is not None else regs.orig_rax
        regs["orig_rax"] = -1
        regs["rip"] = pc - 2
        stop = target.cont_to(pc, tid, check_condition)
        target.watchpoints.after_step(stop)
        return stop


# Results of a system call interrupted by a signal that the kernel restarts on resume:
# -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND run the call again (None: the number in
# orig_rax); -ERESTART_RESTARTBLOCK runs restart_syscall (219).
_RESTART: dict[int, int | None] = {-512: None, -513: None, -514: None, -516: 219}
