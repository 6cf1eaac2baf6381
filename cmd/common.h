#ifndef CAIRN_CMD_COMMON_H
#define CAIRN_CMD_COMMON_H
/* Shared by cmd/push.c, cmd/fetch.c and cmd/pull.c. */
#include "core/git.h"
#include "core/repo.h"
#include "remote/sync.h"

struct transfer {
	const char *remote; /* -r NAME */
	const char *rev;    /* --rev REV: pointers as committed there */
	int all_commits;    /* --all-commits: every pointer in history */
	int jobs, quiet, force;
	int audit_failed;   /* the audit trail could not be synced (reported) */
	const char **args;  /* argv[0] and the path arguments */
	int nargs;
	char *name, *url;
	struct remote *rem;
	struct sync_target *t;
	char **paths;
	size_t n;
};

/* Options: -r NAME, -j N, -q, -f, --rev REV, --all-commits; 0 or a usage exit code. */
int transfer_parse(struct transfer *tr, const char *cmd, int argc, const char **argv);
/* Picks the remote (-r, core.remote), opens the store and the remote. */
int transfer_open(struct transfer *tr, struct repo *r, struct strbuf *err);
/* Reads the pointers named by the arguments (or all); 0 or 1 after errors. */
int transfer_targets(struct transfer *tr, struct repo *r);
void transfer_report(const struct transfer *tr, const char *verb, const struct sync_stats *st);
void transfer_release(struct transfer *tr);
/* Fetch what tr's targets need, with progress titled `title`; prints the result. */
int fetch_targets(struct transfer *tr, struct repo *r, const char *title);


#endif
