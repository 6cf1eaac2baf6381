/*
 * Garbage collection: roots, mark and sweep (see core/gc.h).
 */
#include "core/gc.h"
#include "core/content.h"
#include "core/git.h"
#include "core/object.h"
#include "core/treewalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* --- roots --- */

static void add_root(struct gc_roots *ro, struct oidset *seen, const char *ptrpath, int origin,
		     const char *blob, const struct pointer *p)
{
	struct gc_root *g;
	if (!oidset_insert(seen, &p->id, p->is_dir ? OBJ_TREE : OBJ_CHUNK))
		return; /* the same version, reached through another pointer */
	ALLOC_GROW(ro->v, ro->n + 1, ro->alloc);
	g = &ro->v[ro->n++];
	/* a copy under another name ("data.cairn.v1") is named as it is */
	if (ends_with(ptrpath, POINTER_SUFFIX) && strlen(ptrpath) > strlen(POINTER_SUFFIX))
		g->path = xstrndup(ptrpath, strlen(ptrpath) - strlen(POINTER_SUFFIX));
	else
		g->path = xstrdup(ptrpath);
	g->origin = origin;
	g->blob[0] = '\0';
	if (blob) {
		size_t l = strlen(blob);
		if (l > 40)
			l = 40;
		memcpy(g->blob, blob, l);
		g->blob[l] = '\0';
	}
	g->ptr = *p;
}

static void add_bad(struct gc_roots *ro, const char *path, int origin, int code, const char *msg)
{
	struct gc_bad_root *b;
	ALLOC_GROW(ro->bad, ro->nbad + 1, ro->abad);
	b = &ro->bad[ro->nbad++];
	b->path = xstrdup(path);
	b->origin = origin;
	b->code = code;
	b->msg = xstrdup(msg);
}

/* A path that names a pointer file: *.cairn, outside .cairn/. */
static int pointer_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return ends_with(base, POINTER_SUFFIX) && strcmp(base, POINTER_SUFFIX) &&
	       !starts_with(path, ".cairn/");
}

struct blob_roots {
	struct gc_roots *ro;
	struct oidset *seen;
	char **oids, **paths;
	int origin;
};

/*
 * Blob i of the list as a pointer (git_read_small_blobs() calls it). A
 * blob is a root by its content, whatever its name (the first path git
 * listed it at). One that does not parse is a bad root only if its name
 * says it is a pointer file, or if it is one of a newer version (its
 * first line is the one cairn writes); else it is any small file.
 */
static int root_from_blob(size_t i, const char *data, size_t len, void *arg)
{
	static const char magic[] = "# cairn pointer";
	struct blob_roots *br = arg;
	struct strbuf what = STRBUF_INIT, perr = STRBUF_INIT;
	const char *blob = br->oids[i], *ptrpath = *br->paths[i] ? br->paths[i] : blob;
	struct pointer p;
	int code;

	strbuf_addf(&what, "%s (blob %.12s)", ptrpath, blob);
	code = ptr_parse(&p, data, len, what.buf, &perr);
	if (!code) {
		br->ro->blobs++;
		add_root(br->ro, br->seen, ptrpath, br->origin, blob, &p);
	} else if (pointer_name(ptrpath) || (code == CAIRN_EVERSION && len >= sizeof(magic) - 1 &&
					     !memcmp(data, magic, sizeof(magic) - 1))) {
		add_bad(br->ro, what.buf, br->origin, code, perr.buf);
	}
	strbuf_release(&what);
	strbuf_release(&perr);
	return 0;
}

