/*
 * cairn checkout: make tracked paths match the versions their pointer
 * files name.
 */
#include "cmd/builtin.h"
#include "core/checkout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_checkout(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	struct checkout_opts o;
	char **ptrs = NULL;
	size_t np = 0, k;
	int i, ret = 0, quiet = 0;

	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-f") || !strcmp(a, "--force"))
			o.force = 1;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			quiet = 1;
		else if (!strcmp(a, "--dry-run") || !strcmp(a, "-n"))
			o.dry_run = 1;
		else if (a[0] == '-' && a[1])
			return usage_error("checkout", "unknown option '%s'", a);
	}
	if (pointers_from_args(r, argc, argv, &ptrs, &np))
		return 1;
	if (repo_open_store(r, 0, &err)) {
		free_list(ptrs, np);
		error("%s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	for (k = 0; k < np; k++) {
		struct pointer p;
		struct checkout_result res;
		char *pabs = repo_abspath(r, ptrs[k]);
		char *rel = xstrndup(ptrs[k], strlen(ptrs[k]) - strlen(POINTER_SUFFIX));
		if (ptr_read(&p, pabs, &err)) {
			ret = error("%s", err.buf);
		} else {
			o.progress = progress_start("Checking out", 0, p.size, !quiet && progress_default());
			if (checkout_path(r, rel, &p, &o, &res, &err)) {
				progress_stop(o.progress);
				ret = error("%s", err.buf);
			} else {
				progress_stop(o.progress);
				if (!quiet && (res.written || res.removed))
					printf(o.dry_run ? "%s: would write %llu, remove %llu\n"
							 : "%s: %llu written, %llu removed\n",
					       rel, (unsigned long long)res.written,
					       (unsigned long long)res.removed);
			}
		}
		free(pabs);
		free(rel);
	}
	if (!np && !quiet)
		printf("no tracked paths\n");
	free_list(ptrs, np);
	strbuf_release(&err);
	return ret;
}
