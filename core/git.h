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

/*
 * One long-lived `git cat-file --batch` process: reading pointer files at
 * any revision costs a pipe round trip, not a process.
 */
struct git_batch;
int git_batch_open(struct git_batch **out, const char *top, struct strbuf *err);
/*
 * Reads the object `name` ("REV:PATH", or an object id) into content and
 * its type into type (if not NULL). CAIRN_ENOTFOUND (no message) if git
 * says it is missing; names with a newline are CAIRN_EINVAL.
 */
int git_batch_read(struct git_batch *b, const char *name, struct strbuf *type,
		   struct strbuf *content, struct strbuf *err);
void git_batch_close(struct git_batch *b);

/* Pointer files committed in `commit` (sorted repo-relative paths). */
int git_list_pointers_at(const char *top, const char *commit, char ***paths, size_t *n,
			 struct strbuf *err);
/*
 * Every distinct pointer blob in the history of all branches and tags,
 * as object ids with one path each (for push --all-commits and gc).
 */
int git_all_pointer_blobs(const char *top, char ***oids, char ***paths, size_t *n,
			  struct strbuf *err);

/* `git rev-parse --verify REV^{commit}` into out (40 hex); CAIRN_ENOTFOUND. */
/*
 * Fetches every ref of the git remote `remote` (a remote's name, a URL or
 * a path) into refs under `ns` ("refs/cairn/gc/123/": refs/heads/main
 * becomes refs/cairn/gc/123/heads/main), with their commits: the refs
 * as the remote holds them now. CAIRN_EIO when git cannot reach it.
 */
int git_fetch_refs_into(const char *top, const char *remote, const char *ns, struct strbuf *err);
/* Deletes every ref under `ns`. */
int git_delete_refs(const char *top, const char *ns, struct strbuf *err);
/* 1 if git knows a remote named `name`, else 0. */
int git_has_remote(const char *top, const char *name);

int git_resolve_commit(const char *top, const char *rev, struct strbuf *out, struct strbuf *err);

#endif
