"""The derivative kinds, each one line over the two mechanisms:

  dir   D F(X)[V]   the differential with the direction V standing for dX
  elem  ∂F/∂X_ij    the differential with E(i,j) standing for dX
  grad  ∇f(X)       the adjoint of dX ↦ df applied to 1; projected onto the symmetric
                    (diagonal) matrices when X is declared so
"""
from __future__ import annotations

from fractions import Fraction

from ..errors import NotScalarError, UsageError
from ..expr import ONE, Apply, Num, Sym, identity, make
from ..shapes import Dim
from .adjoint import transpose
from .differential import differential

DIRECTION_PROPS = frozenset({"symmetric", "diagonal"})  # a direction at a symmetric X is symmetric


def direction_symbol(problem, X: Sym, name: str | None = None) -> Sym:
    name = name or "d" + X.name
    if name in problem.symbols:
        raise UsageError(f"the direction {name} already occurs in the expression; name another with --along")
    props = X.props & DIRECTION_PROPS | ({"symmetric"} if "spd" in X.props else set())
    return Sym(name, X.shape, frozenset(props))


def directional(problem, X: Sym, along: str | None = None, record=None):
    V = direction_symbol(problem, X, along)
    return differential(problem.expr, X, V, record), V


def unit(X: Sym, i="i", j="j"):
    """E(i,j) sized like X (E(i,0) for a column vector; 1 for a scalar)."""
    if X.is_scalar:
        return ONE
    rows, cols = X.shape
    return Apply("E", (), (Dim.of(i), Dim.of(j if not cols.is_one else 0), rows, cols))


def per_element(problem, X: Sym, record=None):
    """∂F/∂X_ij: the differential along E(i,j); for a scalar F the entry (∇f)[i, j]
    of the gradient, as people write it (∂tr(X@A)/∂X_ij = A[j, i])."""
    E = unit(X)
    if problem.expr.is_scalar and not X.is_scalar:
        i, j = E.attrs[:2]
        return make("slice", gradient(problem, X, record), attrs=(i, i + 1, j, j + 1))
    return differential(problem.expr, X, E, record)


def gradient(problem, X: Sym, record=None, record_adjoint=None):
    if not problem.expr.is_scalar:
        raise NotScalarError("grad needs a scalar expression; use dir, elem or jac for an array")
    dX = Sym("d" + X.name + "\0", X.shape)   # a private name: never printed
    df = differential(problem.expr, X, dX, record)
    G = transpose(df, dX, ONE, record_adjoint)
    return project(G, X)


def project(G, X: Sym):
    """The gradient in the space X lives in (SPEC §1): (G + Gᵀ)/2 for a symmetric X,
    I ⊙ G for a diagonal one."""
    if "diagonal" in X.props:
        return make("mul", identity(X.shape[0]), G)
    if X.props & {"symmetric", "spd"}:
        return make("mul", Num(Fraction(1, 2)), make("add", G, make("T", G)))
    return G


def tangent_symbol(X: Sym) -> Sym:
    """A private symbol for dX (never printed)."""
    return Sym("d" + X.name + "\0", X.shape)


def jacobian_of(problem, X: Sym):
    """∂vec(F)/∂vec(X)ᵀ."""
    from .jacobian import jacobian
    dX = tangent_symbol(X)
    return jacobian(differential(problem.expr, X, dX), dX)


def hessian(problem, X: Sym, Y: Sym | None = None, along: str | None = None, full: bool = False):
    """∂²f/∂x∂yᵀ for vector (or scalar) variables, or with `full` the vec-form
    Hessian of a matrix variable; otherwise the Hessian-vector product
    D(∇f)(X)[V].  Returns (expression, direction or None)."""
    from .jacobian import jacobian
    Y = Y or X
    G = gradient(problem, X)
    if full or (X.shape[1].is_one and Y.shape[1].is_one):
        dY = tangent_symbol(Y)
        return jacobian(make("vec", differential(G, Y, dY)), dY), None
    V = direction_symbol(problem, Y, along)
    return differential(G, Y, V), V
