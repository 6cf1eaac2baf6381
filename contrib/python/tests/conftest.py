"""Fixtures of the cairn package tests.

The repositories are made by t/t0123-python.sh with the command line and
named by CAIRN_FIXTURES, a directory holding:

  repo/    a work tree at version 2, tag v1 for version 1, every version
           pushed to the directory remote remote/ (its default remote):
           data/ (tracked: sub/big, lines.txt, link -> lines.txt, and
           new.txt only in version 2) and model.bin (tracked)
  v1/      copies of version 1: big, lines.txt, model.bin
  lazy/    a fresh clone of repo: an empty store, reads come from remote/
  empty/   another fresh clone, for what is missing with no remote
  frames/  for cairn.fsspec: data/x.csv (tracked; tag v1 holds rows 1-2,
           the work tree and HEAD rows 1-3), data/raw/ (tracked: y.csv,
           notes/z.txt), data/tables/ (tracked: part-0.parquet ids 0-599,
           part-1.parquet ids 600-999), models/deep/w.bin and
           models/top.bin (tracked files in plain directories), README.md
           (git only); every version pushed to frames-remote/
  frames-lazy/  a fresh clone of frames
"""

import os
import pathlib
import subprocess

import pytest


def _top():
    top = os.environ.get("CAIRN_FIXTURES")
    if not top:
        raise RuntimeError("CAIRN_FIXTURES is not set: run these tests through "
                           "t/t0123-python.sh, which makes the repositories they read")
    return pathlib.Path(top)


@pytest.fixture(scope="session")
def fixtures():
    return _top()


@pytest.fixture(scope="session")
def repo_dir(fixtures):
    return fixtures / "repo"


@pytest.fixture(scope="session")
def frames_dir(fixtures):
    return fixtures / "frames"


@pytest.fixture(scope="session")
def original(fixtures):
    """original(rev, path): the bytes the file had at rev (None: now)."""
    v1 = {"data/sub/big": "big", "data/lines.txt": "lines.txt", "model.bin": "model.bin"}

    def read(rev, path):
        if rev is None:
            return (fixtures / "repo" / path).read_bytes()
        assert rev == "v1"
        return (fixtures / "v1" / v1[path]).read_bytes()
    return read


@pytest.fixture(scope="session")
def cli():
    """cli(cwd, *args): the command line's exit status and stderr."""
    def run(cwd, *args):
        p = subprocess.run(["cairn", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        return p.returncode, os.fsdecode(p.stderr)
    return run
