"""The command line: a click group whose commands share one set of options.  The
library raises MatcalcError; only this module turns errors into a message on stderr
(or a JSON object) and an exit code: 0 ok, 1 the mathematics failed, 2 malformed
input or usage, 130 interrupted.  A closed stdout ends the run quietly (exit 0).

`batch` re-enters the same commands line by line (`main.main(..., standalone_mode=
False)`), streaming: a line is answered as soon as it is read, nothing is kept per
line, and `--jobs N` hands chunks of lines to N worker processes while printing the
answers in input order.

Start-up cost matters here (a one-liner must feel instant): the plain one-liner does
not come here at all (console.py, the entry point, answers it without click); this
module imports only click and the library's light modules at start; json, shlex,
signal, rich and the worker machinery are imported where they are used.
"""
from __future__ import annotations

import sys
from typing import cast

import click

from .console import plain_command, quiet_pipe as _quiet_pipe, render_plain, write as _write
from .env import Environment
from .errors import MatcalcError

VERSION = "0.1.0"   # hard-coded: reading package metadata costs ~70 ms at start-up
FORMATS = ("pretty", "text", "latex", "numpy", "json")
PROGRESS_MIN_LINES = 200     # a file at least this long gets a progress bar (stderr a terminal)

EXAMPLES = """\b
Examples:
  matcalc grad 'tr((M@M.T - I)@(M@M.T - I).T)' --wrt M
  matcalc grad 'x.T@A@x' -d 'A: symmetric n×n'
  matcalc dir  'A@X@X.T@A.T' --wrt X --along Y
  matcalc elem 'A@X@X.T@A.T' --wrt X
  matcalc grad 'logdet(X)' --format latex
  echo "grad 'norm(A@x - b)**2' --wrt x" | matcalc batch - --format json
"""

BATCH_EXAMPLES = """\b
Examples:
  matcalc batch examples/losses.batch
  matcalc batch examples/losses.batch --format json --jobs 2 > out.jsonl
  tail -f requests.txt | matcalc batch - --format json
"""


class State:
    """Per-invocation settings, shared with batch lines through ctx.obj: the
    environment, and the batch's defaults for its lines (format, colour, timeout)."""

    def __init__(self, env=None, fmt=None, line=None, color=None, timeout=None):
        self.env = env or Environment()
        self.format = fmt
        self.line = line            # the batch line number, None for a one-liner
        self.color = color
        self.timeout = timeout
        self.failed = False


def _state(ctx) -> State:
    ctx.ensure_object(State)
    return ctx.obj


def _error(message: str, kind: str = "error", exit_code: int = 1, hint: str | None = None) -> MatcalcError:
    err = MatcalcError(message, hint=hint)
    err.kind, err.exit_code = kind, exit_code
    return err


