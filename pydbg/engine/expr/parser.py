"""Recursive-descent parser for gdb's C expressions and type names (mirrors gdb's c-exp.y).

Pure: symbol knowledge comes only from the is_type_name callback (C's "lexer hack").
"""

from __future__ import annotations

from typing import Callable

from pydbg.errors import ExpressionError
from pydbg.engine.expr.lexer import Lexer, Token, encode_units
from pydbg.engine.expr.nodes import (
    ASSIGN_PRECEDENCE, BINARY_PRECEDENCE, CONDITIONAL_PRECEDENCE, NO_QUALIFIERS, AlignOf,
    ArrayLiteral, ArrayType, Assign, BaseType, Binary, Call, Cast, CharLiteral, Conditional,
    DollarVariable, EntryValue, FloatLiteral, FunctionType, History, Identifier, Index,
    IntLiteral, Member, MemoryValue, Node, PointerType, Postfix, Qualifiers, ScopedName,
    SizeOf, Span, StringLiteral, TypeName, TypeSpec, Unary,
)

TypeNamePredicate = Callable[[str], bool]

ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|=")
UNARY_OPS = ("-", "+", "!", "~", "*", "&", "++", "--")

QUALIFIER_WORDS = {"const": "const", "volatile": "volatile", "restrict": "restrict",
                   "__restrict": "restrict", "__restrict__": "restrict", "_Atomic": "atomic"}
TAG_WORDS = ("struct", "union", "enum")
SPECIFIER_WORDS = ("void", "char", "short", "int", "long", "float", "double", "signed",
                   "unsigned", "_Bool", "_Complex", "__complex__")
TYPE_KEYWORDS = frozenset(QUALIFIER_WORDS) | frozenset(TAG_WORDS) | frozenset(SPECIFIER_WORDS)
KEYWORDS = TYPE_KEYWORDS | {"sizeof", "_Alignof"}
# Keywords gdb still accepts as a member name after . or -> (c-exp.y field_name).
FIELD_KEYWORDS = frozenset({"double", "float", "int", "long", "short", "signed", "unsigned",
                            "char", "void", "_Bool"})


def _scalar_table() -> dict[tuple[str, ...], str]:
    """Word sequences gdb's grammar accepts as a base type, with gdb's name for each."""
    table: dict[tuple[str, ...], str] = {}
    spellings = {
        "int": ["int", "signed", "signed int"],
        "long": ["long", "long int", "long signed int", "long signed", "signed long int",
                 "signed long"],
        "unsigned long": ["unsigned long int", "long unsigned int", "long unsigned",
                          "unsigned long"],
        "long long": ["long long", "long long int", "long long signed int", "long long signed",
                      "signed long long", "signed long long int"],
        "unsigned long long": ["unsigned long long", "unsigned long long int",
                               "long long unsigned", "long long unsigned int"],
        "short": ["short", "short int", "short signed int", "short signed", "signed short"],
        "unsigned short": ["unsigned short int", "short unsigned", "short unsigned int",
                           "unsigned short"],
        "unsigned int": ["unsigned", "unsigned int"],
        "char": ["char"], "signed char": ["signed char"], "unsigned char": ["unsigned char"],
        "double": ["double"], "float": ["float"], "long double": ["long double"],
        "void": ["void"], "_Bool": ["_Bool"],
    }
    for name, words in spellings.items():
        for spelling in words:
            table[tuple(spelling.split())] = name
    # _Complex takes the arithmetic scalar types; gdb names float/double ones specially.
    for words, name in list(table.items()):
        if words in (("char",), ("void",), ("_Bool",)):
            continue
        complex_name = {"float": "complex", "double": "double complex"}.get(
            name, "_Complex " + name)
        for keyword in ("_Complex", "__complex__"):
            table[(keyword, *words)] = complex_name
    return table


SCALAR_TYPES = _scalar_table()


def _no_types(name: str) -> bool:
    return False


