#ifndef CAIRN_INGEST_H
#define CAIRN_INGEST_H
/*
 * Ingest: store the files of scanned work tree nodes.
 *
 * How it works: files whose stat cache entry is trusted and whose object is
 * in the store are skipped without being read. The rest are handed, largest
 * first, to r->threads reader threads. A reader streams its file through
 * the chunker, hashing the whole file (XXH3-128 and SHA-256) and each chunk
 * (XXH3-128) as it goes. Chunks of small files are compressed and stored by
 * the reader itself; chunks of large files go through a bounded queue to
 * r->threads compressor threads, so one big file still keeps every core
 * busy. A file of several chunks gets a manifest. Trees are computed
 * bottom-up once every file is known and stored too. Memory is bounded by
 * the queue (32 MiB) and per-thread buffers, whatever the file sizes.
 */
#include "core/odb.h"
#include "core/progress.h"
#include "core/repo.h"
#include "core/worktree.h"

#include <sys/types.h>

struct ingest_stats {
	uint64_t files, files_read, bytes_read;
};

/*
 * Stores the files below `roots` and their trees. bases[i] (bases may be
 * NULL), when not zero, is the tree roots[i] had in the version it
 * replaces: new trees are stored as deltas against the old ones.
 */
int ingest_nodes(struct repo *r, struct odb_batch *b, struct wt_node **roots,
		 const struct oid *bases, size_t nroots, struct progress *p,
		 struct ingest_stats *st, struct strbuf *err);

/*
 * Streaming ingest, for data that does not sit in files of the work tree
 * (an archive being imported): files are fed one after the other from a
 * read callback, on the calling thread; their chunks are compressed and
 * stored by r->threads compressor threads through the same bounded queue
 * as above, so memory stays bounded whatever the sizes.
 *
 * The read callback fills up to len bytes of buf and returns how many (less
 * than len only at the end of the file), or a negative code with err set.
 */
typedef ssize_t (*ingest_read_fn)(void *data, void *buf, size_t len, struct strbuf *err);
struct ingest_stream;
struct ingest_stream *ingest_stream_begin(struct repo *r, struct odb_batch *b,
					  struct progress *p);
/* Stores one file's content read from rd: its id, sha256 and size out. */
int ingest_stream_file(struct ingest_stream *s, ingest_read_fn rd, void *data, struct oid *id,
		       struct sha256 *sha, uint64_t *size, struct strbuf *err);
/* Stores one object (a symlink target, a tree) from the calling thread. */
int ingest_stream_put(struct ingest_stream *s, int type, const struct oid *id, const void *raw,
		      size_t len, struct strbuf *err);
/*
 * Waits for the queue to drain and frees s. `ret` is the caller's result
 * so far (non-zero: queued chunks are dropped). Returns ret, or the first
 * error of a compressor thread.
 */
int ingest_stream_end(struct ingest_stream *s, int ret, struct ingest_stats *st,
		      struct strbuf *err);

/* Does the store hold the content of a file with this id and size? 1/0/<0 */
int odb_has_file(struct odb_thread *t, const struct oid *id, uint64_t size, struct strbuf *err);

#endif
