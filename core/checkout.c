#include "core/checkout.h"
#include "core/content.h"
#include "core/ingest.h"
#include "core/parallel.h"

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

static int emit_ws_only(struct wt_node *ws, cmp_cb cb, void *data, struct strbuf *err)
{
	size_t i;
	int r = 0;
	if (ws->mode != MODE_DIR)
		return cb(CMP_WS_ONLY, ws->path, ws, NULL, data, err);
	for (i = 0; i < ws->nkids && !r; i++)
		r = emit_ws_only(&ws->kids[i], cb, data, err);
	if (!r)
		r = cb(CMP_DIR_GONE, ws->path, ws, NULL, data, err);
	return r;
}

int wt_compare(struct odb_thread *t, struct wt_node *ws, const struct tree_entry *te,
	       const char *path, cmp_cb cb, void *data, struct strbuf *err)
{
	struct tree tr;
	size_t i = 0, j = 0;
	int r = 0;

	if (te->mode != MODE_DIR) {
		if (ws && ws->mode != MODE_DIR) {
			if (ws->mode == te->mode && oid_eq(&ws->id, &te->id) && ws->size == te->size)
				return 0;
			return cb(CMP_MODIFIED, path, ws, te, data, err);
		}
		if (ws)
			r = emit_ws_only(ws, cb, data, err);
		return r ? r : cb(CMP_TARGET_ONLY, path, NULL, te, data, err);
	}
	if (ws && ws->mode == MODE_DIR && oid_eq(&ws->id, &te->id))
		return 0;
	if (ws && ws->mode != MODE_DIR) {
		r = emit_ws_only(ws, cb, data, err);
		ws = NULL;
	}
	if (!r && !ws)
		r = cb(CMP_DIR_NEW, path, NULL, te, data, err);
	if (r)
		return r;
	r = content_read_tree(t, &te->id, &te->sha, &tr, path, err);
	if (r)
		return r;
	while (!r && (i < tr.n || (ws && j < ws->nkids))) {
		const struct tree_entry *e = i < tr.n ? &tr.e[i] : NULL;
		struct wt_node *k = ws && j < ws->nkids ? &ws->kids[j] : NULL;
		int c = !e ? 1 : !k ? -1 : strcmp(e->name, k->name);
		char *sub;
		if (c > 0) {
			r = emit_ws_only(k, cb, data, err);
			j++;
			continue;
		}
		sub = xstrfmt("%s/%s", path, e->name);
		r = wt_compare(t, c == 0 ? k : NULL, e, sub, cb, data, err);
		free(sub);
		i++;
		if (c == 0)
			j++;
	}
	tree_release(&tr);
	return r;
}

/* Report every file below a stored entry as only on one side. */
static int emit_all(struct odb_thread *t, const struct tree_entry *e, const char *path, int side,
		    tree_cmp_cb cb, void *data, struct strbuf *err)
{
	struct tree tr;
	size_t i;
	int r;
	if (e->mode != MODE_DIR)
		return side ? cb(CMP_WS_ONLY, path, NULL, e, data, err)
			    : cb(CMP_TARGET_ONLY, path, e, NULL, data, err);
	r = content_read_tree(t, &e->id, &e->sha, &tr, path, err);
	if (r)
		return r;
	for (i = 0; !r && i < tr.n; i++) {
		char *sub = xstrfmt("%s/%s", path, tr.e[i].name);
		r = emit_all(t, &tr.e[i], sub, side, cb, data, err);
		free(sub);
	}
	tree_release(&tr);
	return r;
}

