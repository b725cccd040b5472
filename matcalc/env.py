"""The process environment in one object, so tests can force either answer to
"is stdout a terminal?" and the colour decision (SPEC §2) lives in one place.

A plain class rather than a dataclass: this module is on the start-up path of every
one-liner, and building a dataclass costs a few milliseconds there.
"""
import os
import sys


class Environment:
    """stdin/stdout/stderr, the environment variables and whether each output stream
    is a terminal (pass `stdout_isatty=`/`stderr_isatty=` to force the answer).

    A stream not given is looked up in `sys` when it is used, not when the object is
    made, so an Environment built before click's CliRunner swaps the streams still
    writes where the runner reads."""

    __slots__ = ("_stdin", "_stdout", "_stderr", "environ", "_stdout_isatty", "_stderr_isatty")

    def __init__(self, stdin=None, stdout=None, stderr=None, environ=None,
                 stdout_isatty=None, stderr_isatty=None):
        self._stdin, self._stdout, self._stderr = stdin, stdout, stderr
        self.environ = os.environ if environ is None else environ
        self._stdout_isatty, self._stderr_isatty = stdout_isatty, stderr_isatty

    stdin = property(lambda self: sys.stdin if self._stdin is None else self._stdin,
                     lambda self, v: setattr(self, "_stdin", v))
    stdout = property(lambda self: sys.stdout if self._stdout is None else self._stdout,
                      lambda self, v: setattr(self, "_stdout", v))
    stderr = property(lambda self: sys.stderr if self._stderr is None else self._stderr,
                      lambda self, v: setattr(self, "_stderr", v))

    @property
    def stdout_isatty(self) -> bool:
        return _isatty(self.stdout) if self._stdout_isatty is None else self._stdout_isatty

    @property
    def stderr_isatty(self) -> bool:
        return _isatty(self.stderr) if self._stderr_isatty is None else self._stderr_isatty

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
