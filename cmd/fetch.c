/*
 * cairn fetch: get from a remote what the pointers need and the local
 * store lacks; the work tree is not touched.
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "remote/audit-sync.h"

#include <stdio.h>
#include <string.h>

int fetch_targets(struct transfer *tr, struct repo *r, const char *title)
{
	struct strbuf err = STRBUF_INIT;
	struct sync_stats st;
	struct sync_opts o;
	int ret;

	memset(&st, 0, sizeof(st));
	memset(&o, 0, sizeof(o));
	o.jobs = tr->jobs;
	o.url = tr->url;
	o.base = r->top;
	o.cfg = r->cfg;
	o.progress = progress_start(title, 0, 0, !tr->quiet && progress_default());
	ret = sync_fetch(r, tr->rem, tr->t, tr->n, &o, &st, &err);
	progress_stop(o.progress);
	if (ret)
		ret = error("%s", err.buf);
	else
		transfer_report(tr, "fetched", &st);
	/* the data is good even when a chain is refused: pull goes on */
	if (!ret) {
		uint64_t entries;
		if (audit_sync_fetch(r, tr->rem, &entries, &err))
			tr->audit_failed = error("audit trail: %s", err.buf);
	}
	strbuf_release(&err);
	return ret;
}

int cmd_fetch(int argc, const char **argv, struct repo *r)
{
	struct transfer tr;
	struct strbuf err = STRBUF_INIT;
	int ret = transfer_parse(&tr, "fetch", argc, argv);
	if (ret)
		return ret;
	if (transfer_open(&tr, r, &err))
		ret = error("%s", err.buf);
	else
		ret = transfer_targets(&tr, r);
	if (!ret)
		ret = fetch_targets(&tr, r, "Fetching");
	if (!ret && tr.audit_failed)
		ret = 1;
	transfer_release(&tr);
	strbuf_release(&err);
	return ret;
}
