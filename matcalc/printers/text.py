"""The `text` format: the input language itself, so that it parses back to the same
expression (tests/test_roundtrip.py keeps that true)."""
from __future__ import annotations

from .base import Printer


class TextPrinter(Printer):
    fmt = "text"


def to_text(e) -> str:
    return TextPrinter()(e)
