/*
 * cairn remote: add, list, remove, rename remotes and choose the default.
 * Remotes live in .cairn/config (shared through git) unless --local puts
 * them in .cairn/config.local.
 */
#include "cmd/builtin.h"
#include "remote/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_ok(const char *n)
{
	size_t i;
	if (!*n || strlen(n) > 64)
		return 0;
	for (i = 0; n[i]; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || n[i] == '-' || n[i] == '_'))
			return 0;
	return 1;
}

struct list_ctx {
	struct repo *r;
	int verbose;
	const char *def;
	int count;
};

static int list_one(const char *key, const char *value, const char *file, void *data)
{
	struct list_ctx *c = data;
	size_t n = strlen(key);
	if (!starts_with(key, "remote.") || n < 12 || strcmp(key + n - 4, ".url"))
		return 0;
	{
		char *name = xstrndup(key + 7, n - 11);
		const char *mark = c->def && !strcmp(c->def, name) ? " (default)" : "";
		if (c->verbose) {
			struct remote_url u;
			struct strbuf shown = STRBUF_INIT, err = STRBUF_INIT;
			if (!remote_url_parse(&u, value, c->r->top, &err)) {
				remote_url_display(&u, &shown);
				remote_url_release(&u);
			} else {
				strbuf_addf(&shown, "(bad URL: %s)", err.buf);
			}
			printf("%s\t%s%s\n", name, shown.buf, mark);
			strbuf_release(&shown);
			strbuf_release(&err);
		} else {
			printf("%s%s\n", name, mark);
		}
		c->count++;
		free(name);
	}
	return 0;
}

/* Where a file names `old` as the default remote, name `new` (NULL: none). */
static int fix_default(struct repo *r, const char *old, const char *new, struct strbuf *err)
{
	const char *which[2] = { "repo", "local" };
	int i, ret = 0;
	for (i = 0; i < 2 && !ret; i++) {
		char *path = repo_config_path(r, which[i]);
		const char *files[1] = { path };
		struct config *one = NULL;
		if (!config_load(&one, files, 1, err)) {
			const char *d = config_get(one, "core.remote");
			if (d && !strcmp(d, old))
				ret = config_set(path, "core.remote", new, err);
		}
		config_free(one);
		free(path);
	}
	return ret;
}

static int remote_exists(struct repo *r, const char *name)
{
	char *key = xstrfmt("remote.%s.url", name);
	int has = config_get(r->cfg, key) != NULL;
	free(key);
	return has;
}

int cmd_remote(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	const char *sub = argc > 1 ? argv[1] : "list";
	const char *which = "repo";
	const char *pos[3] = { NULL, NULL, NULL };
	int npos = 0, def = 0, verbose = 0, i, ret = 0;
	char *path, *key;

	for (i = argc > 1 ? 2 : 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-d") || !strcmp(a, "--default"))
			def = 1;
		else if (!strcmp(a, "--local"))
			which = "local";
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			verbose = 1;
		else if (a[0] == '-' && a[1])
			return usage_error("remote", "unknown option '%s'", a);
		else if (npos < 3)
			pos[npos++] = a;
		else
			return usage_error("remote", "too many arguments");
	}
	path = repo_config_path(r, which);
	if (!strcmp(sub, "list") || !strcmp(sub, "-v")) {
		struct list_ctx c = { r, verbose || !strcmp(sub, "-v"), config_get(r->cfg, "core.remote"), 0 };
		config_foreach(r->cfg, list_one, &c);
	} else if (!strcmp(sub, "add")) {
		struct remote_url u;
		if (npos != 2) {
			free(path);
			return usage_error("remote", "remote add wants NAME URL");
		}
		audit_remote(pos[0], pos[1]);
		if (!name_ok(pos[0]))
			ret = error("bad remote name '%s' (letters, digits, '-' and '_')", pos[0]);
		else if (remote_exists(r, pos[0]))
			ret = error("remote '%s' exists already", pos[0]);
		else if (remote_url_parse(&u, pos[1], r->top, &err))
			ret = error("%s", err.buf);
		else {
			remote_url_release(&u);
			key = xstrfmt("remote.%s.url", pos[0]);
			if (config_set(path, key, pos[1], &err))
				ret = error("%s", err.buf);
			free(key);
			if (!ret && (def || !config_get(r->cfg, "core.remote")) &&
			    config_set(path, "core.remote", pos[0], &err))
				ret = error("%s", err.buf);
		}
	} else if (!strcmp(sub, "remove") || !strcmp(sub, "rm")) {
		if (npos != 1) {
			free(path);
			return usage_error("remote", "remote remove wants NAME");
		}
		key = xstrfmt("remote.%s", pos[0]);
		if (config_remove_section(path, key, &err) == CAIRN_ENOTFOUND) {
			char *other = repo_config_path(r, !strcmp(which, "repo") ? "local" : "repo");
			if (config_remove_section(other, key, &err))
				ret = error("no remote named '%s'", pos[0]);
			free(other);
		}
		free(key);
		if (!ret && fix_default(r, pos[0], NULL, &err))
			ret = error("%s", err.buf);
	} else if (!strcmp(sub, "rename")) {
		char *oldk, *newk;
		if (npos != 2) {
			free(path);
			return usage_error("remote", "remote rename wants OLD NEW");
		}
		if (!name_ok(pos[1])) {
			free(path);
			return error("bad remote name '%s'", pos[1]);
		}
		if (remote_exists(r, pos[1])) {
			free(path);
			return error("remote '%s' exists already", pos[1]);
		}
		oldk = xstrfmt("remote.%s", pos[0]);
		newk = xstrfmt("remote.%s", pos[1]);
		ret = config_rename_section(path, oldk, newk, &err);
		if (ret == CAIRN_ENOTFOUND) {
			char *other = repo_config_path(r, !strcmp(which, "repo") ? "local" : "repo");
			ret = config_rename_section(other, oldk, newk, &err);
			free(other);
		}
		if (ret)
			ret = error(ret == CAIRN_ENOTFOUND ? "no remote named '%s'" : "cannot rename remote '%s'",
				    pos[0]);
		else if (fix_default(r, pos[0], pos[1], &err))
			ret = error("%s", err.buf);
		free(oldk);
		free(newk);
	} else if (!strcmp(sub, "default")) {
		if (npos == 0) {
			const char *d = config_get(r->cfg, "core.remote");
			if (d)
				printf("%s\n", d);
			else
				ret = 1;
		} else if (npos != 1) {
			ret = usage_error("remote", "remote default wants at most one NAME");
		} else if (!remote_exists(r, pos[0])) {
			ret = error("no remote named '%s'", pos[0]);
		} else if (config_set(path, "core.remote", pos[0], &err)) {
			ret = error("%s", err.buf);
		}
	} else {
		ret = usage_error("remote", "unknown subcommand '%s'", sub);
	}
	free(path);
	strbuf_release(&err);
	return ret;
}
