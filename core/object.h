#ifndef CAIRN_OBJECT_H
#define CAIRN_OBJECT_H
/*
 * File manifests and tree objects, and their canonical encodings
 * (Documentation/technical/store-format.md).
 *
 * A file's id is the XXH3-128 of its whole content; its sha256 is the
 * SHA-256 of the same. A file of one chunk is that chunk (no manifest); a
 * longer file has a manifest stored under the file's id:
 *   "CMF1", varint size, sha256[32], varint n, n * (oid[16], varint len),
 *   u64 XXH3-64 of all the preceding bytes (little-endian)
 *
 * A tree lists one directory, entries sorted by name (bytewise):
 *   "CTR1", varint n, n * (varint mode, varint size, varint files,
 *                          oid[16], sha256[32], varint namelen, name)
 * mode is 0100644, 0100755, 0120000 (symlink: its target is stored as the
 * file content) or 040000 (subtree: id/sha256 are the subtree's, size and
 * files are its totals). A tree's id is the XXH3-128 of its encoding and
 * its sha256 the SHA-256 of it, so SHA-256s chain from a pointer down to
 * every file: the pointer, committed to git, vouches for everything.
 */
#include "core/hash.h"
#include "core/util.h"

#define MODE_FILE 0100644u
#define MODE_EXEC 0100755u
#define MODE_LINK 0120000u
#define MODE_DIR 040000u

struct manifest_chunk {
	struct oid id;
	uint32_t len;
};

struct manifest {
	uint64_t size;
	struct sha256 sha;
	struct manifest_chunk *chunks;
	size_t n, alloc;
};

void manifest_init(struct manifest *m);
void manifest_release(struct manifest *m);
void manifest_add(struct manifest *m, const struct oid *id, uint32_t len);
void manifest_encode(const struct manifest *m, struct strbuf *out);
/* Strict: checksum, canonical varints, chunk lengths summing to size. */
int manifest_decode(struct manifest *m, const void *data, size_t len, struct strbuf *err);

struct tree_entry {
	uint32_t mode;
	uint64_t size;
	uint64_t files;
	struct oid id;
	struct sha256 sha;
	char *name; /* NUL-terminated; never contains NUL or '/' */
};

struct tree {
	struct tree_entry *e;
	size_t n, alloc;
};

void tree_init(struct tree *t);
void tree_release(struct tree *t);
/* Adds an entry (name copied); call tree_sort() before encoding. */
struct tree_entry *tree_add(struct tree *t, const char *name, uint32_t mode);
void tree_sort(struct tree *t);
/* Encodes a sorted tree and computes its id and sha256. */
void tree_encode(const struct tree *t, struct strbuf *out, struct oid *id, struct sha256 *sha);
/* Totals of a tree: bytes and files, summed over its entries. */
void tree_totals(const struct tree *t, uint64_t *size, uint64_t *files);
/*
 * A symlink may not share its name, compared as a case-insensitive file
 * system might (ASCII case and the code points entry_name_ok ignores),
 * with another entry of its directory: there, writing the other entry (or
 * what is below it) would go through the link. CAIRN_EUNSAFE naming both,
 * prefixed by `what` (may be NULL). Any other case-only difference is
 * fine (Linux names are bytes). NEEDSWORK: non-ASCII case is not folded.
 */
int tree_check_links(const struct tree *t, const char *what, struct strbuf *err);
/*
 * Strict decode: magic, canonical varints, known modes, valid unique names
 * (entry_name_ok) in strictly increasing order, tree_check_links().
 * CAIRN_EFORMAT with the bad entry named, or CAIRN_EUNSAFE for a name that
 * must never be written.
 */
int tree_decode(struct tree *t, const void *data, size_t len, struct strbuf *err);
/* Binary search by name; NULL if absent. */
const struct tree_entry *tree_find(const struct tree *t, const char *name);

/*
 * Whether `name` may be one component of a path cairn writes: not empty,
 * not "." or "..", no '/', '\\' or NUL, at most 255 bytes, not ".git" in any
 * case or with trailing dots/spaces, not "git~1" (8.3 short name), not
 * ".git" hidden by ignorable Unicode code points, not ".cairn", and
 * valid UTF-8 is not required (Linux names are bytes). Returns 1 if ok.
 */
int entry_name_ok(const char *name, size_t len);

#endif
