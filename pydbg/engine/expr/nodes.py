"""AST of the C expressions gdb users type: frozen dataclasses plus canonical reprinting.

Type names are kept symbolic (TypeSpec trees) for a later evaluator to resolve against DWARF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) of a node in the expression text."""

    start: int
    end: int


# Spans and source text are metadata: structural equality ignores them so tests and
# callers can compare trees built by hand with parsed ones.
@dataclass(frozen=True, kw_only=True)
class Node:
    """Base of every expression node."""

    span: Span = field(default=Span(0, 0), compare=False, repr=False)
    text: str = field(default="", compare=False, repr=False)


# ---------------------------------------------------------------------------- types


@dataclass(frozen=True)
class Qualifiers:
    """cv-qualifiers (plus C11 restrict/_Atomic) attached to a base type or a pointer."""

    const: bool = False
    volatile: bool = False
    restrict: bool = False
    atomic: bool = False

    def words(self) -> list[str]:
        out = []
        if self.const:
            out.append("const")
        if self.volatile:
            out.append("volatile")
        if self.restrict:
            out.append("restrict")
        if self.atomic:
            out.append("_Atomic")
        return out

    def __or__(self, other: Qualifiers) -> Qualifiers:
        return Qualifiers(self.const or other.const, self.volatile or other.volatile,
                          self.restrict or other.restrict, self.atomic or other.atomic)


NO_QUALIFIERS = Qualifiers()


@dataclass(frozen=True)
class BaseType:
    """A named type: kind is "builtin" (canonical gdb name such as "unsigned long"),
    "typedef", or a tag kind "struct" / "union" / "enum"."""

    name: str
    kind: str = "builtin"
    qualifiers: Qualifiers = NO_QUALIFIERS


@dataclass(frozen=True)
class PointerType:
    target: TypeSpec
    qualifiers: Qualifiers = NO_QUALIFIERS


@dataclass(frozen=True)
class ArrayType:
    element: TypeSpec
    length: int | None = None


@dataclass(frozen=True)
class FunctionType:
    """params keeps what was written: () is an empty list, (void) is [void]."""

    result: TypeSpec
    params: tuple[TypeSpec, ...] = ()
    varargs: bool = False


TypeSpec = Union[BaseType, PointerType, ArrayType, FunctionType]


@dataclass(frozen=True)
class TypeName(Node):
    """A type written in an expression: cast, sizeof, {type} addr, or a whole `ptype` argument."""

    type: TypeSpec


# ---------------------------------------------------------------------------- leaves


@dataclass(frozen=True)
class IntLiteral(Node):
    """c_type is the type gdb gives the literal ("int", "unsigned long", "_Complex int"...)."""

    value: int
    c_type: str = "int"
    imaginary: bool = False


@dataclass(frozen=True)
class FloatLiteral(Node):
    """node.text keeps the digits for evaluators needing more precision than a double."""

    value: float
    c_type: str = "double"
    imaginary: bool = False


@dataclass(frozen=True)
class CharLiteral(Node):
    """value is the code unit, already truncated to the character type's width (unsigned)."""

    value: int
    c_type: str = "char"


@dataclass(frozen=True)
class StringLiteral(Node):
    """elements are the code units without the terminating NUL (bytes for narrow strings)."""

    elements: tuple[int, ...]
    element_type: str = "char"

    @property
    def c_type(self) -> str:
        return f"{self.element_type} [{len(self.elements) + 1}]"

    @property
    def value(self) -> bytes | str:
        if self.element_type == "char":
            return bytes(self.elements)
        return "".join(chr(c) for c in self.elements)


@dataclass(frozen=True)
class Identifier(Node):
    """quoted is True for gdb's 'name' form (symbols with odd characters, file names)."""

    name: str
    quoted: bool = False


@dataclass(frozen=True)
class ScopedName(Node):
    """'file.c'::var, func::var, 'file.c'::func::var; scope == () means ::var (global)."""

    scope: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class EntryValue(Node):
    """param@entry: a parameter's value at function entry."""

    name: str


@dataclass(frozen=True)
class History(Node):
    """Value-history reference with gdb's numbering: $ is 0, $$ is -1, $$n is -n, $n is n.
    index <= 0 counts back from the last value; index > 0 is absolute."""

    index: int


@dataclass(frozen=True)
class DollarVariable(Node):
    """$name without the dollar: a register ($rip, $pc, $sp...) if the evaluator knows one
    by that name, otherwise a convenience variable ($_, $foo), as gdb resolves them."""

    name: str


# ---------------------------------------------------------------------------- operators


@dataclass(frozen=True)
class Unary(Node):
    """Prefix operator: - + ! ~ * & ++ --."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Postfix(Node):
    """Postfix ++ or --."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    """Binary operator, including gdb's @ (artificial array), && || and the comma."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Assign(Node):
    """= or a compound assignment such as += (op keeps the full spelling)."""

    op: str
    target: Node
    value: Node


