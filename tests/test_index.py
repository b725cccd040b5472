"""`elem --index`: ∂F_kl/∂X_ij in index notation, checked entry by entry against
central differences of F along the unit matrices, on small sizes."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from matcalc import api
from matcalc import numeric as N
from matcalc.calculus import derivatives as D
from matcalc.calculus.index import evaluate, index_form
from matcalc.printers.numpy import compile_function, function_source

CASES = [
    ("M@M.T", "M"),
    ("A@X@X.T@A.T", "X"),
    ("A@X@B", "X"),
    ("X.T", "X"),
    ("A*X@B", "X"),
    ("X*X", "X"),
    ("inv(X)", "X"),
    ("exp(X)@A", "X"),
    ("tr((M@M.T - I)@(M@M.T - I).T)", "M"),
    ("x.T@A@x", "x"),
    ("logdet(X)", "X"),
    ("tr(A@X)", "X"),
    ("norm(A@X - B)**2", "X"),
    ("sum(X)", "X"),
    ("A@x", "x"),
    ("diag(x)", "x"),
    ("sigmoid(w.T@x)", "w"),
    ("tr(X)*X", "X"),
]


def _entries(expr, wrt, seed=0):
    """(index form, numeric ∂F/∂X_ij arrays, sizes, values)."""
    prob = api.problem(expr, command="elem")
    X = prob.symbols[wrt]
    form = index_form(D.per_element(prob, X), X)
    rng = np.random.default_rng(seed)
    syms = sorted(prob.symbols.values(), key=lambda s: s.name)
    inst = N.Instance(prob.expr, syms, rng, {n: 3 for n in N.dim_names(syms)})
    f = compile_function(function_source(prob.expr, syms, raw=True))
    shape = tuple(d.evaluate(inst.sizes) for d in X.shape)
    numeric = {}
    for i, j in itertools.product(range(shape[0]), range(shape[1])):
        E = np.zeros(shape)
        E[i, j] = 1
        numeric[i, j] = np.atleast_2d(N.central_difference(f, inst.values, X.name, E))
    return form, numeric, inst


@pytest.mark.parametrize("expr,wrt", CASES)
def test_index_entries_match_differences(expr, wrt):
    form, numeric, inst = _entries(expr, wrt)
    worst = 0.0
    for (i, j), dF in numeric.items():
        for k, l in itertools.product(range(dF.shape[0]), range(dF.shape[1])):
            got = evaluate(form, inst.values, inst.sizes, {"i": i, "j": j, "k": k, "l": l})
            worst = max(worst, abs(got - dF[k, l]) / (1 + abs(dF[k, l])))
    assert worst < 1e-5, f"{expr}: {form} off by {worst}"


def test_index_seed_form():
    r = api.derive("elem", "M@M.T", "M", index=True)[0]
    assert str(r.index) == "δ(k,i)*M[l,j] + M[k,j]*δ(l,i)"
    assert r.index.latex() == r"\delta_{ki} M_{lj} + M_{kj} \delta_{li}"
    assert "δₖᵢ" in r.index.pretty()


def test_index_scalar_is_gradient_entry():
    assert str(api.derive("elem", "tr(A@X)", "X", index=True)[0].index) == "A[j,i]"
    assert str(api.derive("elem", "logdet(X)", "X", index=True)[0].index) == "inv(X)[j,i]"


def test_index_result_prints_index_form():
    r = api.derive("elem", "M@M.T", "M", index=True)[0]
    assert str(r) == "δ(k,i)*M[l,j] + M[k,j]*δ(l,i)"
    assert r.to_dict()["result"] == str(r)
    assert r"\delta_{ki}" in r.latex()
