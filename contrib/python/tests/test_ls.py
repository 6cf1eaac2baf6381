"""Repo.ls: directories of a version, tracked or not, over cairn_list."""

import pytest

import cairn


def test_the_top_lists_what_cairn_tracks(repo_dir, frames_dir):
    with cairn.Repo(repo_dir) as r:
        assert r.ls(detail=False) == ["data", "model.bin"]
        (data, d), (model, m) = r.ls("")
        assert (data, d.kind, d.files, d.commit) == ("data", "dir", 4, "")
        assert d == r.resolve("data")
        assert (model, m) == ("model.bin", r.resolve("model.bin"))
    with cairn.Repo(frames_dir) as r:
        # README.md is git's only
        assert r.ls("", detail=False) == ["data", "models"]
        assert r.ls(".", "v1", detail=False) == ["data", "models"]


def test_a_tracked_directory_at_two_versions(repo_dir, original):
    with cairn.Repo(repo_dir) as r:
        assert r.ls("data", "v1", detail=False) == ["lines.txt", "link", "sub"]
        assert r.ls("data/", detail=False) == ["lines.txt", "link", "new.txt", "sub"]
        entries = dict(r.ls("data", "v1"))
        assert entries["lines.txt"].size == len(original("v1", "data/lines.txt"))
        assert entries["lines.txt"] == r.resolve("data/lines.txt", "v1")
        assert entries["link"].kind == "link" and entries["link"].size == len("lines.txt")
        sub = entries["sub"]
        assert (sub.kind, sub.size, sub.files) == ("dir", 700000, 1)
        assert len(sub.commit) == 40 and sub.dataset == "data"
        assert r.ls("data/sub", "v1") == [("big", r.resolve("data/sub/big", "v1"))]


def test_a_file_lists_itself(repo_dir):
    with cairn.Repo(repo_dir) as r:
        assert r.ls("data/sub/big") == [("big", r.resolve("data/sub/big"))]
        assert r.ls("model.bin", "v1") == [("model.bin", r.resolve("model.bin", "v1"))]
        assert r.ls("model.bin.cairn", detail=False) == ["model.bin"]


def test_a_directory_that_is_not_tracked_but_holds_tracked_paths(frames_dir):
    with cairn.Repo(frames_dir) as r:
        (deep, d), (top, t) = r.ls("models")
        assert (deep, d.kind, d.size, d.id, d.mode) == ("deep", "dir", 0, "", 0o40000)
        assert (top, t) == ("top.bin", r.resolve("models/top.bin"))
        assert r.ls("models/deep", "v1", detail=False) == ["w.bin"]
        # a plain directory holding a tracked file and tracked directories
        names = [(n, e.kind, bool(e.id)) for n, e in r.ls("data")]
        assert names == [("raw", "dir", True), ("tables", "dir", True), ("x.csv", "file", True)]


@pytest.mark.parametrize("rev,path,text", [
    (None, "nope", "'nope' does not exist or holds nothing cairn tracks"),
    ("nosuch", "", "unknown revision 'nosuch'"),
    (None, "data/zzz", "'data/zzz' does not exist"),
    ("v1", "data/new.txt", "does not exist at v1"),
])
def test_errors_are_the_packages_exceptions(repo_dir, rev, path, text):
    with cairn.Repo(repo_dir) as r:
        with pytest.raises(cairn.NotFound) as e:
            r.ls(path, rev)
        assert text in str(e.value) and e.value.code == -31003
        # the Repo is still usable after
        assert r.ls(detail=False) == ["data", "model.bin"]


def test_an_exception_in_the_callback_stops_the_listing_and_is_raised(repo_dir, monkeypatch):
    calls = []
    real = cairn._entry

    def failing(e):
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("from the callback")
        return real(e)

    with cairn.Repo(repo_dir) as r:
        monkeypatch.setattr(cairn, "_entry", failing)
        with pytest.raises(KeyError, match="from the callback"):
            r.ls("data")
        assert len(calls) == 2  # none after the failing one

        def interrupted(e):
            raise KeyboardInterrupt
        monkeypatch.setattr(cairn, "_entry", interrupted)
        with pytest.raises(KeyboardInterrupt):
            r.ls("")
        monkeypatch.setattr(cairn, "_entry", real)
        assert len(r.ls("data")) == 4


def test_a_closed_repo(repo_dir):
    r = cairn.Repo(repo_dir)
    r.close()
    with pytest.raises(ValueError):
        r.ls("")
