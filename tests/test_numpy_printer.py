"""`--format numpy`: the generated functions are self-contained (only NumPy), take
their arguments in SPEC order, compute named subexpressions once, solve instead of
inverting, return (value, derivative) with `value=True` — and are right: every
function is executed and compared with central differences of the expression
(float64, Richardson extrapolated, seeded instances of sizes 2–5, rel err < 1e-6)."""
from __future__ import annotations

import ast
import importlib.util
import shlex
from pathlib import Path

import numpy as np
import pytest

import matcalc
from matcalc import numeric as N

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-6

# (command, expression, wrt, options): the corpus of this file, plus every line of examples/*.batch
CORPUS = [
    ("grad", "tr((M@M.T - I)@(M@M.T - I).T)", "M", {}),
    ("grad", "x.T@A@x", "x", {}),
    ("grad", "x.T@A@x where A: symmetric n×n", "x", {}),
    ("grad", "logdet(X)", "X", {}),
    ("grad", "tr(inv(X)@A)", "X", {}),
    ("grad", "tr(A@inv(X)@B@inv(X))", "X", {}),
    ("grad", "y.T@inv(X)@z", "X", {}),
    ("grad", "(x - mu).T@inv(S)@(x - mu)", "mu", {}),
    ("grad", "logdet(S) + (x - mu).T@inv(S)@(x - mu)", "S", {}),
    ("grad", "norm(A@X - B)**2 + lam*tr(X.T@X)", "X", {}),
    ("grad", "sum(log(1 + exp(X@w))) - y.T@X@w", "w", {}),
    ("grad", "det(X)", "X", {}),
    ("grad", "sum(exp(X)/2)", "X", {}),
    ("grad", "x.T@A@x/(x.T@x)", "x", {}),
    ("grad", "norm(x)", "x", {}),
    ("grad", "tr(matpow(X, 3))", "X", {}),
    ("grad", "sum(sigmoid(X@w))", "w", {}),
    ("grad", "norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2", "R", {}),
    ("grad", "norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2", "Q", {}),
    ("grad", "tr(X.T@A@X) where X: 3×2", "X", {}),
    ("dir", "M@M.T", "M", {"along": "A"}),
    ("dir", "A@X@X.T@A.T", "X", {"along": "Y"}),
    ("dir", "inv(X)", "X", {}),
    ("elem", "A@X@X.T@A.T", "X", {}),
    ("elem", "M@M.T", "M", {}),
    ("jac", "A@X@B", "X", {}),
    ("jac", "exp(X)", "X", {}),
]


def batch_corpus() -> list:
    """(command, expression, wrt, options) for every derivative line of examples/*.batch."""
    out = []
    for path in sorted((ROOT / "examples").glob("*.batch")):
        for line in path.read_text(encoding="utf-8").splitlines():
            args = shlex.split(line, comments=True)
            if len(args) < 2 or args[0] not in ("grad", "dir", "elem", "jac"):
                continue
            opts, wrt, expr, k, rest = {}, None, None, 1, False
            while k < len(args):
                a = args[k]
                if not rest and a in ("--wrt", "-w", "--along", "-d", "--declare") and k + 1 < len(args):
                    key = {"--wrt": "wrt", "-w": "wrt", "--along": "along"}.get(a, "declare")
                    if key == "wrt":
                        wrt = args[k + 1]
                    else:
                        opts[key] = args[k + 1]
                    k += 2
                    continue
                if a == "--" and not rest:
                    rest = True
                elif rest or not a.startswith("-"):
                    expr = expr if expr is not None else a
                k += 1
            if expr is not None:
                out.append((args[0], expr, wrt, opts))
    return out


ALL = CORPUS + batch_corpus()


def results_of(command, expr, wrt, opts):
    try:
        return matcalc.derive(command, expr, [wrt] if wrt else None, **opts)
    except matcalc.MatcalcError as exc:
        if exc.kind in ("parse", "not-scalar", "shape"):  # the batch files' lines that are errors on purpose
            pytest.skip(f"a line that is an error on purpose: {exc.message}")
        raise


def central(f, values, name, V, h=N.H):
    def phi(t):
        moved = dict(values)
        moved[name] = values[name] + t * V
        return np.asarray(f(**moved), dtype=float)
    d1 = (phi(h) - phi(-h)) / (2 * h)
    d2 = (phi(h / 2) - phi(-h / 2)) / h
    return (4 * d2 - d1) / 3


