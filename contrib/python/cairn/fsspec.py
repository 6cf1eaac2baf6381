"""An fsspec filesystem over cairn: "cairn://PATH" is PATH of a version.

    import pandas
    df = pandas.read_csv("cairn://data/train.csv",
                         storage_options={"repo": "/src/project", "rev": "v1"})

PATH is relative to the top of the work tree of `repo`, as everywhere in
the package. The filesystem shows what cairn tracks: the tracked files
and directories, the files inside tracked directories, and the plain
directories that hold tracked paths; not the pointer files, nor what
only git tracks. It is read-only.

A pinned URL names content, not just a path, so that a run can record
exactly what it read: fs.pinned(path) gives

    cairn://PATH?rev=COMMIT&id=CONTENTID

which reads PATH at that commit, whatever the filesystem's own `rev`,
and fails with PinMismatch (an OSError) unless the content there is
CONTENTID. A file
whose version is only in the work tree (not in HEAD) pins to
"cairn://PATH?id=CONTENTID": read at the filesystem's rev, and checked.

fsspec is imported here, not by `import cairn`: it is an optional
dependency (pip install "cairn[fsspec]"). fsspec finds this class by
the entry point fsspec.specs "cairn" of the package.
"""

import errno
import io
import posixpath
import re
import urllib.parse

try:
    from fsspec.spec import AbstractFileSystem
    from fsspec.utils import stringify_path
except ImportError as e:
    raise ImportError("cairn.fsspec needs fsspec: pip install 'cairn[fsspec]' "
                      "(%s)" % e) from e

import cairn

__all__ = ["CairnFileSystem", "PinMismatch"]

_PIN_KEYS = frozenset(("rev", "id"))
_ID = re.compile(r"[0-9a-f]{32}\Z")


class PinMismatch(OSError):
    """The content at the path of a pinned URL is not the content it
    names. Not a FileNotFoundError: fsspec.open() would replace its
    message with a hint about glob characters ("?" starts the pin)."""

    def __init__(self, path, pinned, found):
        super().__init__("'%s' holds content %s, not %s that the pinned URL names"
                         % (path, found, pinned))
        self.path = path
        self.pinned = pinned
        self.found = found


def _split_pin(path):
    """(path, rev, id) of a path that may end in the query of a pinned
    URL, "?rev=REV&id=ID" (either or both); rev and id are None when not
    given. A query with other keys is part of the name."""
    head, sep, query = path.rpartition("?")
    if not sep:
        return path, None, None
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True,
                                       strict_parsing=True)
    except ValueError:
        return path, None, None
    keys = [k for k, _ in pairs]
    if not keys or len(set(keys)) != len(keys) or not set(keys) <= _PIN_KEYS:
        return path, None, None
    pin = dict(pairs)
    rev, cid = pin.get("rev"), pin.get("id")
    if rev == "":
        raise ValueError("cairn://%s: an empty rev" % path)
    if cid is not None and not _ID.match(cid):
        raise ValueError("cairn://%s: id must be a content id, 32 hex digits" % path)
    return head, rev, cid


def _info(name, entry):
    """fsspec's details of an Entry: name, size (0 for a directory, as
    fsspec has it: `files` counts a tracked directory's files), type,
    and the Entry's own fields."""
    is_dir = entry.kind == "dir"
    return {
        "name": name,
        "size": 0 if is_dir else entry.size,
        "type": "directory" if is_dir else "file",
        "kind": entry.kind,
        "islink": entry.kind == "link",
        "mode": entry.mode,
        "files": entry.files,
        "id": entry.id,
        "sha256": entry.sha256,
        "commit": entry.commit,
        "dataset": entry.dataset,
    }


def _read_only(what):
    """The error of a write, `what` naming it and its path."""
    return PermissionError(errno.EROFS, "cairn:// is read-only: cannot %s (change the "
                           "work tree and 'cairn add' it)" % what)


class CairnFile(io.BufferedReader):
    """What CairnFileSystem.open() returns: the package's buffered
    reader over a cairn.File, with the `size` fsspec's files have."""

    @property
    def size(self):
        return self.raw.size

    @property
    def entry(self):
        return self.raw.entry


