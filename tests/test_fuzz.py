"""Fuzzing (issue 8): any input gets a clear answer — no traceback, no hang, no wrong
exit code, valid JSON in JSON mode, only MatcalcError from the Python API.

Inputs come from hypothesis strategies (random text, random Unicode with control
characters and lone surrogates as undecodable argv bytes arrive, random bytes,
token soups over the grammar's vocabulary, generated well-formed expressions) and
from a mutation fuzzer over a seed corpus (tests/fuzz_corpus.txt, the expressions
of examples/*.batch): token insertion, deletion, swaps, truncation, duplication,
random bytes, random Unicode.  Each input runs through the real CLI entry point
in-process (CliRunner on `matcalc.cli.main`, a command and a format chosen per
input, JSON about half the time) and through the API (`matcalc.derive`,
`matcalc.api.parse`).

Profiles (env MATCALC_FUZZ_PROFILE): `ci` (default) runs about 11,000 inputs in
well under two minutes, deterministically (hypothesis derandomized, the mutation
fuzzer seeded); `long` runs 1,000,000 with fresh randomness (the README's
Robustness section).  MATCALC_FUZZ_SECONDS is the time one input may take
(default 5); over it is a failure, and a watchdog ends a hang at twice that.
"""
from __future__ import annotations

import json
import os
import random
import re
import shlex
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matcalc
from matcalc.api import parse as api_parse
from matcalc.cli import main
from matcalc.errors import MatcalcError

ROOT = Path(__file__).resolve().parent.parent
PROFILE = os.environ.get("MATCALC_FUZZ_PROFILE", "ci")
LONG = PROFILE == "long"
SECONDS = float(os.environ.get("MATCALC_FUZZ_SECONDS", "5"))

# inputs per strategy: ci ≈ 11,000 in all, long = 1,000,000
COUNTS = {
    "text": 1000, "unicode": 1000, "bytes": 500, "soup": 2000, "grammar": 1000, "mutation": 5500,
}
if LONG:
    COUNTS = {"text": 50_000, "unicode": 50_000, "bytes": 50_000, "soup": 150_000, "grammar": 150_000,
              "mutation": 550_000}
TOTAL = sum(COUNTS.values())

COMMANDS = ("grad", "grad", "dir", "elem", "jac", "hess")
FORMATS = ("json", "json", "text", "latex", "numpy", "pretty")
TRACEBACK = "Traceback (most recent call last)"


def hyp(n):
    """Hypothesis settings for n examples: reproducible in CI, fresh in the long run."""
    return settings(max_examples=n, deadline=None, database=None, derandomize=not LONG, print_blob=True,
                    suppress_health_check=list(HealthCheck))


# ---- the oracle ---------------------------------------------------------------------
class Hang(BaseException):
    """Raised by the watchdog; a BaseException so that no `except Exception` eats it."""


