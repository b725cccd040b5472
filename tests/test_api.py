"""The Python API of SPEC §3: matcalc.grad/dir/elem/jac/hess/check/parse and the
Result object (str, latex, numpy, to_json, shapes, steps, _repr_latex_, evaluate).
Every derivative here is verified numerically (central differences, rel err < 1e-6)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import matcalc
from matcalc import numeric as N

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-6


def test_api_spec_section_3():
    g = matcalc.grad("tr(A @ X)", wrt="X", check=True, seed=0)
    assert g.check.passed and g.check.error < RTOL
    assert str(g) == "A.T"
    assert g.latex() == r"A^{\top}"
    assert g.numpy().startswith("import numpy as np\n")
    assert "def grad_X(A, X):" in g.numpy()
    assert g.shapes == {"A": ("n", "m"), "X": ("m", "n")}


def test_api_one_result_or_a_list():
    assert isinstance(matcalc.grad("x.T@A@x", wrt="x"), matcalc.Result)
    rs = matcalc.grad("x.T@A@x", wrt=["x", "A"])
    assert [r.wrt for r in rs] == ["x", "A"]
    rs = matcalc.grad("x.T@A@x")
    assert [r.wrt for r in rs] == ["A", "x"]


@pytest.mark.parametrize("fn,expr,kw,text", [
    (matcalc.grad, "tr((M@M.T - I)@(M@M.T - I).T)", dict(wrt="M"), "4*(M@M.T - I)@M"),
    (matcalc.dir, "M@M.T", dict(wrt="M", along="A"), "A@M.T + M@A.T"),
    (matcalc.elem, "X@A", dict(wrt="X"), "E(i,j)@A"),
    (matcalc.jac, "A@X@B", dict(wrt="X"), "kron(B.T, A)"),
    (matcalc.hess, "x.T@A@x", dict(wrt="x"), "A + A.T"),
])
def test_api_mirrors_the_commands(fn, expr, kw, text):
    r = fn(expr, check=True, seed=1, **kw)
    assert str(r) == text
    assert r.check.passed and r.check.error < RTOL
    assert r.command == fn.__name__


def test_api_parse_gives_the_typed_expression():
    e = matcalc.parse("x.T@A@x")
    assert e.is_scalar and str(e) == "x.T@A@x"
    with pytest.raises(matcalc.MatcalcError) as info:
        matcalc.parse("A @@ B")
    assert info.value.kind == "parse" and info.value.column is not None


def test_api_to_json_is_the_spec_object():
    r = matcalc.grad("tr((M@M.T - I)@(M@M.T - I).T)", wrt="M")
    d = json.loads(r.to_json())
    assert d == {"command": "grad", "input": "tr((M@M.T - I)@(M@M.T - I).T)", "wrt": "M",
                 "shapes": {"M": ["n", "m"]}, "result": "4*(M@M.T - I)@M",
                 "latex": r"4 \left(M M^{\top} - I\right) M", "ok": True}
    r = matcalc.grad("norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2", wrt="R")
    d = json.loads(r.to_json())
    assert d["definitions"] == {"C": "(W - [[R, -Q], [Q, R]]@P@S.T)@S@P.T"}
    assert d["result"].endswith("where C = (W - [[R, -Q], [Q, R]]@P@S.T)@S@P.T")


def test_api_text_form_parses_back_with_its_definitions():
    r = matcalc.grad("norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2", wrt="R")
    assert str(r.definitions[0][0]) == "C"
    from matcalc.printers.text import to_text
    assert to_text(matcalc.parse(str(r))) == to_text(r.full_expr())


def test_api_steps():
    r = matcalc.grad("tr((M@M.T - I)@(M@M.T - I).T)", wrt="M", steps=True)
    assert r.steps, "steps=True gives the derivation"
    assert all(isinstance(s, str) and s for s in r.steps_in("text"))
    assert matcalc.grad("tr(A@X)", wrt="X").steps == []


def test_api_repr_latex_and_repr():
    r = matcalc.grad("x.T@A@x where A: symmetric n×n", wrt="x")
    assert r._repr_latex_() == \
        r"$\displaystyle \nabla_{x} f = 2 A x, \qquad x \in \mathbb{R}^{n},\; A \in \mathbb{R}^{n \times n}$"
    assert repr(r) == "<matcalc grad wrt x: 2*A@x>"


def _point(r, seed=0):
    rng = np.random.default_rng(seed)
    syms = sorted(r.problem.symbols.values(), key=lambda s: s.name)
    return N.Instance(r.problem.expr, syms, rng), rng


def test_api_evaluate_gradient_against_central_differences():
    r = matcalc.grad("logdet(X) + tr(inv(X)@A)", wrt="X")
    inst, rng = _point(r)
    G = r.evaluate(**inst.values)
    f = matcalc.derive("grad", "logdet(X) + tr(inv(X)@A)", ["X"])[0]
    value = lambda **kw: f.evaluate(value=True, **kw)[0]  # noqa: E731
    for _ in range(3):
        V = rng.standard_normal(G.shape)
        num = N.central_difference(value, inst.values, "X", V)
        assert N.relative_error(num, np.sum(G * V)) < RTOL


def test_api_evaluate_dir_and_elem_against_central_differences():
    d = matcalc.dir("A@X@X.T@A.T", wrt="X", along="Y")
    inst, rng = _point(d)
    Y = rng.standard_normal(inst.values["X"].shape)
    F = lambda **kw: d.evaluate(value=True, Y=Y, **kw)[0]  # noqa: E731
    num = N.central_difference(F, inst.values, "X", Y)
    assert N.relative_error(num, d.evaluate(Y=Y, **inst.values)) < RTOL
    e = matcalc.elem("A@X@X.T@A.T", wrt="X")
    E = np.zeros(inst.values["X"].shape)
    E[1, 0] = 1
    num = N.central_difference(lambda **kw: e.evaluate(value=True, i=1, j=0, **kw)[0], inst.values, "X", E)
    assert N.relative_error(num, e.evaluate(i=1, j=0, **inst.values)) < RTOL


def test_api_evaluate_returns_numpy_arrays():
    r = matcalc.grad("tr(A@X)", wrt="X")
    out = r.evaluate(A=np.arange(6.0).reshape(2, 3), X=np.ones((3, 2)))
    assert isinstance(out, np.ndarray) and out.shape == (3, 2)
    np.testing.assert_array_equal(out, np.arange(6.0).reshape(2, 3).T)


def test_api_check():
    report = matcalc.check("x.T@A@x", wrt=["x"], seed=2)
    statuses = {row["kind"]: row["status"] for row in report["rows"]}
    assert statuses["grad"] == "PASS" and statuses["dir"] == "PASS"
    assert all(row["status"] in ("PASS", "SKIP") for row in report["rows"])


def test_api_import_loads_no_numpy_sympy_or_rich():
    code = "import sys, matcalc; print(sorted(m for m in ('numpy', 'sympy', 'rich') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_api_is_typed():
    assert (ROOT / "matcalc" / "py.typed").exists()


OWN_TYPED = ("matcalc/__init__.py", "matcalc/result.py", "matcalc/printers/latex.py",
             "matcalc/printers/numpy.py", "matcalc/printers/pretty.py", "matcalc/printers/rich_out.py")


def test_api_mypy_clean_on_the_public_surface(tmp_path):
    """mypy over the whole package (imports followed, pyproject's [tool.mypy]): no
    error anywhere; and the public surface — the package's namespace, Result and the
    printers of this issue — has no error even with --check-untyped-defs."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install '.[test]')")

    def mypy(*flags):
        run = subprocess.run([sys.executable, "-m", "mypy", *flags, "--no-error-summary",
                              "--cache-dir", str(tmp_path / "mypy_cache"), "matcalc"],
                             capture_output=True, text=True, cwd=ROOT, timeout=600)
        return run, [line for line in run.stdout.splitlines() if ": error:" in line]

    run, errors = mypy()
    assert not errors, "\n".join(errors)
    assert run.returncode == 0, run.stdout + run.stderr
    run, errors = mypy("--check-untyped-defs")
    own = [line for line in errors if line.startswith(OWN_TYPED)]
    assert not own, "\n".join(own)


def test_derive_pauses_the_cycle_collector_and_restores_it(monkeypatch):
    """The cycle collector is paused while a derivation runs (it makes no cycles) and
    switched back on after it, whatever happened; never touched when it was off, and
    left running for a numeric check."""
    import gc
    seen = []
    real = matcalc.api._derive

    def spy(*a, **kw):
        seen.append(gc.isenabled())
        return real(*a, **kw)
    monkeypatch.setattr(matcalc.api, "_derive", spy)
    assert gc.isenabled()
    matcalc.grad("tr(A@X)", wrt="X")
    with pytest.raises(matcalc.MatcalcError):
        matcalc.grad("A@x +", wrt="x")
    matcalc.grad("tr(A@X)", wrt="X", check=True)
    assert seen == [False, False, True] and gc.isenabled()
    gc.disable()
    try:
        matcalc.grad("tr(A@X)", wrt="X")
        assert not gc.isenabled()
    finally:
        gc.enable()
