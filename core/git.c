#include "core/git.h"
#include "core/pointer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int run_capture(const char *const *argv, const char *dir, size_t max, struct strbuf *out,
		struct strbuf *err)
{
	int pfd[2], status, ret = 0, execfd[2];
	pid_t pid;
	char buf[65536];
	int exec_errno = 0;

	strbuf_reset(out);
	if (pipe2(pfd, O_CLOEXEC) < 0 || pipe2(execfd, O_CLOEXEC) < 0)
		return cerr_errno(err, "cannot create a pipe");
	pid = fork();
	if (pid < 0) {
		ret = cerr_errno(err, "cannot fork");
		close(pfd[0]);
		close(pfd[1]);
		close(execfd[0]);
		close(execfd[1]);
		return ret;
	}
	if (!pid) {
		int e;
		dup2(pfd[1], 1);
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
	for (;;) {
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
	if (ret)
		return ret;
	if (exec_errno)
		return cerr(err, CAIRN_ENOTFOUND, "cannot run '%s': %s", argv[0], strerror(exec_errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return cerr(err, CAIRN_EIO, "'%s %s' failed", argv[0], argv[1] ? argv[1] : "");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int git_list_pointers(const char *top, char ***paths, size_t *n, struct strbuf *err)
{
	const char *argv[] = { "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
			       "--", "*" POINTER_SUFFIX, NULL };
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

int git_all_pointer_blobs(const char *top, char ***oids, char ***paths, size_t *n,
			  struct strbuf *err)
{
	const char *argv[] = { "git", "rev-list", "--objects", "--all", NULL };
	struct strbuf out = STRBUF_INIT;
	char **o = NULL, **p = NULL;
	size_t nr = 0, ao = 0, ap = 0, pos = 0;
	int ret = run_capture(argv, top, (size_t)4 << 30, &out, err);
	while (!ret && pos < out.len) {
		char *line = out.buf + pos, *nl = memchr(line, '\n', out.len - pos), *sp;
		size_t l = nl ? (size_t)(nl - line) : out.len - pos;
		pos += l + 1;
		line[l] = '\0';
		sp = strchr(line, ' ');
		if (!sp || !ends_with(sp + 1, POINTER_SUFFIX) || starts_with(sp + 1, ".cairn/") ||
		    !strcmp(sp + 1, ".cairn") || ends_with(sp + 1, "/" POINTER_SUFFIX))
			continue;
		ALLOC_GROW(o, nr + 1, ao);
		ALLOC_GROW(p, nr + 1, ap);
		o[nr] = xstrndup(line, (size_t)(sp - line));
		p[nr] = xstrdup(sp + 1);
		nr++;
	}
	strbuf_release(&out);
	*oids = o;
	*paths = p;
	*n = nr;
	return ret;
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

int git_delete_refs(const char *top, const char *ns, struct strbuf *err)
{
	const char *argv[] = { "git", "for-each-ref", "--format=%(refname)", ns, NULL };
	struct strbuf out = STRBUF_INIT, dummy = STRBUF_INIT;
	size_t pos = 0;
	int ret = run_capture(argv, top, (size_t)1 << 30, &out, err);
	while (!ret && pos < out.len) {
		char *nl = memchr(out.buf + pos, '\n', out.len - pos);
		const char *del[] = { "git", "update-ref", "-d", out.buf + pos, NULL };
		if (!nl)
			break;
		*nl = '\0';
		ret = run_capture(del, top, 4096, &dummy, err);
		pos = (size_t)(nl - out.buf) + 1;
	}
	strbuf_release(&out);
	strbuf_release(&dummy);
	return ret;
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
