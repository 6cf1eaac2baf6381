/*
 * What push, fetch and pull share: choosing the remote, reading the
 * pointers to transfer, and printing the result.
 */
#include "cmd/common.h"
#include "cmd/builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		} else if (!strcmp(a, "--rev") && i + 1 < argc) {
			tr->rev = argv[++i];
		} else if (!strcmp(a, "--all-commits") && !strcmp(cmd, "push")) {
			tr->all_commits = 1;
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

/*
 * A clone's S3 credentials in a .cairn/config.local that others can read
 * (written before cairn made it 0600, or chmod'ed since): say so, as ssh
 * does of a private key, but go on.
 */
static void warn_readable_secrets(struct repo *r, const char *name)
{
	struct strbuf key = STRBUF_INIT;
	char *path = repo_config_path(r, "local");
	struct stat st;

	strbuf_addf(&key, "remote.%s.secret-access-key", name);
	if (config_get(r->cfg, key.buf) && !stat(path, &st) && (st.st_mode & 077))
		warning("'%s' holds the credentials of remote '%s' and is readable by others "
			"(mode %04o): chmod 600 '%s'",
			path, name, (unsigned)(st.st_mode & 07777), path);
	free(path);
	strbuf_release(&key);
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
	warn_readable_secrets(r, name);
	audit_remote(name, url);
	strbuf_reset(&key);
	strbuf_addf(&key, "remote.%s.jobs", name);
	ret = config_get_int(r->cfg, key.buf, remote_default_jobs(url), &jobs, err);
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

static void add_target(struct transfer *tr, const char *ptrpath, const struct pointer *p)
{
	tr->t = xrealloc(tr->t, (tr->n + 1) * sizeof(*tr->t));
	tr->paths = xrealloc(tr->paths, (tr->n + 1) * sizeof(*tr->paths));
	/* a copy under another name ("data.cairn.v1") is named as it is */
	if (ends_with(ptrpath, POINTER_SUFFIX))
		tr->paths[tr->n] = xstrndup(ptrpath, strlen(ptrpath) - strlen(POINTER_SUFFIX));
	else
		tr->paths[tr->n] = xstrdup(*ptrpath ? ptrpath : "(a blob a ref names)");
	tr->t[tr->n].path = tr->paths[tr->n];
	tr->t[tr->n].ptr = *p;
	tr->n++;
}

struct history_targets {
	struct transfer *tr;
	char **oids, **paths;
};

/* Blob i of history as a target: a pointer by its content, whatever its name. */
static int history_target(size_t i, const char *data, size_t len, void *arg)
{
	struct history_targets *ht = arg;
	struct strbuf what = STRBUF_INIT, err = STRBUF_INIT;
	struct pointer p;
	strbuf_addf(&what, "%s (blob %.12s)", ht->paths[i], ht->oids[i]);
	if (!ptr_parse(&p, data, len, what.buf, &err))
		add_target(ht->tr, ht->paths[i], &p);
	else if (ends_with(ht->paths[i], POINTER_SUFFIX))
		warning("skipping %s: %s", what.buf, err.buf); /* else any small file */
	strbuf_release(&what);
	strbuf_release(&err);
	return 0;
}

int transfer_targets(struct transfer *tr, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, commit = STRBUF_INIT;
	struct git_batch *gb = NULL;
	char **ptrs = NULL;
	size_t np = 0, i;
	int ret = 0;

	if (tr->rev && git_batch_open(&gb, r->top, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (tr->rev) {
		if (git_resolve_commit(r->top, tr->rev, &commit, &err)) {
			ret = error("%s", err.buf);
			goto out;
		}
		if (tr->nargs > 1)
			ret = pointers_from_args(r, tr->nargs, tr->args, &ptrs, &np);
		else if (git_list_pointers_at(r->top, commit.buf, &ptrs, &np, &err))
			ret = error("%s", err.buf);
		for (i = 0; i < np && !ret; i++) {
			struct pointer p;
			if (ptr_read_at(gb, commit.buf, ptrs[i], &p, &err))
				ret = error("%s", err.buf);
			else
				add_target(tr, ptrs[i], &p);
		}
		goto out;
	}
	ret = pointers_from_args(r, tr->nargs, tr->args, &ptrs, &np);
	for (i = 0; i < np && !ret; i++) {
		struct pointer p;
		char *abs = repo_abspath(r, ptrs[i]);
		if (ptr_read(&p, abs, &err))
			ret = error("%s", err.buf);
		else
			add_target(tr, ptrs[i], &p);
		free(abs);
	}
	if (!ret && tr->all_commits) {
		struct history_targets ht;
		size_t n = 0;
		ht.tr = tr;
		ht.oids = ht.paths = NULL;
		if (git_all_pointer_blobs(r->top, &ht.oids, &ht.paths, &n, &err) ||
		    git_read_small_blobs(r->top, ht.oids, n, POINTER_MAX_SIZE, history_target, &ht,
					 &err))
			ret = error("%s", err.buf);
		free_list(ht.oids, n);
		free_list(ht.paths, n);
	}
out:
	free_list(ptrs, np);
	git_batch_close(gb);
	strbuf_release(&err);
	strbuf_release(&commit);
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
	int push = !strcmp(verb, "pushed");
	size_t i;
	for (i = 0; i < tr->n; i++) {
		char h[OID_HEXSZ + 1];
		audit_path(tr->t[i].path, "", oid_to_hex(&tr->t[i].ptr.id, h));
	}
	audit_bytes(0, push ? st->bytes : 0, push ? 0 : st->bytes);
	if (tr->quiet)
		return;
	strbuf_add_human_size(&b, st->bytes);
	remote_url_display(&tr->rem->url, &u);
	printf("%s %llu objects (%s in %llu requests) %s '%s' (%s); %llu already there\n", verb,
	       (unsigned long long)st->objects, b.buf, (unsigned long long)st->requests,
	       !strcmp(verb, "pushed") ? "to" : "from", tr->name, u.buf, (unsigned long long)st->have);
	if (st->taken_back)
		printf("took back %llu packs that gc -r had marked for removal\n",
		       (unsigned long long)st->taken_back);
	strbuf_release(&b);
	strbuf_release(&u);
}
