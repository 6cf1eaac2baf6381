/*
 * Push and fetch (see remote/sync.h).
 */
#include "remote/sync.h"
#include "core/content.h"
#include "core/index.h"
#include "core/object.h"
#include "core/odb.h"
#include "core/parallel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MARKER "cairn-remote"
#define MARKER_TEXT "cairn remote format 1\n"

/* Fails unless the remote holds cairn data (its marker file). */
static int require_marker(struct remote *rem, struct strbuf *err)
{
	struct strbuf u = STRBUF_INIT;
	uint64_t size;
	int ret;
	ret = rem->ops->stat(rem, MARKER, &size, err);
	if (ret != CAIRN_ENOTFOUND)
		return ret; /* there, or a refusal that must be told as it is */
	remote_url_display(&rem->url, &u);
	ret = cerr(err, CAIRN_ENOTFOUND,
		   "remote '%s' (%s) holds no cairn data yet (nothing pushed, or a wrong path)",
		   rem->name, u.buf);
	strbuf_release(&u);
	return ret;
}

int sync_require_marker(struct remote *rem, struct strbuf *err)
{
	return require_marker(rem, err);
}

#define RLOC_SZ (OID_RAWSZ + 8 + 4 + 4 + 1)
/* u64 size, u32 count, i64 first seen (unix seconds, for gc -r) */
#define RPACK_SZ (8 + 4 + 8)

/* Where a remote keeps one object. */
struct rloc {
	struct oid pack;
	uint64_t offset; /* of the entry header */
	uint32_t stored_len, raw_len;
	uint8_t codec;
};

struct want {
	struct oid id;
	uint8_t type;
	struct rloc loc;
	uint32_t local_pack; /* push: the local pack holding it */
	const char *path;    /* a tracked path that needs it, for messages */
};

struct want_list {
	struct want *v;
	size_t n, alloc;
};

static void want_add(struct want_list *l, const struct oid *id, int type, const char *path)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].id = *id;
	l->v[l->n].type = (uint8_t)type;
	l->v[l->n].path = path;
	l->n++;
}

static void rkey(struct strbuf *k, const char *remote, const uint8_t *bytes, size_t n)
{
	strbuf_reset(k);
	strbuf_addstr(k, remote);
	strbuf_addch(k, '\0');
	strbuf_add(k, bytes, n);
}

/* remote NUL oid type [pack]: one entry per copy, so a pack that goes
 * away never hides another copy of the same object */
static void rkey_obj(struct strbuf *k, const char *remote, const struct oid *id, int type,
		     const struct oid *pack)
{
	uint8_t b[OID_RAWSZ + 1];
	idx_obj_key(b, id, type);
	rkey(k, remote, b, sizeof(b));
	if (pack)
		strbuf_add(k, pack->b, OID_RAWSZ);
}

static void rloc_encode(uint8_t *out, const struct rloc *l)
{
	memcpy(out, l->pack.b, OID_RAWSZ);
	put_le64(out + 16, l->offset);
	put_le32(out + 24, l->stored_len);
	put_le32(out + 28, l->raw_len);
	out[32] = l->codec;
}

static int rloc_decode(const void *in, size_t n, struct rloc *l)
{
	const uint8_t *p = in;
	if (n != RLOC_SZ)
		return -1;
	memcpy(l->pack.b, p, OID_RAWSZ);
	l->offset = get_le64(p + 16);
	l->stored_len = get_le32(p + 24);
	l->raw_len = get_le32(p + 28);
	l->codec = p[32];
	return 0;
}

/* Does the remote (per the cache) hold (id, type)? 1/0, and *loc. */
static int remote_has(struct odb_thread *t, const char *remote, const struct oid *id, int type,
		      struct rloc *loc)
{
	struct strbuf k = STRBUF_INIT;
	MDB_txn *txn = idx_rd_begin(&t->srd, NULL);
	MDB_cursor *cur;
	MDB_val key, val;
	int has = 0;
	if (!txn)
		return 0;
	rkey_obj(&k, remote, id, type, NULL);
	key.mv_data = k.buf;
	key.mv_size = k.len;
	if (!mdb_cursor_open(txn, t->odb->state->robj, &cur)) {
		if (!mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE) && key.mv_size == k.len + OID_RAWSZ &&
		    !memcmp(key.mv_data, k.buf, k.len)) {
			struct rloc l;
			if (!rloc_decode(val.mv_data, val.mv_size, &l)) {
				has = 1;
				if (loc)
					*loc = l;
			}
		}
		mdb_cursor_close(cur);
	}
	idx_rd_end(&t->srd);
	strbuf_release(&k);
	return has;
}

/* --- refresh --- */

struct name_list {
	char **v;
	size_t n, alloc;
};

static int collect_idx(const char *name, uint64_t size, void *data)
{
	struct name_list *l = data;
	size_t n = strlen(name);
	struct oid id;
	/* HEX.idx only; anything else (temp files of other tools) is ignored */
	if (n != OID_HEXSZ + 4 || strcmp(name + OID_HEXSZ, ".idx") || oid_from_hex(&id, name, OID_HEXSZ))
		return 0;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = xstrndup(name, OID_HEXSZ);
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct add_pack_ctx {
	struct idx *idx;
	const char *remote;
	struct oid pack;
	uint64_t pack_size;
	const struct pack_entry *e;
	size_t n;
};

/* Record one remote pack and its objects in the cache. */
static int add_pack_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct add_pack_ctx *c = data;
	struct strbuf k = STRBUF_INIT;
	MDB_val key, val;
	uint8_t v[RLOC_SZ];
	size_t i;
	int rc = 0;

	for (i = 0; i < c->n && !rc; i++) {
		struct rloc l;
		l.pack = c->pack;
		l.offset = c->e[i].offset;
		l.stored_len = c->e[i].stored_len;
		l.raw_len = c->e[i].raw_len;
		l.codec = c->e[i].codec;
		rloc_encode(v, &l);
		rkey_obj(&k, c->remote, &c->e[i].id, c->e[i].type, &c->pack);
		key.mv_data = k.buf;
		key.mv_size = k.len;
		val.mv_data = v;
		val.mv_size = RLOC_SZ;
		rc = mdb_put(txn, c->idx->robj, &key, &val, 0);
	}
	if (!rc) {
		int64_t seen = (int64_t)time(NULL);
		rkey(&k, c->remote, c->pack.b, OID_RAWSZ);
		key.mv_data = k.buf;
		key.mv_size = k.len;
		/* learned again (after push recorded it, say): keep the first time */
		if (!mdb_get(txn, c->idx->rpack, &key, &val) && val.mv_size == RPACK_SZ)
			seen = (int64_t)get_le64((const uint8_t *)val.mv_data + 12);
		put_le64(v, c->pack_size);
		put_le32(v + 8, (uint32_t)c->n);
		put_le64(v + 12, (uint64_t)seen);
		val.mv_data = v;
		val.mv_size = RPACK_SZ;
		rc = mdb_put(txn, c->idx->rpack, &key, &val, 0);
	}
	strbuf_release(&k);
	return rc ? idx_err(err, rc, "remote cache") : 0;
}

struct drop_ctx {
	struct idx *idx;
	const char *remote;
	struct oid *gone;
	size_t n;
};

static int oid_cmp_v(const void *a, const void *b)
{
	return oid_cmp(a, b);
}

/* Forget packs that are no longer on the remote, and their objects. */
static int drop_packs_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct drop_ctx *c = data;
	struct strbuf k = STRBUF_INIT;
	MDB_cursor *cur;
	MDB_val key, val;
	size_t i, pl = strlen(c->remote) + 1;
	int rc;

	for (i = 0; i < c->n; i++) {
		rkey(&k, c->remote, c->gone[i].b, OID_RAWSZ);
		key.mv_data = k.buf;
		key.mv_size = k.len;
		rc = mdb_del(txn, c->idx->rpack, &key, NULL);
		if (rc && rc != MDB_NOTFOUND)
			goto fail;
	}
	rc = mdb_cursor_open(txn, c->idx->robj, &cur);
	if (rc)
		goto fail;
	rkey(&k, c->remote, (const uint8_t *)"", 0);
	key.mv_data = k.buf;
	key.mv_size = k.len;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		struct rloc l;
		if (key.mv_size < pl || memcmp(key.mv_data, k.buf, pl))
			break;
		if (!rloc_decode(val.mv_data, val.mv_size, &l) &&
		    bsearch(&l.pack, c->gone, c->n, sizeof(*c->gone), oid_cmp_v)) {
			rc = mdb_cursor_del(cur, 0);
			if (rc)
				break;
		}
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		goto fail;
	strbuf_release(&k);
	return 0;
fail:
	strbuf_release(&k);
	return idx_err(err, rc, "remote cache");
}

/* Packs the cache knows for this remote, as hex names. */
static int known_packs(struct odb_thread *t, const char *remote, struct name_list *out,
		       struct strbuf *err)
{
	struct strbuf k = STRBUF_INIT;
	MDB_txn *txn = idx_rd_begin(&t->srd, err);
	MDB_cursor *cur;
	MDB_val key, val;
	size_t pl = strlen(remote) + 1;
	int rc;
	if (!txn)
		return CAIRN_ELMDB;
	rc = mdb_cursor_open(txn, t->odb->state->rpack, &cur);
	if (!rc) {
		rkey(&k, remote, (const uint8_t *)"", 0);
		key.mv_data = k.buf;
		key.mv_size = k.len;
		for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); !rc;
		     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
			char hex[OID_HEXSZ + 1];
			if (key.mv_size != pl + OID_RAWSZ || memcmp(key.mv_data, k.buf, pl))
				break;
			hex_encode(hex, (const uint8_t *)key.mv_data + pl, OID_RAWSZ);
			ALLOC_GROW(out->v, out->n + 1, out->alloc);
			out->v[out->n++] = xstrdup(hex);
		}
		mdb_cursor_close(cur);
	}
	idx_rd_end(&t->srd);
	strbuf_release(&k);
	return rc && rc != MDB_NOTFOUND ? idx_err(err, rc, "remote cache") : 0;
}

