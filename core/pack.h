#ifndef CAIRN_PACK_H
#define CAIRN_PACK_H
/*
 * Pack files and pack index files (formats in
 * Documentation/technical/store-format.md).
 *
 * A pack is an append-only file of many objects:
 *   header  "CAIRNPK\0", u32 version (1), u32 reserved (0)       16 bytes
 *   entry*  u8 type, u8 codec, u16 flags (0), u32 raw_len,
 *           u32 stored_len, oid[16], then stored_len bytes       28 + n
 * A pack's name is the hex XXH3-128 of all its bytes. Its index file
 * (NAME.idx) lists the entries sorted by (oid, type):
 *   header  "CAIRNIX\0", u32 version (1), u32 count, pack oid[16],
 *           u64 pack size, u64 reserved (0)                      48 bytes
 *   entry*  oid[16], u8 type, u8 codec, u16 flags, u32 raw_len,
 *           u32 stored_len, u64 offset of the entry header        36 bytes
 *   trailer XXH3-128 of everything before it                     16 bytes
 * All integers are little-endian. A pack and its index are written to temp
 * names, fsync'd, and renamed into place, the pack first: an index file
 * that exists names a complete pack.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"
#include "core/util.h"

enum {
	OBJ_CHUNK = 1,    /* bytes of a file; id = XXH3-128 of the bytes */
	OBJ_MANIFEST = 2, /* chunk list of a file; id = XXH3-128 of the file */
	OBJ_TREE = 3,     /* directory listing; id = XXH3-128 of the encoding */
};

#define PACK_HDR_SZ 16
#define PACK_ENTRY_HDR_SZ 28
#define PACK_IDX_HDR_SZ 48
#define PACK_IDX_ENTRY_SZ 36
#define PACK_IDX_TRAILER_SZ 16
/* No object is larger than this, raw or stored: a bound on every read. */
#define OBJ_MAX_SIZE (256u << 20)

struct pack_entry {
	struct oid id;
	uint8_t type;
	uint8_t codec;
	uint32_t raw_len;
	uint32_t stored_len;
	uint64_t offset; /* of the entry header in the pack */
};

const char *obj_type_name(int type);

void pack_header_encode(uint8_t out[PACK_HDR_SZ]);
/* 0 or CAIRN_EFORMAT / CAIRN_EVERSION. */
int pack_header_check(const uint8_t in[PACK_HDR_SZ]);
void pack_entry_header_encode(uint8_t out[PACK_ENTRY_HDR_SZ], const struct pack_entry *e);
/* Fills e (not offset); 0 or CAIRN_EFORMAT for a bad type, codec, flags or size. */
int pack_entry_header_decode(const uint8_t in[PACK_ENTRY_HDR_SZ], struct pack_entry *e);

/* Sorts `e` by (id, type) and encodes the index file into `out`. */
void pack_idx_encode(struct strbuf *out, const struct oid *pack_id, uint64_t pack_size,
		     struct pack_entry *e, size_t n);
/*
 * Parses and fully validates an index file: magic, version, trailer
 * checksum, sorted unique entries, each entry inside the pack. On success
 * *entries is malloc'd (caller frees). CAIRN_EFORMAT, CAIRN_EVERSION or
 * CAIRN_ECORRUPT (checksum) otherwise, with a message naming `what`.
 */
int pack_idx_decode(const void *data, size_t len, const char *what, struct oid *pack_id,
		    uint64_t *pack_size, struct pack_entry **entries, size_t *n,
		    struct strbuf *err);
int pack_entry_cmp(const void *a, const void *b);

/*
 * Writing one pack. Appends are buffered; finish makes it durable and
 * visible. Not thread-safe: callers serialise appends.
 */
struct pack_writer {
	int fd;
	char *tmp_path;
	struct oid_ctx hash;
	uint64_t size;
	struct strbuf buf; /* bytes not yet written */
	struct pack_entry *entries;
	size_t n, alloc;
	uint64_t raw_bytes; /* sum of raw_len, for statistics */
};

/* Creates a temp pack in `tmpdir`. */
int pack_writer_open(struct pack_writer *w, const char *tmpdir, struct strbuf *err);
int pack_writer_append(struct pack_writer *w, const struct pack_entry *e, const void *stored,
		       struct strbuf *err);
/*
 * Writes the index, fsyncs both files, renames them to
 * packdir/HEX.pack and packdir/HEX.idx, fsyncs packdir, and frees the
 * writer's resources (entries stay in w->entries until pack_writer_release).
 */
int pack_writer_finish(struct pack_writer *w, const char *packdir, struct oid *pack_id,
		       struct strbuf *err);
/* Removes the temp file if still there and frees everything. */
void pack_writer_release(struct pack_writer *w);

#endif
