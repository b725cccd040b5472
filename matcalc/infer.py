"""Shape inference: a raw tree from parse.py -> a typed, canonical expression.

Every symbol starts with unknown dimensions; each operator's shape rule unifies
them (shapes.Unifier).  What inference leaves open is settled in this order
(SPEC §1): the ⊙ tie-break (an operand nothing fixes takes the other's shape,
unless its name reads as a scalar), the scalar a gradient asks for, names that read
as scalars, lower-case names as column vectors, then free dimensions get names
n, m, p, q, ….  Declarations are applied first and always win.
"""
from __future__ import annotations

import re
from itertools import chain, count
from dataclasses import dataclass, field

from .errors import NotScalarError, ParseError, ShapeError
from .expr import Apply, Expr, Num, Sym, identity, make, zeros
from .expr import REGISTRY
from .parse import Parsed
from .shapes import SCALAR, Dim, ShapeMismatch, Unifier, is_var, show

GREEK = ("alpha beta gamma delta epsilon eps zeta eta theta iota kappa lambda lamda lam mu nu xi omicron pi rho "
         "sigma tau upsilon phi chi psi omega").split()
_SCALAR_NAME = re.compile(r"^(?:[a-h]|[α-ω]|" + "|".join(GREEK) + r")(?:_?\d+)?$")
DIM_NAMES = ["n", "m", "p", "q", "r", "s", "t", "u", "v", "w", "k", "l"]


def _symbol_of(node):
    """The symbol an operand is made of, through negation, division and one-argument
    functions (-a, 1/c, exp(a)); None for anything else."""
    while not isinstance(node, Sym):
        if node.op == "pow" and isinstance(node.args[1], Num) or node.op == "mul" and len(node.args) == 2 \
                and isinstance(node.args[0], Num):
            node = node.args[0] if node.op == "pow" else node.args[1]
        elif node.args and len(node.args) == 1 and node.op not in ("T",):
            node = node.args[0]
        else:
            return None
    return node


def reads_as_scalar(name: str) -> bool:
    return bool(_SCALAR_NAME.match(name))


@dataclass
class Problem:
    """A typed expression ready to differentiate."""
    source: str
    expr: Expr
    symbols: dict                                   # name -> typed Sym, in order of appearance
    definitions: dict = field(default_factory=dict)  # name -> typed expression (from `where C = …`)

    @property
    def shapes(self) -> dict:
        return {n: tuple(str(d) for d in s.shape) for n, s in self.symbols.items()}


