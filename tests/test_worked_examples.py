"""SPEC §4: the worked examples come out in the stated form, and are right."""
import pytest

import matcalc

EXAMPLES = [
    ("grad", "tr((M@M.T - I)@(M@M.T - I).T)", dict(wrt="M"), ["4*(M@M.T - I)@M"]),
    ("dir", "M@M.T", dict(wrt="M", along="A"), ["A@M.T + M@A.T"]),
    ("dir", "A@X@X.T@A.T", dict(wrt="X", along="Y"), ["A@(Y@X.T + X@Y.T)@A.T", "A@(X@Y.T + Y@X.T)@A.T"]),
    ("elem", "A@X@X.T@A.T", dict(wrt="X"), ["A@(X@E(j,i) + E(i,j)@X.T)@A.T", "A@(E(i,j)@X.T + X@E(j,i))@A.T"]),
    ("grad", "x.T@A@x", dict(wrt="x"), ["(A + A.T)@x"]),
    ("grad", "x.T@A@x where A: symmetric n×n", dict(wrt="x"), ["2*A@x"]),
    ("grad", "logdet(X)", dict(wrt="X"), ["inv(X).T"]),
]


@pytest.mark.parametrize("command,expr,kw,forms", EXAMPLES, ids=[f"{c}:{e}" for c, e, _, _ in EXAMPLES])
def test_worked_example_form_and_value(command, expr, kw, forms):
    wrt = kw.pop("wrt")
    (r,) = matcalc.derive(command, expr, [wrt], check=True, seed=1, **kw)
    assert str(r) in forms
    assert r.check.passed and r.check.error < 1e-6