static int roots_worktree(struct repo *r, struct gc_roots *ro, struct oidset *seen,
			  struct strbuf *err)
{
	struct strbuf perr = STRBUF_INIT;
	char **paths = NULL, **ign = NULL;
	size_t n = 0, ni = 0, i;
	/* ignored ones too: git does not show them, but they name data */
	int ret = git_list_pointers(r->top, &paths, &n, err);
	if (!ret)
		ret = git_list_ignored_pointers(r->top, &ign, &ni, err);
	if (!ret && ni) {
		paths = xrealloc(paths, (n + ni) * sizeof(*paths));
		memcpy(paths + n, ign, ni * sizeof(*ign));
		n += ni;
	}
	free(ign);
	for (i = 0; i < n && !ret; i++) {
		struct pointer p;
		char *abs = repo_abspath(r, paths[i]);
		int code = ptr_read(&p, abs, &perr);
		ro->worktree++;
		if (code)
			add_bad(ro, paths[i], GC_ROOT_WORKTREE, code, perr.buf);
		else
			add_root(ro, seen, paths[i], GC_ROOT_WORKTREE, NULL, &p);
		free(abs);
	}
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	strbuf_release(&perr);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Roots from the blobs git_*_pointer_blobs() listed, but those in `done`
 * (sorted blob ids read already: most of the index is in HEAD). Frees the
 * paths; the ids read go, sorted, to *keep (*nkeep of them) if keep is
 * not NULL, else they are freed.
 */
static int roots_blobs(struct repo *r, struct gc_roots *ro, struct oidset *seen, char **oids,
		       char **paths, size_t n, int origin, char **done, size_t ndone,
		       char ***keep, size_t *nkeep, struct strbuf *err)
{
	struct blob_roots br;
	size_t i, k = 0;
	int ret;
	for (i = 0; i < n; i++) {
		if (ndone && bsearch(&oids[i], done, ndone, sizeof(*done), cmp_str)) {
			free(oids[i]);
			free(paths[i]);
			continue;
		}
		oids[k] = oids[i];
		paths[k++] = paths[i];
	}
	br.ro = ro;
	br.seen = seen;
	br.oids = oids;
	br.paths = paths;
	br.origin = origin;
	ret = git_read_small_blobs(r->top, oids, k, POINTER_MAX_SIZE, root_from_blob, &br, err);
	for (i = 0; i < k; i++)
		free(paths[i]);
	free(paths);
	if (keep && k) {
		sort_array(oids, k, sizeof(*oids), cmp_str);
		*keep = oids;
		*nkeep = k;
		return ret;
	}
	for (i = 0; i < k; i++)
		free(oids[i]);
	free(oids);
	return ret;
}

/*
 * The pointers staged in git's index (every stage of a conflict too); the
 * blob ids read go, sorted, to *done (*ndone of them).
 */
static int roots_index(struct repo *r, struct gc_roots *ro, struct oidset *seen, char ***done,
		       size_t *ndone, struct strbuf *err)
{
	char **oids = NULL, **paths = NULL;
	size_t n = 0;
	int ret = git_index_pointer_blobs(r->top, &oids, &paths, &n, err);
	if (!ret)
		ret = roots_blobs(r, ro, seen, oids, paths, n, GC_ROOT_INDEX, NULL, 0, done, ndone,
				  err);
	return ret;
}

static int roots_history(struct repo *r, struct gc_roots *ro, struct oidset *seen, char **done,
			 size_t ndone, struct strbuf *err)
{
	const char *argv[] = { "git", "rev-list", "--all", "--count", NULL };
	struct strbuf out = STRBUF_INIT;
	char **oids = NULL, **paths = NULL;
	size_t n = 0;
	int ret = run_capture(argv, r->top, 4096, &out, err);
	if (!ret)
		ro->commits = strtoull(out.buf, NULL, 10);
	strbuf_release(&out);
	if (!ret)
		ret = git_all_pointer_blobs(r->top, &oids, &paths, &n, err);
	if (!ret)
		ret = roots_blobs(r, ro, seen, oids, paths, n, GC_ROOT_HISTORY, done, ndone, NULL,
				  NULL, err);
	return ret;
}

static int roots_rev(struct repo *r, struct gc_roots *ro, struct oidset *seen, const char *rev,
		     char **done, size_t ndone, struct strbuf *err)
{
	struct strbuf commit = STRBUF_INIT;
	char **oids = NULL, **paths = NULL;
	size_t n = 0;
	int ret = git_resolve_commit(r->top, rev, &commit, err);
	if (!ret)
		ret = git_commit_pointer_blobs(r->top, commit.buf, &oids, &paths, &n, err);
	if (!ret) {
		ro->commits = 1;
		ret = roots_blobs(r, ro, seen, oids, paths, n, GC_ROOT_HISTORY, done, ndone, NULL,
				  NULL, err);
	}
	strbuf_release(&commit);
	return ret;
}

int gc_roots_collect(struct repo *r, int scope, const char *rev, struct gc_roots *out,
		     struct strbuf *err)
{
	struct oidset seen;
	char **done = NULL;
	size_t ndone = 0, i;
	int ret;

