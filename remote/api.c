/*
 * The public library (include/cairn.h): repositories opened by path,
 * (revision, path) resolved through pointers and trees, files of any
 * version read at any offset from the local store.
 *
 * It sits on top of core/ (and, for lazy reads, will sit on remote/):
 * cmd/ is one of its users. It prints nothing; each failure leaves its
 * message in a thread-local buffer (cairn_last_error).
 */
#include "include/cairn.h"
#include "core/content.h"
#include "core/git.h"
#include "core/hash.h"
#include "core/pack.h"
#include "core/pointer.h"
#include "core/repo.h"
#include "remote/remote.h"
#include "remote/sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static __thread char last_error[1024];

/* Keeps err's message (or the code's name) as this thread's last error. */
static int fail(int code, const struct strbuf *err)
{
	snprintf(last_error, sizeof(last_error), "%s",
		 err && err->len ? err->buf : cairn_strerror(code));
	return code;
}

const char *cairn_last_error(void)
{
	return last_error;
}

struct cairn_repo {
	struct repo *r;
	pthread_mutex_t git_lock; /* one git cat-file --batch for all threads */
	struct git_batch *gb;
	/* lazy reads: one connection, opened on first need, for all threads */
	pthread_mutex_t rem_lock;
	struct remote *rem;
	int rem_state;   /* 0 not tried yet, 1 open, -1 none, -2 it failed */
	int rem_code;    /* -2: the error, and its message */
	char rem_err[512];
	char *rem_name;  /* NULL: the default remote (core.remote) */
	int marked;      /* the store says fetch-incomplete */
};

/* Read ahead on a miss: this many bytes of the chunks that follow. */
#define READ_AHEAD (8u << 20)

int cairn_repo_open(const char *path, cairn_repo **out)
{
	struct strbuf err = STRBUF_INIT;
	struct repo *r = NULL;
	cairn_repo *cr;
	int ret;

	if (!path || !*path) {
		strbuf_addstr(&err, "no path given");
		ret = fail(CAIRN_EINVAL, &err);
		strbuf_release(&err);
		return ret;
	}
	ret = repo_discover_at(path, &r, 1, &err);
	if (!ret)
		ret = repo_open_store_reading(r, &err);
	if (ret) {
		if (r)
			repo_free(r);
		fail(ret, &err);
		strbuf_release(&err);
		return ret;
	}
	cr = calloc(1, sizeof(*cr));
	if (!cr) {
		repo_free(r);
		strbuf_release(&err);
		return fail(CAIRN_ENOMEM, NULL);
	}
	cr->r = r;
	pthread_mutex_init(&cr->git_lock, NULL);
	pthread_mutex_init(&cr->rem_lock, NULL);
	*out = cr;
	strbuf_release(&err);
	return 0;
}

void cairn_repo_close(cairn_repo *repo)
{
	if (!repo)
		return;
	if (repo->gb)
		git_batch_close(repo->gb);
	if (repo->rem)
		remote_close(repo->rem);
	free(repo->rem_name);
	pthread_mutex_destroy(&repo->git_lock);
	pthread_mutex_destroy(&repo->rem_lock);
	repo_free(repo->r);
	free(repo);
}

int cairn_repo_set_remote(cairn_repo *repo, const char *name)
{
	pthread_mutex_lock(&repo->rem_lock);
	if (repo->rem)
		remote_close(repo->rem);
	repo->rem = NULL;
	free(repo->rem_name);
	repo->rem_name = name ? strdup(name) : NULL;
	repo->rem_state = name && !*name ? -1 : 0;
	pthread_mutex_unlock(&repo->rem_lock);
	return 0;
}

