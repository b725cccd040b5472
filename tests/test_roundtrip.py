"""The `text` format is the input language: for a canonical expression e,
`matcalc.api.parse(str(e), declare=<its symbols' shapes and properties>) is e`,
and the text of a derivative (with its `where C = …` definitions) parses back to
the derivative.  Fixed cases over the whole language here; random ones from the
generator of tests/test_hypothesis.py (200 expressions in this file)."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import canonical, declarations, derive_checked
from test_hypothesis import any_expressions

from matcalc import api
from matcalc.errors import UnsupportedError
from matcalc.printers.text import to_text

CASES = [
    "A + B - C", "-A", "2*A - B/3", "a*X", "X*Y", "X/Y", "A@B@C", "A.T@B", "(A@B).T", "x.T@A@x",
    "X**2", "X**a", "-x**2", "a**b", "(A + B)@(C - D)", "tr(A@X)", "det(X)", "logdet(X)", "inv(X)",
    "inv(X).T", "matpow(X, 3)", "matpow(X, -2)", "norm(X)", "norm(x)**2", "sum(X)", "exp(X) + log(Y)",
    "sin(X)*cos(X)", "tanh(X) - sqrt(Y)", "abs(X) + relu(Y)", "sigmoid(X)", "sign(X)*step(Y)",
    "A + eye(n)", "A + I", "ones(n, m)", "zeros(n, m) + A", "kron(A, B)", "vec(X)", "diag(x)", "diag(X)",
    "[[A, B], [C, D]]", "[[A, 0], [0, D]]", "C[:2, 1:]", "C[1, 2]", "x.T@A@x where A: symmetric n×n",
    "X@X.T where X: n×m", "Q.T@A@Q where Q: orthogonal n×n", "tr(P) where P: spd n×n",
    "D@A where D: diagonal n×n", "1/2*X", "X - 1/3*Y", "(x - y).T@(x - y)",
]


def _roundtrip(text):
    prob = api.problem(text, command="parse")
    e = prob.expr
    decl = declarations([s for s in prob.symbols.values() if s.name in e.free])
    back = api.parse(to_text(e), declare=decl or None)
    assert back is e, f"{text!r}: printed {to_text(e)!r}, parsed back {to_text(back)!r}"


@pytest.mark.parametrize("text", CASES)
def test_roundtrip_expression(text):
    _roundtrip(text)


DERIVATIVES = [
    ("grad", "tr((M@M.T - I)@(M@M.T - I).T)", "M"), ("grad", "x.T@A@x", "x"), ("grad", "logdet(X)", "X"),
    ("dir", "A@X@X.T@A.T", "X"), ("elem", "A@X@X.T@A.T", "X"), ("grad", "norm(A@X - B)**2", "X"),
    ("grad", "sum(log(1 + exp(X@w))) - y.T@X@w", "w"), ("dir", "inv(X)", "X"),
    ("grad", "norm(W - [[R, -Q], [Q, R]]@P@S.T)**2", "R"), ("grad", "tr(X@A) where X: symmetric n×n", "X"),
    ("hess", "x.T@A@x", "x"),
    ("jac", "A@X", "X"), ("grad", "tr(A + I)*x.T@x", "x"),
    # found by tests/test_hypothesis.py: E(0,i)@D@D.T@x printed where its size was not
    # in the text (now the entry (D@D.T@x)[i, 0]); exp((A + B).T) from the cosmetic pass
    ("elem", "tr(a*inv(P + A@(x.T@D@D.T@x*A).T)) where A: n×n, D: n×m, P: spd n×n, a: scalar, x: n", "x"),
    ("elem", "x.T@A@x + b.T@x", "x"), ("dir", "sqrt(exp(A + B)).T", "A"), ("elem", "sqrt(exp(A + B)).T + A", "A"),
]


@pytest.mark.parametrize("command,expr,wrt", DERIVATIVES, ids=lambda v: None)
def test_roundtrip_derivative(command, expr, wrt):
    try:
        (r,) = derive_checked(command, expr, [wrt], seed=0)
    except UnsupportedError as exc:
        pytest.skip(exc.message)
    full = canonical(r.full_expr())
    extra = [r.direction] if r.direction is not None else []
    decl = declarations([s for s in list(r.problem.symbols.values()) + extra if s.name in full.free])
    back = api.parse(str(r), declare=decl or None)
    if command == "elem" and back is not full:   # E(i,j)'s size is not in the text
        assert to_text(back) == to_text(full)
    else:
        assert back is full, f"printed {r}, parsed back {to_text(back)}"


@settings(max_examples=int(os.environ.get("MATCALC_ROUNDTRIP_EXAMPLES", 200)), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(any_expressions())
def test_roundtrip_generated(case):
    _roundtrip(case[0])