class Parser:
    """One parse of one expression text."""

    def __init__(self, text: str, is_type_name: TypeNamePredicate = _no_types,
                 comma_terminates: bool = False) -> None:
        self.text = text
        self.is_type_name = is_type_name
        self.lexer = Lexer(text, comma_terminates=comma_terminates)
        self.last_end = 0

    # -- token helpers

    def peek(self, ahead: int = 0) -> Token:
        return self.lexer.peek(ahead)

    def advance(self) -> Token:
        token = self.lexer.next()
        if token.kind != "EOF":
            self.last_end = token.end
        return token

    def error(self, token: Token | None = None) -> ExpressionError:
        token = token or self.peek()
        return ExpressionError(f"A syntax error in expression, near `{self.text[token.start:]}'.")

    def expect_op(self, op: str) -> Token:
        if not self.peek().is_op(op):
            raise self.error()
        return self.advance()

    def make(self, cls: type, start: int, *args: object) -> Node:
        end = max(self.last_end, start)
        return cls(*args, span=Span(start, end), text=self.text[start:end])

    def starts_type(self, token: Token) -> bool:
        if token.kind != "NAME":
            return False
        if token.value in TYPE_KEYWORDS:
            return True
        return token.value not in KEYWORDS and self.is_type_name(token.value)

    # -- entry points

    def parse_start(self) -> Node:
        """gdb's `start: exp1 | type_exp`: an expression or a bare type name."""
        if self.starts_type(self.peek()):
            node: Node = self.parse_type_name()
        else:
            node = self.parse_binary(1)
        if self.peek().kind != "EOF":
            raise self.error()
        return node

    def parse_type_only(self) -> TypeName:
        if not self.starts_type(self.peek()):
            raise self.error()
        node = self.parse_type_name()
        if self.peek().kind != "EOF":
            raise self.error()
        return node

    # -- expressions

    def parse_binary(self, min_prec: int) -> Node:
        start = self.peek().start
        left = self.parse_unary()
        while True:
            token = self.peek()
            if token.kind != "OP":
                break
            op = token.value
            if op in ASSIGN_OPS:
                prec = ASSIGN_PRECEDENCE
            elif op == "?":
                prec = CONDITIONAL_PRECEDENCE
            elif op in BINARY_PRECEDENCE:
                prec = BINARY_PRECEDENCE[op]
            else:
                break
            if prec < min_prec:
                break
            self.advance()
            if op == "?":
                # gdb: exp '?' exp ':' exp, right-associative; the middle is any non-comma exp.
                middle = self.parse_binary(ASSIGN_PRECEDENCE)
                self.expect_op(":")
                right = self.parse_binary(CONDITIONAL_PRECEDENCE)
                left = self.make(Conditional, start, left, middle, right)
            elif op in ASSIGN_OPS:
                right = self.parse_binary(ASSIGN_PRECEDENCE)
                left = self.make(Assign, start, op, left, right)
            else:
                right = self.parse_binary(prec + 1)
                left = self.make(Binary, start, op, left, right)
        return left

    def parse_unary(self) -> Node:
        token = self.peek()
        start = token.start
        if token.kind == "OP" and token.value in UNARY_OPS:
            self.advance()
            operand = self.parse_unary()
            return self.make(Unary, start, token.value, operand)
        if token.is_name("sizeof"):
            self.advance()
            if self.peek().is_op("(") and self.starts_type(self.peek(1)):
                # gdb never reads "sizeof (type) x" as sizeof of a cast.
                self.advance()
                type_name = self.parse_type_name()
                self.expect_op(")")
                return self.make(SizeOf, start, type_name)
            operand = self.parse_unary()
            return self.make(SizeOf, start, operand)
        if token.is_name("_Alignof"):
            self.advance()
            self.expect_op("(")
            if not self.starts_type(self.peek()):
                raise self.error()
            type_name = self.parse_type_name()
            self.expect_op(")")
            return self.make(AlignOf, start, type_name)
        if token.is_op("(") and self.starts_type(self.peek(1)):
            self.advance()
            type_name = self.parse_type_name()
            self.expect_op(")")
            operand = self.parse_unary()
            return self.make(Cast, start, type_name, operand)
        if token.is_op("{") and self.starts_type(self.peek(1)):
            self.advance()
            type_name = self.parse_type_name()
            self.expect_op("}")
            operand = self.parse_unary()
            return self.make(MemoryValue, start, type_name, operand)
        return self.parse_postfix()

    def parse_arguments(self, closer: str) -> tuple[Node, ...]:
        args: list[Node] = []
        if not self.peek().is_op(closer):
            args.append(self.parse_binary(ASSIGN_PRECEDENCE))
            while self.peek().is_op(","):
                self.advance()
                args.append(self.parse_binary(ASSIGN_PRECEDENCE))
        self.expect_op(closer)
        return tuple(args)

    def parse_postfix(self) -> Node:
        start = self.peek().start
        node = self.parse_primary()
        while True:
            token = self.peek()
            if token.is_op("["):
                self.advance()
                index = self.parse_binary(1)
                self.expect_op("]")
                node = self.make(Index, start, node, index)
            elif token.is_op("("):
                self.advance()
                node = self.make(Call, start, node, self.parse_arguments(")"))
            elif token.is_op(".", "->"):
                self.advance()
                field = self.peek()
                if field.kind != "NAME" or (field.value in KEYWORDS
                                            and field.value not in FIELD_KEYWORDS):
                    raise self.error()
                self.advance()
                node = self.make(Member, start, node, field.value, token.value == "->")
            elif token.is_op("++", "--"):
                self.advance()
                node = self.make(Postfix, start, token.value, node)
            else:
                return node

    def parse_scope(self, start: int, scope: list[str]) -> Node:
        """After `first ::`: read name (:: name)*, the last one being the variable."""
        while True:
            token = self.peek()
            if token.kind != "NAME" or token.value in KEYWORDS:
                raise self.error()
            self.advance()
            if self.peek().is_op("::"):
                self.advance()
                scope.append(token.value)
                continue
            return self.make(ScopedName, start, tuple(scope), token.value)

    def parse_primary(self) -> Node:
        token = self.peek()
        start = token.start
        kind = token.kind
        if kind == "INT":
            self.advance()
            return self.make(IntLiteral, start, token.value, token.c_type, token.imaginary)
        if kind == "FLOAT":
            self.advance()
            return self.make(FloatLiteral, start, token.value, token.c_type, token.imaginary)
        if kind == "CHAR":
            self.advance()
            return self.make(CharLiteral, start, token.value, token.c_type)
        if kind == "STRING":
            return self.parse_strings()
        if kind == "DOLLAR":
            self.advance()
            return self.dollar(token, start)
        if kind in ("NAME", "QNAME"):
            if kind == "NAME" and (token.value in KEYWORDS or self.starts_type(token)):
                raise self.error()
            self.advance()
            if self.peek().is_op("::"):
                self.advance()
                return self.parse_scope(start, [token.value])
            if kind == "NAME" and self.peek().kind == "ENTRY":
                self.advance()
                return self.make(EntryValue, start, token.value)
            return self.make(Identifier, start, token.value, kind == "QNAME")
        if token.is_op("::"):
            self.advance()
            return self.parse_scope(start, [])
        if token.is_op("("):
            self.advance()
            inner = self.parse_binary(1)
            self.expect_op(")")
            return inner
        if token.is_op("{"):
            self.advance()
            return self.make(ArrayLiteral, start, self.parse_arguments("}"))
        raise self.error()

    def parse_strings(self) -> Node:
        """Adjacent string literals concatenate; wide prefixes must agree, as in gdb."""
        start = self.peek().start
        units: list[tuple[int, bool]] = []
        element_type = "char"
        while self.peek().kind == "STRING":
            token = self.advance()
            if token.c_type != "char":
                if element_type not in ("char", token.c_type):
                    raise ExpressionError("Undefined string concatenation.")
                element_type = token.c_type
            units.extend(token.units)
        elements = tuple(encode_units(units, element_type))
        return self.make(StringLiteral, start, elements, element_type)

    def dollar(self, token: Token, start: int) -> Node:
        """gdb's write_dollar_variable: history references, else register/convenience."""
        name = token.value
        negate = name.startswith("$$")
        digits = name[2:] if negate else name[1:]
        if digits == "":
            return self.make(History, start, -1 if negate else 0)
        if digits.isascii() and digits.isdigit():
            return self.make(History, start, -int(digits) if negate else int(digits))
        return self.make(DollarVariable, start, name[1:])

    # -- type names

    def parse_qualifiers(self) -> Qualifiers:
        quals = NO_QUALIFIERS
        while self.peek().kind == "NAME" and self.peek().value in QUALIFIER_WORDS:
            word = QUALIFIER_WORDS[self.advance().value]
            quals = quals | Qualifiers(**{word: True})
        return quals

    def parse_base_type(self) -> BaseType:
        token = self.peek()
        if token.kind == "NAME" and token.value in TAG_WORDS:
            self.advance()
            tag = self.peek()
            if tag.kind != "NAME" or tag.value in KEYWORDS:
                raise self.error()
            self.advance()
            return BaseType(tag.value, token.value)
        if token.kind == "NAME" and token.value in SPECIFIER_WORDS:
            words: list[str] = []
            while self.peek(len(words)).kind == "NAME" \
                    and self.peek(len(words)).value in SPECIFIER_WORDS:
                words.append(self.peek(len(words)).value)
            # Take the longest prefix gdb's grammar accepts; the next word is the error.
            count = len(words)
            while count and tuple(words[:count]) not in SCALAR_TYPES:
                count -= 1
            if count == 0:
                raise self.error(self.peek(1))
            for _ in range(count):
                self.advance()
            if words in (["signed"], ["unsigned"]) and self.starts_type(self.peek()) \
                    and self.peek().value not in KEYWORDS:
                # gdb's "UNSIGNED type_name": looks up the type "unsigned NAME".
                name = self.advance().value
                if words == ["unsigned"]:
                    raise ExpressionError(f"No type named unsigned {name}.")
                return BaseType(name, "typedef")
            return BaseType(SCALAR_TYPES[tuple(words[:count])])
        if self.starts_type(token):
            self.advance()
            return BaseType(token.value, "typedef")
        raise self.error()

    def parse_type_name(self) -> TypeName:
        start = self.peek().start
        before = self.parse_qualifiers()
        base = self.parse_base_type()
        after = self.parse_qualifiers()
        spec: TypeSpec = BaseType(base.name, base.kind, before | after)
        spec = self.parse_abstract_declarator()(spec)
        return self.make(TypeName, start, spec)

    def parse_abstract_declarator(self) -> Callable[[TypeSpec], TypeSpec]:
        """Read `* quals ... ( inner ) [n] (params)` and return how it derives from a base."""
        pointers: list[Qualifiers] = []
        while self.peek().is_op("*"):
            self.advance()
            pointers.append(self.parse_qualifiers())
        inner: Callable[[TypeSpec], TypeSpec] | None = None
        if self.peek().is_op("(") and self.peek(1).kind == "OP" \
                and self.peek(1).value in ("*", "(", "["):
            self.advance()
            inner = self.parse_abstract_declarator()
            self.expect_op(")")
        suffixes: list[Callable[[TypeSpec], TypeSpec]] = []
        while True:
            if self.peek().is_op("["):
                self.advance()
                length = None
                if self.peek().kind == "INT":
                    length = self.advance().value
                self.expect_op("]")
                suffixes.append(lambda t, n=length: ArrayType(t, n))
            elif self.peek().is_op("(") and (self.peek(1).is_op(")")
                                             or self.starts_type(self.peek(1))):
                self.advance()
                params, varargs = self.parse_parameters()
                suffixes.append(lambda t, p=params, v=varargs: FunctionType(t, p, v))
            else:
                break

        def derive(spec: TypeSpec) -> TypeSpec:
            for quals in pointers:
                spec = PointerType(spec, quals)
            # The first suffix written is the outermost: int [2][3] is 2 arrays of int[3].
            for suffix in reversed(suffixes):
                spec = suffix(spec)
            return inner(spec) if inner else spec

        return derive

    def parse_parameters(self) -> tuple[tuple[TypeSpec, ...], bool]:
        params: list[TypeSpec] = []
        varargs = False
        if not self.peek().is_op(")"):
            params.append(self.parse_type_name().type)
            while self.peek().is_op(","):
                self.advance()
                if self.peek().is_op("..."):
                    self.advance()
                    varargs = True
                    break
                if not self.starts_type(self.peek()):
                    raise self.error()
                params.append(self.parse_type_name().type)
        self.expect_op(")")
        void = BaseType("void")
        for i, param in enumerate(params):
            if param == void:
                if i == 0 and len(params) > 1:
                    raise ExpressionError("parameter types following 'void'")
                if i > 0:
                    raise ExpressionError("'void' invalid as parameter type")
        return tuple(params), varargs