static void names_release(struct name_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Learn one pack from its index file on the remote. */
/*
 * A remote's pack index is read whole, but never more than this: an index
 * holds 36 bytes per object, so 1 GiB is some 30 million objects, far
 * beyond a pack of any allowed size with chunks of the smallest sizes;
 * a bigger file is hostile or damaged, and reading it would only run the
 * process out of memory.
 */
#define REMOTE_IDX_MAX (1u << 30)

static int read_index_file(struct remote *rem, const char *path, struct strbuf *out,
			   struct strbuf *err)
{
	int ret = rem->ops->read(rem, path, 0, (uint64_t)REMOTE_IDX_MAX + 1, out, err);
	if (!ret && out->len > REMOTE_IDX_MAX) {
		strbuf_release(out);
		ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': %s is larger than 1 GiB; refused",
			   rem->name, path);
	}
	return ret;
}

static int learn_pack(struct repo *r, struct remote *rem, const char *hex, struct sync_stats *st,
		      struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, data = STRBUF_INIT;
	struct add_pack_ctx c;
	struct pack_entry *e = NULL;
	size_t n = 0;
	uint64_t psize = 0;
	struct oid pid, named;
	int ret;

	strbuf_addf(&path, "packs/%s.idx", hex);
	ret = read_index_file(rem, path.buf, &data, err);
	if (st)
		st->requests++;
	if (!ret)
		ret = pack_idx_decode(data.buf, data.len, path.buf, &pid, &psize, &e, &n, err);
	if (!ret) {
		oid_from_hex(&named, hex, OID_HEXSZ);
		if (!oid_eq(&pid, &named))
			ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': %s names another pack", rem->name,
				   path.buf);
	}
	if (!ret) {
		c.idx = r->odb->state;
		c.remote = rem->name;
		c.pack = pid;
		c.pack_size = psize;
		c.e = e;
		c.n = n;
		ret = idx_write(r->odb->state, add_pack_txn, &c, err);
	}
	free(e);
	strbuf_release(&path);
	strbuf_release(&data);
	return ret;
}

/*
 * The layout of the remote cache; a store written by a cairn with another
 * layout has its remote cache dropped and relearned from the remotes.
 */
#define RCACHE_VERSION 3
static const char rcache_key[] = IDX_RCACHE_VERSION_KEY;

static int rcache_reset_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct idx *idx = data;
	MDB_val k, v;
	uint8_t ver[4];
	int rc = mdb_drop(txn, idx->robj, 0);
	if (!rc)
		rc = mdb_drop(txn, idx->rpack, 0);
	if (!rc) {
		put_le32(ver, RCACHE_VERSION);
		k.mv_data = (void *)rcache_key;
		k.mv_size = sizeof(rcache_key) - 1;
		v.mv_data = ver;
		v.mv_size = sizeof(ver);
		rc = mdb_put(txn, idx->meta, &k, &v, 0);
	}
	return rc ? idx_err(err, rc, "remote cache") : 0;
}

static int rcache_check(struct odb_thread *t, struct strbuf *err)
{
	MDB_txn *txn = idx_rd_begin(&t->srd, err);
	MDB_val k, v;
	int ok = 0;
	if (!txn)
		return CAIRN_ELMDB;
	k.mv_data = (void *)rcache_key;
	k.mv_size = sizeof(rcache_key) - 1;
	if (!mdb_get(txn, t->odb->state->meta, &k, &v) && v.mv_size == 4 &&
	    get_le32(v.mv_data) == RCACHE_VERSION)
		ok = 1;
	idx_rd_end(&t->srd);
	return ok ? 0 : idx_write(t->odb->state, rcache_reset_txn, t->odb->state, err);
}

int sync_refresh(struct repo *r, struct remote *rem, struct sync_stats *st, struct strbuf *err)
{
	struct name_list listed = { 0 }, known = { 0 };
	struct odb_thread t;
	struct oid *gone = NULL;
	size_t i, j, ngone = 0;
	int ret;

	odb_thread_init(&t, r->odb);
	ret = rcache_check(&t, err);
	if (!ret)
		ret = rem->ops->list(rem, "packs", collect_idx, &listed, err);
	if (st)
		st->requests++;
	if (ret == CAIRN_ENOTFOUND)
		ret = 0; /* nothing pushed yet */
	if (!ret)
		ret = known_packs(&t, rem->name, &known, err);
	if (ret)
		goto out;
	if (listed.n)
		sort_array(listed.v, listed.n, sizeof(*listed.v), cmp_strp);
	if (known.n)
		sort_array(known.v, known.n, sizeof(*known.v), cmp_strp);
	gone = xcalloc(known.n + 1, sizeof(*gone));
	for (i = j = 0; i < listed.n || j < known.n;) {
		int c = i == listed.n ? 1 : j == known.n ? -1 : strcmp(listed.v[i], known.v[j]);
		if (c < 0) {
			ret = learn_pack(r, rem, listed.v[i], st, err);
			if (ret)
				goto out;
			i++;
		} else if (c > 0) {
			oid_from_hex(&gone[ngone++], known.v[j], OID_HEXSZ);
			j++;
		} else {
			i++;
			j++;
		}
	}
	if (ngone) {
		struct drop_ctx d = { r->odb->state, rem->name, gone, ngone };
		sort_array(gone, ngone, sizeof(*gone), oid_cmp_v);
		ret = idx_write(r->odb->state, drop_packs_txn, &d, err);
	}
out:
	free(gone);
	names_release(&listed);
	names_release(&known);
	odb_thread_release(&t);
	return ret;
}

/* --- push --- */

int sync_mark_cmp(const void *a, const void *b)
{
	return oid_cmp(&((const struct sync_mark *)a)->pack, &((const struct sync_mark *)b)->pack);
}

struct push {
	struct repo *r;
	struct remote *rem;
	struct odb_thread t;
	struct oidset seen;
	struct want_list data, meta; /* chunks; then manifests and trees, children first */
	struct sync_stats *st;
	const struct sync_opts *o;
	char *dir; /* local staging directory for packs being built */
	/* packs a gc -r marked for removal (gc/HEX.mark): one that this push
	 * relies on is taken back (its mark removed) before anything is sent */
	struct sync_mark *marked;
	size_t nmarked;
	uint8_t *taken;
};

static int take_back(struct push *p, const struct oid *pack, struct strbuf *err)
{
	struct sync_mark probe, *m;
	int r;
	if (!p->nmarked)
		return 0;
	probe.pack = *pack;
	m = bsearch(&probe, p->marked, p->nmarked, sizeof(*m), sync_mark_cmp);
	if (!m || p->taken[m - p->marked])
		return 0;
	r = sync_unmark_pack(p->rem, pack, err);
	if (r)
		return cerr_wrap(err, r, "cannot take back a pack that gc -r marked for removal");
	p->taken[m - p->marked] = 1;
	p->st->taken_back++;
	return 0;
}

/*
 * The packs this push took back must still be there at its end: a gc -r
 * that checked a mark just before the push removed it deletes the pack.
 */
static int check_taken_back(struct push *p, struct strbuf *err)
{
	size_t i;
	for (i = 0; i < p->nmarked; i++) {
		char hex[OID_HEXSZ + 1];
		char *path;
		uint64_t size;
		int r;
		if (!p->taken[i])
			continue;
		path = xstrfmt("packs/%s.idx", oid_to_hex(&p->marked[i].pack, hex));
		r = p->rem->ops->stat(p->rem, path, &size, err);
		free(path);
		if (r == CAIRN_ENOTFOUND)
			return cerr(err, CAIRN_ETRANSIENT,
				    "remote '%s': pack %s, which this push relies on, was removed by a "
				    "gc -r meanwhile; push again",
				    p->rem->name, hex);
		if (r)
			return r;
	}
	return 0;
}

static int push_need_file(struct push *p, const struct oid *id, uint64_t size, const char *path,
			  struct strbuf *err)
{
	struct manifest m;
	struct obj_loc loc;
	struct rloc rl;
	size_t i;
	int r, there;

	if (!size)
		return 0;
	there = remote_has(&p->t, p->rem->name, id, OBJ_MANIFEST, &rl) ||
		remote_has(&p->t, p->rem->name, id, OBJ_CHUNK, &rl);
	if (there) {
		p->st->have++;
		/* with packs marked by gc -r, what is below is taken back too */
		r = take_back(p, &rl.pack, err);
		if (r || !p->nmarked)
			return r;
	}
	if (odb_lookup(&p->t, id, OBJ_MANIFEST, &loc, err) == CAIRN_ENOTFOUND) {
		if (there)
			return 0; /* one chunk, or a manifest only the remote has */
		r = odb_lookup(&p->t, id, OBJ_CHUNK, &loc, err);
		if (r == CAIRN_ENOTFOUND) {
			char hex[OID_HEXSZ + 1];
			return cerr(err, CAIRN_ENOTFOUND,
				    "cannot push '%s': file %s is in neither the local store nor the remote",
				    path, oid_to_hex(id, hex));
		}
		if (r)
			return r;
		if (oidset_insert(&p->seen, id, OBJ_CHUNK))
			want_add(&p->data, id, OBJ_CHUNK, path);
		return 0;
	}
	if (!oidset_insert(&p->seen, id, OBJ_MANIFEST))
		return 0;
	r = content_chunks(&p->t, id, size, &m, err);
	if (r)
		return cerr_wrap(err, r, "cannot push '%s'", path);
	for (i = 0; i < m.n; i++) {
		if (oidset_contains(&p->seen, &m.chunks[i].id, OBJ_CHUNK))
			continue;
		oidset_insert(&p->seen, &m.chunks[i].id, OBJ_CHUNK);
		if (remote_has(&p->t, p->rem->name, &m.chunks[i].id, OBJ_CHUNK, &rl)) {
			p->st->have++;
			r = take_back(p, &rl.pack, err);
			if (r)
				break;
			continue;
		}
		want_add(&p->data, &m.chunks[i].id, OBJ_CHUNK, path);
	}
	manifest_release(&m);
	if (!r && !there)
		want_add(&p->meta, id, OBJ_MANIFEST, path);
	return r;
}

