/*
 * cairn add: store files or directories and write their pointer files.
 */
#include "cmd/builtin.h"
#include "core/git.h"
#include "core/ingest.h"
#include "core/pointer.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct target {
	struct strbuf data, ptr;
	struct wt_node *node;
};

/* Escape a name for a .gitignore pattern that matches exactly it. */
static void gitignore_escape(struct strbuf *out, const char *name)
{
	size_t i, n = strlen(name);
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (c == '*' || c == '?' || c == '[' || c == '\\' || (i == 0 && (c == '#' || c == '!')) ||
		    (c == ' ' && i == n - 1))
			strbuf_addch(out, '\\');
		strbuf_addch(out, c);
	}
}

/* Make sure `parent/.gitignore` has the line "/name"; safe against other adds. */
int ensure_gitignored(struct repo *r, const char *rel, struct strbuf *err)
{
	const char *slash = strrchr(rel, '/');
	struct strbuf path = STRBUF_INIT, line = STRBUF_INIT, cur = STRBUF_INIT;
	struct lock_file lk = LOCK_FILE_INIT;
	char *abs;
	int ret;
	size_t pos = 0;

	strbuf_addch(&line, '/');
	gitignore_escape(&line, slash ? slash + 1 : rel);
	if (slash)
		strbuf_addf(&path, "%.*s/.gitignore", (int)(slash - rel), rel);
	else
		strbuf_addstr(&path, ".gitignore");
	abs = repo_abspath(r, path.buf);
	/* another add may be adding its line: wait for it (lock_file_hold) */
	ret = lock_file_hold(&lk, abs, 10000, err);
	if (ret)
		goto out; /* not "no .gitignore yet", even when its directory is gone */
	ret = read_file(abs, 16u << 20, &cur, err);
	if (ret == CAIRN_ENOTFOUND) {
		ret = 0;
		strbuf_reset(&cur);
	}
	if (ret)
		goto out;
	while (pos < cur.len) {
		size_t n = strcspn(cur.buf + pos, "\n");
		if (n == line.len && !memcmp(cur.buf + pos, line.buf, n))
			goto out; /* already there */
		pos += n + 1;
	}
	if (cur.len && cur.buf[cur.len - 1] != '\n')
		strbuf_addch(&cur, '\n');
	strbuf_add(&cur, line.buf, line.len);
	strbuf_addch(&cur, '\n');
	/* durable like the pointer beside it: a power loss must not leave
	 * an empty .gitignore that lets git add the data itself */
	ret = lock_file_commit(&lk, cur.buf, cur.len, 07777, err);
out:
	lock_file_release(&lk);
	free(abs);
	strbuf_release(&path);
	strbuf_release(&line);
	strbuf_release(&cur);
	return ret;
}

/* Refuse paths inside an already tracked directory. */
int check_not_nested(struct repo *r, const char *rel, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	const char *s = rel, *slash;
	int ret = 0;
	while ((slash = strchr(s, '/'))) {
		struct stat st;
		char *abs;
		strbuf_reset(&p);
		strbuf_add(&p, rel, (size_t)(slash - rel));
		strbuf_addstr(&p, POINTER_SUFFIX);
		abs = repo_abspath(r, p.buf);
		if (!lstat(abs, &st))
			ret = cerr(err, CAIRN_EINVAL, "'%s' is inside a tracked path (see '%s')", rel, p.buf);
		free(abs);
		if (ret)
			break;
		s = slash + 1;
	}
	strbuf_release(&p);
	return ret;
}

/*
 * Data git tracks itself would be in git and in cairn at once, and a
 * commit would hold both: refuse, saying how to untrack it. 1 (after the
 * error message) if refused.
 */
static int refuse_git_tracked(struct repo *r, const char *rel)
{
	struct strbuf err = STRBUF_INIT, first = STRBUF_INIT, fix = STRBUF_INIT;
	size_t n = 0;
	int ret = 0;
	if (git_tracked_below(r->top, rel, &n, &first, &err)) {
		ret = error("cannot ask git whether it tracks '%s': %s", rel, err.buf);
	} else if (n && !strcmp(first.buf, rel)) {
		strbuf_add_sq(&fix, rel);
		ret = error("'%s' is tracked by git; untrack it first (the file stays): git rm --cached %s",
			    rel, fix.buf);
	} else if (n) {
		strbuf_add_sq(&fix, rel);
		ret = error("git tracks %zu file%s in '%s' ('%s'%s); untrack them first (the files stay): git rm -r --cached %s",
			    n, n == 1 ? "" : "s", rel, first.buf, n == 1 ? "" : " and others", fix.buf);
	}
	strbuf_release(&err);
	strbuf_release(&first);
	strbuf_release(&fix);
	return ret;
}

