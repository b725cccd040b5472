"""Shared helpers of the test suite.

Every derivative a test produces is checked numerically through these helpers
(float64 central differences, Richardson extrapolated, seeded instances of sizes
2–5, relative error below 1e-6), and every symbolic value is computed by the code
the NumPy printer emits (`function_source` / `compile_function`), so each check
also tests `--format numpy`.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import matcalc
from matcalc import numeric as N
from matcalc.expr import Sym, make
from matcalc.printers.numpy import compile_function, function_source

RTOL = 1e-6


def canonical(e, memo=None):
    """e rebuilt by the smart constructors: the form its text parses back to.  A
    result's last, cosmetic pass writes sums of transposed symbols as one transpose
    ((x - mu).T, exp((A + B).T)), which the canonical form spells A.T + B.T."""
    memo = {} if memo is None else memo
    if e not in memo:
        memo[e] = make(e.op, *(canonical(a, memo) for a in e.args), attrs=e.attrs) if e.args else e
    return memo[e]


def evaluator(e, symbols, extra=()):
    """A callable evaluating the expression e (symbols: the Syms it may use, in
    order) through the NumPy printer's source."""
    return compile_function(function_source(e, list(symbols), extra=extra))


def raw_evaluator(e, symbols):
    """Like `evaluator` but returns NumPy's value as is (2-D arrays, 1×1 for scalars)."""
    return compile_function(function_source(e, list(symbols), raw=True))


def multi_central_difference(f, values: dict, tangents: dict, h=N.H):
    """d/dt f(values + t·tangents) at t = 0, perturbing several arguments at once
    (central differences, Richardson extrapolated: O(h⁴))."""
    def phi(t):
        moved = dict(values)
        for name, v in tangents.items():
            moved[name] = values[name] + t * v
        return np.asarray(f(**moved), dtype=float)
    d1 = (phi(h) - phi(-h)) / (2 * h)
    d2 = (phi(h / 2) - phi(-h / 2)) / h
    return (4 * d2 - d1) / 3


def rel_err(a, b) -> float:
    return N.relative_error(a, b)


def inner(a, b) -> float:
    """The Frobenius inner product <a, b> = sum(a ⊙ b) (1×1 operands broadcast)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 1 and b.size != 1:
        a = np.full(b.shape, float(a.reshape(())))
    if b.size == 1 and a.size != 1:
        b = np.full(a.shape, float(b.reshape(())))
    return float(np.sum(a.reshape(-1) * b.reshape(-1)))


def concrete(shape, sizes):
    return tuple(d.evaluate(sizes) for d in shape)


def derive_checked(command, expr, wrt=None, *, seed=0, sizes=None, **kw):
    """matcalc.derive with the numeric check on; asserts that every result was
    checked and passed (rel err < 1e-6), and returns the results."""
    results = matcalc.derive(command, expr, wrt, check=True, seed=seed, sizes=sizes, **kw)
    assert results, f"{command} {expr!r} gave no result"
    for r in results:
        outcome = r.check
        if outcome is None:  # a kind api.verify does not check yet: check it here
            outcome = N.check_result(r, N.rng_for(seed), sizes)
        assert outcome.passed and outcome.error < RTOL, \
            f"{command} {expr!r} wrt {r.wrt}: {r} — rel err {outcome.error:.3e} {outcome.detail}"
    return results


def declarations(symbols, extra=()) -> str:
    """A `where`-clause pinning the shapes and properties of the typed symbols (so a
    second parse of a printed form infers exactly the same symbols)."""
    parts = []
    for s in list(symbols) + list(extra):
        props = " ".join(sorted(s.props))
        r, c = s.shape
        simple = all(str(d).isidentifier() or str(d).isdigit() for d in (r, c))
        shape = "scalar" if s.is_scalar else f"({r}, {c})" if simple else ""
        if not (props or shape):
            continue   # a size like 2*n cannot be declared: leave it to inference
        parts.append(f"{s.name}: {props + ' ' if props else ''}{shape}".strip())
    return ", ".join(parts)


@pytest.fixture
def rng():
    return np.random.default_rng(20240531)


def hypothesis_profile() -> str:
    return os.environ.get("MATCALC_HYPOTHESIS_PROFILE", "default")


__all__ = ["evaluator", "raw_evaluator", "multi_central_difference", "rel_err", "inner", "concrete",
           "derive_checked", "declarations", "Sym", "RTOL"]
