/*
 * The one test suite every remote backend passes (restic's backend tests
 * are the model). The backend is chosen by URL: CAIRN_TEST_BACKEND_URL, or
 * a fresh local directory. The SSH and S3 shell tests run this same
 * program against their servers.
 */
#include "remote/remote.h"
#include "t/unit/tap.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/cairn-backend-XXXXXX";
static const char *url;

/* A local temp file holding `len` bytes of a pattern; returns an fd. */
static int make_local(size_t len, unsigned seed)
{
	char path[64];
	int fd;
	size_t i;
	uint8_t *buf = xmalloc(len ? len : 1);
	uint32_t x = seed * 2654435761u + 1;
	snprintf(path, sizeof(path), "%s/local-%u-%zu", tmpdir, seed, len);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	if (fd < 0 || write_all(fd, buf, len) < 0)
		abort();
	free(buf);
	return fd;
}

struct times {
	int n;
	int64_t min, max;
};

static int collect_times(const char *name, uint64_t size, int64_t mtime, void *data)
{
	struct times *t = data;
	if (mtime == REMOTE_MTIME_UNKNOWN)
		return 0;
	if (!t->n || mtime < t->min)
		t->min = mtime;
	if (!t->n || mtime > t->max)
		t->max = mtime;
	t->n++;
	return 0;
}

static int same_as_local(int fd, const struct strbuf *sb, uint64_t off, size_t len)
{
	char *buf = xmalloc(len ? len : 1);
	int same = pread_full(fd, buf, len, (off_t)off) == (ssize_t)len && sb->len == len &&
		   !memcmp(buf, sb->buf, len);
	free(buf);
	return same;
}

struct names {
	char *v[64];
	uint64_t size[64];
	int n;
};

static int collect(const char *name, uint64_t size, void *data)
{
	struct names *ns = data;
	if (ns->n < 64) {
		ns->v[ns->n] = xstrdup(name);
		ns->size[ns->n++] = size;
	}
	return 0;
}

static void names_free(struct names *ns)
{
	int i;
	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	ns->n = 0;
}

struct racer {
	const char *path;
	int fd;
	uint64_t size;
	int result;
};

static void *race(void *arg)
{
	struct racer *rc = arg;
	struct remote *r;
	struct strbuf err = STRBUF_INIT;
	rc->result = remote_open_url(&r, url, NULL, NULL, "test", &err);
	if (!rc->result) {
		rc->result = r->ops->write(r, rc->path, rc->fd, rc->size, &err);
		remote_close(r);
	}
	strbuf_release(&err);
	return NULL;
}

