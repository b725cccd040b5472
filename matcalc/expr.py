"""Expression nodes: `Sym`, `Num`, `Apply(op, args, attrs)`.

Nodes are immutable and hash-consed: building the same node twice returns the same
object, so equality is identity, hashing is cheap, and memo tables keyed by nodes
share the work on repeated subexpressions.

`make(op, *args, attrs=...)` is the smart constructor: it applies the operator's
canonicalising rule from the registry (`REGISTRY[op].canon`, filled by `ops/`), so
every node built through it is canonical (`x + 0 -> x`, `X.T.T -> X`, `1*X -> X`, like
terms collected).  `Apply(...)` itself builds a node verbatim (the parser's raw tree).

Shapes: a `Sym` carries its shape (None before inference); an `Apply` computes its
shape from its arguments through the operator's rule, once.
"""
from __future__ import annotations

import sys
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .shapes import SCALAR, Dim, is_scalar

# op name -> ops.Op; filled by matcalc.ops at import time
REGISTRY: dict = {}

# (class, key) -> node.  Held strongly, and swept (`sweep`) between derivations once
# it has grown enough: a node nothing else holds leaves the table then, and dies.
# Cheaper than weak references (a weakref with a callback per node, on the hottest
# path of all), and as safe: a node leaves the table only when nothing else can
# reach it, so two equal nodes never coexist.  Needs CPython's reference counts.
_interned: dict = {}
SWEEP_AT = 200_000   # table size that triggers a sweep on its own (library use without derive)
SWEEP_SLACK = 2_000  # nodes the table may gain before `sweep(lazy=True)` does the work
_LIVE = [0]          # the table's size after the last sweep
_NEXT = [SWEEP_AT]   # the size that triggers the next sweep from the constructor: twice what
#                      survived the last one, so a huge live expression costs amortised O(1)


def sweep(lazy: bool = False) -> None:
    """Drop the nodes that only the table holds.  Newest first: a parent goes
    before its children (it was built after them), so one pass frees a whole
    expression.  CPython's reference counts say who holds a node.  `lazy` sweeps
    only once the table has grown by SWEEP_SLACK: a pass per derivation would cost
    as much as the derivation of a small expression."""
    table, refcount = _interned, sys.getrefcount
    if lazy and len(table) < _LIVE[0] + SWEEP_SLACK:
        return
    keys = list(table)
    while keys:
        full = keys.pop()   # popped, not iterated: a key kept in `keys` would keep its children alive
        if refcount(table[full]) <= 2:   # the table and refcount's own argument
            del table[full]
    _LIVE[0] = len(table)
    _NEXT[0] = max(SWEEP_AT, 2 * len(table))


class Expr:
    __slots__ = ("key", "op", "args", "attrs", "_shape", "_free", "_size", "_order", "_transpose", "_symmetric",
                 "__weakref__")
    # the slots' types (bare annotations: no class attribute, so no clash with __slots__)
    key: tuple
    op: Any          # the operator's name; None for a leaf (Sym, Num)
    args: tuple      # operands (Apply), () for a leaf
    attrs: tuple     # hashable non-expression parameters (Apply), () for a leaf
    _shape: Any
    _free: frozenset | None
    _size: int | None
    _order: tuple | None
    _transpose: Any  # weakref.ref to x.T, or None
    _symmetric: bool | None

    if TYPE_CHECKING:  # supplied by every subclass (Sym, Num, Apply)
        def _compute_shape(self) -> Any: ...
        def _compute_order(self) -> tuple: ...

    def __new__(cls, *key):
        full = (cls, key)
        node = _interned.get(full)
        if node is None:
            if len(_interned) >= _NEXT[0]:
                sweep()
            node = object.__new__(cls)
            node.key = key
            node.op, node.args, node.attrs = None, (), ()
            node._shape = node._free = node._size = node._order = node._transpose = node._symmetric = None
            _interned[full] = node
        return node

    def __init__(self, *key):
        pass

    def __reduce__(self):
        return (type(self), self.key)

    # ---- cached structural facts ------------------------------------------
    @property
    def shape(self):
        if self._shape is None:
            self._shape = self._compute_shape()
        return self._shape

    @property
    def is_scalar(self) -> bool:
        s = self._shape
        if s is None:
            s = self.shape
        return s[0].is_one and s[1].is_one

    @property
    def free(self) -> frozenset:
        """Names of the symbols below this node."""
        if self._free is None:
            self._free = frozenset().union(*(a.free for a in self.args)) if self.args else frozenset()
        return self._free

    @property
    def size(self) -> int:
        """Node count: the measure the simplifier minimises."""
        if self._size is None:
            self._size = 1 + sum(a.size for a in self.args)
        return self._size

    @property
    def order(self) -> tuple:
        """A total order used to sort the operands of + and ⊙ canonically."""
        if self._order is None:
            self._order = self._compute_order()
        return self._order

    # ---- operator sugar (library and tests read like the maths) --------------
    def __add__(self, o):
        return make("add", self, lift(o))

    def __radd__(self, o):
        return make("add", lift(o), self)

    def __sub__(self, o):
        return make("add", self, neg(lift(o)))

    def __rsub__(self, o):
        return make("add", lift(o), neg(self))

    def __neg__(self):
        return neg(self)

    def __mul__(self, o):
        return make("mul", self, lift(o))

    def __rmul__(self, o):
        return make("mul", lift(o), self)

    def __truediv__(self, o):
        return make("mul", self, make("pow", lift(o), Num(-1)))

    def __matmul__(self, o):
        return make("matmul", self, o)

    def __pow__(self, k):
        return make("pow", self, lift(k))

    @property
    def T(self):
        return make("T", self)

    def __repr__(self):
        from .printers.text import to_text
        try:
            return to_text(self)
        except Exception:  # a raw, not yet shaped node
            return f"{type(self).__name__}{self.key!r}"


