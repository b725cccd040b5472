"""Structured operators (issue 3): block matrices, slices, Kronecker products, diag,
vec, matrix powers, named subexpressions.  Every result is verified numerically
(api.derive(check=True): central differences, rel. error < 1e-6) and its printed
form is pinned, so that a change of form shows in review."""
import pytest
from conftest import derive_checked

import matcalc
from matcalc.api import problem

E8 = "norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2"

CASES = [
    # SPEC §4 example 8: block form with a named subexpression, never a 4-D array
    ("grad", E8, "R", "-2*(A@(I*(Z - I*(Q.T@B + R.T@A))) + C[:m, :n] + C[m:, n:]) "
                      "where C = (W - [[R, -Q], [Q, R]]@P@S.T)@S@P.T"),
    ("grad", E8, "Q", "2*C[:m, n:] - 2*B@(I*(Z - I*(Q.T@B + R.T@A))) - 2*C[m:, :n] "
                      "where C = (W - [[R, -Q], [Q, R]]@P@S.T)@S@P.T"),
    # block matrices: the cotangent of a block is the matching slice
    ("grad", "norm([[X, 0], [0, X]] - B)**2", "X", "2*(C[:n, :m] + C[n:, m:]) where C = [[X, 0], [0, X]] - B"),
    ("grad", "tr([[X, A], [B, X]])", "X", "2*I"),
    ("grad", "tr([[A, X], [X.T, B]])", "X", "zeros(n, m)"),
    ("dir", "[[X, A], [0, X]]", "X", "[[dX, 0], [0, dX]]"),
    # slices: the adjoint puts the cotangent back in place
    ("grad", "C[0, 1]**2", "C", "2*C[0, 1]*E(0,1)"),
    ("grad", "norm(C[:2, :2])**2 where C: 4×4", "C", "[[2*C[:2, :2], 0], [0, 0]]"),
    # Kronecker products: block slices of the cotangent (numeric left factor)
    ("grad", "norm(kron(eye(2), X) - B)**2", "X", "2*(C[:n, :m] + C[n:, m:]) where C = kron(eye(2), X) - B"),
    ("grad", "tr(kron(A, X))", "X", "tr(A)*I"),                       # tr(A ⊗ B) = tr(A) tr(B)  [Cookbook (515)]
    # vec: vec(X).T@vec(Y) is <X, Y>  [Cookbook (521)]
    ("grad", "vec(X).T@vec(A)", "X", "A"),
    ("grad", "norm(vec(A@X))**2", "X", "2*A.T@A@X"),
    # diag, both ways (NumPy semantics)
    ("grad", "x.T@diag(w)@x", "w", "x**2"),
    ("grad", "sum(diag(X)*v)", "X", "diag(v)"),
    # matrix powers: the compact sum form
    ("grad", "tr(matpow(X, 3))", "X", "3*matpow(X, 2).T"),
    ("grad", "tr(X@X@X)", "X", "3*matpow(X, 2).T"),
    ("grad", "tr(matpow(X, -2))", "X", "-2*matpow(X, -3).T"),
]


@pytest.mark.parametrize("command,expr,wrt,form", CASES, ids=[f"{c}:{e[:40]}:{w}" for c, e, w, _ in CASES])
def test_structured_form_and_value(command, expr, wrt, form):
    (r,) = matcalc.derive(command, expr, [wrt], check=True, seed=7)
    assert str(r) == form
    assert r.check.passed


@pytest.mark.parametrize("command,expr,wrt,form", CASES[:3], ids=["E8-R", "E8-Q", "blocks"])
def test_structured_text_with_definitions_parses_back(command, expr, wrt, form):
    (r,) = matcalc.derive(command, expr, [wrt])
    assert problem(str(r), command="parse").expr is r.full_expr()


def test_structured_matpow_and_chain_are_one_form():
    assert matcalc.parse("X@X@X") is matcalc.parse("matpow(X, 3)")
    assert str(matcalc.parse("inv(X)@X@A")) == "A"


def test_structured_diagonal_mask_is_symmetric():
    assert matcalc.parse("(I*X).T") is matcalc.parse("I*X")
    assert matcalc.parse("diag(diag(X))") is matcalc.parse("I*X")


def test_structured_kron_symbolic_left_factor_is_a_clear_error():
    with pytest.raises(matcalc.MatcalcError, match="numeric size"):
        matcalc.grad("tr(A@kron(X, C))", wrt="X")


@pytest.mark.parametrize("expr,want", [
    ("norm(kron(X, A) - B)**2 where A: 2×2",
     "2*(A[0, 0]*C[:n, :m] + A[0, 1]*C[:n, m:] + A[1, 0]*C[n:, :m] + A[1, 1]*C[n:, m:]) "
     "where C = K(2, n)@(kron(X, A) - B)@K(m, 2)"),
    ("norm(kron(A, X) - B)**2 where X: 2×2",
     "[[2*sum(A*C[:n, :m]), 2*sum(A*C[:n, m:])], [2*sum(A*C[n:, :m]), 2*sum(A*C[n:, m:])]] "
     "where C = K(2, n)@(kron(A, X) - B)@K(m, 2)"),
])
def test_kron_gradient_with_the_numeric_factor_on_either_side(expr, want):
    """a ⊗ b = K(m,p) (b ⊗ a) K(q,n): the adjoint moves the numeric factor left."""
    (r,) = derive_checked("grad", expr, ["X"])
    assert str(r) == want
