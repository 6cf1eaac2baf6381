/*
 * faultfs: an LD_PRELOAD shim for the reliability tests (t/t009*.sh).
 *
 * It sits between cairn (and liblmdb) and libc and does three things, each
 * switched on by an environment variable:
 *
 * FAULTFS_TRACE=FILE
 *     Appends one line per durability event to FILE:
 *         write PATH          first write to a file since its last sync
 *         write+sync PATH     a write to an O_DSYNC/O_SYNC file (LMDB's
 *                             meta page: the commit point of a transaction)
 *         fsync PATH          fsync or fdatasync (PATH ends in / for a dir)
 *         rename OLD NEW      rename, renameat, renameat2
 *         link OLD NEW        link, linkat
 *     so a test can check the order write -> fsync(file) -> rename ->
 *     fsync(dir) -> LMDB commit -> pointer rename.
 *
 * FAULTFS_FAIL=OP:N:ERRNO  (OP: write, fsync, rename, link, open: for
 *     writing, ropen: read-only)
 *     Makes the N-th call of OP (counted over the regular files under
 *     FAULTFS_ROOT, 1-based) fail with ERRNO (EIO, ENOSPC, EDQUOT, EROFS, EMFILE,
 *     EXDEV);
 *     N may be "all" to fail every call from the first. Nothing is done
 *     by a failed call.
 *
 * FAULTFS_CRASH_AT=N
 *     Simulates a power loss just before the N-th durability call (fsync,
 *     fdatasync, rename, link) under FAULTFS_ROOT: what the kernel had not
 *     been asked to make durable is thrown away, then the process ends with
 *     _exit(137), as kill -9 would. The loss model, a pessimistic reading
 *     of ext4 with delayed allocation:
 *       - a file this process created (O_CREAT that made it, mkstemp) and
 *         wrote since its last fsync is cut back to the size it had at that
 *         fsync (to nothing if it was never synced);
 *       - a rename or link whose directory was not fsynced afterwards is
 *         undone (a file a rename replaced comes back);
 *       - a file created in a directory that was not fsynced afterwards
 *         loses its name.
 *     Files changed in place (liblmdb's data.mdb) keep their bytes: LMDB
 *     orders its own writes around fdatasync, which the trace shows.
 *     FAULTFS_CRASH_AT=0 only counts: at exit, FAULTFS_COUNT (a file)
 *     gets "DURABLE FSYNC WRITE RENAME OPEN": the number of durability
 *     calls (the crash points) and of each kind of call FAULTFS_FAIL
 *     counts, so a test knows how many points there are to try.
 *
 * FAULTFS_STOP=STRING
 *     The first open of a path containing STRING stops the process
 *     (SIGSTOP) before it opens, so a test can act in that moment and then
 *     send SIGCONT (e.g. "gc.lock": a writer about to take the store lock).
 *
 * FAULTFS_STOP_RENAME=STRING
 *     The same, before the first rename whose source path contains STRING
 *     (e.g. "compact.mdb": a compacted index, complete, about to replace
 *     data.mdb).
 *
 * FAULTFS_STOP_RENAME_TO=STRING
 *     The same, before the first rename whose destination path contains
 *     STRING (e.g. "model.bin.cairn": a pointer file about to be
 *     replaced, its temp file written).
 *
 * FAULTFS_ROOT=DIR limits all of this to paths below DIR (default: all).
 *
 * This is test code: it is built as t/shim/faultfs.so and never linked
 * into cairn.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 4096
#define MAX_FILES 65536
#define MAX_NAMES 65536

enum op { OP_WRITE, OP_FSYNC, OP_RENAME, OP_LINK, OP_OPEN, OP_ROPEN, OP_N };
static const char *op_names[OP_N] = { "write", "fsync", "rename", "link", "open", "ropen" };

struct file {
	dev_t dev;
	ino_t ino;
	char *path;       /* where it was opened */
	int created;      /* this process created it */
	int dirty;        /* written since the last sync */
	off_t synced;     /* its size at the last sync */
};