	memset(out, 0, sizeof(*out));
	oidset_init(&seen);
	/* the work tree first: a problem is named by its path there if it can be */
	ret = scope == GC_SCOPE_HISTORY ? 0 : roots_worktree(r, out, &seen, err);
	if (!ret && scope != GC_SCOPE_HISTORY)
		ret = roots_index(r, out, &seen, &done, &ndone, err);
	if (!ret && (scope == GC_SCOPE_ALL || scope == GC_SCOPE_HISTORY))
		ret = roots_history(r, out, &seen, done, ndone, err);
	else if (!ret && scope == GC_SCOPE_REV)
		ret = roots_rev(r, out, &seen, rev, done, ndone, err);
	for (i = 0; i < ndone; i++)
		free(done[i]);
	free(done);
	oidset_release(&seen);
	if (ret)
		gc_roots_release(out);
	return ret;
}

void gc_roots_release(struct gc_roots *ro)
{
	size_t i;
	for (i = 0; i < ro->n; i++)
		free(ro->v[i].path);
	for (i = 0; i < ro->nbad; i++) {
		free(ro->bad[i].path);
		free(ro->bad[i].msg);
	}
	free(ro->v);
	free(ro->bad);
	memset(ro, 0, sizeof(*ro));
}

/* --- mark --- */

struct walk {
	struct odb_thread *t;
	const struct gc_hooks *h;
	struct gc_mark *m;
	size_t root;
	const char *path; /* of what is being walked */
};

static int indexed(struct odb_thread *t, const struct oid *id, int type)
{
	struct obj_loc loc;
	return !odb_lookup(t, id, type, &loc, NULL);
}

/*
 * A tree or file reached that could not be read (error `code`, message in
 * err). Not indexed at all: noted, and the walk goes on. Indexed: damage,
 * which stops gc; fsck's hook decides.
 */
static int trouble(struct walk *w, int code, const struct oid *id, int type, int top,
		   struct strbuf *err)
{
	struct gc_mark *m = w->m;
	struct strbuf msg = STRBUF_INIT;
	int absent, r;

