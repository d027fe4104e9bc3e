"""gdb's C expression language: lexer, AST nodes and parser, with no process or ELF access.

parse_expression/parse_type build frozen-dataclass trees that the evaluator resolves later.
"""

from pydbg.engine.expr.nodes import (
    AlignOf, ArrayLiteral, ArrayType, Assign, BaseType, Binary, Call, Cast, CharLiteral,
    Conditional, DollarVariable, EntryValue, FloatLiteral, FunctionType, History, Identifier,
    Index, IntLiteral, Member, MemoryValue, Node, PointerType, Postfix, Qualifiers, ScopedName,
    SizeOf, Span, StringLiteral, TypeName, TypeSpec, Unary, format_type, unparse,
)
from pydbg.engine.expr.parser import parse_expression, parse_expression_prefix, parse_type

__all__ = [
    "AlignOf", "ArrayLiteral", "ArrayType", "Assign", "BaseType", "Binary", "Call", "Cast",
    "CharLiteral", "Conditional", "DollarVariable", "EntryValue", "FloatLiteral",
    "FunctionType", "History", "Identifier", "Index", "IntLiteral", "Member", "MemoryValue",
    "Node", "PointerType", "Postfix", "Qualifiers", "ScopedName", "SizeOf", "Span",
    "StringLiteral", "TypeName", "TypeSpec", "Unary", "format_type", "parse_expression",
    "parse_expression_prefix", "parse_type", "unparse",
]
