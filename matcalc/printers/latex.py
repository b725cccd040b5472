"""The `latex` format: `4 \\left(M M^{\\top} - I\\right) M`.

Contract: the output is math-mode LaTeX that compiles with `amsmath` and `amssymb`
(tests/test_latex.py compiles a corpus with a TeX engine when one is installed, and
parses it with pylatexenc otherwise).  Conventions, chosen for papers:

* products by juxtaposition, `\\odot` for Hadamard, `\\otimes` for Kronecker,
  `X^{\\top}`, `X^{-1}`, `X^{-\\top}`, `X^{\\circ 2}` for elementwise powers;
* `\\operatorname{tr}`, `\\det`, `\\log\\det`, `\\lVert x \\rVert` (2-norm of a vector),
  `\\lVert X \\rVert_F` (Frobenius norm of a matrix);
* rational coefficients as `\\frac{1}{2}`; a quotient by a scalar as a fraction
  when the numerator is short, as `\\frac{1}{d} (…)` when it is a sum;
* block matrices as `bmatrix`, unit matrices `E_{ij}`, Kronecker deltas `\\delta_{ki}`;
* sub-blocks in 1-based, inclusive range notation (`C[:n, n:]`, with C 2n×2n,
  is `C_{1:n,\\, n+1:2n}`), the usual convention of papers; single symbolic indices
  are kept as they are (`M[l, j]` is `M_{lj}`);
* names: Greek names (`alpha`, `lam`, `α`) become `\\alpha`, `\\lambda`; `H_R` is
  `H_{R}`, `x1` is `x_{1}`; longer names are `\\mathit{name}`; a differential named
  in `differentials` (the `dX` of `dir`) is `\\mathrm{d}X`.

Parentheses are minimal: they come from the shared precedence table in base.py.
"""
from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from ..ops import PREC_ATOM, PREC_KRON, PREC_MUL, PREC_POSTFIX, PREC_POW
from .base import Printer

GREEK_NAMES = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
               "upsilon phi chi psi omega").split()
GREEK = set(GREEK_NAMES) | {g.capitalize() for g in GREEK_NAMES if g.capitalize() not in
                            ("Alpha", "Beta", "Epsilon", "Zeta", "Eta", "Iota", "Kappa", "Mu", "Nu", "Rho",
                             "Tau", "Chi")}
