"""Numeric checks of Jacobians and Hessians (see numeric.py for the method):
a Jacobian column by column against central differences along unit directions;
a Hessian as the Jacobian of the gradient, a Hessian-vector product against the
central difference of the gradient along V."""
from __future__ import annotations

from .numeric import Instance, Outcome, central_difference, direction, relative_error
from .printers.numpy import compile_function, function_source


def _unit_columns(X, sizes):
    import numpy as np
    r, c = (d.evaluate(sizes) for d in X.shape)
    for k in range(r * c):
        E = np.zeros(r * c)
        E[k] = 1
        yield k, E.reshape((r, c), order="F")


def _jacobian_error(f, inst, X, J) -> float:
    import numpy as np
    worst = 0.0
    for k, E in _unit_columns(X, inst.sizes):
        col = np.asarray(central_difference(f, inst.values, X.name, E), dtype=float)
        col = col.reshape(-1, order="F") if col.ndim == 2 else col.reshape(-1)
        worst = max(worst, relative_error(col, J[:, k]))
    return worst


def check_jac(F, X, J, symbols, rng, sizes=None) -> Outcome:
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    f = compile_function(function_source(F, inst.symbols, raw=True))
    j = np.atleast_2d(np.asarray(compile_function(function_source(J, inst.symbols, raw=True))(**inst.values),
                                 dtype=float))
    return Outcome("jac", _jacobian_error(f, inst, X, j))


def check_hess(F, G, X, Y, V, H, symbols, rng, sizes=None) -> Outcome:
    """G: the (raw) gradient wrt X; H: the Hessian wrt (X, Y), or the product along V."""
    import numpy as np
    inst = Instance(F, symbols, rng, sizes)
    g = compile_function(function_source(G, inst.symbols, raw=True))
    if V is None:
        h = np.atleast_2d(np.asarray(compile_function(function_source(H, inst.symbols, raw=True))(**inst.values),
                                     dtype=float))
        return Outcome("hess", _jacobian_error(g, inst, Y, h))
    hv = compile_function(function_source(H, inst.symbols + [V], raw=True))
    worst = 0.0
    for _ in range(3):
        v = direction(Y, inst.sizes, rng)
        num = central_difference(g, inst.values, Y.name, v)
        worst = max(worst, relative_error(num, hv(**dict(inst.values, **{V.name: v}))))
    return Outcome("hess", worst)
