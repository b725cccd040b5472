"""Numeric verification: random instances and central differences.

Method (the practice of JAX's `check_grads` and PyTorch's `gradcheck`): float64;
concrete sizes 2–5 drawn per dimension name (or fixed); instances that honour the
declared properties (symmetric, spd, diagonal, orthogonal through a QR factor) and
the operators' domains (positive data under log/sqrt/fractional powers,
well-conditioned matrices under inv/det, positive determinant under logdet, no
kinks under abs/relu); a derivative is compared with the central difference
along a direction V, with Richardson extrapolation (h and h/2), so that the
truncation error is O(h⁴) and a relative error of 1e-6 is a real failure:

    err = ‖num − sym‖ / max(‖num‖, ‖sym‖, 1e-8, noise/1e-6)

where noise = 10·eps/h·max|f|·‖V‖ is the rounding noise of the difference itself.

Every symbolic value is computed by the code the NumPy printer emits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from .expr import REGISTRY, Num, Sym, walk
from .printers.numpy import compile_function, function_source

RTOL = 1e-6
H = 1e-3
MODERATE = 1e6   # |F| at the instance, preferred (the first half of the tries insist on it)
COND = 50.0   # "well-conditioned": the condition number of anything inverted stays below this


@dataclass
class Outcome:
    kind: str
    error: float
    tolerance: float = RTOL
    detail: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.error <= self.tolerance)


def rng_for(seed):
    import numpy as np
    return np.random.default_rng(seed)


def dim_names(symbols) -> list:
    seen = []
    for s in symbols:
        for d in s.shape:
            for n in sorted(d.names()):
                if n not in seen:
                    seen.append(n)
    return seen


def draw_sizes(symbols, rng, fixed=None) -> dict:
    fixed = fixed or {}
    return {n: int(fixed.get(n, rng.integers(2, 5, endpoint=True))) for n in dim_names(symbols)}


def draw_array(sym: Sym, sizes: dict, rng, style: str):
    import numpy as np
    r, c = (d.evaluate(sizes) for d in sym.shape)
    props = sym.props
    if "orthogonal" in props:
        q, _ = np.linalg.qr(rng.standard_normal((r, r)))
        return q
    if "spd" in props:
        b = rng.standard_normal((r, r))
        return b @ b.T / r + np.eye(r)
    if style == "positive":
        a = rng.uniform(0.5, 1.5, (r, c))
    elif style == "dominant" and r == c:
        a = np.eye(r) * 2 + rng.standard_normal((r, r)) * 0.4 / np.sqrt(r)
    elif style == "dominant":
        a = rng.uniform(0.5, 1.5, (r, c))
    else:
        a = rng.standard_normal((r, c))
    if "symmetric" in props:
        a = (a + a.T) / 2
    if "diagonal" in props:
        a = np.diag(np.diag(a))
    return a


def direction(sym: Sym, sizes: dict, rng, value=None):
    """A random tangent in the space of the variable: symmetric for a symmetric (spd)
    variable, diagonal for a diagonal one, Q@Ω with Ω skew-symmetric (the tangent space
    of the orthogonal group at Q = `value`) for an orthogonal one."""
    import numpy as np
    r, c = (d.evaluate(sizes) for d in sym.shape)
    v = rng.standard_normal((r, c))
    if sym.props & {"symmetric", "spd"}:
        v = (v + v.T) / 2
    if "diagonal" in sym.props:
        v = np.diag(np.diag(v))
    if "orthogonal" in sym.props and value is not None and r == c:
        v = np.asarray(value, dtype=float) @ (v - v.T) / 2
    return v


CONSTRAINED = frozenset({"symmetric", "spd", "diagonal", "orthogonal"})


def _domain_nodes(e):
    """(node, requirement) for every subexpression whose operator has a domain."""
    out = []
    for node in walk(e):
        if node.op is None:
            continue
        if node.op == "pow" and isinstance(node.args[1], Num):
            k = node.args[1].value
            if k.denominator != 1:
                out.append((node.args[0], "positive"))
            elif k < 0:
                out.append((node.args[0], "nonzero"))
            continue
        if node.op == "pow":  # a symbolic exponent: x**k = exp(k log x) needs x > 0
            out.append((node.args[0], "positive"))
            continue
        for arg, dom in zip(node.args, REGISTRY[node.op].domain):
            if dom:
                out.append((arg, dom))
    return out


MAX_MAGNITUDE = 1e12   # exp(exp(X)) at 1e80: no difference quotient is accurate there


def _ok(value, requirement) -> bool:
    import numpy as np
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or (requirement is None and np.max(np.abs(v), initial=0) > MAX_MAGNITUDE):
        return False
    if requirement == "positive":
        return bool(np.all(v > 0.05))
    if requirement == "nonzero":
        return bool(np.all(np.abs(v) > 1e-2))
    if requirement == "invertible":
        return bool(np.linalg.cond(v) < COND)
    if requirement == "posdet":
        return bool(np.linalg.cond(v) < COND and np.linalg.det(v) > 0)
    return True


def _unbound_names(e, symbols) -> set:
    """Dimension or index names that e uses but no symbol's shape gives a value."""
    from .expr import walk
    from .shapes import Dim
    used: set = set()
    for n in walk(e):
        for d in tuple(n.attrs) + tuple(n.shape):
            if isinstance(d, Dim):
                used |= d.names()
    return used - set(dim_names(symbols))


