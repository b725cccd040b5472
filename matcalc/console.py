"""The console entry point (`matcalc`, `python -m matcalc`), and what the command
line writes without needing click: the plain output formats and the quiet end of a
closed pipe.

A one-liner must start fast, and importing click (with the command tree cli.py
builds) is about a sixth of its start-up.  So a command line of the plain form — a
derivative command, its EXPR, and only the options that take a value (--wrt/-w,
--declare/-d, --format/-f, and --along where the command has it), each written
`--opt value` — whose answer is text, json, latex or numpy is answered here.
Everything else (flags, other options, --help, pretty output on a terminal, an
expression read from stdin) and every failure go to the click CLI (`cli.run_main`),
which parses the command line again and owns every message and exit code.
tests/test_console.py checks that both give the same output.
"""
from __future__ import annotations

import sys

from .env import Environment

COMMANDS = ("grad", "dir", "elem", "jac", "hess")
PLAIN_FORMATS = ("text", "json", "latex", "numpy")
# option string -> keyword of api.derive; (commands that take it, or None for all)
VALUE_OPTIONS = {
    "--wrt": ("wrt", None), "-w": ("wrt", None),
    "--declare": ("declare", None), "-d": ("declare", None),
    "--format": ("fmt", None), "-f": ("fmt", None),
    "--along": ("along", ("dir", "hess")),
}


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        text = _plain_answer(args)
    except KeyboardInterrupt:
        from .cli import _interrupted
        _interrupted()
    if text is not None:
        write(sys.stdout, text)
        return
    from .cli import run_main   # the full command line: click, every option, every message
    run_main(args)


def _plain_answer(args: list) -> str | None:
    """The output of a plain command line, or None when it is not plain or fails
    (the click CLI then runs it and reports what went wrong)."""
    plan = plain_command(args)
    if plan is None:
        return None
    command, expr, options = plan
    fmt = options.pop("fmt", None) or Environment().default_format()
    if fmt not in PLAIN_FORMATS:
        return None
    try:
        from . import api
        results = api.derive(command, expr, options.pop("wrt", None), **options)
        return render_plain(results, fmt)
    except Exception:
        return None


def plain_command(args: list):
    """(command, EXPR, {keyword: value}) for a plain command line, else None.  As
    click reads them: a repeated --wrt adds a variable, any other option repeated
    keeps its last value, `--` ends the options."""
    if not args or args[0] not in COMMANDS:
        return None
    command, positional = args[0], []
    options: dict = {}
    k = 1
    while k < len(args):
        a = args[k]
        if a == "--":
            positional.extend(args[k + 1:])
            break
        if a.startswith("-") and a != "-":
            spec = VALUE_OPTIONS.get(a)
            if spec is None or (spec[1] is not None and command not in spec[1]) or k + 1 >= len(args):
                return None
            key, value = spec[0], args[k + 1]
            if key == "wrt":
                options.setdefault("wrt", []).append(value)
            else:
                options[key] = value
            k += 2
            continue
        positional.append(a)
        k += 1
    if len(positional) != 1 or positional[0] == "-" or options.get("fmt", "text") not in PLAIN_FORMATS:
        return None
    return command, positional[0], options


def render_plain(results, fmt: str, line_number: int | None = None, value: bool = False) -> str:
    """The results in a plain format (text, json, latex, numpy); `line_number` is
    the batch line that JSON carries."""
    if fmt == "json":
        import json
        parts = []
        for r in results:
            d = r.to_dict()
            if line_number is not None:
                d["line"] = line_number
            parts.append(json.dumps(d, ensure_ascii=False) + "\n")
        return "".join(parts)
    if fmt == "text":
        parts = []
        for r in results:
            if len(results) > 1:
                parts.append(f"# {r.command} wrt {r.wrt}\n")
            parts.extend(line + "\n" for line in r.steps_in("text"))   # --steps: the derivation first
            parts.append(str(r) + "\n")
        return "".join(parts)
    if fmt == "latex":
        return "".join("".join(line + "\n" for line in r.steps_in("latex")) + r.latex_block(len(results) > 1)
                       for r in results)
    if fmt == "numpy":
        parts = []
        for k, r in enumerate(results):
            src = r.numpy(value=value)
            parts.append(src if k == 0 else src.replace("import numpy as np\n", "", 1))
        return "".join(parts)
    raise ValueError(f"not a plain format: {fmt}")


def write(stream, text: str | None):
    """Write and flush (answers stream out line by line).  A closed stdout ends the
    run quietly here: click would turn EPIPE into exit 1."""
    try:
        if text:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates from undecodable argv bytes: keep output valid UTF-8
                text = text.encode("utf-8", "replace").decode("utf-8")
            stream.write(text)
        stream.flush()
    except BrokenPipeError:
        quiet_pipe()


def quiet_pipe():
    """stdout was closed (`matcalc batch big | head`): point it at /dev/null so the
    interpreter's last flush cannot complain, and end with success."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    sys.exit(0)