	if (CAIRN_IS_RESOURCE(code))
		return code; /* says nothing about the object: stop */
	if (type == OBJ_MANIFEST)
		absent = !indexed(w->t, id, OBJ_MANIFEST) && !indexed(w->t, id, OBJ_CHUNK);
	else
		absent = !indexed(w->t, id, type);
	if (absent) {
		ALLOC_GROW(m->absent, m->nabsent + 1, m->aabsent);
		m->absent[m->nabsent].id = *id;
		m->absent[m->nabsent].type = (uint8_t)type;
		m->nabsent++;
		if (top)
			m->absent_roots++;
	}
	if (!w->h || !w->h->problem)
		return absent ? 0 : code;
	strbuf_addstr(&msg, err->buf);
	r = w->h->problem(absent, id, type, w->path, w->root, top, msg.buf, w->h->data, err);
	strbuf_release(&msg);
	return r;
}

static int walk_file(struct walk *w, const struct tree_entry *e, int top, struct strbuf *err)
{
	struct gc_mark *m = w->m;
	struct manifest man;
	size_t i;
	int r;

	if (!e->size)
		return 0;
	/* (id, manifest) marks the file as walked, whether it has one or not */
	if (!oidset_insert(&m->reached, &e->id, OBJ_MANIFEST))
		return 0;
	m->files++;
	if (w->h && w->h->file) {
		r = w->h->file(e, w->path, w->root, w->h->data, err);
		if (r)
			return r;
	}
	r = content_chunks(w->t, &e->id, e->size, &man, err);
	if (r) {
		/* unread, it may be a file of one chunk, whose id is the
		 * file's: that chunk is reached too (gc -r keeps its pack) */
		if (oidset_insert(&m->reached, &e->id, OBJ_CHUNK))
			m->chunks++;
		return trouble(w, r, &e->id, OBJ_MANIFEST, top, err);
	}
	for (i = 0; i < man.n; i++)
		if (oidset_insert(&m->reached, &man.chunks[i].id, OBJ_CHUNK))
			m->chunks++;
	manifest_release(&man);
	return 0;
}

/* The tree just read may be a delta: noted with its base (see gc_mark). */
static void note_delta(struct walk *w, const struct oid *id)
{
	struct gc_mark *m = w->m;
	struct oid base;
	if (!odb_last_delta_base(w->t, &base))
		return;
	ALLOC_GROW(m->deltas, m->ndeltas + 2, m->adeltas);
	m->deltas[m->ndeltas++] = *id;
	m->deltas[m->ndeltas++] = base;
}

static int walk_entry(struct tree_walk *tw, const struct tree_entry *e, void *data,
		      struct strbuf *err)
{
	struct walk *w = data;
	w->path = tw->path.buf;
	if (e->mode != MODE_DIR)
		return walk_file(w, e, 0, err);
	/*
	 * NEEDSWORK: a tree walked once is skipped wherever else it is met,
	 * so one shared at two depths is only checked against the depth
	 * limit at the first: fsck misses a tree too deep only through such
	 * sharing (every command that reads it still refuses it). Checking
	 * it needs each tree's height kept beside the reached set.
	 */
	return oidset_insert(&w->m->reached, &e->id, OBJ_TREE) ? 0 : TREE_WALK_SKIP;
}

static int walk_tree(struct tree_walk *tw, const struct tree_entry *e, int r, void *data,
		     struct strbuf *err)
{
	struct walk *w = data;
	w->path = tw->path.buf;
	if (r)
		return trouble(w, r, &e->id, OBJ_TREE, tw->level == 1, err);
	w->m->trees++;
	note_delta(w, &e->id);
	return 0;
}

int gc_mark(struct odb_thread *t, const struct gc_roots *roots, const struct gc_hooks *hooks,
	    struct gc_mark *m, struct strbuf *err)
{
	static const struct tree_walk_ops ops = { walk_entry, walk_tree, NULL };
	struct walk w;
	size_t i;
	int r = 0;

