"""matcalc: matrix calculus from the command line and from Python.

    >>> import matcalc
    >>> g = matcalc.grad("tr(A @ X)", wrt="X")
    >>> str(g), g.latex()
    ('A.T', 'A^{\\\\top}')
"""
from . import ops as _ops  # noqa: F401  (fills the operator registry)
from .api import derive, dir, elem, grad, hess, jac, parse
from .errors import MatcalcError
from .result import Result

__version__ = "0.1.0"
__all__ = ["grad", "dir", "elem", "jac", "hess", "parse", "derive", "Result", "MatcalcError", "__version__"]
