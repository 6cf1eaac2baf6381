#ifndef CAIRN_GIT_H
#define CAIRN_GIT_H
/*
 * The few calls into the user's git, as subprocesses.
 */
#include "core/util.h"

/*
 * Runs argv (argv[0] is looked up in PATH) in `dir`, capturing stdout
 * (at most `max` bytes). Returns 0 if it exited 0; CAIRN_ENOTFOUND if it
 * could not be run; CAIRN_EIO otherwise (stderr is passed through).
 */
int run_capture(const char *const *argv, const char *dir, size_t max, struct strbuf *out,
		struct strbuf *err);

/*
 * Lists pointer files in the work tree at `top`, committed or not but not
 * ignored, as NUL-separated repo-relative paths (sorted, deduplicated).
 */
int git_list_pointers(const char *top, char ***paths, size_t *n, struct strbuf *err);

#endif
