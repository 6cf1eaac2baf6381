#!/usr/bin/env python3
"""team-sim.py: a team of three clones against a model of what every ref holds.

Three clones (A, B, C) of one bare git origin share one cairn remote (a
directory, an SSH URL or an S3 bucket). A seeded random sequence of
operations runs in them, one at a time: edits of the tracked data and
`cairn add`, "publish" (add, commit, git push, cairn push), git commit, branch, switch, merge, push (also forced), pull,
fetch (with and without --prune), tag, branch deletion (local and on the
origin), cairn push (also --all-commits), pull, fetch, checkout, gc, gc -r
with a grace of 0 or 1 second, and kill -9 in the middle of any cairn
command. Beside them runs a model that says which bytes every pointer
version must give and which of them the remote, and each clone's store,
must hold. After the sequence (and at checkpoints, with --check-every),
the invariants below are checked; on a failure the seed, the operations
and the command to replay them are printed.

The model
---------

Tracked data: four datasets created on main at the start, two directories
(`data`, `raw`: small single-chunk files and ~1 MiB multi-chunk files, in a
subdirectory too) and two single files (`model.bin`, ~1 MiB, and
`labels.csv`, small). Edits add, rewrite and delete small files, and edit
big files in part (overwrite a range, insert, append, cut the tail) so that
most of their chunks are shared with the previous version. The set of
datasets never changes, so that .gitignore never conflicts.

Rule 1 (versions). A pointer version is named by the git blob of a pointer
file. When `cairn add D` completes, or is killed after it wrote a new
pointer, the blob of D.cairn now names the bytes the work tree held when
add started: the model records blob -> {path: sha256}. A blob is never
allowed to name two different contents. Merges resolve a conflicting
pointer by taking one side (chosen by the seed). With --merge driver (the
default; CAIRN_TEST_SIM_MERGE=side turns it off) the clones merge pointer
files with cairn merge-driver, set up as cairn install does (without the
hooks), after fetching the trees of both sides and of the merge base: a
pointer blob the driver wrote names the three-way merge of the versions
(per file: the side that changed it, or both when they agree); the model
fails when the driver merges what it sees as a conflict. Every other
pointer blob on every ref is one that an add made; any other blob is a
model error. A merged blob is in LOCAL when both sides were.

Rule 2 (what the remote must hold). The set PUSHED holds the blobs whose
data the remote must have:
  - a `cairn push` that exits 0 adds the blobs of the pointer files in its
    work tree; `cairn push --all-commits` adds those of every commit of
    every local ref too;
  - a killed or failed push adds nothing (the remote may or may not have
    the data: it is not required);
  - `gc -r` (whether it completed, failed or was killed) may remove all
    that is not reachable from the refs of the git origin (as they were
    when it started), nor from the refs, index and work tree of the clone
    running it: PUSHED keeps only those blobs. This is the rule a correct
    gc -r follows (issue 18, items 1-3): it must never remove what a ref
    of the origin needs, whatever this clone fetched; with a grace of 0 or
    1 second it may remove everything else.
So the data of a commit is required when its git push succeeded, a cairn
push that contained its pointers completed, and no gc -r ran since while
the commit was on no ref of the origin.

Rule 3 (what each clone's store must hold). The set LOCAL[c] holds the
blobs whose data clone c's store must have: a completed add adds the new
blob; a `cairn fetch` or `pull` that exits 0 adds the blobs of the work
tree's pointer files; a local `cairn gc` (completed or killed) keeps only
the blobs reachable from the clone's refs (branches, tags, remote-tracking
branches), its index and its work tree.

Rule 4 (the work tree). The model knows the bytes of each dataset in each
work tree, or that it does not know them. git commands never touch the
data (it is git-ignored). `cairn checkout` or `pull` that exits 0 must
leave every dataset exactly as its pointer says (checked at once, every
byte); one that fails or is killed must leave each file either as it was
or as the pointer says (never a wrong byte); the model then forgets the
work tree. An edit of a dataset the model does not know first runs
`cairn checkout -f` on it, or starts it anew when that fails.

Checks:
  - at once: add and local gc exit 0 (unless killed); push exits 0 when
    every work-tree pointer is in LOCAL or PUSHED; fetch and pull -f exit 0
    when every one is in LOCAL or PUSHED; checkout -f when every one is in
    LOCAL; no cairn command crashes (a signal we did not send, exit >= 128
    or exit 3); cairn's exit codes and work trees as in rule 4;
  - after the sequence: for every branch and tag of the origin, a fresh
    clone checks it out and `cairn pull`s the pointers in PUSHED: every
    file byte for byte as the model says, no file more or less; the other
    pointers may fail to pull but never give a wrong byte; the same for a
    sample of older commits of those refs (--history); `cairn fsck -r
    --read-data` of the remote and `cairn fsck` of every clone report no
    problem; in every clone, `cairn checkout --rev` of commits of its
    history restores from the local store alone, byte for byte, every
    version in LOCAL (up to 12 checkouts); and in every clone whose
    history names only blobs in LOCAL or PUSHED, `cairn push
    --all-commits` succeeds (nothing it committed was lost from its
    store).

Kill timing depends on the machine: a replay runs the same operations
with the same delays, but a command may finish before its kill on one run
and not on another. Operations that hit known bugs are off by default
(see KNOWN_BUG_OPS); CAIRN_TEST_SIM_OPS turns them on.

Usage: team-sim.py --seed N [--remote dir|ssh|s3] [--steps N] [--ops LIST]
       [--dir DIR] [--history N] [--check-every N] [--replay LOG]
       [--minimize] [--keep]
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

# Operations and their weights in a random sequence.
OP_WEIGHTS = {
    "edit": 3,          # change a dataset in the work tree, no add
    "add": 10,          # change a dataset, then cairn add it
    "publish": 4,       # add, commit, git push, cairn push: all of it
    "commit": 7,
    "branch": 2,        # git checkout -b NEW
    "switch": 3,        # git checkout BRANCH (local or from the origin)
    "merge": 3,         # git merge BRANCH (pointer conflicts: one side)
    "gpush": 6,         # git push origin BRANCH
    "gpush-force": 1,   # git push -f origin BRANCH
    "gpull": 3,         # git pull --no-rebase origin BRANCH
    "gfetch": 3,        # git fetch origin [--prune]
    "tag": 1,           # git tag + git push origin TAG
    "delbranch": 2,     # git branch -D, and maybe git push --delete
    "cpush": 6,         # cairn push [--all-commits]
    "cpull": 4,         # cairn pull [-f]
    "cfetch": 2,        # cairn fetch
    "ccheckout": 2,     # cairn checkout [-f]
    "gc": 2,            # cairn gc
    "gc-remote": 3,     # git fetch --prune, cairn gc -r --grace 0|1
    "gc-remote-stale": 3,  # cairn gc -r --grace 0|1 without git fetch
    "ptr-copy": 2,      # commit a copy of a pointer under a non-.cairn name
}
# Not operations: switches that change how the others run.
MODIFIERS = ("kill",)

# Operations that hit known bugs not fixed yet: off by default, named
# with the issue that tracks them. Turn them on with
# CAIRN_TEST_SIM_OPS=default,OP,... to reproduce. None today.
KNOWN_BUG_OPS = {
}
DEFAULT_OPS = [o for o in OP_WEIGHTS if o not in KNOWN_BUG_OPS] + ["kill"]
KILLABLE = ("add", "publish", "cpush", "cpull", "cfetch", "ccheckout", "gc",
            "gc-remote", "gc-remote-stale")

DATASETS = (("data", "dir"), ("raw", "dir"), ("model.bin", "file"),
            ("labels.csv", "file"))
CLONES = ("A", "B", "C")
BRANCHES = ("main", "b1", "b2", "b3")
BIG = 1 << 20
CMD_TIMEOUT = 300


class Fail(Exception):
    """An invariant does not hold: a bug in cairn (or in the model)."""


def sha(b):
    return hashlib.sha256(b).hexdigest()


def git_blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def freeze(content):
    return tuple(sorted(content.items()))


class Clone:
    def __init__(self, name, path):
        self.name = name
        self.path = path
        # dataset -> {relpath: sha256} (relpath "" for a single file);
        # None when the model does not know the work tree
        self.wt = {}
        # dataset -> {relpath: set of sha256} a file may hold while the
        # work tree is unknown (what it held, what pointers said since)
        self.poss = {}
        self.local = set()      # rule 3


class Sim:
    runs = 0
    def __init__(self, args, seed, root):
        self.args = args
        self.seed = seed
        self.root = root
        self.rng = random.Random(seed)
        self.blobs = {}         # sha256 -> bytes (every content ever written)
        self.ptr = {}           # pointer blob -> frozen content (rule 1)
        self.pushed = set()     # rule 2
        self.log = []           # what ran: operations, commands, exit codes
        self.ops_done = []      # the operations, as replayable dicts
        self.stats = {"ops": 0, "kills": 0, "killed": 0, "cmds": 0, "verified": 0,
                      "merged": 0}
        self.tree_cache = {}
        self.clones = {}
        self.remote_kind = args.remote
        self.origin = os.path.join(root, "origin.git")

    # ------------------------------------------------------------------
    # running commands

    def note(self, msg):
        self.log.append(msg)

    def run(self, cmd, cwd, ok=False, kill=None, quiet=False):
        """Run cmd (a list). With kill=DELAY, kill -9 it after DELAY s if
        it still runs. Returns (status, output); status is None when we
        killed it. With ok, a non-zero status is a failure."""
        self.stats["cmds"] += 1
        where = os.path.relpath(cwd, self.root)
        out_path = os.path.join(self.root, "cmd.out")
        with open(out_path, "wb") as out:
            p = subprocess.Popen(cmd, cwd=cwd, stdout=out,
                                 stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
            killed = False
            try:
                if kill is not None:
                    try:
                        p.wait(timeout=kill)
                    except subprocess.TimeoutExpired:
                        p.send_signal(signal.SIGKILL)
                        killed = True
                rc = p.wait(timeout=CMD_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise Fail("timeout: %s (in %s) ran over %d s"
                           % (" ".join(cmd), where, CMD_TIMEOUT))
        with open(out_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        status = None if killed else rc
        shown = "killed" if killed else "exit %d" % rc
        if kill is not None:
            self.stats["kills"] += 1
            if killed:
                self.stats["killed"] += 1
        if not quiet or rc != 0 or killed:
            self.note("    [%s] $ %s -> %s%s" % (
                where, " ".join(cmd), shown,
                "".join("\n        | " + l for l in text.rstrip().split("\n")[:12])
                if text.strip() else ""))
        if ok and status != 0:
            raise Fail("command failed: %s (in %s): %s\n%s"
                       % (" ".join(cmd), where, shown, text))
        return status, text

    def cairn(self, c, args, kill=None, ok=False):
        status, text = self.run(["cairn"] + args, c.path, kill=kill, ok=ok)
        lock = os.path.join(c.path, ".gitignore.lock")
        if status is None and os.path.lexists(lock):
            # a killed add leaves its lock, which blocks the next add for
            # a minute: remove it, as the error message says to
            os.remove(lock)
            self.note("    (removed the .gitignore.lock the killed command left)")
        if status is not None and (status >= 128 or status < 0 or status == 3):
            raise Fail("cairn %s crashed or died: exit %d\n%s"
                       % (" ".join(args), status, text))
        if status not in (None, 0) and "error" not in text and "fatal" not in text:
            raise Fail("cairn %s failed (exit %d) without an error message\n%s"
                       % (" ".join(args), status, text))
        return status, text

    def git(self, c, args, ok=False):
        path = c.path if isinstance(c, Clone) else c
        return self.run(["git"] + args, path, ok=ok, quiet=True)

    # ------------------------------------------------------------------
    # contents

    def put(self, data):
        h = sha(data)
        self.blobs[h] = data
        return h

    def write_content(self, c, ds, kind, content):
        """Make dataset ds of clone c hold exactly content."""
        top = os.path.join(c.path, ds)
        if kind == "dir":
            if os.path.isdir(top):
                shutil.rmtree(top)
            elif os.path.lexists(top):
                os.remove(top)
            for rel, h in content.items():
                p = os.path.join(top, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(self.blobs[h])
        elif "" in content:
            with open(top, "wb") as f:
                f.write(self.blobs[content[""]])
        elif os.path.lexists(top):
            os.remove(top)

    def read_dataset(self, path, kind):
        """{relpath: sha256} of what is there (a missing dataset is {})."""
        res = {}
        if kind == "file":
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    res[""] = sha(f.read())
            return res
        if not os.path.isdir(path):
            return res
        for d, dirs, files in os.walk(path):
            for n in files:
                p = os.path.join(d, n)
                with open(p, "rb") as f:
                    res[os.path.relpath(p, path)] = sha(f.read())
        return res

    def pointer_blob(self, c, ds):
        p = os.path.join(c.path, ds + ".cairn")
        if not os.path.isfile(p):
            return None
        with open(p, "rb") as f:
            return git_blob_id(f.read())

    def wt_blobs(self, c):
        res = {}
        for ds, _ in DATASETS:
            b = self.pointer_blob(c, ds)
            if b is not None:
                res[ds] = b
        return res

    def commit_blobs(self, gitdir, commit):
        """{dataset: blob} of the pointer files committed in commit."""
        key = commit
        if key in self.tree_cache:
            return self.tree_cache[key]
        _, out = self.run(["git", "ls-tree", commit], gitdir, ok=True, quiet=True)
        res = {}
        names = {ds + ".cairn": ds for ds, _ in DATASETS}
        for line in out.splitlines():
            meta, _, path = line.partition("\t")
            if path in names:
                res[names[path]] = meta.split()[2]
        self.tree_cache[key] = res
        return res

    def history_blobs(self, gitdir, refs_args):
        """Every pointer blob in the history of the given refs."""
        if not refs_args:
            return set()
        st, out = self.run(["git", "rev-list"] + refs_args, gitdir, quiet=True)
        res = set()
        if st != 0:
            return res
        for commit in out.split():
            res.update(self.commit_blobs(gitdir, commit).values())
        return res

    def clone_roots(self, c):
        """Blobs a correct gc in clone c keeps: every ref, index, work tree."""
        roots = self.history_blobs(c.path, ["--all"])
        roots.update(self.wt_blobs(c).values())
        _, out = self.git(c, ["ls-files", "-s"])
        for line in out.splitlines():
            meta, _, path = line.partition("\t")
            if path.endswith(".cairn"):
                roots.add(meta.split()[1])
        return roots

    def origin_refs(self):
        _, out = self.run(["git", "for-each-ref", "--format=%(refname) %(objectname)",
                           "refs/heads", "refs/tags"], self.origin, ok=True, quiet=True)
        return [l.split() for l in out.splitlines() if l.strip()]

    def origin_roots(self):
        return self.history_blobs(self.origin, ["--all"])

    # ------------------------------------------------------------------
    # the work tree model

    def expect_of(self, blob):
        if blob not in self.ptr:
            raise Fail("model: pointer blob %s names no version the model knows"
                       % blob)
        return dict(self.ptr[blob])

    def check_matches_pointers(self, c, what, datasets=None):
        """After a checkout/pull that exited 0: each dataset as its pointer."""
        for ds, kind in DATASETS:
            if datasets is not None and ds not in datasets:
                continue
            blob = self.pointer_blob(c, ds)
            if blob is None:
                continue
            want = self.expect_of(blob)
            got = self.read_dataset(os.path.join(c.path, ds), kind)
            if got != want:
                raise Fail("%s in %s exited 0 but %s differs from its pointer %s:\n%s"
                           % (what, c.name, ds, blob, self.diff(want, got)))
            c.wt[ds] = want

    def check_no_wrong_bytes(self, c, what, datasets=None):
        """After a failed or killed checkout/pull: old or new, or absent."""
        for ds, kind in DATASETS:
            if datasets is not None and ds not in datasets:
                continue
            if c.wt.get(ds) is not None:
                poss = {rel: {h} for rel, h in c.wt[ds].items()}
            else:
                poss = c.poss.get(ds, {})
            blob = self.pointer_blob(c, ds)
            new = dict(self.ptr.get(blob, ())) if blob else {}
            for rel, h in new.items():
                poss.setdefault(rel, set()).add(h)
            got = self.read_dataset(os.path.join(c.path, ds), kind)
            for rel, h in got.items():
                if rel in poss and h not in poss[rel]:
                    raise Fail("%s in %s left wrong bytes in %s%s"
                               % (what, c.name, ds, rel and "/" + rel))
            c.wt[ds] = None
            c.poss[ds] = poss

    @staticmethod
    def diff(want, got):
        lines = []
        for rel in sorted(set(want) | set(got)):
            if want.get(rel) != got.get(rel):
                lines.append("  %s: want %s, got %s" % (
                    rel or "(file)", (want.get(rel) or "absent")[:12],
                    (got.get(rel) or "absent")[:12]))
        return "\n".join(lines[:20])

    # ------------------------------------------------------------------
    # edits

    def small_bytes(self, r):
        n = r.randint(1, 40)
        if not self.args.small:
            # no single-chunk file at all (to tell other bugs from item 1)
            n = r.randint(4000, 6000)
        return "".join("%d,%d,%s\n" % (i, r.randint(0, 10**6), r.choice("xyz"))
                       for i in range(n)).encode()

    def edit_big(self, r, data):
        data = bytearray(data)
        how = r.choice(("overwrite", "insert", "append", "cut"))
        if how == "overwrite" or len(data) < 4096:
            off = r.randrange(max(1, len(data)))
            n = r.randint(1, 16384)
            data[off:off + n] = r.randbytes(min(n, max(0, len(data) - off)) or n)
        elif how == "insert":
            off = r.randrange(len(data))
            data[off:off] = r.randbytes(r.randint(1, 8192))
        elif how == "append":
            data += r.randbytes(r.randint(1, 65536))
        else:
            data = data[:len(data) - r.randint(1, min(len(data) - 1, 65536))]
        return bytes(data)

    def make_edit(self, r, kind, content):
        """A new content for a dataset: content edited (it may be {})."""
        content = dict(content)
        if kind == "file":
            old = self.blobs[content[""]] if "" in content else None
            if old is not None and len(old) >= 4096:
                content[""] = self.put(self.edit_big(r, old))
            elif old is not None and r.random() < 0.8:
                content[""] = self.put(old + self.small_bytes(r))
            else:
                content[""] = self.put(r.randbytes(BIG) if r.random() < 0.5
                                       else self.small_bytes(r))
            return content
        for _ in range(r.randint(1, 3)):
            smalls = [p for p in content if len(self.blobs[content[p]]) < 4096]
            bigs = [p for p in content if p not in smalls]
            what = r.choice(("new-small", "new-small", "mod-small", "mod-small",
                             "mod-big", "mod-big", "del", "new-big", "copy-big"))
            if what == "new-small" or (what == "mod-small" and not smalls):
                name = r.choice(("", "", "sub/")) + "f%d-%d.csv" % (
                    r.randint(0, 99), r.randint(0, 9))
                content[name] = self.put(self.small_bytes(r))
            elif what == "mod-small":
                p = r.choice(sorted(smalls))
                content[p] = self.put(self.blobs[content[p]] + self.small_bytes(r))
            elif what in ("mod-big", "copy-big") and bigs:
                p = r.choice(sorted(bigs))
                new = self.edit_big(r, self.blobs[content[p]])
                if what == "copy-big":
                    p = "big%d.bin" % r.randint(0, 9)
                content[p] = self.put(new)
            elif what == "del" and len(content) > 1:
                del content[r.choice(sorted(content))]
            else:
                content["big%d.bin" % r.randint(0, 9)] = self.put(
                    r.randbytes(r.randint(BIG // 2, BIG + BIG // 4)))
        return content

    def known_wt(self, c, ds, kind):
        """Make the model know the work tree of ds (rule 4)."""
        if c.wt.get(ds) is not None:
            return
        st, _ = self.cairn(c, ["checkout", "-q", "-f", ds])
        if st == 0:
            self.check_matches_pointers(c, "checkout -f", [ds])
        else:
            self.check_no_wrong_bytes(c, "checkout -f", [ds])
            c.wt[ds] = {}
            self.write_content(c, ds, kind, {})
            self.note("    (%s starts anew)" % ds)

    def do_edit(self, c, op):
        ds, kind = op["ds"], dict(DATASETS)[op["ds"]]
        self.known_wt(c, ds, kind)
        r = random.Random(op["seed"])
        new = self.make_edit(r, kind, c.wt[ds])
        self.write_content(c, ds, kind, new)
        c.wt[ds] = new
        return ds, kind

    # ------------------------------------------------------------------
    # operations

    def generate(self, c):
        """A random operation for clone c, as a replayable dict."""
        ops = [o for o in self.args.ops if o in OP_WEIGHTS]
        o = self.rng.choices(ops, weights=[OP_WEIGHTS[x] for x in ops])[0]
        op = {"op": o, "clone": c.name, "seed": self.rng.randrange(1 << 30)}
        r = self.rng
        if o in ("edit", "add", "publish"):
            op["ds"] = r.choice(DATASETS)[0]
        elif o in ("branch", "switch", "merge", "gpull", "delbranch"):
            op["branch"] = r.choice(BRANCHES)
            op["flag"] = r.random() < 0.5
            if o in ("switch", "merge", "delbranch"):
                # mostly a branch that exists here or on the origin
                _, out = self.git(c, ["for-each-ref", "--format=%(refname)",
                                      "refs/heads", "refs/remotes/origin"])
                have = []
                for ref in sorted(out.split()):
                    for pre, flag in (("refs/heads/", False), ("refs/remotes/origin/", True)):
                        if ref.startswith(pre) and ref[len(pre):] in BRANCHES:
                            have.append((ref[len(pre):], flag))
                if have and r.random() < 0.8:
                    op["branch"], flag = r.choice(have)
                    if o == "merge":
                        op["flag"] = flag
        elif o in ("gfetch", "cpush", "cpull", "ccheckout", "tag"):
            op["flag"] = r.random() < 0.5
        elif o in ("gc-remote", "gc-remote-stale"):
            op["grace"] = r.choice((0, 1))
        elif o == "ptr-copy":
            op["ds"] = r.choice(DATASETS)[0]
        if o in KILLABLE and "kill" in self.args.ops and r.random() < self.args.kill_rate:
            op["kill"] = round(r.uniform(0.0, self.args.kill_max), 3)
        return op

    def current_branch(self, c):
        st, out = self.git(c, ["symbolic-ref", "-q", "--short", "HEAD"])
        return out.strip() if st == 0 else None

    def resolve_merge(self, c, side):
        """After a merge with conflicts: take one side of every path."""
        _, out = self.git(c, ["diff", "--name-only", "--diff-filter=U"])
        paths = out.split()
        if not paths:
            self.git(c, ["merge", "--abort"])
            return
        for p in paths:
            st, _ = self.git(c, ["checkout", "--" + side, "--", p])
            if st == 0:
                self.git(c, ["add", "--", p], ok=True)
            else:
                self.git(c, ["rm", "-q", "--", p], ok=True)
        st, _ = self.git(c, ["commit", "-q", "--no-edit"])
        if st != 0:
            self.git(c, ["merge", "--abort"])

    def rev(self, c, name):
        st, out = self.git(c, ["rev-parse", "-q", "--verify", name + "^{commit}"])
        return out.strip() if st == 0 else None

    def merge(self, c, target, side):
        ours, theirs = self.rev(c, "HEAD"), self.rev(c, target)
        if self.args.merge == "driver" and ours and theirs:
            # the driver needs the trees of all three versions: fetch
            # them first, as its error message says
            _, out = self.git(c, ["merge-base", ours, theirs])
            for x in out.split()[:1] + [theirs]:
                if self.cairn(c, ["fetch", "-q", "--rev", x])[0] == 0:
                    c.local.update(self.commit_blobs(c.path, x).values())
        st, _ = self.git(c, ["merge", "-q", "--no-edit", target])
        if st != 0:
            self.resolve_merge(c, side)
        for ds, b in self.wt_blobs(c).items():
            if b not in self.ptr and self.args.merge == "driver" and ours and theirs:
                self.driver_merged(c, ds, b, ours, theirs)
            self.expect_of(b)   # every pointer is a known version (rule 1)

    def driver_merged(self, c, ds, blob, ours, theirs):
        """A pointer that cairn merge-driver wrote: what the model says the
        three-way merge of the dataset is (rule 1, merges)."""
        _, out = self.git(c, ["merge-base", ours, theirs])
        if not out.split():
            return
        sides = [self.commit_blobs(c.path, x).get(ds) for x in (out.split()[0], ours, theirs)]
        if any(x is None or x not in self.ptr for x in sides):
            return
        b, o, t = (dict(self.ptr[x]) for x in sides)
        merged = {}
        for rel in set(b) | set(o) | set(t):
            bb, oo, tt = b.get(rel), o.get(rel), t.get(rel)
            if oo == tt or tt == bb:
                v = oo
            elif oo == bb:
                v = tt
            else:
                raise Fail("cairn merge-driver merged %s in %s, but %s%s changed "
                           "differently on both sides (the model sees a conflict)"
                           % (ds, c.name, ds, rel and "/" + rel))
            if v is not None:
                merged[rel] = v
        self.ptr[blob] = freeze(merged)
        self.stats["merged"] += 1
        self.note("    (merge driver: %s is the three-way merge, pointer blob %s)"
                  % (ds, blob[:12]))
        if sides[1] in c.local and sides[2] in c.local:
            c.local.add(blob)

    def after_cairn_wt(self, c, st, what):
        if st == 0:
            self.check_matches_pointers(c, what)
        else:
            self.check_no_wrong_bytes(c, what)

    def require_ok(self, c, st, text, what, blobs_needed, have):
        """Fail if a command that must succeed by the model did not."""
        if st is None or st == 0:
            return
        missing = [b for b in blobs_needed if b not in have]
        if not missing:
            raise Fail("%s in %s failed, but the model says every pointer's data "
                       "is available (rules 2, 3):\n%s" % (what, c.name, text))

    def do_add(self, c, op, kill):
        ds, kind = self.do_edit(c, op)
        before = self.pointer_blob(c, ds)
        content = freeze(c.wt[ds])
        st, text = self.cairn(c, ["add", "-q", ds], kill=kill)
        after = self.pointer_blob(c, ds)
        if st not in (None, 0):
            raise Fail("cairn add failed in %s:\n%s" % (c.name, text))
        if st == 0 or after != before:
            if after in self.ptr and self.ptr[after] != content:
                raise Fail("pointer blob %s of %s names two versions (rule 1):\n%s"
                           % (after, ds, self.diff(dict(self.ptr[after]), dict(content))))
            self.ptr[after] = content
            c.local.add(after)

    def do_cpush(self, c, all_commits, kill):
        wtb = self.wt_blobs(c)
        args = ["push", "-q"] + (["--all-commits"] if all_commits else [])
        hist = self.history_blobs(c.path, ["--all"]) if all_commits else set()
        st, text = self.cairn(c, args, kill=kill)
        if st == 0:
            self.pushed.update(wtb.values())
            self.pushed.update(hist)
        self.require_ok(c, st, text, "cairn push", set(wtb.values()) | hist,
                        self.pushed | c.local)

    def execute(self, op):
        c = self.clones[op["clone"]]
        o = op["op"]
        kill = op.get("kill")
        side = "ours" if op["seed"] % 2 else "theirs"
        self.stats["ops"] += 1
        self.note("%d. %s: %s" % (len(self.ops_done) + 1, c.name, json.dumps(op)))
        self.ops_done.append(op)
        if o == "edit":
            self.do_edit(c, op)
        elif o == "add":
            self.do_add(c, op, kill)
        elif o == "publish":
            # what the README says to do; the kill, if any, hits the push
            self.do_add(c, op, None)
            self.git(c, ["add", "-A"], ok=True)
            self.git(c, ["commit", "-q", "-m", "publish %d" % len(self.ops_done)])
            br = self.current_branch(c)
            if br:
                self.git(c, ["push", "-q", "origin", br])
            self.do_cpush(c, False, kill)
        elif o == "commit":
            self.git(c, ["add", "-A"], ok=True)
            self.git(c, ["commit", "-q", "-m", "op %d" % len(self.ops_done)])
        elif o == "branch":
            self.git(c, ["checkout", "-q", "-b", op["branch"]])
        elif o == "switch":
            self.git(c, ["checkout", "-q", op["branch"]])
        elif o == "merge":
            target = op["branch"] if not op.get("flag") else "origin/" + op["branch"]
            self.merge(c, target, side)
        elif o in ("gpush", "gpush-force"):
            br = self.current_branch(c)
            if br:
                self.git(c, ["push", "-q"] + (["-f"] if o == "gpush-force" else [])
                         + ["origin", br])
        elif o == "gpull":
            br = self.current_branch(c)
            if br:
                st, _ = self.git(c, ["fetch", "-q", "origin"])
                if st == 0 and self.git(c, ["rev-parse", "-q", "--verify",
                                            "origin/" + br])[0] == 0:
                    self.merge(c, "origin/" + br, side)
        elif o == "gfetch":
            self.git(c, ["fetch", "-q"] + (["--prune"] if op.get("flag") else []) + ["origin"])
        elif o == "tag":
            t = "t%d-%s" % (op["seed"] % 1000, c.name)
            if self.git(c, ["tag", t])[0] == 0:
                self.git(c, ["push", "-q", "origin", t])
        elif o == "delbranch":
            br = op["branch"]
            if br != "main" and br != self.current_branch(c):
                self.git(c, ["branch", "-q", "-D", br])
                if op.get("flag"):
                    self.git(c, ["push", "-q", "origin", "--delete", br])
        elif o == "cpush":
            self.do_cpush(c, op.get("flag"), kill)
        elif o in ("cpull", "cfetch"):
            wtb = self.wt_blobs(c)
            force = o == "cpull" and op.get("flag")
            args = [o[1:], "-q"] + (["-f"] if force else [])
            st, text = self.cairn(c, args, kill=kill)
            if st == 0:
                c.local.update(wtb.values())
            if o == "cfetch" or force:
                self.require_ok(c, st, text, "cairn " + " ".join(args), wtb.values(),
                                self.pushed | c.local)
            if o == "cpull":
                self.after_cairn_wt(c, st, "cairn " + " ".join(args))
        elif o == "ccheckout":
            wtb = self.wt_blobs(c)
            args = ["checkout", "-q"] + (["-f"] if op.get("flag") else [])
            st, text = self.cairn(c, args, kill=kill)
            if op.get("flag"):
                self.require_ok(c, st, text, "cairn checkout -f", wtb.values(), c.local)
            self.after_cairn_wt(c, st, "cairn " + " ".join(args))
        elif o == "gc":
            st, text = self.cairn(c, ["gc", "-q"], kill=kill)
            if st not in (None, 0):
                raise Fail("cairn gc failed in %s:\n%s" % (c.name, text))
            c.local &= self.clone_roots(c)
        elif o in ("gc-remote", "gc-remote-stale"):
            if o == "gc-remote":
                self.git(c, ["fetch", "-q", "--prune", "origin"])
            keep = self.origin_roots() | self.clone_roots(c)
            st, text = self.cairn(c, ["gc", "-q", "-r", "origin", "--grace",
                                      str(op["grace"])], kill=kill)
            self.pushed &= keep
        elif o == "ptr-copy":
            ds = op["ds"]
            src = os.path.join(c.path, ds + ".cairn")
            if os.path.isfile(src):
                os.makedirs(os.path.join(c.path, "docs"), exist_ok=True)
                shutil.copyfile(src, os.path.join(c.path, "docs", ds + ".cairn.v%d"
                                                  % (op["seed"] % 3)))
                self.git(c, ["add", "-A"], ok=True)
                self.git(c, ["commit", "-q", "-m", "doc copy of " + ds])
        else:
            raise Fail("unknown operation %r" % o)

    # ------------------------------------------------------------------
    # setup and checks

    def remote_url(self):
        if self.remote_kind == "dir":
            return os.path.join(self.root, "remote")
        # a new place each run: a replay must not find an earlier run's data
        Sim.runs += 1
        tag = "%s-%d-%d" % (os.path.basename(self.root), os.getpid(), Sim.runs)
        if self.remote_kind == "ssh":
            return "testhost:%s/sim/%s" % (os.environ["SSH_ROOT"], tag)
        if self.remote_kind == "s3":
            return "s3://%s/sim/%s" % (os.environ["S3_BUCKET"], tag)
        raise Fail("unknown remote kind %r" % self.remote_kind)

    def add_remote(self, path):
        self.run(["cairn", "remote", "add", "--local", "-d", "origin", self.url],
                 path, ok=True, quiet=True)
        if self.remote_kind == "s3":
            for k, v in (("endpoint", os.environ["S3_ENDPOINT"]),
                         ("region", os.environ["S3_REGION"])):
                self.run(["cairn", "config", "--local", "remote.origin." + k, v],
                         path, ok=True, quiet=True)

    def merge_driver(self, path):
        if self.args.merge == "driver":
            self.run(["git", "config", "merge.cairn.driver",
                      "cairn merge-driver %O %A %B %P"], path, ok=True, quiet=True)

    def new_clone(self, name):
        path = os.path.join(self.root, name)
        self.run(["git", "clone", "-q", self.origin, path], self.root, ok=True, quiet=True)
        self.add_remote(path)
        self.merge_driver(path)
        return path

    def setup(self):
        self.url = self.remote_url()
        self.note("setup: origin %s, cairn remote %s" % (self.origin, self.url))
        self.run(["git", "init", "-q", "--bare", "--initial-branch=main", self.origin],
                 self.root, ok=True, quiet=True)
        a = Clone("A", os.path.join(self.root, "A"))
        self.run(["git", "clone", "-q", self.origin, a.path], self.root, ok=True, quiet=True)
        self.run(["git", "checkout", "-q", "-b", "main"], a.path, quiet=True)
        self.run(["cairn", "init", "--chunk-size", "4K:16K:64K"], a.path, ok=True,
                 quiet=True)
        self.run(["cairn", "config", "pack.size", "256k"], a.path, ok=True, quiet=True)
        self.add_remote(a.path)
        if self.args.merge == "driver":
            # what cairn install sets up, without its hooks (they would run
            # cairn commands the model does not see)
            with open(os.path.join(a.path, ".gitattributes"), "w") as f:
                f.write("*.cairn merge=cairn\n")
            self.merge_driver(a.path)
        r = random.Random(self.seed ^ 0x5eed)
        for ds, kind in DATASETS:
            if kind == "dir":
                # enough files that two branches often change different
                # ones, which the merge driver merges
                content = {"%s%s.csv" % (d, n): self.put(self.small_bytes(r))
                           for d in ("", "sub/") for n in "abcd"}
                content["big0.bin"] = self.put(r.randbytes(BIG))
            elif ds == "model.bin":
                content = {"": self.put(r.randbytes(BIG))}
            else:
                content = {"": self.put(self.small_bytes(r))}
            self.write_content(a, ds, kind, content)
            a.wt[ds] = content
            self.run(["cairn", "add", "-q", ds], a.path, ok=True, quiet=True)
            blob = self.pointer_blob(a, ds)
            self.ptr[blob] = freeze(content)
            a.local.add(blob)
        self.run(["git", "add", "-A"], a.path, ok=True, quiet=True)
        self.run(["git", "commit", "-q", "-m", "setup"], a.path, ok=True, quiet=True)
        self.run(["git", "push", "-q", "origin", "main"], a.path, ok=True, quiet=True)
        self.run(["cairn", "push", "-q"], a.path, ok=True, quiet=True)
        self.pushed.update(self.wt_blobs(a).values())
        self.clones["A"] = a
        for n in CLONES[1:]:
            c = Clone(n, self.new_clone(n))
            c.wt = {ds: {} for ds, _ in DATASETS}
            self.clones[n] = c

    def check_ref(self, n, ref, commit):
        """A fresh clone of the origin at commit pulls what the model requires."""
        want = self.commit_blobs(self.origin, commit)
        path = os.path.join(self.root, "check%d" % n)
        if os.path.exists(path):
            shutil.rmtree(path)
        self.run(["git", "clone", "-q", "--no-checkout", self.origin, path],
                 self.root, ok=True, quiet=True)
        self.run(["git", "checkout", "-q", "--detach", commit], path, ok=True, quiet=True)
        self.add_remote(path)
        required = sorted(ds for ds, b in want.items() if b in self.pushed)
        others = sorted(ds for ds, b in want.items() if b not in self.pushed)
        fake = Clone("check %s" % ref, path)
        if required:
            st, text = self.cairn(fake, ["pull", "-q"] + required)
            if st != 0:
                # which of them: each alone, for the report
                lost = []
                for ds in required:
                    st1, text1 = self.cairn(fake, ["pull", "-q", ds])
                    if st1 != 0:
                        lost.append("%s (pointer blob %s, pushed by cairn push):\n%s"
                                    % (ds, want[ds][:12], text1.rstrip()))
                raise Fail("%s (%s): a fresh clone cannot pull what the model says "
                           "was pushed (rule 2): %s\n%s"
                           % (ref, commit[:12], " ".join(required),
                              "\n".join(lost) or text))
        for ds in others:
            st, _ = self.cairn(fake, ["pull", "-q", ds])
            if st != 0:
                continue
            required.append(ds)
        for ds in required:
            kind = dict(DATASETS)[ds]
            wantc = self.expect_of(want[ds])
            got = self.read_dataset(os.path.join(path, ds), kind)
            if got != wantc:
                raise Fail("%s (%s): %s pulled into a fresh clone differs from the "
                           "model:\n%s" % (ref, commit[:12], ds, self.diff(wantc, got)))
        shutil.rmtree(path)
        self.stats["verified"] += len(required)
        return len(required)

    def check_local_history(self, c):
        """Every version in c's history whose data must be in its store
        (rule 3) restores from it alone: one checkout --rev per commit
        that brings a version not seen yet, at most 12."""
        _, out = self.git(c, ["rev-list", "--all"])
        seen = set()
        done = 0
        for commit in out.split():
            if done >= 12:
                break
            blobs = self.commit_blobs(c.path, commit)
            local = sorted(ds for ds, b in blobs.items()
                           if b in c.local and b not in seen)
            if not local:
                continue
            done += 1
            st, text = self.cairn(c, ["checkout", "-q", "-f", "--rev", commit] + local)
            if st != 0:
                raise Fail("cairn checkout --rev %s in %s failed, but the data of %s "
                           "must be in its store (rule 3):\n%s"
                           % (commit[:12], c.name, " ".join(local), text))
            for ds in local:
                want = self.expect_of(blobs[ds])
                got = self.read_dataset(os.path.join(c.path, ds), dict(DATASETS)[ds])
                if got != want:
                    raise Fail("cairn checkout --rev %s in %s: %s differs from the "
                               "model:\n%s" % (commit[:12], c.name, ds, self.diff(want, got)))
                c.wt[ds] = want
                seen.add(blobs[ds])
                self.stats["verified"] += 1

    def check(self, final):
        self.note("check%s:" % (" (final)" if final else ""))
        refs = self.origin_refs()
        commits = {}
        for ref, commit in refs:
            commits.setdefault(commit, ref)
        if final and self.args.history:
            _, out = self.run(["git", "rev-list", "--all"], self.origin, ok=True, quiet=True)
            older = [x for x in out.split() if x not in commits]
            r = random.Random(self.seed ^ 0xc0ffee)
            for x in r.sample(older, min(len(older), self.args.history)):
                commits[x] = "history " + x[:12]
        n = 0
        for commit, ref in sorted(commits.items(), key=lambda kv: kv[1]):
            self.check_ref(n, ref, commit)
            n += 1
        fake = Clone("fsck -r", os.path.join(self.root, "A"))
        st, text = self.cairn(fake, ["fsck", "-q", "-r", "origin", "--read-data"])
        # fsck -r also reports what the refs of clone A name and nobody
        # pushed (missing-object): the model allows that (rule 2: only
        # PUSHED must pull, and it did, byte for byte, above); any other
        # problem (a bad pack, index or manifest) is a failure.
        other = [l for l in text.splitlines() if l.strip() and
                 not l.startswith("missing-object: ") and
                 not re.match(r"error: \d+ problems? on remote ", l)]
        if other or (st != 0 and "missing-object: " not in text):
            raise Fail("cairn fsck -r origin --read-data reports problems:\n" + text)
        for c in self.clones.values():
            st, text = self.cairn(c, ["fsck", "-q"])
            if st != 0:
                raise Fail("cairn fsck in %s reports problems:\n%s" % (c.name, text))
        if not final:
            return
        for c in self.clones.values():
            self.check_local_history(c)
        for c in self.clones.values():
            hist = self.history_blobs(c.path, ["--all"]) | set(self.wt_blobs(c).values())
            if not hist <= (c.local | self.pushed):
                continue
            st, text = self.cairn(c, ["push", "-q", "--all-commits"])
            if st != 0:
                raise Fail("cairn push --all-commits in %s failed, but every version "
                           "in its history is in its store or on the remote "
                           "(rules 2, 3):\n%s" % (c.name, text))
            self.pushed |= hist

    def run_sequence(self, ops=None):
        self.setup()
        steps = self.args.steps if ops is None else len(ops)
        for i in range(steps):
            if ops is None:
                c = self.clones[self.rng.choice(CLONES)]
                op = self.generate(c)
            else:
                op = ops[i]
            self.execute(op)
            if self.args.check_every and (i + 1) % self.args.check_every == 0:
                self.check(False)
        self.check(True)


def parse_ops(spec):
    ops = []
    for word in (spec or "default").split(","):
        word = word.strip()
        if not word:
            continue
        if word == "default":
            ops += DEFAULT_OPS
        elif word == "all":
            ops += list(OP_WEIGHTS) + list(MODIFIERS)
        elif word.startswith("-"):
            ops = [o for o in ops if o != word[1:]]
        else:
            name = word.lstrip("+")
            if name not in OP_WEIGHTS and name not in MODIFIERS:
                sys.exit("team-sim: unknown operation %r (known: %s)"
                         % (name, ", ".join(list(OP_WEIGHTS) + list(MODIFIERS))))
            ops.append(name)
    return list(dict.fromkeys(ops))


def one(args, seed, ops=None):
    """Run one sequence; return (ok, sim, message)."""
    root = os.path.join(args.dir, "seq-%d" % seed)
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    sim = Sim(args, seed, root)
    msg = None
    try:
        sim.run_sequence(ops)
    except Fail as e:
        msg = str(e)
    except Exception:
        import traceback
        msg = "simulator error: " + traceback.format_exc()
    with open(os.path.join(root, "ops.json"), "w") as f:
        json.dump({"seed": seed, "remote": args.remote, "small": args.small,
                   "ops": sim.ops_done}, f, indent=1)
    if msg is None and not args.keep:
        shutil.rmtree(root)
    return msg is None, sim, msg


def report(args, seed, sim, msg, replay_file=None):
    e = sys.stderr
    e.write("team-sim: FAILED, seed %d, remote %s, %d operations\n"
            % (seed, args.remote, len(sim.ops_done)))
    lines = msg.rstrip().split("\n")
    if len(lines) > 40:
        lines = lines[:40] + ["... (%d more lines)" % (len(lines) - 40)]
    e.write("\n".join(lines) + "\n")
    e.write("--- what ran (operations, and the commands that failed) ---\n")
    for line in sim.log[-400:]:
        e.write(line + "\n")
    e.write("--- replay ---\n")
    e.write("  CAIRN_TEST_SIM_SEED=%d CAIRN_TEST_SIM_REMOTES=%s CAIRN_TEST_SIM_OPS=%s "
            "CAIRN_TEST_SIM_STEPS=%d%s sh t/t0120-team-sim.sh -v -i\n"
            % (seed, args.remote, args.ops_spec, args.steps,
               "" if args.small else " CAIRN_TEST_SIM_SMALL=0"))
    e.write("  or: t/sim/team-sim.py --seed %d --remote %s --ops %s --steps %d "
            "--small %d --dir /tmp/sim --keep\n"
            % (seed, args.remote, args.ops_spec, args.steps, args.small))
    e.write("  the exact operations: %s (--replay it; --minimize to shorten)\n"
            % (replay_file or os.path.join(sim.root, "ops.json")))


def failure_kind(msg):
    """What failed, without the ids that change from run to run (commit
    ids depend on the time) and without the ref it was seen on."""
    line = msg.split("\n")[0]
    line = re.sub(r"^[^ ]+( [0-9a-f]+)? \([0-9a-f]+\): ", "", line)
    m = re.search(r"\(rules? [0-9, ]+\)", line)
    if m:
        line = line[:m.end()]
    return re.sub(r"[0-9a-f]{7,}", "X", line)


def minimize(args, seed, ops, first_msg):
    """Drop operations one at a time while the sequence still fails the same way."""
    kind = failure_kind(first_msg)
    i = len(ops) - 1
    while i >= 0:
        trial = ops[:i] + ops[i + 1:]
        ok, _, msg = one(args, seed, trial)
        if not ok and failure_kind(msg) == kind:
            ops = trial
            sys.stderr.write("minimize: dropped operation %d, %d left\n" % (i + 1, len(ops)))
        i -= 1
    return ops


def main():
    ap = argparse.ArgumentParser(description="cairn team simulator")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CAIRN_TEST_SIM_SEED", 0) or 0))
    ap.add_argument("--count", type=int, default=1,
                    help="run seeds SEED..SEED+COUNT-1, printing TAP")
    ap.add_argument("--remote", default=os.environ.get("CAIRN_TEST_SIM_REMOTE", "dir"))
    ap.add_argument("--steps", type=int, default=int(os.environ.get("CAIRN_TEST_SIM_STEPS", 30)))
    ap.add_argument("--ops", default=os.environ.get("CAIRN_TEST_SIM_OPS", "default"))
    ap.add_argument("--kill-rate", type=float,
                    default=float(os.environ.get("CAIRN_TEST_SIM_KILL_RATE", 0.3)))
    ap.add_argument("--kill-max", type=float,
                    default=float(os.environ.get("CAIRN_TEST_SIM_KILL_MAX", 0.04)),
                    help="kill after a delay of 0 to this many seconds")
    ap.add_argument("--small", type=int, default=int(os.environ.get("CAIRN_TEST_SIM_SMALL", 1)),
                    help="0: every file has several chunks (no single-chunk file)")
    ap.add_argument("--merge", choices=("driver", "side"),
                    default=os.environ.get("CAIRN_TEST_SIM_MERGE", "driver"),
                    help="pointer files merged by cairn merge-driver, or one side taken")
    ap.add_argument("--history", type=int, default=int(os.environ.get("CAIRN_TEST_SIM_HISTORY", 3)))
    ap.add_argument("--check-every", type=int,
                    default=int(os.environ.get("CAIRN_TEST_SIM_CHECK_EVERY", 0)))
    ap.add_argument("--dir", default=os.getcwd())
    ap.add_argument("--replay", help="run the operations of an ops.json file")
    ap.add_argument("--minimize", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the directories")
    ap.add_argument("--stats", help="append one JSON line of figures a sequence to this file")
    args = ap.parse_args()
    args.ops_spec = args.ops
    args.ops = parse_ops(args.ops)
    args.dir = os.path.abspath(args.dir)
    for k, v in (("GIT_AUTHOR_NAME", "sim"), ("GIT_AUTHOR_EMAIL", "sim@example.com"),
                 ("GIT_COMMITTER_NAME", "sim"), ("GIT_COMMITTER_EMAIL", "sim@example.com")):
        os.environ.setdefault(k, v)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    os.environ["GIT_TERMINAL_PROMPT"] = "0"

    ops = None
    if args.replay:
        with open(args.replay) as f:
            saved = json.load(f)
        ops = saved["ops"]
        args.seed = saved["seed"]
        args.remote = saved.get("remote", args.remote)
        args.small = saved.get("small", args.small)
    failures = 0
    tap = args.count > 1
    if tap:
        print("1..%d" % args.count)
    for i in range(args.count):
        seed = args.seed + i
        t0 = time.time()
        ok, sim, msg = one(args, seed, ops)
        if tap:
            print("%sok %d - seed %d, %s remote (%d ops, %d killed, %d versions "
                  "verified, %d merged by the driver, %.1f s)"
                  % ("" if ok else "not ", i + 1, seed, args.remote,
                     sim.stats["ops"], sim.stats["killed"], sim.stats["verified"],
                     sim.stats["merged"], time.time() - t0))
            sys.stdout.flush()
        else:
            print("team-sim: seed %d, %s remote: %s (%d ops, %d cairn kills tried, "
                  "%d killed, %d commands, %d versions verified, %d merged by the "
                  "driver, %.1f s)"
                  % (seed, args.remote, "ok" if ok else "FAILED", sim.stats["ops"],
                     sim.stats["kills"], sim.stats["killed"], sim.stats["cmds"],
                     sim.stats["verified"], sim.stats["merged"], time.time() - t0))
        if args.stats:
            with open(args.stats, "a") as f:
                f.write(json.dumps(dict(sim.stats, ok=ok, seed=seed,
                                        remote=args.remote)) + "\n")
        if not ok:
            failures += 1
            replay_file = None
            if args.minimize:
                small = minimize(args, seed, sim.ops_done, msg)
                replay_file = os.path.join(args.dir, "minimal-%d.json" % seed)
                with open(replay_file, "w") as f:
                    json.dump({"seed": seed, "remote": args.remote, "small": args.small,
                               "ops": small}, f, indent=1)
                ok2, sim2, msg2 = one(args, seed, small)
                if not ok2:
                    sim, msg = sim2, msg2
            report(args, seed, sim, msg, replay_file)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
