/*
 * fsck: checking the local store (see core/fsck.h).
 */
#include "core/fsck.h"
#include "core/checkout.h"
#include "core/content.h"
#include "core/object.h"
#include "core/parallel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kind_names[] = {
	"", "missing-pack", "pack-size", "bad-pack-header", "bad-pack-index", "index-mismatch",
	"corrupt-object", "missing-object", "dangling-entry", "bad-file", "bad-pointer",
};

const char *fsck_kind_name(int kind)
{
	if (kind < 1 || kind > FSCK_BAD_POINTER)
		return "unknown";
	return kind_names[kind];
}

/* (oid, tag) -> problem number: tag is the object type, or TAG_FILE */
#define TAG_FILE 4

struct pmap_slot {
	struct oid id;
	uint8_t tag;  /* 0 = empty */
	size_t prob;
};

struct pmap {
	struct pmap_slot *s;
	size_t cap, n;
};

static size_t pmap_slot_of(const struct oid *id, int tag, size_t cap)
{
	return (size_t)((get_le64(id->b) ^ (uint64_t)tag * 0x9e3779b97f4a7c15ULL) & (cap - 1));
}

static struct pmap_slot *pmap_find(struct pmap *m, const struct oid *id, int tag)
{
	size_t j;
	if (!m->cap)
		return NULL;
	for (j = pmap_slot_of(id, tag, m->cap); m->s[j].tag; j = (j + 1) & (m->cap - 1))
		if (m->s[j].tag == tag && oid_eq(&m->s[j].id, id))
			return &m->s[j];
	return NULL;
}

static void pmap_put(struct pmap *m, const struct oid *id, int tag, size_t prob)
{
	size_t j;
	if ((m->n + 1) * 2 > m->cap) {
		struct pmap old = *m;
		m->cap = m->cap ? m->cap * 2 : 64;
		m->s = xcalloc(m->cap, sizeof(*m->s));
		m->n = 0;
		for (j = 0; j < old.cap; j++)
			if (old.s[j].tag)
				pmap_put(m, &old.s[j].id, old.s[j].tag, old.s[j].prob);
		free(old.s);
	}
	for (j = pmap_slot_of(id, tag, m->cap); m->s[j].tag; j = (j + 1) & (m->cap - 1))
		;
	m->s[j].id = *id;
	m->s[j].tag = (uint8_t)tag;
	m->s[j].prob = prob;
	m->n++;
}

/* A file the walk reached, to stream whole. */
struct file_job {
	struct oid id;
	struct sha256 sha;
	uint64_t size;
	char *path;
};

struct fsck {
	struct repo *r;
	struct fsck_result *res;
	const struct fsck_opts *o;
	pthread_mutex_t lock;
	struct odb_pack_info *packs;
	size_t np;
	uint64_t *count;     /* per pack: entries the index places in it */
	size_t *pack_prob;   /* per pack: its problem, or SIZE_MAX */
	struct pmap objs;
	struct file_job *files;
	size_t nfiles, afiles;
	struct odb_thread t; /* the main thread's */
	int incomplete_ok;   /* a fetch was interrupted: absent objects are expected */
};

#define NONE ((size_t)-1)

static size_t find_pack(const struct fsck *f, uint32_t no)
{
	size_t lo = 0, hi = f->np;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->packs[mid].no == no)
			return mid;
		if (f->packs[mid].no < no)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* A new problem; the caller holds f->lock. */