@dataclass(frozen=True)
class Conditional(Node):
    condition: Node
    if_true: Node
    if_false: Node


@dataclass(frozen=True)
class Cast(Node):
    type: TypeName
    operand: Node


@dataclass(frozen=True)
class MemoryValue(Node):
    """gdb's {type} address: the object of that type at that address."""

    type: TypeName
    address: Node


@dataclass(frozen=True)
class SizeOf(Node):
    """sizeof expr, or sizeof(type) when operand is a TypeName."""

    operand: Node


@dataclass(frozen=True)
class AlignOf(Node):
    type: TypeName


@dataclass(frozen=True)
class Index(Node):
    base: Node
    index: Node


@dataclass(frozen=True)
class Member(Node):
    """base.name, or base->name when arrow is True."""

    base: Node
    name: str
    arrow: bool = False


@dataclass(frozen=True)
class Call(Node):
    function: Node
    args: tuple[Node, ...] = ()


@dataclass(frozen=True)
class ArrayLiteral(Node):
    """gdb's {a, b, c} array constructor."""

    elements: tuple[Node, ...]


# ---------------------------------------------------------------------------- printing

# Binding strength used by unparse; mirrors the precedence table in parser.py.
BINARY_PRECEDENCE = {
    ",": 1,
    "||": 4, "&&": 5, "|": 6, "^": 7, "&": 8,
    "==": 9, "!=": 9, "<": 10, ">": 10, "<=": 10, ">=": 10,
    "<<": 11, ">>": 11, "@": 12, "+": 13, "-": 13, "*": 14, "/": 14, "%": 14,
}
ASSIGN_PRECEDENCE = 2
CONDITIONAL_PRECEDENCE = 3
UNARY_PRECEDENCE = 15
POSTFIX_PRECEDENCE = 16
PRIMARY_PRECEDENCE = 17

_SIMPLE_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
                   27: "\\e", 92: "\\\\"}
_INT_SUFFIX = {"int": "", "unsigned int": "u", "long": "l", "unsigned long": "ul",
               "long long": "ll", "unsigned long long": "ull"}
_CHAR_PREFIX = {"char": "", "wchar_t": "L", "char16_t": "u", "char32_t": "U"}


def format_type(spec: TypeSpec, declarator: str = "") -> str:
    """Spell a type the way gdb's ptype/whatis does: "const char **", "int (*)(int)"."""
    if isinstance(spec, PointerType):
        quals = " ".join(spec.qualifiers.words())
        piece = "*" + (" " + quals if quals else "")
        if declarator:
            piece += (" " if quals else "") + declarator
        return format_type(spec.target, piece)
    if isinstance(spec, ArrayType):
        if declarator.startswith("*"):
            declarator = f"({declarator})"
        size = "" if spec.length is None else str(spec.length)
        return format_type(spec.element, f"{declarator}[{size}]")
    if isinstance(spec, FunctionType):
        if declarator.startswith("*"):
            declarator = f"({declarator})"
        params = [format_type(p) for p in spec.params]
        if spec.varargs:
            params.append("...")
        return format_type(spec.result, f"{declarator}({', '.join(params)})")
    words = spec.qualifiers.words()
    words.append(spec.name if spec.kind in ("builtin", "typedef") else f"{spec.kind} {spec.name}")
    base = " ".join(words)
    return f"{base} {declarator}" if declarator else base


def _quote_char(code: int, quote: str) -> str:
    if code in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[code]
    if chr(code) == quote:
        return "\\" + quote
    if 32 <= code < 127:
        return chr(code)
    if code < 256:
        return f"\\{code:03o}"
    return f"\\x{code:x}"


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return BINARY_PRECEDENCE[node.op]
    if isinstance(node, Assign):
        return ASSIGN_PRECEDENCE
    if isinstance(node, Conditional):
        return CONDITIONAL_PRECEDENCE
    if isinstance(node, (Unary, Cast, MemoryValue, SizeOf, AlignOf)):
        return UNARY_PRECEDENCE
    if isinstance(node, (Postfix, Index, Member, Call)):
        return POSTFIX_PRECEDENCE
    if isinstance(node, (IntLiteral, FloatLiteral)) and _render(node).startswith("-"):
        return UNARY_PRECEDENCE
    return PRIMARY_PRECEDENCE


def _sub(node: Node, minimum: int) -> str:
    text = _render(node)
    return f"({text})" if _precedence(node) < minimum else text


def _is_identifier(name: str) -> bool:
    # The lexer's rule, which admits non-ASCII letters.
    return bool(name) and (name[0] in "_$" or name[0].isalpha()) \
        and all(c in "_$" or c.isalnum() for c in name)