class CairnFileSystem(AbstractFileSystem):
    """The files cairn tracks in the work tree of `repo` (a directory of
    it), at revision `rev` (any git revision; None: the pointer files in
    the work tree). `remote` as for cairn.Repo: None the default remote,
    a name, or "" for none. Paths are relative to the work tree top ("",
    the top); a path may carry a pin, "PATH?rev=COMMIT&id=ID" (pinned())."""

    protocol = "cairn"
    root_marker = ""

    def __init__(self, repo=".", rev=None, remote=None, **kwargs):
        super().__init__(**kwargs)
        self.rev = rev
        self.remote = remote
        self.repo = cairn.Repo(repo, remote=remote)

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = stringify_path(path)
        for prefix in ("cairn://", "cairn::"):
            if path.startswith(prefix):
                path = path[len(prefix):]
                break
        plain, _, _ = _split_pin(path)
        query = path[len(plain):]
        plain = plain.strip("/")
        if plain == ".":
            plain = ""
        return plain + query

    # -- looking up ---------------------------------------------------------

    def _holds_tracked(self, path, rev):
        """Is `path`, which cairn does not track, a directory holding
        tracked paths at rev?"""
        try:
            return bool(self.repo.ls(path, rev, detail=False))
        except cairn.NotFound:
            return False

    def _lookup(self, path):
        """(plain path, rev, id, Entry) of a stripped path; Entry None for
        the top and for a directory that holds tracked paths but is not
        tracked itself. FileNotFoundError for what the filesystem does
        not hold, PinMismatch for a pinned id that is not there."""
        plain, rev, cid = _split_pin(path)
        if rev is None:
            rev = self.rev
        if not plain:
            if cid is not None:
                raise ValueError("cairn://?id=...: the top has no content id")
            return plain, rev, cid, None
        try:
            entry = self.repo.resolve(plain, rev)
        except cairn.NotVersioned as e:
            if cid is None and self._holds_tracked(plain, rev):
                return plain, rev, cid, None
            raise FileNotFoundError(errno.ENOENT, str(e), plain) from e
        if cid is not None and entry.id != cid:
            raise PinMismatch(plain, cid, entry.id)
        return plain, rev, cid, entry

    def info(self, path, **kwargs):
        """name, size, type ("file" or "directory"), and the Entry's kind,
        mode, files, id, sha256, commit and dataset. A directory that is
        not tracked but holds tracked paths has kind "dir" and no id."""
        path = self._strip_protocol(path)
        plain, rev, cid, entry = self._lookup(path)
        if entry is None:
            return {"name": path, "size": 0, "type": "directory", "kind": "dir",
                    "islink": False, "mode": 0o40000, "files": 0, "id": "",
                    "sha256": "", "commit": "", "dataset": ""}
        return _info(path, entry)

    def ls(self, path, detail=True, **kwargs):
        """The entries of a directory at the filesystem's rev, as info()
        gives them (detail) or their paths; a file gives itself. Paths
        are plain: a pin names one file, not a directory to list."""
        path = self._strip_protocol(path)
        plain, rev, cid = _split_pin(path)
        if rev is not None or cid is not None:
            info = self.info(path)
            if info["type"] == "directory":
                raise ValueError("cairn://%s: a pinned URL names a file; list a "
                                 "version with CairnFileSystem(rev=...)" % path)
            return [info] if detail else [info["name"]]
        entries = self.repo.ls(plain, self.rev)
        base = posixpath.basename(plain)
        if (len(entries) == 1 and entries[0][1].kind != "dir"
                and base in (entries[0][0], entries[0][0] + ".cairn")
                and self.repo.resolve(plain, self.rev).kind != "dir"):
            out = [_info(plain, entries[0][1])]  # a file lists itself
        else:
            out = [_info(posixpath.join(plain, name), e) for name, e in entries]
        return out if detail else [o["name"] for o in out]

    def glob(self, path, maxdepth=None, **kwargs):
        """fsspec's glob; a pinned path is one file, never a pattern
        ("?" starts its pin)."""
        stripped = self._strip_protocol(path)
        plain, rev, cid = _split_pin(stripped)
        if rev is None and cid is None:
            return super().glob(path, maxdepth=maxdepth, **kwargs)
        detail = kwargs.get("detail", False)
        try:
            info = self.info(stripped)
        except FileNotFoundError:
            return {} if detail else []
        return {stripped: info} if detail else [stripped]

    def ukey(self, path):
        """The content id: it changes exactly when the content does."""
        info = self.info(path)
        return info["id"] or super().ukey(path)

    def checksum(self, path):
        info = self.info(path)
        if info["id"]:
            return int(info["id"], 16)
        return super().checksum(path)

    def pinned(self, path):
        """The URL of the content `path` has now (at the filesystem's
        rev): "cairn://PATH?rev=COMMIT&id=ID", or "cairn://PATH?id=ID"
        for a version only in the work tree. Reading it gives these
        bytes or fails: record it to say what a run read."""
        path = self._strip_protocol(path)
        plain, rev, cid, entry = self._lookup(path)
        if entry is None or entry.kind == "dir":
            raise IsADirectoryError(errno.EISDIR, "cairn://%s: only a file can be "
                                    "pinned; record the commit for a directory" % path,
                                    plain)
        commit = entry.commit
        if not commit:
            # the work tree's pointer: pinned to HEAD when HEAD has it too
            try:
                head = self.repo.resolve(plain, "HEAD")
            except cairn.Error:
                head = None
            if head is not None and head.id == entry.id:
                commit = head.commit
        query = [("rev", commit)] if commit else []
        query.append(("id", entry.id))
        return "cairn://%s?%s" % (plain, urllib.parse.urlencode(query))

    # -- reading ------------------------------------------------------------

    def _open_raw(self, path):
        """A cairn.File of a stripped path, its pin checked."""
        plain, rev, cid = _split_pin(path)
        if rev is None:
            rev = self.rev
        try:
            f = self.repo.open(plain, rev)
        except cairn.NotVersioned as e:
            if self._holds_tracked(plain, rev):
                raise IsADirectoryError(errno.EISDIR, "'%s' is a directory" % plain,
                                        plain) from e
            raise FileNotFoundError(errno.ENOENT, str(e), plain) from e
        if cid is not None and f.entry.id != cid:
            found = f.entry.id
            f.close()
            raise PinMismatch(plain, cid, found)
        return f

    def _open(self, path, mode="rb", block_size=None, autocommit=True,
              cache_options=None, **kwargs):
        if mode != "rb":
            raise _read_only("open '%s' with mode %r" % (path, mode))
        raw = self._open_raw(self._strip_protocol(path))
        if isinstance(block_size, int) and block_size > 0:
            size = block_size
        else:
            size = cairn._BUFFER_SIZE
        return CairnFile(raw, buffer_size=size)

    def cat_file(self, path, start=None, end=None, **kwargs):
        """Bytes [start, end) of a file (negative: from its end), read by
        cairn_file_pread() straight into the result."""
        with self._open_raw(self._strip_protocol(path)) as f:
            size = f.size
            start = 0 if start is None else start
            end = size if end is None else end
            start = max(0, size + start) if start < 0 else min(start, size)
            end = max(0, size + end) if end < 0 else min(end, size)
            f.seek(start)
            return f._read_upto(end - start)

    # -- read-only ----------------------------------------------------------

    def mkdir(self, path, create_parents=True, **kwargs):
        raise _read_only("make directory '%s'" % path)

    def makedirs(self, path, exist_ok=False):
        raise _read_only("make directory '%s'" % path)

    def rmdir(self, path):
        raise _read_only("remove '%s'" % path)

    def rm_file(self, path):
        raise _read_only("remove '%s'" % path)

    def _rm(self, path):
        raise _read_only("remove '%s'" % path)

    def rm(self, path, recursive=False, maxdepth=None):
        raise _read_only("remove '%s'" % path)

    def cp_file(self, path1, path2, **kwargs):
        raise _read_only("copy to '%s'" % path2)

    def mv(self, path1, path2, recursive=False, maxdepth=None, **kwargs):
        raise _read_only("move '%s'" % path1)
