"""The console entry point answers plain one-liners without click (matcalc/console.py,
issue 7: cold start).  Whatever it answers must be exactly what the click CLI prints
for the same command line; anything else must go to the click CLI."""
import io
import sys

import pytest

from matcalc import cli, console

PLAIN = [
    ["grad", "tr((M@M.T - I)@(M@M.T - I).T)", "--wrt", "M", "--format", "text"],
    ["grad", "x.T@A@x", "-f", "json"],
    ["grad", "x.T@A@x", "-w", "x", "-w", "A", "-f", "text"],
    ["grad", "x.T@A@x", "-d", "A: symmetric n×n", "--format", "latex"],
    ["grad", "norm(A@x - b)**2", "--wrt", "x", "-f", "numpy"],
    ["dir", "M@M.T", "--wrt", "M", "--along", "A", "-f", "text"],
    ["dir", "A@X@X.T@A.T", "--along", "Y", "--wrt", "X", "-f", "json"],
    ["elem", "A@X@X.T@A.T", "--wrt", "X", "-f", "latex"],
    ["jac", "A@X@B", "--wrt", "X", "-f", "text"],
    ["hess", "x.T@A@x", "--wrt", "x", "-f", "json"],
    ["hess", "tr(X.T@A@X)", "--wrt", "X", "--along", "V", "-f", "text"],
    ["grad", "-f", "text", "--", "-tr(X)"],
    ["grad", "tr(X)", "-f", "json", "-f", "text"],                 # the last --format wins
    ["grad", "x.T@A@x", "-d", "A: n×n", "-d", "A: symmetric n×n", "-f", "text"],
    ["grad", "x.T@y where y: n", "-f", "text"],
]
NOT_PLAIN = [
    ["grad", "tr(X)", "-f", "pretty"],
    ["grad", "tr(X)", "--check", "-f", "text"],
    ["grad", "tr(X)", "--format=text"],
    ["grad", "tr(X)", "--steps", "-f", "text"],
    ["grad", "-", "-f", "text"],
    ["grad", "tr(X)", "--wrt"],
    ["grad", "tr(X)", "tr(Y)", "-f", "text"],
    ["grad", "tr(X)", "--along", "V", "-f", "text"],       # grad has no --along
    ["elem", "A@X", "--index", "-f", "text"],
    ["batch", "-"],
    ["check", "tr(X)", "--seed", "1"],
    ["--help"],
    [],
]
FAILING = [   # plain in form, but an error: the click CLI reports it
    ["grad", "A@x +", "-f", "text"],
    ["grad", "A@X", "-d", "A: 2×3, X: 3×2", "-f", "json"],
    ["grad", "tr(X)", "--wrt", "Y", "-f", "text"],
    ["grad", "x.T@A@x", "-f", "latex", "-d", "A: n×m, x: p"],
]


def run(entry, args, monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = 0
    try:
        entry(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_console_plain_line_is_answered_without_click_and_as_click_would(args, monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert console._plain_answer(list(args)) is not None          # the fast path answers it
    assert run(console.main, args, monkeypatch) == run(cli.run_main, args, monkeypatch)


@pytest.mark.parametrize("args", NOT_PLAIN + FAILING, ids=" ".join)
def test_console_other_lines_go_to_click(args, monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert console._plain_answer(list(args)) is None
    assert run(console.main, args, monkeypatch) == run(cli.run_main, args, monkeypatch)


def test_console_default_format_follows_the_terminal(monkeypatch):
    """No --format: text into a pipe (answered here), pretty on a terminal (click)."""
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stdout", pipe)
    assert console._plain_answer(["grad", "tr(A@X)", "--wrt", "X"]) == "A.T\n"

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert console._plain_answer(["grad", "tr(A@X)", "--wrt", "X"]) is None
