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
 * The pointer files (named *.cairn) in the work tree that git ignores,
 * inside ignored directories too; .cairn/ excepted. The same form.
 */
int git_list_ignored_pointers(const char *top, char ***paths, size_t *n, struct strbuf *err);

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
 * Every distinct blob in the history of all branches and tags that may be
 * a pointer file: every blob of at most POINTER_MAX_SIZE bytes, WHATEVER
 * ITS NAME (a pointer copied to "data.cairn.v1" is one too), as object ids
 * with the first path git met each at ("" for a blob a ref names). The
 * caller parses them and keeps those that are pointers (for push
 * --all-commits and gc). Tags and trees may be listed: read the type.
 */
int git_all_pointer_blobs(const char *top, char ***oids, char ***paths, size_t *n,
			  struct strbuf *err);
/* The same for the blobs staged in git's index, every conflict stage too. */
int git_index_pointer_blobs(const char *top, char ***oids, char ***paths, size_t *n,
			    struct strbuf *err);
/* The same for the blobs of one commit (40 hex, or any revision). */
int git_commit_pointer_blobs(const char *top, const char *commit, char ***oids, char ***paths,
			     size_t *n, struct strbuf *err);

/*
 * Reads the blobs among `oids` (object ids) of at most `max` bytes, with
 * two `git cat-file` runs for a few thousand of them (no round trip per
 * object), and calls fn(i, data, len, arg) for each, i its index in oids,
 * in order. Trees, tags, larger blobs and objects this clone lacks are
 * skipped. A non-zero return of fn stops the reading and is returned.
 */
int git_read_small_blobs(const char *top, char *const *oids, size_t n, size_t max,
			 int (*fn)(size_t i, const char *data, size_t len, void *arg), void *arg,
			 struct strbuf *err);

/* Whether the repository is a shallow clone (its history is cut). */
int git_is_shallow(const char *top, int *shallow, struct strbuf *err);

/*
 * Whether git ignores one of `paths` (repo-relative, taken literally;
 * a path git tracks is not ignored): 1 if one is, with the first such
 * path in `path` and the rule that ignores it ("SOURCE:LINE:PATTERN")
 * in `rule`; 0 if none is; negative if git fails.
 */
int git_ignored_path(const char *top, const char *const *paths, size_t n, struct strbuf *path,
		     struct strbuf *rule, struct strbuf *err);

/*
 * How many files git's index holds at `rel` (a repo-relative path, taken
 * literally) or below it, into *count, and the first of them into
 * `first`: cairn must not track what git tracks. 0, or the error of
 * running git.
 */
int git_tracked_below(const char *top, const char *rel, size_t *count, struct strbuf *first,
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
/*
 * Where gc -r copies the refs of the git remote: GIT_GC_REFS + PID + "/".
 * git_delete_dead_gc_refs() deletes the copies whose process is gone (a
 * gc -r killed before it deleted its own), and anything else under it.
 */
#define GIT_GC_REFS "refs/cairn/gc/"
int git_delete_dead_gc_refs(const char *top, struct strbuf *err);
/* 1 if git knows a remote named `name`, else 0. */
int git_has_remote(const char *top, const char *name);

int git_resolve_commit(const char *top, const char *rev, struct strbuf *out, struct strbuf *err);

#endif
