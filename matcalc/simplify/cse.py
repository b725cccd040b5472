"""Name repeated subexpressions: `… where C = …`.

A subexpression is worth a name when it is not trivial (at least MIN_SIZE nodes) and
occurs more than once in the printed tree.  Larger ones are named first; after each
naming the occurrences are counted again, so a part that only repeats inside a named
subexpression is not named twice.  Names are capital letters not already in use.
"""
from __future__ import annotations

from ..expr import Sym, substitute, walk

MIN_SIZE = 4
NAMES = "CDFGHJKLNOPRSTUVWYZ"


def occurrences(e) -> dict:
    """How often each node occurs in the tree that e prints as (DAG edges counted)."""
    order = walk(e)
    count = {e: 1}
    for node in reversed(order):  # parents first
        c = count.get(node, 0)
        for a in node.args:
            count[a] = count.get(a, 0) + c
    return count


def name_repeats(e, taken: set) -> tuple:
    """(expression with names, [(name, definition)]) — definitions in dependency order."""
    defs = []
    fresh = (n for n in list(NAMES) + [f"C{k}" for k in range(1, 1000)] if n not in taken)
    while True:
        count = occurrences(e)
        named = {Sym(n, d.shape) for n, d in defs}
        candidates = [n for n, c in count.items()
                      if c > 1 and n.size >= MIN_SIZE and n not in named and not isinstance(n, Sym)]
        if not candidates:
            break
        best = max(candidates, key=lambda n: (n.size, -len(str(n))))
        name = next(fresh)
        placeholder = Sym(name, best.shape)
        e = substitute(e, {best: placeholder})
        defs = [(n, substitute(d, {best: placeholder})) for n, d in defs]
        defs.append((name, best))
    return e, list(reversed(defs))
