/*
 * plant-tree POINTER NAME: stands in for a hash collision in the tests.
 * Reads the directory pointer POINTER, stores a copy of its tree in which
 * the entry NAME keeps its id and size (so its chunks verify) but records
 * another SHA-256, and rewrites POINTER to name that tree. Run at the top
 * of a cairn repository. A checkout must refuse the file: its bytes match
 * its XXH3 id but not the SHA-256 the (signed, committed) tree records.
 */
#include "core/object.h"
#include "core/odb.h"
#include "core/pointer.h"
#include "core/repo.h"

#include <stdio.h>
#include <string.h>

int main(int argc, const char **argv)
{
	struct strbuf err = STRBUF_INIT, raw = STRBUF_INIT, enc = STRBUF_INIT;
	struct repo *r = NULL;
	struct pointer p;
	struct tree t;
	struct odb_thread th;
	struct odb_batch *b = NULL;
	size_t i;
	int found = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: plant-tree POINTER NAME\n");
		return 2;
	}
	if (repo_discover(&r, 1, &err) || repo_open_store(r, 0, &err) ||
	    ptr_read(&p, argv[1], &err))
		goto fail;
	if (!p.is_dir) {
		fprintf(stderr, "plant-tree: %s is not a directory pointer\n", argv[1]);
		return 1;
	}
	odb_thread_init(&th, r->odb);
	tree_init(&t);
	if (odb_read(&th, &p.id, OBJ_TREE, &raw, &err) || tree_decode(&t, raw.buf, raw.len, &err))
		goto fail;
	for (i = 0; i < t.n; i++)
		if (!strcmp(t.e[i].name, argv[2])) {
			t.e[i].sha.b[0] ^= 0x80;
			found = 1;
		}
	if (!found) {
		fprintf(stderr, "plant-tree: no entry '%s'\n", argv[2]);
		return 1;
	}
	tree_encode(&t, &enc, &p.id, &p.sha);
	if (odb_batch_begin(r->odb, &b, &err) ||
	    odb_put(b, &th, OBJ_TREE, &p.id, enc.buf, enc.len, 0, NULL, &err) ||
	    odb_batch_commit(b, NULL, &err) || ptr_write(&p, argv[1], &err))
		goto fail;
	tree_release(&t);
	odb_thread_release(&th);
	repo_free(r);
	strbuf_release(&raw);
	strbuf_release(&enc);
	strbuf_release(&err);
	return 0;
fail:
	fprintf(stderr, "plant-tree: %s\n", err.buf);
	return 1;
}
