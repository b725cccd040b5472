"""`derivation(problem, X, result)`: the derivation behind a result, one `Step` a line,
the way a careful answer on a maths forum reads (`--steps`):

    Q = M@M.T - I                              name a repeated subexpression
    Q.T = Q                                    (symmetry, when it holds)
    dQ = dM@M.T + M@dM.T                       the differential, rule by rule
    df = 2*tr(Q@dQ)
    df = 2*Q : dQ                              (grad) into the form G : dN
    2*Q : dM@M.T = 2*Q@M : dM                  each term moved onto dM by an adjoint
    2*Q : M@dM.T = 2*Q@M : dM
    df = 2*Q@M : dM + 2*Q@M : dM               substituted
    df = 4*Q@M : dM                            collected
    ∇f = 4*Q@M                                 the result

Every step is an equality: `lhs` and `rhs` are matcalc expressions or `Inner`
sums of Frobenius products G : L (= sum(G ⊙ L)); `lhs` may be the symbol dQ / df
standing for the differential of a named expression (`of`).  `render(fmt)` gives
the line in text, pretty or LaTeX; a Step is also a dict {format: line}, so that
`Result.steps_in(fmt)` prints it.
"""
from __future__ import annotations

from ..expr import ONE, Apply, Expr, Sym, make, substitute, walk
from ..shapes import SCALAR
from .differential import differential