class Instance:
    """Concrete sizes and values for the symbols of an expression, chosen so that
    every operator is evaluated inside its domain."""

    def __init__(self, e, symbols, rng, sizes=None, tries=60, size_draws=4):
        self.symbols = list(symbols)
        unbound = _unbound_names(e, self.symbols) - set(sizes or {})
        if unbound:
            raise ValueError(f"{', '.join(sorted(unbound))} is not the size of any symbol, so no value can be "
                             f"drawn for it (an index of E(…) or of a slice: write it as a number)")
        checks = _domain_nodes(e)
        probe = [compile_function(function_source(node, self.symbols, raw=True)) for node, _ in checks]
        f = compile_function(function_source(e, self.symbols))
        # the sizes are redrawn too: X.T@X (m×m) of an n×m X is singular whenever n < m
        for _ in range(size_draws):
            self.sizes = draw_sizes(self.symbols, rng, sizes)
            values = self._inside(f, probe, checks, rng, tries // size_draws)
            if values is not None:
                self.values = values
                return
        raise ValueError("could not find a point inside the domain of the expression")

    def _inside(self, f, probe, checks, rng, tries):
        """Values at the current sizes where F is finite (moderate in the first half of
        the tries: at exp(exp(X)) ~ 1e80 no difference quotient is accurate) and every
        operator is inside its domain; None if none is found."""
        import warnings

        import numpy as np
        styles = ["normal", "positive", "dominant"]
        for attempt in range(tries):
            values = {s.name: draw_array(s, self.sizes, rng, styles[attempt % 3] if attempt < 6 else
                                         styles[int(rng.integers(3))]) for s in self.symbols}
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value = f(**values)
                    if not _ok(value, None):
                        continue
                    if attempt < tries // 2 and float(np.max(np.abs(value))) > MODERATE:
                        continue
                    if not all(_ok(p(**values), req) for p, (_, req) in zip(probe, checks)):
                        continue
            except Exception:  # noqa: BLE001 - outside the domain (a singular solve, …): try again
                continue
            return values
        return None


def central_difference(f, values: dict, name: str, V, h=H, near=None):
    """Richardson-extrapolated central difference of f along V at values[name].
    With `near` (the value to compare with), steps h/4 and 4h are tried too when h
    disagrees, and the closest estimate is returned: the best step depends on the
    curvature, and a wrong symbolic value agrees with no step."""
    import numpy as np
    if near is not None:
        first = central_difference(f, values, name, V, h)
        if relative_error(first, near) <= RTOL / 10:
            return first
        estimates = [first] + [central_difference(f, values, name, V, h * k) for k in (0.25, 4.0)]
        return min(estimates, key=lambda est: relative_error(est, near))

    def phi(t):
        moved = dict(values)
        moved[name] = values[name] + t * V
        return np.asarray(f(**moved), dtype=float)
    d1 = (phi(h) - phi(-h)) / (2 * h)
    d2 = (phi(h / 2) - phi(-h / 2)) / h
    return (4 * d2 - d1) / 3


NOISE = 10 * 2.2e-16 / H   # rounding noise of a central difference, relative to the size of f


def relative_error(a, b, noise: float = 0.0) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖, 1e-8, noise / RTOL): `noise` is the rounding noise of
    the central difference (NOISE × max|f|), so that a difference below what float64
    can resolve at that scale (a huge f with a small derivative) is not judged."""
    import numpy as np
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")   # never NaN: `err > worst` would let it pass unseen
    if a.size == b.size:
        a, b = a.reshape(-1), b.reshape(-1)
    with np.errstate(over="ignore"):   # ‖a‖ of huge entries is inf: then the scale is
        # cast: mypy joins numpy floating and float to a comparison protocol in max()
        scale = cast(float, max(np.linalg.norm(a), np.linalg.norm(b), 1e-8, noise / RTOL))
        diff = float(np.linalg.norm(a - b))
    if not np.isfinite(scale):
        scale = float(np.max(np.abs(np.concatenate([a.reshape(-1), b.reshape(-1)]))))
        diff = float(np.max(np.abs(a - b))) if a.shape == b.shape else float("inf")
    return float(diff / scale)


def noise_of(f, values) -> float:
    import numpy as np
    try:
        v = np.asarray(_run_quiet(lambda: f(**values)), dtype=float)
        return NOISE * float(np.sqrt(v.size) * np.max(np.abs(v))) if v.size else 0.0
    except Exception:  # noqa: BLE001
        return 0.0


# ---- the checks of each derivative kind --------------------------------------------
def _values_with(inst, extra):
    vals = dict(inst.values)
    vals.update(extra)
    return vals


def _shape_of(X: Sym, sizes: dict):
    return tuple(d.evaluate(sizes) for d in X.shape)


def _tangent(X: Sym, inst, rng):
    return direction(X, inst.sizes, rng, inst.values.get(X.name))


def _run_quiet(fn):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def check_grad(F, X: Sym, G, symbols, rng, sizes=None, trials=3) -> Outcome:
    """<G, V> against the directional difference of F along random V."""
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols))
    g = compile_function(function_source(G, inst.symbols))
    worst = 0.0
    gv = _run_quiet(lambda: np.asarray(g(**inst.values), dtype=float))
    gv = np.broadcast_to(gv, _shape_of(X, inst.sizes)) if gv.size == 1 else gv.reshape(_shape_of(X, inst.sizes))
    detail = ""
    for _ in range(trials):
        V = _tangent(X, inst, rng)
        sym = float(np.sum(gv * V))
        num = _run_quiet(lambda: central_difference(f, inst.values, X.name, V, near=sym))
        err = relative_error(num, sym, noise_of(f, inst.values) * float(np.linalg.norm(V)))
        if err > worst:
            worst, detail = err, f"<G, V> = {sym!r}, central difference {float(np.reshape(num, -1)[0])!r}"
    return Outcome("grad", worst, detail=detail if worst > RTOL else "")


def check_dir(F, X: Sym, V: Sym, D, symbols, rng, sizes=None, trials=3) -> Outcome:
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols))
    d = compile_function(function_source(D, inst.symbols + [V]))
    worst, detail = 0.0, ""
    for _ in range(trials):
        v = _tangent(X, inst, rng)
        sym = _run_quiet(lambda: d(**_values_with(inst, {V.name: v})))
        num = _run_quiet(lambda: central_difference(f, inst.values, X.name, v, near=sym))
        err = relative_error(num, sym, noise_of(f, inst.values) * float(np.linalg.norm(v)))
        if err > worst:
            worst, detail = err, f"symbolic {_show(sym)}, central difference {_show(num)}"
    return Outcome("dir", worst, detail=detail if worst > RTOL else "")


def check_elem(F, X: Sym, D, symbols, rng, sizes=None, trials=3) -> Outcome:
    """Every entry (i, j): the difference along the unit matrix E(i,j).  For a
    constrained variable (symmetric, diagonal, orthogonal) a unit matrix is not an
    admissible direction; there Σ_ij V_ij ∂F/∂X_ij is compared with the difference
    along random admissible V."""
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols))
    d = compile_function(function_source(D, inst.symbols, extra=("i", "j")))
    r, c = _shape_of(X, inst.sizes)
    worst, detail = 0.0, ""
    parts = {}

    def part(i, j):
        if (i, j) not in parts:
            parts[(i, j)] = np.asarray(_run_quiet(lambda: d(**_values_with(inst, {"i": i, "j": j}))), dtype=float)
        return parts[(i, j)]
    if X.props & CONSTRAINED:
        for _ in range(trials):
            V = _tangent(X, inst, rng)
            num = _run_quiet(lambda: central_difference(f, inst.values, X.name, V))
            sym = sum(V[i, j] * part(i, j) for i in range(r) for j in range(c) if V[i, j] != 0)
            err = relative_error(num, sym, noise_of(f, inst.values) * float(np.linalg.norm(V)))
            if err > worst:
                worst, detail = err, f"Σ V_ij ∂F/∂X_ij = {_show(sym)}, central difference {_show(num)}"
        return Outcome("elem", worst, detail=detail if worst > RTOL else "")
    # all the partial derivatives at once (one relative error over the whole
    # tensor, as gradcheck compares whole Jacobians: a tiny entry is not judged alone)
    nums, syms_ = [], []
    for i in range(r):
        for j in range(c):
            E = np.zeros((r, c))
            E[i, j] = 1
            nums.append(np.reshape(_run_quiet(lambda: central_difference(f, inst.values, X.name, E)), -1))
            syms_.append(np.reshape(np.broadcast_to(part(i, j), np.shape(nums[-1])) if part(i, j).size == 1
                                    else part(i, j), -1))
    num, sym = np.concatenate(nums), np.concatenate(syms_)
    worst = relative_error(num, sym, noise_of(f, inst.values) * np.sqrt(r * c)) \
        if num.size == sym.size else float("inf")
    if worst > RTOL:
        k = int(np.argmax(np.abs(num - sym))) if num.size == sym.size else 0
        per = max(1, num.size // (r * c))
        detail = (f"worst at entry ({k // per // c}, {k // per % c}): symbolic {sym[k]!r}, "
                  f"central difference {num[k]!r}") if num.size == sym.size else "shapes differ"
    return Outcome("elem", worst, detail=detail if worst > RTOL else "")


def vec(a):
    """Stack the columns (column-major), as a column."""
    import numpy as np
    return np.reshape(np.asarray(a, dtype=float), (-1, 1), order="F")


def check_jac(F, X: Sym, J, symbols, rng, sizes=None, trials=3) -> Outcome:
    """J @ vec(V) against vec of the directional difference of F along V (J is
    ∂vec(F)/∂vec(X)ᵀ, column-major vec)."""
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols))
    jf = compile_function(function_source(J, inst.symbols))
    jv = np.atleast_2d(np.asarray(_run_quiet(lambda: jf(**inst.values)), dtype=float))
    worst, detail = 0.0, ""
    for _ in range(trials):
        V = _tangent(X, inst, rng)
        num = vec(_run_quiet(lambda: central_difference(f, inst.values, X.name, V)))
        if jv.shape[1] != num.size and jv.shape[1] != V.size:
            return Outcome("jac", float("inf"), detail=f"the Jacobian is {jv.shape[0]}×{jv.shape[1]}, "
                           f"expected {num.size}×{V.size}")
        sym = jv @ vec(V)
        err = relative_error(num, sym, noise_of(f, inst.values) * float(np.linalg.norm(V)))
        if err > worst:
            worst, detail = err, f"J vec(V) = {_show(sym)}, central difference {_show(num)}"
    return Outcome("jac", worst, detail=detail if worst > RTOL else "")


HESS_H = 5e-3


def second_difference(f, values: dict, name: str, V, W, h=HESS_H):
    """d²/ds dt f(X + sV + tW) at 0: the mixed central difference, Richardson
    extrapolated (h and h/2), so the truncation error is O(h⁴)."""
    import numpy as np

    def at(s, t):
        moved = dict(values)
        moved[name] = values[name] + s * V + t * W
        return float(np.reshape(f(**moved), ()))

    def mixed(k):
        return (at(k, k) - at(k, -k) - at(-k, k) + at(-k, -k)) / (4 * k * k)
    return (4 * mixed(h / 2) - mixed(h)) / 3


def check_hess(F, X: Sym, H, symbols, rng, sizes=None, trials=3, along: Sym | None = None) -> Outcome:
    """Wᵀ H V (H a matrix, vector variable) or <W, H[V]> (a Hessian-vector product
    along the direction symbol `along`) against the mixed second difference of F."""
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols))
    hf = compile_function(function_source(H, inst.symbols + ([along] if along is not None else [])))
    worst, detail = 0.0, ""
    for _ in range(trials):
        V, W = _tangent(X, inst, rng), _tangent(X, inst, rng)
        num = _run_quiet(lambda: second_difference(f, inst.values, X.name, V, W))
        if along is not None:
            hv = np.asarray(_run_quiet(lambda: hf(**_values_with(inst, {along.name: V}))), dtype=float)
            sym = float(np.sum(hv * W))
        else:
            hm = np.atleast_2d(np.asarray(_run_quiet(lambda: hf(**inst.values)), dtype=float))
            sym = float((vec(W).T @ hm @ vec(V)).item())
        err = relative_error(num, sym)
        if err > worst:
            worst, detail = err, f"symbolic {sym!r}, second difference {num!r}"
    return Outcome("hess", worst, detail=detail if worst > RTOL else "")


def _show(a) -> str:
    import numpy as np
    a = np.asarray(a, dtype=float)
    if a.size == 1:
        return repr(float(a.reshape(())))
    return np.array2string(a.reshape(a.shape if a.ndim == 2 else (-1, 1)), precision=6, separator=", ",
                           max_line_width=10_000).replace("\n", "")


def check_result(r, rng, sizes=None, trials=3) -> Outcome:
    """The check of one api Result, whatever its kind (grad, dir, elem, jac, hess).

    A Hessian is checked the way PyTorch's `gradgradcheck` does: against first
    differences of the symbolic gradient ∇f (second differences of f lose half the
    digits), after that gradient itself passed the gradient check against f."""
    prob = r.problem
    names = r.wrt.split(",")
    X = prob.symbols[names[0]]
    Y = prob.symbols[names[-1]]
    syms = sorted(prob.symbols.values(), key=lambda s: s.name)
    expr = r.full_expr()
    if r.command == "grad":
        return check_grad(prob.expr, X, expr, syms, rng, sizes, trials)
    if r.command == "dir":
        return check_dir(prob.expr, X, r.direction, expr, syms, rng, sizes, trials)
    if r.command == "elem":
        return check_elem(prob.expr, X, expr, syms, rng, sizes, trials)
    if r.command == "jac":
        return check_jac(prob.expr, X, expr, syms, rng, sizes, trials)
    if r.command == "hess":
        from .calculus.derivatives import gradient
        G = gradient(prob, X)
        first = check_grad(prob.expr, X, G, syms, rng, sizes, trials)
        if not first.passed:
            return Outcome("hess", first.error, detail=f"the gradient it is built on failed: {first.detail}")
        if r.direction is not None:
            out = check_dir(G, Y, r.direction, expr, syms, rng, sizes, trials)
        else:
            out = check_jac(G, Y, expr, syms, rng, sizes, trials)
        out.kind = "hess"
        return out
    raise ValueError(f"no numeric check for {r.command}")
