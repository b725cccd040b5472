"""`transpose(L, dX, G)`: for L linear in the symbol dX, the cotangent C with
<G, L> = <C, dX> for every dX, where <A, B> = tr(Aᵀ B) = sum(A ⊙ B).

This is reverse accumulation over L's DAG (JAX's backward pass, done symbolically):
nodes are visited parents first; a shared subexpression collects the cotangents of
all its uses, summed once, before its own entry's `adjoint` pushes the sum further
down.  Only the linear operators need adjoint rules.
"""
from __future__ import annotations

from ..errors import UnsupportedError
from ..expr import REGISTRY, Expr, Sym, depending, make, walk
from ..ops.core import zero_like


def transpose(L: Expr, dX: Sym, G: Expr, record=None) -> Expr:
    nodes = walk(L)
    depends = depending(nodes, dX)
    order = [n for n in nodes if depends[n]]
    pending: dict = {L: [G]}
    found = []
    for node in reversed(order):  # parents before children
        parts = pending.pop(node, None)
        if parts is None:
            continue
        g = parts[0] if len(parts) == 1 else make("add", *parts)
        if node is dX:
            found.append(g)
            continue
        entry = REGISTRY[node.op]
        if entry.adjoint is None:
            raise UnsupportedError(f"no adjoint rule for {node.op}: the gradient through it is not supported yet")
        for k, a in enumerate(node.args):
            if depends[a]:
                c = entry.adjoint(node, k, g)
                if record is not None:
                    record(node, k, g, c)
                pending.setdefault(a, []).append(c)
    if len(found) == 1:
        return found[0]
    return make("add", *found) if found else zero_like(dX.shape)
