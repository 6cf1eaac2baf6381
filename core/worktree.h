#ifndef CAIRN_WORKTREE_H
#define CAIRN_WORKTREE_H
/*
 * The work tree side: scanning a tracked path into an in-memory tree of
 * nodes, the stat cache, hashing, and computing tree ids bottom-up.
 *
 * Stat cache (LMDB db "stat", key = repo-relative path): for each file or
 * symlink last seen by cairn, (mode, dev, ino, size, mtime_ns, ctime_ns)
 * and its id and sha256, plus `cached_at`, the time the entry was written.
 * An entry is trusted when the file's lstat still matches it and both
 * mtime and ctime are older than cached_at (git's racy-git rule: a file
 * changed in the same clock tick as the entry was written could change
 * again without its timestamps moving, so it is hashed again).
 */
#include "core/hash.h"
#include "core/object.h"
#include "core/repo.h"

/* Temp files of a checkout, beside their final name: never scanned. */
#define WT_TMP_PREFIX ".cairn-tmp-"

struct wt_node {
	char *name;        /* last component: points into path, not owned */
	char *path;        /* repo-relative path (owned) */
	size_t pathlen;
	uint32_t mode;     /* MODE_FILE, MODE_EXEC, MODE_LINK, MODE_DIR */
	uint64_t size;     /* file: bytes; dir: total bytes below */
	uint64_t files;    /* dir: files below */
	struct oid id;
	struct sha256 sha;
	int known;         /* id and sha are valid */
	int from_cache;    /* known thanks to a trusted stat cache entry */
	uint64_t dev, ino;
	int64_t mtime_ns, ctime_ns;
	struct wt_node *kids; /* dir: sorted by name */
	size_t nkids, alloc;
	char *kidpaths;       /* if set, the kids' paths live here, not owned */
};

/*
 * Scans `rel` (a file, symlink or directory) without following symlinks.
 * *out is NULL if the path does not exist. Files whose stat cache entry is
 * trusted come back known. Special files (fifo, socket, device) inside a
 * directory are skipped with a warning on stderr; entry names that
 * entry_name_ok() refuses are an error (CAIRN_EUNSAFE). A directory that
 * contains a pointer file is an error (CAIRN_EINVAL): tracked paths do not
 * nest. NEEDSWORK: the skip warning is printed here; core should hand it
 * to the caller instead.
 */
/* wt_scan flags */
#define WT_SCAN_TREES 1 /* also compute the ids of directories found whole in
			 * the stat cache, on the scanning threads (for a
			 * compare: wt_compute_trees(.., NULL, ..) keeps them) */
int wt_scan(struct repo *r, struct odb_thread *t, const char *rel, unsigned flags,
	    struct wt_node **out, struct strbuf *err);
void wt_node_free(struct wt_node *n);

/* Collect files and symlinks below n (n itself if not a dir). */
void wt_collect_files(struct wt_node *n, struct wt_node ***list, size_t *nr, size_t *alloc);

/* Hashes file contents (XXH3-128 and SHA-256 in one pass). */
int wt_hash_path(const char *abs, uint32_t mode, struct oid *id, struct sha256 *sha,
		 uint64_t *size, struct strbuf *scratch, struct strbuf *err);
/* Hashes every unknown file below root on r->threads threads. */
int wt_hash_unknown(struct repo *r, struct wt_node *root, struct strbuf *err);

/*
 * Computes the ids of directories bottom-up from their children (which
 * must all be known). For each directory, `cb` (if set) gets its tree and
 * encoding, e.g. to store it; with a cb, a directory tree_check_links()
 * refuses is an error (CAIRN_EUNSAFE), as no reader would accept it.
 */
typedef int (*wt_tree_cb)(struct wt_node *dir, const struct tree *t, const struct strbuf *enc,
			  void *data, struct strbuf *err);
int wt_compute_trees(struct wt_node *root, wt_tree_cb cb, void *data, struct strbuf *err);

/* Writes stat cache entries for every known file below root that is not
 * from the cache (it was just hashed or written). */
int wt_stat_cache_save(struct repo *r, struct wt_node **roots, size_t nroots, struct strbuf *err);
/* Re-lstat a node (after cairn wrote it) so it can be cached. */
int wt_node_restat(struct repo *r, struct wt_node *n, struct strbuf *err);
/* Fill a node's stat fields from struct stat. */
struct stat;
void wt_node_set_stat(struct wt_node *n, const struct stat *st);

#endif
