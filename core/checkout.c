#include "core/checkout.h"
#include "core/content.h"
#include "core/ingest.h"
#include "core/parallel.h"
#include "core/treewalk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ptr_to_entry(const struct pointer *p, const char *path, struct tree_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->mode = p->is_dir ? MODE_DIR : p->mode;
	e->size = p->size;
	e->files = p->is_dir ? p->files : 0;
	e->id = p->id;
	e->sha = p->sha;
	e->name = xstrdup(path);
}

/*
 * Every file of a work tree node, then (for a directory) the directory
 * itself: children before their directory. The nodes come from a scan,
 * which refuses directories deeper than TREE_MAX_DEPTH; the walk keeps
 * its own stack all the same.
 */
static int emit_ws_only(struct wt_node *ws, cmp_cb cb, void *data, struct strbuf *err)
{
	struct ws_frame {
		struct wt_node *n;
		size_t next;
	} *st = NULL;
	size_t n = 0, alloc = 0;
	int r = 0;

	if (ws->mode != MODE_DIR)
		return cb(CMP_WS_ONLY, ws->path, ws, NULL, data, err);
	ALLOC_GROW(st, n + 1, alloc);
	st[n].n = ws;
	st[n++].next = 0;
	while (!r && n) {
		struct ws_frame *f = &st[n - 1];
		struct wt_node *k;
		if (f->next == f->n->nkids) {
			r = cb(CMP_DIR_GONE, f->n->path, f->n, NULL, data, err);
			n--;
			continue;
		}
		k = &f->n->kids[f->next++];
		if (k->mode != MODE_DIR) {
			r = cb(CMP_WS_ONLY, k->path, k, NULL, data, err);
			continue;
		}
		ALLOC_GROW(st, n + 1, alloc);
		st[n].n = k;
		st[n++].next = 0;
	}
	free(st);
	return r;
}

/*
 * wt_compare and tree_compare walk two sides at once, so not with
 * tree_walk(); they keep the same kind of explicit stack, one frame per
 * directory present on both sides, bounded by tree_depth_check().
 */
struct wt_frame {
	struct tree tr;      /* the stored side */
	struct wt_node *ws;  /* the work tree side, or NULL */
	size_t i, j;         /* next entry of tr, next kid of ws */
	size_t pathlen;
};

struct wt_cmp {
	struct odb_thread *t;
	cmp_cb cb;
	void *data;
	struct strbuf path;
	struct wt_frame *st;
	size_t n, alloc;
};

/* One pair at c->path, its tree at `level` if it is a directory. */
static int wt_step(struct wt_cmp *c, struct wt_node *ws, const struct tree_entry *te,
		   size_t level, struct strbuf *err)
{
	const char *path = c->path.buf;
	struct wt_frame *f;
	struct tree tr;
	int r = 0;

	if (te->mode != MODE_DIR) {
		if (ws && ws->mode != MODE_DIR) {
			if (ws->mode == te->mode && oid_eq(&ws->id, &te->id) && ws->size == te->size)
				return 0;
			return c->cb(CMP_MODIFIED, path, ws, te, c->data, err);
		}
		if (ws)
			r = emit_ws_only(ws, c->cb, c->data, err);
		return r ? r : c->cb(CMP_TARGET_ONLY, path, NULL, te, c->data, err);
	}
	if (ws && ws->mode == MODE_DIR && oid_eq(&ws->id, &te->id))
		return 0;
	r = tree_depth_check(level, path, err);
	if (!r && ws && ws->mode != MODE_DIR) {
		r = emit_ws_only(ws, c->cb, c->data, err);
		ws = NULL;
	}
	if (!r && !ws)
		r = c->cb(CMP_DIR_NEW, path, NULL, te, c->data, err);
	if (!r)
		r = content_read_tree(c->t, &te->id, &te->sha, &tr, path, err);
	if (r)
		return r;
	ALLOC_GROW(c->st, c->n + 1, c->alloc);
	f = &c->st[c->n++];
	f->tr = tr;
	f->ws = ws;
	f->i = f->j = 0;
	f->pathlen = c->path.len;
	return 0;
}

