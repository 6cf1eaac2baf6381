#include "core/index.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_INITIAL ((size_t)1 << 30)

int idx_err(struct strbuf *err, int rc, const char *what)
{
	int code = (rc == ENOSPC || rc == EDQUOT) ? CAIRN_ENOSPC : CAIRN_ELMDB;
	if (rc == MDB_MAP_FULL)
		code = IDX_RETRY_GROW;
	return cerr(err, code, "index: %s: %s", what, mdb_strerror(rc));
}

void idx_obj_key(uint8_t key[OID_RAWSZ + 1], const struct oid *id, int type)
{
	memcpy(key, id->b, OID_RAWSZ);
	key[OID_RAWSZ] = (uint8_t)type;
}

/*
 * Varints: pack number, offset, stored length, codec byte, raw length;
 * 5 to 26 bytes, about 10 for a chunk, against 24 for the fixed layout
 * older stores hold (which decodes by its length, 24). An encoding that
 * would come out at 24 bytes is written in the fixed layout instead.
 */
size_t obj_loc_encode(uint8_t out[OBJ_LOC_MAX], const struct obj_loc *l)
{
	size_t n = put_varint(out, l->pack_no);
	n += put_varint(out + n, l->offset);
	n += put_varint(out + n, l->stored_len);
	out[n++] = l->codec;
	n += put_varint(out + n, l->raw_len);
	if (n != OBJ_LOC_SZ)
		return n;
	put_le32(out, l->pack_no);
	put_le32(out + 4, l->raw_len);
	put_le32(out + 8, l->stored_len);
	out[12] = l->codec;
	out[13] = out[14] = out[15] = 0;
	put_le64(out + 16, l->offset);
	return OBJ_LOC_SZ;
}

/* The next varint of [*p, end) into *v; 0, or -1 if there is none. */
static int take_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	size_t k = get_varint(*p, (size_t)(end - *p), v);
	*p += k;
	return k ? 0 : -1;
}

int obj_loc_decode(const void *in, size_t len, struct obj_loc *l)
{
	const uint8_t *p = in, *end = p + len;
	uint64_t no, off, stored, raw;
	if (len == OBJ_LOC_SZ) {
		l->pack_no = get_le32(p);
		l->raw_len = get_le32(p + 4);
		l->stored_len = get_le32(p + 8);
		l->codec = p[12];
		l->offset = get_le64(p + 16);
		return 0;
	}
	if (take_varint(&p, end, &no) || take_varint(&p, end, &off) ||
	    take_varint(&p, end, &stored) || p == end)
		return CAIRN_ECORRUPT;
	l->codec = *p++;
	if (take_varint(&p, end, &raw) || p != end || no > UINT32_MAX || stored > UINT32_MAX ||
	    raw > UINT32_MAX)
		return CAIRN_ECORRUPT;
	l->pack_no = (uint32_t)no;
	l->offset = off;
	l->stored_len = (uint32_t)stored;
	l->raw_len = (uint32_t)raw;
	return 0;
}

static size_t initial_mapsize(void)
{
	/* Tests set a tiny map to exercise growth. */
	const char *s = getenv("CAIRN_TEST_LMDB_MAPSIZE");
	if (s && *s) {
		char *end;
		unsigned long long v = strtoull(s, &end, 10);
		if (!*end && v >= 65536)
			return (size_t)v;
	}
	return MAP_INITIAL;
}

/*
 * LMDB keeps no checksums: a damaged data.mdb (bit rot, a bad disk) can
 * send it reading outside its map. A fault while this thread is inside an
 * index transaction is reported as a damaged index, with the way out,
 * instead of a bare "Segmentation fault". A fault anywhere else goes to
 * the handler that was there before (the default, or a sanitizer's).
 */
static __thread int in_index;
static __thread int fault_kind; /* which environment the thread is in */
static struct sigaction old_segv, old_bus;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void index_fault(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] =
		"error: the index (.cairn/store/index) is damaged: reading it crashed cairn.\n"
		"hint: 'cairn fsck --rebuild-index' rebuilds it from the packs\n";
	static const char smsg[] =
		"error: the work-tree state (.cairn/state) is damaged: reading it crashed cairn.\n"
		"hint: 'cairn fsck --rebuild-index' starts it again (it only holds caches)\n";
	if (in_index) {
		int st = fault_kind == IDX_STATE;
		if (write(2, st ? smsg : msg, (st ? sizeof(smsg) : sizeof(msg)) - 1) < 0)
			_exit(3);
		_exit(3);
	}
	/* not ours: put the previous handler back; the fault repeats there */
	sigaction(sig, sig == SIGSEGV ? &old_segv : &old_bus, NULL);
}

