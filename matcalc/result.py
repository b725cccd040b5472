"""`Result`: one derivative, printable in every format.

`str(r)` is the text form (the input language: it parses back), `.latex()`,
`.pretty()`, `.numpy()` (a self-contained function), `.to_json()`, `_repr_latex_`
for Jupyter, `.evaluate(**arrays)` for NumPy values.  `definitions` are the named
subexpressions (`… where C = …`), printed after the result in every format.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .shapes import show

KIND_TITLES = {"grad": "gradient", "dir": "directional derivative", "elem": "per-element derivative",
               "jac": "Jacobian", "hess": "Hessian"}


@dataclass
class Result:
    command: str
    input: str
    wrt: str
    expr: object
    symbols: list                          # the typed Syms, in order of appearance
    direction: object = None               # the Sym standing for dX in `dir`
    definitions: list = field(default_factory=list)   # [(name, expr)]
    steps: list = field(default_factory=list)
    check: object = None                   # numeric.Outcome when verified
    problem: object = field(default=None, repr=False)   # the infer.Problem: typed input F and its symbols

    @property
    def shapes(self) -> dict:
        out = {s.name: tuple(str(d) for d in s.shape) for s in self.symbols}
        if self.direction is not None:
            out[self.direction.name] = tuple(str(d) for d in self.direction.shape)
        return out

    def shapes_text(self) -> str:
        syms = self.symbols + ([self.direction] if self.direction is not None else [])
        return ", ".join(f"{s.name}: {show(s.shape)}" for s in syms)

    def _with_definitions(self, printer, sep=" where ", eq=" = ", join=", ") -> str:
        main = printer(self.expr)
        if not self.definitions:
            return main
        return main + sep + join.join(f"{name}{eq}{printer(d)}" for name, d in self.definitions)

    def __str__(self) -> str:
        from .printers.text import TextPrinter
        return self._with_definitions(TextPrinter())

    text = __str__

    def __repr__(self) -> str:
        return f"<matcalc {self.command} wrt {self.wrt}: {self}>"

    def pretty(self) -> str:
        from .printers.pretty import PrettyPrinter
        return self._with_definitions(PrettyPrinter())

    def latex(self) -> str:
        from .printers.latex import LatexPrinter
        return self._with_definitions(LatexPrinter(), sep=r" \quad \text{where } ", join=r",\; ")

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"

    @property
    def arguments(self) -> list:
        """The NumPy function's parameters: the symbols sorted by name, then the
        direction (dir), or i, j (elem)."""
        args = sorted(self.symbols, key=lambda s: s.name)
        if self.direction is not None:
            args.append(self.direction)
        return args

    @property
    def extra_arguments(self) -> tuple:
        return ("i", "j") if self.command == "elem" else ()

    def function_name(self) -> str:
        return f"{self.command}_{self.wrt}"

    def numpy(self) -> str:
        from .printers.numpy import function_source
        expr = self.full_expr()
        doc = (f"{KIND_TITLES.get(self.command, self.command).capitalize()} of {self.input} "
               f"with respect to {self.wrt}.\n\n    Shapes: {self.shapes_text()}.\n    ")
        return function_source(expr, self.arguments, name=self.function_name(), doc=doc,
                               extra=self.extra_arguments)

    def full_expr(self):
        """The result with its named subexpressions substituted back."""
        from .expr import Sym, substitute
        expr = self.expr
        for name, d in reversed(self.definitions):
            expr = substitute(expr, {Sym(name, d.shape): d})
        return expr

    def evaluate(self, **arrays):
        """The result at concrete NumPy arrays (keyword arguments by symbol name)."""
        from .printers.numpy import compile_function
        return compile_function(self.numpy(), self.function_name())(**arrays)

    def to_dict(self) -> dict:
        out = {"command": self.command, "input": self.input, "wrt": self.wrt,
               "shapes": {k: list(v) for k, v in self.shapes.items()},
               "result": str(self), "latex": self.latex(), "ok": True}
        if self.direction is not None:
            out["direction"] = self.direction.name
        if self.definitions:
            from .printers.text import to_text
            out["definitions"] = {n: to_text(d) for n, d in self.definitions}
        if self.steps:
            out["steps"] = [s if isinstance(s, str) else s.get("text") for s in self.steps]
        if self.check is not None:
            out["check"] = {"kind": self.check.kind, "error": self.check.error, "tolerance": self.check.tolerance,
                            "passed": self.check.passed}
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

