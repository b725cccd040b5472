"""Errors the library raises.  Every failure a user can provoke is a MatcalcError
carrying a kind (the JSON `error.kind`), a message, optionally the position in the
input (1-based line/column, a span length for the caret), a hint, and the process
exit code: 1 when the mathematics failed (or a limit was reached), 2 when the input
or command line is malformed.

Invariants: `caret()` never echoes a control character (an escape sequence in the
input cannot restyle the terminal) and lines the caret up under the column even with
tabs and double-width characters; a ShapeError whose operands were joined by `*`
and whose shapes allow a matrix product suggests the `@` rewrite (the NumPy meaning
of `*` surprises users of MATLAB and of paper notation).
"""
from __future__ import annotations

import re
import unicodedata


def _cell(ch: str) -> tuple:
    """How one character of the input is shown under a caret: (text, width)."""
    if ch == "\t":
        return " ", 1
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cs", "Co", "Cn") or ch in "\u2028\u2029\u202e\u202d\u202a\u202b\u202c\u2066\u2067\u2068\u2069":
        return "\ufffd", 1
    if cat in ("Mn", "Me", "Cf"):
        return "", 0
    return ch, 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _show(text: str) -> tuple:
    """The displayable form of `text` and the column (in cells) where each character starts."""
    out, starts, col = [], [], 0
    for ch in text:
        shown, width = _cell(ch)
        starts.append(col)
        out.append(shown)
        col += width
    starts.append(col)
    return "".join(out), starts


class MatcalcError(Exception):
    kind = "error"
    exit_code = 1

    def __init__(self, message: str, *, source: str | None = None, column: int | None = None,
                 length: int = 1, line: int = 1, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.column = column
        self.length = max(1, length)
        self.line = line
        self.hint = hint

    def caret(self) -> str:
        """The offending line with a caret (or a run of them) under the column; very long
        lines are shown as a window of 100 characters around it."""
        if self.source is None or self.column is None:
            return ""
        lines = self.source.split("\n") or [""]
        text = lines[max(1, min(self.line, len(lines))) - 1]
        start = max(0, min(self.column - 1, len(text)))
        end = max(start + 1, min(start + self.length, len(text)))
        pre = post = ""
        if len(text) > 100:
            lo = max(0, start - 50)
            pre, post = ("…" if lo else ""), ("…" if lo + 100 < len(text) else "")
            text, start, end = text[lo:lo + 100], start - lo, min(end - lo, 100)
        shown, starts = _show(text)
        a = starts[min(start, len(text))] + len(pre)
        b = starts[min(end, len(text))] + len(pre)
        return f"  {pre}{shown}{post}\n  {' ' * a}{'^' * max(1, b - a)}"

    def to_json(self) -> dict:
        err: dict = {"kind": self.kind, "message": self.message}
        if self.column is not None:
            err["line"] = self.line
            err["column"] = self.column
        if self.hint:
            err["hint"] = self.hint
        return err


class ParseError(MatcalcError):
    kind = "parse"
    exit_code = 2


class UsageError(MatcalcError):
    kind = "usage"
    exit_code = 2


class ShapeError(MatcalcError):
    kind = "shape"

    def __init__(self, message: str, **kw):
        super().__init__(message, **kw)
        if self.hint is None:
            self.hint = star_hint(self.message, self.source, self.line, self.column, self.length)


class NotScalarError(MatcalcError):
    kind = "not-scalar"


class UnsupportedError(MatcalcError):
    kind = "unsupported"


class CheckError(MatcalcError):
    kind = "check"


class LimitError(MatcalcError):
    kind = "limit"


class InternalError(MatcalcError):
    """A bug in matcalc met on this input (for the boundary that catches the unexpected)."""
    kind = "internal"


_LONE_STAR = re.compile(r"(?<!\*)\*(?!\*)")


def star_hint(message: str, source: str | None, line: int, column: int | None, length: int) -> str | None:
    """Advice for a shape error in a product written with `*`: in matcalc, as in NumPy,
    `*` is elementwise and `@` is the matrix product.  The operand pair is the span
    the caret covers; when the message says the shapes fit a matrix product, the pair
    is shown rewritten with `@`; a MATLAB-style transpose (x') gets the whole
    expression rewritten."""
    if source is None or column is None or len(source) > 10_000:
        return None
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return None
    pair = lines[line - 1][column - 1:column - 1 + length]
    if not _LONE_STAR.search(pair):
        return None
    expr = source.split(" where ")[0]
    if "'" in expr:
        matlab = _LONE_STAR.sub("@", expr.replace("'", ".T"))
        return (f"in matcalc, as in NumPy, * is the elementwise product and @ the matrix product "
                f"(MATLAB's * is @ here, its .* is *): did you mean {matlab}?")
    if "matrix product" in message or "did you mean @" in message:
        return f"* is the elementwise product (NumPy); the matrix product is @: did you mean {_LONE_STAR.sub('@', pair)}?"
    return "* is the elementwise product (NumPy): both sides need the same shape, or one is a scalar"


class MathError(MatcalcError):
    """The expression is not defined (division by zero) or not differentiable."""
    kind = "math"