static void install_guard(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = index_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
}

/* A database of a pre-split store, if it is there; 0 if not. */
static int open_old(MDB_txn *txn, const char *name, MDB_dbi *dbi)
{
	int rc = mdb_dbi_open(txn, name, 0, dbi);
	if (rc == MDB_NOTFOUND) {
		*dbi = 0;
		return 0;
	}
	return rc;
}

static int open_env(struct idx **out, const char *dir, int kind, int readonly, struct strbuf *err)
{
	struct idx *idx = xcalloc(1, sizeof(*idx));
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	unsigned flags = MDB_NOTLS | (readonly ? MDB_RDONLY : 0);
	int rc;

	if (!readonly && mkdir(dir, 0777) < 0 && errno != EEXIST) {
		free(idx);
		return cerr_errno(err, "cannot create '%s'", dir);
	}
	rc = mdb_env_create(&idx->env);
	if (rc) {
		free(idx);
		return idx_err(err, rc, "create");
	}
	mdb_env_set_maxdbs(idx->env, 16);
	mdb_env_set_maxreaders(idx->env, 510);
	idx->mapsize = initial_mapsize();
	mdb_env_set_mapsize(idx->env, idx->mapsize);
	rc = mdb_env_open(idx->env, dir, flags, 0666);
	if (rc) {
		int r = rc == ENOENT ? cerr(err, CAIRN_ENOTFOUND, "index '%s' does not exist", dir)
				     : idx_err(err, rc, dir);
		mdb_env_close(idx->env);
		free(idx);
		return r;
	}
	/* another process may have grown the map beyond our setting */
	if (!mdb_env_info(idx->env, &info) && info.me_mapsize > idx->mapsize)
		idx->mapsize = info.me_mapsize;
	/* stale reader slots of killed processes */
	{
		int dead = 0;
		mdb_reader_check(idx->env, &dead);
	}
	idx->readonly = readonly;
	rc = mdb_txn_begin(idx->env, NULL, readonly ? MDB_RDONLY : 0, &txn);
	if (!rc) {
		unsigned cf = readonly ? 0 : MDB_CREATE;
		rc = mdb_dbi_open(txn, "meta", cf, &idx->meta);
		if (!rc && kind == IDX_STORE) {
			rc = mdb_dbi_open(txn, "obj", cf, &idx->obj);
			if (!rc)
				rc = mdb_dbi_open(txn, "pack", cf | MDB_INTEGERKEY, &idx->pack);
			if (!rc && !readonly)
				rc = open_old(txn, "stat", &idx->old_stat);
			if (!rc && !readonly)
				rc = open_old(txn, "rpack", &idx->old_rpack);
			if (!rc && !readonly)
				rc = open_old(txn, "robj", &idx->old_robj);
		} else if (!rc) {
			rc = mdb_dbi_open(txn, "stat", cf, &idx->stat);
			if (!rc)
				rc = mdb_dbi_open(txn, "rpack", cf, &idx->rpack);
			if (!rc)
				rc = mdb_dbi_open(txn, "robj", cf, &idx->robj);
		}
		if (rc)
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);
	}
	if (rc) {
		int r = rc == MDB_NOTFOUND ? cerr(err, CAIRN_ENOTFOUND, "index '%s' is empty", dir)
					   : idx_err(err, rc, "open databases");
		mdb_env_close(idx->env);
		free(idx);
		return r;
	}
	idx->kind = kind;
	idx->label = kind == IDX_STORE ? "the index (.cairn/store/index)"
				       : "the work-tree state (.cairn/state)";
	pthread_rwlock_init(&idx->resize_lock, NULL);
	pthread_mutex_init(&idx->write_lock, NULL);
	*out = idx;
	return 0;
}

