/*
 * cairn fsck: check every pack, object and file of the local store (or,
 * with -r, of a remote), and with --repair fetch what is damaged again.
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "core/fsck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPAIR_ROUNDS 32

struct fsck_args {
	int json, quiet, repair, read_data, rebuild_index;
	const char *remote;
};

static int parse(struct fsck_args *a, int argc, const char **argv)
{
	int i;
	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--json"))
			a->json = 1;
		else if (!strcmp(s, "-q") || !strcmp(s, "--quiet"))
			a->quiet = 1;
		else if (!strcmp(s, "--repair"))
			a->repair = 1;
		else if (!strcmp(s, "--read-data"))
			a->read_data = 1;
		else if (!strcmp(s, "--rebuild-index"))
			a->rebuild_index = 1;
		else if ((!strcmp(s, "-r") || !strcmp(s, "--remote")) && i + 1 < argc)
			a->remote = argv[++i];
		else
			return usage_error("fsck", "unknown argument '%s'", s);
	}
	if (a->rebuild_index && a->remote && !a->repair)
		return usage_error("fsck", "--rebuild-index works on the local store, not with -r");
	if (a->read_data && (!a->remote || a->repair))
		return usage_error("fsck",
				   "--read-data checks a remote: give -r REMOTE, without --repair");
	return 0;
}

static void json_str(struct strbuf *sb, const char *s)
{
	strbuf_add_json_text(sb, s, strlen(s));
}

/* One problem, as a line of text or a JSON object. */
static void show(struct strbuf *js, const struct fsck_problem *p)
{
	struct strbuf q = STRBUF_INIT;
	char hex[OID_HEXSZ + 1];
	size_t i;
	if (js) {
		if (js->len && js->buf[js->len - 1] != '[')
			strbuf_addch(js, ',');
		strbuf_addf(js, "{\"kind\":\"%s\"", fsck_kind_name(p->kind));
		if (p->type)
			strbuf_addf(js, ",\"type\":\"%s\"", obj_type_name(p->type));
		if (p->type || p->kind == FSCK_BAD_FILE)
			strbuf_addf(js, ",\"object\":\"%s\"", oid_to_hex(&p->id, hex));
		if (p->has_pack)
			strbuf_addf(js, ",\"pack\":\"%s\"", oid_to_hex(&p->pack, hex));
		strbuf_addstr(js, ",\"message\":");
		json_str(js, p->msg);
		strbuf_addstr(js, ",\"paths\":[");
		for (i = 0; i < p->npaths; i++) {
			if (i)
				strbuf_addch(js, ',');
			json_str(js, p->paths[i]);
		}
		strbuf_addf(js, "],\"more_paths\":%llu}", (unsigned long long)p->more_paths);
		return;
	}
	printf("%s: %s", fsck_kind_name(p->kind), p->msg);
	for (i = 0; i < p->npaths; i++)
		printf("%s%s", i ? ", " : "; affects ", quote_path_sq(&q, p->paths[i]));
	strbuf_release(&q);
	if (p->more_paths)
		printf(" and %llu more", (unsigned long long)p->more_paths);
	printf("\n");
}

static int run_check(struct repo *r, const struct gc_roots *roots, const struct fsck_args *a,
		     struct fsck_result *res)
{
	struct strbuf err = STRBUF_INIT;
	struct fsck_opts o;
	int ret = 0;
	memset(&o, 0, sizeof(o));
	o.threads = r->threads;
	o.progress = progress_start("Checking", 0, 0, !a->quiet && !a->json && progress_default());
	if (fsck_run(r, roots, &o, res, &err)) {
		ret = error("%s", err.buf);
		if (res->index_damaged) {
			fprintf(stderr, "hint: 'cairn fsck --rebuild-index' rebuilds the index from the packs "
					"and starts the work-tree state again\n");
			ret = 3; /* as when reading it faults */
		}
	}
	progress_stop(o.progress);
	strbuf_release(&err);
	return ret;
}

