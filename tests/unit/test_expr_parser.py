"""Tests for the C expression parser (pydbg.engine.expr), table-driven, with gdb as oracle.

gdb 13 runs on fixtures/expr_parser.c to supply literal types, error wording, operator
precedence (by evaluating integer expressions) and the spelling of type names.
"""

from __future__ import annotations

import subprocess

import pytest

from pydbg.engine.expr import (
    ArrayType, BaseType, Binary, Cast, FunctionType, History, Identifier, IntLiteral, Member,
    Node, PointerType, Qualifiers, SizeOf, StringLiteral, TypeName, format_type,
    parse_expression, parse_expression_prefix, parse_type, unparse,
)
from pydbg.engine.expr import nodes as n
from pydbg.errors import ExpressionError
from tests.support.build import build

TYPEDEFS = {"myint", "point_t", "size_t"}


def is_type_name(name: str) -> bool:
    return name in TYPEDEFS


def parse(text: str) -> Node:
    return parse_expression(text, is_type_name)


def sexpr(node: Node) -> str:
    """A fully parenthesized rendering, independent of unparse(), for structure tables."""
    s = sexpr
    if isinstance(node, n.IntLiteral):
        return str(node.value)
    if isinstance(node, n.FloatLiteral):
        return repr(node.value)
    if isinstance(node, n.CharLiteral):
        return f"c{node.value}"
    if isinstance(node, n.StringLiteral):
        return repr(node.value)
    if isinstance(node, n.Identifier):
        return f"'{node.name}'" if node.quoted else node.name
    if isinstance(node, n.ScopedName):
        return "".join(f"{x}::" for x in node.scope) + node.name if node.scope \
            else "::" + node.name
    if isinstance(node, n.EntryValue):
        return f"{node.name}@entry"
    if isinstance(node, n.History):
        return f"(hist {node.index})"
    if isinstance(node, n.DollarVariable):
        return f"(dollar {node.name})"
    if isinstance(node, n.TypeName):
        return f"[{format_type(node.type)}]"
    if isinstance(node, n.Unary):
        return f"({node.op} {s(node.operand)})"
    if isinstance(node, n.Postfix):
        return f"(post{node.op} {s(node.operand)})"
    if isinstance(node, n.Binary):
        return f"({node.op} {s(node.left)} {s(node.right)})"
    if isinstance(node, n.Assign):
        return f"({node.op} {s(node.target)} {s(node.value)})"
    if isinstance(node, n.Conditional):
        return f"(? {s(node.condition)} {s(node.if_true)} {s(node.if_false)})"
    if isinstance(node, n.Cast):
        return f"(cast {s(node.type)} {s(node.operand)})"
    if isinstance(node, n.MemoryValue):
        return f"(mem {s(node.type)} {s(node.address)})"
    if isinstance(node, n.SizeOf):
        return f"(sizeof {s(node.operand)})"
    if isinstance(node, n.AlignOf):
        return f"(alignof {s(node.type)})"
    if isinstance(node, n.Index):
        return f"([] {s(node.base)} {s(node.index)})"
    if isinstance(node, n.Member):
        return f"({'->' if node.arrow else '.'} {s(node.base)} {node.name})"
    if isinstance(node, n.Call):
        return f"(call {' '.join(s(x) for x in (node.function, *node.args))})"
    if isinstance(node, n.ArrayLiteral):
        return "{" + " ".join(s(x) for x in node.elements) + "}"
    raise AssertionError(node)


