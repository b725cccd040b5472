"""The exact oracle: a derivative compared with SymPy, entry by entry, at small
concrete sizes.

`exact_check(result, sizes=None)` expands F (`result.problem.expr`) with SymPy
matrices of real symbols (symmetric and diagonal variables get mirrored or zero
entries) at small sizes (the first dimension name 2, the second 3, the others 2,
unless `sizes` fixes them), differentiates along a symbolic tangent V (a matrix of
fresh symbols with the variable's structure), and compares with matcalc's result
(`result.full_expr()`) evaluated by the same SymPy walk:

  grad   sum(R ⊙ V)           = d/dt F(X + tV) at 0
  dir    R with dX := V       = d/dt F(X + tV)
  elem   Σ_ij V_ij R(i, j)    = d/dt F(X + tV)
  jac    R @ vec(V)           = vec(d/dt F(X + tV))
  hess   <W, R[V]> (or vec(W)ᵀ R vec(V)) = ∂²/∂s∂t F(X + sV + tW)

Every entry of the difference must simplify to 0 (at a rational point, where it
is a constant such as exp(7/5) - …, vanish to 60 digits at 80-digit precision):
the Outcome's error is 0.0 exactly then; otherwise it is the largest relative difference at a random
rational point (> 0), with the offending entry in `detail`.  Kinks (abs, relu,
sign, step) are compared away from the kink: SymPy's DiracDelta terms are dropped.
An orthogonal variable is not supported (its entries are not free symbols).
SymPy is imported lazily (it costs ~0.5 s).
"""
from __future__ import annotations

from .errors import UnsupportedError
from .expr import Num, Sym, walk
from .numeric import Outcome, direction

DEFAULT_SIZES = (2, 3)
PRECISE_DIGITS = 60
PRECISE_RTOL = 1e-12
PRECISE_LIMIT = 1e50    # beyond it the oracle declines (UnsupportedError)


def _sympy():
    import sympy
    return sympy


def concrete_sizes(symbols, sizes=None) -> dict:
    from .numeric import dim_names
    sizes = dict(sizes or {})
    out = {}
    for k, name in enumerate(dim_names(symbols)):
        out[name] = int(sizes.get(name, DEFAULT_SIZES[k] if k < len(DEFAULT_SIZES) else 2))
    return out


def symbol_matrix(name: str, r: int, c: int, props=frozenset(), prefix="", point=None, tangent=False):
    """A matrix of real symbols with the structure the properties give; with `point`
    (a random.Random) a matrix of random exact rationals instead: positive entries
    (inside the domain of log, sqrt, away from the kinks of abs and relu) with a
    dominant diagonal when square (invertible, positive determinant), or any signs
    for a tangent."""
    sp = _sympy()
    if "orthogonal" in props:
        raise UnsupportedError(f"the exact oracle does not handle the orthogonal variable {name}")
    sym = props & {"symmetric", "spd"}
    diag = "diagonal" in props
    drawn: dict = {}

    def entry(i, j):
        if diag and i != j:
            return sp.Integer(0)
        if sym and i > j:
            i, j = j, i
        if point is None:
            return sp.Symbol(f"{prefix}{name}_{i}_{j}", real=True)
        if (i, j) not in drawn:
            if tangent:
                drawn[i, j] = sp.Rational(point.choice([-1, 1]) * point.randint(1, 9), point.randint(1, 9))
            else:
                drawn[i, j] = sp.Rational(point.randint(5, 15), 10) + (r if i == j and r == c and r > 1 else 0)
        return drawn[i, j]
    return sp.Matrix(r, c, lambda i, j: entry(i, j))