int main(void)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT, base = STRBUF_INIT;
	struct remote *r;
	struct names ns = { { 0 }, { 0 }, 0 };
	uint64_t size = 0;
	int small, big, other, rc, i, found;

	if (!mkdtemp(tmpdir))
		return 1;
	url = getenv("CAIRN_TEST_BACKEND_URL");
	if (!url || !*url) {
		strbuf_addf(&base, "%s/remote", tmpdir);
		url = base.buf;
	}
	diag("backend under test: %s", url);
	rc = remote_open_url(&r, url, NULL, NULL, "test", &err);
	if (!ok(rc == 0, "open %s", err.buf))
		return tap_done();

	ok(r->ops->list(r, "nothing-here", collect, &ns, &err) == CAIRN_ENOTFOUND,
	   "list of a missing directory: not found");
	ok(r->ops->prepare(r, "packs", &err) == 0, "prepare packs/ (%s)", err.buf);
	ok(r->ops->prepare(r, "packs", &err) == 0, "prepare is idempotent");
	ok(r->ops->list(r, "packs", collect, &ns, &err) == 0 && ns.n == 0, "an empty directory lists nothing");

	small = make_local(1000, 1);
	big = make_local(5u << 20, 2);
	other = make_local(1000, 3);
	ok(r->ops->write(r, "packs/a.idx", small, 1000, &err) == 0, "write a small object (%s)", err.buf);
	ok(r->ops->stat(r, "packs/a.idx", &size, &err) == 0 && size == 1000, "stat gives its size");
	strbuf_reset(&sb);
	ok(r->ops->read(r, "packs/a.idx", 0, REMOTE_ALL, &sb, &err) == 0 && same_as_local(small, &sb, 0, 1000),
	   "read it whole");
	strbuf_reset(&sb);
	ok(r->ops->read(r, "packs/a.idx", 100, 50, &sb, &err) == 0 && same_as_local(small, &sb, 100, 50),
	   "read a range");
	strbuf_reset(&sb);
	ok(r->ops->read(r, "packs/a.idx", 990, 50, &sb, &err) == 0 && sb.len == 10 &&
	   same_as_local(small, &sb, 990, 10), "a range past the end comes back short");
	strbuf_reset(&sb);
	ok(r->ops->read(r, "packs/a.idx", 5000, 10, &sb, &err) == 0 && sb.len == 0,
	   "a range starting past the end is empty");
	strbuf_addstr(&sb, "kept");
	ok(r->ops->read(r, "packs/a.idx", 0, 3, &sb, &err) == 0 && sb.len == 7 && !memcmp(sb.buf, "kept", 4),
	   "read appends to the buffer");

	ok(r->ops->write(r, "packs/a.idx", other, 1000, &err) == CAIRN_EEXIST, "writing an existing object: exists");
	strbuf_reset(&sb);
	ok(r->ops->read(r, "packs/a.idx", 0, REMOTE_ALL, &sb, &err) == 0 && same_as_local(small, &sb, 0, 1000),
	   "... and the object is unchanged");

	ok(r->ops->write(r, "packs/b.pack", big, 5u << 20, &err) == 0, "write 5 MiB (%s)", err.buf);
	strbuf_reset(&sb);
	ok(r->ops->read(r, "packs/b.pack", 0, REMOTE_ALL, &sb, &err) == 0 &&
	   same_as_local(big, &sb, 0, 5u << 20), "read 5 MiB back identical");
	strbuf_reset(&sb);
	ok(r->ops->read(r, "packs/b.pack", 3u << 20, 12345, &sb, &err) == 0 &&
	   same_as_local(big, &sb, 3u << 20, 12345), "a range in the middle of a large object");
	ok(r->ops->write(r, "packs/empty", small, 0, &err) == 0 &&
	   r->ops->stat(r, "packs/empty", &size, &err) == 0 && size == 0, "an empty object");

	names_free(&ns);
	ok(r->ops->list(r, "packs", collect, &ns, &err) == 0 && ns.n == 3, "list shows the 3 objects (%d)", ns.n);
	found = 0;
	for (i = 0; i < ns.n; i++)
		found += (!strcmp(ns.v[i], "a.idx") && ns.size[i] == 1000) +
			 (!strcmp(ns.v[i], "b.pack") && ns.size[i] == (5u << 20)) +
			 (!strcmp(ns.v[i], "empty") && ns.size[i] == 0);
	ok(found == 3, "with their names and sizes, and no temporary names");
	{
		struct times tm = { 0, 0, 0 };
		int64_t now = (int64_t)time(NULL);
		/* the remote's clock: on these test servers, the local one */
		ok(r->ops->list_times(r, "packs", collect_times, &tm, &err) == 0 && tm.n == 3 &&
		   tm.min > now - 600 && tm.max < now + 600,
		   "list_times gives each object its time of upload (%d)", tm.n);
	}

	ok(r->ops->stat(r, "packs/missing", &size, &err) == CAIRN_ENOTFOUND, "stat of a missing object: not found");
	strbuf_reset(&sb);
	ok(r->ops->read(r, "packs/missing", 0, 10, &sb, &err) == CAIRN_ENOTFOUND, "read of a missing object: not found");
	ok(strstr(err.buf, "missing") != NULL, "the message names it (%s)", err.buf);
	ok(r->ops->remove(r, "packs/empty", &err) == 0 &&
	   r->ops->stat(r, "packs/empty", &size, &err) == CAIRN_ENOTFOUND, "remove");
	ok(r->ops->remove(r, "packs/empty", &err) == CAIRN_ENOTFOUND, "remove of a missing object: not found");

	{
		/* two writers of one new object at once: one wins, the other
		 * is told it exists, and the object is whole */
		struct racer a = { "packs/race", big, 5u << 20, -99 }, b = { "packs/race", other, 1000, -99 };
		pthread_t ta, tb;
		pthread_create(&ta, NULL, race, &a);
		pthread_create(&tb, NULL, race, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		ok((a.result == 0 && b.result == CAIRN_EEXIST) || (a.result == CAIRN_EEXIST && b.result == 0),
		   "two concurrent writers: one wins (%d, %d)", a.result, b.result);
		strbuf_reset(&sb);
		r->ops->read(r, "packs/race", 0, REMOTE_ALL, &sb, &err);
		ok(a.result == 0 ? same_as_local(big, &sb, 0, 5u << 20) : same_as_local(other, &sb, 0, 1000),
		   "... and the object is the winner's, whole");
	}
	names_free(&ns);
	remote_close(r);
	close(small);
	close(big);
	close(other);
	{
		char *cmd = xstrfmt("rm -rf '%s'", tmpdir);
		if (system(cmd))
			diag("could not remove %s", tmpdir);
		free(cmd);
	}
	strbuf_release(&err);
	strbuf_release(&sb);
	strbuf_release(&base);
	return tap_done();
}
