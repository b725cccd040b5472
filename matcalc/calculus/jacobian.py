"""`jacobian(L, dX)`: for L linear in the symbol dX, the matrix J with
vec(L) = J vec(dX) (vec stacks columns), written with Kronecker products, the
commutation matrix K(m, n) (K(m, n) vec(X) = vec(X.T) for X m×n) and diag(vec(H))
for Hadamard factors:

    vec(A dX B) = (Bᵀ ⊗ A) vec(dX)          [Matrix Cookbook (520)]
    vec(dXᵀ)    = K(m, n) vec(dX)
    vec(H ⊙ dX) = diag(vec(H)) vec(dX)
    vec(s dX)   = s vec(dX),  tr(dX) = vec(I)ᵀ vec(dX),  sum(dX) = 1ᵀ vec(dX)
"""
from __future__ import annotations

from ..errors import UnsupportedError
from ..expr import identity, make, ones, zeros
from ..shapes import Dim


def commutation(m, n):
    return make("K", attrs=(m, n))


def jacobian(L, dX):
    memo: dict = {}
    name = dX.name
    rows = dX.shape[0] * dX.shape[1]

    def J(e):
        if e is dX:
            return identity(rows)
        if name not in e.free:  # a part the differential left constant (d sign(x) = 0)
            return zeros((e.shape[0] * e.shape[1], rows))
        hit = memo.get(e)
        if hit is not None:
            return hit
        out = _rule(e)
        memo[e] = out
        return out

    def _rule(e):
        op = e.op
        if op == "add":
            return make("add", *(J(a) for a in e.args if name in a.free))
        if op == "T":
            m, n = e.args[0].shape
            return make("matmul", commutation(m, n), J(e.args[0]))
        if op == "matmul":
            k = next(i for i, a in enumerate(e.args) if name in a.free)
            inner = e.args[k]
            left = make("matmul", *e.args[:k]) if k else identity(inner.shape[0])
            right = make("matmul", *e.args[k + 1:]) if k + 1 < len(e.args) else identity(inner.shape[1])
            return make("matmul", make("kron", make("T", right), left), J(inner))
        if op == "mul":
            k = next(i for i, a in enumerate(e.args) if name in a.free)
            inner, others = e.args[k], e.args[:k] + e.args[k + 1:]
            scalars = [a for a in others if a.is_scalar]
            mats = [a for a in others if not a.is_scalar]
            core = J(inner)
            if mats:
                H = make("mul", *mats)
                if inner.is_scalar:   # a matrix times a linear scalar: vec(H) l
                    core = make("matmul", make("vec", H), core)
                else:
                    core = make("matmul", make("diag", make("vec", H)), core)
            return make("mul", *scalars, core) if scalars else core
        if op == "tr":
            n = e.args[0].shape[0]
            return make("matmul", make("T", make("vec", identity(n))), J(e.args[0]))
        if op == "sum":
            m, n = e.args[0].shape
            return make("matmul", ones((Dim.of(1), m * n)), J(e.args[0]))
        if op == "vec":
            return J(e.args[0])
        raise UnsupportedError(f"the Jacobian through {op or e} is not supported yet")

    try:
        return J(L)
    finally:   # J and _rule refer to each other: break the cycle, so the nodes die now, not at gc
        del J, _rule