STRUCTURE = [
    # arithmetic precedence and associativity
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("1 * 2 + 3", "(+ (* 1 2) 3)"),
    ("a - b - c", "(- (- a b) c)"),
    ("a / b % c * d", "(* (% (/ a b) c) d)"),
    ("a << 1 + 2", "(<< a (+ 1 2))"),
    ("a < b == c > d", "(== (< a b) (> c d))"),
    ("a & b ^ c | d", "(| (^ (& a b) c) d)"),
    ("a | b ^ c & d", "(| a (^ b (& c d)))"),
    ("a && b || c && d", "(|| (&& a b) (&& c d))"),
    ("a || b && c", "(|| a (&& b c))"),
    ("a == b != c", "(!= (== a b) c)"),
    ("a >> b << c", "(<< (>> a b) c)"),
    ("a <= b >= c", "(>= (<= a b) c)"),
    ("a < b > c", "(> (< a b) c)"),
    # a-1 vs a - -1 vs a--1
    ("a-1", "(- a 1)"),
    ("a - -1", "(- a (- 1))"),
    ("a--", "(post-- a)"),
    ("a---b", "(- (post-- a) b)"),
    ("- -a", "(- (- a))"),
    ("-a*b", "(* (- a) b)"),
    ("!a && ~b", "(&& (! a) (~ b))"),
    ("+a", "(+ a)"),
    # conditional, assignment, comma
    ("a ? b : c", "(? a b c)"),
    ("a ? b : c ? d : e", "(? a b (? c d e))"),
    ("a ? b ? c : d : e", "(? a (? b c d) e)"),
    ("a || b ? c : d", "(? (|| a b) c d)"),
    ("a ? b = 1 : c", "(? a (= b 1) c)"),
    ("a ? b : c = d", "(= (? a b c) d)"),
    ("a = b ? c : d", "(= a (? b c d))"),
    ("a = b = c", "(= a (= b c))"),
    ("a += b -= 2", "(+= a (-= b 2))"),
    ("x <<= 1", "(<<= x 1)"),
    ("x >>= 1", "(>>= x 1)"),
    ("x *= 2, x /= 3", "(, (*= x 2) (/= x 3))"),
    ("x %= 2", "(%= x 2)"),
    ("x &= 1 | 2", "(&= x (| 1 2))"),
    ("x ^= y", "(^= x y)"),
    ("x |= y", "(|= x y)"),
    ("a, b, c", "(, (, a b) c)"),
    ("a = 1, b = 2", "(, (= a 1) (= b 2))"),
    ("a + b = c", "(= (+ a b) c)"),
    # postfix / unary
    ("p->x[2].y", "(. ([] (-> p x) 2) y)"),
    ("*p++", "(* (post++ p))"),
    ("++*p", "(++ (* p))"),
    ("--p->n", "(-- (-> p n))"),
    ("&a[1]", "(& ([] a 1))"),
    ("*&x", "(* (& x))"),
    ("-a[1]", "(- ([] a 1))"),
    ("a[i][j]", "([] ([] a i) j)"),
    ("a[1, 2]", "([] a (, 1 2))"),
    ("f()", "(call f)"),
    ("f(1, g(2), 3 + 4)", "(call f 1 (call g 2) (+ 3 4))"),
    ("f((1, 2))", "(call f (, 1 2))"),
    ("(*fp)(1)", "(call (* fp) 1)"),
    ("s.int", "(. s int)"),
    ("s.myint", "(. s myint)"),
    ("p->unsigned", "(-> p unsigned)"),
    ("x@entry", "x@entry"),
    ("counter @entry", "counter@entry"),
    # gdb's @: below + and -, above << (c-exp.y), left-associative
    ("*argv@argc", "(@ (* argv) argc)"),
    ("arr[0]@1+1", "(@ ([] arr 0) (+ 1 1))"),
    ("a@b*2", "(@ a (* b 2))"),
    ("a+b@c", "(@ (+ a b) c)"),
    ("a@b<<1", "(<< (@ a b) 1)"),
    ("a@b@c", "(@ (@ a b) c)"),
    ("-counter@2", "(@ (- counter) 2)"),
    # casts vs parenthesized expressions
    ("(char)65", "(cast [char] 65)"),
    ("(myint)x", "(cast [myint] x)"),
    ("(x)-1", "(- x 1)"),
    ("(myint)-1", "(cast [myint] (- 1))"),
    ("(x)(1)", "(call x 1)"),
    ("(char *) p + 1", "(+ (cast [char *] p) 1)"),
    ("(char)x.y", "(cast [char] (. x y))"),
    ("(char)p->c[1]", "(cast [char] ([] (-> p c) 1))"),
    ("(long)(int)x", "(cast [long] (cast [int] x))"),
    ("(unsigned long) &x", "(cast [unsigned long] (& x))"),
    ("(struct point *) p", "(cast [struct point *] p)"),
    ("(union u) x", "(cast [union u] x)"),
    ("(enum color) 1", "(cast [enum color] 1)"),
    ("(const char **) argv", "(cast [const char **] argv)"),
    ("(int (*)(int)) f", "(cast [int (*)(int)] f)"),
    ("(int[3]) x", "(cast [int [3]] x)"),
    ("(point_t *) 0", "(cast [point_t *] 0)"),
    ("(char)x@3", "(@ (cast [char] x) 3)"),
    ("{int} 0x1000", "(mem [int] 4096)"),
    ("{int} &counter + 1", "(+ (mem [int] (& counter)) 1)"),
    ("{char *} $sp", "(mem [char *] (dollar sp))"),
    ("{1, 2, 3}", "{1 2 3}"),
    ("{1, 2}[1]", "([] {1 2} 1)"),
    # sizeof / _Alignof
    ("sizeof x", "(sizeof x)"),
    ("sizeof(x)", "(sizeof x)"),
    ("sizeof(int)", "(sizeof [int])"),
    ("sizeof (struct point)", "(sizeof [struct point])"),
    ("sizeof(point_t)", "(sizeof [point_t])"),
    ("sizeof(char *)", "(sizeof [char *])"),
    ("sizeof x + 1", "(+ (sizeof x) 1)"),
    ("sizeof (char) + 1", "(+ (sizeof [char]) 1)"),
    ("sizeof(int) * 2", "(* (sizeof [int]) 2)"),
    ("sizeof -x", "(sizeof (- x))"),
    ("sizeof *p", "(sizeof (* p))"),
    ("sizeof p->x", "(sizeof (-> p x))"),
    ("sizeof sizeof x", "(sizeof (sizeof x))"),
    ("sizeof (myint) x", None),
    ("_Alignof(int)", "(alignof [int])"),
    ("_Alignof(struct point) + 1", "(+ (alignof [struct point]) 1)"),
    # names, registers, history and convenience variables
    ("$rip", "(dollar rip)"),
    ("$pc", "(dollar pc)"),
    ("$rsp + 8", "(+ (dollar rsp) 8)"),
    ("$", "(hist 0)"),
    ("$$", "(hist -1)"),
    ("$$3", "(hist -3)"),
    ("$1", "(hist 1)"),
    ("$0", "(hist 0)"),
    ("$$0", "(hist 0)"),
    ("$_", "(dollar _)"),
    ("$__", "(dollar __)"),
    ("$_exitcode", "(dollar _exitcode)"),
    ("$foo", "(dollar foo)"),
    ("$foo = 3", "(= (dollar foo) 3)"),
    ("$1a", "(dollar 1a)"),
    ("'basic.c'::counter", "basic.c::counter"),
    ("add::sum", "add::sum"),
    ("::counter", "::counter"),
    ("'basic.c'::add::sum", "basic.c::add::sum"),
    ("'main'", "'main'"),
    ("&'basic.c'::counter", "(& basic.c::counter)"),
    ("'basic.c'::arr[1]", "([] basic.c::arr 1)"),
    ("foo$bar", "foo$bar"),
    ("_x1", "_x1"),
    # a whole type is accepted at the top, as gdb's start: exp1 | type_exp
    ("int", "[int]"),
    ("unsigned long", "[unsigned long]"),
    ("struct point *", "[struct point *]"),
    ("point_t", "[point_t]"),
]


