"""The `numpy` format: a self-contained Python function that uses only NumPy.

It is also matcalc's evaluator: `compile_function` executes exactly the source this
module prints, so every numeric check (`check`, `--check`, the tests) exercises the
`--format numpy` output.

Contract of `function_source(e, args, name=, doc=, extra=, raw=, definitions=)`:

* the source defines `def name(*args, *extra)` after `import numpy as np`, and
  nothing else; it needs no other module;
* every array is 2-D inside the function (a vector is a column, a scalar 1×1;
  arguments are reshaped on entry, so 1-D vectors and Python floats are accepted);
  sizes are read off the arguments' shapes;
* `definitions` ([(name, expr)], the `where C = …` of a result) become assignments
  `C = …` before the return, in order; any other subexpression that occurs more than
  once is computed once into a temporary (`t1 = …`);
* `inv(A) @ B` is written `np.linalg.solve(A, B)` and `B @ inv(A)` as
  `np.linalg.solve(A.T, B.T).T`: solving is cheaper and more accurate than forming
  the inverse; `inv` is kept where the inverse itself is the value (`inv(X).T`);
* `e` may be a tuple of expressions (the value and the derivative, `--value`): the
  function then returns a tuple and the expressions share their temporaries;
* a scalar result is returned as a Python float, any other as a 2-D array
  (`raw=True` returns what NumPy gives, a 1×1 array for a scalar).
"""
from __future__ import annotations

import keyword
import re

from ..expr import Num, Sym, walk
from ..ops import PREC_ATOM, PREC_MUL, PREC_POSTFIX
from ..shapes import is_scalar
from .base import Printer

# operators whose nodes are never worth a temporary (cheap views and constants)
_CHEAP = {"I", "zeros", "ones", "E", "K"}


def py_name(name: str) -> str:
    """A symbol's name as a Python identifier: `lambda` → `lambda_` (keywords and `np`)."""
    return name + "_" if keyword.iskeyword(name) or name == "np" else name


