"""Cold start (issue 7): a one-liner imports only what it needs — no NumPy, SymPy or
rich for text/json/latex output — and loads the saved parser instead of rebuilding it.
What is imported is read from `python -X importtime` in a real process; this is not a
timing test (speed is measured by benchmarks/bench.py)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPR = "tr((M@M.T - I)@(M@M.T - I).T)"
HEAVY = ("numpy", "sympy", "rich")


def imported(args, tmp_path) -> tuple:
    """(modules imported, stdout) of `python -X importtime -m matcalc ARGS`."""
    env = dict(os.environ, MATCALC_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("FORCE_COLOR", None)
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "matcalc", *args], capture_output=True,
                       text=True, env=env, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    mods = set()
    for line in p.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            mods.add(line.rsplit("|", 1)[1].strip())
    assert "matcalc.api" in mods            # the hook really saw the imports
    return mods, p.stdout


def heavy(mods) -> set:
    return {m for m in mods if m.split(".")[0] in HEAVY}


@pytest.mark.parametrize("fmt", ["text", "json", "latex"])
def test_startup_oneliner_imports_no_numpy_sympy_rich(fmt, tmp_path):
    mods, out = imported(["grad", EXPR, "--wrt", "M", "--format", fmt], tmp_path)
    assert out.strip()
    assert heavy(mods) == set()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_startup_plain_oneliner_does_not_import_click(fmt, tmp_path):
    """A plain one-liner is answered by matcalc/console.py: click and the command
    tree are imported only for the rest (flags, errors, pretty output, batch)."""
    mods, out = imported(["grad", EXPR, "--wrt", "M", "--format", fmt], tmp_path)
    assert out.strip()
    assert "click" not in mods and "matcalc.cli" not in mods
    mods, _ = imported(["grad", EXPR, "--wrt", "M", "--format", fmt, "--steps"], tmp_path)
    assert "click" in mods                  # a flag: the click CLI


def test_startup_batch_text_imports_no_numpy_sympy_rich(tmp_path):
    f = tmp_path / "few.batch"
    f.write_text("grad 'tr(A@X)' --wrt X\ndir 'M@M.T' --wrt M\n", encoding="utf-8")
    mods, out = imported(["batch", str(f), "-f", "json"], tmp_path)
    assert out.count("\n") == 2
    assert heavy(mods) == set()


def test_startup_detector_sees_rich_and_numpy_when_needed(tmp_path):
    mods, _ = imported(["grad", EXPR, "--wrt", "M", "--format", "pretty"], tmp_path)
    assert "rich" in {m.split(".")[0] for m in mods}
    mods, _ = imported(["grad", EXPR, "--wrt", "M", "--format", "text", "--check"], tmp_path)
    assert "numpy" in {m.split(".")[0] for m in mods}


def test_startup_loads_the_saved_parser(tmp_path):
    imported(["grad", "tr(X)", "--format", "text"], tmp_path)
    (saved,) = (tmp_path / "cache").iterdir()
    before = saved.stat()
    mods, out = imported(["grad", "tr(X)", "--format", "text"], tmp_path)
    after = saved.stat()
    assert out == "I\n"
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)   # not rewritten
