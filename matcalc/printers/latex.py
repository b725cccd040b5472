"""The `latex` format: `4 \\left(M M^{\\top} - I\\right) M`."""
from __future__ import annotations

import re

from ..expr import Num
from ..ops import PREC_KRON, PREC_POSTFIX, PREC_POW
from .base import Printer

GREEK = set("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon "
            "phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())
UNICODE_GREEK = dict(zip("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ",
                         ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
                          "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split()))


def latex_name(name: str) -> str:
    base, _, sub = name.partition("_")
    base = UNICODE_GREEK.get(base, base)
    if base in GREEK or base == "lam":
        base = "\\" + ("lambda" if base == "lam" else base)
    elif len(base) > 1 and not re.fullmatch(r"[A-Za-z]\d+", base):
        base = rf"\mathit{{{base}}}"
    elif re.fullmatch(r"[A-Za-z]\d+", base):
        base, sub = base[0], base[1:] + sub
    return f"{base}_{{{sub}}}" if sub else base


class LatexPrinter(Printer):
    fmt = "latex"
    PLUS, MINUS, NEG = " + ", " - ", "-"
    SCALE, HADAMARD, MATMUL = " ", r" \odot ", " "
    LPAREN, RPAREN = r"\left(", r"\right)"
    infix_prec = {"kron": PREC_KRON}

    def symbol(self, s) -> str:
        return latex_name(s.name)

    def _print_T(self, e) -> str:
        x = e.args[0]
        if x.op == "inv":  # X^{-\top}, not the double superscript X^{-1}^{\top}
            return self.paren(x.args[0], PREC_POSTFIX) + r"^{-\top}"
        return self.paren(x, PREC_POSTFIX) + r"^{\top}"

    def _print_pow(self, e) -> str:
        base, k = e.args
        hadamard = "" if base.is_scalar else r"\circ "
        return f"{self.paren(base, PREC_POW + 1)}^{{{hadamard}{self.p(k)}}}"

    def divide(self, numerator, denominators, compound) -> str:
        den = self.HADAMARD.join(self.paren(d, 21) for d in denominators) if len(denominators) > 1 \
            else self.p(denominators[0])
        if numerator == "1" or not compound:
            return rf"\frac{{{numerator}}}{{{den}}}"
        return rf"\frac{{1}}{{{den}}} {numerator}" if numerator.startswith(r"\left(") or " " in numerator \
            else rf"\frac{{{numerator}}}{{{den}}}"

    def number(self, v) -> str:
        if v.denominator == 1:
            return str(v.numerator)
        return ("-" if v < 0 else "") + rf"\frac{{{abs(v.numerator)}}}{{{v.denominator}}}"

    def _print_slice(self, e) -> str:
        r0, r1, c0, c1 = e.attrs
        rows, cols = e.args[0].shape
        return self.paren(e.args[0], PREC_POSTFIX) + \
            rf"_{{[{self.bounds(r0, r1, rows)},\,{self.bounds(c0, c1, cols)}]}}"

    def _print_block(self, e) -> str:
        nr, nc = e.attrs
        cells = [("0" if b.op == "zeros" else self.p(b)) for b in e.args]
        rows = [" & ".join(cells[r * nc:(r + 1) * nc]) for r in range(nr)]
        return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"

    def _print_E(self, e) -> str:
        return f"E_{{{self.dim(e.attrs[0])}{self.dim(e.attrs[1])}}}"

    def _print_ones(self, e) -> str:
        return rf"\mathbf{{1}}_{{{self.dim(e.attrs[0])} \times {self.dim(e.attrs[1])}}}"

    def _print_zeros(self, e) -> str:
        return "0"

    def _print_matpow(self, e) -> str:
        return f"{self.paren(e.args[0], PREC_POSTFIX)}^{{{e.attrs[0]}}}"

    def _print_K(self, e) -> str:
        return f"K_{{{self.dim(e.attrs[0])},{self.dim(e.attrs[1])}}}"


def to_latex(e) -> str:
    return LatexPrinter()(e)