static int push_need_tree(struct push *p, const struct oid *id, const struct sha256 *sha,
			  const char *path, struct strbuf *err)
{
	struct tree tr;
	struct rloc rl;
	size_t i;
	int r, there;

	/* a tree on the remote implies everything below it, but with packs
	 * marked by gc -r, whose packs below must be taken back too */
	there = remote_has(&p->t, p->rem->name, id, OBJ_TREE, &rl);
	if (there) {
		p->st->have++;
		r = take_back(p, &rl.pack, err);
		if (r || !p->nmarked)
			return r;
	}
	if (!oidset_insert(&p->seen, id, OBJ_TREE))
		return 0;
	r = content_read_tree(&p->t, id, sha, &tr, path, err);
	if (r && there) {
		strbuf_reset(err);
		return 0; /* not here: the remote's copy is all there is */
	}
	if (r)
		return cerr_wrap(err, r, "cannot push '%s'", path);
	for (i = 0; i < tr.n && !r; i++) {
		const struct tree_entry *e = &tr.e[i];
		if (e->mode == MODE_DIR)
			r = push_need_tree(p, &e->id, &e->sha, path, err);
		else
			r = push_need_file(p, &e->id, e->size, path, err);
	}
	tree_release(&tr);
	if (!r && !there)
		want_add(&p->meta, id, OBJ_TREE, path);
	return r;
}

/*
 * Upload a finished local pack from `dir` (pack, then index) over `conn`
 * and record it; staged copies (keep == 0) are removed afterwards.
 */
static int upload_pack(struct push *p, struct remote *conn, struct pack_writer *w,
		       const struct oid *pid, const char *dir, int keep, struct strbuf *err)
{
	char hex[OID_HEXSZ + 1];
	const char *ext[2] = { "pack", "idx" };
	struct add_pack_ctx c;
	int i, ret = 0;

	oid_to_hex(pid, hex);
	for (i = 0; i < 2; i++) {
		char *local = xstrfmt("%s/%s.%s", dir, hex, ext[i]);
		char *remote = xstrfmt("packs/%s.%s", hex, ext[i]);
		int fd = ret ? -1 : open(local, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (ret) {
			/* nothing more to send */
		} else if (fd < 0 || fstat(fd, &st) < 0) {
			ret = cerr_errno(err, "cannot open '%s'", local);
		} else {
			ret = conn->ops->write(conn, remote, fd, (uint64_t)st.st_size, err);
			__atomic_add_fetch(&p->st->requests, 1, __ATOMIC_RELAXED);
			if (ret == CAIRN_EEXIST)
				ret = 0; /* named by content: what is there is this */
			else if (!ret)
				__atomic_add_fetch(&p->st->bytes, (uint64_t)st.st_size, __ATOMIC_RELAXED);
		}
		if (fd >= 0)
			close(fd);
		if (!keep)
			unlink(local);
		free(local);
		free(remote);
	}
	if (!ret) {
		c.idx = p->r->odb->state;
		c.remote = p->rem->name;
		c.pack = *pid;
		c.pack_size = w->size;
		c.e = w->entries;
		c.n = w->n;
		ret = idx_write(p->r->odb->state, add_pack_txn, &c, err);
		__atomic_add_fetch(&p->st->packs, 1, __ATOMIC_RELAXED);
	}
	return ret;
}

static int want_by_local_pack(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	return x->local_pack < y->local_pack ? -1 : x->local_pack > y->local_pack;
}

/* Local pack `no`: its hex name and entry count, from the index. */
static int local_pack_info(struct odb_thread *t, uint32_t no, char *hex, uint32_t *count,
			   struct strbuf *err)
{
	MDB_txn *txn = idx_rd_begin(&t->rd, err);
	MDB_val k, v;
	int rc;
	if (!txn)
		return CAIRN_ELMDB;
	k.mv_data = &no;
	k.mv_size = sizeof(no);
	rc = mdb_get(txn, t->odb->idx->pack, &k, &v);
	if (!rc && v.mv_size >= 28) {
		hex_encode(hex, v.mv_data, OID_RAWSZ);
		*count = get_le32((const uint8_t *)v.mv_data + 24);
	}
	idx_rd_end(&t->rd);
	return rc ? idx_err(err, rc, "pack lookup") : 0;
}

/*
 * One unit of upload work: a whole local pack the remote lacks entirely
 * (sent as it is, no staged copy), or a slice of objects to copy into a
 * new pack. Either way every object is verified before it leaves.
 */
struct push_job {
	const struct want *v;
	size_t n;
	char hex[OID_HEXSZ + 1]; /* whole pack: its name; else "" */
};

struct push_jobs {
	struct push *p;
	struct push_job *j;
	size_t n, alloc;
	struct remote **conns;
};

static void add_job(struct push_jobs *js, const struct want *v, size_t n, const char *hex)
{
	ALLOC_GROW(js->j, js->n + 1, js->alloc);
	js->j[js->n].v = v;
	js->j[js->n].n = n;
	if (hex)
		memcpy(js->j[js->n].hex, hex, OID_HEXSZ + 1);
	else
		js->j[js->n].hex[0] = '\0';
	js->n++;
}

static int run_job(size_t k, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct push_jobs *js = data;
	struct push *p = js->p;
	struct push_job *job = &js->j[k];
	struct strbuf raw = STRBUF_INIT;
	struct pack_writer w;
	struct oid pid;
	struct remote *conn = js->conns[pt->no];
	size_t i;
	int ret = 0, open_w = 0;

	if (!conn) {
		ret = remote_open_url(&js->conns[pt->no], p->o->url, p->o->base, p->o->cfg,
				      p->rem->name, err);
		if (ret)
			return ret;
		conn = js->conns[pt->no];
	}
	memset(&w, 0, sizeof(w));
	if (!job->hex[0]) {
		ret = pack_writer_open(&w, p->dir, err);
		open_w = !ret;
	}
	for (i = 0; i < job->n && !ret; i++) {
		const struct want *wt = &job->v[i];
		const void *stored;
		size_t slen;
		int codec;
		/* verified on the way out: nothing corrupt leaves this store */
		ret = odb_read_stored(&pt->odb, &wt->id, wt->type, 1, &raw, &codec, &stored, &slen, err);
		if (ret) {
			ret = cerr_wrap(err, ret, "cannot push '%s'", wt->path);
			break;
		}
		if (open_w) {
			struct pack_entry e;
			memset(&e, 0, sizeof(e));
			e.id = wt->id;
			e.type = wt->type;
			e.codec = (uint8_t)codec;
			e.raw_len = (uint32_t)raw.len;
			e.stored_len = (uint32_t)slen;
			ret = pack_writer_append(&w, &e, stored, err);
		}
		__atomic_add_fetch(&p->st->objects, 1, __ATOMIC_RELAXED);
		progress_add(p->o->progress, 1, raw.len);
	}
	if (!ret && open_w) {
		ret = pack_writer_finish(&w, p->dir, &pid, err);
		if (!ret)
			ret = upload_pack(p, conn, &w, &pid, p->dir, 0, err);
	} else if (!ret) {
		struct strbuf data2 = STRBUF_INIT;
		char *idxpath = xstrfmt("%s/%s.idx", p->r->odb->packdir, job->hex);
		ret = read_file(idxpath, 1u << 30, &data2, err);
		if (!ret)
			ret = pack_idx_decode(data2.buf, data2.len, idxpath, &pid, &w.size, &w.entries,
					      &w.n, err);
		if (!ret)
			ret = upload_pack(p, conn, &w, &pid, p->r->odb->packdir, 1, err);
		free(w.entries);
		w.entries = NULL;
		free(idxpath);
		strbuf_release(&data2);
	}
	if (open_w)
		pack_writer_release(&w);
	strbuf_release(&raw);
	return ret;
}

/* Slices of `n` objects into jobs of about one pack each. */
static void add_slices(struct push_jobs *js, const struct want *v, size_t n, uint64_t pack_size)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		uint64_t bytes = 0;
		while (j < n && (j == i || bytes < pack_size)) {
			bytes += v[j].loc.stored_len + PACK_ENTRY_HDR_SZ;
			j++;
		}
		add_job(js, v + i, j - i, NULL);
		i = j;
	}
}

static int run_jobs(struct push *p, struct push_jobs *js, int threads, struct strbuf *err)
{
	size_t i;
	int ret;
	if (!js->n)
		return 0;
	if ((size_t)threads > js->n)
		threads = (int)js->n;
	if (threads < 1)
		threads = 1;
	js->p = p;
	js->conns = xcalloc((size_t)threads + 1, sizeof(*js->conns));
	js->conns[0] = p->rem;
	ret = par_for(threads, js->n, p->r->odb, run_job, js, err);
	for (i = 1; i < (size_t)threads; i++)
		remote_close(js->conns[i]);
	free(js->conns);
	js->conns = NULL;
	return ret;
}

/*
 * Chunks, in parallel: whole local packs where the remote needs all of
 * one, the rest copied into new packs.
 */
static int push_chunks(struct push *p, struct want_list *l, struct strbuf *err)
{
	struct push_jobs js;
	struct want_list rest = { 0 };
	size_t i, j;
	int ret = 0;

	memset(&js, 0, sizeof(js));
	for (i = 0; i < l->n && !ret; i++) {
		struct obj_loc loc;
		ret = odb_lookup(&p->t, &l->v[i].id, l->v[i].type, &loc, err);
		l->v[i].local_pack = loc.pack_no;
		l->v[i].loc.stored_len = loc.stored_len;
	}
	if (ret)
		return ret;
	sort_array(l->v, l->n, sizeof(*l->v), want_by_local_pack);
	for (i = 0; i < l->n && !ret; i = j) {
		char hex[OID_HEXSZ + 1];
		uint32_t count = 0;
		for (j = i; j < l->n && l->v[j].local_pack == l->v[i].local_pack; j++)
			;
		ret = local_pack_info(&p->t, l->v[i].local_pack, hex, &count, err);
		if (ret)
			break;
		if (count == j - i) {
			add_job(&js, l->v + i, j - i, hex);
		} else {
			size_t k;
			for (k = i; k < j; k++) {
				ALLOC_GROW(rest.v, rest.n + 1, rest.alloc);
				rest.v[rest.n++] = l->v[k];
			}
		}
	}
	if (!ret) {
		add_slices(&js, rest.v, rest.n, p->r->odb->opts.pack_size);
		ret = run_jobs(p, &js, p->o->jobs, err);
	}
	free(js.j);
	free(rest.v);
	return ret;
}

