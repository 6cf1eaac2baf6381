/*
 * cairn merge-driver: git's merge driver for pointer files (set up by
 * `cairn install`): git calls it as `cairn merge-driver %O %A %B %P` with
 * the base, ours and theirs versions of PATH.cairn; the merged pointer is
 * written to %A. Changes to different files of one dataset merge into a
 * new version with no conflict; a file changed differently on both sides
 * is a conflict (exit 1), named on stderr, and ours is left in place (both
 * versions stay reachable: ours in HEAD, theirs in MERGE_HEAD).
 */
#include "cmd/builtin.h"
#include "core/checkout.h"
#include "core/merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pointer file as git hands it over: empty means absent (e.g. no base). */
static int load(const char *path, struct pointer *p, int *present, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int r = read_file(path, POINTER_MAX_SIZE, &sb, err);
	*present = 0;
	if (!r && sb.len) {
		r = ptr_parse(p, sb.buf, sb.len, path, err);
		*present = !r;
	}
	strbuf_release(&sb);
	return r;
}

int cmd_merge_driver(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	struct pointer pb, po, pt, out;
	int hb, ho, ht, present = 0, ret = 0;
	struct tree_entry eb, eo, et, m;
	struct merge_result res;
	struct odb_batch *b = NULL;
	struct odb_thread t;
	const char *path;
	char *rel;
	size_t i;

	if (argc != 5)
		return usage_error("merge-driver", "git calls it with %%O %%A %%B %%P");
	path = argv[4];
	if (load(argv[1], &pb, &hb, &err) || load(argv[2], &po, &ho, &err) ||
	    load(argv[3], &pt, &ht, &err)) {
		error("cannot merge '%s': %s", path, err.buf);
		strbuf_release(&err);
		return 1;
	}
	rel = xstrndup(path, ends_with(path, POINTER_SUFFIX) ? strlen(path) - strlen(POINTER_SUFFIX)
							  : strlen(path));
	memset(&eb, 0, sizeof(eb));
	memset(&eo, 0, sizeof(eo));
	memset(&et, 0, sizeof(et));
	memset(&res, 0, sizeof(res));
	if (hb)
		ptr_to_entry(&pb, rel, &eb);
	if (ho)
		ptr_to_entry(&po, rel, &eo);
	if (ht)
		ptr_to_entry(&pt, rel, &et);
	if (repo_open_store(r, 0, &err) || odb_batch_begin(r->odb, &b, &err)) {
		ret = error("cannot merge '%s': %s", path, err.buf);
		goto out;
	}
	odb_thread_init(&t, r->odb);
	ret = tree_merge3(b, &t, hb ? &eb : NULL, ho ? &eo : NULL, ht ? &et : NULL, rel, &m, &present,
			  &res, &err);
	odb_thread_release(&t);
	if (ret == CAIRN_ENOTFOUND) {
		odb_batch_abort(b);
		ret = error("cannot merge '%s' (is the data of both sides fetched? cairn fetch --rev MERGE_HEAD): %s",
			    path, err.buf);
		goto out;
	} else if (ret) {
		odb_batch_abort(b);
		ret = error("%s", err.buf);
		goto out;
	}
	if (odb_batch_commit(b, NULL, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	for (i = 0; i < res.nconflicts; i++)
		fprintf(stderr, "CONFLICT (cairn): '%s' was changed differently on both sides\n",
			res.conflicts[i]);
	if (res.nconflicts) {
		ret = 1; /* ours stays in %A */
		goto out;
	}
	if (!present) {
		ret = error("'%s' was deleted on one side and changed on the other", path);
		goto out;
	}
	memset(&out, 0, sizeof(out));
	out.is_dir = m.mode == MODE_DIR;
	out.id = m.id;
	out.sha = m.sha;
	out.size = m.size;
	out.files = out.is_dir ? m.files : 1;
	out.mode = m.mode;
	if (ptr_write(&out, argv[2], &err))
		ret = error("%s", err.buf);
out:
	merge_result_release(&res);
	free(eb.name);
	free(eo.name);
	free(et.name);
	free(rel);
	strbuf_release(&err);
	return ret;
}
