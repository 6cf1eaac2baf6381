/*
 * cairn gc: remove from the local store what no branch, tag, staged or
 * work tree pointer needs; with -r, remove from a remote the packs that
 * hold nothing they need.
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "core/gc.h"
#include "core/git.h"
#include "remote/audit-sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GC_LOCK_WAIT_MS 2000
#define GC_REMOTE_GRACE_DEFAULT 86400

struct gc_args {
	int dry_run, json, quiet, wait, scope, allow_shallow;
	const char *rev, *remote, *git_remote;
	int64_t grace;
	int have_grace;
};

static int parse(struct gc_args *a, int argc, const char **argv)
{
	int i, scopes = 0;
	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "-n") || !strcmp(s, "--dry-run")) {
			a->dry_run = 1;
		} else if (!strcmp(s, "--json")) {
			a->json = 1;
		} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
			a->quiet = 1;
		} else if (!strcmp(s, "--wait")) {
			a->wait = 1;
		} else if (!strcmp(s, "--allow-shallow")) {
			a->allow_shallow = 1;
		} else if (!strcmp(s, "--all-commits")) {
			a->scope = GC_SCOPE_ALL;
			scopes++;
		} else if (!strcmp(s, "--workspace")) {
			a->scope = GC_SCOPE_WORKSPACE;
			scopes++;
		} else if (!strcmp(s, "--rev") && i + 1 < argc) {
			a->scope = GC_SCOPE_REV;
			a->rev = argv[++i];
			scopes++;
		} else if ((!strcmp(s, "-r") || !strcmp(s, "--remote")) && i + 1 < argc) {
			a->remote = argv[++i];
		} else if (!strcmp(s, "--git-remote") && i + 1 < argc) {
			a->git_remote = argv[++i];
			if (!*a->git_remote)
				return usage_error("gc", "--git-remote wants a git remote");
		} else if (!strcmp(s, "--grace") && i + 1 < argc) {
			char *end;
			long long v = strtoll(argv[++i], &end, 10);
			if (*end || end == argv[i] || v < 0)
				return usage_error("gc", "--grace wants a number of seconds");
			a->grace = v;
			a->have_grace = 1;
		} else {
			return usage_error("gc", "unknown argument '%s'", s);
		}
	}
	if (scopes > 1)
		return usage_error("gc", "give one of --all-commits, --workspace and --rev");
	if (a->remote && a->scope != GC_SCOPE_ALL)
		return usage_error("gc", "-r keeps what every branch and tag needs; "
				   "--workspace and --rev are for the local store");
	if (a->have_grace && !a->remote)
		return usage_error("gc", "--grace applies to a remote (-r)");
	if (a->git_remote && !a->remote)
		return usage_error("gc", "--git-remote applies to a remote (-r)");
	return 0;
}

/*
 * A shallow clone does not have the history its roots come from: keeping
 * "every commit" there would keep only the commits it has. Only with
 * --allow-shallow; --workspace and --rev keep what they say anyway.
 */
static int check_shallow(struct repo *r, const struct gc_args *a)
{
	struct strbuf err = STRBUF_INIT;
	int shallow = 0, ret = 0;
	if (a->scope != GC_SCOPE_ALL || a->allow_shallow)
		return 0;
	if (git_is_shallow(r->top, &shallow, &err))
		ret = error("%s", err.buf);
	else if (shallow)
		ret = error("this is a shallow clone: its git history is cut, so gc%s cannot know what "
			    "older commits need and would remove it%s; run 'git fetch --unshallow' "
			    "first, or give --allow-shallow to keep only what the commits here need",
			    a->remote ? " -r" : "", a->remote ? " from the remote, for everyone" : "");
	strbuf_release(&err);
	return ret;
}

/* The roots, or 1 after an error: gc never guesses about a pointer. */
static int collect_roots(struct repo *r, const struct gc_args *a, struct gc_roots *roots)
{
	struct strbuf err = STRBUF_INIT;
	size_t i;
	int ret = 0;
	if (gc_roots_collect(r, a->scope, a->rev, roots, &err)) {
		ret = error("%s", err.buf);
		strbuf_release(&err);
		return ret;
	}
	for (i = 0; i < roots->nbad; i++) {
		const struct gc_bad_root *b = &roots->bad[i];
		if (b->origin == GC_ROOT_HISTORY && b->code != CAIRN_EVERSION)
			continue; /* a blob named *.cairn that is no pointer: nothing to keep */
		ret = error("%s", b->msg);
	}
	if (ret) {
		error("gc stops: what these pointers name is unknown (fix or remove them)");
		gc_roots_release(roots);
	}
	strbuf_release(&err);
	return ret;
}

