/*
 * cairn: the command table and the dispatcher.
 */
#include "cmd/builtin.h"
#include "core/audit.h"
#include "core/git.h"
#include "core/pointer.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Which runs of commands with read-only forms change state. */
static int audit_remote_writes(int argc, const char **argv)
{
	return argc > 1 && strcmp(argv[1], "list") && strcmp(argv[1], "-v") &&
	       !(!strcmp(argv[1], "default") && argc == 2);
}

static int audit_config_writes(int argc, const char **argv)
{
	int i, pos = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--unset"))
			return 1;
		if (!strcmp(argv[i], "--list") || !strcmp(argv[i], "-l"))
			return 0;
		if (argv[i][0] != '-' || !argv[i][1])
			pos++;
	}
	return pos >= 2;
}

static int audit_unless_dry_run(int argc, const char **argv)
{
	int i;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--dry-run"))
			return 0;
	return 1;
}

/* fsck changes the store only when it repairs or rebuilds the index */
static int audit_fsck_repair(int argc, const char **argv)
{
	int i;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--repair") || !strcmp(argv[i], "--rebuild-index"))
			return 1;
	return 0;
}

const struct cmd_struct commands[] = {
	{ "init", cmd_init, NEED_WORKTREE,
	  "cairn init [--chunk-size MIN:AVG:MAX] [--compress-level N]",
	  "set up cairn in the current git repository", audit_always },
	{ "add", cmd_add, NEED_REPO, "cairn add [-q] [--no-gitignore] PATH...",
	  "store files or directories and write their pointer files", audit_always },
	{ "status", cmd_status, NEED_REPO, "cairn status [--json] [PATH...]",
	  "show which tracked paths differ from their pointers", NULL },
	{ "checkout", cmd_checkout, NEED_REPO, "cairn checkout [-f|--force] [-q] [--dry-run] [--rev REV] [PATH...]",
	  "make tracked paths match their pointer files", audit_unless_dry_run },
	{ "diff", cmd_diff, NEED_REPO,
	  "cairn diff [--json] [--stat] [REV [REV2]] [--] [PATH...]\ncairn diff [--json] [--stat] A.cairn B.cairn",
	  "show which files changed between versions of tracked data", NULL },
	{ "log", cmd_log, NEED_REPO, "cairn log [--json] [-n N] PATH[.cairn]",
	  "show the commits that changed a tracked path, with its versions", NULL },
	{ "ls", cmd_ls, NEED_REPO, "cairn ls [--json] [-r|--recursive] PATH[.cairn]",
	  "list the files of the version a pointer names", NULL },
	{ "cat", cmd_cat, NEED_REPO, "cairn cat [--rev REV] PATH",
	  "write one file of any version to the standard output", NULL },
	{ "stats", cmd_stats, NEED_REPO, "cairn stats [--json]",
	  "show store statistics: chunks, packs, bytes, ratios", NULL },
	{ "remote", cmd_remote, NEED_REPO,
	  "cairn remote [list] [-v]\ncairn remote add [-d] [--local] NAME URL\ncairn remote remove NAME\ncairn remote rename OLD NEW\ncairn remote default [NAME]",
	  "manage the remotes data is pushed to and pulled from", audit_remote_writes },
	{ "push", cmd_push, NEED_REPO, "cairn push [-r REMOTE] [-j N] [-q] [--rev REV | --all-commits] [PATH...]",
	  "send a remote what it lacks for the current pointers", audit_always },
	{ "fetch", cmd_fetch, NEED_REPO, "cairn fetch [-r REMOTE] [-j N] [-q] [--rev REV] [PATH...]",
	  "get what the pointers need from a remote into the local store", audit_always },
	{ "pull", cmd_pull, NEED_REPO, "cairn pull [-r REMOTE] [-j N] [-q] [-f] [--rev REV] [PATH...]",
	  "fetch, then checkout", audit_always },
	{ "gc", cmd_gc, NEED_REPO,
	  "cairn gc [-n|--dry-run] [-q] [--json] [--wait] [--allow-shallow] [--workspace | --rev REV]\ncairn gc -r REMOTE [-n|--dry-run] [-q] [--json] [--grace SECONDS] [--git-remote GIT] [--allow-shallow]",
	  "remove what no branch, tag or pointer file needs from the store", audit_unless_dry_run },
	{ "fsck", cmd_fsck, NEED_REPO,
	  "cairn fsck [--json] [-q] [--rebuild-index]\ncairn fsck --repair [-r REMOTE] [--json] [-q]\ncairn fsck -r REMOTE [--read-data] [--json] [-q]",
	  "verify every pack, chunk, manifest and tree; repair from a remote", audit_fsck_repair },
	{ "config", cmd_config, NEED_REPO,
	  "cairn config [--local|--user] KEY [VALUE]\ncairn config [--local|--user] --unset KEY\ncairn config --list",
	  "get and set repository options", audit_config_writes },
	{ "install", cmd_install, NEED_REPO, "cairn install [--uninstall]",
	  "set up git hooks and the merge driver for pointer files", audit_always },
	{ "merge-driver", cmd_merge_driver, NEED_REPO, "cairn merge-driver BASE OURS THEIRS PATH",
	  "merge pointer files (called by git, set up by cairn install)", NULL },
	{ "import", cmd_import, NEED_REPO,
	  "cairn import [-q] [-f] [--no-checkout] [--no-gitignore] [--on-bad=fail|skip] [--max-bytes N] [--max-ratio N] ARCHIVE PATH",
	  "store the contents of a tar, zip, 7z or cpio archive as a tracked directory", audit_always },
	{ "export", cmd_export, NEED_REPO,
	  "cairn export [-q] [--rev REV] [--format FORMAT] [--mtime SECONDS] -o FILE PATH[.cairn]",
	  "write a stored version as a reproducible tar or zip archive", audit_always },
	{ "audit", cmd_audit, NEED_REPO,
	  "cairn audit [--json] [-n N] [--path P] [--since DATE] [--until DATE] [--user U] [--op OP]\ncairn audit verify\ncairn audit show [--json] ID",
	  "show and verify the tamper-evident record of who changed what", NULL },
	{ "help", cmd_help, 0, "cairn help [COMMAND]", "show help for cairn or a command", NULL },
	{ "version", cmd_version, 0, "cairn version", "show the version", NULL },
};
const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

