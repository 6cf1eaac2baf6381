/*
 * cairn install: git hooks that keep the data in step with git, and the
 * merge driver for pointer files. Existing hooks are kept and still run
 * first; --uninstall removes exactly what install added.
 */
#include "cmd/builtin.h"
#include "core/git.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARK "# cairn hook: installed by 'cairn install'"
#define ATTR_LINE "*.cairn merge=cairn"

struct hook {
	const char *name;
	const char *body;
};

static const struct hook hooks[] = {
	{ "post-checkout",
	  "# a branch switch (third argument 1) brings the data of the new commit\n"
	  "if [ \"$3\" = 1 ] && command -v cairn >/dev/null 2>&1; then\n"
	  "\tcairn checkout -q || echo \"cairn: data not updated; run 'cairn pull'\" >&2\n"
	  "fi\n" },
	{ "post-merge",
	  "if command -v cairn >/dev/null 2>&1; then\n"
	  "\tcairn checkout -q || echo \"cairn: data not updated; run 'cairn pull'\" >&2\n"
	  "fi\n" },
	{ "pre-push",
	  "# the data goes to the cairn remote before the commits that name it\n"
	  "if command -v cairn >/dev/null 2>&1; then\n"
	  "\tcairn push -q || { echo \"cairn: push of the data failed; git push stopped\" >&2; exit 1; }\n"
	  "fi\n" },
};

static int git_dir(struct repo *r, struct strbuf *out, struct strbuf *err)
{
	const char *argv[] = { "git", "rev-parse", "--absolute-git-dir", NULL };
	int ret = run_capture(argv, r->top, 4096, out, err);
	strbuf_rtrim(out);
	return ret;
}

static int is_ours(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int ours = !read_file(path, 1u << 20, &sb, NULL) && strstr(sb.buf, MARK) != NULL;
	strbuf_release(&sb);
	return ours;
}

static int install_hook(const char *dir, const struct hook *h, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", dir, h->name), *orig = xstrfmt("%s.cairn-orig", path);
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int ret = 0;

	if (is_ours(path))
		goto out; /* already installed */
	if (!lstat(path, &st) && rename(path, orig) < 0) {
		ret = cerr_errno(err, "cannot keep the existing hook '%s'", path);
		goto out;
	}
	strbuf_addf(&sb, "#!/bin/sh\n%s; 'cairn install --uninstall' removes it.\n"
			 "# An earlier %s hook, if there was one, is %s.cairn-orig and runs first.\n"
			 "orig=\"$0.cairn-orig\"\n"
			 "if [ -x \"$orig\" ]; then \"$orig\" \"$@\" || exit $?; fi\n%s",
		    MARK, h->name, h->name, h->body);
	ret = write_file_atomic(path, sb.buf, sb.len, 0, err);
	if (!ret && chmod(path, 0755) < 0)
		ret = cerr_errno(err, "cannot make '%s' executable", path);
out:
	strbuf_release(&sb);
	free(path);
	free(orig);
	return ret;
}

static int uninstall_hook(const char *dir, const struct hook *h, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", dir, h->name), *orig = xstrfmt("%s.cairn-orig", path);
	struct stat st;
	int ret = 0;
	if (is_ours(path)) {
		if (!lstat(orig, &st)) {
			if (rename(orig, path) < 0)
				ret = cerr_errno(err, "cannot restore '%s'", orig);
		} else if (unlink(path) < 0) {
			ret = cerr_errno(err, "cannot remove '%s'", path);
		}
	}
	free(path);
	free(orig);
	return ret;
}

/* Add or remove the merge driver line in the top .gitattributes. */
static int edit_attributes(struct repo *r, int add, struct strbuf *err)
{
	char *path = repo_abspath(r, ".gitattributes");
	struct strbuf cur = STRBUF_INIT, out = STRBUF_INIT;
	size_t pos = 0;
	int ret = read_file(path, 1u << 20, &cur, err), found = 0;
	if (ret == CAIRN_ENOTFOUND) {
		ret = 0;
		strbuf_reset(&cur);
	}
	while (!ret && pos < cur.len) {
		size_t n = strcspn(cur.buf + pos, "\n");
		if (n == strlen(ATTR_LINE) && !memcmp(cur.buf + pos, ATTR_LINE, n)) {
			found = 1;
			if (!add) {
				pos += n + (pos + n < cur.len);
				continue;
			}
		}
		strbuf_add(&out, cur.buf + pos, n);
		if (pos + n < cur.len)
			strbuf_addch(&out, '\n');
		pos += n + 1;
	}
	if (!ret && add && !found) {
		if (out.len && out.buf[out.len - 1] != '\n')
			strbuf_addch(&out, '\n');
		strbuf_addstr(&out, ATTR_LINE "\n");
	}
	if (!ret && (add ? !found : found)) {
		if (!add && !out.len)
			ret = unlink(path) < 0 ? cerr_errno(err, "cannot remove '%s'", path) : 0;
		else
			ret = write_file_atomic(path, out.buf, out.len, 0, err);
	}
	free(path);
	strbuf_release(&cur);
	strbuf_release(&out);
	return ret;
}

static int git_config(struct repo *r, const char *key, const char *value, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	const char *set[] = { "git", "config", key, value, NULL };
	const char *unset[] = { "git", "config", "--unset", key, NULL };
	int ret = run_capture(value ? set : unset, r->top, 4096, &out, err);
	strbuf_release(&out);
	if (!value && ret == CAIRN_EIO)
		ret = 0; /* was not set */
	return ret;
}

int cmd_install(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, gd = STRBUF_INIT;
	char *hookdir = NULL;
	int uninstall = 0, i, ret = 0;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--uninstall"))
			uninstall = 1;
		else
			return usage_error("install", "unknown argument '%s'", argv[i]);
	}
	if (git_dir(r, &gd, &err)) {
		ret = error("cannot find the git directory: %s", err.buf);
		goto out;
	}
	hookdir = xstrfmt("%s/hooks", gd.buf);
	if (mkdir(hookdir, 0777) < 0 && errno != EEXIST) {
		ret = error("cannot create '%s': %s", hookdir, strerror(errno));
		goto out;
	}
	for (k = 0; k < sizeof(hooks) / sizeof(hooks[0]) && !ret; k++)
		if (uninstall ? uninstall_hook(hookdir, &hooks[k], &err)
			      : install_hook(hookdir, &hooks[k], &err))
			ret = error("%s", err.buf);
	if (!ret && (git_config(r, "merge.cairn.name", uninstall ? NULL : "cairn pointer files", &err) ||
		     git_config(r, "merge.cairn.driver",
				uninstall ? NULL : "cairn merge-driver %O %A %B %P", &err)))
		ret = error("cannot set the merge driver in git config: %s", err.buf);
	if (!ret && edit_attributes(r, !uninstall, &err))
		ret = error("%s", err.buf);
	if (!ret)
		printf(uninstall ? "removed the cairn git hooks and merge driver\n"
				 : "installed git hooks (post-checkout, post-merge, pre-push) and the merge "
				   "driver for *.cairn (commit .gitattributes to share it)\n");
out:
	free(hookdir);
	strbuf_release(&err);
	strbuf_release(&gd);
	return ret;
}