int idx_open(struct idx **out, const char *dir, int kind, int readonly, struct strbuf *err)
{
	int r, prev = fault_kind;
	pthread_once(&guard_once, install_guard);
	in_index++;
	fault_kind = kind;
	r = open_env(out, dir, kind, readonly, err);
	fault_kind = prev;
	in_index--;
	return r;
}

void idx_close(struct idx *idx)
{
	if (!idx)
		return;
	mdb_env_close(idx->env);
	pthread_rwlock_destroy(&idx->resize_lock);
	pthread_mutex_destroy(&idx->write_lock);
	free(idx);
}

void idx_reader_init(struct idx_reader *r, struct idx *idx)
{
	r->idx = idx;
	r->txn = NULL;
	r->live = 0;
}

void idx_reader_release(struct idx_reader *r)
{
	if (r->live)
		idx_rd_end(r);
	if (r->txn)
		mdb_txn_abort(r->txn);
	r->txn = NULL;
}

/* Adopt a map grown by another process. Caller holds resize_lock exclusively. */
static void adopt_mapsize(struct idx *idx)
{
	MDB_envinfo info;
	mdb_env_set_mapsize(idx->env, 0);
	if (!mdb_env_info(idx->env, &info))
		idx->mapsize = info.me_mapsize;
}

MDB_txn *idx_rd_begin(struct idx_reader *r, struct strbuf *err)
{
	int rc, tries;
	if (!r->idx)
		return NULL;
	for (tries = 0; tries < 3; tries++) {
		pthread_rwlock_rdlock(&r->idx->resize_lock);
		if (r->txn)
			rc = mdb_txn_renew(r->txn);
		else
			rc = mdb_txn_begin(r->idx->env, NULL, MDB_RDONLY, &r->txn);
		if (!rc) {
			r->live = 1;
			in_index++;
			r->prev_kind = fault_kind;
			fault_kind = r->idx->kind;
			return r->txn;
		}
		pthread_rwlock_unlock(&r->idx->resize_lock);
		if (rc != MDB_MAP_RESIZED)
			break;
		/* drop our handle, adopt the new size, retry */
		if (r->txn) {
			mdb_txn_abort(r->txn);
			r->txn = NULL;
		}
		pthread_rwlock_wrlock(&r->idx->resize_lock);
		adopt_mapsize(r->idx);
		pthread_rwlock_unlock(&r->idx->resize_lock);
	}
	idx_err(err, rc, "read transaction");
	return NULL;
}

void idx_rd_end(struct idx_reader *r)
{
	if (!r->live)
		return;
	mdb_txn_reset(r->txn);
	r->live = 0;
	in_index--;
	fault_kind = r->prev_kind;
	pthread_rwlock_unlock(&r->idx->resize_lock);
}

/* Every byte of an entry, read: a sum the compiler cannot drop. */
static volatile uint64_t verify_sink;

static int verify_db(struct idx *idx, MDB_txn *txn, MDB_dbi dbi, const char *name,
		     struct strbuf *err)
{
	MDB_cursor *c;
	MDB_val k, v, prev = { 0, NULL };
	uint64_t n = 0, sum = 0;
	const char *why = NULL;
	int rc = mdb_cursor_open(txn, dbi, &c), op = MDB_FIRST;

	if (rc)
		return idx_err(err, rc, name);
	while (!why && !(rc = mdb_cursor_get(c, &k, &v, op))) {
		op = MDB_NEXT;
		n++;
		if (!k.mv_size || k.mv_size > 511) {
			why = "a key of a bad size";
		} else if (prev.mv_data && mdb_cmp(txn, dbi, &prev, &k) >= 0) {
			why = "keys out of order";
		} else {
			sum += xxh64_sum(k.mv_data, k.mv_size) + xxh64_sum(v.mv_data, v.mv_size);
			prev = k;
		}
	}
	mdb_cursor_close(c);
	verify_sink += sum;
	if (!why && rc != MDB_NOTFOUND)
		why = mdb_strerror(rc);
	if (why)
		return cerr(err, CAIRN_ECORRUPT, "%s is damaged: database '%s', entry %llu: %s",
			    idx->label, name, (unsigned long long)n, why);
	return 0;
}

static int cmp_pgno(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* The pages of a tree: a named database's record in the main database is
 * LMDB's on-disk MDB_db (flags, depth, then branch, leaf and overflow page
 * counts, entries, root; 48 bytes), fixed by the 0.9 file format. */
