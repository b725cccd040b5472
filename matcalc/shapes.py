"""Dimensions and shapes.

A `Dim` is a polynomial with integer coefficients over dimension names: `n`, `3`,
`2*n`, `n+m`, `n*m`.  Every array is two-dimensional: a shape is a pair of Dims, a
column vector is n×1 and a scalar is 1×1 (`SCALAR`).

Inference works on the same Dims, with unification variables named `?k`.  A
`Unifier` holds the substitution; `unify(a, b)` solves `a == b` for one variable
when it can, and defers equations it cannot solve yet (products of unknowns).
Names the user wrote (`n`, `m`) are rigid: `n == m` is a conflict.

A `Signature` ("(m,k),(k,n)->(m,n)") states an operator's shape rule once; it is read
both by inference (`infer`, with a Unifier) and by `apply` on concrete shapes.
"""
from __future__ import annotations

import math
import re
from itertools import count

Mono = tuple  # sorted tuple of names; () is the constant monomial


_OF: dict = {}


class Dim:
    __slots__ = ("terms", "_hash", "_names", "_str", "name", "is_one", "is_const")
    name: str | None   # the name when the Dim is exactly one name (n), else None
    is_one: bool       # the constant 1

    def __init__(self, terms=()):
        if isinstance(terms, dict):
            terms = tuple(sorted((m, c) for m, c in terms.items() if c))
        self.terms = terms
        self._hash = hash(terms)
        self._names = self._str = None
        # asked millions of times (shape checks): plain attributes, not properties
        self.name = terms[0][0][0] if len(terms) == 1 and terms[0][1] == 1 and len(terms[0][0]) == 1 else None
        self.is_one = terms == (((), 1),)
        self.is_const = all(not m for m, _ in terms)

    @staticmethod
    def of(x) -> "Dim":
        if isinstance(x, Dim):
            return x
        hit = _OF.get(x)
        if hit is None:   # Dims are immutable: one per int or name
            hit = _OF[x] = Dim({(): x}) if isinstance(x, int) else Dim({(x,): 1})
        return hit

    # arithmetic --------------------------------------------------------
    def __add__(self, other):
        other = Dim.of(other)
        acc = dict(self.terms)
        for m, c in other.terms:
            acc[m] = acc.get(m, 0) + c
        return Dim(acc)

    __radd__ = __add__

    def __neg__(self):
        return Dim(tuple((m, -c) for m, c in self.terms))

    def __sub__(self, other):
        return self + (-Dim.of(other))

    def __rsub__(self, other):
        return Dim.of(other) - self

    def __mul__(self, other):
        other = Dim.of(other)
        acc: dict = {}
        for m1, c1 in self.terms:
            for m2, c2 in other.terms:
                m = tuple(sorted(m1 + m2))
                acc[m] = acc.get(m, 0) + c1 * c2
        return Dim(acc)

    __rmul__ = __mul__

    def __eq__(self, other):
        if other.__class__ is Dim:
            return self.terms == other.terms
        if isinstance(other, int):
            other = Dim.of(other)
        return isinstance(other, Dim) and self.terms == other.terms

    def __hash__(self):
        return self._hash

    # queries -----------------------------------------------------------
    @property
    def value(self) -> int:
        return sum(c for m, c in self.terms if not m)

    def names(self) -> frozenset:
        if self._names is None:
            self._names = frozenset(v for m, _ in self.terms for v in m)
        return self._names

    def subs(self, mapping) -> "Dim":
        """Replace names by Dims (or ints)."""
        if not any(v in mapping for m, _ in self.terms for v in m):
            return self
        name = self.name
        if name is not None:
            return Dim.of(mapping[name])
        out = Dim()
        for m, c in self.terms:
            t = Dim.of(c)
            for v in m:
                t = t * Dim.of(mapping.get(v, v))
            out = out + t
        return out

    def evaluate(self, sizes: dict) -> int:
        return sum(c * _prod(sizes[v] for v in m) for m, c in self.terms)

    def __str__(self):
        if self._str is None:
            self._str = self._text()
        return self._str

    def _text(self) -> str:
        if not self.terms:
            return "0"
        parts = []
        for m, c in sorted(self.terms, key=lambda t: (-len(t[0]), t[0])):
            body = "*".join(m)
            if not m:
                s = str(abs(c))
            elif abs(c) == 1:
                s = body
            else:
                s = f"{abs(c)}*{body}"
            parts.append(("-" if c < 0 else "+") + s)
        text = "".join(parts)
        return text[1:] if text.startswith("+") else text

    __repr__ = __str__

    @staticmethod
    def parse(text: str) -> "Dim":
        """Read back what __str__ prints: sums of products of names and integers."""
        out = Dim()
        for sign, term in re.findall(r"([+-]?)\s*([^+-]+)", text.replace(" ", "")):
            t = Dim.of(1)
            for f in term.split("*"):
                t = t * (Dim.of(int(f)) if f.isdigit() else Dim.of(f))
            out = out + (-t if sign == "-" else t)
        return out


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


