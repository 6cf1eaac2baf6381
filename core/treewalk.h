#ifndef CAIRN_TREEWALK_H
#define CAIRN_TREEWALK_H
/*
 * Walking a stored tree, with its depth bounded
 * (Documentation/technical/store-format.md, "Tree depth").
 *
 * Trees nest at most TREE_MAX_DEPTH levels: the tree a pointer names is
 * level 1, its subtrees level 2, and so on. tree_walk() keeps the levels
 * on an explicit stack (never C recursion: a thread's stack may be small)
 * and refuses to go below level TREE_MAX_DEPTH; code that walks trees
 * some other way (two trees side by side, a work tree on disk) asks
 * tree_depth_check() before going one level deeper.
 */
#include "core/object.h"
#include "core/odb.h"

#define TREE_MAX_DEPTH 4096

/*
 * 0 if a tree may sit at `level` (1 = the tree a pointer names), else
 * CAIRN_EFORMAT: "tree of 'PATH' is deeper than 4096 levels".
 */
int tree_depth_check(size_t level, const char *path, struct strbuf *err);

/* Returned by an entry callback: do not go into this directory. */
#define TREE_WALK_SKIP 1

struct tree_walk_frame;

struct tree_walk {
	struct odb_thread *t;
	/*
	 * The path of the entry being visited (in entry), or of the directory
	 * (in tree and leave): the root's path, then "/name" per level (no
	 * slash after an empty root path). Valid only during the callback.
	 */
	struct strbuf path;
	/* The level of the tree listing the entry (entry), or of the tree
	 * itself (tree, leave). */
	size_t level;
	/* private */
	struct tree_walk_frame *stack;
	size_t n, alloc;
};

struct tree_walk_ops {
	/*
	 * Each entry of each tree walked, in order. For a directory: 0 goes
	 * into it (its tree is read and walked before the next entry),
	 * TREE_WALK_SKIP does not. A negative return stops the walk and is
	 * returned. Required.
	 */
	int (*entry)(struct tree_walk *w, const struct tree_entry *e, void *data,
		     struct strbuf *err);
	/*
	 * Optional: after reading the tree of directory e (the root included),
	 * r = 0, or r < 0 when it could not be read (err says why). For r < 0,
	 * return 0 to skip the directory and go on, or an error to stop; for
	 * r = 0, return 0 to walk its entries or an error to stop. Without it
	 * a tree that cannot be read stops the walk.
	 */
	int (*tree)(struct tree_walk *w, const struct tree_entry *e, int r, void *data,
		    struct strbuf *err);
	/* Optional: after the last entry of a directory walked (the root
	 * included); a non-zero return stops the walk. */
	int (*leave)(struct tree_walk *w, const struct tree_entry *e, void *data,
		     struct strbuf *err);
};

/*
 * Walks the directory `root` (its mode must be MODE_DIR), pre-order, at
 * `path`, the root's tree at `level` (1 unless it is itself below a
 * tree). Each tree is read with content_read_tree (checked against the
 * sha256 its parent records). A directory whose tree would be deeper than
 * TREE_MAX_DEPTH stops the walk with tree_depth_check's error, before
 * anything of it is read. 0, or the first error.
 */
int tree_walk(struct odb_thread *t, const struct tree_entry *root, const char *path,
	      size_t level, const struct tree_walk_ops *ops, void *data, struct strbuf *err);

#endif