	memset(m, 0, sizeof(*m));
	oidset_init(&m->reached);
	oidset_init(&m->rebase);
	w.t = t;
	w.h = hooks;
	w.m = m;
	for (i = 0; i < roots->n && !r; i++) {
		const struct pointer *p = &roots->v[i].ptr;
		struct tree_entry e;
		w.root = i;
		w.path = roots->v[i].path;
		memset(&e, 0, sizeof(e));
		e.mode = p->is_dir ? MODE_DIR : p->mode;
		e.size = p->size;
		e.id = p->id;
		e.sha = p->sha;
		if (!p->is_dir)
			r = walk_file(&w, &e, 1, err);
		else if (oidset_insert(&m->reached, &p->id, OBJ_TREE))
			r = tree_walk(t, &e, roots->v[i].path, 1, &ops, &w, err);
	}
	/* a delta whose base is not reached is stored whole again by gc */
	for (i = 0; i + 1 < m->ndeltas; i += 2)
		if (!oidset_contains(&m->reached, &m->deltas[i + 1], OBJ_TREE))
			oidset_insert(&m->rebase, &m->deltas[i], OBJ_TREE);
	return r;
}

void gc_mark_release(struct gc_mark *m)
{
	oidset_release(&m->reached);
	oidset_release(&m->rebase);
	free(m->deltas);
	free(m->absent);
	memset(m, 0, sizeof(*m));
}

/* --- sweep --- */

enum { KEEP = 0, DELETE, REPACK };
#define NOPACK UINT32_MAX

struct sweep_pack {
	struct odb_pack_info info;
	uint64_t live, dead, live_bytes;
	uint64_t rebase; /* live deltas whose base goes: the pack is rewritten */
	int action;
};

struct dead_obj {
	struct odb_key key;
	uint32_t pack; /* index into packs, or NOPACK */
};

struct live_obj {
	struct odb_key key;
	struct obj_loc loc;
};

struct sweep {
	const struct gc_mark *m;
	struct gc_result *res;
	struct sweep_pack *p;
	size_t np;
	struct dead_obj *dead;
	size_t ndead, adead;
	struct live_obj *move; /* live objects of packs to repack */
	size_t nmove, amove;
};

static uint32_t find_pack(const struct sweep *s, uint32_t no)
{
	size_t lo = 0, hi = s->np;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->p[mid].info.no == no)
			return (uint32_t)mid;
		if (s->p[mid].info.no < no)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NOPACK;
}

static int scan_obj(const struct oid *id, int type, const struct obj_loc *loc, void *data)
{
	struct sweep *s = data;
	uint32_t pi;
	uint64_t bytes = PACK_ENTRY_HDR_SZ + (uint64_t)loc->stored_len;

	if (!type)
		return 0; /* malformed: left for fsck to report */
	s->res->objects++;
	pi = find_pack(s, loc->pack_no);
	if (oidset_contains(&s->m->reached, id, type)) {
		s->res->live_objects++;
		s->res->live_bytes += bytes;
		if (pi != NOPACK) {
			s->p[pi].live++;
			s->p[pi].live_bytes += bytes;
			if (type == OBJ_TREE && oidset_contains(&s->m->rebase, id, type))
				s->p[pi].rebase++;
		}
		return 0;
	}
	s->res->dead_objects++;
	s->res->dead_bytes += bytes;
	if (pi != NOPACK)
		s->p[pi].dead++;
	ALLOC_GROW(s->dead, s->ndead + 1, s->adead);
	s->dead[s->ndead].key.id = *id;
	s->dead[s->ndead].key.type = (uint8_t)type;
	s->dead[s->ndead].pack = pi;
	s->ndead++;
	return 0;
}

static int collect_moves(const struct oid *id, int type, const struct obj_loc *loc, void *data)
{
	struct sweep *s = data;
	uint32_t pi;
	if (!type || !oidset_contains(&s->m->reached, id, type))
		return 0;
	pi = find_pack(s, loc->pack_no);
	if (pi == NOPACK || s->p[pi].action != REPACK)
		return 0;
	ALLOC_GROW(s->move, s->nmove + 1, s->amove);
	s->move[s->nmove].key.id = *id;
	s->move[s->nmove].key.type = (uint8_t)type;
	s->move[s->nmove].loc = *loc;
	s->nmove++;
	return 0;
}

static int move_cmp(const void *a, const void *b)
{
	const struct live_obj *x = a, *y = b;
	if (x->loc.pack_no != y->loc.pack_no)
		return x->loc.pack_no < y->loc.pack_no ? -1 : 1;
	return x->loc.offset < y->loc.offset ? -1 : x->loc.offset > y->loc.offset;
}

static int oid_cmp_v(const void *a, const void *b)
{
	return oid_cmp(a, b);
}

