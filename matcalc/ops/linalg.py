"""Trace, sum, determinant, log-determinant, inverse, matrix power, Frobenius norm.

Differentials (Matrix Cookbook numbers in brackets):
  d tr(X) = tr(dX)                      linear; adjoint G·I
  d sum(X) = sum(dX)                    linear; adjoint G·ones
  d inv(X) = -inv(X) dX inv(X)          [59]
  d det(X) = det(X) tr(inv(X) dX)       [41]
  d logdet(X) = tr(inv(X) dX)           [57]
  d X^k = Σ_j X^j dX X^(k-1-j)          [the product rule, k ≥ 1; k < 0 through inv]
  d norm(X) = sum(X ⊙ dX) / norm(X)     (from ‖X‖² = sum(X ⊙ X))
The gradients (inv(X).T for logdet, …) are not written anywhere: they come out of
the adjoints of tr, @ and .T.
"""
from __future__ import annotations

from fractions import Fraction

from ..errors import LimitError
from ..expr import ONE, Apply, Num, identity, is_zero, make, ones
from ..shapes import SCALAR, ShapeMismatch, is_scalar
from . import PREC_ATOM, Op, function, linear, register, sig
from .core import BUDGET, MAX_MATPOW_TERMS, SYMMETRIC_PROPS, _scalar_part, is_symmetric, zero_like


def _pull_scalars(op, x):
    """op(s*M) = s*op(M) for a linear op and 1×1 factors s."""
    s, m = _scalar_part(x)
    if s:
        return make("mul", *s, make(op, m))
    return None


def canon_tr(args, attrs):
    (x,) = args
    if x.is_scalar or is_zero(x):
        return Num(0) if is_zero(x) else x
    pulled = _pull_scalars("tr", x)
    if pulled is not None:
        return pulled
    if x.op == "T":
        return make("tr", x.args[0])
    if x.op == "kron" and all(a.shape[0] == a.shape[1] for a in x.args):
        return make("mul", make("tr", x.args[0]), make("tr", x.args[1]))   # tr(A ⊗ B) = tr(A) tr(B)
    if x.op == "add":  # linear: tr(A + B) = tr(A) + tr(B), so that like traces collect
        return make("add", *(make("tr", a) for a in x.args))
    if x.op == "I" and x.attrs[0].is_const:
        return Num(x.attrs[0].value)
    if x.op == "matmul":  # cyclic and transpose invariance: one representative
        chains = [x.args, tuple(make("T", a) for a in reversed(x.args))]
        best = min((c[k:] + c[:k] for c in chains for k in range(len(c))),
                   key=lambda c: tuple(a.order for a in c))
        if best == x.args:   # already the representative
            return Apply("tr", (x,))
        x = make("matmul", *best)
        if x.op != "matmul" or x.args != tuple(best):   # A@B@A rotated to A@A@B merges into
            return make("tr", x)                       # matpow(A, 2)@B: rotate that chain again
    return Apply("tr", (x,))


def canon_sum(args, attrs):
    (x,) = args
    if x.is_scalar or is_zero(x):
        return Num(0) if is_zero(x) else x
    pulled = _pull_scalars("sum", x)
    if pulled is not None:
        return pulled
    if x.op == "T":
        return make("sum", x.args[0])
    if x.op == "mul" and all(a.op == "T" for a in x.args if not a.is_scalar):
        return make("sum", make("T", x))  # sum(A.T ⊙ B.T) = sum(A ⊙ B)
    if x.op == "mul" and len(x.args) == 2 and all(a.shape[1].is_one for a in x.args):
        return make("matmul", make("T", x.args[0]), x.args[1])  # sum(x ⊙ y) = xᵀy
    if x.op == "ones" and all(d.is_const for d in x.attrs):
        return Num(x.attrs[0].value * x.attrs[1].value)
    return Apply("sum", (x,))


def canon_inv(args, attrs):
    (x,) = args
    if x.is_scalar:
        return make("pow", x, Num(-1))
    if x.op == "inv":
        return x.args[0]
    if x.op == "I":
        return x
    if x.op == "T":
        return make("T", make("inv", x.args[0]))
    if x.op == "mul" and isinstance(x.args[0], Num):
        c = x.args[0].value
        return make("mul", Num(1 / c), make("inv", make("mul", *x.args[1:])))
    if x.op == "matpow":
        return matpow(x.args[0], -x.attrs[0])
    if x.op == "matmul" and all(a.shape[0] == a.shape[1] for a in x.args):
        # (A B)⁻¹ = B⁻¹ A⁻¹ when every factor is square  [Cookbook (18)]
        return make("matmul", *(make("inv", a) for a in reversed(x.args)))
    flipped = _smaller_transpose(x)
    if flipped is not None:  # inv(B@A.T + P) is inv(A@B.T + P).T for symmetric P: one form
        return make("T", make("inv", flipped))
    return Apply("inv", (x,))