static size_t record_pages(const MDB_val *v)
{
	size_t n[3];
	if (v->mv_size != 48)
		return (size_t)-1;
	memcpy(n, (const char *)v->mv_data + 8, sizeof(n));
	return n[0] + n[1] + n[2];
}

static size_t stat_pages(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_stat st;
	if (mdb_stat(txn, dbi, &st))
		return (size_t)-1;
	return st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
}

/*
 * The free list, which no read of the data touches but the next write
 * trusts: a page number flipped out of range makes a commit write far past
 * the end of the file (EFBIG), one flipped onto another free page hands it
 * out twice. Each free page must be a page of the file, past the two meta
 * pages, listed once, each list in LMDB's descending order under an older
 * transaction; and the pages of every tree, the free pages and the metas
 * must add up to the file, as LMDB's own audit has it. The count is
 * checked only when no writer committed since this snapshot began (the
 * environment's last page then belongs to another snapshot).
 */
static int verify_free(struct idx *idx, MDB_txn *txn, struct strbuf *err)
{
	MDB_envinfo before, after;
	MDB_cursor *c;
	MDB_val k, v;
	size_t *all = NULL, n = 0, alloc = 0, used = 2, i, t;
	uint64_t entry = 0;
	const char *why = NULL;
	const MDB_dbi main_dbi = 1; /* LMDB's MAIN_DBI; FREE_DBI is 0 */
	int rc, op = MDB_FIRST;

	if (mdb_env_info(idx->env, &before))
		return 0;
	rc = mdb_cursor_open(txn, 0, &c);
	if (rc)
		return idx_err(err, rc, "free list");
	while (!why && !(rc = mdb_cursor_get(c, &k, &v, op))) {
		size_t cnt, prev = (size_t)-1, txnid;
		op = MDB_NEXT;
		entry++;
		if (k.mv_size != sizeof(size_t) || v.mv_size < sizeof(size_t) ||
		    v.mv_size % sizeof(size_t)) {
			why = "an entry of a bad size";
			break;
		}
		memcpy(&txnid, k.mv_data, sizeof(txnid));
		memcpy(&cnt, v.mv_data, sizeof(cnt));
		if (txnid > mdb_txn_id(txn)) {
			why = "a transaction from the future";
		} else if (cnt != v.mv_size / sizeof(size_t) - 1) {
			why = "a page count that does not match its list";
		}
		for (i = 1; !why && i <= cnt; i++) {
			size_t pg;
			memcpy(&pg, (const char *)v.mv_data + i * sizeof(size_t), sizeof(pg));
			if (pg < 2 || pg > before.me_last_pgno)
				why = "a free page outside the file";
			else if (pg >= prev)
				why = "a free list out of order";
			prev = pg;
			ALLOC_GROW(all, n + 1, alloc);
			all[n++] = pg;
		}
	}
	mdb_cursor_close(c);
	if (!why && rc != MDB_NOTFOUND)
		why = mdb_strerror(rc);
	if (!why) {
		sort_array(all, n, sizeof(*all), cmp_pgno);
		for (i = 1; i < n && !why; i++)
			if (all[i] == all[i - 1])
				why = "a page free twice";
	}
	if (!why) {
		/* the trees: the free list's, the main database's, each named one */
		used += stat_pages(txn, 0) + stat_pages(txn, main_dbi);
		rc = mdb_cursor_open(txn, main_dbi, &c);
		if (rc) {
			free(all);
			return idx_err(err, rc, "main database");
		}
		for (op = MDB_FIRST; !why && !(rc = mdb_cursor_get(c, &k, &v, op)); op = MDB_NEXT) {
			if ((t = record_pages(&v)) == (size_t)-1)
				why = "a database record of a bad size";
			used += t;
		}
		mdb_cursor_close(c);
		if (why) {
			free(all);
			return cerr(err, CAIRN_ECORRUPT, "%s is damaged: main database: %s",
				    idx->label, why);
		}
		if (!mdb_env_info(idx->env, &after) &&
		    after.me_last_txnid == mdb_txn_id(txn) &&
		    before.me_last_txnid == after.me_last_txnid &&
		    used + n != after.me_last_pgno + 1) {
			free(all);
			return cerr(err, CAIRN_ECORRUPT,
				    "%s is damaged: %zu pages in use and %zu free in a file of %zu",
				    idx->label, used, n, after.me_last_pgno + 1);
		}
	}
	free(all);
	if (why)
		return cerr(err, CAIRN_ECORRUPT, "%s is damaged: free list, entry %llu: %s",
			    idx->label, (unsigned long long)entry, why);
	return 0;
}