ONE = Dim.of(1)
SCALAR = (ONE, ONE)


def is_scalar(shape) -> bool:
    return shape[0].is_one and shape[1].is_one


def show(shape) -> str:
    """n×m, n (a column vector), scalar."""
    if is_scalar(shape):
        return "scalar"
    return f"{_show_dim(shape[0])}×{_show_dim(shape[1])}"


def _show_dim(d: Dim) -> str:
    s = str(d)
    return s if len(d.terms) <= 1 and "*" not in s else f"({s})"


def is_var(name: str) -> bool:
    return name.startswith("?")


class Unifier:
    """Substitution over unification variables; see the module docstring."""

    def __init__(self):
        self.subst: dict[str, Dim] = {}
        self.deferred: list = []
        self.pending: list = []   # undecided ⊙ operands: (a, b, out, node, operand positions)
        self.choices: list = []   # undecided diag: (rows, cols of its argument, out, node)
        self.context = None       # the node whose rule is running (for `pending`)
        self._ids = count()

    def fresh(self) -> Dim:
        return Dim.of(f"?{next(self._ids)}")

    def fresh_shape(self):
        return (self.fresh(), self.fresh())

    def resolve(self, d: Dim) -> Dim:
        if type(d) is not Dim:
            d = Dim.of(d)
        name = d.name
        if name is not None:   # the common case: one name, bound or not
            return self._resolve_var(name) if name in self.subst else d
        bound = [v for v in d.names() if v in self.subst]
        if not bound:
            return d
        return d.subs({v: self._resolve_var(v) for v in bound})

    def _resolve_var(self, v: str) -> Dim:
        value = self.subst[v]
        resolved = self.resolve(value)
        if resolved is not value:
            self.subst[v] = resolved  # path compression: chains are walked once
        return resolved

    def resolve_shape(self, s):
        return (self.resolve(s[0]), self.resolve(s[1]))

    def unify(self, a, b) -> bool:
        """Make a == b; False when that is impossible."""
        ra, rb = self.resolve(a), self.resolve(b)
        if ra is rb or ra.terms == rb.terms:   # the usual case once sizes are known
            return True
        for v, other in ((ra, rb), (rb, ra)):  # a lone variable takes the other side whole
            if len(v.terms) == 1 and v.terms[0][1] == 1 and len(v.terms[0][0]) == 1 \
                    and is_var(v.terms[0][0][0]) and v.terms[0][0][0] not in other.names():
                self.subst[v.terms[0][0][0]] = other
                return True
        diff = ra - rb
        if not diff.terms:
            return True
        g = math.gcd(*(c for _, c in diff.terms))
        if g > 1:  # 2*k == 2*n is k == n
            diff = Dim(tuple((m, c // g) for m, c in diff.terms))
        for mono, c in diff.terms:
            if len(mono) == 1 and is_var(mono[0]) and abs(c) == 1:
                v = mono[0]
                rest = diff - Dim({mono: c})
                if v in rest.names():
                    continue
                self.subst[v] = rest * (-c)
                return True
        if not any(is_var(v) for v in diff.names()):
            return False
        self.deferred.append((a, b))
        return True

    def unify_shape(self, s, t) -> bool:
        ok0 = self.unify(s[0], t[0])
        return self.unify(s[1], t[1]) and ok0

    def retry_deferred(self) -> bool:
        """Solve what is left; n*m == p*q with all unknown is read factor by factor."""
        pending, self.deferred = self.deferred, []
        ok = all(self.unify(a, b) for a, b in pending)
        pending, self.deferred = self.deferred, []
        for a, b in pending:
            ra, rb = self.resolve(a), self.resolve(b)
            one = ra if ra.is_one else rb if rb.is_one else None
            other = rb if one is ra else ra
            if one is not None and len(other.terms) == 1 and other.terms[0][1] == 1:
                for x in other.terms[0][0]:  # n*m == 1: sizes are positive, so n == m == 1
                    ok = self.unify(Dim.of(x), Dim.of(1)) and ok
            elif len(ra.terms) == len(rb.terms) == 1 and ra.terms[0][1] == rb.terms[0][1] \
                    and len(ra.terms[0][0]) == len(rb.terms[0][0]):
                for x, y in zip(ra.terms[0][0], rb.terms[0][0]):
                    ok = self.unify(Dim.of(x), Dim.of(y)) and ok
            else:
                self.deferred.append((a, b))
        return ok

    def is_scalar(self, s) -> bool:
        return is_scalar(self.resolve_shape(s))

    def broadcast(self, a, b, operands):
        """Shape of a ⊙ b: decided now when the shapes say whether it is scalar ×
        array or Hadamard, otherwise deferred to `pending` (parse.py settles it with
        the tie-breaks of SPEC §1)."""
        if self.is_scalar(a):
            return b
        if self.is_scalar(b):
            return a
        if self.surely_matrix(a) and self.surely_matrix(b):
            if not self.unify_shape(a, b):
                raise ShapeMismatch("operands of * must have the same shape, or one must be a scalar", operands)
            return a
        out = self.fresh_shape()
        self.pending.append((a, b, out, self.context, operands))
        return out

    def surely_matrix(self, s) -> bool:
        """Not 1×1 whatever the free variables become: a rigid name or a constant ≠ 1."""
        for d in self.resolve_shape(s):
            if d.is_const and d.value != 1:
                return True
            if not d.is_const and not any(is_var(v) for v in d.names()):
                return True
        return False


class ShapeMismatch(Exception):
    """Raised by shape rules; parse.py turns it into a ShapeError with positions."""

    def __init__(self, message: str, operands: tuple = ()):
        super().__init__(message)
        self.message = message
        self.operands = operands  # which argument positions are at fault


class Signature:
    """A gufunc-style shape rule: "(m,k),(k,n)->(m,n)", "(n,n)->(1,1)"; the output may
    use products and sums of the input letters ("(m,n),(p,q)->(m*p,n*q)")."""

    def __init__(self, text: str):
        ins, out = text.replace(" ", "").split("->")
        self.text = text
        self.inputs = [tuple(p.split(",")) for p in re.findall(r"\(([^)]*)\)", ins)]
        self.output = tuple(re.findall(r"\(([^)]*)\)", out)[0].split(","))
        self.out_dims = tuple(Dim.parse(s) for s in self.output)
        # for `infer` and `apply`: each input letter with its constant (None for a size
        # letter), each output a letter to look up or a Dim to substitute into
        self.plan = [tuple((letter, Dim.of(int(letter)) if letter.isdigit() else None) for letter in p)
                     for p in self.inputs]
        letters = {letter for p in self.inputs for letter in p}
        self.out_plan: tuple = tuple(od.name if od.name in letters else od for od in self.out_dims)

    def infer(self, U: Unifier, shapes):
        """The output shape, unifying the inputs with the pattern: a letter's first
        occurrence names its size, later ones must unify with it."""
        if len(shapes) != len(self.plan):
            raise ShapeMismatch(f"takes {len(self.inputs)} argument(s), got {len(shapes)}")
        env: dict = {}
        for k, (pattern, shape) in enumerate(zip(self.plan, shapes)):
            for (letter, const), d in zip(pattern, shape):
                want = const if const is not None else env.get(letter)
                if want is None:
                    env[letter] = d
                elif not U.unify(want, d):
                    raise ShapeMismatch(self.text, (k,))
        return tuple(env[o] if isinstance(o, str) else o.subs(env) for o in self.out_plan)

    def apply(self, shapes):
        """The output shape for concrete input shapes (the hot path: every node's
        shape is computed here once)."""
        if len(shapes) != len(self.plan):
            raise ShapeMismatch(f"takes {len(self.inputs)} argument(s), got {len(shapes)}")
        env: dict = {}
        for k, (pattern, shape) in enumerate(zip(self.plan, shapes)):
            for (letter, const), d in zip(pattern, shape):
                want = const if const is not None else env.setdefault(letter, d)
                if want is not d and want != d:
                    raise ShapeMismatch(self.text, (k,))
        return tuple(env[o] if isinstance(o, str) else o.subs(env) for o in self.out_plan)

