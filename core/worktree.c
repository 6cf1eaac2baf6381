#include "core/worktree.h"
#include "core/parallel.h"
#include "core/pointer.h"
#include "core/treewalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAT_ENTRY_SZ (1 + 4 + 8 * 6 + OID_RAWSZ + SHA256_RAWSZ)
/*
 * LMDB keys hold at most 511 bytes. A longer path is keyed by "\0" and
 * the XXH3-128 of the path (no path starts with NUL, so these keys sort
 * before every other and never mix with a directory's entries), and its
 * entry is followed by the whole path, which a lookup compares: two paths
 * with the same hash are a miss, never a wrong hit (store-format.md).
 */
#define STAT_KEY_MAX 511
#define STAT_HKEY_SZ (1 + OID_RAWSZ)
#define HASH_BLOCK (1u << 20)

/* Frees what n owns; n itself is left as it is (its memory goes next). */
static void node_release(struct wt_node *n, int own_path)
{
	size_t i;
	for (i = 0; i < n->nkids; i++)
		if (n->kids[i].kids || !n->kidpaths)
			node_release(&n->kids[i], !n->kidpaths);
	free(n->kids);
	free(n->kidpaths);
	if (own_path)
		free(n->path);
}

void wt_node_free(struct wt_node *n)
{
	if (!n)
		return;
	node_release(n, 1);
	free(n);
}

static uint32_t mode_of(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return MODE_DIR;
	if (S_ISLNK(st->st_mode))
		return MODE_LINK;
	if (S_ISREG(st->st_mode))
		return (st->st_mode & S_IXUSR) ? MODE_EXEC : MODE_FILE;
	return 0;
}

void wt_node_set_stat(struct wt_node *n, const struct stat *st)
{
	n->mode = mode_of(st);
	n->dev = (uint64_t)st->st_dev;
	n->ino = (uint64_t)st->st_ino;
	n->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	n->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	if (n->mode != MODE_DIR)
		n->size = (uint64_t)st->st_size;
}

static void stat_entry_encode(uint8_t *out, const struct wt_node *n, int64_t cached_at)
{
	out[0] = 1;
	put_le32(out + 1, n->mode);
	put_le64(out + 5, n->dev);
	put_le64(out + 13, n->ino);
	put_le64(out + 21, n->size);
	put_le64(out + 29, (uint64_t)n->mtime_ns);
	put_le64(out + 37, (uint64_t)n->ctime_ns);
	put_le64(out + 45, (uint64_t)cached_at);
	memcpy(out + 53, n->id.b, OID_RAWSZ);
	memcpy(out + 53 + OID_RAWSZ, n->sha.b, SHA256_RAWSZ);
}

/* The key of path's entry: the path itself, or "\0" + XXH3-128 in hk. */
static void stat_key(MDB_val *k, uint8_t hk[STAT_HKEY_SZ], const char *path, size_t len)
{
	struct oid h;
	if (len <= STAT_KEY_MAX) {
		k->mv_data = (void *)path;
		k->mv_size = len;
		return;
	}
	oid_hash(&h, path, len);
	hk[0] = 0;
	memcpy(hk + 1, h.b, OID_RAWSZ);
	k->mv_data = hk;
	k->mv_size = STAT_HKEY_SZ;
}

/* Fill id/sha from a trusted cache entry; 1 if used. */
static int stat_entry_apply(struct wt_node *n, const uint8_t *v, size_t len)
{
	size_t extra = n->pathlen > STAT_KEY_MAX ? n->pathlen : 0;
	int64_t mt, ct, at;
	if (len != STAT_ENTRY_SZ + extra || v[0] != 1)
		return 0;
	if (extra && memcmp(v + STAT_ENTRY_SZ, n->path, extra))
		return 0; /* another path with the same hash */
	mt = (int64_t)get_le64(v + 29);
	ct = (int64_t)get_le64(v + 37);
	at = (int64_t)get_le64(v + 45);
	if (get_le32(v + 1) != n->mode || get_le64(v + 5) != n->dev || get_le64(v + 13) != n->ino ||
	    get_le64(v + 21) != n->size || mt != n->mtime_ns || ct != n->ctime_ns)
		return 0;
	if (n->mtime_ns >= at || n->ctime_ns >= at)
		return 0; /* racy: changed in the tick the entry was written */
	memcpy(n->id.b, v + 53, OID_RAWSZ);
	memcpy(n->sha.b, v + 53 + OID_RAWSZ, SHA256_RAWSZ);
	n->known = 1;
	n->from_cache = 1;
	return 1;
}