static struct fsck_problem *new_problem(struct fsck *f, int kind, const char *msg)
{
	struct fsck_result *res = f->res;
	struct fsck_problem *p;
	ALLOC_GROW(res->v, res->n + 1, res->alloc);
	p = &res->v[res->n++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->msg = xstrdup(msg);
	return p;
}

static void set_pack(struct fsck_problem *p, const struct odb_pack_info *pi)
{
	p->has_pack = 1;
	p->pack_no = pi->no;
	p->pack = pi->id;
}

static void add_path(struct fsck_problem *p, const char *path)
{
	size_t i;
	if (!path || !*path)
		return;
	for (i = 0; i < p->npaths; i++)
		if (!strcmp(p->paths[i], path))
			return;
	if (p->npaths < FSCK_MAX_PATHS)
		p->paths[p->npaths++] = xstrdup(path);
	else
		p->more_paths++;
}

/* A problem of the pack at index pi (one per pack; later ones add to it). */
static struct fsck_problem *pack_problem(struct fsck *f, size_t pi, int kind, const char *msg)
{
	struct fsck_problem *p;
	if (f->pack_prob[pi] != NONE)
		return &f->res->v[f->pack_prob[pi]];
	p = new_problem(f, kind, msg);
	set_pack(p, &f->packs[pi]);
	f->pack_prob[pi] = f->res->n - 1;
	return p;
}

/* An object problem, once per (object, tag); returns the existing one. */
static struct fsck_problem *obj_problem(struct fsck *f, int kind, const struct oid *id, int type,
					int tag, const char *msg)
{
	struct pmap_slot *s = pmap_find(&f->objs, id, tag);
	struct fsck_problem *p;
	if (s)
		return &f->res->v[s->prob];
	p = new_problem(f, kind, msg);
	p->id = *id;
	p->type = type;
	pmap_put(&f->objs, id, tag, f->res->n - 1);
	return p;
}

/* --- 1, 2: packs and every indexed object --- */

static int count_obj(const struct oid *id, int type, const struct obj_loc *loc, void *data)
{
	struct fsck *f = data;
	size_t pi;
	char hex[OID_HEXSZ + 1];
	struct strbuf msg = STRBUF_INIT;

	if (!type) {
		strbuf_addf(&msg, "the index has a malformed entry for %s",
			    oid_to_hex(id, hex));
		obj_problem(f, FSCK_DANGLING_ENTRY, id, 0, 0, msg.buf);
		strbuf_release(&msg);
		return 0;
	}
	f->res->objects++;
	pi = find_pack(f, loc->pack_no);
	if (pi != NONE) {
		f->count[pi]++;
		return 0;
	}
	strbuf_addf(&msg, "%s %s: the index places it in pack number %u, which it does not name",
		    obj_type_name(type), oid_to_hex(id, hex), loc->pack_no);
	obj_problem(f, FSCK_DANGLING_ENTRY, id, type, type, msg.buf);
	strbuf_release(&msg);
	return 0;
}

struct pack_obj {
	struct odb_key key;
	struct obj_loc loc;
};

struct in_pack {
	uint32_t no;
	struct pack_obj *v;
	size_t n, alloc;
};

static int collect_in_pack(const struct oid *id, int type, const struct obj_loc *loc, void *data)
{
	struct in_pack *c = data;
	if (!type || loc->pack_no != c->no)
		return 0;
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	c->v[c->n].key.id = *id;
	c->v[c->n].key.type = (uint8_t)type;
	c->v[c->n].loc = *loc;
	c->n++;
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct pack_obj *x = a, *y = b;
	return x->loc.offset < y->loc.offset ? -1 : x->loc.offset > y->loc.offset;
}

/* Verifies one object of pack pi read through fd; 0 or the error. */
static int verify_one(struct odb_thread *t, int fd, const char *hex, const struct pack_obj *o,
		      struct strbuf *raw, struct strbuf *err)
{
	int r = odb_read_at(t, fd, hex, &o->key.id, o->key.type, &o->loc, raw, err);
	if (!r && o->key.type == OBJ_MANIFEST) {
		struct manifest m;
		char ihex[OID_HEXSZ + 1];
		r = manifest_decode(&m, raw->buf, raw->len, err);
		manifest_release(&m);
		if (r)
			r = cerr_wrap(err, CAIRN_ECORRUPT, "manifest %s in pack %s",
				      oid_to_hex(&o->key.id, ihex), hex);
	}
	return r;
}

static int check_pack(size_t pi, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct fsck *f = data;
	const struct odb_pack_info *info = &f->packs[pi];
	struct odb *odb = f->r->odb;
	struct strbuf msg = STRBUF_INIT, idx = STRBUF_INIT, raw = STRBUF_INIT, e2 = STRBUF_INIT;
	struct in_pack objs;
	struct pack_entry *e = NULL;
	char hex[OID_HEXSZ + 1];
	char *ppath, *ipath;
	struct stat st;
	size_t ne = 0, i, bad_objs = 0;
	int fd = -1, pack_bad = 0, idx_ok = 0, ret = 0;
	uint64_t matched = 0, bytes = 0;

	memset(&objs, 0, sizeof(objs));
	objs.no = info->no;
	oid_to_hex(&info->id, hex);
	ppath = xstrfmt("%s/%s.pack", odb->packdir, hex);
	ipath = xstrfmt("%s/%s.idx", odb->packdir, hex);

	/* the file: there, of its size, with a good header */
	if (stat(ppath, &st) < 0) {
		strbuf_addf(&msg, "pack %s is missing (%s; the index places %llu objects in it)", hex,
			    strerror(errno), (unsigned long long)f->count[pi]);
		pthread_mutex_lock(&f->lock);
		pack_problem(f, pi, FSCK_MISSING_PACK, msg.buf);
		pthread_mutex_unlock(&f->lock);
		pack_bad = 1;
	} else {
		fd = open(ppath, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT && CAIRN_IS_RESOURCE(cairn_errno_code(errno))) {
			ret = cerr_errno(err, "cannot open pack '%s'", ppath);
			goto out;
		}
		strbuf_reset(&msg);
		if ((uint64_t)st.st_size != info->size) {
			strbuf_addf(&msg, "pack %s is %s: %llu bytes, the index says %llu", hex,
				    (uint64_t)st.st_size < info->size ? "truncated" : "too long",
				    (unsigned long long)st.st_size, (unsigned long long)info->size);
			pthread_mutex_lock(&f->lock);
			pack_problem(f, pi, FSCK_PACK_SIZE, msg.buf);
			pthread_mutex_unlock(&f->lock);
			pack_bad = 1;
		}
		if (fd >= 0) {
			uint8_t hdr[PACK_HDR_SZ];
			if (pread_full(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
			    pack_header_check(hdr)) {
				strbuf_reset(&msg);
				strbuf_addf(&msg, "pack %s has a bad header", hex);
				pthread_mutex_lock(&f->lock);
				pack_problem(f, pi, FSCK_PACK_HEADER, msg.buf);
				pthread_mutex_unlock(&f->lock);
				pack_bad = 1;
			}
		}
	}

	/* its .idx: parses, names this pack, and agrees with the index */
	ret = read_file(ipath, (size_t)1 << 31, &idx, &e2);
	if (CAIRN_IS_RESOURCE(ret)) {
		strbuf_reset(err);
		strbuf_add(err, e2.buf, e2.len);
		goto out;
	}
	if (ret) {
		ret = 0;
		strbuf_reset(&msg);
		strbuf_addf(&msg, "pack index of %s: %s", hex, e2.buf);
	} else {
		struct oid pid;
		uint64_t psize = 0;
		strbuf_reset(&msg);
		if (pack_idx_decode(idx.buf, idx.len, ipath, &pid, &psize, &e, &ne, &e2))
			strbuf_addstr(&msg, e2.buf);
		else if (!oid_eq(&pid, &info->id) || psize != info->size)
			strbuf_addf(&msg, "pack index '%s' describes another pack", ipath);
		else
			idx_ok = 1;
	}
	if (!idx_ok) {
		pthread_mutex_lock(&f->lock);
		pack_problem(f, pi, FSCK_BAD_PACK_INDEX, msg.buf);
		pthread_mutex_unlock(&f->lock);
		pack_bad = 1;
	}
	if (idx_ok) {
		for (i = 0; i < ne; i++) {
			struct obj_loc loc;
			int r = odb_lookup(&pt->odb, &e[i].id, e[i].type, &loc, err);
			if (r == CAIRN_ENOTFOUND || (!r && loc.pack_no != info->no))
				continue; /* garbage, or a copy the index takes from elsewhere */
			if (r) {
				ret = r;
				goto out;
			}
			matched++;
			if (loc.offset != e[i].offset || loc.codec != e[i].codec ||
			    loc.raw_len != e[i].raw_len || loc.stored_len != e[i].stored_len) {
				char ohex[OID_HEXSZ + 1];
				strbuf_reset(&msg);
				strbuf_addf(&msg, "%s %s: the index and pack index '%s' disagree about it",
					    obj_type_name(e[i].type), oid_to_hex(&e[i].id, ohex), ipath);
				pthread_mutex_lock(&f->lock);
				set_pack(obj_problem(f, FSCK_INDEX_MISMATCH, &e[i].id, e[i].type, e[i].type,
						     msg.buf),
					 info);
				pthread_mutex_unlock(&f->lock);
			}
			ALLOC_GROW(objs.v, objs.n + 1, objs.alloc);
			objs.v[objs.n].key.id = e[i].id;
			objs.v[objs.n].key.type = e[i].type;
			objs.v[objs.n].loc = loc;
			objs.n++;
		}
		if (matched != f->count[pi]) {
			strbuf_reset(&msg);
			strbuf_addf(&msg,
				    "the index places %llu objects in pack %s, its .idx lists %llu of them",
				    (unsigned long long)f->count[pi], hex, (unsigned long long)matched);
			pthread_mutex_lock(&f->lock);
			pack_problem(f, pi, FSCK_INDEX_MISMATCH, msg.buf);
			pthread_mutex_unlock(&f->lock);
			pack_bad = 1;
		}
	}
	if (!idx_ok || matched != f->count[pi]) {
		/* learn from the index itself what it places here (rare: a full scan) */
		objs.n = 0;
		ret = odb_foreach_object(&pt->odb, collect_in_pack, &objs, err);
		if (ret)
			goto out;
	}

	/* every object the index places here, read in pack order */
	sort_array(objs.v, objs.n, sizeof(*objs.v), by_offset);
	for (i = 0; i < objs.n; i++) {
		int r = fd < 0 ? CAIRN_ENOTFOUND
			       : verify_one(&pt->odb, fd, hex, &objs.v[i], &raw, &e2);
		bytes += objs.v[i].loc.stored_len;
		progress_add(f->o->progress, 1, objs.v[i].loc.stored_len);
		if (!r)
			continue;
		if (CAIRN_IS_RESOURCE(r)) {
			strbuf_reset(err);
			strbuf_add(err, e2.buf, e2.len);
			ret = r;
			goto out;
		}
		bad_objs++;
		if (pack_bad)
			continue; /* the pack's problem says it */
		pthread_mutex_lock(&f->lock);
		set_pack(obj_problem(f, FSCK_CORRUPT_OBJECT, &objs.v[i].key.id, objs.v[i].key.type,
				     objs.v[i].key.type, e2.buf),
			 info);
		pthread_mutex_unlock(&f->lock);
	}
	pthread_mutex_lock(&f->lock);
	f->res->bytes += bytes;
	if (pack_bad) {
		struct fsck_problem *p = &f->res->v[f->pack_prob[pi]];
		/* kept for the repair, filtered to what the roots reach later */
		p->objs = xcalloc(objs.n + 1, sizeof(*p->objs));
		for (i = 0; i < objs.n; i++)
			p->objs[i] = objs.v[i].key;
		p->nobjs = objs.n;
		if (bad_objs && fd >= 0) {
			strbuf_reset(&msg);
			strbuf_addf(&msg, "%s; %zu of its %zu indexed objects cannot be read", p->msg,
				    bad_objs, objs.n);
			free(p->msg);
			p->msg = strbuf_detach(&msg, NULL);
		}
	}
	pthread_mutex_unlock(&f->lock);
out:
	if (fd >= 0)
		close(fd);
	free(e);
	free(objs.v);
	free(ppath);
	free(ipath);
	strbuf_release(&msg);
	strbuf_release(&idx);
	strbuf_release(&raw);
	strbuf_release(&e2);
	return ret;
}

/* --- 3, 4: the walk, and every file reached --- */

/*
 * Object (id, type) was reached at `path` and cannot be read (message
 * msg): add the path to the problem that explains it, or report it.
 * For a file, type is OBJ_MANIFEST and its chunk is looked up too.
 */
static void attribute(struct fsck *f, struct odb_thread *t, const struct oid *id, int type,
		      const char *path, const char *msg)
{
	struct obj_loc loc;
	struct pmap_slot *s;
	struct fsck_problem *p;
	size_t pi = NONE;
	int found = !odb_lookup(t, id, type, &loc, NULL);

	if (!found && type == OBJ_MANIFEST) {
		found = !odb_lookup(t, id, OBJ_CHUNK, &loc, NULL);
		if (found)
			type = OBJ_CHUNK;
	}
	if (found)
		pi = find_pack(f, loc.pack_no);
	pthread_mutex_lock(&f->lock);
	if (pi != NONE && f->pack_prob[pi] != NONE) {
		add_path(&f->res->v[f->pack_prob[pi]], path);
	} else if ((s = pmap_find(&f->objs, id, type))) {
		add_path(&f->res->v[s->prob], path);
	} else {
		p = obj_problem(f, found ? FSCK_CORRUPT_OBJECT : FSCK_MISSING_OBJECT, id, type, type,
				msg);
		if (pi != NONE)
			set_pack(p, &f->packs[pi]);
		add_path(p, path);
	}
	pthread_mutex_unlock(&f->lock);
}

static int on_file(const struct tree_entry *e, const char *path, size_t root, void *data,
		   struct strbuf *err)
{
	struct fsck *f = data;
	struct file_job *j;
	ALLOC_GROW(f->files, f->nfiles + 1, f->afiles);
	j = &f->files[f->nfiles++];
	j->id = e->id;
	j->sha = e->sha;
	j->size = e->size;
	j->path = xstrdup(path);
	return 0;
}

static int on_problem(int absent, const struct oid *id, int type, const char *path, size_t root,
		      int top, const char *msg, void *data, struct strbuf *err)
{
	struct fsck *f = data;
	char hex[OID_HEXSZ + 1];
	struct strbuf m = STRBUF_INIT;

	if (absent && top)
		return 0; /* this version was never fetched here */
	if (absent && f->incomplete_ok) {
		pthread_mutex_lock(&f->lock);
		f->res->incomplete++;
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	if (absent) {
		strbuf_addf(&m, "%s %s is not in the store", type == OBJ_TREE ? "tree" : "file",
			    oid_to_hex(id, hex));
		attribute(f, &f->t, id, type, path, m.buf);
	} else {
		attribute(f, &f->t, id, type, path, msg);
	}
	strbuf_release(&m);
	return 0;
}

static int check_file(size_t k, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct fsck *f = data;
	const struct file_job *j = &f->files[k];
	struct strbuf buf = STRBUF_INIT, e2 = STRBUF_INIT;
	struct manifest m;
	struct oid got;
	struct sha256 gsha;
	struct oid_ctx oc;
	struct sha256_ctx sc;
	uint64_t total = 0;
	size_t i;
	int bad = 0, rc;

	rc = content_chunks(&pt->odb, &j->id, j->size, &m, &e2);
	if (rc) {
		int r = rc;
		if (CAIRN_IS_RESOURCE(r)) {
			strbuf_reset(err);
			strbuf_add(err, e2.buf, e2.len);
		} else {
			r = 0; /* the walk reported it */
		}
		strbuf_release(&e2);
		return r;
	}
	oid_ctx_init(&oc);
	sha256_init(&sc);
	for (i = 0; i < m.n; i++) {
		int r = odb_read(&pt->odb, &m.chunks[i].id, OBJ_CHUNK, &buf, &e2);
		if (!r && buf.len != m.chunks[i].len)
			r = cerr(&e2, CAIRN_ECORRUPT, "chunk %zu of '%s' has the wrong length", i,
				 j->path);
		if (CAIRN_IS_RESOURCE(r)) {
			strbuf_reset(err);
			strbuf_add(err, e2.buf, e2.len);
			manifest_release(&m);
			strbuf_release(&buf);
			strbuf_release(&e2);
			return r;
		}
		if (r == CAIRN_ENOTFOUND && f->incomplete_ok) {
			pthread_mutex_lock(&f->lock);
			f->res->incomplete++;
			pthread_mutex_unlock(&f->lock);
			bad = 1;
			continue;
		}
		if (r) {
			char hex[OID_HEXSZ + 1];
			struct strbuf msg = STRBUF_INIT;
			if (r == CAIRN_ENOTFOUND)
				strbuf_addf(&msg, "chunk %s is not in the store",
					    oid_to_hex(&m.chunks[i].id, hex));
			attribute(f, &pt->odb, &m.chunks[i].id, OBJ_CHUNK, j->path,
				  msg.len ? msg.buf : e2.buf);
			strbuf_release(&msg);
			bad = 1;
			continue;
		}
		if (bad)
			continue;
		oid_ctx_update(&oc, buf.buf, buf.len);
		sha256_update(&sc, buf.buf, buf.len);
		total += buf.len;
	}
	oid_ctx_final(&oc, &got);
	sha256_final(&sc, &gsha);
	if (!bad && (total != j->size || !oid_eq(&got, &j->id) || !sha256_eq(&gsha, &j->sha))) {
		char hex[OID_HEXSZ + 1];
		struct strbuf msg = STRBUF_INIT;
		int wrong_id = total != j->size || !oid_eq(&got, &j->id);
		strbuf_addf(&msg, "file %s: its stored content does not match its %s",
			    oid_to_hex(&j->id, hex), wrong_id ? "size and id" : "sha256 (tampered?)");
		pthread_mutex_lock(&f->lock);
		add_path(obj_problem(f, FSCK_BAD_FILE, &j->id, OBJ_MANIFEST, TAG_FILE, msg.buf),
			 j->path);
		pthread_mutex_unlock(&f->lock);
		strbuf_release(&msg);
	}
	pthread_mutex_lock(&f->lock);
	f->res->files++;
	f->res->file_bytes += total;
	pthread_mutex_unlock(&f->lock);
	progress_add(f->o->progress, 1, total);
	manifest_release(&m);
	strbuf_release(&buf);
	strbuf_release(&e2);
	return 0;
}

/* --- putting it together --- */

static int prob_cmp(const void *a, const void *b)
{
	const struct fsck_problem *x = a, *y = b;
	int c;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->has_pack != y->has_pack)
		return x->has_pack - y->has_pack;
	c = oid_cmp(&x->pack, &y->pack);
	if (c)
		return c;
	c = oid_cmp(&x->id, &y->id);
	if (c)
		return c;
	return x->type - y->type;
}

static uint64_t count_orphans(const char *packdir, const struct odb_pack_info *p, size_t np)
{
	DIR *d = opendir(packdir);
	struct dirent *de;
	uint64_t n = 0;
	size_t i;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		size_t l = strlen(nm);
		struct oid id;
		int known = 0;
		if (!((l == OID_HEXSZ + 5 && !strcmp(nm + OID_HEXSZ, ".pack")) ||
		      (l == OID_HEXSZ + 4 && !strcmp(nm + OID_HEXSZ, ".idx"))) ||
		    oid_from_hex(&id, nm, OID_HEXSZ))
			continue;
		for (i = 0; i < np && !known; i++)
			known = oid_eq(&p[i].id, &id);
		n += !known;
	}
	closedir(d);
	return n;
}

int fsck_run(struct repo *r, const struct gc_roots *roots, const struct fsck_opts *o,
	     struct fsck_result *res, struct strbuf *err)
{
	struct fsck f;
	struct gc_hooks hooks;
	size_t i, k;
	int ret;

