"""`matcalc check EXPR`: compute every derivative kind that applies and verify each.

For every kind (grad for a scalar expression, dir, elem, then jac and hess where the
pipeline supports them) and every variable, the result is checked numerically on
several random instances (numeric.check_result: float64 central differences,
Richardson extrapolated, random admissible directions, relative error ≤ 1e-6 with
an absolute floor of 1e-8 for exact zeros), and with `--exact` also against the
exact SymPy oracle (oracle.exact_check).  One row per (kind, variable, method);
exit 1 when any row fails.

`run_checks` is the library side (it raises MatcalcError only); `check_cmd` prints
the rows as a rich table on a terminal, JSON lines with `--format json`, a plain
table otherwise.  Imports are lazy: this module is loaded with the CLI.
"""
from __future__ import annotations

import click

KINDS = ("grad", "dir", "elem", "jac", "hess")
INSTANCES = 3       # random instances per result
DIRECTIONS = 3      # random directions per instance
MAX_SIZE = 12


def parse_sizes(text: str | None) -> dict:
    """'n=3,m=4' -> {'n': 3, 'm': 4}; a malformed clause is a UsageError."""
    from .errors import UsageError
    out: dict = {}
    if not text:
        return out
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name.isidentifier() or not value.isdigit():
            raise UsageError(f"--sizes: cannot read {part!r}; write name=integer pairs, e.g. --sizes n=3,m=4")
        n = int(value)
        if not 1 <= n <= MAX_SIZE:
            raise UsageError(f"--sizes: {name}={n} is out of range; sizes go from 1 to {MAX_SIZE}")
        out[name] = n
    return out


def _row(kind, r, method, outcome=None, status=None, reason="", tolerance=None):
    from .numeric import RTOL
    row = {"kind": kind, "wrt": r.wrt if r is not None else None, "method": method,
           "result": str(r) if r is not None else None,
           "error": None, "tolerance": tolerance if tolerance is not None else RTOL,
           "status": status, "detail": reason}
    if outcome is not None:
        row["error"] = outcome.error
        row["tolerance"] = outcome.tolerance
        row["status"] = "PASS" if outcome.passed else "FAIL"
        row["detail"] = outcome.detail
    return row


def run_checks(expr: str, wrt=None, *, declare=None, sizes=None, seed=None, exact=False,
               instances=INSTANCES, directions=DIRECTIONS) -> dict:
    """Every applicable derivative of expr, verified.  Returns {"seed", "sizes",
    "rows"}; a row has kind, wrt, method (numeric | exact), result, error,
    tolerance, status (PASS | FAIL | SKIP) and detail."""
    import numpy as np

    from . import api
    from . import numeric as N
    from .errors import NotScalarError, UnsupportedError, UsageError

    if seed is None:
        seed = int.from_bytes(__import__("os").urandom(4), "little") >> 1
    sizes = dict(sizes or {})
    rows, dims = [], set()
    plain = api.problem(expr, declare, command="check")   # parse and shape errors surface first
    scalar = plain.expr.is_scalar
    for kind in KINDS:
        if kind in ("grad", "hess") and not scalar:
            rows.append(_row(kind, None, "numeric", status="SKIP",
                             reason=f"{kind} needs a scalar expression; this one is not"))
            continue
        try:
            results = api.derive(kind, expr, list(wrt) if wrt else None, declare=declare)
        except NotScalarError:
            if kind in ("grad", "hess"):
                rows.append(_row(kind, None, "numeric", status="SKIP", reason="the expression is not scalar"))
                continue
            raise
        except UnsupportedError as exc:
            rows.append(_row(kind, None, "numeric", status="SKIP", reason=exc.message))
            continue
        for r in results:
            dims.update(N.dim_names(r.problem.symbols.values()))
            worst, last = None, None
            for k in range(instances):
                rng = np.random.default_rng([seed, KINDS.index(kind), k])
                try:
                    outcome = N.check_result(r, rng, sizes, trials=directions)
                except ValueError as exc:   # no point inside the domain, an unknown size
                    outcome = N.Outcome(kind, float("inf"), detail=str(exc))
                except Exception as exc:    # noqa: BLE001 - a crash of the evaluator is a failed check
                    outcome = N.Outcome(kind, float("inf"), detail=f"{type(exc).__name__}: {exc}")
                last = outcome
                if worst is None or not (outcome.error <= worst.error):
                    worst = outcome
            rows.append(_row(kind, r, "numeric", worst or last))
            if exact:
                from .oracle import exact_check
                try:
                    rows.append(_row(kind, r, "exact", exact_check(r, sizes or None)))
                except UnsupportedError as exc:
                    rows.append(_row(kind, r, "exact", status="SKIP", reason=exc.message, tolerance=0.0))
    unknown = sorted(set(sizes) - dims)
    if unknown:
        raise UsageError(f"--sizes: no dimension named {', '.join(unknown)} in the expression"
                         + (f" (dimensions: {', '.join(sorted(dims))})" if dims else " (it has no named dimensions)"))
    return {"seed": seed, "sizes": sizes, "rows": rows}


def _fmt_error(e) -> str:
    if e is None:
        return "-"
    if e != e or e == float("inf"):
        return "inf" if e == float("inf") else "nan"
    return f"{e:.1e}"


