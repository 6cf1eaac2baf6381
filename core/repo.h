#ifndef CAIRN_REPO_H
#define CAIRN_REPO_H
/*
 * A cairn repository: a git work tree whose top holds .cairn/:
 *
 *   .cairn/config        committed: format, chunking, remotes, settings
 *   .cairn/config.local  not committed: credentials, local paths
 *   .cairn/.gitignore    keeps store/, tmp and config.local out of git
 *   .cairn/store/        the object store (core/odb.h)
 *
 * Settings are read from the user file ($XDG_CONFIG_HOME/cairn/config or
 * ~/.config/cairn/config), then .cairn/config, then .cairn/config.local;
 * later files win.
 */
#include "core/config.h"
#include "core/odb.h"
#include "core/util.h"

#define REPO_FORMAT 1

struct repo {
	char *top;        /* absolute path of the work tree top */
	char *cairn_dir;  /* top/.cairn */
	char *store_dir;  /* top/.cairn/store */
	char *prefix;     /* the cwd relative to top, "" or ending in '/' */
	char *tracked_ok; /* for .cairn/state/tracked-ok when the store is opened for writing */
	struct config *cfg;
	struct odb *odb;  /* NULL until repo_open_store() */
	uint32_t chunk_min, chunk_avg, chunk_max;
	int zlevel;
	int threads;
};

/*
 * Finds the work tree containing the cwd (the nearest directory holding
 * .git) and, with need_cairn, its .cairn/. Errors: CAIRN_ENOREPO with a
 * message saying what is missing, CAIRN_EFORMAT/EVERSION for bad config.
 */
int repo_discover(struct repo **out, int need_cairn, struct strbuf *err);
/* The same from `dir` instead of the cwd (r->prefix is dir below the top). */
int repo_discover_at(const char *dir, struct repo **out, int need_cairn, struct strbuf *err);
/* Creates .cairn/ in r->top with the given chunking (0 = defaults). */
int repo_init(struct repo *r, uint32_t min, uint32_t avg, uint32_t max, int zlevel,
	      struct strbuf *err);
int repo_open_store(struct repo *r, int readonly, struct strbuf *err);
/*
 * For commands that only read but would write a cache if they could
 * (status, fsck): opens the store for writing, or, when that fails (a
 * read-only file system, no permission), read-only. Caches are then not
 * saved (wt_stat_cache_save does nothing).
 */
int repo_open_store_reading(struct repo *r, struct strbuf *err);
void repo_free(struct repo *r);
/* Reloads configuration (after init or config changes). */
int repo_load_config(struct repo *r, struct strbuf *err);
/* Path of a config file: "repo", "local" or "user". */
char *repo_config_path(const struct repo *r, const char *which);

/*
 * Turns a path given by the user (relative to the cwd, or absolute) into a
 * normalised path relative to the top (no "." or ".." components, no
 * trailing slash). A trailing ".cairn" is kept. Errors (CAIRN_EUNSAFE):
 * outside the work tree, the top itself, inside .git/ or .cairn/, or a
 * component that entry_name_ok() refuses.
 */
int repo_relpath(const struct repo *r, const char *arg, struct strbuf *out, struct strbuf *err);
/* top + "/" + rel */
char *repo_abspath(const struct repo *r, const char *rel);
/*
 * A temp file prefix in the store for a file that will be renamed into
 * the work tree (write_file_atomic_via, checkout of a single file): a
 * process killed before its rename leaves nothing there for git to see,
 * and odb_clean_tmp() removes what a dead process left. NULL when the
 * store is not open. Free it.
 */
char *repo_tmp_prefix(const struct repo *r);
/*
 * Before writing rel: checks that every component of rel passes
 * entry_name_ok() (so no "..", ".git" or ".cairn" however spelled, no
 * empty component), and that every directory above rel (inside the work
 * tree) is a real directory, not a symlink. CAIRN_EUNSAFE if not;
 * missing directories are fine (they will be created).
 */
int repo_check_parents(const struct repo *r, const char *rel, struct strbuf *err);

#endif
