#ifndef CAIRN_UTIL_H
#define CAIRN_UTIL_H
/*
 * Small utilities shared by every module: error codes, the growable buffer
 * (strbuf), checked allocation, and a few path and I/O helpers.
 */
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>

/*
 * Error codes. Every function in core/ and remote/ that can fail returns 0 on
 * success or one of these (negative) codes, and fills its `struct strbuf
 * *err` (when not NULL) with a one-line lowercase message naming the object.
 * The numbers are pinned: they never change meaning.
 */
/* CAIRN_OK, CAIRN_E*: the public codes, in cairn's reserved range */
#include "include/cairn.h"

/* True for the codes that say nothing about the data: the system ran out of
 * something. fsck stops on them rather than calling healthy data corrupt. */
#define CAIRN_IS_RESOURCE(code) ((code) == CAIRN_ERESOURCE || (code) == CAIRN_ENOMEM)

const char *cairn_strerror(int code);

/* Allocation that never returns NULL: on exhaustion it aborts the process. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ALLOC_GROW(arr, n, alloc) do { \
	if ((size_t)(n) > (size_t)(alloc)) { \
		size_t grow_ = (alloc) ? (size_t)(alloc) * 3 / 2 + 16 : 16; \
		if (grow_ < (size_t)(n)) grow_ = (n); \
		(arr) = xrealloc((arr), grow_ * sizeof(*(arr))); \
		(alloc) = grow_; \
	} \
} while (0)

/*
 * strbuf: a growable byte buffer. Invariants: `buf` is never NULL (it points
 * at a shared empty string until the first write), buf[len] == '\0' always,
 * and the contents may hold NUL bytes.
 */
struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};
extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
static inline void strbuf_reset(struct strbuf *sb) { strbuf_setlen(sb, 0); }
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_rtrim(struct strbuf *sb);
/* Append s as one shell word: as it is when it holds only [A-Za-z0-9._/-]
 * (and is not empty), else in single quotes ('\'' for a quote). */
void strbuf_add_sq(struct strbuf *sb, const char *s);
/*
 * Append s[0..len) as git prints a path (core.quotePath): as it is when no
 * byte needs quoting, else in double quotes with \a \b \t \n \v \f \r
 * \" and \\ escaped, and every other control byte (and, if quote_high,
 * every byte of 0x80 and up) as a backslash and three octal digits.
 * Returns 1 when it quoted.
 */
int strbuf_add_cquoted(struct strbuf *sb, const char *s, size_t len, int quote_high);
/*
 * Append a JSON string literal (with quotes) for the bytes s[0..len), as
 * they are: the audit trail's canonical form, whose bytes are hashed.
 */
void strbuf_add_json_str(struct strbuf *sb, const char *s, size_t len);
/*
 * The same for output (--json): a byte that is not part of valid UTF-8
 * (a file name is any bytes) becomes the lone surrogate \udcXX, as
 * Python's surrogateescape reads it, so the output is always UTF-8
 * and os.fsencode() of the string gives the name's bytes back.
 */
void strbuf_add_json_text(struct strbuf *sb, const char *s, size_t len);
/*
 * Append JSON text made by strbuf_add_json_str() (an audit entry) with
 * every byte that is not part of valid UTF-8 as \udcXX: such bytes can
 * only be inside its strings.
 */
void strbuf_add_json_utf8(struct strbuf *sb, const char *json, size_t len);

/*
 * Fill `err` (if not NULL) with a formatted message and return `code`, so
 * library code can write `return cerr(err, CAIRN_EIO, "cannot open '%s': %s",
 * path, strerror(errno));`. An existing message is replaced.
 */
