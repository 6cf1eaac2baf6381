"""Lazy reads: a fresh clone reads what its store lacks from the remote."""

import cairn


def test_lazily_from_the_remote_then_kept_in_the_store(fixtures, original):
    lazy = fixtures / "lazy"
    packs = lazy / ".cairn" / "store" / "packs"
    assert not packs.exists() or not list(packs.glob("*.pack"))
    # nothing here yet: with no remote, not found
    with cairn.Repo(lazy, remote="") as r:
        try:
            r.open("data/sub/big", "v1")
        except cairn.NotFound as e:
            assert "not in the local store" in str(e)
        else:
            raise AssertionError("read data the fresh clone does not have")
    # the default remote
    with cairn.Repo(lazy) as r:
        for path in ("data/sub/big", "model.bin"):
            with r.open(path, "v1") as f:
                assert f.read() == original("v1", path)
    # a remote by name, line by line
    with cairn.open("data/lines.txt", "v1", repo=lazy, remote="origin") as f:
        assert list(f) == original("v1", "data/lines.txt").splitlines(keepends=True)
    # kept: local only now
    with cairn.Repo(lazy, remote="") as r:
        for path in ("data/sub/big", "model.bin", "data/lines.txt"):
            with r.open(path, "v1") as f:
                assert f.read() == original("v1", path)
    assert list(packs.glob("*.pack"))