/* Under rem_lock: the remote, opened and its contents learnt, or an error. */
static int ensure_remote(cairn_repo *repo, struct strbuf *err)
{
	const char *name = repo->rem_name, *url;
	char *key;
	int ret;
	if (repo->rem_state > 0)
		return 0;
	if (repo->rem_state == -1)
		return cerr(err, CAIRN_ENOTFOUND, "no remote to read from");
	if (repo->rem_state == -2) /* no second try in this handle */
		return cerr(err, repo->rem_code, "%s", repo->rem_err);
	if (!name)
		name = config_get(repo->r->cfg, "core.remote");
	if (!name) {
		repo->rem_state = -1;
		return cerr(err, CAIRN_ENOTFOUND, "no remote to read from (no default remote is set)");
	}
	key = xstrfmt("remote.%s.url", name);
	url = config_get(repo->r->cfg, key);
	free(key);
	if (!url)
		ret = cerr(err, CAIRN_ENOTFOUND, "no remote named '%s' (see 'cairn remote list')",
			   name);
	else
		ret = remote_open_url(&repo->rem, url, repo->r->top, repo->r->cfg, name, err);
	if (!ret)
		ret = sync_refresh(repo->r, repo->rem, NULL, err);
	if (ret) {
		if (repo->rem)
			remote_close(repo->rem);
		repo->rem = NULL;
		repo->rem_state = -2;
		repo->rem_code = ret;
		snprintf(repo->rem_err, sizeof(repo->rem_err), "%s", err->buf);
		return ret;
	}
	repo->rem_state = 1;
	return 0;
}

/*
 * Fetches objects the local store lacks from the remote into it. 0 when
 * every one is stored now; else the status of the first that is not, with
 * a message naming it and `what`.
 */
static int lazy_fetch(cairn_repo *repo, struct sync_object *v, size_t n, int need_all,
		      const char *what, struct strbuf *err)
{
	size_t i, stored = 0;
	int ret;
	pthread_mutex_lock(&repo->rem_lock);
	ret = ensure_remote(repo, err);
	/* what comes now is part of versions not wholly here: fsck counts
	 * what is missing below it as incomplete, as after a fetch cut short */
	if (!ret && !repo->marked) {
		ret = odb_set_incomplete(repo->r->odb, err);
		repo->marked = !ret;
	}
	if (!ret)
		ret = sync_fetch_objects(repo->r, repo->rem, v, n, 0, &stored, err);
	for (i = 0; !ret && i < n; i++) {
		char hex[OID_HEXSZ + 1];
		if (!v[i].status || (!need_all && stored))
			continue;
		ret = v[i].status == CAIRN_ENOTFOUND
			? cerr(err, CAIRN_ENOTFOUND, "remote '%s' does not have %s, needed by '%s'",
			       repo->rem->name, oid_to_hex(&v[i].id, hex), what)
			: cerr(err, v[i].status, "remote '%s': %s of '%s' fails verification",
			       repo->rem->name, oid_to_hex(&v[i].id, hex), what);
	}
	pthread_mutex_unlock(&repo->rem_lock);
	return ret;
}

/* One object, missing here, from the remote; `err` keeps the first error
 * when there is no remote to ask. */
static int lazy_one(cairn_repo *repo, const struct oid *id, int type, const char *what,
		    struct strbuf *err)
{
	struct sync_object v;
	struct strbuf e2 = STRBUF_INIT;
	int ret;
	memset(&v, 0, sizeof(v));
	v.id = *id;
	v.type = (uint8_t)type;
	v.path = what;
	ret = lazy_fetch(repo, &v, 1, 1, what, &e2);
	if (ret && repo->rem_state != -1) {
		strbuf_reset(err);
		strbuf_add(err, e2.buf, e2.len);
	}
	strbuf_release(&e2);
	return ret;
}

/*
 * The pointer of `ptrpath` (PATH.cairn) at commit (NULL: the work tree).
 * CAIRN_ENOTFOUND without a message when there is none.
 */
static int pointer_of(cairn_repo *repo, const char *commit, const char *ptrpath,
		      struct pointer *p, struct strbuf *err)
{
	int ret;
	if (!commit) {
		char *abs = repo_abspath(repo->r, ptrpath);
		struct stat st;
		/* a pointer file is a regular file: a symlink is not followed */
		if (lstat(abs, &st) < 0 || !S_ISREG(st.st_mode))
			ret = CAIRN_ENOTFOUND;
		else
			ret = ptr_read(p, abs, err);
		free(abs);
		return ret;
	}
	pthread_mutex_lock(&repo->git_lock);
	ret = repo->gb ? 0 : git_batch_open(&repo->gb, repo->r->top, err);
	if (!ret) {
		struct strbuf name = STRBUF_INIT, blob = STRBUF_INIT;
		strbuf_addf(&name, "%s:%s", commit, ptrpath);
		ret = git_batch_read(repo->gb, name.buf, NULL, &blob, err);
		if (!ret)
			ret = ptr_parse(p, blob.buf, blob.len, name.buf, err);
		strbuf_release(&name);
		strbuf_release(&blob);
	}
	pthread_mutex_unlock(&repo->git_lock);
	return ret;
}