@pytest.mark.parametrize("text,expected", [s for s in STRUCTURE if s[1]])
def test_structure(text, expected):
    assert sexpr(parse(text)) == expected


@pytest.mark.parametrize("text", [s[0] for s in STRUCTURE if s[1]])
def test_unparse_round_trips(text):
    tree = parse(text)
    assert parse(unparse(tree)) == tree


@pytest.mark.parametrize("text,canonical", [
    ("1+2*3", "1 + 2 * 3"),
    ("(1+2)*3", "(1 + 2) * 3"),
    ("a-(b-c)", "a - (b - c)"),
    ("(a-b)-c", "a - b - c"),
    ("a - -1", "a - -1"),
    ("- -a", "- -a"),
    ("&&a"[1:] + "[0]", "&a[0]"),
    ("(char)65", "(char) 65"),
    ("( int ( * ) ( int ) ) f", "(int (*)(int)) f"),
    ("*argv@argc", "*argv @ argc"),
    ("p->x[2].y", "p->x[2].y"),
    ("(*p).x", "(*p).x"),
    ("(a ? b : c) = d", "(a ? b : c) = d"),
    ("a ? b : (c = d)", "a ? b : (c = d)"),
    ("f((1, 2), 3)", "f((1, 2), 3)"),
    ("sizeof (int)", "sizeof(int)"),
    ("sizeof(x + 1)", "sizeof (x + 1)"),
    ("$$3+$", "$$3 + $"),
    ("'basic.c'::counter", "'basic.c'::counter"),
    ("::x", "::x"),
    ("0x10 + 1ul", "0x10 + 1ul"),
    ("'\\x41'", "'A'"),
    ("'\\n'", "'\\n'"),
    ('"a\\tb" "c"', '"a\\tbc"'),
    ("{int}0x10", "{int} 0x10"),
    ("x@entry", "x@entry"),
])
def test_unparse_canonical(text, canonical):
    assert unparse(parse(text)) == canonical


def test_unparse_synthetic_nodes():
    tree = Binary("*", Binary("+", IntLiteral(1), IntLiteral(2, "unsigned long")),
                  Member(Identifier("s"), "x", arrow=True))
    assert unparse(tree) == "(1 + 2ul) * s->x"
    assert unparse(History(-2)) == "$$2" and unparse(History(4)) == "$4"


def test_sizeof_type_never_takes_a_cast_operand():
    with pytest.raises(ExpressionError, match="near `x'"):
        parse("sizeof (myint) x")


def test_typedef_callback_decides_cast_or_parenthesis():
    assert isinstance(parse_expression("(T)-1", lambda name: name == "T"), Cast)
    assert isinstance(parse_expression("(T)-1"), Binary)
    # Keywords are types whatever the callback says; member names are never looked up.
    assert isinstance(parse_expression("(int)-1", lambda name: False), Cast)
    assert parse_expression("s.T", lambda name: name == "T") == Member(Identifier("s"), "T")


def test_spans_and_text():
    text = "  foo->bar[i + 1] * (char) 65 "
    tree = parse(text)
    assert tree.text == "foo->bar[i + 1] * (char) 65"
    assert tree.span == n.Span(2, 29)
    index = tree.left
    assert index.text == "foo->bar[i + 1]"
    assert index.base.text == "foo->bar"
    assert index.index.text == "i + 1"
    assert tree.right.text == "(char) 65"
    assert tree.right.type.text == "char"
    assert tree.right.operand.text == "65"
    assert parse("(a + b) * c").left.text == "a + b"
    assert parse("'basic.c'::counter").text == "'basic.c'::counter"
    assert parse(" sizeof(int) ").text == "sizeof(int)"


