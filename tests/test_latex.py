"""`--format latex`: golden strings for the conventions (minimal parentheses, ^{\\top},
\\operatorname{tr}, \\log\\det, \\odot, \\otimes, bmatrix, E_{ij}, fractions, where-
definitions, shapes), and a corpus — this file's cases, test_numpy_printer's and
every line of examples/*.batch — that must compile in a real TeX engine (pdflatex
with amsmath/amssymb, when installed) and must parse with pylatexenc using only
known macros and environments.

Install a TeX engine for the compile test with `apt-get install texlive-latex-base`
(Debian/Ubuntu; ~125 MB, includes amsmath and amssymb)."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import matcalc
from matcalc.printers.latex import latex_name

HERE = Path(__file__).resolve().parent


def _numpy_corpus() -> list:
    spec = importlib.util.spec_from_file_location("_matcalc_numpy_corpus", HERE / "test_numpy_printer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ALL


GOLDEN = [
    # SPEC §2 and §4
    ("grad", "tr((M@M.T - I)@(M@M.T - I).T)", "M", {}, r"4 \left(M M^{\top} - I\right) M"),
    ("grad", "tr(A @ X)", "X", {}, r"A^{\top}"),
    ("dir", "M@M.T", "M", {"along": "A"}, r"A M^{\top} + M A^{\top}"),
    ("dir", "M@M.T", "M", {}, r"M \mathrm{d}M^{\top} + \mathrm{d}M M^{\top}"),
    ("grad", "x.T@A@x", "x", {}, r"\left(A + A^{\top}\right) x"),
    ("grad", "x.T@A@x where A: symmetric n×n", "x", {}, r"2 A x"),
    ("grad", "logdet(X)", "X", {}, r"X^{-\top}"),
    ("grad", "logdet(X) where X: spd n×n", "X", {}, r"X^{-1}"),
    ("elem", "A@X@X.T@A.T", "X", {}, r"A \left(X E_{ji} + E_{ij} X^{\top}\right) A^{\top}"),
    ("jac", "A@X@B", "X", {}, r"B^{\top} \otimes A"),
    ("grad", "norm(Z - I*(R.T@A + Q.T@B))**2 + norm(W - [[R, -Q], [Q, R]]@P@S.T)**2", "R", {},
     r"-2 \left(A \left(I \odot \left(Z - I \odot \left(Q^{\top} B + R^{\top} A\right)\right)\right)"
     r" + C_{1:m,\, 1:n} + C_{m+1:2m,\, n+1:2n}\right) \quad \text{where } C = \left(W - "
     r"\begin{bmatrix} R & -Q \\ Q & R \end{bmatrix} P S^{\top}\right) S P^{\top}"),
    # functions, norms, fractions
    ("grad", "det(X)", "X", {}, r"\det\left(X\right) X^{-\top}"),
    ("grad", "norm(x)", "x", {}, r"\frac{x}{\left\lVert x \right\rVert}"),
    ("grad", "norm(A@X - B)**2 + lam*tr(X.T@X)", "X", {},
     r"2 \left(A^{\top} \left(A X - B\right) + \lambda X\right)"),
    ("grad", "sum(exp(X)/2)", "X", {}, r"\frac{\exp\left(X\right)}{2}"),
    ("grad", "tr(A@X) where X: symmetric n×n", "X", {}, r"\frac{1}{2} \left(A + A^{\top}\right)"),
    ("grad", "sqrt(x.T@y)", "x", {}, r"\frac{y}{2 \sqrt{x^{\top} y}}"),
    ("grad", "tr(matpow(X, 3))", "X", {}, r"3 \left(X^{2}\right)^{\top}"),
    ("grad", "sum(sigmoid(X@w))", "w", {},
     r"X^{\top} \left(C \odot \left(\mathbf{1}_{n} - C\right)\right) \quad \text{where } C = \sigma\left(X w\right)"),
    ("dir", "kron(X, Y)", "X", {"along": "V"}, r"V \otimes Y"),
    ("dir", "logdet(X)", "X", {"along": "V"}, r"\operatorname{tr}\left(V X^{-1}\right)"),
    ("grad", "alpha*tr(X)", "X", {}, r"\alpha I"),
    ("grad", "tr(H_R@X)", "X", {}, r"H_{R}^{\top}"),
]


@pytest.mark.parametrize("command,expr,wrt,opts,expected", GOLDEN, ids=[f"{c}:{e}" for c, e, *_ in GOLDEN])
def test_latex_golden(command, expr, wrt, opts, expected):
    (r,) = matcalc.derive(command, expr, [wrt], check=True, seed=3, **opts)
    assert r.check.passed and r.check.error < 1e-6
    assert r.latex() == expected


def test_latex_label_and_shapes():
    r = matcalc.grad("tr((M@M.T - I)@(M@M.T - I).T)", wrt="M")
    assert r.latex(label=True, shapes=True) == \
        r"\nabla_{M} f = 4 \left(M M^{\top} - I\right) M, \qquad M \in \mathbb{R}^{n \times m}"
    r = matcalc.grad("x.T@A@x", wrt="x")
    assert r.shapes_latex() == r"x \in \mathbb{R}^{n},\; A \in \mathbb{R}^{n \times n}"
    r = matcalc.grad("tr(A@X@B) where A: n×n, X: n×n, B: n×n", wrt="X")
    assert r.shapes_latex() == r"A, X, B \in \mathbb{R}^{n \times n}"


def test_latex_labels_name_the_derivative():
    assert matcalc.dir("M@M.T", wrt="M").latex_label() == r"\mathrm{d}F"
    assert matcalc.dir("M@M.T", wrt="M", along="A").latex_label() == r"\mathrm{D}F(M)[A]"
    assert matcalc.elem("X@A", wrt="X").latex_label() == r"\frac{\partial F}{\partial X_{ij}}"
    assert matcalc.jac("A@x", wrt="x").latex_label() == \
        r"\frac{\partial \operatorname{vec} F}{\partial \operatorname{vec}(x)^{\top}}"


def test_latex_block_keeps_the_result_line_and_comments_the_rest():
    r = matcalc.grad("tr((M@M.T - I)@(M@M.T - I).T)", wrt="M")
    assert r.latex_block() == "4 \\left(M M^{\\top} - I\\right) M\n% M \\in \\mathbb{R}^{n \\times m}\n"
    assert r.latex_block(header=True).startswith("% grad wrt M\n")


def test_repr_latex_for_jupyter():
    r = matcalc.grad("tr(A @ X)", wrt="X")
    out = r._repr_latex_()
    assert out.startswith("$") and out.endswith("$")
    assert r"\nabla_{X} f = A^{\top}" in out and r"\mathbb{R}" in out


@pytest.mark.parametrize("name,expected", [
    ("x", "x"), ("H_R", "H_{R}"), ("x1", "x_{1}"), ("alpha", r"\alpha"), ("α", r"\alpha"), ("lam", r"\lambda"),
    ("Sigma", r"\Sigma"), ("mu_2", r"\mu_{2}"), ("W_out", r"W_{\mathrm{out}}"), ("foo", r"\mathit{foo}"),
])
def test_latex_names(name, expected):
    assert latex_name(name) == expected


def test_latex_minimal_parentheses():
    from matcalc.printers.latex import to_latex
    e = matcalc.parse("A@(B + C)@D.T + (A@B).T - inv(A.T)@x@x.T where x: n")
    text = to_latex(e)
    assert r"A \left(B + C\right) D^{\top}" in text
    assert r"\left(A" not in text.replace(r"A \left(B", "")  # (A@B).T is pushed inward: B^{\top} A^{\top}
    assert r"B^{\top} A^{\top}" in text and r"A^{-\top} x x^{\top}" in text


def test_latex_hadamard_power_and_transpose_never_stack_superscripts():
    from matcalc.printers.latex import to_latex
    out = to_latex(matcalc.parse("A.T**2 + inv(A)**2 where A: n×n"))
    assert r"\left(A^{\top}\right)^{\circ 2}" in out and r"\left(A^{-1}\right)^{\circ 2}" in out
    assert "}^{" not in out.replace(r"\right)^{", "")


# ---- the corpus: every result must compile / parse ----------------------------------------
def corpus_latex() -> list[tuple[str, str]]:
    """(label, LaTeX block) for every result of the corpus, in three forms."""
    cases = [(c, e, w, o) for c, e, w, o, _ in GOLDEN] + _numpy_corpus() + [
        ("hess", "x.T@A@x", "x", {}), ("hess", "tr(X.T@A@X)", "X", {"along": "V"}),
        ("jac", "X.T", "X", {}), ("jac", "A@X@X.T@A.T", "X", {}), ("grad", "α*tr(X)", "X", {}),
        ("grad", "tr(kron(A, B)@X) where A: 2×2, B: n×n", "X", {}),
        ("grad", "sum(tanh(X)**3) + sum(abs(X)) + sum(relu(X))", "X", {}),
        ("grad", "ones(n,1).T@diag(X)@ones(n,1) + tr(diag(x))", "X", {}),
        ("dir", "vec(X)", "X", {}),
    ]
    out, seen = [], set()
    for c, e, w, o in cases:
        try:
            results = matcalc.derive(c, e, [w] if w else None, **o)
        except matcalc.MatcalcError:
            continue
        for r in results:
            for block in (r.latex_block(header=True), r.latex(label=True, shapes=True)):
                if block not in seen:
                    seen.add(block)
                    out.append((f"{c} {e} wrt {r.wrt}", block))
    return out


@pytest.fixture(scope="module")
def corpus():
    items = corpus_latex()
    assert len(items) > 100
    return items


KNOWN_MACROS = {
    "left", "right", "frac", "top", "odot", "otimes", "circ", "operatorname", "log", "det", "exp", "sin", "cos",
    "tanh", "sqrt", "lVert", "rVert", "mathbf", "mathbb", "mathrm", "mathit", "in", "times", "quad", "qquad",
    "text", "nabla", "partial", "delta", ",", ";", "\\", "sigma",
} | {g for g in ("alpha beta gamma delta epsilon varepsilon zeta eta theta iota kappa lambda mu nu xi pi rho "
                 "sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi "
                 "Psi Omega").split()}


def test_latex_corpus_parses_with_known_macros_only(corpus):
    latexwalker = pytest.importorskip("pylatexenc.latexwalker",
                                      reason="pylatexenc is not installed (pip install '.[test]')")
    for label, block in corpus:
        text = "\n".join(line for line in block.splitlines() if not line.startswith("%"))
        assert "$" not in text and not re.search(r"[^\x00-\x7f]", text), f"{label}: non-ASCII or $ in {text}"
        walker = latexwalker.LatexWalker(text, tolerant_parsing=False)
        nodes, _, _ = walker.get_latex_nodes()
        macros, envs = set(), set()

        def visit(ns):
            for n in ns or ():
                if isinstance(n, latexwalker.LatexMacroNode):
                    macros.add(n.macroname)
                    if n.nodeargd is not None:
                        visit([a for a in n.nodeargd.argnlist if a is not None])
                elif isinstance(n, latexwalker.LatexEnvironmentNode):
                    envs.add(n.environmentname)
                    visit(n.nodelist)
                elif isinstance(n, latexwalker.LatexGroupNode):
                    visit(n.nodelist)
        visit(nodes)
        assert macros <= KNOWN_MACROS, f"{label}: unknown macros {macros - KNOWN_MACROS} in {text}"
        assert envs <= {"bmatrix"}, f"{label}: environments {envs}"
        assert text.count(r"\left") == text.count(r"\right"), f"{label}: unbalanced \\left/\\right in {text}"


def test_latex_corpus_compiles_with_pdflatex(corpus, tmp_path):
    engine = shutil.which("pdflatex")
    if engine is None:
        pytest.skip("no TeX engine: pdflatex is not installed (apt-get install texlive-latex-base)")
    body = []
    starts = []
    lines_before = 4
    for label, block in corpus:
        starts.append((lines_before + len(body) + 1, label, block))
        body.append(r"\[")
        body.extend(block.rstrip("\n").splitlines())
        body.append(r"\]")
    doc = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
           "\\allowdisplaybreaks\n" + "\n".join(body) + "\n\\end{document}\n")
    (tmp_path / "corpus.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "corpus.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        log = (tmp_path / "corpus.log").read_text(errors="replace")
        m = re.search(r"^l\.(\d+)", log, re.M)
        where = ""
        if m:
            line = int(m.group(1))
            where = next((f"{lab}: {blk}" for start, lab, blk in reversed(starts) if start <= line), "")
        err = re.search(r"^! .*", log, re.M)
        pytest.fail(f"pdflatex failed: {err.group(0) if err else run.stdout[-2000:]}\n  at {where}")
    assert (tmp_path / "corpus.pdf").exists()
