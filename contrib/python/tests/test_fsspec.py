"""cairn.fsspec: "cairn://" URLs for fsspec, pandas and pyarrow."""

import pickle
import re
import subprocess
import sys

import pytest

fsspec = pytest.importorskip("fsspec")
pandas = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")

import cairn  # noqa: E402
from cairn.fsspec import CairnFileSystem, PinMismatch  # noqa: E402

V1 = b"a,b\n1,one\n2,two\n"
V2 = V1 + b"3,three\n"
FILES = ["data/raw/notes/z.txt", "data/raw/y.csv", "data/tables/part-0.parquet",
         "data/tables/part-1.parquet", "data/x.csv", "models/deep/w.bin", "models/top.bin"]


@pytest.fixture
def fs(frames_dir):
    return CairnFileSystem(repo=str(frames_dir))


def _git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_fsspec_finds_it_by_the_entry_point_and_import_cairn_does_not_need_it(tmp_path):
    assert fsspec.get_filesystem_class("cairn") is CairnFileSystem
    code = ("import sys; sys.modules['fsspec'] = None\n"
            "import cairn\n"
            "try:\n"
            "    import cairn.fsspec\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    assert "pip install 'cairn[fsspec]'" in p.stdout


def test_fsspec_open_reads_an_old_version(frames_dir):
    with fsspec.open("cairn://data/x.csv", repo=str(frames_dir), rev="v1") as f:
        assert f.read() == V1
    with fsspec.open("cairn://data/x.csv", repo=str(frames_dir)) as f:
        assert f.read() == V2
    with fsspec.open("cairn://data/x.csv", "rt", repo=str(frames_dir), rev="v1") as f:
        assert f.readlines() == ["a,b\n", "1,one\n", "2,two\n"]


def test_pandas_reads_the_v1_table_while_the_work_tree_holds_v2(frames_dir):
    assert (frames_dir / "data" / "x.csv").read_bytes() == V2
    df = pandas.read_csv("cairn://data/x.csv",
                         storage_options={"repo": str(frames_dir), "rev": "v1"})
    assert df.to_dict("list") == {"a": [1, 2], "b": ["one", "two"]}
    df = pandas.read_csv("cairn://data/x.csv", storage_options={"repo": str(frames_dir)})
    assert list(df["b"]) == ["one", "two", "three"]


def test_pyarrow_reads_parquet_in_a_tracked_directory(fs, frames_dir):
    table = pq.read_table("data/tables/part-0.parquet", filesystem=fs)
    assert table.column("id").to_pylist() == list(range(600))
    assert table.column("name")[599].as_py() == "row 599"
    # the directory as one dataset, found through ls/find/info
    table = pq.read_table("data/tables", filesystem=fs)
    assert sorted(table.column("id").to_pylist()) == list(range(1000))
    df = pandas.read_parquet("cairn://data/tables/part-1.parquet",
                             storage_options={"repo": str(frames_dir), "rev": "v1"})
    assert list(df["id"]) == list(range(600, 1000))


def test_ls_of_the_top_a_tracked_directory_and_one_that_is_not(fs, frames_dir):
    assert fs.ls("") == fs.ls("cairn://") and fs.ls("", detail=False) == ["data", "models"]
    assert fs.ls("data", detail=False) == ["data/raw", "data/tables", "data/x.csv"]
    assert fs.ls("cairn://data/tables/", detail=False) == [
        "data/tables/part-0.parquet", "data/tables/part-1.parquet"]
    deep, top = fs.ls("models")
    assert (deep["name"], deep["type"], deep["size"], deep["id"]) == (
        "models/deep", "directory", 0, "")
    assert (top["name"], top["type"], top["size"]) == ("models/top.bin", "file", 10)
    assert fs.ls("models/deep", detail=False) == ["models/deep/w.bin"]
    # a file lists itself
    assert fs.ls("data/x.csv") == [fs.info("data/x.csv")]
    assert fs.ls("data/raw/y.csv", detail=False) == ["data/raw/y.csv"]
    x = [i for i in CairnFileSystem(repo=str(frames_dir), rev="v1").ls("data")
         if i["name"] == "data/x.csv"]
    assert x[0]["size"] == len(V1)
    for missing in ("README.md", "nope", "data/raw/nope"):
        with pytest.raises(FileNotFoundError):
            fs.ls(missing)


def test_find_glob_walk_and_du_through_fsspec(fs):
    assert fs.find("") == FILES
    assert fs.find("cairn://models") == ["models/deep/w.bin", "models/top.bin"]
    assert fs.glob("data/**/*.csv") == ["data/raw/y.csv", "data/x.csv"]
    assert fs.glob("**/*.bin") == ["models/deep/w.bin", "models/top.bin"]
    assert fs.glob("cairn://data/*/*.parquet") == FILES[2:4]
    assert fs.glob("models/*") == ["models/deep", "models/top.bin"]
    assert fs.glob("data/x.csv") == ["data/x.csv"] and fs.glob("data/nope") == []
    walked = {top: (sorted(dirs), sorted(files)) for top, dirs, files in fs.walk("")}
    assert walked[""] == (["data", "models"], [])
    assert walked["data/raw"] == (["notes"], ["y.csv"])
    assert fs.du("data/tables") == sum(fs.size(p) for p in FILES[2:4])
    assert fs.find("", withdirs=True, detail=False)[:3] == ["data", "data/raw",
                                                            "data/raw/notes"]


def test_info(fs, frames_dir):
    x = fs.info("cairn://data/x.csv")
    entry = fs.repo.resolve("data/x.csv")
    assert x["name"] == "data/x.csv" and x["type"] == "file" and x["size"] == len(V2)
    assert (x["kind"], x["id"], x["sha256"], x["dataset"]) == (
        "file", entry.id, entry.sha256, "data/x.csv")
    assert re.fullmatch("[0-9a-f]{32}", x["id"]) and re.fullmatch("[0-9a-f]{64}", x["sha256"])
    t = fs.info("data/tables")
    assert (t["type"], t["kind"], t["files"], t["size"]) == ("directory", "dir", 2, 0)
    assert t["id"] == fs.repo.resolve("data/tables").id
    m = fs.info("models")
    assert (m["type"], m["id"], m["kind"]) == ("directory", "", "dir")
    assert fs.info("")["type"] == "directory"
    assert fs.info("data/raw/notes/z.txt")["dataset"] == "data/raw"
    assert fs.isdir("data") and fs.isdir("data/raw/notes") and not fs.isdir("data/x.csv")
    assert fs.isfile("data/x.csv") and fs.exists("models/deep")
    for missing in ("README.md", "nope", "data/tables/nope"):
        assert not fs.exists(missing)
        with pytest.raises(FileNotFoundError):
            fs.info(missing)
    old = CairnFileSystem(repo=str(frames_dir), rev="v1")
    assert old.info("data/x.csv")["commit"] == _git(frames_dir, "rev-parse", "v1")
    assert fs.ukey("data/x.csv") == x["id"] != old.ukey("data/x.csv")
    assert fs.checksum("data/x.csv") == int(x["id"], 16)


def test_open_seek_and_cat_file(fs, frames_dir):
    want = (frames_dir / "data/tables/part-0.parquet").read_bytes()
    with fs.open("data/tables/part-0.parquet") as f:
        assert f.size == len(want) and f.entry.kind == "file"
        f.seek(-8, 2)
        assert f.read() == want[-8:] and f.tell() == len(want)
        f.seek(100)
        assert f.read(50) == want[100:150]
    assert fs.cat_file("data/tables/part-0.parquet", 0, 4) == b"PAR1"
    assert fs.cat_file("data/tables/part-0.parquet", -4) == b"PAR1"
    assert fs.cat_file("data/tables/part-0.parquet", 10, -10) == want[10:-10]
    assert fs.cat_file("data/tables/part-0.parquet", len(want) + 5) == b""
    assert fs.cat("data/x.csv") == V2
    assert fs.cat_file("data/x.csv", 4) == V2[4:]
    with pytest.raises(IsADirectoryError):
        fs.open("data/tables")
    with pytest.raises(IsADirectoryError):
        fs.open("models")
    with pytest.raises(FileNotFoundError):
        fs.open("README.md")
    # pickled, as dask and multiprocessing do
    again = pickle.loads(pickle.dumps(CairnFileSystem(repo=str(frames_dir), rev="v1")))
    assert again.cat("data/x.csv") == V1


def test_a_pinned_url_reads_the_content_it_names(frames_dir):
    repo = str(frames_dir)
    old = CairnFileSystem(repo=repo, rev="v1")
    url = old.pinned("data/x.csv")
    commit = _git(frames_dir, "rev-parse", "v1")
    v1_id = old.info("data/x.csv")["id"]
    assert url == "cairn://data/x.csv?rev=%s&id=%s" % (commit, v1_id)
    # the pin wins over the filesystem's rev
    with fsspec.open(url, repo=repo) as f:
        assert f.read() == V1
    df = pandas.read_csv(url, storage_options={"repo": repo, "rev": "HEAD"})
    assert list(df["a"]) == [1, 2]
    fs = CairnFileSystem(repo=repo)
    assert fs.cat(url) == V1 and fs.info(url)["id"] == v1_id
    assert fs.glob(url) == [url[len("cairn://"):]] and fs.exists(url)
    # the work tree is at HEAD: pinned to HEAD's commit
    assert fs.pinned("data/x.csv") == "cairn://data/x.csv?rev=%s&id=%s" % (
        _git(frames_dir, "rev-parse", "HEAD"), fs.info("data/x.csv")["id"])
    with pytest.raises(IsADirectoryError):
        fs.pinned("data/tables")


def test_a_pinned_id_that_does_not_match_is_an_error(frames_dir):
    repo = str(frames_dir)
    fs = CairnFileSystem(repo=repo)
    v2_id = fs.info("data/x.csv")["id"]
    url = "cairn://data/x.csv?rev=v1&id=%s" % v2_id
    with pytest.raises(PinMismatch) as e:
        with fsspec.open(url, repo=repo) as f:
            f.read()
    assert "'data/x.csv' holds content" in str(e.value) and v2_id in str(e.value)
    with pytest.raises(PinMismatch):
        pandas.read_csv(url, storage_options={"repo": repo})
    for call in (fs.cat, fs.info, fs.glob):
        with pytest.raises(PinMismatch):
            call(url)
    assert isinstance(e.value, OSError) and e.value.path == "data/x.csv"
    with pytest.raises(ValueError, match="32 hex digits"):
        fs.info("data/x.csv?id=nothex")


def test_a_version_only_in_the_work_tree_pins_its_id(frames_dir, tmp_path, cli):
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(frames_dir), str(clone))
    (clone / "data/x.csv").write_bytes(V2 + b"4,four\n")
    assert cli(clone, "add", "-q", "data/x.csv") == (0, "")
    fs = CairnFileSystem(repo=str(clone), remote="")
    url = fs.pinned("data/x.csv")
    assert re.fullmatch(r"cairn://data/x\.csv\?id=[0-9a-f]{32}", url)
    assert fs.cat(url) == V2 + b"4,four\n"
    (clone / "data/x.csv").write_bytes(b"changed\n")
    assert cli(clone, "add", "-q", "data/x.csv") == (0, "")
    with pytest.raises(PinMismatch):
        fs.cat(url)