int check_pointers_seen(struct repo *r, const char *const *ptrs, size_t n)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, rule = STRBUF_INIT;
	int ret = git_ignored_path(r->top, ptrs, n, &path, &rule, &err);
	if (ret < 0) {
		ret = error("cannot ask git what it ignores: %s", err.buf);
	} else if (ret) {
		ret = error("the pointer file '%s' would be ignored by git (%s): git status, "
			    "cairn push and gc would not see it, and gc would remove its data",
			    path.buf, rule.buf);
		fprintf(stderr, "hint: let git see pointer files: a '!*.cairn' rule after the one "
			"that ignores it, and no ignored directory above it (git cannot re-include "
			"a file inside an ignored directory: ignore 'dir/*' rather than 'dir/'); or "
			"track a path outside the ignored directory\n");
	}
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&rule);
	return ret;
}

int cmd_add(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	struct target *tg;
	struct wt_node **roots;
	struct oid *bases;
	struct odb_batch *b = NULL;
	struct odb_stats os;
	struct ingest_stats is;
	struct progress *p;
	struct odb_thread t;
	int quiet = 0, gitignore = 1, i, nt = 0, ret = 0, j;
	uint64_t total_bytes = 0, total_files = 0;

	tg = xcalloc((size_t)argc, sizeof(*tg));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = 1;
		} else if (!strcmp(a, "--no-gitignore")) {
			gitignore = 0;
		} else if (!strcmp(a, "--")) {
			for (i++; i < argc; i++)
				tg[nt++].data.buf = (char *)argv[i];
			break;
		} else if (a[0] == '-' && a[1]) {
			free(tg);
			return usage_error("add", "unknown option '%s'", a);
		} else {
			tg[nt++].data.buf = (char *)argv[i];
		}
	}
	if (!nt) {
		free(tg);
		return usage_error("add", "nothing to add: give one or more paths");
	}
	/* resolve and check every path before storing anything */
	for (i = 0; i < nt; i++) {
		const char *arg = tg[i].data.buf;
		strbuf_init(&tg[i].data, 0);
		strbuf_init(&tg[i].ptr, 0);
		if (resolve_tracked(r, arg, &tg[i].data, &tg[i].ptr, &err) ||
		    check_not_nested(r, tg[i].data.buf, &err) ||
		    repo_check_parents(r, tg[i].data.buf, &err)) {
			ret = error("%s", err.buf);
			nt = i + 1;
			goto out;
		}
		if (strchr(tg[i].data.buf, '\n')) {
			/* .gitignore cannot name it; inside a directory such names are fine */
			ret = error("cannot track '%s': a tracked path may not contain a newline",
				    tg[i].data.buf);
			nt = i + 1;
			goto out;
		}
		for (j = 0; j < i; j++) {
			const char *x = tg[j].data.buf, *y = tg[i].data.buf;
			size_t lx = strlen(x), ly = strlen(y);
			if (!strcmp(x, y) || (lx < ly && !strncmp(x, y, lx) && y[lx] == '/') ||
			    (ly < lx && !strncmp(x, y, ly) && x[ly] == '/')) {
				ret = error("'%s' and '%s' overlap: add one of them", x, y);
				nt = i + 1;
				goto out;
			}
		}
	}
	for (i = 0; i < nt; i++) {
		if (refuse_git_tracked(r, tg[i].data.buf)) {
			ret = 1;
			goto out;
		}
	}
	{
		const char **ptrs = xcalloc((size_t)nt, sizeof(*ptrs));
		for (i = 0; i < nt; i++)
			ptrs[i] = tg[i].ptr.buf;
		ret = check_pointers_seen(r, ptrs, (size_t)nt);
		free(ptrs);
		if (ret)
			goto out;
	}
	if (repo_open_store(r, 0, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	odb_thread_init(&t, r->odb);
	for (i = 0; i < nt && !ret; i++) {
		if (wt_scan(r, &t, tg[i].data.buf, 0, &tg[i].node, &err))
			ret = error("%s", err.buf);
		else if (!tg[i].node)
			ret = error("'%s' does not exist", tg[i].data.buf);
		else if (tg[i].node->mode == MODE_LINK)
			ret = error("'%s' is a symlink; cairn tracks files and directories (symlinks inside a directory are kept)",
				    tg[i].data.buf);
	}
	odb_thread_release(&t);
	if (ret)
		goto out;
	roots = xcalloc((size_t)nt, sizeof(*roots));
	bases = xcalloc((size_t)nt, sizeof(*bases));
	for (i = 0; i < nt; i++) {
		struct pointer old;
		char *pabs = repo_abspath(r, tg[i].ptr.buf);
		roots[i] = tg[i].node;
		/* the version replaced: new trees are stored as deltas of its */
		if (!ptr_read(&old, pabs, NULL) && old.is_dir)
			bases[i] = old.id;
		free(pabs);
	}
	p = progress_start("Adding", 0, 0, !quiet && progress_default());
	if (odb_batch_begin(r->odb, &b, &err) ||
	    ingest_nodes(r, b, roots, bases, (size_t)nt, p, &is, &err)) {
		progress_stop(p);
		if (b)
			odb_batch_abort(b);
		free(roots);
		free(bases);
		ret = error("%s", err.buf);
		goto out;
	}
	progress_stop(p);
	/* durable and indexed before any pointer names it */
	if (odb_batch_commit(b, &os, &err)) {
		free(roots);
		free(bases);
		ret = error("%s", err.buf);
		goto out;
	}
	audit_bytes(os.stored_new, 0, 0);
	/* an I/O error here means a failing disk: stop before any pointer
	 * changes (what was stored is durable; a re-run finds it) */
	if (wt_stat_cache_save(r, roots, (size_t)nt, &err)) {
		free(roots);
		free(bases);
		ret = error("%s", err.buf);
		goto out;
	}
	free(roots);
	free(bases);
	for (i = 0; i < nt; i++) {
		struct wt_node *n = tg[i].node;
		struct pointer ptr, old;
		char *pabs = repo_abspath(r, tg[i].ptr.buf);
		int same;
		memset(&ptr, 0, sizeof(ptr));
		memset(&old, 0, sizeof(old));
		ptr.is_dir = n->mode == MODE_DIR;
		ptr.id = n->id;
		ptr.sha = n->sha;
		ptr.size = n->size;
		ptr.files = ptr.is_dir ? n->files : 1;
		ptr.mode = n->mode;
		same = !ptr_read(&old, pabs, NULL) && old.is_dir == ptr.is_dir &&
		       oid_eq(&old.id, &ptr.id) && sha256_eq(&old.sha, &ptr.sha) && old.mode == ptr.mode;
		/* the .gitignore first: git must never see the data itself
		 * beside a pointer that names it */
		if (gitignore && ensure_gitignored(r, tg[i].data.buf, &err)) {
			ret = error("cannot update .gitignore for '%s': %s", tg[i].data.buf, err.buf);
			free(pabs);
			break;
		}
		if (!same) {
			char *tp = repo_tmp_prefix(r);
			int wr = ptr_write_via(&ptr, pabs, tp, &err);
			free(tp);
			if (wr) {
				ret = error("%s", err.buf);
				free(pabs);
				break;
			}
		}
		free(pabs);
		{
			char oh[OID_HEXSZ + 1], nh[OID_HEXSZ + 1];
			int had = old.size || old.files || !oid_is_zero(&old.id);
			audit_path(tg[i].data.buf, had ? oid_to_hex(&old.id, oh) : "",
				   oid_to_hex(&ptr.id, nh));
		}
		total_bytes += n->size;
		total_files += ptr.files;
		if (!quiet) {
			struct strbuf sz = STRBUF_INIT, q = STRBUF_INIT;
			strbuf_add_human_size(&sz, n->size);
			quote_path(&q, tg[i].data.buf);
			if (ptr.is_dir)
				printf("%s %s: %llu files, %s\n", same ? "unchanged" : "added", q.buf,
				       (unsigned long long)n->files, sz.buf);
			else
				printf("%s %s: %s\n", same ? "unchanged" : "added", q.buf, sz.buf);
			strbuf_release(&sz);
			strbuf_release(&q);
		}
	}
	if (!quiet && !ret) {
		struct strbuf a = STRBUF_INIT, s = STRBUF_INIT;
		strbuf_add_human_size(&a, os.raw_new);
		strbuf_add_human_size(&s, os.stored_new);
		printf("%llu files read, %llu new objects, %s new data stored as %s\n",
		       (unsigned long long)is.files_read, (unsigned long long)os.objects_new, a.buf, s.buf);
		strbuf_release(&a);
		strbuf_release(&s);
	}
out:
	for (i = 0; i < nt; i++) {
		strbuf_release(&tg[i].data);
		strbuf_release(&tg[i].ptr);
		wt_node_free(tg[i].node);
	}
	free(tg);
	strbuf_release(&err);
	(void)total_files;
	(void)total_bytes;
	return ret;
}
