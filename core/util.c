#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char strbuf_slopbuf[1];

const char *cairn_strerror(int code)
{
	switch (code) {
	case CAIRN_OK: return "success";
	case CAIRN_EIO: return "i/o error";
	case CAIRN_ENOMEM: return "out of memory";
	case CAIRN_ENOTFOUND: return "not found";
	case CAIRN_ECORRUPT: return "corrupt data";
	case CAIRN_EFORMAT: return "malformed input";
	case CAIRN_EVERSION: return "unsupported format version";
	case CAIRN_EINVAL: return "invalid argument";
	case CAIRN_EEXIST: return "already exists";
	case CAIRN_ENOREPO: return "not a cairn repository";
	case CAIRN_ELMDB: return "index error";
	case CAIRN_ECONFLICT: return "conflict with local changes";
	case CAIRN_EUNSAFE: return "unsafe path";
	case CAIRN_ETRANSIENT: return "transient remote error";
	case CAIRN_EPERMANENT: return "permanent remote error";
	case CAIRN_ENOSPC: return "no space left on device";
	case CAIRN_EINTR: return "interrupted";
	case CAIRN_ERESOURCE: return "out of a system resource";
	case CAIRN_ENOTDATA: return "not versioned by cairn";
	case CAIRN_EISDIR: return "is a directory";
	}
	return "unknown error";
}

static void oom(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrfmt(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb, NULL);
}

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = sb->len = 0;
	sb->buf = strbuf_slopbuf;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *r;
	strbuf_grow(sb, 0);
	r = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	return r;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	if (need < sb->len)
		oom(SIZE_MAX);
	if (need <= sb->alloc)
		return;
	if (!sb->alloc)
		sb->buf = NULL;
	ALLOC_GROW(sb->buf, need, sb->alloc);
	if (!sb->len)
		sb->buf[0] = '\0';
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc && !len)
		return;
	strbuf_grow(sb, len > sb->len ? len - sb->len : 0);
	sb->len = len;
	sb->buf[len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (!len)
		return;
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	strbuf_grow(sb, 64);
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
		if (n < 0)
			return;
	}
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_rtrim(struct strbuf *sb)
{
	while (sb->len && (sb->buf[sb->len - 1] == ' ' || sb->buf[sb->len - 1] == '\t' ||
			   sb->buf[sb->len - 1] == '\n' || sb->buf[sb->len - 1] == '\r'))
		sb->len--;
	if (sb->alloc)
		sb->buf[sb->len] = '\0';
}

void strbuf_add_sq(struct strbuf *sb, const char *s)
{
	const char *p;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '/' || *p == '-'))
			break;
	if (*s && !*p) {
		strbuf_addstr(sb, s);
		return;
	}
	strbuf_addch(sb, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'')
			strbuf_addstr(sb, "'\\''");
		else
			strbuf_addch(sb, *p);
	}
	strbuf_addch(sb, '\'');
}

static int cquote_needed(unsigned char c, int quote_high)
{
	return c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (quote_high && c >= 0x80);
}

int strbuf_add_cquoted(struct strbuf *sb, const char *s, size_t len, int quote_high)
{
	static const char esc[] = "\a\b\t\n\v\f\r";
	static const char letter[] = "abtnvfr";
	size_t i;
	for (i = 0; i < len; i++)
		if (cquote_needed((unsigned char)s[i], quote_high))
			break;
	if (i == len) {
		strbuf_add(sb, s, len);
		return 0;
	}
	strbuf_addch(sb, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c ? strchr(esc, c) : NULL;
		if (!cquote_needed(c, quote_high))
			strbuf_addch(sb, c);
		else if (c == '"' || c == '\\')
			strbuf_addf(sb, "\\%c", c);
		else if (e)
			strbuf_addf(sb, "\\%c", letter[e - esc]);
		else
			strbuf_addf(sb, "\\%03o", c);
	}
	strbuf_addch(sb, '"');
	return 1;
}

/* JSON's escapes for s[0..len), no quotes */
static void json_escape(struct strbuf *sb, const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, c);
		} else if (c == '\n') {
			strbuf_addstr(sb, "\\n");
		} else if (c == '\t') {
			strbuf_addstr(sb, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\u%04x", c);
		} else {
			strbuf_addch(sb, c);
		}
	}
}

