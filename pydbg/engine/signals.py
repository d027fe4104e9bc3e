"""gdb's signal table: names, descriptions, `handle` dispositions (stop/print/pass).

Rows are in gdb's own order (enum gdb_signal, which `info signals` lists and the numbers
1-15 of `handle 14` refer to); Linux signal numbers map onto them by name.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass


def _rt(first: int, last: int, flags: str) -> list[tuple[str, str, str]]:
    return [(f"SIG{n}", flags, f"Real-time event {n}") for n in range(first, last + 1)]


# (gdb name, default "Stop Print pAss" flags, description), from gdb's `info signals`.
_TABLE: list[tuple[str, str, str]] = [
    ("SIGHUP", "SPA", "Hangup"),
    ("SIGINT", "SP-", "Interrupt"),
    ("SIGQUIT", "SPA", "Quit"),
    ("SIGILL", "SPA", "Illegal instruction"),
    ("SIGTRAP", "SP-", "Trace/breakpoint trap"),
    ("SIGABRT", "SPA", "Aborted"),
    ("SIGEMT", "SPA", "Emulation trap"),
    ("SIGFPE", "SPA", "Arithmetic exception"),
    ("SIGKILL", "SPA", "Killed"),
    ("SIGBUS", "SPA", "Bus error"),
    ("SIGSEGV", "SPA", "Segmentation fault"),
    ("SIGSYS", "SPA", "Bad system call"),
    ("SIGPIPE", "SPA", "Broken pipe"),
    ("SIGALRM", "--A", "Alarm clock"),
    ("SIGTERM", "SPA", "Terminated"),
    ("SIGURG", "--A", "Urgent I/O condition"),
    ("SIGSTOP", "SPA", "Stopped (signal)"),
    ("SIGTSTP", "SPA", "Stopped (user)"),
    ("SIGCONT", "SPA", "Continued"),
    ("SIGCHLD", "--A", "Child status changed"),
    ("SIGTTIN", "SPA", "Stopped (tty input)"),
    ("SIGTTOU", "SPA", "Stopped (tty output)"),
    ("SIGIO", "--A", "I/O possible"),
    ("SIGXCPU", "SPA", "CPU time limit exceeded"),
    ("SIGXFSZ", "SPA", "File size limit exceeded"),
    ("SIGVTALRM", "--A", "Virtual timer expired"),
    ("SIGPROF", "--A", "Profiling timer expired"),
    ("SIGWINCH", "--A", "Window size changed"),
    ("SIGLOST", "SPA", "Resource lost"),
    ("SIGUSR1", "SPA", "User defined signal 1"),
    ("SIGUSR2", "SPA", "User defined signal 2"),
    ("SIGPWR", "SPA", "Power fail/restart"),
    ("SIGPOLL", "--A", "Pollable event occurred"),
    ("SIGWIND", "SPA", "SIGWIND"),
    ("SIGPHONE", "SPA", "SIGPHONE"),
    ("SIGWAITING", "--A", "Process's LWPs are blocked"),
    ("SIGLWP", "--A", "Signal LWP"),
    ("SIGDANGER", "SPA", "Swap space dangerously low"),
    ("SIGGRANT", "SPA", "Monitor mode granted"),
    ("SIGRETRACT", "SPA", "Need to relinquish monitor mode"),
    ("SIGMSG", "SPA", "Monitor mode data available"),
    ("SIGSOUND", "SPA", "Sound completed"),
    ("SIGSAK", "SPA", "Secure attention"),
    ("SIGPRIO", "--A", "SIGPRIO"),
    *_rt(33, 63, "SPA"),
    ("SIGCANCEL", "--A", "LWP internal signal"),
    *_rt(32, 32, "SPA"), *_rt(64, 127, "SPA"),
    ("SIGINFO", "SPA", "Information request"),
    ("EXC_BAD_ACCESS", "SPA", "Could not access memory"),
    ("EXC_BAD_INSTRUCTION", "SPA", "Illegal instruction/operand"),
    ("EXC_ARITHMETIC", "SPA", "Arithmetic exception"),
    ("EXC_EMULATION", "SPA", "Emulation instruction"),
    ("EXC_SOFTWARE", "SPA", "Software generated exception"),
    ("EXC_BREAKPOINT", "SPA", "Breakpoint"),
    ("SIGLIBRT", "--A", "librt internal signal"),
]
GDB_SIGNALS: tuple[str, ...] = tuple(name for name, _, _ in _TABLE)
DESCRIPTIONS: dict[str, str] = {name: desc for name, _, desc in _TABLE}
_DEFAULTS: dict[str, str] = {name: flags for name, flags, _ in _TABLE}
# Signals gdb itself uses: `handle` asks before changing them, `handle all` skips them.
DEBUGGER_SIGNALS = frozenset({"SIGTRAP", "SIGINT"})


def signal_name(signum: int) -> str:
    """gdb's name of Linux signal SIGNUM ("SIGUSR1", "SIG34")."""
    if signum >= 32:
        return f"SIG{signum}"
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"SIG{signum}"


def signal_description(signum: int) -> str:
    return DESCRIPTIONS.get(signal_name(signum), f"Unknown signal {signum}")


def host_signal(name: str) -> int | None:
    """The Linux number of gdb signal NAME, None for one Linux does not have."""
    if name == "SIGPOLL":
        return int(signal.SIGIO)
    if name[3:].isdigit() and name.startswith("SIG"):
        n = int(name[3:])
        return n if 32 <= n <= 64 else None
    try:
        return int(signal.Signals[name])
    except KeyError:
        return None


def from_command_number(number: int) -> str:
    """gdb_signal_from_command: `handle 14` means gdb's 14th signal (SIGALRM)."""
    if 1 <= number <= 15:
        return GDB_SIGNALS[number - 1]
    raise ValueError("Only signals 1-15 are valid as numeric signals.\n"
                     "Use \"info signals\" for a list of symbolic signals.")


@dataclass
class SignalDisposition:
    stop: bool
    print: bool
    pass_: bool


class SignalTable:
    """What to do when the program receives each signal, as gdb's `handle` sets it."""

    def __init__(self) -> None:
        self._by_name: dict[str, SignalDisposition] = {
            name: SignalDisposition("S" in f, "P" in f, "A" in f)
            for name, f in _DEFAULTS.items()}

    def get(self, signum: int) -> SignalDisposition:
        """The disposition of Linux signal SIGNUM."""
        name = signal_name(signum)
        disp = self._by_name.get(name)
        if disp is None:
            disp = self._by_name[name] = SignalDisposition(True, True, True)
        return disp

    def thread_db_loaded(self) -> None:
        """glibc's cancellation and setxid signals (SIG32, SIG33) stop and print no more."""
        for name in ("SIG32", "SIG33"):
            d = self._by_name[name]
            d.stop = d.print = False

    def by_name(self, name: str) -> SignalDisposition:
        return self._by_name[name]

    def row(self, name: str) -> str:
        """One `info signals` row, with gdb's padding of the name to 13 columns."""
        d = self._by_name[name]
        yes = ("No", "Yes")
        return (f"{name:<13} {yes[d.stop]}\t{yes[d.print]}\t{yes[d.pass_]}\t\t"
                f"{DESCRIPTIONS[name]}")


HEADER = "Signal        Stop\tPrint\tPass to program\tDescription"