struct scan_ctx {
	struct repo *r;
	MDB_txn *txn; /* stat cache snapshot, or NULL */
	MDB_dbi dbi;
	unsigned flags;
	struct strbuf *err;
	struct strbuf names; /* scratch: a directory's names, NUL-separated */
	size_t *offs;        /* and where each starts */
	size_t aoffs;
};

static void scan_ctx_release(struct scan_ctx *c)
{
	strbuf_release(&c->names);
	free(c->offs);
}

static void cache_lookup(struct scan_ctx *c, struct wt_node *n)
{
	uint8_t hk[STAT_HKEY_SZ];
	MDB_val k, v;
	if (!c->txn)
		return;
	stat_key(&k, hk, n->path, n->pathlen);
	if (!mdb_get(c->txn, c->dbi, &k, &v))
		stat_entry_apply(n, v.mv_data, v.mv_size);
}

/*
 * The stat cache entries of dir's files, in one walk of a cursor: keys
 * are "dir/name", in the order of the (sorted) kids. Keys further down
 * ("dir/sub/x") are stepped over with one seek past "dir/sub/". Files
 * whose paths are too long to be keys are looked up one by one.
 */
static void cache_merge(struct scan_ctx *c, struct wt_node *dir)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t pl = dir->pathlen + 1, i = 0;
	char *seek;
	int rc;

	if (!c->txn || !dir->nkids)
		return;
	for (i = 0; i < dir->nkids; i++)
		if (dir->kids[i].pathlen > STAT_KEY_MAX && dir->kids[i].mode != MODE_DIR)
			cache_lookup(c, &dir->kids[i]);
	i = 0;
	if (pl >= STAT_KEY_MAX || mdb_cursor_open(c->txn, c->dbi, &cur))
		return; /* every kid's path is too long to be a key */
	seek = xmalloc(pl + 257);
	memcpy(seek, dir->kids[0].path, pl); /* "dir/" */
	k.mv_data = seek;
	k.mv_size = pl;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (!rc && i < dir->nkids) {
		const char *rest = (const char *)k.mv_data + pl, *slash;
		size_t rl = k.mv_size - pl;
		struct wt_node *n = &dir->kids[i];
		int cmp;
		if (k.mv_size < pl || memcmp(k.mv_data, seek, pl))
			break; /* past the directory */
		slash = memchr(rest, '/', rl);
		if (slash) {
			/* an entry of a subdirectory: seek past "dir/sub/" */
			size_t sl = (size_t)(slash - rest);
			if (sl > 255)
				break; /* no such name; leave the rest uncached */
			memcpy(seek + pl, rest, sl);
			seek[pl + sl] = '/' + 1;
			k.mv_data = seek;
			k.mv_size = pl + sl + 1;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			continue;
		}
		if (n->mode == MODE_DIR) {
			i++;
			continue;
		}
		cmp = memcmp(rest, n->name, rl < (size_t)(n->pathlen - pl) ? rl : n->pathlen - pl);
		if (!cmp)
			cmp = rl < n->pathlen - pl ? -1 : rl > n->pathlen - pl;
		if (cmp < 0) {
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		} else if (cmp > 0) {
			i++;
		} else {
			stat_entry_apply(n, v.mv_data, v.mv_size);
			i++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
	}
	free(seek);
	mdb_cursor_close(cur);
}

static int name_cmp(const void *a, const void *b, void *arg)
{
	const char *base = arg;
	return strcmp(base + *(const size_t *)a, base + *(const size_t *)b);
}

/*
 * Reads the entries of `dir`: names first, sorted, then one lstat each in
 * that order, the kids' paths in one block (dir->kidpaths), and their
 * stat cache entries in one cursor walk.
 */
