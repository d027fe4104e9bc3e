"""pydbg: a gdb-compatible debugger for Linux x86-64 processes, written in Python."""

__version__ = "0.1.0"