static void fill_entry(struct cairn_entry *e, uint32_t mode, uint64_t size, uint64_t files,
		       const struct oid *id, const struct sha256 *sha)
{
	e->kind = mode == MODE_DIR ? CAIRN_KIND_DIR : mode == MODE_LINK ? CAIRN_KIND_LINK
									: CAIRN_KIND_FILE;
	e->mode = mode;
	e->size = size;
	e->files = files;
	oid_to_hex(id, e->id);
	sha256_to_hex(sha, e->sha256);
}

/* Checks a path relative to the top: components entry_name_ok() takes. */
static int check_path(const char *path, struct strbuf *err)
{
	const char *c = path;
	if (!*path || *path == '/')
		return cerr(err, CAIRN_EINVAL, "'%s': a path relative to the work tree top is wanted",
			    path);
	if (strlen(path) >= sizeof(((struct cairn_entry *)0)->dataset))
		return cerr(err, CAIRN_EINVAL, "'%.64s...': path too long", path);
	while (*c) {
		size_t n = strcspn(c, "/");
		if (!entry_name_ok(c, n))
			return cerr(err, CAIRN_EUNSAFE, "'%s': bad path component '%.*s'", path,
				    (int)n, c);
		c += n;
		if (*c == '/')
			c++;
	}
	return 0;
}

static int resolve(cairn_repo *repo, const char *rev, const char *path, struct cairn_entry *e,
		   struct strbuf *err)
{
	struct strbuf commit = STRBUF_INIT, rel = STRBUF_INIT, ptrpath = STRBUF_INIT;
	struct pointer p;
	struct odb_thread t;
	size_t dlen = 0;
	const char *c;
	int ret = 0, found = 0;

	memset(e, 0, sizeof(*e));
	if (!path)
		return cerr(err, CAIRN_EINVAL, "no path given");
	strbuf_addstr(&rel, path);
	while (rel.len && rel.buf[rel.len - 1] == '/')
		strbuf_setlen(&rel, rel.len - 1);
	if (rel.len > strlen(POINTER_SUFFIX) &&
	    !strcmp(rel.buf + rel.len - strlen(POINTER_SUFFIX), POINTER_SUFFIX))
		strbuf_setlen(&rel, rel.len - strlen(POINTER_SUFFIX));
	ret = check_path(rel.buf, err);
	if (!ret && rev)
		ret = git_resolve_commit(repo->r->top, rev, &commit, err);
	/* the dataset: the shortest leading path that has a pointer file */
	for (c = rel.buf; !ret && !found;) {
		size_t n = strcspn(c, "/");
		dlen = (size_t)(c - rel.buf) + n;
		strbuf_reset(&ptrpath);
		strbuf_add(&ptrpath, rel.buf, dlen);
		strbuf_addstr(&ptrpath, POINTER_SUFFIX);
		ret = pointer_of(repo, rev ? commit.buf : NULL, ptrpath.buf, &p, err);
		if (!ret)
			found = 1;
		else if (ret == CAIRN_ENOTFOUND)
			ret = 0;
		if (!found && !c[n])
			break;
		c += n + 1;
	}
	if (!ret && !found)
		ret = cerr(err, CAIRN_ENOTDATA, "'%s' is not tracked by cairn%s%s", rel.buf,
			   rev ? " at " : "", rev ? rev : "");
	if (ret)
		goto out;
	memcpy(e->dataset, rel.buf, dlen);
	e->dataset[dlen] = '\0';
	if (rev)
		snprintf(e->commit, sizeof(e->commit), "%s", commit.buf);
	fill_entry(e, p.is_dir ? MODE_DIR : p.mode, p.size, p.files, &p.id, &p.sha);
	/* below it: down its trees, one component at a time */
	odb_thread_init(&t, repo->r->odb);
	c = rel.buf + dlen;
	while (!ret && *c == '/') {
		struct tree tr;
		const struct tree_entry *te;
		struct oid id;
		struct sha256 sha;
		size_t n;
		c++;
		n = strcspn(c, "/");
		if (e->kind != CAIRN_KIND_DIR) {
			ret = cerr(err, CAIRN_ENOTFOUND, "'%s' does not exist (%.*s is not a directory)",
				   rel.buf, (int)(c - 1 - rel.buf), rel.buf);
			break;
		}
		oid_from_hex(&id, e->id, OID_HEXSZ);
		sha256_from_hex(&sha, e->sha256, SHA256_HEXSZ);
		ret = content_read_tree(&t, &id, &sha, &tr, rel.buf, err);
		if (ret == CAIRN_ENOTFOUND && !lazy_one(repo, &id, OBJ_TREE, rel.buf, err))
			ret = content_read_tree(&t, &id, &sha, &tr, rel.buf, err);
		if (ret == CAIRN_ENOTFOUND)
			ret = cerr_wrap(err, ret, "the tree of '%.*s' is not in the local store",
					(int)(c - 1 - rel.buf), rel.buf);
		if (ret)
			break;
		{
			char *name = xstrndup(c, n);
			te = tree_find(&tr, name);
			free(name);
		}
		if (!te)
			ret = cerr(err, CAIRN_ENOTFOUND, "'%s' does not exist%s%s", rel.buf,
				   rev ? " at " : "", rev ? rev : "");
		else
			fill_entry(e, te->mode, te->size, te->mode == MODE_DIR ? te->files : 1,
				   &te->id, &te->sha);
		tree_release(&tr);
		c += n;
	}
	odb_thread_release(&t);
out:
	strbuf_release(&commit);
	strbuf_release(&rel);
	strbuf_release(&ptrpath);
	return ret;
}

