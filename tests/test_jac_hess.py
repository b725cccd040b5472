"""Jacobians and Hessians (issue 4), each verified numerically: the Jacobian column
by column against central differences, the Hessian against differences of the
gradient; printed forms pinned."""
import pytest

import matcalc

CASES = [
    ("jac", "A@X@B", ["X"], {}, "kron(B.T, A)"),                        # [Cookbook (520)]
    ("jac", "X.T", ["X"], {}, "K(n, m)"),
    ("jac", "A@X@X.T@A.T", ["X"], {}, "kron(A@X, A) + kron(A, A@X)@K(m, p)"),
    ("jac", "A@x", ["x"], {}, "A"),
    ("jac", "exp(X)", ["X"], {}, "diag(vec(exp(X)))"),
    ("jac", "x.T@A@x", ["x"], {}, "x.T@(A + A.T)"),
    ("hess", "x.T@A@x", ["x"], {}, "A + A.T"),
    ("hess", "x.T@A@x where A: symmetric n×n", ["x"], {}, "2*A"),
    ("hess", "tr(X.T@A@X)", ["X"], dict(along="V"), "(A + A.T)@V"),
    ("hess", "tr(X.T@A@X)", ["X"], dict(full=True), "kron(eye(m), A + A.T)"),
    ("hess", "norm(A@x - b)**2 + lam*norm(x)**2", ["x"], {}, "2*(A.T@A + lam*I)"),
    ("hess", "x.T@A@y", ["x", "y"], {}, "A"),
    ("hess", "logdet(X)", ["X"], {}, "-inv(X).T@dX.T@inv(X).T"),
    ("hess", "sum(log(sigmoid(y*(X@w))))", ["w"], {},
     "-X.T@diag(C*(ones(n, 1) - C)*y**2)@X where C = sigmoid(y*(X@w))"),
]


@pytest.mark.parametrize("command,expr,wrt,kw,form", CASES, ids=[f"{c}:{e}:{','.join(w)}" for c, e, w, _, _ in CASES])
def test_jac_hess_form_and_value(command, expr, wrt, kw, form):
    (r,) = matcalc.derive(command, expr, wrt, check=True, seed=11, **kw)
    assert str(r) == form
    assert r.check.passed and r.check.error < 1e-6
