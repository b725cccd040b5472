"""`pretty` on the terminal, tested through matcalc.env.Environment (which forces
"is stdout a terminal?"): colours that respect --color, NO_COLOR, FORCE_COLOR and
TERM=dumb; definitions, shapes and the check laid out under the result; long
results broken before + and − to fit the width, never inside a symbol."""
from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner

import matcalc
from matcalc.cli import State, main
from matcalc.env import Environment
from matcalc.printers.pretty import to_pretty, wrap
from matcalc.printers.rich_out import show_results

ANSI = re.compile(r"\x1b\[")
EX8 = "norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2"


def run(args, tty=True, environ=None, columns=None, monkeypatch=None):
    if columns is not None:
        monkeypatch.setenv("COLUMNS", str(columns))
    env = Environment(stdout_isatty=tty, stderr_isatty=tty, environ=environ if environ is not None else {})
    result = CliRunner().invoke(main, args, obj=State(env=env))
    assert result.exit_code == 0, result.output
    return result.output


def test_pretty_is_the_default_on_a_terminal_and_coloured():
    out = run(["grad", "tr((M@M.T - I)@(M@M.T - I).T)", "--wrt", "M"], tty=True)
    assert ANSI.search(out)
    plain = ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", out))
    assert plain.splitlines()[0] == "∇M f = 4 (M Mᵀ − I) M"
    assert plain.splitlines()[1].strip() == "M: n×m"


def test_pretty_text_is_the_default_on_a_pipe():
    assert run(["grad", "tr((M@M.T - I)@(M@M.T - I).T)", "--wrt", "M"], tty=False) == "4*(M@M.T - I)@M\n"


@pytest.mark.parametrize("args,environ", [
    ([], {"NO_COLOR": "1"}),
    ([], {"TERM": "dumb"}),
    (["--color", "never"], {}),
    (["--color", "never"], {"FORCE_COLOR": "1"}),
])
def test_pretty_without_colour_writes_no_ansi_code(args, environ):
    out = run(["grad", "x.T@A@x", "--wrt", "x", "--check"] + args, tty=True, environ=environ)
    assert not ANSI.search(out) and "\x1b" not in out
    assert out.splitlines()[0] == "∇x f = (A + Aᵀ) x"


@pytest.mark.parametrize("args,environ", [
    (["-f", "pretty", "--color", "always"], {}),
    (["-f", "pretty"], {"FORCE_COLOR": "1"}),
])
def test_pretty_colour_forced_on_a_pipe(args, environ):
    out = run(["grad", "x.T@A@x", "--wrt", "x"] + args, tty=False, environ=environ)
    assert ANSI.search(out)


def test_pretty_lays_out_definitions_shapes_and_check_under_the_result():
    out = run(["grad", EX8, "--wrt", "R", "--check", "--color", "never"], tty=True)
    lines = out.splitlines()
    assert lines[0].startswith("∇R f = −2 (A (I ⊙ (Z − I ⊙ (Qᵀ B + Rᵀ A))) + C[:m, :n] + C[m:, n:])")
    indent = " " * len("∇R f = ")
    where = [k for k, line in enumerate(lines) if "where C = " in line]
    assert where and lines[where[0]] == indent + "where C = (W − [[R, −Q], [Q, R]] P Sᵀ) S Pᵀ"
    assert any(line.startswith(indent + "Z: n×n, R: m×n") for line in lines)
    assert lines[-1].startswith(indent + "✓ verified numerically: relative error")


def test_pretty_keeps_brackets_that_look_like_markup():
    out = run(["grad", EX8, "--wrt", "Q", "--color", "always", "-f", "pretty"], tty=False)
    assert "C[:m, n:]" in out and "C[m:, :n]" in out and "[[R, −Q], [Q, R]]" in out


def test_pretty_fits_the_terminal_width(monkeypatch):
    out = run(["grad", EX8, "--wrt", "R", "--wrt", "Q", "--color", "never"], tty=True, columns=50,
              monkeypatch=monkeypatch)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 50, out
    # the continuation lines of the first result begin with an operator, aligned inside its bracket
    first = lines[:lines.index("") if "" in lines else len(lines)]
    assert first[1].lstrip().startswith(("+ ", "− "))


def test_pretty_long_result_is_broken_only_before_plus_or_minus():
    r = matcalc.grad(EX8, wrt="Q")
    buf = io.StringIO()
    show_results([r], buf, color=False, width=40)
    lines = buf.getvalue().splitlines()
    head = "∇Q f = "
    main_lines = [lines[0][len(head):]]
    for line in lines[1:]:
        if line.strip().startswith("where"):
            break
        assert line.strip().startswith(("+ ", "− ")), line
        main_lines.append(line.strip())
    assert len(main_lines) > 1
    assert " ".join(main_lines) == to_pretty(r.expr)
    assert max(len(line) for line in lines[:len(main_lines)]) <= 40


@pytest.mark.parametrize("text,width,indent,expected", [
    ("a + b", 80, 0, ["a + b"]),
    ("aaaa + bbbb + cccc", 12, 0, ["aaaa + bbbb", "+ cccc"]),
    ("2 (aaaa + bbbb + cccc)", 14, 0, ["2 (aaaa + bbbb", "   + cccc)"]),
    ("x − (aaaa + bbbb)", 10, 0, ["x", "− (aaaa", "   + bbbb)"]),
    ("unbreakable_symbol_name", 5, 0, ["unbreakable_symbol_name"]),
])
def test_pretty_wrap(text, width, indent, expected):
    assert wrap(text, width, indent) == expected


@pytest.mark.parametrize("expr,wrt,expected", [
    ("tr((M@M.T - I)@(M@M.T - I).T)", "M", "4 (M Mᵀ − I) M"),
    ("logdet(X)", "X", "X⁻ᵀ"),
    ("sum(X**3)", "X", "3 X∘²"),
    ("alpha*tr(X) + lam*norm(X)**2", "X", "α I + 2 λ X"),
    ("norm(x)", "x", "x/‖x‖"),
])
def test_pretty_forms(expr, wrt, expected):
    (r,) = matcalc.derive("grad", expr, [wrt], check=True, seed=2)
    assert r.check.passed and r.check.error < 1e-6
    assert r.pretty() == expected


def test_pretty_labels():
    from matcalc.printers.rich_out import label
    assert label(matcalc.dir("M@M.T", wrt="M")) == "dF"
    assert label(matcalc.dir("M@M.T", wrt="M", along="A")) == "DF(M)[A]"
    assert label(matcalc.elem("X@A", wrt="X")) == "∂F/∂X_ij"
    assert label(matcalc.hess("x.T@A@x", wrt="x")) == "∇²x f"


def test_pretty_elem_uses_subscripts():
    assert matcalc.elem("A@X@X.T@A.T", wrt="X").pretty() in ("A (X Eⱼᵢ + Eᵢⱼ Xᵀ) Aᵀ", "A (Eᵢⱼ Xᵀ + X Eⱼᵢ) Aᵀ")