int wt_compare(struct odb_thread *t, struct wt_node *ws, const struct tree_entry *te,
	       const char *path, cmp_cb cb, void *data, struct strbuf *err)
{
	struct wt_cmp c;
	int r;

	memset(&c, 0, sizeof(c));
	c.t = t;
	c.cb = cb;
	c.data = data;
	strbuf_init(&c.path, 0);
	strbuf_addstr(&c.path, path);
	r = wt_step(&c, ws, te, 1, err);
	while (!r && c.n) {
		struct wt_frame *f = &c.st[c.n - 1];
		const struct tree_entry *e = f->i < f->tr.n ? &f->tr.e[f->i] : NULL;
		struct wt_node *k = f->ws && f->j < f->ws->nkids ? &f->ws->kids[f->j] : NULL;
		int cmp = !e ? 1 : !k ? -1 : strcmp(e->name, k->name);
		if (!e && !k) {
			tree_release(&f->tr);
			c.n--;
			continue;
		}
		if (cmp > 0) {
			r = emit_ws_only(k, cb, data, err);
			f->j++;
			continue;
		}
		f->i++;
		if (cmp == 0)
			f->j++;
		strbuf_setlen(&c.path, f->pathlen);
		strbuf_addch(&c.path, '/');
		strbuf_addstr(&c.path, e->name);
		/* f may move when wt_step pushes: nothing of it is used after */
		r = wt_step(&c, cmp == 0 ? k : NULL, e, c.n + 1, err);
	}
	while (c.n)
		tree_release(&c.st[--c.n].tr);
	free(c.st);
	strbuf_release(&c.path);
	return r;
}

struct emit_all_ctx {
	tree_cmp_cb cb;
	void *data;
	int side;
};

static int emit_file(struct emit_all_ctx *x, const struct tree_entry *e, const char *path,
		     struct strbuf *err)
{
	return x->side ? x->cb(CMP_WS_ONLY, path, NULL, e, x->data, err)
		       : x->cb(CMP_TARGET_ONLY, path, e, NULL, x->data, err);
}

static int emit_all_entry(struct tree_walk *w, const struct tree_entry *e, void *data,
			  struct strbuf *err)
{
	return e->mode == MODE_DIR ? 0 : emit_file(data, e, w->path.buf, err);
}

/* Report every file below a stored entry (its tree at `level`) as only on one side. */
static int emit_all(struct odb_thread *t, const struct tree_entry *e, const char *path,
		    size_t level, int side, tree_cmp_cb cb, void *data, struct strbuf *err)
{
	static const struct tree_walk_ops ops = { emit_all_entry, NULL, NULL };
	struct emit_all_ctx x = { cb, data, side };
	if (e->mode != MODE_DIR)
		return emit_file(&x, e, path, err);
	return tree_walk(t, e, path, level, &ops, &x, err);
}

struct tree_frame {
	struct tree ta, tb;
	size_t i, j;
	size_t pathlen;
};

struct tree_cmp {
	struct odb_thread *t;
	tree_cmp_cb cb;
	void *data;
	struct strbuf path;
	struct tree_frame *st;
	size_t n, alloc;
};

/* One pair at c->path, their trees at `level` if they are directories. */
static int tree_step(struct tree_cmp *c, const struct tree_entry *a, const struct tree_entry *b,
		     size_t level, struct strbuf *err)
{
	const char *path = c->path.buf;
	struct tree_frame *f;
	struct tree ta, tb;
	int r;

	if (!a && !b)
		return 0;
	if (!a)
		return emit_all(c->t, b, path, level, 1, c->cb, c->data, err);
	if (!b)
		return emit_all(c->t, a, path, level, 0, c->cb, c->data, err);
	if (a->mode == b->mode && oid_eq(&a->id, &b->id) && a->size == b->size)
		return 0;
	if (a->mode != MODE_DIR && b->mode != MODE_DIR)
		return c->cb(CMP_MODIFIED, path, a, b, c->data, err);
	if (a->mode != MODE_DIR || b->mode != MODE_DIR) {
		/* a file became a directory or the reverse */
		r = emit_all(c->t, a, path, level, 0, c->cb, c->data, err);
		return r ? r : emit_all(c->t, b, path, level, 1, c->cb, c->data, err);
	}
	r = tree_depth_check(level, path, err);
	if (!r)
		r = content_read_tree(c->t, &a->id, &a->sha, &ta, path, err);
	if (r)
		return r;
	r = content_read_tree(c->t, &b->id, &b->sha, &tb, path, err);
	if (r) {
		tree_release(&ta);
		return r;
	}
	ALLOC_GROW(c->st, c->n + 1, c->alloc);
	f = &c->st[c->n++];
	f->ta = ta;
	f->tb = tb;
	f->i = f->j = 0;
	f->pathlen = c->path.len;
	return 0;
}