def test_equality_ignores_spans():
    assert parse("a+1") == parse("  a  +  1 ")
    assert parse("a+1") == Binary("+", Identifier("a"), IntLiteral(1))


# ------------------------------------------------------------------ literals

INT_LITERALS = [
    # text, value, gdb's type (also checked against gdb below)
    ("0", 0, "int"), ("1", 1, "int"), ("2147483647", 2**31 - 1, "int"),
    ("2147483648", 2**31, "long"), ("4294967295", 2**32 - 1, "long"),
    ("4294967296", 2**32, "long"), ("0x7fffffff", 2**31 - 1, "int"),
    ("0x80000000", 2**31, "unsigned int"), ("0xffffffff", 2**32 - 1, "unsigned int"),
    ("0x100000000", 2**32, "long"), ("017777777777", 2**31 - 1, "int"),
    ("020000000000", 2**31, "unsigned int"), ("0b101", 5, "int"),
    ("0B11111111111111111111111111111111", 2**32 - 1, "unsigned int"),
    ("9223372036854775807", 2**63 - 1, "long"),
    ("9223372036854775808", 2**63, "unsigned long"),
    ("0x8000000000000000", 2**63, "unsigned long"),
    ("18446744073709551615", 2**64 - 1, "unsigned long"),
    ("1u", 1, "unsigned int"), ("1U", 1, "unsigned int"), ("1l", 1, "long"),
    ("1L", 1, "long"), ("1ul", 1, "unsigned long"), ("1lu", 1, "unsigned long"),
    ("1LU", 1, "unsigned long"), ("1ll", 1, "long long"), ("1LL", 1, "long long"),
    ("1ull", 1, "unsigned long long"), ("1llu", 1, "unsigned long long"),
    ("2147483648u", 2**31, "unsigned int"), ("4294967296u", 2**32, "unsigned long"),
    ("2147483648l", 2**31, "long"), ("9223372036854775808l", 2**63, "unsigned long"),
    ("9223372036854775808ll", 2**63, "unsigned long long"),
    ("1uu", 1, "unsigned int"), ("1lll", 1, "long long"), ("1lul", 1, "unsigned long long"),
    ("0t12", 12, "int"), ("0d12", 12, "int"), ("00", 0, "int"), ("017u", 15, "unsigned int"),
    ("0x1fUL", 31, "unsigned long"), ("0Xab", 171, "int"),
    ("1i", 1, "_Complex int"), ("1ui", 1, "_Complex unsigned int"), ("1li", 1, "_Complex long"),
]

FLOAT_LITERALS = [
    ("1.5", 1.5, "double"), ("1.5f", 1.5, "float"), ("1.5F", 1.5, "float"),
    ("1.5l", 1.5, "long double"), ("1.5L", 1.5, "long double"), ("1e3", 1000.0, "double"),
    ("1E3", 1000.0, "double"), ("1e3f", 1000.0, "float"), ("1.5e+3", 1500.0, "double"),
    ("1.5e-1", 0.15, "double"), (".5", 0.5, "double"), (".5f", 0.5, "float"),
    ("5.", 5.0, "double"), ("1.f", 1.0, "float"), ("0x1p3", 8.0, "double"),
    ("0x1.8p1", 3.0, "double"), ("0x1P-2", 0.25, "double"), ("0x1p3f", 8.0, "float"),
    ("0x1.8", 1.5, "double"), ("0x1.e", 1.875, "double"), ("0x1.f", 1.0, "float"),
    ("1.5e", 1.5, "double"), ("1e+", 1.0, "double"), ("1.1f", 1.100000023841858, "float"),
    ("1.5i", 1.5, "double complex"), ("1.5fi", 1.5, "complex"),
    ("1.5li", 1.5, "_Complex long double"),
    ("1.5df", 1.5, "_Decimal32"), ("1.5dd", 1.5, "_Decimal64"), ("1.5dl", 1.5, "_Decimal128"),
]

CHAR_LITERALS = [
    ("'a'", 97, "char"), ("'\\n'", 10, "char"), ("'\\x41'", 65, "char"), ("'\\0'", 0, "char"),
    ("'\\101'", 65, "char"), ("'\\377'", 255, "char"), ("'\\x141'", 0x41, "char"),
    ("'\\e'", 27, "char"), ("'\\''", 39, "char"), ("'\\\\'", 92, "char"), ("'\\q'", 113, "char"),
    ("'\"'", 34, "char"), ("'\\a'", 7, "char"), ("'\\t'", 9, "char"), ("'\\1234'", 0o123, None),
    ("L'a'", 97, "wchar_t"), ("u'a'", 97, "char16_t"), ("U'a'", 97, "char32_t"),
    ("L'\\x141'", 0x141, "wchar_t"), ("U'\\U0001F600'", 0x1F600, "char32_t"),
]

