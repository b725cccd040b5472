"""The command line: a click group whose commands share one set of options.  The
library raises MatcalcError; only this module turns errors into a message on stderr
(or a JSON object) and an exit code: 0 ok, 1 the mathematics failed, 2 malformed
input or usage, 130 interrupted.  `batch` re-enters the same commands line by line."""
from __future__ import annotations

import json
import shlex
import sys

import click

from .env import Environment
from .errors import MatcalcError

VERSION = "0.1.0"   # hard-coded: reading package metadata costs ~70 ms at start-up
FORMATS = ("pretty", "text", "latex", "numpy", "json")

EXAMPLES = """\b
Examples:
  matcalc grad 'tr((M@M.T - I)@(M@M.T - I).T)' --wrt M
  matcalc grad 'x.T@A@x' -d 'A: symmetric n×n'
  matcalc dir  'A@X@X.T@A.T' --wrt X --along Y
  matcalc elem 'A@X@X.T@A.T' --wrt X
  matcalc grad 'logdet(X)' --format latex
  echo "grad 'norm(A@x - b)**2' --wrt x" | matcalc batch - --format json
"""


class State:
    """Per-invocation settings, shared with batch lines through ctx.obj."""

    def __init__(self, env=None, fmt=None, line=None, color="auto"):
        self.env = env or Environment()
        self.format = fmt
        self.line = line
        self.color = color
        self.failed = False


def _state(ctx) -> State:
    ctx.ensure_object(State)
    return ctx.obj


def shared_options(f):
    """The options every derivative command takes."""
    decorators = [
        click.argument("expr", metavar="EXPR"),
        click.option("--wrt", "-w", multiple=True, metavar="X", help="Variable (repeatable); default: every symbol."),
        click.option("--declare", "-d", metavar="CLAUSE", help="Declarations, as after 'where': 'A: symmetric n×n, x: n'."),
        click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Output format; default pretty on a terminal, text otherwise."),
        click.option("--check", is_flag=True, help="Verify the result numerically before printing it."),
        click.option("--steps", is_flag=True, help="Print the derivation before the result."),
        click.option("--seed", type=int, default=None, help="Seed of the numeric check."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default=None, help="Colour."),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=None,
             help="Matrix calculus: gradients, differentials, per-element derivatives.\n\n" + EXAMPLES)
@click.version_option(VERSION, "--version", message="matcalc %(version)s")
def main():
    pass


def _read_expr(expr: str, st: State) -> str:
    if expr == "-":
        return st.env.stdin.read().strip()
    return expr


def run(ctx, command, expr, wrt, declare, fmt, check, steps, seed, color, **extra):
    st = _state(ctx)
    fmt = fmt or st.format or st.env.default_format()
    color = color or st.color
    text = expr
    try:
        text = _read_expr(expr, st)
        from . import api
        results = api.derive(command, text, list(wrt) or None, declare=declare, check=check, steps=steps,
                             seed=seed, **extra)
    except MatcalcError as err:
        report(err, st, fmt, color, text)
        ctx.exit(err.exit_code)
        return
    emit(results, st, fmt, color)


def emit(results, st: State, fmt: str, color: str):
    out = st.env.stdout
    if fmt == "json":
        for r in results:
            d = r.to_dict()
            if st.line is not None:
                d["line"] = st.line
            out.write(json.dumps(d, ensure_ascii=False) + "\n")
    elif fmt == "text":
        for r in results:
            if len(results) > 1:
                out.write(f"# {r.command} wrt {r.wrt}\n")
            out.write(str(r) + "\n")
    elif fmt == "latex":
        for r in results:
            out.write(r.latex() + "\n")
    elif fmt == "numpy":
        for k, r in enumerate(results):
            src = r.numpy()
            out.write(src if k == 0 else src.replace("import numpy as np\n", "", 1))
    else:
        from .printers.rich_out import show_results
        show_results(results, out, st.env.color(color, "stdout"))
    out.flush()


def report(err: MatcalcError, st: State, fmt: str, color: str, text: str | None):
    st.failed = True
    if fmt == "json":
        d = {"ok": False, "input": text, "error": err.to_json()}
        if st.line is not None:
            d["line"] = st.line
        st.env.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
        st.env.stdout.flush()
        return
    use = st.env.color(color, "stderr")
    where = f"line {st.line}: " if st.line is not None else ""
    head = click.style("matcalc: error: ", fg="red", bold=True) if use else "matcalc: error: "
    lines = [head + where + err.message]
    caret = err.caret()
    if caret:
        lines.append(caret)
    if err.hint:
        lines.append(("  hint: " if not use else click.style("  hint: ", fg="yellow")) + err.hint)
    st.env.stderr.write("\n".join(lines) + "\n")
    st.env.stderr.flush()


