#include "core/merge.h"
#include "core/content.h"

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

static const struct tree_entry *find(const struct tree *t, const char *name)
{
	return t ? tree_find(t, name) : NULL;
}

int tree_merge3(struct odb_batch *b, struct odb_thread *t, const struct tree_entry *base,
		const struct tree_entry *ours, const struct tree_entry *theirs, const char *path,
		struct tree_entry *out, int *present, struct merge_result *res, struct strbuf *err)
{
	struct tree tb, to, tt, merged;
	struct tree *pb = NULL, *po = NULL, *pt = NULL;
	char **names = NULL;
	size_t nn = 0, an = 0, i;
	int r = 0;

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
		conflict(res, path);
		take(out, present, ours); /* ours stays in place; theirs is in MERGE_HEAD */
		return 0;
	}
	if (base) {
		r = content_read_tree(t, &base->id, &base->sha, &tb, path, err);
		if (r)
			return r;
		pb = &tb;
	}
	r = content_read_tree(t, &ours->id, &ours->sha, &to, path, err);
	if (r)
		goto out;
	po = &to;
	r = content_read_tree(t, &theirs->id, &theirs->sha, &tt, path, err);
	if (r)
		goto out;
	pt = &tt;
	/* every name on any side, once, sorted */
	{
		struct tree *all[3] = { pb, po, pt };
		int k;
		for (k = 0; k < 3; k++)
			for (i = 0; all[k] && i < all[k]->n; i++) {
				ALLOC_GROW(names, nn + 1, an);
				names[nn++] = all[k]->e[i].name;
			}
	}
	if (nn)
		sort_array(names, nn, sizeof(*names), strcmp_ptr);
	tree_init(&merged);
	for (i = 0; i < nn && !r; i++) {
		struct tree_entry m;
		int has;
		char *sub;
		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		sub = xstrfmt("%s/%s", path, names[i]);
		r = tree_merge3(b, t, find(pb, names[i]), find(po, names[i]), find(pt, names[i]), sub,
				&m, &has, res, err);
		free(sub);
		if (!r && has) {
			struct tree_entry *e = tree_add(&merged, names[i], m.mode);
			e->size = m.size;
			e->files = m.files;
			e->id = m.id;
			e->sha = m.sha;
		}
	}
	if (!r) {
		struct strbuf enc = STRBUF_INIT;
		uint64_t size, files;
		char *what = xstrfmt("cannot merge '%s'", path);
		tree_sort(&merged);
		r = tree_check_links(&merged, what, err);
		free(what);
		if (!r) {
			tree_encode(&merged, &enc, &out->id, &out->sha);
			tree_totals(&merged, &size, &files);
			out->mode = MODE_DIR;
			out->size = size;
			out->files = files;
			*present = 1;
			r = odb_put(b, t, OBJ_TREE, &out->id, enc.buf, enc.len, 0, NULL, err);
		}
		strbuf_release(&enc);
	}
	tree_release(&merged);
	free(names);
out:
	if (pb)
		tree_release(pb);
	if (po)
		tree_release(po);
	if (pt)
		tree_release(pt);
	return r;
}
