"""The parser cache.  Building the LALR tables costs ~100 ms; loading them ~10 ms.

Lark's own `cache=True` is not used: it loads a pickle from a predictable name in the
shared temp directory.  Instead the parser is saved with Lark's save/load into the
user's cache directory (`$XDG_CACHE_HOME/matcalc`, else `~/.cache/matcalc`), under a
name keyed by a hash of the grammar, the Lark version and the Python version; written
atomically (temp file + rename); loaded only when the file belongs to this user and
nobody else can write it; rebuilt in memory when anything is off.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

OPTIONS = dict(parser="lalr", start=["start", "declarations"], propagate_positions=True, maybe_placeholders=True)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "matcalc"


def _safe_to_load(path: Path) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    owner_ok = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return owner_ok and not (st.st_mode & 0o022)


def load_parser(grammar_path: Path):
    import lark
    text = grammar_path.read_text(encoding="utf-8")
    if os.environ.get("MATCALC_NO_CACHE"):
        return lark.Lark(text, **OPTIONS)
    key = hashlib.sha256(f"{text}\0{lark.__version__}\0{sys.version_info[:2]}\0{sorted(OPTIONS.items())}"
                         .encode()).hexdigest()[:20]
    path = cache_dir() / f"parser-{key}.lark"
    if _safe_to_load(path):
        try:
            with open(path, "rb") as f:
                return lark.Lark.load(f)
        except Exception:  # a truncated or foreign file: rebuild below
            pass
    parser = lark.Lark(text, **OPTIONS)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".parser-")
        try:
            with os.fdopen(fd, "wb") as f:
                parser.save(f)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # read-only home, full disk: the in-memory parser serves this run
    return parser
