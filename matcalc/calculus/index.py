"""`index_form(L, X)`: the entry ∂F_kl/∂X_ij in index notation, from the differential
L = dF with the unit matrix E(i,j) standing for dX.

An entry is a sum of terms; a term is a rational coefficient times a product of
factors — Kronecker deltas δ(a,b), entries M[a,b] of matrices that do not depend on
E, and 1×1 expressions — with possibly some indices still summed over (Σ_p).  The
rules, for L linear in E:

    E(i,j)[a,b]          = δ(a,i) δ(b,j)
    (L.T)[a,b]           = L[b,a]
    (A@L@B)[a,b]         = Σ_pq A[a,p] L[p,q] B[q,b]
    (H⊙L)[a,b]           = H[a,b] L[a,b],   (s L)[a,b] = s L[a,b]
    tr(L)                = Σ_p L[p,p],      sum(L) = Σ_pq L[p,q]

after which each summed index is contracted: a delta δ(p,x) substitutes x for p,
and A[a,p] B[p,b] becomes (A@B)[a,b].  For M@M.T this gives
δ(k,i)*M[l,j] + M[k,j]*δ(l,i); for a scalar f the entry (∇f)[i,j] (e.g.
tr(A@E(i,j)) = A[j,i]).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import UnsupportedError
from ..expr import Num, Sym, make, walk

FRESH = ("p", "s", "t", "u", "v", "w", "a", "b", "c", "d", "e", "f", "g", "h")
SUB = dict(zip("0123456789aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))

NOTE = ("∂F/∂{x} is a 4-D tensor (entries ∂F_kl/∂{x}_ij, above); matcalc's matrix answer is its action "
        "on a direction V, DF({x})[V] = Σ_ij V_ij ∂F/∂{x}_ij, and a gradient G is read off df = Σ_ij G_ij d{x}_ij "
        "— which is why ∂tr(M Mᵀ)/∂M is the matrix 2M, not a tensor.")


# ---- factors -------------------------------------------------------------------------
@dataclass(frozen=True)
class Delta:
    a: object   # an index: a name (str) or an integer
    b: object


@dataclass(frozen=True)
class Entry:
    m: object   # a matcalc expression free of E
    a: object
    b: object


@dataclass(frozen=True)
class Scalar:
    e: object   # a 1×1 matcalc expression


@dataclass
class Term:
    coef: Fraction
    factors: list
    sums: list = field(default_factory=list)   # [(index name, Dim)]


def _idx(d):
    """A Dim used as an index (E's attrs) -> 'i' or 0."""
    if d.is_const:
        return d.value
    return str(d)


def _subst(x, old, new):
    return new if x == old else x


def _has_E(e, memo):
    hit = memo.get(e)
    if hit is None:
        hit = any(n.op == "E" or _selected_entry(n) for n in walk(e))
        memo[e] = hit
    return hit


def _selected_entry(n) -> bool:
    """x[i, 0]: the canonical form of E(0,i)@x (ops/core.py _select_entries)."""
    return n.op == "slice" and any(d.names() & INDEX_NAMES for d in n.attrs)


INDEX_NAMES = frozenset("ij")


class _Builder:
    def __init__(self, taken):
        self.taken = set(taken)
        self.memo: dict = {}

    def fresh(self):
        for n in FRESH + tuple(f"p{k}" for k in range(1, 100)):
            if n not in self.taken:
                self.taken.add(n)
                return n
        raise UnsupportedError("index notation: too many summed indices")

    def entry(self, e, a, b) -> list:
        """Terms of e[a, b], e linear in E."""
        if not _has_E(e, self.memo):
            return [Term(Fraction(1), [Entry(e, a, b)])]
        op = e.op
        if op == "E":
            i, j = _idx(e.attrs[0]), _idx(e.attrs[1])
            return [Term(Fraction(1), [Delta(a, i), Delta(b, j)])]
        if _selected_entry(e):   # x[i, 0] = E(0,i)@x: one entry, 1×1
            return [Term(Fraction(1), [Entry(e.args[0], _idx(e.attrs[0]), _idx(e.attrs[2]))])]
        if op == "add":
            return [t for x in e.args if _has_E(x, self.memo) for t in self.entry(x, a, b)]
        if op == "T":
            return self.entry(e.args[0], b, a)
        if op == "mul":
            coef = Fraction(1)
            extra: list[Scalar | Entry] = []
            inner = None
            for x in e.args:
                if isinstance(x, Num):
                    coef *= x.value
                elif _selected_entry(x):   # x[i, 0]*x[j, 0]: entries, not the one E-linear factor
                    extra.append(Entry(x.args[0], _idx(x.attrs[0]), _idx(x.attrs[2])))
                elif inner is None and _has_E(x, self.memo):
                    inner = x
                elif x.is_scalar:
                    extra.append(Scalar(x))
                else:
                    extra.append(Entry(x, a, b))
            if inner is None:
                return [Term(coef, extra)]
            terms = self.entry(inner, 0, 0) if inner.is_scalar else self.entry(inner, a, b)
            return [Term(coef * t.coef, extra + t.factors, t.sums) for t in terms]
        if op == "matmul":
            chain = e.args
            k = next(n for n, x in enumerate(chain) if _has_E(x, self.memo))
            inner = chain[k]
            left = make("matmul", *chain[:k]) if k else None
            right = make("matmul", *chain[k + 1:]) if k + 1 < len(chain) else None
            p = self.fresh() if left is not None else a
            q = self.fresh() if right is not None else b
            out = []
            for t in self.entry(inner, p, q):
                fs, sums = list(t.factors), list(t.sums)
                if left is not None:
                    fs.insert(0, Entry(left, a, p))
                    sums.append((p, inner.shape[0]))
                if right is not None:
                    fs.append(Entry(right, q, b))
                    sums.append((q, inner.shape[1]))
                out.append(Term(t.coef, fs, sums))
            return out
        if op == "tr":
            p = self.fresh()
            return [Term(t.coef, t.factors, t.sums + [(p, e.args[0].shape[0])])
                    for t in self.entry(e.args[0], p, p)]
        if op == "sum":
            p, q = self.fresh(), self.fresh()
            m, n = e.args[0].shape
            return [Term(t.coef, t.factors, t.sums + [(p, m), (q, n)]) for t in self.entry(e.args[0], p, q)]
        if op == "diag":
            x = e.args[0]
            if x.shape[1].is_one:     # vector -> diagonal matrix: diag(v)[a,b] = δ(a,b) v[a]
                return [Term(t.coef, [Delta(a, b)] + t.factors, t.sums) for t in self.entry(x, a, 0)]
            return self.entry(x, a, a)  # matrix -> its diagonal (a column): diag(M)[a] = M[a,a]
        raise UnsupportedError(f"index notation through {op} is not supported yet")


# ---- contraction -----------------------------------------------------------------------
def _replace(f, old, new):
    if isinstance(f, Delta):
        return Delta(_subst(f.a, old, new), _subst(f.b, old, new))
    if isinstance(f, Entry):
        return Entry(f.m, _subst(f.a, old, new), _subst(f.b, old, new))
    return f


def _entry_normal(f):
    """Entry -> the plainest equivalent factor (or None for a vanishing one)."""
    m, a, b = f.m, f.a, f.b
    if m.is_scalar:
        return Scalar(m)
    if m.op == "I":
        return Delta(a, b)
    if m.op == "T":
        return _entry_normal(Entry(m.args[0], b, a))
    if m.shape[0].is_one and b != 0 and a == 0:   # a row: (x.T@A)[0,i] -> (A.T@x)[i]
        return _entry_normal(Entry(make("T", m), b, 0))
    if not m.shape[1].is_one:   # (X.T@A.T)[j,l] -> (A@X)[l,j]: the form with fewer transposes
        t = make("T", m)
        if _transposes(t) < _transposes(m):
            return Entry(t, b, a)
    return f


def _transposes(e):
    """Transposes in the printed tree (shared nodes counted at each use)."""
    return (e.op == "T") + sum(_transposes(a) for a in e.args)


def contract(t: Term, outputs=()):
    """Simplify a term; None when it vanishes.  `outputs`: the free indices of F."""
    fs, sums, coef = list(t.factors), list(t.sums), t.coef
    changed = True
    while changed:
        changed = False
        summed = {n for n, _ in sums}
        out = []
        for f in fs:
            if isinstance(f, Entry):
                f = _entry_normal(f)
            if isinstance(f, Delta):
                if f.a == f.b:
                    changed = True
                    continue
                if isinstance(f.a, int) and isinstance(f.b, int):
                    return None
            if isinstance(f, Scalar) and isinstance(f.e, Num):
                coef *= f.e.value
                changed = True
                continue
            out.append(f)
        fs = out
        # a delta on a summed index substitutes
        for n, f in enumerate(fs):
            if isinstance(f, Delta) and (f.a in summed or f.b in summed):
                old, new = (f.a, f.b) if f.a in summed else (f.b, f.a)
                fs = [_replace(g, old, new) for k, g in enumerate(fs) if k != n]
                sums = [s for s in sums if s[0] != old]
                changed = True
                break
        if changed:
            continue
        # δ(k,i) A[k,j] = δ(k,i) A[i,j]: entries read the input indices
        for f in fs:
            if isinstance(f, Delta) and f.a in outputs and f.b not in outputs and not isinstance(f.b, int):
                fs = [g if isinstance(g, Delta) else _replace(g, f.a, f.b) for g in fs]
        # A[a,p] B[p,b] -> (A@B)[a,b]
        for p, _ in sums:
            uses = [k for k, f in enumerate(fs) if isinstance(f, Entry) and p in (f.a, f.b)]
            if len(uses) != 2:
                if len(uses) == 1:
                    f = fs[uses[0]]
                    if f.a == p and f.b == p:   # M[p,p] -> tr(M)
                        fs[uses[0]] = Scalar(make("tr", f.m))
                        sums = [s for s in sums if s[0] != p]
                        changed = True
                        break
                continue
            f, g = fs[uses[0]], fs[uses[1]]
            if (f.a == p) + (f.b == p) != 1 or (g.a == p) + (g.b == p) != 1:
                continue
            A, ra = (f.m, f.a) if f.b == p else (make("T", f.m), f.b)
            B, cb = (g.m, g.b) if g.a == p else (make("T", g.m), g.a)
            fs[uses[0]] = Entry(make("matmul", A, B), ra, cb)
            del fs[uses[1]]
            sums = [s for s in sums if s[0] != p]
            changed = True
            break
    return Term(coef, fs, sums)


# ---- the result object --------------------------------------------------------------------
class IndexForm(str):
    """∂F_kl/∂X_ij as a sum of terms; `.text()`, `.pretty()`, `.latex()`.  It is the
    string of its text form too, so that code printing strings prints it."""

    def __new__(cls, terms, *args, **kw):
        return super().__new__(cls, _render(terms, "text"))

    def __init__(self, terms, out_index, in_index, F_shape, X_shape, X_name="X"):
        self.terms = terms
        self.out_index = out_index      # (k, l) — 0 for a unit axis
        self.in_index = in_index        # (i, j)
        self.F_shape, self.X_shape, self.X_name = F_shape, X_shape, X_name
        self.note = NOTE.format(x=X_name)

    def text(self) -> str:
        return _render(self.terms, "text")

    def __str__(self) -> str:
        return self.text()

    def pretty(self) -> str:
        return _render(self.terms, "pretty")

    def latex(self) -> str:
        return _render(self.terms, "latex")

    def lhs(self, fmt="text") -> str:
        """∂F_kl/∂X_ij, as the left-hand side of the entry."""
        k, l = self.out_index
        i, j = self.in_index
        fi = ",".join(str(x) for x in (k, l) if x != 0) if self.F_shape is not None else ""
        return f"∂F[{fi}]/∂{self.X_name}[{i},{j}]" if fmt != "latex" else \
            rf"\frac{{\partial F_{{{fi.replace(',', '')}}}}}{{\partial {self.X_name}_{{{i}{j}}}}}"

    def __repr__(self):
        return f"<IndexForm {self.text()}>"


def _render(terms, fmt) -> str:
    if not terms:
        return "0"
    parts = []
    for n, t in enumerate(terms):
        body = _term(t, fmt)
        neg = t.coef < 0
        if n == 0:
            parts.append(("-" if fmt != "pretty" else "−") + body if neg else body)
        else:
            parts.append((" − " if fmt == "pretty" else " - ") + body if neg else " + " + body)
    return "".join(parts)


def _fmt_index(ixs, fmt, vector):
    ixs = [str(x) for x in ixs]
    if vector:
        ixs = ixs[:1]
    if fmt == "latex":
        return "_{" + "".join(ixs) + "}"
    if fmt == "pretty" and all(len(x) == 1 and x in SUB for x in ixs):
        return "".join(SUB[x] for x in ixs)
    return "[" + ",".join(ixs) + "]"


def _printer(fmt):
    if fmt == "latex":
        from ..printers.latex import LatexPrinter
        return LatexPrinter()
    if fmt == "pretty":
        from ..printers.pretty import PrettyPrinter
        return PrettyPrinter()
    from ..printers.text import TextPrinter
    return TextPrinter()


def _factor(f, fmt):
    from ..ops import PREC_ATOM, PREC_MUL, PREC_POSTFIX
    pr = _printer(fmt)
    if isinstance(f, Delta):
        if fmt == "latex":
            return rf"\delta_{{{f.a}{f.b}}}"
        if fmt == "pretty" and str(f.a) in SUB and str(f.b) in SUB:
            return "δ" + SUB[str(f.a)] + SUB[str(f.b)]
        return f"δ({f.a},{f.b})"
    if isinstance(f, Scalar):
        if fmt == "latex":
            s = pr(f.e)
            return s if pr.prec(f.e) >= PREC_MUL + 1 else rf"\left({s}\right)"
        return pr.paren(f.e, PREC_MUL + 1)
    vector = f.m.shape[1].is_one and f.b == 0
    if fmt == "latex":
        s = pr(f.m)
        base = s if isinstance(f.m, Sym) else rf"\left({s}\right)"
    elif fmt == "pretty":
        s = pr(f.m)
        base = s if isinstance(f.m, Sym) or (s.endswith(")") and pr.prec(f.m) >= PREC_ATOM) else f"({s})"
    else:
        base = pr.paren(f.m, PREC_POSTFIX)
    return base + _fmt_index((f.a, f.b), fmt, vector)


def _term(t: Term, fmt) -> str:
    c = abs(t.coef)
    pieces = []
    if c != 1 or not t.factors:
        if fmt == "latex" and c.denominator != 1:
            pieces.append(rf"\frac{{{c.numerator}}}{{{c.denominator}}}")
        else:
            pieces.append(str(c))
    pieces += [_factor(f, fmt) for f in t.factors]
    sep = {"text": "*", "pretty": " ", "latex": " "}[fmt]
    body = sep.join(pieces)
    if t.sums:
        names = [n for n, _ in t.sums]
        if fmt == "latex":
            body = r"\sum_{" + ",".join(names) + "} " + body
        else:
            body = "Σ_" + ",".join(names) + " " + body
    return body


# ---- entry point ------------------------------------------------------------------------
def index_form(L, X: Sym, out=("k", "l"), inp=("i", "j")) -> IndexForm:
    """The index form of the differential L (E(i,j) standing for dX)."""
    F_shape = L.shape
    rows, cols = F_shape
    a = 0 if rows.is_one else out[0]
    b = 0 if cols.is_one else out[1]
    taken = {out[0], out[1], inp[0], inp[1]}
    for n in walk(L):
        if isinstance(n, Sym):
            taken.add(n.name)
    builder = _Builder(taken)
    raw = builder.entry(L, a, b)
    terms = [t for t in (contract(t, {x for x in (a, b) if x != 0}) for t in raw) if t is not None]
    terms = _collect(terms)
    # δ(k,i)*M[l,j] + M[k,j]*δ(l,i): the term with a delta on the first output index first
    terms.sort(key=lambda t: not any(isinstance(f, Delta) and f.a == a for f in t.factors))
    in_index = (inp[0], inp[1] if not X.shape[1].is_one else 0) if not X.is_scalar else (0, 0)
    return IndexForm(terms, (a, b), in_index, F_shape, X.shape, X.name)


def _collect(terms):
    """Add the coefficients of equal terms."""
    out: dict = {}
    for t in terms:
        key = (tuple(t.factors), tuple(t.sums))
        if key in out:
            out[key].coef += t.coef
        else:
            out[key] = Term(t.coef, list(t.factors), list(t.sums))
    return [t for t in out.values() if t.coef != 0]


# ---- numeric evaluation (the tests' oracle) ------------------------------------------------
def evaluate(form: IndexForm, values: dict, sizes: dict, index: dict) -> float:
    """The value of the entry at concrete arrays (by symbol name), dimension sizes and
    indices ({'k': 0, 'l': 1, 'i': 2, 'j': 0}); summed indices run over their ranges."""
    import itertools

    from ..printers.numpy import compile_function, function_source, symbols_of
    import numpy as np

    cache: dict = {}

    def value(e):
        if e not in cache:
            syms = symbols_of(e)
            f = compile_function(function_source(e, syms, raw=True))
            cache[e] = np.atleast_2d(np.asarray(f(**{s.name: values[s.name] for s in syms}), dtype=float))
        return cache[e]

    def ix(x, env):
        return x if isinstance(x, int) else env[x]

    total = 0.0
    for t in form.terms:
        names = [n for n, _ in t.sums]
        ranges = [range(d.evaluate(sizes)) for _, d in t.sums]
        for combo in itertools.product(*ranges):
            env = dict(index, **dict(zip(names, combo)))
            v = float(t.coef)
            for f in t.factors:
                if isinstance(f, Delta):
                    v *= float(ix(f.a, env) == ix(f.b, env))
                elif isinstance(f, Scalar):
                    v *= float(value(f.e).reshape(-1)[0])
                else:
                    v *= float(value(f.m)[ix(f.a, env), ix(f.b, env)])
            total += v
    return total