def check_against_differences(r, seed=0):
    """Execute r.numpy(value=True) and compare its derivative with central
    differences of its own value output; returns the worst relative error."""
    rng = np.random.default_rng(seed)
    prob = r.problem
    syms = sorted(prob.symbols.values(), key=lambda s: s.name)
    try:
        inst = N.Instance(prob.expr, syms, rng)
    except ValueError as exc:   # numeric.py's instance search, not the printer
        pytest.skip(f"numeric.Instance found no point in the domain of {r.input}: {exc}")
    X = prob.symbols[r.wrt]
    ns: dict = {}
    exec(compile(r.numpy(value=True), "<generated>", "exec"), ns)
    fn = ns[r.function_name(value=True)]
    names = [a.name for a in r.arguments]

    filler = {"i": 0, "j": 0} if r.command == "elem" else {}
    if r.direction is not None:
        filler[r.direction.name] = np.zeros(inst.values[X.name].shape)

    def value_only(**kw):
        return fn(**{**filler, **kw})[0]

    worst = 0.0
    for _ in range(2):
        V = N.direction(X, inst.sizes, rng, inst.values[X.name])
        vals = dict(inst.values)
        num = central(value_only, vals, X.name, V)
        if r.command == "grad":
            _, G = fn(**{n: vals[n] for n in names})
            G = np.broadcast_to(np.asarray(G, dtype=float), V.shape)
            sym = float(np.sum(G * V))
            worst = max(worst, N.relative_error(num, sym))
        elif r.command == "dir":
            vals[r.direction.name] = V
            _, D = fn(**{n: vals[n] for n in names})
            worst = max(worst, N.relative_error(num, D))
        elif r.command == "jac":
            _, J = fn(**{n: vals[n] for n in names})
            worst = max(worst, N.relative_error(np.reshape(num, (-1, 1), order="F"),
                                                J @ np.reshape(V, (-1, 1), order="F")))
        elif r.command == "elem":
            rows, cols = V.shape
            for i in range(rows):
                for j in range(cols):
                    E = np.zeros(V.shape)
                    E[i, j] = 1.0
                    num_ij = central(value_only, vals, X.name, E)
                    _, D = fn(**{n: vals[n] for n in names}, i=i, j=j)
                    worst = max(worst, N.relative_error(num_ij, D))
            break
    return worst


@pytest.mark.parametrize("command,expr,wrt,opts", ALL, ids=[f"{c}:{e}:{w}" for c, e, w, _ in ALL])
def test_numpy_function_matches_central_differences(command, expr, wrt, opts):
    for r in results_of(command, expr, wrt, opts):
        err = check_against_differences(r)
        assert err < RTOL, f"{command} {expr} wrt {r.wrt}: rel err {err:.2e}\n{r.numpy(value=True)}"


@pytest.mark.parametrize("command,expr,wrt,opts", CORPUS, ids=[f"{c}:{e}:{w}" for c, e, w, _ in CORPUS])
def test_numpy_source_uses_only_numpy(command, expr, wrt, opts):
    for r in results_of(command, expr, wrt, opts):
        for value in (False, True):
            tree = ast.parse(r.numpy(value=value))
            imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
            assert [(a.name, a.asname) for n in imports for a in n.names] == [("numpy", "np")]
            defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
            assert len(defs) == 1 and ast.get_docstring(defs[0])