static int read_entries(struct scan_ctx *c, DIR *d, struct wt_node *dir)
{
	struct dirent *de;
	size_t i, n = 0, total = 0, nk = 0;
	char *pp;

	strbuf_reset(&c->names);
	errno = 0;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t nl = strlen(name);

		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		if (!strncmp(name, WT_TMP_PREFIX, sizeof(WT_TMP_PREFIX) - 1)) {
			/* a checkout's temp file or an import's temp directory;
			 * a dead process's is garbage */
			long pid = strtol(name + sizeof(WT_TMP_PREFIX) - 1, NULL, 10);
			if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH &&
			    unlinkat(dirfd(d), name, 0) < 0 && (errno == EISDIR || errno == EPERM)) {
				char *p = repo_abspath(c->r, dir->path[0] ? dir->path : ".");
				char *full = xstrfmt("%s/%s", p, name);
				remove_tree(full);
				free(full);
				free(p);
			}
			errno = 0; /* readdir's end is told by errno */
			continue;
		}
		ALLOC_GROW(c->offs, n + 1, c->aoffs);
		c->offs[n++] = c->names.len;
		strbuf_add(&c->names, name, nl + 1);
		total += dir->pathlen + 1 + nl + 1;
		errno = 0;
	}
	if (errno)
		return cerr_errno(c->err, "cannot read directory '%s'", dir->path);
	if (!n)
		return 0;
	qsort_r(c->offs, n, sizeof(*c->offs), name_cmp, c->names.buf);
	dir->kids = xcalloc(n, sizeof(*dir->kids));
	dir->alloc = n;
	dir->kidpaths = pp = xmalloc(total);
	for (i = 0; i < n; i++) {
		const char *name = c->names.buf + c->offs[i];
		size_t nl = strlen(name);
		struct wt_node *k = &dir->kids[nk];
		struct stat st;
		uint32_t mode;

		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* vanished while scanning */
			return cerr_errno(c->err, "cannot stat '%s/%s'", dir->path, name);
		}
		mode = mode_of(&st);
		if (!mode) {
			core_report("warning", "skipping '%s/%s': not a regular file, directory or symlink",
				    dir->path, name);
			continue;
		}
		if (!entry_name_ok(name, nl))
			return cerr(c->err, CAIRN_EUNSAFE, "cannot track '%s/%s': forbidden name", dir->path,
				    name);
		if (mode != MODE_DIR && ends_with(name, POINTER_SUFFIX))
			return cerr(c->err, CAIRN_EINVAL,
				    "'%s/%s' is a cairn pointer file: tracked paths cannot nest", dir->path,
				    name);
		/* "dir/name", the name a suffix of the path */
		k->pathlen = dir->pathlen + 1 + nl;
		k->path = pp;
		memcpy(pp, dir->path, dir->pathlen);
		pp[dir->pathlen] = '/';
		memcpy(pp + dir->pathlen + 1, name, nl + 1);
		pp += k->pathlen + 1;
		k->name = k->path + dir->pathlen + 1;
		wt_node_set_stat(k, &st);
		dir->nkids = ++nk;
	}
	cache_merge(c, dir);
	return 0;
}

