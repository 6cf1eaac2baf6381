"""cairn: read any version of a file that cairn versions, without a checkout.

    import cairn
    with cairn.open("data/train.csv", rev="v1", repo="/src/project") as f:
        header = f.readline()

A thin layer of ctypes over libcairn.so.0 (include/cairn.h): content comes
from the local store, and what it lacks from the repository's remote,
chunk by chunk, every chunk checked against its id as it is read.

Paths name files relative to the top of the work tree of `repo` (not to
the current directory): a tracked file, or a file inside a tracked
directory. A revision is any git revision; None reads the version of the
pointer files in the work tree.

Threads: a Repo may be shared by threads; a File is used by one thread
at a time (open one File per thread). The GIL is released while the
library reads, so threads reading their own Files of one Repo run at
once.
"""

import ctypes
import dataclasses
import errno
import io
import operator
import os
import threading

from . import _lib

__version__ = "0.1.0"

__all__ = [
    "Corrupt", "Entry", "Error", "File", "IsADirectory", "NotARepository",
    "NotFound", "NotVersioned", "RemoteError", "Repo", "open",
]

_c, _library_path = _lib.load()

# cairn.open() hands out a BufferedReader of this size by default: a
# read of a few bytes does not cost a call into the library each
_BUFFER_SIZE = 1 << 20


class Error(Exception):
    """A failure of the library: `code` is the CAIRN_E* code, the message
    the text the command line prints after "error: "."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self):
        return self.message


class NotFound(Error, FileNotFoundError):
    """A revision, path or the data of a version is not found
    (CAIRN_ENOTFOUND)."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.errno = errno.ENOENT
        self.strerror = message


class NotVersioned(Error):
    """The path is not tracked by cairn at that version (CAIRN_ENOTDATA)."""


