#ifndef CAIRN_ODB_H
#define CAIRN_ODB_H
/*
 * The object store: packs under DIR/packs, temp files under DIR/tmp, and
 * the LMDB index under DIR/index; beside it, when opened with a state_dir,
 * the work tree's caches (core/index.h). Objects are chunks, manifests and trees
 * (core/pack.h), found by (oid, type).
 *
 * Reading verifies: an object's pack entry header must match the index, a
 * chunk's or tree's bytes must hash to its id. Writing goes through an
 * odb_batch: objects are compressed by the calling thread, appended to the
 * batch's open pack, and indexed only when that pack is sealed (written,
 * fsync'd, renamed, directory fsync'd, then one LMDB transaction).
 *
 * Threads: struct odb is shared; each thread that reads or writes uses its
 * own struct odb_thread. A batch may be fed from several threads at once.
 */
#include <pthread.h>

#include "core/compress.h"
#include "core/index.h"
#include "core/oidset.h"
#include "core/pack.h"
#include "core/pack-fds.h"

struct odb_opts {
	int zlevel;          /* zstd level for new objects */
	uint64_t pack_size;  /* seal a pack once it reaches this many bytes */
	/* the work-tree state's environment (.cairn/state), or NULL for none;
	 * read only by odb_open() */
	const char *state_dir;
};
#define ODB_PACK_SIZE_DEFAULT (64ull << 20)
#define ODB_ZLEVEL_DEFAULT 3

struct odb {
	char *dir, *packdir, *tmpdir;
	struct idx *idx;
	struct idx *state;  /* stat and remote caches; NULL if none (read-only) */
	struct odb_opts opts;
	pthread_mutex_t fd_lock; /* guards lock_fd and lock_mode */
	struct pack_fds packs_open; /* a bounded cache of open pack files */
	int lock_fd;       /* DIR/gc.lock while held (odb_lock), else -1 */
	int lock_mode;     /* ODB_LOCK_SHARED or ODB_LOCK_EXCLUSIVE when held */
	/* the index's data.mdb as opened: a batch refuses to write into an
	 * index that fsck --rebuild-index has moved aside since */
	dev_t idx_dev;
	ino_t idx_ino;
};

struct odb_thread {
	struct odb *odb;
	struct idx_reader rd;  /* the store's index */
	struct idx_reader srd; /* the work-tree state (idx NULL when none) */
	struct zctx *z;
	struct strbuf raw, stored;
	int delta_depth; /* bases being read below the current read */
};

/* Creates the store's directories and an empty index. */
int odb_create(const char *dir, struct strbuf *err);
int odb_open(struct odb **out, const char *dir, const struct odb_opts *opts, int readonly,
	     struct strbuf *err);
void odb_close(struct odb *odb);

void odb_thread_init(struct odb_thread *t, struct odb *odb);
void odb_thread_release(struct odb_thread *t);

/* 0 and *loc, or CAIRN_ENOTFOUND (no message), or an index error. */
int odb_lookup(struct odb_thread *t, const struct oid *id, int type, struct obj_loc *loc,
	       struct strbuf *err);
/*
 * Reads an object into `out` (replacing it) and verifies it. Errors:
 * CAIRN_ENOTFOUND (not indexed, or its pack is gone), CAIRN_ECORRUPT (the
 * bytes do not match), CAIRN_EIO. The message names the object and pack.
 */
int odb_read(struct odb_thread *t, const struct oid *id, int type, struct strbuf *out,
	     struct strbuf *err);
/* The hex name of pack number `no`, into hex (OID_HEXSZ+1); 0 or ENOTFOUND. */
int odb_pack_name(struct odb_thread *t, uint32_t no, char *hex, struct strbuf *err);

struct odb_stats {
	uint64_t objects_new, objects_dup;
	uint64_t raw_new, stored_new; /* bytes of new objects */
	uint64_t packs_new;
};

/*
 * The store lock, DIR/gc.lock, taken with flock(2). Every writer holds it
 * shared: odb_batch_begin() and odb_adopt_pack() take it, and it stays held
 * until odb_unlock() or odb_close(), so that the pointer files a command
 * writes after its batch commits are covered too. gc holds it exclusive
 * while it decides what is garbage and removes it. The kernel drops the
 * lock when the process dies, so a killed process never leaves it stale.
 *
 * Taking it again in any mode while it is held is a no-op (0), except that
 * a shared lock cannot become exclusive (CAIRN_EINVAL). A shared lock waits
 * for as long as gc runs. An exclusive lock waits up to timeout_ms
 * (forever when negative), then fails with CAIRN_ETRANSIENT. Other errors:
 * CAIRN_EIO (the lock file cannot be opened).
 */