/*
 * Manifests and trees: restaged in order, one pack at a time, so a tree
 * never reaches the remote before what it names.
 */
static int push_meta(struct push *p, const struct want_list *l, struct strbuf *err)
{
	struct push_jobs js;
	int ret;
	memset(&js, 0, sizeof(js));
	add_slices(&js, l->v, l->n, p->r->odb->opts.pack_size);
	ret = run_jobs(p, &js, 1, err);
	free(js.j);
	return ret;
}

static int write_marker(struct push *p, struct strbuf *err)
{
	uint64_t size;
	char *tmp;
	int fd, ret;
	if (!p->rem->ops->stat(p->rem, MARKER, &size, err))
		return 0;
	ret = p->rem->ops->prepare(p->rem, "", err);
	if (ret)
		return ret;
	tmp = xstrfmt("%s/marker", p->dir);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, MARKER_TEXT, sizeof(MARKER_TEXT) - 1) < 0) {
		ret = cerr_errno(err, "cannot write '%s'", tmp);
	} else {
		ret = p->rem->ops->write(p->rem, MARKER, fd, sizeof(MARKER_TEXT) - 1, err);
		if (ret == CAIRN_EEXIST)
			ret = 0;
	}
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return ret;
}

int sync_push(struct repo *r, struct remote *rem, const struct sync_target *tg, size_t n,
	      const struct sync_opts *o, struct sync_stats *st, struct strbuf *err)
{
	struct push p;
	size_t i;
	int ret;

	memset(&p, 0, sizeof(p));
	p.r = r;
	p.rem = rem;
	p.st = st;
	p.o = o;
	odb_thread_init(&p.t, r->odb);
	oidset_init(&p.seen);
	odb_clean_tmp(r->odb); /* a killed push's staging directory, say */
	p.dir = xstrfmt("%s/push-%ld", r->odb->tmpdir, (long)getpid());
	if (mkdir(p.dir, 0777) < 0 && errno != EEXIST) {
		ret = cerr_errno(err, "cannot create '%s'", p.dir);
		goto out;
	}
	ret = sync_refresh(r, rem, st, err);
	if (!ret)
		ret = sync_marks(rem, &p.marked, &p.nmarked, err);
	p.taken = xcalloc(p.nmarked + 1, 1);
	for (i = 0; i < n && !ret; i++) {
		const struct pointer *ptr = &tg[i].ptr;
		if (ptr->is_dir)
			ret = push_need_tree(&p, &ptr->id, &ptr->sha, tg[i].path, err);
		else
			ret = push_need_file(&p, &ptr->id, ptr->size, tg[i].path, err);
	}
	if (!ret && (p.data.n || p.meta.n)) {
		uint64_t total = 0;
		for (i = 0; i < p.data.n; i++)
			total++;
		progress_set_totals(o->progress, p.data.n + p.meta.n, 0);
		(void)total;
		ret = write_marker(&p, err);
		if (!ret)
			ret = rem->ops->prepare(rem, "packs", err);
		/* chunks first; what names them after */
		if (!ret)
			ret = push_chunks(&p, &p.data, err);
		if (!ret)
			ret = push_meta(&p, &p.meta, err);
	}
	if (!ret)
		ret = check_taken_back(&p, err);
out:
	rmdir(p.dir);
	free(p.dir);
	free(p.marked);
	free(p.taken);
	free(p.data.v);
	free(p.meta.v);
	oidset_release(&p.seen);
	odb_thread_release(&p.t);
	return ret;
}

/* --- fetch --- */

struct fetch {
	struct repo *r;
	struct remote *rem;
	struct odb_thread t;
	struct sync_stats *st;
	const struct sync_opts *o;
	struct oidset seen;
};

static int want_by_pack(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	int c = oid_cmp(&x->loc.pack, &y->loc.pack);
	if (c)
		return c;
	return x->loc.offset < y->loc.offset ? -1 : x->loc.offset > y->loc.offset;
}

/* Verify one object received from the remote (header, decoding, hash). */
static int verify_object(struct fetch *f, struct odb_thread *t, const struct want *w,
			 const uint8_t *bytes, size_t n, struct strbuf *raw, struct strbuf *err)
{
	struct pack_entry e;
	char hex[OID_HEXSZ + 1], phex[OID_HEXSZ + 1];
	int r;

	oid_to_hex(&w->id, hex);
	oid_to_hex(&w->loc.pack, phex);
	if (n < PACK_ENTRY_HDR_SZ + (size_t)w->loc.stored_len ||
	    pack_entry_header_decode(bytes, &e) || !oid_eq(&e.id, &w->id) || e.type != w->type ||
	    e.codec != w->loc.codec || e.stored_len != w->loc.stored_len ||
	    e.raw_len != w->loc.raw_len)
		return cerr(err, CAIRN_ECORRUPT,
			    "remote '%s': %s %s in pack %s does not match its index (needed by '%s')",
			    f->rem->name, obj_type_name(w->type), hex, phex, w->path);
	r = zctx_decode(t->z, e.codec, bytes + PACK_ENTRY_HDR_SZ, e.stored_len, e.raw_len, raw);
	if (!r && w->type != OBJ_MANIFEST) {
		struct oid check;
		oid_hash(&check, raw->buf, raw->len);
		if (!oid_eq(&check, &w->id))
			r = CAIRN_ECORRUPT;
	} else if (!r) {
		struct manifest m;
		r = manifest_decode(&m, raw->buf, raw->len, NULL);
		manifest_release(&m);
		if (r)
			r = CAIRN_ECORRUPT;
	}
	if (r)
		return cerr(err, CAIRN_ECORRUPT,
			    "remote '%s': %s %s in pack %s is corrupt (needed by '%s'); nothing was stored for it",
			    f->rem->name, obj_type_name(w->type), hex, phex, w->path);
	if (w->type == OBJ_TREE) {
		/* a tree that hashes right may still be hostile (a name such
		 * as "..", ".git"): refuse it before it reaches the store */
		struct tree tr;
		struct strbuf why = STRBUF_INIT;
		r = tree_decode(&tr, raw->buf, raw->len, &why);
		tree_release(&tr);
		if (r)
			cerr(err, r, "remote '%s': tree of '%s': %s (tree %s in pack %s); nothing was stored for it",
			     f->rem->name, w->path, why.buf, hex, phex);
		strbuf_release(&why);
	}
	return r;
}

/* Verify one object received from the remote and store it. */
static int accept_object(struct fetch *f, struct odb_batch *b, struct odb_thread *t,
			 const struct want *w, const uint8_t *bytes, size_t n, struct strbuf *raw,
			 struct strbuf *err)
{
	int r = verify_object(f, t, w, bytes, n, raw, err);
	if (r)
		return r;
	return odb_put_stored(b, t, w->type, &w->id, w->loc.codec, bytes + PACK_ENTRY_HDR_SZ,
			      w->loc.stored_len, w->loc.raw_len, NULL, err);
}

/*
 * Every object of a remote pack is wanted: download the pack into a temp
 * file (in 8 MiB ranges, so memory stays bounded), check it against its
 * name and each object against its id, and adopt the file as a local pack
 * instead of copying its objects one by one.
 */
static int adopt_whole(struct fetch *f, struct remote *rem, struct odb_thread *t,
		       const struct want *v, size_t n, uint64_t size, const char *path,
		       struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT, raw = STRBUF_INIT;
	char *tmp = xstrfmt("%s/fetch-%ld-XXXXXX", f->r->odb->tmpdir, (long)getpid());
	struct pack_entry *e = xcalloc(n + 1, sizeof(*e));
	struct oid_ctx oc;
	struct oid got;
	char phex[OID_HEXSZ + 1];
	uint64_t off = 0;
	size_t i;
	int fd = mkstemp(tmp), ret = 0;

	oid_to_hex(&v[0].loc.pack, phex);
	if (fd < 0) {
		ret = cerr_errno(err, "cannot create '%s'", tmp);
		goto out;
	}
	oid_ctx_init(&oc);
	while (!ret && off < size) {
		uint64_t want = size - off < (8u << 20) ? size - off : (8u << 20);
		strbuf_reset(&buf);
		ret = rem->ops->read(rem, path, off, want, &buf, err);
		__atomic_add_fetch(&f->st->requests, 1, __ATOMIC_RELAXED);
		if (!ret && !buf.len)
			ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': pack %s is truncated", f->rem->name, phex);
		if (!ret && pwrite_all(fd, buf.buf, buf.len, (off_t)off) < 0)
			ret = cerr_errno(err, "cannot write '%s'", tmp);
		if (!ret) {
			oid_ctx_update(&oc, buf.buf, buf.len);
			off += buf.len;
			__atomic_add_fetch(&f->st->bytes, buf.len, __ATOMIC_RELAXED);
		}
	}
	oid_ctx_final(&oc, &got);
	if (!ret && !oid_eq(&got, &v[0].loc.pack))
		ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': pack %s does not match its name (corrupt)",
			   f->rem->name, phex);
	if (!ret) {
		uint8_t hdr[PACK_HDR_SZ];
		if (pread_full(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || pack_header_check(hdr))
			ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': pack %s has a bad header",
				   f->rem->name, phex);
	}
	for (i = 0; i < n && !ret; i++) {
		size_t len = PACK_ENTRY_HDR_SZ + v[i].loc.stored_len;
		strbuf_reset(&buf);
		strbuf_grow(&buf, len);
		if (pread_full(fd, buf.buf, len, (off_t)v[i].loc.offset) != (ssize_t)len)
			ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': pack %s is truncated", f->rem->name, phex);
		else
			ret = verify_object(f, t, &v[i], (const uint8_t *)buf.buf, len, &raw, err);
		e[i].id = v[i].id;
		e[i].type = v[i].type;
		e[i].codec = v[i].loc.codec;
		e[i].raw_len = v[i].loc.raw_len;
		e[i].stored_len = v[i].loc.stored_len;
		e[i].offset = v[i].loc.offset;
		progress_add(f->o->progress, 1, v[i].loc.stored_len);
	}
	if (fd >= 0)
		close(fd);
	if (!ret)
		ret = odb_adopt_pack(f->r->odb, tmp, &v[0].loc.pack, size, e, n, err);
