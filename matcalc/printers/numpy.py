"""The `numpy` format: a self-contained Python function that uses only NumPy.

It is also matcalc's evaluator: `compile_function` executes exactly the source this
module prints, so every numeric check (`check`, `--check`, the tests) exercises the
`--format numpy` output.

Conventions inside the generated code: every array is 2-D (a vector is a column, a
scalar 1×1; arguments are reshaped on entry); sizes are read off the arguments.
A scalar result is returned as a float, any other as a 2-D array.
"""
from __future__ import annotations

from ..expr import Sym, walk
from ..shapes import Dim, is_scalar
from .base import Printer


class NumpyPrinter(Printer):
    fmt = "numpy"
    PLUS, MINUS, NEG = " + ", " - ", "-"
    SCALE, HADAMARD, MATMUL = " * ", " * ", " @ "

    def number(self, v) -> str:
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"

    def _print_E(self, e) -> str:
        i, j, r, c = e.attrs
        return f"np.outer(np.eye({self.dim(r)})[{self.dim(i)}], np.eye({self.dim(c)})[{self.dim(j)}])"

    def _print_zeros(self, e) -> str:
        return f"np.zeros(({self.dim(e.attrs[0])}, {self.dim(e.attrs[1])}))"

    def _print_slice(self, e) -> str:
        r0, r1, c0, c1 = e.attrs
        from ..ops import PREC_POSTFIX
        return self.paren(e.args[0], PREC_POSTFIX) + \
            f"[{self.dim(r0)}:{self.dim(r1)}, {self.dim(c0)}:{self.dim(c1)}]"

    def _print_block(self, e) -> str:
        nr, nc = e.attrs
        cells = [self.p(b) for b in e.args]
        return "np.block([" + ", ".join("[" + ", ".join(cells[r * nc:(r + 1) * nc]) + "]" for r in range(nr)) + "])"

    def _print_K(self, e) -> str:
        m, n = (self.dim(d) for d in e.attrs)
        # row j + i*n of K(m, n) picks entry i + j*m of vec(X): K vec(X) = vec(X.T)
        return f"np.eye({m}*{n})[np.arange({m}*{n}).reshape(({m}, {n}), order='F').ravel()]"

    def _print_matpow(self, e) -> str:
        return f"np.linalg.matrix_power({self.p(e.args[0])}, {e.attrs[0]})"


def _dim_bindings(args) -> list[str]:
    """Python lines that read every size name off the arguments' shapes."""
    known: dict[str, str] = {}
    lines = []
    for a in args:
        for axis, d in enumerate(a.shape):
            names = d.names() - set(known)
            if len(names) == 1 and len(d.terms) == 1:
                (mono, coef), = d.terms
                if len(mono) == 1:
                    name = mono[0]
                    src = f"{a.name}.shape[{axis}]" + (f" // {coef}" if coef != 1 else "")
                    known[name] = src
                    lines.append(f"{name} = {src}")
    return lines


def function_source(e, args, name="f", doc="", extra=(), raw=False) -> str:
    """Source of `def name(*args, *extra): return e` (args: Syms in order; extra:
    plain parameters such as the indices i, j).  `raw` returns e as NumPy gives it."""
    p = NumpyPrinter()
    body = p(e)
    params = [a.name for a in args] + list(extra)
    lines = ["import numpy as np", "", "", f"def {name}({', '.join(params)}):"]
    if doc:
        lines.append(f'    """{doc}"""')
    for a in args:
        if is_scalar(a.shape):
            lines.append(f"    {a.name} = np.reshape(np.asarray({a.name}, dtype=float), (1, 1))")
        elif a.shape[1].is_one:
            lines.append(f"    {a.name} = np.reshape(np.asarray({a.name}, dtype=float), (-1, 1))")
        else:
            lines.append(f"    {a.name} = np.asarray({a.name}, dtype=float)")
    lines += ["    " + b for b in _dim_bindings(args)]
    if raw:
        lines.append(f"    return {body}")
    elif e.is_scalar:
        lines.append(f"    return float(np.reshape({body}, ()))")
    else:
        lines.append(f"    return {body}")
    return "\n".join(lines) + "\n"


def compile_function(source: str, name: str = "f"):
    import numpy as np
    namespace = {"np": np}
    exec(compile(source, f"<matcalc {name}>", "exec"), namespace)
    return namespace[name]


def evaluator(e, args):
    """A callable evaluating e at concrete arrays, compiled from the printed source."""
    return compile_function(function_source(e, args))


def symbols_of(e) -> list:
    return sorted({n for n in walk(e) if isinstance(n, Sym)}, key=lambda s: s.name)