/* a directory entry made (create, rename, link) and not yet made durable */
struct name {
	char *dir;
	char *path;       /* the new name */
	char *old;        /* rename: where it came from; NULL for create/link */
	char *backup;     /* rename over a file: that file, kept under this name */
	int kind;         /* 0 create, 1 rename, 2 link */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int inited;
static const char *root;
static size_t rootlen;
static int trace_fd = -1;
static int fail_op = -1;
static long fail_n;  /* 0: all */
static int fail_errno;
static long crash_at = -1;
static const char *count_file;
static long counts[OP_N];
static long durable_calls;
static int fd_file[MAX_FD]; /* index+1 into files, 0: untracked */
static struct file files[MAX_FILES];
static size_t nfiles;
static struct name names[MAX_NAMES];
static size_t nnames;
static unsigned backups;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned);
static int (*real_link)(const char *, const char *);
static int (*real_linkat)(int, const char *, int, const char *, int);
static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_mkstemp)(char *);
static int (*real_close)(int);
static ssize_t (*real_copy_file_range)(int, off_t *, int, off_t *, size_t, unsigned);

static void count_at_exit(void)
{
	char buf[128];
	int fd, n;
	if (!count_file)
		return;
	fd = real_open(count_file, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%ld %ld %ld %ld %ld\n", durable_calls, counts[OP_FSYNC],
		     counts[OP_WRITE], counts[OP_RENAME], counts[OP_OPEN]);
	if (real_write(fd, buf, (size_t)n) < 0)
		n = 0;
	real_close(fd);
}

static const char *stop_at; /* FAULTFS_STOP */
static const char *stop_rename; /* FAULTFS_STOP_RENAME */
static const char *stop_rename_to; /* FAULTFS_STOP_RENAME_TO */
static int stopped, stopped_rename;