def _name(name: str) -> str:
    return name if _is_identifier(name) else f"'{name}'"


def _render(node: Node) -> str:
    if isinstance(node, IntLiteral):
        if node.text:
            return node.text
        base = node.c_type.removeprefix("_Complex ")
        return f"{node.value}{_INT_SUFFIX.get(base, '')}{'i' if node.imaginary else ''}"
    if isinstance(node, FloatLiteral):
        if node.text:
            return node.text
        suffix = {"float": "f", "long double": "l"}.get(node.c_type, "")
        return f"{node.value!r}{suffix}{'i' if node.imaginary else ''}"
    if isinstance(node, CharLiteral):
        return f"{_CHAR_PREFIX.get(node.c_type, '')}'{_quote_char(node.value, chr(39))}'"
    if isinstance(node, StringLiteral):
        body = "".join(_quote_char(c, '"') for c in node.elements)
        return f'{_CHAR_PREFIX.get(node.element_type, "")}"{body}"'
    if isinstance(node, Identifier):
        return f"'{node.name}'" if node.quoted else node.name
    if isinstance(node, ScopedName):
        prefix = "".join(_name(s) + "::" for s in node.scope) if node.scope else "::"
        return prefix + node.name
    if isinstance(node, EntryValue):
        return f"{node.name}@entry"
    if isinstance(node, History):
        if node.index == 0:
            return "$"
        if node.index == -1:
            return "$$"
        return f"$${-node.index}" if node.index < 0 else f"${node.index}"
    if isinstance(node, DollarVariable):
        return "$" + node.name
    if isinstance(node, TypeName):
        return format_type(node.type)
    if isinstance(node, Unary):
        operand = _sub(node.operand, UNARY_PRECEDENCE)
        # Keep "- -x" and "& &x" from fusing into -- or &&.
        sep = " " if operand[:1] in ("-", "+", "&") and operand[:1] == node.op[-1] else ""
        return f"{node.op}{sep}{operand}"
    if isinstance(node, Postfix):
        return _sub(node.operand, POSTFIX_PRECEDENCE) + node.op
    if isinstance(node, Binary):
        prec = BINARY_PRECEDENCE[node.op]
        left, right = _sub(node.left, prec), _sub(node.right, prec + 1)
        return f"{left}, {right}" if node.op == "," else f"{left} {node.op} {right}"
    if isinstance(node, Assign):
        # (a ? b : c) = d parses without the parentheses in gdb, but is clearer with them.
        return (f"{_sub(node.target, CONDITIONAL_PRECEDENCE + 1)} {node.op} "
                f"{_sub(node.value, ASSIGN_PRECEDENCE)}")
    if isinstance(node, Conditional):
        return (f"{_sub(node.condition, CONDITIONAL_PRECEDENCE + 1)} ? "
                f"{_sub(node.if_true, ASSIGN_PRECEDENCE)} : "
                f"{_sub(node.if_false, CONDITIONAL_PRECEDENCE)}")
    if isinstance(node, Cast):
        return f"({format_type(node.type.type)}) {_sub(node.operand, UNARY_PRECEDENCE)}"
    if isinstance(node, MemoryValue):
        return f"{{{format_type(node.type.type)}}} {_sub(node.address, UNARY_PRECEDENCE)}"
    if isinstance(node, SizeOf):
        if isinstance(node.operand, TypeName):
            return f"sizeof({format_type(node.operand.type)})"
        return f"sizeof {_sub(node.operand, UNARY_PRECEDENCE)}"
    if isinstance(node, AlignOf):
        return f"_Alignof({format_type(node.type.type)})"
    if isinstance(node, Index):
        return f"{_sub(node.base, POSTFIX_PRECEDENCE)}[{_render(node.index)}]"
    if isinstance(node, Member):
        base = _sub(node.base, POSTFIX_PRECEDENCE)
        if isinstance(node.base, (IntLiteral, FloatLiteral)):
            base = f"({base})"  # "5.x" would lex as a number
        return f"{base}{'->' if node.arrow else '.'}{node.name}"
    if isinstance(node, Call):
        args = ", ".join(_sub(a, ASSIGN_PRECEDENCE) for a in node.args)
        return f"{_sub(node.function, POSTFIX_PRECEDENCE)}({args})"
    if isinstance(node, ArrayLiteral):
        return "{" + ", ".join(_sub(e, ASSIGN_PRECEDENCE) for e in node.elements) + "}"
    raise TypeError(f"cannot unparse {type(node).__name__}")


def unparse(node: Node) -> str:
    """Reprint an expression canonically, with only the parentheses precedence requires.

    Literals keep their original spelling when the node has source text. gdb reprints
    `display` expressions as typed, so callers wanting that should keep node.text instead.
    """
    return _render(node)