def _json_number(e):
    if e is None or e != e or e in (float("inf"), float("-inf")):
        return None
    return e


@click.command("check")
@click.argument("expr", metavar="EXPR")
@click.option("--wrt", "-w", multiple=True, metavar="X", help="Variable (repeatable); default: every symbol.")
@click.option("--declare", "-d", metavar="CLAUSE", help="Declarations, as after 'where'.")
@click.option("--sizes", metavar="n=3,m=4", help="Fix the concrete size of named dimensions.")
@click.option("--seed", type=int, default=None, help="Seed of the random instances (default: fresh, printed).")
@click.option("--exact", is_flag=True, help="Also compare exactly with SymPy at small sizes.")
@click.option("--format", "-f", "fmt", type=click.Choice(("pretty", "text", "latex", "numpy", "json")),
              default=None, help="pretty (a table), text, json (one object per row).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default=None, help="Colour.")
@click.pass_context
def check_cmd(ctx, expr, wrt, declare, sizes, seed, exact, fmt, color):
    """Verify every derivative of EXPR numerically (and exactly with --exact).

    \b
    Examples:
      matcalc check 'x.T@A@x'
      matcalc check 'logdet(X)' --sizes n=4 --seed 1
      matcalc check 'norm(A@X - B)**2' --wrt X --exact
    """
    from . import cli
    from .errors import MatcalcError
    st = cli._state(ctx)
    fmt = fmt or st.format or st.env.default_format()
    color = color or st.color
    text = expr
    try:
        text = cli._read_expr(expr, st)
        out = run_checks(text, wrt, declare=declare, sizes=parse_sizes(sizes), seed=seed, exact=exact)
    except MatcalcError as err:
        cli.report(err, st, fmt, color, text)
        ctx.exit(err.exit_code)
        return
    failed = any(r["status"] == "FAIL" for r in out["rows"])
    emit_rows(out, text, st, fmt, color)
    if failed:
        st.failed = True
        ctx.exit(1)


def emit_rows(out, text, st, fmt, color):
    import json
    stream = st.env.stdout
    rows = out["rows"]
    if fmt == "json":
        for r in rows:
            d = {"command": "check", "input": text, "kind": r["kind"], "wrt": r["wrt"], "method": r["method"],
                 "result": r["result"], "error": _json_number(r["error"]), "tolerance": r["tolerance"],
                 "status": r["status"], "passed": r["status"] != "FAIL", "ok": r["status"] != "FAIL",
                 "seed": out["seed"], "sizes": out["sizes"]}
            if r["detail"]:
                d["detail"] = r["detail"]
            if st.line is not None:
                d["line"] = st.line
            stream.write(json.dumps(d, ensure_ascii=False) + "\n")
        stream.flush()
        return
    summary = _summary(out)
    if fmt == "pretty":
        _rich_table(out, stream, st.env.color(color, "stdout"), summary)
        return
    header = ("kind", "wrt", "method", "max rel error", "tolerance", "status", "result")
    table = [header] + [(r["kind"], r["wrt"] or "-", r["method"], _fmt_error(r["error"]),
                         f"{r['tolerance']:.0e}" if r["tolerance"] else "0", r["status"],
                         r["result"] if r["result"] is not None else r["detail"]) for r in rows]
    widths = [max(len(str(row[k])) for row in table) for k in range(len(header) - 1)]
    for row in table:
        stream.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) + "  " + str(row[-1]) + "\n")
    for r in rows:
        if r["status"] == "FAIL" and r["detail"]:
            stream.write(f"# {r['kind']} wrt {r['wrt']} ({r['method']}): {r['detail']}\n")
    stream.write(f"# {summary}\n")
    stream.flush()


def _summary(out) -> str:
    rows = out["rows"]
    n_fail = sum(r["status"] == "FAIL" for r in rows)
    n_pass = sum(r["status"] == "PASS" for r in rows)
    sizes = ", ".join(f"{k}={v}" for k, v in out["sizes"].items())
    verdict = f"{n_fail} FAILED, {n_pass} passed" if n_fail else f"all {n_pass} checks passed"
    return f"{verdict} (seed {out['seed']}{', sizes ' + sizes if sizes else ''})"


def _rich_table(out, stream, color, summary):
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    console = Console(file=stream, force_terminal=color, no_color=not color, highlight=False,
                      soft_wrap=False, emoji=False)
    table = Table(show_edge=False, header_style="bold")
    for col in ("kind", "wrt", "method", "max rel error", "tolerance", "", "result"):
        table.add_column(col, overflow="fold")
    styles = {"PASS": "green", "FAIL": "bold red", "SKIP": "yellow"}
    for r in out["rows"]:
        table.add_row(Text(r["kind"]), Text(r["wrt"] or "-"), Text(r["method"]), Text(_fmt_error(r["error"])),
                      Text(f"{r['tolerance']:.0e}" if r["tolerance"] else "0"),
                      Text(r["status"], style=styles.get(r["status"], "")),
                      Text(r["result"] if r["result"] is not None else r["detail"]))
    console.print(table)
    for r in out["rows"]:
        if r["status"] == "FAIL" and r["detail"]:
            console.print(Text(f"{r['kind']} wrt {r['wrt']} ({r['method']}): {r['detail']}", style="red"))
    console.print(Text(summary, style="bold red" if "FAILED" in summary else "green"))
