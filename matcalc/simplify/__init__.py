"""Simplification beyond the canonical constructors: factor.py pulls common factors
out of sums and keeps the smaller form; cse.py names repeated subexpressions."""
from __future__ import annotations


def simplify(e, taken=frozenset()):
    """(result, definitions): factored, with repeated subexpressions named."""
    from .cse import name_repeats
    from .factor import factor
    return name_repeats(factor(e), set(taken))
