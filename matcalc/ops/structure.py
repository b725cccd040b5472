"""Structured operators: Kronecker product, vec, diag, block matrices, slices, the
commutation matrix K(m, n).

Block matrices are `block(args; rows, cols)` with the blocks row-major; a slice is
`slice(C; r0, r1, c0, c1)` with Dim bounds (`C[:n, :n]`; `C[i, j]` is the 1×1 slice
`C[i:i+1, j:j+1]`).  All are linear, and their adjoints stay in block form:
  block   the cotangent of a block is the matching slice of G
  slice   G put back in place: a block matrix with zero blocks around it
          (G ⊙ E(i,j) for an entry)
  kron    ⟨G, A ⊗ dX⟩ = ⟨Σ_ij A_ij G_(i,j), dX⟩ over the blocks G_(i,j) of G —
          written out when A's size is a number (kron(eye(2), X) and the like)
  diag    its own adjoint: diag(G)
  vec     unvec(g) = (vec(I_n)ᵀ ⊗ I_m)(I_n ⊗ g)
"""
from __future__ import annotations

from ..errors import UnsupportedError
from ..expr import Apply, Num, identity, is_zero, make, zeros
from ..shapes import Dim, ShapeMismatch, is_scalar, is_var
from . import PREC_POSTFIX, Op, function, register, sig
from .core import _scalar_part, zero_like


# ---- shapes --------------------------------------------------------------------
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
    """NumPy's diag: a column vector becomes a diagonal matrix, a square matrix gives
    its diagonal as a column."""
    (r, c), = shapes
    if U is None:
        if c.is_one:
            return (r, r)
        if r != c:
            raise ShapeMismatch("diag of a matrix needs a square matrix", (0,))
        return (r, Dim.of(1))
    node = U.context
    rc = U.resolve(c)
    name = getattr(node.args[0], "name", None) if node is not None else None
    if rc.is_one or (not U.surely_matrix(((Dim.of(1)), c)) and (name or "X")[:1].islower() and name):
        U.unify(c, Dim.of(1))
        return (r, r)
    if name is None and rc.name is not None and is_var(rc.name):
        # diag(x*diag(I*B)): the argument's columns wait on a ⊙ tie-break; decide
        # vector -> matrix or matrix -> vector once the tie-breaks are settled
        out = U.fresh_shape()
        U.choices.append((r, c, out, node))
        return out
    return diag_of_matrix(U, r, c)


def diag_of_matrix(U, r, c):
    if not U.unify(r, c):
        raise ShapeMismatch("diag of a matrix needs a square matrix", (0,))
    return (r, Dim.of(1))


def settle_diag(U, r, c, out) -> None:
    """A deferred diag (see _diag_shape): a column makes a diagonal matrix, and so
    does an argument whose result is used as a matrix (A*diag(E(i,0))); anything else
    (still undecided included) is a square matrix whose diagonal is taken."""
    rc, used_as_matrix = U.resolve(c), U.surely_matrix(((Dim.of(1)), out[1]))
    if not rc.is_one and used_as_matrix and rc.name is not None and is_var(rc.name):
        U.unify(c, Dim.of(1))
        rc = Dim.of(1)
    shape = (r, r) if rc.is_one else diag_of_matrix(U, r, c)
    if not U.unify_shape(out, shape):
        raise ShapeMismatch("diag: its result does not fit where it is used", (0,))


# ---- canonical forms ---------------------------------------------------------------
def canon_block(args, attrs):
    if all(is_zero(a) for a in args):
        return zeros(_block_shape(None, [a.shape for a in args], attrs))
    args = [zeros(a.shape) if is_zero(a) and isinstance(a, Num) else a for a in args]
    return Apply("block", args, attrs)


def _offsets(sizes):
    out, acc = [], Dim.of(0)
    for s in sizes:
        out.append(acc)
        acc = acc + s
    return out


def _block_grid(node):
    nr, nc = node.attrs
    heights = [node.args[r * nc].shape[0] for r in range(nr)]
    widths = [node.args[c].shape[1] for c in range(nc)]
    return nr, nc, _offsets(heights), heights, _offsets(widths), widths


