"""The printer skeleton shared by every format.

Regular operators print through the registry's templates (`Op.text`, `Op.latex`, …);
irregular ones through a `_print_<op>` method.  Parentheses are decided here only, from
the precedence table in ops: an operand is wrapped when it binds more loosely than
its position needs.  Subclasses set the tokens (how +, ⊙, scalar ×, @ and .T look).
"""
from __future__ import annotations

from fractions import Fraction

from ..expr import REGISTRY, Num, Sym, make
from ..ops import PREC_ADD, PREC_ATOM, PREC_MUL, PREC_NEG, PREC_POSTFIX, PREC_POW
from ..ops.core import scaled, split_coefficient


_METHODS: dict = {}   # (printer class, op) -> its _print_<op> function, or None


class Printer:
    fmt = "text"             # which template of the Op entries to use
    PLUS, MINUS = " + ", " - "
    SCALE = "*"              # scalar × array
    HADAMARD = "*"
    MATMUL = "@"
    NEG = "-"
    LPAREN, RPAREN = "(", ")"
    infix_prec: dict = {}    # op -> precedence where this format prints the op infix
    SIZED_I = "eye({n})"     # the identity where nothing around it gives its size

    def __init__(self):
        self.memo: dict = {}
        self.sized = False   # print constant arrays with their sizes: tr(eye(n))

    def __call__(self, e) -> str:
        return self.p(e)

    # ---- precedence ---------------------------------------------------------------
    def prec(self, e) -> int:
        if isinstance(e, Num):
            if e.value < 0:
                return PREC_NEG
            return PREC_ATOM if e.value.denominator == 1 else PREC_MUL
        if isinstance(e, Sym):
            return PREC_ATOM
        if e.op in self.infix_prec:
            return self.infix_prec[e.op]
        if e.op in ("add",):
            return PREC_ADD
        if e.op in ("mul", "matmul"):
            return PREC_MUL
        if e.op == "pow":
            return PREC_POW
        if e.op in ("T", "slice"):
            return PREC_POSTFIX
        return PREC_ATOM

    def paren(self, e, need: int) -> str:
        s = self.p(e)
        return f"{self.LPAREN}{s}{self.RPAREN}" if self.prec(e) < need else s

    # ---- dispatch --------------------------------------------------------------------
    def p(self, e) -> str:
        hit = self.memo.get(e)
        if hit is not None:
            return hit
        op = e.op
        if op is None:
            out = self.symbol(e) if isinstance(e, Sym) else self.number(e.value)
        elif not self.sized and (op == "kron" or e.is_scalar and not e.free and
                                 any(not a.is_scalar for a in e.args)):
            out = self._with_sizes(e)   # tr(I), kron(I, A): nothing around says which I
        else:
            key = (type(self), op)
            method = _METHODS.get(key, False)
            if method is False:   # the _print_<op> method of this printer class, looked up once
                method = _METHODS[key] = getattr(type(self), "_print_" + op, None)
            out = method(self, e) if method else self.template(e)
        self.memo[e] = out
        return out

    def _with_sizes(self, e) -> str:
        memo, self.memo, self.sized = self.memo, {}, True
        try:
            return self.p(e)
        finally:
            self.memo, self.sized = memo, False

    def template(self, e) -> str:
        tpl = self.SIZED_I if self.sized and e.op == "I" and self.SIZED_I else getattr(REGISTRY[e.op], self.fmt)
        if tpl is None:
            raise NotImplementedError(f"no {self.fmt} form for {e.op}")
        args = [self.arg(e, a, tpl) for a in e.args]
        named = {"k": e.attrs[0] if e.attrs else ""}
        if e.op in ("I", "ones", "zeros", "K"):
            named.update(n=self.dim(e.attrs[0]), m=self.dim(e.attrs[-1]))
        return tpl.format(*args, **named)

    def arg(self, e, a, tpl) -> str:
        """An argument inside a template: bare inside a call's brackets, wrapped when
        the template puts it against an operator (`{0}⁻¹`, `{0} ⊗ {1}`)."""
        if not tpl.startswith("{0}"):
            return self.p(a)
        if "{1}" not in tpl:
            return self.paren(a, PREC_POSTFIX)
        return self.paren(a, self.prec(e) + (a is not e.args[0]))

    def symbol(self, s) -> str:
        return s.name

    def number(self, v: Fraction) -> str:
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"

    def dim(self, d) -> str:
        return str(d)

    # ---- sums ------------------------------------------------------------------------
    def _print_add(self, e) -> str:
        out = []
        for k, t in enumerate(self.display_order(e.args)):
            negative, body = self.negated(t)
            if k == 0:
                out.append(self.p(t) if not negative else self.NEG + self.paren(body, PREC_MUL))
            else:
                out.append((self.MINUS if negative else self.PLUS) + self.paren(body, PREC_MUL))
        return "".join(out)

    @staticmethod
    def display_order(terms):
        """Positive terms first (as canonical), and products before lone symbols, as
        people write them: D@x + d, (A + A.T)@x + b; otherwise the canonical order."""

        def key(t):
            c, rest = split_coefficient(t)
            return (c < 0, rest.size <= 2)
        return sorted(terms, key=key)

    @staticmethod
    def negated(t):
        """(True, -t) when t prints with a leading minus."""
        c, rest = split_coefficient(t)
        if c < 0:
            return True, scaled(-c, rest)
        return False, t

    # ---- products ----------------------------------------------------------------------
    def split_mul(self, e):
        """coefficient, numerator factors, denominator factors (with positive exponents)."""
        coef, num, den = Fraction(1), [], []
        for f in e.args:
            if isinstance(f, Num):
                coef *= f.value
            elif f.op == "pow" and isinstance(f.args[1], Num) and f.args[1].value < 0:
                den.append(make("pow", f.args[0], Num(-f.args[1].value)))
            else:
                num.append(f)
        return coef, num, den

    def _print_mul(self, e) -> str:
        coef, num, den = self.split_mul(e)
        sign = self.NEG if coef < 0 else ""
        coef = abs(coef)
        parts = []   # (text, is_scalar)
        if coef.numerator != 1 or not num:
            parts.append((self.number(Fraction(coef.numerator)), True))
        for k, f in enumerate(num):
            last = k == len(num) - 1
            if not parts:
                need = PREC_MUL
            elif last and f.op == "matmul" and all(s for _, s in parts):
                need = PREC_MUL  # c*A@B reads as c*(A@B)
            else:
                need = PREC_MUL + 1
            parts.append((self.paren(f, need), f.is_scalar))
        text = parts[0][0]
        for (prev, ps), (cur, cs) in zip(parts, parts[1:]):
            text += (self.SCALE if ps or cs else self.HADAMARD) + cur
        denominators = ([Num(coef.denominator)] if coef.denominator != 1 else []) + den
        if denominators:
            text = self.divide(text, denominators, len(parts) > 1 or (bool(parts) and not parts[0][1]))
        return sign + text

    def divide(self, numerator: str, denominators, compound: bool) -> str:
        if len(denominators) == 1:
            d = self.paren(denominators[0], PREC_MUL + 1)
        else:
            d = self.LPAREN + self.HADAMARD.join(self.paren(x, PREC_MUL + 1) for x in denominators) + self.RPAREN
        return f"{numerator}/{d}"

    def _print_matmul(self, e) -> str:
        items = []
        for k, f in enumerate(e.args):
            items.append(self.paren(f, PREC_MUL + 1 if (k or f.op == "mul") else PREC_MUL))
        return self.MATMUL.join(items)

    # ---- postfix and powers ----------------------------------------------------------------
    def _print_T(self, e) -> str:
        return self.paren(e.args[0], PREC_POSTFIX) + ".T"

    def _print_pow(self, e) -> str:
        base, k = e.args
        return self.paren(base, PREC_POW + 1) + "**" + self.paren(k, PREC_NEG)

    def _print_slice(self, e) -> str:
        r0, r1, c0, c1 = e.attrs
        rows, cols = e.args[0].shape
        return self.paren(e.args[0], PREC_POSTFIX) + f"[{self.bounds(r0, r1, rows)}, {self.bounds(c0, c1, cols)}]"

    def bounds(self, lo, hi, full) -> str:
        if hi - lo == 1:
            return self.dim(lo)
        return ("" if lo == 0 else self.dim(lo)) + ":" + ("" if hi == full else self.dim(hi))

    def _print_block(self, e) -> str:
        nr, nc = e.attrs
        cells = [("0" if b.op == "zeros" else self.p(b)) for b in e.args]
        return "[" + ", ".join("[" + ", ".join(cells[r * nc:(r + 1) * nc]) + "]" for r in range(nr)) + "]"

    def _print_E(self, e) -> str:
        return f"E({self.dim(e.attrs[0])},{self.dim(e.attrs[1])})"

    def _print_zeros(self, e) -> str:
        return f"zeros({self.dim(e.attrs[0])}, {self.dim(e.attrs[1])})"
