#ifndef CAIRN_SYNC_H
#define CAIRN_SYNC_H
/*
 * Moving objects between the local store and a remote
 * (Documentation/technical/remote-format.md).
 *
 * What a remote holds is learned from its pack index files and cached in
 * LMDB (rpack, robj), refreshed incrementally: only index files not seen
 * before are downloaded; packs that vanished are forgotten.
 *
 * Push walks the objects the given pointers need, all the way down (a
 * tree on the remote is not taken as proof of what is below it: every
 * object is looked up in the cache), and uploads packs made of only the
 * missing objects, copied in their stored form after being verified:
 * chunk packs first, then the pack of manifests and trees, each pack
 * before its index. So a remote never names (through an index) a pack
 * that is not whole, nor gets a tree before its files. A remote manifest
 * counts as there only when it is the same bytes as the local one.
 *
 * Fetch walks the same graph from the top, one level at a time, asking
 * the remote only for what the local store lacks: a whole pack when most
 * of it is needed, ranges otherwise. Every object received is verified
 * (decoded, hashed against its id) before it is stored, and a manifest
 * is kept only once its file, rebuilt from the store, hashes to the
 * file's id and SHA-256 (remote-format.md, "Manifests are verified").
 */
#include "core/oidset.h"
#include "core/pointer.h"
#include "core/progress.h"
#include "core/repo.h"
#include "remote/remote.h"

struct sync_target {
	const char *path; /* the tracked path, for messages */
	struct pointer ptr;
};

struct sync_opts {
	int jobs;                   /* parallel connections */
	struct progress *progress;  /* may be NULL */
	const char *url;            /* for opening more connections */
	const char *base;           /* resolves relative URLs */
	const struct config *cfg;
};

struct sync_stats {
	uint64_t objects, bytes, packs, requests;
	uint64_t have;              /* objects the other side had already */
	uint64_t taken_back;        /* push: marked packs it took back from gc -r */
};

/* Fails (ENOTFOUND, with a message) unless `rem` holds cairn data. */
int sync_require_marker(struct remote *rem, struct strbuf *err);
/* Updates the cache of what `rem` holds. */
int sync_refresh(struct repo *r, struct remote *rem, struct sync_stats *st, struct strbuf *err);
int sync_push(struct repo *r, struct remote *rem, const struct sync_target *t, size_t n,
	      const struct sync_opts *o, struct sync_stats *st, struct strbuf *err);
int sync_fetch(struct repo *r, struct remote *rem, const struct sync_target *t, size_t n,
	       const struct sync_opts *o, struct sync_stats *st, struct strbuf *err);

/* --- gc and fsck --- */

/* A pack the cache knows on a remote, for gc -r. */
struct sync_rpack {
	struct oid id;
	uint64_t size;
	uint32_t count;     /* entries its index lists */
	int64_t first_seen; /* unix seconds: when this clone first learned of it */
	uint64_t live;      /* of its entries, how many `live` holds */
	/* when it was uploaded, on the remote's clock: the later time of its
	 * .pack and .idx (sync_pack_times), or REMOTE_MTIME_UNKNOWN */
	int64_t uploaded;
};
/*
 * The packs the cache knows on remote `name` (refresh it first), each with
 * the number of its objects whose (oid, type) is in `live`. *out is
 * malloc'd, sorted by pack id.
 */
int sync_remote_packs(struct repo *r, const char *name, const struct oidset *live,
		      struct sync_rpack **out, size_t *n, struct strbuf *err);
/*
 * Removes packs/HEX.idx and then packs/HEX.pack from the remote (a file
 * already gone is fine). The cache forgets the pack at the next
 * sync_refresh().
 */
int sync_remove_pack(struct repo *r, struct remote *rem, const struct oid *pack,
		     struct strbuf *err);

/*
 * gc -r's files on a remote, under gc/ (remote-format.md, "gc -r"):
 * gc/HEX.mark says that a gc -r found pack HEX unreferenced, the file's
 * time of upload being the time of the mark.
 */
struct sync_mark {
	struct oid pack;
	int64_t time;       /* on the remote's clock, or REMOTE_MTIME_UNKNOWN */
};
/*
 * The remote's clock: writes gc/clock-PID-RANDOM, reads its time from a
 * listing and removes it. *now is REMOTE_MTIME_UNKNOWN when the backend
 * gives no times.
 */