out:
	if (ret && fd >= 0)
		unlink(tmp);
	free(tmp);
	free(e);
	strbuf_release(&buf);
	strbuf_release(&raw);
	return ret;
}

/* The most one request of a fetch asks for (unless one object is bigger). */
#define FETCH_WINDOW ((uint64_t)8 << 20)

struct fetch_job {
	struct fetch *f;
	struct odb_batch *b;
	struct want *v;
	size_t *group; /* group k = v[group[k] .. group[k+1]) */
	struct remote **conns;
	uint64_t *pack_sizes;
	uint32_t *pack_counts;
};

/* Fetch every wanted object of one remote pack: whole or by ranges. */
static int fetch_group(size_t k, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct fetch_job *j = data;
	struct fetch *f = j->f;
	struct want *v = j->v + j->group[k];
	size_t n = j->group[k + 1] - j->group[k], i, a;
	struct remote *rem = j->conns[pt->no];
	struct strbuf buf = STRBUF_INIT, raw = STRBUF_INIT, path = STRBUF_INIT;
	char phex[OID_HEXSZ + 1];
	uint64_t need = 0;
	int ret = 0;

	if (!rem) {
		ret = remote_open_url(&j->conns[pt->no], f->o->url, f->o->base, f->o->cfg,
				      f->rem->name, err);
		if (ret)
			return ret;
		rem = j->conns[pt->no];
	}
	strbuf_addf(&path, "packs/%s.pack", oid_to_hex(&v[0].loc.pack, phex));
	for (i = 0; i < n; i++)
		need += PACK_ENTRY_HDR_SZ + (uint64_t)v[i].loc.stored_len;
	if (n == j->pack_counts[k] && j->pack_sizes[k] != UINT64_MAX) {
		ret = adopt_whole(f, rem, &pt->odb, v, n, j->pack_sizes[k], path.buf, err);
	} else if (need * 2 >= j->pack_sizes[k] && j->pack_sizes[k] <= FETCH_WINDOW) {
		/* most of a small pack: one request for all of it, and one byte
		 * more, to see that it is no bigger than its index says */
		ret = rem->ops->read(rem, path.buf, 0, j->pack_sizes[k] + 1, &buf, err);
		__atomic_add_fetch(&f->st->requests, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&f->st->bytes, buf.len, __ATOMIC_RELAXED);
		if (!ret && buf.len > j->pack_sizes[k])
			ret = cerr(err, CAIRN_ECORRUPT,
				   "remote '%s': pack %s is larger than its index says", f->rem->name,
				   phex);
		for (i = 0; i < n && !ret; i++) {
			uint64_t off = v[i].loc.offset;
			if (off > buf.len)
				ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': pack %s is truncated",
					   f->rem->name, phex);
			else
				ret = accept_object(f, j->b, &pt->odb, &v[i], (const uint8_t *)buf.buf + off,
						    buf.len - (size_t)off, &raw, err);
			progress_add(f->o->progress, 1, v[i].loc.stored_len);
		}
	} else {
		/* ranges: neighbours closer than 256 KiB share one request, up
		 * to FETCH_WINDOW bytes, so memory per job stays bounded */
		for (a = 0; a < n && !ret;) {
			uint64_t start = v[a].loc.offset, end = start + PACK_ENTRY_HDR_SZ + v[a].loc.stored_len;
			size_t z = a + 1;
			while (z < n && v[z].loc.offset <= end + (256u << 10) &&
			       v[z].loc.offset + PACK_ENTRY_HDR_SZ + v[z].loc.stored_len - start <= FETCH_WINDOW) {
				uint64_t e2 = v[z].loc.offset + PACK_ENTRY_HDR_SZ + v[z].loc.stored_len;
				if (e2 > end)
					end = e2;
				z++;
			}
			strbuf_reset(&buf);
			ret = rem->ops->read(rem, path.buf, start, end - start, &buf, err);
			__atomic_add_fetch(&f->st->requests, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&f->st->bytes, buf.len, __ATOMIC_RELAXED);
			for (i = a; i < z && !ret; i++) {
				uint64_t off = v[i].loc.offset - start;
				if (off > buf.len)
					ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': pack %s is truncated",
						   f->rem->name, phex);
				else
					ret = accept_object(f, j->b, &pt->odb, &v[i],
							    (const uint8_t *)buf.buf + off,
							    buf.len - (size_t)off, &raw, err);
				progress_add(f->o->progress, 1, v[i].loc.stored_len);
			}
			a = z;
		}
	}
	if (ret == CAIRN_ENOTFOUND)
		ret = cerr_wrap(err, CAIRN_ECORRUPT, "remote '%s' lost a pack it lists", f->rem->name);
	__atomic_add_fetch(&f->st->objects, ret ? 0 : n, __ATOMIC_RELAXED);
	strbuf_release(&buf);
	strbuf_release(&raw);
	strbuf_release(&path);
	return ret;
}

static int rpack_size(struct odb_thread *t, const char *remote, const struct oid *pack,
		      uint64_t *size, uint32_t *count)
{
	struct strbuf k = STRBUF_INIT;
	MDB_txn *txn = idx_rd_begin(&t->srd, NULL);
	MDB_val key, val;
	int found = 0;
	*size = UINT64_MAX;
	*count = 0;
	if (!txn)
		return 0;
	rkey(&k, remote, pack->b, OID_RAWSZ);
	key.mv_data = k.buf;
	key.mv_size = k.len;
	if (!mdb_get(txn, t->odb->state->rpack, &key, &val) && val.mv_size == RPACK_SZ) {
		*size = get_le64(val.mv_data);
		*count = get_le32((const uint8_t *)val.mv_data + 8);
		found = 1;
	}
	idx_rd_end(&t->srd);
	strbuf_release(&k);
	return found;
}

/* Fetch a list of objects the local store lacks; commits them. */
static int fetch_list(struct fetch *f, struct want_list *l, struct strbuf *err)
{
	struct fetch_job j;
	struct odb_batch *b = NULL;
	size_t i, ng = 0, threads;
	int ret;

	if (!l->n)
		return 0;
	for (i = 0; i < l->n; i++) {
		if (!remote_has(&f->t, f->rem->name, &l->v[i].id, l->v[i].type, &l->v[i].loc)) {
			char hex[OID_HEXSZ + 1];
			return cerr(err, CAIRN_ENOTFOUND,
				    "remote '%s' does not have %s %s, needed by '%s' (was it pushed?)",
				    f->rem->name, obj_type_name(l->v[i].type), oid_to_hex(&l->v[i].id, hex),
				    l->v[i].path);
		}
	}
	sort_array(l->v, l->n, sizeof(*l->v), want_by_pack);
	memset(&j, 0, sizeof(j));
	j.f = f;
	j.v = l->v;
	j.group = xcalloc(l->n + 1, sizeof(*j.group));
	j.pack_sizes = xcalloc(l->n + 1, sizeof(*j.pack_sizes));
	j.pack_counts = xcalloc(l->n + 1, sizeof(*j.pack_counts));
	for (i = 0; i < l->n; i++) {
		if (i && oid_eq(&l->v[i].loc.pack, &l->v[i - 1].loc.pack))
			continue;
		rpack_size(&f->t, f->rem->name, &l->v[i].loc.pack, &j.pack_sizes[ng], &j.pack_counts[ng]);
		j.group[ng++] = i;
	}
	j.group[ng] = l->n;
	threads = f->o->jobs > 0 ? (size_t)f->o->jobs : 1;
	if (threads > ng)
		threads = ng;
	j.conns = xcalloc(threads + 1, sizeof(*j.conns));
	j.conns[0] = f->rem; /* thread 0 uses the open connection */
	ret = odb_batch_begin(f->r->odb, &b, err);
	j.b = b;
	if (!ret)
		ret = par_for((int)threads, ng, f->r->odb, fetch_group, &j, err);
	if (b) {
		if (ret) {
			/* what verified is kept: a re-run fetches only the rest */
			struct strbuf e2 = STRBUF_INIT;
			odb_batch_commit(b, NULL, &e2);
			strbuf_release(&e2);
		} else {
			ret = odb_batch_commit(b, NULL, err);
		}
	}
	for (i = 1; i < threads; i++)
		remote_close(j.conns[i]);
	free(j.conns);
	free(j.group);
	free(j.pack_sizes);
	free(j.pack_counts);
	return ret;
}

static int local_has(struct odb_thread *t, const struct oid *id, int type)
{
	struct obj_loc loc;
	return odb_lookup(t, id, type, &loc, NULL) == 0;
}

struct file_ref {
	struct oid id;
	uint64_t size;
	const char *path;
};