STRING_LITERALS = [
    ('"ab"', b"ab", "char [3]"), ('""', b"", "char [1]"), ('"ab" "cd"', b"abcd", "char [5]"),
    ('"a\\x41\\101\\n"', b"aAA\n", "char [5]"), ('"\\0x"', b"\0x", "char [3]"),
    ('"é"', "é".encode(), "char [3]"), ('"tab\\there"', b"tab\there", "char [9]"),
    ('"a\\\nb"', b"ab", "char [3]"), ('"q\\"q"', b'q"q', "char [4]"),
    ('L"ab"', "ab", "wchar_t [3]"), ('u"ab" "c"', "abc", "char16_t [4]"),
    ('"a" U"b"', "ab", "char32_t [3]"), ('"x" "y" "z"', b"xyz", "char [4]"),
]


@pytest.mark.parametrize("text,value,c_type", INT_LITERALS)
def test_int_literals(text, value, c_type):
    node = parse(text)
    assert isinstance(node, IntLiteral)
    assert (node.value, node.c_type) == (value, c_type)
    assert node.imaginary == text.lower().endswith("i")


@pytest.mark.parametrize("text,value,c_type", FLOAT_LITERALS)
def test_float_literals(text, value, c_type):
    node = parse(text)
    assert isinstance(node, n.FloatLiteral)
    assert node.value == pytest.approx(value) and node.c_type == c_type
    assert node.text == text


@pytest.mark.parametrize("text,value,c_type", [c for c in CHAR_LITERALS if c[2]])
def test_char_literals(text, value, c_type):
    node = parse(text)
    assert isinstance(node, n.CharLiteral)
    assert (node.value, node.c_type) == (value, c_type)


@pytest.mark.parametrize("text,value,c_type", STRING_LITERALS)
def test_string_literals(text, value, c_type):
    node = parse(text)
    assert isinstance(node, StringLiteral)
    assert node.value == value and node.c_type == c_type


def test_four_octal_digits_make_two_characters():
    with pytest.raises(ExpressionError, match="Invalid character constant."):
        parse("'\\1234'")
    assert parse('"\\1234"').value == b"S4"


def test_utf16_surrogates():
    assert parse('u"\\U0001F600"').elements == (0xD83D, 0xDE00)


# ------------------------------------------------------------------ type names

TYPE_NAMES = [
    # written, gdb's spelling (also checked against gdb's whatis below)
    ("int", "int"), ("unsigned", "unsigned int"), ("signed", "int"), ("long int", "long"),
    ("short", "short"), ("short int", "short"), ("long unsigned", "unsigned long"),
    ("unsigned long", "unsigned long"), ("signed long", "long"),
    ("long long unsigned int", "unsigned long long"), ("unsigned long long", "unsigned long long"),
    ("long long", "long long"), ("signed char", "signed char"), ("unsigned char", "unsigned char"),
    ("char", "char"), ("void", "void"), ("double", "double"), ("float", "float"),
    ("long double", "long double"), ("short unsigned", "unsigned short"),
    ("unsigned short int", "unsigned short"), ("_Complex double", "double complex"),
    ("_Complex float", "complex"), ("_Complex long double", "_Complex long double"),
    ("_Complex int", "_Complex int"),
    ("const int", "const int"), ("int const *", "const int *"),
    ("volatile const int", "const volatile int"), ("const char **", "const char **"),
    ("char * const", "char * const"), ("int * const * volatile", "int * const * volatile"),
    ("volatile unsigned long *", "volatile unsigned long *"), ("void *", "void *"),
    ("int (*)(int)", "int (*)(int)"), ("int (*)(int, ...)", "int (*)(int, ...)"),
    ("int (*)(void)", "int (*)(void)"), ("int ()", "int ()"), ("int (int)", "int (int)"),
    ("int (**)(int)", "int (**)(int)"), ("int (*[2])(int)", "int (*[2])(int)"),
    ("int[3]", "int [3]"), ("int [2][3]", "int [2][3]"), ("int *[3]", "int *[3]"),
    ("int (*)[3]", "int (*)[3]"), ("int[]", "int []"), ("char (*)[]", "char (*)[]"),
    ("char (*(*)(void))[4]", "char (*(*)(void))[4]"),
    ("struct point", "struct point"), ("struct point *", "struct point *"),
    ("union u", "union u"), ("enum color *", "enum color *"), ("myint", "myint"),
    ("point_t *", "point_t *"), ("const point_t * const", "const point_t * const"),
    ("struct point (*)(struct point *, myint)", "struct point (*)(struct point *, myint)"),
]


@pytest.mark.parametrize("text,spelling", TYPE_NAMES)
def test_type_names(text, spelling):
    tree = parse_type(text, is_type_name)
    assert isinstance(tree, TypeName)
    assert format_type(tree.type) == spelling
    assert parse(text) == tree
    assert parse(f"sizeof({text})") == SizeOf(tree)


