/*
 * Push and fetch (see remote/sync.h).
 */
#include "remote/sync.h"
#include "core/content.h"
#include "core/gc.h"
#include "core/index.h"
#include "core/object.h"
#include "core/odb.h"
#include "core/parallel.h"
#include "core/treewalk.h"

#include <errno.h>
#include <inttypes.h>
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

#define RLOC_SZ (OID_RAWSZ + 8 + 4 + 4 + 1 + 1)
/* u64 size, u32 count, i64 first seen (unix seconds, for gc -r) */
#define RPACK_SZ (8 + 4 + 8)

/* Where a remote keeps one object. */
struct rloc {
	struct oid pack;
	uint64_t offset; /* of the entry header */
	uint32_t stored_len, raw_len;
	uint8_t codec;
	/* a manifest: this copy is the same bytes as one this clone made or
	 * verified against its file (remote-format.md, "Manifests") */
	uint8_t verified;
};

struct want {
	struct oid id;
	uint8_t type;
	struct rloc loc;
	uint32_t local_pack; /* push: the local pack holding it */
	uint8_t have_loc;    /* fetch: loc is chosen already */
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

/* the longest key, remote NUL oid type pack, fits in LMDB's 511 bytes */
_Static_assert(REMOTE_NAME_MAX + 1 + OID_RAWSZ + 1 + OID_RAWSZ <= 511, "remote cache key too long");

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
	out[33] = l->verified;
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
	l->verified = p[33] == 1;
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

/* Manifest copies on the remote found to be ours: set their flags. */
struct verified_ctx {
	struct idx *idx;
	const char *remote;
	const struct oid *ids, *packs; /* n pairs (file id, remote pack) */
	size_t n;
};

static int set_verified_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct verified_ctx *c = data;
	struct strbuf k = STRBUF_INIT;
	MDB_val key, val;
	uint8_t v[RLOC_SZ];
	struct rloc l;
	size_t i;
	int rc = 0;
	for (i = 0; i < c->n && (!rc || rc == MDB_NOTFOUND); i++) {
		rkey_obj(&k, c->remote, &c->ids[i], OBJ_MANIFEST, &c->packs[i]);
		key.mv_data = k.buf;
		key.mv_size = k.len;
		rc = mdb_get(txn, c->idx->robj, &key, &val);
		if (!rc && !rloc_decode(val.mv_data, val.mv_size, &l) && !l.verified) {
			l.verified = 1;
			rloc_encode(v, &l);
			val.mv_data = v;
			val.mv_size = RLOC_SZ;
			rc = mdb_put(txn, c->idx->robj, &key, &val, 0);
		}
	}
	strbuf_release(&k);
	return rc && rc != MDB_NOTFOUND ? idx_err(err, rc, "remote cache") : 0;
}

/* One write transaction for n flags (a copy no longer cached is skipped). */
static int set_verified_many(struct repo *r, const char *remote, const struct oid *ids,
			     const struct oid *packs, size_t n, struct strbuf *err)
{
	struct verified_ctx c;
	if (!n)
		return 0;
	c.idx = r->odb->state;
	c.remote = remote;
	c.ids = ids;
	c.packs = packs;
	c.n = n;
	return idx_write(r->odb->state, set_verified_txn, &c, err);
}

static int set_verified(struct repo *r, const char *remote, const struct oid *id,
			const struct oid *pack, struct strbuf *err)
{
	return set_verified_many(r, remote, id, pack, 1, err);
}

struct fetch {
	struct repo *r;
	struct remote *rem;
	struct odb_thread t;
	struct sync_stats *st;
	const struct sync_opts *o;
	struct oidset seen;
};

static int verify_object(struct fetch *f, struct odb_thread *t, const struct want *w,
			 const uint8_t *bytes, size_t n, struct strbuf *raw, struct strbuf *err);

/*
 * Reads the copy of (id, type) at `loc` from the remote and verifies it as
 * fetch does (entry header, decoding, hash or manifest checksum): its raw
 * bytes into `raw`, its stored entry (header included) into `buf`.
 */
static int read_remote_copy(struct fetch *f, struct odb_thread *t, const struct oid *id,
			    int type, const struct rloc *loc, const char *path,
			    struct strbuf *buf, struct strbuf *raw, struct strbuf *err)
{
	char phex[OID_HEXSZ + 1];
	char *rpath = xstrfmt("packs/%s.pack", oid_to_hex(&loc->pack, phex));
	struct want w;
	int ret;
	memset(&w, 0, sizeof(w));
	w.id = *id;
	w.type = (uint8_t)type;
	w.loc = *loc;
	w.path = path ? path : "";
	strbuf_reset(buf);
	ret = f->rem->ops->read(f->rem, rpath, loc->offset,
				PACK_ENTRY_HDR_SZ + (uint64_t)loc->stored_len, buf, err);
	if (f->st)
		__atomic_add_fetch(&f->st->requests, 1, __ATOMIC_RELAXED);
	if (ret == CAIRN_ENOTFOUND)
		ret = cerr(err, CAIRN_ECORRUPT, "remote '%s' lost a pack it lists (%s)", f->rem->name,
			   rpath);
	if (!ret)
		ret = verify_object(f, t, &w, (const uint8_t *)buf->buf, buf->len, raw, err);
	free(rpath);
	return ret;
}

/* --- refresh --- */

struct name_list {
	char **v;
	size_t n, alloc;
};

/* The HEX.idx files of a listing of packs/: HEX, and the size listed. */
struct idx_file {
	char *hex;
	uint64_t size;
};

struct idx_list {
	struct idx_file *v;
	size_t n, alloc;
};

static int collect_idx(const char *name, uint64_t size, void *data)
{
	struct idx_list *l = data;
	size_t n = strlen(name);
	struct oid id;
	/* HEX.idx only; anything else (temp files of other tools) is ignored */
	if (n != OID_HEXSZ + 4 || strcmp(name + OID_HEXSZ, ".idx") || oid_from_hex(&id, name, OID_HEXSZ))
		return 0;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].hex = xstrndup(name, OID_HEXSZ);
	l->v[l->n].size = size;
	l->n++;
	return 0;
}

