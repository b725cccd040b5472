"""Numeric verification: random instances and central differences.

Method (the practice of JAX's `check_grads` and PyTorch's `gradcheck`): float64;
concrete sizes 2–5 drawn per dimension name (or fixed); instances that honour the
declared properties (symmetric, spd, diagonal, orthogonal through a QR factor) and
the operators' domains (positive data under log/sqrt/fractional powers,
well-conditioned matrices under inv/det, positive determinant under logdet, no
kinks under abs/relu); a derivative is compared with the central difference
along a direction V, with Richardson extrapolation (h and h/2), so that the
truncation error is O(h⁴) and a relative error of 1e-6 is a real failure:

    err = ‖num − sym‖ / max(‖num‖, ‖sym‖, 1e-8)

Every symbolic value is computed by the code the NumPy printer emits.
"""
from __future__ import annotations

from dataclasses import dataclass

from .expr import REGISTRY, Num, Sym, walk
from .printers.numpy import compile_function, function_source

RTOL = 1e-6
H = 1e-3


@dataclass
class Outcome:
    kind: str
    error: float
    tolerance: float = RTOL
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.error <= self.tolerance


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


def direction(sym: Sym, sizes: dict, rng):
    """A random tangent in the space of the variable."""
    import numpy as np
    r, c = (d.evaluate(sizes) for d in sym.shape)
    v = rng.standard_normal((r, c))
    if sym.props & {"symmetric", "spd"}:
        v = (v + v.T) / 2
    if "diagonal" in sym.props:
        v = np.diag(np.diag(v))
    return v


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
        for arg, dom in zip(node.args, REGISTRY[node.op].domain):
            if dom and not (node.op == "pow"):
                out.append((arg, dom))
    return out


def _ok(value, requirement) -> bool:
    import numpy as np
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)):
        return False
    if requirement == "positive":
        return bool(np.all(v > 0.05))
    if requirement == "nonzero":
        return bool(np.all(np.abs(v) > 1e-2))
    if requirement == "invertible":
        return bool(np.linalg.cond(v) < 1e4)
    if requirement == "posdet":
        return bool(np.linalg.cond(v) < 1e4 and np.linalg.det(v) > 0)
    return True


class Instance:
    """Concrete sizes and values for the symbols of an expression, chosen so that
    every operator is evaluated inside its domain."""

    def __init__(self, e, symbols, rng, sizes=None, tries=60):
        self.symbols = list(symbols)
        self.sizes = draw_sizes(self.symbols, rng, sizes)
        checks = _domain_nodes(e)
        probe = None
        if checks:
            probe = [compile_function(function_source(node, self.symbols, raw=True))
                     for node, _ in checks]
        styles = ["normal", "positive", "dominant"]
        f = compile_function(function_source(e, self.symbols))
        for attempt in range(tries):
            style = styles[attempt % 3] if attempt < 6 else styles[int(rng.integers(3))]
            values = {s.name: draw_array(s, self.sizes, rng, style if attempt < 6 else
                                         styles[int(rng.integers(3))]) for s in self.symbols}
            try:
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if not _ok(f(**values), None):
                        continue
                    if probe and not all(_ok(p(**values), req) for p, (_, req) in zip(probe, checks)):
                        continue
            except Exception:
                continue
            self.values = values
            return
        raise ValueError("could not find a point inside the domain of the expression")


def central_difference(f, values: dict, name: str, V, h=H):
    """Richardson-extrapolated central difference of f along V at values[name]."""
    import numpy as np

    def phi(t):
        moved = dict(values)
        moved[name] = values[name] + t * V
        return np.asarray(f(**moved), dtype=float)
    d1 = (phi(h) - phi(-h)) / (2 * h)
    d2 = (phi(h / 2) - phi(-h / 2)) / h
    return (4 * d2 - d1) / 3


def relative_error(a, b) -> float:
    import numpy as np
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == b.size:
        a, b = a.reshape(-1), b.reshape(-1)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-8))


# ---- the checks of each derivative kind --------------------------------------------
def _values_with(inst, extra):
    vals = dict(inst.values)
    vals.update(extra)
    return vals


def check_grad(F, X: Sym, G, symbols, rng, sizes=None, trials=3) -> Outcome:
    """<G, V> against the directional difference of F along random V."""
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols))
    g = compile_function(function_source(G, inst.symbols))
    worst = 0.0
    gv = np.asarray(g(**inst.values), dtype=float).reshape(X.shape[0].evaluate(inst.sizes), -1)
    for _ in range(trials):
        V = direction(X, inst.sizes, rng)
        num = central_difference(f, inst.values, X.name, V)
        worst = max(worst, relative_error(num, np.sum(gv * V)))
    return Outcome("grad", worst)


def check_dir(F, X: Sym, V: Sym, D, symbols, rng, sizes=None, trials=3) -> Outcome:
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols))
    d = compile_function(function_source(D, inst.symbols + [V]))
    worst = 0.0
    for _ in range(trials):
        v = direction(X, inst.sizes, rng)
        num = central_difference(f, inst.values, X.name, v)
        worst = max(worst, relative_error(num, d(**_values_with(inst, {V.name: v}))))
    return Outcome("dir", worst)


def check_elem(F, X: Sym, D, symbols, rng, sizes=None) -> Outcome:
    """Every entry (i, j): the difference along the unit matrix E(i,j)."""
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols))
    d = compile_function(function_source(D, inst.symbols, extra=("i", "j")))
    r, c = (dd.evaluate(inst.sizes) for dd in X.shape)
    worst = 0.0
    for i in range(r):
        for j in range(c):
            E = np.zeros((r, c))
            E[i, j] = 1
            if X.props & {"symmetric", "spd"} and i != j:
                continue  # a symmetric variable has no free off-diagonal unit direction
            if "diagonal" in X.props and i != j:
                continue
            num = central_difference(f, inst.values, X.name, E)
            worst = max(worst, relative_error(num, d(**_values_with(inst, {"i": i, "j": j}))))
    return Outcome("elem", worst)
