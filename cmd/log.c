/*
 * cairn log: every commit that changed a tracked path's pointer, newest
 * first, with the version it names and what changed against its first
 * parent (a merge too, as `git log --diff-merges=first-parent`).
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "core/checkout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct counts {
	uint64_t added, deleted, modified;
};

static int count_change(int ev, const char *path, const struct tree_entry *old,
			const struct tree_entry *nw, void *data, struct strbuf *err)
{
	struct counts *c = data;
	if (ev == CMP_WS_ONLY)
		c->added++;
	else if (ev == CMP_TARGET_ONLY)
		c->deleted++;
	else
		c->modified++;
	return 0;
}

struct entry {
	char *commit, *parent, *author, *date, *subject; /* parent: the first, or "" */
	int present;
	struct pointer ptr;
};

int cmd_log(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, data = STRBUF_INIT, ptrp = STRBUF_INIT, out = STRBUF_INIT,
		      js = STRBUF_INIT, q = STRBUF_INIT;
	const char *arg = NULL, *gitargv[8];
	struct git_batch *gb = NULL;
	struct entry *e = NULL;
	size_t n = 0, alloc = 0, pos = 0, i;
	struct odb_thread t;
	int json = 0, ret = 0, k, have_store;
	long max = -1;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			json = 1;
		else if ((!strcmp(argv[k], "-n") || !strcmp(argv[k], "--max-count")) && k + 1 < argc)
			max = strtol(argv[++k], NULL, 10);
		else if (argv[k][0] == '-' && argv[k][1])
			return usage_error("log", "unknown option '%s'", argv[k]);
		else if (arg)
			return usage_error("log", "give one tracked path");
		else
			arg = argv[k];
	}
	if (!arg)
		return usage_error("log", "give the tracked path (or its pointer file)");
	if (resolve_tracked(r, arg, &data, &ptrp, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	gitargv[0] = "git";
	gitargv[1] = "log";
	gitargv[2] = "--format=%H%x1f%P%x1f%an <%ae>%x1f%aI%x1f%s%x1e";
	gitargv[3] = "--";
	gitargv[4] = ptrp.buf;
	gitargv[5] = NULL;
	if (run_capture(gitargv, r->top, (size_t)1 << 30, &out, &err)) {
		ret = error("cannot read the history of '%s': %s", ptrp.buf, err.buf);
		goto out;
	}
	if (git_batch_open(&gb, r->top, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	while (pos < out.len) {
		char *rec = out.buf + pos, *end = memchr(rec, '\x1e', out.len - pos), *f[5];
		size_t len = end ? (size_t)(end - rec) : out.len - pos;
		int nf = 0;
		pos += len + 1;
		while (len && (*rec == '\n')) {
			rec++;
			len--;
		}
		if (!len)
			continue;
		rec[len] = '\0';
		f[nf++] = rec;
		for (i = 0; i < len && nf < 5; i++) {
			if (rec[i] == '\x1f') {
				rec[i] = '\0';
				f[nf++] = rec + i + 1;
			}
		}
		if (nf < 5)
			continue;
		ALLOC_GROW(e, n + 1, alloc);
		memset(&e[n], 0, sizeof(e[n]));
		e[n].commit = xstrdup(f[0]);
		e[n].parent = xstrndup(f[1], strcspn(f[1], " "));
		e[n].author = xstrdup(f[2]);
		e[n].date = xstrdup(f[3]);
		e[n].subject = xstrdup(f[4]);
		e[n].present = !ptr_read_at(gb, e[n].commit, ptrp.buf, &e[n].ptr, &err);
		n++;
	}
	have_store = !repo_open_store(r, 1, &err);
	if (have_store)
		odb_thread_init(&t, r->odb);
	if (!n && !json)
		printf("no commit changed %s\n", quote_path_sq(&q, ptrp.buf));
	if (json)
		strbuf_addstr(&js, "{\"path\":");
	if (json) {
		strbuf_add_json_text(&js, data.buf, data.len);
		strbuf_addstr(&js, ",\"commits\":[");
	}
	for (i = 0; i < n && (max < 0 || (long)i < max); i++) {
		struct counts c = { 0, 0, 0 };
		int known = 0;
		char hex[OID_HEXSZ + 1];
		/* against the first parent, whose pointer is the next older
		 * entry's on a straight line, and read again where the history
		 * branched (the next entry listed is then another line's) */
		if (have_store) {
			struct tree_entry a, b;
			struct pointer pp;
			int has_a = 0, has_b = e[i].present;
			if (i + 1 < n && !strcmp(e[i].parent, e[i + 1].commit)) {
				has_a = e[i + 1].present;
				pp = e[i + 1].ptr;
			} else if (e[i].parent[0]) {
				has_a = !ptr_read_at(gb, e[i].parent, ptrp.buf, &pp, &err);
				strbuf_reset(&err); /* not there: everything was added */
			}
			memset(&a, 0, sizeof(a));
			memset(&b, 0, sizeof(b));
			if (has_a)
				ptr_to_entry(&pp, data.buf, &a);
			if (has_b)
				ptr_to_entry(&e[i].ptr, data.buf, &b);
			known = !tree_compare(&t, has_a ? &a : NULL, has_b ? &b : NULL, data.buf,
					      count_change, &c, &err);
			free(a.name);
			free(b.name);
		}
		if (json) {
			strbuf_addstr(&js, i ? "," : "");
			strbuf_addf(&js, "{\"commit\":\"%s\",\"author\":", e[i].commit);
			strbuf_add_json_text(&js, e[i].author, strlen(e[i].author));
			strbuf_addf(&js, ",\"date\":\"%s\",\"message\":", e[i].date);
			strbuf_add_json_text(&js, e[i].subject, strlen(e[i].subject));
			if (e[i].present)
				strbuf_addf(&js, ",\"id\":\"%s\",\"size\":%llu,\"files\":%llu",
					    oid_to_hex(&e[i].ptr.id, hex), (unsigned long long)e[i].ptr.size,
					    (unsigned long long)e[i].ptr.files);
			else
				strbuf_addstr(&js, ",\"deleted\":true");
			if (known)
				strbuf_addf(&js, ",\"added\":%llu,\"deleted_files\":%llu,\"modified\":%llu",
					    (unsigned long long)c.added, (unsigned long long)c.deleted,
					    (unsigned long long)c.modified);
			strbuf_addch(&js, '}');
		} else {
			struct strbuf sz = STRBUF_INIT;
			printf("commit %s\nAuthor: %s\nDate:   %s\n\n    %s\n\n", e[i].commit, e[i].author,
			       e[i].date, e[i].subject);
			quote_path(&q, data.buf);
			if (e[i].present) {
				strbuf_add_human_size(&sz, e[i].ptr.size);
				printf("    %s %s  %s, %llu file%s", q.buf, oid_to_hex(&e[i].ptr.id, hex),
				       sz.buf, (unsigned long long)e[i].ptr.files, e[i].ptr.files == 1 ? "" : "s");
			} else {
				printf("    %s deleted", q.buf);
			}
			if (known)
				printf("  (+%llu -%llu ~%llu)\n\n", (unsigned long long)c.added,
				       (unsigned long long)c.deleted, (unsigned long long)c.modified);
			else
				printf("  (changes unknown: version not in the local store)\n\n");
			strbuf_release(&sz);
		}
	}
	if (json) {
		strbuf_addstr(&js, "]}\n");
		fwrite(js.buf, 1, js.len, stdout);
	}
	if (have_store)
		odb_thread_release(&t);
out:
	for (i = 0; i < n; i++) {
		free(e[i].commit);
		free(e[i].parent);
		free(e[i].author);
		free(e[i].date);
		free(e[i].subject);
	}
	free(e);
	git_batch_close(gb);
	strbuf_release(&err);
	strbuf_release(&data);
	strbuf_release(&ptrp);
	strbuf_release(&out);
	strbuf_release(&js);
	strbuf_release(&q);
	return ret;
}
