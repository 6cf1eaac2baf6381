/*
 * cairn.h: the public C interface of cairn, a content-addressed data and
 * model versioning system that runs beside git.
 *
 * One header, opaque handles, one error space. Every function returns 0
 * (or a count) on success and a negative CAIRN_E* code on failure; codes
 * lie in a range reserved for cairn (CAIRN_ERR_BASE and below) that never
 * meets -errno. An out-parameter is written only on success. The message
 * of the last failure on the calling thread, naming what failed as the
 * command line would, is cairn_last_error(); cairn_strerror() names a
 * code. The library prints nothing, prompts for nothing, installs no
 * signal handler and does not depend on the current directory.
 *
 * Threads: a cairn_repo may be shared by threads; a cairn_file is used by
 * one thread at a time (open one per thread to read in parallel).
 *
 * Documentation/technical/library.md says more.
 */
#ifndef CAIRN_H
#define CAIRN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_VERSION_MAJOR 0
#define CAIRN_VERSION_MINOR 1
#define CAIRN_VERSION_PATCH 0

/* Error codes. The numbers are pinned: they never change meaning. */
#define CAIRN_ERR_BASE (-31000)
enum {
	CAIRN_OK = 0,
	CAIRN_EIO = CAIRN_ERR_BASE - 1,         /* a system call failed */
	CAIRN_ENOMEM = CAIRN_ERR_BASE - 2,      /* out of memory */
	CAIRN_ENOTFOUND = CAIRN_ERR_BASE - 3,   /* revision, path, object or key not found */
	CAIRN_ECORRUPT = CAIRN_ERR_BASE - 4,    /* stored bytes fail verification */
	CAIRN_EFORMAT = CAIRN_ERR_BASE - 5,     /* malformed input: pointer, config, tree, pack */
	CAIRN_EVERSION = CAIRN_ERR_BASE - 6,    /* a format version this build does not know */
	CAIRN_EINVAL = CAIRN_ERR_BASE - 7,      /* invalid argument */
	CAIRN_EEXIST = CAIRN_ERR_BASE - 8,      /* already exists */
	CAIRN_ENOREPO = CAIRN_ERR_BASE - 9,     /* not in a git work tree / no .cairn */
	CAIRN_ELMDB = CAIRN_ERR_BASE - 10,      /* the LMDB index failed */
	CAIRN_ECONFLICT = CAIRN_ERR_BASE - 11,  /* would overwrite or lose local changes */
	CAIRN_EUNSAFE = CAIRN_ERR_BASE - 12,    /* a path would escape or touch what it must not */
	CAIRN_ETRANSIENT = CAIRN_ERR_BASE - 13, /* remote: may succeed if retried */
	CAIRN_EPERMANENT = CAIRN_ERR_BASE - 14, /* remote: will fail again if retried */
	CAIRN_ENOSPC = CAIRN_ERR_BASE - 15,     /* no space left on device */
	CAIRN_EINTR = CAIRN_ERR_BASE - 16,      /* interrupted */
	CAIRN_ERESOURCE = CAIRN_ERR_BASE - 17,  /* out of a process resource: open files */
	CAIRN_ENOTDATA = CAIRN_ERR_BASE - 18,   /* not versioned by cairn (no pointer holds it) */
	CAIRN_EISDIR = CAIRN_ERR_BASE - 19,     /* a directory where a file was wanted */
	CAIRN_ERR_LAST = CAIRN_ERR_BASE - 19
};

/* A short name of a code ("not found"); "unknown error" for others. */
const char *cairn_strerror(int code);
/* The message of the last failure on this thread ("" if none). Valid
 * until the next call of the library on this thread. */
const char *cairn_last_error(void);

typedef struct cairn_repo cairn_repo;
typedef struct cairn_file cairn_file;

/*
 * Opens the cairn repository whose work tree holds `path` (a directory:
 * the work tree top or any directory below it, as git finds its
 * repository). The local store is opened for writing when it can be
 * (made if missing: a fresh clone has none), else read-only.
 */
int cairn_repo_open(const char *path, cairn_repo **out);
void cairn_repo_close(cairn_repo *repo);
/*
 * The remote that reads fall back to for what the local store lacks: a
 * remote's name, NULL for the default remote (core.remote; the setting
 * after open), or "" for none (local reads only). The connection is made
 * on the first read that needs it; what it brings stays in the store.
 */
int cairn_repo_set_remote(cairn_repo *repo, const char *name);

/* What a (revision, path) names. */
enum cairn_kind { CAIRN_KIND_FILE = 1, CAIRN_KIND_DIR = 2, CAIRN_KIND_LINK = 3 };
struct cairn_entry {
	int kind;            /* enum cairn_kind */
	uint32_t mode;       /* git's: 0100644, 0100755, 040000, 0120000 */
	uint64_t size;       /* bytes (a directory: of all its files) */
	uint64_t files;      /* a directory: its files; else 1 */
	char id[33];         /* XXH3-128 content id, hex */
	char sha256[65];     /* SHA-256 of the content (a directory: of its tree), hex */
	char commit[41];     /* the commit the revision resolved to; "" for the work tree */
	char dataset[4096];  /* the tracked path whose pointer holds it (PATH of PATH.cairn) */
};

/*
 * Resolves `path` (relative to the work tree top; a tracked file or
 * directory, or a path inside a tracked directory) at revision `rev` (any
 * git revision; NULL for the pointer files in the work tree). Reads git
 * and the trees in the local store.
 */
int cairn_resolve(cairn_repo *repo, const char *rev, const char *path, struct cairn_entry *out);

/*
 * Calls fn(name, entry, data) for each entry of the directory `path` at
 * `rev`, in name order: of a tracked directory, or a directory inside one
 * (read from its trees), or a directory of the work tree that is not
 * tracked ("" for the top): the tracked paths directly in it, and, as
 * directories of size 0 and no id, the directories holding tracked paths
 * further down. A tracked file gives itself. A non-zero return of fn
 * stops the listing and is returned.
 */
typedef int (*cairn_list_fn)(const char *name, const struct cairn_entry *entry, void *data);
int cairn_list(cairn_repo *repo, const char *rev, const char *path, cairn_list_fn fn, void *data);

/*
 * Opens a file (or a symlink: its target is its content) of a version for
 * reading, as cairn_resolve() finds it. Content comes from the local
 * store, and what it lacks from the remote (cairn_repo_set_remote), chunk
 * by chunk with read-ahead, kept in the store; every chunk is checked
 * against its id as it is read, and a file
 * read whole from the start, in order, is checked against its SHA-256
 * when its last byte is read (a mismatch fails that read).
 */
int cairn_file_open(cairn_repo *repo, const char *rev, const char *path, cairn_file **out);
/* Up to n bytes at off; returns the count (0 at the end) or a code. */
int64_t cairn_file_pread(cairn_file *f, void *buf, size_t n, uint64_t off);
/* The same at the file's position, which it advances. */
int64_t cairn_file_read(cairn_file *f, void *buf, size_t n);
/* Moves the position (SEEK_SET, SEEK_CUR, SEEK_END); returns it or a code. */
int64_t cairn_file_seek(cairn_file *f, int64_t off, int whence);
uint64_t cairn_file_size(const cairn_file *f);
/* The entry the file was opened from. */
const struct cairn_entry *cairn_file_entry(const cairn_file *f);
void cairn_file_close(cairn_file *f);

#ifdef __cplusplus
}
#endif
#endif