/* A pack file in packs/ that no index entry names: garbage, if not new. */
struct orphan {
	char *name;
	uint64_t size;
};

static int find_orphans(const char *packdir, const struct oid *known, size_t nknown,
			int64_t min_age, struct orphan **out, size_t *n, struct strbuf *err)
{
	DIR *d = opendir(packdir);
	struct dirent *de;
	size_t alloc = 0;
	time_t now = time(NULL);

	*out = NULL;
	*n = 0;
	if (!d)
		return cerr_errno(err, "cannot list '%s'", packdir);
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		size_t l = strlen(nm);
		struct oid id;
		struct stat st;
		if (!((l == OID_HEXSZ + 5 && !strcmp(nm + OID_HEXSZ, ".pack")) ||
		      (l == OID_HEXSZ + 4 && !strcmp(nm + OID_HEXSZ, ".idx"))))
			continue;
		if (oid_from_hex(&id, nm, OID_HEXSZ))
			continue;
		if (bsearch(&id, known, nknown, sizeof(*known), oid_cmp_v))
			continue;
		/* a writer renames its pack into place before indexing it */
		if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    (int64_t)(now - st.st_mtime) < min_age)
			continue;
		ALLOC_GROW(*out, *n + 1, alloc);
		(*out)[*n].name = xstrdup(nm);
		(*out)[*n].size = (uint64_t)st.st_size;
		(*n)++;
	}
	closedir(d);
	return 0;
}

static void unlink_pack(const char *packdir, const struct oid *id)
{
	char hex[OID_HEXSZ + 1];
	char *p;
	oid_to_hex(id, hex);
	/* the index first: an index file always names a whole pack */
	p = xstrfmt("%s/%s.idx", packdir, hex);
	unlink(p);
	free(p);
	p = xstrfmt("%s/%s.pack", packdir, hex);
	unlink(p);
	free(p);
}

struct repacker {
	struct repo *r;
	struct pack_writer w[2]; /* chunks; manifests and trees */
	int open[2];
	struct odb_new_pack *np;
	size_t nnp, anp;
};

static int repack_seal(struct repacker *rp, int k, struct strbuf *err)
{
	struct pack_writer *w = &rp->w[k];
	struct odb_new_pack *np;
	struct oid pid;
	int r = pack_writer_finish(w, rp->r->odb->packdir, &pid, err);
	if (!r) {
		ALLOC_GROW(rp->np, rp->nnp + 1, rp->anp);
		np = &rp->np[rp->nnp++];
		np->id = pid;
		np->size = w->size;
		np->raw = w->raw_bytes;
		np->e = w->entries;
		np->n = w->n;
		w->entries = NULL; /* now the new pack's */
		w->n = w->alloc = 0;
	}
	pack_writer_release(w);
	rp->open[k] = 0;
	return r;
}

/* Copies the live objects of the packs to repack, verified, into new packs. */
static int repack(struct repo *r, struct sweep *s, struct repacker *rp, struct progress *prog,
		  struct strbuf *err)
{
	struct odb_thread t;
	struct strbuf raw = STRBUF_INIT;
	size_t i;
	int k, ret = 0;