int cairn_resolve(cairn_repo *repo, const char *rev, const char *path, struct cairn_entry *out)
{
	struct strbuf err = STRBUF_INIT;
	struct cairn_entry *e = malloc(sizeof(*e));
	int ret;
	if (!e)
		return fail(CAIRN_ENOMEM, NULL);
	ret = resolve(repo, rev, path, e, &err);
	if (ret)
		fail(ret, &err);
	else
		memcpy(out, e, sizeof(*e));
	free(e);
	strbuf_release(&err);
	return ret;
}

/* Calls fn for each entry of a tree, as children of e. */
static int list_tree(cairn_repo *repo, const struct cairn_entry *e, const char *what,
		     cairn_list_fn fn, void *data, struct strbuf *err)
{
	struct odb_thread t;
	struct tree tr;
	struct oid id;
	struct sha256 sha;
	struct cairn_entry *c;
	size_t i;
	int ret;
	oid_from_hex(&id, e->id, OID_HEXSZ);
	sha256_from_hex(&sha, e->sha256, SHA256_HEXSZ);
	odb_thread_init(&t, repo->r->odb);
	ret = content_read_tree(&t, &id, &sha, &tr, what, err);
	if (ret == CAIRN_ENOTFOUND && !lazy_one(repo, &id, OBJ_TREE, what, err))
		ret = content_read_tree(&t, &id, &sha, &tr, what, err);
	odb_thread_release(&t);
	if (ret)
		return ret;
	c = xmalloc(sizeof(*c));
	for (i = 0; i < tr.n && !ret; i++) {
		const struct tree_entry *te = &tr.e[i];
		memcpy(c, e, sizeof(*c));
		fill_entry(c, te->mode, te->size, te->mode == MODE_DIR ? te->files : 1, &te->id,
			   &te->sha);
		ret = fn(te->name, c, data);
	}
	free(c);
	tree_release(&tr);
	return ret;
}

/*
 * The tracked paths below `dir` (a directory of the work tree that is not
 * tracked itself): a pointer directly in it is listed as what it names; a
 * directory holding pointers deeper down as a directory of size 0 and no
 * id. ENOTFOUND when there is none.
 */
