"""`matcalc check` and the exact oracle.

  * the command: table, JSON lines, exit 1 on a failure, --sizes, --seed, --exact,
    errors (parse 2, bad --sizes 2), skip rows for kinds that do not apply;
  * the oracle: exact on known-right results, and it catches wrong ones (a result
    with one sign flipped, a transposed gradient) that it must reject;
  * the examples corpus: every line of examples/*.batch is verified numerically and
    exactly (test_examples_corpus_exact).
"""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import derive_checked

import matcalc
from matcalc import numeric as N
from matcalc.cli import main
from matcalc.expr import make, Num
from matcalc.oracle import exact_check, precise_check

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def invoke(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


# ---- the command -------------------------------------------------------------------
def test_check_cmd_passes_and_prints_every_kind():
    res = invoke("check", "x.T@A@x", "--seed", "1")
    assert res.exit_code == 0, res.output
    kinds = {line.split()[0] for line in res.output.splitlines()[1:] if line and not line.startswith("#")}
    assert {"grad", "dir", "elem"} <= kinds
    assert "FAIL" not in res.output and "PASS" in res.output
    assert "seed 1" in res.output


def test_check_cmd_json_lines():
    res = invoke("check", "logdet(X)", "--seed", "2", "--sizes", "n=4", "-f", "json")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert rows and all(r["command"] == "check" and r["seed"] == 2 and r["sizes"] == {"n": 4} for r in rows)
    checked = [r for r in rows if r["status"] == "PASS"]
    assert {r["kind"] for r in checked} >= {"grad", "dir", "elem"}
    assert all(r["error"] < r["tolerance"] == 1e-6 for r in checked)
    grad = next(r for r in rows if r["kind"] == "grad")
    assert grad["result"] == "inv(X).T"


def test_check_cmd_non_scalar_skips_grad():
    res = invoke("check", "A@X", "--seed", "3", "-f", "json")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    grad = [r for r in rows if r["kind"] == "grad"]
    assert grad and all(r["status"] == "SKIP" for r in grad)
    assert any(r["kind"] == "dir" and r["status"] == "PASS" for r in rows)


def test_check_cmd_seed_reproducible():
    a = invoke("check", "sum(exp(A)*B)", "--seed", "7", "-f", "json").output
    b = invoke("check", "sum(exp(A)*B)", "--seed", "7", "-f", "json").output
    assert a == b


def test_check_cmd_exact():
    res = invoke("check", "norm(A@x - b)**2", "--wrt", "x", "--exact", "--seed", "1", "-f", "json")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    exact = [r for r in rows if r["method"] == "exact" and r["status"] != "SKIP"]
    assert {r["kind"] for r in exact} >= {"grad", "dir", "elem"}
    assert all(r["error"] == 0.0 and r["status"] == "PASS" for r in exact)


def test_check_cmd_errors():
    res = invoke("check", "tr(A@", "-f", "json")
    assert res.exit_code == 2
    err = json.loads(res.output)
    assert err["ok"] is False and err["error"]["kind"] == "parse"
    assert invoke("check", "A@X", "--sizes", "n=abc").exit_code == 2
    assert invoke("check", "A@X", "--sizes", "zz=3").exit_code == 2
    assert invoke("check", "A@X", "--sizes", "n=0").exit_code == 2
    res = invoke("check", "x.T@A@x", "--wrt", "y")
    assert res.exit_code == 2


def test_check_cmd_stdin():
    res = invoke("check", "-", "--seed", "1", input="tr(A@X)\n")
    assert res.exit_code == 0 and "A.T" in res.output


def test_check_cmd_reports_a_failure(monkeypatch):
    """A wrong derivative (here: every gradient doubled) is a FAIL row and exit 1."""
    from matcalc import api
    real = api.derive

    def wrong(command, *a, **kw):
        results = real(command, *a, **kw)
        if command == "grad":
            for r in results:
                r.expr = make("mul", Num(2), r.expr)
        return results
    monkeypatch.setattr(api, "derive", wrong)
    res = invoke("check", "tr(A@X)", "--wrt", "X", "--seed", "1", "-f", "json")
    assert res.exit_code == 1
    rows = [json.loads(line) for line in res.output.splitlines()]
    grad = next(r for r in rows if r["kind"] == "grad")
    assert grad["status"] == "FAIL" and grad["passed"] is False and grad["error"] > 1e-6
    res = invoke("check", "tr(A@X)", "--wrt", "X", "--seed", "1", "-f", "text")
    assert res.exit_code == 1 and "FAIL" in res.output and "FAILED" in res.output


def test_check_cmd_is_registered():
    assert "check" in main.commands
    assert "check" in invoke("--help").output


def test_check_cmd_in_batch():
    res = invoke("batch", "-", "-f", "json", input="check 'tr(A@X)' --wrt X --seed 1\n")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert all(r.get("line") == 1 for r in rows)


def test_check_sizes_reach_the_instances():
    (r,) = matcalc.derive("grad", "logdet(X) + tr(A@X)", ["X"])
    inst = N.Instance(r.problem.expr, list(r.problem.symbols.values()), N.rng_for(0), {"n": 5})
    assert {v.shape for v in inst.values.values()} == {(5, 5)}


# ---- the oracle ---------------------------------------------------------------------
ORACLE_CASES = [
    ("grad", "tr(A@X@B)", "X"),
    ("grad", "logdet(X)", "X"),
    ("grad", "det(X)", "X"),
    ("grad", "x.T@A@x where A: symmetric n×n", "x"),
    ("grad", "tr(X@A) where X: symmetric n×n", "X"),
    ("grad", "tr(X@A) where X: diagonal n×n", "X"),
    ("grad", "sum(sigmoid(X@w))", "w"),
    ("grad", "norm(X)", "X"),
    ("dir", "inv(X)", "X"),
    ("dir", "matpow(X, 3)", "X"),
    ("elem", "A@X@X.T@A.T", "X"),
    ("elem", "tanh(X)*sqrt(Y)", "X"),
]


@pytest.mark.parametrize("command,expr,wrt", ORACLE_CASES, ids=[f"{c}:{e}" for c, e, _ in ORACLE_CASES])
def test_oracle_exact_on_right_results(command, expr, wrt):
    (r,) = derive_checked(command, expr, [wrt], seed=0)
    out = exact_check(r)
    assert out.error == 0.0 and out.passed, out.detail


@pytest.mark.parametrize("command,expr,wrt", [("grad", "tr(A@X@B)", "X"), ("grad", "logdet(X)", "X"),
                                              ("dir", "inv(X)", "X"), ("elem", "X@X", "X")])
def test_oracle_rejects_wrong_results(command, expr, wrt):
    """Perturb a right result (transpose it, flip a sign) and the oracle must say no."""
    (r,) = matcalc.derive(command, expr, [wrt])
    right = r.expr
    for wrong in (make("T", right), make("mul", Num(-1), right), make("mul", Num(2), right)):
        if wrong is right:
            continue
        r.expr = wrong
        out = exact_check(r)
        assert out.error > 0 and not out.passed, f"{wrong!r} accepted"


PRECISE_CASES = ORACLE_CASES + [("hess", "x.T@A@x + sum(exp(A@x))", "x"), ("jac", "A@X@X.T@A.T", "X"),
                                 ("grad", "sum(exp(exp(diag(det(P)*(sin(exp(D@D.T@x)) + x)))@D)) "
                                          "where D: n×m, P: spd n×n, x: n", "D"),
                                 ("grad", "sin(exp(sum(A)**2))", "A")]   # oscillates on a 1e-28 scale


@pytest.mark.parametrize("command,expr,wrt", PRECISE_CASES, ids=[f"{c}:{e}" for c, e, _ in PRECISE_CASES])
def test_precise_oracle(command, expr, wrt):
    """The 60-digit oracle (the arbiter of tests/test_hypothesis.py) confirms right
    results — the last one is about exp(1e11), far beyond float64 — and rejects
    each perturbed one by O(1)."""
    (r,) = matcalc.derive(command, expr, [wrt])
    out = precise_check(r, seed=1)
    assert out.passed, out.detail
    right = r.expr
    for wrong in (make("T", right), make("mul", Num(-1), right), make("mul", Num(2), right)):
        if wrong is not right:
            r.expr = wrong
            out = precise_check(r, seed=1)
            assert out.error > 1e-3 and not out.passed, f"{wrong!r} accepted"


def _batch_lines():
    for path in sorted(EXAMPLES.glob("*.batch")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            args = shlex.split(line, comments=True)
            if args and args[0] in ("grad", "dir", "elem", "jac", "hess"):
                yield pytest.param(args, id=f"{path.stem}:{number}")


def _derive_args(args):
    """The derive() call of a batch line, its options read by the command's own click parser."""
    cmd = main.commands[args[0]]
    params = cmd.make_context(args[0], list(args[1:])).params
    kw = {k: params[k] for k in ("declare", "along") if params.get(k)}
    return args[0], params["expr"], list(params["wrt"]) or None, kw


@pytest.mark.parametrize("args", list(_batch_lines()))
def test_examples_corpus_exact(args):
    """Every derivative line of examples/*.batch: numerically (rel err < 1e-6) and
    exactly (SymPy at sizes 2 and 3, exact rational arithmetic at random points;
    the symbolic mode is tested on ORACLE_CASES above)."""
    command, expr, wrt, kw = _derive_args(args)
    try:
        results = derive_checked(command, expr, wrt, seed=0, **kw)
    except matcalc.MatcalcError as exc:
        if exc.kind == "unsupported":
            pytest.skip(exc.message)
        if exc.kind in ("parse", "not-scalar", "shape") and args[0] in ("grad", "hess"):
            pytest.skip(f"a line that is an error on purpose: {exc.message}")
        raise
    for r in results:
        out = exact_check(r, points=2)   # exact rational arithmetic at two random points
        assert out.error == 0.0, f"{args}: {r} — {out.detail}"
