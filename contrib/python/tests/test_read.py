"""Reading versions: whole, at random offsets, by line, from threads."""

import array
import hashlib
import io
import os
import random
import subprocess
import sys
import threading

import pytest

import cairn


def test_the_installed_package_bundles_the_library():
    here = os.path.dirname(cairn.__file__)
    assert os.path.basename(os.path.dirname(here)) == "site-packages"
    assert os.path.isfile(os.path.join(here, "libcairn.so.0"))
    if os.environ.get("CAIRN_LIBRARY"):
        assert cairn._library_path == os.environ["CAIRN_LIBRARY"]
    parts = cairn.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


def _python(cwd, code, **env):
    """python -c code in cwd (a directory without a cairn/ beside it),
    without CAIRN_LIBRARY unless given."""
    full = dict(os.environ)
    full.pop("CAIRN_LIBRARY", None)
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=full,
                          capture_output=True, text=True)


def test_without_cairn_library_the_bundled_copy_is_loaded(tmp_path):
    p = _python(tmp_path, "import cairn; print(cairn._library_path)")
    assert p.returncode == 0, p.stderr
    bundled = os.path.join(os.path.dirname(cairn.__file__), "libcairn.so.0")
    assert p.stdout.strip() == bundled


def test_a_library_that_cannot_be_loaded_is_an_import_error_saying_how_to_build(tmp_path):
    p = _python(tmp_path, "import cairn", CAIRN_LIBRARY="/nonexistent/libcairn.so.0")
    assert p.returncode != 0
    assert "ImportError" in p.stderr
    assert "/nonexistent/libcairn.so.0" in p.stderr
    assert "make libcairn.so.0" in p.stderr


def test_an_old_version_while_the_work_tree_holds_a_new_one(repo_dir, original):
    for path in ("model.bin", "data/lines.txt"):
        old = original("v1", path)
        assert old != original(None, path)
        with cairn.open(path, rev="v1", repo=repo_dir) as f:
            assert f.read() == old
        with cairn.open(path, repo=repo_dir) as f:
            assert f.read() == original(None, path)
    with cairn.Repo(repo_dir) as r, r.open("model.bin", rev="HEAD~2") as f:
        assert f.readall() == original("v1", "model.bin")


def test_a_file_inside_a_tracked_directory(repo_dir, original):
    with cairn.Repo(str(repo_dir)) as r:
        for rev in ("v1", None):
            with r.open("data/sub/big", rev) as f:
                want = original(rev, "data/sub/big")
                assert f.size == len(want) == f.entry.size
                assert f.entry.dataset == "data"
                assert f.read() == want
        with r.open(b"data/link") as f:
            assert f.read() == b"lines.txt"


def test_a_path_object_for_the_file_and_the_repository(repo_dir, original):
    import pathlib
    with cairn.open(pathlib.PurePosixPath("data/sub/big"), "v1", repo=repo_dir) as f:
        assert f.read() == original("v1", "data/sub/big")


def _random_reads(f, want, seed, count):
    rng = random.Random(seed)
    size = len(want)
    for _ in range(count):
        off = rng.randrange(size + 100)
        n = rng.choice((0, 1, rng.randrange(1, 100), rng.randrange(1, 200000)))
        how = rng.randrange(3)
        if how == 0:
            assert f.seek(off) == off
        elif how == 1:
            assert f.seek(off - f.tell(), io.SEEK_CUR) == off
        else:
            assert f.seek(off - size, io.SEEK_END) == off
        assert f.tell() == off
        got = f.read(n)
        assert got == want[off:off + n], "read(%d) at %d" % (n, off)
        assert f.tell() == min(off + n, max(off, size))


@pytest.mark.parametrize("buffering", [0, -1, 4096])
def test_seek_tell_and_reads_at_random_offsets(repo_dir, original, buffering):
    want = original("v1", "data/sub/big")
    with cairn.open("data/sub/big", rev="v1", repo=repo_dir, buffering=buffering) as f:
        assert f.seekable() and f.readable()
        _random_reads(f, want, seed=buffering, count=300)
        # at and past the end
        assert f.seek(0, io.SEEK_END) == len(want)
        assert f.read(10) == b"" and f.read() == b""
        f.seek(len(want) + 1000)
        assert f.read(1) == b"" and f.tell() == len(want) + 1000
        f.seek(-5, io.SEEK_END)
        assert f.read() == want[-5:]
        with pytest.raises(OSError):
            f.seek(-1)
        with pytest.raises(ValueError):
            f.seek(0, 3)
        # and then all of it, in order, in odd sizes
        f.seek(0)
        parts = []
        while True:
            b = f.read(7777)
            if not b:
                break
            parts.append(b)
        assert b"".join(parts) == want