int sync_remote_clock(struct repo *r, struct remote *rem, int64_t *now, struct strbuf *err);
/* Sets v[i].uploaded from one listing of packs/ (v sorted by id). */
int sync_pack_times(struct remote *rem, struct sync_rpack *v, size_t n, struct strbuf *err);
/* The marks on the remote, sorted by pack (none if gc/ is absent). */
int sync_marks(struct remote *rem, struct sync_mark **out, size_t *n, struct strbuf *err);
/* Orders struct sync_mark by pack, for sort_array and bsearch. */
int sync_mark_cmp(const void *a, const void *b);
/* Writes gc/HEX.mark (an existing mark is kept, with its time). */
int sync_mark_pack(struct repo *r, struct remote *rem, const struct oid *pack,
		   struct strbuf *err);
/* Removes gc/HEX.mark (a missing one is fine). */
int sync_unmark_pack(struct remote *rem, const struct oid *pack, struct strbuf *err);
/* 1 when gc/HEX.mark is still there, 0 when not, or an error (< 0). */
int sync_pack_marked(struct remote *rem, const struct oid *pack, struct strbuf *err);

struct sync_object {
	struct oid id;
	uint8_t type;
	const char *path;   /* a tracked path that needs it, for messages */
	int status;         /* out: 0 stored, CAIRN_ENOTFOUND the remote lacks it,
			     * or the error of the last copy tried */
};
/*
 * Fetches each object from the remote into the local store, trying every
 * copy the cache knows until one verifies (refresh the cache first). With
 * `replace`, the fetched copy is indexed over an entry the store has
 * already (fsck --repair of a damaged object). Per-object results go to
 * v[i].status and *stored counts what was stored; the return is an error
 * only when the batch could not be begun or committed.
 */
int sync_fetch_objects(struct repo *r, struct remote *rem, struct sync_object *v, size_t n,
		       int replace, size_t *stored, struct strbuf *err);

struct sync_problem {
	const char *kind;       /* "bad-pack-index", "missing-pack", "pack-size",
				 * "corrupt-pack", "corrupt-object", "bad-manifest",
				 * "missing-object" */
	const struct oid *pack; /* the pack concerned, or NULL */
	const struct oid *id;   /* the object, or NULL */
	int type;               /* its type, or 0 */
	const char *msg;
};
struct sync_check_stats {
	uint64_t indexes, packs, sampled, objects, bytes;
	uint64_t unindexed;     /* packs without an index: left by a killed push */
};
/*
 * fsck -r: every pack index on the remote must parse and name its pack,
 * and every pack it names must be there with the size it says. Then the
 * packs of a sample (all of them with read_data; otherwise 5% of them, at
 * least one, chosen at random) are downloaded and checked whole: the
 * pack's bytes against its name and every object it lists (decoded and
 * hashed; a manifest must rebuild its file, see manifest_rebuilds). Each
 * problem is passed to cb. The cache of the remote is
 * refreshed on the way. Returns an error only when the remote cannot be
 * checked at all (no marker, listing fails).
 */
int sync_check_remote(struct repo *r, struct remote *rem, int read_data,
		      void (*cb)(const struct sync_problem *p, void *data), void *data,
		      struct sync_check_stats *st, struct strbuf *err);

struct gc_roots;
struct gc_mark;
/*
 * The mark of gc (core/gc.h) for a remote: trees and manifests that the
 * local store lacks are fetched from `rem` (what they name is otherwise
 * unknown) and the walk is done again, until nothing more can be learned.
 * *fetched counts the objects fetched. m is initialised whatever the
 * return; release it with gc_mark_release().
 */
int sync_mark_remote(struct repo *r, struct remote *rem, const struct gc_roots *roots,
		     struct gc_mark *m, uint64_t *fetched, struct strbuf *err);
/*
 * fsck -r: every tree, file and chunk that `roots` reach (sync_mark_remote)
 * must be in some pack the remote's indexes list (per the cache: refresh
 * first); each one that is not goes to cb as "missing-object". *needed
 * counts those looked up.
 */
int sync_check_needed(struct repo *r, struct remote *rem, const struct gc_roots *roots,
		      void (*cb)(const struct sync_problem *p, void *data), void *data,
		      uint64_t *needed, struct strbuf *err);

#endif
