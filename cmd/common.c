/*
 * What push, fetch and pull share: choosing the remote, reading the
 * pointers to transfer, and printing the result.
 */
#include "cmd/common.h"
#include "cmd/builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int transfer_parse(struct transfer *tr, const char *cmd, int argc, const char **argv)
{
	int i;
	memset(tr, 0, sizeof(*tr));
	tr->args = xcalloc((size_t)argc + 1, sizeof(*tr->args));
	tr->args[tr->nargs++] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-r") || !strcmp(a, "--remote")) && i + 1 < argc) {
			tr->remote = argv[++i];
		} else if ((!strcmp(a, "-j") || !strcmp(a, "--jobs")) && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 256) {
				free(tr->args);
				tr->args = NULL;
				return usage_error(cmd, "--jobs wants a number from 1 to 256");
			}
			tr->jobs = (int)v;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			tr->quiet = 1;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
			tr->force = 1;
		} else if (a[0] == '-' && a[1]) {
			free(tr->args);
			tr->args = NULL;
			return usage_error(cmd, "unknown option '%s'", a);
		} else {
			tr->args[tr->nargs++] = a;
		}
	}
	return 0;
}

int transfer_open(struct transfer *tr, struct repo *r, struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT;
	const char *name = tr->remote, *url;
	int64_t jobs;
	int ret;

	if (!name)
		name = config_get(r->cfg, "core.remote");
	if (!name)
		return cerr(err, CAIRN_EINVAL,
			    "no remote given and no default set (cairn remote add -d NAME URL, or -r NAME)");
	strbuf_addf(&key, "remote.%s.url", name);
	url = config_get(r->cfg, key.buf);
	if (!url) {
		ret = cerr(err, CAIRN_ENOTFOUND, "no remote named '%s' (see 'cairn remote list')", name);
		strbuf_release(&key);
		return ret;
	}
	tr->name = xstrdup(name);
	tr->url = xstrdup(url);
	strbuf_reset(&key);
	strbuf_addf(&key, "remote.%s.jobs", name);
	ret = config_get_int(r->cfg, key.buf, 4, &jobs, err);
	strbuf_release(&key);
	if (ret)
		return ret;
	if (!tr->jobs)
		tr->jobs = jobs < 1 ? 1 : jobs > 256 ? 256 : (int)jobs;
	ret = repo_open_store(r, 0, err);
	if (!ret)
		ret = remote_open_url(&tr->rem, tr->url, r->top, r->cfg, name, err);
	return ret;
}

int transfer_targets(struct transfer *tr, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	char **ptrs;
	size_t np, i;
	int ret = pointers_from_args(r, tr->nargs, tr->args, &ptrs, &np);
	if (ret)
		return ret;
	tr->t = xcalloc(np + 1, sizeof(*tr->t));
	tr->paths = xcalloc(np + 1, sizeof(*tr->paths));
	for (i = 0; i < np; i++) {
		char *abs = repo_abspath(r, ptrs[i]);
		if (ptr_read(&tr->t[tr->n].ptr, abs, &err)) {
			ret = error("%s", err.buf);
		} else {
			tr->paths[tr->n] = xstrndup(ptrs[i], strlen(ptrs[i]) - strlen(POINTER_SUFFIX));
			tr->t[tr->n].path = tr->paths[tr->n];
			tr->n++;
		}
		free(abs);
	}
	free_list(ptrs, np);
	strbuf_release(&err);
	return ret;
}

void transfer_release(struct transfer *tr)
{
	size_t i;
	remote_close(tr->rem);
	for (i = 0; i < tr->n; i++)
		free(tr->paths[i]);
	free(tr->paths);
	free(tr->t);
	free(tr->args);
	free(tr->name);
	free(tr->url);
	memset(tr, 0, sizeof(*tr));
}

void transfer_report(const struct transfer *tr, const char *verb, const struct sync_stats *st)
{
	struct strbuf b = STRBUF_INIT, u = STRBUF_INIT;
	if (tr->quiet)
		return;
	strbuf_add_human_size(&b, st->bytes);
	remote_url_display(&tr->rem->url, &u);
	printf("%s %llu objects (%s in %llu requests) %s '%s' (%s); %llu already there\n", verb,
	       (unsigned long long)st->objects, b.buf, (unsigned long long)st->requests,
	       !strcmp(verb, "pushed") ? "to" : "from", tr->name, u.buf, (unsigned long long)st->have);
	strbuf_release(&b);
	strbuf_release(&u);
}
