/*
 * cairn diff: which files changed between two versions of tracked data:
 * the pointers and the work tree (no revision), a revision and the work
 * tree (one), two revisions (two), or two pointer files.
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "core/checkout.h"
#include "core/content.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct change {
	char kind; /* 'A', 'D', 'M' */
	char *path;
	uint64_t old_size, new_size;
};

struct changes {
	struct change *v;
	size_t n, alloc;
};

static void add_change(struct changes *c, char kind, const char *path, uint64_t os, uint64_t ns)
{
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	c->v[c->n].kind = kind;
	c->v[c->n].path = xstrdup(path);
	c->v[c->n].old_size = os;
	c->v[c->n].new_size = ns;
	c->n++;
}

static int from_trees(int ev, const char *path, const struct tree_entry *old,
		      const struct tree_entry *nw, void *data, struct strbuf *err)
{
	struct changes *c = data;
	if (ev == CMP_WS_ONLY)
		add_change(c, 'A', path, 0, nw->size);
	else if (ev == CMP_TARGET_ONLY)
		add_change(c, 'D', path, old->size, 0);
	else
		add_change(c, 'M', path, old->size, nw->size);
	return 0;
}

static int from_worktree(int ev, const char *path, struct wt_node *ws, const struct tree_entry *te,
			 void *data, struct strbuf *err)
{
	struct changes *c = data;
	if (ev == CMP_WS_ONLY)
		add_change(c, 'A', path, 0, ws->size);
	else if (ev == CMP_TARGET_ONLY)
		add_change(c, 'D', path, te->size, 0);
	else if (ev == CMP_MODIFIED)
		add_change(c, 'M', path, te->size, ws->size);
	return 0;
}

static int is_pointer_file(const char *arg)
{
	struct stat st;
	return ends_with(arg, POINTER_SUFFIX) && !stat(arg, &st) && S_ISREG(st.st_mode);
}

struct side {
	int present;
	struct pointer ptr;
};

