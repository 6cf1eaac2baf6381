"""Loading libcairn.so.0 and declaring the functions of include/cairn.h.

Only ctypes: no compiled extension, so one package serves every Python
3 version, and every call releases the GIL while it runs in C.
"""

import ctypes
import ctypes.util
import os

# include/cairn.h: the codes are pinned, CAIRN_ERR_BASE - N
ERR_BASE = -31000
EIO = ERR_BASE - 1
ENOMEM = ERR_BASE - 2
ENOTFOUND = ERR_BASE - 3
ECORRUPT = ERR_BASE - 4
EFORMAT = ERR_BASE - 5
EVERSION = ERR_BASE - 6
EINVAL = ERR_BASE - 7
EEXIST = ERR_BASE - 8
ENOREPO = ERR_BASE - 9
ELMDB = ERR_BASE - 10
ECONFLICT = ERR_BASE - 11
EUNSAFE = ERR_BASE - 12
ETRANSIENT = ERR_BASE - 13
EPERMANENT = ERR_BASE - 14
ENOSPC = ERR_BASE - 15
EINTR = ERR_BASE - 16
ERESOURCE = ERR_BASE - 17
ENOTDATA = ERR_BASE - 18
EISDIR = ERR_BASE - 19

KIND_FILE, KIND_DIR, KIND_LINK = 1, 2, 3

SONAME = "libcairn.so.0"


class cairn_entry(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int),
        ("mode", ctypes.c_uint32),
        ("size", ctypes.c_uint64),
        ("files", ctypes.c_uint64),
        ("id", ctypes.c_char * 33),
        ("sha256", ctypes.c_char * 65),
        ("commit", ctypes.c_char * 41),
        ("dataset", ctypes.c_char * 4096),
    ]


_p = ctypes.c_void_p
_s = ctypes.c_char_p

# cairn_list_fn: int (*)(const char *name, const struct cairn_entry *, void *)
LIST_FN = ctypes.CFUNCTYPE(ctypes.c_int, _s, ctypes.POINTER(cairn_entry), _p)

# name: (result type, argument types)
_PROTOTYPES = {
    "cairn_strerror": (_s, [ctypes.c_int]),
    "cairn_last_error": (_s, []),
    "cairn_repo_open": (ctypes.c_int, [_s, ctypes.POINTER(_p)]),
    "cairn_repo_close": (None, [_p]),
    "cairn_repo_set_remote": (ctypes.c_int, [_p, _s]),
    "cairn_resolve": (ctypes.c_int, [_p, _s, _s, ctypes.POINTER(cairn_entry)]),
    "cairn_list": (ctypes.c_int, [_p, _s, _s, LIST_FN, _p]),
    "cairn_file_open": (ctypes.c_int, [_p, _s, _s, ctypes.POINTER(_p)]),
    "cairn_file_pread": (ctypes.c_int64, [_p, _p, ctypes.c_size_t, ctypes.c_uint64]),
    "cairn_file_read": (ctypes.c_int64, [_p, _p, ctypes.c_size_t]),
    "cairn_file_seek": (ctypes.c_int64, [_p, ctypes.c_int64, ctypes.c_int]),
    "cairn_file_size": (ctypes.c_uint64, [_p]),
    "cairn_file_entry": (ctypes.POINTER(cairn_entry), [_p]),
    "cairn_file_close": (None, [_p]),
}

_HOW_TO_BUILD = (
    "build it with 'make libcairn.so.0' in a cairn source tree and set "
    "CAIRN_LIBRARY to its path, or install this package from a clone "
    "with 'pip install ./contrib/python', which builds and bundles it"
)


def _candidates():
    """Where to look, in order: CAIRN_LIBRARY alone when it is set, else
    the copy inside this package, then the system's libcairn."""
    env = os.environ.get("CAIRN_LIBRARY")
    if env:
        return [env], "CAIRN_LIBRARY=%s" % env
    found = []
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), SONAME)
    if os.path.exists(bundled):
        found.append(bundled)
    system = ctypes.util.find_library("cairn")
    if system:
        found.append(system)
    return found, "no %s in the package and none on the system" % SONAME


def load():
    """The library with its prototypes declared, and the path it came
    from; ImportError saying how to build it when there is none."""
    paths, none_msg = _candidates()
    failures = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            failures.append(str(e))  # it names the path
            continue
        try:
            for name, (res, args) in _PROTOTYPES.items():
                fn = getattr(lib, name)
                fn.restype = res
                fn.argtypes = args
        except AttributeError as e:
            failures.append("%s: not a libcairn.so.0 of this version: %s" % (path, e))
            continue
        return lib, path
    why = "; ".join(failures) if failures else none_msg
    raise ImportError("cairn: cannot load %s (%s): %s" % (SONAME, why, _HOW_TO_BUILD))