int tree_compare(struct odb_thread *t, const struct tree_entry *a, const struct tree_entry *b,
		 const char *path, tree_cmp_cb cb, void *data, struct strbuf *err)
{
	struct tree ta, tb;
	size_t i = 0, j = 0;
	int r;

	if (!a && !b)
		return 0;
	if (!a)
		return emit_all(t, b, path, 1, cb, data, err);
	if (!b)
		return emit_all(t, a, path, 0, cb, data, err);
	if (a->mode == b->mode && oid_eq(&a->id, &b->id) && a->size == b->size)
		return 0;
	if (a->mode != MODE_DIR && b->mode != MODE_DIR)
		return cb(CMP_MODIFIED, path, a, b, data, err);
	if (a->mode != MODE_DIR || b->mode != MODE_DIR) {
		/* a file became a directory or the reverse */
		r = emit_all(t, a, path, 0, cb, data, err);
		return r ? r : emit_all(t, b, path, 1, cb, data, err);
	}
	r = content_read_tree(t, &a->id, &a->sha, &ta, path, err);
	if (r)
		return r;
	r = content_read_tree(t, &b->id, &b->sha, &tb, path, err);
	if (r) {
		tree_release(&ta);
		return r;
	}
	while (!r && (i < ta.n || j < tb.n)) {
		const struct tree_entry *x = i < ta.n ? &ta.e[i] : NULL, *y = j < tb.n ? &tb.e[j] : NULL;
		int c = !x ? 1 : !y ? -1 : strcmp(x->name, y->name);
		char *sub = xstrfmt("%s/%s", path, c <= 0 ? x->name : y->name);
		r = tree_compare(t, c <= 0 ? x : NULL, c >= 0 ? y : NULL, sub, cb, data, err);
		free(sub);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	tree_release(&ta);
	tree_release(&tb);
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
 * scans skip such names and remove those of dead processes.
 */
static char *tmp_prefix(const char *abs_target)
{
	const char *slash = strrchr(abs_target, '/');
	return xstrfmt("%.*s/" WT_TMP_PREFIX "%ld-", (int)(slash - abs_target), abs_target,
		       (long)getpid());
}

static int write_one(size_t i, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct co *c = data;
	struct action *a = &c->acts[i];
	char *abs = repo_abspath(c->r, a->path), *prefix = tmp_prefix(abs);
	struct tempfile tmp = TEMPFILE_INIT;
	int r = 0, fd = -1;
	struct stat st;

	{
		if (a->te.mode == MODE_LINK) {
			struct strbuf target = STRBUF_INIT;
			r = content_read_small(&pt->odb, &a->te.id, &a->te.sha, a->te.size, 4096,
					       &target, a->path, err);
			if (!r && (memchr(target.buf, '\0', target.len) || !target.len))
				r = cerr(err, CAIRN_EFORMAT, "'%s': bad symlink target", a->path);
			if (!r) {
				r = tempfile_symlink(&tmp, prefix, target.buf, err);
				if (r)
					cerr_wrap(err, r, "cannot create symlink '%s'", a->path);
			}
			strbuf_release(&target);
		} else {
			r = tempfile_create(&tmp, prefix, a->te.mode == MODE_EXEC ? 0777 : 0666, err);
			if (r)
				cerr_wrap(err, r, "cannot create a temporary file for '%s'", a->path);
			else
				r = content_write_fd(&pt->odb, a->helpers, &a->te.id, &a->te.sha,
						     a->te.size, tmp.fd,
						     a->path, err);
			/* kept open: its stat goes into the cache below */
			fd = tmp.fd;
			tmp.fd = -1;
		}
		if (!r && rename(tmp.path, abs) < 0)
			r = cerr_errno(err, "cannot rename into '%s'", a->path);
	}
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

int checkout_path(struct repo *r, const char *rel, const struct pointer *p,
		  const struct checkout_opts *opts, struct checkout_result *res, struct strbuf *err)
{
	struct odb_thread t;
	struct wt_node *ws = NULL;
	struct tree_entry te;
	struct co c;
	size_t i, nw = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	ret = repo_check_parents(r, rel, err);
	if (ret)
		return ret;
	odb_thread_init(&t, r->odb);
	if (!opts->dry_run)
		odb_clean_tmp(r->odb);
	c.r = r;
	c.t = &t;
	c.opts = opts;
	ptr_to_entry(p, rel, &te);
	ret = ptr_check_tree(&t, p, rel, err);
	if (!ret)
		ret = wt_scan(r, &t, rel, WT_SCAN_TREES, &ws, err);
	if (!ret && ws && ws->mode == MODE_LINK && p->is_dir && !opts->force)
		ret = cerr(err, CAIRN_EUNSAFE,
			   "'%s' is a symlink where a tracked directory belongs; remove it or use --force",
			   rel);
	if (!ret && ws)
		ret = wt_hash_unknown(r, ws, err);
	if (!ret && ws && ws->mode == MODE_DIR)
		ret = wt_compute_trees(ws, NULL, NULL, err);
	if (!ret)
		ret = wt_compare(&t, ws, &te, rel, plan_cb, &c, err);
	if (!ret && c.nconf) {
		for (i = 0; i < c.nconf; i++)
			core_report("error", "'%s' has local changes that are not stored",
				    c.conflicts[i]);
		ret = cerr(err, CAIRN_ECONFLICT,
			   "checkout of '%s' would lose %zu local change(s); 'cairn add' them first, or use --force",
			   rel, c.nconf);
	}
	if (!ret && opts->dry_run) {
		for (i = 0; i < c.n; i++) {
			if (c.acts[i].kind == A_WRITE)
				res->written++;
			else if (c.acts[i].kind == A_RM)
				res->removed++;
		}
	}
	if (!ret)
		ret = preflight(&c, err);
	if (ret || opts->dry_run)
		goto out;
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
		goto out;
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
out:
	for (i = 0; i < c.n; i++)
		free(c.acts[i].path);
	free(c.acts);
	for (i = 0; i < c.nconf; i++)
		free(c.conflicts[i]);
	free(c.conflicts);
	free(te.name);
	wt_node_free(ws);
	odb_thread_release(&t);
	return ret;
}
