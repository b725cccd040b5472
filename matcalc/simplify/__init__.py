"""Simplification beyond the canonical constructors: factor.py pulls common factors
out of sums and keeps the smaller form; cse.py names repeated subexpressions."""
from __future__ import annotations


def simplify(e, taken=frozenset()):
    """(result, definitions): factored, with repeated subexpressions named."""
    from .cse import name_repeats
    from .factor import factor, regroup_transposes
    memo: dict = {}
    out, definitions = name_repeats(factor(e), set(taken))
    return regroup_transposes(out, memo), [(n, regroup_transposes(d, memo)) for n, d in definitions]
