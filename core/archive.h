#ifndef CAIRN_ARCHIVE_H
#define CAIRN_ARCHIVE_H
/*
 * Archives in and out, through libarchive (Documentation/technical/
 * archives.md).
 *
 * Import: one pass over an archive of any format libarchive reads. Each
 * entry is checked before anything of it is stored or written (the rules
 * are in archive_import() below); a regular file's data streams through
 * the chunker into the store (core/ingest.h) and, when the import
 * materialises, is teed to archive_write_disk() into a temporary directory
 * beside the target, which is renamed into place only when every entry was
 * accepted and the store's batch is committed. Nothing of the data is held
 * in memory: only one record per entry (path, mode, ids).
 *
 * Export: the files of a stored version, read and verified from the store
 * (core/content.h), written as a reproducible archive: entries sorted by
 * path, uid/gid 0 with no owner names, one fixed mtime, no atime/ctime,
 * modes 0644/0755/0755 (dirs) and symlinks as symlinks.
 */
#include "core/ingest.h"
#include "core/pointer.h"
#include "core/progress.h"
#include "core/repo.h"

/*
 * The flags import passes to archive_write_disk_set_options(): refuse ".."
 * in paths, absolute paths and writes through symlinks (on top of cairn's
 * own checks), and restore neither owners nor times. Exposed for a test.
 */
int archive_import_disk_flags(void);

enum { ARCHIVE_ON_BAD_FAIL = 0, ARCHIVE_ON_BAD_SKIP = 1 };

#define IMPORT_MAX_BYTES_DEFAULT (16ull << 40) /* 16 TiB */
#define IMPORT_MAX_RATIO_DEFAULT 1000
/* Expansion below this many bytes is never a bomb, whatever the ratio. */
#define IMPORT_RATIO_FLOOR (64ull << 20)

struct import_opts {
	const char *name;    /* the archive as the user named it, for messages */
	int on_bad;          /* ARCHIVE_ON_BAD_FAIL or ARCHIVE_ON_BAD_SKIP */
	int checkout;        /* materialise the files at the target */
	int force;           /* replace an existing target */
	uint64_t max_bytes;  /* cap on the total bytes of the entries */
	uint64_t max_ratio;  /* cap on total bytes / archive bytes (0: none) */
	struct progress *progress;
	/* told of each entry skipped under ARCHIVE_ON_BAD_SKIP */
	void (*warn)(const char *msg, void *data);
	void *warn_data;
};

struct import_result {
	struct pointer ptr;     /* the version imported */
	uint64_t entries;       /* entries accepted (files, links, dirs) */
	uint64_t skipped;       /* entries refused under ARCHIVE_ON_BAD_SKIP */
	uint64_t archive_bytes; /* bytes of the archive file */
	struct ingest_stats ingest;
	struct odb_stats odb;
};

/*
 * Imports the archive at `archive` (a path; "-" is not accepted) as the
 * directory `rel` (repo-relative, its parents checked by the caller) and
 * fills res->ptr; the caller writes the pointer file. The current
 * directory must be r->top: libarchive's secure extraction refuses
 * absolute paths and "..", so entries are written by relative path.
 *
 * Entries refused (CAIRN_EUNSAFE, the message names the entry): absolute
 * paths, ".." components, names entry_name_ok() refuses (.git, .cairn,
 * ...) or that are not valid UTF-8, an entry below a symlink entry or
 * below a file entry, hardlinks to a missing, non-file or outside entry,
 * devices, FIFOs and sockets, and a duplicate of an entry with another
 * type (a duplicate of the same type replaces the earlier one, as tar
 * does; duplicate directories merge). Under ARCHIVE_ON_BAD_SKIP they are
 * skipped with a warning on stderr instead. Caps (always fatal): the
 * total bytes over opts->max_bytes, or over opts->max_ratio times the
 * archive's size once past IMPORT_RATIO_FLOOR (CAIRN_EUNSAFE).
 *
 * Other errors: CAIRN_EEXIST (rel exists and !force), CAIRN_EFORMAT (the
 * archive cannot be read), CAIRN_EIO, and the store's. On any error
 * nothing is left at `rel` (the temporary directory is removed); objects
 * already stored are harmless.
 */
int archive_import(struct repo *r, const char *archive, const char *rel,
		   const struct import_opts *opts, struct import_result *res, struct strbuf *err);

/* Output formats of export. */
enum {
	EXPORT_TAR = 1, EXPORT_TAR_GZ, EXPORT_TAR_BZ2, EXPORT_TAR_XZ, EXPORT_TAR_ZST, EXPORT_ZIP
};
/* The format named ("tar.gz", "tgz", "zip", ...) or implied by a file name's
 * suffix; 0 if none. */
int archive_format_by_name(const char *name);
int archive_format_by_suffix(const char *path);

struct export_opts {
	int format;
	int64_t mtime;  /* the one mtime of every entry */
	struct progress *progress;
};

struct export_result {
	uint64_t files, dirs, bytes;
};

/*
 * Writes the version pointer `p` names to fd as an archive. A directory's
 * entries are its paths relative to it (no leading directory); a file
 * becomes one entry named `name`. Content is verified as it is read; on
 * an error the archive written so far is incomplete and the caller must
 * discard it. Errors: the store's (CAIRN_ENOTFOUND, CAIRN_ECORRUPT),
 * CAIRN_EIO (writing).
 */
int archive_export(struct repo *r, const struct pointer *p, const char *name, int fd,
		   const struct export_opts *opts, struct export_result *res, struct strbuf *err);

#endif