def test_numpy_function_is_importable_as_a_module(tmp_path):
    r = matcalc.grad("tr((M@M.T - I)@(M@M.T - I).T)", wrt="M")
    path = tmp_path / "semi_orthogonal_grad.py"
    path.write_text(r.numpy(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("semi_orthogonal_grad", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    M = np.arange(6.0).reshape(2, 3) / 7
    np.testing.assert_allclose(module.grad_M(M), 4 * (M @ M.T - np.eye(2)) @ M)


def test_numpy_docstring_names_expression_kind_and_shapes():
    r = matcalc.grad("x.T@A@x", wrt="x")
    doc = ast.get_docstring(ast.parse(r.numpy()).body[1])
    assert "Gradient of x.T@A@x with respect to x" in doc
    assert "grad_x(A, x) = (A + A.T)@x" in doc
    assert "x: n×1" in doc and "A: n×n" in doc
    assert "array of shape n×1" in doc


def test_numpy_arguments_follow_spec_order():
    """Symbols sorted by name, then the direction (dir), or i, j (elem)."""
    def params(r, value=False):
        fn = ast.parse(r.numpy(value)).body[1]
        return [a.arg for a in fn.args.args]
    assert params(matcalc.grad("tr(X@B@A)", wrt="X")) == ["A", "B", "X"]
    assert params(matcalc.dir("A@X@X.T@A.T", wrt="X", along="Y")) == ["A", "X", "Y"]
    assert params(matcalc.dir("M@M.T", wrt="M")) == ["M", "dM"]
    assert params(matcalc.elem("A@X@X.T@A.T", wrt="X")) == ["A", "X", "i", "j"]


def test_numpy_named_subexpressions_are_temporaries():
    r = matcalc.grad("norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2", wrt="R")
    assert [n for n, _ in r.definitions] == ["C"]
    src = r.numpy()
    assert "    C = " in src and "C[0:m, 0:n]" in src and "C[m:2*m, n:2*n]" in src
    # the block matrix is built once even though the value and the gradient both use it
    assert src.count("np.block(") == 1
    assert r.numpy(value=True).count("np.block(") == 1


def test_numpy_repeated_subexpressions_are_computed_once():
    r = matcalc.grad("tr((M@M.T - I)@(M@M.T - I).T)", wrt="M")
    src = r.numpy(value=True)
    assert src.count("M @ M.T") == 1


@pytest.mark.parametrize("expr,wrt,solves", [
    ("tr(inv(X)@A)", "X", 2),            # -inv(X).T@A.T@inv(X).T
    ("y.T@inv(X)@z", "X", 2),
    ("(x - mu).T@inv(S)@(x - mu)", "x", 1),
])
def test_numpy_solves_instead_of_inverting(expr, wrt, solves):
    src = matcalc.grad(expr, wrt=wrt).numpy()
    body = src.split('"""')[-1]
    assert body.count("np.linalg.solve(") >= solves
    assert "np.linalg.inv(" not in body


def test_numpy_keeps_inverse_when_it_is_the_value():
    body = matcalc.grad("logdet(X)", wrt="X").numpy().split('"""')[-1]
    assert "np.linalg.inv(X).T" in body


def test_numpy_value_returns_value_and_gradient():
    r = matcalc.grad("norm(A@x - y)**2", wrt="x")
    rng = np.random.default_rng(3)
    A, x, y = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(4)
    f, g = r.evaluate(value=True, A=A, x=x, y=y)
    assert isinstance(f, float)
    np.testing.assert_allclose(f, np.sum((A @ x - y) ** 2))
    np.testing.assert_allclose(g.ravel(), 2 * A.T @ (A @ x - y))
    assert g.shape == (3, 1)


def test_numpy_scalar_result_is_float_and_vectors_accept_1d():
    r = matcalc.grad("x.T@A@x", wrt="A")
    out = r.evaluate(A=np.eye(2), x=np.array([1.0, 2.0]))
    np.testing.assert_allclose(out, [[1, 2], [2, 4]])
    s = matcalc.grad("a*x.T@x", wrt="a").evaluate(a=2.0, x=[1.0, 2.0])
    assert isinstance(s, float) and s == 5.0


def test_numpy_python_keywords_are_renamed():
    r = matcalc.grad("lambda*tr(X)", wrt="X") if _parses("lambda*tr(X)") else None
    if r is None:
        pytest.skip("the grammar does not accept 'lambda' as a name")
    assert "lambda_" in r.numpy()
    np.testing.assert_allclose(r.evaluate(X=np.eye(2), **{"lambda": 3.0}), 3 * np.eye(2))


def _parses(expr):
    try:
        matcalc.parse(expr)
        return True
    except matcalc.MatcalcError:
        return False


def test_function_source_interface_is_kept():
    """numeric.py and the tests call function_source(e, args, name=, doc=, extra=, raw=)."""
    from matcalc.printers.numpy import compile_function, function_source
    prob = matcalc.api.problem("tr(A@X)")
    args = sorted(prob.symbols.values(), key=lambda s: s.name)
    src = function_source(prob.expr, args, name="g", doc="tr(A@X)", extra=(), raw=True)
    out = compile_function(src, "g")(A=np.eye(2), X=np.ones((2, 2)))
    assert np.asarray(out).size == 1 and float(np.reshape(out, ())) == 2.0
    assert compile_function(function_source(prob.expr, args), "f")(A=np.eye(2), X=np.ones((2, 2))) == 2.0


def test_evaluate_reports_missing_arguments():
    r = matcalc.grad("x.T@A@x", wrt="x")
    with pytest.raises(TypeError, match="missing x"):
        r.evaluate(A=np.eye(2))