int cmd_diff(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, revs[2] = { STRBUF_INIT, STRBUF_INIT }, js = STRBUF_INIT;
	const char **paths = xcalloc((size_t)argc + 1, sizeof(*paths));
	int npaths = 1, nrev = 0, json = 0, stat_only = 0, i, ret = 0, dashdash = 0, two_files = 0;
	struct git_batch *gb = NULL;
	struct odb_thread t;
	char **ptrs = NULL;
	size_t np = 0, k, shown = 0;
	uint64_t tot_add = 0, tot_del = 0, tot_mod = 0;

	paths[0] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!dashdash && !strcmp(a, "--json"))
			json = 1;
		else if (!dashdash && !strcmp(a, "--stat"))
			stat_only = 1;
		else if (!dashdash && !strcmp(a, "--"))
			dashdash = 1;
		else if (!dashdash && a[0] == '-' && a[1]) {
			free(paths);
			return usage_error("diff", "unknown option '%s'", a);
		} else if (!dashdash && npaths == 1 && nrev < 2 && !is_pointer_file(a) &&
			   !git_resolve_commit(r->top, a, &revs[nrev], NULL)) {
			nrev++;
		} else {
			paths[npaths++] = a;
		}
	}
	if (!nrev && npaths == 3 && is_pointer_file(paths[1]) && is_pointer_file(paths[2]))
		two_files = 1;
	if (repo_open_store(r, 1, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	odb_thread_init(&t, r->odb);
	if (nrev && git_batch_open(&gb, r->top, &err)) {
		ret = error("%s", err.buf);
		goto out_t;
	}
	if (two_files) {
		ptrs = xcalloc(1, sizeof(*ptrs));
		ptrs[0] = xstrdup(paths[1]);
		np = 1;
	} else if (pointers_from_args(r, npaths, paths, &ptrs, &np)) {
		ret = 1;
		goto out_t;
	}
	if (json)
		strbuf_addstr(&js, "{\"paths\":[");
	for (k = 0; k < np; k++) {
		struct side a = { 0 }, b = { 0 };
		struct changes ch = { NULL, 0, 0 };
		const char *pk = two_files ? paths[1] : ptrs[k];
		char *rel = xstrndup(pk, strlen(pk) - strlen(POINTER_SUFFIX));
		struct tree_entry ea, eb;
		uint64_t add = 0, del = 0, mod = 0, plus = 0, minus = 0;
		size_t c;
		int r2 = 0;

		memset(&ea, 0, sizeof(ea));
		memset(&eb, 0, sizeof(eb));
		if (two_files) {
			a.present = !ptr_read(&a.ptr, paths[1], &err);
			b.present = a.present && !ptr_read(&b.ptr, paths[2], &err);
			if (!b.present)
				r2 = CAIRN_EFORMAT;
		} else if (nrev) {
			r2 = ptr_read_at(gb, revs[0].buf, ptrs[k], &a.ptr, &err);
			a.present = !r2;
			if (r2 == CAIRN_ENOTFOUND)
				r2 = 0;
			if (!r2 && nrev == 2) {
				r2 = ptr_read_at(gb, revs[1].buf, ptrs[k], &b.ptr, &err);
				b.present = !r2;
				if (r2 == CAIRN_ENOTFOUND)
					r2 = 0;
				if (!r2 && !a.present && !b.present)
					r2 = cerr(&err, CAIRN_ENOTFOUND, "'%s' exists at neither revision", ptrs[k]);
			}
		} else {
			char *abs = repo_abspath(r, ptrs[k]);
			r2 = ptr_read(&a.ptr, abs, &err);
			a.present = !r2;
			free(abs);
		}
		if (!r2) {
			if (a.present)
				ptr_to_entry(&a.ptr, rel, &ea);
			if (b.present)
				ptr_to_entry(&b.ptr, rel, &eb);
			if (nrev == 2 || two_files) {
				r2 = tree_compare(&t, a.present ? &ea : NULL, b.present ? &eb : NULL, rel,
						  from_trees, &ch, &err);
			} else {
				struct wt_node *ws = NULL;
				r2 = wt_scan(r, &t, rel, WT_SCAN_TREES, &ws, &err);
				if (!r2 && ws)
					r2 = wt_hash_unknown(r, ws, &err);
				if (!r2 && ws && ws->mode == MODE_DIR)
					r2 = wt_compute_trees(ws, NULL, NULL, &err);
				if (!r2 && a.present)
					r2 = wt_compare(&t, ws, &ea, rel, from_worktree, &ch, &err);
				else if (!r2)
					r2 = cerr(&err, CAIRN_ENOTFOUND, "'%s' does not exist at %s", ptrs[k],
						  revs[0].buf);
				wt_node_free(ws);
			}
			if (r2 == CAIRN_ENOTFOUND && strstr(err.buf, "is not in the store"))
				cerr_wrap(&err, r2, "the data of '%s' is not all in the local store (cairn fetch%s%s)",
					  rel, nrev ? " --rev " : "", nrev ? (nrev == 2 ? "REV" : revs[0].buf) : "");
		}
		free(ea.name);
		free(eb.name);
		if (r2) {
			ret = error("%s", err.buf);
			free(rel);
			for (c = 0; c < ch.n; c++)
				free(ch.v[c].path);
			free(ch.v);
			continue;
		}
		for (c = 0; c < ch.n; c++) {
			struct change *x = &ch.v[c];
			if (x->kind == 'A')
				add++, plus += x->new_size;
			else if (x->kind == 'D')
				del++, minus += x->old_size;
			else {
				mod++;
				if (x->new_size > x->old_size)
					plus += x->new_size - x->old_size;
				else
					minus += x->old_size - x->new_size;
			}
		}
		tot_add += add;
		tot_del += del;
		tot_mod += mod;
		if (json) {
			strbuf_addstr(&js, shown++ ? "," : "");
			strbuf_addstr(&js, "{\"path\":");
			strbuf_add_json_text(&js, rel, strlen(rel));
			strbuf_addf(&js, ",\"added\":%llu,\"deleted\":%llu,\"modified\":%llu,"
					 "\"bytes_added\":%llu,\"bytes_removed\":%llu,\"changes\":[",
				    (unsigned long long)add, (unsigned long long)del, (unsigned long long)mod,
				    (unsigned long long)plus, (unsigned long long)minus);
			for (c = 0; c < ch.n; c++) {
				const char *kind = ch.v[c].kind == 'A' ? "added" : ch.v[c].kind == 'D' ? "deleted" : "modified";
				strbuf_addf(&js, "%s{\"change\":\"%s\",\"path\":", c ? "," : "", kind);
				strbuf_add_json_text(&js, ch.v[c].path, strlen(ch.v[c].path));
				strbuf_addf(&js, ",\"old_size\":%llu,\"new_size\":%llu}",
					    (unsigned long long)ch.v[c].old_size, (unsigned long long)ch.v[c].new_size);
			}
			strbuf_addstr(&js, "]}");
		} else if (ch.n) {
			struct strbuf p = STRBUF_INIT, m = STRBUF_INIT;
			strbuf_add_human_size(&p, plus);
			strbuf_add_human_size(&m, minus);
			struct strbuf q = STRBUF_INIT;
			if (!stat_only) {
				for (c = 0; c < ch.n; c++) {
					struct strbuf o = STRBUF_INIT, n2 = STRBUF_INIT;
					strbuf_add_human_size(&o, ch.v[c].old_size);
					strbuf_add_human_size(&n2, ch.v[c].new_size);
					quote_path(&q, ch.v[c].path);
					if (ch.v[c].kind == 'M')
						printf("M  %s  (%s -> %s)\n", q.buf, o.buf, n2.buf);
					else
						printf("%c  %s  (%s)\n", ch.v[c].kind, q.buf,
						       ch.v[c].kind == 'A' ? n2.buf : o.buf);
					strbuf_release(&o);
					strbuf_release(&n2);
				}
			}
			printf("%s: %llu added, %llu deleted, %llu modified (+%s, -%s)\n", quote_path(&q, rel),
			       (unsigned long long)add, (unsigned long long)del, (unsigned long long)mod,
			       p.buf, m.buf);
			strbuf_release(&p);
			strbuf_release(&m);
			strbuf_release(&q);
		}
		for (c = 0; c < ch.n; c++)
			free(ch.v[c].path);
		free(ch.v);
		free(rel);
	}
	if (json) {
		strbuf_addf(&js, "],\"added\":%llu,\"deleted\":%llu,\"modified\":%llu}\n",
			    (unsigned long long)tot_add, (unsigned long long)tot_del,
			    (unsigned long long)tot_mod);
		fwrite(js.buf, 1, js.len, stdout);
	}
out_t:
	odb_thread_release(&t);
out:
	git_batch_close(gb);
	free_list(ptrs, np);
	free(paths);
	strbuf_release(&err);
	strbuf_release(&revs[0]);
	strbuf_release(&revs[1]);
	strbuf_release(&js);
	return ret;
}
