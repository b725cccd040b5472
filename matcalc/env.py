"""The process environment in one object, so tests can force either answer to
"is stdout a terminal?" and the colour decision (SPEC §2) lives in one place."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field


@dataclass
class Environment:
    stdin: object = field(default_factory=lambda: sys.stdin)
    stdout: object = field(default_factory=lambda: sys.stdout)
    stderr: object = field(default_factory=lambda: sys.stderr)
    environ: dict = field(default_factory=lambda: os.environ)
    stdout_isatty: bool | None = None
    stderr_isatty: bool | None = None

    def __post_init__(self):
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)
        if self.stderr_isatty is None:
            self.stderr_isatty = _isatty(self.stderr)

    def default_format(self) -> str:
        return "pretty" if self.stdout_isatty else "text"

    def color(self, choice: str, stream: str) -> bool:
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