int idx_verify(struct idx_reader *r, struct strbuf *err)
{
	struct idx *idx = r->idx;
	struct {
		MDB_dbi dbi;
		const char *name;
	} dbs[4];
	size_t n = 0, i;
	MDB_txn *txn;
	int ret = 0;

	if (!idx)
		return 0;
#define DB(d) (dbs[n].dbi = idx->d, dbs[n++].name = #d)
	if (idx->kind == IDX_STORE)
		DB(obj), DB(pack), DB(meta);
	else
		DB(stat), DB(rpack), DB(robj), DB(meta);
#undef DB
	txn = idx_rd_begin(r, err);
	if (!txn)
		return CAIRN_ELMDB;
	for (i = 0; i < n && !ret; i++)
		ret = verify_db(idx, txn, dbs[i].dbi, dbs[i].name, err);
	if (!ret)
		ret = verify_free(idx, txn, err);
	idx_rd_end(r);
	return ret;
}

int idx_write(struct idx *idx, int (*fn)(MDB_txn *txn, void *data, struct strbuf *err),
	      void *data, struct strbuf *err)
{
	int rc, r = 0, tries, prev_kind;
	if (!idx)
		return cerr(err, CAIRN_EINVAL, "the work-tree state (.cairn/state) is not open");
	if (idx->readonly)
		return cerr(err, CAIRN_EINVAL, "index is open read-only");
	pthread_mutex_lock(&idx->write_lock);
	in_index++;
	prev_kind = fault_kind;
	fault_kind = idx->kind;
	/* err is written only on failure: a caller may wrap what is in it */
	for (tries = 0; tries < 40; tries++) {
		MDB_txn *txn = NULL;
		int grow = 0;
		pthread_rwlock_rdlock(&idx->resize_lock);
		rc = mdb_txn_begin(idx->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&idx->resize_lock);
			pthread_rwlock_wrlock(&idx->resize_lock);
			adopt_mapsize(idx);
			pthread_rwlock_unlock(&idx->resize_lock);
			continue;
		}
		if (rc) {
			pthread_rwlock_unlock(&idx->resize_lock);
			r = idx_err(err, rc, "write transaction");
			break;
		}
		r = fn(txn, data, err);
		if (r == IDX_RETRY_GROW) {
			mdb_txn_abort(txn);
			grow = 1;
		} else if (r) {
			mdb_txn_abort(txn);
		} else {
			rc = mdb_txn_commit(txn);
			if (rc == MDB_MAP_FULL)
				grow = 1;
			else if (rc == EFBIG || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
				/* a damaged free list or tree; fsck names it */
				r = cerr(err, CAIRN_ECORRUPT,
					 "%s may be damaged: commit: %s; 'cairn fsck' checks it",
					 idx->label, mdb_strerror(rc));
			else if (rc)
				r = idx_err(err, rc, "commit");
			else
				idx->written = 1;
		}
		pthread_rwlock_unlock(&idx->resize_lock);
		if (!grow)
			break;
		/* grow: no transaction of ours may be live */
		pthread_rwlock_wrlock(&idx->resize_lock);
		{
			MDB_envinfo info;
			size_t want = idx->mapsize * 2;
			if (!mdb_env_info(idx->env, &info) && info.me_mapsize * 2 > want)
				want = info.me_mapsize * 2;
			rc = mdb_env_set_mapsize(idx->env, want);
			if (!rc)
				idx->mapsize = want;
		}
		pthread_rwlock_unlock(&idx->resize_lock);
		if (rc) {
			r = idx_err(err, rc, "grow map");
			break;
		}
	}
	if (tries == 40)
		r = cerr(err, CAIRN_ELMDB, "index: write did not succeed after repeated map resizes");
	fault_kind = prev_kind;
	in_index--;
	pthread_mutex_unlock(&idx->write_lock);
	return r;
}

