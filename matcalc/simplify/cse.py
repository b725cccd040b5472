"""Name repeated subexpressions: `… where C = …`.

A subexpression is worth a name when it is not trivial (at least MIN_SIZE nodes),
occurs more than once in the printed tree (itself or its transpose) and naming saves
SAVING nodes; short linear combinations of symbols (x - mu) are always spelt out.  Larger ones are named first; after each
naming the occurrences are counted again, so a part that only repeats inside a named
subexpression is not named twice.  Names are capital letters not already in use.
"""
from __future__ import annotations

import itertools

from ..expr import Apply, Sym, make, walk

MIN_SIZE = 4   # nodes: smaller subexpressions are never named
SAVING = 6     # nodes a name must save: (occurrences - 1) × size
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
    fresh = (n for n in itertools.chain(NAMES, (f"C{k}" for k in itertools.count(1))) if n not in taken)
    tried: set = set()   # each candidate once: naming must make progress
    while True:
        count = occurrences(e)
        best = None
        for n in walk(e):  # children first: among equal sizes the first occurrence wins
            if isinstance(n, Sym) or n.op == "T" or n in tried or _combination_of_symbols(n):
                continue  # a transpose is counted with its argument; x - mu reads best spelt out
            mirror = _transposed(n)
            uses = count.get(n, 0) + (count.get(mirror, 0) if mirror is not n else 0)
            small, large = sorted((n.size, mirror.size))
            if uses > 1 and small >= MIN_SIZE and (uses - 1) * large >= SAVING \
                    and (best is None or n.size > best.size):
                best = n
        if best is None:
            break
        tried.update((best, _transposed(best)))
        if _transpose_count(_transposed(best)) < _transpose_count(best):
            best = _transposed(best)  # name the form with fewer transposes: C = X.T@A@X
        placeholder = Sym(next(fresh), best.shape)
        mirror = _transposed(best)  # X.T@A.T@X is C.T when C = X.T@A@X is named
        for target, by in ((best, placeholder), (mirror, Apply("T", (placeholder,)))):
            if target is not best or by is placeholder:
                e = replace(e, target, by)
                defs = [(n, replace(d, target, by)) for n, d in defs]
        defs.append((placeholder.name, best))
    return e, list(reversed(defs))


def _combination_of_symbols(n) -> bool:
    """x - mu, a + 2*b.T: short enough to repeat."""
    from ..ops.core import split_coefficient
    return n.op == "add" and all(split_coefficient(t)[1].op in (None, "T") and
                                 split_coefficient(t)[1].size <= 2 for t in n.args)


def _transpose_count(n) -> int:
    return sum(1 for m in walk(n) if m.op == "T")


def _transposed(n):
    return make("T", n) if not n.is_scalar else n


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
