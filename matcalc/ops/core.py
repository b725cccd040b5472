"""The algebra: + (n-ary), ⊙ / scalar × (n-ary, NumPy broadcasting of 1×1), @ (n-ary),
transpose, elementwise power, and the constant arrays I, ones, zeros, E(i,j).

Canonical forms kept by the constructors here:
  sum      flat, no zero terms, like terms collected with exact coefficients,
           terms ordered (positive first, then by structure);
  product  flat; coefficient first, then scalar factors, then matrix factors, each
           sorted; equal bases merged into powers (X*X -> X**2, x*x**-1 -> 1);
  chain    flat @; 1×1 factors and coefficients pulled out in front (s*(A@B));
           I dropped; inv(A)@A cancelled;
  .T       pushed to the leaves: (A@B).T = B.T@A.T, (A+B).T = A.T+B.T, X.T.T = X,
           and symmetric leaves (declared, 1×1, I) absorb it.  So an expression is
           symmetric exactly when its transpose is itself (M@M.T, X.T@A@X, A+A.T).
"""
from __future__ import annotations

import weakref
from fractions import Fraction

from ..errors import MathError
from ..expr import MADE, ONE, REGISTRY, ZERO, sweep, Apply, Num, Sym, identity, is_zero, make, ones, zeros
from ..shapes import SCALAR, Dim, ShapeMismatch, is_scalar
from . import (PREC_ADD, PREC_ATOM, PREC_MUL, PREC_POSTFIX, PREC_POW, Op, register, sig)

SYMMETRIC_PROPS = frozenset({"symmetric", "spd", "diagonal"})


# ---- shape rules -----------------------------------------------------------
def _same_shape(U, shapes, attrs):
    first = shapes[0]
    for k, s in enumerate(shapes[1:], 1):
        if U is None:
            if s != first:
                raise ShapeMismatch("operands of + must have the same shape", (0, k))
        elif not U.unify_shape(first, s):
            raise ShapeMismatch("operands of + must have the same shape", (k - 1, k))
    return first


def _broadcast(U, shapes, attrs):
    """⊙ with NumPy broadcasting of 1×1 operands (scalar × array)."""
    out = shapes[0]
    for k, s in enumerate(shapes[1:], 1):
        if U is None:
            if is_scalar(out):
                out = s
            elif not is_scalar(s) and s != out:
                raise ShapeMismatch("operands of * must have the same shape, or one must be a scalar", (k - 1, k))
        else:
            out = U.broadcast(out, s, (k - 1, k))
    return out


def _chain(U, shapes, attrs):
    rows, cols = shapes[0]
    for k, (r, c) in enumerate(shapes[1:], 1):
        ok = (cols is r or cols == r) if U is None else U.unify(cols, r)
        if not ok:
            raise ShapeMismatch("the columns of the left operand of @ must match the rows of the right", (k - 1, k))
        cols = c
    return (rows, cols)


def _shaped(node, shape):
    """node, its shape (already computed by the canonical constructor) remembered."""
    if node._shape is None:
        node._shape = shape
    return node


# ---- sums -------------------------------------------------------------------
def split_coefficient(t):
    """t = c * rest with c rational: a Fraction, or the int 1 when t has no
    coefficient (so that collecting plain terms stays in int arithmetic, which is
    many times cheaper than Fraction's)."""
    if isinstance(t, Num):
        return t.value, ONE
    if t.op == "mul" and isinstance(t.args[0], Num):
        rest = t.args[1:]
        return t.args[0].value, rest[0] if len(rest) == 1 else Apply("mul", rest)
    return 1, t


def scaled(c, rest):
    if c == 1:
        return rest
    if rest is ONE:
        return Num(c)
    return Apply("mul", (Num(c),) + (rest.args if rest.op == "mul" else (rest,)))


def zero_like(shape):
    return Num(0) if is_scalar(shape) else zeros(shape)


def canon_add(args, attrs):
    if not args:
        return Num(0)
    if len(args) == 1 and args[0].op != "add":   # a canonical term is its own sum
        return args[0] if not is_zero(args[0]) else zero_like(args[0].shape)
    live = [split_coefficient(a) for a in args if not is_zero(a)]
    if live and all(r is live[0][1] for _, r in live):
        # Q + Q is 2*Q, not the distributed 2*M@M.T - 2*I: keep shared sums whole
        c = sum(c for c, _ in live)
        return scaled(c, live[0][1]) if c else zero_like(args[0].shape)
    flat = []
    for a in args:
        flat.extend(a.args if a.op == "add" else (a,))
    coefs: dict = {}
    for t in flat:
        if is_zero(t):
            continue
        c, rest = split_coefficient(t)
        coefs[rest] = coefs.get(rest, 0) + c
    items = [(c, r) for r, c in coefs.items() if c]
    if len(items) > 1:
        items.sort(key=lambda cr: (cr[0] < 0, cr[1].order))
    if not items:
        return zero_like(flat[0].shape)
    if len(items) == 1:
        return scaled(*items[0])
    node = Apply("add", [scaled(c, r) for c, r in items])
    node.shape  # check the operands agree now, not at print time
    return node