def test_readinto_fills_the_callers_buffer(repo_dir, original):
    want = original(None, "model.bin")
    with cairn.Repo(repo_dir) as r, r.open("model.bin") as f:
        buf = bytearray(1000)
        assert f.readinto(buf) == 1000 and buf == want[:1000]
        view = memoryview(buf)[100:200]
        assert f.readinto(view) == 100 and buf[100:200] == want[1000:1100]
        assert f.readinto(bytearray(0)) == 0
        words = array.array("I", bytes(400))
        assert f.readinto(words) == 400 and words.tobytes() == want[1100:1500]
        f.seek(len(want) - 3)
        assert f.readinto(buf) == 3 and buf[:3] == want[-3:]
        assert f.readinto(buf) == 0


def test_lines_through_the_buffered_reader(repo_dir, original):
    want = original("v1", "data/lines.txt")
    with cairn.open("data/lines.txt", rev="v1", repo=repo_dir) as f:
        assert isinstance(f, io.BufferedReader)
        assert isinstance(f.raw, cairn.File)
        first = f.readline()
        assert first == want.splitlines(keepends=True)[0]
        assert [first] + list(f) == want.splitlines(keepends=True)
    with io.TextIOWrapper(cairn.open("data/lines.txt", repo=repo_dir), "utf-8") as t:
        assert t.read().splitlines() == original(None, "data/lines.txt").decode().splitlines()


def test_four_threads_at_random_offsets_through_their_own_files(repo_dir, original):
    want = original(None, "data/sub/big")
    failures = []
    with cairn.Repo(repo_dir) as r:
        def reader(seed):
            try:
                with r.open("data/sub/big") as f:
                    _random_reads(f, want, seed, 200)
            except BaseException as e:  # reported by the main thread
                failures.append(e)
        threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not failures, failures


def test_resolve(repo_dir, original):
    with cairn.Repo(repo_dir) as r:
        old = r.resolve("model.bin", rev="v1")
        commit = subprocess.run(["git", "rev-parse", "v1^{commit}"], cwd=repo_dir,
                                capture_output=True, text=True, check=True).stdout.strip()
        want = original("v1", "model.bin")
        assert old == cairn.Entry(kind="file", mode=0o100644, size=len(want), files=1,
                                  id=old.id, sha256=hashlib.sha256(want).hexdigest(),
                                  commit=commit, dataset="model.bin")
        assert len(old.id) == 32 and int(old.id, 16) >= 0
        assert len(old.sha256) == 64 and len(old.commit) == 40
        new = r.resolve("model.bin")
        assert new.commit == "" and new.id != old.id and new.size == len(original(None, "model.bin"))
        assert r.resolve("model.bin.cairn") == new
        big = r.resolve("data/sub/big", "v1")
        assert (big.kind, big.dataset, big.size) == ("file", "data", len(original("v1", "data/sub/big")))
        d = r.resolve("data", "v1")
        assert (d.kind, d.mode, d.files) == ("dir", 0o40000, 3)
        assert d.size == sum(len(original("v1", p)) for p in ("data/sub/big", "data/lines.txt")) + len("lines.txt")
        assert len(d.id) == 32 and len(d.sha256) == 64 and d.commit == commit
        assert r.resolve("data/sub").kind == "dir"
        link = r.resolve("data/link")
        assert (link.kind, link.mode, link.size) == ("link", 0o120000, len("lines.txt"))
        with r.open("model.bin", "v1") as f:
            assert f.entry == old and f.size == old.size


def test_closing(repo_dir, original):
    f = cairn.open("model.bin", repo=repo_dir)
    raw = f.raw
    repo = raw._repo
    assert not repo.closed
    f.close()
    assert raw.closed and repo.closed
    with pytest.raises(ValueError):
        raw.read(1)
    with pytest.raises(ValueError):
        raw.seek(0)
    # a Repo closed while a File is open: freed when that File closes
    r = cairn.Repo(repo_dir)
    g = r.open("model.bin")
    r.close()
    assert r.closed
    with pytest.raises(ValueError):
        r.open("model.bin")
    with pytest.raises(ValueError):
        r.resolve("model.bin")
    assert g.read() == original(None, "model.bin")
    g.close()
    assert r._handle is None
    g.close()
    r.close()


def test_mode_is_rb_only(repo_dir):
    for mode in ("r", "wb", "rb+", "br"):
        with pytest.raises(ValueError):
            cairn.open("model.bin", repo=repo_dir, mode=mode)
    with cairn.Repo(repo_dir) as r:
        with pytest.raises(ValueError):
            cairn.open("model.bin", repo=r, remote="")
        with cairn.open("model.bin", repo=r, buffering=0) as f:
            assert isinstance(f, cairn.File)
        assert not r.closed
