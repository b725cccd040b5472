"""`--steps`: every step of a derivation is an equality that holds numerically at a
random point (named subexpressions evaluated, differential symbols dN replaced by
the central difference of N along a random dX, Frobenius products G : L by
sum(G ⊙ L))."""
from __future__ import annotations

import numpy as np
import pytest

from matcalc import api
from matcalc import numeric as N
from matcalc.calculus.steps import Inner
from matcalc.expr import Sym, substitute
from matcalc.printers.numpy import compile_function, function_source, symbols_of

CASES = [
    ("grad", "tr((M@M.T - I)@(M@M.T - I).T)", "M"),
    ("grad", "norm(A@X - B)**2", "X"),
    ("grad", "x.T@A@x", "x"),
    ("grad", "logdet(X)", "X"),
    ("grad", "sum(log(sigmoid(X@w)))", "w"),
    ("grad", "tr(A@X@X.T@A.T)", "X"),
    ("dir", "A@X@X.T@A.T", "X"),
    ("elem", "M@M.T", "M"),
    ("jac", "A@X@B", "X"),
]


def _value(e, values):
    syms = symbols_of(e)
    f = compile_function(function_source(e, syms, raw=True))
    return np.asarray(f(**{s.name: values[s.name] for s in syms}), dtype=float)


@pytest.mark.parametrize("command,expr,wrt", CASES)
def test_steps_each_step_holds_numerically(command, expr, wrt):
    r = api.derive(command, expr, wrt, steps=True)[0]
    steps = r.steps
    assert steps and all(s["text"] and s["latex"] and s["pretty"] for s in steps)
    prob = r.problem
    X = prob.symbols[wrt]
    syms = sorted(prob.symbols.values(), key=lambda s: s.name)
    rng = np.random.default_rng(1)
    inst = N.Instance(prob.expr, syms, rng, {n: 3 for n in N.dim_names(syms)})
    values = dict(inst.values)
    V = N.direction(X, inst.sizes, rng, values[X.name])
    values["d" + X.name] = V
    full = {}   # named symbol -> expression in the input symbols

    def expand(e):
        return substitute(e, full) if full else e

    def diff_of(e):
        return np.asarray(N.central_difference(compile_function(function_source(e, syms, raw=True)),
                                              inst.values, X.name, V), dtype=float)

    checked = 0
    for s in steps:
        if s.kind == "define":
            full[s.lhs] = expand(s.rhs)
            values[s.lhs.name] = _value(full[s.lhs], values)
            continue
        if s.kind == "result" or s.kind == "symmetry":
            continue
        if s.of is not None:   # the left side is a differential symbol
            lhs = diff_of(expand(s.of))
            values[s.lhs.name] = lhs
        else:
            lhs = _value(s.lhs.expr() if isinstance(s.lhs, Inner) else s.lhs, values)
        rhs = _value(s.rhs.expr() if isinstance(s.rhs, Inner) else s.rhs, values)
        rhs = rhs.reshape(np.shape(lhs)) if rhs.size == np.size(lhs) else np.broadcast_to(rhs.reshape(-1)[0], np.shape(lhs))
        err = N.relative_error(rhs, lhs)
        assert err < 1e-5, f"{s.render('text')}: relative error {err}"
        checked += 1
    assert checked >= 1


def test_steps_seed_reads_like_a_forum_answer():
    r = api.derive("grad", "tr((M@M.T - I)@(M@M.T - I).T)", "M", steps=True)[0]
    lines = [s["text"].split("    (")[0] for s in r.steps]
    assert lines[0] == "Q = M@M.T - I"
    assert "dQ = M@dM.T + dM@M.T" in lines
    assert "df = 2*Q : dQ" in lines
    assert "df = 4*Q@M : dM" in lines
    assert lines[-1] == "∇f = 4*(M@M.T - I)@M"
    assert r.to_dict()["steps"][0].startswith("Q = M@M.T - I")


def test_steps_grad_result_is_read_off():
    """The final df = G : dX agrees with the result: sum(G ⊙ V) = df along V."""
    r = api.derive("grad", "tr((M@M.T - I)@(M@M.T - I).T)", "M", steps=True)[0]
    kinds = [s.kind for s in r.steps]
    assert kinds.index("differential") < kinds.index("inner") < kinds.index("collect") < kinds.index("result")
