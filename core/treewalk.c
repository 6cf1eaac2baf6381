#include "core/treewalk.h"
#include "core/content.h"

#include <string.h>

/* Paths that deep are long: messages keep their two ends. */
#define PATH_SHOWN_HEAD 80
#define PATH_SHOWN_TAIL 60

int tree_depth_check(size_t level, const char *path, struct strbuf *err)
{
	size_t len = strlen(path);
	if (level <= TREE_MAX_DEPTH)
		return 0;
	if (len <= PATH_SHOWN_HEAD + PATH_SHOWN_TAIL + 3)
		return cerr(err, CAIRN_EFORMAT, "tree of '%s' is deeper than %d levels", path,
			    TREE_MAX_DEPTH);
	return cerr(err, CAIRN_EFORMAT, "tree of '%.*s...%s' is deeper than %d levels",
		    PATH_SHOWN_HEAD, path, path + len - PATH_SHOWN_TAIL, TREE_MAX_DEPTH);
}

struct tree_walk_frame {
	const struct tree_entry *self; /* the directory; in the parent's tree */
	struct tree tr;
	size_t next;    /* the entry to visit next */
	size_t pathlen; /* of the directory's path in w->path */
};

/*
 * Reads the tree of directory e (its path in w->path) and pushes it: 0,
 * or 1 when ops->tree chose to skip a tree it could not read, or an error.
 */
static int push(struct tree_walk *w, const struct tree_entry *e, size_t level,
		const struct tree_walk_ops *ops, void *data, struct strbuf *err)
{
	struct tree_walk_frame *f;
	struct tree tr;
	int r = tree_depth_check(level, w->path.buf, err);

	if (r)
		return r;
	w->level = level;
	tree_init(&tr);
	r = content_read_tree(w->t, &e->id, &e->sha, &tr, w->path.len ? w->path.buf : ".", err);
	if (ops->tree) {
		int was = r;
		r = ops->tree(w, e, r, data, err);
		if (was && !r)
			return 1;
	}
	if (r) {
		tree_release(&tr);
		return r;
	}
	ALLOC_GROW(w->stack, w->n + 1, w->alloc);
	f = &w->stack[w->n++];
	f->self = e;
	f->tr = tr;
	f->next = 0;
	f->pathlen = w->path.len;
	return 0;
}

int tree_walk(struct odb_thread *t, const struct tree_entry *root, const char *path,
	      size_t level, const struct tree_walk_ops *ops, void *data, struct strbuf *err)
{
	struct tree_walk w;
	int r;

	memset(&w, 0, sizeof(w));
	w.t = t;
	strbuf_init(&w.path, 0);
	strbuf_addstr(&w.path, path);
	r = push(&w, root, level, ops, data, err);
	if (r > 0)
		r = 0;
	while (!r && w.n) {
		struct tree_walk_frame *f = &w.stack[w.n - 1];
		size_t flevel = level + w.n - 1;
		strbuf_setlen(&w.path, f->pathlen);
		if (f->next < f->tr.n) {
			const struct tree_entry *e = &f->tr.e[f->next++];
			if (w.path.len)
				strbuf_addch(&w.path, '/');
			strbuf_addstr(&w.path, e->name);
			w.level = flevel;
			r = ops->entry(&w, e, data, err);
			if (!r && e->mode == MODE_DIR)
				r = push(&w, e, flevel + 1, ops, data, err);
			if (r > 0)
				r = 0; /* TREE_WALK_SKIP, or a tree skipped */
			continue;
		}
		w.level = flevel;
		if (ops->leave)
			r = ops->leave(&w, f->self, data, err);
		tree_release(&f->tr);
		w.n--;
	}
	while (w.n)
		tree_release(&w.stack[--w.n].tr);
	free(w.stack);
	strbuf_release(&w.path);
	return r;
}
