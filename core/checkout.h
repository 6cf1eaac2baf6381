#ifndef CAIRN_CHECKOUT_H
#define CAIRN_CHECKOUT_H
/*
 * Comparing a work tree path with the version a pointer names, and
 * materialising that version (checkout).
 *
 * wt_compare() walks a scanned work tree node and a stored tree side by
 * side, skipping subtrees whose ids are equal, and reports each difference
 * to a callback. Status and checkout are both built on it.
 */
#include "core/pointer.h"
#include "core/progress.h"
#include "core/repo.h"
#include "core/worktree.h"

enum cmp_event {
	CMP_WS_ONLY = 1,   /* a file/link only in the work tree (status: added) */
	CMP_TARGET_ONLY,   /* a file/link only in the version (status: deleted) */
	CMP_MODIFIED,      /* both, different content or mode */
	CMP_DIR_NEW,       /* a directory only in the version, before its files */
	CMP_DIR_GONE,      /* a directory only in the work tree, after its files */
};

typedef int (*cmp_cb)(int ev, const char *path, struct wt_node *ws, const struct tree_entry *te,
		      void *data, struct strbuf *err);

/*
 * Compares `ws` (may be NULL: absent) with target entry `te` at `path`. All
 * ws files must be known (hashed). Trees are read from the store through t.
 */
int wt_compare(struct odb_thread *t, struct wt_node *ws, const struct tree_entry *te,
	       const char *path, cmp_cb cb, void *data, struct strbuf *err);

/*
 * Compares two stored versions: a (old) and b (new), either may be NULL.
 * Reports each file that differs: cb(CMP_WS_ONLY = only in b (added),
 * CMP_TARGET_ONLY = only in a (deleted), CMP_MODIFIED), with the old
 * entry as `te` and the new one in `nw`. Equal subtrees are skipped by id.
 */
typedef int (*tree_cmp_cb)(int ev, const char *path, const struct tree_entry *old,
			   const struct tree_entry *nw, void *data, struct strbuf *err);
int tree_compare(struct odb_thread *t, const struct tree_entry *a, const struct tree_entry *b,
		 const char *path, tree_cmp_cb cb, void *data, struct strbuf *err);

/* The tree entry a pointer stands for (name = path). Free with free(e->name). */
void ptr_to_entry(const struct pointer *p, const char *path, struct tree_entry *e);

/*
 * A dir pointer's size and file count must match its root tree:
 * CAIRN_EFORMAT if not, or the error of reading the tree.
 */
int ptr_check_tree(struct odb_thread *t, const struct pointer *p, const char *what,
		   struct strbuf *err);

struct checkout_opts {
	int force;       /* overwrite/remove local changes that are not stored */
	int dry_run;
	struct progress *progress;
};

struct checkout_result {
	uint64_t written, removed, bytes_written, unchanged;
	int failed_files; /* files that could not be written (messages on stderr) */
};

/*
 * Makes `rel` hold exactly the version pointer `p` names. Refuses
 * (CAIRN_ECONFLICT, listing the paths on stderr) to overwrite or remove a
 * file whose content is not in the store, unless opts->force. Files that
 * cannot be materialised (missing or corrupt data) are reported on stderr
 * one by one and never written; the rest of the checkout goes on and the
 * function then returns CAIRN_ECORRUPT or CAIRN_ENOTFOUND.
 */
int checkout_path(struct repo *r, const char *rel, const struct pointer *p,
		  const struct checkout_opts *opts, struct checkout_result *res, struct strbuf *err);

/*
 * checkout_path() in two halves, so that a caller checking out several
 * paths can check them all before it changes any.
 *
 * checkout_prepare() does every check and changes nothing: no parent of
 * `rel` is a symlink, no local change that is not stored would be lost
 * (unless opts->force), every file to write is in the store. On success
 * *out is the plan (for checkout_apply(), then checkout_plan_free());
 * else the errors of checkout_path() and *out is untouched.
 *
 * checkout_apply() makes the changes planned (with opts->dry_run only
 * counts them), once, showing `progress` (may be NULL); the work tree
 * is the one scanned by checkout_prepare(), so apply soon after.
 */
struct checkout_plan;
int checkout_prepare(struct repo *r, const char *rel, const struct pointer *p,
		     const struct checkout_opts *opts, struct checkout_plan **out, struct strbuf *err);
int checkout_apply(struct checkout_plan *pl, struct progress *progress, struct checkout_result *res,
		   struct strbuf *err);
void checkout_plan_free(struct checkout_plan *pl);

#endif