int idx_space(struct idx *idx, uint64_t *file_bytes, uint64_t *free_bytes, struct strbuf *err)
{
	struct idx_reader rd;
	MDB_envinfo info;
	MDB_stat st;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_txn *txn;
	uint64_t pages = 0;
	int rc, op;

	idx_reader_init(&rd, idx);
	txn = idx_rd_begin(&rd, err);
	if (!txn) {
		idx_reader_release(&rd);
		return CAIRN_ELMDB;
	}
	rc = mdb_env_info(idx->env, &info);
	if (!rc)
		rc = mdb_env_stat(idx->env, &st);
	if (!rc)
		rc = mdb_cursor_open(txn, 0, &c);
	for (op = MDB_FIRST; !rc && !(rc = mdb_cursor_get(c, &k, &v, op)); op = MDB_NEXT) {
		size_t cnt;
		if (v.mv_size < sizeof(cnt))
			break;
		memcpy(&cnt, v.mv_data, sizeof(cnt));
		pages += cnt;
	}
	if (rc == MDB_NOTFOUND) {
		rc = 0;
		mdb_cursor_close(c);
	} else if (!rc) {
		mdb_cursor_close(c);
		rc = MDB_CORRUPTED;
	}
	idx_rd_end(&rd);
	idx_reader_release(&rd);
	if (rc)
		return idx_err(err, rc, "free list");
	*file_bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	*free_bytes = pages * st.ms_psize;
	return 0;
}

int idx_compact_due(struct idx *idx)
{
	struct strbuf err = STRBUF_INIT;
	uint64_t file = 0, free_ = 0;
	int r = idx_space(idx, &file, &free_, &err);
	strbuf_release(&err);
	return !r && free_ >= IDX_COMPACT_MIN_FREE && free_ * 4 >= file;
}

#define COPY_STEP 65536 /* entries per transaction of the copy */