const struct cmd_struct *find_cmd(const char *name)
{
	size_t i;
	for (i = 0; i < ncommands; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/*
 * The audit entry of the command running now: started before it runs,
 * appended when it returns (or dies). The one piece of global state of
 * the program, since every command and the error printer feed it.
 */
static struct audit_entry cur_audit;
static int cur_audit_live;
static char *cur_audit_cairn_dir;

int audit_always(int argc, const char **argv)
{
	return 1;
}

void audit_path(const char *path, const char *old_id, const char *new_id)
{
	if (cur_audit_live)
		audit_entry_add_path(&cur_audit, path, old_id, new_id);
}

void audit_bytes(uint64_t stored, uint64_t sent, uint64_t received)
{
	if (cur_audit_live)
		audit_entry_add_bytes(&cur_audit, stored, sent, received);
}

void audit_remote(const char *name, const char *url)
{
	if (cur_audit_live)
		audit_entry_set_remote(&cur_audit, name, url);
}

void audit_deleted(uint64_t bytes)
{
	if (cur_audit_live)
		audit_entry_add_deleted(&cur_audit, bytes);
}

static int audit_end(int status);

int audit_flush(void)
{
	return audit_end(0);
}

static void audit_begin(const struct cmd_struct *c, struct repo *r, int argc, const char **argv)
{
	if (!c->audited || !r || !c->audited(argc, argv))
		return;
	audit_entry_start(&cur_audit, r->top, CAIRN_VERSION, c->name, argc - 1, argv + 1);
	cur_audit_cairn_dir = xstrdup(r->cairn_dir);
	cur_audit_live = 1;
}

/* Appends the entry; returns the exit status, made 1 if that fails. */
static int audit_end(int status)
{
	struct strbuf err = STRBUF_INIT;
	struct stat st;
	if (!cur_audit_live)
		return status;
	cur_audit_live = 0;
	if (status)
		audit_entry_set_outcome(&cur_audit, 0, "");
	/* a usage error changed nothing; init that failed made no .cairn */
	if (status != 129 && !stat(cur_audit_cairn_dir, &st) &&
	    audit_append(cur_audit_cairn_dir, &cur_audit, NULL, &err)) {
		error("cannot record the audit entry: %s", err.buf);
		if (!status)
			status = 1;
	}
	audit_entry_release(&cur_audit);
	free(cur_audit_cairn_dir);
	cur_audit_cairn_dir = NULL;
	strbuf_release(&err);
	return status;
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, prefix);
	strbuf_vaddf(&sb, fmt, ap);
	if (cur_audit_live && strcmp(prefix, "warning: "))
		audit_entry_set_outcome(&cur_audit, 0, sb.buf + strlen(prefix));
	strbuf_addch(&sb, '\n');
	fflush(stdout);
	(void)!write(2, sb.buf, sb.len);
	strbuf_release(&sb);
}

/* core's messages, from any thread: after what stdout holds, one write */
static void core_reporter(const char *level, const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s: %s\n", level, msg);
	fflush(stdout);
	(void)!write(2, sb.buf, sb.len);
	strbuf_release(&sb);
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
	return 1;
}

void warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("fatal: ", fmt, ap);
	va_end(ap);
	audit_end(128);
	exit(128);
}

