"""The cookbook corpus (issue 5): examples/cookbook.batch, one command a line.

Every line cites its source in the comment line right above it — a Matrix Cookbook
equation number `(NN)`, or `[sympy …]` / `[least squares]`-style tags for SymPy's
test identities and the classic losses — and gives, after the comment's last
" = ", the expected right-hand side in matcalc's own language.  For every line:

1. the derivative is verified numerically (`check=True`, seeded, rel. error < 1e-6);
2. its `text` form equals the line of examples/cookbook.expected with the same
   index (that file is the `--format text` output of `matcalc batch`, so a change of
   printed form shows in review; `test_cookbook_expected_is_the_batch_output`
   checks the file against the CLI itself);
3. its value equals the comment's right-hand side at random instances (both are
   evaluated by the code the NumPy printer emits);
4. the exact SymPy oracle (`matcalc.oracle.exact_check`) agrees at small sizes.

Lines that matcalc cannot do yet are kept out of the corpus and listed in XFAIL
with a minimal reproduction.
"""
from __future__ import annotations

import pathlib
import re
import shlex

import numpy as np
import pytest

import matcalc
from matcalc import numeric as N
from matcalc.expr import Sym, walk
from matcalc.parse import parse as parse_syntax
from matcalc.printers.numpy import compile_function, function_source, symbols_of

from conftest import declarations

ROOT = pathlib.Path(__file__).resolve().parent.parent
BATCH = ROOT / "examples" / "cookbook.batch"
EXPECTED = ROOT / "examples" / "cookbook.expected"
SEED = 1
RTOL = 1e-6          # the numeric derivative check
RHS_RTOL = 1e-7      # two closed forms evaluated in float64
CITATION = re.compile(r"^# (\(\d+\)|\[[^\]]+\])")


class Line:
    def __init__(self, number: int, text: str, comment: str | None):
        self.number, self.text, self.comment = number, text, comment
        args = shlex.split(text, comments=True)
        self.command = args[0]
        self.wrt, self.along, self.declare, positional = [], None, None, []
        rest = iter(args[1:])
        for opt in rest:
            if opt == "--":
                positional.extend(rest)
            elif opt in ("--wrt", "-w"):
                self.wrt.append(next(rest))
            elif opt == "--along":
                self.along = next(rest)
            elif opt in ("-d", "--declare"):
                self.declare = next(rest)
            elif opt.startswith("-"):
                raise ValueError(f"{BATCH.name}:{number}: option {opt} is not understood by this test")
            else:
                positional.append(opt)
        (self.expr,) = positional

    @property
    def rhs(self) -> str | None:
        last = self.comment.splitlines()[-1] if self.comment else ""
        if " = " in last:
            return last.rsplit(" = ", 1)[1].strip()
        return None

    def derive(self, check=True):
        kw = {"along": self.along} if self.along else {}
        return matcalc.derive(self.command, self.expr, self.wrt or None, declare=self.declare,
                              check=check, seed=SEED, **kw)

    def __repr__(self):
        return f"{BATCH.name}:{self.number}"


def read_batch(path=BATCH) -> list[Line]:
    """The commands of a batch file, each with the comment block right above it
    (consecutive `# ` lines; `## ` lines are section headings)."""
    lines, block = [], []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith("##"):
            block = []
        elif s.startswith("#"):
            block.append(s)
        else:
            lines.append(Line(number, s, "\n".join(block) or None))
            block = []
    return lines


LINES = read_batch()
EXPECTED_FORMS = EXPECTED.read_text(encoding="utf-8").splitlines()
IDS = [f"{ln.number}:{ln.command} {ln.expr[:60]}" for ln in LINES]


# ---- the corpus as a whole ------------------------------------------------------------
def test_cookbook_corpus_size_and_citations():
    assert len(LINES) >= 80
    uncited = [repr(ln) for ln in LINES if not (ln.comment and CITATION.match(ln.comment))]
    assert not uncited, f"lines without a source citation in the comment above: {uncited}"


def test_cookbook_expected_has_one_form_per_line():
    assert len(EXPECTED_FORMS) == len(LINES)


