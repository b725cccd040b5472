"""`matcalc batch` (SPEC §2, issue 7): every line answered in order, a bad line gets its
error with its line number and the rest go on, JSON Lines with a `line` field, exit 0
only when every line succeeded, `--jobs` keeps input order, streaming, `--timeout`.

In-process through CliRunner (fast); the few things only a real process shows (a
closed pipe, Ctrl-C, answers before end of input) run as subprocesses at the end."""
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import matcalc.api
from matcalc import cli
from matcalc.cli import State, main
from matcalc.env import Environment

ROOT = Path(__file__).resolve().parent.parent
LOSSES = ROOT / "examples" / "losses.batch"

GOOD = [
    ("grad 'tr(A@X)' --wrt X", "A.T"),
    ("grad 'x.T@A@x where A: symmetric n×n' --wrt x", "2*A@x"),
    ("dir 'M@M.T' --wrt M --along A", "A@M.T + M@A.T"),
    ("grad 'logdet(X)' --wrt X", "inv(X).T"),
]


def batch(text: str, *args, obj=None):
    return CliRunner().invoke(main, ["batch", "-", *args], input=text, obj=obj)


def batch_file(tmp_path, text: str, *args, obj=None):
    f = tmp_path / "in.batch"
    f.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["batch", str(f), *args], obj=obj)


def json_lines(out: str) -> list:
    return [json.loads(line) for line in out.splitlines()]


# ---- the basics ---------------------------------------------------------------------
def test_batch_answers_every_line_in_order():
    r = batch("".join(line + "\n" for line, _ in GOOD))
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [want for _, want in GOOD]
    assert r.stderr == ""


def test_batch_comments_and_blank_lines_are_skipped():
    text = "# a comment\n\n   \ngrad 'tr(A@X)' --wrt X   # trailing comment\n  # indented comment\n"
    r = batch(text, "-f", "json")
    assert r.exit_code == 0
    (d,) = json_lines(r.stdout)
    assert d["line"] == 4 and d["result"] == "A.T"


def test_batch_hash_inside_quotes_is_not_a_comment():
    r = batch("grad 'tr(A@X)' --wrt X -d 'A: n×n' # ok\n")
    assert r.exit_code == 0 and r.stdout == "A.T\n"


def test_batch_quoting_as_in_a_shell():
    text = 'grad "x.T@A@x" --wrt x -d "A: symmetric n×n"\ngrad tr\\(A@X\\) --wrt X\n'
    r = batch(text)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == ["2*A@x", "A.T"]


def test_batch_empty_input_succeeds_silently():
    r = batch("# nothing but a comment\n\n")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == ""


def test_batch_reads_a_file(tmp_path):
    r = batch_file(tmp_path, "grad 'tr(A@X)' --wrt X\n")
    assert r.exit_code == 0 and r.stdout == "A.T\n"


def test_batch_missing_file_is_a_usage_error(tmp_path):
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "nope.batch")])
    assert r.exit_code == 2
    assert r.stderr.startswith("matcalc: error: cannot read")
    assert "Traceback" not in r.output


def test_batch_accepts_a_leading_matcalc_word():
    r = batch("matcalc grad 'tr(A@X)' --wrt X\n")
    assert r.exit_code == 0 and r.stdout == "A.T\n"


# ---- errors: per line, with line numbers, the rest goes on ---------------------------
def test_batch_bad_line_reports_its_number_and_the_rest_go_on():
    text = "grad 'tr(A@X)' --wrt X\ngrad 'tr(A@@X)' --wrt X\n\ngrad 'x.T@x' --wrt x\n"
    r = batch(text)
    assert r.exit_code == 1
    assert r.stdout.splitlines() == ["A.T", "2*x"]
    assert r.stderr.startswith("matcalc: error: line 2: ")
    assert "^" in r.stderr            # the caret under the column
    assert "Traceback" not in r.output