static int list_pointers(cairn_repo *repo, const char *rev, const char *commit, const char *dir,
			 cairn_list_fn fn, void *data, struct strbuf *err)
{
	char **paths = NULL;
	size_t n = 0, i, dl = strlen(dir), sl = strlen(POINTER_SUFFIX);
	struct strbuf last = STRBUF_INIT, name = STRBUF_INIT;
	struct cairn_entry *c = xcalloc(1, sizeof(*c));
	int ret, found = 0;

	ret = commit ? git_list_pointers_at(repo->r->top, commit, &paths, &n, err)
		     : git_list_pointers(repo->r->top, &paths, &n, err);
	for (i = 0; !ret && i < n; i++) {
		const char *rest = paths[i], *slash;
		if (dl) {
			if (strncmp(paths[i], dir, dl) || paths[i][dl] != '/')
				continue;
			rest = paths[i] + dl + 1;
		}
		slash = strchr(rest, '/');
		strbuf_reset(&name);
		strbuf_add(&name, rest, slash ? (size_t)(slash - rest) : strlen(rest) - sl);
		if (!name.len || !strcmp(name.buf, last.buf))
			continue; /* a directory seen already: the list is sorted */
		memset(c, 0, sizeof(*c));
		if (commit)
			snprintf(c->commit, sizeof(c->commit), "%s", commit);
		if (slash) {
			c->kind = CAIRN_KIND_DIR;
			c->mode = MODE_DIR;
		} else {
			struct pointer p;
			size_t pl = strlen(paths[i]) - sl;
			if (pointer_of(repo, commit, paths[i], &p, err))
				continue; /* not a pointer after all: not ours to list */
			fill_entry(c, p.is_dir ? MODE_DIR : p.mode, p.size, p.files, &p.id, &p.sha);
			if (pl < sizeof(c->dataset)) {
				memcpy(c->dataset, paths[i], pl);
				c->dataset[pl] = '\0';
			}
		}
		strbuf_reset(&last);
		strbuf_add(&last, name.buf, name.len);
		found = 1;
		ret = fn(name.buf, c, data);
	}
	if (!ret && !found)
		ret = cerr(err, CAIRN_ENOTFOUND, "'%s' does not exist%s%s or holds nothing cairn tracks",
			   dl ? dir : ".", rev ? " at " : "", rev ? rev : "");
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(c);
	strbuf_release(&last);
	strbuf_release(&name);
	return ret;
}

int cairn_list(cairn_repo *repo, const char *rev, const char *path, cairn_list_fn fn, void *data)
{
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT, commit = STRBUF_INIT;
	struct cairn_entry *e = xmalloc(sizeof(*e));
	int ret = 0;

	strbuf_addstr(&dir, path ? path : "");
	while (dir.len && dir.buf[dir.len - 1] == '/')
		strbuf_setlen(&dir, dir.len - 1);
	if (!strcmp(dir.buf, "."))
		strbuf_reset(&dir);
	if (dir.len > strlen(POINTER_SUFFIX) && ends_with(dir.buf, POINTER_SUFFIX))
		strbuf_setlen(&dir, dir.len - strlen(POINTER_SUFFIX));
	if (rev)
		ret = git_resolve_commit(repo->r->top, rev, &commit, &err);
	if (!ret && dir.len) {
		ret = resolve(repo, rev, dir.buf, e, &err);
		if (!ret && e->kind == CAIRN_KIND_DIR) {
			ret = list_tree(repo, e, dir.buf, fn, data, &err);
		} else if (!ret) {
			const char *slash = strrchr(dir.buf, '/');
			ret = fn(slash ? slash + 1 : dir.buf, e, data);
		} else if (ret == CAIRN_ENOTDATA) {
			/* not tracked itself: the tracked paths below it */
			strbuf_reset(&err);
			ret = list_pointers(repo, rev, rev ? commit.buf : NULL, dir.buf, fn, data,
					    &err);
		}
	} else if (!ret) {
		ret = list_pointers(repo, rev, rev ? commit.buf : NULL, "", fn, data, &err);
	}
	if (ret < 0)
		fail(ret, &err);
	free(e);
	strbuf_release(&err);
	strbuf_release(&dir);
	strbuf_release(&commit);
	return ret;
}

