"""Property-based hunt for wrong derivatives.

A generator of random well-shaped expressions (typed trees of up to ~25 nodes over
every operator with a differential rule that works at symbolic sizes, and symbols
with declared properties: symmetric S, spd P, diagonal G, plain A, B, vectors x, y,
a scalar a, a rectangular D) feeds:

  * test_generated_derivative: a derivative of a random kind (grad, dir or elem)
    with respect to a random symbol, checked numerically (rel err < 1e-6; a
    mismatch goes to the high-precision oracle, which must confirm the result in
    60-digit arithmetic — extreme random instances such as F ≈ 1e64 or
    saturated sigmoids limit the float64 difference quotient, while a wrong formula
    is off by O(1) at any precision);
  * test_generated_roundtrip: text -> parse -> text of the expression and of its
    derivative (declarations pinned), `parse(str(e)) is e`.

Profiles (env MATCALC_HYPOTHESIS_PROFILE): `default` runs 1,000 expressions per
test (2,000 in all), derandomized so CI is stable; `long` runs 50,000 per test
with fresh randomness.  Every bug found becomes a named test in
tests/test_regressions.py.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from conftest import canonical, declarations

import matcalc
from matcalc import api
from matcalc import numeric as N
from matcalc.errors import CheckError, MatcalcError, UnsupportedError

# no `explain` phase: tracing every line of a failing example costs minutes here
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
settings.register_profile("default", max_examples=int(os.environ.get("MATCALC_HYPOTHESIS_EXAMPLES", 1000)),
                          deadline=None, derandomize=True, print_blob=True, phases=PHASES,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                 HealthCheck.data_too_large])
settings.register_profile("long", max_examples=50_000, deadline=None, print_blob=True, phases=PHASES,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                 HealthCheck.data_too_large])
PROFILE = os.environ.get("MATCALC_HYPOTHESIS_PROFILE", "default")

DECLS = {"A": "A: n×n", "B": "B: n×n", "S": "S: symmetric n×n", "P": "P: spd n×n", "G": "G: diagonal n×n",
         "x": "x: n", "y": "y: n", "a": "a: scalar", "D": "D: n×m"}
BUDGET = 25

UNARY = ["exp", "sin", "cos", "tanh", "sigmoid", "abs", "relu"]


class Gen:
    """Draws typed expression text: kinds M (n×n), V (n×1), S (scalar), R (n×m)."""

    def __init__(self, draw):
        self.draw = draw
        self.used = set()
        self.size = 0

    def sym(self, names):
        name = self.draw(st.sampled_from(names))
        self.used.add(name)
        return name

    def pick(self, options):
        self.size += 1
        if self.size >= BUDGET:
            options = options[:1]   # the leaves come first
        return self.draw(st.sampled_from(range(len(options))))

    def M(self):
        k = self.pick(["leaf", "I", "add", "sub", "matmul", "hadamard", "scale", "T", "fn", "inv", "matpow",
                       "outer", "DDt", "pow2", "diagv", "posfn"])
        if k == 0:
            return self.sym(["A", "B", "S", "P", "G"])
        if k == 1:
            return f"(({self.M()}) + I)"
        if k == 2:
            return f"(({self.M()}) + ({self.M()}))"
        if k == 3:
            return f"(({self.M()}) - ({self.M()}))"
        if k == 4:
            return f"({self.M()})@({self.M()})"
        if k == 5:
            return f"(({self.M()})*({self.M()}))"
        if k == 6:
            return f"({self.S()})*({self.M()})"
        if k == 7:
            return f"({self.M()}).T"
        if k == 8:
            return f"{self.draw(st.sampled_from(UNARY))}(({self.M()}))"
        if k == 9:
            return f"inv({self.sym(['P'])} + ({self.M()})@({self.M()}).T)" if self.draw(st.booleans()) \
                else f"inv({self.sym(['A', 'B', 'P', 'S'])})"
        if k == 10:
            return f"matpow(({self.M()}), {self.draw(st.sampled_from([2, 3, -1, -2]))})"
        if k == 11:
            return f"({self.V()})@({self.V()}).T"
        if k == 12:
            return f"({self.R()})@({self.R()}).T"
        if k == 13:
            return f"({self.M()})**2"
        if k == 14:
            return f"diag(({self.V()}))"
        return f"{self.draw(st.sampled_from(['sqrt', 'log']))}(exp(({self.M()})))"

    def V(self):
        k = self.pick(["leaf", "matvec", "add", "hadamard", "scale", "fn", "diag", "sub"])
        if k == 0:
            return self.sym(["x", "y"])
        if k == 1:
            return f"({self.M()})@({self.V()})"
        if k == 2:
            return f"(({self.V()}) + ({self.V()}))"
        if k == 3:
            return f"(({self.V()})*({self.V()}))"
        if k == 4:
            return f"({self.S()})*({self.V()})"
        if k == 5:
            return f"{self.draw(st.sampled_from(UNARY))}(({self.V()}))"
        if k == 6:
            return f"diag(({self.M()}))"
        return f"(({self.V()}) - ({self.V()}))"

    def R(self):
        k = self.pick(["leaf", "left", "fn", "add", "hadamard"])
        if k == 0:
            return self.sym(["D"])
        if k == 1:
            return f"({self.M()})@({self.R()})"
        if k == 2:
            return f"{self.draw(st.sampled_from(UNARY))}(({self.R()}))"
        if k == 3:
            return f"(({self.R()}) + ({self.R()}))"
        return f"(({self.R()})*({self.R()}))"

    def S(self):
        k = self.pick(["leaf", "tr", "sum", "quad", "inner", "logdet", "det", "norm", "norm2", "prod", "add",
                       "fn", "sqr", "sumR"])
        if k == 0:
            return self.sym(["a"])
        if k == 1:
            return f"tr(({self.M()}))"
        if k == 2:
            return f"sum(({self.M()}))"
        if k == 3:
            return f"({self.V()}).T@({self.M()})@({self.V()})"
        if k == 4:
            return f"({self.V()}).T@({self.V()})"
        if k == 5:
            return f"logdet({self.sym(['P'])} + ({self.M()})@({self.M()}).T)"
        if k == 6:
            return f"det({self.sym(['P', 'A'])})"
        if k == 7:
            return f"norm(({self.M()}))"
        if k == 8:
            return f"norm(({self.V()}))**2"
        if k == 9:
            return f"(({self.S()}))*(({self.S()}))"
        if k == 10:
            return f"(({self.S()}) + ({self.S()}))"
        if k == 11:
            return f"{self.draw(st.sampled_from(['exp', 'sin', 'tanh', 'sigmoid']))}(({self.S()}))"
        if k == 12:
            return f"(({self.S()}))**2"
        return f"sum(({self.R()}))"


@st.composite
def scalar_expressions(draw):
    g = Gen(draw)
    text = g.S()
    decl = ", ".join(DECLS[n] for n in sorted(g.used))
    return f"{text} where {decl}", sorted(g.used)


@st.composite
def any_expressions(draw):
    g = Gen(draw)
    text = draw(st.sampled_from([g.S, g.M, g.V, g.R]))()
    decl = ", ".join(DECLS[n] for n in sorted(g.used))
    return f"{text} where {decl}", sorted(g.used)


# Known bugs in files this suite does not own (each one a strict xfail in
# tests/test_regressions.py): while they are open, inputs that hit them are
# discarded here so that the generator keeps hunting for new ones.  Delete a line
# when its regression test XPASSes.
KNOWN_BUGS: list = [
    # (none open: the numpy definition order, the sigmoid NumPy template and the
    # factor recursion found by this generator are fixed; their tests stay in
    # tests/test_regressions.py)
]


def _known(expr, exc) -> bool:
    return any(p(expr, exc) for p in KNOWN_BUGS)


def _derive(kind, expr, wrt, seed):
    try:
        return matcalc.derive(kind, expr, [wrt], check=True, seed=seed)
    except CheckError as exc:
        if "cannot check" in exc.message:
            raise
        # the arbiter: the oracle in 60-digit floating point at a random point.  Where
        # it confirms the result, the float64 mismatch was the difference quotient's
        # limit at an extreme instance (F ~ 1e64, saturated sigmoids); a wrong formula
        # is off by O(1) there.  (Exact arithmetic is no arbiter: SymPy's rational
        # functions of sin(...) entries grow without bound.)
        from matcalc.oracle import precise_check
        results = matcalc.derive(kind, expr, [wrt])
        for r in results:
            out = precise_check(r, seed=seed)
            if not out.passed:
                raise AssertionError(f"{kind} of {expr} wrt {wrt}: {r} is wrong: numeric {exc.message}; "
                                     f"60 digits: {out.error:.3g} ({out.detail})") from None
            r.check = N.Outcome(kind, 0.0, detail="60-digit oracle (the float64 check was inconclusive)")
        return results


def _derive_filtered(kind, expr, wrt, seed):
    try:
        return _derive(kind, expr, wrt, seed)
    except UnsupportedError:
        assume(False)
    except CheckError as exc:
        # no point inside the domain is not a wrong answer; a mismatch is
        assume("cannot check" not in exc.message)
        assume(not _known(expr, exc))
        raise
    except (MatcalcError, RecursionError) as exc:
        assume(not _known(expr, exc))
        raise


@pytest.mark.timeout(1200 if PROFILE == "default" else 0)
@settings(settings.get_profile(PROFILE))
@given(scalar_expressions(), st.sampled_from(["grad", "dir", "elem"]), st.data())
def test_generated_derivative(case, kind, data):
    expr, names = case
    wrt = data.draw(st.sampled_from(names))
    for r in _derive_filtered(kind, expr, wrt, seed=data.draw(st.integers(0, 2**16))):
        assert r.check is not None and r.check.passed and r.check.error < N.RTOL, (expr, str(r))


@pytest.mark.timeout(1200 if PROFILE == "default" else 0)
@settings(settings.get_profile(PROFILE))
@given(any_expressions(), st.sampled_from(["dir", "elem"]), st.data())
def test_generated_roundtrip(case, kind, data):
    expr, names = case
    prob = api.problem(expr, command="parse")
    e = prob.expr
    syms = [s for s in prob.symbols.values() if s.name in e.free]  # canonical forms may drop some (inv(A)@A)
    decl = declarations(syms)
    back = api.parse(str(e), declare=decl)
    assert back is e, f"{expr}: printed {e}, parsed back {back}"
    wrt = data.draw(st.sampled_from(names))
    try:
        (r,) = matcalc.derive(kind, expr, [wrt])
    except UnsupportedError:
        return
    except (MatcalcError, RecursionError) as exc:
        assume(not _known(expr, exc))
        raise
    extra = [r.direction] if r.direction is not None else []
    try:
        back = api.parse(str(r), declare=declarations(
            [s for s in list(r.problem.symbols.values()) + extra if s.name in r.full_expr().free]))
    except MatcalcError as exc:
        # diag(E(i,j)): E is "sized like the variable", which the text does not say, so
        # diag cannot tell a column from a square matrix there
        assume(not ("diag(E(" in str(r) and exc.kind == "shape"))
        raise AssertionError(f"{kind} of {expr}: the text {r} does not parse back: {exc.message}") from None
    full = canonical(r.full_expr())
    assume(not (back is not full and "diag(E(" in str(r)))   # the same ambiguity, parsed the other way
    if kind == "elem" and back is not full:
        # E(i,j) is "sized like the variable": the text does not say which, so where
        # nothing else fixes its size the parse names fresh sizes; compare as text
        from matcalc.printers.text import to_text
        assert to_text(back) == to_text(full), f"{kind} of {expr}: printed {r}, parsed back {back}"
        return
    assert back is full, f"{kind} of {expr}: printed {r}, parsed back {back}"


@settings(settings.get_profile(PROFILE), max_examples=300)
@given(any_expressions())
def test_generated_transpose_keeps_symbols_and_plain_size(case):
    """CSE builds a node's transpose only when some node shares its
    `transpose_invariant` (symbols, number of nodes that are not .T): that must hold
    for every node of every expression and of its derivatives."""
    from matcalc.expr import make, walk
    from matcalc.simplify.cse import transpose_invariant
    expr, names = case
    prob = api.problem(expr, command="parse")
    roots = [prob.expr]
    for kind in ("dir", "elem"):
        try:
            roots += [r.expr for r in matcalc.derive(kind, expr, [names[0]])]
        except MatcalcError:
            pass
    plain: dict = {}
    for root in roots:
        for n in walk(root):
            mirror = make("T", n)
            assert transpose_invariant(mirror, plain) == transpose_invariant(n, plain), f"{n} and {mirror}"