int tree_compare(struct odb_thread *t, const struct tree_entry *a, const struct tree_entry *b,
		 const char *path, tree_cmp_cb cb, void *data, struct strbuf *err)
{
	struct tree_cmp c;
	int r;

	memset(&c, 0, sizeof(c));
	c.t = t;
	c.cb = cb;
	c.data = data;
	strbuf_init(&c.path, 0);
	strbuf_addstr(&c.path, path);
	r = tree_step(&c, a, b, 1, err);
	while (!r && c.n) {
		struct tree_frame *f = &c.st[c.n - 1];
		const struct tree_entry *x = f->i < f->ta.n ? &f->ta.e[f->i] : NULL;
		const struct tree_entry *y = f->j < f->tb.n ? &f->tb.e[f->j] : NULL;
		int cmp = !x ? 1 : !y ? -1 : strcmp(x->name, y->name);
		if (!x && !y) {
			tree_release(&f->ta);
			tree_release(&f->tb);
			c.n--;
			continue;
		}
		if (cmp <= 0)
			f->i++;
		if (cmp >= 0)
			f->j++;
		strbuf_setlen(&c.path, f->pathlen);
		strbuf_addch(&c.path, '/');
		strbuf_addstr(&c.path, cmp <= 0 ? x->name : y->name);
		r = tree_step(&c, cmp <= 0 ? x : NULL, cmp >= 0 ? y : NULL, c.n + 1, err);
	}
	while (c.n) {
		c.n--;
		tree_release(&c.st[c.n].ta);
		tree_release(&c.st[c.n].tb);
	}
	free(c.st);
	strbuf_release(&c.path);
	return r;
}

/* --- checkout --- */

enum act_kind { A_RM = 1, A_RMDIR, A_MKDIR, A_WRITE };

struct action {
	int kind;
	char *path;
	struct tree_entry te; /* A_WRITE: what to write (name unused) */
	struct wt_node done;  /* A_WRITE: the written file, for the stat cache */
	int helpers;          /* A_WRITE: threads decoding ahead for it */
	int failed;
	char *errmsg;
};

struct co {
	struct repo *r;
	struct odb_thread *t;
	const struct checkout_opts *opts;
	struct action *acts;
	size_t n, alloc;
	char **conflicts;
	size_t nconf, confalloc;
	char *store_prefix; /* temp files in the store (one file), or NULL */
};