static void init(void)
{
	const char *s;
	if (inited)
		return;
#define REAL(name) real_##name = dlsym(RTLD_NEXT, #name)
	REAL(write); REAL(pwrite); REAL(writev); REAL(pwritev); REAL(fsync); REAL(fdatasync);
	REAL(rename); REAL(renameat); REAL(renameat2); REAL(link); REAL(linkat); REAL(open);
	REAL(openat); REAL(mkstemp); REAL(close); REAL(copy_file_range);
#undef REAL
	root = getenv("FAULTFS_ROOT");
	rootlen = root ? strlen(root) : 0;
	s = getenv("FAULTFS_TRACE");
	if (s && *s)
		trace_fd = real_open(s, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	s = getenv("FAULTFS_FAIL");
	if (s && *s) {
		char op[16];
		char n[16];
		char e[16];
		if (sscanf(s, "%15[a-z]:%15[a-z0-9]:%15[A-Z]", op, n, e) == 3) {
			int i;
			for (i = 0; i < OP_N; i++)
				if (!strcmp(op, op_names[i]))
					fail_op = i;
			fail_n = strcmp(n, "all") ? atol(n) : 0;
			fail_errno = !strcmp(e, "ENOSPC") ? ENOSPC : !strcmp(e, "EDQUOT") ? EDQUOT :
				     !strcmp(e, "EROFS") ? EROFS : !strcmp(e, "EMFILE") ? EMFILE :
				     !strcmp(e, "EXDEV") ? EXDEV : EIO;
		}
	}
	s = getenv("FAULTFS_CRASH_AT");
	if (s && *s)
		crash_at = atol(s);
	stop_at = getenv("FAULTFS_STOP");
	stop_rename = getenv("FAULTFS_STOP_RENAME");
	stop_rename_to = getenv("FAULTFS_STOP_RENAME_TO");
	count_file = getenv("FAULTFS_COUNT");
	if (crash_at == 0 && count_file)
		atexit(count_at_exit);
	inited = 1;
}

static char *fd_path(int fd)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

/*
 * The path with its directory resolved (symlinks, "..", "//"), so that
 * names compare equal to what /proc/self/fd shows. Takes ownership.
 */
static char *canonical(char *path)
{
	char *slash = strrchr(path, '/'), *dir, *out;
	char buf[PATH_MAX];
	size_t n;
	if (!slash || slash == path)
		return path;
	*slash = 0;
	dir = realpath(path, buf);
	*slash = '/';
	if (!dir)
		return path;
	n = strlen(dir) + strlen(slash) + 1;
	out = malloc(n);
	snprintf(out, n, "%s%s", dir, slash);
	free(path);
	return out;
}

/* An absolute path for name relative to dirfd. */
static char *abs_path(int dirfd, const char *name)
{
	char *base, *out;
	char cwd[PATH_MAX];
	size_t n;
	if (name[0] == '/')
		return canonical(strdup(name));
	if (dirfd == AT_FDCWD) {
		if (!getcwd(cwd, sizeof(cwd)))
			return strdup(name);
		base = strdup(cwd);
	} else {
		base = fd_path(dirfd);
		if (!base)
			return strdup(name);
	}
	n = strlen(base) + strlen(name) + 2;
	out = malloc(n);
	snprintf(out, n, "%s/%s", base, name);
	free(base);
	return canonical(out);
}

static char *dir_of(const char *path)
{
	char *d = strdup(path), *slash = strrchr(d, '/');
	if (slash && slash != d)
		*slash = 0;
	else if (slash)
		slash[1] = 0;
	return d;
}

static int under_root(const char *path)
{
	if (!root)
		return 1;
	return path && !strncmp(path, root, rootlen) && (path[rootlen] == '/' || !path[rootlen]);
}

static void trace(const char *what, const char *a, const char *b)
{
	char line[2 * PATH_MAX + 32];
	int n;
	if (trace_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %s%s%s\n", what, a, b ? " " : "", b ? b : "");
	if (n > 0 && (size_t)n < sizeof(line) && real_write(trace_fd, line, (size_t)n) < 0)
		trace_fd = -1;
}

/* Should this call of op fail? (lock held) */
static int should_fail(int op)
{
	counts[op]++;
	return fail_op == op && (fail_n == 0 ? 1 : counts[op] == fail_n) && fail_n >= 0;
}

static void simulate_loss_and_die(void);

/* Counts a durability call; crashes before the chosen one. (lock held) */
static void durable_point(void)
{
	durable_calls++;
	if (crash_at > 0 && durable_calls == crash_at)
		simulate_loss_and_die();
}

static struct file *file_of_fd(int fd)
{
	if (fd < 0 || fd >= MAX_FD || !fd_file[fd])
		return NULL;
	return &files[fd_file[fd] - 1];
}

/* Starts tracking fd (a regular file under the root). (lock held) */
static void track(int fd, const char *path, int created)
{
	struct stat st;
	size_t i;
	if (fd < 0 || fd >= MAX_FD || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	for (i = 0; i < nfiles; i++)
		if (files[i].dev == st.st_dev && files[i].ino == st.st_ino)
			break;
	if (i == nfiles) {
		if (nfiles == MAX_FILES)
			return;
		files[i].dev = st.st_dev;
		files[i].ino = st.st_ino;
		files[i].path = strdup(path);
		files[i].created = created;
		files[i].dirty = 0;
		files[i].synced = created ? 0 : st.st_size;
		nfiles++;
	}
	fd_file[fd] = (int)i + 1;
}

static void add_name(int kind, const char *path, const char *old, const char *backup)
{
	struct name *n;
	if (nnames == MAX_NAMES)
		return;
	n = &names[nnames++];
	n->kind = kind;
	n->path = strdup(path);
	n->dir = dir_of(path);
	n->old = old ? strdup(old) : NULL;
	n->backup = backup ? strdup(backup) : NULL;
}

/* fsync of a directory: the names made in it are durable now. */
static void dir_synced(const char *dir)
{
	size_t i, k = 0;
	for (i = 0; i < nnames; i++) {
		if (!strcmp(names[i].dir, dir)) {
			if (names[i].backup)
				unlink(names[i].backup);
			free(names[i].dir);
			free(names[i].path);
			free(names[i].old);
			free(names[i].backup);
			continue;
		}
		names[k++] = names[i];
	}
	nnames = k;
}

static void simulate_loss_and_die(void)
{
	size_t i;
	char msg[128];
	int n;
	/* 1. unsynced data of files this process created */
	for (i = 0; i < nfiles; i++) {
		struct file *f = &files[i];
		if (f->created && f->dirty) {
			int fd = real_open(f->path, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				struct stat st;
				if (!fstat(fd, &st) && st.st_ino == f->ino && st.st_dev == f->dev &&
				    ftruncate(fd, f->synced) < 0)
					n = 0;
				real_close(fd);
			}
		}
	}
	/* 2. names not made durable, newest first */
	for (i = nnames; i-- > 0;) {
		struct name *nm = &names[i];
		if (nm->kind == 1) {
			if (real_rename(nm->path, nm->old) < 0)
				unlink(nm->path);
			if (nm->backup)
				real_rename(nm->backup, nm->path);
		} else {
			unlink(nm->path);
		}
	}
	n = snprintf(msg, sizeof(msg), "faultfs: simulated power loss at durability call %ld\n",
		     durable_calls);
	if (n > 0 && real_write(2, msg, (size_t)n) < 0)
		n = 0;
	_exit(137);
}

/* --- the interposed calls --- */

static void note_write(int fd)
{
	struct file *f;
	pthread_mutex_lock(&lock);
	f = file_of_fd(fd);
	if (f && (fcntl(fd, F_GETFL) & (O_DSYNC | O_SYNC))) {
		/* synchronous: durable when the call returns (LMDB's meta page) */
		trace("write+sync", f->path, NULL);
	} else if (f && !f->dirty) {
		f->dirty = 1;
		trace("write", f->path, NULL);
	}
	pthread_mutex_unlock(&lock);
}

static int write_fails(int fd)
{
	int r = 0;
	pthread_mutex_lock(&lock);
	if (file_of_fd(fd) && should_fail(OP_WRITE))
		r = 1;
	pthread_mutex_unlock(&lock);
	if (r)
		errno = fail_errno;
	return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	init();
	if (write_fails(fd))
		return -1;
	note_write(fd);
	return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	init();
	if (write_fails(fd))
		return -1;
	note_write(fd);
	return real_pwrite(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) __attribute__((alias("pwrite")));

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	init();
	if (write_fails(fd))
		return -1;
	note_write(fd);
	return real_writev(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	init();
	if (write_fails(fd))
		return -1;
	note_write(fd);
	return real_pwritev(fd, iov, cnt, off);
}
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
	__attribute__((alias("pwritev")));

ssize_t copy_file_range(int in, off_t *inoff, int out, off_t *outoff, size_t n, unsigned fl)
{
	init();
	if (write_fails(out))
		return -1;
	note_write(out);
	return real_copy_file_range(in, inoff, out, outoff, n, fl);
}

static int do_sync(int fd, int (*fn)(int))
{
	struct stat st;
	char *path;
	int r;
	init();
	path = fd_path(fd);
	if (!under_root(path)) {
		free(path);
		return fn(fd);
	}
	pthread_mutex_lock(&lock);
	durable_point();
	if (should_fail(OP_FSYNC)) {
		pthread_mutex_unlock(&lock);
		free(path);
		errno = fail_errno;
		return -1;
	}
	r = fn(fd);
	if (!r && !fstat(fd, &st)) {
		if (S_ISDIR(st.st_mode)) {
			char *slashed = malloc(strlen(path) + 2);
			snprintf(slashed, strlen(path) + 2, "%s/", path);
			trace("fsync", slashed, NULL);
			free(slashed);
			dir_synced(path);
		} else {
			struct file *f = file_of_fd(fd);
			trace("fsync", path, NULL);
			if (f) {
				f->dirty = 0;
				f->synced = st.st_size;
			}
		}
	}
	pthread_mutex_unlock(&lock);
	free(path);
	return r;
}

int fsync(int fd)
{
	init();
	return do_sync(fd, real_fsync);
}

int fdatasync(int fd)
{
	init();
	return do_sync(fd, real_fdatasync);
}

static int do_rename(int olddir, const char *old, int newdir, const char *new, unsigned flags,
		     int use_at)
{
	char *a = abs_path(olddir, old), *b = abs_path(newdir, new), *backup = NULL;
	int r;
	if (!under_root(b)) {
		free(a);
		free(b);
		return use_at ? real_renameat2(olddir, old, newdir, new, flags) : real_rename(old, new);
	}
	pthread_mutex_lock(&lock);
	durable_point();
	if (should_fail(OP_RENAME)) {
		pthread_mutex_unlock(&lock);
		free(a);
		free(b);
		errno = fail_errno;
		return -1;
	}
	if (crash_at > 0 && !access(b, F_OK)) {
		/* keep what a rename replaces, to bring it back on a crash */
		size_t n = strlen(b) + 32;
		backup = malloc(n);
		snprintf(backup, n, "%s.faultfs-%u", b, backups++);
		if (real_link(b, backup) < 0) {
			free(backup);
			backup = NULL;
		}
	}
	r = use_at ? real_renameat2(olddir, old, newdir, new, flags) : real_rename(old, new);
	if (!r) {
		size_t i;
		trace("rename", a, b);
		add_name(1, b, a, backup);
		for (i = 0; i < nfiles; i++)
			if (!strcmp(files[i].path, a)) {
				free(files[i].path);
				files[i].path = strdup(b);
			}
	} else if (backup) {
		unlink(backup);
	}
	pthread_mutex_unlock(&lock);
	free(a);
	free(b);
	free(backup);
	return r;
}

static void maybe_stop_rename(const char *old, const char *new)
{
	if (((stop_rename && *stop_rename && strstr(old, stop_rename)) ||
	     (stop_rename_to && *stop_rename_to && strstr(new, stop_rename_to))) &&
	    !__atomic_exchange_n(&stopped_rename, 1, __ATOMIC_SEQ_CST))
		raise(SIGSTOP);
}

int rename(const char *old, const char *new)
{
	init();
	maybe_stop_rename(old, new);
	return do_rename(AT_FDCWD, old, AT_FDCWD, new, 0, 0);
}

int renameat(int od, const char *old, int nd, const char *new)
{
	init();
	maybe_stop_rename(old, new);
	return do_rename(od, old, nd, new, 0, 1);
}

int renameat2(int od, const char *old, int nd, const char *new, unsigned flags)
{
	init();
	maybe_stop_rename(old, new);
	return do_rename(od, old, nd, new, flags, 1);
}

static int do_link(int od, const char *old, int nd, const char *new, int flags, int use_at)
{
	char *a = abs_path(od, old), *b = abs_path(nd, new);
	int r;
	if (!under_root(b)) {
		free(a);
		free(b);
		return use_at ? real_linkat(od, old, nd, new, flags) : real_link(old, new);
	}
	pthread_mutex_lock(&lock);
	durable_point();
	if (should_fail(OP_LINK)) {
		pthread_mutex_unlock(&lock);
		free(a);
		free(b);
		errno = fail_errno;
		return -1;
	}
	r = use_at ? real_linkat(od, old, nd, new, flags) : real_link(old, new);
	if (!r) {
		trace("link", a, b);
		add_name(2, b, NULL, NULL);
	}
	pthread_mutex_unlock(&lock);
	free(a);
	free(b);
	return r;
}

int link(const char *old, const char *new)
{
	init();
	return do_link(AT_FDCWD, old, AT_FDCWD, new, 0, 0);
}

int linkat(int od, const char *old, int nd, const char *new, int flags)
{
	init();
	return do_link(od, old, nd, new, flags, 1);
}

static int do_open(int dirfd, const char *name, int flags, mode_t mode)
{
	char *p;
	int existed = 1, fd;
	init();
	if (stop_at && *stop_at && strstr(name, stop_at) &&
	    !__atomic_exchange_n(&stopped, 1, __ATOMIC_SEQ_CST))
		raise(SIGSTOP);
	if (!(flags & (O_WRONLY | O_RDWR)) || (flags & O_DIRECTORY)) {
		int fail = 0;
		if (fail_op == OP_ROPEN && !(flags & O_DIRECTORY)) {
			p = abs_path(dirfd, name);
			pthread_mutex_lock(&lock);
			fail = under_root(p) && should_fail(OP_ROPEN);
			pthread_mutex_unlock(&lock);
			free(p);
		}
		if (fail) {
			errno = fail_errno;
			return -1;
		}
		return dirfd == AT_FDCWD ? real_open(name, flags, mode) :
					   real_openat(dirfd, name, flags, mode);
	}
	p = abs_path(dirfd, name);
	if (!under_root(p)) {
		free(p);
		return dirfd == AT_FDCWD ? real_open(name, flags, mode) :
					   real_openat(dirfd, name, flags, mode);
	}
	pthread_mutex_lock(&lock);
	if (should_fail(OP_OPEN)) {
		pthread_mutex_unlock(&lock);
		free(p);
		errno = fail_errno;
		return -1;
	}
	if (flags & O_CREAT)
		existed = !access(p, F_OK);
	fd = dirfd == AT_FDCWD ? real_open(name, flags, mode) : real_openat(dirfd, name, flags, mode);
	if (fd >= 0) {
		track(fd, p, !existed);
		if (!existed)
			add_name(0, p, NULL, NULL);
	}
	pthread_mutex_unlock(&lock);
	free(p);
	return fd;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

#define COMMA ,
/* open, open64, openat, openat64: the same, the mode read only with O_CREAT */
#define OPEN_WRAPPER(fn, dirarg, dirval)                         \
	int fn(dirarg const char *name, int flags, ...)          \
	{                                                        \
		va_list ap;                                      \
		mode_t m;                                        \
		va_start(ap, flags);                             \
		m = open_mode(flags, ap);                        \
		va_end(ap);                                      \
		return do_open(dirval, name, flags, m);          \
	}
OPEN_WRAPPER(open, , AT_FDCWD)
OPEN_WRAPPER(open64, , AT_FDCWD)
OPEN_WRAPPER(openat, int dirfd COMMA, dirfd)
OPEN_WRAPPER(openat64, int dirfd COMMA, dirfd)

int mkstemp(char *tmpl)
{
	int fd;
	init();
	fd = real_mkstemp(tmpl);
	if (fd >= 0) {
		char *p = abs_path(AT_FDCWD, tmpl);
		if (under_root(p)) {
			pthread_mutex_lock(&lock);
			track(fd, p, 1);
			add_name(0, p, NULL, NULL);
			pthread_mutex_unlock(&lock);
		}
		free(p);
	}
	return fd;
}
int mkstemp64(char *tmpl) __attribute__((alias("mkstemp")));

int close(int fd)
{
	init();
	if (fd >= 0 && fd < MAX_FD) {
		pthread_mutex_lock(&lock);
		fd_file[fd] = 0;
		pthread_mutex_unlock(&lock);
	}
	return real_close(fd);
}
