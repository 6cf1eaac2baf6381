#ifndef CAIRN_BUILTIN_H
#define CAIRN_BUILTIN_H
/*
 * Commands. Each is `int cmd_NAME(int argc, const char **argv, struct repo *r)`
 * in cmd/NAME.c, listed in the table in cmd/main.c. argv[0] is the command
 * name. The return value is the exit code. Commands report errors with
 * error() and return 1, or die() (exit 128) when they cannot go on.
 */
#include "core/repo.h"
#include "core/util.h"

#define CAIRN_VERSION "0.1.0"

/* Table flags */
#define NEED_WORKTREE (1 << 0) /* run inside a git work tree */
#define NEED_REPO (1 << 1)     /* ... with .cairn (implies NEED_WORKTREE) */

struct cmd_struct {
	const char *name;
	int (*fn)(int argc, const char **argv, struct repo *r);
	int flags;
	const char *usage;   /* one or more SYNOPSIS lines, '\n'-separated */
	const char *summary; /* one line for `cairn help` */
	/*
	 * Whether this run changes state and so gets an audit entry (see
	 * core/audit.h): audit_always, or a test of the arguments for a
	 * command whose read-only forms are not recorded. NULL: never.
	 */
	int (*audited)(int argc, const char **argv);
};

int audit_always(int argc, const char **argv);

/*
 * Details for the audit entry of the command running now (no-ops when
 * it is not audited). Call them where the command knows the fact:
 *   audit_path(path, old, new)  a tracked path and its object ids (hex;
 *                               NULL or "" when none or unknown)
 *   audit_bytes(stored, sent, received)  added to the entry's totals
 *   audit_remote(name, url)     the remote used (credentials removed)
 */
void audit_path(const char *path, const char *old_id, const char *new_id);
void audit_bytes(uint64_t stored, uint64_t sent, uint64_t received);
void audit_remote(const char *name, const char *url);
/* Bytes the command removed from a remote (gc -r). */
void audit_deleted(uint64_t bytes);
/*
 * Appends the entry of the command running now at once, with the outcome
 * it has so far, instead of when the command returns (gc -r pushes it
 * right after). 0, or 1 after printing an error.
 */
int audit_flush(void);

const struct cmd_struct *find_cmd(const char *name);
extern const struct cmd_struct commands[];
extern const size_t ncommands;

/* Messages: "error: ..." / "warning: ..." on stderr; die() exits 128. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Print `usage: ...` for the current command and return 129 (bad usage). */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the usage to stdout for -h and return 0. */
int usage_help(const char *cmd);

/* Whether argv[i] is -h/--help. */
int is_help(const char *arg);

/*
 * Turns a user path (data dir, file, or its .cairn pointer) into the
 * tracked path and its pointer path, both repo-relative.
 */
int resolve_tracked(struct repo *r, const char *arg, struct strbuf *data, struct strbuf *ptr,
		    struct strbuf *err);

/* Lists every pointer in the work tree (via git); exits on failure. */
int list_pointers(struct repo *r, char ***paths, size_t *n);
void free_list(char **list, size_t n);
/*
 * The pointer files named by the non-option arguments (tracked paths or
 * their pointers), or every pointer in the work tree when there are none.
 * Returns 0, or 1 after printing an error for a bad path.
 */
int pointers_from_args(struct repo *r, int argc, const char **argv, char ***ptrs, size_t *np);

/*
 * `path` as git prints it in human output (core.quotePath): as it is, or
 * C-quoted in double quotes when it holds a control character, '"' or
 * '\\' (or a byte of 0x80 and up, unless git's core.quotePath is false).
 * Into buf (reset first); returns buf->buf.
 */
const char *quote_path(struct strbuf *buf, const char *path);
/* The same inside a message: 'path' in single quotes, or C-quoted. */
const char *quote_path_sq(struct strbuf *buf, const char *path);

/* cmd/add.c: put rel in its parent's .gitignore (as "/name"). */
int ensure_gitignored(struct repo *r, const char *rel, struct strbuf *err);
/* cmd/add.c: CAIRN_EINVAL if rel is inside a tracked directory. */
int check_not_nested(struct repo *r, const char *rel, struct strbuf *err);
/*
 * cmd/add.c: 0 if git sees every pointer file of `ptrs` (none is ignored);
 * else 1 after printing an error with the fix.
 */
int check_pointers_seen(struct repo *r, const char *const *ptrs, size_t n);

/* Help text of a command (its man page), or NULL. */
const char *help_text(const char *name);

int cmd_init(int argc, const char **argv, struct repo *r);
int cmd_add(int argc, const char **argv, struct repo *r);
int cmd_status(int argc, const char **argv, struct repo *r);
int cmd_checkout(int argc, const char **argv, struct repo *r);
int cmd_ls(int argc, const char **argv, struct repo *r);
int cmd_cat(int argc, const char **argv, struct repo *r);
int cmd_diff(int argc, const char **argv, struct repo *r);
int cmd_log(int argc, const char **argv, struct repo *r);
int cmd_stats(int argc, const char **argv, struct repo *r);
int cmd_config(int argc, const char **argv, struct repo *r);
int cmd_gc(int argc, const char **argv, struct repo *r);
int cmd_fsck(int argc, const char **argv, struct repo *r);
int cmd_remote(int argc, const char **argv, struct repo *r);
int cmd_push(int argc, const char **argv, struct repo *r);
int cmd_fetch(int argc, const char **argv, struct repo *r);
int cmd_pull(int argc, const char **argv, struct repo *r);
int cmd_help(int argc, const char **argv, struct repo *r);
int cmd_install(int argc, const char **argv, struct repo *r);
int cmd_merge_driver(int argc, const char **argv, struct repo *r);
int cmd_audit(int argc, const char **argv, struct repo *r);
int cmd_import(int argc, const char **argv, struct repo *r);
int cmd_export(int argc, const char **argv, struct repo *r);
int cmd_version(int argc, const char **argv, struct repo *r);

#endif