def test_cookbook_expected_is_the_batch_output():
    """examples/cookbook.expected is exactly what `matcalc batch … --format text` prints."""
    from click.testing import CliRunner

    from matcalc.cli import main
    out = CliRunner().invoke(main, ["batch", str(BATCH), "--format", "text"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == EXPECTED_FORMS


# ---- line by line -----------------------------------------------------------------------
_cache: dict = {}


def result_of(line: Line):
    if line.number not in _cache:
        results = line.derive()
        assert len(results) == 1, f"{line!r}: one result expected, got {len(results)}"
        _cache[line.number] = results[0]
    return _cache[line.number]


@pytest.mark.parametrize("line", LINES, ids=IDS)
def test_cookbook_numeric_check(line):
    r = result_of(line)
    outcome = r.check if r.check is not None else N.check_result(r, N.rng_for(SEED))
    assert outcome.passed and outcome.error < RTOL, f"{line!r} {line.text}: {r} — {outcome.error:.2e} {outcome.detail}"


@pytest.mark.parametrize("k,line", list(enumerate(LINES)), ids=IDS)
def test_cookbook_printed_form(k, line):
    assert str(result_of(line)) == EXPECTED_FORMS[k], f"{line!r} {line.text}"


def _rhs_expression(line: Line, r):
    """The comment's right-hand side, typed like the result: its symbols get the
    problem's shapes and properties; `E(i,j)` / `E(j,i)` become a unit matrix EIJ
    (sized like the variable) / its transpose; `+ ZZ` (a zero of the result's shape)
    pins the shape of what nothing else sizes (`3*I`, `tr(A)*I`)."""
    text = line.rhs.replace("E(i,j)", "EIJ").replace("E(j,i)", "EIJ.T")
    known = {s.name: s for s in r.problem.symbols.values()}
    if r.direction is not None:
        known[r.direction.name] = r.direction
    names = {n.name for n in walk(parse_syntax(text).expr) if isinstance(n, Sym)}
    unknown = names - set(known) - {"EIJ"}
    assert not unknown, f"{line!r}: the right-hand side uses symbols {unknown} that the line does not have"
    decl = [known[n] for n in sorted(names - {"EIJ"})]
    extra = []
    X = r.problem.symbols[r.wrt]
    if "EIJ" in names:
        extra.append(Sym("EIJ", X.shape))
    shape = r.full_expr().shape
    if all(len(d.names()) <= 1 and len(d.terms) <= 1 for d in shape):  # declarable: n, 4, not n*p
        extra.append(Sym("ZZ", shape))
        text = f"({text}) + ZZ"
    expr = matcalc.parse(text, declarations(decl, extra))
    return expr, symbols_of(expr)


@pytest.mark.parametrize("line", [ln for ln in LINES if ln.rhs], ids=[i for i, ln in zip(IDS, LINES) if ln.rhs])
def test_cookbook_equals_right_hand_side(line):
    r = result_of(line)
    rhs, rhs_syms = _rhs_expression(line, r)
    prob = r.problem
    syms = sorted(prob.symbols.values(), key=lambda s: s.name)
    X = prob.symbols[r.wrt]
    args = syms + ([r.direction] if r.direction is not None else [])
    ours = compile_function(function_source(r.full_expr(), args, extra=("i", "j") if r.command == "elem" else ()))
    theirs = compile_function(function_source(rhs, rhs_syms))
    rng = N.rng_for(SEED + 100)
    for _ in range(2):
        inst = N.Instance(prob.expr, syms, rng)
        values = dict(inst.values)
        if r.direction is not None:
            values[r.direction.name] = N.direction(X, inst.sizes, rng, values[X.name])
        shape = tuple(d.evaluate(inst.sizes) for d in r.full_expr().shape)
        if any(s.name == "ZZ" for s in rhs_syms):
            values["ZZ"] = np.zeros(shape)
        if r.command == "elem":
            rows, cols = (d.evaluate(inst.sizes) for d in X.shape)
            points = [(i, j) for i in range(rows) for j in range(cols)]
        else:
            points = [None]
        for point in points:
            given = dict(values)
            if point is not None:
                unit = np.zeros((rows, cols))
                unit[point] = 1.0
                given["EIJ"] = unit
            a = ours(**{s.name: given[s.name] for s in args},
                     **({"i": point[0], "j": point[1]} if point is not None else {}))
            b = theirs(**{s.name: given[s.name] for s in rhs_syms})
            if np.size(b) == 1 and np.size(a) != 1:
                b = np.full(np.shape(a), float(np.reshape(b, ())))
            err = N.relative_error(a, b)
            assert err < RHS_RTOL, (f"{line!r} {line.text}\n  matcalc: {r}\n  comment: {line.rhs}\n"
                                    f"  relative difference {err:.2e} at sizes {inst.sizes}, entry {point}")


def _oracle():
    try:
        from matcalc import oracle
    except ImportError:
        return None
    return getattr(oracle, "exact_check", None)


# Lines the exact oracle is too slow for (measured on the 2-core machine: SymPy's
# simplification of inverses and determinants of products, or a big expression, takes
# 20 s or more per line at sizes 2×3), or cannot prove exactly (it reports that the
# difference vanishes at a random point but does not simplify to 0).  They keep the
# numeric check and the right-hand-side comparison.
ORACLE_SLOW = {
    "det(A@X@B) where A: n×n, X: n×n, B: n×n", "det(X.T@A@X) where X: n×n",
    "det(X.T@A@X) where A: symmetric 4×4, X: 4×2", "det(X.T@A@X) where X: 4×2",
    "tr(A@inv(X)@B)", "tr(inv(X + A))", "tr(inv(X.T@C@X)@A) where C: symmetric 4×4, X: 4×2",
    "tr(inv(X.T@C@X)@(X.T@B@X)) where B: symmetric 4×4, C: symmetric 4×4, X: 4×2",
    "tr(inv(A + X.T@C@X)@(X.T@B@X)) where A: symmetric m×m, B: symmetric n×n, C: symmetric n×n",
    "inv(A + t*B) where t: scalar", "tr(B.T@X.T@C@X@X.T@C@X@B)",
    "-(y.T@log(sigmoid(X@w)) + (ones(N, 1) - y).T@log(ones(N, 1) - sigmoid(X@w)))",
    "inv(X)",
}
ORACLE_UNPROVEN = {"logdet(X.T@X) where X: 4×2", "det(matpow(X, 3))"}
ORACLE_SECONDS = 10.0   # a safety net: a line that gets slower is skipped, not hung on


class _OracleTimeout(BaseException):
    """BaseException, so that no `except Exception` inside SymPy swallows it."""


def _slow_line(line) -> bool:
    return line.expr in ORACLE_SLOW or line.expr.startswith("a.T@(A@X@(X.T@B + X@A)")


@pytest.mark.parametrize("line", LINES, ids=IDS)
def test_cookbook_exact_oracle(line):
    exact_check = _oracle()
    if exact_check is None:
        pytest.skip("matcalc.oracle.exact_check is not there yet")
    if _slow_line(line):
        pytest.skip("the exact oracle takes 20 s or more on this line (SymPy simplification)")
    if line.expr in ORACLE_UNPROVEN:
        pytest.skip("SymPy does not simplify the difference to 0 (it vanishes at a random point)")
    import signal

    from matcalc.errors import UnsupportedError
    r = result_of(line)

    def timeout(*_):
        raise _OracleTimeout()
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, ORACLE_SECONDS)
    try:
        outcome = exact_check(r)
    except UnsupportedError as exc:
        pytest.skip(f"the exact oracle does not handle this line: {exc}")
    except _OracleTimeout:
        pytest.skip(f"the exact oracle took more than {ORACLE_SECONDS:g} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert outcome.error == 0.0, f"{line!r} {line.text}: {r} — {outcome.detail}"


# ---- non-square symbolic sizes ---------------------------------------------------------
# X.T@…@X (m×m, rank ≤ n) is singular whenever n < m: the random instance redraws the
# sizes until det/logdet/inv are inside their domain.  The corpus holds the same
# identities at concrete sizes (X: 4×2).
# (126) is constant in X when X is square and invertible (the gradient is 0 up to
# rounding, which no relative test can judge): its sizes are fixed at n > m.
SYMBOLIC_NON_SQUARE = [
    ("grad", "det(X.T@A@X) where A: symmetric n×n, X: n×m", "X", "(53)", None),
    ("grad", "logdet(X.T@X) where X: n×m", "X", "(55)", None),
    ("grad", "tr(inv(X.T@C@X)@(X.T@B@X)) where B: symmetric n×n, C: symmetric n×n", "X", "(126)",
     {"n": 4, "m": 2}),
]


@pytest.mark.parametrize("command,expr,wrt,eq,sizes", SYMBOLIC_NON_SQUARE,
                         ids=[c[3] for c in SYMBOLIC_NON_SQUARE])
def test_cookbook_symbolic_non_square_sizes(command, expr, wrt, eq, sizes):
    for seed in range(3):
        (r,) = matcalc.derive(command, expr, [wrt], check=True, seed=SEED + seed, sizes=sizes)
        assert r.check.passed and r.check.error < RTOL


def test_cookbook_logistic_scalar_plus_vector_is_a_shape_error():
    # The ±1-label logistic loss written with a scalar 1 (SPEC §1: a scalar plus a matrix
    # is an error); the corpus writes ones(N, 1).
    with pytest.raises(matcalc.MatcalcError):
        matcalc.derive("grad", "sum(log(1 + exp(-y*(X@w)))) where X: N×d", ["w"])
