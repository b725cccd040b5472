"""The process environment in one object, so tests can force either answer to
"is stdout a terminal?" and the colour decision (SPEC §2) lives in one place.

A plain class rather than a dataclass: this module is on the start-up path of every
one-liner, and building a dataclass costs a few milliseconds there.
"""
import os
import sys


class Environment:
    """stdin/stdout/stderr, the environment variables and whether each output stream
    is a terminal (asked once; pass `stdout_isatty=`/`stderr_isatty=` to force it)."""

    __slots__ = ("stdin", "stdout", "stderr", "environ", "stdout_isatty", "stderr_isatty")

    def __init__(self, stdin=None, stdout=None, stderr=None, environ=None,
                 stdout_isatty=None, stderr_isatty=None):
        self.stdin = sys.stdin if stdin is None else stdin
        self.stdout = sys.stdout if stdout is None else stdout
        self.stderr = sys.stderr if stderr is None else stderr
        self.environ = os.environ if environ is None else environ
        self.stdout_isatty = _isatty(self.stdout) if stdout_isatty is None else stdout_isatty
        self.stderr_isatty = _isatty(self.stderr) if stderr_isatty is None else stderr_isatty

    def __repr__(self):
        return f"Environment(stdout_isatty={self.stdout_isatty}, stderr_isatty={self.stderr_isatty})"

    def default_format(self) -> str:
        """pretty on a terminal, text otherwise: decided by stdout alone (SPEC §2),
        never by what rich thinks (FORCE_COLOR makes rich call a pipe a terminal)."""
        return "pretty" if self.stdout_isatty else "text"

    def color(self, choice, stream: str) -> bool:
        """--color first, then NO_COLOR, FORCE_COLOR, TERM=dumb, then the terminal."""
        if choice == "always":
            return True
        if choice == "never":
            return False
        if self.environ.get("NO_COLOR"):
            return False
        if self.environ.get("FORCE_COLOR"):
            return True
        if self.environ.get("TERM") == "dumb":
            return False
        return bool(self.stdout_isatty if stream == "stdout" else self.stderr_isatty)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
