"""Make a matrix semi-orthogonal (M Mᵀ = I) by gradient descent with exact line search.

matcalc gives the gradient of the penalty f(M) = tr((M Mᵀ − I)(M Mᵀ − I)ᵀ) = ‖M Mᵀ − I‖²_F
through its Python API — `4*(M@M.T - I)@M` — as a NumPy function that returns the
value and the gradient together (`Result.evaluate(value=True, ...)`, the function
`matcalc grad ... -f numpy --value` prints).

Exact line search: along the step M − tG the residual is
    (M − tG)(M − tG)ᵀ − I = Q + t·A₁ + t²·A₂,  Q = M Mᵀ − I, A₁ = −(G Mᵀ + M Gᵀ), A₂ = G Gᵀ,
so φ(t) = f(M − tG) is a quartic in t whose coefficients are inner products of Q, A₁,
A₂; the step is the real root of φ′ with the smallest φ.

Run:  python examples/semi_orthogonal.py [n m]      (n ≤ m; prints the progress)
"""
from __future__ import annotations

import sys

import numpy as np

import matcalc

PENALTY = "tr((M@M.T - I)@(M@M.T - I).T)"


def exact_step(M: np.ndarray, G: np.ndarray) -> float:
    """argmin over t ≥ 0 of f(M − tG), from the quartic φ(t)."""
    n = M.shape[0]
    A0 = M @ M.T - np.eye(n)
    A1 = -(G @ M.T + M @ G.T)
    A2 = G @ G.T
    ip = lambda X, Y: float(np.sum(X * Y))  # noqa: E731  (Frobenius inner product)
    phi = [ip(A2, A2), 2 * ip(A1, A2), ip(A1, A1) + 2 * ip(A0, A2), 2 * ip(A0, A1), ip(A0, A0)]  # t⁴ … t⁰
    dphi = np.polyder(np.poly1d(phi))
    roots = [r.real for r in dphi.roots if abs(r.imag) < 1e-12 * max(1.0, abs(r)) and r.real > 0]
    return min(roots, key=lambda t: np.polyval(phi, t)) if roots else 0.0


def main(n: int = 3, m: int = 5, seed: int = 0, tol: float = 1e-18, max_iter: int = 1000,
         verbose: bool = True) -> tuple[np.ndarray, list[float]]:
    """Returns the final M and the penalty at every iteration."""
    g = matcalc.grad(PENALTY, wrt="M")
    if verbose:
        print(f"gradient of {PENALTY}: {g}")
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, m)) / np.sqrt(m)
    history = []
    for k in range(max_iter):
        f, G = g.evaluate(value=True, M=M)
        history.append(f)
        if verbose and (k < 5 or k % 10 == 0):
            print(f"iteration {k:3d}: ‖M Mᵀ − I‖²_F = {f:.3e}")
        if f < tol:
            break
        M = M - exact_step(M, G) * G
    residual = float(np.linalg.norm(M @ M.T - np.eye(n)))
    if verbose:
        print(f"{'converged' if history[-1] < tol else 'stopped'} after {len(history) - 1} iterations: "
              f"‖M Mᵀ − I‖_F = {residual:.2e}")
    return M, history


if __name__ == "__main__":
    rows, cols = (int(a) for a in sys.argv[1:3]) if len(sys.argv) >= 3 else (3, 5)
    M, history = main(rows, cols)
    sys.exit(0 if history[-1] < 1e-18 else 1)
