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

struct ingest_stats {
	uint64_t files, files_read, bytes_read;
};

int ingest_nodes(struct repo *r, struct odb_batch *b, struct wt_node **roots, size_t nroots,
		 struct progress *p, struct ingest_stats *st, struct strbuf *err);

/* Does the store hold the content of a file with this id and size? 1/0/<0 */
int odb_has_file(struct odb_thread *t, const struct oid *id, uint64_t size, struct strbuf *err);

#endif