enum { ODB_LOCK_SHARED = 1, ODB_LOCK_EXCLUSIVE = 2 };
int odb_lock(struct odb *odb, int mode, int timeout_ms, struct strbuf *err);
void odb_unlock(struct odb *odb);

/* Removes temp files left in DIR/tmp by processes that no longer run. */
void odb_clean_tmp(struct odb *odb);

/*
 * A fetch stores trees first, then manifests, then chunks (it must read a
 * tree to know what lies below it), so an interrupted fetch leaves trees
 * whose files are not all here: incomplete, not damaged. The file
 * "fetch-incomplete" in the store says so: set (durably) before a fetch
 * stores anything, cleared when a fetch completes. fsck reports objects
 * missing below present ones as incomplete while it is set, and as
 * problems when it is not.
 */
int odb_set_incomplete(struct odb *odb, struct strbuf *err);
void odb_clear_incomplete(struct odb *odb);
int odb_is_incomplete(struct odb *odb);

/*
 * Rebuilds the LMDB index of the store in `dir` from its packs, for an
 * index that is damaged (LMDB keeps no checksums; a flipped byte can make
 * it fail or crash). Takes the store lock exclusively, moves the old index
 * aside (st->aside, kept for a post-mortem), and indexes every pack from
 * its .idx, or, when that is missing or damaged, by walking the pack
 * (which must hash to its name) and writing a new .idx. The stat cache
 * and the cache of what remotes hold start empty and fill again on use.
 * Run fsck after it to verify the objects themselves.
 */
struct odb_rebuild_stats {
	uint64_t packs, objects, dups; /* indexed; copies of an object already indexed */
	uint64_t reindexed;            /* packs read whole, their .idx rewritten */
	uint64_t skipped;              /* packs left out (unreadable, wrong name) */
	char *aside;                   /* where the old index went, NULL if none (caller frees) */
	struct strbuf notes;           /* a line per pack left out, and why (caller releases) */
};
int odb_rebuild_index(const char *dir, struct odb_rebuild_stats *st, struct strbuf *err);

struct odb_batch;
int odb_batch_begin(struct odb *odb, struct odb_batch **out, struct strbuf *err);
/*
 * Stores (type, id, raw) unless the store or this batch already has it.
 * `try_bg` is passed to the codec (see core/compress.h). Thread-safe; `t`
 * belongs to the calling thread. *was_new (if not NULL) tells whether it was
 * stored. The caller vouches that id matches raw (odb_put does not rehash).
 */
int odb_put(struct odb_batch *b, struct odb_thread *t, int type, const struct oid *id,
	    const void *raw, size_t len, int try_bg, int *was_new, struct strbuf *err);
/*
 * Like odb_put, but stored even when the store indexes (type, id) already,
 * and indexed over that entry when the batch commits: the caller has a
 * copy it vouches for and the one indexed may be wrong (a manifest fetched
 * from a remote that does not rebuild its file). Not for chunks.
 */
int odb_put_over(struct odb_batch *b, struct odb_thread *t, int type, const struct oid *id,
		 const void *raw, size_t len, struct strbuf *err);
/*
 * Like odb_put for an object already encoded (fetched from a remote): the
 * caller has verified that `stored` decodes with `codec` to raw_len bytes
 * matching id.
 */
int odb_put_stored(struct odb_batch *b, struct odb_thread *t, int type, const struct oid *id,
		   int codec, const void *stored, size_t stored_len, size_t raw_len, int *was_new,
		   struct strbuf *err);
/* The longest chain of deltas a tree is stored at, and read through. */
#define DELTA_MAX_DEPTH 16
/* After a read with t: 1 and *base set when the object read is stored as
 * a delta, else 0. */
int odb_last_delta_base(const struct odb_thread *t, struct oid *base);
/*
 * A tree whose earlier version `base` (NULL: none) is in the store: stored
 * as a delta against it (CODEC_DELTA) when that is at most 3/4 of its
 * plain encoding and the base's chain is shorter than DELTA_MAX_DEPTH,
 * else as odb_put() would. A base that cannot be read is passed over.
 */
int odb_put_tree(struct odb_batch *b, struct odb_thread *t, const struct oid *id,
		 const void *raw, size_t len, const struct oid *base, struct strbuf *err);
