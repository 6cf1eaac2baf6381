/*
 * Unit tests for core/treewalk.c: the order of the callbacks (entries
 * pre-order, leave after a directory's last entry), the paths and levels
 * they see, TREE_WALK_SKIP, a tree that cannot be read (skipped by the
 * tree callback, or stopping the walk), and the depth limit: a chain of
 * TREE_MAX_DEPTH trees is walked, one level more is refused before its
 * tree is read, counting from the level the walk starts at.
 */
#include "core/object.h"
#include "core/odb.h"
#include "core/treewalk.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[] = "/tmp/cairn-treewalk-test-XXXXXX";

static struct odb *odb;
static struct odb_thread th;
static struct odb_batch *batch;

/* Stores a tree of the entries made so far; its entry (named name) out. */
static void store(struct tree *t, const char *name, struct tree_entry *out)
{
	struct strbuf enc = STRBUF_INIT, err = STRBUF_INIT;
	memset(out, 0, sizeof(*out));
	tree_sort(t);
	tree_encode(t, &enc, &out->id, &out->sha);
	tree_totals(t, &out->size, &out->files);
	out->mode = MODE_DIR;
	out->name = (char *)name;
	if (odb_put(batch, &th, OBJ_TREE, &out->id, enc.buf, enc.len, 0, NULL, &err))
		diag("odb_put: %s", err.buf);
	strbuf_release(&enc);
	strbuf_release(&err);
}

static void add_entry(struct tree *t, const struct tree_entry *e)
{
	struct tree_entry *n = tree_add(t, e->name, e->mode);
	n->size = e->size;
	n->files = e->files;
	n->id = e->id;
	n->sha = e->sha;
}

static void add_file(struct tree *t, const char *name, int seed)
{
	struct tree_entry *e = tree_add(t, name, MODE_FILE);
	e->size = 1;
	memset(&e->id, seed, sizeof(e->id));
	memset(&e->sha, seed, sizeof(e->sha));
}

struct log {
	struct strbuf s;
	const char *skip; /* a directory not to go into */
	int skip_unreadable;
};

static int log_entry(struct tree_walk *w, const struct tree_entry *e, void *data,
		     struct strbuf *err)
{
	struct log *l = data;
	strbuf_addf(&l->s, "e %s %zu;", w->path.buf, w->level);
	return l->skip && !strcmp(e->name, l->skip) ? TREE_WALK_SKIP : 0;
}

static int log_tree(struct tree_walk *w, const struct tree_entry *e, int r, void *data,
		    struct strbuf *err)
{
	struct log *l = data;
	strbuf_addf(&l->s, "t %s %zu%s;", w->path.buf, w->level, r ? " bad" : "");
	return r && l->skip_unreadable ? 0 : r;
}

static int log_leave(struct tree_walk *w, const struct tree_entry *e, void *data,
		     struct strbuf *err)
{
	struct log *l = data;
	strbuf_addf(&l->s, "l %s %zu;", w->path.buf, w->level);
	return 0;
}

static const struct tree_walk_ops log_ops = { log_entry, log_tree, log_leave };

/*
 * root: a, m/ (x, y/ (z)), n/ (missing from the store), zz
 */
static void test_order(void)
{
	struct strbuf err = STRBUF_INIT;
	struct tree ty, tm, tr;
	struct tree_entry ey, em, en, root;
	struct log l;
	int r;

	tree_init(&ty);
	add_file(&ty, "z", 1);
	store(&ty, "y", &ey);
	tree_init(&tm);
	add_file(&tm, "x", 2);
	add_entry(&tm, &ey);
	store(&tm, "m", &em);
	memset(&en, 0, sizeof(en));
	en.mode = MODE_DIR;
	en.name = "n";
	memset(&en.id, 7, sizeof(en.id)); /* no such tree */
	tree_init(&tr);
	add_file(&tr, "a", 3);
	add_entry(&tr, &em);
	add_entry(&tr, &en);
	add_file(&tr, "zz", 4);
	store(&tr, "", &root);
	ok(!odb_batch_commit(batch, NULL, &err), "trees stored (%s)", err.buf);
	batch = NULL;

	memset(&l, 0, sizeof(l));
	strbuf_init(&l.s, 0);
	l.skip_unreadable = 1;
	r = tree_walk(&th, &root, "top", 1, &log_ops, &l, &err);
	ok(!r, "a walk skipping what it cannot read succeeds (%s)", err.buf);
	ok(!strcmp(l.s.buf, "t top 1;e top/a 1;e top/m 1;t top/m 2;e top/m/x 2;e top/m/y 2;"
			    "t top/m/y 3;e top/m/y/z 3;l top/m/y 3;l top/m 2;e top/n 1;"
			    "t top/n 2 bad;e top/zz 1;l top 1;"),
	   "entries pre-order, trees after their entry, leave after the last entry: %s",
	   l.s.buf);

	strbuf_reset(&l.s);
	l.skip = "m";
	r = tree_walk(&th, &root, "", 1, &log_ops, &l, &err);
	ok(!r && !strcmp(l.s.buf, "t  1;e a 1;e m 1;e n 1;t n 2 bad;e zz 1;l  1;"),
	   "TREE_WALK_SKIP leaves a directory out; an empty root path adds no slash: %s",
	   l.s.buf);

	strbuf_reset(&l.s);
	l.skip = NULL;
	l.skip_unreadable = 0;
	r = tree_walk(&th, &root, "top", 1, &log_ops, &l, &err);
	ok(r == CAIRN_ENOTFOUND && strstr(err.buf, "top/n"),
	   "a tree that cannot be read stops the walk, named (%d: %s)", r, err.buf);

	strbuf_release(&l.s);
	strbuf_release(&err);
	tree_release(&ty);
	tree_release(&tm);
	tree_release(&tr);
}

