"""Text -> raw expression tree (Lark), with the `where` clause read into declarations
and definitions.  Raw trees are built with the verbatim `Apply` constructor (no
canonicalisation, symbols without shapes); `infer.py` gives them shapes.

Every raw node's source span is kept in `Parsed.spans`, so that later errors (shape
conflicts) can put a caret under the right operands.  Lark's own exceptions never
leave this module: they become `ParseError` with line, column and what was expected.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import count
from pathlib import Path

from .errors import LimitError, ParseError
from .expr import Apply, Num, Sym
from .ops import FUNCTIONS
from .shapes import SCALAR, Dim

PROPS = ("symmetric", "diagonal", "spd", "orthogonal")
# inside the wheel the grammar sits in the package; in a source checkout, beside it
GRAMMAR = next((p for p in (Path(__file__).with_name("grammar") / "matcalc.lark",
                            Path(__file__).parent.parent / "grammar" / "matcalc.lark") if p.exists()),
               Path(__file__).with_name("grammar") / "matcalc.lark")
MAX_INPUT = 1_000_000
MAX_EXPONENT_DIGITS = 4  # 1e9999 is allowed as a literal, 1e99999 is not

_PARSER = None


def lark_parser():
    """The LALR parser, built once per process (or loaded from the cache, see cache.py)."""
    global _PARSER
    if _PARSER is None:
        from .cache import load_parser
        _PARSER = load_parser(GRAMMAR)
    return _PARSER


@dataclass
class Declaration:
    name: str
    shape: tuple | None = None     # (Dim, Dim) or None (props only)
    props: frozenset = frozenset()
    span: tuple = (0, 0)


@dataclass
class Parsed:
    source: str
    expr: object                                   # raw tree
    declarations: dict = field(default_factory=dict)   # name -> Declaration
    definitions: dict = field(default_factory=dict)    # name -> raw tree
    spans: dict = field(default_factory=dict)          # raw node -> (start, end) offsets
    order: list = field(default_factory=list)          # symbol names in order of appearance


# ---- errors ------------------------------------------------------------------
TOKEN_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "INT": "an integer", "LPAR": "'('", "RPAR": "')'",
    "LSQB": "'['", "RSQB": "']'", "COMMA": "','", "COLON": "':'", "PLUS": "'+'", "_MINUS": "'-'",
    "STAR": "'*'", "SLASH": "'/'", "AT": "'@'", "_HADAMARD": "'*'", "MORETHAN": "'>'", "EQUAL": "'='",
    "__ANON_0": "'**'", "DOUBLESTAR": "'**'", "_TRANSPOSE": "'.T'", "_WHERE": "'where'", "$END": "the end of the input",
    "_TIMES": "'×'",
}

HINTS = [  # (pattern at the error, advice) — the usual habits of MATLAB, LaTeX and maths
    (r"\^", "use ** for powers (NumPy): X**2 is elementwise, matpow(X, 2) is the matrix power"),
    (r"\.\*", "MATLAB's .* is * here (elementwise, NumPy semantics); the matrix product is @"),
    (r"\./", "MATLAB's ./ is / here (elementwise)"),
    (r"\\", "LaTeX is not read: write tr(X.T@A) for \\operatorname{tr}(X^T A), inv(X) for X^{-1}"),
    (r"'", "transpose is X.T or X' right after a name or a closing parenthesis"),
    (r"[{}]", "braces are not part of the language: use ( ) for grouping and [[A, B], [C, D]] for blocks"),
    (r";", "separate block rows as [[A, B], [C, D]], declarations with commas"),
]


def _describe(expected) -> str:
    names = sorted({TOKEN_NAMES.get(t, repr(t.lower()) if t.isupper() and len(t) < 12 else t) for t in expected})
    if len(names) > 8:
        names = names[:8] + ["…"]
    return ", ".join(names)


def _parse_error(source: str, exc) -> ParseError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken
    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", None)
    if isinstance(exc, UnexpectedCharacters):
        char = source[exc.pos_in_stream] if exc.pos_in_stream < len(source) else ""
        msg = f"unexpected character {char!r}"
        expected = exc.allowed
        at = exc.pos_in_stream
    elif isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            msg, at = "the expression ends too early", len(source)
            column = len(source.splitlines()[-1]) + 1 if source.strip() else 1
            line = max(1, len(source.splitlines()))
        else:
            msg, at = f"unexpected {tok.value!r}", tok.start_pos
        expected = exc.expected
    elif isinstance(exc, UnexpectedEOF):
        msg, at, expected = "the expression ends too early", len(source), exc.expected
        column = len(source) + 1
    else:  # pragma: no cover - lark's hierarchy is closed
        return ParseError(str(exc), source=source)
    hint = None
    rest = source[at:at + 2] if at is not None else ""
    for pattern, advice in HINTS:
        if re.match(pattern, rest):
            hint = advice
            break
    if expected:
        msg += f"; expected {_describe(expected)}"
    return ParseError(msg, source=source, column=column, line=line, hint=hint)


# ---- tree -> raw expression ------------------------------------------------------
_uid = count()


class _Builder:
    """Walks Lark's tree (iteratively deep enough for any nesting the parser accepts)."""

    def __init__(self, source: str):
        self.source = source
        self.spans: dict = {}
        self.order: list = []

    def fail(self, message, meta_or_pos, length=1, hint=None, cls=ParseError):
        start = meta_or_pos if isinstance(meta_or_pos, int) else meta_or_pos.start_pos
        if not isinstance(meta_or_pos, int) and getattr(meta_or_pos, "end_pos", None) is not None:
            length = max(1, meta_or_pos.end_pos - start)
        line = self.source.count("\n", 0, start) + 1
        col = start - (self.source.rfind("\n", 0, start) + 1) + 1
        raise cls(message, source=self.source, column=col, line=line, length=length, hint=hint)

    def node(self, tree):
        from lark import Token
        if isinstance(tree, Token):
            return tree
        method = getattr(self, "r_" + tree.data, None)
        if method is None:  # pragma: no cover - every rule has a method
            raise ParseError(f"internal: no rule for {tree.data}")
        out = method(tree.meta, *tree.children)
        if not isinstance(out, (Declaration, tuple, list)) and out is not None and hasattr(tree.meta, "start_pos"):
            self.spans.setdefault(out, (tree.meta.start_pos, tree.meta.end_pos))
        return out

    def e(self, child):
        return self.node(child)

    # expressions
    def r_symbol(self, meta, name):
        name = str(name)
        if name == "I":
            return Apply("I", (), (None, next(_uid)))
        if name not in self.order:
            self.order.append(name)
        return Sym(name)

    def r_number(self, meta, tok):
        text = str(tok)
        m = re.search(r"[eE][+-]?(\d+)", text)
        if m and len(m.group(1).lstrip("0")) > MAX_EXPONENT_DIGITS:
            self.fail(f"the number {text} is too large", meta, cls=LimitError)
        return Num(Fraction(text))

    def r_add(self, meta, a, b):
        return Apply("add", (self.e(a), self.e(b)))

    def r_sub(self, meta, a, b):
        return Apply("add", (self.e(a), Apply("mul", (Num(-1), self.e(b)))))

    def r_mul(self, meta, a, b):
        return Apply("mul", (self.e(a), self.e(b)))

    def r_div(self, meta, a, b):
        return Apply("mul", (self.e(a), Apply("pow", (self.e(b), Num(-1)))))

    def r_matmul(self, meta, a, b):
        return Apply("matmul", (self.e(a), self.e(b)))

    def r_kron(self, meta, a, b):
        return Apply("kron", (self.e(a), self.e(b)))

    def r_neg(self, meta, a):
        x = self.e(a)
        return Num(-x.value) if isinstance(x, Num) else Apply("mul", (Num(-1), x))

    def r_pow(self, meta, a, b):
        return Apply("pow", (self.e(a), self.e(b)))

    def r_transpose(self, meta, a, _tok=None):
        return Apply("T", (self.e(a),))

    def r_index(self, meta, base, rows, cols):
        x = self.e(base)
        return Apply("slice", (x,), self.bounds(rows) + self.bounds(cols))

    def bounds(self, tree):
        if tree.data == "at":
            d = self.dim(self.e(tree.children[0]), tree.meta)
            return (d, d + 1)
        lo, hi = tree.children
        return (None if lo is None else self.dim(self.e(lo), lo.meta),
                None if hi is None else self.dim(self.e(hi), hi.meta))

    def dim(self, x, meta) -> Dim:
        """A dimension written as an expression: n, 3, n-1, 2*n, n+m."""
        if isinstance(x, Sym):
            if x.name in self.order:
                self.order.remove(x.name)
            return Dim.of(x.name)
        if isinstance(x, Num) and x.value.denominator == 1:
            return Dim.of(int(x.value))
        if isinstance(x, Apply) and x.op in ("add", "mul") and x.args:
            parts = [self.dim(a, meta) for a in x.args]
            out = parts[0]
            for p in parts[1:]:
                out = out + p if x.op == "add" else out * p
            return out
        self.fail("a size or an index must be a name, an integer or a simple sum of them", meta)

    def r_block(self, meta, *rows):
        grid = [[self.e(c) for c in row.children] for row in rows]
        widths = {len(r) for r in grid}
        if len(widths) != 1:
            self.fail("every block row must have the same number of blocks", meta)
        flat = [Apply("zeros", (), (None, None, next(_uid))) if isinstance(b, Num) and b.value == 0 else b
                for r in grid for b in r]
        return Apply("block", flat, (len(grid), widths.pop()))

    def r_call(self, meta, name, *args):
        fname = str(name)
        args = [a for a in args if a is not None]
        special = getattr(self, "call_" + fname, None)
        if special is not None:
            return special(meta, args)
        op = FUNCTIONS.get(fname)
        if op is None or op.nargs == 0:
            close = difflib.get_close_matches(fname, sorted(FUNCTIONS), n=1)
            hint = f"did you mean '{close[0]}'?" if close else None
            self.fail(f"unknown function '{fname}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                      name.start_pos, len(fname), hint=hint)
        if op.nargs is not None and len(args) != op.nargs:
            self.fail(f"{fname} takes {op.nargs} argument{'s' if op.nargs != 1 else ''}, got {len(args)}", meta)
        return Apply(op.name, [self.e(a) for a in args])

    def _sizes(self, meta, args, k, fname):
        if len(args) != k:
            self.fail(f"{fname} takes {k} size{'s' if k > 1 else ''}", meta)
        return tuple(self.dim(self.e(a), a.meta) for a in args)

    def call_eye(self, meta, args):
        return Apply("I", (), self._sizes(meta, args, 1, "eye"))

    def call_ones(self, meta, args):
        return Apply("ones", (), self._sizes(meta, args, 2, "ones"))

    def call_zeros(self, meta, args):
        return Apply("zeros", (), self._sizes(meta, args, 2, "zeros"))

    def call_K(self, meta, args):
        return Apply("K", (), self._sizes(meta, args, 2, "K"))

    def call_E(self, meta, args):
        i, j = self._sizes(meta, args, 2, "E")
        return Apply("E", (), (i, j, None, None, next(_uid)))

    def call_matpow(self, meta, args):
        if len(args) != 2:
            self.fail("matpow takes a matrix and an integer power", meta)
        x, k = self.e(args[0]), self.e(args[1])
        if not (isinstance(k, Num) and k.value.denominator == 1):
            self.fail("the power of matpow must be an integer constant", args[1].meta)
        if abs(k.value) > 1000:
            self.fail("matpow's power is limited to ±1000", args[1].meta, cls=LimitError)
        return Apply("matpow", (x,), (int(k.value),))

    # where clause
    def r_decls(self, meta, *decls):
        return [self.node(d) for d in decls]

    def r_declare(self, meta, name, *words):
        from lark import Token, Tree
        props, rest = [], list(words)
        while rest and isinstance(rest[0], Token) and str(rest[0]) in PROPS:
            props.append(str(rest.pop(0)))
        text = [w if isinstance(w, Tree) else str(w) for w in rest]

        def d(w):
            return Dim.of(int(w)) if str(w).isdigit() else Dim.of(str(w))
        shape = None
        if text == ["scalar"]:
            shape = SCALAR
        elif len(text) == 1 and isinstance(text[0], Tree) and text[0].data == "pair":
            shape = (d(text[0].children[0]), d(text[0].children[1]))
        elif len(text) == 1 and isinstance(text[0], str):
            shape = (d(text[0]), Dim.of(1))
        elif len(text) == 3 and (text[1] == "x" or (isinstance(text[1], Tree) and text[1].data == "times")):
            shape = (d(text[0]), d(text[2]))
        elif text:
            close = difflib.get_close_matches(str(rest[0]), PROPS, n=1)
            extra = f"; did you mean '{close[0]}'?" if close else ""
            self.fail(f"cannot read the declaration of {name}: write properties ({', '.join(PROPS)}) "
                      f"then a shape (n×m, n x m, (n, m), n for a vector, scalar){extra}", meta)
        return Declaration(str(name), shape, frozenset(props), (meta.start_pos, meta.end_pos))

    def r_define(self, meta, name, value):
        return ("define", str(name), self.e(value), (meta.start_pos, meta.end_pos))


def _check_size(text: str):
    if len(text) > MAX_INPUT:
        raise LimitError(f"the input is {len(text):,} characters long; the limit is {MAX_INPUT:,}")
    if not text.strip():
        raise ParseError("the expression is empty", source=text, column=1)


def _run(text: str, start: str):
    from lark.exceptions import UnexpectedInput
    _check_size(text)
    try:
        return lark_parser().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _parse_error(text, exc) from None
    except RecursionError:
        raise LimitError("the expression is nested too deeply", source=text) from None


def _walk(builder, tree):
    try:
        return builder.node(tree)
    except RecursionError:
        raise LimitError("the expression is nested too deeply", source=builder.source) from None


def parse(text: str, declare: str | None = None) -> Parsed:
    """Parse an expression with an optional `where` clause; `declare` is a further
    clause (the -d option), parsed on its own so that its errors point into it."""
    tree = _run(text, "start")
    b = _Builder(text)
    expr = _walk(b, tree.children[0])
    items = _walk(b, tree.children[1]) if len(tree.children) > 1 and tree.children[1] is not None else []
    parsed = Parsed(text, expr, spans=b.spans, order=b.order)
    if declare:
        parsed_decl = parse_declarations(declare)
        items = list(items) + parsed_decl
    for item in items:
        if isinstance(item, Declaration):
            old = parsed.declarations.get(item.name)
            if old is not None and (old.shape and item.shape and old.shape != item.shape):
                b.fail(f"{item.name} is declared twice with different shapes", item.span[0],
                       item.span[1] - item.span[0])
            if old is not None:
                item = Declaration(item.name, item.shape or old.shape, item.props | old.props, item.span)
            parsed.declarations[item.name] = item
        else:
            _, name, value, span = item
            if name in parsed.definitions:
                b.fail(f"{name} is defined twice", span[0], span[1] - span[0])
            parsed.definitions[name] = (value, span)
    return parsed


def parse_declarations(text: str) -> list:
    """The -d/--declare clause: the same declarations and definitions as `where`."""
    tree = _run(text, "declarations")
    return _walk(_Builder(text), tree.children[0])