static int cmp_idx_file(const void *a, const void *b)
{
	return strcmp(((const struct idx_file *)a)->hex, ((const struct idx_file *)b)->hex);
}

static void idx_list_release(struct idx_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->v[i].hex);
	free(l->v);
	memset(l, 0, sizeof(*l));
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
	int ours; /* uploaded by this clone: its manifests are verified */
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
		l.verified = c->ours && c->e[i].type == OBJ_MANIFEST;
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
		    c->n && bsearch(&l.pack, c->gone, c->n, sizeof(*c->gone), oid_cmp_v)) {
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
 * process out of memory. Nor more than its listing said (`listed`,
 * UINT64_MAX when the backend could not tell), plus one byte to see that
 * it is no bigger: a remote that lists a small file and sends an endless
 * one is refused after the size it gave.
 */
#define REMOTE_IDX_MAX (1u << 30)

static int read_index_file(struct remote *rem, const char *path, uint64_t listed,
			   struct strbuf *out, struct strbuf *err)
{
	uint64_t max = listed < REMOTE_IDX_MAX ? listed : REMOTE_IDX_MAX;
	int ret;
	if (listed != UINT64_MAX && listed > REMOTE_IDX_MAX)
		return cerr(err, CAIRN_ECORRUPT, "remote '%s': %s is larger than 1 GiB; refused",
			    rem->name, path);
	ret = rem->ops->read(rem, path, 0, max + 1, out, err);
	if (!ret && out->len > max) {
		strbuf_release(out);
		if (max == listed)
			ret = cerr(err, CAIRN_ECORRUPT,
				   "remote '%s': %s is larger than its listing says (%" PRIu64 " bytes); refused",
				   rem->name, path, listed);
		else
			ret = cerr(err, CAIRN_ECORRUPT, "remote '%s': %s is larger than 1 GiB; refused",
				   rem->name, path);
	}
	return ret;
}

static int learn_pack(struct repo *r, struct remote *rem, const char *hex, uint64_t listed,
		      struct sync_stats *st, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, data = STRBUF_INIT;
	struct add_pack_ctx c;
	struct pack_entry *e = NULL;
	size_t n = 0;
	uint64_t psize = 0;
	struct oid pid, named;
	int ret;

	strbuf_addf(&path, "packs/%s.idx", hex);
	ret = read_index_file(rem, path.buf, listed, &data, err);
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
		c.ours = 0;
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
#define RCACHE_VERSION 4
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
	struct idx_list listed = { 0 };
	struct name_list known = { 0 };
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
		sort_array(listed.v, listed.n, sizeof(*listed.v), cmp_idx_file);
	if (known.n)
		sort_array(known.v, known.n, sizeof(*known.v), cmp_strp);
	gone = xcalloc(known.n + 1, sizeof(*gone));
	for (i = j = 0; i < listed.n || j < known.n;) {
		int c = i == listed.n ? 1 : j == known.n ? -1 : strcmp(listed.v[i].hex, known.v[j]);
		if (c < 0) {
			ret = learn_pack(r, rem, listed.v[i].hex, listed.v[i].size, st, err);
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
	idx_list_release(&listed);
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
	/* manifests in meta that the remote has copies of, none known to be
	 * ours: compared after the walk (check_manifests), dropped from meta
	 * when one is the same */
	size_t *pending;
	size_t npending, apending;
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

/* At most this many copies of one manifest on a remote are read to find
 * one that is the same as ours; past them, ours is uploaded. */
#define MANIFEST_COPIES_MAX 16

/*
 * A manifest of ours the remote has copies of, none flagged as ours: are
 * any of them the same bytes? A manifest the remote has under the file's
 * id proves nothing by itself: anyone can write one that lists other
 * chunks. Read on the job's connection; a copy that cannot be read or
 * does not verify is not ours (ours goes up beside it; fsck -r names the
 * bad one).
 */
struct mcheck {
	struct push *p;
	struct remote **conns;
	struct oid *same_pack; /* per pending manifest: the copy found equal */
	int *same;
};

static int check_one_manifest(size_t k, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct mcheck *mc = data;
	struct push *p = mc->p;
	const struct want *w = &p->meta.v[p->pending[k]];
	struct strbuf buf = STRBUF_INIT, raw = STRBUF_INIT, rraw = STRBUF_INIT, e2 = STRBUF_INIT;
	struct rloc *copies;
	struct fetch f;
	size_t nc, i;
	int ret = 0;

	if (!mc->conns[pt->no]) {
		ret = remote_open_url(&mc->conns[pt->no], p->o->url, p->o->base, p->o->cfg,
				      p->rem->name, err);
		if (ret)
			return ret;
	}
	memset(&f, 0, sizeof(f));
	f.r = p->r;
	f.rem = mc->conns[pt->no];
	f.st = p->st;
	ret = odb_read(&pt->odb, &w->id, OBJ_MANIFEST, &raw, err);
	nc = ret ? 0 : remote_copies(&pt->odb, p->rem->name, &w->id, OBJ_MANIFEST, &copies);
	for (i = 0; i < nc && i < MANIFEST_COPIES_MAX && !mc->same[k]; i++) {
		if (read_remote_copy(&f, &pt->odb, &w->id, OBJ_MANIFEST, &copies[i], w->path, &buf,
				     &rraw, &e2))
			continue;
		if (rraw.len == raw.len && !memcmp(rraw.buf, raw.buf, raw.len)) {
			mc->same[k] = 1;
			mc->same_pack[k] = copies[i].pack;
		}
	}
	if (nc)
		free(copies);
	strbuf_release(&buf);
	strbuf_release(&raw);
	strbuf_release(&rraw);
	strbuf_release(&e2);
	return ret;
}

static int check_manifests(struct push *p, struct strbuf *err)
{
	struct mcheck mc;
	struct oid *ids;
	size_t i, j, nv = 0;
	int threads = p->o->jobs > 0 ? p->o->jobs : 1, ret;

	if (!p->npending)
		return 0;
	if ((size_t)threads > p->npending)
		threads = (int)p->npending;
	mc.p = p;
	mc.conns = xcalloc((size_t)threads + 1, sizeof(*mc.conns));
	mc.conns[0] = p->rem;
	mc.same = xcalloc(p->npending, sizeof(*mc.same));
	mc.same_pack = xcalloc(p->npending, sizeof(*mc.same_pack));
	ids = xcalloc(p->npending, sizeof(*ids));
	ret = par_for(threads, p->npending, p->r->odb, check_one_manifest, &mc, err);
	for (i = 1; i < (size_t)threads; i++)
		remote_close(mc.conns[i]);
	for (i = 0; i < p->npending && !ret; i++) {
		if (!mc.same[i])
			continue;
		ids[nv] = p->meta.v[p->pending[i]].id;
		mc.same_pack[nv++] = mc.same_pack[i];
		p->meta.v[p->pending[i]].type = 0; /* not wanted after all */
		p->st->have++;
		ret = take_back(p, &mc.same_pack[nv - 1], err);
	}
	if (!ret)
		ret = set_verified_many(p->r, p->rem->name, ids, mc.same_pack, nv, err);
	/* drop what is not wanted, keeping the order (rule 3) */
	for (i = j = 0; i < p->meta.n; i++)
		if (p->meta.v[i].type)
			p->meta.v[j++] = p->meta.v[i];
	p->meta.n = j;
	free(mc.conns);
	free(mc.same);
	free(mc.same_pack);
	free(ids);
	return ret;
}

static int push_need_file(struct push *p, const struct oid *id, uint64_t size, const char *path,
			  struct strbuf *err)
{
	struct strbuf raw = STRBUF_INIT;
	struct manifest m;
	struct obj_loc loc;
	struct rloc rl;
	size_t i;
	int r;

	if (!size)
		return 0;
	/* a chunk under the file's id is the file: checked by its id on
	 * every read, so the remote's word for it is enough */
	if (remote_has(&p->t, p->rem->name, id, OBJ_CHUNK, &rl)) {
		p->st->have++;
		return take_back(p, &rl.pack, err);
	}
	r = odb_lookup(&p->t, id, OBJ_CHUNK, &loc, err);
	if (!r && loc.raw_len == size) {
		if (oidset_insert(&p->seen, id, OBJ_CHUNK))
			want_add(&p->data, id, OBJ_CHUNK, path);
		return 0;
	}
	if (r && r != CAIRN_ENOTFOUND)
		return r;
	r = odb_lookup(&p->t, id, OBJ_MANIFEST, &loc, err);
	if (r == CAIRN_ENOTFOUND) {
		char hex[OID_HEXSZ + 1];
		/* not here: nothing to send, and nothing to check the remote's
		 * copy against */
		if (remote_has(&p->t, p->rem->name, id, OBJ_MANIFEST, &rl)) {
			p->st->have++;
			return take_back(p, &rl.pack, err);
		}
		return cerr(err, CAIRN_ENOTFOUND,
			    "cannot push '%s': file %s is in neither the local store nor the remote",
			    path, oid_to_hex(id, hex));
	}
	if (r)
		return r;
	if (!oidset_insert(&p->seen, id, OBJ_MANIFEST))
		return 0;
	r = odb_read(&p->t, id, OBJ_MANIFEST, &raw, err);
	if (!r)
		r = manifest_decode(&m, raw.buf, raw.len, err);
	if (!r && m.size != size) {
		manifest_release(&m);
		r = cerr(err, CAIRN_ECORRUPT, "manifest of file: size %llu, expected %llu",
			 (unsigned long long)m.size, (unsigned long long)size);
	}
	if (r) {
		strbuf_release(&raw);
		return cerr_wrap(err, r, "cannot push '%s'", path);
	}
	/* every chunk is looked up, even below a manifest the remote has:
	 * a remote may have lost a pack (remote-format.md, rule 3) */
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
	strbuf_release(&raw);
	if (r)
		return r;
	/* ours counts as there only when the remote's copy is the same bytes:
	 * one flagged so in the cache, or one check_manifests finds equal */
	{
		struct rloc *copies;
		size_t nc = remote_copies(&p->t, p->rem->name, id, OBJ_MANIFEST, &copies), k;
		int ours = 0;
		for (k = 0; k < nc && !ours; k++)
			if (copies[k].verified) {
				ours = 1;
				rl = copies[k];
			}
		free(copies);
		if (ours) {
			p->st->have++;
			return take_back(p, &rl.pack, err);
		}
		want_add(&p->meta, id, OBJ_MANIFEST, path);
		if (nc) {
			ALLOC_GROW(p->pending, p->npending + 1, p->apending);
			p->pending[p->npending++] = p->meta.n - 1;
		}
	}
	return 0;
}

struct push_walk {
	struct push *p;
	const char *path; /* of the pointer: what wants are noted under */
};

/*
 * Whether the tree is to be walked (1), not (0), or an error. A tree the
 * remote has is not taken as proof that all below it is there (a pack may
 * have been lost since): what is below is looked up in the cache all the
 * same, which costs no request, and what is missing is sent. Only a tree
 * this store lacks is taken on trust.
 */
static int push_wants_tree(struct push *p, const struct oid *id, struct strbuf *err)
{
	struct obj_loc loc;
	struct rloc rl;
	int r;
	if (!oidset_insert(&p->seen, id, OBJ_TREE))
		return 0;
	if (remote_has(&p->t, p->rem->name, id, OBJ_TREE, &rl)) {
		p->st->have++;
		/* a pack gc -r marked is taken back; what is below is
		 * walked (and taken back) as for every tree */
		r = take_back(p, &rl.pack, err);
		if (!r)
			r = odb_lookup(&p->t, id, OBJ_TREE, &loc, err);
		if (r == CAIRN_ENOTFOUND)
			return 0;
		if (r)
			return r;
	}
	return 1;
}

static int push_walk_entry(struct tree_walk *w, const struct tree_entry *e, void *data,
			   struct strbuf *err)
{
	struct push_walk *pw = data;
	if (e->mode != MODE_DIR)
		return push_need_file(pw->p, &e->id, e->size, pw->path, err);
	int r = push_wants_tree(pw->p, &e->id, err);
	if (r < 0)
		return r;
	return r ? 0 : TREE_WALK_SKIP;
}

static int push_walk_tree(struct tree_walk *w, const struct tree_entry *e, int r, void *data,
			  struct strbuf *err)
{
	struct push_walk *pw = data;
	return r ? cerr_wrap(err, r, "cannot push '%s'", pw->path) : 0;
}

/* Trees after what they name: children first; none the remote has. */
static int push_walk_leave(struct tree_walk *w, const struct tree_entry *e, void *data,
			   struct strbuf *err)
{
	struct push_walk *pw = data;
	if (!remote_has(&pw->p->t, pw->p->rem->name, &e->id, OBJ_TREE, NULL))
		want_add(&pw->p->meta, &e->id, OBJ_TREE, pw->path);
	return 0;
}

static int push_need_tree(struct push *p, const struct oid *id, const struct sha256 *sha,
			  const char *path, struct strbuf *err)
{
	static const struct tree_walk_ops ops = { push_walk_entry, push_walk_tree, push_walk_leave };
	struct push_walk pw = { p, path };
	struct tree_entry root;
	int r = push_wants_tree(p, id, err);

	if (r <= 0)
		return r;
	memset(&root, 0, sizeof(root));
	root.mode = MODE_DIR;
	root.id = *id;
	root.sha = *sha;
	return tree_walk(&p->t, &root, path, 1, &ops, &pw, err);
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
		c.ours = 1;
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
	struct tempfile tf = TEMPFILE_INIT;
	int ret;
	if (!p->rem->ops->stat(p->rem, MARKER, &size, err))
		return 0;
	ret = p->rem->ops->prepare(p->rem, "", err);
	if (ret)
		return ret;
	tmp = xstrfmt("%s/marker-", p->dir);
	ret = tempfile_create(&tf, tmp, 0644, err);
	if (!ret && write_all(tf.fd, MARKER_TEXT, sizeof(MARKER_TEXT) - 1) < 0) {
		ret = cerr_errno(err, "cannot write '%s'", tf.path);
	} else if (!ret) {
		ret = p->rem->ops->write(p->rem, MARKER, tf.fd, sizeof(MARKER_TEXT) - 1, err);
		if (ret == CAIRN_EEXIST)
			ret = 0;
	}
	tempfile_remove(&tf);
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
	if (!ret)
		ret = check_manifests(&p, err);
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
	free(p.pending);
	oidset_release(&p.seen);
	odb_thread_release(&p.t);
	return ret;
}

/* --- fetch --- */

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
	char *tmp = xstrfmt("%s/fetch-%ld-", f->r->odb->tmpdir, (long)getpid());
	struct pack_entry *e = xcalloc(n + 1, sizeof(*e));
	struct tempfile tf = TEMPFILE_INIT;
	struct oid_ctx oc;
	struct oid got;
	char phex[OID_HEXSZ + 1];
	uint64_t off = 0;
	size_t i;
	int fd, ret = tempfile_create(&tf, tmp, 0600, err);

	free(tmp);
	tmp = tf.path; /* ours to remove from here on */
	fd = tf.fd;
	oid_to_hex(&v[0].loc.pack, phex);
	if (ret)
		goto out;
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
		if (!l->v[i].have_loc &&
		    !remote_has(&f->t, f->rem->name, &l->v[i].id, l->v[i].type, &l->v[i].loc)) {
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
	struct sha256 sha;
	const char *path;
};

/* The chunks of a file that the local store lacks, into `missing`. */
static int want_file_chunks(struct fetch *f, const struct file_ref *fr, struct want_list *missing,
			    struct strbuf *err)
{
	struct manifest m;
	size_t k;
	int ret = 0;
	if (local_has(&f->t, &fr->id, OBJ_MANIFEST)) {
		ret = content_chunks(&f->t, &fr->id, fr->size, &m, err);
		for (k = 0; k < m.n && !ret; k++) {
			if (!oidset_insert(&f->seen, &m.chunks[k].id, OBJ_CHUNK))
				continue;
			if (local_has(&f->t, &m.chunks[k].id, OBJ_CHUNK))
				f->st->have++;
			else
				want_add(missing, &m.chunks[k].id, OBJ_CHUNK, fr->path);
		}
		manifest_release(&m);
	} else if (oidset_insert(&f->seen, &fr->id, OBJ_CHUNK)) {
		if (local_has(&f->t, &fr->id, OBJ_CHUNK))
			f->st->have++;
		else
			want_add(missing, &fr->id, OBJ_CHUNK, fr->path);
	}
	return ret;
}

/* The copy of a manifest to fetch: one known to be right, else the first. */
static int pick_manifest(struct odb_thread *t, const char *remote, const struct oid *id,
			 struct rloc *loc)
{
	struct rloc *copies;
	size_t nc = remote_copies(t, remote, id, OBJ_MANIFEST, &copies), i;
	for (i = 0; i < nc && !copies[i].verified; i++)
		;
	if (nc)
		*loc = copies[i < nc ? i : 0];
	free(copies);
	return nc > 0;
}

/* A manifest fetched: the file it must rebuild, the copy it came from. */
struct mfetched {
	size_t file;
	struct rloc loc;
	int status;
};

struct mverify {
	struct fetch *f;
	const struct file_ref *files;
	struct mfetched *v;
};

static int discard(const void *p, size_t n, void *data, struct strbuf *err)
{
	return 0;
}

/* Does the file rebuild from the manifest (and chunks) now stored? */
static int verify_fetched(size_t k, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct mverify *mv = data;
	const struct file_ref *fr = &mv->files[mv->v[k].file];
	struct strbuf e2 = STRBUF_INIT;
	mv->v[k].status = content_foreach(&pt->odb, &fr->id, &fr->sha, fr->size, fr->path, discard,
					  NULL, &e2);
	strbuf_release(&e2);
	return 0;
}

static int drop_manifest(struct repo *r, const struct oid *id, struct strbuf *err)
{
	struct odb_rewrite rw;
	struct odb_key key;
	memset(&rw, 0, sizeof(rw));
	key.id = *id;
	key.type = OBJ_MANIFEST;
	rw.drop = &key;
	rw.ndrop = 1;
	return odb_rewrite(r->odb, &rw, err);
}

/*
 * A manifest is not checked by its id (that is the file's): it is kept
 * only once the file it lists rebuilds to the file's size, id and SHA-256.
 * One that does not is dropped, and the remote's other copies of it, if
 * any, are tried in turn (each with the chunks it lists); when none
 * rebuilds the file, fetch fails naming it.
 */
static int retry_manifest(struct fetch *f, const struct file_ref *fr, struct mfetched *mf,
			  struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT, raw = STRBUF_INIT, e2 = STRBUF_INIT;
	struct want_list missing = { 0 };
	struct rloc *copies;
	size_t nc = remote_copies(&f->t, f->rem->name, &fr->id, OBJ_MANIFEST, &copies), i;
	char hex[OID_HEXSZ + 1];
	int ret = drop_manifest(f->r, &fr->id, err), ok = 0;

	for (i = 0; i < nc && i < MANIFEST_COPIES_MAX && !ret && !ok; i++) {
		struct odb_batch *b = NULL;
		if (oid_eq(&copies[i].pack, &mf->loc.pack))
			continue;
		if (read_remote_copy(f, &f->t, &fr->id, OBJ_MANIFEST, &copies[i], fr->path, &buf, &raw,
				     &e2))
			continue;
		ret = odb_batch_begin(f->r->odb, &b, err);
		if (!ret)
			ret = odb_put_stored(b, &f->t, OBJ_MANIFEST, &fr->id, copies[i].codec,
					     buf.buf + PACK_ENTRY_HDR_SZ, copies[i].stored_len,
					     copies[i].raw_len, NULL, err);
		if (b) {
			int r2 = odb_batch_commit(b, NULL, ret ? &e2 : err);
			if (!ret)
				ret = r2;
		}
		missing.n = 0;
		oidset_release(&f->seen);
		oidset_init(&f->seen);
		/* a copy of another size, or whose chunks the remote lacks, is as
		 * bad as a wrong one */
		if (!ret && !want_file_chunks(f, fr, &missing, &e2) && !fetch_list(f, &missing, &e2) &&
		    !content_foreach(&f->t, &fr->id, &fr->sha, fr->size, fr->path, discard, NULL,
				     &e2)) {
			ok = 1;
			ret = set_verified(f->r, f->rem->name, &fr->id, &copies[i].pack, err);
		} else if (!ret) {
			ret = drop_manifest(f->r, &fr->id, err);
		}
	}
	if (!ret && !ok)
		ret = cerr(err, CAIRN_ECORRUPT,
			   "remote '%s': no manifest of file %s on the remote rebuilds it (needed by "
			   "'%s'): planted or damaged ('cairn fsck -r %s --read-data' names it); "
			   "nothing was kept of it",
			   f->rem->name, oid_to_hex(&fr->id, hex), fr->path, f->rem->name);
	free(copies);
	free(missing.v);
	strbuf_release(&buf);
	strbuf_release(&raw);
	strbuf_release(&e2);
	return ret;
}

int sync_fetch(struct repo *r, struct remote *rem, const struct sync_target *tg, size_t n,
	       const struct sync_opts *o, struct sync_stats *st, struct strbuf *err)
{
	struct fetch f;
	struct want_list level = { 0 }, next = { 0 }, missing = { 0 };
	struct file_ref *files = NULL;
	struct mfetched *mf = NULL;
	struct oidset fresh; /* the manifests fetched by this run */
	char **paths = NULL; /* "dir/sub" of the trees below the targets */
	size_t nfiles = 0, afiles = 0, npaths = 0, apaths = 0, nmf = 0, amf = 0, i, k;
	int ret, was_incomplete;

	memset(&f, 0, sizeof(f));
	f.r = r;
	f.rem = rem;
	f.st = st;
	f.o = o;
	odb_thread_init(&f.t, r->odb);
	oidset_init(&f.seen);
	oidset_init(&fresh);
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
			files[nfiles].sha = tg[i].ptr.sha;
			files[nfiles].path = tg[i].path;
			nfiles++;
		}
	}
	/* trees, one level at a time; the top ones are checked against the
	 * pointers' sha256, the lower ones against their parents' */
	{
		struct sha256 *shas = NULL, *nshas = NULL;
		size_t ashas = 0, anshas = 0, depth;
		for (i = 0; i < level.n; i++) {
			ALLOC_GROW(shas, i + 1, ashas);
			shas[i] = tg[level.v[i].loc.offset].ptr.sha;
		}
		for (depth = 1; !ret && level.n; depth++) {
			/* nothing deeper than a reader accepts is fetched */
			ret = tree_depth_check(depth, level.v[0].path, err);
			if (ret)
				break;
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
						files[nfiles].sha = e->sha;
						/* named by its own path, like the trees */
						ALLOC_GROW(paths, npaths + 1, apaths);
						paths[npaths] = xstrfmt("%s/%s", level.v[i].path, e->name);
						files[nfiles].path = paths[npaths++];
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
	/* manifests of the files that have one (and are not one chunk there) */
	missing.n = 0;
	for (i = 0; i < nfiles && !ret; i++) {
		if (!files[i].size || local_has(&f.t, &files[i].id, OBJ_MANIFEST) ||
		    local_has(&f.t, &files[i].id, OBJ_CHUNK) ||
		    remote_has(&f.t, rem->name, &files[i].id, OBJ_CHUNK, NULL))
			continue;
		if (!oidset_insert(&f.seen, &files[i].id, OBJ_MANIFEST))
			continue;
		ALLOC_GROW(mf, nmf + 1, amf);
		memset(&mf[nmf], 0, sizeof(mf[nmf]));
		mf[nmf].file = i;
		if (!pick_manifest(&f.t, rem->name, &files[i].id, &mf[nmf].loc))
			continue;
		want_add(&missing, &files[i].id, OBJ_MANIFEST, files[i].path);
		missing.v[missing.n - 1].loc = mf[nmf].loc;
		missing.v[missing.n - 1].have_loc = 1;
		oidset_insert(&fresh, &files[i].id, OBJ_MANIFEST);
		nmf++;
	}
	if (!ret)
		ret = fetch_list(&f, &missing, err);
	/* then every chunk not here */
	missing.n = 0;
	oidset_release(&f.seen);
	oidset_init(&f.seen);
	for (i = 0; i < nfiles && !ret; i++) {
		size_t before = missing.n;
		if (!files[i].size)
			continue;
		ret = want_file_chunks(&f, &files[i], &missing, err);
		/* a manifest just fetched that does not fit its file (another
		 * size) fails its check below, where other copies are tried */
		if (ret == CAIRN_ECORRUPT && oidset_contains(&fresh, &files[i].id, OBJ_MANIFEST)) {
			strbuf_reset(err);
			ret = 0;
		}
		/* a manifest stored earlier without its chunks (by gc -r's or
		 * fsck -r's walk, an interrupted fetch, an older cairn) was not
		 * verified: its file is checked below as well, once */
		if (!ret && missing.n > before &&
		    !oidset_contains(&fresh, &files[i].id, OBJ_MANIFEST) &&
		    local_has(&f.t, &files[i].id, OBJ_MANIFEST) &&
		    oidset_insert(&fresh, &files[i].id, OBJ_MANIFEST)) {
			ALLOC_GROW(mf, nmf + 1, amf);
			memset(&mf[nmf], 0, sizeof(mf[nmf])); /* no copy: all are tried */
			mf[nmf++].file = i;
		}
	}
	if (!ret) {
		progress_set_totals(o->progress, missing.n, 0);
		ret = fetch_list(&f, &missing, err);
	}
	/* then the manifests fetched must rebuild their files */
	if (!ret && nmf) {
		struct mverify mv;
		mv.f = &f;
		mv.files = files;
		mv.v = mf;
		ret = par_for(r->threads, nmf, r->odb, verify_fetched, &mv, err);
	}
	/* the copies that rebuilt their files are flagged in one transaction */
	if (!ret && nmf) {
		struct oid *ids = xcalloc(nmf, sizeof(*ids)), *packs = xcalloc(nmf, sizeof(*packs));
		size_t nv = 0;
		for (i = 0; i < nmf; i++) {
			if (mf[i].status)
				continue;
			ids[nv] = files[mf[i].file].id;
			packs[nv++] = mf[i].loc.pack;
		}
		ret = set_verified_many(r, rem->name, ids, packs, nv, err);
		free(ids);
		free(packs);
	}
	for (i = 0; i < nmf && !ret; i++)
		if (mf[i].status)
			ret = retry_manifest(&f, &files[mf[i].file], &mf[i], err);
	if (!ret && !was_incomplete)
		odb_clear_incomplete(r->odb);
out:
	free(level.v);
	free(next.v);
	free(missing.v);
	free(files);
	free(mf);
	oidset_release(&fresh);
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
			p = nr ? bsearch(&probe, v, nr, sizeof(*v), rpack_cmp) : NULL;
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
	p = c->n ? bsearch(&probe, c->v, c->n, sizeof(*c->v), rpack_cmp) : NULL;
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

/* One copy of v[i] tried: read (unless `got` holds its bytes), verify, store. */
static int fetch_copy(struct fetch *f, struct odb_batch *b, struct remote *rem,
		      const struct sync_object *o, const struct rloc *loc, const uint8_t *got,
		      size_t glen, struct strbuf *buf, struct strbuf *raw, struct strbuf *oerr)
{
	struct want w;
	int st = 0;
	memset(&w, 0, sizeof(w));
	w.id = o->id;
	w.type = o->type;
	w.loc = *loc;
	w.path = o->path ? o->path : "";
	if (!got) {
		char phex[OID_HEXSZ + 1];
		char *path = xstrfmt("packs/%s.pack", oid_to_hex(&loc->pack, phex));
		strbuf_reset(buf);
		st = rem->ops->read(rem, path, loc->offset,
				    PACK_ENTRY_HDR_SZ + (uint64_t)loc->stored_len, buf, oerr);
		free(path);
		got = (const uint8_t *)buf->buf;
		glen = buf->len;
	}
	if (!st)
		st = verify_object(f, &f->t, &w, got, glen, raw, oerr);
	if (!st)
		st = odb_put_stored(b, &f->t, w.type, &w.id, w.loc.codec,
				    (const char *)got + PACK_ENTRY_HDR_SZ, w.loc.stored_len,
				    w.loc.raw_len, NULL, oerr);
	if (st == CAIRN_ENOTFOUND)
		st = CAIRN_ECORRUPT; /* the remote lost a pack it lists */
	return st;
}

/* First copies of the objects to fetch, in pack order, for ranged reads. */
struct first_copy {
	size_t i;
	struct rloc loc;
};

static int first_copy_cmp(const void *pa, const void *pb)
{
	const struct first_copy *a = pa, *b = pb;
	int c = oid_cmp(&a->loc.pack, &b->loc.pack);
	if (c)
		return c;
	return a->loc.offset < b->loc.offset ? -1 : a->loc.offset > b->loc.offset;
}

/* Objects of one pack at most this far apart are read in one range... */
#define RANGE_GAP (64u << 10)
/* ...of at most this many bytes */
#define RANGE_MAX (32u << 20)

int sync_fetch_objects(struct repo *r, struct remote *rem, struct sync_object *v, size_t n,
		       int replace, size_t *stored, struct strbuf *err)
{
	struct fetch f;
	struct odb_batch *b = NULL;
	struct strbuf buf = STRBUF_INIT, one = STRBUF_INIT, raw = STRBUF_INIT, oerr = STRBUF_INIT;
	struct rloc **copies = xcalloc(n ? n : 1, sizeof(*copies));
	size_t *ncopies = xcalloc(n ? n : 1, sizeof(*ncopies));
	struct first_copy *fc = xcalloc(n ? n : 1, sizeof(*fc));
	size_t i, j, k, nfc = 0, nstored = 0;
	int ret;

	memset(&f, 0, sizeof(f));
	f.r = r;
	f.rem = rem;
	odb_thread_init(&f.t, r->odb);
	ret = odb_batch_begin(r->odb, &b, err);
	if (!ret && replace)
		odb_batch_set_replace(b);
	for (i = 0; i < n && !ret; i++) {
		v[i].status = CAIRN_ENOTFOUND;
		ncopies[i] = remote_copies(&f.t, rem->name, &v[i].id, v[i].type, &copies[i]);
		if (ncopies[i]) {
			fc[nfc].i = i;
			fc[nfc++].loc = copies[i][0];
		}
	}
	/* the first copies, neighbours in a pack read as one range: a read
	 * of many small chunks is a few requests, not one each */
	if (nfc > 1)
		qsort(fc, nfc, sizeof(*fc), first_copy_cmp);
	for (j = 0; j < nfc && !ret; j = k) {
		uint64_t start = fc[j].loc.offset, end;
		char phex[OID_HEXSZ + 1];
		char *path;
		int st;
		end = start + PACK_ENTRY_HDR_SZ + (uint64_t)fc[j].loc.stored_len;
		for (k = j + 1; k < nfc && oid_eq(&fc[k].loc.pack, &fc[j].loc.pack); k++) {
			uint64_t e = fc[k].loc.offset + PACK_ENTRY_HDR_SZ + (uint64_t)fc[k].loc.stored_len;
			if (fc[k].loc.offset < start || fc[k].loc.offset > end + RANGE_GAP ||
			    e - start > RANGE_MAX)
				break;
			if (e > end)
				end = e;
		}
		if (k == j + 1)
			continue; /* alone: read by itself below */
		path = xstrfmt("packs/%s.pack", oid_to_hex(&fc[j].loc.pack, phex));
		strbuf_reset(&buf);
		st = rem->ops->read(rem, path, start, end - start, &buf, &oerr);
		free(path);
		for (i = j; !st && i < k; i++) {
			uint64_t at = fc[i].loc.offset - start;
			size_t len = PACK_ENTRY_HDR_SZ + (size_t)fc[i].loc.stored_len;
			if (at + len > buf.len)
				continue; /* short: that one alone, below */
			v[fc[i].i].status = fetch_copy(&f, b, rem, &v[fc[i].i], &fc[i].loc,
						       (const uint8_t *)buf.buf + at, len, &one,
						       &raw, &oerr);
		}
	}
	/* the rest (and what failed in a range): each copy in turn until one
	 * verifies */
	for (i = 0; i < n && !ret; i++) {
		for (j = 0; j < ncopies[i] && v[i].status; j++)
			v[i].status = fetch_copy(&f, b, rem, &v[i], &copies[i][j], NULL, 0, &one,
						 &raw, &oerr);
		if (!v[i].status)
			nstored++;
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
	for (i = 0; i < n; i++)
		free(copies[i]);
	free(copies);
	free(ncopies);
	free(fc);
	odb_thread_release(&f.t);
	strbuf_release(&buf);
	strbuf_release(&one);
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
	return l->n ? bsearch(&probe, l->v, l->n, sizeof(*l->v), rfile_cmp) : NULL;
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

/*
 * fsck -r --read-data: does a remote manifest (its bytes in `mraw`) rebuild
 * its file? It does when it is the same bytes as the local one (made by
 * add, or verified by fetch); otherwise its chunks, from the local store
 * or the remote, must hash to the file's id and to the SHA-256 and size
 * the manifest records. 0, CAIRN_ECORRUPT with a message when it does not,
 * or another error when it cannot be told (a chunk nowhere to be read:
 * the walk of the refs reports what is missing).
 */
static int manifest_rebuilds(struct repo *r, struct remote *rem, struct odb_thread *t,
			     const struct oid *id, const struct strbuf *mraw, struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT, buf = STRBUF_INIT, craw = STRBUF_INIT, e2 = STRBUF_INIT;
	struct manifest m;
	struct oid_ctx oc;
	struct sha256_ctx sc;
	struct oid got;
	struct sha256 gsha;
	struct fetch f;
	uint64_t total = 0;
	size_t i, j;
	int ret = 0;

	if (!odb_read(t, id, OBJ_MANIFEST, &local, &e2) && local.len == mraw->len &&
	    !memcmp(local.buf, mraw->buf, mraw->len)) {
		strbuf_release(&local);
		strbuf_release(&e2);
		return 0;
	}
	strbuf_release(&local);
	if (manifest_decode(&m, mraw->buf, mraw->len, err))
		return CAIRN_ECORRUPT;
	memset(&f, 0, sizeof(f));
	f.r = r;
	f.rem = rem;
	oid_ctx_init(&oc);
	sha256_init(&sc);
	for (i = 0; i < m.n && !ret; i++) {
		const struct manifest_chunk *c = &m.chunks[i];
		int got_it = !odb_read(t, &c->id, OBJ_CHUNK, &craw, &e2);
		if (!got_it) {
			struct rloc *copies;
			size_t nc = remote_copies(t, rem->name, &c->id, OBJ_CHUNK, &copies);
			for (j = 0; j < nc && !got_it; j++)
				got_it = !read_remote_copy(&f, t, &c->id, OBJ_CHUNK, &copies[j], "", &buf,
							   &craw, &e2);
			free(copies);
		}
		if (!got_it)
			ret = CAIRN_ENOTFOUND;
		else if (craw.len != c->len)
			ret = cerr(err, CAIRN_ECORRUPT, "its chunk %zu has %zu bytes, it says %u", i,
				   craw.len, c->len);
		if (ret)
			break;
		oid_ctx_update(&oc, craw.buf, craw.len);
		sha256_update(&sc, craw.buf, craw.len);
		total += craw.len;
	}
	oid_ctx_final(&oc, &got);
	sha256_final(&sc, &gsha);
	if (!ret && (total != m.size || !oid_eq(&got, id) || !sha256_eq(&gsha, &m.sha)))
		ret = cerr(err, CAIRN_ECORRUPT,
			   "its chunks do not rebuild the file (planted or damaged; 'cairn push' "
			   "from a clone that has the file sends a right one)");
	manifest_release(&m);
	strbuf_release(&buf);
	strbuf_release(&craw);
	strbuf_release(&e2);
	return ret;
}

/* Downloads one remote pack into a temp file and checks all of it. */
static int check_remote_pack(struct repo *r, struct remote *rem, const struct rcheck *c,
			     void (*cb)(const struct sync_problem *, void *), void *data,
			     struct sync_check_stats *st, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT, raw = STRBUF_INIT, msg = STRBUF_INIT, oerr = STRBUF_INIT;
	char hex[OID_HEXSZ + 1], ohex[OID_HEXSZ + 1];
	char *tmp = xstrfmt("%s/fsck-%ld-", r->odb->tmpdir, (long)getpid());
	char *path;
	struct tempfile tf = TEMPFILE_INIT;
	struct odb_thread t;
	struct oid_ctx oc;
	struct oid got;
	uint64_t off = 0;
	size_t i, bad = 0;
	int fd, ret = tempfile_create(&tf, tmp, 0600, err);

	free(tmp);
	tmp = tf.path; /* ours to remove from here on */
	fd = tf.fd;
	if (ret)
		return ret;
	oid_to_hex(&c->id, hex);
	path = xstrfmt("packs/%s.pack", hex);
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
			if (!r2 && manifest_rebuilds(r, rem, &t, &e->id, &raw, &oerr) == CAIRN_ECORRUPT) {
				strbuf_reset(&msg);
				strbuf_addf(&msg, "remote '%s': manifest %s in pack %s: %s", rem->name,
					    oid_to_hex(&e->id, ohex), hex, oerr.buf);
				report(cb, data, "bad-manifest", &c->id, &e->id, e->type, msg.buf);
				st->objects++;
				continue;
			}
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
		r2 = read_index_file(rem, ipath, files.v[i].size, &idx, &e2);
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

int sync_mark_remote(struct repo *r, struct remote *rem, const struct gc_roots *roots,
		     struct gc_mark *m, uint64_t *fetched, struct strbuf *err)
{
	struct odb_thread t;
	int ret = 0, round;

	*fetched = 0;
	for (round = 0; round < 1000; round++) {
		struct sync_object *v;
		size_t i, n = 0, stored = 0;
		odb_thread_init(&t, r->odb);
		ret = gc_mark(&t, roots, NULL, m, err);
		odb_thread_release(&t);
		if (ret || !m->nabsent)
			return ret;
		/* trees and manifests without the files below them: the store
		 * holds these versions in part, as after an interrupted fetch,
		 * and fsck must count them incomplete, not damaged */
		ret = odb_set_incomplete(r->odb, err);
		if (ret)
			return ret;
		v = xcalloc(m->nabsent, sizeof(*v));
		for (i = 0; i < m->nabsent; i++) {
			v[n].id = m->absent[i].id;
			v[n].type = m->absent[i].type;
			n++;
		}
		ret = sync_fetch_objects(r, rem, v, n, 0, &stored, err);
		free(v);
		if (ret || !stored)
			return ret;
		*fetched += stored;
		gc_mark_release(m);
	}
	return 0;
}

/* Does the remote (per the cache) have what (id, type) of the walk stands for? */
static int remote_has_needed(struct odb_thread *t, const char *remote, const struct oid *id,
			     int type)
{
	/* (id, manifest) stands for a file: a manifest or one chunk */
	if (remote_has(t, remote, id, type, NULL))
		return 1;
	return type == OBJ_MANIFEST && remote_has(t, remote, id, OBJ_CHUNK, NULL);
}

int sync_check_needed(struct repo *r, struct remote *rem, const struct gc_roots *roots,
		      void (*cb)(const struct sync_problem *p, void *data), void *data,
		      uint64_t *needed, struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT;
	struct odb_thread t;
	struct gc_mark m;
	uint64_t fetched = 0;
	size_t i;
	int ret;

	*needed = 0;
	ret = sync_mark_remote(r, rem, roots, &m, &fetched, err);
	odb_thread_init(&t, r->odb);
	for (i = 0; !ret && i < m.reached.cap; i++) {
		const struct oidset_slot *sl = &m.reached.slots[i];
		char hex[OID_HEXSZ + 1];
		if (!sl->type)
			continue;
		(*needed)++;
		if (remote_has_needed(&t, rem->name, &sl->id, sl->type))
			continue;
		strbuf_reset(&msg);
		strbuf_addf(&msg,
			    "remote '%s' lacks %s %s, which the pointers of the branches and tags "
			    "need ('cairn push' from a clone that has it sends it again)",
			    rem->name, sl->type == OBJ_MANIFEST ? "file" : obj_type_name(sl->type),
			    oid_to_hex(&sl->id, hex));
		report(cb, data, "missing-object", NULL, &sl->id, sl->type, msg.buf);
	}
	odb_thread_release(&t);
	gc_mark_release(&m);
	strbuf_release(&msg);
	return ret;
}