/* Every database of `from`, in key order, into a new file `path`. */
static int copy_env(MDB_env *from, const char *path, struct strbuf *err)
{
	MDB_env *to = NULL;
	MDB_txn *rt = NULL, *wt = NULL;
	MDB_cursor *mc = NULL, *c = NULL;
	MDB_envinfo info;
	MDB_val k, v, dk, dv;
	const char *what = "compact: create";
	int rc, mop;

	rc = mdb_env_info(from, &info);
	if (!rc)
		rc = mdb_env_create(&to);
	if (rc)
		return idx_err(err, rc, what);
	mdb_env_set_maxdbs(to, 16);
	what = "compact: open the copy";
	rc = mdb_env_set_mapsize(to, info.me_mapsize);
	if (!rc)
		rc = mdb_env_open(to, path, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC, 0666);
	if (!rc)
		rc = mdb_txn_begin(from, NULL, MDB_RDONLY, &rt);
	if (!rc)
		rc = mdb_cursor_open(rt, 1 /* the main database */, &mc);
	for (mop = MDB_FIRST; !rc && !(rc = mdb_cursor_get(mc, &dk, &dv, mop)); mop = MDB_NEXT) {
		char name[64];
		MDB_dbi sdbi, ddbi;
		MDB_stat st;
		unsigned fl;
		size_t n = 0;
		int op;
		what = "compact: a database";
		if (dk.mv_size == 0 || dk.mv_size >= sizeof(name) || dv.mv_size != 48) {
			rc = MDB_INCOMPATIBLE; /* not a named database */
			break;
		}
		memcpy(name, dk.mv_data, dk.mv_size);
		name[dk.mv_size] = '\0';
		rc = mdb_dbi_open(rt, name, 0, &sdbi);
		if (!rc)
			rc = mdb_dbi_flags(rt, sdbi, &fl);
		if (!rc && (fl & MDB_DUPSORT))
			rc = MDB_INCOMPATIBLE; /* none of ours; APPEND would need APPENDDUP */
		if (!rc)
			rc = mdb_stat(rt, sdbi, &st);
		if (!rc)
			rc = mdb_txn_begin(to, NULL, 0, &wt);
		if (!rc)
			rc = mdb_dbi_open(wt, name, (fl & (MDB_INTEGERKEY | MDB_REVERSEKEY)) | MDB_CREATE,
					  &ddbi);
		if (!rc)
			rc = mdb_cursor_open(rt, sdbi, &c);
		what = "compact: copy";
		for (op = MDB_FIRST; !rc && !(rc = mdb_cursor_get(c, &k, &v, op)); op = MDB_NEXT) {
			rc = mdb_put(wt, ddbi, &k, &v, MDB_APPEND);
			if (!rc && ++n % COPY_STEP == 0) {
				rc = mdb_txn_commit(wt);
				wt = NULL;
				if (!rc)
					rc = mdb_txn_begin(to, NULL, 0, &wt);
				/* what was read stays in the page cache, not in this
				 * process: the copy's memory does not grow with the index */
				if (!rc)
					madvise(info.me_mapaddr, (info.me_last_pgno + 1) * (size_t)st.ms_psize,
						MADV_DONTNEED);
			}
		}
		if (rc == MDB_NOTFOUND)
			rc = n == st.ms_entries ? 0 : MDB_CORRUPTED;
		if (c)
			mdb_cursor_close(c);
		c = NULL;
		if (!rc) {
			rc = mdb_txn_commit(wt);
			wt = NULL;
		}
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (wt)
		mdb_txn_abort(wt);
	if (mc)
		mdb_cursor_close(mc);
	if (rt)
		mdb_txn_abort(rt);
	if (!rc) {
		what = "compact: sync the copy";
		rc = mdb_env_sync(to, 1);
	}
	if (to)
		mdb_env_close(to);
	return rc ? idx_err(err, rc, what) : 0;
}

/* fcntl(fd, cmd) of a write lock on the first byte; *type gets what F_GETLK found */
static int first_byte(int fd, int cmd, short *type)
{
	struct flock fl;
	int rc;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	rc = fcntl(fd, cmd, &fl);
	if (type)
		*type = fl.l_type;
	return rc;
}

int idx_compact(struct idx *idx, const char *dir, struct strbuf *err)
{
	char *copy = xstrfmt("%s/compact.mdb", dir), *data = xstrfmt("%s/data.mdb", dir);
	char *lock = xstrfmt("%s/lock.mdb", dir);
	short held = F_UNLCK;
	MDB_env *env = NULL;
	int r, rc, fd = -1, prev = fault_kind;

	/*
	 * Every process with the environment open holds a read lock on the
	 * first byte of lock.mdb (LMDB's own protocol). F_GETLK sees those of
	 * other processes only: one there, and the copy would be for nothing.
	 * The descriptor stays open until the environment is closed (closing
	 * any descriptor of the file drops this process's locks on it, LMDB's
	 * included).
	 */
	fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || first_byte(fd, F_GETLK, &held) < 0 || held != F_UNLCK) {
		idx_close(idx);
		r = IDX_COMPACT_BUSY;
		goto out;
	}
	/* a copy left by a compaction that was killed */
	if (unlink(copy) < 0 && errno != ENOENT) {
		r = cerr_errno(err, "cannot remove '%s'", copy);
		idx_close(idx);
		goto out;
	}
	in_index++;
	fault_kind = idx->kind;
	r = copy_env(idx->env, copy, err);
	fault_kind = prev;
	in_index--;
	idx_close(idx);
	if (r)
		goto out;
	/*
	 * A write lock taken now, with ours closed, proves that no process
	 * has the environment open (one may have opened it during the copy),
	 * and makes any process opening it wait until the copy is in place.
	 */
	if (first_byte(fd, F_SETLK, NULL) < 0) {
		r = IDX_COMPACT_BUSY;
		goto out;
	}
	if (rename(copy, data) < 0) {
		r = cerr_errno(err, "cannot rename '%s' to '%s'", copy, data);
		goto out;
	}
	fsync_dir_of(dir, 1);
	/*
	 * The reader table in lock.mdb still describes the old file. Opening
	 * the environment while no other process has it open sets it again
	 * from the new file's meta page; only then do waiting openers go on.
	 */
	rc = mdb_env_create(&env);
	if (!rc) {
		mdb_env_set_maxdbs(env, 16);
		rc = mdb_env_open(env, dir, MDB_NOTLS, 0666);
		mdb_env_close(env);
	}
	if (rc)
		r = idx_err(err, rc, "compact: open the compacted index");
out:
	if (r)
		unlink(copy);
	if (fd >= 0)
		close(fd);
	free(copy);
	free(data);
	free(lock);
	return r;
}
