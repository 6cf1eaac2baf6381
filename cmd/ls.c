/*
 * cairn ls: the files of the version a pointer names.
 */
#include "cmd/builtin.h"
#include "core/checkout.h"
#include "core/content.h"
#include "core/treewalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ls_ctx {
	struct odb_thread *t;
	int json, first;
	size_t rootlen; /* of the listed directory's path and its slash */
	struct strbuf out;
	struct strbuf qbuf; /* scratch for quote_path() */
};

static const char *mode_str(uint32_t mode)
{
	switch (mode) {
	case MODE_EXEC: return "100755";
	case MODE_LINK: return "120000";
	case MODE_DIR: return "040000";
	}
	return "100644";
}

static void emit(struct ls_ctx *c, const struct tree_entry *e, const char *path)
{
	char hex[SHA256_HEXSZ + 1], shex[SHA256_HEXSZ + 1];
	oid_to_hex(&e->id, hex);
	sha256_to_hex(&e->sha, shex);
	if (c->json) {
		strbuf_addstr(&c->out, c->first ? "" : ",");
		strbuf_addf(&c->out, "{\"path\":");
		strbuf_add_json_text(&c->out, path, strlen(path));
		strbuf_addf(&c->out, ",\"mode\":\"%s\",\"size\":%llu,\"id\":\"%s\",\"sha256\":\"%s\"}",
			    mode_str(e->mode), (unsigned long long)e->size, hex, shex);
	} else {
		strbuf_addf(&c->out, "%s %12llu %s  %s\n", mode_str(e->mode),
			    (unsigned long long)e->size, hex, quote_path(&c->qbuf, path));
	}
	c->first = 0;
	if (c->out.len > 65536) {
		fwrite(c->out.buf, 1, c->out.len, stdout);
		strbuf_reset(&c->out);
	}
}

/* Entries are listed relative to the directory; messages name the whole path. */
static int ls_entry(struct tree_walk *w, const struct tree_entry *e, void *data,
		    struct strbuf *err)
{
	struct ls_ctx *c = data;
	if (e->mode != MODE_DIR)
		emit(c, e, w->path.buf + c->rootlen);
	return 0;
}

int cmd_ls(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, data = STRBUF_INIT, ptrp = STRBUF_INIT;
	struct ls_ctx c;
	struct odb_thread t;
	struct pointer p;
	struct tree_entry te;
	const char *arg = NULL;
	char *pabs;
	int i, ret = 0;

	memset(&c, 0, sizeof(c));
	c.first = 1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			c.json = 1;
		else if (!strcmp(argv[i], "-r") || !strcmp(argv[i], "--recursive"))
			; /* listings are always recursive */
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("ls", "unknown option '%s'", argv[i]);
		else if (arg)
			return usage_error("ls", "give one path");
		else
			arg = argv[i];
	}
	if (!arg)
		return usage_error("ls", "give the tracked path or its pointer file");
	if (resolve_tracked(r, arg, &data, &ptrp, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	pabs = repo_abspath(r, ptrp.buf);
	if (ptr_read(&p, pabs, &err)) {
		free(pabs);
		ret = error("%s", err.buf);
		goto out;
	}
	free(pabs);
	if (repo_open_store(r, 1, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	odb_thread_init(&t, r->odb);
	c.t = &t;
	strbuf_init(&c.out, 0);
	strbuf_init(&c.qbuf, 0);
	ptr_to_entry(&p, data.buf, &te);
	if (c.json)
		strbuf_addstr(&c.out, "{\"entries\":[");
	if (p.is_dir) {
		static const struct tree_walk_ops ops = { ls_entry, NULL, NULL };
		c.rootlen = data.len ? data.len + 1 : 0;
		ret = tree_walk(&t, &te, data.buf, 1, &ops, &c, &err);
	} else {
		const char *slash = strrchr(data.buf, '/');
		emit(&c, &te, slash ? slash + 1 : data.buf);
	}
	if (c.json)
		strbuf_addf(&c.out, "],\"type\":\"%s\",\"size\":%llu,\"file_count\":%llu}\n",
			    p.is_dir ? "dir" : "file", (unsigned long long)p.size,
			    (unsigned long long)p.files);
	if (ret)
		ret = error("%s", err.buf);
	else
		fwrite(c.out.buf, 1, c.out.len, stdout);
	free(te.name);
	strbuf_release(&c.out);
	strbuf_release(&c.qbuf);
	odb_thread_release(&t);
out:
	strbuf_release(&err);
	strbuf_release(&data);
	strbuf_release(&ptrp);
	return ret;
}