def _smaller_transpose(x):
    """x.T when it is the canonical representative of {x, x.T} (and differs), else None."""
    t = make("T", x)
    if t is x or t.op == "T" or make("T", t) is not x:  # only a clean involution decides
        return None
    return t if t.order < x.order else None


def _transpose_keeps_outside(node):
    """(inv X).T and (X^k).T stay as they are (one fixed choice), unless X is symmetric."""
    return node if is_symmetric(node.args[0]) else None


def canon_det(args, attrs):
    (x,) = args
    if x.is_scalar:
        return x
    if x.op == "T":
        return make("det", x.args[0])
    if x.op == "I":
        return ONE
    if x.op == "inv":
        return make("pow", make("det", x.args[0]), Num(-1))
    return Apply("det", (x,))


def canon_logdet(args, attrs):
    (x,) = args
    if x.is_scalar:
        return make("log", x)
    if x.op == "T":
        return make("logdet", x.args[0])
    if x.op == "I":
        return Num(0)
    if x.op == "inv":
        return make("mul", Num(-1), make("logdet", x.args[0]))
    return Apply("logdet", (x,))


def canon_norm(args, attrs):
    (x,) = args
    if x.is_scalar:
        return make("abs", x)
    if x.op == "T":
        return make("norm", x.args[0])
    if x.op == "mul" and isinstance(x.args[0], Num):
        return make("mul", Num(abs(x.args[0].value)), make("norm", make("mul", *x.args[1:])))
    return Apply("norm", (x,))


def matpow(x, k: int):
    return make("matpow", x, attrs=(k,))


def canon_matpow(args, attrs):
    (x,), (k,) = args, attrs
    if k == 0:
        return identity(x.shape[0])
    if k == 1:
        return x
    if k == -1:
        return make("inv", x)
    if x.is_scalar:
        return make("pow", x, Num(k))
    if x.op == "T":
        return make("T", matpow(x.args[0], k))
    if x.op == "I":
        return x
    flipped = _smaller_transpose(x)
    if flipped is not None:
        return make("T", matpow(flipped, k))
    return Apply("matpow", (x,), (k,))


def _matpow_diff(node, d):
    (x,), (k,), (dx,) = node.args, node.attrs, d
    BUDGET["matpow terms"] += abs(k)
    if BUDGET["matpow terms"] > MAX_MATPOW_TERMS:
        raise LimitError(f"the derivative expands matrix powers into more than {MAX_MATPOW_TERMS:,} terms "
                         f"(matpow(…, {k}) alone has {abs(k)})")
    if k > 0:
        return make("add", *(make("matmul", matpow(x, j), dx, matpow(x, k - 1 - j)) for j in range(k)))
    m = -k
    return make("mul", Num(-1), make("add", *(make("matmul", matpow(x, -j), dx, matpow(x, -(m + 1 - j)))
                                             for j in range(1, m + 1))))


linear("tr", "(n,n)->(1,1)", adjoint=lambda node, k, G: make("mul", G, identity(node.args[0].shape[0])),
       canon=canon_tr, call=("tr", "trace"), numpy="np.trace({0})", latex=r"\operatorname{{tr}}\left({0}\right)")
linear("sum", "(m,n)->(1,1)", adjoint=lambda node, k, G: make("mul", G, ones(node.args[0].shape)),
       canon=canon_sum, numpy="np.sum({0})", latex=r"\operatorname{{sum}}\left({0}\right)", pretty="sum({0})")
function("inv", "(n,n)->(n,n)", canon=canon_inv, transpose=_transpose_keeps_outside,
         diff=lambda node, d: make("mul", Num(-1), make("matmul", node, d[0], node)),
         numpy="np.linalg.inv({0})", latex="{0}^{{-1}}", pretty="{0}⁻¹", domain=("invertible",))
function("det", "(n,n)->(1,1)", canon=canon_det,
         diff=lambda node, d: make("mul", node, make("tr", make("matmul", make("inv", node.args[0]), d[0]))),
         numpy="np.linalg.det({0})", latex=r"\det\left({0}\right)", domain=("invertible",))
function("logdet", "(n,n)->(1,1)", canon=canon_logdet,
         diff=lambda node, d: make("tr", make("matmul", make("inv", node.args[0]), d[0])),
         numpy="np.linalg.slogdet({0})[1]", latex=r"\log\det\left({0}\right)", pretty="log det({0})",
         domain=("posdet",))
function("norm", "(m,n)->(1,1)", canon=canon_norm,
         diff=lambda node, d: make("mul", make("sum", make("mul", node.args[0], d[0])), make("pow", node, Num(-1))),
         numpy="np.linalg.norm({0})", latex=r"\left\lVert {0} \right\rVert_F", pretty="‖{0}‖",
         domain=("nonzero",))
register(Op("matpow", sig("(n,n)->(n,n)"), diff=_matpow_diff, canon=canon_matpow, transpose=_transpose_keeps_outside,
            call=("matpow",), text="matpow({0}, {k})", pretty="{0}^{k}", latex="{0}^{{{k}}}",
            numpy="np.linalg.matrix_power({0}, {k})", domain=("invertible",)))
