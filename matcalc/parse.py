"""Text -> raw expression tree (Lark), with the `where` clause read into declarations
and definitions.  Raw trees are built with the verbatim `Apply` constructor (no
canonicalisation, symbols without shapes); `infer.py` gives them shapes.

Every raw node's source span is kept in `Parsed.spans` (a parenthesised operand's
span includes its parentheses), so that later errors (shape conflicts) can put a caret
under the right operands.  Lark's own exceptions never leave this module: they become
`ParseError` with line, column, what was expected and, for the habits of MATLAB,
LaTeX and paper maths, the input rewritten in matcalc's syntax.

Limits (each ends in a `LimitError` with a caret, never in a RecursionError or a
hang): the input's length (MAX_INPUT), the nesting of operators (MAX_DEPTH: a chain
of + and - is one level however long, parentheses are free), the number of nodes
(MAX_NODES), the digits and range of a number (a double's range, so that every later
float conversion is safe), and integer sizes and indices (MAX_SIZE).  The builder
recurses at most a few frames per nesting level, and MAX_DEPTH keeps every later
pass well inside Python's default recursion limit.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import count
import sys
from typing import Collection, NoReturn, cast

from .errors import LimitError, MatcalcError, ParseError, UsageError
from .expr import Apply, Num, Sym
from .ops import FUNCTIONS
from .shapes import SCALAR, Dim

PROPS = ("symmetric", "diagonal", "spd", "orthogonal")
# inside the wheel the grammar sits in the package; in a source checkout, beside it
_HERE = os.path.dirname(os.path.abspath(__file__))   # os.path, not pathlib: pathlib costs a one-liner ~5 ms
GRAMMAR = next((p for p in (os.path.join(_HERE, "grammar", "matcalc.lark"),
                            os.path.join(os.path.dirname(_HERE), "grammar", "matcalc.lark")) if os.path.exists(p)),
               os.path.join(_HERE, "grammar", "matcalc.lark"))
MAX_INPUT = 100_000       # characters of an expression (or a -d clause)
MAX_DEPTH = 500           # nesting of operators; chains (+ -, * / @) and parentheses are free
MAX_NODES = 20_000        # operators and operands in one input
MAX_DIGITS = 400          # digits of one numeric literal
MAX_SIZE = 100_000        # an integer written as a size (eye(n), x: n) or an index
FLOAT_MAX = sys.float_info.max
FLOAT_TINY = sys.float_info.min
SUMS = ("add", "sub")
PRODUCTS = ("mul", "div", "matmul")
CHAINS = SUMS + PRODUCTS  # left-associative runs, built as n-ary nodes: a long chain is not a deep tree

_PARSERS: dict = {}


def lark_parser(positions: bool = True):
    """The LALR parser, built once per process (or loaded from the cache, see cache.py).
    Without `positions` it is ~40% faster but its tree carries no source offsets:
    `api.problem` parses that way first and again with positions only when an error
    needs a caret."""
    parser = _PARSERS.get(positions)
    if parser is None:
        from .cache import load_parser
        parser = _PARSERS[positions] = load_parser(GRAMMAR, positions)
    return parser


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
    (r"\.\*", "MATLAB's .* is * here (elementwise, NumPy semantics); the matrix product is @"),
    (r"\./", "MATLAB's ./ is / here (elementwise)"),
    (r"\.\^", "MATLAB's .^ is ** here (elementwise power)"),
    (r"\^", "use ** for powers (NumPy): X**2 is elementwise, matpow(X, 2) is the matrix power; "
            "X.T is the transpose, inv(X) the inverse"),
    (r"\\", "LaTeX is not read: write tr(X.T@A) for \\operatorname{tr}(X^T A), inv(X) for X^{-1}, "
            "norm(x)**2 for \\|x\\|^2"),
    (r"'", "transpose is X.T or X' right after a name or a closing parenthesis"),
    (r"[{}]", "braces are not part of the language: use ( ) for grouping and [[A, B], [C, D]] for blocks"),
    (r";", "separate block rows as [[A, B], [C, D]], declarations with commas"),
    (r"[|‖]", "write norm(x) for ‖x‖ and abs(x) for |x|"),
    (r"=", "= only defines a name in the where clause: EXPR where C = A@X - B"),
]


def _describe(expected) -> str:
    names = sorted({TOKEN_NAMES.get(t, repr(t.lower()) if t.isupper() and len(t) < 12 else t) for t in expected})
    if len(names) > 8:
        names = names[:8] + ["…"]
    return ", ".join(names)


def _position(source: str, at: int) -> tuple:
    """(line, column), both 1-based, of offset `at`; lines end at \n only (as Lark counts)."""
    at = max(0, min(at, len(source)))
    return source.count("\n", 0, at) + 1, at - (source.rfind("\n", 0, at) + 1) + 1


def _parse_error(source: str, exc) -> ParseError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken
    if isinstance(exc, UnexpectedCharacters):
        # lark types the class default (None); UnexpectedCharacters.__init__ sets the lexer offset
        at = cast(int, exc.pos_in_stream)
        char = source[at] if at < len(source) else ""
        msg = f"unexpected character {char!r}"
        expected: Collection[str] = exc.allowed
    elif isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        at = exc.token.start_pos
        msg, expected = f"unexpected {exc.token.value!r}", exc.expected
    elif isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        at = len(source.rstrip())
        msg, expected = "the expression ends too early", exc.expected
    else:  # pragma: no cover - lark's hierarchy is closed
        return ParseError(str(exc), source=source)
    line, column = _position(source, at)
    hint = None
    for pattern, advice in HINTS:
        if re.match(pattern, source[at:at + 2]):
            hint = advice
            break
    if hint is None and "'" in source[:at] and source[at:at + 1] in ("'", "*"):
        hint = HINTS[5][1]
    better = suggestion(source)
    if better is not None:
        hint = (hint + "; " if hint else "") + f"did you mean: {better}"
    if expected:
        msg += f"; expected {_describe(expected)}"
    return ParseError(msg, source=source, column=column, line=line, hint=hint)


# ---- habits of other tools: the input rewritten in matcalc's syntax -----------------
_LATEX_NAMES = {"ln": "log", "operatorname": "", "mathrm": "", "text": "", "mathop": "", "mathbf": "",
                "boldsymbol": "", "bm": "", "mathit": "", "mathsf": "", "mathcal": ""}
_LATEX_OPS = [  # (regex, replacement), applied in order
    (r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|biggl|biggr|bigg|Bigg)\b\s*", ""),
    (r"\\(?:lVert|rVert|Vert)|\\\|", "‖"),
    (r"\\(?:lvert|rvert|vert)", "|"),
    (r"\\[,;:! ]|~", " "),
    (r"\^\s*(?:\{\s*(?:T|\\top|\\intercal|\\prime|\\math[sr][fm]\s*\{\s*T\s*\})\s*\}|(?:T|\\top|\\intercal|\\prime)"
     r"(?![A-Za-z0-9]))", ".T"),
    (r"\\(?:operatorname|mathrm|text|mathop|mathbf|boldsymbol|bm|mathit|mathsf|mathcal)\s*\{\s*([^{}]*?)\s*\}", r"\1"),
    (r"\\frac\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}", r"(\1/\2)"),
    (r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)"),
    (r"\\(?:odot|circ)", "*"),
    (r"\\otimes", "⊗"),
    (r"\\(?:cdot|times)", "@"),
    (r"\\ln\b", "log"),
    (r"\\(alpha|beta|gamma|delta|epsilon|varepsilon|eta|theta|kappa|lambda|mu|nu|xi|rho|sigma|tau|phi|"
     r"varphi|chi|psi|omega|tr|trace|det|log|exp|sin|cos|tanh|sqrt|sum|diag|vec|inv)\b", r"\1"),
    (r"\\sqrt\s*\{([^{}]*)\}", r"sqrt(\1)"),
]
# patterns as text: re caches what it compiles, and only a rewrite (an error) needs them
_INVERSE = r"(\b[A-Za-z_]\w*|\))\s*\^\s*(?:\{\s*-\s*1\s*\}|\(\s*-\s*1\s*\)|-\s*1\b)"
_TOKEN = r"(?s)\.T\b|\*\*|[A-Za-z_α-ωΑ-Ω]\w*|\d+\.?\d*(?:[eE][+-]?\d+)?|\s+|."


def _norms(text: str) -> str:
    """‖x‖ -> norm(x), |x| -> abs(x), innermost first (the bars pair up left to right)."""
    for bar, name in (("‖", "norm"), ("|", "abs")):
        for _ in range(20):
            new = re.sub(re.escape(bar) + "([^" + re.escape(bar) + "]*)" + re.escape(bar), name + r"(\1)", text,
                         count=1)
            if new == text:
                break
            text = new
    return text


def _inverse(text: str) -> str:
    """X^{-1} -> inv(X); (…)^{-1} -> inv(…)."""
    for _ in range(20):
        m = re.search(_INVERSE, text)
        if m is None:
            return text
        head = m.group(1)
        if head == ")":
            depth, k = 0, m.start(1)
            while k >= 0:
                depth += {")": 1, "(": -1}.get(text[k], 0)
                if depth == 0:
                    break
                k -= 1
            if k < 0:
                return text
            text = text[:k] + "inv" + text[k:m.start(1) + 1] + text[m.end():]
        else:
            text = text[:m.start()] + f"inv({head})" + text[m.end():]
    return text


_GREEK = set("alpha beta gamma delta epsilon varepsilon eta theta kappa lambda mu nu xi rho sigma tau phi "
             "varphi chi psi omega".split())


def _implicit_products(text: str) -> str:
    """Juxtaposition is a product on paper: `X.T A` -> `X.T@A`, `2 X` and `lambda X` -> `*`."""
    out, prev, scalar, groups = [], None, False, []   # prev: last non-space token; scalar: it ends a scalar
    for tok in re.findall(_TOKEN, text):
        if tok.isspace():
            out.append(tok)
            continue
        ends = prev is not None and (prev in (")", ".T", "'") or bool(re.match(r"[\w.]", prev[0]))) \
            and prev not in FUNCTIONS and prev not in ("where", "**")
        starts = tok == "(" or bool(re.match(r"[A-Za-zα-ωΑ-Ω_\d]", tok)) and tok != "where"
        if ends and starts and not (tok == "(" and prev in FUNCTIONS):
            while out and out[-1].isspace():
                out.pop()
            out.append("*" if scalar else "@")
        if tok == "(":
            groups.append(len(out))
        out.append(tok)
        if tok == ")" and groups:
            inside = "".join(out[groups.pop() + 1:-1])
            scalar = bool(re.fullmatch(r"[\d.\s/*+-]+", inside))
        else:
            scalar = bool(re.fullmatch(r"[\d.]+(?:[eE][+-]?\d+)?", tok)) or tok in _GREEK or \
                bool(re.fullmatch(r"[α-ω]", tok))
        prev = tok
    return "".join(out)


def _from_latex(text: str) -> str:
    for pattern, repl in _LATEX_OPS:
        text = re.sub(pattern, repl, text)
    text = _inverse(text)
    text = re.sub(r"\^\s*\{([^{}]*)\}", r"**(\1)", text).replace("^", "**")
    text = text.replace("{", "(").replace("}", ")")
    text = re.sub(r"‖\s*_\s*\(?\s*[2F]\s*\)?", "‖", text)
    text = _norms(text)
    text = re.sub(r"\\(\w+)", r"\1", text)
    return _implicit_products(text)


def _from_matlab(text: str) -> str:
    text = text.replace(".*", "*").replace("./", "/").replace(".^", "**")
    text = re.sub(r"\^\s*\{?\s*(?:T|\\top)\s*\}?(?!\w)", ".T", text)
    text = _inverse(text)
    text = re.sub(r"\^\s*\{([^{}]*)\}", r"**(\1)", text)
    text = text.replace("^", "**")
    return _implicit_products(_norms(text))


def suggestion(source: str) -> str | None:
    """The input rewritten from LaTeX, MATLAB or paper notation into matcalc's syntax,
    when that rewrite parses (and differs); None otherwise."""
    if len(source) > 2000 or not re.search(r"[\\^{}|‖]|\.[*/^]", source) or \
            re.search(r"\\(?:sum|prod|int|partial|nabla|mathbb)", source):
        return None
    try:
        head, sep, tail = source.partition(" where ")
        new = (_from_latex(head) if "\\" in head else _from_matlab(head)).strip() + sep + tail
        if new == source.strip():
            return None
        parse(new, _hints=False)
        return new
    except (MatcalcError, RecursionError, ValueError):
        return None


# ---- tree -> raw expression ------------------------------------------------------
_uid = count()


class _Builder:
    """Walks Lark's tree.  It recurses a few frames per nesting level, which `_measure`
    has bounded (MAX_DEPTH) before the walk starts; chains of + and - and runs of
    parentheses are walked in loops."""

    def __init__(self, source: str, positions: bool = True):
        self.source = source
        self.positions = positions   # the tree carries source offsets (cache.options)
        self.spans: dict = {}
        self.order: list = []
        self.uses: dict = {}     # name -> occurrences as a symbol (a size or index is not one)

    def fail(self, message, meta_or_pos, length=1, hint=None, cls=ParseError) -> NoReturn:
        start = meta_or_pos if isinstance(meta_or_pos, int) else getattr(meta_or_pos, "start_pos", None)
        if start is None:  # a tree without positions: the caller parses again with them
            raise cls(message, source=self.source, hint=hint)
        if not isinstance(meta_or_pos, int) and getattr(meta_or_pos, "end_pos", None) is not None:
            length = max(1, meta_or_pos.end_pos - start)
        line, col = _position(self.source, start)
        raise cls(message, source=self.source, column=col, line=line, length=length, hint=hint)

    def node(self, tree):
        data = getattr(tree, "data", None)
        if data is None:   # a Token
            return tree
        if data == "paren":
            return self.paren(tree)
        if data in CHAINS:
            out = self.chain(tree)
        else:
            rule = _RULES.get(data)
            if rule is None:  # pragma: no cover - every rule has a method
                raise ParseError(f"internal: no rule for {data}")
            out = rule(self, tree.meta, *tree.children)
        if self.positions and not isinstance(out, (Declaration, tuple, list)) and out is not None \
                and hasattr(tree.meta, "start_pos"):
            self.spans.setdefault(out, (tree.meta.start_pos, tree.meta.end_pos))
        return out

    def paren(self, tree):
        """(…): the inner expression, whose span (if this occurrence set it) widens to
        take in the parentheses, so a caret under an operand pair covers them."""
        inner = tree
        while inner.data == "paren":
            inner = inner.children[0]
        out = self.node(inner)
        if self.positions and self.spans.get(out) == _span(inner.meta):
            self.spans[out] = _span(tree.meta)
        return out

    def chain(self, tree):
        """a + b - c + … (one n-ary sum) and a @ b * c / d … (runs of one product op
        as n-ary nodes), walked along the left spine without recursion."""
        family = SUMS if tree.data in SUMS else PRODUCTS
        right = []
        while getattr(tree, "data", None) in family:
            left, r = tree.children
            right.append((tree.data, r))
            tree = left
        if family is SUMS:
            terms = [self.e(tree)]
            for op, r in reversed(right):
                x = self.e(r)
                terms.append(x if op == "add" else Apply("mul", (Num(-1), x)))
            return Apply("add", tuple(terms))
        run_op, run = None, [self.e(tree)]
        for op, r in reversed(right):
            x = self.e(r)
            kind = "matmul" if op == "matmul" else "mul"
            if op == "div":
                x = Apply("pow", (x, Num(-1)))
            if run_op is not None and kind != run_op:
                run = [Apply(run_op, tuple(run))]
            run_op = kind
            run.append(x)
        return Apply(run_op, tuple(run))

    def e(self, child):
        return self.node(child)

    # expressions
    def r_symbol(self, meta, name):
        name = str(name)
        if name == "I":
            return Apply("I", (), (None, next(_uid)))
        if name not in self.uses:
            self.order.append(name)
        self.uses[name] = self.uses.get(name, 0) + 1
        return Sym(name)

    def r_number(self, meta, tok):
        """An exact rational, within a double's range: later passes order, print and
        evaluate numbers as floats, and 1e400 or 1e-400 has no float."""
        text = str(tok)
        if text.isdigit() and len(text) <= 15:   # the usual small integer: no Fraction parsing
            return Num(int(text))
        mantissa, _, exponent = text.lower().partition("e")
        digits = mantissa.replace(".", "")
        if len(digits) > MAX_DIGITS:
            self.fail(f"the number {text[:12]}… has {len(digits):,} digits; the limit is {MAX_DIGITS}", meta,
                      cls=LimitError)
        if not digits.strip("0"):
            return Num(Fraction(0))
        value = Fraction(text) if len(exponent.lstrip("+-").lstrip("0")) <= 3 else None  # |e| < 1000
        why = "numbers must lie within a double's range, about 2.2e-308 to 1.8e308"
        if (value is None and not exponent.startswith("-")) or (value is not None and value > FLOAT_MAX):
            self.fail(f"the number {text} is too large: {why}", meta, cls=LimitError)
        if value is None or value < FLOAT_TINY:
            self.fail(f"the number {text} is too small: {why}", meta, cls=LimitError)
        return Num(value)

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
            self.uses[x.name] -= 1   # a size or a bound, not a symbol
            return Dim.of(x.name)
        if isinstance(x, Num) and x.value.denominator == 1:
            if abs(x.value) > MAX_SIZE:
                self.fail(f"the size or index {x.value} is too large; the limit is {MAX_SIZE:,}", meta,
                          cls=LimitError)
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
            import difflib
            close = difflib.get_close_matches(fname, sorted(FUNCTIONS), n=1)
            if not close:
                close = [f for f in sorted(FUNCTIONS) if f.lower() == fname.lower()][:1]
            hint = f"a symbol times a bracket is written {fname}*(…) (elementwise) or {fname}@(…) (matrix product)"
            if not close:
                hint = f"the functions are {', '.join(sorted(FUNCTIONS, key=str.lower))}; {hint}"
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
            if isinstance(w, Tree):   # X: *×2 — a size is a name or an integer
                self.fail(f"cannot read the declaration of {name}: a size is a name or an integer "
                          f"(n×m, n x m, (n, m), n for a vector, scalar)", meta)
            if not str(w).isdigit():
                return Dim.of(str(w))
            if len(str(w)) > 6 or int(w) > MAX_SIZE:
                self.fail(f"the size {str(w)[:12]} is too large; the limit is {MAX_SIZE:,}", meta, cls=LimitError)
            return Dim.of(int(w))
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
            import difflib
            close = difflib.get_close_matches(str(rest[0]), PROPS, n=1)
            extra = f"; did you mean '{close[0]}'?" if close else ""
            self.fail(f"cannot read the declaration of {name}: write properties ({', '.join(PROPS)}) "
                      f"then a shape (n×m, n x m, (n, m), n for a vector, scalar){extra}", meta)
        return Declaration(str(name), shape, frozenset(props), _span(meta))

    def r_define(self, meta, name, value):
        return ("define", str(name), self.e(value), _span(meta))


_RULES = {name[2:]: f for name, f in vars(_Builder).items() if name.startswith("r_")}   # tree.data -> method


def _span(meta) -> tuple:
    """(start, end) offsets of a tree; (0, 0) from a parser without positions."""
    return (getattr(meta, "start_pos", 0), getattr(meta, "end_pos", 0))


def _check_text(text, what: str = "expression"):
    if not isinstance(text, str):
        raise UsageError(f"the {what} must be a string, not {type(text).__name__}")
    if len(text) > MAX_INPUT:
        raise LimitError(f"the {what} is {len(text):,} characters long; the limit is {MAX_INPUT:,}")
    if not text.strip():
        raise ParseError(f"the {what} is empty", source=text, column=1)
    m = re.match(r"\s*where\s+[^\W\d]\w*\s*[:=]", text)
    if what == "expression" and m:
        raise ParseError("there is no expression before 'where': write the expression first, "
                         "as in 'x.T@A@x where A: symmetric n×n'", source=text,
                         column=len(text) - len(text.lstrip()) + 1, length=5)


def _measure(tree, source: str):
    """Depth and size of Lark's tree, without recursion; over a limit is a LimitError
    with a caret at the node where it was crossed."""
    from lark import Tree
    stack, nodes = [(tree, 0)], 0
    while stack:
        t, depth = stack.pop()
        nodes += t.data != "paren"
        over = None
        if depth > MAX_DEPTH:
            over = f"the expression is nested too deeply: more than {MAX_DEPTH} levels of operators"
        elif nodes > MAX_NODES:
            over = f"the expression is too large: more than {MAX_NODES:,} operators and operands"
        if over:
            start = getattr(t.meta, "start_pos", None) if not t.meta.empty else None
            line, column = _position(source, start) if start is not None else (1, None)
            raise LimitError(over, source=source, line=line, column=column)
        for k, c in enumerate(t.children):
            if isinstance(c, Tree):
                free = c.data == "paren" or (k == 0 and t.data in CHAINS and c.data in CHAINS
                                             and (t.data in SUMS) == (c.data in SUMS))
                stack.append((c, depth if free else depth + 1))


def _run(text: str, start: str, hints: bool = True, positions: bool = True):
    from lark.exceptions import LarkError, UnexpectedInput
    _check_text(text, "expression" if start == "start" else "declaration")
    try:
        tree = lark_parser(positions).parse(text, start=start)
    except UnexpectedInput as exc:
        if not hints:
            raise ParseError(str(exc).splitlines()[0], source=text) from None
        raise _parse_error(text, exc) from None
    except RecursionError:
        raise LimitError("the expression is nested too deeply", source=text) from None
    except LarkError as exc:  # pragma: no cover - anything else Lark may raise on odd input
        raise ParseError(f"cannot parse the input: {exc}", source=text) from None
    if len(text) > min(MAX_DEPTH, MAX_NODES):   # every level and node takes a character at least:
        _measure(tree, text)                     # a shorter text is within both limits
    return tree


def _walk(builder, tree):
    try:
        return builder.node(tree)
    except RecursionError:  # pragma: no cover - _measure bounds the depth first
        raise LimitError("the expression is nested too deeply", source=builder.source) from None


def parse(text: str, declare: str | None = None, *, _hints: bool = True, positions: bool = True) -> Parsed:
    """Parse an expression with an optional `where` clause; `declare` is a further
    clause (the -d option), parsed on its own so that its errors point into it.
    Bad input of any kind raises a MatcalcError subclass (ParseError, LimitError,
    UsageError), never a Lark exception or a RecursionError.  Without `positions`
    (faster) `spans` stays empty and errors come without carets or hints: parse
    again with positions to report one."""
    tree = _run(text, "start", _hints and positions, positions)
    b = _Builder(text, positions)
    expr = _walk(b, tree.children[0])
    items = _walk(b, tree.children[1]) if len(tree.children) > 1 and tree.children[1] is not None else []
    items = [(item, b) for item in items]
    if declare is not None:
        db = _Builder(declare, positions)
        items += [(item, db) for item in _declarations(declare, db, positions)]
    order = [n for n in b.order if b.uses[n] > 0]
    if declare is not None:   # symbols that only a -d definition uses (-d 'X = Y')
        order += [n for n in db.order if db.uses[n] > 0 and n not in order]
    parsed = Parsed(text, expr, spans=b.spans, order=order)
    for item, src in items:
        if isinstance(item, Declaration):
            old = parsed.declarations.get(item.name)
            if old is not None and (old.shape and item.shape and old.shape != item.shape):
                src.fail(f"{item.name} is declared twice with different shapes", item.span[0],
                         item.span[1] - item.span[0])
            if old is not None:
                item = Declaration(item.name, item.shape or old.shape, item.props | old.props, item.span)
            parsed.declarations[item.name] = item
        else:
            _, name, value, span = item
            if name in parsed.definitions:
                src.fail(f"{name} is defined twice", span[0], span[1] - span[0])
            parsed.definitions[name] = (value, span)
    for name, (_, span) in parsed.definitions.items():
        if not b.uses.get(name):
            src = next(s for i, s in items if isinstance(i, tuple) and i[1] == name)
            src.fail(f"{name} is defined but does not occur in the expression", span[0], span[1] - span[0])
    for name in parsed.definitions.keys() & parsed.declarations.keys():
        d = parsed.declarations[name]
        src = next(s for i, s in items if i is d or getattr(i, "name", None) == name)
        src.fail(f"{name} is both defined (=) and declared (:); a definition's shape is that of its value",
                 d.span[0], d.span[1] - d.span[0])
    return parsed


def _declarations(text: str, builder, positions: bool = True) -> list:
    if not text.strip():
        return []
    tree = _run(text, "declarations", positions=positions)
    return _walk(builder, tree.children[0])


def parse_declarations(text: str) -> list:
    """The -d/--declare clause: the same declarations and definitions as `where`."""
    return _declarations(text, _Builder(text))