class SympyEvaluator:
    """Evaluates matcalc expressions to SymPy matrices (every value 2-D; a scalar is 1×1)."""

    def __init__(self, env: dict, sizes: dict, limit=None):
        self.env = env          # symbol name -> sympy Matrix
        self.sizes = sizes      # dimension name -> int (i, j included for E(i,j))
        self.memo: dict = {}
        self.limit = limit      # the largest float a function may be applied to

    def dim(self, d) -> int:
        try:
            return d.evaluate(self.sizes)
        except KeyError as exc:
            raise UnsupportedError(f"the exact oracle has no size for {exc.args[0]}") from None

    def __call__(self, e):
        for node in walk(e):
            if node not in self.memo:
                self.memo[node] = self.node(node)
        return self.memo[e]

    def node(self, e):
        sp = _sympy()
        if isinstance(e, Sym):
            if e.name not in self.env:
                raise UnsupportedError(f"the exact oracle has no value for {e.name}")
            return self.env[e.name]
        if isinstance(e, Num):
            return sp.Matrix([[sp.Rational(e.value.numerator, e.value.denominator)]])
        method = getattr(self, "op_" + e.op, None)
        if method is None:
            raise UnsupportedError(f"the exact oracle does not know the operator {e.op}")
        return method(e, *[self.memo[a] for a in e.args])

    # ---- helpers ------------------------------------------------------------------
    @staticmethod
    def scalar(m):
        return m[0, 0]

    def pointwise(self, f, m):
        if self.limit is not None:   # sin(1e9565) would need 9,600 digits of pi first
            for v in m:
                if v.is_Float and abs(v) > self.limit:
                    raise UnsupportedError(f"the precise oracle does not evaluate functions at {v:.3e}")
        return m.applyfunc(f)

    @staticmethod
    def broadcast(a, b):
        if a.shape == (1, 1) and b.shape != (1, 1):
            return a[0, 0] * _sympy().ones(*b.shape), b
        if b.shape == (1, 1) and a.shape != (1, 1):
            return a, b[0, 0] * _sympy().ones(*a.shape)
        return a, b

    # ---- the algebra ----------------------------------------------------------------
    def op_add(self, e, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out

    def op_mul(self, e, *xs):
        out = xs[0]
        for x in xs[1:]:
            a, b = self.broadcast(out, x)
            out = a.multiply_elementwise(b)
        return out

    def op_matmul(self, e, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out

    def op_T(self, e, x):
        return x.T

    def op_pow(self, e, x, k):
        kk = self.scalar(k)
        return x.applyfunc(lambda v: v ** kk)

    def op_I(self, e):
        return _sympy().eye(self.dim(e.attrs[0]))

    def op_ones(self, e):
        return _sympy().ones(self.dim(e.attrs[0]), self.dim(e.attrs[-1]))

    def op_zeros(self, e):
        return _sympy().zeros(self.dim(e.attrs[0]), self.dim(e.attrs[-1]))

    def op_E(self, e):
        i, j, r, c = (self.dim(d) for d in e.attrs[:4])
        m = _sympy().zeros(r, c)
        m[i, j] = 1
        return m

    # ---- linear algebra ----------------------------------------------------------------
    def op_tr(self, e, x):
        return _sympy().Matrix([[x.trace()]])

    def op_sum(self, e, x):
        return _sympy().Matrix([[sum(x)]])

    def op_inv(self, e, x):
        return x.inv(method="LU")

    def op_det(self, e, x):
        return _sympy().Matrix([[x.det(method="berkowitz")]])

    def op_logdet(self, e, x):
        sp = _sympy()
        return sp.Matrix([[sp.log(x.det(method="berkowitz"))]])

    def op_norm(self, e, x):
        sp = _sympy()
        return sp.Matrix([[sp.sqrt(sum(v ** 2 for v in x))]])

    def op_matpow(self, e, x):
        k = e.attrs[0]
        return x ** k if k >= 0 else x.inv(method="LU") ** (-k)

    # ---- elementwise functions ------------------------------------------------------------
    def op_exp(self, e, x):
        return self.pointwise(_sympy().exp, x)

    def op_log(self, e, x):
        return self.pointwise(_sympy().log, x)

    def op_sin(self, e, x):
        return self.pointwise(_sympy().sin, x)

    def op_cos(self, e, x):
        return self.pointwise(_sympy().cos, x)

    def op_tanh(self, e, x):
        return self.pointwise(_sympy().tanh, x)

    def op_sqrt(self, e, x):
        return self.pointwise(_sympy().sqrt, x)

    def op_abs(self, e, x):
        return self.pointwise(_sympy().Abs, x)

    def op_sigmoid(self, e, x):
        sp = _sympy()
        return self.pointwise(lambda v: 1 / (1 + sp.exp(-v)), x)

    def op_relu(self, e, x):
        sp = _sympy()
        return self.pointwise(lambda v: v * sp.Heaviside(v), x)

    def op_sign(self, e, x):
        return self.pointwise(_sympy().sign, x)

    def op_step(self, e, x):
        return self.pointwise(_sympy().Heaviside, x)

    # ---- structure ------------------------------------------------------------------------
    def op_kron(self, e, a, b):
        from sympy.physics.quantum import TensorProduct
        return TensorProduct(a, b)

    def op_vec(self, e, x):
        sp = _sympy()
        return sp.Matrix([x[i, j] for j in range(x.cols) for i in range(x.rows)])

    def op_diag(self, e, x):
        sp = _sympy()
        r, c = (self.dim(d) for d in e.shape)
        if c == 1 and not (x.cols == 1 and r == x.rows and x.rows > 1 and c == 1 and r != x.rows):
            if x.rows == x.cols and r == x.rows:   # square matrix -> its diagonal as a column
                return sp.Matrix([x[i, i] for i in range(x.rows)])
        if x.cols == 1 and r == c == x.rows:       # vector -> diagonal matrix
            return sp.diag(*[x[i, 0] for i in range(x.rows)])
        return sp.Matrix([x[i, i] for i in range(min(x.rows, x.cols))])

    def op_block(self, e, *blocks):
        sp = _sympy()
        nr, nc = e.attrs[:2]
        rows = [sp.Matrix.hstack(*blocks[r * nc:(r + 1) * nc]) for r in range(nr)]
        return sp.Matrix.vstack(*rows)

    def op_slice(self, e, x):
        r0, r1, c0, c1 = (self.dim(d) for d in e.attrs[:4])
        return x[r0:r1, c0:c1]

    def op_K(self, e):
        sp = _sympy()
        # the commutation matrix K(m, n): K(m, n) @ vec(A) = vec(A.T) for A m×n
        # (Magnus & Neudecker): row c + r*n (vec(A.T) index of A[r, c]) has its 1 in
        # column r + c*m (vec(A) index of A[r, c])
        m, n = (self.dim(d) for d in e.attrs[:2])
        out = sp.zeros(m * n, m * n)
        for r in range(m):
            for c in range(n):
                out[c + r * n, r + c * m] = 1
        return out


def _float_matrix(a, digits):
    """A NumPy array as a SymPy matrix of its exact binary values, at `digits` digits."""
    import numpy as np
    sp = _sympy()
    a = np.atleast_2d(np.asarray(a, dtype=float))
    return sp.Matrix(a.shape[0], a.shape[1], lambda i, j: sp.Float(float(a[i, j]), digits))


def _precise_outcome(kind, ours, want, diffs, dims, digits) -> Outcome:
    """The largest entry of the difference relative to the largest of SymPy's, in
    SymPy floats (exp(exp(X)) is far outside float64's range)."""
    sp = _sympy()
    try:
        scale = max([abs(sp.N(w, digits)) for w in want] + [sp.Float(0)])
        gaps = [abs(sp.N(d, digits)) for d in diffs]
        k = max(range(len(gaps)), key=lambda i: gaps[i], default=0)
        error = float(gaps[k] / max(scale, sp.Float("1e-30"))) if gaps else 0.0
    except (TypeError, ValueError):   # a symbol left over, nan or zoo: not comparable
        return Outcome(kind, float("inf"), tolerance=PRECISE_RTOL, detail=f"not a number at sizes {dims}")
    detail = f"{digits}-digit floats at sizes {dims}"
    if not error <= PRECISE_RTOL:
        detail += f", entry {k}: matcalc {sp.N(ours[k], 15)} vs SymPy {sp.N(want[k], 15)}"
    return Outcome(kind, error if error == error else float("inf"), tolerance=PRECISE_RTOL, detail=detail)


def _vec(m):
    sp = _sympy()
    return sp.Matrix([m[i, j] for j in range(m.cols) for i in range(m.rows)])


def _is_zero(d) -> bool:
    sp = _sympy()
    d = d.replace(sp.DiracDelta, lambda *a: sp.Integer(0))
    if d == 0:
        return True
    if not d.free_symbols:   # at a point: exp(7/5) - ... is zero to 60 digits or not at all
        return _vanishes(d)
    d = sp.expand(d)
    if d == 0:
        return True
    for f in (sp.cancel, sp.simplify):
        try:
            d = f(d)
        except Exception:  # noqa: BLE001 - SymPy may give up; then it is not proven
            return False
        if d == 0:
            return True
    return False


def _vanishes(d, digits: int = 80) -> bool:
    """A constant is 0 when it is below 10**-60 of its largest term at 80 digits
    (SymPy's cancel on sums of exp(7/5) terms takes minutes; this takes milliseconds)."""
    sp = _sympy()
    scale = max([abs(sp.N(a, digits)) for a in sp.Add.make_args(d)] + [sp.Integer(1)])
    try:
        return bool(abs(sp.N(d, digits)) <= sp.Float(10, digits) ** -60 * scale)
    except TypeError:   # nan or zoo
        return False


def _numeric_gap(diff_entries, value_entries, symbols, seed=0) -> float:
    """The largest relative difference at a random rational point inside the domain
    (positive entries: log, sqrt and fractional powers stay real)."""
    import random

    sp = _sympy()
    rnd = random.Random(seed)
    point = {s: sp.Rational(rnd.randint(3, 17), rnd.randint(4, 9)) for s in symbols}
    worst = 0.0
    for d, v in zip(diff_entries, value_entries):
        try:
            dv = abs(complex(sp.N(d.replace(sp.DiracDelta, lambda *a: 0).subs(point), 30)))
            vv = abs(complex(sp.N(v.subs(point), 30)))
        except Exception:  # noqa: BLE001
            return float("inf")
        worst = max(worst, dv / max(vv, 1e-8))
    return worst


def precise_check(result, sizes=None, seed: int = 0, digits: int = PRECISE_DIGITS) -> Outcome:
    """Compare a Result with SymPy in `digits`-digit floating point, at the point the
    float64 check uses (numeric.Instance with this seed: inside every operator's
    domain) along a random direction: the derivative of F is a central difference
    with step 10**-(digits/3), whose truncation and rounding errors (~10**-(2
    digits/3)) are far below PRECISE_RTOL; where they are not (F oscillating on a
    scale of 1e-28), twice and four times the digits (and a step that much smaller)
    are tried.  It needs no symbolic algebra, so it answers in bounded time where
    exact arithmetic explodes (inv of a matrix of sin(...) entries), and its floats
    do not overflow (exp(exp(X)) at 1e80 is an ordinary number): the arbiter for
    instances where the float64 difference quotient is inconclusive.  A function
    applied beyond PRECISE_LIMIT (sin(1e9565)), or no point inside the domain, is
    an UnsupportedError."""
    from .numeric import Instance, rng_for
    prob = result.problem
    if prob is None:
        raise UnsupportedError("the result carries no problem to compare with")
    try:
        inst = Instance(prob.expr, list(prob.symbols.values()), rng_for(seed), sizes)
    except ValueError as exc:
        raise UnsupportedError(f"the precise oracle found no point: {exc}") from None
    out = None
    for d in (digits, 2 * digits, 4 * digits):   # a smaller step where F oscillates fast: sin(exp(64))
        out = _guarded(result, sizes, None, d, (inst, rng_for(seed)))
        if out.passed:
            break
    assert out is not None
    return out


def exact_check(result, sizes=None, points: int = 0) -> Outcome:
    """Compare a Result with SymPy exactly (see the module docstring).  With
    `points` > 0 the symbols are replaced by that many random exact rational
    points instead (the derivative is still taken symbolically, along t): exact
    arithmetic, much faster, and for rational functions a probabilistic proof
    (Schwartz–Zippel) rather than a symbolic one."""
    if points:
        import random
        out = None
        for k in range(points):
            out = _guarded(result, sizes, random.Random(k))
            if not out.passed:
                return out
        assert out is not None  # points > 0: the loop ran at least once
        return out
    return _guarded(result, sizes, None)


def _guarded(result, sizes, point, digits=None, instance=None) -> Outcome:
    """_exact_check, with a result of the wrong shape (SymPy's ShapeError) a failure."""
    from sympy import ShapeError
    try:
        return _exact_check(result, sizes, point, digits, instance)
    except ShapeError as exc:
        return Outcome(result.command, float("inf"), tolerance=0.0, detail=f"shapes do not fit: {exc}")


def _exact_check(result, sizes, point, digits=None, instance=None) -> Outcome:
    sp = _sympy()
    prob = result.problem
    if prob is None:
        raise UnsupportedError("the result carries no problem to compare with")
    names = result.wrt.split(",")
    X, Y = prob.symbols[names[0]], prob.symbols[names[-1]]
    kind = result.command
    symbols = list(prob.symbols.values()) + ([result.direction] if result.direction is not None else [])
    dims = concrete_sizes(symbols, sizes)
    env = {}
    for s in prob.symbols.values():
        r, c = (d.evaluate(dims) for d in s.shape)
        env[s.name] = symbol_matrix(s.name, r, c, s.props, point=point)
    t, u = sp.Symbol("t_", real=True), sp.Symbol("u_", real=True)
    r, c = (d.evaluate(dims) for d in Y.shape)
    V = symbol_matrix("V", r, c, Y.props - {"orthogonal"} | ({"symmetric"} if "spd" in Y.props else set()),
                      prefix="d", point=point, tangent=True)
    W = symbol_matrix("W", r, c, Y.props - {"orthogonal"} | ({"symmetric"} if "spd" in Y.props else set()),
                      prefix="d", point=point, tangent=True)

    if instance is not None:   # the float64 check's point and random directions, exactly
        inst, rng = instance
        dims = dict(inst.sizes)
        env = {k: _float_matrix(v, digits) for k, v in inst.values.items()}
        V, W = (_float_matrix(direction(Y, dims, rng, inst.values.get(Y.name)), digits) for _ in "VW")
    elif digits:   # the rational point, as digits-digit floats
        env = {k: m.evalf(digits) for k, m in env.items()}
        V, W = V.evalf(digits), W.evalf(digits)
    if digits:
        step = sp.Float(10, digits) ** -(digits // 3)

    def along(f, *params):
        """d/dt f(t) at 0 (or the mixed ∂²/∂t∂u f(t, u)): symbolic, or a central
        difference in high precision."""
        if not digits:
            out = f(*params)
            for p in params:
                out = out.diff(p)
            return out.subs({p: 0 for p in params})
        if len(params) == 1:
            return (f(step) - f(-step)) / (2 * step)
        return (f(step, step) - f(step, -step) - f(-step, step) + f(-step, -step)) / (4 * step ** 2)

    def value_of(expr, extra_env=None, extra_sizes=None):
        e2 = dict(env)
        e2.update(extra_env or {})
        s2 = dict(dims)
        s2.update(extra_sizes or {})
        return SympyEvaluator(e2, s2, limit=PRECISE_LIMIT if digits else None)(expr)

    F = prob.expr
    R = result.full_expr()
    if kind in ("grad", "dir", "elem", "jac"):
        dF = along(lambda t: value_of(F, {X.name: env[X.name] + t * V}), t)
        if kind == "grad":
            G = value_of(R)
            if G.shape == (1, 1) and V.shape != (1, 1):
                G = G[0, 0] * sp.ones(*V.shape)
            if G.shape != V.shape:
                return Outcome(kind, float("inf"), tolerance=0.0,
                               detail=f"the gradient is {G.shape[0]}×{G.shape[1]}, the variable "
                                      f"{V.shape[0]}×{V.shape[1]}")
            ours, want = sp.Matrix([[sum(G.multiply_elementwise(V))]]), dF
        elif kind == "dir":
            ours, want = value_of(R, {result.direction.name: V}), dF
        elif kind == "elem":
            total = sp.zeros(*dF.shape)
            for i in range(V.rows):
                for j in range(V.cols):
                    if V[i, j] == 0:
                        continue
                    part = value_of(R, extra_sizes={"i": i, "j": j})
                    if part.shape == (1, 1) and dF.shape != (1, 1):
                        part = part[0, 0] * sp.ones(*dF.shape)
                    total += V[i, j] * part
            ours, want = total, dF
        else:
            ours, want = value_of(R) * _vec(V), _vec(dF)
    elif kind == "hess":
        if X is not Y:  # the mixed Hessian ∂²f/∂x∂yᵀ: W moves x, V moves y
            rx, cx = (d.evaluate(dims) for d in X.shape)
            if instance is not None:
                W = _float_matrix(direction(X, dims, instance[1], instance[0].values.get(X.name)), digits)
            else:
                W = symbol_matrix("W", rx, cx, X.props - {"orthogonal"}, prefix="d", point=point, tangent=True)
                if digits:
                    W = W.evalf(digits)
            want = along(lambda t, u: value_of(F, {X.name: env[X.name] + u * W, Y.name: env[Y.name] + t * V}), t, u)
        else:
            want = along(lambda t, u: value_of(F, {Y.name: env[Y.name] + t * V + u * W}), t, u)
        if result.direction is not None:
            Hv = value_of(R, {result.direction.name: V})
            if Hv.shape == (1, 1) and W.shape != (1, 1):
                Hv = Hv[0, 0] * sp.ones(*W.shape)
            ours = sp.Matrix([[sum(Hv.multiply_elementwise(W))]])
        else:
            ours = _vec(W).T * value_of(R) * _vec(V)
    else:
        raise UnsupportedError(f"the exact oracle does not check {kind}")
    if ours.shape != want.shape:
        return Outcome(kind, float("inf"), tolerance=0.0,
                       detail=f"shapes differ: matcalc {ours.shape}, SymPy {want.shape}")
    diffs = [a - b for a, b in zip(ours, want)]
    if digits:
        return _precise_outcome(kind, list(ours), list(want), diffs, dims, digits)
    bad = [k for k, d in enumerate(diffs) if not _is_zero(d)]
    if not bad:
        return Outcome(kind, 0.0, tolerance=0.0, detail=f"exact at sizes {dims}")
    free = set().union(*(d.free_symbols for d in diffs)) | set().union(*(w.free_symbols for w in want))
    gap = _numeric_gap([diffs[k] for k in bad], [list(want)[k] for k in bad], sorted(free, key=str))
    k = bad[0]
    detail = (f"at sizes {dims}, entry {k}: matcalc {sp.sstr(list(ours)[k])[:200]} "
              f"vs SymPy {sp.sstr(list(want)[k])[:200]}")
    if gap == 0.0:
        gap = 5e-324
        detail = "SymPy could not simplify the difference to 0 (it vanishes at a random point); " + detail
    return Outcome(kind, gap, tolerance=0.0, detail=detail)
