"""Registry-driven tests: every operator in `matcalc.expr.REGISTRY` gets, with no
new test code,

  * test_<op>_diff      its differential rule against central differences (all
                        arguments perturbed at once, then each alone), float64,
                        relative error < 1e-6;
  * test_<op>_adjoint   for an entry with an adjoint rule, the inner-product test
                        <G, L_k(dA)> = <adjoint(node, k, G), dA> with random G and dA,
                        where L_k is the differential in argument k alone (JAX's
                        `check_vjp`);
  * test_<op>_pipeline  the whole pipeline (grad of sum(W*F), dir, elem) on an
                        application of the op, checked numerically.

An application is built from the entry's gufunc signature (`"(m,k),(k,n)->(m,n)"`
gives `matmul`-like arguments of sizes m=2, k=3, n=4 …) when the entry is called
as a function, or taken from SAMPLES for operators with irregular syntax or shape
rules.  An operator without a differential rule is skipped with the reason.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import RTOL, evaluator, inner, multi_central_difference, rel_err, derive_checked

from matcalc import api
from matcalc import numeric as N
from matcalc.errors import UnsupportedError
from matcalc.expr import REGISTRY, Sym
from matcalc.ops.core import zero_like
from matcalc.shapes import Signature

SIZES = {"n": 3, "m": 2, "p": 4, "q": 5, "k": 3, "r": 2, "s": 3}

# Operators whose syntax or shape rule is not a plain function call with a gufunc
# signature: sample applications, in the input language, with declared shapes.
SAMPLES = {
    "add": ["A + B where A: n×m, B: n×m", "A + B - C where A: n×m, B: n×m, C: n×m", "a + b where a: scalar, b: scalar"],
    "mul": ["A * B where A: n×m, B: n×m", "a * B where a: scalar, B: n×m", "A * B * C where A: n×m, B: n×m, C: n×m",
            "x * y where x: n, y: n"],
    "matmul": ["A @ B where A: n×m, B: m×p", "A @ B @ C where A: n×m, B: m×p, C: p×q", "x.T @ y where x: n, y: n"],
    "T": ["A.T where A: n×m", "x.T where x: n"],
    "pow": ["A ** 3 where A: n×m", "A ** (1/3) where A: n×m", "A ** -2 where A: n×m", "A ** a where A: n×m, a: scalar",
            "a ** b where a: scalar, b: scalar"],
    "matpow": ["matpow(A, 3) where A: n×n", "matpow(A, -2) where A: n×n"],
    "diag": ["diag(x) where x: n", "diag(A) where A: n×n"],
    "block": ["[[A, B], [C, D]] where A: n×m, B: n×p, C: q×m, D: q×p", "[[A, B]] where A: n×m, B: n×p",
              "[[A], [C]] where A: n×m, C: q×m"],
    "slice": ["A[1:3, :2] where A: 4×5", "A[1, 2] where A: 4×5", "A[2:, 1:] where A: 4×5"],
}
CONSTANTS = {"I", "ones", "zeros", "E", "K"}


def signature_samples(op) -> list[str]:
    """`name(A, B) where A: m×n, B: …` from the entry's gufunc signature."""
    sig = op.shape
    if not isinstance(sig, Signature) or not op.call:
        return []
    out = []
    for numeric in (False, True):   # named sizes (m, n, …), then the same with numbers
        names, decls = [], []
        for k, pattern in enumerate(sig.inputs):
            name = "ABCDFGH"[k]
            names.append(name)
            if pattern == ("1", "1"):
                decls.append(f"{name}: scalar")
            else:
                r, c = (str(SIZES.get(d, d)) if numeric else d for d in pattern)
                decls.append(f"{name}: ({r}, {c})")
        out.append(f"{op.call[0]}({', '.join(names)}) where {', '.join(decls)}")
    return out


def samples_of(name) -> list[str]:
    return SAMPLES.get(name) or signature_samples(REGISTRY[name])


# (test, case id) -> reason: known bugs in files this suite does not own, kept as
# strict xfails so that the fix shows up (see also tests/test_regressions.py)
KNOWN_BUGS: dict = {}


def cases(test=""):
    out = []
    for name in sorted(REGISTRY):
        if test == "adjoint" and REGISTRY[name].adjoint is None and not REGISTRY[name].linear_in:
            continue   # not linear in any argument: no adjoint rule to test
        texts = samples_of(name)
        if not texts:
            out.append(pytest.param(name, None, id=f"{name}"))
        for k, text in enumerate(texts):
            reason = KNOWN_BUGS.get((test, f"{name}-{k}"))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(name, text, id=f"{name}-{k}", marks=marks))
    return out


def application(name, text):
    """The typed node of the sample; its root must be the operator under test."""
    if text is None:
        if name in CONSTANTS or REGISTRY[name].nargs == 0:
            pytest.skip(f"{name} is a constant array: it has no arguments to differentiate")
        pytest.fail(f"{name} has no sample application: give it a call syntax with a gufunc "
                    "signature or add it to SAMPLES in tests/test_registry.py")
    prob = api.problem(text, command="parse")
    node = prob.expr
    assert node.op == name, f"the sample {text!r} canonicalises to {node!r} (op {node.op}), not {name}"
    syms = sorted(prob.symbols.values(), key=lambda s: s.name)
    return node, syms