# ---- products (⊙ and scalar ×) -------------------------------------------
def _base_exponent(f):
    if f.op == "pow" and isinstance(f.args[1], Num):
        base, k = _base_exponent(f.args[0])
        return base, k * f.args[1].value
    if f.op == "sqrt":
        return f.args[0], Fraction(1, 2)
    return f, 1


def canon_mul(args, attrs):
    if not args:
        return ONE
    flat = []
    for a in args:
        if a.op == "mul":
            flat.extend(a.args)
        else:
            flat.append(a)
    shape = _broadcast(None, [f.shape for f in flat], ())
    # the coefficient: a Num node while it is one factor as written (no Fraction
    # arithmetic, no new node), a Fraction once factors multiply; None for 1
    coef = None
    powers: dict = {}
    exps = False
    for f in flat:
        op = f.op
        if op is None and type(f) is Num:
            if f is ZERO:
                return zero_like(shape)
            if f is not ONE:
                coef = f if coef is None else _value(coef) * f.value
            continue
        if op == "zeros":
            return zero_like(shape)
        base, k = _base_exponent(f) if op == "pow" or op == "sqrt" else (f, 1)
        powers[base] = powers.get(base, 0) + k
        exps = exps or base.op == "exp"
    if exps:
        _logistic(powers)
    scalars, mats = [], []
    for base, k in powers.items():
        if k == 0:
            continue
        f = base if k == 1 else make("pow", base, Num(k))
        if type(f) is Num:
            coef = f.value if coef is None else _value(coef) * f.value
        else:
            (scalars if f.is_scalar else mats).append(f)
    if len(mats) > 1:  # ones(n,m) is the unit of ⊙
        mats = [f for f in mats if f.op != "ones"] or mats[:1]
    if len(mats) > 1 and any(f.op == "I" for f in mats):  # I ⊙ M = I ⊙ Mᵀ: the diagonal does not see the transpose
        mats = [min((f, make("T", f)), key=lambda g: g.size) for f in mats]  # ties keep the form written
    if not mats and not is_scalar(shape):
        mats = [ones(shape)]
    if len(scalars) > 1:
        scalars.sort(key=lambda f: f.order)
    if len(mats) > 1:
        mats.sort(key=lambda f: (f.op != "I", f.order))
    factors = scalars + mats
    if coef is not None:
        coef = coef if type(coef) is Num else Num(coef)
        if coef is ZERO:
            return zero_like(shape)
        if coef is not ONE:
            factors.insert(0, coef)
    if not factors:
        return ONE
    if len(factors) == 1:
        return factors[0]
    return _shaped(Apply("mul", factors), shape)


def _value(c):
    """A coefficient's value, whether it is still a Num node or already a Fraction."""
    return c.value if type(c) is Num else c


def _logistic(powers):
    """exp(v) ⊙ sigmoid(-v) = sigmoid(v), in place on {base: exponent}: with
    1/(1 + exp(v)) = sigmoid(-v) (canon_pow), exp(X@w)/(1 + exp(X@w)) is sigmoid(X@w)."""
    for base in [b for b in powers if b.op == "exp"]:
        other = make("sigmoid", make("mul", Num(-1), base.args[0]))
        k, m = powers.get(base, 0), powers.get(other, 0)
        j = min(k, m)
        if j > 0 and j.denominator == 1:
            powers[base], powers[other] = k - j, m - j
            target = make("sigmoid", base.args[0])
            powers[target] = powers.get(target, 0) + j


def _one_plus_exp(x):
    """v when x is 1 + exp(v) (1 or ones(…) as the unit), else None."""
    if x.op != "add" or len(x.args) != 2:
        return None
    unit, other = sorted(x.args, key=lambda a: a.op != "ones" and not (isinstance(a, Num) and a.value == 1))
    if (unit.op == "ones" or isinstance(unit, Num) and unit.value == 1) and other.op == "exp":
        return other.args[0]
    return None


