"""`differential(F, X, dX)`: the differential dF, an expression linear in the tangent
dX (a symbol, a direction V or a unit matrix E(i,j) — whatever stands for dX).

Forward over the expression DAG, children first, each node once: a node that does not
depend on X has a zero tangent, which the smart constructors drop; every other node
asks its registry entry for `diff(node, dargs)`.
"""
from __future__ import annotations

from ..errors import UnsupportedError
from ..expr import REGISTRY, Expr, Sym, depending, walk
from ..ops.core import zero_like


def differential(F: Expr, X: Sym, dX: Expr, record=None) -> Expr:
    tangents: dict = {}
    order = walk(F)
    depends = depending(order, X)
    for node in order:
        if node is X:
            tangents[node] = dX
        elif not depends[node]:
            tangents[node] = zero_like(node.shape)
        else:
            entry = REGISTRY[node.op]
            if entry.diff is None:
                raise UnsupportedError(f"the derivative of {entry.call[0] if entry.call else node.op} "
                                       "is not supported yet")
            tangents[node] = entry.diff(node, [tangents[a] for a in node.args])
            if record is not None:
                record(node, tangents[node])
    return tangents[F]
