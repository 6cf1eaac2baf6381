#ifndef CAIRN_AUDIT_SYNC_H
#define CAIRN_AUDIT_SYNC_H
/*
 * Audit chains on a remote (Documentation/technical/audit-format.md,
 * "On a remote"): push sends the entries of this clone's chain that the
 * remote lacks as one immutable segment, audit/CLONE-FIRST-LAST.log;
 * fetch reads every segment and merges each chain into .cairn/audit/,
 * checking every entry. A segment that contradicts what this clone holds
 * is never taken: it is recorded in .cairn/audit/conflicts/, which makes
 * `cairn audit verify` fail until someone looks into it.
 */
#include "core/repo.h"
#include "remote/remote.h"

/*
 * A segment is at most this long (remote-format.md, "Limits"): push
 * splits a longer run of entries into several, and fetch refuses a
 * bigger one as a bad segment without reading it. An entry line is at
 * most 16 MiB, so every entry fits.
 */
#define AUDIT_SEGMENT_MAX (64u << 20)

/* *sent: entries uploaded (0 when the remote had them all), in segments
 * of at most AUDIT_SEGMENT_MAX bytes. */
int audit_sync_push(struct repo *r, struct remote *rem, uint64_t *sent, struct strbuf *err);
/*
 * *added: entries new here. Every chain is merged even when one fails;
 * the return is then CAIRN_ECONFLICT (a rewritten chain) or
 * CAIRN_ECORRUPT (a bad segment) with the first such message.
 */
int audit_sync_fetch(struct repo *r, struct remote *rem, uint64_t *added, struct strbuf *err);

#endif
