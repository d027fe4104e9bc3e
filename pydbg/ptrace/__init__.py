"""Process control over ptrace: the only package that imports python-ptrace.

It knows nothing of ELF or DWARF; the engine joins it with pydbg.symbols.
"""

from pydbg.ptrace.process import Process, PtraceOp, Registers, iter_maps
from pydbg.ptrace.sites import BreakpointSite
from pydbg.ptrace.stop import StopEvent, StopReason

__all__ = ["Process", "PtraceOp", "Registers", "BreakpointSite", "StopEvent", "StopReason",
           "iter_maps"]
