"""Errors (issue 8): limits end in a clear error, the habits of other tools get a
helpful message, carets sit at the right column (parse errors) or under the operand
pair (shape errors), the API raises only MatcalcError, and every crash the fuzzer
found is a named regression test here.  Bugs in modules owned elsewhere are strict
xfails (the reason names the bug); tests/test_fuzz.py tolerates the same ones (its
KNOWN list) until they are fixed."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import matcalc
from matcalc.api import parse as api_parse
from matcalc.cli import main
from matcalc.errors import LimitError, MatcalcError, ParseError, ShapeError, UsageError
from matcalc.parse import MAX_DEPTH, MAX_INPUT, parse, suggestion

RUNNER = CliRunner()


def error_of(expr, command="grad", **kw) -> MatcalcError:
    with pytest.raises(MatcalcError) as info:
        matcalc.derive(command, expr, **kw)
    return info.value


def caret_columns(err):
    """(first column, last column), 1-based, of the carets under the echoed line."""
    text, marks = err.caret().split("\n")
    start = marks.index("^")
    return start - 1, len(marks.rstrip()) - 2


def cli(*args, stdin=None):
    r = RUNNER.invoke(main, list(args), input=stdin)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.stdout + r.stderr
    return r


# ---- carets -------------------------------------------------------------------------------
@pytest.mark.parametrize("expr,column", [
    ("x^2", 2), ("A + * B", 5), ("tr(X", 5), ("x.T@A@x where", 14), ("  A.*B", 4),
    ("tr(X) + )", 9), ("x @@ y", 4), ("[[A, B], [C]]", 1), ("α漢 + ^", 6),
])
def test_errors_parse_caret_column(expr, column):
    err = error_of(expr)
    assert isinstance(err, ParseError) and err.column == column
    assert caret_columns(err)[0] == column + (1 if "漢" in expr else 0)   # a wide character takes two cells


def test_errors_parse_caret_on_second_line():
    err = error_of("x.T@A@x\n  + ^")
    assert (err.line, err.column) == (2, 5)
    assert err.caret().split("\n")[0] == "    + ^"


def test_errors_caret_never_echoes_control_characters():
    err = error_of("x\x1b[31m + y")
    assert "\x1b" not in err.caret() and "\ufffd" in err.caret()
    assert caret_columns(err) == (2, 2)


def test_errors_caret_window_on_long_input():
    err = error_of("x + " * 5000 + "^")
    line, marks = err.caret().split("\n")
    assert len(line) < 120 and line[marks.index("^")] == "^"


@pytest.mark.parametrize("expr,pair", [
    ("A*B where A: n×m, B: m×p", "A*B"),
    ("x.T@A@x + B*C where B: n×m, C: m×p", "B*C"),
    ("(A+B)*C where A: n×m, C: m×p", "(A+B)*C"),
    ("tr(A@B) where A: n×m, B: p×q", "A@B"),
    ("tr(X) + A@(B - C) where A: n×m, B: p×q", "A@(B - C)"),
    ("norm(A + B)**2 where A: n×m, B: m×n", "A + B"),
])
def test_errors_shape_caret_spans_the_operand_pair(expr, pair):
    err = error_of(expr)
    assert isinstance(err, ShapeError)
    first, last = caret_columns(err)
    assert expr[first - 1:last] == pair


def test_errors_shape_message_names_both_operands_and_shapes():
    err = error_of("A@B where A: n×m, B: p×q")
    assert "A is n×m" in err.message and "B is p×q" in err.message


# ---- limits ---------------------------------------------------------------------------------
def test_errors_ten_thousand_parentheses_are_answered():
    (r,) = matcalc.derive("grad", "(" * 10_000 + "x" + ")" * 10_000)
    assert str(r) == "1"


@pytest.mark.parametrize("expr", [
    "-" * 10_000 + "x", "tr(" * 10_000 + "X" + ")" * 10_000, "x" + ".T" * 10_000, "x" + "**x" * 10_000,
    "(x+" * 10_000 + "x" + ")" * 10_000, "[[" * 5000 + "x" + "]]" * 5000,
])
def test_errors_deep_nesting_is_a_limit_error(expr):
    t = time.perf_counter()
    for call in (lambda: matcalc.derive("grad", expr), lambda: api_parse(expr)):
        with pytest.raises(LimitError) as info:
            call()
        assert "nested too deeply" in info.value.message or "too large" in info.value.message
    assert time.perf_counter() - t < 5


def test_errors_depth_at_the_limit_works():
    (r,) = matcalc.derive("dir", "-" * (MAX_DEPTH - 1) + "X", ["X"])
    assert str(r) == "-dX"


def test_errors_long_flat_sum_is_not_nested_too_deeply():
    """Regression: a 3,000-term sum was "nested too deeply" (a left-deep tree)."""
    expr = " + ".join(["x"] * 3000)
    (r,) = matcalc.derive("grad", expr)
    assert str(r) == "3000"


def test_errors_one_megabyte_input_is_a_limit_error():
    t = time.perf_counter()
    for text in ("x + " * 250_000 + "x", "x" * 1_000_000):
        err = error_of(text)
        assert isinstance(err, LimitError) and f"{MAX_INPUT:,}" in err.message
    r = cli("grad", "-", stdin="x + " * 250_000 + "x")
    assert r.exit_code == 1 and "limit" in r.stderr
    assert time.perf_counter() - t < 5


@pytest.mark.parametrize("expr,word", [
    ("X**1e400", "too large"), ("1e400*x", "too large"), ("1e-400*x", "too small"), ("2e308*x", "too large"),
    ("1e99999999*x", "too large"), ("1e-99999999*x", "too small"), ("1" * 5000 + "*x", "digits"),
    ("0." + "0" * 5000 + "1*x", "digits"),
])
def test_errors_number_out_of_range(expr, word):
    """Regression: X**1e400 crashed with OverflowError (float of a huge Fraction)."""
    err = error_of(expr)
    assert isinstance(err, LimitError) and word in err.message
    assert err.column == (4 if expr.startswith("X**") else 1)


def test_errors_numbers_at_the_edge_of_the_range():
    assert str(matcalc.grad("1e308*x", wrt="x")) == str(matcalc.grad("1e308*x", wrt="x"))
    assert str(matcalc.grad("0e99999*x + y", wrt="y")) == "1"


@pytest.mark.parametrize("expr", ["eye(99999999999)", "x[:99999999999, 0]", "x where x: 9999999"])
def test_errors_huge_sizes_are_limit_errors(expr):
    assert isinstance(error_of(expr, "dir"), LimitError)


@pytest.mark.parametrize("expr", ["", "   ", "\n\t"])
def test_errors_empty_input(expr):
    err = error_of(expr)
    assert isinstance(err, ParseError) and "empty" in err.message
    assert cli("grad", "--", expr).exit_code == 2


@pytest.mark.parametrize("expr", ["where A: n×n", "  where x: n, A: symmetric n×n", "where C = A@B"])
def test_errors_only_a_where_clause(expr):
    err = error_of(expr)
    assert isinstance(err, ParseError) and "no expression before 'where'" in err.message
    assert expr[err.column - 1:err.column + 4] == "where"


def test_errors_misspelt_function_suggests_once():
    err = error_of("trace2(X)")
    assert err.message == "unknown function 'trace2'; did you mean 'trace'?"
    assert "did you mean" not in (err.hint or "")
    assert (err.column, err.length) == (1, 6)


def test_errors_unknown_function_lists_the_functions():
    err = error_of("frobnicate(X)")
    assert err.message == "unknown function 'frobnicate'"
    assert "logdet" in err.hint and "frobnicate*(" in err.hint


def test_errors_declaration_of_a_symbol_that_does_not_occur():
    err = error_of("tr(X) where Y: n×n")
    assert "Y is declared but does not occur" in err.message
    assert err.caret().split("\n")[1].strip() == "^" * len("Y: n×n")


def test_errors_definition_that_is_not_used():
    err = error_of("tr(X) where C = A@B")
    assert isinstance(err, ParseError) and "C is defined but does not occur" in err.message


@pytest.mark.parametrize("expr,declare", [
    ("tr(X) where X: n×n, X: n×m", None),
    ("tr(X) where X: n×n", "X: m×m"),
    ("x.T@x where x: n, x: scalar", None),
])
def test_errors_conflicting_declarations(expr, declare):
    err = error_of(expr, declare=declare)
    assert isinstance(err, ParseError) and "declared twice with different shapes" in err.message
    source = declare or expr            # the caret points into the clause that conflicts
    assert err.source == source and source[err.column - 1:].split(",")[0] in ("X: n×m", "X: m×m", "x: scalar")


def test_errors_defined_and_declared():
    err = error_of("norm(C)**2 where C = A@X, C: n×n")
    assert "both defined" in err.message


@pytest.mark.parametrize("expr", ["tr(X) where X: symmetric n×m", "tr(X) where X: spd 2×3",
                                  "x.T@x where x: orthogonal n"])
def test_errors_property_contradicting_the_shape(expr):
    err = error_of(expr)
    assert isinstance(err, ShapeError) and "not square" in err.message


def test_errors_symbol_named_like_a_size():
    """Regression: a name used both as a size and as a symbol lost its symbol
    (KeyError: 'n' in infer.build)."""
    for command in ("grad", "dir", "elem"):
        for expr in ("n[:C, :] + C[n:, n:]", "n[:C, : ] + C[n:,nn:]"):
            try:
                matcalc.derive(command, expr)
            except MatcalcError:
                pass
    (r,) = matcalc.derive("dir", "n*C[:n, :n]", ["n"])
    assert "C[:n, :n]" in str(r)


# ---- habits of other tools -----------------------------------------------------------------------
def test_errors_matlab_quadratic_form():
    err = error_of("x'*A*x where x: n, A: n×n")
    assert isinstance(err, ShapeError)
    assert "x.T@A@x" in err.hint and "elementwise" in err.hint and "@" in err.hint


def test_errors_matlab_elementwise_product():
    err = error_of("A.*B")
    assert "MATLAB's .* is *" in err.hint and err.hint.endswith("did you mean: A*B")
    assert error_of("A./B + C.^2").hint.endswith("did you mean: A/B + C**2")


@pytest.mark.parametrize("latex,ours", [
    (r"\operatorname{tr}(X^T A)", "tr(X.T@A)"),
    (r"\mathrm{tr}(A X^{-1} B)", "tr(A@inv(X)@B)"),
    (r"\frac{1}{2}\|A x - b\|_2^2", "(1/2)*norm(A@x - b)**2"),
    (r"\log\det(X)", "logdet(X)"),
    (r"\lambda \|w\|^2", "lambda*norm(w)**2"),
])
def test_errors_latex_input_gets_the_matcalc_form(latex, ours):
    err = error_of(latex)
    assert "LaTeX is not read" in err.hint and err.hint.endswith(f"did you mean: {ours}")
    matcalc.derive("dir", ours)   # the suggestion itself works


@pytest.mark.parametrize("expr,ours", [("x^2", "x**2"), ("X^T X", "X.T@X"), ("X^{-1}", "inv(X)"),
                                       ("(A B)^{-1}", "inv(A@B)")])
def test_errors_caret_power(expr, ours):
    err = error_of(expr)
    assert err.hint.endswith(f"did you mean: {ours}")
    assert "^" not in expr.split(" ")[0] or "use ** for powers" in err.hint


def test_errors_no_suggestion_when_the_rewrite_does_not_parse():
    assert suggestion(r"\sum_i x_i") is None
    assert suggestion("x^") is None


def test_errors_star_between_matrices_suggests_matmul():
    err = error_of("A*B where A: n×m, B: m×p")
    assert err.hint.endswith("did you mean A@B?")
    err = error_of("A*B where A: n×m, B: p×q")
    assert "same shape, or one is a scalar" in err.hint


# ---- the API raises only MatcalcError ------------------------------------------------------------
@pytest.mark.parametrize("bad", [None, b"x", 3, ["x"]])
def test_errors_api_non_string_input(bad):
    for call in (lambda: matcalc.derive("grad", bad), lambda: api_parse(bad), lambda: parse(bad)):
        with pytest.raises(UsageError):
            call()


@pytest.mark.parametrize("expr", ["x +", "(" * 100_000, "x" + "'" * 50_000, "\\x", "\ud800", "x\x00y"])
def test_errors_api_raises_only_matcalc_errors(expr):
    for call in (lambda: matcalc.derive("grad", expr), lambda: api_parse(expr), lambda: matcalc.grad(expr)):
        with pytest.raises(MatcalcError):
            call()


# ---- the CLI: exit codes and JSON ---------------------------------------------------------------------
@pytest.mark.parametrize("expr,code,kind", [
    ("x^2", 2, "parse"), ("", 2, "parse"), ("X**1e400", 1, "limit"), ("-" * 1000 + "x", 1, "limit"),
    ("A*B where A: n×m, B: m×p", 1, "shape"), ("trace2(X)", 2, "parse"), ("where A: n", 2, "parse"),
])
def test_errors_cli_exit_code_and_json(expr, code, kind):
    r = cli("grad", "-f", "json", "--", expr)
    assert r.exit_code == code
    (obj,) = [json.loads(ln) for ln in r.stdout.split("\n") if ln]
    assert obj["ok"] is False and obj["error"]["kind"] == kind and obj["input"] == expr
    t = cli("grad", "-f", "text", "--", expr)
    assert t.exit_code == code and t.stderr.startswith("matcalc: error: ")


def test_errors_cli_real_process_on_huge_input():
    """The console script itself (one subprocess): 1 MB on stdin, a clear error, fast."""
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "matcalc", "grad", "-"], input="x+" * 500_000 + "x",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and p.stderr.startswith("matcalc: error: the expression is 1,000,001 characters")
    assert "Traceback" not in p.stderr and time.perf_counter() - t < 10


# ---- bugs found by the fuzzer in other modules: fixed, kept as regression tests ---------------------
@pytest.mark.parametrize("command,expr", [("grad", "tr(M) - S⊗x"), ("grad", "tr(y*W - vec(C))")])
def test_api_shape_mismatch_after_inference_is_a_shape_error(command, expr):
    """n*m == 1 between unknown sizes means n == m == 1: an answer, verified, or a MatcalcError."""
    try:
        results = matcalc.derive(command, expr, check=True, seed=1)
    except MatcalcError:
        return
    assert results and all(r.check.passed for r in results)


@pytest.mark.parametrize("command,expr", [("dir", "tanh(a)[i, j] - X"), ("hess", "sigmoid([[C, X]])"),
                                          ("hess", "abs(j @ α)")])
def test_api_index_error_in_core_ops(command, expr):
    """Products and sums with no factor left (d sign(x) = 0) build; results are verified."""
    try:
        results = matcalc.derive(command, expr, check=True, seed=1)
    except MatcalcError:
        return
    assert results and all(r.check.passed for r in results)


@pytest.mark.parametrize("expr", ["sigmoid(sum(H))", "tanh(vec(log(tr(C))))"])
def test_api_hess_terminates(expr):
    t = time.perf_counter()
    try:
        matcalc.derive("hess", expr)
    except MatcalcError:
        pass
    assert time.perf_counter() - t < 5


def test_cli_json_lone_surrogate_is_valid_utf8():
    r = RUNNER.invoke(main, ["grad", "-f", "json", "--", "x\udcff"])
    assert "internal error" not in r.stderr
    json.loads(r.stdout.encode("utf-8").decode("utf-8"))


def test_api_division_by_zero_is_an_error():
    with pytest.raises(MatcalcError):
        matcalc.derive("grad", "x/0", ["x"])


def test_check_with_a_huge_constant_size_is_an_error():
    with pytest.raises(MatcalcError):
        matcalc.derive("grad", "tr(eye(100000)@X)", check=True)


def test_cli_constant_expression_gets_an_answer():
    r = cli("grad", "-f", "json", "--", "2")
    assert r.stdout.strip()


SLOW_DIR = ("norm(Wa.T@(A@X@(X.T@B + X@A) + B.T@X.T@(a@b.T@(X@D@X.T + X@(X.T@B + A@X)@D@B - X.T@C.T@A)@B "
            "+ B@(X@D.T + B@A@X@A.T - 3*X@D))@B + 42*X@B@X.T@A.T@(X + X.T))@b.T@W - I)**2")


@pytest.mark.parametrize("command", ["dir", "jac"])
def test_api_dir_of_a_long_expression_terminates(command):
    import signal

    def stop(*_):
        raise TimeoutError("no answer after 5 s")
    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 5)
    try:
        matcalc.derive(command, SLOW_DIR)
    except MatcalcError:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_api_cse_fresh_names_do_not_run_out():
    try:
        matcalc.derive("grad", "norm(X@w - yX@w - y)**2")
    except MatcalcError:
        pass


@pytest.mark.parametrize("expr", ["x.T@A@x where A: symmetric n×n", "norm(A@X - B)**2 + tr((X + Y)@inv(X))",
                                  "[[A, B], [B.T, C]] * (x - 1) + sum(X[0:2, :])", "tr(X) where C = A@X"])
def test_parse_without_positions_builds_the_same_expression(expr):
    """api.problem parses without source positions first (faster): the expression,
    declarations and symbol order are the same; only the spans are missing."""
    from matcalc.parse import parse
    try:
        a = parse(expr)
    except MatcalcError as exc:
        with pytest.raises(type(exc)):
            parse(expr, positions=False)
        return
    b = parse(expr, positions=False)
    assert a.order == b.order and a.declarations.keys() == b.declarations.keys()
    assert b.spans == {} and a.spans
    assert a.expr is b.expr   # raw nodes are interned: the same tree is the same object


@pytest.mark.parametrize("expr", ["A@x + B where A: n×m, B: p×q", "tr(X) where A: n×n", "foo(X)",
                                  "sum(X * Y) where X: 2×3, Y: 3×2", "1e999 * X"])
def test_errors_from_the_fast_parse_keep_their_caret(expr):
    """An error met on the fast path is reported from the parse with positions."""
    with pytest.raises(MatcalcError) as info:
        matcalc.grad(expr)
    assert info.value.column is not None and info.value.caret()