def _product_rule(op):
    """d(a·b·c) = da·b·c + a·db·c + a·b·dc for the n-ary product `op`."""
    def diff(node, d):
        terms = [make(op, *node.args[:k], dk, *node.args[k + 1:]) for k, dk in enumerate(d) if not is_zero(dk)]
        return make("add", *terms) if terms else zero_like(node.shape)
    return diff


def unbroadcast(C, shape):
    """The cotangent of an operand that NumPy broadcast: a 1×1 operand of a matrix
    result collects the sum of its cotangent."""
    if is_scalar(shape) and not C.is_scalar:
        return make("sum", C)
    return C


def _mul_adjoint(node, k, G):
    return unbroadcast(make("mul", G, *node.args[:k], *node.args[k + 1:]), node.args[k].shape)


# ---- matrix products -------------------------------------------------------
def _scalar_part(a):
    """a = s * m with s the 1×1 factors (coefficient included) and m the matrix rest."""
    if a.op != "mul":
        return [], a
    mats = [f for f in a.args if not f.is_scalar]
    if len(mats) == len(a.args) or not mats:
        return [], a
    return [f for f in a.args if f.is_scalar], mats[0] if len(mats) == 1 else Apply("mul", mats)


def _orientation(run):
    """The representative of a 1×1 product among itself and its transpose."""
    flipped = tuple(make("T", a) for a in reversed(run))
    return min((tuple(run), flipped), key=lambda c: tuple(a.order for a in c))


def _scalar_product(run):
    """The 1×1 product of a run of factors.  A run that starts with a unit row or
    ends with a unit column picks one entry: E(0,i)@A@x = (A@x)[i, 0] and
    y.T@A@E(j,0) = (A.T@y)[j, 0] (∂(x.T@x)/∂x_i reads 2*x[i, 0]); any other run is
    the smaller of itself and its transpose, so xᵀv and vᵀx agree."""
    if run[0].op == "E" and run[0].shape[0].is_one:
        i, rest = run[0].attrs[1], make("matmul", *run[1:])
    elif run[-1].op == "E" and run[-1].shape[1].is_one:
        i, rest = run[-1].attrs[0], make("T", make("matmul", *run[:-1]))
    else:
        return Apply("matmul", _orientation(run))
    return make("slice", rest, attrs=(i, i + 1, Dim.of(0), Dim.of(1)))


def _pull_scalar_runs(chain, scalars):
    """v@x.T@x = (x.T@x)*v: a run of factors whose product is 1×1 is a scalar; it is
    pulled out (_scalar_product)."""
    if len(chain) < 3:
        return chain
    for a in chain:   # a run starts with a row: none, nothing to pull (the common case)
        if a.shape[0].is_one:
            break
    else:
        return chain
    out, k = [], 0
    while k < len(chain):
        run_end = None
        if chain[k].shape[0].is_one and k + 1 < len(chain):
            for j in range(k + 1, len(chain)):
                if chain[j].shape[1].is_one:
                    run_end = j
                    break
        if run_end is not None and (k > 0 or run_end < len(chain) - 1):
            scalars.append(_scalar_product(chain[k:run_end + 1]))
            k = run_end + 1
        else:
            out.append(chain[k])
            k += 1
    return out


def _power_of(a):
    """a = base^k as a matrix power: X -> (X, 1), matpow(X, k) -> (X, k), inv(X) -> (X, -1)."""
    if a.op == "matpow":
        return a.args[0], a.attrs[0]
    if a.op == "inv":
        return a.args[0], -1
    if a.op == "T" and a.args[0].op in ("matpow", "inv"):  # matpow(X, k).T is (X.T)^k
        base, k = _power_of(a.args[0])
        return make("T", base), k
    return a, 1


_POWER_OPS = frozenset({"matpow", "inv", "T"})


def _merge_powers(chain):
    """X@X -> matpow(X, 2), matpow(X, 2)@X -> matpow(X, 3), inv(A)@A -> I (dropped)."""
    powers, merge, previous = [], False, None
    for a in chain:
        base, k = _power_of(a) if a.op in _POWER_OPS else (a, 1)
        merge = merge or k != 1 or base is previous
        powers.append((base, k))
        previous = base
    if not merge:
        return chain   # nothing to merge (the common case)
    out = []  # (base, exponent)
    for base, k in powers:
        if out and out[-1][0] is base:
            out[-1] = (base, out[-1][1] + k)
            if out[-1][1] == 0:
                out.pop()
        else:
            out.append((base, k))
    merged = []
    for base, k in out:
        m = make("matpow", base, attrs=(k,)) if k != 1 else base
        if m.op == "matmul":
            merged.extend(m.args)
        elif m.op != "I":
            merged.append(m)
    return merged


