#ifndef CAIRN_GC_H
#define CAIRN_GC_H
/*
 * Garbage collection of the local store, and the walk it shares with fsck:
 * which objects the pointers reach (Documentation/technical/gc-fsck.md).
 *
 * 1. Roots: the pointer files that name data worth keeping. By default
 *    every pointer blob in the history of all branches and tags, the
 *    pointers staged in git's index (both known by content, whatever
 *    their names), and the pointer files in the work tree (committed or
 *    not, ignored by git or not); or only the index and the work tree; or
 *    one commit's pointers plus those.
 * 2. Mark: from each root, every tree, manifest and chunk reached. Objects
 *    that the local store does not have are reached but not read (their
 *    data may live only on a remote); an object the store has but cannot
 *    read stops gc, since what lies below it is unknown.
 * 3. Sweep (gc_sweep): under the store lock, taken exclusively, packs that
 *    hold nothing reached are removed, packs that are mostly garbage are
 *    copied (their live objects only) into new packs, and the index
 *    entries of everything unreached are deleted, in one LMDB transaction
 *    committed before any file is unlinked.
 */
#include "core/object.h"
#include "core/odb.h"
#include "core/pointer.h"
#include "core/progress.h"
#include "core/repo.h"

enum gc_scope {
	GC_SCOPE_ALL = 0,   /* all branches and tags, the index, the work tree */
	GC_SCOPE_WORKSPACE, /* the index and the work tree only */
	GC_SCOPE_REV,       /* one commit, the index and the work tree */
	GC_SCOPE_HISTORY,   /* all branches and tags only: what a remote must hold */
};

enum gc_origin {
	GC_ROOT_WORKTREE = 1, /* a pointer file in the work tree */
	GC_ROOT_INDEX,        /* a pointer blob staged in git's index */
	GC_ROOT_HISTORY,      /* a pointer blob committed somewhere */
};

struct gc_root {
	char *path;      /* the tracked path: the pointer's path without .cairn
			  * (a pointer blob at another name: that name) */
	int origin;      /* enum gc_origin */
	char blob[41];   /* the git blob id of the pointer; "" for the work tree */
	struct pointer ptr;
};

/* A pointer file or blob that could not be parsed. */
struct gc_bad_root {
	char *path;
	int origin;
	int code;        /* CAIRN_EFORMAT, CAIRN_EVERSION, ... */
	char *msg;
};

struct gc_roots {
	struct gc_root *v;     /* distinct versions: work tree first, history last */
	size_t n, alloc;
	struct gc_bad_root *bad;
	size_t nbad, abad;
	uint64_t commits;      /* commits whose pointers were read */
	uint64_t worktree;     /* pointer files read in the work tree */
	uint64_t blobs;        /* pointer blobs found in git */
};

/*
 * Collects the roots of `scope` (rev: the commit for GC_SCOPE_REV). Blobs
 * or files that do not parse as pointers are listed in out->bad; the
 * caller decides whether that stops it. Errors: git failing or an unknown
 * revision (CAIRN_ENOTFOUND).
 */
int gc_roots_collect(struct repo *r, int scope, const char *rev, struct gc_roots *out,
		     struct strbuf *err);
void gc_roots_release(struct gc_roots *ro);

/*
 * What the walk calls, for fsck. `file` is called once for each distinct
 * non-empty file (or symlink target) reached, with its first path, before
 * its chunks are marked; `problem` for a tree or file that is reached but
 * cannot be read: `absent` when the store does not index it at all (for a
 * file: neither as a manifest nor as a chunk), else it is indexed but
 * unreadable (msg says why); `top` when it is what the pointer names
 * (type OBJ_MANIFEST stands for a file). `root` is the index of the root
 * in gc_roots. A non-zero return stops the walk and is returned.
 */
struct gc_hooks {
	int (*file)(const struct tree_entry *e, const char *path, size_t root, void *data,
		    struct strbuf *err);
	int (*problem)(int absent, const struct oid *id, int type, const char *path, size_t root,
		       int top, const char *msg, void *data, struct strbuf *err);
	void *data;
};

struct gc_mark {
	struct oidset reached;   /* (oid, type) of every object reached */
	/* trees reached that are stored as deltas of a tree not reached: gc
	 * stores them whole again, so their base can go */
	struct oidset rebase;
	struct oid *deltas; /* pairs (tree, its base), every delta reached */
	size_t ndeltas, adeltas;
	uint64_t trees, files, chunks; /* distinct ones reached */
	uint64_t absent_roots;   /* roots whose top object is not in the store */
	/* trees and manifests reached but not in the store: what is below
	 * them is unknown (gc -r fetches them from the remote) */
	struct odb_key *absent;
	size_t nabsent, aabsent;
};

/*
 * Marks everything the roots reach. Without hooks (gc), an object that is
 * not indexed is noted in m->absent and the walk goes on; one that is
 * indexed but cannot be read stops it with that error. With hooks (fsck),
 * both go to hooks->problem. Initialises m; release it with
 * gc_mark_release().
 */
int gc_mark(struct odb_thread *t, const struct gc_roots *roots, const struct gc_hooks *hooks,
	    struct gc_mark *m, struct strbuf *err);
void gc_mark_release(struct gc_mark *m);

struct gc_opts {
	int dry_run;
	int threshold;          /* repack a pack whose garbage exceeds this percent */
	int64_t orphan_age;     /* seconds: unindexed pack files older are removed */
	struct progress *progress;
};
#define GC_THRESHOLD_DEFAULT 50
#define GC_ORPHAN_AGE_DEFAULT 600

struct gc_result {
	uint64_t objects, live_objects, dead_objects;
	uint64_t live_bytes, dead_bytes;      /* stored, with entry headers */
	uint64_t packs, packs_deleted, packs_repacked, packs_written;
	uint64_t left_objects, left_bytes;    /* dead, left in packs kept as they are */
	uint64_t orphan_files, orphan_bytes;  /* pack files no index names */
	uint64_t bytes_before, bytes_after;   /* pack files the index names */
	uint64_t bytes_freed;                 /* everything, orphans included */
};

/*
 * Removes from the local store what `m` did not reach (or, with dry_run,
 * only computes what it would remove). The caller holds the store lock
 * exclusively (odb_lock) from before the roots were collected, so that no
 * writer adds or names objects meanwhile. Safe against kill -9 at any
 * moment: new packs are durable before the index names them, and old files
 * are unlinked only after the index stopped naming them. Errors: a live
 * object that cannot be read while repacking (CAIRN_ECORRUPT, nothing
 * changed), I/O and index errors.
 */
int gc_sweep(struct repo *r, const struct gc_mark *m, const struct gc_opts *o,
	     struct gc_result *res, struct strbuf *err);

#endif
