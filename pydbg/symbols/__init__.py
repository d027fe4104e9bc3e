"""Pure ELF/DWARF symbol access (no process): images, symbols, line tables, functions.

Everything is parsed lazily; addresses are file (link-time) addresses.
"""

from pydbg.symbols.elf import ElfImage, Section, Segment, Symbol
from pydbg.symbols.functions import FunctionInfo
from pydbg.symbols.lines import LineEntry, LineMatch, Row, Subfile

__all__ = ["ElfImage", "Section", "Segment", "Symbol", "FunctionInfo", "LineEntry", "LineMatch",
           "Row", "Subfile"]