void strbuf_add_json_str(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_addch(sb, '"');
	json_escape(sb, s, len);
	strbuf_addch(sb, '"');
}

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n, i;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* s[0..len), JSON-escaped or not, with bytes that are not UTF-8 as \udcXX */
static void add_utf8_runs(struct strbuf *sb, const char *s, size_t len, int escape)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;
	for (;;) {
		size_t n = i < len ? utf8_seq(u + i, len - i) : 0;
		if (n) {
			i += n;
			continue;
		}
		if (escape)
			json_escape(sb, s + start, i - start);
		else
			strbuf_add(sb, s + start, i - start);
		if (i == len)
			break;
		strbuf_addf(sb, "\\udc%02x", u[i]);
		start = ++i;
	}
}

void strbuf_add_json_text(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_addch(sb, '"');
	add_utf8_runs(sb, s, len, 1);
	strbuf_addch(sb, '"');
}

void strbuf_add_json_utf8(struct strbuf *sb, const char *json, size_t len)
{
	add_utf8_runs(sb, json, len, 0);
}

int cerr(struct strbuf *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	strbuf_reset(err);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	return code;
}

int cerr_wrap(struct strbuf *err, int code, const char *fmt, ...)
{
	struct strbuf old = STRBUF_INIT;
	va_list ap;
	if (!err)
		return code;
	strbuf_addstr(&old, err->buf);
	strbuf_reset(err);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	if (old.len) {
		strbuf_addstr(err, ": ");
		strbuf_addstr(err, old.buf);
	}
	strbuf_release(&old);
	return code;
}

int cairn_errno_code(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		return CAIRN_ENOSPC;
	case ENOMEM:
		return CAIRN_ENOMEM;
	case EMFILE:
	case ENFILE:
		return CAIRN_ERESOURCE;
	case ENOENT:
		return CAIRN_ENOTFOUND;
	case EEXIST:
		return CAIRN_EEXIST;
	case EINTR:
		return CAIRN_EINTR;
	}
	return CAIRN_EIO;
}

int cerr_errno(struct strbuf *err, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	if (!err)
		return cairn_errno_code(e);
	strbuf_reset(err);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	strbuf_addf(err, ": %s", strerror(e));
	errno = e;
	return cairn_errno_code(e);
}

int move_aside(const char *path, char **aside, struct strbuf *err)
{
	long now = (long)time(NULL);
	char *to = xstrfmt("%s.damaged-%ld", path, now);
	int k;
	*aside = NULL;
	if (access(path, F_OK) < 0) {
		free(to);
		return 0;
	}
	for (k = 1; !access(to, F_OK) && k < 100; k++) {
		free(to);
		to = xstrfmt("%s.damaged-%ld.%d", path, now, k);
	}
	if (rename(path, to) < 0) {
		free(to);
		return cerr_errno(err, "cannot move '%s' aside", path);
	}
	*aside = to;
	return 0;
}

size_t put_varint(uint8_t out[10], uint64_t v)
{
	size_t n = 0;
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		out[n++] = b | (v ? 0x80 : 0);
	} while (v);
	return n;
}

void strbuf_add_varint(struct strbuf *sb, uint64_t v)
{
	uint8_t tmp[10];
	strbuf_add(sb, tmp, put_varint(tmp, v));
}

size_t get_varint(const uint8_t *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	for (i = 0; i < len && i < 10; i++) {
		uint64_t b = p[i] & 0x7f;
		if (i == 9 && p[i] > 1)
			return 0; /* overflows 64 bits */
		v |= b << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i > 0 && p[i] == 0)
				return 0; /* non-canonical: trailing zero group */
			*out = v;
			return i + 1;
		}
	}
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, off + (off_t)got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int read_file(const char *path, size_t max, struct strbuf *out, struct strbuf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char tmp[8192];
	if (fd < 0)
		return cerr_errno(err, "cannot open '%s'", path);
	strbuf_reset(out);
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int r = cerr_errno(err, "cannot read '%s'", path);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			close(fd);
			return cerr(err, CAIRN_EFORMAT, "'%s' is too large (over %zu bytes)", path, max);
		}
		strbuf_add(out, tmp, (size_t)n);
	}
	close(fd);
	return 0;
}

