"""The H_R/H_I problem (SPEC §4, example 8) by alternating R and Q updates.

    minimise  f(R, Q) = ‖Z − I ⊙ (Rᵀ A + Qᵀ B)‖²_F + ‖W − [[R, −Q], [Q, R]] P Sᵀ‖²_F

over R and Q (m×n).  matcalc gives both partial gradients through its Python API,

    ∇_R f = −2 (A (I ⊙ (Z − I ⊙ (Qᵀ B + Rᵀ A))) + C[:m, :n] + C[m:, n:])
    ∇_Q f = 2 C[:m, n:] − 2 B (I ⊙ (Z − I ⊙ (Qᵀ B + Rᵀ A))) − 2 C[m:, :n]
            where C = (W − [[R, −Q], [Q, R]] P Sᵀ) S Pᵀ,

as NumPy functions returning (f, gradient).  f is a convex quadratic in each block,
so each half-step minimises it exactly over one block by conjugate gradients: for a
quadratic, the Hessian applied to a direction D is ∇f(X + D) − ∇f(X), and the exact
line-search step is ⟨g, g⟩ / ⟨D, H D⟩.  The sweeps stop when both gradients vanish.

Run:  python examples/hr_hi.py
"""
from __future__ import annotations

import sys

import numpy as np

import matcalc

OBJECTIVE = "norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2"


def problem(m: int = 3, n: int = 4, p: int = 5, q: int = 6, seed: int = 0) -> dict:
    """Data with a known exact solution (R*, Q*) of f = 0, and a start far from it."""
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((m, n)), rng.standard_normal((m, n))
    P, S = rng.standard_normal((2 * n, q)), rng.standard_normal((p, q))
    R_star, Q_star = rng.standard_normal((m, n)), rng.standard_normal((m, n))
    Z = np.eye(n) * (R_star.T @ A + Q_star.T @ B)
    W = np.block([[R_star, -Q_star], [Q_star, R_star]]) @ P @ S.T
    return dict(A=A, B=B, P=P, S=S, Z=Z, W=W, R=np.zeros((m, n)), Q=np.zeros((m, n)))


def minimise_block(grad: matcalc.Result, data: dict, name: str, tol: float) -> None:
    """Minimise f over data[name] exactly (conjugate gradients, exact line search)."""
    X = data[name]
    g = grad.evaluate(**data)
    D = -g
    for _ in range(X.size):
        if np.linalg.norm(g) <= tol:
            break
        HD = grad.evaluate(**{**data, name: X + D}) - g     # exact: f is quadratic in X
        step = np.sum(g * g) / np.sum(D * HD)
        X = X + step * D
        g_new = g + step * HD
        D = -g_new + (np.sum(g_new * g_new) / np.sum(g * g)) * D
        g = g_new
    data[name] = X


def main(seed: int = 0, tol: float = 1e-9, max_sweeps: int = 500, verbose: bool = True) -> tuple[dict, list]:
    """Returns the data with the final R, Q and the history of (f, ‖∇_R f‖, ‖∇_Q f‖)."""
    gR = matcalc.grad(OBJECTIVE, wrt="R")
    gQ = matcalc.grad(OBJECTIVE, wrt="Q")
    if verbose:
        print(f"∇_R f = {gR}\n∇_Q f = {gQ}")
    data = problem(seed=seed)
    history = []
    for sweep in range(max_sweeps):
        f, GR = gR.evaluate(value=True, **data)
        GQ = gQ.evaluate(**data)
        history.append((f, float(np.linalg.norm(GR)), float(np.linalg.norm(GQ))))
        if verbose and (sweep < 5 or sweep % 20 == 0):
            print(f"sweep {sweep:3d}: f = {f:.3e}   ‖∇_R f‖ = {history[-1][1]:.1e}   ‖∇_Q f‖ = {history[-1][2]:.1e}")
        if max(history[-1][1:]) <= tol * max(1.0, history[0][1], history[0][2]):
            break
        minimise_block(gR, data, "R", tol)
        minimise_block(gQ, data, "Q", tol)
    if verbose:
        done = max(history[-1][1:]) <= tol * max(1.0, history[0][1], history[0][2])
        print(f"{'converged' if done else 'stopped'} after {len(history) - 1} sweeps: f = {history[-1][0]:.3e}")
    return data, history


if __name__ == "__main__":
    data, history = main()
    sys.exit(0 if history[-1][0] < 1e-12 * max(1.0, history[0][0]) else 1)