	memset(res, 0, sizeof(*res));
	memset(&f, 0, sizeof(f));
	f.r = r;
	f.incomplete_ok = odb_is_incomplete(r->odb);
	f.res = res;
	f.o = o;
	pthread_mutex_init(&f.lock, NULL);
	odb_thread_init(&f.t, r->odb);
	/* every page of the index, the caches too: what checkout will read */
	ret = idx_verify(&f.t.rd, err);
	if (!ret)
		ret = idx_verify(&f.t.srd, err);
	if (ret) {
		res->index_damaged = ret == CAIRN_ECORRUPT;
		goto out;
	}
	ret = odb_list_packs(&f.t, &f.packs, &f.np, err);
	if (ret)
		goto out;
	res->packs = f.np;
	f.count = xcalloc(f.np + 1, sizeof(*f.count));
	f.pack_prob = xcalloc(f.np + 1, sizeof(*f.pack_prob));
	for (i = 0; i < f.np; i++)
		f.pack_prob[i] = NONE;
	ret = odb_foreach_object(&f.t, count_obj, &f, err);
	if (ret)
		goto out;
	progress_set_totals(o->progress, res->objects, 0);
	ret = par_for(o->threads, f.np, r->odb, check_pack, &f, err);
	if (ret)
		goto out;
	res->orphan_files = count_orphans(r->odb->packdir, f.packs, f.np);