int sync_fetch(struct repo *r, struct remote *rem, const struct sync_target *tg, size_t n,
	       const struct sync_opts *o, struct sync_stats *st, struct strbuf *err)
{
	struct fetch f;
	struct want_list level = { 0 }, next = { 0 }, missing = { 0 };
	struct file_ref *files = NULL;
	char **paths = NULL; /* "dir/sub" of the trees below the targets */
	size_t nfiles = 0, afiles = 0, npaths = 0, apaths = 0, i, k;
	int ret, was_incomplete;

	memset(&f, 0, sizeof(f));
	f.r = r;
	f.rem = rem;
	f.st = st;
	f.o = o;
	odb_thread_init(&f.t, r->odb);
	oidset_init(&f.seen);
	ret = require_marker(rem, err);
	if (ret)
		goto out;
	ret = sync_refresh(r, rem, st, err);
	/* a mark left by an earlier fetch that failed stays: this fetch may
	 * want other paths, and what that one left absent is still absent
	 * (a clean fsck removes it) */
	was_incomplete = odb_is_incomplete(r->odb);
	if (!ret)
		ret = odb_set_incomplete(r->odb, err);
	for (i = 0; i < n && !ret; i++) {
		if (tg[i].ptr.is_dir) {
			want_add(&level, &tg[i].ptr.id, OBJ_TREE, tg[i].path);
			level.v[level.n - 1].loc.offset = i; /* remember the target for its sha */
		} else {
			ALLOC_GROW(files, nfiles + 1, afiles);
			files[nfiles].id = tg[i].ptr.id;
			files[nfiles].size = tg[i].ptr.size;
			files[nfiles].path = tg[i].path;
			nfiles++;
		}
	}
	/* trees, one level at a time; the top ones are checked against the
	 * pointers' sha256, the lower ones against their parents' */
	{
		struct sha256 *shas = NULL, *nshas = NULL;
		size_t ashas = 0, anshas = 0;
		for (i = 0; i < level.n; i++) {
			ALLOC_GROW(shas, i + 1, ashas);
			shas[i] = tg[level.v[i].loc.offset].ptr.sha;
		}
		while (!ret && level.n) {
			missing.n = 0;
			for (i = 0; i < level.n; i++)
				if (!local_has(&f.t, &level.v[i].id, OBJ_TREE))
					want_add(&missing, &level.v[i].id, OBJ_TREE, level.v[i].path);
			ret = fetch_list(&f, &missing, err);
			next.n = 0;
			for (i = 0; i < level.n && !ret; i++) {
				struct tree tr;
				if (!oidset_insert(&f.seen, &level.v[i].id, OBJ_TREE))
					continue;
				ret = content_read_tree(&f.t, &level.v[i].id, &shas[i], &tr, level.v[i].path,
							err);
				if (ret)
					break;
				for (k = 0; k < tr.n; k++) {
					const struct tree_entry *e = &tr.e[k];
					if (e->mode == MODE_DIR) {
						/* named in messages by its own path:
						 * the decode checked the name */
						ALLOC_GROW(paths, npaths + 1, apaths);
						paths[npaths] = xstrfmt("%s/%s", level.v[i].path, e->name);
						want_add(&next, &e->id, OBJ_TREE, paths[npaths++]);
						ALLOC_GROW(nshas, next.n, anshas);
						nshas[next.n - 1] = e->sha;
					} else if (e->size) {
						ALLOC_GROW(files, nfiles + 1, afiles);
						files[nfiles].id = e->id;
						files[nfiles].size = e->size;
						files[nfiles].path = level.v[i].path;
						nfiles++;
					}
				}
				tree_release(&tr);
			}
			{
				struct want_list tmp = level;
				struct sha256 *ts = shas;
				size_t ta = ashas;
				level = next;
				next = tmp;
				shas = nshas;
				nshas = ts;
				ashas = anshas;
				anshas = ta;
			}
		}
		free(shas);
		free(nshas);
	}
	/* manifests of the files that have one */
	missing.n = 0;
	for (i = 0; i < nfiles && !ret; i++) {
		if (!files[i].size || local_has(&f.t, &files[i].id, OBJ_MANIFEST) ||
		    local_has(&f.t, &files[i].id, OBJ_CHUNK))
			continue;
		if (!oidset_insert(&f.seen, &files[i].id, OBJ_MANIFEST))
			continue;
		if (remote_has(&f.t, rem->name, &files[i].id, OBJ_MANIFEST, NULL))
			want_add(&missing, &files[i].id, OBJ_MANIFEST, files[i].path);
	}
	if (!ret)
		ret = fetch_list(&f, &missing, err);
	/* then every chunk not here */
	missing.n = 0;
	oidset_release(&f.seen);
	oidset_init(&f.seen);
	for (i = 0; i < nfiles && !ret; i++) {
		struct manifest m;
		if (!files[i].size)
			continue;
		if (local_has(&f.t, &files[i].id, OBJ_MANIFEST)) {
			ret = content_chunks(&f.t, &files[i].id, files[i].size, &m, err);
			for (k = 0; k < m.n && !ret; k++) {
				if (!oidset_insert(&f.seen, &m.chunks[k].id, OBJ_CHUNK))
					continue;
				if (local_has(&f.t, &m.chunks[k].id, OBJ_CHUNK))
					st->have++;
				else
					want_add(&missing, &m.chunks[k].id, OBJ_CHUNK, files[i].path);
			}
			manifest_release(&m);
		} else if (oidset_insert(&f.seen, &files[i].id, OBJ_CHUNK)) {
			if (local_has(&f.t, &files[i].id, OBJ_CHUNK))
				st->have++;
			else
				want_add(&missing, &files[i].id, OBJ_CHUNK, files[i].path);
		}
	}
	if (!ret) {
		progress_set_totals(o->progress, missing.n, 0);
		ret = fetch_list(&f, &missing, err);
	}
	if (!ret && !was_incomplete)
		odb_clear_incomplete(r->odb);
out:
	free(level.v);
	free(next.v);
	free(missing.v);
	free(files);
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	oidset_release(&f.seen);
	odb_thread_release(&f.t);
	return ret;
}

/* --- gc and fsck --- */

static int rpack_cmp(const void *a, const void *b)
{
	return oid_cmp(&((const struct sync_rpack *)a)->id, &((const struct sync_rpack *)b)->id);
}

int sync_remote_packs(struct repo *r, const char *name, const struct oidset *live,
		      struct sync_rpack **out, size_t *n, struct strbuf *err)
{
	struct strbuf k = STRBUF_INIT;
	struct odb_thread t;
	struct sync_rpack *v = NULL;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val key, val;
	size_t nr = 0, alloc = 0, pl = strlen(name) + 1;
	int rc = 0, ret = 0;

	odb_thread_init(&t, r->odb);
	txn = idx_rd_begin(&t.srd, err);
	if (!txn) {
		odb_thread_release(&t);
		return CAIRN_ELMDB;
	}
	rkey(&k, name, (const uint8_t *)"", 0);
	rc = mdb_cursor_open(txn, r->odb->state->rpack, &cur);
	if (!rc) {
		key.mv_data = k.buf;
		key.mv_size = k.len;
		for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); !rc;
		     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
			const uint8_t *b = val.mv_data;
			if (key.mv_size != pl + OID_RAWSZ || memcmp(key.mv_data, k.buf, pl))
				break;
			ALLOC_GROW(v, nr + 1, alloc);
			memset(&v[nr], 0, sizeof(v[nr]));
			memcpy(v[nr].id.b, (const uint8_t *)key.mv_data + pl, OID_RAWSZ);
			if (val.mv_size == RPACK_SZ) {
				v[nr].size = get_le64(b);
				v[nr].count = get_le32(b + 8);
				v[nr].first_seen = (int64_t)get_le64(b + 12);
			} else {
				v[nr].first_seen = (int64_t)time(NULL); /* unknown: as young as can be */
			}
			nr++;
		}
		mdb_cursor_close(cur);
	}
	if (nr)
		sort_array(v, nr, sizeof(*v), rpack_cmp);
	/* robj: remote NUL oid type pack -> location; count the live ones per pack */
	if (!rc || rc == MDB_NOTFOUND)
		rc = mdb_cursor_open(txn, r->odb->state->robj, &cur);
	if (!rc) {
		key.mv_data = k.buf;
		key.mv_size = k.len;
		for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); !rc;
		     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
			const uint8_t *kb = key.mv_data;
			struct sync_rpack probe, *p;
			struct rloc l;
			struct oid id;
			if (key.mv_size < pl || memcmp(kb, k.buf, pl))
				break;
			if (key.mv_size != pl + OID_RAWSZ + 1 + OID_RAWSZ ||
			    rloc_decode(val.mv_data, val.mv_size, &l))
				continue;
			memcpy(id.b, kb + pl, OID_RAWSZ);
			if (!oidset_contains(live, &id, kb[pl + OID_RAWSZ]))
				continue;
			probe.id = l.pack;
			p = bsearch(&probe, v, nr, sizeof(*v), rpack_cmp);
			if (p)
				p->live++;
		}
		mdb_cursor_close(cur);
	}
	idx_rd_end(&t.srd);
	if (rc && rc != MDB_NOTFOUND)
		ret = idx_err(err, rc, "remote cache");
	odb_thread_release(&t);
	strbuf_release(&k);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*n = nr;
	return 0;
}

int sync_remove_pack(struct repo *r, struct remote *rem, const struct oid *pack,
		     struct strbuf *err)
{
	char hex[OID_HEXSZ + 1];
	const char *ext[2] = { "idx", "pack" };
	int i, ret = 0;

	oid_to_hex(pack, hex);
	/* the index first: a pack without one is invisible to every reader */
	for (i = 0; i < 2 && !ret; i++) {
		char *path = xstrfmt("packs/%s.%s", hex, ext[i]);
		ret = rem->ops->remove(rem, path, err);
		if (ret == CAIRN_ENOTFOUND)
			ret = 0;
		free(path);
	}
	return ret;
}

#define GC_RDIR "gc"
#define MARK_SUFFIX ".mark"

/* Writes `text` to the remote file `path` (through a local temp file). */
static int write_small(struct repo *r, struct remote *rem, const char *path, const char *text,
		       struct strbuf *err)
{
	char *tmp = xstrfmt("%s/gc-%ld-XXXXXX", r->odb->tmpdir, (long)getpid());
	int fd = mkstemp(tmp), ret;
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
		ret = cerr_errno(err, "cannot write '%s'", tmp);
	else
		ret = rem->ops->write(rem, path, fd, strlen(text), err);
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	return ret;
}

struct find_time {
	const char *name;
	int64_t time;
	int found;
};