# ---- the group: one place that maps every outcome to an exit code -----------------
class MatcalcGroup(click.Group):
    """click's standalone mode reports Ctrl-C as "Aborted!" with exit 1 and usage
    errors in its own style; here every outcome is mapped once, the same way for the
    console script and for CliRunner: usage → `matcalc: error: …` (JSON with
    `-f json`) and 2, Ctrl-C → 130, closed pipe → quiet 0, a bug → one line and 1."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        args = sys.argv[1:] if args is None else list(args)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except (click.exceptions.Abort, KeyboardInterrupt):
            _interrupted()
        except _NO_ARGS as exc:      # `matcalc` alone: the help, as click shows it
            _last_words(exc.format_message() + "\n", 2)
        except click.ClickException as exc:
            fmt = _format_in(args)
            report(_usage_error(exc), State(fmt=fmt), fmt or "text", _color_in(args), None)
            sys.exit(exc.exit_code if exc.exit_code in (1, 2) else 2)
        except BrokenPipeError:
            _quiet_pipe()
        except Timeout:   # the alarm landed outside the command's own handling
            _disarm_all()
            _last_words("matcalc: error: gave up: the time limit (--timeout) was reached\n", 1)
        except RecursionError:
            _last_words("matcalc: error: the expression is nested too deeply\n", 1)
        except Exception as exc:  # never a traceback: say what happened and where to report it
            _last_words(f"matcalc: internal error: {type(exc).__name__}: {exc}\n"
                        "please report this input; it is a bug in matcalc\n", 1)
        _flush_or_quiet()
        sys.exit(code if isinstance(code, int) else 0)


_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())   # click ≥ 8.2


def _usage_error(exc: click.ClickException) -> MatcalcError:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    hint = None
    if isinstance(exc, click.NoSuchOption) and exc.option_name and (
            not exc.option_name.startswith("--") or not exc.option_name[2:].replace("-", "").isalnum()):
        hint = "an expression that starts with '-' goes after '--': matcalc grad --wrt x -- '-x.T@x'"
    elif ctx is not None:
        hint = f"try '{ctx.command_path} -h' for help"
    return _error(message, "usage", 2, hint)


def _format_in(args) -> str | None:
    """The -f/--format named on a command line that failed to parse (for a JSON error)."""
    for k, a in enumerate(args):
        if a in ("-f", "--format") and k + 1 < len(args):
            value = args[k + 1]
        elif a.startswith("--format="):
            value = a.split("=", 1)[1]
        elif a.startswith("-f") and len(a) > 2 and not a.startswith("--"):
            value = a[2:]
        else:
            continue
        if value in FORMATS:
            return value
    return None


def _color_in(args) -> str | None:
    for k, a in enumerate(args):
        if a == "--color" and k + 1 < len(args):
            return args[k + 1]
        if a.startswith("--color="):
            return a.split("=", 1)[1]
    return None


def _interrupted():
    _last_words("matcalc: interrupted\n", 130)


def _last_words(message: str, code: int):
    try:
        sys.stderr.write(message)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    sys.exit(code)


def _flush_or_quiet():
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()
    except (OSError, ValueError):
        pass


# ---- the deadline behind --timeout ------------------------------------------------
class Timeout(BaseException):
    """Raised by the SIGALRM handler.  A BaseException, so that no `except Exception`
    in the library can swallow it."""


_ACTIVE: list = []      # deadlines in force (at most one in practice)


class deadline:
    """`with deadline(seconds):` raises Timeout in the main thread after `seconds`
    (wall clock, SIGALRM).  No limit when seconds is falsy, off the main thread, or
    where the platform has no setitimer (Windows): the work then runs unbounded.

    Each Timeout re-arms a one-shot alarm 50 ms later, so that one raised where Python
    cannot propagate it (a weakref callback, a __del__) is raised again at the next
    ordinary bytecode; those lost ones are kept off stderr.  The handler raises only
    while the deadline is armed, and `close()` (also `__exit__`) disarms it first
    thing, so a caller's `except Timeout:` that calls `close()` cannot be hit again."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.armed = False

    def __enter__(self):
        if not self.seconds or self.seconds <= 0:
            return self
        import signal
        import threading
        if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
            return self
        self.signal = signal
        self.old_handler = signal.signal(signal.SIGALRM, self._fire)
        self.old_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        self.armed = True
        _ACTIVE.append(self)
        signal.setitimer(signal.ITIMER_REAL, float(self.seconds))
        return self

    def _fire(self, signum, frame):
        if not self.armed:
            return
        self.signal.setitimer(self.signal.ITIMER_REAL, 0.05)
        raise Timeout()

    def _unraisable(self, info):
        if not isinstance(info.exc_value, Timeout):
            self.old_hook(info)

    def close(self):
        if self.armed:
            self.armed = False
            self.signal.setitimer(self.signal.ITIMER_REAL, 0)
            self.signal.signal(self.signal.SIGALRM, self.old_handler)
            sys.unraisablehook = self.old_hook
            if self in _ACTIVE:
                _ACTIVE.remove(self)

    def __exit__(self, *exc):
        self.close()
        return False


def _disarm_all():
    for d in list(_ACTIVE):
        d.close()


def _timeout_error(seconds) -> MatcalcError:
    shown = f"{seconds:g}"
    return _error(f"gave up after {shown} s (--timeout {shown}): the derivation did not finish in time",
                  "timeout", 1, "a larger --timeout, or a smaller expression (named parts with 'where C = …')")


