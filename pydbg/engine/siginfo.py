"""gdb's `$_siginfo`: the stopped thread's siginfo_t, typed as gdb's linux-tdep builds it."""

from __future__ import annotations

from functools import lru_cache

from pydbg.engine.values import Value
from pydbg.symbols.types import (
    ArrayType, BaseType, Member, PointerType, StructType, TypedefType, UnionType, VoidType,
)


def _struct(members: list[tuple[str, object, int]], size: int, name: str | None = None,
            union: bool = False):
    ms = [Member(n, t, off) for n, t, off in members]
    return UnionType(name, size, ms) if union else StructType(name, size, ms)


@lru_cache(maxsize=1)
def siginfo_type() -> StructType:
    """struct siginfo as gdb 13 shows it on amd64 Linux (with the _addr_bnd fields)."""
    int_t = BaseType("int", 4, "signed")
    uint_t = BaseType("unsigned int", 4, "unsigned")
    short_t = BaseType("short", 2, "signed")
    long_t = BaseType("long", 8, "signed")
    void_p = PointerType(VoidType())
    pid_t = TypedefType("__pid_t", int_t)
    uid_t = TypedefType("__uid_t", uint_t)
    clock_t = TypedefType("__clock_t", long_t)
    sigval = _struct([("sival_int", int_t, 0), ("sival_ptr", void_p, 0)], 8, "sigval_t",
                     union=True)
    kill = _struct([("si_pid", pid_t, 0), ("si_uid", uid_t, 4)], 8)
    timer = _struct([("si_tid", int_t, 0), ("si_overrun", int_t, 4),
                     ("si_sigval", sigval, 8)], 16)
    rt = _struct([("si_pid", pid_t, 0), ("si_uid", uid_t, 4), ("si_sigval", sigval, 8)], 16)
    sigchld = _struct([("si_pid", pid_t, 0), ("si_uid", uid_t, 4), ("si_status", int_t, 8),
                       ("si_utime", clock_t, 16), ("si_stime", clock_t, 24)], 32)
    bnd = _struct([("_lower", void_p, 0), ("_upper", void_p, 8)], 16)
    sigfault = _struct([("si_addr", void_p, 0), ("_addr_lsb", short_t, 8),
                        ("_addr_bnd", bnd, 16)], 32)
    sigpoll = _struct([("si_band", long_t, 0), ("si_fd", int_t, 8)], 16)
    sigsys = _struct([("_call_addr", void_p, 0), ("_syscall", int_t, 8),
                      ("_arch", uint_t, 12)], 16)
    fields = _struct([("_pad", ArrayType(int_t, [28], vector=True), 0), ("_kill", kill, 0),
                      ("_timer", timer, 0), ("_rt", rt, 0), ("_sigchld", sigchld, 0),
                      ("_sigfault", sigfault, 0), ("_sigpoll", sigpoll, 0),
                      ("_sigsys", sigsys, 0)], 112, union=True)
    return _struct([("si_signo", int_t, 0), ("si_errno", int_t, 4), ("si_code", int_t, 8),
                    ("_sifields", fields, 16)], 128, "siginfo")


def siginfo_value(raw: bytes) -> Value:
    """$_siginfo from PTRACE_GETSIGINFO's 128 bytes (not an lvalue: pydbg does not write it)."""
    return Value.from_bytes(siginfo_type(), raw)
