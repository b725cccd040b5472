"""The pipeline, written once: parse → infer shapes → differential → (adjoint |
substitute) → simplify → Result.  Every public function and every CLI command
goes through `derive`."""
from __future__ import annotations

import gc
import sys

from .errors import CheckError, InternalError, LimitError, MatcalcError, MathError, ShapeError, UsageError
from .shapes import ShapeMismatch
from .infer import Problem, infer
from .ops.core import end_derivation
from .parse import parse as _parse
from .result import Result
from .simplify import simplify

COMMANDS = ("grad", "dir", "elem", "jac", "hess")
RECURSION_LIMIT = 20_000


def problem(expr: str, declare: str | None = None, *, scalar: bool = False, command: str = "grad") -> Problem:
    """Parsed and typed.  Parsed first without source positions (faster); an input
    with an error is parsed again with them, so that its message has its caret."""
    try:
        return infer(_parse(expr, declare, positions=False), scalar=scalar, command=command)
    except (MatcalcError, ShapeMismatch):
        pass
    return infer(_parse(expr, declare), scalar=scalar, command=command)


def parse(expr: str, declare: str | None = None):
    """The typed, canonical expression (shapes inferred)."""
    return problem(expr, declare, command="parse").expr


def targets(prob: Problem, wrt) -> list:
    if not wrt:
        return sorted(prob.symbols.values(), key=lambda s: s.name)
    out = []
    for name in ([wrt] if isinstance(wrt, str) else wrt):
        if name not in prob.symbols:
            import difflib
            close = difflib.get_close_matches(name, list(prob.symbols), n=1)
            known = ", ".join(sorted(prob.symbols)) or "none"
            raise UsageError(f"--wrt {name}: no symbol {name} in the expression"
                             + (f"; did you mean {close[0]}?" if close else f" (symbols: {known})"))
        out.append(prob.symbols[name])
    return out


def derive(command: str, expr: str, wrt=None, **options) -> list:
    """All results of one command: one per variable (for `hess` with two
    variables, the mixed second derivative).  Only MatcalcError leaves: a bug met on
    some input is an InternalError, never a bare Python exception."""
    # A derivation makes no reference cycles (tests/test_batch.py checks), so the cycle
    # collector would only rescan its growing memo tables: up to a third of its time.
    # Paused for the symbolic work only; a numeric check (NumPy, SymPy) runs with it.
    collecting = gc.isenabled() and not options.get("check")
    if collecting:
        gc.disable()
    try:
        return _derive(command, expr, wrt, **options)
    except MatcalcError:
        raise
    except ShapeMismatch as exc:
        raise ShapeError(f"shape mismatch: {exc.message}", source=expr if isinstance(expr, str) else None) from None
    except RecursionError:
        raise LimitError("the expression is nested too deeply to differentiate") from None
    except Exception as exc:
        raise InternalError(f"{type(exc).__name__}: {exc} (a bug in matcalc: please report this input)") from None
    finally:
        end_derivation()   # the derivation's working set goes, its budgets start again
        if collecting:
            gc.enable()


