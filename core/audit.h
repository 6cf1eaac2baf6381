#ifndef CAIRN_AUDIT_H
#define CAIRN_AUDIT_H
/*
 * The audit trail: a tamper-evident record of every state-changing
 * command (Documentation/technical/audit-format.md).
 *
 * Each clone has a random clone id (.cairn/audit/clone-id, made on first
 * use: at `cairn init` for new repositories) and its own chain,
 * .cairn/audit/CLONEID.log: one entry per line, "ID JSON\n", where JSON
 * is the entry in canonical form (fixed key order, no blanks) and ID the
 * lowercase hex SHA-256 of the JSON bytes. Each entry names its sequence
 * number (1, 2, ...) and the ID of the entry before it (`prev`; 64 zeros
 * for the first), so an edit, a removal or a reordering breaks the chain
 * where it happened. Chains of other clones, brought by fetch and pull,
 * sit beside it under their own clone ids.
 *
 * For command authors (the rest is for cmd/main.c, cmd/audit.c and
 * remote/audit-sync.c): cmd/main.c starts an entry before each audited
 * command and appends it when the command returns. A command adds what
 * only it knows through the calls in cmd/builtin.h, which forward to the
 * audit_entry_* functions below on the entry in progress:
 *
 *     audit_path("data/train", old_hex, new_hex);  a pointer it changed
 *     audit_bytes(stored, sent, received);          added to the totals
 *     audit_remote("origin", url);                  the remote it used
 *
 * Library code here never exits and keeps no global state.
 */
#include <stdint.h>

#include "core/util.h"

#define AUDIT_FORMAT 1
#define AUDIT_CLONE_HEXSZ 32
#define AUDIT_ID_HEXSZ 64

struct audit_path {
	char *path;      /* repo-relative tracked path */
	char *old_id;    /* hex object id before, "" if none or unknown */
	char *new_id;    /* hex object id after, "" if none */
};

/* One entry, in memory. Strings are never NULL once parsed or started. */
struct audit_entry {
	int v;                              /* AUDIT_FORMAT */
	char clone[AUDIT_CLONE_HEXSZ + 1];
	uint64_t seq;
	char prev[AUDIT_ID_HEXSZ + 1];
	char *time;                         /* "2026-11-24T15:53:00.123456Z", UTC */
	char *user, *email;                 /* git config user.name / user.email */
	char *host, *version, *op;
	char **args;                        /* argv after the command name, redacted */
	size_t nargs;
	char *repo;                         /* absolute work tree top */
	char *head;                         /* git HEAD commit, "" if none */
	struct audit_path *paths;
	size_t npaths, apaths;
	uint64_t stored, sent, received;    /* bytes */
	uint64_t deleted;                   /* bytes of packs removed from a remote (gc -r);
					     * in the JSON only when not 0 */
	char *remote, *url;                 /* name and URL without credentials, or "" */
	char *outcome;                      /* "ok" or "error" */
	char *error;                        /* the first error message, redacted, or "" */
	char **secrets;                     /* in memory only: values redacted from args */
	size_t nsecrets;
};

/*
 * Starts an entry for command `op` with its arguments (secrets redacted
 * here), run in the repository at `top`: fills time, user, host,
 * version, repo and head. The chain fields are set by audit_append().
 */
void audit_entry_start(struct audit_entry *e, const char *top, const char *version,
		       const char *op, int argc, const char **argv);
void audit_entry_release(struct audit_entry *e);
void audit_entry_add_path(struct audit_entry *e, const char *path, const char *old_id,
			  const char *new_id);
void audit_entry_add_bytes(struct audit_entry *e, uint64_t stored, uint64_t sent,
			   uint64_t received);
void audit_entry_add_deleted(struct audit_entry *e, uint64_t deleted);
/* The URL is shown without credentials (a password is replaced by "***"). */
void audit_entry_set_remote(struct audit_entry *e, const char *name, const char *url);
/* outcome "ok" (msg NULL) or "error" with its message (the first one kept). */
void audit_entry_set_outcome(struct audit_entry *e, int ok, const char *msg);

/* The canonical JSON of e (no newline), appended to out. */
void audit_entry_encode(const struct audit_entry *e, struct strbuf *out);
/*
 * Parses one line "ID JSON" (without its newline) into e, checking that
 * ID is the SHA-256 of JSON and JSON is canonical. id gets ID.
 * CAIRN_EFORMAT (not an entry) or CAIRN_ECORRUPT (the id does not match)
 * with a message.
 */
int audit_entry_parse(struct audit_entry *e, char id[AUDIT_ID_HEXSZ + 1], const char *line,
		      size_t len, struct strbuf *err);

/*
 * The same without the checks of the id and the canonical form: for
 * listing, where speed matters and `cairn audit verify` is the check.
 */
int audit_entry_read(struct audit_entry *e, char id[AUDIT_ID_HEXSZ + 1], const char *line,
		     size_t len, struct strbuf *err);

/* Replaces URL passwords ("scheme://user:PASS@") in s by "***". */
void audit_redact_urls(struct strbuf *s);

/* .cairn/audit, created (with a .gitignore) when missing. */
int audit_dir(const char *cairn_dir, char **out, struct strbuf *err);
/* This clone's id, made (random, race-free) on first use. */
int audit_clone_id(const char *cairn_dir, char out[AUDIT_CLONE_HEXSZ + 1], struct strbuf *err);

/*
 * Appends e to this clone's chain: under an exclusive flock of the log,
 * sets aside a torn last line (to CLONEID.torn), sets e's clone, seq and
 * prev from the last entry, writes the line in one write(2) with
 * O_APPEND and fdatasyncs. id (if not NULL) gets the new entry's ID.
 */
int audit_append(const char *cairn_dir, struct audit_entry *e, char id[AUDIT_ID_HEXSZ + 1],
		 struct strbuf *err);

/*
 * A chain as read from a log: lines[i] is entry seq i + 1 if the chain
 * is sound. `torn` is set when the file ends without a newline (an
 * append in progress or killed, or a truncation).
 */
struct audit_line {
	const char *p; /* into buf */
	size_t len;    /* without the newline */
};
struct audit_log {
	char clone[AUDIT_CLONE_HEXSZ + 1];
	struct strbuf buf;
	struct audit_line *lines;
	size_t n;
	int torn;
};
/* Reads dir/CLONE.log under a shared lock (a missing file is empty). */
int audit_log_read(const char *dir, const char *clone, struct audit_log *log, struct strbuf *err);
void audit_log_release(struct audit_log *log);
/* The clone ids that have a log in dir, sorted; *out is malloc'd. */
int audit_list_chains(const char *dir, char ***out, size_t *n, struct strbuf *err);

/*
 * Checks a chain: every line an entry of this clone, seq 1, 2, ... and
 * each prev the ID of the line before. Returns 0 or CAIRN_ECORRUPT with
 * *bad the 1-based line of the first entry that does not fit and msg
 * saying why. A torn tail is reported as line n + 1.
 */
int audit_chain_check(const struct audit_log *log, uint64_t *bad, struct strbuf *msg);

/*
 * Appends verified lines of chain `clone`, which must continue it
 * (seq = last + 1, prev = last ID), under the log's lock. `lines` is
 * the text of whole entries, each ending in '\n', seqs first..; entries
 * the log holds already must be byte-identical to it, else
 * CAIRN_ECONFLICT with *bad their seq. *added counts the new entries.
 */
int audit_log_merge(const char *dir, const char *clone, const char *lines, size_t len,
		    uint64_t *added, uint64_t *bad, struct strbuf *err);

#endif