class NumpyPrinter(Printer):
    SIZED_I = ""   # np.eye(n) always has its size
    fmt = "numpy"
    PLUS, MINUS, NEG = " + ", " - ", "-"
    SCALE, HADAMARD, MATMUL = " * ", " * ", " @ "

    def __init__(self, shared=frozenset(), taken=frozenset()):
        super().__init__()
        self.shared = set(shared)        # nodes to compute once into a temporary
        self.taken = set(taken)          # names the temporaries must avoid
        self.lines: list[str] = []       # the assignments emitted so far
        self.atoms: set = set()          # nodes printed as a temporary's name
        self.counter = 0

    # ---- temporaries ------------------------------------------------------------------
    def p(self, e) -> str:
        if e in self.memo:
            return self.memo[e]
        out = super().p(e)
        if e in self.shared:
            name = self.fresh()
            self.lines.append(f"{name} = {out}")
            self.memo[e] = name
            self.atoms.add(e)
            return name
        return out

    def fresh(self) -> str:
        while True:
            self.counter += 1
            name = f"t{self.counter}"
            if name not in self.taken:
                return name

    def assign(self, name: str, e) -> None:
        """`name = e` as a statement; later occurrences of e print as name."""
        self.shared.discard(e)
        out = self.p(e)
        if out != name:
            self.lines.append(f"{name} = {out}")
        self.memo[e] = name
        self.atoms.add(e)

    def prec(self, e) -> int:
        if e in self.atoms:
            return PREC_ATOM
        return super().prec(e)

    # ---- forms ----------------------------------------------------------------------------
    def symbol(self, s) -> str:
        return py_name(s.name)

    def number(self, v) -> str:
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"

    def _print_E(self, e) -> str:
        i, j, r, c = e.attrs[:4]
        return f"np.outer(np.eye({self.dim(r)})[{self.dim(i)}], np.eye({self.dim(c)})[{self.dim(j)}])"

    def _print_zeros(self, e) -> str:
        return f"np.zeros(({self.dim(e.attrs[0])}, {self.dim(e.attrs[1])}))"

    def _print_slice(self, e) -> str:
        r0, r1, c0, c1 = e.attrs
        return self.paren(e.args[0], PREC_POSTFIX) + \
            f"[{self.dim(r0)}:{self.dim(r1)}, {self.dim(c0)}:{self.dim(c1)}]"

    def _print_block(self, e) -> str:
        nr, nc = e.attrs
        cells = [self.p(b) for b in e.args]
        return "np.block([" + ", ".join("[" + ", ".join(cells[r * nc:(r + 1) * nc]) + "]" for r in range(nr)) + "])"

    def _print_K(self, e) -> str:
        m, n = (self.dim(d) for d in e.attrs)
        # row j + i*n of K(m, n) picks entry i + j*m of vec(X): K vec(X) = vec(X.T) for X m×n
        return f"np.eye({m}*{n})[np.arange({m}*{n}).reshape(({m}, {n}), order='F').ravel()]"

    def _print_matpow(self, e) -> str:
        return f"np.linalg.matrix_power({self.p(e.args[0])}, {e.attrs[0]})"

    def _print_diag(self, e) -> str:
        x = e.args[0]
        if x.shape[1].is_one:   # vector → diagonal matrix
            return f"np.diagflat({self.p(x)})"
        return f"np.diag({self.p(x)})[:, None]"

    def _print_delta(self, e) -> str:
        return f"float({self.dim(e.attrs[0])} == {self.dim(e.attrs[1])})"

    # ---- solve instead of inverse -------------------------------------------------------------
    @staticmethod
    def inverted(f):
        """(A, transposed) when the factor f is inv(A) or inv(A).T, else None."""
        if f.op == "inv":
            return f.args[0], False
        if f.op == "T" and f.args[0].op == "inv":
            return f.args[0].args[0], True
        return None

    def _print_matmul(self, e) -> str:
        if not self.solvable(list(e.args)):
            return super()._print_matmul(e)
        return self.chain(list(e.args))

    def solvable(self, fs) -> bool:
        """Whether the chain fs has an inverse to apply by a solve."""
        return bool(self.inverted(fs[-1])) or any(
            self.inverted(f) or (f.op == "add" and any(self.inverted(t) for t in f.args)) for f in fs[:-1])

    def operand(self, fs) -> str:
        """A sub-chain as an operand of a call or of @."""
        if len(fs) == 1:
            return self.paren(fs[0], PREC_POSTFIX)
        return "(" + self.chain(fs) + ")"

    def chain(self, fs) -> str:
        """The product fs[0] @ … @ fs[-1], with each inverse applied by a solve."""
        from ..expr import make
        if len(fs) == 1:
            return self.p(fs[0])
        if not self.solvable(fs):
            return " @ ".join(self.paren(f, PREC_MUL + (1 if k or f.op == "mul" else 0)) for k, f in enumerate(fs))
        for k, f in enumerate(fs[:-1]):
            if f.op == "add" and any(self.inverted(t) for t in f.args):
                # (inv(A) + B) @ R = solve(A, R) + B @ R, with R computed once
                right = self.chain(fs[k + 1:])
                if not right.isidentifier():
                    name = self.fresh()
                    self.lines.append(f"{name} = {right}")
                    right = name
                terms = []
                for t in f.args:
                    inv = self.inverted(t)
                    if inv is not None:
                        a, transposed = inv
                        terms.append(f"np.linalg.solve({self.paren(a, PREC_POSTFIX)}{'.T' if transposed else ''}, "
                                     f"{right})")
                    else:
                        terms.append(f"{self.paren(t, PREC_MUL + 1)} @ {right}")
                summed = "(" + " + ".join(terms) + ")"
                return summed if k == 0 else self.operand(fs[:k]) + " @ " + summed
            inv = self.inverted(f)
            if inv is not None:   # inv(A) @ R = solve(A, R)
                a, transposed = inv
                a_text = self.paren(a, PREC_POSTFIX) + (".T" if transposed else "")
                solved = f"np.linalg.solve({a_text}, {self.chain(fs[k + 1:])})"
                if k == 0:
                    return solved
                return self.operand(fs[:k]) + " @ " + solved
        # L @ inv(A) = solve(A.T, L.T).T, with L.T built canonically (transposes at the leaves)
        a, transposed = self.inverted(fs[-1])
        a_text = self.paren(a, PREC_POSTFIX) + ("" if transposed else ".T")
        left_t = make("T", fs[0] if len(fs) == 2 else make("matmul", *fs[:-1]))
        return f"np.linalg.solve({a_text}, {self.p(left_t)}).T"


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
                    src = f"{py_name(a.name)}.shape[{axis}]" + (f" // {coef}" if coef != 1 else "")
                    known[name] = src
                    lines.append(f"{name} = {src}")
    return lines