static int is_pack_kind(int kind)
{
	return kind == FSCK_MISSING_PACK || kind == FSCK_PACK_SIZE || kind == FSCK_PACK_HEADER ||
	       kind == FSCK_BAD_PACK_INDEX || (kind == FSCK_INDEX_MISMATCH);
}

static void want(struct sync_object **v, size_t *n, size_t *alloc, struct oidset *seen,
		 const struct oid *id, int type, const char *path)
{
	if (!oidset_insert(seen, id, type))
		return;
	ALLOC_GROW(*v, *n + 1, *alloc);
	memset(&(*v)[*n], 0, sizeof((*v)[*n]));
	(*v)[*n].id = *id;
	(*v)[*n].type = (uint8_t)type;
	(*v)[*n].path = path;
	(*n)++;
}

static int status_of(const struct sync_object *v, size_t n, const struct oid *id, int type)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (v[i].type == type && oid_eq(&v[i].id, id))
			return v[i].status;
	return CAIRN_ENOTFOUND;
}

/*
 * One round of repair: fetch from the remote every damaged or missing
 * object it has (indexed over the damaged entry), then drop from the index
 * the bad packs whose reachable objects all have a new home. Returns the
 * number of objects stored, or -1 after an error.
 */
static long repair_round(struct repo *r, struct transfer *tr, const struct fsck_result *res,
			 const struct fsck_args *a, uint64_t *failed)
{
	struct strbuf err = STRBUF_INIT;
	struct sync_object *v = NULL;
	struct oidset seen;
	uint32_t *drop = NULL;
	size_t n = 0, alloc = 0, ndrop = 0, adrop = 0, i, k, stored = 0;
	long ret;

	oidset_init(&seen);
	for (i = 0; i < res->n; i++) {
		const struct fsck_problem *p = &res->v[i];
		const char *path = p->npaths ? p->paths[0] : NULL;
		if (is_pack_kind(p->kind) && !p->type) {
			for (k = 0; k < p->nobjs; k++)
				want(&v, &n, &alloc, &seen, &p->objs[k].id, p->objs[k].type, path);
		} else if (p->kind == FSCK_CORRUPT_OBJECT || p->kind == FSCK_INDEX_MISMATCH ||
			   p->kind == FSCK_DANGLING_ENTRY || p->kind == FSCK_MISSING_OBJECT) {
			if (!p->type)
				continue;
			want(&v, &n, &alloc, &seen, &p->id, p->type, path);
			/* a missing file: a manifest, or one chunk */
			if (p->kind == FSCK_MISSING_OBJECT && p->type == OBJ_MANIFEST)
				want(&v, &n, &alloc, &seen, &p->id, OBJ_CHUNK, path);
		}
	}
	if (n && sync_fetch_objects(r, tr->rem, v, n, 1, &stored, &err)) {
		ret = -1;
		error("%s", err.buf);
		goto out;
	}
	for (i = 0; i < n; i++) {
		char hex[OID_HEXSZ + 1];
		if (!v[i].status)
			continue;
		/* a missing file is one of the two: the other not being there is no failure */
		if (v[i].type == OBJ_MANIFEST &&
		    !status_of(v, n, &v[i].id, OBJ_CHUNK))
			continue;
		if (v[i].type == OBJ_CHUNK && !status_of(v, n, &v[i].id, OBJ_MANIFEST))
			continue;
		(*failed)++;
		if (!a->quiet && !a->json) {
			struct strbuf q = STRBUF_INIT;
			printf("not repaired: %s %s%s%s%s: %s\n", obj_type_name(v[i].type),
			       oid_to_hex(&v[i].id, hex), v[i].path ? " (needed by " : "",
			       v[i].path ? quote_path_sq(&q, v[i].path) : "", v[i].path ? ")" : "",
			       v[i].status == CAIRN_ENOTFOUND ? "the remote does not have it"
							      : "no copy on the remote verifies");
			strbuf_release(&q);
		}
	}
	/* bad packs whose every reachable object was stored again: out of the index */
	for (i = 0; i < res->n; i++) {
		const struct fsck_problem *p = &res->v[i];
		int all = 1;
		if (!is_pack_kind(p->kind) || p->type || !p->has_pack)
			continue;
		for (k = 0; k < p->nobjs && all; k++)
			all = !status_of(v, n, &p->objs[k].id, p->objs[k].type);
		if (!all)
			continue;
		ALLOC_GROW(drop, ndrop + 1, adrop);
		drop[ndrop++] = p->pack_no;
	}
	if (ndrop) {
		struct odb_rewrite rw;
		memset(&rw, 0, sizeof(rw));
		rw.drop_packs = drop;
		rw.ndrop_packs = ndrop;
		if (odb_rewrite(r->odb, &rw, &err)) {
			ret = -1;
			error("%s", err.buf);
			goto out;
		}
	}
	ret = (long)stored + (long)ndrop;
	if (!a->quiet && !a->json && stored)
		printf("repaired: %zu objects fetched again from '%s'\n", stored, tr->name);
out:
	free(v);
	free(drop);
	oidset_release(&seen);
	strbuf_release(&err);
	return ret;
}