static int count_entry(struct tree_walk *w, const struct tree_entry *e, void *data,
		       struct strbuf *err)
{
	size_t *max = data;
	if (w->level > *max)
		*max = w->level;
	return 0;
}

/* A chain of `depth` trees, each holding "d" but the last (holding "f"). */
static void chain(size_t depth, struct tree_entry *root)
{
	struct strbuf err = STRBUF_INIT;
	struct tree_entry e;
	size_t level;

	ok(!odb_batch_begin(odb, &batch, &err), "a batch (%s)", err.buf);
	memset(&e, 0, sizeof(e));
	for (level = depth; level >= 1; level--) {
		struct tree t;
		tree_init(&t);
		if (level == depth)
			add_file(&t, "f", 5);
		else
			add_entry(&t, &e);
		store(&t, "d", &e);
		tree_release(&t);
	}
	ok(!odb_batch_commit(batch, NULL, &err), "a chain of %zu trees stored (%s)", depth,
	   err.buf);
	batch = NULL;
	*root = e;
	strbuf_release(&err);
}

static void test_depth(void)
{
	static const struct tree_walk_ops ops = { count_entry, NULL, NULL };
	struct strbuf err = STRBUF_INIT;
	struct tree_entry lim, over;
	size_t max = 0;
	int r;

	chain(TREE_MAX_DEPTH, &lim);
	chain(TREE_MAX_DEPTH + 1, &over);
	r = tree_walk(&th, &lim, "c", 1, &ops, &max, &err);
	ok(!r && max == TREE_MAX_DEPTH, "a chain of %d trees is walked to the bottom (%zu: %s)",
	   TREE_MAX_DEPTH, max, err.buf);
	max = 0;
	strbuf_reset(&err);
	r = tree_walk(&th, &over, "c", 1, &ops, &max, &err);
	ok(r == CAIRN_EFORMAT && strstr(err.buf, "is deeper than 4096 levels") &&
	   max == TREE_MAX_DEPTH,
	   "one more level is refused before it is read (%d, %zu: %s)", r, max, err.buf);
	ok(strlen(err.buf) < 200 && strstr(err.buf, "tree of 'c/d/d/") && strstr(err.buf, "..."),
	   "the message keeps both ends of a long path: %s", err.buf);
	strbuf_reset(&err);
	r = tree_walk(&th, &lim, "c", 2, &ops, &max, &err);
	ok(r == CAIRN_EFORMAT, "levels count from where the walk starts (%d)", r);
	ok(tree_depth_check(TREE_MAX_DEPTH, "x", NULL) == 0 &&
	   tree_depth_check(TREE_MAX_DEPTH + 1, "x", NULL) == CAIRN_EFORMAT,
	   "tree_depth_check: %d levels and no more", TREE_MAX_DEPTH);
	strbuf_release(&err);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

int main(void)
{
	struct odb_opts opts = { ODB_ZLEVEL_DEFAULT, ODB_PACK_SIZE_DEFAULT, NULL };
	struct strbuf err = STRBUF_INIT;
	char *dir;

	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	dir = xstrfmt("%s/store", tmpdir);
	if (odb_create(dir, &err) || odb_open(&odb, dir, &opts, 0, &err) ||
	    odb_batch_begin(odb, &batch, &err)) {
		printf("Bail out! a store: %s\n", err.buf);
		return 1;
	}
	odb_thread_init(&th, odb);
	test_order();
	test_depth();
	odb_thread_release(&th);
	odb_close(odb);
	free(dir);
	strbuf_release(&err);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