int cerr(struct strbuf *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Prefix the message already in err: "PREFIX: old message". Returns code.
 * (cerr() cannot do this: it resets err before formatting.)
 */
int cerr_wrap(struct strbuf *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Map errno (ENOSPC, ENOMEM, ...) to a code, CAIRN_EIO by default. */
int cairn_errno_code(int e);
/* cerr() for a failed system call: appends ": strerror(errno)". */
int cerr_errno(struct strbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Little-endian fixed-width encoding. */
/* qsort that accepts an empty array (qsort's base must not be NULL). */
static inline void sort_array(void *base, size_t n, size_t size,
			      int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v); put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}
/* Unsigned LEB128 varints; get_varint returns bytes used or 0 if malformed. */
size_t put_varint(uint8_t out[10], uint64_t v); /* returns bytes written */
void strbuf_add_varint(struct strbuf *sb, uint64_t v);
size_t get_varint(const uint8_t *p, size_t len, uint64_t *out);

/* I/O that retries on EINTR and short counts; return 0 or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);
int pwrite_all(int fd, const void *buf, size_t len, off_t off);
/* Reads up to len bytes; returns bytes read (short only at EOF) or -1. */
ssize_t read_full(int fd, void *buf, size_t len);
ssize_t pread_full(int fd, void *buf, size_t len, off_t off);
/* Read a whole file of at most `max` bytes; CAIRN_EFORMAT if larger. */
int read_file(const char *path, size_t max, struct strbuf *out, struct strbuf *err);
/* fsync the directory containing `path` (or `path` itself if is_dir). */
int fsync_dir_of(const char *path, int is_dir);
/* rm -rf PATH, without following symlinks; 0 when PATH is gone. */
int remove_tree(const char *path);
/*
 * Renames `path` to "PATH.damaged-TIME" (".N" added when that name is
 * taken), kept for a post-mortem rather than deleted. 0 and *aside (the
 * new name; NULL when `path` did not exist), or an error.
 */
int move_aside(const char *path, char **aside, struct strbuf *err);

/*
 * A temporary file, the one way cairn makes one (in the work tree, in
 * .cairn/, in the store, in a directory remote). Its name is the caller's
 * PREFIX (the whole path up to the suffix, e.g. "dir/name.tmp-") and
 * TEMPFILE_SUFFIX_LEN random hex digits, so no other user of the
 * directory can guess it ahead; it is created with O_CREAT|O_EXCL|
 * O_NOFOLLOW, so never over an existing file and never through a symlink
 * planted at that name (a name taken is tried again with another suffix,
 * at most TEMPFILE_TRIES times). `mode` is given to open(2): the umask
 * applies. On failure errno is that of the last attempt. The directory of PREFIX must be one the caller trusts (checked
 * with repo_check_parents() in the work tree; .cairn/ by repo_discover()).
 */
#define TEMPFILE_SUFFIX_LEN 12
#define TEMPFILE_TRIES 32
struct tempfile {
	char *path; /* the temp file's name while it is ours to remove, else NULL */
	int fd;     /* open for writing, or -1 */
};
#define TEMPFILE_INIT { NULL, -1 }
int tempfile_create(struct tempfile *t, const char *prefix, mode_t mode, struct strbuf *err);
/* The same, for a symlink to `target` (checkout): t->fd stays -1. */
int tempfile_symlink(struct tempfile *t, const char *prefix, const char *target,
		     struct strbuf *err);
/* Closes t->fd (when open); a failed close is an error (NFS, quota). */
int tempfile_close(struct tempfile *t, struct strbuf *err);
/*
 * Closes the file and renames it to dst; on failure it is removed. Either
 * way t no longer names a file (t->path is NULL).
 */
int tempfile_rename(struct tempfile *t, const char *dst, struct strbuf *err);
/* Closes and removes the file if it is still ours; frees the name. Idempotent. */
void tempfile_remove(struct tempfile *t);

/*
 * Write `data` to `path` atomically: a temp file beside it (tempfile_create),
 * fsync when `durable`, rename over `path`, fsync of the directory when
 * `durable`.
 */
int write_file_atomic(const char *path, const void *data, size_t len, int durable,
		      struct strbuf *err);
/*
 * The same with the temp file named `tmp_prefix` + random (a directory of
 * the store, where a killed process leaves nothing in the work tree for
 * git to see); beside `path` when tmp_prefix is NULL, or when the file
 * cannot be made there or renamed from there (another file system).
 */
int write_file_atomic_via(const char *path, const char *tmp_prefix, const void *data,
			  size_t len, int durable, struct strbuf *err);
/*
 * A file replaced under PATH.lock, as git replaces its config and index:
 * the lock is created exclusively, so one process at a time holds it from
 * before it reads PATH until the new content, written to the lock, is
 * renamed over PATH. Another holder is waited for up to wait_ms; a lock
 * older than LOCK_FILE_STALE_S (no edit holds one that long: it was left
 * by a killed process) is removed and taken. Otherwise CAIRN_ETRANSIENT,
 * with a message that names the lock to remove.
 */
#define LOCK_FILE_STALE_S 60
struct lock_file {
	char *path; /* the file being replaced */
	char *lock; /* PATH.lock */
	int fd;     /* open on the lock while held, else -1 */
	int held;   /* the lock is ours: removed unless committed */
};
#define LOCK_FILE_INIT { NULL, NULL, -1, 0 }
/* Call lock_file_release() afterwards whatever this returns. */
int lock_file_hold(struct lock_file *lk, const char *path, int wait_ms, struct strbuf *err);
/*
 * Write data to the lock, fsync it, rename it over PATH and fsync the
 * directory; the lock is released either way. The new PATH keeps the mode
 * of the old one (a new file: 0666 less the umask), and'ed with mode_mask
 * (07777 keeps it; 0700 makes it owner-only).
 */
int lock_file_commit(struct lock_file *lk, const void *data, size_t len, mode_t mode_mask,
		     struct strbuf *err);
/* Give the lock up without touching PATH (if still held); frees lk's names. */
void lock_file_release(struct lock_file *lk);
/*
 * Messages core gives while it goes on (a file skipped while scanning, each
 * conflict or failed file of a checkout, an index left uncompacted): they go
 * to the reporter, by default "LEVEL: MESSAGE\n" on stderr. A program that
 * embeds libcairn sets its own before it calls core; it may be called from
 * worker threads. LEVEL is "warning" or "error".
 */
typedef void (*core_reporter_fn)(const char *level, const char *msg);
void core_set_reporter(core_reporter_fn fn);
void core_report(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* mkdir -p; 0 on success (already existing is fine). */
int mkdir_p(const char *path, mode_t mode);
/* Nanoseconds since the epoch, CLOCK_REALTIME. */
int64_t now_ns(void);
/* Monotonic nanoseconds. */
int64_t mono_ns(void);
/* Human-readable size ("1.5 MiB") into a static-free buffer. */
void strbuf_add_human_size(struct strbuf *sb, uint64_t bytes);
int starts_with(const char *s, const char *prefix);
int ends_with(const char *s, const char *suffix);
/* Number of online CPUs (at least 1). */
int online_cpus(void);

#endif
