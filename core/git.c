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
		qsort(list, nr, sizeof(*list), cmp_str);
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
