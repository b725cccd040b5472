"""`Result`: one derivative, printable in every format.

`str(r)` is the text form (the input language: it parses back), `.latex()`,
`.pretty()`, `.numpy()` (the source of a self-contained NumPy function),
`.to_json()`, `_repr_latex_` for Jupyter, `.evaluate(**arrays)` for NumPy values.
`definitions` are the named subexpressions (`… where C = …`), printed after the
result in every format and computed once, as temporaries, in the NumPy function.

Invariants: the printed forms are pure functions of (expr, definitions, shapes);
`full_expr()` is the result with every definition substituted back, the expression
that every numeric check evaluates.

    >>> import matcalc
    >>> r = matcalc.grad("tr((M@M.T - I)@(M@M.T - I).T)", wrt="M")
    >>> str(r)
    '4*(M@M.T - I)@M'
    >>> r.latex()
    '4 \\\\left(M M^{\\\\top} - I\\\\right) M'
    >>> r.shapes
    {'M': ('n', 'm')}
    >>> print(r.latex(label=True, shapes=True))
    \\nabla_{M} f = 4 \\left(M M^{\\top} - I\\right) M, \\qquad M \\in \\mathbb{R}^{n \\times m}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .shapes import show

KIND_TITLES = {"grad": "gradient", "dir": "directional derivative", "elem": "per-element derivative",
               "jac": "Jacobian", "hess": "Hessian"}


@dataclass(eq=False)
class Result:
    command: str
    input: str
    wrt: str
    expr: Any
    symbols: list                          # the typed Syms, in order of appearance
    direction: Any = None                  # the Sym standing for dX in `dir` (and `hess --along`)
    definitions: list = field(default_factory=list)   # [(name, expr)], in dependency order
    steps: list = field(default_factory=list)         # the derivation (--steps), str or {format: str}
    check: Any = None                      # numeric.Outcome when verified
    problem: Any = field(default=None, repr=False)    # the infer.Problem: typed input F and its symbols
    index: Any = None                      # elem --index: the entry ∂F_kl/∂X_ij in index notation
    _compiled: dict = field(default_factory=dict, repr=False, compare=False)

    # ---- shapes ----------------------------------------------------------------------
    def _typed_symbols(self) -> list:
        return self.symbols + ([self.direction] if self.direction is not None else [])

    @property
    def shapes(self) -> dict[str, tuple[str, ...]]:
        """Symbol name → (rows, cols) as dimension names or numbers."""
        return {s.name: tuple(str(d) for d in s.shape) for s in self._typed_symbols()}

    def shapes_text(self) -> str:
        """`M: n×m, x: n×1` — every symbol's inferred shape."""
        return ", ".join(f"{s.name}: {show(s.shape)}" for s in self._typed_symbols())

    def shapes_latex(self) -> str:
        """`A, B \\in \\mathbb{R}^{n \\times n}, \\; x \\in \\mathbb{R}^{n}` (symbols of one shape grouped)."""
        from .printers.latex import latex_name, shape_latex
        groups: dict[str, list[str]] = {}
        for s in self._typed_symbols():
            groups.setdefault(shape_latex(s.shape), []).append(latex_name(s.name, self._differentials()))
        return r",\; ".join(f"{', '.join(names)} \\in {space}" for space, names in groups.items())

    # ---- text, pretty, LaTeX -------------------------------------------------------------
    def _with_definitions(self, printer: Callable, sep: str = " where ", eq: str = " = ", join: str = ", ") -> str:
        main = printer(self.expr)
        if not self.definitions:
            return main
        return main + sep + join.join(f"{name}{eq}{printer(d)}" for name, d in self.definitions)

    def __str__(self) -> str:
        if self.index is not None and hasattr(self.index, "text"):   # elem --index
            return self.index.text()
        from .printers.text import TextPrinter
        return self._with_definitions(TextPrinter())

    def text(self) -> str:
        """The text form: the input language, with `where` definitions; it parses back."""
        return str(self)

    def __repr__(self) -> str:
        return f"<matcalc {self.command} wrt {self.wrt}: {self}>"

    def pretty(self) -> str:
        """Unicode maths on one line: `4 (M Mᵀ − I) M`."""
        if self.index is not None and hasattr(self.index, "pretty"):   # elem --index
            return self.index.pretty()
        from .printers.pretty import PrettyPrinter
        return self._with_definitions(PrettyPrinter())

    def _differentials(self) -> frozenset:
        d = self.direction
        if d is not None and d.name.startswith("d") and len(d.name) > 1:
            return frozenset({d.name})
        return frozenset()

    def latex(self, *, label: bool = False, shapes: bool = False) -> str:
        """The result in LaTeX (math mode), `where` definitions included; `label`
        prefixes what it is (`\\nabla_{M} f = `), `shapes` appends the symbols' spaces."""
        from .printers.latex import LatexPrinter
        p = LatexPrinter(self._differentials())
        out = p(self.expr)
        indexed = self.index is not None and hasattr(self.index, "latex")   # elem --index
        if indexed:
            out = self.index.latex()
        if label:
            out = (self.index.lhs("latex") if indexed else self.latex_label()) + " = " + out
        if self.definitions and not indexed:
            defs = r",\; ".join(f"{p.symbol(_placeholder(n, d))} = {p(d)}" for n, d in self.definitions)
            out += r" \quad \text{where } " + defs
        if shapes:
            out += r", \qquad " + self.shapes_latex()
        return out

    def latex_label(self) -> str:
        """What the result is, in LaTeX: `\\nabla_{M} f`, `\\mathrm{d}F`, `\\frac{\\partial F}{\\partial X_{ij}}`."""
        from .printers.latex import latex_name
        if "," in self.wrt:
            x = ", ".join(latex_name(w) for w in self.wrt.split(","))
        else:
            x = latex_name(self.wrt)
        v = latex_name(self.direction.name, self._differentials()) if self.direction is not None else ""
        if self.command == "grad":
            return rf"\nabla_{{{x}}} f"
        if self.command == "dir":
            return r"\mathrm{d}F" if self._differentials() else rf"\mathrm{{D}}F({x})[{v}]"
        if self.command == "elem":
            return rf"\frac{{\partial F}}{{\partial {x}_{{ij}}}}"
        if self.command == "jac":
            return rf"\frac{{\partial \operatorname{{vec}} F}}{{\partial \operatorname{{vec}}({x})^{{\top}}}}"
        if self.command == "hess":
            return rf"\nabla^{{2}}_{{{x}}} f" + (rf"\,[{v}]" if v else "")
        return self.command

    def latex_block(self, header: bool = False) -> str:
        """The `--format latex` output: the result line (`latex()`), then the shapes as
        a LaTeX comment, so the block pastes into a math environment as it is;
        `header` adds a comment line naming the result (several results)."""
        lines = []
        if header:
            lines.append(f"% {self.command} wrt {self.wrt}")
        lines.append(self.latex())
        lines.append("% " + self.shapes_latex())
        return "\n".join(lines) + "\n"

    def steps_in(self, fmt: str) -> list[str]:
        """The derivation's lines in one format (a step is a string or {format: string})."""
        out = []
        for s in self.steps:
            if isinstance(s, str):
                out.append(s)
            elif isinstance(s, dict):
                out.append(str(s.get(fmt) or s.get("text") or ""))
            else:
                out.append(str(s))
        return out

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex(label=True, shapes=True)}$"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"{self.pretty()}    ({self.shapes_text()})")

    # ---- NumPy ---------------------------------------------------------------------------
    @property
    def arguments(self) -> list:
        """The NumPy function's parameters: the symbols sorted by name, then the
        direction (dir, hess --along), or i, j (elem)."""
        args = sorted(self.symbols, key=lambda s: s.name)
        if self.direction is not None:
            args.append(self.direction)
        return args

    @property
    def extra_arguments(self) -> tuple:
        return ("i", "j") if self.command == "elem" else ()

    def function_name(self, value: bool = False) -> str:
        from .printers.numpy import py_name
        wrt = "_".join(py_name(w) for w in self.wrt.split(","))
        return f"{'value_and_' if value else ''}{self.command}_{wrt}"

    def value_expr(self) -> Any:
        """The differentiated expression F itself (typed)."""
        if self.problem is None:
            raise ValueError("this result does not carry its input expression")
        return self.problem.expr

    def numpy(self, value: bool = False) -> str:
        """The source of a self-contained NumPy function computing the result; with
        `value`, the function returns (F, result), sharing their common work."""
        from .printers.numpy import function_source
        kind = KIND_TITLES.get(self.command, self.command)
        params = ", ".join([a.name for a in self.arguments] + list(self.extra_arguments))
        lines = [f"{kind.capitalize()} of {self.input} with respect to {self.wrt}"
                 + (f" along {self.direction.name}" if self.direction is not None and self.command != "grad" else "")
                 + ".", "", f"{self.function_name(value)}({params}) = {self}", "",
                 f"Shapes: {self.shapes_text()}."]
        shape = self.expr.shape
        what = "a float" if self.expr.is_scalar else f"an array of shape {show(shape)}"
        if value:
            f_what = "a float" if self.value_expr().is_scalar else f"an array of shape {show(self.value_expr().shape)}"
            lines.append(f"Returns (value, {kind}): the value of the expression ({f_what}) and the {kind} ({what}).")
        else:
            lines.append(f"Returns the {kind}: {what}.")
        if self.extra_arguments:
            lines.append("i, j: the (0-based) entry of the variable.")
        doc = "\n    ".join(lines).replace("\n    \n", "\n\n") + "\n    "
        outputs = (self.value_expr(), self.expr) if value else self.expr
        return function_source(outputs, self.arguments, name=self.function_name(value), doc=doc,
                               extra=self.extra_arguments, definitions=self._typed_definitions())

    def _typed_definitions(self) -> list:
        return [(n, d) for n, d in self.definitions]

    def full_expr(self) -> Any:
        """The result with its named subexpressions substituted back."""
        from .expr import substitute
        expr = self.expr
        for name, d in reversed(self.definitions):
            expr = substitute(expr, {_placeholder(name, d): d})
        return expr

    def evaluate(self, value: bool = False, **arrays: Any) -> Any:
        """The result at concrete NumPy arrays, given by symbol name (and `i`, `j` for
        elem), computed by the function `.numpy()` prints: a float for a scalar
        result, a 2-D array otherwise; with `value`, the pair (F, result).

        >>> import numpy as np, matcalc
        >>> matcalc.grad("x.T@A@x", wrt="x").evaluate(A=np.eye(2), x=[1.0, 2.0]).ravel().tolist()
        [2.0, 4.0]
        """
        from .printers.numpy import compile_function, py_name
        names = [a.name for a in self.arguments] + list(self.extra_arguments)
        missing = [n for n in names if n not in arrays]
        unknown = sorted(set(arrays) - set(names))
        if missing or unknown:
            raise TypeError(f"evaluate() needs {', '.join(names)}"
                            + (f"; missing {', '.join(missing)}" if missing else "")
                            + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        fn = self._compiled.get(value)
        if fn is None:
            fn = self._compiled[value] = compile_function(self.numpy(value), self.function_name(value))
        return fn(**{py_name(k): v for k, v in arrays.items()})

    # ---- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out: dict[str, Any] = {"command": self.command, "input": self.input, "wrt": self.wrt,
                               "shapes": {k: list(v) for k, v in self.shapes.items()},
                               "result": str(self), "latex": self.latex(), "ok": True}
        if self.direction is not None:
            out["direction"] = self.direction.name
        if self.definitions:
            from .printers.text import to_text
            out["definitions"] = {n: to_text(d) for n, d in self.definitions}
        if self.index is not None:
            out["index"] = self.index if isinstance(self.index, str) else _text(self.index)
        if self.steps:
            out["steps"] = self.steps_in("text")
        if self.check is not None:
            out["check"] = {"kind": self.check.kind, "error": self.check.error, "tolerance": self.check.tolerance,
                            "passed": self.check.passed}
        return out

    def to_json(self) -> str:
        """One JSON object (SPEC §2), on one line."""
        import json
        return json.dumps(self.to_dict(), ensure_ascii=False)


def _placeholder(name: str, d: Any) -> Any:
    from .expr import Sym
    return Sym(name, d.shape)


def _text(e: Any) -> str:
    from .printers.text import to_text
    return to_text(e)
