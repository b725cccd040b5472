"""Name repeated subexpressions: `… where C = …`.

A subexpression is worth a name when it is not trivial (at least MIN_SIZE nodes),
occurs more than once in the printed tree (itself or its transpose) and naming saves
SAVING nodes; short linear combinations of symbols (x - mu) are always spelt out.
The one that saves most is named first (X.T@A@X, used three times, before
inv(X.T@A@X), used twice); after each naming the occurrences are counted again, so
a part that only repeats inside a named subexpression is not named twice.  Names are capital letters not already in use.
"""
from __future__ import annotations

import itertools
from collections import Counter

from ..expr import Apply, Sym, make, walk
from ..ops.core import split_coefficient

MIN_SIZE = 4   # nodes: smaller subexpressions are never named
SAVING = 6     # nodes a name must save: (occurrences - 1) × size
NAMES = "CDFGHJKLNOPRSTUVWYZ"


def occurrences(e, stop=(), order=None) -> dict:
    """How often each node occurs in the tree that e prints as (DAG edges counted),
    not counting the occurrences inside the nodes of `stop`; `order` is walk(e)
    when the caller has it."""
    order = walk(e) if order is None else order
    count = {e: 1}
    for node in reversed(order):  # parents first
        c = count.get(node, 0)
        if node in stop:
            continue
        for a in node.args:
            count[a] = count.get(a, 0) + c
    return count


def name_repeats(e, taken: set) -> tuple:
    """(expression with names, [(name, definition)]) — definitions in dependency order."""
    defs: list[tuple] = []   # (name, definition)
    fresh = (n for n in itertools.chain(NAMES, (f"C{k}" for k in itertools.count(1))) if n not in taken)
    tried: set = set()   # each candidate once: naming must make progress
    plain: dict = {}     # node -> its number of nodes that are not .T (transpose_invariant)
    while True:
        best = _most_saving(e, tried, plain)
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
    return e, _dependency_order(list(reversed(defs)))


def _most_saving(e, tried, plain: dict):
    """The subexpression whose name saves most nodes, or None.  One that occurs only
    inside other candidates waits for them (a@b.T inside a@b.T + b@a.T); one that
    also occurs elsewhere may go first (X.T@A@X in det(X.T@A@X) and in
    inv(X.T@A@X): naming it names both)."""
    if e.size < 2 * MIN_SIZE + 1:
        return None   # no room for two occurrences of a subexpression worth a name
    nodes = walk(e)
    count = occurrences(e, order=nodes)
    _plain_sizes(nodes, plain)
    kinds = Counter((n.free, plain[n]) for n in nodes)
    candidates = {}   # node -> (saving, size, its transpose)
    for n in nodes:
        if isinstance(n, Sym) or n.op == "T" or n.size < MIN_SIZE or n in tried or _combination_of_symbols(n):
            continue  # a transpose is counted with its argument; x - mu reads best spelt out
        if count.get(n, 0) < 2 and kinds[n.free, plain[n]] < 2:
            continue  # used once, and its transpose is not in the tree: no need to build it
        mirror = _transposed(n)
        wraps = mirror.op == "T" and mirror.args[0] is n   # inv(C).T: its uses are inside n's
        uses = count.get(n, 0) + (count.get(mirror, 0) if mirror is not n and not wraps else 0)
        small, large = sorted((n.size, mirror.size))
        if uses > 1 and small >= MIN_SIZE and (uses - 1) * large >= SAVING:
            candidates[n] = ((uses - 1) * large, n.size, mirror)
    if not candidates:
        return None
    outside = occurrences(e, stop=candidates, order=nodes)   # uses not inside another candidate
    best, key = None, None
    for n in nodes:  # children first: among equal savings the first occurrence wins
        c = candidates.get(n)
        if c is not None and (outside.get(n, 0) or outside.get(c[2], 0)) and (key is None or c[:2] > key):
            best, key = n, c[:2]
    return best


def transpose_invariant(n, plain: dict) -> tuple:
    """What n and n.T share: their symbols and their number of nodes other than
    transposes (transposing moves .T to the leaves, and symmetric ones absorb it).
    Nodes that differ in it are not each other's transpose, so the transpose of a
    node used once need only be built when another node shares it (building it is
    the costliest step of naming).  `plain` memoises the counts; n's arguments must
    be in it, or they are filled in here.  tests/test_hypothesis.py
    checks that it holds."""
    if n not in plain:
        _plain_sizes(walk(n), plain)
    return n.free, plain[n]


def _plain_sizes(order, plain: dict) -> None:
    """Fill `plain` for the nodes of `order` (children first; known ones are kept)."""
    for m in order:
        if m not in plain:
            plain[m] = (m.op != "T") + sum(plain[a] for a in m.args)


def _dependency_order(defs):
    """Definitions so that each uses only names defined before it (otherwise in
    the order given)."""
    names = {n for n, _ in defs}
    needs = {n: d.free & names for n, d in defs}
    ordered, done = [], set()
    while len(ordered) < len(defs):
        for n, d in defs:
            if n not in done and needs[n] <= done:
                ordered.append((n, d))
                done.add(n)
    return ordered


def _combination_of_symbols(n) -> bool:
    """x - mu, a + 2*b.T: short enough to repeat."""
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
    if e.size <= target.size or not e.args or not target.free <= e.free:
        return e   # too small, or without all of target's symbols: target is not in there
    memo = {} if memo is None else memo
    hit = memo.get(e)
    if hit is None:
        args = [replace(a, target, by, memo) for a in e.args]
        hit = e
        for a, b in zip(args, e.args):
            if a is not b:
                hit = make(e.op, *args, attrs=e.attrs)
                break
        memo[e] = hit
    return hit
