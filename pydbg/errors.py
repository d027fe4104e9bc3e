"""The one exception hierarchy of pydbg.

Front ends turn a PydbgError into a single line for the user; anything else is a bug
and keeps its traceback.
"""


class PydbgError(Exception):
    """Base of every error pydbg reports to the user as one line."""


class TargetError(PydbgError):
    """The target process could not be controlled (spawn, attach, ptrace, exit)."""


class MemoryAccessError(TargetError):
    """Target memory at an address could not be read or written."""

    def __init__(self, address: int, message: str | None = None) -> None:
        self.address = address
        super().__init__(message or f"Cannot access memory at address {address:#x}")


class SymbolError(PydbgError):
    """ELF/DWARF data is missing, malformed, or has no such symbol."""


class ExpressionError(PydbgError):
    """An expression could not be parsed or evaluated."""


class CommandError(PydbgError):
    """A command was misused (unknown, ambiguous, bad argument)."""