	sort_array(s->move, s->nmove, sizeof(*s->move), move_cmp);
	odb_thread_init(&t, r->odb);
	for (i = 0; i < s->nmove && !ret; i++) {
		const struct live_obj *o = &s->move[i];
		struct pack_entry e;
		const void *stored;
		size_t slen;
		int codec;
		/* a delta whose base goes is written whole */
		int whole = oidset_contains(&s->m->rebase, &o->key.id, o->key.type);

		ret = odb_read_stored(&t, &o->key.id, o->key.type, whole, &raw, &codec, &stored,
				      &slen, err);
		if (!ret && o->key.type == OBJ_MANIFEST) {
			struct manifest m;
			ret = manifest_decode(&m, raw.buf, raw.len, err);
			manifest_release(&m);
		}
		if (ret) {
			ret = cerr_wrap(err, ret, "cannot repack (run 'cairn fsck')");
			break;
		}
		memset(&e, 0, sizeof(e));
		e.id = o->key.id;
		e.type = o->key.type;
		e.codec = (uint8_t)codec;
		e.raw_len = (uint32_t)raw.len;
		e.stored_len = (uint32_t)slen;
		k = o->key.type == OBJ_CHUNK ? 0 : 1;
		if (!rp->open[k]) {
			ret = pack_writer_open(&rp->w[k], r->odb->tmpdir, err);
			if (ret)
				break;
			rp->open[k] = 1;
		}
		ret = pack_writer_append(&rp->w[k], &e, stored, err);
		if (!ret && rp->w[k].size >= r->odb->opts.pack_size)
			ret = repack_seal(rp, k, err);
		progress_add(prog, 1, raw.len);
	}
	for (k = 0; k < 2 && !ret; k++)
		if (rp->open[k])
			ret = repack_seal(rp, k, err);
	for (k = 0; k < 2; k++)
		if (rp->open[k]) {
			pack_writer_release(&rp->w[k]);
			rp->open[k] = 0;
		}
	strbuf_release(&raw);
	odb_thread_release(&t);
	return ret;
}

int gc_sweep(struct repo *r, const struct gc_mark *m, const struct gc_opts *o,
	     struct gc_result *res, struct strbuf *err)
{
	struct sweep s;
	struct repacker rp;
	struct odb_thread t;
	struct odb_pack_info *info = NULL;
	struct orphan *orph = NULL;
	struct oid *known = NULL, *keep = NULL;
	struct odb_key *drop = NULL;
	uint32_t *drop_packs = NULL;
	size_t ninfo = 0, norph = 0, i, ndrop = 0, ndp = 0, nkeep = 0;
	uint64_t removed_bytes = 0, new_bytes = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	memset(&rp, 0, sizeof(rp));
	s.m = m;
	s.res = res;
	odb_thread_init(&t, r->odb);
	if (!o->dry_run)
		odb_clean_tmp(r->odb);
	ret = odb_list_packs(&t, &info, &ninfo, err);
	if (ret)
		goto out;
	s.np = ninfo;
	s.p = xcalloc(ninfo + 1, sizeof(*s.p));
	known = xcalloc(ninfo + 1, sizeof(*known));
	for (i = 0; i < ninfo; i++) {
		s.p[i].info = info[i];
		known[i] = info[i].id;
		res->bytes_before += info[i].size;
	}
	sort_array(known, ninfo, sizeof(*known), oid_cmp_v);
	res->packs = ninfo;
	ret = odb_foreach_object(&t, scan_obj, &s, err);
	if (ret)
		goto out;

	/* what to do with each pack */
	for (i = 0; i < s.np; i++) {
		struct sweep_pack *p = &s.p[i];
		uint64_t size = p->info.size, used = PACK_HDR_SZ + p->live_bytes;
		uint64_t garbage = size > used ? size - used : 0;
		if (!p->live) {
			p->action = DELETE;
			res->packs_deleted++;
			removed_bytes += size;
		} else if (garbage * 100 > (uint64_t)o->threshold * size || p->rebase) {
			p->action = REPACK;
			res->packs_repacked++;
			removed_bytes += size;
			new_bytes += p->live_bytes;
		} else {
			res->left_objects += p->dead;
			res->left_bytes += garbage;
		}
	}
	ret = find_orphans(r->odb->packdir, known, ninfo, o->orphan_age, &orph, &norph, err);
	if (ret)
		goto out;
	for (i = 0; i < norph; i++) {
		res->orphan_files++;
		res->orphan_bytes += orph[i].size;
	}

	if (o->dry_run) {
		/* the new packs: their objects, plus a header each for chunks and the rest */
		if (res->packs_repacked)
			new_bytes += 2 * PACK_HDR_SZ;
		goto totals;
	}