class _Inference:
    def __init__(self, parsed: Parsed):
        self.p = parsed
        self.order = [n for n in parsed.order if n not in parsed.definitions]
        self.U = Unifier()
        self.sym_shape: dict = {}
        self.memo: dict = {}

    # -- errors -----------------------------------------------------------
    def span_of(self, nodes):
        spans = [self.p.spans[n] for n in nodes if n in self.p.spans]
        if not spans:
            return None, 1
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        return start, end - start

    def shape_text(self, shape):
        names = self.provisional_names()
        return show(tuple(self.U.resolve(d).subs(names) for d in shape))

    def error(self, node, exc: ShapeMismatch):
        args = node.args
        culprits = [args[k] for k in exc.operands if k < len(args)] or [node]
        start, length = self.span_of(culprits if len(culprits) > 1 else [node])
        src = self.p.source
        parts = []
        for c in culprits:
            s = self.p.spans.get(c)
            text = src[s[0]:s[1]] if s else repr(c)
            parts.append(f"{text} is {self.shape_text(self.memo.get(c, SCALAR))}")
        msg = f"shape mismatch: {exc.message}: " + ", ".join(parts) if parts else exc.message
        if node.op == "mul" and len(culprits) == 2:
            a, b = (self.U.resolve_shape(self.memo[c]) for c in culprits)
            if a[1] == b[0]:
                msg += "; did you mean @ (the matrix product)?"
        col, line = None, 1
        if start is not None:
            line = src.count("\n", 0, start) + 1
            col = start - (src.rfind("\n", 0, start) + 1) + 1
        return ShapeError(msg, source=src, column=col, line=line, length=length)

    def provisional_names(self):
        taken = set(self.order) | {v for s in self.sym_shape.values() for d in s for v in self.U.resolve(d).names()}
        names, pool = {}, (n for n in chain(DIM_NAMES, (f"n{k}" for k in count(1))) if n not in taken)
        for name in self.order:
            for d in self.sym_shape.get(name, ()):
                for v in sorted(self.U.resolve(d).names()):
                    if is_var(v) and v not in names:
                        names[v] = next(pool)
        return names

    # -- the walk -----------------------------------------------------------
    def declare(self):
        for name, d in self.p.declarations.items():
            if name not in self.order:
                s, e = d.span
                raise ParseError(f"{name} is declared but does not occur in the expression", source=self.p.source,
                                 column=s + 1, length=e - s)
            shape = d.shape if d.shape is not None else self.U.fresh_shape()
            self.sym_shape[name] = shape
            if d.props and not self.U.unify(shape[0], shape[1]):
                s, e = d.span
                raise ShapeError(f"{name} is declared {', '.join(sorted(d.props))} but its shape "
                                 f"{show(shape)} is not square", source=self.p.source, column=s + 1, length=e - s)

    def shape(self, node):
        hit = self.memo.get(node)
        if hit is not None:
            return hit
        if isinstance(node, Sym):
            out = self.sym_shape.get(node.name)
            if out is None:
                out = self.sym_shape[node.name] = self.U.fresh_shape()
        elif isinstance(node, Num):
            out = SCALAR
        elif node.op == "I":
            n = node.attrs[0] if node.attrs[0] is not None else self.U.fresh()
            out = (n, n)
        elif node.op in ("zeros", "E") and None in node.attrs[:4]:
            out = self.U.fresh_shape()
        else:
            shapes = [self.shape(a) for a in node.args]
            self.U.context = node
            try:
                out = REGISTRY[node.op].infer(self.U, shapes, node.attrs)
            except ShapeMismatch as exc:
                raise self.error(node, exc) from None
        self.memo[node] = out
        return out

    def settle_broadcasts(self):
        U = self.U
        while U.pending:
            progressed = False
            for item in list(U.pending):
                a, b, out, node, operands = item
                if U.is_scalar(a) or U.is_scalar(b) or (U.surely_matrix(a) and U.surely_matrix(b)):
                    U.pending.remove(item)
                    self.resolve_broadcast(item)
                    progressed = True
            if progressed:
                continue
            item = U.pending.pop(0)
            a, b, out, node, operands = item
            for k in operands:  # the operands' own shapes (in an n-ary product, `a` is the running one)
                arg, s = _symbol_of(node.args[k]), self.memo[node.args[k]]
                if arg is not None and reads_as_scalar(arg.name) and self.free_shape(s):
                    U.unify_shape(s, SCALAR)
                    break
            self.resolve_broadcast(item)

    def settle_diags(self):
        from .ops.structure import settle_diag
        for r, c, out, node in self.U.choices:
            try:
                settle_diag(self.U, r, c, out)
            except ShapeMismatch as exc:
                raise self.error(node, exc) from None
        self.U.choices.clear()

    def resolve_broadcast(self, item):
        a, b, out, node, operands = item
        U = self.U
        for k, other in ((operands[1], a), (operands[0], b)):
            # a scalar-named operand that nothing fixes is a scalar beside a scalar too (a*b*d)
            own, sym = self.memo[node.args[k]], _symbol_of(node.args[k])
            if sym is not None and reads_as_scalar(sym.name) and U.is_scalar(other) and self.free_shape(own):
                U.unify_shape(own, SCALAR)
        if U.is_scalar(a) or U.is_scalar(b):
            result = b if U.is_scalar(a) else a
        elif U.unify_shape(a, b):
            result = a
        else:
            raise self.error(node, ShapeMismatch(
                "operands of * must have the same shape, or one must be a scalar", operands))
        U.unify_shape(out, result)

    def free_shape(self, s) -> bool:
        return all(is_var(v) and len(self.U.resolve(d).terms) == 1 and self.U.resolve(d).terms[0][1] == 1
                   for d in s for v in self.U.resolve(d).names()) and \
            all(not self.U.resolve(d).is_const for d in s)

    def unconstrained(self, name) -> bool:
        """Nothing but the symbol itself mentions its dimensions (exp(a), not a + X)."""
        mine = [self.U.resolve(d) for d in self.sym_shape[name]]
        if not self.free_shape(self.sym_shape[name]) or mine[0] == mine[1]:
            return False
        others: set = set()
        for other, s in self.sym_shape.items():
            if other != name:
                for d in s:
                    others |= self.U.resolve(d).names()
        for node, s in self.memo.items():
            if not isinstance(node, Sym):
                for d in s:
                    others |= self.U.resolve(d).names() if node.args and not (
                        getattr(_symbol_of(node), "name", None) == name) else set()
        return not (set().union(*(d.names() for d in mine)) & others)

    def finish(self, root_shape, scalar: bool, command: str):
        U = self.U
        U.retry_deferred()
        if scalar and not U.unify_shape(root_shape, SCALAR):
            raise NotScalarError(
                f"{command} needs a scalar expression, but this one is {self.shape_text(root_shape)}; "
                "use dir (directional derivative), elem (per element) or jac (Jacobian) for an array",
                source=self.p.source)
        for name in self.order:
            s = self.sym_shape[name]
            if reads_as_scalar(name) and self.unconstrained(name):
                U.unify_shape(s, SCALAR)
        for name in self.order:
            s = self.sym_shape[name]
            if name[0].islower():
                c = U.resolve(s[1])
                if len(c.terms) == 1 and c.terms[0][1] == 1 and all(is_var(v) for v in c.names()) and c.names():
                    U.unify(c, Dim.of(1))
        U.retry_deferred()
        for name in self.order:   # [[x, b], [x ⊗ x.T, y]] as a scalar "solves" x: 1×0
            shape = tuple(U.resolve(d) for d in self.sym_shape[name])
            if any(d.is_const and d.value < 1 for d in shape):
                raise ShapeError(f"the shapes only fit if {name} is {show(shape)}, and a size must be at least 1",
                                 source=self.p.source)
        if U.deferred:
            names = self.provisional_names()
            a, b = U.deferred[0]
            raise ShapeError(f"cannot work out the sizes: they must satisfy {U.resolve(a).subs(names)} = "
                             f"{U.resolve(b).subs(names)}; declare the shapes (where X: n×m, …)",
                             source=self.p.source)
        return self.provisional_names()


