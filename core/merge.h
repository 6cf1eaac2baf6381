#ifndef CAIRN_MERGE_H
#define CAIRN_MERGE_H
/*
 * Three-way merge of versions of a tracked path, for the git merge driver.
 *
 * For each name, with base B, ours O and theirs T (any may be absent):
 * O == T: O; O == B: T; T == B: O; all three directories: merged entry by
 * entry into a new tree (stored); otherwise a conflict on that path.
 * Equal means same mode and id. The trees involved must be in the local
 * store.
 */
#include "core/object.h"
#include "core/odb.h"

struct merge_result {
	char **conflicts; /* paths changed differently on both sides */
	size_t nconflicts, alloc;
};

/*
 * Merges; *out gets the merged entry (name = path) and *present whether
 * the merged version exists at all (both sides may delete it). New trees
 * are stored through batch b. Returns 0 even with conflicts (listed in
 * res); an error code if a tree cannot be read.
 */
int tree_merge3(struct odb_batch *b, struct odb_thread *t, const struct tree_entry *base,
		const struct tree_entry *ours, const struct tree_entry *theirs, const char *path,
		struct tree_entry *out, int *present, struct merge_result *res, struct strbuf *err);
void merge_result_release(struct merge_result *res);

#endif