NONLINEAR_ARGS = ("matpow", "pow", "norm", "inv", "det", "logdet")
REGISTRY_ELEMENTWISE = ("exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "sigmoid", "relu")
NAMES = ("Q", "P", "R", "S", "U", "W", "Z", "N", "L", "K", "H", "G")

RULES = {"matmul": "product rule", "mul": "product rule", "T": "d(Aᵀ) = (dA)ᵀ", "tr": "d tr(A) = tr(dA)",
         "add": "linearity", "pow": "power rule", "inv": "d A⁻¹ = −A⁻¹ dA A⁻¹",
         "logdet": "d logdet A = tr(A⁻¹ dA)", "det": "d det A = det A tr(A⁻¹ dA)",
         "sum": "d sum(A) = sum(dA)", "norm": "d‖A‖ = (A : dA)/‖A‖", "kron": "product rule",
         "block": "blockwise", "slice": "blockwise", "vec": "linearity", "diag": "linearity",
         "matpow": "product rule"}
ADJOINTS = {"matmul": "A : B@C = B.T@A : C, A : C@B = A@B.T : C", "mul": "A : B*C = (A*B) : C",
            "T": "A : C.T = A.T : C", "tr": "a tr(C) = a*I : C", "add": "A : (B + C) = A : B + A : C",
            "sum": "a sum(C) = a*ones : C", "kron": "Kronecker adjoint", "block": "block adjoint",
            "slice": "block adjoint", "vec": "vec adjoint", "diag": "diag adjoint"}


class Inner:
    """Σ G_k : L_k, the Frobenius products (G : L = tr(Gᵀ L) = sum(G ⊙ L))."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def expr(self):
        """The same number as a matcalc expression."""
        parts = []
        for G, L in self.pairs:
            if G.is_scalar and L.is_scalar:
                parts.append(make("mul", G, L))
            elif G.is_scalar:
                parts.append(make("mul", G, make("sum", L)))
            else:
                parts.append(make("sum", make("mul", G, L)))
        return make("add", *parts)

    def render(self, printer, fmt):
        from ..ops import PREC_MUL
        colon = " : "
        out = []
        for n, (G, L) in enumerate(self.pairs):
            g = printer.paren(G, PREC_MUL + 1) if G.op == "add" else printer(G)
            l_ = printer.paren(L, PREC_MUL + 1) if L.op == "add" else printer(L)
            out.append(("" if n == 0 else " + ") + g + colon + l_)
        return "".join(out) if out else "0"


class Step(dict):
    """One line of the derivation: kind, lhs, rhs (expressions or Inner), `of` (what a
    differential symbol on the left is the differential of), `why` (rule names)."""

    def __init__(self, kind, lhs, rhs, why="", of=None, labels=None, differentials=frozenset()):
        super().__init__()
        self.kind, self.lhs, self.rhs, self.why, self.of = kind, lhs, rhs, why, of
        self.labels = labels or {}
        self.differentials = differentials
        for fmt in ("text", "pretty", "latex"):
            self[fmt] = self.render(fmt)
        self["kind"] = kind

    def render(self, fmt="text") -> str:
        p = _printer(fmt, self.differentials)
        lhs = self.labels.get(fmt) if self.labels else None
        if lhs is None:
            lhs = _side(self.lhs, p, fmt)
        rhs = _side(self.rhs, p, fmt)
        line = f"{lhs} = {rhs}"
        if self.why:
            if fmt == "latex":
                line += r" \quad \text{(" + _latex_text(self.why) + ")}"
            else:
                line += f"    ({self.why})"
        return line

    def __str__(self):
        return self.render("text")

    def __repr__(self):
        return f"<Step {self.kind}: {self.render('text')}>"


def _latex_text(s: str) -> str:
    for a, b in (("\\", ""), ("_", r"\_"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"), ("{", r"\{"), ("}", r"\}")):
        s = s.replace(a, b)
    for a, b in (("ᵀ", r"$^{\top}$"), ("⁻¹", r"$^{-1}$"), ("‖", r"$\|$"), ("−", "-"), ("∇", r"$\nabla$")):
        s = s.replace(a, b)
    return s


def _side(x, p, fmt):
    if isinstance(x, Inner):
        return x.render(p, fmt)
    return p(x)


def _printer(fmt, differentials):
    if fmt == "latex":
        from ..printers.latex import LatexPrinter
        return LatexPrinter(differentials)
    if fmt == "pretty":
        from ..printers.pretty import PrettyPrinter
        return PrettyPrinter()
    from ..printers.text import TextPrinter
    return TextPrinter()


# ---- the derivation ----------------------------------------------------------------------
def _names(prob, X, r, count):
    taken = set(prob.symbols) | {"I", "E", "K", "f", "F"}
    if r is not None and r.direction is not None:
        taken.add(r.direction.name)
    for s in prob.symbols.values():
        for d in s.shape:
            taken |= d.names()
    taken |= {"d" + n for n in prob.symbols}
    pool = [n for n in NAMES if n not in taken and "d" + n not in taken]
    pool += [f"Q{k}" for k in range(1, 100)]
    return pool[:count]


def definitions(F, X, prob, r=None):
    """[(Sym, body)] for the repeated subexpressions of F, in dependency order, and F
    written with them.  A symmetric body gets a symmetric symbol (Q.T = Q)."""
    from ..simplify.cse import name_repeats
    named, defs = name_repeats(F, set(prob.symbols) | {"I", "E", "K"})
    # the compound argument of a non-linear operation is named too: Q in tr(matpow(Q, 2))
    taken = set(prob.symbols) | {n for n, _ in defs} | {"I", "E", "K"}
    fresh = (f"_t{k}" for k in range(1000))
    for _ in range(4):
        found = None
        for e in [named] + [b for _, b in defs]:
            for node in reversed(walk(e)):
                if node.op in NONLINEAR_ARGS or node.op in REGISTRY_ELEMENTWISE:
                    a = node.args[0]
                    if not (isinstance(a, Sym) or a.size < 3 or X.name not in a.free or a.op == "T"):
                        found = a
                        break
            if found is not None:
                break
        if found is None:
            break
        name = next(n for n in fresh if n not in taken)
        taken.add(name)
        named = substitute(named, {found: Sym(name, found.shape)})
        defs = [(n, substitute(b, {found: Sym(name, found.shape)})) for n, b in defs] + [(name, found)]
    defs = _toposort(defs)
    names = _names(prob, X, r, len(defs))
    mapping, out = {}, []
    for (old, body), new in zip(defs, names):
        body = substitute(body, mapping) if mapping else body
        sym = Sym(new, body.shape, frozenset({"symmetric"}) if _symmetric(body) else frozenset())
        mapping[Sym(old, body.shape)] = sym
        out.append((sym, body))
    named = substitute(named, mapping) if mapping else named
    return out, named


def _toposort(defs):
    out, done = [], set()
    while len(out) < len(defs):
        for n, b in defs:
            if n not in done and all(m in done or m == n for m, _ in defs if m in b.free):
                out.append((n, b))
                done.add(n)
                break
        else:
            return defs
    return out


def _symmetric(e) -> bool:
    try:
        return not e.is_scalar and e.shape[0] == e.shape[1] and make("T", e) is e
    except Exception:
        return False


def _rules(node_ops) -> str:
    seen = []
    for op in node_ops:
        name = RULES.get(op, "chain rule")
        if name not in seen and op != "add":
            seen.append(name)
    return ", ".join(seen)


def derivation(prob, X: Sym, r) -> list:
    F = prob.expr
    defs, Fn = definitions(F, X, prob, r)
    dX = Sym("d" + X.name, X.shape, X.props & frozenset({"symmetric", "diagonal"}))
    dsym = {X: dX}
    diffs = frozenset({dX.name})
    steps = []
    full: dict[Sym, Expr] = {}   # named symbol -> body with every name expanded (for `of`)
    for sym, body in defs:
        full[sym] = substitute(body, {s: full[s] for s in full}) if full else body
        steps.append(Step("define", sym, body))
        if "symmetric" in sym.props:
            steps.append(Step("symmetry", Apply("T", (sym,)), sym, "symmetric"))
    # ---- the differential, one named expression at a time
    linear = {}   # named symbol (or None for F) -> its differential in the d-symbols
    variables = [X]
    for sym, body in defs:
        if not _depends(body, variables):
            continue
        d = _rename(_differential(body, variables, dsym), defs)
        ops = [n.op for n in walk(body) if n.args and _depends(n, variables)]
        dS = Sym("d" + sym.name, sym.shape, sym.props)
        dsym[sym] = dS
        diffs |= {dS.name}
        steps.append(Step("differential", dS, d, _rules(ops), of=full[sym], differentials=diffs))
        linear[sym] = d
        variables.append(sym)
    scalar = F.is_scalar
    dF = _rename(_differential(Fn, variables, dsym), defs)
    dF_sym = Sym("df" if scalar else "dF", F.shape)
    ops = [n.op for n in walk(Fn) if n.args and _depends(n, variables)]
    steps.append(Step("differential", dF_sym, dF, _rules(ops), of=F, differentials=diffs | {dF_sym.name}))
    diffs |= {dF_sym.name}
    cmd = r.command if r is not None else "grad"
    if cmd in ("grad", "hess", "elem") and scalar and (cmd != "elem" or not X.is_scalar):
        steps += _rearrange(dF, dF_sym, F, X, defs, dsym, linear, diffs)
    steps += _result_steps(cmd, r, X, dX, defs, full, diffs)
    return steps


def _rename(e, defs):
    """Write the named bodies by their names (norm(Q) -> P once P = norm(Q))."""
    for sym, body in reversed(defs):
        e = substitute(e, {body: sym})
    return e


def _depends(e, variables) -> bool:
    return any(v.name in e.free for v in variables)


def _differential(e, variables, dsym):
    parts = [differential(e, v, dsym[v]) for v in variables if v.name in e.free]
    return make("add", *parts) if parts else make("mul", 0, e) if e.is_scalar else differential(e, variables[0],
                                                                                                 dsym[variables[0]])


def _rearrange(dF, df, F, X, defs, dsym, linear, diffs):
    """df as Σ G : dN, then each named dN substituted and moved onto dX."""
    steps = []
    inv = {v: k for k, v in dsym.items()}
    order = [X] + [s for s, _ in defs if s in dsym]
    pending = {}   # variable -> [cotangent pieces]
    for v in order:
        if v.name in dF.free or dsym[v].name in dF.free:
            G = _cot(dF, dsym[v], ONE)
            if G is not None:
                pending.setdefault(v, []).append(G)
    steps.append(Step("inner", df, _inner(pending, dsym, order), "cyclic trace; A : B = tr(Aᵀ B)",
                      of=F, differentials=diffs))
    for sym, _ in reversed(defs):
        if sym not in pending or sym not in linear:
            continue
        G = make("add", *pending.pop(sym))
        terms = linear[sym].args if linear[sym].op == "add" else (linear[sym],)
        for t in terms:
            for v in order:
                if dsym[v].name not in t.free:
                    continue
                ops = []
                c = _cot(t, dsym[v], G, ops)
                if c is None:
                    continue
                c = _rename(c, defs)
                why = "; ".join(dict.fromkeys(ADJOINTS.get(o, o) for o in ops if o != "add"))
                steps.append(Step("adjoint", Inner([(G, t)]), Inner([(c, dsym[v])]), why, differentials=diffs))
                pending.setdefault(v, []).append(c)
        steps.append(Step("substitute", df, _inner(pending, dsym, order, collect=False),
                          f"substituted d{sym.name}", of=F, differentials=diffs))
    if any(len(p) > 1 for p in pending.values()):
        steps.append(Step("collect", df, _inner(pending, dsym, order), "collected like terms", of=F,
                          differentials=diffs))
    return steps


def _cot(L, dv, G, ops=None):
    from .adjoint import transpose

    def record(node, k, g, c):
        if ops is not None:
            ops.append(node.op)
    try:
        return transpose(L, dv, G, record)
    except Exception:
        return None


def _inner(pending, dsym, order, collect=True):
    pairs = []
    for v in order:
        if v not in pending:
            continue
        if collect:
            pairs.append((make("add", *pending[v]), dsym[v]))
        else:
            pairs += [(g, dsym[v]) for g in pending[v]]
    return Inner(pairs)


def _named(e, defs):
    """e with the named bodies replaced by their names (largest first)."""
    if not defs:
        return e
    expanded = []
    full = {}
    for sym, body in defs:
        full[sym] = substitute(body, full) if full else body
        expanded.append((sym, full[sym]))
    for sym, body in sorted(expanded, key=lambda sb: -sb[1].size):
        e = substitute(e, {body: sym})
    return e


def _result_steps(cmd, r, X, dX, defs, full, diffs):
    if r is None:
        return []
    steps = []
    R = r.full_expr()
    named = _named(R, defs)
    labels = {
        "grad": {"text": "∇f", "pretty": f"∇{X.name} f", "latex": rf"\nabla_{{{X.name}}} f"},
        "dir": {"text": "DF[V]", "pretty": "DF(X)[V]", "latex": r"\mathrm{D}F[V]"},
        "elem": {"text": "dF/dX[i,j]", "pretty": "∂F/∂Xᵢⱼ", "latex": r"\frac{\partial F}{\partial X_{ij}}"},
        "jac": {"text": "J", "pretty": "∂vec F/∂vec(X)ᵀ", "latex": "J"},
        "hess": {"text": "H", "pretty": "∇²f", "latex": r"\nabla^{2} f"},
    }[cmd]
    labels = {k: v.replace("X", X.name).replace("V", r.direction.name if r.direction is not None else "V")
              for k, v in labels.items()}
    why = {"grad": "read off df = G : d" + X.name, "dir": f"d{X.name} = " +
           (r.direction.name if r.direction is not None else "V"),
           "elem": (f"the (i, j) entry of the gradient" if R.is_scalar and r.problem is not None
                    and r.problem.expr.is_scalar else f"d{X.name} = E(i,j)"),
           "jac": f"vec(dF) = J vec(d{X.name})",
           "hess": "the differential of the gradient"}[cmd]
    if cmd == "grad" and X.props & {"symmetric", "spd", "diagonal"}:
        why += "; projected onto the " + ("diagonal" if "diagonal" in X.props else "symmetric") + " matrices"
    if named is not R:
        steps.append(Step("result", Sym("_", R.shape), named, why, labels=labels, differentials=diffs))
        why = "expanded"
    steps.append(Step("result", Sym("_", R.shape), R, why if named is R else why, labels=labels,
                      differentials=diffs))
    return steps
