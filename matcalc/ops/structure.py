"""Structured operators: Kronecker product, vec, diag, block matrices, slices.

Block matrices are `block(args; rows, cols)` with the blocks row-major; a slice is
`slice(C; r0, r1, c0, c1)` with Dim bounds (`C[:n, :n]`, and `C[i, j]` is the 1×1
slice `C[i:i+1, j:j+1]`).  Open bounds are None until shape inference fills them.
"""
from __future__ import annotations

from ..expr import Apply, make
from ..shapes import Dim, ShapeMismatch
from . import PREC_POSTFIX, Op, function, register, sig


def _block_shape(U, shapes, attrs):
    nr, nc = attrs
    grid = [shapes[r * nc:(r + 1) * nc] for r in range(nr)]
    eq = (lambda a, b: a == b) if U is None else U.unify
    for r in range(nr):
        for c in range(1, nc):
            if not eq(grid[r][0][0], grid[r][c][0]):
                raise ShapeMismatch("blocks in one block row must have the same number of rows",
                                    (r * nc, r * nc + c))
    for c in range(nc):
        for r in range(1, nr):
            if not eq(grid[0][c][1], grid[r][c][1]):
                raise ShapeMismatch("blocks in one block column must have the same number of columns",
                                    (c, r * nc + c))
    rows = sum((grid[r][0][0] for r in range(nr)), Dim())
    cols = sum((grid[0][c][1] for c in range(nc)), Dim())
    return (rows, cols)


def _slice_shape(U, shapes, attrs):
    (rows, cols), (r0, r1, c0, c1) = shapes[0], attrs
    r0, c0 = r0 if r0 is not None else Dim.of(0), c0 if c0 is not None else Dim.of(0)
    r1, c1 = r1 if r1 is not None else rows, c1 if c1 is not None else cols
    return (r1 - r0, c1 - c0)


def _diag_shape(U, shapes, attrs):
    (r, c), = shapes
    if attrs and attrs[0] == "to_matrix":
        return (r, r)
    if U is None:
        if r != c:
            raise ShapeMismatch("diag of a matrix needs a square matrix", (0,))
    elif not U.unify(r, c):
        raise ShapeMismatch("diag of a matrix needs a square matrix", (0,))
    return (r, Dim.of(1))


function("kron", "(m,n),(p,q)->(m*p,n*q)", call=("kron",), nargs=2, text="kron({0}, {1})",
         latex=r"{0} \otimes {1}", pretty="{0} ⊗ {1}", numpy="np.kron({0}, {1})", linear_in=(0, 1))
function("vec", "(m,n)->(m*n,1)", call=("vec",), latex=r"\operatorname{{vec}}\left({0}\right)",
         numpy="{0}.reshape(-1, 1, order='F')", linear_in=(0,))
function("diag", _diag_shape, call=("diag",), latex=r"\operatorname{{diag}}\left({0}\right)",
         numpy="np.diag({0}.ravel()) if {0}.shape[1] == 1 else np.diag({0}).reshape(-1, 1)", linear_in=(0,))
register(Op("block", _block_shape, nargs=None, linear_in=(0,)))
register(Op("slice", _slice_shape, prec=PREC_POSTFIX, linear_in=(0,)))
register(Op("K", lambda U, shapes, attrs: (attrs[0] * attrs[1], attrs[0] * attrs[1]), nargs=0, call=("K",)))
