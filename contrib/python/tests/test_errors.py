"""Every error: its class, its code, and the command line's message."""

import os
import shutil
import subprocess

import pytest

import cairn

# (rev, path, class, code, part of the message)
CASES = [
    ("nosuch", "data/lines.txt", cairn.NotFound, -31003, "unknown revision 'nosuch'"),
    (None, "nope", cairn.NotVersioned, -31018, "'nope' is not tracked by cairn"),
    ("v1", "brand-new", cairn.NotVersioned, -31018, "not tracked by cairn at v1"),
    ("v1", "data/new.txt", cairn.NotFound, -31003, "'data/new.txt' does not exist at v1"),
    (None, "data/zzz", cairn.NotFound, -31003, "'data/zzz' does not exist"),
    (None, "data/sub", cairn.IsADirectory, -31019, "'data/sub' is a directory"),
    ("v1", "data", cairn.IsADirectory, -31019, "'data' is a directory"),
]


@pytest.mark.parametrize("rev,path,cls,code,text", CASES,
                         ids=["%s:%s" % (c[0], c[1]) for c in CASES])
def test_error_as_the_command_line_says_it(repo_dir, cli, rev, path, cls, code, text):
    with cairn.Repo(repo_dir) as r:
        with pytest.raises(cls) as e:
            r.open(path, rev)
    assert e.value.code == code and isinstance(e.value, cairn.Error)
    assert text in str(e.value) and e.value.message == str(e.value)
    status, err = cli(repo_dir, "cat", *(["--rev", rev] if rev else []), path)
    assert status == 1
    assert err == "error: %s\n" % e.value
    with pytest.raises(cls) as again:
        cairn.open(path, rev=rev, repo=repo_dir)
    assert str(again.value) == str(e.value)


def test_the_standard_exceptions_catch_them_too(repo_dir):
    with pytest.raises(FileNotFoundError):
        cairn.open("data/zzz", repo=repo_dir)
    with pytest.raises(IsADirectoryError):
        cairn.open("data", repo=repo_dir)
    with cairn.Repo(repo_dir) as r:
        with pytest.raises(cairn.NotFound):
            r.resolve("data/zzz")
        with pytest.raises(cairn.NotVersioned):
            r.resolve("nope", "v1")
        with pytest.raises(cairn.Error) as e:
            r.resolve("../outside")
        assert "outside" in str(e.value)


def test_not_a_repository(tmp_path, cli):
    git = tmp_path / "git-only"
    git.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=git, check=True)
    for where, text in ((tmp_path, "not in a git work tree"),
                        (git, "no .cairn in '%s'" % git)):
        with pytest.raises(cairn.NotARepository) as e:
            cairn.Repo(where)
        assert e.value.code == -31009 and text in str(e.value)
        status, err = cli(where, "cat", "x")
        assert status != 0 and err == "error: %s\n" % e.value
        with pytest.raises(cairn.NotARepository):
            cairn.open("x", repo=str(where))


def test_data_not_in_the_store_and_no_remote(fixtures):
    with cairn.Repo(fixtures / "empty", remote="") as r:
        entry = r.resolve("model.bin")  # the pointer is in git
        assert entry.kind == "file"
        with pytest.raises(cairn.NotFound) as e:
            r.open("model.bin")
    assert "not in the local store (run 'cairn fetch')" in str(e.value)


def test_a_remote_that_does_not_exist(fixtures):
    with pytest.raises(cairn.NotFound) as e:
        cairn.open("model.bin", repo=fixtures / "empty", remote="nosuch")
    assert "no remote named 'nosuch'" in str(e.value)


def _flip_byte_in_the_middle(path):
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0xff]))


def test_a_corrupt_chunk_is_an_error_never_wrong_bytes(repo_dir, original, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(repo_dir, bad, symlinks=True)
    packs = sorted((bad / ".cairn" / "store" / "packs").glob("*.pack"),
                   key=lambda p: p.stat().st_size)
    _flip_byte_in_the_middle(packs[-1])
    corrupt = 0
    with cairn.Repo(bad, remote="") as r:
        for rev in ("v1", None):
            for path in ("data/sub/big", "model.bin", "data/lines.txt"):
                try:
                    with r.open(path, rev) as f:
                        got = f.read()
                except cairn.Corrupt as e:
                    assert e.code == -31004
                    corrupt += 1
                    continue
                assert got == original(rev, path), "wrong bytes of %s at %s" % (path, rev)
    assert corrupt >= 1