static int open_subdir(struct scan_ctx *c, DIR *d, struct wt_node *k)
{
	int fd = openat(dirfd(d), k->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cerr_errno(c->err, "cannot open directory '%s'", k->path);
	return fd;
}

/*
 * Scans the directory open at dfd (which it closes) and everything below;
 * its tree would be at `level` (the scanned path's at 1). A directory
 * deeper than a tree may be is refused before it is opened: cairn never
 * stores what it could not read back. The recursion is bounded by the
 * same limit (a frame is small: see Documentation/technical/store-format.md).
 * NEEDSWORK: each level keeps its directory open, so a directory some
 * thousands of levels deep can meet the open file limit (EMFILE, an
 * error) before the depth limit; the parallel scan's breadth-first part
 * does not.
 */
static int scan_dir(struct scan_ctx *c, int dfd, struct wt_node *dir, size_t level)
{
	DIR *d = fdopendir(dfd);
	size_t i;
	int ret;

	if (!d) {
		close(dfd);
		return cerr_errno(c->err, "cannot read directory '%s'", dir->path);
	}
	ret = read_entries(c, d, dir);
	for (i = 0; i < dir->nkids && !ret; i++) {
		struct wt_node *k = &dir->kids[i];
		int sub;
		if (k->mode != MODE_DIR)
			continue;
		ret = tree_depth_check(level + 1, k->path, c->err);
		if (ret)
			break;
		sub = open_subdir(c, d, k);
		ret = sub < 0 ? sub : scan_dir(c, sub, k, level + 1);
	}
	closedir(d);
	return ret;
}

/*
 * Parallel scan: expand the tree breadth-first until there are enough
 * directories to share out, then scan each of them (recursively) on the
 * pool. stat() calls dominate a scan; two threads halve its time.
 */
struct level_item {
	struct wt_node *node;
	int fd;
	size_t level; /* of its tree */
};

struct par_scan {
	struct repo *r;
	struct level_item *items;
	unsigned flags;
};

static int scan_item(size_t i, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct par_scan *ps = data;
	struct scan_ctx c;
	int ret, fd = ps->items[i].fd;
	ps->items[i].fd = -1;
	memset(&c, 0, sizeof(c));
	c.r = ps->r;
	c.err = err;
	c.txn = idx_rd_begin(&pt->odb.srd, NULL);
	c.dbi = c.txn ? ps->r->odb->state->stat : 0;
	ret = scan_dir(&c, fd, ps->items[i].node, ps->items[i].level);
	if (c.txn)
		idx_rd_end(&pt->odb.srd);
	scan_ctx_release(&c);
	if (!ret && (ps->flags & WT_SCAN_TREES)) {
		/* a directory with a file not known yet stays unknown */
		struct strbuf ignored = STRBUF_INIT;
		wt_compute_trees(ps->items[i].node, NULL, NULL, &ignored);
		strbuf_release(&ignored);
	}
	return ret;
}

static int scan_parallel(struct scan_ctx *c, int dfd, struct wt_node *root)
{
	struct level_item *level = xcalloc(1, sizeof(*level)), *next = NULL;
	size_t nlevel = 1, nnext = 0, anext = 0, i, j, want = (size_t)c->r->threads * 8;
	int ret = 0;

	level[0].node = root;
	level[0].fd = dfd;
	level[0].level = 1;
	while (!ret && nlevel && nlevel < want) {
		nnext = 0;
		for (i = 0; i < nlevel; i++) {
			DIR *d = ret ? NULL : fdopendir(level[i].fd);
			if (!d) {
				if (!ret)
					ret = cerr_errno(c->err, "cannot read directory '%s'", level[i].node->path);
				close(level[i].fd);
				continue;
			}
			if (!ret)
				ret = read_entries(c, d, level[i].node);
			for (j = 0; !ret && j < level[i].node->nkids; j++) {
				struct wt_node *k = &level[i].node->kids[j];
				int sub;
				if (k->mode != MODE_DIR)
					continue;
				ret = tree_depth_check(level[i].level + 1, k->path, c->err);
				sub = ret ? ret : open_subdir(c, d, k);
				if (sub < 0) {
					ret = sub;
					break;
				}
				ALLOC_GROW(next, nnext + 1, anext);
				next[nnext].node = k;
				next[nnext].fd = sub;
				next[nnext].level = level[i].level + 1;
				nnext++;
			}
			closedir(d);
		}
		free(level);
		level = next;
		nlevel = nnext;
		next = NULL;
		anext = 0;
	}
	if (!ret && nlevel) {
		struct par_scan ps = { c->r, level, c->flags };
		ret = par_for(c->r->threads, nlevel, c->r->odb, scan_item, &ps, c->err);
	}
	for (i = 0; i < nlevel; i++)
		if (level[i].fd >= 0)
			close(level[i].fd);
	free(level);
	return ret;
}

int wt_scan(struct repo *r, struct odb_thread *t, const char *rel, unsigned flags,
	    struct wt_node **out, struct strbuf *err)
{
	struct scan_ctx c;
	struct wt_node *n;
	struct stat st;
	char *abs = repo_abspath(r, rel);
	int ret = 0;

	*out = NULL;
	if (lstat(abs, &st) < 0) {
		ret = errno == ENOENT ? 0 : cerr_errno(err, "cannot stat '%s'", rel);
		free(abs);
		return ret;
	}
	n = xcalloc(1, sizeof(*n));
	n->path = xstrdup(rel);
	n->pathlen = strlen(rel);
	n->name = strrchr(n->path, '/');
	n->name = n->name ? n->name + 1 : n->path;
	wt_node_set_stat(n, &st);
	if (!n->mode) {
		wt_node_free(n);
		free(abs);
		return cerr(err, CAIRN_EINVAL, "'%s' is not a regular file, directory or symlink", rel);
	}
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.err = err;
	c.flags = flags;
	c.txn = t ? idx_rd_begin(&t->srd, NULL) : NULL;
	c.dbi = c.txn ? t->odb->state->stat : 0;
	if (n->mode == MODE_DIR) {
		int fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			ret = cerr_errno(err, "cannot open directory '%s'", rel);
		else if (r->threads > 1 && r->odb)
			ret = scan_parallel(&c, fd, n);
		else
			ret = scan_dir(&c, fd, n, 1);
	} else {
		cache_lookup(&c, n);
	}
	if (c.txn)
		idx_rd_end(&t->srd);
	scan_ctx_release(&c);
	free(abs);
	if (ret) {
		wt_node_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

/* The files below n; with only_unknown, those not known yet, skipping a
 * directory whose tree is known (the scan computed it: all below is). */
static void collect(struct wt_node *n, int only_unknown, struct wt_node ***list, size_t *nr,
		    size_t *alloc)
{
	size_t i;
	if (only_unknown && n->known)
		return;
	if (n->mode != MODE_DIR) {
		ALLOC_GROW(*list, *nr + 1, *alloc);
		(*list)[(*nr)++] = n;
		return;
	}
	for (i = 0; i < n->nkids; i++)
		collect(&n->kids[i], only_unknown, list, nr, alloc);
}

void wt_collect_files(struct wt_node *n, struct wt_node ***list, size_t *nr, size_t *alloc)
{
	collect(n, 0, list, nr, alloc);
}

int wt_hash_path(const char *abs, uint32_t mode, struct oid *id, struct sha256 *sha,
		 uint64_t *size, struct strbuf *scratch, struct strbuf *err)
{
	struct oid_ctx oc;
	struct sha256_ctx sc;
	uint64_t total = 0;
	int fd, ret = 0;

	if (mode == MODE_LINK) {
		char target[4097];
		ssize_t n = readlink(abs, target, sizeof(target));
		if (n < 0)
			return cerr_errno(err, "cannot read symlink '%s'", abs);
		if ((size_t)n >= sizeof(target))
			return cerr(err, CAIRN_EINVAL, "symlink '%s' has a target over 4096 bytes", abs);
		oid_hash(id, target, (size_t)n);
		sha256_hash(sha, target, (size_t)n);
		*size = (uint64_t)n;
		return 0;
	}
	fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cerr_errno(err, "cannot open '%s'", abs);
	strbuf_grow(scratch, HASH_BLOCK);
	oid_ctx_init(&oc);
	sha256_init(&sc);
	for (;;) {
		ssize_t n = read_full(fd, scratch->buf, HASH_BLOCK);
		if (n < 0) {
			ret = cerr_errno(err, "cannot read '%s'", abs);
			break;
		}
		if (!n)
			break;
		oid_ctx_update(&oc, scratch->buf, (size_t)n);
		sha256_update(&sc, scratch->buf, (size_t)n);
		total += (uint64_t)n;
		if ((size_t)n < HASH_BLOCK)
			break;
	}
	close(fd);
	oid_ctx_final(&oc, id);
	sha256_final(&sc, sha);
	*size = total;
	return ret;
}

struct hash_job {
	struct repo *r;
	struct wt_node **files;
};

static int hash_one(size_t i, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct hash_job *j = data;
	struct wt_node *n = j->files[i];
	char *abs = repo_abspath(j->r, n->path);
	int ret = wt_hash_path(abs, n->mode, &n->id, &n->sha, &n->size, &pt->buf, err);
	free(abs);
	if (!ret)
		n->known = 1;
	return ret;
}

int wt_hash_unknown(struct repo *r, struct wt_node *root, struct strbuf *err)
{
	struct wt_node **todo = NULL;
	size_t n = 0, alloc = 0;
	struct hash_job j;
	int ret;

	collect(root, 1, &todo, &n, &alloc);
	j.r = r;
	j.files = todo;
	ret = par_for(r->threads, n, NULL, hash_one, &j, err);
	free(todo);
	return ret;
}

int wt_compute_trees(struct wt_node *n, wt_tree_cb cb, void *data, struct strbuf *err)
{
	struct tree t;
	struct strbuf enc = STRBUF_INIT;
	size_t i;
	int ret = 0;

	if (n->mode != MODE_DIR)
		return n->known ? 0 : cerr(err, CAIRN_EINVAL, "'%s' was not hashed", n->path);
	if (n->known && !cb)
		return 0; /* computed already (WT_SCAN_TREES) */
	for (i = 0; i < n->nkids && !ret; i++)
		ret = wt_compute_trees(&n->kids[i], cb, data, err);
	if (ret)
		return ret;
	tree_init(&t);
	for (i = 0; i < n->nkids; i++) {
		struct wt_node *k = &n->kids[i];
		struct tree_entry *e = tree_add(&t, k->name, k->mode);
		e->size = k->size;
		e->files = k->mode == MODE_DIR ? k->files : 0;
		e->id = k->id;
		e->sha = k->sha;
	}
	/* kids are sorted with strcmp, as trees are; a tree that will be
	 * stored (cb) must be one every reader accepts, while one only
	 * compared (status, checkout) is fine whatever it holds */
	if (cb) {
		char *what = xstrfmt("cannot track '%s'", n->path);
		ret = tree_check_links(&t, what, err);
		free(what);
		if (ret) {
			tree_release(&t);
			return ret;
		}
	}
	tree_encode(&t, &enc, &n->id, &n->sha);
	tree_totals(&t, &n->size, &n->files);
	n->known = 1;
	if (cb)
		ret = cb(n, &t, &enc, data, err);
	tree_release(&t);
	strbuf_release(&enc);
	return ret;
}

static int64_t coarse_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct save_ctx {
	struct wt_node **files;
	size_t n;
	struct wt_node **roots;
	size_t nroots;
	MDB_dbi dbi;
};

static int path_cmp(const void *a, const void *b)
{
	return strcmp((*(struct wt_node *const *)a)->path, (*(struct wt_node *const *)b)->path);
}

/* 1 when path is below one of the scanned directories of s */
static int below_root(const struct save_ctx *s, const char *path, size_t len)
{
	size_t i;
	for (i = 0; i < s->nroots; i++) {
		const struct wt_node *root = s->roots[i];
		if (root->mode == MODE_DIR && len > root->pathlen + 1 && path[root->pathlen] == '/' &&
		    !memcmp(path, root->path, root->pathlen))
			return 1;
	}
	return 0;
}

/*
 * The entries of long paths (keys "\0" + hash, all at the start of the
 * database): forgets those below a scanned directory that no longer
 * exist, and any that are malformed.
 */
static int prune_long(MDB_txn *txn, struct save_ctx *s, struct strbuf *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (!s->nroots)
		return 0;
	rc = mdb_cursor_open(txn, s->dbi, &cur);
	if (rc)
		return idx_err(err, rc, "stat cache");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *path = NULL;
		size_t len = 0;
		int drop = 0;
		if (!k.mv_size || ((const char *)k.mv_data)[0])
			break; /* past the long paths */
		if (k.mv_size == STAT_HKEY_SZ && v.mv_size > STAT_ENTRY_SZ + STAT_KEY_MAX) {
			path = (const char *)v.mv_data + STAT_ENTRY_SZ;
			len = v.mv_size - STAT_ENTRY_SZ;
		}
		if (!path || memchr(path, '\0', len)) {
			drop = 1;
		} else if (below_root(s, path, len)) {
			struct wt_node key, *kp = &key;
			key.path = xstrndup(path, len);
			drop = !bsearch(&kp, s->files, s->n, sizeof(*s->files), path_cmp);
			free(key.path);
		}
		if (drop) {
			rc = mdb_cursor_del(cur, 0);
			if (rc)
				break;
		}
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return idx_err(err, rc, "stat cache");
	return 0;
}

static int save_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct save_ctx *s = data;
	int64_t at = coarse_now();
	size_t i;
	int rc;

	for (i = 0; i < s->n; i++) {
		struct wt_node *n = s->files[i];
		uint8_t val[STAT_ENTRY_SZ], hk[STAT_HKEY_SZ], *lval = NULL;
		MDB_val k, v;
		if (!n->known || !n->ino)
			continue;
		if (n->from_cache)
			continue;
		stat_entry_encode(val, n, at);
		stat_key(&k, hk, n->path, n->pathlen);
		v.mv_data = val;
		v.mv_size = sizeof(val);
		if (n->pathlen > STAT_KEY_MAX) {
			/* the entry, then the path it is for */
			lval = xmalloc(STAT_ENTRY_SZ + n->pathlen);
			memcpy(lval, val, STAT_ENTRY_SZ);
			memcpy(lval + STAT_ENTRY_SZ, n->path, n->pathlen);
			v.mv_data = lval;
			v.mv_size = STAT_ENTRY_SZ + n->pathlen;
		}
		rc = mdb_put(txn, s->dbi, &k, &v, 0);
		free(lval);
		if (rc)
			return idx_err(err, rc, "stat cache");
	}
	/* forget entries under a scanned directory that no longer exist */
	for (i = 0; i < s->nroots; i++) {
		struct wt_node *root = s->roots[i];
		struct strbuf prefix = STRBUF_INIT;
		MDB_cursor *cur;
		MDB_val k, v;
		if (root->mode != MODE_DIR || root->pathlen + 1 >= STAT_KEY_MAX)
			continue; /* no path below it is short enough to be a key */
		strbuf_addf(&prefix, "%s/", root->path);
		rc = mdb_cursor_open(txn, s->dbi, &cur);
		if (rc) {
			strbuf_release(&prefix);
			return idx_err(err, rc, "stat cache");
		}
		k.mv_data = prefix.buf;
		k.mv_size = prefix.len;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			struct wt_node key, *kp = &key, **hit;
			char *path;
			if (k.mv_size < prefix.len || memcmp(k.mv_data, prefix.buf, prefix.len))
				break;
			path = xstrndup(k.mv_data, k.mv_size);
			key.path = path;
			hit = bsearch(&kp, s->files, s->n, sizeof(*s->files), path_cmp);
			free(path);
			if (!hit) {
				rc = mdb_cursor_del(cur, 0);
				if (rc)
					break;
			}
		}
		mdb_cursor_close(cur);
		strbuf_release(&prefix);
		if (rc && rc != MDB_NOTFOUND)
			return idx_err(err, rc, "stat cache");
	}
	return prune_long(txn, s, err);
}

int wt_stat_cache_save(struct repo *r, struct wt_node **roots, size_t nroots, struct strbuf *err)
{
	struct save_ctx s;
	size_t alloc = 0, i;
	int ret;

	if (!r->odb || !r->odb->state || r->odb->state->readonly)
		return 0; /* a cache: nothing saved when the state cannot be written */
	memset(&s, 0, sizeof(s));
	for (i = 0; i < nroots; i++)
		if (roots[i])
			wt_collect_files(roots[i], &s.files, &s.n, &alloc);
	/* nothing new: no write transaction (and no fsync), not even a sort */
	for (i = 0; i < s.n; i++)
		if (s.files[i]->known && s.files[i]->ino && !s.files[i]->from_cache)
			break;
	if (i == s.n) {
		free(s.files);
		return 0;
	}
	sort_array(s.files, s.n, sizeof(*s.files), path_cmp);
	s.roots = roots;
	s.nroots = nroots;
	s.dbi = r->odb->state->stat;
	for (i = 0; i < nroots; i++)
		if (!roots[i])
			s.nroots = 0; /* keep it simple: no pruning with holes */
	ret = idx_write(r->odb->state, save_txn, &s, err);
	free(s.files);
	return ret;
}

int wt_node_restat(struct repo *r, struct wt_node *n, struct strbuf *err)
{
	struct stat st;
	char *abs = repo_abspath(r, n->path);
	int ret = 0;
	if (lstat(abs, &st) < 0)
		ret = cerr_errno(err, "cannot stat '%s'", n->path);
	else
		wt_node_set_stat(n, &st);
	free(abs);
	return ret;
}