	/* the walk, trees checked against their sha256 on the way */
	memset(&hooks, 0, sizeof(hooks));
	hooks.file = on_file;
	hooks.problem = on_problem;
	hooks.data = &f;
	ret = gc_mark(&f.t, roots, &hooks, &res->mark, err);
	if (ret)
		goto out;
	for (i = 0; i < roots->n; i++) {
		const struct gc_root *g = &roots->v[i];
		struct strbuf e2 = STRBUF_INIT;
		struct obj_loc loc;
		if (!g->ptr.is_dir || odb_lookup(&f.t, &g->ptr.id, OBJ_TREE, &loc, NULL))
			continue;
		if (ptr_check_tree(&f.t, &g->ptr, g->path, &e2) == CAIRN_EFORMAT) {
			struct fsck_problem *p = obj_problem(&f, FSCK_BAD_POINTER, &g->ptr.id, OBJ_TREE,
							     TAG_FILE + 1, e2.buf);
			add_path(p, g->path);
		}
		strbuf_release(&e2);
	}
	for (i = 0; i < roots->nbad; i++) {
		const struct gc_bad_root *b = &roots->bad[i];
		if (b->origin == GC_ROOT_HISTORY && b->code != CAIRN_EVERSION) {
			res->skipped++;
			continue;
		}
		add_path(new_problem(&f, FSCK_BAD_POINTER, b->msg), b->path);
	}