int fsync_dir_of(const char *path, int is_dir)
{
	struct strbuf dir = STRBUF_INIT;
	int fd, r;
	if (is_dir) {
		strbuf_addstr(&dir, path);
	} else {
		const char *slash = strrchr(path, '/');
		if (slash)
			strbuf_add(&dir, path, (size_t)(slash - path) + (slash == path));
		else
			strbuf_addch(&dir, '.');
	}
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	strbuf_release(&dir);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* n random hex digits; when the kernel gives no randomness, a mix of
 * time, pid and a counter: O_EXCL keeps that safe, only easier to guess */
static void random_hex(char *out, size_t n)
{
	static unsigned long counter;
	uint8_t rnd[16];
	size_t k = (n + 1) / 2;
	if (k > sizeof(rnd))
		k = sizeof(rnd);
	if (getrandom(rnd, k, GRND_NONBLOCK) != (ssize_t)k) {
		uint64_t x = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 40) ^
			     (uint64_t)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 0x9e3779b97f4a7c15ull;
		size_t i;
		for (i = 0; i < k; i++) {
			x ^= x >> 29;
			x *= 0xbf58476d1ce4e5b9ull;
			rnd[i] = (uint8_t)(x >> 32);
		}
	}
	{
		static const char digits[] = "0123456789abcdef";
		size_t i;
		for (i = 0; i < n; i++)
			out[i] = digits[(rnd[i / 2] >> (i % 2 ? 0 : 4)) & 15];
		out[n] = '\0';
	}
}

