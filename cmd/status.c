/*
 * cairn status: which tracked paths differ from their pointer files, and
 * which files inside them.
 */
#include "cmd/builtin.h"
#include "core/checkout.h"
#include "core/content.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct change {
	const char *kind;
	char *path;
};

struct changes {
	struct change *c;
	size_t n, alloc;
};

static int collect(int ev, const char *path, struct wt_node *ws, const struct tree_entry *te,
		   void *data, struct strbuf *err)
{
	struct changes *ch = data;
	const char *kind = NULL;
	switch (ev) {
	case CMP_WS_ONLY: kind = "added"; break;
	case CMP_TARGET_ONLY: kind = "deleted"; break;
	case CMP_MODIFIED: kind = "modified"; break;
	default: return 0;
	}
	ALLOC_GROW(ch->c, ch->n + 1, ch->alloc);
	ch->c[ch->n].kind = kind;
	ch->c[ch->n].path = xstrdup(path);
	ch->n++;
	return 0;
}

static void json_str(struct strbuf *sb, const char *s)
{
	strbuf_add_json_text(sb, s, strlen(s));
}

int cmd_status(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, js = STRBUF_INIT;
	char **ptrs = NULL;
	size_t np = 0, k, clean = 0, shown = 0;
	struct wt_node **saved = NULL;
	size_t nsaved = 0;
	int json = 0, i, ret = 0;
	struct odb_thread t;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("status", "unknown option '%s'", argv[i]);
	}
	if (pointers_from_args(r, argc, argv, &ptrs, &np))
		return 1;
	if (repo_open_store_reading(r, &err)) {
		free_list(ptrs, np);
		error("%s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	odb_thread_init(&t, r->odb);
	saved = xcalloc(np ? np : 1, sizeof(*saved));
	if (json)
		strbuf_addstr(&js, "{\"paths\":[");
	for (k = 0; k < np; k++) {
		struct pointer p;
		struct wt_node *ws = NULL;
		struct changes ch = { NULL, 0, 0 };
		const char *state = "clean";
		char *pabs = repo_abspath(r, ptrs[k]);
		char *rel = xstrndup(ptrs[k], strlen(ptrs[k]) - strlen(POINTER_SUFFIX));
		const char *note = NULL;
		size_t c;

		if (ptr_read(&p, pabs, &err)) {
			ret = error("%s", err.buf);
			free(pabs);
			free(rel);
			continue;
		}
		free(pabs);
		if (ptr_check_tree(&t, &p, rel, &err) && !strstr(err.buf, "is not in the store")) {
			ret = error("%s", err.buf);
			free(rel);
			continue;
		}
		if (wt_scan(r, &t, rel, WT_SCAN_TREES, &ws, &err) || (ws && wt_hash_unknown(r, ws, &err)) ||
		    (ws && ws->mode == MODE_DIR && wt_compute_trees(ws, NULL, NULL, &err))) {
			ret = error("%s", err.buf);
			wt_node_free(ws);
			free(rel);
			continue;
		}
		if (!ws) {
			state = "missing";
		} else if (ws->mode == (p.is_dir ? MODE_DIR : p.mode) && oid_eq(&ws->id, &p.id) &&
			   ws->size == p.size) {
			state = "clean";
		} else {
			struct tree_entry te;
			state = "modified";
			ptr_to_entry(&p, rel, &te);
			if (p.is_dir && ws->mode == MODE_DIR &&
			    wt_compare(&t, ws, &te, rel, collect, &ch, &err)) {
				if (err.len && !strstr(err.buf, "is not in the store"))
					ret = error("%s", err.buf);
				note = "its version is not in the local store, so changed files cannot be listed";
				for (c = 0; c < ch.n; c++)
					free(ch.c[c].path);
				ch.n = 0;
			}
			free(te.name);
		}
		if (!strcmp(state, "clean"))
			clean++;
		if (json) {
			if (shown++)
				strbuf_addch(&js, ',');
			strbuf_addstr(&js, "{\"path\":");
			json_str(&js, rel);
			strbuf_addstr(&js, ",\"pointer\":");
			json_str(&js, ptrs[k]);
			strbuf_addf(&js, ",\"type\":\"%s\",\"state\":\"%s\"", p.is_dir ? "dir" : "file", state);
			if (note)
				strbuf_addstr(&js, ",\"in_store\":false");
			strbuf_addstr(&js, ",\"changes\":[");
			for (c = 0; c < ch.n; c++) {
				strbuf_addf(&js, "%s{\"change\":\"%s\",\"path\":", c ? "," : "", ch.c[c].kind);
				json_str(&js, ch.c[c].path);
				strbuf_addch(&js, '}');
			}
			strbuf_addstr(&js, "]}");
		} else if (strcmp(state, "clean")) {
			struct strbuf q = STRBUF_INIT;
			if (!strcmp(state, "missing"))
				printf("missing:  %s (run 'cairn checkout' to restore it)\n",
				       quote_path(&q, rel));
			else
				printf("modified: %s\n", quote_path(&q, rel));
			if (note)
				printf("    (%s)\n", note);
			for (c = 0; c < ch.n; c++)
				printf("    %-9s %s\n", ch.c[c].kind, quote_path(&q, ch.c[c].path));
			strbuf_release(&q);
		}
		for (c = 0; c < ch.n; c++)
			free(ch.c[c].path);
		free(ch.c);
		free(rel);
		if (ws)
			saved[nsaved++] = ws;
	}
	if (json) {
		strbuf_addstr(&js, "]}\n");
		fwrite(js.buf, 1, js.len, stdout);
	} else if (!ret) {
		if (!np)
			printf("no tracked paths (use 'cairn add PATH')\n");
		else if (clean == np && np == 1)
			printf("the tracked path matches its pointer\n");
		else if (clean == np)
			printf("all %zu tracked paths match their pointers\n", np);
	}
	/* what we hashed stays known next time */
	if (wt_stat_cache_save(r, saved, nsaved, &err))
		warning("%s", err.buf);
	for (k = 0; k < nsaved; k++)
		wt_node_free(saved[k]);
	free(saved);
	odb_thread_release(&t);
	free_list(ptrs, np);
	strbuf_release(&err);
	strbuf_release(&js);
	return ret;
}