static uint64_t skipped(const struct gc_roots *roots)
{
	uint64_t n = 0;
	size_t i;
	for (i = 0; i < roots->nbad; i++)
		n += roots->bad[i].origin == GC_ROOT_HISTORY;
	return n;
}

static const char *scope_name(int scope)
{
	return scope == GC_SCOPE_WORKSPACE ? "workspace" : scope == GC_SCOPE_REV ? "rev" : "all";
}

static void human(struct strbuf *sb, uint64_t n)
{
	strbuf_reset(sb);
	strbuf_add_human_size(sb, n);
}

static void print_roots(const struct gc_args *a, const struct gc_roots *roots,
			const struct gc_mark *m)
{
	printf("roots: %llu pointer versions from %llu commits, the index and the work tree",
	       (unsigned long long)roots->n, (unsigned long long)roots->commits);
	if (m->absent_roots)
		printf(" (%llu not in this store)", (unsigned long long)m->absent_roots);
	printf("\n");
	if (skipped(roots))
		printf("skipped: %llu blobs named *.cairn that are not pointer files\n",
		       (unsigned long long)skipped(roots));
}

static int gc_local(struct repo *r, const struct gc_args *a)
{
	struct strbuf err = STRBUF_INIT, s1 = STRBUF_INIT, s2 = STRBUF_INIT;
	struct gc_roots roots;
	struct gc_mark m;
	struct gc_opts o;
	struct gc_result res;
	struct odb_thread t;
	int64_t threshold;
	int ret = 0, have_mark = 0;
	const char *verb = a->dry_run ? "would be " : "";

	memset(&roots, 0, sizeof(roots));
	if (config_get_int(r->cfg, "gc.repackThreshold", GC_THRESHOLD_DEFAULT, &threshold, &err) ||
	    threshold < 1 || threshold > 100) {
		if (!err.len)
			strbuf_addf(&err,
				    "config gc.repackThreshold = %lld is not a percentage from 1 to 100",
				    (long long)threshold);
		ret = error("%s", err.buf);
		goto out;
	}
	if (repo_open_store(r, 0, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	/* from before the roots are read until the last file is gone: no
	 * writer may store or name an object meanwhile */
	if (!a->dry_run &&
	    odb_lock(r->odb, ODB_LOCK_EXCLUSIVE, a->wait ? -1 : GC_LOCK_WAIT_MS, &err)) {
		ret = error("%s; try again, or use --wait", err.buf);
		goto out;
	}
	ret = collect_roots(r, a, &roots);
	if (ret)
		goto out;
	if (a->scope == GC_SCOPE_WORKSPACE && !a->quiet)
		warning("--workspace: data that only older commits need %sremoved; it comes back "
			"only from a remote that has it", a->dry_run ? "would be " : "is ");
	odb_thread_init(&t, r->odb);
	ret = gc_mark(&t, &roots, NULL, &m, &err);
	odb_thread_release(&t);
	have_mark = 1; /* gc_mark() initialised it, whatever it returned */
	if (ret) {
		ret = error("%s; gc stops (run 'cairn fsck')", err.buf);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.dry_run = a->dry_run;
	o.threshold = (int)threshold;
	o.orphan_age = GC_ORPHAN_AGE_DEFAULT;
	o.progress = progress_start("Repacking", 0, 0, !a->quiet && !a->json && progress_default());
	ret = gc_sweep(r, &m, &o, &res, &err);
	progress_stop(o.progress);
	if (ret) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (a->json) {
		printf("{\"dry_run\":%s,\"scope\":\"%s\",\"commits\":%llu,\"pointer_versions\":%zu,"
		       "\"worktree_pointers\":%llu,\"absent_versions\":%llu,\"skipped_blobs\":%llu,"
		       "\"objects\":%llu,\"live_objects\":%llu,\"dead_objects\":%llu,"
		       "\"live_bytes\":%llu,\"dead_bytes\":%llu,\"packs\":%llu,\"packs_deleted\":%llu,"
		       "\"packs_repacked\":%llu,\"packs_written\":%llu,\"left_objects\":%llu,"
		       "\"left_bytes\":%llu,\"orphan_files\":%llu,\"orphan_bytes\":%llu,"
		       "\"bytes_before\":%llu,\"bytes_after\":%llu,\"bytes_freed\":%llu}\n",
		       a->dry_run ? "true" : "false", scope_name(a->scope),
		       (unsigned long long)roots.commits, roots.n, (unsigned long long)roots.worktree,
		       (unsigned long long)m.absent_roots, (unsigned long long)skipped(&roots),
		       (unsigned long long)res.objects, (unsigned long long)res.live_objects,
		       (unsigned long long)res.dead_objects, (unsigned long long)res.live_bytes,
		       (unsigned long long)res.dead_bytes, (unsigned long long)res.packs,
		       (unsigned long long)res.packs_deleted, (unsigned long long)res.packs_repacked,
		       (unsigned long long)res.packs_written, (unsigned long long)res.left_objects,
		       (unsigned long long)res.left_bytes, (unsigned long long)res.orphan_files,
		       (unsigned long long)res.orphan_bytes, (unsigned long long)res.bytes_before,
		       (unsigned long long)res.bytes_after, (unsigned long long)res.bytes_freed);
		goto out;
	}
	if (a->quiet)
		goto out;
	print_roots(a, &roots, &m);
	human(&s1, res.dead_bytes);
	printf("objects: %llu reachable, %llu unreachable (%s) %sremoved\n",
	       (unsigned long long)res.live_objects, (unsigned long long)res.dead_objects, s1.buf,
	       verb);
	printf("packs: %llu; %llu %sdeleted, %llu %srepacked", (unsigned long long)res.packs,
	       (unsigned long long)res.packs_deleted, verb, (unsigned long long)res.packs_repacked,
	       verb);
	if (!a->dry_run && res.packs_repacked)
		printf(" into %llu", (unsigned long long)res.packs_written);
	printf(", %llu kept\n",
	       (unsigned long long)(res.packs - res.packs_deleted - res.packs_repacked));
	if (res.orphan_files) {
		human(&s1, res.orphan_bytes);
		printf("orphan pack files: %llu (%s) %sremoved\n", (unsigned long long)res.orphan_files,
		       s1.buf, verb);
	}
	human(&s1, res.bytes_before);
	human(&s2, res.bytes_after);
	printf("packs before: %s, after: %s%s\n", s1.buf, s2.buf, a->dry_run ? " (about)" : "");
	human(&s1, res.bytes_freed);
	printf("%s %llu bytes (%s)\n", a->dry_run ? "would free" : "freed",
	       (unsigned long long)res.bytes_freed, s1.buf);
	printf("kept: %llu objects reachable from %zu pointer versions (%llu commits)\n",
	       (unsigned long long)res.live_objects, roots.n, (unsigned long long)roots.commits);
	if (res.left_objects || res.left_bytes) {
		human(&s1, res.left_bytes);
		printf("left: %s of garbage in packs under the repack threshold (%lld%%)\n", s1.buf,
		       (long long)threshold);
	}
out:
	if (have_mark)
		gc_mark_release(&m);
	gc_roots_release(&roots);
	strbuf_release(&err);
	strbuf_release(&s1);
	strbuf_release(&s2);
	return ret;
}

/* The git remote whose refs decide: --git-remote, remote.NAME.git-remote,
 * the git remote called like the cairn remote, or origin. */
static const char *pick_git_remote(struct repo *r, const struct gc_args *a, const char *name)
{
	struct strbuf key = STRBUF_INIT;
	const char *v;
	if (a->git_remote)
		return a->git_remote;
	strbuf_addf(&key, "remote.%s.git-remote", name);
	v = config_get(r->cfg, key.buf);
	strbuf_release(&key);
	if (v && *v)
		return v;
	return git_has_remote(r->top, name) ? name : "origin";
}

struct rgc_counts {
	uint64_t live, young, marked, pending, unmarked, deleted, freed;
};

/*
 * What gc -r does with each pack (gc-fsck.md, "gc -r"): a pack anything
 * reaches stays (its mark, if any, goes); one uploaded after this run
 * read the remote's clock, or whose time is unknown, stays; an
 * unreferenced one is marked; one marked longer ago than the grace
 * period, still unreferenced and still marked, is deleted.
 */
static int rgc_decide(struct repo *r, struct remote *rem, const struct gc_args *a,
		      struct sync_rpack *packs, size_t np, const struct sync_mark *marks,
		      size_t nmarks, int64_t now, int64_t grace, struct rgc_counts *c,
		      struct strbuf *err)
{
	size_t i;
	int ret = 0;
	for (i = 0; i < np && !ret; i++) {
		struct sync_rpack *p = &packs[i];
		struct sync_mark probe;
		const struct sync_mark *m;
		char hex[OID_HEXSZ + 1];
		probe.pack = p->id;
		m = nmarks ? bsearch(&probe, marks, nmarks, sizeof(*marks), sync_mark_cmp) : NULL;
		oid_to_hex(&p->id, hex);
		if (p->live) {
			c->live++;
			if (m) {
				c->unmarked++;
				if (!a->dry_run)
					ret = sync_unmark_pack(rem, &p->id, err);
			}
			continue;
		}
		if (now == REMOTE_MTIME_UNKNOWN || p->uploaded == REMOTE_MTIME_UNKNOWN ||
		    p->uploaded >= now) {
			c->young++;
			continue;
		}
		if (!m) {
			c->marked++;
			if (!a->dry_run)
				ret = sync_mark_pack(r, rem, &p->id, err);
			continue;
		}
		if (m->time == REMOTE_MTIME_UNKNOWN || now - m->time < grace) {
			c->pending++;
			continue;
		}
		if (!a->dry_run) {
			/* a push that took the pack back removed its mark */
			int still = sync_pack_marked(rem, &p->id, err);
			if (still < 0) {
				ret = still;
				break;
			}
			if (!still) {
				c->unmarked++;
				continue;
			}
			ret = sync_remove_pack(r, rem, &p->id, err);
			if (!ret)
				ret = sync_unmark_pack(rem, &p->id, err);
			if (ret) {
				ret = cerr_wrap(err, ret, "cannot remove pack %s", hex);
				break;
			}
			{
				char *path = xstrfmt("packs/%s.pack", hex);
				audit_path(path, hex, "");
				free(path);
			}
		}
		c->deleted++;
		c->freed += p->size;
	}
	return ret;
}

static int gc_remote(struct repo *r, const struct gc_args *a)
{
	struct strbuf err = STRBUF_INIT, s1 = STRBUF_INIT, ns = STRBUF_INIT;
	struct transfer tr;
	struct gc_roots roots;
	struct gc_mark m;
	struct sync_rpack *packs = NULL;
	struct sync_mark *marks = NULL;
	struct rgc_counts c;
	size_t np = 0, nmarks = 0;
	uint64_t fetched = 0;
	int64_t grace = a->grace, now = (int64_t)time(NULL);
	int ret = 0, have_mark = 0, have_refs = 0;
	const char *gitrem = NULL;

	memset(&tr, 0, sizeof(tr));
	memset(&roots, 0, sizeof(roots));
	memset(&c, 0, sizeof(c));
	tr.remote = a->remote;
	if (!a->have_grace &&
	    config_get_int(r->cfg, "gc.remoteGrace", GC_REMOTE_GRACE_DEFAULT, &grace, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (grace < 0) {
		ret = error("config gc.remoteGrace = %lld is negative", (long long)grace);
		goto out;
	}
	/* nothing is written to a place that holds no cairn data */
	if (transfer_open(&tr, r, &err) || sync_require_marker(tr.rem, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	/* 1. the remote's clock, before the refs are read: a pack uploaded
	 * after it may be named by refs this run does not see */
	if (!a->dry_run && sync_remote_clock(r, tr.rem, &now, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	/* 2. the refs of the git remote, as it holds them now */
	gitrem = pick_git_remote(r, a, tr.name);
	strbuf_addf(&ns, GIT_GC_REFS "%ld/", (long)getpid());
	have_refs = 1;
	if (git_fetch_refs_into(r->top, gitrem, ns.buf, &err)) {
		ret = error("%s; gc -r decides from them and stops (give the git remote with "
			    "--git-remote or remote.%s.git-remote)", err.buf, tr.name);
		goto out;
	}
	/* 3. what the remote holds, and what the refs reach */
	if (sync_refresh(r, tr.rem, NULL, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	ret = collect_roots(r, a, &roots);
	if (ret)
		goto out;
	ret = sync_mark_remote(r, tr.rem, &roots, &m, &fetched, &err);
	have_mark = 1; /* gc_mark() initialised it, whatever it returned */
	if (ret) {
		ret = error("%s; gc stops (run 'cairn fsck')", err.buf);
		goto out;
	}
	if (sync_remote_packs(r, tr.name, &m.reached, &packs, &np, &err) ||
	    sync_pack_times(tr.rem, packs, np, &err) ||
	    sync_marks(tr.rem, &marks, &nmarks, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	/* 4. mark, take back, delete */
	if (rgc_decide(r, tr.rem, a, packs, np, marks, nmarks, now, grace, &c, &err))
		ret = error("remote '%s': %s", tr.name, err.buf);
	/* one listing tells the cache what is gone */
	if (c.deleted && !a->dry_run && sync_refresh(r, tr.rem, NULL, &err) && !ret)
		ret = error("%s", err.buf);
	audit_deleted(a->dry_run ? 0 : c.freed);
	if (a->json) {
		struct strbuf js = STRBUF_INIT;
		strbuf_add_json_text(&js, tr.name, strlen(tr.name));
		printf("{\"remote\":%s,\"git_remote\":", js.buf);
		strbuf_reset(&js);
		strbuf_add_json_text(&js, gitrem, strlen(gitrem));
		printf("%s,\"dry_run\":%s,\"commits\":%llu,\"pointer_versions\":%zu,"
		       "\"fetched_objects\":%llu,\"packs\":%zu,\"packs_deleted\":%llu,"
		       "\"packs_live\":%llu,\"packs_young\":%llu,\"packs_marked\":%llu,"
		       "\"packs_pending\":%llu,\"packs_unmarked\":%llu,\"grace\":%lld,"
		       "\"bytes_freed\":%llu}\n",
		       js.buf, a->dry_run ? "true" : "false", (unsigned long long)roots.commits,
		       roots.n, (unsigned long long)fetched, np, (unsigned long long)c.deleted,
		       (unsigned long long)c.live, (unsigned long long)c.young,
		       (unsigned long long)c.marked, (unsigned long long)c.pending,
		       (unsigned long long)c.unmarked, (long long)grace, (unsigned long long)c.freed);
		strbuf_release(&js);
	} else if (!a->quiet) {
		const char *would = a->dry_run ? "would be " : "";
		print_roots(a, &roots, &m);
		if (fetched)
			printf("fetched %llu trees and manifests to learn what they name\n",
			       (unsigned long long)fetched);
		human(&s1, c.freed);
		printf("remote '%s' (refs of git remote '%s'): %zu packs; %llu %sdeleted (%s), "
		       "%llu kept with reachable objects, %llu kept as uploaded after the refs "
		       "were read\n",
		       tr.name, gitrem, np, (unsigned long long)c.deleted, would, s1.buf,
		       (unsigned long long)c.live, (unsigned long long)c.young);
		printf("marks: %llu packs %smarked for removal, %llu marked less than the grace "
		       "period (%lld s) ago, %llu %sunmarked\n",
		       (unsigned long long)c.marked, would, (unsigned long long)c.pending,
		       (long long)grace, (unsigned long long)c.unmarked, would);
		if (now == REMOTE_MTIME_UNKNOWN)
			printf("remote '%s' gives no times of upload: nothing is marked or deleted\n",
			       tr.name);
	}
	/* 5. the audit entry, on the remote at once */
	if (!a->dry_run) {
		uint64_t sent = 0;
		if (audit_flush() && !ret)
			ret = 1;
		else if (audit_sync_push(r, tr.rem, &sent, &err))
			ret = error("cannot push the audit trail: %s", err.buf);
	}
out:
	if (have_refs && git_delete_refs(r->top, ns.buf, &err) && !ret)
		ret = error("%s", err.buf);
	free(packs);
	free(marks);
	if (have_mark)
		gc_mark_release(&m);
	gc_roots_release(&roots);
	transfer_release(&tr);
	strbuf_release(&err);
	strbuf_release(&s1);
	strbuf_release(&ns);
	return ret;
}

int cmd_gc(int argc, const char **argv, struct repo *r)
{
	struct gc_args a;
	int ret = parse(&a, argc, argv);
	if (!ret)
		ret = check_shallow(r, &a);
	if (ret)
		return ret;
	if (!a.dry_run) {
		/* the refs a killed gc -r copied: roots no more */
		struct strbuf err = STRBUF_INIT;
		if (git_delete_dead_gc_refs(r->top, &err))
			warning("cannot delete the refs a killed gc -r left: %s", err.buf);
		strbuf_release(&err);
	}
	return a.remote ? gc_remote(r, &a) : gc_local(r, &a);
}