def canon_slice(args, attrs):
    (x,) = args
    r0, r1, c0, c1 = attrs
    rows, cols = x.shape
    if r0 == 0 and c0 == 0 and r1 == rows and c1 == cols:
        return x
    if is_zero(x):
        return zeros((r1 - r0, c1 - c0))
    s, m = _scalar_part(x)
    if s:
        return make("mul", *s, make("slice", m, attrs=attrs))
    if x.op == "T":  # the transpose stays outside: C.T[a, b] = C[b, a].T
        return make("T", make("slice", x.args[0], attrs=(c0, c1, r0, r1)))
    if x.op == "block":  # a slice that is exactly one block is that block
        nr, nc, ro, hs, co, ws = _block_grid(x)
        for r in range(nr):
            for c in range(nc):
                if ro[r] == r0 and ro[r] + hs[r] == r1 and co[c] == c0 and co[c] + ws[c] == c1:
                    return x.args[r * nc + c]
    if x.op == "I":  # diagonal blocks of I are identities, off-diagonal ones zero
        if r0 == c0 and r1 == c1:
            return identity(r1 - r0)
        if r1 == c0 or c1 == r0:
            return zeros((r1 - r0, c1 - c0))
    if x.op == "ones":
        return Apply("ones", (), (r1 - r0, c1 - c0))
    if x.op == "slice":  # a slice of a slice
        a0, _, b0, _ = x.attrs
        return make("slice", x.args[0], attrs=(a0 + r0, a0 + r1, b0 + c0, b0 + c1))
    if x.op == "matmul" and len(x.args) == 2 and x.args[0].shape[1].is_one \
            and (r1 - r0).is_one and (c1 - c0).is_one:   # (u@v.T)[i, j] = u[i, 0]*v[j, 0]
        u, w = x.args
        one = type(r0).of(0), type(r0).of(1)
        return make("mul", make("slice", u, attrs=(r0, r1) + one), make("slice", make("T", w), attrs=(c0, c1) + one))
    return Apply("slice", (x,), attrs)


def _slice_transpose(node):
    x = node.args[0]
    if make("T", x) is x:  # a slice of a symmetric matrix, transposed, is the mirrored slice
        r0, r1, c0, c1 = node.attrs
        return make("slice", x, attrs=(c0, c1, r0, r1))
    return None


def canon_diag(args, attrs):
    (x,) = args
    if x.is_scalar:
        return x
    s, m = _scalar_part(x)
    if s:
        return make("mul", *s, make("diag", m))
    if x.op == "diag":
        inner = x.args[0]
        if inner.shape[1].is_one:      # diag(diag(v)) = v
            return inner
        return make("mul", identity(inner.shape[0]), inner)   # diag(diag(X)) = I ⊙ X
    if x.op == "matmul" and len(x.args) == 2 and x.args[0].shape[1].is_one:
        return make("mul", x.args[0], make("T", x.args[1]))   # diag(u@v.T) = u ⊙ v
    return Apply("diag", (x,))


def canon_vec(args, attrs):
    (x,) = args
    if x.shape[1].is_one:
        return x
    s, m = _scalar_part(x)
    if s:
        return make("mul", *s, make("vec", m))
    return Apply("vec", (x,))


def canon_kron(args, attrs):
    a, b = args
    if is_zero(a) or is_zero(b):
        return zeros((a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))
    if a.is_scalar or b.is_scalar:
        return make("mul", a, b)
    sa, ma = _scalar_part(a)
    sb, mb = _scalar_part(b)
    if sa or sb:
        return make("mul", *sa, *sb, make("kron", ma, mb))
    return Apply("kron", (a, b))


# ---- adjoints ------------------------------------------------------------------------
def _block_adjoint(node, k, G):
    nr, nc, ro, hs, co, ws = _block_grid(node)
    r, c = divmod(k, nc)
    return make("slice", G, attrs=(ro[r], ro[r] + hs[r], co[c], co[c] + ws[c]))


def embed(G, shape, bounds):
    """The matrix of `shape` that is G inside `bounds` and zero elsewhere."""
    r0, r1, c0, c1 = bounds
    rows, cols = shape
    if r1 - r0 == 1 and c1 - c0 == 1:
        return make("mul", G, Apply("E", (), (r0, c0, rows, cols)))

    def segments(lo, hi, full):
        return [(a, b) for a, b in ((Dim.of(0), lo), (lo, hi), (hi, full)) if a != b]
    rseg, cseg = segments(r0, r1, rows), segments(c0, c1, cols)
    cells = [G if (ra, rb) == (r0, r1) and (ca, cb) == (c0, c1) else zeros((rb - ra, cb - ca))
             for ra, rb in rseg for ca, cb in cseg]
    return make("block", *cells, attrs=(len(rseg), len(cseg)))


def _concrete(d: Dim, what: str) -> int:
    if not d.is_const:
        raise UnsupportedError(f"the gradient through kron needs {what} to have a numeric size "
                               f"(it is {d}); declare it, e.g. '…: 2×2'")
    return d.value


