/*
 * The directory backend: a remote on a local or mounted filesystem.
 * Writes go to a temp file beside the target, are fsync'd, and are linked
 * into place with link(2), which refuses to replace an existing object,
 * so concurrent pushes of the same pack cannot clobber each other.
 */
#include "remote/remote.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dir_remote {
	struct remote base;
	char *root;
};

static int fail(struct strbuf *err, const char *what, const char *path)
{
	int e = errno;
	int code = e == ENOENT ? CAIRN_ENOTFOUND : e == EEXIST ? CAIRN_EEXIST : CAIRN_EPERMANENT;
	cerr(err, code, "%s '%s': %s", what, path, strerror(e));
	errno = e;
	return code;
}

static char *full(struct dir_remote *d, const char *path)
{
	return *path ? xstrfmt("%s/%s", d->root, path) : xstrdup(d->root);
}

static int dir_open(struct remote **out, const struct remote_url *u, const struct config *cfg,
		    const char *name, struct strbuf *err)
{
	struct dir_remote *d = xcalloc(1, sizeof(*d));
	d->base.ops = &remote_dir_ops;
	d->base.name = xstrdup(name);
	d->base.url.scheme = xstrdup(u->scheme);
	d->base.url.path = xstrdup(u->path);
	d->root = xstrdup(u->path);
	*out = &d->base;
	return 0;
}

static void dir_close(struct remote *r)
{
	struct dir_remote *d = (struct dir_remote *)r;
	free(d->root);
	free(r->name);
	remote_url_release(&r->url);
	free(d);
}

static int dir_prepare(struct remote *r, const char *dir, struct strbuf *err)
{
	struct dir_remote *d = (struct dir_remote *)r;
	char *p = full(d, dir);
	int ret = mkdir_p(p, 0777) < 0 ? fail(err, "cannot create directory", p) : 0;
	free(p);
	return ret;
}

static int dir_list(struct remote *r, const char *dir,
		    int (*cb)(const char *name, uint64_t size, int64_t mtime, void *data), void *data,
		    struct strbuf *err)
{
	struct dir_remote *d = (struct dir_remote *)r;
	char *p = full(d, dir);
	DIR *dh = opendir(p);
	struct dirent *de;
	size_t listed = 0;
	int ret = 0;
	if (!dh) {
		ret = fail(err, "cannot list", p);
		free(p);
		return ret;
	}
	while (!ret && (de = readdir(dh))) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue; /* ., .., and temp files */
		if (fstatat(dirfd(dh), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (++listed > REMOTE_LIST_MAX) {
			ret = cerr(err, CAIRN_EPERMANENT, "'%s' lists more than %d files; refused", p,
				   REMOTE_LIST_MAX);
			break;
		}
		ret = cb(de->d_name, (uint64_t)st.st_size, (int64_t)st.st_mtime, data);
	}
	closedir(dh);
	free(p);
	return ret;
}

static int dir_stat(struct remote *r, const char *path, uint64_t *size, struct strbuf *err)
{
	struct dir_remote *d = (struct dir_remote *)r;
	char *p = full(d, path);
	struct stat st;
	int ret = 0;
	if (stat(p, &st) < 0)
		ret = fail(err, "cannot stat", p);
	else
		*size = (uint64_t)st.st_size;
	free(p);
	return ret;
}

static int dir_read(struct remote *r, const char *path, uint64_t off, uint64_t len,
		    struct strbuf *out, struct strbuf *err)
{
	struct dir_remote *d = (struct dir_remote *)r;
	char *p = full(d, path);
	int fd = open(p, O_RDONLY | O_CLOEXEC), ret = 0;
	struct stat st;
	if (fd < 0) {
		ret = fail(err, "cannot open", p);
		free(p);
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = fail(err, "cannot stat", p);
	} else if (off < (uint64_t)st.st_size) {
		uint64_t avail = (uint64_t)st.st_size - off, n = len < avail ? len : avail;
		ssize_t got;
		strbuf_grow(out, (size_t)n);
		got = pread_full(fd, out->buf + out->len, (size_t)n, (off_t)off);
		if (got < 0)
			ret = fail(err, "cannot read", p);
		else
			strbuf_setlen(out, out->len + (size_t)got);
	}
	close(fd);
	free(p);
	return ret;
}

static int dir_write(struct remote *r, const char *path, int fd, uint64_t size, struct strbuf *err)
{
	struct dir_remote *d = (struct dir_remote *)r;
	char *p = full(d, path), *tmp;
	const char *slash = strrchr(p, '/');
	char buf[1 << 16];
	struct tempfile tf = TEMPFILE_INIT;
	uint64_t done = 0;
	int out, ret = 0;

	tmp = xstrfmt("%.*s/.tmp-%ld-", (int)(slash - p), p, (long)getpid());
	if (tempfile_create(&tf, tmp, 0600, err)) {
		ret = fail(err, "cannot create a temporary file", tmp);
		goto done;
	}
	free(tmp);
	tmp = tf.path; /* ours to remove from here on */
	out = tf.fd;
	fchmod(out, 0444);
	/* in-kernel copy (or a reflink) where the filesystems allow it */
	while (!ret && done < size) {
		loff_t in_off = (loff_t)done;
		ssize_t n = copy_file_range(fd, &in_off, out, NULL, (size_t)(size - done), 0);
		if (n <= 0)
			break;
		done += (uint64_t)n;
	}
	while (!ret && done < size) {
		size_t want = size - done < sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
		ssize_t got = pread_full(fd, buf, want, (off_t)done);
		if (got <= 0) {
			ret = cerr(err, CAIRN_EIO, "cannot read the local file for '%s'", path);
			break;
		}
		if (pwrite_all(out, buf, (size_t)got, (off_t)done) < 0)
			ret = fail(err, "cannot write", tmp);
		done += (uint64_t)got;
	}
	if (!ret && fsync(out) < 0)
		ret = fail(err, "cannot fsync", tmp);
	if (close(out) < 0 && !ret)
		ret = fail(err, "cannot close", tmp);
	/* link(2) never replaces: an existing object stays as it is */
	if (!ret && link(tmp, p) < 0)
		ret = fail(err, errno == EEXIST ? "already exists:" : "cannot link", p);
	unlink(tmp);
	if (!ret && fsync_dir_of(p, 0) < 0)
		ret = fail(err, "cannot fsync the directory of", p);
done:
	free(tmp);
	free(p);
	return ret;
}

static int dir_remove(struct remote *r, const char *path, struct strbuf *err)
{
	struct dir_remote *d = (struct dir_remote *)r;
	char *p = full(d, path);
	int ret = unlink(p) < 0 ? fail(err, "cannot remove", p) : 0;
	free(p);
	return ret;
}

const struct remote_ops remote_dir_ops = {
	.scheme = "file",
	.open = dir_open,
	.close = dir_close,
	.prepare = dir_prepare,
	.list = remote_list_plain,
	.list_times = dir_list,
	.stat = dir_stat,
	.read = dir_read,
	.write = dir_write,
	.remove = dir_remove,
};
