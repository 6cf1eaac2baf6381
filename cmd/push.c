/*
 * cairn push: send a remote what it lacks for the current pointers.
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "remote/audit-sync.h"

#include <stdio.h>
#include <string.h>

int cmd_push(int argc, const char **argv, struct repo *r)
{
	struct transfer tr;
	struct strbuf err = STRBUF_INIT;
	struct sync_stats st;
	struct sync_opts o;
	int ret = transfer_parse(&tr, "push", argc, argv);
	if (ret)
		return ret;
	memset(&st, 0, sizeof(st));
	if (transfer_open(&tr, r, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	ret = transfer_targets(&tr, r);
	if (ret)
		goto out;
	memset(&o, 0, sizeof(o));
	o.jobs = tr.jobs;
	o.url = tr.url;
	o.base = r->top;
	o.cfg = r->cfg;
	o.progress = progress_start("Pushing", 0, 0, !tr.quiet && progress_default());
	ret = sync_push(r, tr.rem, tr.t, tr.n, &o, &st, &err);
	progress_stop(o.progress);
	if (ret)
		ret = error("%s", err.buf);
	else
		transfer_report(&tr, "pushed", &st);
	if (!ret) {
		uint64_t entries;
		if (audit_sync_push(r, tr.rem, &entries, &err))
			ret = error("cannot push the audit trail: %s", err.buf);
	}
out:
	transfer_release(&tr);
	strbuf_release(&err);
	return ret;
}