# ---- the derivative commands ------------------------------------------------------
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
        click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
                     help="Give up (exit 1) when the answer takes longer than this; 0: no limit."),
        click.option("--value", is_flag=True,
                     help="With -f numpy: the function returns (value, derivative), sharing their work."),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


@click.group(cls=MatcalcGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=None,
             help="Matrix calculus: gradients, differentials, per-element derivatives.\n\n" + EXAMPLES)
@click.version_option(VERSION, "--version", message="matcalc %(version)s")
def main():
    pass


def _read_expr(expr: str, st: State) -> str:
    if expr == "-":
        if st.line is not None:
            raise _error("a batch line cannot read its expression from stdin ('-'): write it on the line",
                         "usage", 2)
        return st.env.stdin.read().strip()
    return expr


def run(ctx, command, expr, wrt, declare, fmt, check, steps, seed, color, timeout=None, value=False, **extra):
    code = answer(_state(ctx), command, expr, wrt, declare, fmt, check, steps, seed, color, timeout, value, **extra)
    if code:
        ctx.exit(code)


def answer(st: State, command, expr, wrt=(), declare=None, fmt=None, check=False, steps=False, seed=None,
           color=None, timeout=None, value=False, **extra) -> int:
    """One derivative command: the answer written, or the error reported; the exit code."""
    fmt = fmt or st.format or st.env.default_format()
    color = color or st.color or "auto"
    timeout = st.timeout if timeout is None else timeout
    text = expr
    limit = deadline(timeout)
    try:
        text = _read_expr(expr, st)
        with limit:
            from . import api
            results = api.derive(command, text, list(wrt) or None, declare=declare, check=check, steps=steps,
                                 seed=seed, **extra)
            rendered = render(results, st, fmt, color, value=value)
    except MatcalcError as err:
        report(err, st, fmt, color, text)
        return err.exit_code
    except Timeout:
        limit.close()
        report(_timeout_error(timeout), st, fmt, color, text)
        return 1
    except RecursionError:
        report(_error("the expression is nested too deeply", "limit"), st, fmt, color, text)
        return 1
    _write(st.env.stdout, rendered)
    return 0


def render(results, st: State, fmt: str, color: str, value: bool = False) -> str | None:
    """The results as the text to print; `pretty` is written by rich directly (None)."""
    if fmt != "pretty":
        return render_plain(results, fmt, st.line, value)
    from .printers.rich_out import show_results
    show_results(results, st.env.stdout, st.env.color(color, "stdout"))
    # elem --index: why not a 4-D tensor (cast: mypy does not narrow through `- {None}`)
    notes = cast("set[str]", {getattr(r.index, "note", None) for r in results} - {None})
    return "".join(f"note: {n}\n" for n in sorted(notes)) or None


def emit(results, st: State, fmt: str, color: str):
    """Print results (rendered first, so that a failure prints nothing half-way)."""
    _write(st.env.stdout, render(results, st, fmt, color))


def report(err: MatcalcError, st: State, fmt: str, color: str | None, text: str | None):
    st.failed = True
    if fmt == "json":
        import json
        d = {"ok": False, "input": text, "error": err.to_json()}
        if st.line is not None:
            d["line"] = st.line
        _write(st.env.stdout, json.dumps(d, ensure_ascii=False) + "\n")
        return
    use = st.env.color(color or "auto", "stderr")
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


# ---- batch --------------------------------------------------------------------
@main.command("batch", epilog=BATCH_EXAMPLES)
@click.argument("file", default="-", metavar="[FILE|-]")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
              help="Default format of the lines (a line's own -f wins); json gives JSON Lines with a 'line' field.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default=None, help="Colour.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, metavar="N",
              help="Worker processes (0: one per CPU); answers still come in input order.")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Time limit of each line (a line's own --timeout wins); a line over it fails, the rest go on.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr; default: when stderr is a terminal, stdout is not, "
                   f"and FILE has at least {PROGRESS_MIN_LINES} lines.")
