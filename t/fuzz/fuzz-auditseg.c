/*
 * libFuzzer target: an audit segment from a remote merged into a local
 * chain (audit_log_merge). Whatever the bytes, the log on disk stays a
 * sound chain; when a segment is accepted, each of its entries is the
 * log's line of that seq, and merging it again adds nothing; when it is
 * refused, the log is as it was. The first entry is merged on its
 * own first, so the path for entries already held runs too.
 */
#include "core/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir;

static void remove_dir(void)
{
	rmdir(dir);
}

/* The log must be a sound chain holding exactly want[0..wlen). */
static void check_log(const char *clone, const char *want, size_t wlen)
{
	struct audit_log log;
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	uint64_t bad;
	if (audit_log_read(dir, clone, &log, &err))
		__builtin_trap();
	if (log.n && audit_chain_check(&log, &bad, &msg))
		__builtin_trap();
	if (log.buf.len != wlen || memcmp(log.buf.buf, want, wlen))
		__builtin_trap();
	audit_log_release(&log);
	strbuf_release(&err);
	strbuf_release(&msg);
}

/* Accepted: every entry of the segment is the log's line of its seq. */
static void check_held(const char *clone, const char *seg, size_t len)
{
	struct audit_log log;
	struct strbuf err = STRBUF_INIT;
	const char *q = seg, *end = seg + len;
	if (audit_log_read(dir, clone, &log, &err))
		__builtin_trap();
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		struct audit_entry e;
		char id[AUDIT_ID_HEXSZ + 1];
		size_t n = nl ? (size_t)(nl - q) : (size_t)(end - q);
		if (!nl || audit_entry_parse(&e, id, q, n, &err))
			__builtin_trap(); /* merge accepted a torn or bad line */
		if (!e.seq || e.seq > log.n || log.lines[e.seq - 1].len != n ||
		    memcmp(log.lines[e.seq - 1].p, q, n))
			__builtin_trap();
		audit_entry_release(&e);
		q = nl + 1;
	}
	audit_log_release(&log);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl = memchr(p, '\n', size);
	char clone[AUDIT_CLONE_HEXSZ + 1] = "00000000000000000000000000000000";
	char id[AUDIT_ID_HEXSZ + 1], *log;
	struct strbuf err = STRBUF_INIT;
	struct audit_entry e;
	uint64_t added, bad;
	int r1 = -1, r;

	if (!dir) {
		char tmpl[] = "/tmp/fuzz-auditseg-XXXXXX";
		if (!mkdtemp(tmpl))
			__builtin_trap();
		dir = strdup(tmpl);
		atexit(remove_dir);
	}
	/* the chain the first entry claims, as fetch picks it from a name */
	if (nl && !audit_entry_read(&e, id, p, (size_t)(nl - p), &err)) {
		memcpy(clone, e.clone, sizeof(clone));
		audit_entry_release(&e);
	}
	log = xstrfmt("%s/%s.log", dir, clone);
	unlink(log);
	if (nl) {
		r1 = audit_log_merge(dir, clone, p, (size_t)(nl - p) + 1, &added, &bad, &err);
		check_log(clone, p, r1 ? 0 : (size_t)(nl - p) + 1);
	}
	r = audit_log_merge(dir, clone, p, size, &added, &bad, &err);
	if (r) /* refused: the log is as it was */
		check_log(clone, p, nl && !r1 ? (size_t)(nl - p) + 1 : 0);
	else
		check_held(clone, p, size);
	/* again: nothing new */
	if (!r && (audit_log_merge(dir, clone, p, size, &added, &bad, &err) || added))
		__builtin_trap();
	unlink(log);
	free(log);
	strbuf_release(&err);
	return 0;
}
