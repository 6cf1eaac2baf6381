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
 * Push walks the objects the given pointers need, skipping any subtree
 * the remote already has, and uploads packs made of only the missing
 * objects, copied in their stored form after being verified: chunk packs
 * first, then the pack of manifests and trees, each pack before its index.
 * So a remote never names (through an index) a pack that is not whole,
 * nor holds a tree whose files it lacks.
 *
 * Fetch walks the same graph from the top, one level at a time, asking
 * the remote only for what the local store lacks: a whole pack when most
 * of it is needed, ranges otherwise. Every object received is verified
 * (decoded, hashed against its id) before it is stored.
 */
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
};

/* Updates the cache of what `rem` holds. */
int sync_refresh(struct repo *r, struct remote *rem, struct sync_stats *st, struct strbuf *err);
int sync_push(struct repo *r, struct remote *rem, const struct sync_target *t, size_t n,
	      const struct sync_opts *o, struct sync_stats *st, struct strbuf *err);
int sync_fetch(struct repo *r, struct remote *rem, const struct sync_target *t, size_t n,
	       const struct sync_opts *o, struct sync_stats *st, struct strbuf *err);

#endif
