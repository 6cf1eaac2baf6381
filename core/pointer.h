#ifndef CAIRN_POINTER_H
#define CAIRN_POINTER_H
/*
 * Pointer files: PATH.cairn beside a tracked PATH, committed to git.
 * Small YAML-compatible `key: value` text (Documentation/technical/
 * pointer-format.md):
 *
 *   # cairn pointer: the data beside this file is versioned by cairn
 *   version: 1
 *   type: dir            (or: file)
 *   hash: xxh3-128
 *   id: <32 hex>         XXH3-128 of the file, or of the root tree encoding
 *   sha256: <64 hex>     SHA-256 of the same bytes
 *   size: <bytes>
 *   files: <count>       dir only
 *   mode: 644            file only: 644 or 755
 *
 * No paths, no times, nothing machine-specific: the same content always
 * gives the same bytes. Parsing is strict: unknown keys, repeated keys,
 * bad values and files over 4 KiB are errors; a higher version is
 * CAIRN_EVERSION.
 */
#include "core/hash.h"
#include "core/util.h"

#define POINTER_SUFFIX ".cairn"
#define POINTER_MAX_SIZE 4096
#define POINTER_VERSION 1

struct pointer {
	int is_dir;
	struct oid id;
	struct sha256 sha;
	uint64_t size;
	uint64_t files; /* dir: number of files in the tree; file: 1 */
	uint32_t mode;  /* file: MODE_FILE or MODE_EXEC; dir: MODE_DIR */
};

void ptr_format(const struct pointer *p, struct strbuf *out);
/* `what` names the file in messages. */
int ptr_parse(struct pointer *p, const char *data, size_t len, const char *what,
	      struct strbuf *err);
int ptr_read(struct pointer *p, const char *path, struct strbuf *err);
struct git_batch;
/* The pointer file ptrpath as committed in `commit`; ENOTFOUND with a message. */
int ptr_read_at(struct git_batch *b, const char *commit, const char *ptrpath, struct pointer *p,
		struct strbuf *err);
/* Writes atomically (temp + rename), fsync'd. */
int ptr_write(const struct pointer *p, const char *path, struct strbuf *err);
/* The same with the temp file under tmp_prefix (write_file_atomic_via). */
int ptr_write_via(const struct pointer *p, const char *path, const char *tmp_prefix,
		  struct strbuf *err);

#endif