def test_type_name_structure():
    int_ = BaseType("int")
    assert parse_type("int (*)(int)").type == PointerType(FunctionType(int_, (int_,)))
    assert parse_type("int *[3]").type == ArrayType(PointerType(int_), 3)
    assert parse_type("int (*)[3]").type == PointerType(ArrayType(int_, 3))
    assert parse_type("int [2][3]").type == ArrayType(ArrayType(int_, 3), 2)
    assert parse_type("const char * volatile").type == PointerType(
        BaseType("char", qualifiers=Qualifiers(const=True)), Qualifiers(volatile=True))
    assert parse_type("struct shape").type == BaseType("shape", "struct")
    assert parse_type("point_t", is_type_name).type == BaseType("point_t", "typedef")
    assert parse_type("int (*)(char, ...)").type == PointerType(
        FunctionType(int_, (BaseType("char"),), varargs=True))
    assert parse_type("char * restrict").type.qualifiers == Qualifiers(restrict=True)
    assert parse_type("_Atomic int").type.qualifiers == Qualifiers(atomic=True)
    # A struct tag is never looked up, even if a typedef of that name exists.
    assert parse_type("struct point_t", is_type_name).type == BaseType("point_t", "struct")


@pytest.mark.parametrize("text", ["x", "1", "int x", "struct", "(int)", "", "point_t"])
def test_parse_type_rejects_non_types(text):
    with pytest.raises(ExpressionError, match="A syntax error in expression"):
        parse_type(text)


# ------------------------------------------------------------------ errors

ERRORS = [
    # text, gdb's message (also checked against gdb's print below)
    ("1 +", "A syntax error in expression, near `'."),
    ("12ab", 'Invalid number "12ab".'),
    ("'a", "Unmatched single quote."),
    ('"abc', "Unterminated string in expression."),
    ("1 # 2", "Invalid character '#' in expression."),
    ("1 )", "Junk after end of expression."),
    ("(1", "A syntax error in expression, near `'."),
    ("1 2", "A syntax error in expression, near `2'."),
    (")", "A syntax error in expression, near `)'."),
    ("1 + )", "A syntax error in expression, near `)'."),
    ("counter if 1", "Junk after end of expression."),
    ("1 + if x", "A syntax error in expression, near `if x'."),
    ("(int)", "A syntax error in expression, near `'."),
    ("sizeof", "A syntax error in expression, near `'."),
    ("1 2 #", "A syntax error in expression, near `2 #'."),
    ("(1 + #", "Invalid character '#' in expression."),
    ("'ab'", "Invalid character constant."),
    ("''", "A character constant must contain at least one character."),
    ("08", 'Invalid number "08".'),
    ("0x", 'Invalid number "0x".'),
    ("0b", 'Invalid number "0b".'),
    ("0b2", 'Invalid number "0b2".'),
    ("1u2", 'Invalid number "1u2".'),
    ("0x1g", 'Invalid number "0x1g".'),
    ("1.5x", 'Invalid number "1.5x".'),
    ("1p3", 'Invalid number "1p3".'),
    ("18446744073709551616", "Numeric constant too large."),
    ("1.5.5", "A syntax error in expression, near `.5'."),
    ("sizeof (char) 1", "A syntax error in expression, near `1'."),
    ("_Alignof 1", "A syntax error in expression, near `1'."),
    ("_Alignof(1)", "A syntax error in expression, near `1)'."),
    ("int unsigned", "A syntax error in expression, near `unsigned'."),
    ("int long", "A syntax error in expression, near `long'."),
    ("char signed", "A syntax error in expression, near `signed'."),
    ("signed short int", "A syntax error in expression, near `int'."),
    ("float _Complex", "A syntax error in expression, near `_Complex'."),
    ("unsigned myint", "No type named unsigned myint."),
    ("int (*)(void, int)", "parameter types following 'void'"),
    ("int (*)(int, void)", "'void' invalid as parameter type"),
    ("counter@", "A syntax error in expression, near `'."),
    ('L"a" u"b"', "Undefined string concatenation."),
    ("arr[1", "A syntax error in expression, near `'."),
    ("origin.", "A syntax error in expression, near `'."),
    ("origin.1", "A syntax error in expression, near `.1'."),
    ("1 + *", "A syntax error in expression, near `'."),
    ("counter =", "A syntax error in expression, near `'."),
    ("1 ? 2", "A syntax error in expression, near `'."),
    ("1 ? 2 3", "A syntax error in expression, near `3'."),
    ("1'000", "Unmatched single quote."),
    ("counter th 1", "Junk after end of expression."),
    ("th 1", "A syntax error in expression, near `th 1'."),
    ("'\\x'", "\\x escape without a following hex digit"),
    ("struct", "A syntax error in expression, near `'."),
    ("struct int", "A syntax error in expression, near `int'."),
    ("int x", "A syntax error in expression, near `x'."),
    ("{int}", "A syntax error in expression, near `'."),
    ("add(1,)", "A syntax error in expression, near `)'."),
    ("origin.struct", "A syntax error in expression, near `struct'."),
    ("~", "A syntax error in expression, near `'."),
    ("::", "A syntax error in expression, near `'."),
    ("'expr_parser.c'::", "A syntax error in expression, near `'."),
    ("1 = = 2", "A syntax error in expression, near `= 2'."),
    ("1 + int", "A syntax error in expression, near `int'."),
    ("1 @entry", "A syntax error in expression, near `@entry'."),
    ("int[x]", "A syntax error in expression, near `x]'."),
    ("1_000", "A syntax error in expression, near `_000'."),
    ("sizeof int", "A syntax error in expression, near `int'."),
    ("(struct point *", "A syntax error in expression, near `'."),
    ("origin->", "A syntax error in expression, near `'."),
    ("", "A syntax error in expression, near `'."),
]