/*
 * odb_read, and also the object's stored form: *stored points into t's
 * buffer, valid until t's next read. With `portable`, a delta (which
 * names a base another store may lack) comes back encoded on its own.
 */
int odb_read_stored(struct odb_thread *t, const struct oid *id, int type, int portable,
		    struct strbuf *raw, int *codec, const void **stored, size_t *stored_len,
		    struct strbuf *err);

/*
 * Takes a whole pack received from elsewhere into the store: tmp_pack (in
 * DIR/tmp) holds `size` bytes named pid, whose entries e[0..n) the caller
 * has verified. Writes its index, makes both durable, renames them into
 * packs/ and indexes the entries (sorting e). The file is moved, not copied.
 */
int odb_adopt_pack(struct odb *odb, const char *tmp_pack, const struct oid *pid, uint64_t size,
		   struct pack_entry *e, size_t n, struct strbuf *err);

/*
 * Repair mode: objects put into this batch are stored even when the store
 * indexes them already, and their index entries are replaced by the new
 * copies when the packs are sealed (for fsck --repair). Call before the
 * first put.
 */
void odb_batch_set_replace(struct odb_batch *b);

/* Seals the open pack, waits for other seals, frees the batch. */
int odb_batch_commit(struct odb_batch *b, struct odb_stats *stats, struct strbuf *err);
/* Drops the open pack (its temp file is removed) and frees the batch. */
void odb_batch_abort(struct odb_batch *b);

/* Store-wide numbers for `cairn stats`. */
struct odb_totals {
	uint64_t packs, pack_bytes;
	uint64_t objects[4];     /* by type */
	uint64_t raw_bytes[4];   /* sum of raw_len by type */
	uint64_t stored_bytes[4];
};
int odb_totals(struct odb_thread *t, struct odb_totals *tot, struct strbuf *err);

/* One record of the index's pack table. */
struct odb_pack_info {
	uint32_t no;
	struct oid id;     /* the pack's name */
	uint64_t size;     /* bytes of the pack file */
	uint32_t count;    /* entries in the pack file */
	uint64_t raw;      /* sum of their raw_len */
};
/* Every pack the index names, by increasing number; *out is malloc'd. */
int odb_list_packs(struct odb_thread *t, struct odb_pack_info **out, size_t *n,
		   struct strbuf *err);

/*
 * Calls fn for every object the index holds, in key order, inside one read
 * snapshot of t (fn must not use t). A non-zero return of fn stops the walk
 * and is returned. Entries with a malformed key or value are passed with
 * type 0.
 */
int odb_foreach_object(struct odb_thread *t,
		       int (*fn)(const struct oid *id, int type, const struct obj_loc *loc,
				 void *data),
		       void *data, struct strbuf *err);

/*
 * Reads and verifies, as odb_read() does, object (id, type) at `loc` in the
 * open pack file `fd` (named `pack` in messages), without the index: the
 * entry header must match loc, the bytes must decode, and a chunk or tree
 * must hash to id. Errors: CAIRN_ECORRUPT (also for a short read), CAIRN_EIO.
 */
int odb_read_at(struct odb_thread *t, int fd, const char *pack, const struct oid *id, int type,
		const struct obj_loc *loc, struct strbuf *out, struct strbuf *err);

/* An (oid, type) key of the index. */
struct odb_key {
	struct oid id;
	uint8_t type;
};

/* A pack already durable in DIR/packs, to be indexed by odb_rewrite(). */
struct odb_new_pack {
	struct oid id;
	uint64_t size, raw;
	const struct pack_entry *e;
	size_t n;
};

/*
 * One write transaction that changes where objects live (gc, repair):
 *  1. each new pack gets the next pack number, and each of its entries is
 *     indexed there, replacing the entry of the same key if there is one;
 *  2. the index entries `drop` are deleted;
 *  3. the packs `drop_packs` are removed from the pack table, with every
 *     object entry still pointing into them.
 * Nothing is unlinked: the caller removes the files of dropped packs after
 * this returns (a crash in between leaves files that nothing names). The
 * new packs' files must be durable before the call. Pack numbers are never
 * reused. Errors: those of idx_write().
 */
struct odb_rewrite {
	const struct odb_new_pack *packs;
	size_t npacks;
	const struct odb_key *drop;
	size_t ndrop;
	const uint32_t *drop_packs;
	size_t ndrop_packs;
	uint64_t dropped_entries; /* out: entries removed by step 3 */
};
int odb_rewrite(struct odb *odb, struct odb_rewrite *rw, struct strbuf *err);

#endif