@pytest.mark.parametrize("bad, needle", [
    ("grad 'tr(A@X' --wrt X", "line 1: "),                  # parse error
    ("grad 'tr(A@X)' --wrt Y", "no symbol Y"),              # --wrt names nothing
    ("grad 'A@X' --wrt X -d 'A: 2×3'", "line 1: "),       # not a scalar
    ("grad 'A@B + C' --wrt A -d 'A: 2×3, B: 4×5'", "line 1: "),  # shape conflict
    ("grad 'tr(X)' --bogus", "No such option"),             # unknown option
    ("frobnicate 'tr(X)'", "No such command"),              # unknown command
    ("grad 'tr(X)", "cannot split the line"),               # unbalanced quote
    ("batch other.batch", "batch"),                         # no batch inside batch
    ("grad - --wrt X", "cannot read its expression from stdin"),
    ("grad", "Missing argument"),
])
def test_batch_each_kind_of_bad_line_is_answered(bad, needle):
    r = batch(f"{bad}\ngrad 'tr(A@X)' --wrt X\n")
    assert r.exit_code == 1
    assert needle in r.stderr
    assert r.stderr.startswith("matcalc: error: line 1: ")
    assert r.stdout.splitlines()[-1] == "A.T"     # the next line was still answered
    assert "Traceback" not in r.output


def test_batch_every_other_line_garbage():
    lines = []
    for k in range(10):
        lines.append(f"grad 'tr(A{k}@X)' --wrt X")
        lines.append(["grad 'tr(A@@X)'", "%%%", "grad 'x' --wrt", "grad '(' --wrt x", "'"][k % 5])
    r = batch("\n".join(lines) + "\n", "-f", "json")
    assert r.exit_code == 1
    out = json_lines(r.stdout)
    assert [d["line"] for d in out] == list(range(1, 21))
    assert all(d["ok"] for d in out[0::2]) and not any(d["ok"] for d in out[1::2])
    assert [d["result"] for d in out[0::2]] == [f"A{k}.T" for k in range(10)]
    assert all("kind" in d["error"] and d["error"]["message"] for d in out[1::2])


def test_batch_exit_status_is_zero_only_when_every_line_succeeds():
    assert batch("grad 'tr(A@X)' --wrt X\n").exit_code == 0
    assert batch("grad 'tr(A@X)' --wrt X\ngrad '@' --wrt X\n").exit_code == 1


def test_batch_internal_error_on_one_line_does_not_stop_the_rest(monkeypatch):
    real = matcalc.api.derive

    def derive(command, expr, *a, **kw):
        if "boom" in expr:
            raise ZeroDivisionError("simulated bug")
        return real(command, expr, *a, **kw)
    monkeypatch.setattr(matcalc.api, "derive", derive)
    r = batch("grad 'boom' --wrt boom\ngrad 'tr(A@X)' --wrt X\n", "-f", "json")
    assert r.exit_code == 1
    first, second = json_lines(r.stdout)
    assert first["line"] == 1 and first["error"]["kind"] == "internal" and "ZeroDivisionError" in first["error"]["message"]
    assert second["result"] == "A.T"


def test_batch_recursion_error_on_one_line_is_reported(monkeypatch):
    def derive(*a, **kw):
        raise RecursionError()
    monkeypatch.setattr(matcalc.api, "derive", derive)
    r = batch("grad 'tr(X)' --wrt X\n")
    assert r.exit_code == 1 and "nested too deeply" in r.stderr


# ---- JSON Lines ------------------------------------------------------------------
def test_batch_json_lines_have_a_line_field_for_results_and_errors():
    text = "grad 'tr(A@X)' --wrt X\n# comment\ngrad 'tr(A@@X)' --wrt X\ngrad 'x.T@x' --wrt x\n"
    r = batch(text, "--format", "json")
    assert r.exit_code == 1
    out = json_lines(r.stdout)
    assert [d["line"] for d in out] == [1, 3, 4]
    assert out[0]["ok"] is True and out[0]["result"] == "A.T" and out[0]["wrt"] == "X"
    assert out[1]["ok"] is False and out[1]["error"]["kind"] == "parse"
    assert out[1]["error"]["line"] == 1 and out[1]["error"]["column"] >= 1   # position in the expression
    assert out[1]["input"] == "grad 'tr(A@@X)' --wrt X" or out[1]["input"] == "tr(A@@X)"
    assert out[2]["ok"] is True
    assert r.stderr == ""               # with JSON, errors are JSON on stdout


def test_batch_json_usage_errors_are_json_too():
    r = batch("grad 'tr(X)' --bogus\nnope\n", "-f", "json")
    a, b = json_lines(r.stdout)
    assert a["line"] == 1 and a["error"]["kind"] == "usage"
    assert b["line"] == 2 and "No such command" in b["error"]["message"]