@pytest.mark.parametrize("text,message", ERRORS)
def test_error_messages(text, message):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert str(info.value) == message


# ------------------------------------------------------------------ prefixes


@pytest.mark.parametrize("text,expr,rest", [
    ("x > 1 if y", "x > 1", "if y"),
    ("x > 1", "x > 1", ""),
    ("f(a) thread 2", "f(a)", "thread 2"),
    ("f(a) th 2", "f(a)", "th 2"),
    ("f(a) task 1", "f(a)", "task 1"),
    ("thread2 + 1", "thread2 + 1", ""),
    ("x) junk", "x", ") junk"),
    ("iffy > 1 if x", "iffy > 1", "if x"),
    ("a, b", "a, b", ""),
])
def test_expression_prefix(text, expr, rest):
    node, end = parse_expression_prefix(text)
    assert node.text == expr
    assert text[end:] == rest


def test_comma_terminates():
    node, end = parse_expression_prefix("a + 1, b", comma_terminates=True)
    assert node.text == "a + 1" and end == 5
    node, end = parse_expression_prefix("f(a, b), c", comma_terminates=True)
    assert node.text == "f(a, b)" and end == 7


def test_lexing_is_lazy_like_gdb():
    # The syntax error is found before the lexer ever reaches the bad character.
    with pytest.raises(ExpressionError, match="near `2 #'"):
        parse("1 2 #")


# ------------------------------------------------------------------ gdb as oracle


@pytest.fixture(scope="module")
def binary():
    return build("expr_parser.c", ["-O0"])


def gdb_outputs(binary, commands: list[str]) -> list[str]:
    """Run each command in one gdb session; return each command's output, stripped."""
    marker = "@@pydbg-marker@@"
    args = ["gdb", "-batch", "-nx", str(binary)]
    for command in commands:
        args += ["-ex", command, "-ex", f"echo {marker}\\n"]
    run = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         stdin=subprocess.DEVNULL, timeout=120)
    chunks = run.stdout.split(marker + "\n")
    assert len(chunks) == len(commands) + 1, run.stdout
    return [c.strip() for c in chunks[:-1]]


def test_gdb_agrees_on_literal_types(binary):
    texts = [t for t, _, c in INT_LITERALS + FLOAT_LITERALS + CHAR_LITERALS if c]
    texts += [t for t, _, _ in STRING_LITERALS if "é" not in t]
    outputs = gdb_outputs(binary, [f"whatis {t}" for t in texts])
    for text, output in zip(texts, outputs):
        node = parse(text)
        assert output == f"type = {node.c_type}", text


def test_gdb_agrees_on_literal_values(binary):
    ints = [t for t, _, c in INT_LITERALS if "Complex" not in c]
    floats = [t for t, _, c in FLOAT_LITERALS if c in ("double", "float", "long double")]
    chars = [t for t, _, c in CHAR_LITERALS if c == "char"]
    outputs = gdb_outputs(binary, [f"print {t}" for t in ints + floats + chars])
    values = [o.split(" = ", 1)[1] for o in outputs]
    for text, shown in zip(ints, values):
        assert int(shown) == parse(text).value, text
    for text, shown in zip(floats, values[len(ints):]):
        assert float(shown) == pytest.approx(parse(text).value, rel=1e-8), text
    for text, shown in zip(chars, values[len(ints) + len(floats):]):
        code = parse(text).value
        assert int(shown.split()[0]) == (code - 256 if code > 127 else code), text


def test_gdb_agrees_on_error_messages(binary):
    # A bare "print" shows the last history value instead of parsing "".
    cases = [(t, m) for t, m in ERRORS if t]
    outputs = gdb_outputs(binary, [f"print {t}" for t, _ in cases])
    for (text, message), output in zip(cases, outputs):
        assert output == message, text


def test_gdb_agrees_on_type_names(binary):
    # whatis of a bare typedef name shows its target, so those are left to the cast test.
    cases = [(t, s) for t, s in TYPE_NAMES if t not in TYPEDEFS]
    outputs = gdb_outputs(binary, [f"whatis {t}" for t, _ in cases])
    for (text, spelling), output in zip(cases, outputs):
        assert output == f"type = {spelling}", text


