"""Name repeated subexpressions: `… where C = …`.

A subexpression is worth a name when it is not trivial (at least MIN_SIZE nodes) and
occurs more than once in the printed tree.  Larger ones are named first; after each
naming the occurrences are counted again, so a part that only repeats inside a named
subexpression is not named twice.  Names are capital letters not already in use.
"""
from __future__ import annotations

from ..expr import Sym, make, walk

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
        best = None
        for n in walk(e):  # children first: among equal sizes the first occurrence wins
            if count.get(n, 0) > 1 and n.size >= MIN_SIZE and n not in named and not isinstance(n, Sym) \
                    and (best is None or n.size > best.size):
                best = n
        if best is None:
            break
        placeholder = Sym(next(fresh), best.shape)
        e = replace(e, best, placeholder)
        defs = [(n, replace(d, best, placeholder)) for n, d in defs]
        defs.append((placeholder.name, best))
    return e, list(reversed(defs))


def replace(e, target, by, memo=None):
    """e with every occurrence of target replaced; only the nodes above an occurrence
    are rebuilt (canonically, so that the name sorts like any symbol)."""
    if e is target:
        return by
    if e.size <= target.size or not e.args:
        return e
    memo = {} if memo is None else memo
    hit = memo.get(e)
    if hit is None:
        args = tuple(replace(a, target, by, memo) for a in e.args)
        hit = memo[e] = e if all(a is b for a, b in zip(args, e.args)) else make(e.op, *args, attrs=e.attrs)
    return hit
