"""The parser cache.  Building the LALR tables costs ~100 ms; loading them ~5 ms.

Lark's own `cache=True` is not used: it loads a pickle from a predictable name in the
shared temp directory, and silently rebuilds when that directory is not writable.
Instead the parser is saved with Lark's own `save`/`load` (a pickle) into the user's
cache directory — `$MATCALC_CACHE_DIR`, else `$XDG_CACHE_HOME/matcalc`, else
`~/.cache/matcalc` — and:

- the file name is keyed by a hash of the grammar text, the Lark version, the Python
  version and the parser options, so a changed grammar or an upgraded Lark never
  loads a stale parser;
- it is written atomically (a private temp file in the same directory, then
  `os.replace`), so a concurrent run sees the old file or the new one, never half;
- it is loaded only when the *opened* file (fstat of the descriptor, not the name:
  no window between check and use; symlinks are not followed) is a regular file that
  belongs to this user and that neither group nor others can write — a pickle runs
  code when loaded, so a file someone else could have written is never loaded;
- anything off (unreadable, foreign, corrupt, truncated) means a rebuild in memory,
  and a fresh file when the directory is writable; a read-only home or a full disk
  only costs the rebuild (`MATCALC_NO_CACHE=1` forces that).
"""
import os
import sys

OPTIONS = dict(parser="lalr", start=["start", "declarations"], maybe_placeholders=True)
FORMAT = 1   # bump when the way the parser is saved changes


def cache_dir() -> str:
    explicit = os.environ.get("MATCALC_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "matcalc")


def options(positions: bool) -> dict:
    """Lark's options; `positions` keeps source positions on the tree (for carets)."""
    return dict(OPTIONS, propagate_positions=positions)


def cache_key(grammar_text: str, lark_version: str, positions: bool = True) -> str:
    import hashlib   # already loaded by lark, so free here
    material = "\0".join([grammar_text, lark_version, "%d.%d" % sys.version_info[:2],
                          repr(sorted(options(positions).items())), str(FORMAT)])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]


def cache_path(grammar_text: str, lark_version: str, positions: bool = True) -> str:
    return os.path.join(cache_dir(), f"parser-{cache_key(grammar_text, lark_version, positions)}.lark")


def trusted(st) -> bool:
    """A stat result we may load: a regular file of ours that only we can write."""
    import stat
    if not stat.S_ISREG(st.st_mode):
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    if os.name == "posix" and st.st_mode & 0o022:
        return False
    return True


def _load(path: str, lark):
    """The saved parser at `path`, or None when it is missing, untrusted or broken."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            if not trusted(os.fstat(fd)):
                return None
            return lark.Lark.load(f)
        except Exception:  # truncated, corrupt or from an incompatible Lark: rebuild
            return None


def _save(parser, path: str) -> bool:
    """Write atomically; False (and nothing left behind) when it cannot be written."""
    import tempfile
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".parser-", suffix=".tmp")  # mode 0600
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            parser.save(f)
        os.replace(tmp, path)
        return True
    except Exception:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def load_parser(grammar_path, positions: bool = True):
    """The LALR parser for the grammar at `grammar_path`: loaded from the cache when
    a trusted copy exists, otherwise built (and saved when possible).  Two variants,
    each its own file: with source positions (for errors) and without (faster)."""
    import lark
    with open(grammar_path, encoding="utf-8") as f:
        text = f.read()
    if os.environ.get("MATCALC_NO_CACHE"):
        return lark.Lark(text, **options(positions))
    path = cache_path(text, lark.__version__, positions)
    parser = _load(path, lark)
    if parser is None:
        parser = lark.Lark(text, **options(positions))
        _save(parser, path)
    return parser