class watchdog:
    """Ends a run that takes more than `seconds` (SIGALRM; a no-op where unavailable)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def _fire(self, *_):
        raise Hang(f"no answer after {self.seconds:.0f} s")

    def __enter__(self):
        self.on = hasattr(signal, "setitimer")
        if self.on:
            self.old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.t0
        if self.on:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)
        return False


RUNNER = CliRunner()
# matcalc.derive raises the recursion limit once; hypothesis notices and says so
pytestmark = pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")


def check_cli(args, stdin=None, *, what=""):
    """One CLI run; returns (exit code, stdout).  Fails on a traceback, an internal
    error, an exit code outside {0, 1, 2}, invalid JSON in JSON mode, or slowness."""
    context = f"{what}matcalc {shlex.join(args)!s:.300}"
    if isinstance(stdin, str):   # a batch file may hold any bytes, undecodable ones included
        try:
            stdin = stdin.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:   # a lone surrogate outside U+DC80–U+DCFF: its raw (invalid) bytes
            stdin = stdin.encode("utf-8", "surrogatepass")
    try:
        with watchdog(2 * SECONDS) as w:
            result = RUNNER.invoke(main, args, input=stdin, catch_exceptions=True)
    except Hang as exc:
        raise AssertionError(f"{context}: {exc}") from None
    out, err = result.stdout, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{context}: {type(result.exception).__name__}: {result.exception}"
    assert TRACEBACK not in out and TRACEBACK not in err, context
    # an internal error is the message line (not an echo of the input, which may say anything)
    assert not any(ln.startswith("matcalc") and ("internal error:" in ln or "please report this input" in ln)
                   for ln in err.splitlines()), \
        f"{context}: {err}"
    assert result.exit_code in (0, 1, 2), f"{context}: exit {result.exit_code}"
    assert w.elapsed < SECONDS, f"{context}: {w.elapsed:.1f} s"
    if _format_of(args) == "json":   # not `"json" in args`: the expression may be the word json
        lines = [ln for ln in out.split("\n") if ln.strip()]   # JSON Lines end at \n only
        for ln in lines:
            obj = json.loads(ln)
            assert isinstance(obj, dict), f"{context}: {ln}"
            if obj.get("ok") is False:
                assert set(obj["error"]) >= {"kind", "message"}, f"{context}: {ln}"
                assert obj["error"]["kind"] != "internal", f"{context}: {ln}"
        if result.exit_code != 0:   # a batch fails when any line did; a command, with its one answer
            failed = [json.loads(ln)["ok"] is False for ln in lines]
            assert failed and (any(failed) if args[0] == "batch" else failed[-1]), f"{context}: {out!r} {err!r}"
    elif result.exit_code != 0:
        assert err.startswith("matcalc: error: ") or err.startswith("matcalc: line"), f"{context}: {err!r}"
    return result.exit_code, out


def _format_of(args) -> str | None:
    """The value of -f/--format (batch lines are checked by their own command)."""
    for k, a in enumerate(args[:-1]):
        if a == "--":
            break
        if a in ("-f", "--format"):
            return args[k + 1]
    return None


def check_api(call, *, what=""):
    """One API call: it returns or raises a MatcalcError, quickly."""
    with watchdog(2 * SECONDS) as w:
        try:
            call()
        except MatcalcError as exc:
            assert exc.message and isinstance(exc.exit_code, int) and exc.exit_code in (1, 2), what
            exc.caret()
            json.dumps(exc.to_json())
        except Hang as exc:
            raise AssertionError(f"{what}: {exc}") from None
        except BaseException as exc:  # noqa: BLE001 - the point of the test
            raise AssertionError(f"{what}: {type(exc).__name__}: {exc}") from exc
    assert w.elapsed < SECONDS, f"{what}: {w.elapsed:.1f} s"


# Bugs in other modules that the fuzzer meets, each with its strict-xfail regression
# test in tests/test_errors.py: (pattern of the failure message, that test).  A
# failure matching one is counted, not raised, so that the suite keeps guarding
# everything else until the owner fixes it (then the xfail turns into a failure:
# drop the row here too).
KNOWN: list = []
SEEN: dict = {}


def known(failure: str) -> str | None:
    for pattern, test in KNOWN:
        if re.search(pattern, failure):
            SEEN[test] = SEEN.get(test, 0) + 1
            return test
    return None


def run_input(text: str, rng: random.Random):
    """One fuzz input through the CLI and the API, in a mode chosen by rng."""
    try:
        _run_input(text, rng)
    except AssertionError as exc:
        if not known(str(exc)):
            raise


def _run_input(text: str, rng: random.Random):
    command, fmt = rng.choice(COMMANDS), rng.choice(FORMATS)
    mode = rng.random()
    if mode < 0.75:      # the expression itself
        args = [command, "-f", fmt, "--", text]
        api = lambda: [str(r) for r in matcalc.derive(command, text)]  # noqa: E731
    elif mode < 0.9:     # a -d clause
        args = [command, "-f", fmt, "-d", text, "--", "x.T@A@x + tr(X)"]
        api = lambda: matcalc.derive(command, "x.T@A@x + tr(X)", declare=text)  # noqa: E731
    else:                # a --wrt name
        args = [command, "-f", fmt, "--wrt", text, "--", "x.T@A@x"]
        api = lambda: matcalc.derive(command, "x.T@A@x", [text])  # noqa: E731
    check_cli(args)
    check_api(api, what=f"{command} {text[:300]!r}")
    check_api(lambda: api_parse(text), what=f"parse({text[:300]!r})")


# ---- strategies -------------------------------------------------------------------------
NAMES = ["x", "y", "b", "w", "A", "B", "C", "X", "Y", "M", "Q", "R", "S", "W", "a", "c", "alpha", "lam", "α",
         "H_R", "n", "m", "i", "j", "I", "E", "K"]
FUNCS = ["tr", "trace", "det", "logdet", "inv", "norm", "sum", "diag", "vec", "exp", "log", "sin", "cos", "tanh",
         "sqrt", "abs", "sigmoid", "relu", "kron", "matpow", "eye", "ones", "zeros", "E", "sign", "step"]
TOKENS = NAMES + FUNCS + [
    "0", "1", "2", "-1", "0.5", ".5", "1e-3", "1e400", "1e308", "3e-320", "10", "1000", "99999999999",
    "+", "-", "−", "*", "/", "@", "**", "⊙", "∘", "⊗", "×", "'", ".T", "ᵀ", "(", ")", "[", "]", "[[", "]]",
    ",", ":", "=", "where", "symmetric", "spd", "diagonal", "orthogonal", "scalar", "n×n", "n x m", "(n, m)",
    "^", ".*", "./", "\\", "{", "}", "|", "‖", ";", "#", "'", '"', "\n", "\t", " ", "  ",
]


@st.composite
def token_soup(draw):
    toks = draw(st.lists(st.sampled_from(TOKENS), min_size=0, max_size=25))
    seps = draw(st.lists(st.sampled_from(["", " ", ""]), min_size=len(toks), max_size=len(toks)))
    return "".join(t + s for t, s in zip(toks, seps))


def _unary(e):
    return st.sampled_from([
        "-{}", "{}.T", "{}'", "({})", "tr({})", "det({})", "logdet({})", "inv({})", "norm({})", "norm({})**2",
        "sum({})", "diag({})", "vec({})", "exp({})", "log({})", "sqrt({})", "abs({})", "sigmoid({})", "relu({})",
        "{}**2", "{}**-1", "{}**0.5", "{}**a", "matpow({}, 2)", "matpow({}, -1)", "{}[:n, :n]", "{}[n:, 1:]",
        "{}[i, j]", "tanh({})", "sin({})",
    ]).map(lambda f: f).flatmap(lambda f: e.map(f.format))


def _binary(e):
    return st.tuples(st.sampled_from(["{} + {}", "{} - {}", "{} * {}", "{} / {}", "{} @ {}", "{} ⊗ {}",
                                      "kron({}, {})", "{} ⊙ {}", "[[{}, {}]]", "[[{}], [{}]]"]), e, e) \
        .map(lambda t: t[0].format(t[1], t[2]))


def _block(e):
    return st.tuples(e, e, e, e).map(lambda t: "[[{}, {}], [{}, {}]]".format(*t))


LEAVES = st.sampled_from(NAMES + ["2", "0.5", "1e-3", "0", "eye(n)", "ones(n, m)", "zeros(n, n)", "E(i, j)"])
EXPR = st.recursive(LEAVES, lambda e: st.one_of(_unary(e), _binary(e), _block(e)), max_leaves=8)
SHAPES = ["n×n", "n×m", "m×n", "n", "m", "scalar", "(n, m)", "n x n", "1×1", "2×2", "3"]
DECL = st.tuples(st.sampled_from(NAMES), st.sampled_from(["", "symmetric ", "spd ", "diagonal ", "orthogonal "]),
                 st.sampled_from(SHAPES)).map(lambda t: f"{t[0]}: {t[1]}{t[2]}")
DEF = st.tuples(st.sampled_from(["C", "D", "Z"]), EXPR).map(lambda t: f"{t[0]} = {t[1]}")


@st.composite
def grammar_expr(draw):
    text = draw(EXPR)
    clauses = draw(st.lists(st.one_of(DECL, DEF), max_size=3))
    return text + (" where " + ", ".join(clauses) if clauses else "")


def _argv_text(data: bytes) -> str:
    """Bytes as they reach sys.argv (undecodable ones as lone surrogates)."""
    return data.decode("utf-8", "surrogateescape").replace("\x00", "")


ANY_CHAR = st.characters(codec=None, exclude_characters="\x00")   # control characters, surrogates included


# ---- the hypothesis tests -----------------------------------------------------------------
@hyp(COUNTS["text"])
@given(st.text(max_size=60), st.randoms(use_true_random=False))
def test_fuzz_random_text(text, rng):
    run_input(text, rng)


@hyp(COUNTS["unicode"])
@given(st.text(ANY_CHAR, max_size=40), st.randoms(use_true_random=False))
def test_fuzz_random_unicode(text, rng):
    run_input(text, rng)


@hyp(COUNTS["bytes"])
@given(st.binary(max_size=60), st.randoms(use_true_random=False))
def test_fuzz_random_bytes(data, rng):
    run_input(_argv_text(data), rng)


@hyp(COUNTS["soup"])
@given(token_soup(), st.randoms(use_true_random=False))
def test_fuzz_token_soup(text, rng):
    run_input(text, rng)


@hyp(COUNTS["grammar"])
@given(grammar_expr(), st.randoms(use_true_random=False))
def test_fuzz_grammar_expressions(text, rng):
    run_input(text, rng)


# ---- the mutation fuzzer ------------------------------------------------------------------
def corpus() -> list:
    """The seed list, then every expression of examples/*.batch."""
    seeds = [ln for ln in (ROOT / "tests" / "fuzz_corpus.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    for path in sorted((ROOT / "examples").glob("*.batch")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                args = shlex.split(line, comments=True)
            except ValueError:
                continue
            seeds += [a for a in args[1:2] if not a.startswith("-")]
    return seeds


_SPLIT = re.compile(r"\*\*|\.T|\w+|\s+|.", re.S)


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.choice((1, 1, 2, 3, 5))):
        toks = _SPLIT.findall(text) or [""]
        k = rng.randrange(len(toks) + 1)
        how = rng.randrange(10)
        if how == 0:                                   # insert a token
            toks.insert(k, rng.choice(TOKENS))
        elif how == 1 and toks:                        # delete a run of tokens
            del toks[k:k + rng.randint(1, 3)]
        elif how == 2 and len(toks) > 1:               # swap two tokens
            i, j = rng.randrange(len(toks)), rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        elif how == 3:                                 # truncate
            toks = toks[:k]
        elif how == 4:                                 # random bytes, as argv decodes them
            toks.insert(k, _argv_text(bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))))
        elif how == 5:                                 # random Unicode
            toks.insert(k, "".join(chr(rng.choice((rng.randrange(32, 0x250), rng.randrange(0x2000, 0x2c00),
                                                    rng.randrange(0x1, 0x110000)))) for _ in range(rng.randint(1, 3))))
        elif how == 6 and toks:                        # duplicate a slice (longer, deeper input)
            i = rng.randrange(len(toks))
            toks[i:i] = toks[i:i + rng.randint(1, 8)] * rng.randint(1, 4)
        elif how == 7:                                 # replace a token
            if toks and k < len(toks):
                toks[k] = rng.choice(TOKENS)
        elif how == 8:                                 # splice another seed in
            toks.insert(k, rng.choice(SEEDS))
        else:                                          # wrap in brackets or a call
            i, j = sorted((rng.randrange(len(toks) + 1), rng.randrange(len(toks) + 1)))
            left, right = rng.choice((("(", ")"), ("tr(", ")"), ("[[", "]]"), ("-(", ")"), ("inv(", ")")))
            toks = toks[:i] + [left] + toks[i:j] + [right] + toks[j:]
        text = "".join(t for t in toks if "\x00" not in t)
    return text


SEEDS = corpus()
CHUNKS = 10


def test_fuzz_corpus_parses():
    """The seeds themselves give clear answers (the habits among them are errors)."""
    rng = random.Random(0)
    for seed in SEEDS:
        run_input(seed, rng)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzz_mutations(chunk):
    rng = random.Random(None if LONG else 8000 + chunk)
    for _ in range(COUNTS["mutation"] // CHUNKS):
        run_input(mutate(rng.choice(SEEDS), rng), rng)


def test_fuzz_batch_mixed_lines():
    """A batch whose every other line is garbage answers every line, in order, with its
    line number; the good lines get the answer a single run gives."""
    rng = random.Random(5)
    good = ["grad 'x.T@A@x' --wrt x", "dir 'M@M.T' --wrt M --along A", "grad 'logdet(X)' --wrt X"]
    lines = []
    for k in range(30):
        lines.append(good[k % 3] if k % 2 == 0 else mutate(rng.choice(good), rng).replace("\n", " "))
    code, out = check_cli(["batch", "-f", "json", "-"], stdin="\n".join(lines) + "\n", what="batch: ")
    objs = [json.loads(ln) for ln in out.split("\n") if ln]
    numbered = [k + 1 for k, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    assert sorted({o["line"] for o in objs}) == numbered
    for k in range(0, 30, 2):
        (obj,) = [o for o in objs if o["line"] == k + 1]
        assert obj["ok"] and obj["result"] in ("(A + A.T)@x", "A@M.T + M@A.T", "inv(X).T")


def test_fuzz_batch_mutated_lines():
    """Whole batch lines mutated (quotes, options and all), fed through `batch -`."""
    rng = random.Random(11)
    lines = []
    for path in sorted((ROOT / "examples").glob("*.batch")):
        lines += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    lines = lines or ["grad 'x.T@A@x' --wrt x"]
    for _ in range(10 if not LONG else 1000):
        batch = [mutate(rng.choice(lines), rng).replace("\n", " ") for _ in range(20)]
        check_cli(["batch", "-f", rng.choice(["json", "text"]), "-"], stdin="\n".join(batch) + "\n", what="batch: ")


def test_fuzz_known_bugs_are_listed(capsys):
    """Known bugs met in this run (they have strict xfail tests in test_errors.py)."""
    with capsys.disabled():
        if SEEN:
            print("\nfuzz: known bugs met:", ", ".join(f"{t} ×{n}" for t, n in sorted(SEEN.items())))


def test_fuzz_profile_size():
    """The CI profile runs at least 10,000 inputs (SPEC of issue 8)."""
    assert TOTAL >= 10_000


def test_fuzz_json_mode_is_the_format_not_the_word():
    """Found by the long profile: the expression `json` in text mode is not JSON mode,
    and a symbol named `internal` (or an echoed input saying "internal error") is not
    an internal error."""
    assert check_cli(["grad", "-f", "json", "--", "internal"])[0] == 0
    assert check_cli(["grad", "-f", "text", "--", "internal error"])[0] == 2
    code, out = check_cli(["grad", "-f", "text", "--", "json"])
    assert code == 0 and out.strip() == "1"
    code, out = check_cli(["grad", "-f", "json", "--", "json"])
    assert json.loads(out)["result"] == "1"


@pytest.mark.parametrize("args", [
    # a Num's sort key was float(value): 1e308**2 overflowed (OverflowError)
    ["jac", "-f", "pretty", "--", "-(tr((A@X@B + C))@(A@1e308@B + C).T)"],
    # a symbol only a -d definition uses was missing from the symbols (KeyError)
    ["hess", "-f", "latex", "-d", "X = Y", "--", "x.T@A@x + tr(X)"],
    # the shapes "solved" x: 1×0 (a zero size), then an empty block grid (IndexError)
    ["grad", "-f", "json", "--", "[[x, b], [x ⊗ x.T, y]]"],
    # the Hessian of a matrix power of 333 has ~55,000 terms (over 10 s): a LimitError now
    ["hess", "-f", "latex", "--", "a.T@matpow(X, 333)@b"],
    # a declaration `X: *×2` took the × token itself as a size name (then a bad regex)
    ["grad", "-f", "numpy", "--", "det(X.T@A@X) where X: *×2"],
    # a tower of powers: the factorer tried groupings without bound (6.2 s)
    ["hess", "-f", "numpy", "--", "norm(Y - U@V.T)**2 + lam*((U)**norm(U)**norm(U)**norm(U)**2 **+ norm(V)**2)"],
    # sizes settled late (x: 1×1) left block columns of different widths; the typed
    # expression was not checked, and printing the result met the mismatch (internal error)
    ["dir", "-f", "json", "--", "[[[[x, x], [x, x]], y], [2, x]]"],
])
def test_fuzz_long_profile_findings(args):
    """Found by the long profile (MATCALC_FUZZ_PROFILE=long, mutation fuzzer)."""
    code, _ = check_cli(args)
    assert code in (0, 1, 2)