static void print_usage(FILE *f, const char *cmd)
{
	const struct cmd_struct *c = find_cmd(cmd);
	const char *u = c ? c->usage : "cairn <command> [<args>]";
	const char *p = u;
	int first = 1;
	while (*p) {
		size_t n = strcspn(p, "\n");
		fprintf(f, "%s%.*s\n", first ? "usage: " : "   or: ", (int)n, p);
		first = 0;
		p += n;
		if (*p)
			p++;
	}
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
	print_usage(stderr, cmd);
	return 129;
}

int usage_help(const char *cmd)
{
	print_usage(stdout, cmd);
	return 0;
}

int is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int resolve_tracked(struct repo *r, const char *arg, struct strbuf *data, struct strbuf *ptr,
		    struct strbuf *err)
{
	int ret = repo_relpath(r, arg, data, err);
	if (ret)
		return ret;
	if (ends_with(data->buf, POINTER_SUFFIX)) {
		strbuf_setlen(data, data->len - strlen(POINTER_SUFFIX));
		if (!data->len || data->buf[data->len - 1] == '/')
			return cerr(err, CAIRN_EINVAL, "'%s' is not a pointer file name", arg);
	}
	strbuf_reset(ptr);
	strbuf_addf(ptr, "%s%s", data->buf, POINTER_SUFFIX);
	return 0;
}

/* git's core.quotePath (true unless set to false), asked once: only when
 * a path with a byte of 0x80 and up is printed */
static int quote_high_bytes(void)
{
	static int known = -1;
	if (known < 0) {
		const char *argv[] = { "git", "config", "--type=bool", "core.quotePath", NULL };
		struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
		known = 1;
		if (!run_capture(argv, NULL, 64, &out, &err)) {
			strbuf_rtrim(&out);
			known = strcmp(out.buf, "false") != 0;
		}
		strbuf_release(&out);
		strbuf_release(&err);
	}
	return known;
}

