/*
 * cairn checkout: make tracked paths match the versions their pointer
 * files name.
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "core/checkout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Applies a checkout plan for tracked path rel, and says what it did. */
static int apply_one(struct checkout_plan *pl, const char *rel, const struct pointer *p, int dry_run,
		     int quiet)
{
	struct strbuf err = STRBUF_INIT, q = STRBUF_INIT;
	struct checkout_result res;
	struct progress *pr = progress_start("Checking out", 0, p->size, !quiet && progress_default());
	int ret = checkout_apply(pl, pr, &res, &err);
	progress_stop(pr);
	if (ret) {
		ret = error("%s", err.buf);
	} else {
		if (res.written || res.removed) {
			char nh[OID_HEXSZ + 1];
			audit_path(rel, "", oid_to_hex(&p->id, nh));
		}
		if (!quiet && (res.written || res.removed))
			printf(dry_run ? "%s: would write %llu, remove %llu\n" : "%s: %llu written, %llu removed\n",
			       quote_path(&q, rel), (unsigned long long)res.written,
			       (unsigned long long)res.removed);
	}
	strbuf_release(&err);
	strbuf_release(&q);
	return ret;
}

int cmd_checkout(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	struct checkout_opts o;
	char **ptrs = NULL;
	size_t np = 0, k, nbad = 0;
	struct checkout_plan **plans = NULL;
	struct pointer *ps = NULL;
	int i, ret = 0, quiet = 0;
	const char *rev = NULL;
	struct strbuf commit = STRBUF_INIT;
	struct git_batch *gb = NULL;
	const char **args = xcalloc((size_t)argc + 1, sizeof(*args));
	int nargs = 0;

	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-f") || !strcmp(a, "--force"))
			o.force = 1;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			quiet = 1;
		else if (!strcmp(a, "--dry-run") || !strcmp(a, "-n"))
			o.dry_run = 1;
		else if (!strcmp(a, "--rev") && i + 1 < argc)
			rev = argv[++i];
		else if (a[0] == '-' && a[1])
		{
			free(args);
			return usage_error("checkout", "unknown option '%s'", a);
		}
	}
	/* path arguments only (the options are gone) */
	for (i = 0; i < argc; i++) {
		if (i && !strcmp(argv[i], "--rev")) {
			i++;
			continue;
		}
		if (!i || !(argv[i][0] == '-' && argv[i][1]))
			args[nargs++] = argv[i];
	}
	if (rev) {
		if (git_resolve_commit(r->top, rev, &commit, &err) || git_batch_open(&gb, r->top, &err)) {
			ret = error("%s", err.buf);
			goto done;
		}
		if (nargs > 1)
			ret = pointers_from_args(r, nargs, args, &ptrs, &np);
		else if (git_list_pointers_at(r->top, commit.buf, &ptrs, &np, &err))
			ret = error("%s", err.buf);
	} else {
		ret = pointers_from_args(r, nargs, args, &ptrs, &np);
	}
	if (ret)
		goto done;
	if (repo_open_store(r, 0, &err)) {
		ret = error("%s", err.buf);
		goto done;
	}
	/* with --rev every path is checked before any is written: the
	 * revision is checked out whole or not at all. Without, each path
	 * is its own (a broken pointer does not stop the others). */
	plans = xcalloc(np ? np : 1, sizeof(*plans));
	ps = xcalloc(np ? np : 1, sizeof(*ps));
	for (k = 0; k < np; k++) {
		char *pabs = repo_abspath(r, ptrs[k]);
		char *rel = xstrndup(ptrs[k], strlen(ptrs[k]) - strlen(POINTER_SUFFIX));
		if ((rev ? ptr_read_at(gb, commit.buf, ptrs[k], &ps[k], &err)
			 : ptr_read(&ps[k], pabs, &err)) ||
		    checkout_prepare(r, rel, &ps[k], &o, &plans[k], &err)) {
			ret = error("%s", err.buf);
			nbad++;
		} else if (!rev) {
			if (apply_one(plans[k], rel, &ps[k], o.dry_run, quiet))
				ret = 1;
			checkout_plan_free(plans[k]);
			plans[k] = NULL;
		}
		free(pabs);
		free(rel);
	}
	if (rev && nbad && np > 1) /* one error per problem, above; this says what it means */
		fprintf(stderr, "hint: nothing was changed (%zu of %zu tracked paths cannot be checked out)\n",
			nbad, np);
	for (k = 0; rev && !nbad && k < np; k++) {
		char *rel = xstrndup(ptrs[k], strlen(ptrs[k]) - strlen(POINTER_SUFFIX));
		if (apply_one(plans[k], rel, &ps[k], o.dry_run, quiet))
			ret = 1;
		free(rel);
	}
	if (!np && !quiet)
		printf("no tracked paths\n");
done:
	for (k = 0; plans && k < np; k++)
		checkout_plan_free(plans[k]);
	free(plans);
	free(ps);
	git_batch_close(gb);
	strbuf_release(&commit);
	free(args);
	free_list(ptrs, np);
	strbuf_release(&err);
	return ret;
}