	/* every distinct file, streamed whole */
	progress_set_totals(o->progress, res->objects + f.nfiles, 0);
	ret = par_for(o->threads, f.nfiles, r->odb, check_file, &f, err);
	if (ret)
		goto out;

	/* what a repair of each bad pack must fetch: what the roots reach */
	for (i = 0; i < res->n; i++) {
		struct fsck_problem *p = &res->v[i];
		size_t n = 0;
		for (k = 0; k < p->nobjs; k++)
			if (oidset_contains(&res->mark.reached, &p->objs[k].id, p->objs[k].type))
				p->objs[n++] = p->objs[k];
		p->nobjs = n;
	}
	if (res->n)
		sort_array(res->v, res->n, sizeof(*res->v), prob_cmp);
	/* everything the roots reach is here: no fetch is unfinished any more
	 * (a read-only store keeps the mark; it only widens what is expected) */
	if (f.incomplete_ok && !res->incomplete && !res->n)
		odb_clear_incomplete(r->odb);
out:
	for (i = 0; i < f.nfiles; i++)
		free(f.files[i].path);
	free(f.files);
	free(f.packs);
	free(f.count);
	free(f.pack_prob);
	free(f.objs.s);
	odb_thread_release(&f.t);
	pthread_mutex_destroy(&f.lock);
	return ret;
}

void fsck_result_release(struct fsck_result *res)
{
	size_t i, k;
	for (i = 0; i < res->n; i++) {
		free(res->v[i].msg);
		for (k = 0; k < res->v[i].npaths; k++)
			free(res->v[i].paths[k]);
		free(res->v[i].objs);
	}
	free(res->v);
	gc_mark_release(&res->mark);
	memset(res, 0, sizeof(*res));
}
