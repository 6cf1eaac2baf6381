#ifndef CAIRN_ODB_H
#define CAIRN_ODB_H
/*
 * The object store: packs under DIR/packs, temp files under DIR/tmp, and
 * the LMDB index under DIR/index. Objects are chunks, manifests and trees
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

struct odb_opts {
	int zlevel;          /* zstd level for new objects */
	uint64_t pack_size;  /* seal a pack once it reaches this many bytes */
};
#define ODB_PACK_SIZE_DEFAULT (64ull << 20)
#define ODB_ZLEVEL_DEFAULT 3

struct odb {
	char *dir, *packdir, *tmpdir;
	struct idx *idx;
	struct odb_opts opts;
	pthread_mutex_t fd_lock;
	int *fds;          /* pack number -> open fd, or -1 */
	size_t nfds;
};

struct odb_thread {
	struct odb *odb;
	struct idx_reader rd;
	struct zctx *z;
	struct strbuf raw, stored;
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

/* Removes temp files left in DIR/tmp by processes that no longer run. */
void odb_clean_tmp(struct odb *odb);

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
 * Like odb_put for an object already encoded (fetched from a remote): the
 * caller has verified that `stored` decodes with `codec` to raw_len bytes
 * matching id.
 */
int odb_put_stored(struct odb_batch *b, struct odb_thread *t, int type, const struct oid *id,
		   int codec, const void *stored, size_t stored_len, size_t raw_len, int *was_new,
		   struct strbuf *err);
/*
 * odb_read, and also the object's stored form: *stored points into t's
 * buffer, valid until t's next read.
 */
int odb_read_stored(struct odb_thread *t, const struct oid *id, int type, struct strbuf *raw,
		    int *codec, const void **stored, size_t *stored_len, struct strbuf *err);

/*
 * Takes a whole pack received from elsewhere into the store: tmp_pack (in
 * DIR/tmp) holds `size` bytes named pid, whose entries e[0..n) the caller
 * has verified. Writes its index, makes both durable, renames them into
 * packs/ and indexes the entries (sorting e). The file is moved, not copied.
 */
int odb_adopt_pack(struct odb *odb, const char *tmp_pack, const struct oid *pid, uint64_t size,
		   struct pack_entry *e, size_t n, struct strbuf *err);

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

#endif
