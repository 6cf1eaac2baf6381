#ifndef CAIRN_INDEX_H
#define CAIRN_INDEX_H
/*
 * The LMDB environments of a repository. Two of them, so that what the
 * store holds and what one work tree and its remotes remember stay apart:
 *
 * The store's index (.cairn/store/index/, IDX_STORE), the only index of
 * the objects: everything in it is derived from pack index files, so it
 * can be rebuilt, but it is written only after the bytes it names are
 * durable.
 *   obj   oid[16] type[1]   -> struct obj_loc, encoded (obj_loc_encode)
 *   pack  u32 pack number   -> pack oid[16], u64 size, u32 count, u64 raw
 *   meta  name              -> small values
 *
 * The work-tree state (.cairn/state/, IDX_STATE): caches, each of which
 * can be dropped at the cost of reading the data, or a remote's pack
 * index files, again.
 *   stat  repo-relative path -> stat cache entry (core/worktree.c)
 *   rpack remote NUL pack oid[16] -> u64 idx size, u32 count (packs seen)
 *   robj  remote NUL oid[16] type[1] pack oid[16] -> pack oid[16], offset,
 *         lengths, codec: one entry per remote copy
 *         fields (what a remote holds and where; refreshed from its
 *         pack index files, never trusted for content)
 *   meta  name              -> small values (the remote cache's version)
 *
 * A store written before the split holds stat, rpack and robj itself;
 * odb_open() moves them to the state the first time it opens the store
 * for writing.
 *
 * Threads: the environment is opened with MDB_NOTLS, so read transactions
 * belong to no thread. Read with idx_rd_begin()/idx_rd_end() on a
 * struct idx_reader owned by one thread; write with idx_write(), which
 * retries the callback after growing the map when it is full.
 */
#include <lmdb.h>
#include <pthread.h>

#include "core/hash.h"
#include "core/util.h"

struct obj_loc {
	uint32_t pack_no;
	uint8_t codec;
	uint32_t raw_len;
	uint32_t stored_len;
	uint64_t offset; /* of the entry header */
};
/* meta key (in the state) of the remote cache's layout version */
#define IDX_RCACHE_VERSION_KEY "remote-cache-version"

/* the fixed layout of older stores; new entries are varints (shorter) */
#define OBJ_LOC_SZ 24
#define OBJ_LOC_MAX 32

enum idx_kind { IDX_STORE, IDX_STATE };

struct idx {
	MDB_env *env;
	MDB_dbi obj, pack, stat, meta, rpack, robj;
	/* IDX_STORE opened for writing: a pre-split store's caches, still
	 * to be moved to the state (0 when there are none) */
	MDB_dbi old_stat, old_rpack, old_robj;
	int kind;
	const char *label; /* "the index (.cairn/store/index)", for messages */
	int readonly;
	int written; /* a write transaction of this process committed */
	size_t mapsize;
	/* Readers hold it shared while a read transaction is live; a map
	 * resize holds it exclusive (LMDB requires no live transactions). */
	pthread_rwlock_t resize_lock;
	pthread_mutex_t write_lock;
};

struct idx_reader {
	struct idx *idx;
	MDB_txn *txn; /* reset between uses, renewed by idx_rd_begin */
	int live;
	int prev_kind; /* the fault guard's, while live */
};

/* Opens (creating when !readonly) the environment of `kind` in `dir`. */
int idx_open(struct idx **out, const char *dir, int kind, int readonly, struct strbuf *err);
void idx_close(struct idx *idx);

/* idx may be NULL (no state): idx_rd_begin then gives NULL and no message. */
void idx_reader_init(struct idx_reader *r, struct idx *idx);
void idx_reader_release(struct idx_reader *r);
/* Starts (or renews) a read snapshot; returns the txn or NULL with err. */
MDB_txn *idx_rd_begin(struct idx_reader *r, struct strbuf *err);
void idx_rd_end(struct idx_reader *r);

/*
 * Reads every entry of every named database, each key and value byte,
 * and checks that the keys come in order (1 to 511 bytes, strictly
 * increasing): a damaged page anywhere in data.mdb, in a cache no command
 * of the moment reads included, is found here rather than by the next
 * command that meets it. CAIRN_ECORRUPT naming the database, or
 * CAIRN_ELMDB when a transaction cannot start; a page damaged so that
 * reading it faults ends the process under the fault guard (exit 3).
 */
int idx_verify(struct idx_reader *r, struct strbuf *err);

/*
 * Runs fn(txn, data) in a write transaction and commits it. If fn or the
 * commit hits MDB_MAP_FULL, the transaction is aborted, the map doubled
 * and fn run again, so fn must be re-runnable. fn returns 0 or a CAIRN_E*
 * code (which aborts the transaction and is returned).
 */
int idx_write(struct idx *idx, int (*fn)(MDB_txn *txn, void *data, struct strbuf *err),
	      void *data, struct strbuf *err);

/* Encode / decode an obj key (oid + type) and location. */
void idx_obj_key(uint8_t key[OID_RAWSZ + 1], const struct oid *id, int type);
/* Returns the length written (at most OBJ_LOC_MAX). */
size_t obj_loc_encode(uint8_t out[OBJ_LOC_MAX], const struct obj_loc *l);
int obj_loc_decode(const void *in, size_t len, struct obj_loc *l);

/*
 * An lmdb error as a message; returns CAIRN_ELMDB, CAIRN_ENOSPC, or for
 * MDB_MAP_FULL the positive IDX_RETRY_GROW, which an idx_write() callback
 * returns to have the map grown and itself run again.
 */
#define IDX_RETRY_GROW 1
int idx_err(struct strbuf *err, int rc, const char *what);

/*
 * The size of data.mdb and how much of it is on LMDB's free list. Pages a
 * commit copies are freed, not returned to the file system: an add that
 * touches keys all over the obj tree (object ids are random) leaves as
 * many free pages as the tree has, and the file keeps them.
 */
int idx_space(struct idx *idx, uint64_t *file_bytes, uint64_t *free_bytes, struct strbuf *err);
/* 1 when a quarter or more of the file, and at least IDX_COMPACT_MIN_FREE, is free */
#define IDX_COMPACT_MIN_FREE (256 << 10)
int idx_compact_due(struct idx *idx);
/*
 * Rewrites the environment in `dir` (which `idx` has open) without its
 * free pages, every database in key order so that leaves are full, and
 * puts the copy in place of data.mdb; the old file stays intact until the
 * rename. Closes idx whatever happens. The caller holds the store lock
 * exclusively (no writer in another process). IDX_COMPACT_BUSY (positive,
 * no message) when another process has the environment open: the copy is
 * dropped and nothing changes. Else 0 or an error with its message.
 */
#define IDX_COMPACT_BUSY 2
int idx_compact(struct idx *idx, const char *dir, struct strbuf *err);

#endif