	if (res->packs_repacked) {
		ret = odb_foreach_object(&t, collect_moves, &s, err);
		progress_set_totals(o->progress, s.nmove, 0);
		if (!ret) {
			rp.r = r;
			ret = repack(r, &s, &rp, o->progress, err);
		}
		if (ret) {
			/* nothing names them yet: they go, the store is as it was */
			for (i = 0; i < rp.nnp; i++)
				if (!bsearch(&rp.np[i].id, known, ninfo, sizeof(*known), oid_cmp_v))
					unlink_pack(r->odb->packdir, &rp.np[i].id);
			goto out;
		}
	}
	new_bytes = 0;
	for (i = 0; i < rp.nnp; i++)
		new_bytes += rp.np[i].size;
	res->packs_written = rp.nnp;

	/* one transaction: new packs in, dead entries and old packs out */
	drop = xcalloc(s.ndead + 1, sizeof(*drop));
	for (i = 0; i < s.ndead; i++)
		if (s.dead[i].pack == NOPACK || s.p[s.dead[i].pack].action == KEEP)
			drop[ndrop++] = s.dead[i].key;
	drop_packs = xcalloc(s.np + 1, sizeof(*drop_packs));
	keep = xcalloc(s.np + rp.nnp + 1, sizeof(*keep));
	for (i = 0; i < s.np; i++) {
		if (s.p[i].action != KEEP)
			drop_packs[ndp++] = s.p[i].info.no;
		else
			keep[nkeep++] = s.p[i].info.id;
	}
	for (i = 0; i < rp.nnp; i++)
		keep[nkeep++] = rp.np[i].id;
	sort_array(keep, nkeep, sizeof(*keep), oid_cmp_v);
	if (rp.nnp || ndrop || ndp) {
		struct odb_rewrite rw;
		memset(&rw, 0, sizeof(rw));
		rw.packs = rp.np;
		rw.npacks = rp.nnp;
		rw.drop = drop;
		rw.ndrop = ndrop;
		rw.drop_packs = drop_packs;
		rw.ndrop_packs = ndp;
		ret = odb_rewrite(r->odb, &rw, err);
		if (ret) {
			for (i = 0; i < rp.nnp; i++)
				if (!bsearch(&rp.np[i].id, known, ninfo, sizeof(*known), oid_cmp_v))
					unlink_pack(r->odb->packdir, &rp.np[i].id);
			goto out;
		}
	}
	/* only now, when nothing names them: the files */
	for (i = 0; i < s.np; i++)
		if (s.p[i].action != KEEP &&
		    !bsearch(&s.p[i].info.id, keep, nkeep, sizeof(*keep), oid_cmp_v))
			unlink_pack(r->odb->packdir, &s.p[i].info.id);
	for (i = 0; i < norph; i++) {
		char *p = xstrfmt("%s/%s", r->odb->packdir, orph[i].name);
		unlink(p);
		free(p);
	}
	if ((ndp || norph) && fsync_dir_of(r->odb->packdir, 1) < 0)
		ret = cerr_errno(err, "cannot fsync '%s'", r->odb->packdir);
totals:
	res->bytes_after = res->bytes_before - removed_bytes + new_bytes;
	res->bytes_freed = res->bytes_before - res->bytes_after + res->orphan_bytes;
	if (res->bytes_after > res->bytes_before)
		res->bytes_freed = res->orphan_bytes;
out:
	for (i = 0; i < rp.nnp; i++)
		free((void *)rp.np[i].e);
	free(rp.np);
	for (i = 0; i < norph; i++)
		free(orph[i].name);
	free(orph);
	free(info);
	free(known);
	free(keep);
	free(drop);
	free(drop_packs);
	free(s.p);
	free(s.dead);
	free(s.move);
	odb_thread_release(&t);
	return ret;
}
