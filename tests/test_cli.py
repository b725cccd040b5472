"""The command line: in process through click's CliRunner on `matcalc.cli.main`
(exit codes 0/1/2, stdin `-`, JSON objects and JSON errors, parse-error carets,
--wrt suggestions, grad of a non-scalar), plus a few real subprocess runs of the
installed console script (from a temporary cwd, so the installed package and
its shipped grammar are what runs) and of `python -m matcalc`.

Every derivative printed here is also checked numerically (--check)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcalc.cli import main

VENV_BIN = Path(sys.executable).parent
MATCALC = VENV_BIN / "matcalc"


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


# ---- success -------------------------------------------------------------------
def test_cli_grad_text_and_check():
    res = run("grad", "x.T@A@x", "--wrt", "x", "--check", "--seed", "1")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == "(A + A.T)@x"


def test_cli_every_symbol_without_wrt():
    res = run("grad", "tr(A@X)", "--check", "--seed", "1")
    assert res.exit_code == 0
    assert "# grad wrt A" in res.stdout and "# grad wrt X" in res.stdout


def test_cli_stdin_dash():
    res = run("grad", "-", "--wrt", "X", "--check", input="logdet(X)\n")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == "inv(X).T"


def test_cli_expression_starting_with_minus_after_double_dash():
    res = run("grad", "--wrt", "x", "--check", "--", "-x.T@x")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == "-2*x"


def test_cli_json_object():
    res = run("dir", "M@M.T", "--wrt", "M", "--along", "A", "-f", "json", "--check", "--seed", "2")
    assert res.exit_code == 0
    d = json.loads(res.stdout)
    assert d["ok"] is True and d["command"] == "dir" and d["wrt"] == "M" and d["input"] == "M@M.T"
    assert d["result"] == "A@M.T + M@A.T"
    assert d["shapes"]["M"] == ["n", "m"]
    assert d["check"]["passed"] is True and d["check"]["error"] < 1e-6


def test_cli_json_one_object_per_result():
    res = run("elem", "A@X", "-f", "json", "--check")
    assert res.exit_code == 0
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["wrt"] for d in lines] == ["A", "X"]


@pytest.mark.parametrize("fmt", ["text", "latex", "numpy", "json"])
def test_cli_formats_have_no_ansi(fmt):
    res = run("grad", "norm(A@x - b)**2", "--wrt", "x", "-f", fmt, "--color", "always", "--check")
    assert res.exit_code == 0
    assert "\x1b[" not in res.stdout


def test_cli_numpy_format_runs():
    import numpy as np
    res = run("grad", "x.T@A@x", "--wrt", "x", "-f", "numpy")
    ns: dict = {}
    exec(res.stdout, ns)
    fn = next(v for k, v in ns.items() if k.startswith("grad_"))
    A, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
    assert np.allclose(np.ravel(fn(A, x)), (A + A.T) @ x)


def test_cli_version_and_help():
    assert run("--version").stdout.strip().startswith("matcalc ")
    res = run("--help")
    assert res.exit_code == 0 and "Examples" in res.stdout and "check" in res.stdout


# ---- errors: exit codes, carets, JSON ------------------------------------------------
def test_cli_parse_error_caret_exit_2():
    res = run("grad", "tr(A@")
    assert res.exit_code == 2
    err = res.stderr
    assert err.startswith("matcalc: error: ") and "Traceback" not in err
    lines = err.splitlines()
    expr_line = next(k for k, line in enumerate(lines) if "tr(A@" in line and "error" not in line)
    caret = lines[expr_line + 1]
    assert caret.index("^") == lines[expr_line].index("tr(A@") + len("tr(A@")
    assert "expected" in err


def test_cli_parse_error_json():
    res = run("grad", "A @@ B", "-f", "json")
    assert res.exit_code == 2
    d = json.loads(res.stdout)
    assert d["ok"] is False and d["input"] == "A @@ B"
    assert d["error"]["kind"] == "parse" and d["error"]["line"] == 1 and d["error"]["column"] == 4


def test_cli_unknown_wrt_suggests_nearest_exit_2():
    res = run("grad", "norm(weight)**2", "--wrt", "wieght")
    assert res.exit_code == 2
    assert "did you mean weight" in res.stderr


def test_cli_unknown_wrt_json():
    res = run("grad", "x.T@A@x", "--wrt", "xx", "-f", "json")
    assert res.exit_code == 2
    d = json.loads(res.stdout)
    assert d["error"]["kind"] == "usage" and "x" in d["error"]["message"]


def test_cli_grad_of_non_scalar_points_to_dir_elem_jac():
    res = run("grad", "A@X where A: n×n, X: n×m")
    assert res.exit_code == 1
    msg = res.stderr
    assert "scalar" in msg and "dir" in msg and "elem" in msg and "jac" in msg


def test_cli_shape_error_exit_1_names_both_operands():
    res = run("grad", "tr(A@B) where A: n×m, B: n×m")
    assert res.exit_code == 1
    assert "A" in res.stderr and "B" in res.stderr and "n×m" in res.stderr


def test_cli_unknown_option_exit_2():
    res = run("grad", "x", "--bogus")
    assert res.exit_code == 2


def test_cli_unknown_function_suggests():
    res = run("grad", "tarce(X)")
    assert res.exit_code == 2 and "tr" in res.stderr


@pytest.mark.parametrize("text", ["", "   ", "(((", "A +", "[[A, B], [C]]", "x where", "1e99999", "A'''",
                                  "matpow(X, 1.5)", "E(i)", "é@ü"])
def test_cli_never_a_traceback(text):
    res = run("grad", "--", text)
    assert res.exit_code in (0, 1, 2)
    assert "Traceback" not in res.output and "Traceback" not in res.stderr
    if res.exit_code:
        assert res.stderr.startswith("matcalc: error: ")


# ---- real processes -------------------------------------------------------------------
def _proc(args, cwd, input=None):
    return subprocess.run(args, cwd=cwd, input=input, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not MATCALC.exists(), reason="the console script is not installed next to this Python")
def test_cli_subprocess_console_script(tmp_path):
    p = _proc([str(MATCALC), "grad", "tr((M@M.T - I)@(M@M.T - I).T)", "--wrt", "M", "--check"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "4*(M@M.T - I)@M"
    p = _proc([str(MATCALC), "grad", "tr(A@"], tmp_path)
    assert p.returncode == 2 and "^" in p.stderr and "Traceback" not in p.stderr
    p = _proc([str(MATCALC), "check", "logdet(X)", "--seed", "1", "-f", "json"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert all(json.loads(line)["status"] in ("PASS", "SKIP") for line in p.stdout.splitlines())


def test_cli_subprocess_python_m(tmp_path):
    p = _proc([sys.executable, "-m", "matcalc", "grad", "-", "--wrt", "x", "--check"], tmp_path,
              input="x.T@A@x where A: symmetric n×n\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "2*A@x"
    p = _proc([sys.executable, "-m", "matcalc", "grad", "x.T@A@x", "--wrt", "z", "-f", "json"], tmp_path)
    assert p.returncode == 2
    assert json.loads(p.stdout)["ok"] is False


# ---- examples/core.batch ------------------------------------------------------------
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _core_lines():
    import shlex
    for number, line in enumerate((EXAMPLES / "core.batch").read_text(encoding="utf-8").splitlines(), 1):
        args = shlex.split(line, comments=True)
        if args:
            yield number, args


def test_examples_core_batch_line_by_line():
    """Each line through the CLI entry point (its own shlex-split argv), stdout in
    order equals examples/core.expected; the error lines exit 1 or 2 with a message
    on stderr.  (test_check.test_examples_corpus_exact verifies every derivative of
    the file numerically and exactly.)"""
    expected = (EXAMPLES / "core.expected").read_text(encoding="utf-8")
    out = []
    for number, args in _core_lines():
        res = CliRunner().invoke(main, args + ["-f", "text"])
        assert "Traceback" not in res.output, (number, res.output)
        if res.exit_code == 0:
            out.append(res.stdout)
        else:
            assert res.exit_code in (1, 2) and res.stderr.startswith("matcalc: error: "), (number, res.output)
    assert "".join(out) == expected


def test_examples_core_batch_whole_file():
    res = CliRunner().invoke(main, ["batch", str(EXAMPLES / "core.batch"), "-f", "text"])
    assert res.exit_code == 1   # the file ends with two lines that are errors on purpose
    assert res.stdout == (EXAMPLES / "core.expected").read_text(encoding="utf-8")
    assert "line 50" in res.stderr and "line 51" in res.stderr


# ---- --steps and --index through the CLI --------------------------------------------
def test_cli_steps_text_and_json():
    r = run("grad", "tr(A@X)", "--wrt", "X", "--steps", "-f", "text")
    assert r.exit_code == 0
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("df = tr(A@dX)") and lines[-1] == "A.T"
    assert any("cyclic trace" in ln for ln in lines)
    obj = json.loads(run("grad", "tr(A@X)", "--wrt", "X", "--steps", "-f", "json").stdout)
    assert obj["result"] == "A.T" and obj["steps"][-1].startswith("∇f = A.T")
    r = run("hess", "x.T@A@x", "--wrt", "x", "--steps", "-f", "text")
    assert r.stdout.strip().splitlines()[-2].startswith("H = A + A.T")
    r = run("jac", "A@X@B", "--wrt", "X", "--steps", "-f", "text")
    assert "J = kron(B.T, A)" in r.stdout


def test_cli_index_text_json_pretty():
    want = "δ(k,i)*M[l,j] + M[k,j]*δ(l,i)"
    assert run("elem", "M@M.T", "--wrt", "M", "--index", "-f", "text").stdout.strip() == want
    obj = json.loads(run("elem", "M@M.T", "--wrt", "M", "--index", "-f", "json").stdout)
    assert obj["index"] == want and obj["latex"] == r"\delta_{ki} M_{lj} + M_{kj} \delta_{li}"
    pretty = run("elem", "M@M.T", "--wrt", "M", "--index", "-f", "pretty").stdout
    assert "δₖᵢ Mₗⱼ + Mₖⱼ δₗᵢ" in pretty and "4-D tensor" in pretty