static int find_time_cb(const char *name, uint64_t size, int64_t mtime, void *data)
{
	struct find_time *f = data;
	if (!strcmp(name, f->name)) {
		f->time = mtime;
		f->found = 1;
	}
	return 0;
}

int sync_remote_clock(struct repo *r, struct remote *rem, int64_t *now, struct strbuf *err)
{
	struct find_time f;
	char *name, *path, *text;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid() * 2654435761u;
	int ret;

	*now = REMOTE_MTIME_UNKNOWN;
	if (!rem->ops->list_times)
		return 0;
	name = xstrfmt("clock-%ld-%08x", (long)getpid(), (unsigned)rand_r(&seed));
	path = xstrfmt(GC_RDIR "/%s", name);
	text = xstrfmt("cairn gc -r: the remote's time, read back from this file's\n");
	ret = rem->ops->prepare(rem, GC_RDIR, err);
	if (!ret)
		ret = write_small(r, rem, path, text, err);
	if (!ret) {
		int rr;
		memset(&f, 0, sizeof(f));
		f.name = name;
		f.time = REMOTE_MTIME_UNKNOWN;
		ret = rem->ops->list_times(rem, GC_RDIR, find_time_cb, &f, err);
		if (!ret && !f.found)
			ret = cerr(err, CAIRN_ENOTFOUND, "remote '%s': %s is not listed after its upload",
				   rem->name, path);
		if (!ret)
			*now = f.time;
		struct strbuf e2 = STRBUF_INIT;
		rr = rem->ops->remove(rem, path, &e2);
		if (!ret && rr && rr != CAIRN_ENOTFOUND)
			ret = cerr(err, rr, "%s", e2.buf);
		strbuf_release(&e2);
	}
	free(name);
	free(path);
	free(text);
	return ret;
}

struct times_ctx {
	struct sync_rpack *v;
	size_t n;
	uint8_t *seen; /* per pack: 1 .pack, 2 .idx */
};

static int pack_time_cb(const char *name, uint64_t size, int64_t mtime, void *data)
{
	struct times_ctx *c = data;
	struct sync_rpack probe, *p;
	size_t l = strlen(name);
	int bit;
	if (l == OID_HEXSZ + 5 && !strcmp(name + OID_HEXSZ, ".pack"))
		bit = 1;
	else if (l == OID_HEXSZ + 4 && !strcmp(name + OID_HEXSZ, ".idx"))
		bit = 2;
	else
		return 0;
	if (oid_from_hex(&probe.id, name, OID_HEXSZ))
		return 0;
	p = bsearch(&probe, c->v, c->n, sizeof(*c->v), rpack_cmp);
	if (!p)
		return 0;
	c->seen[p - c->v] |= (uint8_t)bit;
	if (mtime == REMOTE_MTIME_UNKNOWN || p->uploaded == REMOTE_MTIME_UNKNOWN)
		p->uploaded = REMOTE_MTIME_UNKNOWN;
	else if (mtime > p->uploaded)
		p->uploaded = mtime;
	return 0;
}

int sync_pack_times(struct remote *rem, struct sync_rpack *v, size_t n, struct strbuf *err)
{
	struct times_ctx c;
	size_t i;
	int ret = 0;
	for (i = 0; i < n; i++)
		v[i].uploaded = INT64_MIN + 1; /* below every time: raised by the listing */
	c.v = v;
	c.n = n;
	c.seen = xcalloc(n + 1, 1);
	if (rem->ops->list_times)
		ret = rem->ops->list_times(rem, "packs", pack_time_cb, &c, err);
	for (i = 0; i < n; i++)
		if (!rem->ops->list_times || c.seen[i] != 3)
			v[i].uploaded = REMOTE_MTIME_UNKNOWN; /* not both listed: no time */
	free(c.seen);
	return ret == CAIRN_ENOTFOUND ? 0 : ret;
}

struct marks_ctx {
	struct sync_mark *v;
	size_t n, alloc;
};

static int mark_cb(const char *name, uint64_t size, int64_t mtime, void *data)
{
	struct marks_ctx *c = data;
	struct oid id;
	if (strlen(name) != OID_HEXSZ + strlen(MARK_SUFFIX) ||
	    strcmp(name + OID_HEXSZ, MARK_SUFFIX) || oid_from_hex(&id, name, OID_HEXSZ))
		return 0;
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	c->v[c->n].pack = id;
	c->v[c->n].time = mtime;
	c->n++;
	return 0;
}

static int mark_cb_plain(const char *name, uint64_t size, void *data)
{
	return mark_cb(name, size, REMOTE_MTIME_UNKNOWN, data);
}

int sync_marks(struct remote *rem, struct sync_mark **out, size_t *n, struct strbuf *err)
{
	struct marks_ctx c = { NULL, 0, 0 };
	int ret = rem->ops->list_times ? rem->ops->list_times(rem, GC_RDIR, mark_cb, &c, err)
				       : rem->ops->list(rem, GC_RDIR, mark_cb_plain, &c, err);
	if (ret == CAIRN_ENOTFOUND)
		ret = 0; /* no gc -r ever ran */
	if (ret) {
		free(c.v);
		c.v = NULL;
		c.n = 0;
	}
	if (c.n)
		sort_array(c.v, c.n, sizeof(*c.v), sync_mark_cmp);
	*out = c.v;
	*n = c.n;
	return ret;
}

static char *mark_path(const struct oid *pack)
{
	char hex[OID_HEXSZ + 1];
	return xstrfmt(GC_RDIR "/%s" MARK_SUFFIX, oid_to_hex(pack, hex));
}

int sync_mark_pack(struct repo *r, struct remote *rem, const struct oid *pack,
		   struct strbuf *err)
{
	char hex[OID_HEXSZ + 1];
	char *path = mark_path(pack);
	char *text = xstrfmt("cairn gc mark 1\npack %s\n", oid_to_hex(pack, hex));
	int ret = rem->ops->prepare(rem, GC_RDIR, err);
	if (!ret)
		ret = write_small(r, rem, path, text, err);
	if (ret == CAIRN_EEXIST)
		ret = 0; /* marked already: the first mark's time counts */
	free(path);
	free(text);
	return ret;
}

int sync_unmark_pack(struct remote *rem, const struct oid *pack, struct strbuf *err)
{
	char *path = mark_path(pack);
	int ret = rem->ops->remove(rem, path, err);
	free(path);
	return ret == CAIRN_ENOTFOUND ? 0 : ret;
}

int sync_pack_marked(struct remote *rem, const struct oid *pack, struct strbuf *err)
{
	char *path = mark_path(pack);
	uint64_t size;
	int ret = rem->ops->stat(rem, path, &size, err);
	free(path);
	if (ret == CAIRN_ENOTFOUND)
		return 0;
	return ret ? ret : 1;
}

/* Every copy of (id, type) the cache knows on `remote`. */
static size_t remote_copies(struct odb_thread *t, const char *remote, const struct oid *id,
			    int type, struct rloc **out)
{
	struct strbuf k = STRBUF_INIT;
	MDB_txn *txn = idx_rd_begin(&t->srd, NULL);
	MDB_cursor *cur;
	MDB_val key, val;
	size_t n = 0, alloc = 0;
	*out = NULL;
	if (!txn)
		return 0;
	rkey_obj(&k, remote, id, type, NULL);
	if (!mdb_cursor_open(txn, t->odb->state->robj, &cur)) {
		int rc;
		key.mv_data = k.buf;
		key.mv_size = k.len;
		for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); !rc;
		     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
			struct rloc l;
			if (key.mv_size != k.len + OID_RAWSZ || memcmp(key.mv_data, k.buf, k.len))
				break;
			if (rloc_decode(val.mv_data, val.mv_size, &l))
				continue;
			ALLOC_GROW(*out, n + 1, alloc);
			(*out)[n++] = l;
		}
		mdb_cursor_close(cur);
	}
	idx_rd_end(&t->srd);
	strbuf_release(&k);
	return n;
}

int sync_fetch_objects(struct repo *r, struct remote *rem, struct sync_object *v, size_t n,
		       int replace, size_t *stored, struct strbuf *err)
{
	struct fetch f;
	struct odb_batch *b = NULL;
	struct strbuf buf = STRBUF_INIT, raw = STRBUF_INIT, oerr = STRBUF_INIT;
	size_t i, j, nstored = 0;
	int ret;

	memset(&f, 0, sizeof(f));
	f.r = r;
	f.rem = rem;
	odb_thread_init(&f.t, r->odb);
	ret = odb_batch_begin(r->odb, &b, err);
	if (!ret && replace)
		odb_batch_set_replace(b);
	for (i = 0; i < n && !ret; i++) {
		struct rloc *copies;
		size_t nc = remote_copies(&f.t, rem->name, &v[i].id, v[i].type, &copies);
		v[i].status = CAIRN_ENOTFOUND;
		for (j = 0; j < nc && v[i].status; j++) {
			struct want w;
			char phex[OID_HEXSZ + 1];
			char *path = xstrfmt("packs/%s.pack", oid_to_hex(&copies[j].pack, phex));
			memset(&w, 0, sizeof(w));
			w.id = v[i].id;
			w.type = v[i].type;
			w.loc = copies[j];
			w.path = v[i].path ? v[i].path : "";
			strbuf_reset(&buf);
			v[i].status = rem->ops->read(rem, path, w.loc.offset,
						     PACK_ENTRY_HDR_SZ + (uint64_t)w.loc.stored_len, &buf,
						     &oerr);
			if (!v[i].status)
				v[i].status = verify_object(&f, &f.t, &w, (const uint8_t *)buf.buf,
							    buf.len, &raw, &oerr);
			if (!v[i].status)
				v[i].status = odb_put_stored(b, &f.t, w.type, &w.id, w.loc.codec,
							     buf.buf + PACK_ENTRY_HDR_SZ,
							     w.loc.stored_len, w.loc.raw_len, NULL, &oerr);
			if (v[i].status == CAIRN_ENOTFOUND)
				v[i].status = CAIRN_ECORRUPT; /* the remote lost a pack it lists */
			free(path);
		}
		if (!v[i].status)
			nstored++;
		free(copies);
	}
	if (b) {
		ret = odb_batch_commit(b, NULL, err);
		if (ret) {
			for (i = 0; i < n; i++)
				if (!v[i].status)
					v[i].status = ret;
			nstored = 0;
		}
	}
	if (stored)
		*stored = nstored;
	odb_thread_release(&f.t);
	strbuf_release(&buf);
	strbuf_release(&raw);
	strbuf_release(&oerr);
	return ret;
}