/* Makes the temp file (a file, or a symlink to target); 0 or an error. */
static int tempfile_make(struct tempfile *t, const char *prefix, mode_t mode, const char *target,
			 struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	int tries;
	t->path = NULL;
	t->fd = -1;
	for (tries = 0; tries < TEMPFILE_TRIES; tries++) {
		char suffix[TEMPFILE_SUFFIX_LEN + 1];
		int ok;
		random_hex(suffix, TEMPFILE_SUFFIX_LEN);
		strbuf_reset(&name);
		strbuf_addf(&name, "%s%s", prefix, suffix);
		if (target) {
			ok = symlink(target, name.buf) == 0;
		} else {
			t->fd = open(name.buf, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
			ok = t->fd >= 0;
		}
		if (ok) {
			t->path = strbuf_detach(&name, NULL);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	{
		int e = errno;
		int r = cerr_errno(err, "cannot create '%s'", name.buf);
		strbuf_release(&name);
		errno = e;
		return r;
	}
}

int tempfile_create(struct tempfile *t, const char *prefix, mode_t mode, struct strbuf *err)
{
	return tempfile_make(t, prefix, mode, NULL, err);
}

int tempfile_symlink(struct tempfile *t, const char *prefix, const char *target,
		     struct strbuf *err)
{
	return tempfile_make(t, prefix, 0, target, err);
}

int tempfile_close(struct tempfile *t, struct strbuf *err)
{
	int fd = t->fd;
	t->fd = -1;
	if (fd >= 0 && close(fd) < 0)
		return cerr_errno(err, "cannot close '%s'", t->path ? t->path : "(temporary file)");
	return 0;
}

int tempfile_rename(struct tempfile *t, const char *dst, struct strbuf *err)
{
	int r = tempfile_close(t, err);
	if (!r && rename(t->path, dst) < 0)
		r = cerr_errno(err, "cannot rename '%s' to '%s'", t->path, dst);
	if (r) {
		int e = errno; /* for the caller: EXDEV */
		tempfile_remove(t);
		errno = e;
		return r;
	}
	free(t->path);
	t->path = NULL;
	return 0;
}

void tempfile_remove(struct tempfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->path)
		unlink(t->path);
	free(t->path);
	t->path = NULL;
}

/*
 * Writes the temp file under `prefix` and renames it to `path`. *elsewhere
 * is set when the temp file could not be made there or cannot be renamed
 * from there (another file system): a caller may try beside `path`.
 */
static int write_via(const char *path, const char *prefix, const void *data, size_t len,
		     int durable, int *elsewhere, struct strbuf *err)
{
	struct tempfile t = TEMPFILE_INIT;
	int r = tempfile_create(&t, prefix, 0666, err);
	*elsewhere = r != 0;
	if (r)
		return r;
	if (write_all(t.fd, data, len) < 0)
		r = cerr_errno(err, "cannot write '%s'", t.path);
	else if (durable && fsync(t.fd) < 0)
		r = cerr_errno(err, "cannot fsync '%s'", t.path);
	if (!r) {
		r = tempfile_rename(&t, path, err);
		*elsewhere = r && errno == EXDEV;
	}
	tempfile_remove(&t);
	return r;
}

int write_file_atomic_via(const char *path, const char *tmp_prefix, const void *data,
			  size_t len, int durable, struct strbuf *err)
{
	int r = 0, elsewhere = 1;
	if (tmp_prefix) {
		struct strbuf e = STRBUF_INIT;
		r = write_via(path, tmp_prefix, data, len, durable, &elsewhere, &e);
		if (r && !elsewhere) {
			strbuf_reset(err);
			strbuf_add(err, e.buf, e.len);
		}
		strbuf_release(&e);
	}
	if (elsewhere) {
		char *prefix = xstrfmt("%s.tmp-", path);
		r = write_via(path, prefix, data, len, durable, &elsewhere, err);
		free(prefix);
	}
	if (!r && durable && fsync_dir_of(path, 0) < 0)
		r = cerr_errno(err, "cannot fsync the directory of '%s'", path);
	return r;
}

int write_file_atomic(const char *path, const void *data, size_t len, int durable,
		      struct strbuf *err)
{
	return write_file_atomic_via(path, NULL, data, len, durable, err);
}

static core_reporter_fn reporter;

void core_set_reporter(core_reporter_fn fn)
{
	reporter = fn;
}

void core_report(const char *level, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (reporter)
		reporter(level, sb.buf);
	else
		fprintf(stderr, "%s: %s\n", level, sb.buf); /* one call: lines do not interleave */
	strbuf_release(&sb);
}

int lock_file_hold(struct lock_file *lk, const char *path, int wait_ms, struct strbuf *err)
{
	int waited = 0;

	lk->path = xstrdup(path);
	lk->lock = xstrfmt("%s.lock", path);
	lk->held = 0;
	for (;;) {
		struct stat st;
		lk->fd = open(lk->lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (lk->fd >= 0) {
			lk->held = 1;
			return 0;
		}
		if (errno != EEXIST)
			return cerr_errno(err, "cannot create '%s'", lk->lock);
		/* Two processes may both find the same stale lock; the second
		 * unlink can then remove the lock the first just took. Only a
		 * killed process leaves one, so this needs that and a race. */
		if (!stat(lk->lock, &st) && st.st_mtime + LOCK_FILE_STALE_S < time(NULL)) {
			unlink(lk->lock);
			continue;
		}
		if (waited >= wait_ms)
			return cerr(err, CAIRN_ETRANSIENT,
				    "'%s' exists: another cairn is changing '%s'; if none is "
				    "running, remove '%s'", lk->lock, path, lk->lock);
		usleep(5000);
		waited += 5;
	}
}

int lock_file_commit(struct lock_file *lk, const void *data, size_t len, mode_t mode_mask,
		     struct strbuf *err)
{
	struct stat st;
	int r = 0;

	/* the lock was created 0666 and so has the umask applied: the mode
	 * of a new file, found without umask(), which is not thread-safe */
	if (stat(lk->path, &st) < 0 && fstat(lk->fd, &st) < 0)
		r = cerr_errno(err, "cannot stat '%s'", lk->lock);
	else if (fchmod(lk->fd, st.st_mode & 07777 & mode_mask) < 0)
		r = cerr_errno(err, "cannot set the mode of '%s'", lk->lock);
	else if (write_all(lk->fd, data, len) < 0)
		r = cerr_errno(err, "cannot write '%s'", lk->lock);
	else if (fsync(lk->fd) < 0)
		r = cerr_errno(err, "cannot fsync '%s'", lk->lock);
	if (close(lk->fd) < 0 && !r)
		r = cerr_errno(err, "cannot close '%s'", lk->lock);
	lk->fd = -1;
	if (!r && rename(lk->lock, lk->path) < 0)
		r = cerr_errno(err, "cannot rename '%s' to '%s'", lk->lock, lk->path);
	if (r) {
		unlink(lk->lock);
	} else if (fsync_dir_of(lk->path, 0) < 0) {
		r = cerr_errno(err, "cannot fsync the directory of '%s'", lk->path);
	}
	lk->held = 0;
	return r;
}

void lock_file_release(struct lock_file *lk)
{
	if (lk->fd >= 0)
		close(lk->fd);
	if (lk->held)
		unlink(lk->lock);
	lk->fd = -1;
	lk->held = 0;
	free(lk->path);
	free(lk->lock);
	lk->path = lk->lock = NULL;
}

int mkdir_p(const char *path, mode_t mode)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int r = 0;
	strbuf_addstr(&sb, path);
	for (i = 1; i <= sb.len; i++) {
		if (i < sb.len && sb.buf[i] != '/')
			continue;
		sb.buf[i] = '\0';
		if (mkdir(sb.buf, mode) < 0 && errno != EEXIST) {
			r = -1;
			break;
		}
		if (i < sb.len)
			sb.buf[i] = '/';
	}
	if (!r) {
		struct stat st;
		if (stat(path, &st) < 0)
			r = -1;
		else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			r = -1;
		}
	}
	strbuf_release(&sb);
	return r;
}

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void strbuf_add_human_size(struct strbuf *sb, uint64_t bytes)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = 0;
	if (bytes < 1024) {
		strbuf_addf(sb, "%llu B", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	strbuf_addf(sb, "%.1f %s", v, units[u]);
}

int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
