"""The `pretty` format: Unicode maths as a person writes it — `4 (M Mᵀ − I) M`,
juxtaposition for products, ⊙ for Hadamard, ⊗ for Kronecker, ᵀ and ⁻¹ as
superscripts, Greek names as letters (`alpha` → α, `lam` → λ), `Eᵢⱼ` and `δₖᵢ`
with subscripts when Unicode has them.

`wrap(text, width, indent)` lays a long one-line result out over several lines,
breaking before a `+`/`−` and aligning the continuation under its group; rich_out.py
uses it so that the terminal never folds a result in the middle of a symbol.
"""
from __future__ import annotations

from ..expr import Num
from ..ops import PREC_KRON, PREC_POSTFIX, PREC_POW
from .base import Printer

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPT = dict(zip("0123456789aehijklmnoprstuvx+-", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₊₋"))
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε", "zeta": "ζ",
         "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "lam": "λ", "mu": "μ", "nu": "ν",
         "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "chi": "χ",
         "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
         "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω"}


def subscript(text: str) -> str | None:
    """`ij` → `ᵢⱼ`, or None when a character has no Unicode subscript."""
    if all(c in SUBSCRIPT for c in text):
        return "".join(SUBSCRIPT[c] for c in text)
    return None


def pretty_name(name: str) -> str:
    base, sep, sub = name.partition("_")
    return GREEK.get(base, base) + sep + GREEK.get(sub, sub)


class PrettyPrinter(Printer):
    fmt = "pretty"
    PLUS, MINUS, NEG = " + ", " − ", "−"
    SCALE, HADAMARD, MATMUL = " ", " ⊙ ", " "
    infix_prec = {"kron": PREC_KRON}

    def symbol(self, s) -> str:
        return pretty_name(s.name)

    def _print_T(self, e) -> str:
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

    def _indices(self, symbol: str, attrs) -> str:
        i, j = (self.dim(d) for d in attrs[:2])
        sub = subscript(i + j) if len(i) == 1 and len(j) == 1 else None
        return f"{symbol}{sub}" if sub else f"{symbol}({i},{j})"

    def _print_E(self, e) -> str:
        return self._indices("E", e.attrs)

    def _print_delta(self, e) -> str:
        return self._indices("δ", e.attrs)


def to_pretty(e) -> str:
    return PrettyPrinter()(e)


def wrap(text: str, width: int, indent: int = 0) -> list[str]:
    """Lines of at most `width` columns (when a break allows it) for a pretty
    expression printed at column `indent`: breaks go before a binary `+`/`−`, the
    shallowest that fits first; continuation lines start with the operator, aligned
    just inside the bracket that encloses the break.  Returned lines after the first
    carry their own leading spaces, counted from column `indent`."""
    if indent + len(text) <= width:
        return [text]
    breaks = []   # (position of the space before the operator, depth, index of its enclosing bracket)
    stack: list[int] = []
    for k, ch in enumerate(text):
        if ch in "([":
            stack.append(k)
        elif ch in ")]":
            if stack:
                stack.pop()
        elif text.startswith(" + ", k) or text.startswith(" − ", k):
            breaks.append((k, len(stack), stack[-1] if stack else None))
    segments = [(0, 0)]   # (first text index of a line, offset: column = index + offset)

    def column(k: int) -> int:
        return k + next(off for first, off in reversed(segments) if first <= k)

    lines, start, lead = [], 0, ""
    while indent + len(lead) + len(text) - start > width:
        later = [b for b in breaks if b[0] > start]
        if not later:
            break
        fits = [b for b in later if indent + len(lead) + b[0] - start <= width]
        best = min(fits, key=lambda b: (b[1], -b[0])) if fits else later[0]
        lines.append(lead + text[start:best[0]])
        lead = " " * (column(best[2]) + 1 if best[2] is not None else 0)
        start = best[0] + 1
        segments.append((start, len(lead) - start))
    lines.append(lead + text[start:])
    return lines
