"""The `pretty` format: Unicode maths as a person writes it — `4 (M Mᵀ − I) M`,
juxtaposition for products, ⊙ for Hadamard, ᵀ and ⁻¹ as superscripts."""
from __future__ import annotations

from ..expr import Num
from ..ops import PREC_KRON, PREC_POW
from .base import Printer

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class PrettyPrinter(Printer):
    fmt = "pretty"
    PLUS, MINUS, NEG = " + ", " − ", "−"
    SCALE, HADAMARD, MATMUL = " ", " ⊙ ", " "
    infix_prec = {"kron": PREC_KRON}

    def _print_T(self, e) -> str:
        from ..ops import PREC_POSTFIX
        x = e.args[0]
        if x.op == "inv":
            return self.paren(x.args[0], PREC_POSTFIX) + "⁻ᵀ"
        return self.paren(x, PREC_POSTFIX) + "ᵀ"

    def _print_pow(self, e) -> str:
        base, k = e.args
        b = self.paren(base, PREC_POW + 1)
        hadamard = "" if base.is_scalar else "∘"
        if isinstance(k, Num) and k.value.denominator == 1:
            return b + hadamard + str(k.value.numerator).translate(SUPERSCRIPT)
        return f"{b}^({hadamard}{self.p(k)})"

    def number(self, v) -> str:
        return super().number(v).replace("-", "−")

    def _print_E(self, e) -> str:
        return f"E({self.dim(e.attrs[0])},{self.dim(e.attrs[1])})"


def to_pretty(e) -> str:
    return PrettyPrinter()(e)
