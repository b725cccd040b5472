"""Simplification beyond the canonical constructors: factor.py pulls common factors
out of sums and keeps the smaller form; cse.py names repeated subexpressions."""
from __future__ import annotations


def simplify(e):
    from .factor import factor
    return factor(e)
