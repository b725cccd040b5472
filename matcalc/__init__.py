"""matcalc: matrix calculus from the command line and from Python.

Every command of the CLI is a function here; each returns a `Result` (a list of
them when `wrt` is a list or omitted, one per variable):

    >>> import matcalc
    >>> g = matcalc.grad("tr(A @ X)", wrt="X")
    >>> str(g)                      # the text form: it parses back
    'A.T'
    >>> g.latex()
    'A^{\\\\top}'
    >>> g.shapes                    # inferred: the most general shapes
    {'A': ('n', 'm'), 'X': ('m', 'n')}
    >>> str(matcalc.dir("M@M.T", wrt="M", along="A"))
    'A@M.T + M@A.T'
    >>> str(matcalc.jac("A@X@B", wrt="X"))
    'kron(B.T, A)'
    >>> str(matcalc.hess("x.T@A@x", wrt="x"))
    'A + A.T'
    >>> [str(r) for r in matcalc.grad("x.T@A@x")]       # every variable, sorted by name
    ['x@x.T', '(A + A.T)@x']
    >>> print(g.numpy())            # a self-contained NumPy function
    import numpy as np
    <BLANKLINE>
    <BLANKLINE>
    def grad_X(A, X):
        \"\"\"Gradient of tr(A @ X) with respect to X.
    <BLANKLINE>
        grad_X(A, X) = A.T
    <BLANKLINE>
        Shapes: A: n×m, X: m×n.
        Returns the gradient: an array of shape m×n.
        \"\"\"
        A = np.asarray(A, dtype=float)
        X = np.asarray(X, dtype=float)
        return A.T
    <BLANKLINE>

Options of every derivative function: `declare` (a where-clause, as `-d`),
`check=True` (verify numerically, `r.check` holds the outcome; a mismatch raises
`CheckError`), `steps=True` (`r.steps`), `seed`, `sizes`; `dir` and `hess` take
`along`, `elem` takes `index`, `hess` takes `full`.  Errors are `MatcalcError`s
with `.kind`, `.message`, `.line`, `.column`.

Importing matcalc loads neither NumPy, SymPy nor rich: they are imported when a
result is evaluated, checked or shown.
"""
from __future__ import annotations

from typing import Any

from . import ops as _ops  # noqa: F401  (fills the operator registry)
from .api import derive, dir, elem, grad, hess, jac, parse
from .errors import MatcalcError
from .result import Result

__version__ = "0.1.0"
__all__ = ["grad", "dir", "elem", "jac", "hess", "check", "parse", "derive", "Result", "MatcalcError",
           "__version__"]


def check(expr: str, wrt: Any = None, **kw: Any) -> Any:
    """`matcalc check EXPR`: every derivative kind that applies, each verified
    numerically on several random instances.  Returns {"seed", "sizes", "rows"};
    a row has kind, wrt, method, result, error, tolerance and status (PASS, FAIL,
    SKIP).  Keywords: declare, sizes ({'n': 3}), seed, exact.

    >>> import matcalc
    >>> report = matcalc.check("tr(A @ X)", wrt=["X"], seed=1)
    >>> sorted({row["status"] for row in report["rows"]})
    ['PASS']
    """
    from . import api
    impl = getattr(api, "check", None)
    if impl is not None:
        return impl(expr, wrt, **kw)
    from .checkcmd import run_checks
    if isinstance(wrt, str):
        wrt = [wrt]
    return run_checks(expr, wrt, **kw)