struct rfile {
	char *name;
	uint64_t size;
};

struct rfiles {
	struct rfile *v;
	size_t n, alloc;
};

static int collect_any(const char *name, uint64_t size, void *data)
{
	struct rfiles *l = data;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].name = xstrdup(name);
	l->v[l->n].size = size;
	l->n++;
	return 0;
}

static int rfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rfile *)a)->name, ((const struct rfile *)b)->name);
}

static const struct rfile *rfile_find(const struct rfiles *l, const char *name)
{
	struct rfile probe;
	probe.name = (char *)name;
	return bsearch(&probe, l->v, l->n, sizeof(*l->v), rfile_cmp);
}

struct rcheck {
	struct oid id;
	uint64_t size;
	struct pack_entry *e;
	size_t n;
};

static void report(void (*cb)(const struct sync_problem *, void *), void *data,
		   const char *kind, const struct oid *pack, const struct oid *id, int type,
		   const char *msg)
{
	struct sync_problem p;
	p.kind = kind;
	p.pack = pack;
	p.id = id;
	p.type = type;
	p.msg = msg;
	cb(&p, data);
}

/* Downloads one remote pack into a temp file and checks all of it. */
static int check_remote_pack(struct repo *r, struct remote *rem, const struct rcheck *c,
			     void (*cb)(const struct sync_problem *, void *), void *data,
			     struct sync_check_stats *st, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT, raw = STRBUF_INIT, msg = STRBUF_INIT, oerr = STRBUF_INIT;
	char hex[OID_HEXSZ + 1];
	char *tmp = xstrfmt("%s/fsck-%ld-XXXXXX", r->odb->tmpdir, (long)getpid());
	char *path;
	struct odb_thread t;
	struct oid_ctx oc;
	struct oid got;
	uint64_t off = 0;
	size_t i, bad = 0;
	int fd = mkstemp(tmp), ret = 0;

	oid_to_hex(&c->id, hex);
	path = xstrfmt("packs/%s.pack", hex);
	if (fd < 0) {
		ret = cerr_errno(err, "cannot create '%s'", tmp);
		free(tmp);
		free(path);
		return ret;
	}
	odb_thread_init(&t, r->odb);
	oid_ctx_init(&oc);
	while (off < c->size) {
		uint64_t want = c->size - off < (8u << 20) ? c->size - off : (8u << 20);
		strbuf_reset(&buf);
		ret = rem->ops->read(rem, path, off, want, &buf, err);
		if (ret || !buf.len)
			break;
		if (pwrite_all(fd, buf.buf, buf.len, (off_t)off) < 0) {
			ret = cerr_errno(err, "cannot write '%s'", tmp);
			break;
		}
		oid_ctx_update(&oc, buf.buf, buf.len);
		off += buf.len;
		st->bytes += buf.len;
	}
	oid_ctx_final(&oc, &got);
	if (ret == CAIRN_ENOTFOUND) {
		report(cb, data, "missing-pack", &c->id, NULL, 0, err->buf);
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	st->sampled++;
	if (off != c->size) {
		strbuf_addf(&msg, "remote pack %s is %llu bytes, its index says %llu", hex,
			    (unsigned long long)off, (unsigned long long)c->size);
		report(cb, data, "pack-size", &c->id, NULL, 0, msg.buf);
	}
	for (i = 0; i < c->n; i++) {
		const struct pack_entry *e = &c->e[i];
		struct obj_loc loc;
		int r2;
		memset(&loc, 0, sizeof(loc));
		loc.codec = e->codec;
		loc.raw_len = e->raw_len;
		loc.stored_len = e->stored_len;
		loc.offset = e->offset;
		r2 = odb_read_at(&t, fd, hex, &e->id, e->type, &loc, &raw, &oerr);
		if (!r2 && e->type == OBJ_MANIFEST) {
			struct manifest m;
			r2 = manifest_decode(&m, raw.buf, raw.len, &oerr);
			manifest_release(&m);
		}
		st->objects++;
		if (r2) {
			bad++;
			strbuf_reset(&msg);
			strbuf_addf(&msg, "remote '%s': %s", rem->name, oerr.buf);
			report(cb, data, "corrupt-object", &c->id, &e->id, e->type, msg.buf);
		}
	}
	/* damage outside every listed object still means bytes are wrong */
	if (!bad && off == c->size && !oid_eq(&got, &c->id)) {
		strbuf_reset(&msg);
		strbuf_addf(&msg, "remote pack %s does not match its name", hex);
		report(cb, data, "corrupt-pack", &c->id, NULL, 0, msg.buf);
	}
out:
	close(fd);
	unlink(tmp);
	free(tmp);
	free(path);
	odb_thread_release(&t);
	strbuf_release(&buf);
	strbuf_release(&raw);
	strbuf_release(&msg);
	strbuf_release(&oerr);
	return ret;
}

int sync_check_remote(struct repo *r, struct remote *rem, int read_data,
		      void (*cb)(const struct sync_problem *p, void *data), void *data,
		      struct sync_check_stats *st, struct strbuf *err)
{
	struct rfiles files = { 0 };
	struct rcheck *ok = NULL;
	struct strbuf msg = STRBUF_INIT, idx = STRBUF_INIT, e2 = STRBUF_INIT;
	size_t nok = 0, aok = 0, i, want;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = require_marker(rem, err);
	if (ret)
		return ret;
	/* the cache is refreshed as push and fetch would; a bad index is
	 * reported below with the others */
	sync_refresh(r, rem, NULL, &e2);
	ret = rem->ops->list(rem, "packs", collect_any, &files, err);
	if (ret == CAIRN_ENOTFOUND)
		ret = 0;
	if (ret)
		goto out;
	if (files.n)
		sort_array(files.v, files.n, sizeof(*files.v), rfile_cmp);
	for (i = 0; i < files.n; i++) {
		const char *nm = files.v[i].name;
		size_t l = strlen(nm);
		struct oid named, pid;
		struct pack_entry *e = NULL;
		size_t n = 0;
		uint64_t psize = 0;
		const struct rfile *pf;
		char *pname, *ipath;
		int r2;

		if (l == OID_HEXSZ + 5 && !strcmp(nm + OID_HEXSZ, ".pack") &&
		    !oid_from_hex(&named, nm, OID_HEXSZ)) {
			char *iname = xstrfmt("%.*s.idx", OID_HEXSZ, nm);
			st->packs++;
			if (!rfile_find(&files, iname))
				st->unindexed++;
			free(iname);
			continue;
		}
		if (l != OID_HEXSZ + 4 || strcmp(nm + OID_HEXSZ, ".idx") ||
		    oid_from_hex(&named, nm, OID_HEXSZ))
			continue;
		st->indexes++;
		ipath = xstrfmt("packs/%s", nm);
		strbuf_reset(&idx);
		r2 = read_index_file(rem, ipath, &idx, &e2);
		if (r2) {
			report(cb, data, "bad-pack-index", &named, NULL, 0, e2.buf);
			free(ipath);
			continue;
		}
		r2 = pack_idx_decode(idx.buf, idx.len, ipath, &pid, &psize, &e, &n, &e2);
		if (!r2 && !oid_eq(&pid, &named))
			r2 = cerr(&e2, CAIRN_ECORRUPT, "%s names another pack", ipath);
		free(ipath);
		if (r2) {
			strbuf_reset(&msg);
			strbuf_addf(&msg, "remote '%s': %s", rem->name, e2.buf);
			report(cb, data, "bad-pack-index", &named, NULL, 0, msg.buf);
			free(e);
			continue;
		}
		pname = xstrfmt("%.*s.pack", OID_HEXSZ, nm);
		pf = rfile_find(&files, pname);
		free(pname);
		strbuf_reset(&msg);
		if (!pf) {
			strbuf_addf(&msg, "remote '%s': pack %.*s is missing, its index is there",
				    rem->name, OID_HEXSZ, nm);
			report(cb, data, "missing-pack", &named, NULL, 0, msg.buf);
			free(e);
			continue;
		}
		if (pf->size != psize) {
			strbuf_addf(&msg, "remote '%s': pack %.*s is %llu bytes, its index says %llu",
				    rem->name, OID_HEXSZ, nm, (unsigned long long)pf->size,
				    (unsigned long long)psize);
			report(cb, data, "pack-size", &named, NULL, 0, msg.buf);
			free(e);
			continue;
		}
		ALLOC_GROW(ok, nok + 1, aok);
		ok[nok].id = named;
		ok[nok].size = psize;
		ok[nok].e = e;
		ok[nok].n = n;
		nok++;
	}
	/* the sample: a random 5%, at least one pack; all with read_data */
	want = read_data ? nok : (nok * 5 + 99) / 100;
	if (!want && nok)
		want = 1;
	if (want < nok) {
		unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid() * 2654435761u;
		for (i = 0; i < want; i++) {
			size_t j = i + (size_t)(rand_r(&seed) % (int)(nok - i));
			struct rcheck tmp = ok[i];
			ok[i] = ok[j];
			ok[j] = tmp;
		}
	}
	for (i = 0; i < want && !ret; i++)
		ret = check_remote_pack(r, rem, &ok[i], cb, data, st, err);
out:
	for (i = 0; i < files.n; i++)
		free(files.v[i].name);
	free(files.v);
	for (i = 0; i < nok; i++)
		free(ok[i].e);
	free(ok);
	strbuf_release(&msg);
	strbuf_release(&idx);
	strbuf_release(&e2);
	return ret;
}