def _derive(command: str, expr: str, wrt=None, *, along: str | None = None, declare: str | None = None,
            check: bool = False, steps: bool = False, seed: int | None = None, sizes: dict | None = None,
            index: bool = False, full: bool = False) -> list:
    from .calculus import derivatives as D
    if sys.getrecursionlimit() < RECURSION_LIMIT:  # deep expressions are walked recursively
        sys.setrecursionlimit(RECURSION_LIMIT)
    if command not in COMMANDS:
        raise UsageError(f"unknown command {command!r}; one of {', '.join(COMMANDS)}")
    prob = problem(expr, declare, scalar=command in ("grad", "hess"), command=command)
    variables = targets(prob, wrt)
    if not variables:
        raise MathError("the expression has no symbols, so there is nothing to differentiate")
    if command == "hess" and wrt and len(variables) == 2:
        jobs = [(variables[0], variables[1])]
    else:
        jobs = [(X, None) for X in variables]
    results = []
    for X, Y in jobs:
        direction = None
        if command == "grad":
            raw = D.gradient(prob, X)
        elif command == "dir":
            raw, direction = D.directional(prob, X, along)
        elif command == "elem":
            raw = D.per_element(prob, X)
        elif command == "jac":
            raw = D.jacobian_of(prob, X)
        else:
            raw, direction = D.hessian(prob, X, Y, along=along, full=full)
        out, definitions = simplify(raw, taken=_names_in_use(prob, direction))
        label = X.name if Y is None else f"{X.name},{Y.name}"
        r = Result(command, expr, label, out, list(prob.symbols.values()), direction=direction,
                   definitions=definitions, problem=prob)
        if index and command == "elem":
            from .calculus.index import index_form
            r.index = index_form(raw, X)
        if steps:
            from .calculus.steps import derivation
            r.steps = derivation(prob, X, r)
        if check:
            verify(r, prob, X, seed=seed, sizes=sizes, other=Y)
        results.append(r)
    return results


def _names_in_use(prob: Problem, direction) -> set:
    names = set(prob.symbols) | {"I", "E", "K"}
    for s in prob.symbols.values():
        for d in s.shape:
            names |= d.names()
    if direction is not None:
        names.add(direction.name)
    return names


def verify(r: Result, prob: Problem, X, *, seed=None, sizes=None, other=None):
    """Check r numerically; a mismatch raises CheckError with both values."""
    from . import numeric as N
    rng = N.rng_for(seed)
    try:
        if r.command == "hess":  # first differences of the gradient: more accurate than second ones
            from .calculus.derivatives import gradient
            syms = sorted(prob.symbols.values(), key=lambda s: s.name)
            G, Y = gradient(prob, X), other or X
            if r.direction is not None:
                outcome = N.check_dir(G, Y, r.direction, r.full_expr(), syms, rng, sizes)
            else:
                outcome = N.check_jac(G, Y, r.full_expr(), syms, rng, sizes)
            outcome.kind = "hess"
        else:
            outcome = N.check_result(r, rng, sizes)
    except ValueError as exc:
        raise CheckError(f"cannot check {r.command} numerically: {exc}") from None
    r.check = outcome
    if not outcome.passed:
        raise CheckError(f"numeric check failed for {r.command} wrt {r.wrt}: relative error "
                         f"{outcome.error:.2e} > {outcome.tolerance:.0e}; symbolic result: {r}"
                         + (f"; {outcome.detail}" if outcome.detail else ""))


def _one(results, wrt):
    return results[0] if isinstance(wrt, str) else results


def grad(expr: str, wrt=None, **kw):
    """∇f: the gradient of a scalar expression.  `wrt` a name gives one Result,
    a list (or None: every symbol) gives a list.

    >>> str(grad("tr(A @ X)", wrt="X"))
    'A.T'
    """
    return _one(derive("grad", expr, wrt, **kw), wrt)


def dir(expr: str, wrt=None, along: str | None = None, **kw):  # noqa: A001 - mirrors the command
    """D F(X)[V], the directional derivative (`along` names V; default dX).

    >>> str(dir("M@M.T", wrt="M", along="A"))
    'A@M.T + M@A.T'
    """
    return _one(derive("dir", expr, wrt, along=along, **kw), wrt)


def elem(expr: str, wrt=None, **kw):
    """∂F/∂X_ij in terms of E(i,j).

    >>> str(elem("A@X@X.T@A.T", wrt="X"))
    'A@(X@E(j,i) + E(i,j)@X.T)@A.T'
    """
    return _one(derive("elem", expr, wrt, **kw), wrt)


def jac(expr: str, wrt=None, **kw):
    return _one(derive("jac", expr, wrt, **kw), wrt)


def hess(expr: str, wrt=None, **kw):
    return _one(derive("hess", expr, wrt, **kw), wrt)
