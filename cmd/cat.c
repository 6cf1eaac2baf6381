/*
 * cairn cat: one file of any version to stdout, through the public
 * library (include/cairn.h), as any program would read it.
 */
#include "cmd/builtin.h"
#include "include/cairn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAT_BUF (1u << 20)

int cmd_cat(int argc, const char **argv, struct repo *r)
{
	struct strbuf rel = STRBUF_INIT, err = STRBUF_INIT;
	const char *rev = NULL, *arg = NULL;
	cairn_repo *cr = NULL;
	cairn_file *f = NULL;
	char *buf = NULL;
	int i, ret = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rev") && i + 1 < argc)
			rev = argv[++i];
		else if (!strncmp(argv[i], "--rev=", 6))
			rev = argv[i] + 6;
		else if (!strcmp(argv[i], "--") && i + 1 < argc && !arg)
			arg = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("cat", "unknown option '%s'", argv[i]);
		else if (arg)
			return usage_error("cat", "give one path");
		else
			arg = argv[i];
	}
	if (!arg)
		return usage_error("cat", "give the path of a tracked file, or of a file in a tracked directory");
	if (repo_relpath(r, arg, &rel, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (cairn_repo_open(r->top, &cr) || cairn_file_open(cr, rev, rel.buf, &f)) {
		ret = error("%s", cairn_last_error());
		goto out;
	}
	buf = xmalloc(CAT_BUF);
	for (;;) {
		int64_t n = cairn_file_read(f, buf, CAT_BUF);
		if (n < 0) {
			ret = error("%s", cairn_last_error());
			break;
		}
		if (!n)
			break;
		if (write_all(1, buf, (size_t)n) < 0) {
			if (errno != EPIPE)
				ret = error("cannot write to the standard output: %s", strerror(errno));
			else
				ret = 1;
			break;
		}
	}
out:
	free(buf);
	cairn_file_close(f);
	cairn_repo_close(cr);
	strbuf_release(&rel);
	strbuf_release(&err);
	return ret;
}