@click.pass_context
def batch_cmd(ctx, file, fmt, color, jobs, timeout, progress):
    """Run many commands, one per line, written as on the command line without
    'matcalc' (grad 'x.T@A@x' --wrt x).  '#' starts a comment; blank lines are skipped.
    Every line is answered in order; a bad line gets its error (with its line number)
    and the rest go on.  Exit status 0 when every line succeeded, 1 otherwise."""
    st = _state(ctx)
    fmt = fmt or st.env.default_format()
    if st.line is not None:
        raise click.UsageError("batch lines cannot run batch")
    stream, close = _open_input(file, st)
    if stream is None:
        report(_error(f"cannot read {file}: {close}", "usage", 2, "FILE is a batch file, or '-' for stdin"),
               st, fmt, color, None)
        ctx.exit(2)
        return
    if jobs == 0:
        import os
        jobs = os.cpu_count() or 1
    if file == "-" and _isatty(st.env.stdin) and st.env.stderr_isatty:
        st.env.stderr.write("matcalc: reading commands from the terminal, one per line; end with Ctrl-D\n")
    bars = []

    def start_bar():
        """The progress bar, if any; started by the runner once its workers exist."""
        if _wants_progress(progress, file, st):
            bars.append(_Progress(_count_lines(file), st.env))
            return bars[0]
        return None

    _batch_gc()
    try:
        settings = (fmt, color, timeout)
        if jobs > 1:
            failed = _run_parallel(stream, jobs, settings, st, start_bar)
        else:
            failed = _run_serial(stream, settings, st, start_bar)
    finally:
        for bar in bars:
            bar.stop()
        close()
    ctx.exit(1 if failed else 0)


