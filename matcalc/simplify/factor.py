"""Pull common factors out of sums, keeping a change only when the expression gets
smaller (node count):

    A@Y@X.T@A.T + A@X@Y.T@A.T  ->  A@(Y@X.T + X@Y.T)@A.T      (left A, right A.T)
    A@x + A.T@x                ->  (A + A.T)@x                (right x)
    (A@x)[i, 0] + (B@x)[i, 0]  ->  ((A + B)@x)[i, 0]          (the same slice)
    -2*X - 2*Y                 ->  -2*(X + Y)                 (coefficient)
    s*X + s*Y                  ->  s*(X + Y)                  (scalar factor)
    kron(I, A) + kron(I, A.T)  ->  kron(I, A + A.T)           (Kronecker factor)
    H*X + H*Y                  ->  H*(X + Y)                  (Hadamard factor)

A factor may be shared by only some of the terms; the best group (largest saving) is
pulled first and the inner sum is factored again.  Products are distributed only
when that makes the sum smaller (C*(1 - y) - y*(1 - C) -> C - y), then factored again.
"""
from __future__ import annotations

from fractions import Fraction

from ..expr import Apply, Num, identity, make
from ..ops.core import split_coefficient


def bottom_up(step):
    """A memoised pass: `step(node)` sees each node that has arguments, rebuilt
    from its already transformed arguments (the same node when none changed)."""
    def run(e, memo=None):
        if not e.args:   # a leaf: no step has anything to do there
            return e
        memo = {} if memo is None else memo
        hit = memo.get(e)
        if hit is None:
            args = [run(a, memo) if a.args else a for a in e.args]
            out = e
            for a, b in zip(args, e.args):
                if a is not b:
                    out = make(e.op, *args, attrs=e.attrs)  # lets matpow((A + X).T) become matpow(A + X).T
                    break
            hit = memo[e] = step(out, memo)
        return hit
    return run


@bottom_up
def factor(out, memo):
    if out.op == "add":
        out = merge_slices(out)
    if out.op == "add":
        expanded = expand_sum(out)
        if expanded.size < out.size:  # cancellation hidden inside products
            out = expanded
        if out.op == "add":
            out = factor_sum(list(out.args), memo)
    return out


@bottom_up
def regroup_transposes(out, memo):
    """x.T - mu.T -> (x - mu).T: a sum of transposed symbols reads better as one
    transpose (the canonical form pushes transposes to the leaves).  The last,
    cosmetic pass: its (sum).T nodes are not canonical, so nothing runs after it."""
    if out.op == "add" and all(_transposed_symbol(t) for t in out.args):
        out = Apply("T", (make("T", out),))
    return out


MAX_EXPANSION = 32   # terms one product may expand into


def merge_slices(s):
    """(A@x)[i, 0] + 2*(B@x)[i, 0] -> (A@x + 2*B@x)[i, 0]: the same slice of several
    arrays is the slice of their sum (then factored: ((A + 2*B)@x)[i, 0])."""
    groups: dict = {}
    for t in s.args:
        coef, rest = split_coefficient(t)
        key = (rest.attrs, rest.args[0].shape) if rest.op == "slice" else t
        groups.setdefault(key, []).append((coef, rest))
    if len(groups) == len(s.args):
        return s
    terms = []
    for key, members in groups.items():
        if len(members) == 1:
            coef, rest = members[0]
            terms.append(make("mul", Num(coef), rest))
            continue
        inner = make("add", *(make("mul", Num(c), r.args[0]) for c, r in members))
        terms.append(make("slice", factor(inner) if inner.op == "add" else inner, attrs=members[0][1].attrs))
    return make("add", *terms)


def _transposed_symbol(t) -> bool:
    rest = split_coefficient(t)[1]
    return rest.op == "T" and rest.args[0].op is None


def _has_sum_factor(t) -> bool:
    return t.op in ("mul", "matmul") and any(a.op == "add" for a in t.args)


def _expand_term(t):
    """Distribute ⊙, scalar × and @ over the sums among their factors (bounded)."""
    if not _has_sum_factor(t):
        return [t]
    combos = [[]]
    for a in t.args:
        parts = a.args if a.op == "add" else (a,)
        if len(combos) * len(parts) > MAX_EXPANSION:
            return [t]
        combos = [c + [p] for c in combos for p in parts]
    out = []
    for c in combos:
        out.extend(_expand_term(make(t.op, *c)))
    return out


def expand_sum(s):
    """The sum with every product of sums multiplied out, like terms collected."""
    if not any(_has_sum_factor(split_coefficient(t)[1]) for t in s.args):
        return s   # nothing to multiply out (the common case: skip rebuilding the terms)
    terms = []
    for t in s.args:
        coef, rest = split_coefficient(t)
        terms.extend(make("mul", Num(coef), x) for x in _expand_term(rest))
    return make("add", *terms)


def _parts(t):
    """t = coef * scalars * matrix part (a chain, a Hadamard product or an atom)."""
    coef, rest = split_coefficient(t)
    factors = rest.args if rest.op == "mul" else (rest,)
    scalars = [f for f in factors if f.is_scalar and not isinstance(f, Num)]
    mats = [f for f in factors if not f.is_scalar]
    return coef, scalars, mats