class IsADirectory(Error, IsADirectoryError):
    """A directory where a file was wanted (CAIRN_EISDIR)."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.errno = errno.EISDIR
        self.strerror = message


class Corrupt(Error):
    """Stored bytes fail verification (CAIRN_ECORRUPT): never returned."""


class NotARepository(Error):
    """No cairn repository holds the path (CAIRN_ENOREPO)."""


class RemoteError(Error):
    """The remote failed (CAIRN_ETRANSIENT: may succeed if retried, or
    CAIRN_EPERMANENT)."""


_ERRORS = {
    _lib.ENOTFOUND: NotFound,
    _lib.ENOTDATA: NotVersioned,
    _lib.EISDIR: IsADirectory,
    _lib.ECORRUPT: Corrupt,
    _lib.ENOREPO: NotARepository,
    _lib.ETRANSIENT: RemoteError,
    _lib.EPERMANENT: RemoteError,
}


def _error(code):
    """The exception for a code just returned on this thread."""
    message = _c.cairn_last_error()
    if message:
        message = os.fsdecode(message)
    else:
        message = os.fsdecode(_c.cairn_strerror(code))
    return _ERRORS.get(code, Error)(code, message)


def _check(ret):
    if ret < 0:
        raise _error(ret)
    return ret


def _rev(rev):
    return None if rev is None else os.fsencode(rev)


@dataclasses.dataclass(frozen=True)
class Entry:
    """What a (revision, path) names. `size` of a directory counts all
    its files, `files` is their number (1 for a file); `id` is the
    XXH3-128 content id, `sha256` the SHA-256 of the content (of a
    directory: of its tree); `commit` the commit the revision resolved
    to ("" for the work tree); `dataset` the tracked path whose pointer
    holds it."""

    kind: str  # "file", "dir" or "link"
    mode: int  # git's: 0o100644, 0o100755, 0o40000, 0o120000
    size: int
    files: int
    id: str
    sha256: str
    commit: str
    dataset: str


_KINDS = {_lib.KIND_FILE: "file", _lib.KIND_DIR: "dir", _lib.KIND_LINK: "link"}


def _entry(e):
    return Entry(kind=_KINDS.get(e.kind, "unknown"), mode=e.mode, size=e.size,
                 files=e.files, id=e.id.decode("ascii"),
                 sha256=e.sha256.decode("ascii"), commit=e.commit.decode("ascii"),
                 dataset=os.fsdecode(e.dataset))


class Repo:
    """A cairn repository: the work tree holding `path` (a directory: its
    top or any directory below it), opened once for any number of reads.

    remote: None reads what the local store lacks from the default remote
    (core.remote), a name from that remote, "" from none (local only).

    Closing is deferred while Files opened from it are open: the library's
    handle is freed when the last of them closes.
    """

    def __init__(self, path=".", remote=None):
        self._lock = threading.Lock()
        self._handle = None
        self._users = 0       # open Files
        self._closing = False
        self._lib = _c        # for close() late at interpreter exit
        self.path = os.fspath(path)
        handle = ctypes.c_void_p()
        _check(_c.cairn_repo_open(os.fsencode(path), ctypes.byref(handle)))
        self._handle = handle
        if remote is not None:
            try:
                _check(_c.cairn_repo_set_remote(handle, os.fsencode(remote)))
            except BaseException:
                self.close()
                raise

    def _acquire(self):
        with self._lock:
            if self._handle is None or self._closing:
                raise ValueError("I/O operation on a closed cairn.Repo")
            self._users += 1
            return self._handle

    def _release(self):
        with self._lock:
            self._users -= 1
            if self._closing and not self._users:
                self._free()

    def _free(self):
        handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.cairn_repo_close(handle)

    @property
    def closed(self):
        return self._handle is None or self._closing

    def close(self):
        with self._lock:
            if self._handle is None or self._closing:
                return
            self._closing = True
            if not self._users:
                self._free()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_lock", None) is not None:
            self.close()

    def __repr__(self):
        return "<cairn.Repo %r%s>" % (self.path, " closed" if self.closed else "")

    def resolve(self, path, rev=None):
        """The Entry of `path` (relative to the work tree top) at `rev`."""
        out = _lib.cairn_entry()
        handle = self._acquire()
        try:
            _check(_c.cairn_resolve(handle, _rev(rev), os.fsencode(path),
                                    ctypes.byref(out)))
        finally:
            self._release()
        return _entry(out)

    def ls(self, path="", rev=None, detail=True):
        """The entries of the directory `path` (relative to the work tree
        top, "" for the top) at `rev`, in name order: a list of (name,
        Entry), or of names with detail=False. A tracked directory, or
        one inside it, lists its files and directories; a directory that
        is not tracked lists the tracked paths directly in it and, as
        Entries of kind "dir" with size 0 and no id, the directories
        holding tracked paths further down. A tracked file lists itself."""
        out = []
        failed = []

        def each(name, entry, data):
            # an exception must not unwind through the C frames of the
            # library: keep it, stop the listing, raise it after
            try:
                out.append((os.fsdecode(name), _entry(entry.contents)))
            except BaseException as e:
                failed.append(e)
                return 1
            return 0

        fn = _lib.LIST_FN(each)  # referenced until the call returns
        handle = self._acquire()
        try:
            ret = _c.cairn_list(handle, _rev(rev), os.fsencode(path), fn, None)
            if ret < 0:
                err = _error(ret)  # on this thread, right after the call
        finally:
            self._release()
        del fn
        if failed:
            raise failed[0]
        if ret < 0:
            raise err
        if detail:
            return out
        return [name for name, _ in out]

    def open(self, path, rev=None):
        """A File of `path` (relative to the work tree top) at `rev`,
        unbuffered; wrap it in io.BufferedReader for small reads."""
        return File(self, path, rev)


class File(io.RawIOBase):
    """One file of one version, read-only and seekable. Each read is one
    cairn_file_pread() into the caller's buffer, at the position this
    object keeps. One thread at a time."""

    def __init__(self, repo, path, rev=None, _own_repo=False):
        super().__init__()
        self._handle = None
        self._repo = repo
        self._own_repo = _own_repo
        self._lib = _c
        self._pos = 0
        self.name = os.fsdecode(path)
        self.mode = "rb"
        handle = ctypes.c_void_p()
        repo_handle = repo._acquire()
        try:
            _check(_c.cairn_file_open(repo_handle, _rev(rev), os.fsencode(path),
                                      ctypes.byref(handle)))
        except BaseException:
            repo._release()
            raise
        self._handle = handle
        self._size = _c.cairn_file_size(handle)
        self._entry = _entry(_c.cairn_file_entry(handle).contents)

    def __repr__(self):
        return "<cairn.File %r%s>" % (self.name, " closed" if self.closed else "")

    def _check_open(self):
        if self._handle is None:
            raise ValueError("I/O operation on closed file.")

    @property
    def size(self):
        """Its size in bytes."""
        return self._size

    @property
    def entry(self):
        """The Entry it was opened from."""
        return self._entry

    def readable(self):
        self._check_open()
        return True

    def seekable(self):
        self._check_open()
        return True

    def readinto(self, b):
        """Up to len(b) bytes at the position, straight into b's memory;
        the count, 0 at the end."""
        self._check_open()
        with memoryview(b) as view, view.cast("B") as mem:
            n = len(mem)
            if not n or self._pos >= self._size:
                return 0
            buf = (ctypes.c_char * n).from_buffer(mem)
            try:
                got = self._lib.cairn_file_pread(self._handle, buf, n, self._pos)
            finally:
                del buf  # its export of mem, before mem is released
        _check(got)
        self._pos += got
        return got

    def readall(self):
        """The rest of the file, in one read of the library."""
        self._check_open()
        return self._read_upto(self._size - self._pos)

    def _read_upto(self, n):
        """Up to n bytes from the position (fewer at the end): one
        buffer, filled by as many reads of the library as it takes."""
        buf = bytearray(max(n, 0))
        done = 0
        with memoryview(buf) as mem:
            while done < len(buf):
                got = self.readinto(mem[done:])
                if not got:
                    break
                done += got
        del buf[done:]
        return bytes(buf)

    def seek(self, offset, whence=io.SEEK_SET):
        self._check_open()
        if whence == io.SEEK_SET:
            base = 0
        elif whence == io.SEEK_CUR:
            base = self._pos
        elif whence == io.SEEK_END:
            base = self._size
        else:
            raise ValueError("invalid whence (%r, should be 0, 1 or 2)" % (whence,))
        pos = base + operator.index(offset)
        if pos < 0:
            raise OSError(errno.EINVAL, "negative seek position %d" % pos)
        self._pos = pos
        return pos

    def tell(self):
        self._check_open()
        return self._pos

    def close(self):
        """Closes the file, and the Repo if cairn.open() made it."""
        if self.closed:
            return
        try:
            handle, self._handle = getattr(self, "_handle", None), None
            if handle is not None:
                self._lib.cairn_file_close(handle)
                self._repo._release()
                if self._own_repo:
                    self._repo.close()
        finally:
            super().close()


def open(path, rev=None, repo=".", remote=None, mode="rb", buffering=-1):
    """Opens `path` (relative to the work tree top of `repo`) at `rev` for
    reading. `repo` is a directory of the work tree or a Repo; `remote` as
    for Repo (only with a directory). Returns an io.BufferedReader of
    1 MiB (`buffering` bytes if > 0) over a File, reachable as `.raw`,
    or with buffering=0 the File itself. For text, wrap it in
    io.TextIOWrapper."""
    if mode != "rb":
        raise ValueError("cairn.open() reads bytes only: mode must be 'rb', not %r" % (mode,))
    if isinstance(repo, Repo):
        if remote is not None:
            raise ValueError("cairn.open(): give remote to the Repo, not with one")
        raw = File(repo, path, rev)
    else:
        r = Repo(repo, remote=remote)
        try:
            raw = File(r, path, rev, _own_repo=True)
        except BaseException:
            r.close()
            raise
    if buffering == 0:
        return raw
    return io.BufferedReader(raw, buffer_size=buffering if buffering > 0 else _BUFFER_SIZE)
