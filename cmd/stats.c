/*
 * cairn stats: what the store holds.
 */
#include "cmd/builtin.h"
#include "core/pointer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_stats(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	struct odb_totals tot;
	struct odb_thread t;
	char **ptrs = NULL;
	size_t np = 0, k;
	uint64_t logical = 0, unique, stored, chunk_stored, ibytes = 0, ifree = 0;
	int json = 0, i, ret = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return usage_error("stats", "unknown argument '%s'", argv[i]);
	}
	if (repo_open_store(r, 1, &err)) {
		error("%s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	odb_thread_init(&t, r->odb);
	if (odb_totals(&t, &tot, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (idx_space(r->odb->idx, &ibytes, &ifree, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	list_pointers(r, &ptrs, &np);
	for (k = 0; k < np; k++) {
		struct pointer p;
		char *abs = repo_abspath(r, ptrs[k]);
		if (!ptr_read(&p, abs, NULL))
			logical += p.size;
		free(abs);
	}
	unique = tot.raw_bytes[OBJ_CHUNK];
	chunk_stored = tot.stored_bytes[OBJ_CHUNK];
	stored = tot.pack_bytes;
	if (json) {
		printf("{\"chunks\":%llu,\"manifests\":%llu,\"trees\":%llu,\"packs\":%llu,"
		       "\"logical_bytes\":%llu,\"unique_bytes\":%llu,\"chunk_stored_bytes\":%llu,"
		       "\"stored_bytes\":%llu,\"index_bytes\":%llu,\"index_free_bytes\":%llu,"
		       "\"tracked_paths\":%zu,"
		       "\"dedup_ratio\":%.4f,\"compression_ratio\":%.4f,\"total_ratio\":%.4f}\n",
		       (unsigned long long)tot.objects[OBJ_CHUNK],
		       (unsigned long long)tot.objects[OBJ_MANIFEST],
		       (unsigned long long)tot.objects[OBJ_TREE], (unsigned long long)tot.packs,
		       (unsigned long long)logical, (unsigned long long)unique,
		       (unsigned long long)chunk_stored, (unsigned long long)stored,
		       (unsigned long long)ibytes, (unsigned long long)ifree, np,
		       unique ? (double)logical / (double)unique : 0.0,
		       chunk_stored ? (double)unique / (double)chunk_stored : 0.0,
		       stored ? (double)logical / (double)stored : 0.0);
	} else {
		struct strbuf a = STRBUF_INIT;
		printf("tracked paths:      %zu\n", np);
		strbuf_add_human_size(&a, logical);
		printf("logical bytes:      %llu (%s, the current pointers' data)\n",
		       (unsigned long long)logical, a.buf);
		strbuf_reset(&a);
		strbuf_add_human_size(&a, unique);
		printf("unique bytes:       %llu (%s in %llu chunks)\n", (unsigned long long)unique, a.buf,
		       (unsigned long long)tot.objects[OBJ_CHUNK]);
		strbuf_reset(&a);
		strbuf_add_human_size(&a, stored);
		printf("stored bytes:       %llu (%s in %llu packs)\n", (unsigned long long)stored, a.buf,
		       (unsigned long long)tot.packs);
		strbuf_reset(&a);
		strbuf_add_human_size(&a, ibytes);
		printf("index bytes:        %llu (%s, %llu%% of it free pages)\n", (unsigned long long)ibytes,
		       a.buf, (unsigned long long)(ibytes ? ifree * 100 / ibytes : 0));
		printf("manifests, trees:   %llu, %llu\n", (unsigned long long)tot.objects[OBJ_MANIFEST],
		       (unsigned long long)tot.objects[OBJ_TREE]);
		if (unique && chunk_stored)
			printf("dedup ratio:        %.2fx\ncompression ratio:  %.2fx\n",
			       (double)logical / (double)unique, (double)unique / (double)chunk_stored);
		strbuf_release(&a);
	}
out:
	free_list(ptrs, np);
	odb_thread_release(&t);
	strbuf_release(&err);
	return ret;
}