class Sym(Expr):
    """A named array.  `props` ⊆ {symmetric, diagonal, spd, orthogonal}; a tangent
    direction (dX, V) is an ordinary symbol."""
    __slots__ = ()

    def __new__(cls, name: str, shape=None, props: frozenset = frozenset()):
        return super().__new__(cls, name, shape, frozenset(props))

    @property
    def name(self) -> str:
        return self.key[0]

    @property
    def props(self) -> frozenset:
        return self.key[2]

    def _compute_shape(self):
        if self.key[1] is None:
            raise ValueError(f"symbol {self.name} has no shape yet")
        return self.key[1]

    @property
    def free(self):
        if self._free is None:
            self._free = frozenset((self.name,))
        return self._free

    def _compute_order(self):
        return (2, self.name, ())


class Num(Expr):
    """An exact rational constant (a 1×1 array).  Interned by (numerator,
    denominator): hashing two ints is cheap, hashing a Fraction is not."""
    __slots__ = ("value",)
    value: Fraction

    def __new__(cls, value):
        if type(value) is int:
            node = super().__new__(cls, value, 1)
        else:
            if type(value) is not Fraction:
                value = Fraction(value)
            node = super().__new__(cls, value.numerator, value.denominator)
        if not hasattr(node, "value"):
            node.value = value if type(value) is Fraction else Fraction(value)
        return node

    def __reduce__(self):
        return (Num, (self.value,))

    def _compute_shape(self):
        return SCALAR

    def _compute_order(self):
        return (0, "", (), self.value)   # exact: float() overflows at 1e616


class Apply(Expr):
    """op(args; attrs): attrs are hashable non-expression parameters (sizes, indices)."""
    __slots__ = ()

    def __new__(cls, op: str, args=(), attrs=()):
        key = (op, tuple(args), tuple(attrs))
        node = _interned.get((cls, key))   # Expr.__new__, inlined: the hottest constructor
        if node is None:
            node = super().__new__(cls, *key)
            node.op, node.args, node.attrs = key
        return node

    def _compute_shape(self):
        return REGISTRY[self.op].shape_of([a.shape for a in self.args], self.attrs)

    def _compute_order(self):
        return (3, self.op, tuple(a.order for a in self.args), tuple(str(a) for a in self.attrs))


def lift(x) -> Expr:
    return x if isinstance(x, Expr) else Num(x)


def make(op: str, *args, attrs=()) -> Expr:
    """The smart constructor: the canonical form of op(args), memoised for the
    current derivation (nodes are interned, so the key is cheap and exact)."""
    attrs = tuple(attrs)
    key = (op, args, attrs)
    hit = MADE.get(key)
    if hit is None:
        canon = REGISTRY[op].canon
        hit = canon(args, attrs) if canon is not None else Apply(op, args, attrs)
        if len(MADE) >= MAX_MADE:
            MADE.clear()
        MADE[key] = hit
    return hit


# Canonical forms built during the current derivation, held strongly (a derivation
# asks for the same ones again and again: products of the same factors, transposes of
# the same sums); `ops.core.end_derivation` empties it, so batch memory stays flat.
MADE: dict = {}
MAX_MADE = 200_000


def neg(x: Expr) -> Expr:
    return make("mul", Num(-1), x)


ONE = Num(1)
ZERO = Num(0)   # held here, so every Num(0) is this node (interned): is_zero is a test of identity


def zeros(shape) -> Expr:
    return Apply("zeros", (), shape)


def is_zero(e: Expr) -> bool:
    return e is ZERO or e.op == "zeros"


def identity(n) -> Expr:
    return ONE if Dim.of(n).is_one else Apply("I", (), (n,))


def ones(shape) -> Expr:
    return ONE if is_scalar(shape) else Apply("ones", (), shape)


def substitute(e: Expr, mapping: dict, memo=None) -> Expr:
    """Replace nodes (usually symbols) and rebuild canonically."""
    if memo is None:
        memo = {}
    if e in mapping:
        return mapping[e]
    if not e.args:
        return e
    hit = memo.get(e)
    if hit is None:
        names = {m.name for m in mapping if isinstance(m, Sym)}
        if names and not (e.free & names):
            hit = e
        else:
            assert isinstance(e, Apply)  # only Apply nodes have args
            hit = make(e.op, *(substitute(a, mapping, memo) for a in e.args), attrs=e.attrs)
        memo[e] = hit
    return hit


def walk(e: Expr):
    """Every distinct node below e, children before parents (a topological order:
    depth first, arguments in order, each node at its first visit)."""
    if not e.args:
        return [e]
    seen, out = {e}, []
    stack = [(e, iter(e.args))]
    while stack:
        node, rest = stack[-1]
        for a in rest:
            if a not in seen:
                seen.add(a)
                if a.args:
                    stack.append((a, iter(a.args)))
                    break
                out.append(a)
        else:
            stack.pop()
            out.append(node)
    return out


def depending(order, x) -> dict:
    """node -> whether it depends on x, for `order` = walk(root) (children first)."""
    out = {x: True}
    for n in order:
        if n is not x:
            out[n] = any(out[a] for a in n.args)
    return out
