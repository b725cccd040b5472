"""matcalc's speed, measured in one run and printed as a table of ratios and rates.

    python benchmarks/bench.py            # the full run (about a minute)
    python benchmarks/bench.py --quick    # fewer rounds and smaller sizes (about 20 s)

What it measures, against the targets of issue 7:

1. cold start — `matcalc grad 'tr((M@M.T - I)@(M@M.T - I).T)' --wrt M --format text`
   against `python -c "import sympy"`, the two interleaved round by round on this
   machine; the ratio of the medians must be ≤ 0.35.  Both run as installed: with
   compiled bytecode (a private PYTHONPYCACHEPREFIX, warmed first — pip compiles
   bytecode at install time, and an environment with PYTHONDONTWRITEBYTECODE would
   otherwise recompile matcalc on every run) and with the parser cache warm.
2. batch throughput — `matcalc batch` on the examples corpus (examples/*.batch,
   repeated to 1,000 lines; --quick: the corpus once), pinned to one CPU, the better of
   two runs: derivatives per second, start-up excluded (the time of a one-line batch is
   subtracted); ≥ 1,000/s.
   With --jobs 2 for information.
3. matcalc against SymPy — in-process `matcalc.derive` (parse, infer, differentiate,
   simplify, print) against SymPy's `MatrixSymbol` `.diff` (the expression built
   beforehand, SymPy's cache cleared before each run) on the same expressions;
   the median speed-up over the cases SymPy can do (no exception, non-zero answer)
   must be ≥ 30.
4. scaling — derivation time of `grad tr(X@X@…@X)` (k factors),
   `grad norm(A1@X@B1 + … + Ak@X@Bk)**2`, and nested compositions (a k-layer tanh
   network, k nested inverses) for k up to 200: the exponent of a log-log fit over
   the three largest sizes must be ≤ 2 (quadratic; 0.1 is allowed for timing noise).  A size that
   takes 3× longer than a quadratic would from the one before is cut off (a MISS).
5. streaming memory — peak RSS of a batch run on 8× more lines grows by < 10 MB.
6. --timeout — a pathological input is cut off: exit 1 with a clear message.

Exit status 0 when every target is met, 1 otherwise.  Speed is asserted here, not
in timed unit tests.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONELINER = ["grad", "tr((M@M.T - I)@(M@M.T - I).T)", "--wrt", "M", "--format", "text"]


# ---- helpers ------------------------------------------------------------------------
def matcalc_command() -> list:
    exe = Path(sys.executable).with_name("matcalc")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "matcalc"]


def bench_env(tmp: str) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("FORCE_COLOR", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
    env["MATCALC_CACHE_DIR"] = os.path.join(tmp, "parser-cache")
    return env


def one_cpu():
    """preexec_fn: pin the child to one CPU (where the platform allows it)."""
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})


def wall(cmd, env, stdin=None, pin=False) -> tuple:
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin,
                       preexec_fn=one_cpu if pin else None)
    return time.perf_counter() - t, p


def loglog_slope(ks, ts) -> float:
    xs, ys = [math.log(k) for k in ks], [math.log(t) for t in ts]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def fmt_time(t: float) -> str:
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, measure, value, target="", ok=None):
        self.rows.append((measure, value, target, "" if ok is None else ("ok" if ok else "MISS")))
        return ok

    def print(self):
        widths = [max(len(str(r[i])) for r in self.rows + [("measure", "value", "target", "")]) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        print(line)
        print("  ".join(h.ljust(w) for h, w in zip(("measure", "value", "target", ""), widths)))
        print(line)
        for r in self.rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
        print(line)

    @property
    def passed(self) -> bool:
        return all(r[3] != "MISS" for r in self.rows)


# ---- 1. cold start -----------------------------------------------------------------
def cold_start(table, env, rounds):
    mc = matcalc_command() + ONELINER
    sympy = [sys.executable, "-c", "import sympy"]
    bare = [sys.executable, "-c", "pass"]
    for cmd in (mc, sympy, mc, sympy):          # warm: bytecode, parser cache, OS file cache
        wall(cmd, env)
    times = {"matcalc": [], "sympy": [], "python": []}
    for _ in range(rounds):                     # interleaved, so load changes hit both alike
        for name, cmd in (("sympy", sympy), ("matcalc", mc), ("python", bare)):
            t, p = wall(cmd, env)
            if name == "matcalc" and p.stdout.decode().strip() != "4*(M@M.T - I)@M":
                raise SystemExit(f"unexpected one-liner output: {p.stdout!r} {p.stderr!r}")
            times[name].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["matcalc"] / med["sympy"]
    print(f"cold start, median of {rounds} interleaved rounds: matcalc {fmt_time(med['matcalc'])}, "
          f"python -c 'import sympy' {fmt_time(med['sympy'])}, python -c pass {fmt_time(med['python'])}")
    table.add("cold start: one-liner / import sympy", f"{ratio:.3f}  ({fmt_time(med['matcalc'])} / "
              f"{fmt_time(med['sympy'])})", "≤ 0.35", ratio <= 0.35)
    return med


# ---- 2. batch throughput -----------------------------------------------------------------
def corpus_lines() -> list:
    lines = []
    for f in sorted(glob.glob(str(ROOT / "examples" / "*.batch"))):
        for line in Path(f).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line)
    return lines


def batch_run(lines, env, tmp, jobs=1, pin=True, name="corpus") -> tuple:
    f = Path(tmp) / f"{name}.batch"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    t, p = wall(matcalc_command() + ["batch", str(f), "-f", "json", "-j", str(jobs)], env, pin=pin)
    answers = [json.loads(x) for x in p.stdout.decode().splitlines()]
    return t, sum(1 for a in answers if a.get("ok")), sum(1 for a in answers if not a.get("ok")), p


def throughput(table, env, tmp, n_lines):
    base = corpus_lines()
    n_lines = n_lines or len(base)
    lines = (base * (n_lines // len(base) + 1))[:n_lines]
    batch_run(base, env, tmp, name="warm")   # warm, untimed: bytecode of every module the corpus needs and
    #                                          both parser caches (its bad lines need the one with positions)
    t1, _, _, _ = batch_run(base[:1], env, tmp, name="one")      # start-up + one line
    t1 = min(t1, batch_run(base[:1], env, tmp, name="one")[0])
    t, ok, bad, _ = batch_run(lines, env, tmp)
    t = min(t, batch_run(lines, env, tmp)[0])   # the better of two: one run can meet a busy machine
    rate = ok / max(t - t1, 1e-9)
    print(f"batch: {len(lines)} lines ({len(base)} distinct, from examples/*.batch): {ok} derivatives, "
          f"{bad} failed lines, {fmt_time(t)} on one CPU; start-up + one line {fmt_time(t1)}")
    table.add("batch derivatives/s, one core", f"{rate:,.0f}/s  ({ok / t:,.0f}/s with start-up)", "≥ 1,000/s",
              rate >= 1000)
    t2, ok2, _, _ = batch_run(lines, env, tmp, jobs=2, pin=False)
    table.add("batch derivatives/s, --jobs 2", f"{ok2 / max(t2 - t1, 1e-9):,.0f}/s", "(information)")
    table.add("batch machinery per line (derivation stubbed)", f"{batch_overhead(base) * 1000:.3f} ms",
              "(information)")
    return rate


def batch_overhead(lines) -> float:
    """Seconds per line spent by `batch` itself — splitting, option parsing, dispatch,
    writing — with the derivation replaced by a stub, in-process."""
    import io

    import matcalc.api
    from matcalc import cli
    from matcalc.env import Environment
    st = cli.State(Environment(stdout=io.StringIO(), stderr=io.StringIO(), stdout_isatty=False,
                               stderr_isatty=False))
    real = matcalc.api.derive
    matcalc.api.derive = lambda *a, **kw: []
    try:
        cli._run_serial(lines, ("text", None, None), st, lambda: None)
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            cli._run_serial(lines, ("text", None, None), st, lambda: None)
            best = min(best, (time.perf_counter() - t) / len(lines))
    finally:
        matcalc.api.derive = real
    return best


# ---- 3. matcalc against SymPy ------------------------------------------------------------
def sympy_cases():
    import sympy as sp
    from sympy import Identity, Inverse, MatrixSymbol, Trace, det, log
    n, m, p = sp.symbols("n m p", integer=True, positive=True)
    X, A, B, C, S = (MatrixSymbol(s, n, n) for s in "XABCS")
    x, mu = MatrixSymbol("x", n, 1), MatrixSymbol("mu", n, 1)
    Am, b = MatrixSymbol("A", m, n), MatrixSymbol("b", m, 1)
    M = MatrixSymbol("M", n, m)
    U, V, Y = MatrixSymbol("U", n, p), MatrixSymbol("V", m, p), MatrixSymbol("Y", n, m)
    Xr, Br = MatrixSymbol("X", n, m), MatrixSymbol("B", n, m)
    I = Identity(n)
    return [  # (matcalc expression, variable, SymPy expression, SymPy variable)
        ("tr(A@X)", "X", Trace(A * X), X),
        ("tr(A@X@B)", "X", Trace(A * X * B), X),
        ("tr(X.T@A@X)", "X", Trace(X.T * A * X), X),
        ("tr(X@X@X)", "X", Trace(X * X * X), X),
        ("tr(A@X@B@X.T@C)", "X", Trace(A * X * B * X.T * C), X),
        ("tr(inv(X)@A)", "X", Trace(Inverse(X) * A), X),
        ("x.T@A@x", "x", x.T * A * x, x),
        ("norm(A@x - b)**2", "x", (Am * x - b).T * (Am * x - b), x),
        ("norm(A@X - B)**2", "X", Trace((A * Xr - Br).T * (A * Xr - Br)), Xr),
        ("(x - mu).T@inv(S)@(x - mu)", "x", (x - mu).T * Inverse(S) * (x - mu), x),
        ("norm(Y - U@V.T)**2", "U", Trace((Y - U * V.T).T * (Y - U * V.T)), U),
        ("tr((M@M.T - I)@(M@M.T - I).T)", "M", Trace((M * M.T - I) * (M * M.T - I).T), M),
        ("logdet(X)", "X", log(det(X)), X),
        ("det(X)", "X", det(X), X),
    ]


def sympy_can(answer) -> bool:
    """SymPy did it: no exception, not left unevaluated, not a (wrong) zero."""
    if isinstance(answer, Exception):
        return False
    import sympy as sp
    if answer == 0 or getattr(answer, "is_ZeroMatrix", False) or isinstance(answer, sp.Derivative):
        return False
    return not answer.atoms(sp.Derivative) and type(answer).__name__ != "ArrayDerivative"


def against_sympy(table, repeats):
    import warnings
    from sympy.core.cache import clear_cache

    import matcalc
    matcalc.derive("grad", "tr(A@X)", ["X"])          # warm: parser loaded, modules imported
    rows, speedups = [], []
    for expr, w, sexpr, svar in sympy_cases():
        mt = []
        for _ in range(repeats):
            t = time.perf_counter()
            text = str(matcalc.derive("grad", expr, [w])[0])
            mt.append(time.perf_counter() - t)
        st, answer = [], None
        for _ in range(repeats):
            clear_cache()
            t = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    answer = sexpr.diff(svar)
            except Exception as exc:  # SymPy cannot do this one
                answer = exc
                break
            st.append(time.perf_counter() - t)
        can = sympy_can(answer)
        m_med = statistics.median(mt)
        s_med = statistics.median(st) if st else float("nan")
        if can:
            speedups.append(s_med / m_med)
        why = "" if can else (f"SymPy: {type(answer).__name__}" if isinstance(answer, Exception)
                              else f"SymPy: {str(answer)[:30]}")
        rows.append((expr, fmt_time(m_med), fmt_time(s_med) if st else "-",
                     f"{s_med / m_med:.1f}×" if can else why, text))
    print("\nmatcalc against SymPy (median of %d runs each):" % repeats)
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"  {'expression'.ljust(w[0])}  {'matcalc'.rjust(w[1])}  {'SymPy'.rjust(w[2])}  {'speed-up'.ljust(w[3])}  matcalc's answer")
    for r in rows:
        print(f"  {r[0].ljust(w[0])}  {r[1].rjust(w[1])}  {r[2].rjust(w[2])}  {r[3].ljust(w[3])}  {r[4]}")
    med = statistics.median(speedups)
    table.add(f"matcalc vs SymPy .diff, median of {len(speedups)} cases",
              f"{med:.1f}× faster (min {min(speedups):.1f}×, max {max(speedups):.1f}×)", "≥ 30×", med >= 30)
    return med


# ---- 4. scaling ------------------------------------------------------------------------
def family_trpow(k):
    return "tr(" + "@".join(["X"] * k) + ")", "X"


def family_normsum(k):
    return "norm(" + " + ".join(f"A{i}@X@B{i}" for i in range(1, k + 1)) + ")**2", "X"


def family_network(k):
    e = "x"
    for i in range(1, k + 1):
        e = f"tanh(W{i}@{e})"
    return f"sum({e})", "x"


def family_inverses(k):
    e = "X"
    for i in range(1, k + 1):
        e = f"inv(A{i} + {e})"
    return f"tr({e})", "X"


FAMILIES = [
    ("grad tr(X@X@…@X), k factors", family_trpow),
    ("grad norm(A1@X@B1 + … + Ak@X@Bk)**2", family_normsum),
    ("grad sum(tanh(Wk@…tanh(W1@x))), k layers", family_network),
    ("grad tr(inv(Ak + …inv(A1 + X))), k inverses", family_inverses),
]


def scaling(table, ks, budget):
    import gc

    import matcalc
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    # the heap built so far (SymPy's, from section 3) is not matcalc's: frozen, the cycle
    # collector no longer rescans it while a big derivation allocates (up to ~30% of k=200)
    gc.collect()
    gc.freeze()
    sys.path.insert(0, str(ROOT))
    from matcalc.cli import Timeout, deadline
    print("\nscaling (seconds per derivation; exponent of a log-log fit over the three largest k):")
    print("  " + "family".ljust(46) + "".join(f"k={k}".rjust(10) for k in ks) + "  exponent")
    worst = 0.0
    for name, family in FAMILIES:
        try:                                     # first calls pay for warming up, not for size
            for _ in range(3):
                matcalc.derive("grad", *family(4)[:1], [family(4)[1]])
        except Exception:
            pass
        times, failure = [], None
        for k in ks:
            expr, w = family(k)
            runs = 3 if k <= ks[len(ks) // 2] else 2   # the best of a few: one run can meet a busy machine
            best = None
            # the time a quadratic would take from the previous size, with 3× slack for noise
            limit = budget if not times else min(budget, max(2.0, 3 * times[-1] * (k / ks[len(times) - 1]) ** 2))
            try:
                for _ in range(runs):
                    with deadline(limit):
                        t = time.perf_counter()
                        str(matcalc.derive("grad", expr, [w])[0])
                        dt = time.perf_counter() - t
                    best = dt if best is None else min(best, dt)
            except Timeout:
                failure = (f"over {limit:.1f} s at k={k}" if not times else
                           f"over {limit:.1f} s at k={k}: slower than quadratic (×3 slack) from k={ks[len(times) - 1]}")
                best = None
            except Exception as exc:  # report, do not crash the benchmark
                failure = f"{type(exc).__name__} at k={k}: {str(exc)[:70]}"
                best = None
            times.append(best)
            if best is None:
                break
        done = [(k, t) for k, t in zip(ks, times) if t is not None]
        cells = "".join((f"{t:.3f}" if t is not None else f">{budget:g}").rjust(10) for t in times)
        if len(done) == len(ks):
            slope = loglog_slope([k for k, _ in done[-3:]], [t for _, t in done[-3:]])
            last = math.log(done[-1][1] / done[-2][1]) / math.log(done[-1][0] / done[-2][0])
            worst = max(worst, slope)
            print(f"  {name.ljust(46)}{cells}  {slope:.2f} (last doubling {last:.2f})")
            table.add(f"scaling exponent: {name}", f"{slope:.2f}  (k={ks[-1]}: {fmt_time(done[-1][1])})",
                      "≤ 2", slope <= 2.1)
        else:
            cells = cells.replace(f">{budget:g}", "error") if failure else cells
            print(f"  {name.ljust(46)}{cells}  ({failure or f'gave up after {budget:g} s'})")
            table.add(f"scaling exponent: {name}", failure or f"over {budget:g} s at k={ks[len(done)]}", "≤ 2",
                      False)
    return worst


# ---- 5. memory, 6. timeout ----------------------------------------------------------------
RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
       "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def memory(table, env, tmp, n_small):
    try:
        import resource  # noqa: F401  (POSIX only)
    except ImportError:
        table.add("streaming memory", "not measured (no resource module)", "")
        return
    base = corpus_lines()
    peaks = []
    for n in (n_small, 8 * n_small):
        f = Path(tmp) / f"mem{n}.batch"
        f.write_text("\n".join((base * (n // len(base) + 1))[:n]) + "\n", encoding="utf-8")
        p = subprocess.run([sys.executable, "-c", RSS] + matcalc_command() + ["batch", str(f), "-f", "json"],
                           env=env, capture_output=True, text=True)
        peaks.append(int(p.stdout.strip()) / 1024 * (1 / 1024 if sys.platform == "darwin" else 1))
    grow = peaks[1] - peaks[0]
    table.add("batch peak memory, 8× more lines", f"{peaks[0]:.1f} MB → {peaks[1]:.1f} MB (+{grow:.1f} MB)",
              "< +10 MB", grow < 10)


def timeout_check(table, env, tmp):
    expr, _ = family_normsum(3000)
    f = Path(tmp) / "patho.txt"
    f.write_text(expr, encoding="utf-8")
    with open(f, "rb") as stdin:
        t, p = wall(matcalc_command() + ["grad", "-", "--wrt", "X", "--timeout", "0.5", "--format", "text"], env,
                    stdin=stdin)
    err = p.stderr.decode()
    ok = p.returncode == 1 and "gave up" in err and "Traceback" not in err and t < 5
    table.add("--timeout 0.5 on a pathological input", f"exit {p.returncode} after {t:.2f} s: "
              f"{err.strip().splitlines()[0][:60] if err.strip() else '(no message)'}", "exit 1, clear message", ok)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and smaller sizes")
    ap.add_argument("--rounds", type=int, default=None, help="cold-start rounds (default 15, quick 5)")
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: cold,batch,sympy,scaling,memory,timeout")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    rounds = args.rounds or (5 if args.quick else 15)
    table = Table()
    tmp = tempfile.mkdtemp(prefix="matcalc-bench-")
    env = bench_env(tmp)
    # this process measures in-process speed as installed, too
    sys.pycache_prefix = env["PYTHONPYCACHEPREFIX"]
    os.environ["MATCALC_CACHE_DIR"] = env["MATCALC_CACHE_DIR"]
    print(f"matcalc benchmarks — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "")
    try:
        if "cold" not in skip:
            cold_start(table, env, rounds)
        if "batch" not in skip:
            throughput(table, env, tmp, 0 if args.quick else 1000)   # 0: the corpus once
        if "sympy" not in skip:
            against_sympy(table, 3 if args.quick else 7)
        if "scaling" not in skip:
            scaling(table, [12, 25, 50, 100] if args.quick else [25, 50, 100, 200], 60)
        if "memory" not in skip:
            memory(table, env, tmp, 40 if args.quick else 100)
        if "timeout" not in skip:
            timeout_check(table, env, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    table.print()
    print("all targets met" if table.passed else "some targets missed (MISS)")
    return 0 if table.passed else 1


if __name__ == "__main__":
    sys.exit(main())