struct cairn_file {
	cairn_repo *repo;
	struct cairn_entry e;
	struct odb_thread t;
	struct oid id;
	struct sha256 sha;
	struct manifest m;
	uint64_t *off;        /* off[i]: where chunk i starts; off[m.n] = size */
	size_t cached;        /* the chunk in `buf`, or SIZE_MAX */
	struct strbuf buf;
	uint64_t pos;         /* for read and seek */
	/* the whole file, read in order from 0, is checked against sha */
	struct sha256_ctx hash;
	uint64_t hashed;      /* bytes hashed so far; UINT64_MAX once given up */
};

static void hash_give_up(struct cairn_file *f)
{
	struct sha256 dummy;
	if (f->hashed != UINT64_MAX) {
		sha256_final(&f->hash, &dummy);
		f->hashed = UINT64_MAX;
	}
}

int cairn_file_open(cairn_repo *repo, const char *rev, const char *path, cairn_file **out)
{
	struct strbuf err = STRBUF_INIT;
	struct cairn_file *f = calloc(1, sizeof(*f));
	size_t i;
	int ret;

	if (!f)
		return fail(CAIRN_ENOMEM, NULL);
	f->repo = repo;
	f->cached = SIZE_MAX;
	strbuf_init(&f->buf, 0);
	manifest_init(&f->m);
	ret = resolve(repo, rev, path, &f->e, &err);
	if (!ret && f->e.kind == CAIRN_KIND_DIR)
		ret = cerr(&err, CAIRN_EISDIR, "'%s' is a directory", path);
	odb_thread_init(&f->t, repo->r->odb);
	if (!ret) {
		oid_from_hex(&f->id, f->e.id, OID_HEXSZ);
		sha256_from_hex(&f->sha, f->e.sha256, SHA256_HEXSZ);
		ret = content_chunks(&f->t, &f->id, f->e.size, &f->m, &err);
		if (ret == CAIRN_ENOTFOUND) {
			/* the file is one chunk or has a manifest: ask for both */
			struct sync_object v[2];
			memset(v, 0, sizeof(v));
			v[0].id = v[1].id = f->id;
			v[0].type = OBJ_CHUNK;
			v[1].type = OBJ_MANIFEST;
			v[0].path = v[1].path = path;
			manifest_release(&f->m);
			if (!lazy_fetch(repo, v, 2, 0, path, &err))
				ret = content_chunks(&f->t, &f->id, f->e.size, &f->m, &err);
			else if (repo->rem_state == -1)
				strbuf_reset(&err);
		}
		if (ret == CAIRN_ENOTFOUND && !err.len)
			ret = cerr(&err, ret,
				   "the data of '%s' is not in the local store (run 'cairn fetch')", path);
	}
	if (ret) {
		odb_thread_release(&f->t);
		manifest_release(&f->m);
		strbuf_release(&f->buf);
		free(f);
		fail(ret, &err);
		strbuf_release(&err);
		return ret;
	}
	f->off = xmalloc((f->m.n + 1) * sizeof(*f->off));
	f->off[0] = 0;
	for (i = 0; i < f->m.n; i++)
		f->off[i + 1] = f->off[i] + f->m.chunks[i].len;
	sha256_init(&f->hash);
	*out = f;
	strbuf_release(&err);
	return 0;
}

/*
 * Chunk k is not here: fetch it, and the chunks after it that are not
 * here either, up to READ_AHEAD bytes (a reader that goes on in order
 * finds them local; one that jumps pays for at most that much).
 */
static int fetch_ahead(struct cairn_file *f, size_t k, struct strbuf *err)
{
	struct sync_object *v = NULL;
	size_t n = 0, alloc = 0, j;
	uint64_t bytes = 0;
	struct strbuf e2 = STRBUF_INIT;
	int ret;
	for (j = k; j < f->m.n && (j == k || bytes + f->m.chunks[j].len <= READ_AHEAD); j++) {
		struct obj_loc loc;
		if (j > k && !odb_lookup(&f->t, &f->m.chunks[j].id, OBJ_CHUNK, &loc, NULL))
			continue; /* here already */
		ALLOC_GROW(v, n + 1, alloc);
		memset(&v[n], 0, sizeof(v[n]));
		v[n].id = f->m.chunks[j].id;
		v[n].type = OBJ_CHUNK;
		v[n].path = f->e.dataset;
		n++;
		bytes += f->m.chunks[j].len;
	}
	/* the chunk wanted must come; the others are a bonus */
	ret = lazy_fetch(f->repo, v, n, 0, f->e.dataset, &e2);
	if (!ret && v[0].status)
		ret = lazy_fetch(f->repo, v, 1, 1, f->e.dataset, &e2);
	if (ret && f->repo->rem_state != -1) {
		strbuf_reset(err);
		strbuf_add(err, e2.buf, e2.len);
	}
	strbuf_release(&e2);
	free(v);
	return ret;
}