def _batch_gc():
    """A batch allocates millions of short-lived nodes that reference counting
    frees (expressions form no cycles): freeze what start-up built and collect
    cycles rarely, instead of scanning the young generation every 700 allocations."""
    import gc
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _open_input(file: str, st: State):
    """(text stream, a function that releases it); (None, reason) when the file
    cannot be opened.  Read as UTF-8 whatever the locale; undecodable bytes become
    U+FFFD, so that they fail their own line only; a BOM (Windows editors) is skipped."""
    import io
    if file == "-":
        raw = getattr(st.env.stdin, "buffer", None)
        if raw is None:
            return st.env.stdin, lambda: None
        wrapper = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace")

        def release():   # leave stdin itself open: detach instead of closing
            try:
                wrapper.detach()
            except Exception:   # already detached, or the reader thread still holds it
                pass
        return wrapper, release
    try:
        f = open(file, encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        return None, exc.strerror or str(exc)
    return f, f.close


def _commands(stream):
    """(line number, line) for every line that is not blank or a comment."""
    for number, line in enumerate(stream, 1):
        s = line.strip()
        if s and not s.startswith("#"):
            yield number, line


def _run_serial(stream, settings, st: State, start_bar) -> bool:
    bar = start_bar()
    failed = False
    fmt, color, timeout = settings
    for number, line in _commands(stream):
        failed |= not run_line(line, number, st, fmt, color, timeout)
        if bar is not None:
            bar.advance(number)
    return failed


def run_line(line: str, number: int, parent: State, fmt: str, color: str | None = None,
             timeout: float | None = None) -> bool:
    """One batch line through the same commands; True when it succeeded.  Whatever
    goes wrong on the line is reported for that line; only Ctrl-C and a closed stdout
    end the batch."""
    st = State(parent.env, fmt, number, color, timeout)
    try:
        args = split_line(line)
    except ValueError as exc:
        report(_error(f"cannot split the line: {exc}", "usage", 2), st, fmt, color, line.strip())
        return False
    if not args:
        return True
    if args[0] == "matcalc":
        args = args[1:]
    try:
        plain = plain_command(args) if FAST_LINES else None
        if plain is not None:   # the usual line: straight to the answer, no click context
            command, expr, options = plain
            code = answer(st, command, expr, options.pop("wrt", ()), **options)
        else:
            fast = _fast_params(args, st) if FAST_LINES else None
            if fast is not None:
                code = _invoke(fast[0], fast[1], st)
            else:
                code = main.main(args, prog_name="matcalc", standalone_mode=False, obj=st)
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    except click.ClickException as exc:
        err = _usage_error(exc)
        if isinstance(exc, click.UsageError) and "No such command" in err.message:
            err.hint = "each line is a command as on the command line: grad 'EXPR' --wrt X"
        report(err, st, fmt, color, line.strip())
        return False
    except BrokenPipeError:
        raise
    except Timeout:   # the alarm landed outside the command's own handling
        _disarm_all()
        report(_timeout_error(st.timeout or 0), st, fmt, color, line.strip())
        return False
    except RecursionError:
        report(_error("the expression is nested too deeply", "limit"), st, fmt, color, line.strip())
        return False
    except Exception as exc:  # a bug in matcalc: report it for this line and go on
        report(_error(f"internal error: {type(exc).__name__}: {exc} (please report this input)", "internal"),
               st, fmt, color, line.strip())
        return False
    return (code in (0, None)) and not st.failed


_PLAIN_WORDS = None


def split_line(line: str) -> list:
    """shlex.split(line, comments=True), as a shell splits words.  A line with no
    double quote, backslash or '#' (the usual `grad 'EXPR' --wrt X`) is split by one
    regular expression, 20× faster than shlex; anything else goes to shlex itself."""
    global _PLAIN_WORDS
    if '"' in line or "\\" in line or "#" in line:
        return _shlex_split(line)
    if _PLAIN_WORDS is None:
        import re
        _PLAIN_WORDS = re.compile(r"[ \t\r\n]*((?:[^ \t\r\n']+|'[^']*')+)")   # shlex's whitespace only
    words, at, end = [], 0, len(line.rstrip(" \t\r\n"))
    while at < end:
        m = _PLAIN_WORDS.match(line, at)
        if m is None:   # an unclosed quote: shlex says so in its own words
            return _shlex_split(line)
        words.append(m.group(1).replace("'", ""))
        at = m.end()
    return words


def _shlex_split(line: str) -> list:
    import shlex
    return shlex.split(line, comments=True)


# ---- batch: a cheaper way through click for plain lines -------------------------------
FAST_LINES = True     # tests switch it off to compare with click's own parsing
_SPECS: dict = {}


def _spec(name: str):
    """For a command: (command, {option string: (param, flag value or None when it
    takes a value)}, [arguments], the defaults as click computes them), or None when
    it has no plain form."""
    if name in _SPECS:
        return _SPECS[name]
    spec = None
    cmd = main.commands.get(name)
    if cmd is not None and name != "batch":
        arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
        options = {}
        for p in cmd.params:
            if not isinstance(p, click.Option) or p.callback or p.envvar or p.is_eager or p.nargs != 1 \
                    or getattr(p, "count", False) or (p.is_flag and not p.is_bool_flag):
                continue
            for o in p.opts:
                options[o] = (p, True if p.is_flag else None)
            for o in p.secondary_opts:
                options[o] = (p, False)
        try:
            if all(a.nargs == 1 for a in arguments):
                ctx = cmd.make_context(name, ["x"] * len(arguments))
                spec = (cmd, options, arguments, dict(ctx.params))
        except Exception:  # no plain form: every line of it goes through click
            spec = None
    _SPECS[name] = spec
    return spec


def _fast_params(args: list, st: State):
    """(command, keyword arguments) of a plain batch line — a command, its arguments
    and known options written `--opt value`, `-o value` or `--flag` — read without
    click's parser, which costs ~0.5 ms a line (half the budget of a derivative in a
    batch); None for anything else (an unknown or `--opt=value` option, a missing or
    bad value, --help, a wrong number of arguments), which then goes through click
    and gets click's own messages.  tests/test_batch.py checks both agree."""
    if not args:
        return None
    spec = _spec(args[0])
    if spec is None:
        return None
    cmd, options, arguments, defaults = spec
    by_name = {p.name: p for p, _ in options.values()}
    raw, positional, k, rest = {}, [], 1, None
    while k < len(args):
        a = args[k]
        if a == "--":
            rest = args[k + 1:]
            break
        if a.startswith("-") and a != "-":
            hit = options.get(a)
            if hit is None:
                return None
            p, flag = hit
            if flag is not None:
                raw[p.name] = flag
            else:
                if k + 1 >= len(args):
                    return None
                k += 1
                if p.multiple:
                    raw.setdefault(p.name, []).append(args[k])
                else:
                    raw[p.name] = args[k]
        else:
            positional.append(a)
        k += 1
    if rest is not None:
        positional.extend(rest)
    if len(positional) != len(arguments):
        return None
    ctx = click.Context(cmd, info_name=args[0], obj=st)
    kwargs = dict(defaults)
    try:
        for p, value in zip(arguments, positional):
            kwargs[p.name] = p.type_cast_value(ctx, value)
        for name, value in raw.items():
            kwargs[name] = by_name[name].type_cast_value(ctx, value)
    except click.ClickException:
        return None
    return cmd, kwargs


def _invoke(cmd, kwargs, st: State):
    """Run a command's callback as click would after parsing: in its own context,
    under a root context named matcalc; the exit code (None when it returned)."""
    root = click.Context(main, info_name="matcalc", obj=st)
    ctx = click.Context(cmd, info_name=cmd.name, parent=root, obj=st)
    ctx.params = kwargs
    with ctx:
        try:
            ctx.invoke(cmd.callback, **kwargs)
        except click.exceptions.Exit as e:
            return e.exit_code
    return None


# ---- batch: progress bar ----------------------------------------------------------
def _wants_progress(flag, file: str, st: State) -> bool:
    """The bar is for a long file run with stdout redirected and stderr watched.
    When stdout is the terminal too, the answers scrolling by are the progress (and
    a live bar would fight them for the cursor)."""
    if flag is not None:
        return flag and file != "-"
    if file == "-" or not st.env.stderr_isatty or st.env.stdout_isatty:
        return False
    import os
    try:
        import stat
        info = os.stat(file)
        if not stat.S_ISREG(info.st_mode) or info.st_size < PROGRESS_MIN_LINES * 8:
            return False
    except OSError:
        return False
    return _count_lines(file) >= PROGRESS_MIN_LINES


def _count_lines(file: str) -> int:
    n = 0
    try:
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                n += block.count(b"\n")
    except OSError:
        return 0
    return n


class _Progress:
    """A rich progress bar on stderr.  It never touches stdout (redirect_stdout=False:
    rich would otherwise capture the answers), and error messages for stderr are
    printed above the bar through its console (`stderr_proxy`)."""

    def __init__(self, total: int, env: Environment):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        self.console = Console(file=env.stderr, force_terminal=True,
                               no_color=not env.color("auto", "stderr"), highlight=False)
        self.progress = Progress(TextColumn("matcalc batch"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("lines"), TimeRemainingColumn(), console=self.console,
                                 transient=True, redirect_stdout=False, redirect_stderr=False)
        self.task = self.progress.add_task("batch", total=total or None)
        self.progress.start()
        self.env, self.original_stderr = env, env.stderr
        env.stderr = _ConsoleWriter(self.console)

    def advance(self, line_number: int):
        self.progress.update(self.task, completed=line_number)

    def stop(self):
        self.progress.stop()
        self.env.stderr = self.original_stderr


class _ConsoleWriter:
    """A write()/flush() stream that prints whole messages above a live display."""

    def __init__(self, console):
        self.console = console
        self.buffer = []

    def write(self, s: str):
        self.buffer.append(s)
        return len(s)

    def flush(self):
        if self.buffer:
            from rich.text import Text
            text = "".join(self.buffer).rstrip("\n")
            self.buffer.clear()
            self.console.print(Text.from_ansi(text), soft_wrap=True, highlight=False)

    def isatty(self):
        return True


# ---- batch: worker processes ------------------------------------------------------
_WORKER: dict = {}


def _worker_init(stdout_isatty: bool, stderr_isatty: bool, columns: int):
    """In each worker: Ctrl-C is the parent's business; the parser is loaded once."""
    import os
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("COLUMNS", str(columns))
    _batch_gc()
    _WORKER.update(stdout_isatty=stdout_isatty, stderr_isatty=stderr_isatty)


def _worker_ready() -> bool:
    from .parse import lark_parser
    lark_parser()
    return True


def _worker_run(chunk, settings):
    """Answer a chunk of (number, line): [(number, stdout text, stderr text, ok)]."""
    import io
    fmt, color, timeout = settings
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err,
                      stdout_isatty=_WORKER.get("stdout_isatty", False),
                      stderr_isatty=_WORKER.get("stderr_isatty", False))
    parent = State(env)
    answers = []
    for number, line in chunk:
        ok = run_line(line, number, parent, fmt, color, timeout)
        answers.append((number, out.getvalue(), err.getvalue(), ok))
        out.seek(0)
        out.truncate()
        err.seek(0)
        err.truncate()
    return answers


def _run_parallel(stream, jobs: int, settings, st: State, start_bar) -> bool:
    """Lines are read by a thread into a bounded queue, handed to the workers in
    chunks (as many lines as are waiting, at most CHUNK: one at a time when they
    trickle in from `tail -f`, full chunks from a file), and the answers are printed
    in input order as soon as the oldest chunk is done.  At most 3·jobs chunks are in
    flight, so memory does not grow with the length of the input."""
    import queue
    import shutil
    import threading
    from concurrent.futures import Future, ProcessPoolExecutor

    CHUNK = 16
    mp_context = None
    if sys.platform.startswith("linux"):
        import multiprocessing
        mp_context = multiprocessing.get_context("fork")   # workers inherit the loaded parser
    from .parse import lark_parser
    lark_parser()
    columns = shutil.get_terminal_size().columns
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp_context, initializer=_worker_init,
                               initargs=(st.env.stdout_isatty, st.env.stderr_isatty, columns))
    failed = False
    try:
        # start every worker now, before any thread of ours exists (fork + threads = trouble)
        for f in [pool.submit(_worker_ready) for _ in range(jobs)]:
            f.result()
        bar = start_bar()
        lines: queue.Queue = queue.Queue(maxsize=CHUNK * jobs * 4)
        END = object()

        def read():
            try:
                for item in _commands(stream):
                    lines.put(item)
            except BaseException as exc:  # an unreadable input: end the batch with its error
                lines.put(exc)
            lines.put(END)

        threading.Thread(target=read, name="matcalc-batch-reader", daemon=True).start()
        pending: list[Future] = []          # futures, oldest first
        reading = True

        def write(answers):
            nonlocal failed
            for number, out, err, ok in answers:
                if out:
                    _write(st.env.stdout, out)
                if err:
                    _write(st.env.stderr, err)
                failed |= not ok
                if bar is not None:
                    bar.advance(number)

        while reading or pending:
            while pending and pending[0].done():
                write(pending.pop(0).result())
            if not reading or len(pending) >= 3 * jobs:
                if pending:
                    write(pending.pop(0).result())
                continue
            try:   # wait for input; only briefly while answers are due
                item = lines.get(timeout=0.02 if pending else None)
            except queue.Empty:
                continue
            chunk = []
            while True:
                if item is END:
                    reading = False
                    break
                if isinstance(item, BaseException):
                    raise item
                chunk.append(item)
                if len(chunk) >= CHUNK:
                    break
                try:
                    item = lines.get_nowait()
                except queue.Empty:
                    break
            if chunk:
                pending.append(pool.submit(_worker_run, chunk, settings))
    except BaseException:
        _kill_pool(pool)
        raise
    pool.shutdown(wait=True)
    return failed


def _kill_pool(pool):
    """Ctrl-C or a closed pipe: stop the workers now, without waiting for their chunks."""
    processes = list(getattr(pool, "_processes", {}).values())
    for p in processes:
        try:
            p.terminate()
        except Exception:
            pass
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except Exception:
        pass


def run_main(argv=None):
    """The console entry point (`matcalc`, `python -m matcalc`)."""
    try:
        main.main(argv, prog_name="matcalc")
    except KeyboardInterrupt:   # Ctrl-C outside click's own handling (e.g. during an import)
        _interrupted()

from .checkcmd import check_cmd  # noqa: E402
main.add_command(check_cmd)
