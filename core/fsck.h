#ifndef CAIRN_FSCK_H
#define CAIRN_FSCK_H
/*
 * Checking the local store (Documentation/technical/gc-fsck.md).
 *
 * fsck_run() checks, in this order:
 *  1. every pack the index names: its file is there, with the size and
 *     header the index expects, and its .idx parses, names it, and agrees
 *     with the index about every object the index places in it;
 *  2. every indexed object: read back, decoded, and hashed against its id
 *     (manifests: decoded and checked against their checksum), one pack at
 *     a time on r->threads threads;
 *  3. the walk from the roots (core/gc.h): every tree reached is checked
 *     against the SHA-256 its parent or pointer recorded, and every object
 *     reached must be in the store;
 *  4. every distinct file reached: its chunks streamed and the whole
 *     checked against its size, id and SHA-256 (on r->threads threads).
 * Each problem is reported once, with the pack and the object concerned
 * and up to FSCK_MAX_PATHS tracked paths it affects.
 *
 * A root whose top object is not in the store at all was never fetched
 * here: it is counted (absent_roots), not a problem.
 */
#include "core/gc.h"
#include "core/progress.h"
#include "core/repo.h"

enum fsck_kind {
	FSCK_MISSING_PACK = 1, /* the index names a pack whose file is gone */
	FSCK_PACK_SIZE,        /* the pack file is shorter or longer than indexed */
	FSCK_PACK_HEADER,      /* the pack file's header is bad */
	FSCK_BAD_PACK_INDEX,   /* its .idx is missing, unreadable or another pack's */
	FSCK_INDEX_MISMATCH,   /* the LMDB index and the .idx disagree */
	FSCK_CORRUPT_OBJECT,   /* an indexed object fails verification */
	FSCK_MISSING_OBJECT,   /* reached from a pointer, not in the store */
	FSCK_DANGLING_ENTRY,   /* an index entry in a pack the index does not name */
	FSCK_BAD_FILE,         /* its chunks are sound, the whole is not its id/sha256 */
	FSCK_BAD_POINTER,      /* a pointer that does not parse or fits not its tree */
};
/* "missing-pack", "pack-size", ...: the names --json uses. */
const char *fsck_kind_name(int kind);

#define FSCK_MAX_PATHS 5

struct fsck_problem {
	int kind;
	int type;              /* the object's type; 0 when no object */
	struct oid id;         /* the object (or the file, for FSCK_BAD_FILE) */
	int has_pack;
	uint32_t pack_no;
	struct oid pack;       /* the pack concerned, or the object's pack */
	char *msg;             /* one line, without the affected paths */
	char *paths[FSCK_MAX_PATHS]; /* affected paths, in the order found */
	size_t npaths;
	uint64_t more_paths;   /* affected paths beyond those */
	/* pack kinds: the objects the index places in the pack that the
	 * roots reach (what a repair must fetch before dropping the pack) */
	struct odb_key *objs;
	size_t nobjs;
};

struct fsck_result {
	struct fsck_problem *v;
	size_t n, alloc;
	struct gc_mark mark;    /* everything the roots reach */
	uint64_t packs, objects, bytes; /* checked: packs, indexed objects, stored bytes */
	uint64_t files, file_bytes;     /* files streamed whole */
	uint64_t orphan_files;  /* files in packs/ that no index entry names */
	uint64_t skipped;       /* blobs named *.cairn in history that are not pointers */
	int index_damaged;      /* fsck_run failed: idx_verify found the index damaged */
	uint64_t incomplete;    /* objects missing below present ones after an
				 * interrupted fetch (odb_is_incomplete) */
};

struct fsck_opts {
	int threads;
	struct progress *progress;
};

/*
 * Checks the store of r against `roots`; problems go to res (sorted by
 * kind, then pack, then object). Returns an error only when the check
 * itself cannot run: the index cannot be read, or idx_verify() finds it
 * damaged (then res->index_damaged is set).
 */
int fsck_run(struct repo *r, const struct gc_roots *roots, const struct fsck_opts *o,
	     struct fsck_result *res, struct strbuf *err);
void fsck_result_release(struct fsck_result *res);

#endif