def canon_matmul(args, attrs):
    flat = []
    for a in args:
        if a.op == "matmul":
            flat.extend(a.args)
        else:
            flat.append(a)
    shape = _chain(None, [a.shape for a in flat], ())
    scalars, chain = [], []
    for a in flat:
        if a is ZERO or a.op == "zeros":
            return zero_like(shape)
    for a in flat:
        if a.is_scalar:
            scalars.append(a)
            continue
        op = a.op
        if op == "mul":
            s, a = _scalar_part(a)
            scalars.extend(s)
            op = a.op
        if op == "matmul":
            chain.extend(a.args)
        elif op != "I":
            chain.append(a)
    chain = _merge_powers(chain)
    chain = _pull_scalar_runs(chain, scalars)
    if not chain:
        mat = None if is_scalar(shape) else identity(shape[0])
    elif len(chain) == 1:
        mat = chain[0]
    elif is_scalar(shape):
        mat = _scalar_product(chain)
    else:
        mat = _shaped(Apply("matmul", chain), shape)
    if mat is None:
        return make("mul", *scalars) if scalars else ONE
    return make("mul", *scalars, mat) if scalars else mat


def _matmul_adjoint(node, k, G):
    before = [make("T", a) for a in reversed(node.args[:k])]
    after = [make("T", a) for a in reversed(node.args[k + 1:])]
    return make("matmul", *before, G, *after)


# ---- transpose ---------------------------------------------------------------
def canon_T(args, attrs):
    """x.T, memoised on x: pushing a transpose through a shared DAG visits each node once."""
    (x,) = args
    if x._symmetric:
        return x
    cached = x._transpose() if x._transpose is not None else None
    if cached is None:
        cached = _transposed(x)
        x._transpose = weakref.ref(cached)  # weak: x.T's key holds x, so x must not hold x.T
        x._symmetric = cached is x
        if len(_RECENT) >= MAX_RECENT:
            _RECENT.clear()
        _RECENT[x] = cached
    return cached


# The transposes of the current derivation, held strongly: nested inverses ask for
# the same ones again and again, and the weak cache alone would let them die in
# between.  api.derive empties it after each derivation (batch memory stays flat).
_RECENT: dict = {}
MAX_RECENT = 100_000


def end_derivation() -> None:
    """Let the derivation's working set go and reset its budgets."""
    _RECENT.clear()
    MADE.clear()
    sweep(lazy=True)
    BUDGET["matpow terms"] = 0


# Work one derivation may do before it is a LimitError instead of a long wait: the
# differential of matpow(X, k) has |k| terms, and a Hessian differentiates each again.
BUDGET = {"matpow terms": 0}
MAX_MATPOW_TERMS = 20_000


def is_symmetric(x) -> bool:
    """x.T is x.  Remembered as a plain flag, which outlives the weak transpose cache:
    canonical inv(Y) asks it of Y each time it is built (nested inverses)."""
    if x._symmetric is None:
        make("T", x)
    return bool(x._symmetric)


def _transposed(x):
    if x.is_scalar:
        return x
    if isinstance(x, Sym):
        return x if x.props & SYMMETRIC_PROPS else Apply("T", (x,))
    if x.op == "T":
        return x.args[0]
    rule = REGISTRY[x.op].transpose
    out = rule(x) if rule else None
    return Apply("T", (x,)) if out is None else out


# ---- powers -----------------------------------------------------------------
MAX_EXACT_POWER = 64  # bits: larger exact constants are left unevaluated


def canon_pow(args, attrs):
    x, k = args
    if not k.is_scalar:
        raise ShapeMismatch("the exponent of ** must be a scalar", (1,))
    if isinstance(k, Num):
        kv = k.value
        if kv == 1:
            return x
        if kv == 0:
            return ones(x.shape)
        if isinstance(x, Num) and kv.denominator == 1 and x.value != 0 \
                and abs(kv) * max(x.value.numerator.bit_length(), x.value.denominator.bit_length()) <= MAX_EXACT_POWER:
            return Num(x.value ** int(kv))
        if x.op in ("I", "ones") and kv > 0:
            return x
        v = _one_plus_exp(x) if kv < 0 and kv.denominator == 1 else None
        if v is not None:  # 1/(1 + exp(v)) = sigmoid(-v)
            return make("pow", make("sigmoid", make("mul", Num(-1), v)), Num(-kv))
        if x.op == "mul" and kv.denominator == 1:  # (2*x)**-1 = x**-1/2, elementwise as for scalars
            return make("mul", *(make("pow", f, k) for f in x.args))
        if x.op == "sqrt" and kv.denominator == 1 and kv.numerator % 2 == 0:  # sqrt(x)**2 = x, as in ⊙
            return make("pow", x.args[0], Num(kv / 2))
        if x.op == "pow" and isinstance(x.args[1], Num) and kv.denominator == 1:
            return make("pow", x.args[0], Num(x.args[1].value * kv))
        if kv.denominator == 2 and not isinstance(x, Num):  # x**(k/2) is written with sqrt
            root = make("sqrt", x)
            return root if kv == Fraction(1, 2) else make("pow", root, Num(kv * 2))
    if is_zero(x):
        if isinstance(k, Num) and k.value < 0:
            raise MathError("division by zero: a zero raised to a negative power")
        return x
    return Apply("pow", (x, k))