static int fsck_local(struct repo *r, const struct fsck_args *a)
{
	struct strbuf err = STRBUF_INIT, js = STRBUF_INIT, s1 = STRBUF_INIT;
	struct gc_roots roots;
	struct fsck_result res;
	struct transfer tr;
	uint64_t failed = 0;
	size_t i;
	int ret = 0, round, have_res = 0;

	memset(&roots, 0, sizeof(roots));
	memset(&tr, 0, sizeof(tr));
	if (a->rebuild_index) {
		/* before anything opens the (damaged) index */
		struct odb_rebuild_stats st;
		if (odb_rebuild_index(r->store_dir, &st, &err)) {
			ret = error("cannot rebuild the index: %s", err.buf);
			strbuf_release(&st.notes);
			goto out;
		}
		{
			const char *line = st.notes.buf, *nl;
			for (; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				fprintf(stderr, "warning: %.*s\n",
					(int)(nl ? (size_t)(nl - line) : strlen(line)), line);
			}
		}
		if (!a->quiet && !a->json)
			printf("rebuilt the index from %llu packs (%llu objects; %llu packs read whole, "
			       "%llu left out); %s%s\n",
			       (unsigned long long)st.packs, (unsigned long long)st.objects,
			       (unsigned long long)st.reindexed, (unsigned long long)st.skipped,
			       st.aside ? "the old one is in " : "there was no old one",
			       st.aside ? st.aside : "");
		free(st.aside);
		strbuf_release(&st.notes);
		/* its caches may be what is damaged, and they cost only a read */
		{
			char *sd = xstrfmt("%s/state", r->cairn_dir), *aside;
			if (move_aside(sd, &aside, &err))
				ret = error("%s", err.buf);
			else if (aside && !a->quiet && !a->json)
				printf("started the work-tree state again (its stat and remote caches); "
				       "the old one is in %s\n", aside);
			free(sd);
			free(aside);
			if (ret)
				goto out;
		}
	}
	if (a->repair) {
		tr.remote = a->remote;
		if (transfer_open(&tr, r, &err) || sync_refresh(r, tr.rem, NULL, &err)) {
			ret = error("%s", err.buf);
			goto out;
		}
	} else if (a->rebuild_index ? repo_open_store(r, 0, &err) : repo_open_store_reading(r, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	/* gc must not remove packs under our feet */
	if (odb_lock(r->odb, ODB_LOCK_SHARED, -1, &err) ||
	    gc_roots_collect(r, GC_SCOPE_ALL, NULL, &roots, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	for (round = 0; round < REPAIR_ROUNDS; round++) {
		long got;
		ret = run_check(r, &roots, a, &res);
		have_res = 1; /* fsck_run() initialised it, whatever it returned */
		if (ret)
			goto out;
		if (!a->repair || !res.n)
			break;
		failed = 0;
		got = repair_round(r, &tr, &res, a, &failed);
		if (got < 0) {
			ret = 1;
			goto out;
		}
		if (!got)
			break;
		fsck_result_release(&res);
		have_res = 0;
	}
	if (!have_res) {
		/* the last round repaired something: what is left */
		ret = run_check(r, &roots, a, &res);
		have_res = 1;
		if (ret)
			goto out;
	}
	if (a->json) {
		strbuf_addstr(&js, "{\"problems\":[");
		for (i = 0; i < res.n; i++)
			show(&js, &res.v[i]);
		strbuf_addf(&js, "],\"packs\":%llu,\"objects\":%llu,\"bytes\":%llu,\"files\":%llu,"
			    "\"trees\":%llu,\"pointer_versions\":%zu,\"absent_versions\":%llu,"
			    "\"orphan_files\":%llu,\"incomplete\":%llu}\n",
			    (unsigned long long)res.packs, (unsigned long long)res.objects,
			    (unsigned long long)res.bytes, (unsigned long long)res.files,
			    (unsigned long long)res.mark.trees, roots.n,
			    (unsigned long long)res.mark.absent_roots,
			    (unsigned long long)res.orphan_files,
			    (unsigned long long)res.incomplete);
		fwrite(js.buf, 1, js.len, stdout);
	} else {
		for (i = 0; i < res.n; i++)
			show(NULL, &res.v[i]);
		if (!a->quiet) {
			strbuf_add_human_size(&s1, res.bytes);
			printf("checked %llu packs, %llu objects (%s), %llu trees and %llu files of %zu "
			       "pointer versions: ",
			       (unsigned long long)res.packs, (unsigned long long)res.objects, s1.buf,
			       (unsigned long long)res.mark.trees, (unsigned long long)res.files,
			       roots.n);
			if (res.n)
				printf("%zu problem%s\n", res.n, res.n == 1 ? "" : "s");
			else
				printf("no problems\n");
			if (res.mark.absent_roots)
				printf("not in this store: %llu pointer versions (never fetched here)\n",
				       (unsigned long long)res.mark.absent_roots);
			if (res.incomplete)
				printf("incomplete: %llu objects below versions that are here are not "
				       "(a fetch or pull was interrupted, or a read through the library took only part of a version; 'cairn pull' completes it)\n",
				       (unsigned long long)res.incomplete);
			if (res.orphan_files)
				printf("garbage: %llu pack files that no index names "
				       "('cairn gc' removes them)\n",
				       (unsigned long long)res.orphan_files);
		}
	}
	if (res.n) {
		error("%zu problem%s in the local store%s", res.n, res.n == 1 ? "" : "s",
		      a->repair ? " after repair" : "");
		ret = 1;
	}
out:
	if (have_res)
		fsck_result_release(&res);
	gc_roots_release(&roots);
	transfer_release(&tr);
	strbuf_release(&err);
	strbuf_release(&js);
	strbuf_release(&s1);
	return ret;
}

struct rproblems {
	struct strbuf js;
	int json, quiet;
	size_t n;
};

static void remote_problem(const struct sync_problem *p, void *data)
{
	struct rproblems *rp = data;
	char hex[OID_HEXSZ + 1];
	rp->n++;
	if (rp->json) {
		if (rp->js.buf[rp->js.len - 1] != '[')
			strbuf_addch(&rp->js, ',');
		strbuf_addf(&rp->js, "{\"kind\":\"%s\"", p->kind);
		if (p->id)
			strbuf_addf(&rp->js, ",\"type\":\"%s\",\"object\":\"%s\"", obj_type_name(p->type),
				    oid_to_hex(p->id, hex));
		if (p->pack)
			strbuf_addf(&rp->js, ",\"pack\":\"%s\"", oid_to_hex(p->pack, hex));
		strbuf_addstr(&rp->js, ",\"message\":");
		json_str(&rp->js, p->msg);
		strbuf_addstr(&rp->js, ",\"paths\":[],\"more_paths\":0}");
		return;
	}
	printf("%s: %s\n", p->kind, p->msg);
}

static int fsck_remote(struct repo *r, const struct fsck_args *a)
{
	struct strbuf err = STRBUF_INIT, s1 = STRBUF_INIT;
	struct transfer tr;
	struct sync_check_stats st;
	struct rproblems rp;
	struct gc_roots roots;
	uint64_t needed = 0;
	int ret = 0;

	memset(&tr, 0, sizeof(tr));
	memset(&rp, 0, sizeof(rp));
	memset(&roots, 0, sizeof(roots));
	strbuf_init(&rp.js, 0);
	rp.json = a->json;
	rp.quiet = a->quiet;
	strbuf_addstr(&rp.js, "{\"problems\":[");
	tr.remote = a->remote;
	if (transfer_open(&tr, r, &err) ||
	    sync_check_remote(r, tr.rem, a->read_data, remote_problem, &rp, &st, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	/* then what every branch and tag needs must be there (what the work
	 * tree holds and no commit does is not pushed yet: not the remote's) */
	if (odb_lock(r->odb, ODB_LOCK_SHARED, -1, &err) ||
	    gc_roots_collect(r, GC_SCOPE_HISTORY, NULL, &roots, &err) ||
	    sync_check_needed(r, tr.rem, &roots, remote_problem, &rp, &needed, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (a->json) {
		strbuf_addf(&rp.js, "],\"remote\":");
		json_str(&rp.js, tr.name);
		strbuf_addf(&rp.js, ",\"indexes\":%llu,\"packs\":%llu,\"sampled\":%llu,\"objects\":%llu,"
			    "\"bytes\":%llu,\"unindexed\":%llu,\"needed\":%llu}\n",
			    (unsigned long long)st.indexes, (unsigned long long)st.packs,
			    (unsigned long long)st.sampled, (unsigned long long)st.objects,
			    (unsigned long long)st.bytes, (unsigned long long)st.unindexed,
			    (unsigned long long)needed);
		fwrite(rp.js.buf, 1, rp.js.len, stdout);
	} else if (!a->quiet) {
		strbuf_add_human_size(&s1, st.bytes);
		printf("remote '%s': %llu pack indexes checked; %llu of %llu packs read whole "
		       "(%llu objects, %s); %llu objects the pointers need looked up: ",
		       tr.name, (unsigned long long)st.indexes, (unsigned long long)st.sampled,
		       (unsigned long long)st.packs, (unsigned long long)st.objects, s1.buf,
		       (unsigned long long)needed);
		if (rp.n)
			printf("%zu problem%s\n", rp.n, rp.n == 1 ? "" : "s");
		else
			printf("no problems\n");
		if (st.unindexed)
			printf("garbage: %llu packs without an index (left by an interrupted push)\n",
			       (unsigned long long)st.unindexed);
	}
	if (rp.n) {
		error("%zu problem%s on remote '%s'", rp.n, rp.n == 1 ? "" : "s", tr.name);
		ret = 1;
	}
out:
	gc_roots_release(&roots);
	transfer_release(&tr);
	strbuf_release(&rp.js);
	strbuf_release(&err);
	strbuf_release(&s1);
	return ret;
}

int cmd_fsck(int argc, const char **argv, struct repo *r)
{
	struct fsck_args a;
	int ret = parse(&a, argc, argv);
	if (ret)
		return ret;
	if (a.remote && !a.repair)
		return fsck_remote(r, &a);
	return fsck_local(r, &a);
}
