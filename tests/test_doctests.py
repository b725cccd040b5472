"""Every docstring example in the package runs (doctest), under the README's test
command `python3 -m pytest` — no extra option needed."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import matcalc

MODULES = sorted(m.name for m in pkgutil.walk_packages(matcalc.__path__, "matcalc.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", ["matcalc"] + MODULES)
def test_doctests_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name} (run: python -m pytest -s to see them)"


def test_doctests_exist_for_the_public_api():
    """The API a user meets first is documented by example."""
    finder = doctest.DocTestFinder()
    examples = {name: sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
                for name in ("matcalc", "matcalc.result", "matcalc.api")}
    assert examples["matcalc"] >= 8 and examples["matcalc.result"] >= 4, examples
