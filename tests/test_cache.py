"""The parser cache (matcalc/cache.py, issue 7): Lark's own save/load into the user's
cache directory, atomic, keyed by grammar + Lark version, never loaded when someone
else could have written it, rebuilt in memory when it cannot be written."""
import os
import stat

import lark
import pytest

from matcalc import cache
from matcalc.parse import GRAMMAR

EXPR = "norm(A@X - B)**2 + tr(X.T@X) where A: n×m"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache" / "matcalc"
    monkeypatch.setenv("MATCALC_CACHE_DIR", str(d))
    monkeypatch.delenv("MATCALC_NO_CACHE", raising=False)
    return d


@pytest.fixture
def builds(monkeypatch):
    """Counts parsers built from the grammar (a load from the cache builds none)."""
    count = []
    real = lark.Lark.__init__

    def init(self, *a, **kw):
        count.append(1)
        real(self, *a, **kw)
    monkeypatch.setattr(lark.Lark, "__init__", init)
    return count


def _files(d):
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_cache_written_then_loaded(cache_dir, builds):
    p1 = cache.load_parser(GRAMMAR)
    assert len(builds) == 1
    (name,) = _files(cache_dir)
    assert name.startswith("parser-") and name.endswith(".lark")
    p2 = cache.load_parser(GRAMMAR)
    assert len(builds) == 1                      # the second came from the file
    assert p1.parse(EXPR, start="start") == p2.parse(EXPR, start="start")


def test_cache_file_and_directory_are_private(cache_dir, builds):
    cache.load_parser(GRAMMAR)
    (name,) = _files(cache_dir)
    assert stat.S_IMODE(os.stat(cache_dir / name).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) & 0o077 == 0


def test_cache_key_follows_grammar_and_lark_version():
    with open(GRAMMAR, encoding="utf-8") as f:
        text = f.read()
    key = cache.cache_key(text, lark.__version__)
    assert cache.cache_key(text, lark.__version__) == key
    assert cache.cache_key(text + "\n// changed", lark.__version__) != key
    assert cache.cache_key(text, "0.0.1") != key


def test_cache_dir_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("MATCALC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == os.path.join(str(tmp_path), "matcalc")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == os.path.join(str(tmp_path / "home"), ".cache", "matcalc")


def test_cache_not_in_the_shared_temp_directory(monkeypatch):
    monkeypatch.delenv("MATCALC_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    import tempfile
    assert not cache.cache_dir().startswith(tempfile.gettempdir() + os.sep) or \
        os.path.expanduser("~").startswith(tempfile.gettempdir())


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_cache_not_loaded_when_group_or_world_writable(cache_dir, builds, mode):
    cache.load_parser(GRAMMAR)
    (name,) = _files(cache_dir)
    os.chmod(cache_dir / name, mode)
    cache.load_parser(GRAMMAR)
    assert len(builds) == 2                      # rebuilt, not loaded
    assert stat.S_IMODE(os.stat(cache_dir / name).st_mode) == 0o600   # and replaced by a private one


def test_cache_not_loaded_when_owned_by_another_user(cache_dir, builds, monkeypatch):
    cache.load_parser(GRAMMAR)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(cache_dir).st_uid + 1)
    cache.load_parser(GRAMMAR)
    assert len(builds) == 2


def test_cache_symlink_is_not_followed(cache_dir, builds, tmp_path):
    cache.load_parser(GRAMMAR)
    (name,) = _files(cache_dir)
    target = tmp_path / "elsewhere.lark"
    os.replace(cache_dir / name, target)
    os.symlink(target, cache_dir / name)
    cache.load_parser(GRAMMAR)
    assert len(builds) == 2


@pytest.mark.parametrize("content", [b"", b"garbage", None])
def test_cache_corrupt_or_truncated_file_is_rebuilt_and_replaced(cache_dir, builds, content):
    cache.load_parser(GRAMMAR)
    (name,) = _files(cache_dir)
    path = cache_dir / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if content is None else content)
    parser = cache.load_parser(GRAMMAR)
    assert len(builds) == 2
    assert parser.parse(EXPR, start="start") is not None
    assert path.read_bytes() == data or len(path.read_bytes()) > 1000   # a whole parser again
    assert len(cache.load_parser(GRAMMAR).parse(EXPR, start="start").children) >= 1
    assert len(builds) == 2


def test_cache_unwritable_directory_builds_in_memory(tmp_path, monkeypatch, builds):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("MATCALC_CACHE_DIR", str(blocker / "matcalc"))
    parser = cache.load_parser(GRAMMAR)
    assert parser.parse(EXPR, start="start") is not None
    assert len(builds) == 1
    assert blocker.read_text() == "not a directory"


def test_cache_failed_write_leaves_nothing_behind(cache_dir, builds, monkeypatch):
    def broken_save(self, f, *a, **kw):
        f.write(b"partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(lark.Lark, "save", broken_save)
    parser = cache.load_parser(GRAMMAR)
    assert parser.parse(EXPR, start="start") is not None
    assert _files(cache_dir) == []               # no temp file, no half-written parser


def test_cache_write_is_atomic_rename(cache_dir, monkeypatch):
    """The final name only ever appears through os.replace of a complete temp file."""
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((os.path.basename(str(src)), os.path.getsize(src)))
        return real(src, dst)
    monkeypatch.setattr(os, "replace", spy)
    cache.load_parser(GRAMMAR)
    ((tmp_name, size),) = seen
    assert tmp_name.startswith(".parser-") and size > 1000


def test_cache_disabled_by_environment(cache_dir, builds, monkeypatch):
    monkeypatch.setenv("MATCALC_NO_CACHE", "1")
    cache.load_parser(GRAMMAR)
    cache.load_parser(GRAMMAR)
    assert len(builds) == 2 and _files(cache_dir) == []


def test_lark_builtin_cache_is_not_used():
    assert "cache" not in cache.OPTIONS


def test_cache_two_variants_with_and_without_positions(cache_dir, builds):
    """The fast parser (no source positions) and the one errors use are separate
    files, both loaded from the cache the second time, and parse to the same tree."""
    with_pos = cache.load_parser(GRAMMAR, positions=True)
    fast = cache.load_parser(GRAMMAR, positions=False)
    assert len(builds) == 2 and len(_files(cache_dir)) == 2
    cache.load_parser(GRAMMAR, positions=False)
    assert len(builds) == 2
    t1, t2 = with_pos.parse(EXPR, start="start"), fast.parse(EXPR, start="start")
    assert t1 == t2
    assert t1.meta.start_pos == 0 and not hasattr(t2.meta, "start_pos")
