#include "core/merge.h"
#include "core/content.h"
#include "core/treewalk.h"

#include <stdlib.h>
#include <string.h>

void merge_result_release(struct merge_result *res)
{
	size_t i;
	for (i = 0; i < res->nconflicts; i++)
		free(res->conflicts[i]);
	free(res->conflicts);
	memset(res, 0, sizeof(*res));
}

static int same(const struct tree_entry *a, const struct tree_entry *b)
{
	if (!a || !b)
		return a == b;
	return a->mode == b->mode && oid_eq(&a->id, &b->id);
}

static void conflict(struct merge_result *res, const char *path)
{
	ALLOC_GROW(res->conflicts, res->nconflicts + 1, res->alloc);
	res->conflicts[res->nconflicts++] = xstrdup(path);
}

static void take(struct tree_entry *out, int *present, const struct tree_entry *e)
{
	*present = e != NULL;
	if (e) {
		*out = *e;
		out->name = NULL;
	}
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The merge keeps its own stack, one frame per directory changed on all
 * three sides (never C recursion: trees may nest TREE_MAX_DEPTH levels),
 * each frame building the merged tree of its directory; a finished frame
 * stores its tree and adds it to its parent's.
 */
struct merge_frame {
	struct tree tb, to, tt;
	int has_base;
	char **names; /* every name on any side, sorted (repeats skipped) */
	size_t nn, an, i;
	struct tree merged;
	size_t pathlen;
	const char *name; /* in the parent's names: where the result goes */
};

struct merge_ctx {
	struct odb_batch *b;
	struct odb_thread *t;
	struct merge_result *res;
	struct strbuf path;
	struct merge_frame *st;
	size_t n, alloc;
};

static void frame_release(struct merge_frame *f)
{
	if (f->has_base)
		tree_release(&f->tb);
	tree_release(&f->to);
	tree_release(&f->tt);
	tree_release(&f->merged);
	free(f->names);
}

/*
 * The names (base, ours, theirs) at c->path: resolved into *out and
 * *present (0), or a frame pushed for a directory to merge entry by entry
 * (1, its tree to be at `level`), or an error.
 */
static int merge_step(struct merge_ctx *c, const struct tree_entry *base,
		      const struct tree_entry *ours, const struct tree_entry *theirs,
		      const char *name, size_t level, struct tree_entry *out, int *present,
		      struct strbuf *err)
{
	const char *path = c->path.buf;
	struct merge_frame f;
	size_t i;
	int r, k;

	memset(out, 0, sizeof(*out));
	*present = 0;
	if (same(ours, theirs)) {
		take(out, present, ours);
		return 0;
	}
	if (same(ours, base)) {
		take(out, present, theirs);
		return 0;
	}
	if (same(theirs, base)) {
		take(out, present, ours);
		return 0;
	}
	/* both changed it: only directories on both sides can still merge */
	if (!ours || !theirs || ours->mode != MODE_DIR || theirs->mode != MODE_DIR ||
	    (base && base->mode != MODE_DIR)) {
		conflict(c->res, path);
		take(out, present, ours); /* ours stays in place; theirs is in MERGE_HEAD */
		return 0;
	}
	r = tree_depth_check(level, path, err);
	if (r)
		return r;
	memset(&f, 0, sizeof(f));
	tree_init(&f.tb);
	tree_init(&f.to);
	tree_init(&f.tt);
	tree_init(&f.merged);
	if (base) {
		r = content_read_tree(c->t, &base->id, &base->sha, &f.tb, path, err);
		f.has_base = !r;
	}
	if (!r)
		r = content_read_tree(c->t, &ours->id, &ours->sha, &f.to, path, err);
	if (!r)
		r = content_read_tree(c->t, &theirs->id, &theirs->sha, &f.tt, path, err);
	if (r) {
		frame_release(&f);
		return r;
	}
	{
		struct tree *all[3] = { f.has_base ? &f.tb : NULL, &f.to, &f.tt };
		for (k = 0; k < 3; k++)
			for (i = 0; all[k] && i < all[k]->n; i++) {
				ALLOC_GROW(f.names, f.nn + 1, f.an);
				f.names[f.nn++] = all[k]->e[i].name;
			}
	}
	if (f.nn)
		sort_array(f.names, f.nn, sizeof(*f.names), strcmp_ptr);
	f.pathlen = c->path.len;
	f.name = name;
	ALLOC_GROW(c->st, c->n + 1, c->alloc);
	c->st[c->n++] = f;
	return 1;
}

/* The merged tree of a finished frame, stored: into *out. */
static int merge_finish(struct merge_ctx *c, struct merge_frame *f, struct tree_entry *out,
			struct strbuf *err)
{
	struct strbuf enc = STRBUF_INIT;
	char *what = xstrfmt("cannot merge '%s'", c->path.buf);
	int r;

	memset(out, 0, sizeof(*out));
	tree_sort(&f->merged);
	r = tree_check_links(&f->merged, what, err);
	free(what);
	if (!r) {
		tree_encode(&f->merged, &enc, &out->id, &out->sha);
		tree_totals(&f->merged, &out->size, &out->files);
		out->mode = MODE_DIR;
		r = odb_put(c->b, c->t, OBJ_TREE, &out->id, enc.buf, enc.len, 0, NULL, err);
	}
	strbuf_release(&enc);
	return r;
}

static void merged_add(struct merge_frame *f, const char *name, const struct tree_entry *m)
{
	struct tree_entry *e = tree_add(&f->merged, name, m->mode);
	e->size = m->size;
	e->files = m->files;
	e->id = m->id;
	e->sha = m->sha;
}

static const struct tree_entry *in(const struct merge_frame *f, const struct tree *t,
				   const char *name)
{
	return t == &f->tb && !f->has_base ? NULL : tree_find(t, name);
}

int tree_merge3(struct odb_batch *b, struct odb_thread *t, const struct tree_entry *base,
		const struct tree_entry *ours, const struct tree_entry *theirs, const char *path,
		struct tree_entry *out, int *present, struct merge_result *res, struct strbuf *err)
{
	struct merge_ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	c.b = b;
	c.t = t;
	c.res = res;
	strbuf_init(&c.path, 0);
	strbuf_addstr(&c.path, path);
	r = merge_step(&c, base, ours, theirs, NULL, 1, out, present, err);
	if (r > 0)
		r = 0;
	while (!r && c.n) {
		struct merge_frame *f = &c.st[c.n - 1];
		struct tree_entry m;
		int has;
		strbuf_setlen(&c.path, f->pathlen);
		if (f->i == f->nn) {
			r = merge_finish(&c, f, &m, err);
			if (!r && c.n > 1)
				merged_add(&c.st[c.n - 2], f->name, &m);
			else if (!r) {
				*out = m;
				*present = 1;
			}
			frame_release(f);
			c.n--;
			continue;
		}
		{
			const char *name = f->names[f->i++];
			if (f->i > 1 && !strcmp(name, f->names[f->i - 2]))
				continue;
			strbuf_addch(&c.path, '/');
			strbuf_addstr(&c.path, name);
			r = merge_step(&c, in(f, &f->tb, name), in(f, &f->to, name), in(f, &f->tt, name),
				       name, c.n + 1, &m, &has, err);
			/* f may have moved; the frame pushed adds its own result */
			if (!r && has)
				merged_add(&c.st[c.n - 1], name, &m);
			if (r > 0)
				r = 0;
		}
	}
	while (c.n)
		frame_release(&c.st[--c.n]);
	free(c.st);
	strbuf_release(&c.path);
	return r;
}