SHORT_GREEK = {"lam": "lambda", "eps": "epsilon", "veps": "varepsilon", "vphi": "varphi"}
UNICODE_GREEK = dict(zip("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ",
                         ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
                          "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split()))


def _base_name(base: str) -> str:
    base = UNICODE_GREEK.get(base, base)
    base = SHORT_GREEK.get(base, base)
    if base in GREEK or base in SHORT_GREEK.values():
        return "\\" + base
    if len(base) > 1:
        return rf"\mathit{{{base}}}"
    return base


@lru_cache(maxsize=4096)   # a pure function of a few names, asked for every symbol printed
def latex_name(name: str, differentials=frozenset()) -> str:
    """The LaTeX of a symbol name: `H_R` → `H_{R}`, `alpha` → `\\alpha`, `x12` → `x_{12}`."""
    if name in differentials and len(name) > 1:
        return r"\mathrm{d}" + latex_name(name[1:])
    base, _, sub = name.partition("_")
    m = re.fullmatch(r"([A-Za-z\u0370-\u03ff]+?)(\d+)", base)
    if m and (len(m.group(1)) == 1 or m.group(1) in GREEK or m.group(1) in SHORT_GREEK):
        base, sub = m.group(1), m.group(2) + ("," + sub if sub else "")
    out = _base_name(base)
    if sub:
        sub = ",".join(_base_name(s) if s.isalpha() else s for s in sub.split(",")) if "," in sub \
            else (_base_name(sub) if sub.isalpha() and (sub in GREEK or sub in SHORT_GREEK) else
                  (sub if len(sub) == 1 or sub.isdigit() else rf"\mathrm{{{sub}}}" if sub.isalpha() else sub))
        return f"{out}_{{{sub}}}"
    return out


def latex_dim(d) -> str:
    """A dimension (`2*m` → `2m`, `n-1`)."""
    return str(d).replace("*", "")


def shape_latex(shape) -> str:
    """`\\mathbb{R}^{n \\times m}`; a column vector is `\\mathbb{R}^{n}`, a scalar `\\mathbb{R}`."""
    r, c = shape
    if r.is_one and c.is_one:
        return r"\mathbb{R}"
    if c.is_one:
        return rf"\mathbb{{R}}^{{{latex_dim(r)}}}"
    return rf"\mathbb{{R}}^{{{latex_dim(r)} \times {latex_dim(c)}}}"


class LatexPrinter(Printer):
    fmt = "latex"
    PLUS, MINUS, NEG = " + ", " - ", "-"
    SCALE, HADAMARD, MATMUL = " ", r" \odot ", " "
    LPAREN, RPAREN = r"\left(", r"\right)"
    infix_prec = {"kron": PREC_KRON}
    SIZED_I = "I_{{{n}}}"

    def __init__(self, differentials=frozenset()):
        super().__init__()
        self.differentials = frozenset(differentials)

    def symbol(self, s) -> str:
        return latex_name(s.name, self.differentials)

    def dim(self, d) -> str:
        return latex_dim(d)

    def number(self, v: Fraction) -> str:
        if v.denominator == 1:
            return str(v.numerator)
        return ("-" if v < 0 else "") + rf"\frac{{{abs(v.numerator)}}}{{{v.denominator}}}"

    # ---- postfix ---------------------------------------------------------------------
    def _print_T(self, e) -> str:
        x = e.args[0]
        if x.op == "inv":  # X^{-\top}, not the double superscript X^{-1}^{\top}
            return self.paren(x.args[0], PREC_POSTFIX + 1) + r"^{-\top}"
        if x.op == "slice":  # C_{1:n,\, 1:n}^{\top}: subscript and superscript on one base
            return self.p(x) + r"^{\top}"
        return self.paren(x, PREC_POSTFIX + 1) + r"^{\top}"

    def _print_inv(self, e) -> str:
        return self.paren(e.args[0], PREC_POSTFIX + 1) + "^{-1}"

    def _print_matpow(self, e) -> str:
        return f"{self.paren(e.args[0], PREC_POSTFIX + 1)}^{{{e.attrs[0]}}}"

    def _print_pow(self, e) -> str:
        base, k = e.args
        hadamard = "" if base.is_scalar else r"\circ "
        if base.is_scalar and k.__class__.__name__ == "Num" and k.value == Fraction(1, 2):
            return rf"\sqrt{{{self.p(base)}}}"
        return f"{self.paren(base, PREC_POSTFIX + 1)}^{{{hadamard}{self.p(k)}}}"

    def prec(self, e) -> int:
        # X^{-1} and X^{k} carry a superscript: another one needs parentheses around them
        if e.op in ("inv", "matpow"):
            return PREC_POSTFIX
        return super().prec(e)

    # ---- quotients -----------------------------------------------------------------------
    def divide(self, numerator, denominators, compound) -> str:
        den = ""
        for k, d in enumerate(denominators):
            if k:  # ⊙ between two arrays, juxtaposition when one side is a scalar
                den += self.HADAMARD if not (d.is_scalar or denominators[k - 1].is_scalar) else self.SCALE
            den += self.paren(d, PREC_MUL + 1) if len(denominators) > 1 else self.p(d)
        if numerator.startswith(r"\left(") and numerator.endswith(r"\right)") and _balanced(numerator):
            return rf"\frac{{1}}{{{den}}} {numerator}"
        return rf"\frac{{{numerator}}}{{{den}}}"

    # ---- structure ----------------------------------------------------------------------
    def _print_slice(self, e) -> str:
        r0, r1, c0, c1 = e.attrs
        rows, cols = e.args[0].shape
        base = self.paren(e.args[0], PREC_ATOM)
        if cols == 1:   # an entry of a column vector: x_{i}
            return base + f"_{{{self.range(r0, r1)}}}"
        if rows == 1:
            return base + f"_{{{self.range(c0, c1)}}}"
        return base + rf"_{{{self.range(r0, r1)},\, {self.range(c0, c1)}}}"

    def range(self, lo, hi) -> str:
        """A 0-based half-open range [lo, hi) in 1-based inclusive notation."""
        if (hi - lo).is_one:
            return self.dim(lo) if lo.names() else self.dim(lo + 1)
        return f"{self.dim(lo + 1)}:{self.dim(hi)}"

    def _print_block(self, e) -> str:
        nr, nc = e.attrs
        cells = [("0" if b.op == "zeros" else self.p(b)) for b in e.args]
        rows = [" & ".join(cells[r * nc:(r + 1) * nc]) for r in range(nr)]
        return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"

    def _print_E(self, e) -> str:
        i, j = (self.index(d) for d in e.attrs[:2])
        sep = "" if len(i) == 1 and len(j) == 1 else ","
        return f"E_{{{i}{sep}{j}}}"

    def index(self, d) -> str:
        return self.dim(d) if d.names() else self.dim(d + 1)

    def _print_delta(self, e) -> str:
        k, i = (self.index(d) for d in e.attrs[:2])
        sep = "" if len(k) == 1 and len(i) == 1 else ","
        return rf"\delta_{{{k}{sep}{i}}}"

    def _print_ones(self, e) -> str:
        r, c = e.attrs[0], e.attrs[-1]
        if c.is_one:
            return rf"\mathbf{{1}}_{{{self.dim(r)}}}"
        return rf"\mathbf{{1}}_{{{self.dim(r)} \times {self.dim(c)}}}"

    def _print_zeros(self, e) -> str:
        return "0"

    def _print_norm(self, e) -> str:
        x = e.args[0]
        if x.shape[1].is_one or x.shape[0].is_one:
            return rf"\left\lVert {self.p(x)} \right\rVert"
        return rf"\left\lVert {self.p(x)} \right\rVert_F"

    def _print_K(self, e) -> str:
        return f"K_{{{self.dim(e.attrs[0])},{self.dim(e.attrs[1])}}}"


def _balanced(s: str) -> bool:
    """True when s is one \\left( … \\right) group (not `\\left(a\\right) \\left(b\\right)`)."""
    depth = 0
    for k in range(len(s)):
        if s.startswith(r"\left", k):
            depth += 1
        elif s.startswith(r"\right", k):
            depth -= 1
            if depth == 0 and k + len(r"\right)") != len(s):
                return False
    return True


def to_latex(e, differentials=frozenset()) -> str:
    return LatexPrinter(differentials)(e)