def test_batch_format_is_the_default_of_the_lines_and_a_line_may_override_it():
    text = "grad 'tr(A@X)' --wrt X\ngrad 'tr(A@X)' --wrt X -f text\ngrad 'tr(A@X)' --wrt X --format latex\n"
    r = batch(text, "-f", "json")
    lines = r.stdout.splitlines()
    assert json.loads(lines[0])["line"] == 1
    assert lines[1] == "A.T"
    assert lines[2] == "A^{\\top}"


def test_batch_lines_may_carry_their_own_options():
    r = batch("grad 'x.T@A@x' --wrt x -f json -d 'A: symmetric n×n'\n")
    d = json.loads(r.stdout)
    assert d["result"] == "2*A@x" and d["line"] == 1


def test_batch_output_has_no_ansi_codes_on_a_pipe():
    r = batch("grad 'C[n:, n:]' --wrt C -d 'C: 2n×2n'\ngrad '@'\n", "--color", "always", "-f", "text")
    assert "\x1b[" not in r.stdout


# ---- --jobs ------------------------------------------------------------------------
def test_batch_jobs_prints_in_input_order_like_a_serial_run():
    text = LOSSES.read_text(encoding="utf-8") + "grad 'tr(A@@X)' --wrt X\n" + LOSSES.read_text(encoding="utf-8")
    serial = batch(text, "-f", "json")
    parallel = batch(text, "-f", "json", "--jobs", "2")
    assert parallel.exit_code == serial.exit_code == 1
    assert parallel.stdout == serial.stdout
    numbers = [d["line"] for d in json_lines(parallel.stdout)]
    assert numbers == sorted(numbers)


def test_batch_jobs_keeps_errors_on_stderr_in_order():
    text = "".join(f"grad 'tr(A{k}@X)' --wrt X\ngrad '@{k}'\n" for k in range(40))
    serial = batch(text)
    parallel = batch(text, "-j", "3")
    assert parallel.exit_code == 1
    assert parallel.stdout == serial.stdout
    assert parallel.stderr == serial.stderr
    assert parallel.stderr.count("matcalc: error: line ") == 40


# ---- --timeout --------------------------------------------------------------------
def _slow_when(marker):
    real = matcalc.api.derive

    def derive(command, expr, *a, **kw):
        if marker in expr:
            time.sleep(30)
        return real(command, expr, *a, **kw)
    return derive


def test_batch_timeout_cuts_one_line_and_the_rest_go_on(monkeypatch):
    monkeypatch.setattr(matcalc.api, "derive", _slow_when("slow"))
    t = time.perf_counter()
    r = batch("grad 'tr(slow)' --wrt slow\ngrad 'tr(A@X)' --wrt X\n", "--timeout", "0.2", "-f", "json")
    assert time.perf_counter() - t < 10
    assert r.exit_code == 1
    a, b = json_lines(r.stdout)
    assert a["line"] == 1 and a["error"]["kind"] == "timeout" and "0.2" in a["error"]["message"]
    assert b["result"] == "A.T"


def test_batch_line_timeout_overrides_the_batch_one(monkeypatch):
    monkeypatch.setattr(matcalc.api, "derive", _slow_when("slow"))
    r = batch("grad 'tr(slow)' --wrt slow --timeout 0.1\n", "--timeout", "60")
    assert r.exit_code == 1 and "gave up after 0.1 s" in r.stderr


def test_oneliner_timeout_exit_1_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(matcalc.api, "derive", _slow_when("slow"))
    r = CliRunner().invoke(main, ["grad", "tr(slow)", "--timeout", "0.1"])
    assert r.exit_code == 1
    assert r.stderr.startswith("matcalc: error: gave up after 0.1 s (--timeout 0.1)")
    assert "Traceback" not in r.output


