/*
 * cairn pull: fetch, then checkout the same paths.
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "core/checkout.h"

#include <stdio.h>
#include <string.h>

int cmd_pull(int argc, const char **argv, struct repo *r)
{
	struct transfer tr;
	struct strbuf err = STRBUF_INIT, q = STRBUF_INIT;
	struct checkout_opts co;
	size_t i;
	int fetched_ok, ret = transfer_parse(&tr, "pull", argc, argv);
	if (ret)
		return ret;
	if (transfer_open(&tr, r, &err))
		ret = error("%s", err.buf);
	else
		ret = transfer_targets(&tr, r);
	if (!ret)
		ret = fetch_targets(&tr, r, "Fetching");
	fetched_ok = !ret;
	memset(&co, 0, sizeof(co));
	co.force = tr.force;
	/* a path refused (local changes) does not stop the others */
	for (i = 0; i < tr.n && fetched_ok; i++) {
		struct checkout_result res;
		int r2;
		co.progress = progress_start("Checking out", 0, tr.t[i].ptr.size,
					     !tr.quiet && progress_default());
		r2 = checkout_path(r, tr.t[i].path, &tr.t[i].ptr, &co, &res, &err);
		progress_stop(co.progress);
		if (r2)
			ret = error("%s", err.buf);
		else if (!tr.quiet && (res.written || res.removed))
			printf("%s: %llu written, %llu removed\n", quote_path(&q, tr.t[i].path),
			       (unsigned long long)res.written, (unsigned long long)res.removed);
	}
	if (!ret && tr.audit_failed)
		ret = 1;
	transfer_release(&tr);
	strbuf_release(&err);
	strbuf_release(&q);
	return ret;
}
