"""The example scripts run and converge: examples/semi_orthogonal.py (gradient
descent with exact line search until M Mᵀ = I) and examples/hr_hi.py (alternating
R/Q updates of SPEC example 8).  The gradients they use are verified numerically."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import matcalc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(name):
    return subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True,
                          timeout=300, cwd=EXAMPLES.parent)


def test_examples_semi_orthogonal_gradient_is_right():
    (r,) = matcalc.derive("grad", load("semi_orthogonal").PENALTY, ["M"], check=True, seed=5)
    assert str(r) == "4*(M@M.T - I)@M"
    assert r.check.passed and r.check.error < 1e-6


@pytest.mark.parametrize("n,m,seed", [(3, 5, 0), (2, 2, 1), (4, 7, 2)])
def test_examples_semi_orthogonal_converges(n, m, seed):
    M, history = load("semi_orthogonal").main(n, m, seed=seed, verbose=False)
    np.testing.assert_allclose(M @ M.T, np.eye(n), atol=1e-8)
    assert history[-1] < 1e-18
    assert all(b <= a * (1 + 1e-12) for a, b in zip(history, history[1:])), "exact line search never goes up"


def test_examples_semi_orthogonal_script_runs():
    out = run_script("semi_orthogonal")
    assert out.returncode == 0, out.stderr
    assert "4*(M@M.T - I)@M" in out.stdout and "converged" in out.stdout


def test_examples_hr_hi_gradients_are_right():
    objective = load("hr_hi").OBJECTIVE
    for r in matcalc.derive("grad", objective, ["R", "Q"], check=True, seed=7):
        assert r.check.passed and r.check.error < 1e-6
        assert [n for n, _ in r.definitions] == ["C"]


def test_examples_hr_hi_converges():
    module = load("hr_hi")
    data, history = module.main(seed=3, verbose=False)
    f0, f = history[0][0], history[-1][0]
    assert f < 1e-12 * f0
    assert all(b[0] <= a[0] * (1 + 1e-9) + 1e-12 for a, b in zip(history, history[1:])), "alternating minimisation"
    gR = matcalc.grad(module.OBJECTIVE, wrt="R").evaluate(**data)
    gQ = matcalc.grad(module.OBJECTIVE, wrt="Q").evaluate(**data)
    assert max(np.linalg.norm(gR), np.linalg.norm(gQ)) < 1e-6 * max(history[0][1], history[0][2])


def test_examples_hr_hi_script_runs():
    out = run_script("hr_hi")
    assert out.returncode == 0, out.stderr
    assert "converged" in out.stdout