def parse_expression(text: str, is_type_name: TypeNamePredicate = _no_types) -> Node:
    """Parse a whole gdb C expression (print, display, set var...); a bare type gives a
    TypeName, as gdb accepts for whatis/ptype. Trailing junk is an error, as in gdb."""
    node, end = parse_expression_prefix(text, is_type_name)
    if text[end:].strip(" \t\n"):
        raise ExpressionError("Junk after end of expression.")
    return node


def parse_expression_prefix(text: str, is_type_name: TypeNamePredicate = _no_types,
                            comma_terminates: bool = False) -> tuple[Node, int]:
    """Parse the expression at the start of text; return it and the offset where it ended.

    Like gdb, parsing stops before `if`, `thread N`, `task N`, an unmatched `)` or `]`, and
    (with comma_terminates) a top-level comma, so `break ... if COND` can split its text.
    """
    parser = Parser(text, is_type_name, comma_terminates)
    try:
        node = parser.parse_start()
    except RecursionError:
        raise ExpressionError("Expression too deeply nested.") from None
    return node, parser.peek().start


def parse_type(text: str, is_type_name: TypeNamePredicate = _no_types) -> TypeName:
    """Parse a type name alone ("struct shape", "unsigned int", "char (*)[4]")."""
    parser = Parser(text, is_type_name)
    try:
        node = parser.parse_type_only()
    except RecursionError:
        raise ExpressionError("Expression too deeply nested.") from None
    if text[parser.peek().start:].strip(" \t\n"):
        raise ExpressionError("Junk after end of expression.")
    return node