def sizes_for(syms):
    names = N.dim_names(syms)
    return {n: SIZES[n] for n in names}


def instance(node, syms, seed):
    rng = np.random.default_rng(seed)
    return N.Instance(node, syms, rng, sizes_for(syms)), rng


def tangent_syms(syms):
    return {s.name: Sym("d" + s.name, s.shape) for s in syms}


def require_diff(name):
    if REGISTRY[name].diff is None:
        if name in CONSTANTS or REGISTRY[name].nargs == 0:
            pytest.skip(f"{name} is a constant array: no differential rule is needed")
        pytest.skip(f"{name} has no differential rule yet (not supported)")


@pytest.mark.parametrize("name,text", cases("diff"))
def test_op_diff(name, text):
    """diff(node, tangents) against the central difference, every argument moving."""
    require_diff(name)
    node, syms = application(name, text)
    entry = REGISTRY[name]
    inst, rng = instance(node, syms, seed=1)
    dsyms = tangent_syms(syms)
    f = evaluator(node, syms)
    variable_args = [k for k, a in enumerate(node.args) if isinstance(a, Sym)]
    assert variable_args, f"the sample {text!r} has no symbol argument"
    subsets = [variable_args] + ([[k] for k in variable_args] if len(variable_args) > 1 else [])
    for moving in subsets:
        dargs = [dsyms[a.name] if (k in moving) else zero_like(a.shape) for k, a in enumerate(node.args)]
        tangent = entry.diff(node, dargs)
        d = evaluator(tangent, syms + list(dsyms.values()))
        for trial in range(2):
            V = {node.args[k].name: rng.standard_normal(np.shape(inst.values[node.args[k].name])) for k in moving}
            num = multi_central_difference(f, inst.values, V)
            still = {"d" + s.name: np.zeros(np.shape(inst.values[s.name])) for s in syms}
            sym = d(**inst.values, **{**still, **{"d" + n: v for n, v in V.items()}})
            err = rel_err(num, sym)
            assert err < RTOL, (f"d {name} in args {moving} of {text!r}: tangent {tangent!r}; rel err {err:.2e}\n"
                                f"symbolic {sym}\nnumeric {num}")


@pytest.mark.parametrize("name,text", cases("adjoint"))
def test_op_adjoint(name, text):
    """<G, L_k(dA)> = <adjoint(node, k, G), dA> for random G and dA."""
    entry = REGISTRY[name]
    if entry.adjoint is None:
        pytest.skip(f"{name} is linear but has no adjoint rule yet (gradients through it are not supported)")
    require_diff(name)
    node, syms = application(name, text)
    inst, rng = instance(node, syms, seed=2)
    G = Sym("G_", node.shape)
    dsyms = tangent_syms(syms)
    for k, a in enumerate(node.args):
        if not isinstance(a, Sym):
            continue
        dA = dsyms[a.name]
        dargs = [dA if j == k else zero_like(b.shape) for j, b in enumerate(node.args)]
        L = entry.diff(node, dargs)
        try:
            C = entry.adjoint(node, k, G)
        except UnsupportedError as exc:   # a stated limitation of the rule, never a crash
            pytest.skip(f"{name}: {exc.message}")
        assert C.shape == a.shape or (C.is_scalar and a.is_scalar), \
            f"adjoint of {name} in argument {k} has shape {C.shape}, the argument {a.shape}"
        lf = evaluator(L, syms + [dA])
        cf = evaluator(C, syms + [G])
        for trial in range(3):
            g = rng.standard_normal(tuple(d.evaluate(inst.sizes) for d in node.shape))
            da = rng.standard_normal(np.shape(inst.values[a.name]))
            lhs = inner(g, lf(**inst.values, **{dA.name: da}))
            rhs = inner(cf(**inst.values, G_=g), da)
            err = rel_err(lhs, rhs)
            assert err < RTOL, f"adjoint of {name} in argument {k} of {text!r}: {C!r}; <G, L dA> = {lhs}, " \
                               f"<C, dA> = {rhs}"


@pytest.mark.parametrize("name,text", cases("pipeline"))
def test_op_pipeline(name, text):
    """The whole pipeline through the op: grad of sum(W*F) (W's shape is inferred
    from F's), dir and elem, each verified numerically."""
    require_diff(name)
    node, syms = application(name, text)
    body, _, decls = text.partition(" where ")
    sizes = sizes_for(syms)
    for command, expr in (("grad", f"sum(W*({body})) where {decls}"), ("dir", text), ("elem", text)):
        wrt = [s.name for s in syms]
        try:
            derive_checked(command, expr, wrt, seed=3, sizes=sizes)
        except UnsupportedError as exc:   # a stated limitation (e.g. symbolic kron sizes)
            if command == "grad" and REGISTRY[name].adjoint is not None:
                pytest.skip(f"{name}: {exc.message}")
            raise


def test_registry_every_entry_has_a_shape_rule_and_printer():
    """Each entry can be printed in every format and states a shape rule."""
    for name, op in REGISTRY.items():
        assert op.shape is not None, name
        assert op.name == name
