"""pydbg: a gdb-compatible debugger for Linux x86-64 processes, written in Python.

The Python API (pydbg.spawn, pydbg.attach, pydbg.selected) is documented in docs/api.md.
"""

__version__ = "0.1.0"

from pydbg.api import (  # noqa: E402
    Array, Breakpoint, CString, Debugger, Float, Frame, Int, Memory, Pointer, Registers, Stop,
    Struct, Unavailable, attach, selected, spawn,
)
from pydbg.errors import PydbgError  # noqa: E402

__all__ = [
    "Array", "Breakpoint", "CString", "Debugger", "Float", "Frame", "Int", "Memory", "Pointer",
    "PydbgError", "Registers", "Stop", "Struct", "Unavailable", "attach", "selected", "spawn",
    "__version__",
]
