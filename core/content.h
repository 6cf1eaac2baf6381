#ifndef CAIRN_CONTENT_H
#define CAIRN_CONTENT_H
/*
 * Reading file content and trees back from the store, verified: every
 * chunk against its id (in odb_read), and the whole file against its size,
 * XXH3-128 id and SHA-256. Nothing unverified reaches the caller's fd as a
 * finished file: callers write to a temp file and rename only on success.
 */
#include "core/object.h"
#include "core/odb.h"

/* The chunk list of a file: its manifest, or itself as one chunk. */
int content_chunks(struct odb_thread *t, const struct oid *id, uint64_t size,
		   struct manifest *m, struct strbuf *err);
/*
 * Streams a file to fd; `what` names it in messages. With helpers > 0 that
 * many threads (at most 8) read and decompress chunks ahead of the writer.
 */
int content_write_fd(struct odb_thread *t, int helpers, const struct oid *id,
		     const struct sha256 *sha, uint64_t size, int fd, const char *what,
		     struct strbuf *err);
/*
 * Calls fn for each verified chunk of a file, in order, then checks the
 * whole against its size, id and sha256 (an error then means what fn was
 * given must be discarded). A non-zero return of fn stops and is returned.
 */
int content_foreach(struct odb_thread *t, const struct oid *id, const struct sha256 *sha,
		    uint64_t size, const char *what,
		    int (*fn)(const void *p, size_t n, void *data, struct strbuf *err), void *data,
		    struct strbuf *err);
/* The same, with `helpers` threads decoding chunks ahead (see content_write_fd). */
int content_foreach_par(struct odb_thread *t, int helpers, const struct oid *id,
			const struct sha256 *sha, uint64_t size, const char *what,
			int (*fn)(const void *p, size_t n, void *data, struct strbuf *err),
			void *data, struct strbuf *err);
/* Reads a small file (at most `max` bytes) into out, verified. */
int content_read_small(struct odb_thread *t, const struct oid *id, const struct sha256 *sha,
		       uint64_t size, size_t max, struct strbuf *out, const char *what,
		       struct strbuf *err);
/* Reads a tree and checks it against the sha256 its parent recorded. */
int content_read_tree(struct odb_thread *t, const struct oid *id, const struct sha256 *sha,
		      struct tree *out, const char *what, struct strbuf *err);

#endif