def c_eval(node: Node) -> int:
    """Evaluate small integer-only trees with C semantics (results stay within int)."""
    if isinstance(node, IntLiteral):
        return node.value
    if isinstance(node, n.CharLiteral):
        return node.value
    if isinstance(node, n.Unary):
        x = c_eval(node.operand)
        return {"-": -x, "+": x, "!": int(not x), "~": ~x}[node.op]
    if isinstance(node, n.Conditional):
        return c_eval(node.if_true) if c_eval(node.condition) else c_eval(node.if_false)
    if isinstance(node, n.SizeOf):
        if not isinstance(node.operand, TypeName):
            return 4  # only int operands appear in the table below
        return {"int": 4, "char": 1, "long": 8, "short": 2}[format_type(node.operand.type)]
    if isinstance(node, n.Cast):
        bits = {"char": 8, "short": 16, "int": 32}[format_type(node.type.type)]
        x = c_eval(node.operand) & ((1 << bits) - 1)
        return x - (1 << bits) if x >> (bits - 1) else x
    if isinstance(node, n.Binary):
        if node.op == "&&":
            return int(bool(c_eval(node.left)) and bool(c_eval(node.right)))
        if node.op == "||":
            return int(bool(c_eval(node.left)) or bool(c_eval(node.right)))
        a, b = c_eval(node.left), c_eval(node.right)
        if node.op == "/":
            return abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        if node.op == "%":
            return a - b * (abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1))
        ops = {"+": a + b, "-": a - b, "*": a * b, "<<": a << b if b >= 0 else 0,
               ">>": a >> b if b >= 0 else 0, "<": int(a < b), ">": int(a > b),
               "<=": int(a <= b), ">=": int(a >= b), "==": int(a == b), "!=": int(a != b),
               "&": a & b, "|": a | b, "^": a ^ b, ",": b}
        return ops[node.op]
    raise AssertionError(node)


ARITHMETIC = [
    "1 + 2 * 3", "10 - 4 - 3", "100 / 10 / 5", "17 % 5 * 3", "1 << 2 + 1", "1 + 2 << 3",
    "256 >> 2 >> 1", "1 < 2 == 1", "3 > 2 > 1", "1 | 2 ^ 3 & 4", "6 & 3 | 8", "5 ^ 1 | 2",
    "1 || 0 && 0", "0 && 1 || 1", "1 ? 2 : 3 ? 4 : 5", "0 ? 2 : 0 ? 4 : 5", "0 ? 1 : 2 + 3",
    "(1 ? 7 : 8, 9)", "-2 * -3", "- -4", "!0 + !5", "~0 & 255", "-7 / 2", "-7 % 3", "7 % -3",
    "2 - -1", "(1 + 2) * 3", "sizeof(int) * 2", "sizeof (char) + 1", "sizeof 1 + 1",
    "(char)65 + 1", "(char)300", "(short)-1 * 2", "(1, 2) + 3", "4 * (2 - 5) / 3",
    "1 + 2 * 3 << 2 >> 1 | 1 & 3 ^ 2 || 0", "!1 == 0", "~1 + 1", "-(3 - 5) * 2",
    "10 - 2 * 3 + 4 / 2 - 1", "7 & 3 == 3", "1 < 2 < 3", "2 + 3 > 4 && 5 - 5 < 1",
    "1 == 2 != 3", "0 || 2 ? 3 : 4", "1 ? 0 ? 5 : 6 : 7", "'a' + 1", "3 >= 3 <= 0",
    "6 / 4 * 4", "!!7", "-~5", "2 * 3 % 4", "1 << 3 >> 2 << 1", "5 & 6 ^ 7 | 8 & 9",
    "sizeof(long) - sizeof(short)", "-(char)200",
]


def test_gdb_agrees_on_precedence(binary):
    outputs = gdb_outputs(binary, [f"print {t}" for t in ARITHMETIC])
    for text, output in zip(ARITHMETIC, outputs):
        assert output.split(" = ", 1)[1].split()[0] == str(c_eval(parse(text))), text


def test_gdb_agrees_on_artificial_array_precedence(binary):
    cases = ["arr[0]@1+1", "arr[0]@2*2", "*arr@3", "arr[1]@5-2", "arr[0]@1<<1"]
    outputs = gdb_outputs(binary, [f"whatis {t}" for t in cases])
    for text, output in zip(cases, outputs):
        tree = parse(text)
        if tree.op == "<<":
            # (arr[0]@1) << 1 is not an array: @ binds tighter than <<.
            assert "int [" not in output
            continue
        assert tree.op == "@"
        assert output == f"type = int [{c_eval(tree.right)}]", text


def test_gdb_accepts_what_we_parse_as_names(binary):
    cases = {"'expr_parser.c'::counter": "7", "::counter": "7", "counter": "7",
             "origin.x": "1", "pts[1].y": "4", "(&origin)->y": "2", "{int}&counter": "7",
             "sizeof(point_t)": "8", "(myint)3": "3", "un.i": "42", "(char)65": "65 'A'",
             "add::sum": None, "add(1, 2)": None, "counter @entry": None}
    outputs = gdb_outputs(binary, [f"print {t}" for t in cases])
    for (text, value), output in zip(cases.items(), outputs):
        parse(text)
        if value is None:
            # Parsed fine by gdb too: the error, if any, is about evaluation.
            assert "syntax error" not in output, text
        else:
            assert output.split(" = ", 1)[1] == value, text
