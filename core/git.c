#include "core/git.h"
#include "core/pointer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A child that writes in[0..len) to fd and exits; -1 if it cannot fork. */
static pid_t start_writer(int fd, const char *in, size_t len)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	while (len) {
		ssize_t n = write(fd, in, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1); /* git went away: it says why */
		in += n;
		len -= (size_t)n;
	}
	_exit(0);
}

/*
 * run_capture(), with the exit status of a child that exited (any code)
 * in *code instead of an error, and `in` (if not NULL) on its stdin:
 * written by a child of its own, so that neither pipe can fill up while
 * the other waits.
 */
static int run_capture_code(const char *const *argv, const char *dir, const struct strbuf *in,
			    size_t max, struct strbuf *out, int *code, struct strbuf *err)
{
	int pfd[2], status, ret = 0, execfd[2], ifd[2] = { -1, -1 };
	pid_t pid, writer = -1;
	char buf[65536];
	int exec_errno = 0;

	strbuf_reset(out);
	if (in && pipe2(ifd, O_CLOEXEC) < 0)
		return cerr_errno(err, "cannot create a pipe");
	if (pipe2(pfd, O_CLOEXEC) < 0 || pipe2(execfd, O_CLOEXEC) < 0) {
		ret = cerr_errno(err, "cannot create a pipe");
		if (in) {
			close(ifd[0]);
			close(ifd[1]);
		}
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = cerr_errno(err, "cannot fork");
		close(pfd[0]);
		close(pfd[1]);
		close(execfd[0]);
		close(execfd[1]);
		if (in) {
			close(ifd[0]);
			close(ifd[1]);
		}
		return ret;
	}
	if (!pid) {
		int e;
		dup2(pfd[1], 1);
		if (in)
			dup2(ifd[0], 0);
		if (dir && chdir(dir) < 0) {
			e = errno;
			(void)!write(execfd[1], &e, sizeof(e));
			_exit(127);
		}
		execvp(argv[0], (char *const *)argv);
		e = errno;
		(void)!write(execfd[1], &e, sizeof(e));
		_exit(127);
	}
	close(pfd[1]);
	close(execfd[1]);
	if (in) {
		close(ifd[0]);
		writer = start_writer(ifd[1], in->buf, in->len);
		close(ifd[1]);
		if (writer < 0)
			ret = cerr_errno(err, "cannot fork");
	}
	while (!ret) {
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len + (size_t)n > max) {
			ret = cerr(err, CAIRN_EIO, "output of '%s' is too large", argv[0]);
			break;
		}
		strbuf_add(out, buf, (size_t)n);
	}
	close(pfd[0]);
	if (read(execfd[0], &exec_errno, sizeof(exec_errno)) != sizeof(exec_errno))
		exec_errno = 0;
	close(execfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	while (writer > 0 && waitpid(writer, NULL, 0) < 0 && errno == EINTR)
		;
	if (ret)
		return ret;
	if (exec_errno)
		return cerr(err, CAIRN_ENOTFOUND, "cannot run '%s': %s", argv[0], strerror(exec_errno));
	if (!WIFEXITED(status))
		return cerr(err, CAIRN_EIO, "'%s %s' failed", argv[0], argv[1] ? argv[1] : "");
	*code = WEXITSTATUS(status);
	return 0;
}