def test_deadline_is_disarmed_after_the_block():
    with cli.deadline(0.05):
        pass
    time.sleep(0.12)                     # a leftover alarm would raise Timeout here
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_deadline_fires_again_when_a_timeout_was_swallowed():
    swallowed = []
    t = time.perf_counter()
    with pytest.raises(cli.Timeout):
        with cli.deadline(0.05):
            try:
                time.sleep(5)
            except cli.Timeout:          # as if raised inside a weakref callback
                swallowed.append(True)
            time.sleep(5)
    assert swallowed and time.perf_counter() - t < 2
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_timeout_zero_means_no_limit():
    r = CliRunner().invoke(main, ["grad", "tr(A@X)", "--wrt", "X", "--timeout", "0"])
    assert r.exit_code == 0 and r.stdout == "A.T\n"


# ---- interruption ------------------------------------------------------------------
def test_batch_ctrl_c_exits_130_and_stops(monkeypatch):
    def derive(*a, **kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(matcalc.api, "derive", derive)
    r = batch("grad 'tr(X)' --wrt X\ngrad 'tr(Y)' --wrt Y\n")
    assert r.exit_code == 130
    assert "matcalc: interrupted" in r.stderr
    assert r.stdout == ""


# ---- streaming --------------------------------------------------------------------
class _Recorder(io.StringIO):
    pass


def test_batch_streams_answers_before_reading_the_next_line():
    out = _Recorder()
    seen = []

    def lines():
        for k in range(5):
            seen.append(out.getvalue().count("\n"))   # answers printed when line k is read
            yield f"grad 'tr(A{k}@X)' --wrt X\n"
    st = State(Environment(stdout=out, stderr=io.StringIO(), stdout_isatty=False, stderr_isatty=False))
    failed = cli._run_serial(lines(), ("text", None, None), st, lambda: None)
    assert not failed
    assert seen == [0, 1, 2, 3, 4]
    assert out.getvalue().splitlines() == [f"A{k}.T" for k in range(5)]


def test_batch_reads_lazily_and_keeps_nothing_per_line():
    import gc
    import weakref
    from matcalc import expr as E
    out = io.StringIO()
    st = State(Environment(stdout=out, stderr=io.StringIO(), stdout_isatty=False, stderr_isatty=False))

    def lines(n):
        for k in range(n):
            yield f"grad 'norm(A{k}@X - B{k})**2' --wrt X\n"
    cli._run_serial(lines(50), ("text", None, None), st, lambda: None)
    gc.collect()
    E.sweep()
    after_50 = len(E._interned)
    sizes = []
    for _ in range(6):
        cli._run_serial(lines(50), ("text", None, None), st, lambda: None)
        sizes.append(len(E._interned))
    assert max(sizes) <= after_50 + E.SWEEP_SLACK + 200   # swept as it goes: bounded, whatever the length
    E.sweep()
    assert len(E._interned) <= after_50 + 50      # and nothing of the lines is left


# ---- progress bar -----------------------------------------------------------------
def _terminal_stderr(stdout_isatty=False):
    return State(Environment(stdout_isatty=stdout_isatty, stderr_isatty=True, environ={}))


def test_progress_bar_only_on_stderr_and_never_eats_answers(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_MIN_LINES", 5)
    text = "".join(f"grad 'tr(A{k}@X)' --wrt X\n" for k in range(30)) + "grad '@'\n"

    seen = {}
    real = cli._Progress

    class Spy(real):
        def __init__(self, total, env):
            seen["total"] = total
            super().__init__(total, env)
    monkeypatch.setattr(cli, "_Progress", Spy)
    r = batch_file(tmp_path, text, obj=_terminal_stderr())
    assert seen["total"] == 31
    assert r.stdout.splitlines() == [f"A{k}.T" for k in range(30)]     # nothing captured by rich
    assert "\x1b[" not in r.stdout
    assert "line 31" in r.stderr                                       # errors still shown


def test_no_progress_bar_when_piped_or_short_or_stdout_is_a_terminal(tmp_path, monkeypatch):
    def fail(*a, **k):
        raise AssertionError("no progress bar expected")
    monkeypatch.setattr(cli, "_Progress", fail)
    long_text = "".join(f"grad 'tr(A{k}@X)' --wrt X\n" for k in range(cli.PROGRESS_MIN_LINES + 5))
    assert batch_file(tmp_path, long_text).exit_code == 0                              # stderr not a terminal
    assert batch_file(tmp_path, "grad 'tr(X)'\n", obj=_terminal_stderr()).exit_code == 0   # short
    assert batch(long_text, obj=_terminal_stderr()).exit_code == 0                     # stdin
    assert batch_file(tmp_path, long_text, "-f", "text",
                      obj=_terminal_stderr(stdout_isatty=True)).exit_code == 0         # answers on the terminal
    assert batch_file(tmp_path, long_text, "--no-progress", obj=_terminal_stderr()).exit_code == 0


def test_progress_bar_with_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_MIN_LINES", 5)
    text = "".join(f"grad 'tr(A{k}@X)' --wrt X\n" for k in range(20))
    r = batch_file(tmp_path, text, "-j", "2", obj=_terminal_stderr())
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [f"A{k}.T" for k in range(20)]


# ---- one-liner exit codes through the same group -------------------------------------
def test_usage_error_is_styled_and_exits_2():
    r = CliRunner().invoke(main, ["grad", "tr(X)", "--bogus"])
    assert r.exit_code == 2
    assert r.stderr.startswith("matcalc: error: No such option")


def test_usage_error_with_format_json_is_json():
    r = CliRunner().invoke(main, ["grad", "tr(X)", "-f", "json", "--bogus"])
    assert r.exit_code == 2
    d = json.loads(r.stdout)
    assert d["ok"] is False and d["error"]["kind"] == "usage"


def test_expression_starting_with_minus_hint():
    r = CliRunner().invoke(main, ["grad", "-x.T@x"])
    assert r.exit_code == 2 and "'--'" in r.stderr


def test_version():
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and r.stdout.startswith("matcalc ")


# ---- real processes: what only a process shows ----------------------------------------
MATCALC = [sys.executable, "-m", "matcalc"]


def _env():
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    return env


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_closed_pipe_ends_quietly(tmp_path, jobs):
    big = tmp_path / "big.batch"
    big.write_text(LOSSES.read_text(encoding="utf-8") * 30, encoding="utf-8")
    p = subprocess.Popen(MATCALC + ["batch", str(big), "-j", jobs], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=_env(), cwd=ROOT)
    first = p.stdout.readline()
    p.stdout.close()                      # like `| head -1`
    err = p.stderr.read()
    code = p.wait(timeout=60)
    assert first.strip()
    assert code == 0
    assert err == b""


def test_batch_streams_from_a_pipe_and_ctrl_c_exits_130():
    p = subprocess.Popen(MATCALC + ["batch", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1, env=_env(), cwd=ROOT)
    p.stdin.write("grad 'tr(A@X)' --wrt X\n")
    p.stdin.flush()
    assert p.stdout.readline() == "A.T\n"          # answered while the input is still open
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130
    assert "matcalc: interrupted" in err and "Traceback" not in err


# ---- the cheap path for plain lines agrees with click's parsing -------------------------
PARITY = [
    "grad 'tr(A@X)' --wrt X",
    "grad 'tr(A@X)' -w X -f json",
    "grad --wrt X 'tr(A@X@B)' --format latex",
    "grad 'tr(A@X@B)'",                                   # every symbol
    "grad 'tr(A@X@B)' --wrt X --wrt A",
    "grad --wrt=X 'tr(X)'",
    "grad -fjson 'tr(X)'",
    "grad 'x.T@A@x' -d 'A: symmetric n×n' --wrt x -f text",
    "dir 'M@M.T' --wrt M --along A",
    "dir 'M@M.T' --along A --wrt M -f json --timeout 30",
    "elem 'A@X@X.T@A.T' --wrt X",
    "grad --wrt w -- '-(w.T@w)'",
    "grad 'tr(X)' --timeout -1",
    "grad 'tr(X)' --timeout soon",
    "grad 'tr(X)' --format yaml",
    "grad 'tr(X)' --wrt",
    "grad 'tr(X)' 'tr(Y)'",
    "grad",
    "grad 'tr(X)' --bogus",
    "grad 'tr(X)' --seed 3 --check -f json",
    "grad 'tr(X)' --seed x",
    "grad 'tr(X' --wrt X",
    "grad 'tr(X)' --wrt Y",
    "grad 'tr(X)' --color never --steps",
    "grad 'tr(X)' -h",
    "jac 'A@X@B' --wrt X",
    "hess 'x.T@A@x' --wrt x",
    "check 'tr(A@X)' --wrt X --seed 1",
]


@pytest.mark.parametrize("line", PARITY)
def test_batch_plain_line_parsing_agrees_with_click(line, monkeypatch):
    monkeypatch.setattr(cli, "FAST_LINES", True)
    fast = batch(line + "\n", "-f", "text")
    monkeypatch.setattr(cli, "FAST_LINES", False)
    slow = batch(line + "\n", "-f", "text")
    assert (fast.exit_code, fast.stdout, fast.stderr) == (slow.exit_code, slow.stdout, slow.stderr)


def test_batch_plain_lines_take_the_cheap_path(monkeypatch):
    calls = []
    real = main.main

    def spy(*a, **kw):
        calls.append(a)
        return real(*a, **kw)
    monkeypatch.setattr(main, "main", spy)
    r = batch("grad 'tr(A@X)' --wrt X -f text\ndir 'M@M.T' --wrt M --along A\ngrad --wrt=X 'tr(X)'\n")
    assert r.exit_code == 0
    lines = [a[0] for a in calls if a]   # (the batch itself arrives as keywords from CliRunner)
    assert lines == [["grad", "--wrt=X", "tr(X)"]]   # only this line needed click's parser


def test_no_arguments_shows_the_help():
    r = CliRunner().invoke(main, [])
    assert r.exit_code == 2
    assert "Usage:" in r.stderr and "matcalc: error" not in r.stderr


# ---- issue 7's sizes: long product chains and deep compositions parse ---------------------
def test_issue7_long_product_chain_parses():
    matcalc.grad("tr(" + "@".join(["X"] * 200) + ")", wrt="X")


def test_issue7_deep_composition_parses():
    e = "x"
    for i in range(1, 201):
        e = f"tanh(W{i}@{e})"
    matcalc.parse(f"sum({e})")


def test_batch_windows_file_with_bom_and_crlf(tmp_path):
    f = tmp_path / "win.batch"
    f.write_bytes("\ufeffgrad 'tr(A@X)' --wrt X\r\n# comment\r\ngrad 'x.T@x' --wrt x\r\n".encode("utf-8"))
    r = CliRunner().invoke(main, ["batch", str(f)])
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == ["A.T", "2*x"]


def test_batch_undecodable_bytes_fail_their_line_only(tmp_path):
    f = tmp_path / "bad.batch"
    f.write_bytes(b"grad 'tr(A\xff@X)' --wrt X\ngrad 'tr(A@X)' --wrt X\n")
    r = CliRunner().invoke(main, ["batch", str(f)])
    assert r.exit_code == 1
    assert r.stdout == "A.T\n" and "line 1" in r.stderr


def test_split_line_agrees_with_shlex():
    """batch splits plain lines with a regular expression (faster than shlex): on
    random lines of quotes, comments, escapes and odd whitespace it gives shlex's
    words, or fails where shlex fails."""
    import random
    import shlex

    from matcalc.cli import split_line
    rng = random.Random(7)
    alphabet = "ab-'\"\\#\t\n\r \u00a0\x0b"
    lines = ["grad 'tr(A@X)' --wrt X", "  dir 'alpha*X' --wrt X --along V  ", "grad a''b", "grad 'unclosed"]
    lines += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20000)]
    for line in lines:
        try:
            want = shlex.split(line, comments=True)
        except ValueError:
            with pytest.raises(ValueError):
                split_line(line)
            continue
        assert split_line(line) == want, line


def test_batch_lines_leave_no_cyclic_garbage():
    """Nodes are interned in a table that `expr.sweep` empties of what nothing else
    holds after each derivation; a reference cycle (a recursive closure, say) would
    keep a line's nodes until the cycle collector runs.  Every example line leaves
    none, whatever the command."""
    import gc
    from matcalc import expr as E
    lines = [line for f in sorted((ROOT / "examples").glob("*.batch"))
             for line in f.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    lines += ["jac 'A@X@B' --wrt X", "hess 'x.T@A@x' --wrt x", "grad 'tr(C) where C = A@X'", "elem 'X@X' --index"]
    st = State(Environment(stdout=io.StringIO(), stderr=io.StringIO(), stdout_isatty=False, stderr_isatty=False))
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        cli._run_serial(lines, ("json", None, None), st, lambda: None)
        gc.collect()
        garbage = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert garbage == []
    E.sweep()
    assert len(E._interned) < 100