def _pow_diff(node, d):
    x, k = node.args
    dx, dk = d
    out = []
    if not is_zero(dx):
        out.append(make("mul", k, make("pow", x, make("add", k, Num(-1))), dx))
    if not is_zero(dk):
        out.append(make("mul", node, make("log", x), dk))
    return make("add", *out)


def _pow_shape(U, shapes, attrs):
    base, k = shapes
    if U is None:
        if not is_scalar(k):
            raise ShapeMismatch("the exponent of ** must be a scalar", (1,))
    elif not U.unify_shape(k, SCALAR):
        raise ShapeMismatch("the exponent of ** must be a scalar", (1,))
    return base


# ---- constants ----------------------------------------------------------------
def _attr_shape(U, shapes, attrs):
    return (attrs[0], attrs[0]) if len(attrs) == 1 else (attrs[0], attrs[1])


def _unit_shape(U, shapes, attrs):
    return (attrs[2], attrs[3])


register(Op("add", _same_shape, diff=lambda node, d: make("add", *d), canon=canon_add,
            adjoint=lambda node, k, G: G, transpose=lambda n: make("add", *(make("T", a) for a in n.args)),
            prec=PREC_ADD, nargs=None, linear_in=(0, 1)))
def _mul_transpose(n):
    if any(is_diagonal(a) for a in n.args if not a.is_scalar):
        return n  # a Hadamard product with a diagonal factor is diagonal, hence symmetric
    return make("mul", *(make("T", a) for a in n.args))


def is_diagonal(e) -> bool:
    """Known to be diagonal: I, a declared diagonal symbol, diag(vector), I ⊙ anything."""
    if isinstance(e, Sym):
        return "diagonal" in e.props
    if e.op == "I":
        return True
    if e.op == "diag":
        return e.args[0].shape[1].is_one
    if e.op == "mul":
        return any(is_diagonal(a) for a in e.args if not a.is_scalar)
    return False


register(Op("mul", _broadcast, diff=_product_rule("mul"), canon=canon_mul, adjoint=_mul_adjoint,
            transpose=_mul_transpose,
            prec=PREC_MUL, nargs=None, linear_in=(0, 1)))
register(Op("matmul", _chain, diff=_product_rule("matmul"), canon=canon_matmul, adjoint=_matmul_adjoint,
            transpose=lambda n: make("matmul", *(make("T", a) for a in reversed(n.args))),
            prec=PREC_MUL, nargs=None, linear_in=(0, 1)))
register(Op("T", sig("(m,n)->(n,m)"), diff=lambda node, d: make("T", d[0]), canon=canon_T,
            adjoint=lambda node, k, G: make("T", G), prec=PREC_POSTFIX, linear_in=(0,)))
register(Op("pow", _pow_shape, diff=_pow_diff, canon=canon_pow,
            transpose=lambda n: make("pow", make("T", n.args[0]), n.args[1]),
            prec=PREC_POW, nargs=2, domain=("positive", None)))

# constant arrays: attrs hold the sizes (and the indices of E)
register(Op("I", _attr_shape, transpose=lambda n: n, nargs=0, call=("eye",), prec=PREC_ATOM,
            text="I", pretty="I", latex="I", numpy="np.eye({n})"))
register(Op("ones", _attr_shape, transpose=lambda n: Apply("ones", (), n.attrs[::-1]), nargs=0, call=("ones",),
            text="ones({n}, {m})", pretty="ones({n},{m})", latex=r"\mathbf{{1}}_{{{n} \times {m}}}",
            numpy="np.ones(({n}, {m}))"))
register(Op("zeros", _attr_shape, transpose=lambda n: Apply("zeros", (), n.attrs[::-1]), nargs=0, call=("zeros",),
            numpy="np.zeros(({n}, {m}))"))
register(Op("E", _unit_shape, transpose=lambda n: Apply("E", (), (n.attrs[1], n.attrs[0], n.attrs[3], n.attrs[2])),
            nargs=0, call=("E",)))