/* The chunk holding byte `at` (< size). */
static size_t chunk_at(const struct cairn_file *f, uint64_t at)
{
	size_t lo = 0, hi = f->m.n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->off[mid] <= at)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int64_t cairn_file_pread(cairn_file *f, void *buf, size_t n, uint64_t off)
{
	struct strbuf err = STRBUF_INIT;
	size_t done = 0;
	int ret = 0;

	if (n > INT64_MAX)
		n = INT64_MAX;
	while (done < n && off + done < f->e.size) {
		uint64_t at = off + done;
		size_t k = chunk_at(f, at), take;
		if (f->cached != k) {
			f->cached = SIZE_MAX;
			ret = odb_read(&f->t, &f->m.chunks[k].id, OBJ_CHUNK, &f->buf, &err);
			if (ret == CAIRN_ENOTFOUND && !fetch_ahead(f, k, &err))
				ret = odb_read(&f->t, &f->m.chunks[k].id, OBJ_CHUNK, &f->buf, &err);
			if (ret == CAIRN_ENOTFOUND)
				ret = cerr_wrap(&err, ret, "a chunk of '%s' is not in the local store",
						f->e.dataset);
			if (!ret && f->buf.len != f->m.chunks[k].len)
				ret = cerr(&err, CAIRN_ECORRUPT, "a chunk of '%s' has the wrong size",
					   f->e.dataset);
			if (ret)
				break;
			f->cached = k;
		}
		take = (size_t)(f->off[k + 1] - at);
		if (take > n - done)
			take = n - done;
		memcpy((char *)buf + done, f->buf.buf + (at - f->off[k]), take);
		/* in order from 0: on into the whole-file check */
		if (f->hashed == at) {
			sha256_update(&f->hash, f->buf.buf + (at - f->off[k]), take);
			f->hashed += take;
			if (f->hashed == f->e.size) {
				struct sha256 got;
				sha256_final(&f->hash, &got);
				f->hashed = UINT64_MAX;
				if (!sha256_eq(&got, &f->sha)) {
					ret = cerr(&err, CAIRN_ECORRUPT,
						   "'%s': the bytes read do not match its SHA-256",
						   f->e.dataset);
					break;
				}
			}
		}
		done += take;
	}
	if (ret) {
		fail(ret, &err);
		strbuf_release(&err);
		return ret;
	}
	strbuf_release(&err);
	return (int64_t)done;
}

int64_t cairn_file_read(cairn_file *f, void *buf, size_t n)
{
	int64_t got = cairn_file_pread(f, buf, n, f->pos);
	if (got > 0)
		f->pos += (uint64_t)got;
	return got;
}

int64_t cairn_file_seek(cairn_file *f, int64_t off, int whence)
{
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos
				 : whence == SEEK_END ? (int64_t)f->e.size : -1;
	if (base < 0 || (off < 0 && -off > base) || (off > 0 && base > INT64_MAX - off)) {
		struct strbuf err = STRBUF_INIT;
		strbuf_addstr(&err, "bad seek");
		fail(CAIRN_EINVAL, &err);
		strbuf_release(&err);
		return CAIRN_EINVAL;
	}
	f->pos = (uint64_t)(base + off);
	return (int64_t)f->pos;
}

uint64_t cairn_file_size(const cairn_file *f)
{
	return f->e.size;
}

const struct cairn_entry *cairn_file_entry(const cairn_file *f)
{
	return &f->e;
}

void cairn_file_close(cairn_file *f)
{
	if (!f)
		return;
	hash_give_up(f);
	odb_thread_release(&f->t);
	manifest_release(&f->m);
	strbuf_release(&f->buf);
	free(f->off);
	free(f);
}