def _candidates(t):
    coef, scalars, mats = _parts(t)
    if abs(coef) != 1:
        yield ("coef", abs(coef))
    for s in scalars:
        yield ("scalar", s)
    if len(mats) == 1:
        m = mats[0]
        if m.op == "kron":  # bilinear: kron(A, X) + kron(A, Y) = kron(A, X + Y)
            yield ("kronleft", m.args[0])
            yield ("kronright", m.args[1])
        chain = m.args if m.op == "matmul" else (m,)
        yield ("left", chain[0])
        yield ("right", chain[-1])
    elif len(mats) > 1:
        for h in mats:
            if h.op != "ones":  # the unit of ⊙: removing it changes nothing
                yield ("hadamard", h)
    if not mats and scalars and len(scalars) == 1 and scalars[0].op == "matmul":
        chain = scalars[0].args
        yield ("left", chain[0])
        yield ("right", chain[-1])


def _remove(t, kind, f, negate):
    coef, scalars, mats = _parts(t)
    if negate:
        coef = -coef
    if kind == "coef":
        return make("mul", Num(coef / f), *scalars, *mats)
    if kind == "scalar":
        scalars = list(scalars)
        scalars.remove(f)
        if not scalars and not mats:
            return Num(coef)
        return make("mul", Num(coef), *scalars, *mats)
    if kind == "hadamard":
        mats = list(mats)
        mats.remove(f)
        return make("mul", Num(coef), *scalars, *mats)
    if kind in ("kronleft", "kronright"):
        a, b = mats[0].args
        return make("mul", Num(coef), *scalars, b if kind == "kronleft" else a)
    if mats:
        m = mats[0]
    else:  # a 1×1 chain such as x.T@A@y
        m, scalars = scalars[0], []
    chain = list(m.args if m.op == "matmul" else (m,))
    chain.pop(0 if kind == "left" else -1)
    if chain:
        body = chain[0] if len(chain) == 1 else Apply("matmul", chain)
    else:
        body = identity(f.shape[1] if kind == "left" else f.shape[0])
        if body.is_scalar:
            body = Num(1)
    return make("mul", Num(coef), *scalars, body)


def _apply(kind, f, inner, negate):
    sign = Num(-1) if negate else Num(1)
    if kind == "coef":
        return make("mul", sign, Num(f), inner)
    if kind in ("scalar", "hadamard"):
        return make("mul", sign, f, inner)
    if kind == "kronleft":
        return make("mul", sign, make("kron", f, inner))
    if kind == "kronright":
        return make("mul", sign, make("kron", inner, f))
    if kind == "left":
        return make("mul", sign, make("matmul", f, inner))
    return make("mul", sign, make("matmul", inner, f))


def _terms(e):
    return e.args if e.op == "add" else (e,)


def _scaled_identity(t, plain_too: bool) -> bool:
    """t is I times a non-numeric scalar (or, with plain_too, any multiple of I)."""
    coef, scalars, mats = _parts(t)
    if len(mats) != 1 or mats[0].op != "I":
        return False
    return plain_too or bool(scalars)


MAX_TRIALS = 2000   # groupings tried per simplification: a pathological sum stops early


def _spent(memo) -> bool:
    """Count one trial against the budget kept in the memo; True once it is used up
    (the sum is then left as factored so far: a slower answer is no better one)."""
    left = memo.get(_spent, MAX_TRIALS) - 1
    memo[_spent] = left
    return left < 0


def factor_sum(terms, memo):
    if all(split_coefficient(t)[0] < 0 for t in terms):  # -a - b = -(a + b)
        return make("mul", Num(-1), factor_sum([make("mul", Num(-1), t) for t in terms], memo))
    while len(terms) > 1:
        groups: dict = {}
        for i, t in enumerate(terms):
            for cand in dict.fromkeys(_candidates(t)):
                groups.setdefault(cand, []).append(i)
        current = 1 + sum(t.size for t in terms)   # the + node counts too
        best = None
        ranked = sorted((((len(idx) - 1) * (cand[1].size if cand[0] != "coef" else 2), cand, idx)
                         for cand, idx in groups.items() if len(idx) > 1), key=lambda r: -r[0])
        for gain, cand, idx in ranked[:6]:
            if _spent(memo):
                break
            kind, f = cand
            negate = all(split_coefficient(terms[i])[0] < 0 for i in idx)
            removed = [_remove(terms[i], kind, f, negate) for i in idx]
            if any(r is terms[i] for r, i in zip(removed, idx)):
                continue  # the factor did not come off: no progress
            inner = make("add", *removed)
            inner = factor(inner, memo) if inner.op == "add" else inner
            grouped = _apply(kind, f, inner, negate)
            rest = [t for j, t in enumerate(terms) if j not in idx]
            size = grouped.size + sum(t.size for t in rest) + (1 if rest else 0)
            ok = size < current or (size == current and kind in ("left", "right")
                                    and not any(_scaled_identity(x, True) for x in _terms(inner)))
            if kind in ("left", "right") and any(_scaled_identity(x, False) for x in _terms(inner)):
                ok = False  # (2*A/s - 2*t*I/s**2)@x reads worse than the sum it came from
            if ok and (best is None or size < best[0]):
                best = (size, grouped, rest)
        if best is None:
            break
        _, grouped, rest = best
        terms = [grouped] + rest
        if len(terms) == 1:
            return terms[0]
    return make("add", *terms) if len(terms) > 1 else terms[0]
