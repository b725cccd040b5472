"""The operator registry: one `Op` entry holds everything about an operator —
shape rule, canonicalising constructor, transpose identity, differential,
adjoint (linear operators only), printing templates, numeric domain.

Contracts of an entry (tested for every entry by tests/test_registry.py):
  * `shape`: a Signature or a function (U, arg_shapes, attrs) -> shape, where U is a
    shapes.Unifier during inference and None on concrete shapes;
  * `diff(node, dargs)`: the differential, linear in the tangents `dargs` (ZERO-free:
    an argument with no dependence has a zero tangent);
  * `adjoint(node, k, G)`: for an op linear in argument k, the cotangent C of that
    argument, with <G, node(..., dA_k, ...)> = <C, dA_k> for all dA_k;
  * `transpose(node)`: node.T pushed one level inward, or None to keep `node.T`;
  * `canon(args, attrs)`: the canonical node for op(args) (expr.make calls it).

Adding an operator is one `register(...)` call, usually through the helpers
`linear`, `elementwise`, `function`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..expr import REGISTRY, Apply
from ..shapes import ShapeMismatch, Signature

# printing precedence, loosest first; the grammar's tower has the same order
PREC_ADD, PREC_MUL, PREC_KRON, PREC_NEG, PREC_POW, PREC_POSTFIX, PREC_ATOM = 10, 20, 30, 40, 50, 60, 70


@dataclass
class Op:
    name: str
    shape: object                      # Signature or callable(U, shapes, attrs)
    diff: Callable | None = None       # (node, dargs) -> tangent
    adjoint: Callable | None = None    # (node, k, G) -> cotangent of argument k
    transpose: Callable | None = None  # (node) -> node.T pushed inward, or None
    canon: Callable | None = None      # (args, attrs) -> canonical Expr
    call: tuple = ()                   # names in function-call syntax, first is canonical
    text: str | None = None            # templates: {0}, {1} are the printed arguments
    pretty: str | None = None
    latex: str | None = None
    numpy: str | None = None
    prec: int = PREC_ATOM
    domain: tuple = ()                 # per argument: 'invertible', 'positive', 'posdet', 'nonzero'
    linear_in: tuple = ()              # argument positions the op is linear in
    nargs: int | None = 1
    doc: str = ""
    attrs_from_call: Callable | None = field(default=None, repr=False)  # call syntax -> (args, attrs)

    def shape_of(self, shapes, attrs):
        if isinstance(self.shape, Signature):
            return self.shape.apply(shapes)
        return self.shape(None, shapes, attrs)

    def infer(self, U, shapes, attrs):
        if isinstance(self.shape, Signature):
            return self.shape.infer(U, shapes)
        return self.shape(U, shapes, attrs)


FUNCTIONS: dict[str, Op] = {}   # call-syntax name (and alias) -> entry


def register(op: Op) -> Op:
    REGISTRY[op.name] = op
    for name in op.call:
        FUNCTIONS[name] = op
    return op


def sig(text: str) -> Signature:
    return Signature(text)


def function(name, signature, diff=None, *, call=None, latex=None, pretty=None, numpy=None, **kw) -> Op:
    """A function-call operator `name(X)`."""
    call = call or (name,)
    return register(Op(name, sig(signature) if isinstance(signature, str) else signature, diff=diff, call=call,
                       text=kw.pop("text", f"{call[0]}({{0}})"),
                       pretty=pretty or f"{call[0]}({{0}})",
                       latex=latex or rf"\operatorname{{{call[0]}}}\left({{0}}\right)",
                       numpy=numpy or f"np.{name}({{0}})", **kw))


def linear(name, signature, adjoint, **kw) -> Op:
    """A unary linear operator: d op(X) = op(dX)."""
    from ..expr import make
    return function(name, signature, diff=lambda node, d: make(name, d[0], attrs=node.attrs),
                    adjoint=adjoint, linear_in=(0,), **kw)


def elementwise(name, derivative, *, numpy=None, latex=None, domain=(), **kw) -> Op:
    """f applied entry by entry: d f(X) = f'(X) ⊙ dX, with `derivative(X)` giving f'(X)."""
    from ..expr import make
    return function(name, "(m,n)->(m,n)", diff=lambda node, d: make("mul", derivative(node.args[0]), d[0]),
                    transpose=lambda node: make(name, make("T", node.args[0])),
                    numpy=numpy, latex=latex or rf"\{name}\left({{0}}\right)", domain=domain, **kw)


def mismatch(message, *operands):
    raise ShapeMismatch(message, operands)


from . import core, linalg, pointwise, structure  # noqa: E402,F401  (fill the registry)
