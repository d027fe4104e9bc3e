"""Signal names, gdb's descriptions, and gdb's default stop/print/pass table (`handle`)."""

from __future__ import annotations

import signal
from dataclasses import dataclass

# gdb's wording (gdb/infrun.c, gdbsupport/signals.def), which differs from strsignal().
DESCRIPTIONS = {
    "SIGHUP": "Hangup", "SIGINT": "Interrupt", "SIGQUIT": "Quit",
    "SIGILL": "Illegal instruction", "SIGTRAP": "Trace/breakpoint trap", "SIGABRT": "Aborted",
    "SIGBUS": "Bus error", "SIGFPE": "Arithmetic exception", "SIGKILL": "Killed",
    "SIGUSR1": "User defined signal 1", "SIGSEGV": "Segmentation fault",
    "SIGUSR2": "User defined signal 2", "SIGPIPE": "Broken pipe", "SIGALRM": "Alarm clock",
    "SIGTERM": "Terminated", "SIGSTKFLT": "Stack fault", "SIGCHLD": "Child status changed",
    "SIGCONT": "Continued", "SIGSTOP": "Stopped (signal)", "SIGTSTP": "Stopped (user)",
    "SIGTTIN": "Stopped (tty input)", "SIGTTOU": "Stopped (tty output)",
    "SIGURG": "Urgent I/O condition", "SIGXCPU": "CPU time limit exceeded",
    "SIGXFSZ": "File size limit exceeded", "SIGVTALRM": "Virtual timer expired",
    "SIGPROF": "Profiling timer expired", "SIGWINCH": "Window size changed",
    "SIGIO": "I/O possible", "SIGPWR": "Power fail/restart", "SIGSYS": "Bad system call",
}

# Signals gdb neither stops at nor prints by default, only passes on.
_QUIET = {"SIGALRM", "SIGURG", "SIGCHLD", "SIGWINCH", "SIGIO", "SIGVTALRM", "SIGPROF", "SIGPRIO",
          "SIGPOLL"}
# Signals gdb stops at but does not pass to the program (they are the debugger's own).
_NOPASS = {"SIGINT", "SIGTRAP"}


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        if signal.SIGRTMIN <= signum <= signal.SIGRTMAX:
            return f"SIG{signum}"
        return f"SIG{signum}"


def signal_description(signum: int) -> str:
    name = signal_name(signum)
    if name in DESCRIPTIONS:
        return DESCRIPTIONS[name]
    if signal.SIGRTMIN <= signum <= signal.SIGRTMAX:
        return f"Real-time event {signum}"
    return f"Unknown signal {signum}"


def parse_signal(text: str) -> int:
    text = text.strip().upper()
    if text.isdigit():
        return int(text)
    if not text.startswith("SIG"):
        text = "SIG" + text
    try:
        return int(signal.Signals[text])
    except KeyError:
        raise ValueError(f"Only signals 1-15 are valid as numeric signals.\n"
                         f"Use \"info signals\" for a list of symbolic signals.") from None


@dataclass
class SignalDisposition:
    stop: bool
    print: bool
    pass_: bool


class SignalTable:
    """What to do when the program receives each signal, as gdb's `handle` sets it."""

    def __init__(self) -> None:
        self._table: dict[int, SignalDisposition] = {}

    def get(self, signum: int) -> SignalDisposition:
        disp = self._table.get(signum)
        if disp is None:
            name = signal_name(signum)
            if name in _QUIET:
                disp = SignalDisposition(False, False, True)
            else:
                disp = SignalDisposition(True, True, name not in _NOPASS)
            self._table[signum] = disp
        return disp
