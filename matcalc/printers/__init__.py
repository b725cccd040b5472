"""Printers: one precedence table (ops.PREC_*), parentheses decided once in base.py.
text: the input language; pretty: Unicode; latex; numpy: code (also the evaluator)."""