def test_writing_is_refused(fs, frames_dir):
    for mode in ("wb", "ab", "w", "xb", "r+b"):
        with pytest.raises(PermissionError, match="read-only"):
            fs.open("data/x.csv", mode)
    with pytest.raises(PermissionError, match="read-only"):
        with fsspec.open("cairn://data/new.csv", "w", repo=str(frames_dir)) as f:
            f.write("x")
    for call, args in ((fs.pipe_file, ("data/x.csv", b"x")), (fs.rm, ("data/x.csv",)),
                       (fs.mkdir, ("data/new",)), (fs.makedirs, ("data/new",)),
                       (fs.touch, ("data/t",)), (fs.mv, ("data/x.csv", "data/y.csv")),
                       (fs.copy, ("data/x.csv", "data/y.csv"))):
        with pytest.raises(PermissionError):
            call(*args)
    assert (frames_dir / "data/x.csv").read_bytes() == V2
    assert not (frames_dir / "data/new.csv").exists()


def test_lazily_in_a_fresh_clone_with_an_empty_store(fixtures):
    lazy = str(fixtures / "frames-lazy")
    packs = fixtures / "frames-lazy" / ".cairn" / "store" / "packs"
    assert not packs.exists() or not list(packs.glob("*.pack"))
    local = CairnFileSystem(repo=lazy, remote="", skip_instance_cache=True)
    with pytest.raises(cairn.NotFound):
        local.cat("data/x.csv")
    fs = CairnFileSystem(repo=lazy)
    assert fs.ls("data/tables", detail=False) == FILES[2:4]
    assert sorted(pq.read_table("data/tables", filesystem=fs).column("id").to_pylist()) == \
        list(range(1000))
    df = pandas.read_csv("cairn://data/x.csv", storage_options={"repo": lazy, "rev": "v1"})
    assert len(df) == 2
    # kept in the store: local reads only now
    local = CairnFileSystem(repo=lazy, remote="", skip_instance_cache=True)
    assert local.cat("data/x.csv?rev=v1") == V1
    assert local.cat_file("data/tables/part-1.parquet", -4) == b"PAR1"