def infer(parsed: Parsed, *, scalar: bool = False, command: str = "grad") -> Problem:
    """Give the raw tree shapes; `scalar` asks for a scalar result (grad, hess)."""
    inf = _Inference(parsed)
    inf.declare()
    raw = expand_definitions(parsed)
    root = inf.shape(raw)
    for value, _ in parsed.definitions.values():
        inf.shape(expand_definitions(parsed, value))
    inf.settle_broadcasts()
    inf.settle_diags()
    names = inf.finish(root, scalar, command)
    taken = set(inf.order) | set(names.values())
    spare = (n for n in chain(DIM_NAMES, (f"n{k}" for k in count(1))) if n not in taken)

    def dim(d):
        r = inf.U.resolve(d)
        for v in r.names():   # a size no symbol has (the rows of an input E(0,i)) gets a name too
            if is_var(v) and v not in names:
                names[v] = next(spare)
        return r.subs(names)

    symbols = {}
    for name in inf.order:
        d = parsed.declarations.get(name)
        symbols[name] = Sym(name, tuple(dim(x) for x in inf.sym_shape[name]), d.props if d else frozenset())
    memo: dict = {}

    def build(node):
        hit = memo.get(node)
        if hit is not None:
            return hit
        if isinstance(node, Sym):
            out = symbols[node.name]
        elif isinstance(node, Num):
            out = node
        elif node.op == "I":
            out = identity(dim(inf.memo[node][0]))
        elif node.op == "zeros":
            out = zeros(tuple(dim(x) for x in inf.memo[node]))
        elif node.op == "E":
            r, c = (dim(x) for x in inf.memo[node])
            out = Apply("E", (), (node.attrs[0], node.attrs[1], r, c))
        elif node.op == "slice":
            arg = build(node.args[0])
            r0, r1, c0, c1 = node.attrs
            rows, cols = arg.shape
            out = make("slice", arg, attrs=(dim(r0) if r0 is not None else Dim.of(0), dim(r1) if r1 is not None else rows,
                                            dim(c0) if c0 is not None else Dim.of(0), dim(c1) if c1 is not None else cols))
        else:
            out = make(node.op, *(build(a) for a in node.args),
                       attrs=tuple(dim(a) if isinstance(a, Dim) else a for a in node.attrs))
        out.shape   # every typed node is consistent: sizes settled late (a ⊙ tie-break) are checked here
        memo[node] = out
        return out

    try:
        expr = build(raw)
        definitions = {name: build(expand_definitions(parsed, value))
                       for name, (value, _) in parsed.definitions.items()}
    except ShapeMismatch as exc:  # a constraint inference could not see (sizes of products)
        raise ShapeError(f"shape mismatch: {exc.message}", source=parsed.source) from None
    finally:   # build refers to itself: break the cycle, so the raw nodes die now (expr.sweep), not at gc
        del build
    return Problem(parsed.source, expr, symbols, definitions)


def expand_definitions(parsed: Parsed, node=None, depth: int = 0):
    """Substitute `where C = …` definitions (which may use each other) into a raw tree."""
    node = parsed.expr if node is None else node
    if not parsed.definitions:
        return node
    if depth > 50:
        raise ParseError("the definitions in the where clause refer to each other in a cycle", source=parsed.source)
    memo: dict = {}

    def sub(n):
        if isinstance(n, Sym) and n.name in parsed.definitions:
            return expand_definitions(parsed, parsed.definitions[n.name][0], depth + 1)
        if not n.args:
            return n
        hit = memo.get(n)
        if hit is None:
            hit = memo[n] = Apply(n.op, [sub(a) for a in n.args], n.attrs)
            if n in parsed.spans:
                parsed.spans.setdefault(hit, parsed.spans[n])
        return hit

    try:
        return sub(node)
    finally:   # sub refers to itself: break the cycle (see infer)
        del sub
