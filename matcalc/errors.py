"""Errors the library raises.  Every failure a user can provoke is a MatcalcError
carrying a kind (the JSON `error.kind`), a message, optionally the position in the
input (1-based line/column, a span length for the caret) and the process exit code:
1 when the mathematics failed, 2 when the input or command line is malformed."""
from __future__ import annotations


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
        """The offending line with a caret (or a run of them) under the column."""
        if self.source is None or self.column is None:
            return ""
        lines = self.source.splitlines() or [""]
        text = lines[min(self.line, len(lines)) - 1]
        start = max(0, self.column - 1)
        # keep very long inputs readable: a window around the column
        if len(text) > 100:
            lo = max(0, start - 50)
            text, start = ("…" if lo else "") + text[lo:lo + 100] + "…", start - lo + (1 if lo else 0)
        return f"  {text}\n  {' ' * start}{'^' * min(self.length, max(1, len(text) - start))}"

    def to_json(self) -> dict:
        err = {"kind": self.kind, "message": self.message}
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


class NotScalarError(MatcalcError):
    kind = "not-scalar"


class UnsupportedError(MatcalcError):
    kind = "unsupported"


class CheckError(MatcalcError):
    kind = "check"


class LimitError(MatcalcError):
    kind = "limit"