def _kron_adjoint(node, k, G):
    a, b = node.args
    (m, n), (p, q) = a.shape, b.shape
    if not (m.is_const and n.is_const) and p.is_const and q.is_const:
        # a ⊗ b = K(m,p) (b ⊗ a) K(q,n): with the numeric factor on the left, the
        # cotangent of b ⊗ a is K(p,m) G K(n,q) (K(a,b)ᵀ = K(b,a))
        G = make("matmul", make("K", attrs=(p, m)), G, make("K", attrs=(n, q)))
        return _kron_adjoint(Apply("kron", (b, a)), 1 - k, G)
    if k == 1:  # ⟨G, A ⊗ dB⟩ = Σ_ij A_ij ⟨G_(i,j), dB⟩
        M, N = _concrete(m, "the left factor"), _concrete(n, "the left factor")
        terms = []
        for i in range(M):
            for j in range(N):
                coef = make("slice", a, attrs=(Dim.of(i), Dim.of(i + 1), Dim.of(j), Dim.of(j + 1)))
                if a.op == "I":
                    if i != j:
                        continue
                    coef = Num(1)
                blk = make("slice", G, attrs=(p * i, p * (i + 1), q * j, q * (j + 1)))
                terms.append(make("mul", coef, blk))
        return make("add", *terms) if terms else zeros(b.shape)
    # ⟨G, dA ⊗ B⟩: entry (i, j) of the cotangent is sum(G_(i,j) ⊙ B)
    M, N = _concrete(m, "the left factor"), _concrete(n, "the left factor")
    cells = [make("sum", make("mul", make("slice", G, attrs=(p * i, p * (i + 1), q * j, q * (j + 1))), b))
             for i in range(M) for j in range(N)]
    return make("block", *cells, attrs=(M, N))


def _vec_adjoint(node, k, G):
    s, g = _scalar_part(G)
    if g.op == "vec":  # unvec(vec(Z)) = Z
        return make("mul", *s, g.args[0])
    m, n = node.args[0].shape
    left = make("kron", make("T", make("vec", identity(n))), identity(m))
    return make("matmul", left, make("kron", identity(n), G))


register(Op("block", _block_shape, canon=canon_block, adjoint=_block_adjoint, nargs=None,
            diff=lambda node, d: make("block", *d, attrs=node.attrs),
            transpose=lambda n: make("block", *(make("T", n.args[r * n.attrs[1] + c])
                                               for c in range(n.attrs[1]) for r in range(n.attrs[0])),
                                     attrs=(n.attrs[1], n.attrs[0])),
            linear_in=(0,)))
register(Op("slice", _slice_shape, canon=canon_slice, prec=PREC_POSTFIX, transpose=_slice_transpose,
            diff=lambda node, d: make("slice", d[0], attrs=node.attrs),
            adjoint=lambda node, k, G: embed(G, node.args[0].shape, node.attrs), linear_in=(0,)))
function("kron", "(m,n),(p,q)->(m*p,n*q)", call=("kron",), nargs=2, text="kron({0}, {1})", canon=canon_kron,
         diff=lambda node, d: make("add", make("kron", d[0], node.args[1]), make("kron", node.args[0], d[1])),
         adjoint=_kron_adjoint, transpose=lambda n: make("kron", make("T", n.args[0]), make("T", n.args[1])),
         latex=r"{0} \otimes {1}", pretty="{0} ⊗ {1}", numpy="np.kron({0}, {1})", linear_in=(0, 1))
function("vec", "(m,n)->(m*n,1)", call=("vec",), canon=canon_vec, adjoint=_vec_adjoint,
         diff=lambda node, d: make("vec", d[0]),
         latex=r"\operatorname{{vec}}\left({0}\right)", numpy="{0}.reshape(-1, 1, order='F')", linear_in=(0,))
function("diag", _diag_shape, call=("diag",), canon=canon_diag,
         diff=lambda node, d: make("diag", d[0]), adjoint=lambda node, k, G: make("diag", G),
         transpose=lambda n: n if n.args[0].shape[1].is_one else None,
         latex=r"\operatorname{{diag}}\left({0}\right)", numpy="(np.diagflat(_d) if (_d := {0}).shape[1] == 1 else np.diag(_d)[:, None])", linear_in=(0,))
def canon_K(args, attrs):
    m, n = attrs
    if Dim.of(m).is_one or Dim.of(n).is_one:  # transposing a vector does not reorder vec
        return identity(Dim.of(m) * Dim.of(n))
    return Apply("K", (), attrs)


register(Op("K", lambda U, shapes, attrs: (attrs[0] * attrs[1], attrs[0] * attrs[1]), nargs=0, call=("K",),
            canon=canon_K, transpose=lambda n: Apply("K", (), n.attrs[::-1]), text="K({n}, {m})",
            pretty="K({n},{m})", latex="K_{{{n},{m}}}"))