def _eligible(node) -> bool:
    """Worth a temporary: not a symbol, a number, a constant array or a transposed symbol."""
    if isinstance(node, (Sym, Num)) or node.op in _CHEAP:
        return False
    if node.op == "T" and isinstance(node.args[0], Sym):
        return False
    if node.op == "mul" and len(node.args) == 2 and isinstance(node.args[0], Num) and isinstance(node.args[1], Sym):
        return False
    return True


def shared_nodes(roots) -> set:
    """The subexpressions of roots that would be computed more than once: a node
    printed in several places, where a node that becomes a temporary is printed once
    (so its parts are not shared on its account)."""
    order: list = []
    seen: set = set()
    for root in roots:   # post-order over all roots: children before parents
        stack = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            stack.extend((a, False) for a in node.args)
    count: dict = {}
    for root in roots:
        count[root] = count.get(root, 0) + 1
    out = set()
    for node in reversed(order):   # parents first
        c = count.get(node, 0)
        if c >= 2 and _eligible(node):
            out.add(node)
            c = 1
        for a in node.args:
            count[a] = count.get(a, 0) + c
    return out


def _returned(body: str, e, raw: bool) -> str:
    if raw or not e.is_scalar:
        return body
    return f"float(np.reshape({body}, ()))"


def function_source(e, args, name="f", doc="", extra=(), raw=False, definitions=()) -> str:
    """Source of `def name(*args, *extra): return e` (args: Syms in order; extra:
    plain parameters such as the indices i, j; e an expression or a tuple of them;
    definitions: [(name, expr)] computed first, in order).  `raw` returns e as NumPy
    gives it."""
    outputs = tuple(e) if isinstance(e, (tuple, list)) else (e,)
    params = [py_name(a.name) for a in args] + list(extra)
    dims = _dim_bindings(args)
    taken = set(params) | {line.split(" = ")[0] for line in dims} | {n for n, _ in definitions} | {"np"}
    roots = [d for _, d in definitions] + list(outputs)
    p = NumpyPrinter(shared_nodes(roots), taken)
    for dname, d in definitions:
        p.assign(dname, d)
    bodies = [p(o) for o in outputs]
    lines = ["import numpy as np", "", "", f"def {name}({', '.join(params)}):"]
    if doc:
        doc = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        lines.append(f'    """{doc}"""')
    for a in args:
        n = py_name(a.name)
        if is_scalar(a.shape):
            lines.append(f"    {n} = np.reshape(np.asarray({n}, dtype=float), (1, 1))")
        elif a.shape[1].is_one:
            lines.append(f"    {n} = np.reshape(np.asarray({n}, dtype=float), (-1, 1))")
        else:
            lines.append(f"    {n} = np.asarray({n}, dtype=float)")
    returned = [_returned(b, o, raw) for b, o in zip(bodies, outputs)]
    code = "\n".join(p.lines + returned)
    lines += ["    " + b for b in dims if re.search(rf"\b{re.escape(b.split(' = ')[0])}\b", code)]   # the sizes used
    lines += ["    " + line for line in p.lines]
    lines.append("    return " + ", ".join(returned))
    return "\n".join(lines) + "\n"


def compile_function(source: str, name: str = "f"):
    """The function `name` defined by source (as printed by function_source)."""
    import numpy as np
    namespace = {"np": np}
    exec(compile(source, f"<matcalc {name}>", "exec"), namespace)
    return namespace[name]


def evaluator(e, args):
    """A callable evaluating e at concrete arrays, compiled from the printed source."""
    return compile_function(function_source(e, args))


def symbols_of(e) -> list:
    return sorted({n for n in walk(e) if isinstance(n, Sym)}, key=lambda s: s.name)