const char *quote_path(struct strbuf *buf, const char *path)
{
	const char *p;
	int high = 0;
	for (p = path; *p && !high; p++)
		high = (unsigned char)*p >= 0x80;
	strbuf_reset(buf);
	strbuf_add_cquoted(buf, path, strlen(path), high && quote_high_bytes());
	return buf->buf;
}

const char *quote_path_sq(struct strbuf *buf, const char *path)
{
	quote_path(buf, path);
	if (buf->buf[0] != '"') {
		strbuf_reset(buf);
		strbuf_addf(buf, "'%s'", path);
	}
	return buf->buf;
}

int list_pointers(struct repo *r, char ***paths, size_t *n)
{
	struct strbuf err = STRBUF_INIT;
	if (git_list_pointers(r->top, paths, n, &err))
		die("cannot list pointer files: %s", err.buf);
	strbuf_release(&err);
	return 0;
}

int pointers_from_args(struct repo *r, int argc, const char **argv, char ***ptrs, size_t *np)
{
	struct strbuf err = STRBUF_INIT, data = STRBUF_INIT, ptrp = STRBUF_INIT;
	int i, nargs = 0, ret = 0;
	*ptrs = NULL;
	*np = 0;
	for (i = 1; i < argc; i++)
		if (!(argv[i][0] == '-' && argv[i][1]))
			nargs++;
	if (!nargs)
		return list_pointers(r, ptrs, np);
	*ptrs = xcalloc((size_t)nargs, sizeof(**ptrs));
	for (i = 1; i < argc && !ret; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		if (resolve_tracked(r, argv[i], &data, &ptrp, &err))
			ret = error("%s", err.buf);
		else
			(*ptrs)[(*np)++] = strbuf_detach(&ptrp, NULL);
	}
	if (ret) {
		free_list(*ptrs, *np);
		*ptrs = NULL;
		*np = 0;
	}
	strbuf_release(&err);
	strbuf_release(&data);
	strbuf_release(&ptrp);
	return ret;
}

void free_list(char **list, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int cmd_version(int argc, const char **argv, struct repo *r)
{
	if (argc > 1 && is_help(argv[1]))
		return usage_help("version");
	printf("cairn version %s\n", CAIRN_VERSION);
	return 0;
}

static int run(const struct cmd_struct *c, int argc, const char **argv)
{
	struct repo *r = NULL;
	struct strbuf err = STRBUF_INIT;
	int status;

	if (argc > 1 && is_help(argv[1])) {
		status = usage_help(c->name);
		goto flush;
	}
	if (c->flags & (NEED_WORKTREE | NEED_REPO)) {
		int ret = repo_discover(&r, !!(c->flags & NEED_REPO), &err);
		if (ret) {
			error("%s", err.buf);
			strbuf_release(&err);
			return 128;
		}
	}
	audit_begin(c, r, argc, argv);
	status = c->fn(argc, argv, r);
	status = audit_end(status);
	repo_free(r);
	strbuf_release(&err);
flush:
	/* a full disk or a closed pipe on stdout is an error, not silence */
	if (fflush(stdout) || ferror(stdout)) {
		if (errno == EPIPE)
			return status ? status : 141;
		return error("cannot write to standard output: %s", strerror(errno)) + 127;
	}
	return status;
}

int main(int argc, const char **argv)
{
	const struct cmd_struct *c;
	signal(SIGPIPE, SIG_IGN);
	core_set_reporter(core_reporter);
	if (argc < 2) {
		print_usage(stderr, "");
		fprintf(stderr, "\nrun 'cairn help' for the list of commands\n");
		return 129;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))
		return run(find_cmd("version"), 1, argv + 1);
	if (is_help(argv[1]))
		return run(find_cmd("help"), 1, argv + 1);
	c = find_cmd(argv[1]);
	if (!c) {
		error("'%s' is not a cairn command; see 'cairn help'", argv[1]);
		return 129;
	}
	return run(c, argc - 1, argv + 1);
}