static void add_action(struct co *c, int kind, const char *path, const struct tree_entry *te)
{
	struct action *a;
	ALLOC_GROW(c->acts, c->n + 1, c->alloc);
	a = &c->acts[c->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->path = xstrdup(path);
	if (te) {
		a->te = *te;
		a->te.name = NULL;
	}
}

/* A work tree file about to be overwritten or removed: is it safe to? */
static int check_loss(struct co *c, struct wt_node *ws, struct strbuf *err)
{
	int has;
	if (c->opts->force)
		return 0;
	has = odb_has_file(c->t, &ws->id, ws->size, err);
	if (has < 0)
		return has;
	if (!has) {
		ALLOC_GROW(c->conflicts, c->nconf + 1, c->confalloc);
		c->conflicts[c->nconf++] = xstrdup(ws->path);
	}
	return 0;
}

static int plan_cb(int ev, const char *path, struct wt_node *ws, const struct tree_entry *te,
		   void *data, struct strbuf *err)
{
	struct co *c = data;
	int r;
	switch (ev) {
	case CMP_WS_ONLY:
		ws->known = 0; /* going away: keep it out of the stat cache */
		r = check_loss(c, ws, err);
		if (!r)
			add_action(c, A_RM, path, NULL);
		return r;
	case CMP_DIR_GONE:
		add_action(c, A_RMDIR, path, NULL);
		return 0;
	case CMP_DIR_NEW:
		add_action(c, A_MKDIR, path, te);
		return 0;
	case CMP_MODIFIED:
		/* same content, only the mode differs: rewriting is lossless */
		if (!(oid_eq(&ws->id, &te->id) && ws->size == te->size)) {
			r = check_loss(c, ws, err);
			if (r)
				return r;
		}
		ws->known = 0;
		/* fall through */
	case CMP_TARGET_ONLY:
		add_action(c, A_WRITE, path, te);
		return 0;
	}
	return 0;
}

/*
 * The temp file sits beside its final name: the rename is within one
 * directory, and threads writing different directories do not contend for
 * one directory lock (a shared temp directory made checkout of many small
 * files spend most of its time waiting on it). The prefix is reserved:
 * scans of a tracked directory skip such names and remove those of dead
 * processes. A tracked single file has no such scan: its temp file is in
 * the store (co.store_prefix), beside it only when the store is on
 * another file system.
 */
static char *tmp_prefix(const char *abs_target)
{
	const char *slash = strrchr(abs_target, '/');
	return xstrfmt("%.*s/" WT_TMP_PREFIX "%ld-", (int)(slash - abs_target), abs_target,
		       (long)getpid());
}

/*
 * Writes a's content to a temp file under `prefix` and renames it to abs.
 * *elsewhere: the temp file could not be made under prefix, or not renamed
 * from there (another file system); the caller may try another prefix.
 */
static int write_tmp(struct par_thread *pt, struct action *a, const char *abs,
		     const char *prefix, struct tempfile *tmp, int *fd, int *elsewhere,
		     struct strbuf *err)
{
	int r;
	*elsewhere = 0;
	if (a->te.mode == MODE_LINK) {
		struct strbuf target = STRBUF_INIT;
		r = content_read_small(&pt->odb, &a->te.id, &a->te.sha, a->te.size, 4096,
				       &target, a->path, err);
		if (!r && (memchr(target.buf, '\0', target.len) || !target.len))
			r = cerr(err, CAIRN_EFORMAT, "'%s': bad symlink target", a->path);
		if (!r) {
			r = tempfile_symlink(tmp, prefix, target.buf, err);
			*elsewhere = r != 0;
			if (r)
				cerr_wrap(err, r, "cannot create symlink '%s'", a->path);
		}
		strbuf_release(&target);
	} else {
		r = tempfile_create(tmp, prefix, a->te.mode == MODE_EXEC ? 0777 : 0666, err);
		*elsewhere = r != 0;
		if (r)
			cerr_wrap(err, r, "cannot create a temporary file for '%s'", a->path);
		else
			r = content_write_fd(&pt->odb, a->helpers, &a->te.id, &a->te.sha,
					     a->te.size, tmp->fd, a->path, err);
		/* kept open: its stat goes into the cache below */
		*fd = tmp->fd;
		tmp->fd = -1;
	}
	if (!r && rename(tmp->path, abs) < 0) {
		*elsewhere = errno == EXDEV;
		r = cerr_errno(err, "cannot rename into '%s'", a->path);
	}
	return r;
}

static int write_one(size_t i, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct co *c = data;
	struct action *a = &c->acts[i];
	char *abs = repo_abspath(c->r, a->path), *prefix = tmp_prefix(abs);
	struct tempfile tmp = TEMPFILE_INIT;
	int r = 0, fd = -1, elsewhere = 1;
	struct stat st;

	if (c->store_prefix) {
		struct strbuf e = STRBUF_INIT;
		r = write_tmp(pt, a, abs, c->store_prefix, &tmp, &fd, &elsewhere, &e);
		if (r && !elsewhere) {
			strbuf_reset(err);
			strbuf_add(err, e.buf, e.len);
		}
		strbuf_release(&e);
		if (r && elsewhere) {
			/* the store is elsewhere: beside the file, then */
			tempfile_remove(&tmp);
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
	}
	if (elsewhere)
		r = write_tmp(pt, a, abs, prefix, &tmp, &fd, &elsewhere, err);
	if (r) {
		tempfile_remove(&tmp);
	} else {
		if (fd >= 0 ? fstat(fd, &st) : lstat(abs, &st)) {
			r = cerr_errno(err, "cannot stat '%s'", a->path);
		} else {
			struct wt_node *n = &a->done;
			wt_node_set_stat(n, &st);
			n->path = xstrdup(a->path);
			n->pathlen = strlen(n->path);
			n->name = n->path + n->pathlen;
			n->id = a->te.id;
			n->sha = a->te.sha;
			n->size = a->te.size;
			n->known = 1;
			/* a mode we could not set (umask) is not what was asked */
			if (n->mode != a->te.mode)
				n->known = 0;
		}
		progress_add(c->opts->progress, 1, a->te.size);
	}
	if (fd >= 0)
		close(fd);
	free(tmp.path);
	free(prefix);
	free(abs);
	if (r) {
		a->failed = r;
		a->errmsg = xstrdup(err->buf);
	}
	return 0; /* keep going: report every file that fails */
}

/*
 * Before anything in the work tree changes: is every file we are going to
 * write fully in the store? (Corrupt bytes are still only found while
 * writing, but then nothing wrong is written and what was removed was
 * stored.)
 */
static int preflight(struct co *c, struct strbuf *err)
{
	size_t i, j;
	for (i = 0; i < c->n; i++) {
		struct action *a = &c->acts[i];
		struct manifest m;
		struct obj_loc loc;
		int r;
		if (a->kind != A_WRITE || !a->te.size)
			continue;
		r = content_chunks(c->t, &a->te.id, a->te.size, &m, err);
		for (j = 0; !r && j < m.n; j++) {
			r = odb_lookup(c->t, &m.chunks[j].id, OBJ_CHUNK, &loc, err);
			if (r == CAIRN_ENOTFOUND)
				r = cerr(err, r, "a chunk of it is not in the store");
		}
		manifest_release(&m);
		if (r)
			return cerr_wrap(err, r, "the data of '%s' is not all in the store (run 'cairn pull'?)",
					 a->path);
	}
	return 0;
}

/* A dir pointer's size and file count must be its tree's. */
int ptr_check_tree(struct odb_thread *t, const struct pointer *p, const char *what,
		   struct strbuf *err)
{
	struct tree tr;
	uint64_t size, files;
	int r;
	if (!p->is_dir)
		return 0;
	r = content_read_tree(t, &p->id, &p->sha, &tr, what, err);
	if (r)
		return r;
	tree_totals(&tr, &size, &files);
	tree_release(&tr);
	if (size != p->size || files != p->files)
		return cerr(err, CAIRN_EFORMAT,
			    "pointer file '%s.cairn' says %llu bytes in %llu files, its tree holds %llu bytes in %llu files",
			    what, (unsigned long long)p->size, (unsigned long long)p->files,
			    (unsigned long long)size, (unsigned long long)files);
	return 0;
}

struct dir_groups {
	struct co *c;
	size_t *start; /* group k is start[k] .. start[k+1]-1; start[n] = end */
	size_t n, alloc;
};

static int same_parent(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
	size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;
	return la == lb && !memcmp(a, b, la);
}

static int write_group(size_t k, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct dir_groups *g = data;
	size_t i;
	for (i = g->start[k]; i < g->start[k + 1]; i++)
		write_one(i, pt, g->c, err);
	return 0;
}

static int is_write(const struct action *a)
{
	return a->kind == A_WRITE;
}

/* Worth a thread of its own: a few chunks' worth of bytes. */
#define BIG_FILE (1u << 20)

static int is_big(const struct action *a)
{
	return a->te.size >= BIG_FILE;
}

/* Big files first, largest first; the rest in path order, so each
 * directory's small files stay together. */
static int cmp_write_order(const void *pa, const void *pb)
{
	const struct action *a = pa, *b = pb;
	int ba = is_big(a), bb = is_big(b);
	if (ba != bb)
		return bb - ba;
	if (ba && a->te.size != b->te.size)
		return a->te.size < b->te.size ? 1 : -1;
	return strcmp(a->path, b->path);
}

struct checkout_plan {
	struct co c;
	struct checkout_opts opts; /* c.opts points here */
	struct wt_node *ws;        /* the work tree as scanned, or NULL */
	char *rel;
};

void checkout_plan_free(struct checkout_plan *pl)
{
	size_t i;
	if (!pl)
		return;
	for (i = 0; i < pl->c.n; i++)
		free(pl->c.acts[i].path);
	free(pl->c.acts);
	for (i = 0; i < pl->c.nconf; i++)
		free(pl->c.conflicts[i]);
	free(pl->c.conflicts);
	free(pl->c.store_prefix);
	wt_node_free(pl->ws);
	free(pl->rel);
	free(pl);
}

int checkout_prepare(struct repo *r, const char *rel, const struct pointer *p,
		     const struct checkout_opts *opts, struct checkout_plan **out, struct strbuf *err)
{
	struct checkout_plan *pl;
	struct odb_thread t;
	struct wt_node *ws = NULL;
	struct tree_entry te;
	struct co *c;
	size_t i;
	int ret;

	ret = repo_check_parents(r, rel, err);
	if (ret)
		return ret;
	pl = xcalloc(1, sizeof(*pl));
	pl->opts = *opts;
	pl->rel = xstrdup(rel);
	c = &pl->c;
	odb_thread_init(&t, r->odb);
	if (!opts->dry_run)
		odb_clean_tmp(r->odb);
	c->r = r;
	c->t = &t;
	c->opts = &pl->opts;
	/* one file, in a directory no scan of ours cleans: its temp file in
	 * the store, where a killed checkout leaves nothing git would see */
	if (!p->is_dir)
		c->store_prefix = repo_tmp_prefix(r);
	ptr_to_entry(p, rel, &te);
	ret = ptr_check_tree(&t, p, rel, err);
	if (!ret)
		ret = wt_scan(r, &t, rel, WT_SCAN_TREES, &ws, err);
	pl->ws = ws;
	if (!ret && ws && ws->mode == MODE_LINK && p->is_dir && !opts->force)
		ret = cerr(err, CAIRN_EUNSAFE,
			   "'%s' is a symlink where a tracked directory belongs; remove it or use --force",
			   rel);
	if (!ret && ws)
		ret = wt_hash_unknown(r, ws, err);
	if (!ret && ws && ws->mode == MODE_DIR)
		ret = wt_compute_trees(ws, NULL, NULL, err);
	if (!ret)
		ret = wt_compare(&t, ws, &te, rel, plan_cb, c, err);
	if (!ret && c->nconf) {
		for (i = 0; i < c->nconf; i++)
			core_report("error", "'%s' has local changes that are not stored",
				    c->conflicts[i]);
		ret = cerr(err, CAIRN_ECONFLICT,
			   "checkout of '%s' would lose %zu local change(s); 'cairn add' them first, or use --force",
			   rel, c->nconf);
	}
	if (!ret)
		ret = preflight(c, err);
	c->t = NULL; /* applying reads through the writers' own threads */
	free(te.name);
	odb_thread_release(&t);
	if (ret) {
		checkout_plan_free(pl);
		return ret;
	}
	*out = pl;
	return 0;
}

int checkout_apply(struct checkout_plan *pl, struct progress *progress, struct checkout_result *res,
		   struct strbuf *err)
{
	struct repo *r = pl->c.r;
	const struct checkout_opts *opts = &pl->opts;
	struct wt_node *ws = pl->ws;
	const char *rel = pl->rel;
	struct co c = pl->c;
	size_t i, nw = 0;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	pl->opts.progress = progress;
	if (opts->dry_run) {
		for (i = 0; i < c.n; i++) {
			if (c.acts[i].kind == A_WRITE)
				res->written++;
			else if (c.acts[i].kind == A_RM)
				res->removed++;
		}
		return 0;
	}
	/* removals first (children before their directory), then directories */
	for (i = 0; i < c.n && !ret; i++) {
		struct action *a = &c.acts[i];
		char *abs;
		if (a->kind != A_RM && a->kind != A_RMDIR)
			continue;
		abs = repo_abspath(r, a->path);
		if ((a->kind == A_RM ? unlink(abs) : rmdir(abs)) < 0 && errno != ENOENT)
			ret = cerr_errno(err, "cannot remove '%s'", a->path);
		else if (a->kind == A_RM)
			res->removed++;
		free(abs);
	}
	for (i = 0; i < c.n && !ret; i++) {
		struct action *a = &c.acts[i];
		char *abs;
		if (a->kind != A_MKDIR)
			continue;
		abs = repo_abspath(r, a->path);
		if (mkdir(abs, 0777) < 0 && errno != EEXIST)
			ret = cerr_errno(err, "cannot create directory '%s'", a->path);
		free(abs);
	}
	if (ret)
		return ret;
	/* writes, in parallel: gather them first */
	{
		struct action *w = xcalloc(c.n ? c.n : 1, sizeof(*w)), *keep = c.acts;
		size_t n_all = c.n;
		for (i = 0; i < c.n; i++)
			if (is_write(&c.acts[i]))
				w[nw++] = c.acts[i];
		c.acts = w;
		c.n = nw;
		progress_set_totals(opts->progress, nw, 0);
		/* one work item per directory: threads writing into the same
		 * directory would queue on its lock for every create and rename.
		 * A large file is a work item of its own (its create and rename
		 * are nothing beside its bytes), and large ones go first, so a
		 * directory of a few big model shards keeps every thread busy. */
		{
			struct dir_groups g;
			size_t start = 0;
			memset(&g, 0, sizeof(g));
			g.c = &c;
			sort_array(w, nw, sizeof(*w), cmp_write_order);
			for (i = 1; i <= nw; i++) {
				if (i < nw && !is_big(&w[i - 1]) && !is_big(&w[i]) &&
				    same_parent(w[i - 1].path, w[i].path))
					continue;
				ALLOC_GROW(g.start, g.n + 1, g.alloc);
				g.start[g.n++] = start;
				start = i;
			}
			ALLOC_GROW(g.start, g.n + 1, g.alloc);
			g.start[g.n] = nw;
			/* the last big files to start would leave threads idle:
			 * give them helpers that decode ahead (big ones come first,
			 * so the big files are w[0 .. nbig-1]) */
			{
				size_t nbig = 0;
				while (nbig < nw && is_big(&w[nbig]))
					nbig++;
				for (i = 0; i < nbig; i++)
					if (nbig - i < (size_t)r->threads)
						w[i].helpers = r->threads - (int)(nbig - i);
			}
			ret = par_for(r->threads, g.n, r->odb, write_group, &g, err);
			free(g.start);
		}
		for (i = 0; i < nw; i++) {
			struct action *a = &w[i];
			if (a->failed) {
				core_report("error", "%s", a->errmsg);
				res->failed_files++;
				if (!ret || a->failed == CAIRN_ECORRUPT)
					ret = a->failed;
			} else {
				res->written++;
				res->bytes_written += a->te.size;
			}
		}
		/* save what we wrote (and what we hashed) in the stat cache */
		{
			struct wt_node **roots = xcalloc(nw + 1, sizeof(*roots));
			size_t nr = 0;
			struct strbuf e2 = STRBUF_INIT;
			if (ws)
				roots[nr++] = ws;
			for (i = 0; i < nw; i++)
				if (!w[i].failed && w[i].done.known)
					roots[nr++] = &w[i].done;
			/* the files are right, but a failing disk must not go unsaid */
			if (wt_stat_cache_save(r, roots, nr, &e2) && !ret)
				ret = cerr(err, CAIRN_ELMDB, "%s", e2.buf);
			strbuf_release(&e2);
			free(roots);
		}
		for (i = 0; i < nw; i++) {
			free(w[i].done.path);
			free(w[i].errmsg);
		}
		free(w);
		c.acts = keep;
		c.n = n_all;
	}
	if (ret && res->failed_files)
		ret = cerr(err, ret, "%d file(s) of '%s' could not be checked out", res->failed_files, rel);
	return ret;
}

int checkout_path(struct repo *r, const char *rel, const struct pointer *p,
		  const struct checkout_opts *opts, struct checkout_result *res, struct strbuf *err)
{
	struct checkout_plan *pl;
	int ret;
	memset(res, 0, sizeof(*res));
	ret = checkout_prepare(r, rel, p, opts, &pl, err);
	if (ret)
		return ret;
	ret = checkout_apply(pl, opts->progress, res, err);
	checkout_plan_free(pl);
	return ret;
}