@main.command("grad", epilog=EXAMPLES)
@shared_options
@click.pass_context
def grad_cmd(ctx, **kw):
    """Gradient of a scalar expression."""
    run(ctx, "grad", **kw)


@main.command("dir")
@shared_options
@click.option("--along", metavar="V", help="Name of the direction (default dX for X).")
@click.pass_context
def dir_cmd(ctx, **kw):
    """Directional derivative D F(X)[V] (the differential)."""
    run(ctx, "dir", **kw)


@main.command("elem")
@shared_options
@click.option("--index", is_flag=True, help="Index notation ∂F_kl/∂X_ij instead of E(i,j).")
@click.pass_context
def elem_cmd(ctx, index, **kw):
    """Per-element derivative ∂F/∂X_ij, in terms of E(i,j)."""
    if index:
        kw["index"] = True
    run(ctx, "elem", **kw)


@main.command("jac")
@shared_options
@click.pass_context
def jac_cmd(ctx, **kw):
    """Jacobian ∂vec(F)/∂vec(X)ᵀ."""
    run(ctx, "jac", **kw)


@main.command("hess")
@shared_options
@click.option("--along", metavar="V", help="Direction of the Hessian-vector product.")
@click.pass_context
def hess_cmd(ctx, **kw):
    """Hessian (vector variable) or Hessian-vector product (matrix variable)."""
    run(ctx, "hess", **kw)


@main.command("batch")
@click.argument("file", default="-", metavar="[FILE|-]")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default=None)
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto")
@click.pass_context
def batch_cmd(ctx, file, fmt, color):
    """Run many commands, one per line (as on the command line, without 'matcalc')."""
    st = _state(ctx)
    fmt = fmt or st.env.default_format()
    stream = st.env.stdin if file == "-" else None
    try:
        if stream is None:
            stream = open(file, encoding="utf-8", errors="replace")
    except OSError as exc:
        report(MatcalcError(f"cannot read {file}: {exc.strerror}"), st, fmt, color, None)
        ctx.exit(2)
        return
    failed = False
    with stream if file != "-" else _nullcontext(stream):
        for number, line in enumerate(stream, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            failed |= not run_line(line, number, st, fmt, color)
    ctx.exit(1 if failed else 0)


class _nullcontext:
    def __init__(self, x):
        self.x = x

    def __enter__(self):
        return self.x

    def __exit__(self, *a):
        return False


def run_line(line: str, number: int, parent: State, fmt: str, color: str) -> bool:
    """One batch line through the same commands; True when it succeeded."""
    st = State(parent.env, fmt, number, color)
    try:
        args = shlex.split(line, comments=True)
    except ValueError as exc:
        report(MatcalcError(f"cannot split the line: {exc}", source=line.rstrip("\n")), st, fmt, color, line.strip())
        return False
    if args and args[0] == "batch":
        report(MatcalcError("batch lines cannot run batch"), st, fmt, color, line.strip())
        return False
    try:
        main.main(args, prog_name="matcalc", standalone_mode=False, obj=st)
    except click.exceptions.Exit as e:
        return e.exit_code == 0 and not st.failed
    except click.ClickException as exc:
        err = MatcalcError(exc.format_message())
        err.kind, err.exit_code = "usage", 2
        report(err, st, fmt, color, line.strip())
        return False
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    return not st.failed


def run_main(argv=None):
    """The console entry point: click's main with the last-resort guards."""
    try:
        main.main(argv, prog_name="matcalc")
    except KeyboardInterrupt:
        sys.stderr.write("matcalc: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        _quiet_pipe()
    except SystemExit as e:
        if e.code not in (0, None):
            raise
        _flush_or_quiet()
        raise
    except RecursionError:
        sys.stderr.write("matcalc: error: the expression is nested too deeply\n")
        sys.exit(1)
    except Exception as exc:  # never a traceback: say what happened and where to report it
        sys.stderr.write(f"matcalc: internal error: {type(exc).__name__}: {exc}\n"
                         "please report this input; it is a bug in matcalc\n")
        sys.exit(1)


def _flush_or_quiet():
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()


def _quiet_pipe():
    import os
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)

from .checkcmd import check_cmd  # noqa: E402
main.add_command(check_cmd)