int run_capture(const char *const *argv, const char *dir, size_t max, struct strbuf *out,
		struct strbuf *err)
{
	int code = 0, ret = run_capture_code(argv, dir, NULL, max, out, &code, err);
	if (!ret && code)
		ret = cerr(err, CAIRN_EIO, "'%s %s' failed", argv[0], argv[1] ? argv[1] : "");
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The pointer files that `git ls-files ARGV... -- '*.cairn'` lists. */
static int list_pointer_files(const char *top, const char *const *argv, char ***paths, size_t *n,
			      struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	char **list = NULL;
	size_t nr = 0, alloc = 0, pos = 0, i, k;
	int ret = run_capture(argv, top, (size_t)1 << 30, &out, err);
	if (ret) {
		strbuf_release(&out);
		return ret;
	}
	while (pos < out.len) {
		const char *s = out.buf + pos;
		size_t l = strlen(s);
		pos += l + 1;
		if (!l || starts_with(s, ".cairn/"))
			continue;
		{
			struct stat st;
			char *abs = xstrfmt("%s/%s", top, s);
			int ok = lstat(abs, &st) == 0 && S_ISREG(st.st_mode);
			free(abs);
			if (!ok)
				continue; /* deleted from the work tree, or not a file */
		}
		ALLOC_GROW(list, nr + 1, alloc);
		list[nr++] = xstrdup(s);
	}
	strbuf_release(&out);
	if (nr)
		sort_array(list, nr, sizeof(*list), cmp_str);
	for (i = k = 0; i < nr; i++) {
		if (k && !strcmp(list[k - 1], list[i])) {
			free(list[i]);
			continue;
		}
		list[k++] = list[i];
	}
	*paths = list;
	*n = k;
	return 0;
}

int git_list_pointers(const char *top, char ***paths, size_t *n, struct strbuf *err)
{
	const char *argv[] = { "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
			       "--", "*" POINTER_SUFFIX, NULL };
	return list_pointer_files(top, argv, paths, n, err);
}

int git_list_ignored_pointers(const char *top, char ***paths, size_t *n, struct strbuf *err)
{
	/* git reads the ignored directories (cairn's data among them) but
	 * stats nothing in them: a fraction of a second per million files */
	const char *argv[] = { "git", "ls-files", "-z", "--others", "--ignored", "--exclude-standard",
			       "--", "*" POINTER_SUFFIX, ":(exclude).cairn/", NULL };
	return list_pointer_files(top, argv, paths, n, err);
}

struct git_batch {
	pid_t pid;
	FILE *in;  /* to git */
	FILE *out; /* from git */
};

int git_batch_open(struct git_batch **out, const char *top, struct strbuf *err)
{
	int to[2], from[2];
	pid_t pid;
	struct git_batch *b;

	if (pipe2(to, O_CLOEXEC) < 0)
		return cerr_errno(err, "cannot create a pipe");
	if (pipe2(from, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		return cerr_errno(err, "cannot create a pipe");
	}
	pid = fork();
	if (pid < 0) {
		int r = cerr_errno(err, "cannot fork");
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		return r;
	}
	if (!pid) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		if (chdir(top) < 0)
			_exit(127);
		execlp("git", "git", "cat-file", "--batch", (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	b = xcalloc(1, sizeof(*b));
	b->pid = pid;
	b->in = fdopen(to[1], "w");
	b->out = fdopen(from[0], "r");
	if (!b->in || !b->out) {
		git_batch_close(b);
		return cerr_errno(err, "cannot talk to git");
	}
	*out = b;
	return 0;
}

int git_batch_read(struct git_batch *b, const char *name, struct strbuf *type,
		   struct strbuf *content, struct strbuf *err)
{
	char line[512], *sp1, *sp2;
	unsigned long long size;
	size_t got;

	if (strchr(name, '\n'))
		return cerr(err, CAIRN_EINVAL, "a revision or path with a newline: '%s'", name);
	if (fprintf(b->in, "%s\n", name) < 0 || fflush(b->in))
		return cerr(err, CAIRN_EIO, "git cat-file died");
	if (!fgets(line, sizeof(line), b->out))
		return cerr(err, CAIRN_EIO, "git cat-file died");
	line[strcspn(line, "\n")] = '\0';
	if (ends_with(line, " missing") || ends_with(line, " ambiguous"))
		return CAIRN_ENOTFOUND;
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2)
		return cerr(err, CAIRN_EIO, "unexpected answer from git cat-file: '%s'", line);
	*sp2 = '\0';
	size = strtoull(sp2 + 1, NULL, 10);
	if (type) {
		strbuf_reset(type);
		strbuf_addstr(type, sp1 + 1);
	}
	strbuf_reset(content);
	if (size > (1ull << 30))
		return cerr(err, CAIRN_EFORMAT, "object '%s' is too large", name);
	strbuf_grow(content, (size_t)size);
	got = fread(content->buf, 1, (size_t)size, b->out);
	if (got != size || fgetc(b->out) != '\n')
		return cerr(err, CAIRN_EIO, "short read from git cat-file");
	strbuf_setlen(content, (size_t)size);
	return 0;
}

void git_batch_close(struct git_batch *b)
{
	int status;
	if (!b)
		return;
	if (b->in)
		fclose(b->in);
	if (b->out)
		fclose(b->out);
	while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
		;
	free(b);
}

int git_tracked_below(const char *top, const char *rel, size_t *count, struct strbuf *first,
		      struct strbuf *err)
{
	const char *argv[] = { "git", "ls-files", "-z", "--cached", "--", NULL, NULL };
	struct strbuf spec = STRBUF_INIT, out = STRBUF_INIT;
	size_t pos = 0, n = 0;
	int ret;
	strbuf_addf(&spec, ":(literal)%s", rel);
	argv[5] = spec.buf;
	ret = run_capture(argv, top, (size_t)1 << 30, &out, err);
	while (!ret && pos < out.len) {
		const char *s = out.buf + pos;
		size_t l = strlen(s);
		if (l && !n) {
			strbuf_reset(first);
			strbuf_add(first, s, l);
		}
		n += l > 0;
		pos += l + 1;
	}
	if (!ret)
		*count = n;
	strbuf_release(&spec);
	strbuf_release(&out);
	return ret;
}

int git_resolve_commit(const char *top, const char *rev, struct strbuf *out, struct strbuf *err)
{
	struct strbuf arg = STRBUF_INIT;
	const char *argv[] = { "git", "rev-parse", "--verify", "--quiet", NULL, NULL };
	int r;
	if (!*rev || rev[0] == '-')
		return cerr(err, CAIRN_EINVAL, "bad revision '%s'", rev);
	strbuf_addf(&arg, "%s^{commit}", rev);
	argv[4] = arg.buf;
	r = run_capture(argv, top, 4096, out, err);
	strbuf_release(&arg);
	strbuf_rtrim(out);
	if (r == CAIRN_EIO || (!r && out->len != 40))
		return cerr(err, CAIRN_ENOTFOUND, "unknown revision '%s'", rev);
	return r;
}

int git_list_pointers_at(const char *top, const char *commit, char ***paths, size_t *n,
			 struct strbuf *err)
{
	const char *argv[] = { "git", "ls-tree", "-r", "-z", "--name-only", commit, NULL };
	struct strbuf out = STRBUF_INIT;
	char **list = NULL;
	size_t nr = 0, alloc = 0, pos = 0;
	int ret = run_capture(argv, top, (size_t)1 << 30, &out, err);
	while (!ret && pos < out.len) {
		const char *s = out.buf + pos;
		size_t l = strlen(s);
		pos += l + 1;
		if (!ends_with(s, POINTER_SUFFIX) || starts_with(s, ".cairn/"))
			continue;
		ALLOC_GROW(list, nr + 1, alloc);
		list[nr++] = xstrdup(s);
	}
	strbuf_release(&out);
	if (nr)
		sort_array(list, nr, sizeof(*list), cmp_str);
	*paths = list;
	*n = nr;
	return ret;
}

/*
 * The blobs that `git rev-list --objects WHICH` reaches and that are small
 * enough to be pointer files, whatever their names.
 */
static int list_small_blobs(const char *top, const char *which, const char *which2, char ***oids,
			    char ***paths, size_t *n, struct strbuf *err)
{
	/* blobs only (a tag a ref names, a tree of the index's cache are
	 * listed too), none larger than a pointer file can be: git reads no
	 * blob to list them */
	char *filter = xstrfmt("--filter=combine:blob:limit=%d+object:type=blob",
			       POINTER_MAX_SIZE + 1);
	const char *argv[] = { "git", "rev-list", "--objects", filter, which, which2, NULL };
	struct strbuf out = STRBUF_INIT;
	char **o = NULL, **p = NULL;
	size_t nr = 0, ao = 0, ap = 0, pos = 0;
	int ret = run_capture(argv, top, (size_t)4 << 30, &out, err);
	while (!ret && pos < out.len) {
		char *line = out.buf + pos, *nl = memchr(line, '\n', out.len - pos), *sp;
		size_t l = nl ? (size_t)(nl - line) : out.len - pos;
		pos += l + 1;
		line[l] = '\0';
		/* "OID PATH" (PATH may be empty); a commit is "OID" alone */
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		ALLOC_GROW(o, nr + 1, ao);
		ALLOC_GROW(p, nr + 1, ap);
		o[nr] = xstrndup(line, (size_t)(sp - line));
		p[nr] = xstrdup(sp + 1);
		nr++;
	}
	strbuf_release(&out);
	free(filter);
	*oids = o;
	*paths = p;
	*n = nr;
	return ret;
}

/* run_capture() with `in` on the command's stdin. */
static int run_input(const char *const *argv, const char *dir, const struct strbuf *in, size_t max,
		     struct strbuf *out, struct strbuf *err)
{
	int code = 0, ret = run_capture_code(argv, dir, in, max, out, &code, err);
	if (!ret && code)
		ret = cerr(err, CAIRN_EIO, "'%s %s' failed", argv[0], argv[1] ? argv[1] : "");
	return ret;
}

/* One run of git_read_small_blobs(): oids[0..n), numbered from `base`. */
static int read_small_blobs(const char *top, char *const *oids, size_t n, size_t base, size_t max,
			    int (*fn)(size_t i, const char *data, size_t len, void *arg), void *arg,
			    struct strbuf *err)
{
	const char *check[] = { "git", "cat-file", "--batch-check", NULL };
	const char *batch[] = { "git", "cat-file", "--batch", NULL };
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	size_t *pick = xcalloc(n + 1, sizeof(*pick)), k = 0, i, pos = 0;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		if (!*oids[i] || strpbrk(oids[i], " \n"))
			ret = cerr(err, CAIRN_EINVAL, "bad object name '%s'", oids[i]);
		strbuf_addf(&in, "%s\n", oids[i]);
	}
	/* first the types and sizes: OID SP TYPE SP SIZE, or OID SP missing */
	if (!ret)
		ret = run_input(check, top, &in, (size_t)n * 128 + 4096, &out, err);
	for (i = 0; i < n && !ret; i++) {
		char *line = out.buf + pos, *nl = memchr(line, '\n', out.len - pos), *sp;
		if (!nl) {
			ret = cerr(err, CAIRN_EIO, "short answer from git cat-file --batch-check");
			break;
		}
		*nl = '\0';
		pos = (size_t)(nl - out.buf) + 1;
		sp = strchr(line, ' ');
		if (sp && starts_with(sp + 1, "blob ") && strtoull(sp + 6, NULL, 10) <= max)
			pick[k++] = i;
		/* anything else: not a blob, too large, or not in this clone */
	}
	strbuf_reset(&in);
	for (i = 0; i < k; i++)
		strbuf_addf(&in, "%s\n", oids[pick[i]]);
	/* then their contents: OID SP TYPE SP SIZE LF DATA LF */
	if (!ret && k)
		ret = run_input(batch, top, &in, k * (max + 128) + 4096, &out, err);
	pos = 0;
	for (i = 0; i < k && !ret; i++) {
		char *line = out.buf + pos, *nl = memchr(line, '\n', out.len - pos), *sp;
		unsigned long long size;
		if (!nl) {
			ret = cerr(err, CAIRN_EIO, "short answer from git cat-file --batch");
			break;
		}
		*nl = '\0';
		pos = (size_t)(nl - out.buf) + 1;
		sp = strrchr(line, ' ');
		if (ends_with(line, " missing"))
			continue; /* gone since the first question */
		size = sp ? strtoull(sp + 1, NULL, 10) : ~0ull;
		if (size > max || out.len - pos < size + 1) {
			ret = cerr(err, CAIRN_EIO, "unexpected answer from git cat-file --batch: '%s'",
				   line);
			break;
		}
		ret = fn(base + pick[i], out.buf + pos, (size_t)size, arg);
		pos += (size_t)size + 1;
	}
	free(pick);
	strbuf_release(&in);
	strbuf_release(&out);
	return ret;
}

int git_read_small_blobs(const char *top, char *const *oids, size_t n, size_t max,
			 int (*fn)(size_t i, const char *data, size_t len, void *arg), void *arg,
			 struct strbuf *err)
{
	/* a few thousand a run: what git writes back stays some MiB */
	const size_t per_run = 8192;
	size_t i;
	int ret = 0;
	for (i = 0; i < n && !ret; i += per_run)
		ret = read_small_blobs(top, oids + i, n - i < per_run ? n - i : per_run, i, max, fn,
				       arg, err);
	return ret;
}

int git_all_pointer_blobs(const char *top, char ***oids, char ***paths, size_t *n,
			  struct strbuf *err)
{
	return list_small_blobs(top, "--all", NULL, oids, paths, n, err);
}

int git_index_pointer_blobs(const char *top, char ***oids, char ***paths, size_t *n,
			    struct strbuf *err)
{
	return list_small_blobs(top, "--indexed-objects", NULL, oids, paths, n, err);
}

int git_commit_pointer_blobs(const char *top, const char *commit, char ***oids, char ***paths,
			     size_t *n, struct strbuf *err)
{
	if (!*commit || commit[0] == '-')
		return cerr(err, CAIRN_EINVAL, "bad revision '%s'", commit);
	return list_small_blobs(top, "--no-walk", commit, oids, paths, n, err);
}

int git_is_shallow(const char *top, int *shallow, struct strbuf *err)
{
	const char *argv[] = { "git", "rev-parse", "--is-shallow-repository", NULL };
	struct strbuf out = STRBUF_INIT;
	int ret = run_capture(argv, top, 4096, &out, err);
	strbuf_rtrim(&out);
	if (!ret && strcmp(out.buf, "true") && strcmp(out.buf, "false"))
		ret = cerr(err, CAIRN_EIO, "unexpected answer from git rev-parse "
			   "--is-shallow-repository: '%s'", out.buf);
	if (!ret)
		*shallow = !strcmp(out.buf, "true");
	strbuf_release(&out);
	return ret;
}

/* `git check-ignore` of paths: 1 if one is ignored, 0 if none is. */
static int check_ignore(const char *top, const char *const *paths, size_t n, struct strbuf *err)
{
	const char **argv = xcalloc(n + 4, sizeof(*argv));
	char **dot = xcalloc(n + 1, sizeof(*dot));
	struct strbuf out = STRBUF_INIT;
	size_t k = 0, i;
	int ret, code = 0;

	argv[k++] = "git";
	argv[k++] = "check-ignore";
	argv[k++] = "--";
	/* "./" first: a path starting with ':' is no pathspec magic (and
	 * check-ignore refuses --literal-pathspecs) */
	for (i = 0; i < n; i++)
		argv[k++] = dot[i] = xstrfmt("./%s", paths[i]);
	argv[k] = NULL;
	ret = run_capture_code(argv, top, NULL, (size_t)1 << 24, &out, &code, err);
	if (!ret && code > 1)
		ret = cerr(err, CAIRN_EIO, "'git check-ignore' failed");
	if (!ret)
		ret = !code;
	strbuf_release(&out);
	for (i = 0; i < n; i++)
		free(dot[i]);
	free(dot);
	free(argv);
	return ret;
}

int git_ignored_path(const char *top, const char *const *paths, size_t n, struct strbuf *path,
		     struct strbuf *rule, struct strbuf *err)
{
	/* a few hundred paths a run: the command line stays short */
	const size_t per_run = 256;
	size_t i, j;
	int ret = 0;

	for (i = 0; i < n && !ret; i += per_run)
		ret = check_ignore(top, paths + i, n - i < per_run ? n - i : per_run, err);
	if (ret <= 0)
		return ret;
	/* which one, and the rule (-v also names "!" rules: only now) */
	for (j = 0; j < n; j++) {
		char *dot, *tab;
		int code = 0;
		ret = check_ignore(top, paths + j, 1, err);
		if (ret < 0)
			return ret;
		if (!ret)
			continue;
		dot = xstrfmt("./%s", paths[j]);
		{
			const char *argv[] = { "git", "check-ignore", "-v", "--", dot, NULL };
			ret = run_capture_code(argv, top, NULL, (size_t)1 << 20, rule, &code, err);
		}
		free(dot);
		if (ret)
			return ret;
		/* SOURCE:LINE:PATTERN TAB PATH (quoted): the rule is what is before */
		tab = strrchr(rule->buf, '\t');
		if (tab)
			strbuf_setlen(rule, (size_t)(tab - rule->buf));
		strbuf_rtrim(rule);
		strbuf_reset(path);
		strbuf_addstr(path, paths[j]);
		return 1;
	}
	return cerr(err, CAIRN_EIO, "git check-ignore does not say which path it ignores");
}


int git_fetch_refs_into(const char *top, const char *remote, const char *ns, struct strbuf *err)
{
	char *spec = xstrfmt("+refs/*:%s*", ns);
	const char *argv[] = { "git", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
			       "--no-recurse-submodules", "--prune", "--", remote, spec, NULL };
	struct strbuf out = STRBUF_INIT;
	int ret = run_capture(argv, top, 1 << 20, &out, err);
	if (ret) {
		strbuf_reset(err);
		ret = cerr(err, CAIRN_EIO, "cannot read the refs of git remote '%s' (git fetch failed)",
			   remote);
	}
	strbuf_release(&out);
	free(spec);
	return ret;
}

/* Deletes the refs for which keep() says 0 (all when keep is NULL). */
static int delete_refs_if(const char *top, const char *ns, int (*keep)(const char *ref),
			  struct strbuf *err)
{
	const char *argv[] = { "git", "for-each-ref", "--format=%(refname)", ns, NULL };
	const char *upd[] = { "git", "update-ref", "--stdin", NULL };
	struct strbuf out = STRBUF_INIT, cmds = STRBUF_INIT, dummy = STRBUF_INIT;
	size_t pos = 0;
	int ret = run_capture(argv, top, (size_t)1 << 30, &out, err);
	while (!ret && pos < out.len) {
		char *nl = memchr(out.buf + pos, '\n', out.len - pos);
		if (!nl)
			break;
		*nl = '\0';
		if (!keep || !keep(out.buf + pos))
			strbuf_addf(&cmds, "delete %s\n", out.buf + pos);
		pos = (size_t)(nl - out.buf) + 1;
	}
	/* one git for all of them */
	if (!ret && cmds.len)
		ret = run_input(upd, top, &cmds, 4096, &dummy, err);
	strbuf_release(&out);
	strbuf_release(&cmds);
	strbuf_release(&dummy);
	return ret;
}

int git_delete_refs(const char *top, const char *ns, struct strbuf *err)
{
	return delete_refs_if(top, ns, NULL, err);
}

/* refs/cairn/gc/PID/...: kept while process PID runs */
static int gc_ref_live(const char *ref)
{
	const char *p = ref + strlen(GIT_GC_REFS);
	char *end;
	long pid = strtol(p, &end, 10);
	if (end == p || *end != '/' || pid <= 0)
		return 0; /* not ours: not a namespace any gc -r made */
	return !(kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

int git_delete_dead_gc_refs(const char *top, struct strbuf *err)
{
	return delete_refs_if(top, GIT_GC_REFS, gc_ref_live, err);
}

int git_has_remote(const char *top, const char *name)
{
	char *key = xstrfmt("remote.%s.url", name);
	const char *argv[] = { "git", "config", "--get", key, NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int has = !run_capture(argv, top, 1 << 16, &out, &err);
	strbuf_release(&out);
	strbuf_release(&err);
	free(key);
	return has;
}
