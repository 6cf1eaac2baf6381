#include "core/odb.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct odb_batch {
	struct odb *odb;
	pthread_mutex_t lock;
	pthread_cond_t sealed;
	struct pack_writer *cur; /* open pack of chunks, or NULL */
	/* Manifests and trees go to their own pack, sealed last, so nothing
	 * indexed ever names a chunk that is not indexed yet. */
	struct pack_writer *meta;
	int sealing;             /* packs being sealed by other threads */
	struct oidset seen;      /* everything put in this batch */
	struct odb_stats stats;
	int failed;              /* first error code, sticky */
	int replace;             /* repair: store and index over existing entries */
	/* manifests put by odb_put_over: indexed over the entry the store
	 * has (read only when the meta pack is sealed, after every put) */
	struct oidset over;
	struct strbuf errmsg;
};

int odb_create(const char *dir, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	struct idx *idx;
	int r = 0;
	const char *subs[] = { "", "/packs", "/tmp" };
	size_t i;
	for (i = 0; i < 3 && !r; i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s%s", dir, subs[i]);
		if (mkdir_p(p.buf, 0777) < 0)
			r = cerr_errno(err, "cannot create '%s'", p.buf);
	}
	if (!r) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/index", dir);
		r = idx_open(&idx, p.buf, IDX_STORE, 0, err);
		if (!r)
			idx_close(idx);
	}
	strbuf_release(&p);
	return r;
}

/*
 * A store written before the work-tree state had its own environment
 * keeps the stat cache and the remote cache in its index. Copy them over
 * (entries the state already has win: they are newer), and then drop
 * them from the store, in that order, so that a crash between the two
 * loses nothing and the next open finishes the move.
 */
struct move_ctx {
	struct idx *store, *state;
	MDB_txn *rtxn; /* a read snapshot of the store */
};

static const char rcache_version_key[] = IDX_RCACHE_VERSION_KEY;

static int copy_db(MDB_txn *txn, MDB_txn *rtxn, MDB_dbi from, MDB_dbi to, const char *only)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_stat ms;
	unsigned flags = MDB_NOOVERWRITE;
	int rc = mdb_cursor_open(rtxn, from, &c), op = MDB_FIRST;
	if (rc)
		return rc;
	/* into an empty database, in order: full pages */
	if (!only && !mdb_stat(txn, to, &ms) && !ms.ms_entries)
		flags = MDB_APPEND;
	while (!(rc = mdb_cursor_get(c, &k, &v, op))) {
		op = MDB_NEXT;
		if (only && (k.mv_size != strlen(only) || memcmp(k.mv_data, only, k.mv_size)))
			continue;
		rc = mdb_put(txn, to, &k, &v, flags);
		if (rc && rc != MDB_KEYEXIST)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == MDB_KEYEXIST ? 0 : rc;
}

static int copy_caches_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct move_ctx *m = data;
	int rc = 0;
	if (m->store->old_stat)
		rc = copy_db(txn, m->rtxn, m->store->old_stat, m->state->stat, NULL);
	if (!rc && m->store->old_rpack)
		rc = copy_db(txn, m->rtxn, m->store->old_rpack, m->state->rpack, NULL);
	if (!rc && m->store->old_robj)
		rc = copy_db(txn, m->rtxn, m->store->old_robj, m->state->robj, NULL);
	if (!rc)
		rc = copy_db(txn, m->rtxn, m->store->meta, m->state->meta, rcache_version_key);
	if (rc == MDB_MAP_FULL)
		return IDX_RETRY_GROW;
	return rc ? idx_err(err, rc, "move the caches to .cairn/state") : 0;
}

static int drop_caches_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct idx *idx = data;
	MDB_val k;
	int rc = 0;
	if (idx->old_stat)
		rc = mdb_drop(txn, idx->old_stat, 1);
	if (!rc && idx->old_rpack)
		rc = mdb_drop(txn, idx->old_rpack, 1);
	if (!rc && idx->old_robj)
		rc = mdb_drop(txn, idx->old_robj, 1);
	if (!rc) {
		k.mv_data = (void *)rcache_version_key;
		k.mv_size = sizeof(rcache_version_key) - 1;
		rc = mdb_del(txn, idx->meta, &k, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	return rc ? idx_err(err, rc, "drop the caches from the store's index") : 0;
}

static int move_caches(struct idx *store, struct idx *state, struct strbuf *err)
{
	struct idx_reader rd;
	struct move_ctx m;
	int r;
	if (!store->old_stat && !store->old_rpack && !store->old_robj)
		return 0;
	idx_reader_init(&rd, store);
	m.store = store;
	m.state = state;
	m.rtxn = idx_rd_begin(&rd, err);
	if (!m.rtxn)
		return CAIRN_ELMDB;
	r = idx_write(state, copy_caches_txn, &m, err);
	idx_rd_end(&rd);
	idx_reader_release(&rd);
	if (!r)
		r = idx_write(store, drop_caches_txn, store, err);
	if (!r)
		store->old_stat = store->old_rpack = store->old_robj = 0;
	return r;
}

int odb_open(struct odb **out, const char *dir, const struct odb_opts *opts, int readonly,
	     struct strbuf *err)
{
	struct odb *odb = xcalloc(1, sizeof(*odb));
	char *ipath = xstrfmt("%s/index", dir);
	int r;
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(ipath);
		free(odb);
		return cerr(err, CAIRN_ENOTFOUND, "object store '%s' is missing", dir);
	}
	r = idx_open(&odb->idx, ipath, IDX_STORE, readonly, err);
	free(ipath);
	if (r) {
		free(odb);
		return r;
	}
	{
		int fd;
		if (!mdb_env_get_fd(odb->idx->env, &fd) && !fstat(fd, &st)) {
			odb->idx_dev = st.st_dev;
			odb->idx_ino = st.st_ino;
		}
	}
	if (opts->state_dir) {
		r = idx_open(&odb->state, opts->state_dir, IDX_STATE, readonly, err);
		/* read-only, and no state yet: go on without the caches */
		if (r == CAIRN_ENOTFOUND && readonly) {
			strbuf_reset(err);
			r = 0;
		}
		if (!r && !readonly)
			r = move_caches(odb->idx, odb->state, err);
		if (r) {
			idx_close(odb->state);
			idx_close(odb->idx);
			free(odb);
			return r;
		}
	}
	odb->dir = xstrdup(dir);
	odb->packdir = xstrfmt("%s/packs", dir);
	odb->tmpdir = xstrfmt("%s/tmp", dir);
	odb->opts = *opts;
	odb->opts.state_dir = NULL; /* not kept: the caller owns it */
	odb->lock_fd = -1;
	if (!odb->opts.pack_size)
		odb->opts.pack_size = ODB_PACK_SIZE_DEFAULT;
	pthread_mutex_init(&odb->fd_lock, NULL);
	pack_fds_init(&odb->packs_open, 0);
	/* a store whose creation was killed half-way (the index made on open,
	 * packs/ or tmp/ not yet) gets the rest now */
	if (!readonly && ((mkdir(odb->packdir, 0777) < 0 && errno != EEXIST) ||
			  (mkdir(odb->tmpdir, 0777) < 0 && errno != EEXIST))) {
		r = cerr_errno(err, "cannot create the directories of store '%s'", dir);
		odb_close(odb);
		return r;
	}
	*out = odb;
	return 0;
}

static int check_index_same(struct odb *odb, struct strbuf *err);

/*
 * A process that wrote the index compacts it as it closes the store, when
 * a quarter of data.mdb or more is free pages (idx_compact_due): the store
 * lock exclusive, or no compaction; and idx_compact() gives up when any
 * other process has the index open. Best effort: the command's work is
 * done, so a failure is a warning and the old index stays as it was.
 */
static void compact_index(struct odb *odb)
{
	struct strbuf err = STRBUF_INIT;
	char *ipath;
	int r;
	if (!odb->idx || odb->idx->readonly || !odb->idx->written || !idx_compact_due(odb->idx))
		return;
	if (odb->lock_mode != ODB_LOCK_EXCLUSIVE) {
		odb_unlock(odb);
		if (odb_lock(odb, ODB_LOCK_EXCLUSIVE, 0, &err))
			goto out; /* another writer or gc: it may compact */
	}
	if (check_index_same(odb, &err))
		goto out; /* rebuilt since we opened it: ours is not the index */
	ipath = xstrfmt("%s/index", odb->dir);
	r = idx_compact(odb->idx, ipath, &err);
	odb->idx = NULL;
	if (r < 0)
		core_report("warning", "the index was not compacted: %s", err.buf);
	free(ipath);
out:
	strbuf_release(&err);
}

void odb_close(struct odb *odb)
{
	if (!odb)
		return;
	pack_fds_release(&odb->packs_open);
	compact_index(odb);
	odb_unlock(odb);
	idx_close(odb->idx);
	idx_close(odb->state);
	pthread_mutex_destroy(&odb->fd_lock);
	free(odb->dir);
	free(odb->packdir);
	free(odb->tmpdir);
	free(odb);
}

void odb_thread_init(struct odb_thread *t, struct odb *odb)
{
	t->odb = odb;
	idx_reader_init(&t->rd, odb->idx);
	idx_reader_init(&t->srd, odb->state);
	t->z = zctx_new(odb->opts.zlevel);
	strbuf_init(&t->raw, 0);
	strbuf_init(&t->stored, 0);
	t->delta_depth = 0;
}

void odb_thread_release(struct odb_thread *t)
{
	idx_reader_release(&t->rd);
	idx_reader_release(&t->srd);
	zctx_free(t->z);
	strbuf_release(&t->raw);
	strbuf_release(&t->stored);
}

int odb_lookup(struct odb_thread *t, const struct oid *id, int type, struct obj_loc *loc,
	       struct strbuf *err)
{
	uint8_t key[OID_RAWSZ + 1];
	MDB_val k, v;
	MDB_txn *txn = idx_rd_begin(&t->rd, err);
	int rc, r = 0;
	if (!txn)
		return CAIRN_ELMDB;
	idx_obj_key(key, id, type);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_get(txn, t->odb->idx->obj, &k, &v);
	if (rc == MDB_NOTFOUND)
		r = CAIRN_ENOTFOUND;
	else if (rc)
		r = idx_err(err, rc, "lookup");
	else if (obj_loc_decode(v.mv_data, v.mv_size, loc))
		r = cerr(err, CAIRN_ECORRUPT, "index entry of %s is malformed", obj_type_name(type));
	idx_rd_end(&t->rd);
	return r;
}

static int pack_name_in(struct odb *odb, MDB_txn *txn, uint32_t no, char *hex,
			struct strbuf *err)
{
	MDB_val k, v;
	int rc;
	k.mv_data = &no;
	k.mv_size = sizeof(no);
	rc = mdb_get(txn, odb->idx->pack, &k, &v);
	if (rc == MDB_NOTFOUND)
		return cerr(err, CAIRN_ENOTFOUND, "pack number %u is not in the index", no);
	if (rc)
		return idx_err(err, rc, "pack lookup");
	if (v.mv_size < OID_RAWSZ)
		return cerr(err, CAIRN_ECORRUPT, "index entry of pack %u is malformed", no);
	hex_encode(hex, v.mv_data, OID_RAWSZ);
	return 0;
}

int odb_pack_name(struct odb_thread *t, uint32_t no, char *hex, struct strbuf *err)
{
	MDB_txn *txn = idx_rd_begin(&t->rd, err);
	int r;
	if (!txn)
		return CAIRN_ELMDB;
	r = pack_name_in(t->odb, txn, no, hex, err);
	idx_rd_end(&t->rd);
	return r;
}

/*
 * An fd for pack `no`, pinned in the store's cache of open packs: the
 * caller gives it back with pack_fds_unpin(). Running out of descriptors
 * closes every unpinned one and tries once more, then is CAIRN_ERESOURCE,
 * which says nothing about the pack.
 */
static int pack_fd(struct odb_thread *t, uint32_t no, char *hex, struct strbuf *err)
{
	struct odb *odb = t->odb;
	int fd, r;
	char *path;

	r = odb_pack_name(t, no, hex, err);
	if (r)
		return r;
	fd = pack_fds_pin(&odb->packs_open, no);
	if (fd >= 0)
		return fd;
	path = xstrfmt("%s/%s.pack", odb->packdir, hex);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && pack_fds_shed(&odb->packs_open))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT ? cerr(err, CAIRN_ENOTFOUND, "pack '%s' is missing", path)
				    : cerr_errno(err, "cannot open pack '%s'", path);
		free(path);
		return r;
	}
	{
		uint8_t hdr[PACK_HDR_SZ];
		ssize_t got = pread_full(fd, hdr, sizeof(hdr), 0);
		if (got != (ssize_t)sizeof(hdr) || (r = pack_header_check(hdr))) {
			r = r == CAIRN_EVERSION
				    ? cerr(err, r, "pack '%s' has a format version this cairn does not know", path)
				    : cerr(err, CAIRN_ECORRUPT, "pack '%s' has a bad header", path);
			close(fd);
			free(path);
			return r;
		}
	}
	free(path);
	return pack_fds_add(&odb->packs_open, no, fd);
}

/*
 * A delta's stored bytes: u8 depth (its chain's length, 1 to
 * DELTA_MAX_DEPTH), the base's oid (an object of the same type), then one
 * zstd frame made with the base's bytes as its prefix.
 */
#define DELTA_HDR (1 + OID_RAWSZ)
#define CAIRN_EDELTA (-1000) /* read_delta failed; err says why */

/*
 * Decodes the delta in t->stored (a whole entry) into out: reads its base
 * first, which reuses t->stored, so the entry is put back afterwards (an
 * odb_read_stored caller wants it there).
 */
static int read_delta(struct odb_thread *t, int type, size_t raw_len, struct strbuf *out,
		      struct strbuf *err)
{
	struct strbuf entry = STRBUF_INIT, base = STRBUF_INIT;
	const uint8_t *p;
	size_t n;
	struct oid bid;
	int r;

	strbuf_add(&entry, t->stored.buf, t->stored.len);
	p = (const uint8_t *)entry.buf + PACK_ENTRY_HDR_SZ;
	n = entry.len - PACK_ENTRY_HDR_SZ;
	if (n <= DELTA_HDR || !p[0] || p[0] > DELTA_MAX_DEPTH) {
		r = cerr(err, CAIRN_EDELTA, "a malformed delta");
		goto out;
	}
	if (t->delta_depth >= DELTA_MAX_DEPTH) {
		r = cerr(err, CAIRN_EDELTA, "a chain of deltas longer than %d", DELTA_MAX_DEPTH);
		goto out;
	}
	memcpy(bid.b, p + 1, OID_RAWSZ);
	t->delta_depth++;
	r = odb_read(t, &bid, type, &base, err);
	t->delta_depth--;
	if (r) {
		char bhex[OID_HEXSZ + 1];
		r = cerr_wrap(err, CAIRN_EDELTA, "a delta whose base %s cannot be read",
			      oid_to_hex(&bid, bhex));
		goto out;
	}
	r = zctx_delta_decode(t->z, base.buf, base.len, p + DELTA_HDR, n - DELTA_HDR, raw_len,
			      out);
	if (r)
		r = cerr(err, CAIRN_EDELTA, "a delta that cannot be decompressed");
out:
	strbuf_reset(&t->stored);
	strbuf_add(&t->stored, entry.buf, entry.len);
	strbuf_release(&entry);
	strbuf_release(&base);
	return r;
}

int odb_read_at(struct odb_thread *t, int fd, const char *phex, const struct oid *id, int type,
		const struct obj_loc *loc, struct strbuf *out, struct strbuf *err)
{
	struct pack_entry e;
	char hex[OID_HEXSZ + 1];
	size_t want;
	ssize_t got;
	int r;

	want = PACK_ENTRY_HDR_SZ + (size_t)loc->stored_len;
	strbuf_reset(&t->stored);
	strbuf_grow(&t->stored, want);
	got = pread_full(fd, t->stored.buf, want, (off_t)loc->offset);
	if (got < 0)
		return cerr_errno(err, "cannot read pack %s", phex);
	oid_to_hex(id, hex);
	if ((size_t)got != want)
		return cerr(err, CAIRN_ECORRUPT, "%s %s: pack %s is truncated", obj_type_name(type),
			    hex, phex);
	strbuf_setlen(&t->stored, want);
	if (pack_entry_header_decode((const uint8_t *)t->stored.buf, &e) || e.type != type ||
	    !oid_eq(&e.id, id) || e.codec != loc->codec || e.raw_len != loc->raw_len ||
	    e.stored_len != loc->stored_len)
		return cerr(err, CAIRN_ECORRUPT, "%s %s: entry in pack %s does not match the index",
			    obj_type_name(type), hex, phex);
	if (e.codec == CODEC_DELTA)
		r = read_delta(t, type, e.raw_len, out, err);
	else
		r = zctx_decode(t->z, e.codec, t->stored.buf + PACK_ENTRY_HDR_SZ, e.stored_len,
				e.raw_len, out);
	if (r == CAIRN_EDELTA)
		return cerr_wrap(err, CAIRN_ECORRUPT, "%s %s in pack %s", obj_type_name(type), hex,
				 phex);
	if (r)
		return cerr(err, CAIRN_ECORRUPT, "%s %s in pack %s cannot be decompressed",
			    obj_type_name(type), hex, phex);
	if (type != OBJ_MANIFEST) {
		struct oid check;
		oid_hash(&check, out->buf, out->len);
		if (!oid_eq(&check, id))
			return cerr(err, CAIRN_ECORRUPT, "%s %s in pack %s is corrupt (hash mismatch)",
				    obj_type_name(type), hex, phex);
	}
	return 0;
}

int odb_read(struct odb_thread *t, const struct oid *id, int type, struct strbuf *out,
	     struct strbuf *err)
{
	struct obj_loc loc, again;
	char hex[OID_HEXSZ + 1], phex[OID_HEXSZ + 1];
	int fd, r;

	r = odb_lookup(t, id, type, &loc, err);
	if (r == CAIRN_ENOTFOUND)
		return cerr(err, r, "%s %s is not in the store", obj_type_name(type),
			    oid_to_hex(id, hex));
	if (r)
		return r;
	fd = pack_fd(t, loc.pack_no, phex, err);
	/*
	 * gc may have moved the object to another pack and removed this one
	 * between the lookup and the open: look once more.
	 */
	if (fd == CAIRN_ENOTFOUND && !odb_lookup(t, id, type, &again, NULL) &&
	    again.pack_no != loc.pack_no) {
		loc = again;
		fd = pack_fd(t, loc.pack_no, phex, err);
	}
	if (fd < 0)
		return fd;
	r = odb_read_at(t, fd, phex, id, type, &loc, out, err);
	pack_fds_unpin(&t->odb->packs_open, loc.pack_no, fd);
	return r;
}

int odb_lock(struct odb *odb, int mode, int timeout_ms, struct strbuf *err)
{
	char *path;
	int fd, r = 0, op, waited = 0;

	pthread_mutex_lock(&odb->fd_lock);
	if (odb->lock_fd >= 0) {
		if (mode == ODB_LOCK_EXCLUSIVE && odb->lock_mode != ODB_LOCK_EXCLUSIVE)
			r = cerr(err, CAIRN_EINVAL, "the store lock is held shared by this process");
		pthread_mutex_unlock(&odb->fd_lock);
		return r;
	}
	path = xstrfmt("%s/gc.lock", odb->dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0 && mode == ODB_LOCK_SHARED && odb->idx && odb->idx->readonly &&
	    (errno == EROFS || errno == EACCES)) {
		/* a store we cannot write: no gc of ours can run on it either */
		goto out;
	}
	if (fd < 0) {
		r = cerr_errno(err, "cannot open the store lock '%s'", path);
		goto out;
	}
	op = mode == ODB_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH;
	for (;;) {
		int block = mode == ODB_LOCK_SHARED || timeout_ms < 0;
		if (!flock(fd, op | (block ? 0 : LOCK_NB)))
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			r = cerr_errno(err, "cannot lock '%s'", path);
			break;
		}
		if (waited >= timeout_ms) {
			r = cerr(err, CAIRN_ETRANSIENT,
				 "the store is in use by another cairn process (add, fetch, pull or gc)");
			break;
		}
		usleep(20000);
		waited += 20;
	}
	if (r) {
		close(fd);
	} else {
		odb->lock_fd = fd;
		odb->lock_mode = mode;
	}
out:
	pthread_mutex_unlock(&odb->fd_lock);
	free(path);
	return r;
}

void odb_unlock(struct odb *odb)
{
	pthread_mutex_lock(&odb->fd_lock);
	if (odb->lock_fd >= 0)
		close(odb->lock_fd); /* releases the flock */
	odb->lock_fd = -1;
	odb->lock_mode = 0;
	pthread_mutex_unlock(&odb->fd_lock);
}

/*
 * Temp files are named KIND-PID-...; those of processes that no longer
 * exist (killed mid-write) are garbage, removed by the next writer.
 */
void odb_clean_tmp(struct odb *odb)
{
	DIR *d = opendir(odb->tmpdir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *dash = strchr(de->d_name, '-');
		char *end;
		long pid;
		if (!dash)
			continue;
		pid = strtol(dash + 1, &end, 10);
		if (end == dash + 1 || (*end != '-' && *end != '\0') || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			char *p = xstrfmt("%s/%s", odb->tmpdir, de->d_name);
			if (unlink(p) < 0 && (errno == EISDIR || errno == EPERM)) {
				/* a staging directory (push-PID): its files, then it */
				DIR *sub = opendir(p);
				struct dirent *se;
				while (sub && (se = readdir(sub)))
					if (strcmp(se->d_name, ".") && strcmp(se->d_name, ".."))
						unlinkat(dirfd(sub), se->d_name, 0);
				if (sub)
					closedir(sub);
				rmdir(p);
			}
			free(p);
		}
	}
	closedir(d);
}

static char *incomplete_path(struct odb *odb)
{
	return xstrfmt("%s/fetch-incomplete", odb->dir);
}

int odb_set_incomplete(struct odb *odb, struct strbuf *err)
{
	char *p = incomplete_path(odb);
	int r = 0;
	if (access(p, F_OK))
		r = write_file_atomic(p, "a fetch has not completed\n", 26, 1, err);
	free(p);
	return r;
}

void odb_clear_incomplete(struct odb *odb)
{
	char *p = incomplete_path(odb);
	unlink(p);
	free(p);
}

int odb_is_incomplete(struct odb *odb)
{
	char *p = incomplete_path(odb);
	int r = !access(p, F_OK);
	free(p);
	return r;
}

/*
 * Under the store lock, before a batch writes: the index must still be
 * the one this process opened. fsck --rebuild-index moves it aside under
 * the exclusive lock; a writer that opened the store before that would
 * otherwise index its new packs in the moved-aside copy, where no later
 * command looks, and then write pointers naming objects the store lacks.
 */
static int check_index_same(struct odb *odb, struct strbuf *err)
{
	struct stat st;
	char *p;
	int same;
	if (!odb->idx_ino)
		return 0; /* not known at open: nothing to compare */
	p = xstrfmt("%s/index/data.mdb", odb->dir);
	same = !stat(p, &st) && st.st_dev == odb->idx_dev && st.st_ino == odb->idx_ino;
	free(p);
	if (same)
		return 0;
	return cerr(err, CAIRN_ETRANSIENT,
		    "the index was rebuilt by another cairn process since this one opened it; nothing was stored: run the command again");
}

int odb_batch_begin(struct odb *odb, struct odb_batch **out, struct strbuf *err)
{
	struct odb_batch *b;
	int r;
	if (odb->idx->readonly)
		return cerr(err, CAIRN_EINVAL, "the store is open read-only");
	/* held until odb_close(): a writer's pointers are written after its
	 * batch commits, and gc must not run in between */
	r = odb_lock(odb, ODB_LOCK_SHARED, -1, err);
	if (r)
		return r;
	r = check_index_same(odb, err);
	if (r)
		return r;
	odb_clean_tmp(odb);
	b = xcalloc(1, sizeof(*b));
	b->odb = odb;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->sealed, NULL);
	oidset_init(&b->seen);
	oidset_init(&b->over);
	strbuf_init(&b->errmsg, 0);
	*out = b;
	return 0;
}

struct seal_ctx {
	struct idx *idx;
	struct pack_writer *w;
	const struct oid *pack_id;
	uint64_t dups;
	int replace;
	const struct oidset *over; /* entries indexed over existing ones, or NULL */
};

static const char pack_next_key[] = "pack-next";

/*
 * The number for a new pack: one more than the highest in the table and
 * not below meta "pack-next", so that the number of a pack gc removed is
 * never given to another (a process may still cache an fd by number).
 */
static int next_pack_no(struct idx *idx, MDB_txn *txn, uint32_t *out, struct strbuf *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint32_t no = 0;
	int rc = mdb_cursor_open(txn, idx->pack, &cur);
	if (rc)
		return idx_err(err, rc, "cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (!rc && k.mv_size == sizeof(uint32_t))
		memcpy(&no, k.mv_data, sizeof(no));
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return idx_err(err, rc, "cursor");
	no++;
	k.mv_data = (void *)pack_next_key;
	k.mv_size = sizeof(pack_next_key) - 1;
	rc = mdb_get(txn, idx->meta, &k, &v);
	if (!rc && v.mv_size == 4 && get_le32(v.mv_data) > no)
		no = get_le32(v.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return idx_err(err, rc, "pack numbers");
	*out = no;
	return 0;
}

static int set_pack_next(struct idx *idx, MDB_txn *txn, uint32_t next, struct strbuf *err)
{
	MDB_val k, v;
	uint8_t b[4];
	int rc;
	put_le32(b, next);
	k.mv_data = (void *)pack_next_key;
	k.mv_size = sizeof(pack_next_key) - 1;
	v.mv_data = b;
	v.mv_size = sizeof(b);
	rc = mdb_put(txn, idx->meta, &k, &v, 0);
	return rc ? idx_err(err, rc, "pack numbers") : 0;
}

/* Adds pack number `no` to the pack table (never over another). */
static int put_pack_row(struct idx *idx, MDB_txn *txn, uint32_t no, const struct oid *id,
			uint64_t size, size_t n, uint64_t raw, struct strbuf *err)
{
	uint8_t pval[OID_RAWSZ + 8 + 4 + 8];
	MDB_val k, v;
	int rc;
	memcpy(pval, id->b, OID_RAWSZ);
	put_le64(pval + 16, size);
	put_le32(pval + 24, (uint32_t)n);
	put_le64(pval + 28, raw);
	k.mv_data = &no;
	k.mv_size = sizeof(no);
	v.mv_data = pval;
	v.mv_size = sizeof(pval);
	rc = mdb_put(txn, idx->pack, &k, &v, MDB_NOOVERWRITE);
	return rc ? idx_err(err, rc, "add pack") : 0;
}

/*
 * Indexes the entries of pack `no`. MDB_NOOVERWRITE in `flags` leaves an
 * object already indexed where it is and counts it in *dups.
 */
static int put_obj_rows(struct idx *idx, MDB_txn *txn, uint32_t no,
			const struct pack_entry *entries, size_t n, unsigned flags,
			const struct oidset *over, uint64_t *dups, struct strbuf *err)
{
	uint8_t key[OID_RAWSZ + 1], val[OBJ_LOC_MAX];
	MDB_val k, v;
	size_t i;
	int rc;
	for (i = 0; i < n; i++) {
		const struct pack_entry *e = &entries[i];
		struct obj_loc loc = { no, e->codec, e->raw_len, e->stored_len, e->offset };
		idx_obj_key(key, &e->id, e->type);
		k.mv_data = key;
		k.mv_size = sizeof(key);
		v.mv_data = val;
		v.mv_size = obj_loc_encode(val, &loc);
		rc = mdb_put(txn, idx->obj, &k, &v,
			     over && e->type != OBJ_CHUNK && oidset_contains(over, &e->id, e->type)
				     ? 0 : flags);
		if (rc == MDB_KEYEXIST) {
			(*dups)++; /* another process stored it first: ours is garbage */
			continue;
		}
		if (rc)
			return idx_err(err, rc, "add object");
	}
	return 0;
}

static int seal_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct seal_ctx *s = data;
	struct idx *idx = s->idx;
	uint32_t no = 0;
	int rc;

	rc = next_pack_no(idx, txn, &no, err);
	if (!rc)
		rc = set_pack_next(idx, txn, no + 1, err);
	if (rc)
		return rc;
	rc = put_pack_row(idx, txn, no, s->pack_id, s->w->size, s->w->n, s->w->raw_bytes, err);
	if (rc)
		return rc;
	s->dups = 0;
	rc = put_obj_rows(idx, txn, no, s->w->entries, s->w->n, s->replace ? 0 : MDB_NOOVERWRITE,
			  s->over, &s->dups, err);
	return rc;
}

/* Make pack `w` durable and indexed; frees it. */
static int seal(struct odb_batch *b, struct pack_writer *w, struct strbuf *err)
{
	struct oid pack_id;
	struct seal_ctx s;
	int r;

	if (!w->n) {
		pack_writer_release(w);
		free(w);
		return 0;
	}
	r = pack_writer_finish(w, b->odb->packdir, &pack_id, err);
	if (!r) {
		s.idx = b->odb->idx;
		s.w = w;
		s.pack_id = &pack_id;
		s.dups = 0;
		s.replace = b->replace;
		s.over = &b->over; /* read for manifests only: chunk packs seal meanwhile */
		r = idx_write(b->odb->idx, seal_txn, &s, err);
	}
	if (!r) {
		pthread_mutex_lock(&b->lock);
		b->stats.packs_new++;
		pthread_mutex_unlock(&b->lock);
	}
	pack_writer_release(w);
	free(w);
	return r;
}

int odb_adopt_pack(struct odb *odb, const char *tmp_pack, const struct oid *pid, uint64_t size,
		   struct pack_entry *e, size_t n, struct strbuf *err)
{
	struct pack_writer w;
	struct seal_ctx sc;
	struct strbuf idx = STRBUF_INIT;
	char hex[OID_HEXSZ + 1];
	char *tmp_idx = xstrfmt("%s.idx", tmp_pack), *dst = NULL;
	size_t i;
	int fd, r = 0;

	r = odb_lock(odb, ODB_LOCK_SHARED, -1, err);
	if (r) {
		free(tmp_idx);
		return r;
	}
	memset(&w, 0, sizeof(w));
	w.size = size;
	w.entries = e;
	w.n = n;
	for (i = 0; i < n; i++)
		w.raw_bytes += e[i].raw_len;
	pack_idx_encode(&idx, pid, size, e, n);
	fd = open(tmp_pack, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = cerr_errno(err, "cannot fsync '%s'", tmp_pack);
	if (fd >= 0)
		close(fd);
	if (!r)
		r = write_file_atomic(tmp_idx, idx.buf, idx.len, 1, err);
	oid_to_hex(pid, hex);
	/* the pack first, then its index, as for packs written here */
	if (!r) {
		dst = xstrfmt("%s/%s.pack", odb->packdir, hex);
		chmod(tmp_pack, 0444);
		if (rename(tmp_pack, dst) < 0)
			r = cerr_errno(err, "cannot rename '%s' to '%s'", tmp_pack, dst);
		free(dst);
	}
	if (!r) {
		dst = xstrfmt("%s/%s.idx", odb->packdir, hex);
		chmod(tmp_idx, 0444);
		if (rename(tmp_idx, dst) < 0)
			r = cerr_errno(err, "cannot rename '%s' to '%s'", tmp_idx, dst);
		free(dst);
	}
	if (!r && fsync_dir_of(odb->packdir, 1) < 0)
		r = cerr_errno(err, "cannot fsync '%s'", odb->packdir);
	if (!r) {
		sc.idx = odb->idx;
		sc.w = &w;
		sc.pack_id = pid;
		sc.dups = 0;
		sc.replace = 0;
		sc.over = NULL;
		r = idx_write(odb->idx, seal_txn, &sc, err);
	}
	unlink(tmp_idx);
	free(tmp_idx);
	strbuf_release(&idx);
	return r;
}

static int batch_fail(struct odb_batch *b, int r, struct strbuf *err)
{
	pthread_mutex_lock(&b->lock);
	if (!b->failed) {
		b->failed = r;
		strbuf_reset(&b->errmsg);
		if (err)
			strbuf_addstr(&b->errmsg, err->buf);
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

/*
 * Stores one object unless present. With raw != NULL it is compressed
 * here; otherwise `stored` holds it already encoded with `codec`.
 */
static int put_common(struct odb_batch *b, struct odb_thread *t, int type, const struct oid *id,
		      const void *raw, size_t len, int try_bg, int codec, const void *stored,
		      size_t stored_len, int over, int *was_new, struct strbuf *err)
{
	struct pack_entry e;
	struct pack_writer *full = NULL, **wp;
	struct obj_loc loc;
	const void *bytes;
	int r, fresh;

	if (was_new)
		*was_new = 0;
	if (len > OBJ_MAX_SIZE)
		return cerr(err, CAIRN_EINVAL, "%s of %zu bytes is too large", obj_type_name(type), len);
	pthread_mutex_lock(&b->lock);
	r = b->failed;
	fresh = r ? 0 : oidset_insert(&b->seen, id, type);
	if (!fresh && !r)
		b->stats.objects_dup++;
	if (fresh && over)
		oidset_insert(&b->over, id, type);
	pthread_mutex_unlock(&b->lock);
	if (r)
		return cerr(err, r, "%s", b->errmsg.buf);
	if (!fresh)
		return 0;
	r = b->replace || over ? CAIRN_ENOTFOUND : odb_lookup(t, id, type, &loc, err);
	if (!r) {
		pthread_mutex_lock(&b->lock);
		b->stats.objects_dup++;
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	if (r != CAIRN_ENOTFOUND)
		return batch_fail(b, r, err);
	r = 0;

	if (raw) {
		zctx_encode(t->z, raw, len, try_bg, id->b[0], &codec, &t->stored);
		bytes = t->stored.buf;
		stored_len = t->stored.len;
	} else {
		bytes = stored;
	}
	if (stored_len > OBJ_MAX_SIZE)
		return batch_fail(b, cerr(err, CAIRN_EINVAL, "stored %s is too large",
					  obj_type_name(type)), err);
	memset(&e, 0, sizeof(e));
	e.id = *id;
	e.type = (uint8_t)type;
	e.codec = (uint8_t)codec;
	e.raw_len = (uint32_t)len;
	e.stored_len = (uint32_t)stored_len;

	pthread_mutex_lock(&b->lock);
	wp = type == OBJ_CHUNK ? &b->cur : &b->meta;
	if (!*wp) {
		*wp = xcalloc(1, sizeof(**wp));
		r = pack_writer_open(*wp, b->odb->tmpdir, err);
		if (r) {
			free(*wp);
			*wp = NULL;
		}
	}
	if (!r)
		r = pack_writer_append(*wp, &e, bytes, err);
	if (!r) {
		b->stats.objects_new++;
		b->stats.raw_new += len;
		b->stats.stored_new += e.stored_len;
		if (type == OBJ_CHUNK && b->cur->size >= b->odb->opts.pack_size) {
			full = b->cur;
			b->cur = NULL;
			b->sealing++;
		}
	}
	pthread_mutex_unlock(&b->lock);
	if (r)
		return batch_fail(b, r, err);
	if (was_new)
		*was_new = 1;
	if (full) {
		r = seal(b, full, err);
		pthread_mutex_lock(&b->lock);
		b->sealing--;
		pthread_cond_broadcast(&b->sealed);
		pthread_mutex_unlock(&b->lock);
		if (r)
			return batch_fail(b, r, err);
	}
	return 0;
}

int odb_put(struct odb_batch *b, struct odb_thread *t, int type, const struct oid *id,
	    const void *raw, size_t len, int try_bg, int *was_new, struct strbuf *err)
{
	return put_common(b, t, type, id, raw ? raw : "", len, try_bg, 0, NULL, 0, 0, was_new, err);
}

int odb_put_over(struct odb_batch *b, struct odb_thread *t, int type, const struct oid *id,
		 const void *raw, size_t len, struct strbuf *err)
{
	if (type == OBJ_CHUNK)
		return cerr(err, CAIRN_EINVAL, "odb_put_over: a chunk is its own proof");
	return put_common(b, t, type, id, raw ? raw : "", len, 0, 0, NULL, 0, 1, NULL, err);
}

int odb_put_stored(struct odb_batch *b, struct odb_thread *t, int type, const struct oid *id,
		   int codec, const void *stored, size_t stored_len, size_t raw_len, int *was_new,
		   struct strbuf *err)
{
	return put_common(b, t, type, id, NULL, raw_len, 0, codec, stored, stored_len, 0, was_new,
			  err);
}

int odb_read_stored(struct odb_thread *t, const struct oid *id, int type, int portable,
		    struct strbuf *raw, int *codec, const void **stored, size_t *stored_len,
		    struct strbuf *err)
{
	int r = odb_read(t, id, type, raw, err);
	struct pack_entry e;
	if (r)
		return r;
	pack_entry_header_decode((const uint8_t *)t->stored.buf, &e);
	if (portable && e.codec == CODEC_DELTA) {
		zctx_encode(t->z, raw->buf, raw->len, 0, id->b[0], codec, &t->stored);
		*stored = t->stored.buf;
		*stored_len = t->stored.len;
		return 0;
	}
	*codec = e.codec;
	*stored = t->stored.buf + PACK_ENTRY_HDR_SZ;
	*stored_len = e.stored_len;
	return 0;
}

/* The entry t read last: its depth (0 unless a delta), and its base. */
static int last_delta(const struct odb_thread *t, struct oid *base)
{
	struct pack_entry e;
	if (t->stored.len <= PACK_ENTRY_HDR_SZ + DELTA_HDR ||
	    pack_entry_header_decode((const uint8_t *)t->stored.buf, &e) || e.codec != CODEC_DELTA)
		return 0;
	memcpy(base->b, t->stored.buf + PACK_ENTRY_HDR_SZ + 1, OID_RAWSZ);
	return (uint8_t)t->stored.buf[PACK_ENTRY_HDR_SZ];
}

int odb_last_delta_base(const struct odb_thread *t, struct oid *base)
{
	return last_delta(t, base) > 0;
}

int odb_put_tree(struct odb_batch *b, struct odb_thread *t, const struct oid *id,
		 const void *raw, size_t len, const struct oid *base, struct strbuf *err)
{
	struct strbuf braw = STRBUF_INIT, delta = STRBUF_INIT, plain = STRBUF_INIT;
	struct strbuf ignore = STRBUF_INIT;
	struct obj_loc loc;
	struct oid bb;
	int r, depth, codec;

	if (!base || oid_eq(base, id) || !odb_lookup(t, id, OBJ_TREE, &loc, NULL) ||
	    odb_read(t, base, OBJ_TREE, &braw, &ignore))
		goto plain;
	/* the base's chain, one longer */
	depth = last_delta(t, &bb) + 1;
	if (depth > DELTA_MAX_DEPTH)
		goto plain;
	strbuf_addch(&delta, (char)depth);
	strbuf_add(&delta, base->b, OID_RAWSZ);
	if (zctx_delta_encode(t->z, braw.buf, braw.len, raw, len, &delta))
		goto plain;
	zctx_encode(t->z, raw, len, 0, id->b[0], &codec, &plain);
	if (delta.len * 4 <= plain.len * 3)
		r = odb_put_stored(b, t, OBJ_TREE, id, CODEC_DELTA, delta.buf, delta.len, len, NULL,
				   err);
	else
		r = odb_put_stored(b, t, OBJ_TREE, id, codec, plain.buf, plain.len, len, NULL, err);
	goto out;
plain:
	r = odb_put(b, t, OBJ_TREE, id, raw, len, 0, NULL, err);
out:
	strbuf_release(&braw);
	strbuf_release(&delta);
	strbuf_release(&plain);
	strbuf_release(&ignore);
	return r;
}

void odb_batch_set_replace(struct odb_batch *b)
{
	b->replace = 1;
}

static void drop_writer(struct pack_writer *w)
{
	if (w) {
		pack_writer_release(w);
		free(w);
	}
}

static void batch_free(struct odb_batch *b)
{
	drop_writer(b->cur);
	drop_writer(b->meta);
	oidset_release(&b->seen);
	oidset_release(&b->over);
	strbuf_release(&b->errmsg);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->sealed);
	free(b);
}

int odb_batch_commit(struct odb_batch *b, struct odb_stats *stats, struct strbuf *err)
{
	struct pack_writer *last, *meta;
	int r;

	pthread_mutex_lock(&b->lock);
	while (b->sealing)
		pthread_cond_wait(&b->sealed, &b->lock);
	last = b->cur;
	meta = b->meta;
	b->cur = b->meta = NULL;
	r = b->failed;
	pthread_mutex_unlock(&b->lock);
	if (r) {
		cerr(err, r, "%s", b->errmsg.buf);
		drop_writer(last);
		drop_writer(meta);
	} else {
		/* chunks first: then what names them */
		if (last)
			r = seal(b, last, err);
		else
			last = NULL;
		if (!r && meta)
			r = seal(b, meta, err);
		else if (meta)
			drop_writer(meta);
	}
	if (stats)
		*stats = b->stats;
	batch_free(b);
	return r;
}

void odb_batch_abort(struct odb_batch *b)
{
	pthread_mutex_lock(&b->lock);
	while (b->sealing)
		pthread_cond_wait(&b->sealed, &b->lock);
	pthread_mutex_unlock(&b->lock);
	batch_free(b);
}

int odb_totals(struct odb_thread *t, struct odb_totals *tot, struct strbuf *err)
{
	MDB_txn *txn = idx_rd_begin(&t->rd, err);
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	memset(tot, 0, sizeof(*tot));
	if (!txn)
		return CAIRN_ELMDB;
	rc = mdb_cursor_open(txn, t->odb->idx->pack, &cur);
	if (!rc) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			tot->packs++;
			if (v.mv_size >= 24)
				tot->pack_bytes += get_le64((const uint8_t *)v.mv_data + 16);
		}
		mdb_cursor_close(cur);
	}
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_open(txn, t->odb->idx->obj, &cur);
	if (!rc) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			struct obj_loc loc;
			int type;
			if (k.mv_size != OID_RAWSZ + 1 || obj_loc_decode(v.mv_data, v.mv_size, &loc))
				continue;
			type = ((const uint8_t *)k.mv_data)[OID_RAWSZ];
			if (type < 1 || type > 3)
				continue;
			tot->objects[type]++;
			tot->raw_bytes[type] += loc.raw_len;
			tot->stored_bytes[type] += loc.stored_len;
		}
		mdb_cursor_close(cur);
	}
	idx_rd_end(&t->rd);
	if (rc != MDB_NOTFOUND)
		return idx_err(err, rc, "statistics");
	return 0;
}

int odb_list_packs(struct odb_thread *t, struct odb_pack_info **out, size_t *n,
		   struct strbuf *err)
{
	MDB_txn *txn = idx_rd_begin(&t->rd, err);
	MDB_cursor *cur;
	MDB_val k, v;
	struct odb_pack_info *p = NULL;
	size_t nr = 0, alloc = 0;
	int rc;

	if (!txn)
		return CAIRN_ELMDB;
	rc = mdb_cursor_open(txn, t->odb->idx->pack, &cur);
	if (!rc) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			const uint8_t *b = v.mv_data;
			if (k.mv_size != sizeof(uint32_t) || v.mv_size < 36)
				continue;
			ALLOC_GROW(p, nr + 1, alloc);
			memcpy(&p[nr].no, k.mv_data, sizeof(uint32_t));
			memcpy(p[nr].id.b, b, OID_RAWSZ);
			p[nr].size = get_le64(b + 16);
			p[nr].count = get_le32(b + 24);
			p[nr].raw = get_le64(b + 28);
			nr++;
		}
		mdb_cursor_close(cur);
	}
	idx_rd_end(&t->rd);
	if (rc != MDB_NOTFOUND) {
		free(p);
		return idx_err(err, rc, "pack table");
	}
	*out = p;
	*n = nr;
	return 0;
}

int odb_foreach_object(struct odb_thread *t,
		       int (*fn)(const struct oid *id, int type, const struct obj_loc *loc,
				 void *data),
		       void *data, struct strbuf *err)
{
	MDB_txn *txn = idx_rd_begin(&t->rd, err);
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;

	if (!txn)
		return CAIRN_ELMDB;
	rc = mdb_cursor_open(txn, t->odb->idx->obj, &cur);
	if (!rc) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && !r;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			struct obj_loc loc;
			struct oid id;
			int type = 0;
			memset(&loc, 0, sizeof(loc));
			memset(&id, 0, sizeof(id));
			if (k.mv_size == OID_RAWSZ + 1 && !obj_loc_decode(v.mv_data, v.mv_size, &loc)) {
				type = ((const uint8_t *)k.mv_data)[OID_RAWSZ];
				if (type < OBJ_CHUNK || type > OBJ_TREE)
					type = 0;
			}
			if (k.mv_size >= OID_RAWSZ)
				memcpy(id.b, k.mv_data, OID_RAWSZ);
			r = fn(&id, type, &loc, data);
		}
		mdb_cursor_close(cur);
	}
	idx_rd_end(&t->rd);
	if (r)
		return r;
	if (rc != MDB_NOTFOUND)
		return idx_err(err, rc, "object table");
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

struct rewrite_ctx {
	struct idx *idx;
	struct odb_rewrite *rw;
	uint32_t *drop_packs; /* sorted copy */
};

static int rewrite_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct rewrite_ctx *c = data;
	struct odb_rewrite *rw = c->rw;
	struct idx *idx = c->idx;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t key[OID_RAWSZ + 1];
	uint64_t dups = 0;
	uint32_t no = 0;
	size_t i;
	int rc, r;

	rw->dropped_entries = 0;
	/* 1. new packs, their entries over whatever was indexed */
	r = next_pack_no(idx, txn, &no, err);
	if (r)
		return r;
	for (i = 0; i < rw->npacks; i++, no++) {
		const struct odb_new_pack *np = &rw->packs[i];
		r = put_pack_row(idx, txn, no, &np->id, np->size, np->n, np->raw, err);
		if (r)
			return r;
		r = put_obj_rows(idx, txn, no, np->e, np->n, 0, NULL, &dups, err);
		if (r)
			return r;
	}
	r = set_pack_next(idx, txn, no, err);
	if (r)
		return r;
	/* 2. dead entries */
	for (i = 0; i < rw->ndrop; i++) {
		idx_obj_key(key, &rw->drop[i].id, rw->drop[i].type);
		k.mv_data = key;
		k.mv_size = sizeof(key);
		rc = mdb_del(txn, idx->obj, &k, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return idx_err(err, rc, "delete object");
	}
	if (!rw->ndrop_packs)
		return 0;
	/* 3. dropped packs, and whatever still points into them */
	for (i = 0; i < rw->ndrop_packs; i++) {
		uint32_t d = c->drop_packs[i];
		k.mv_data = &d;
		k.mv_size = sizeof(d);
		rc = mdb_del(txn, idx->pack, &k, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return idx_err(err, rc, "delete pack");
	}
	rc = mdb_cursor_open(txn, idx->obj, &cur);
	if (rc)
		return idx_err(err, rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct obj_loc loc;
		if (obj_loc_decode(v.mv_data, v.mv_size, &loc))
			continue;
		if (!bsearch(&loc.pack_no, c->drop_packs, rw->ndrop_packs, sizeof(uint32_t), u32_cmp))
			continue;
		rc = mdb_cursor_del(cur, 0);
		if (rc)
			break;
		rw->dropped_entries++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return idx_err(err, rc, "delete object");
	return 0;
}

int odb_rewrite(struct odb *odb, struct odb_rewrite *rw, struct strbuf *err)
{
	struct rewrite_ctx c;
	size_t i;
	int r;

	c.idx = odb->idx;
	c.rw = rw;
	c.drop_packs = xcalloc(rw->ndrop_packs + 1, sizeof(uint32_t));
	if (rw->ndrop_packs)
		memcpy(c.drop_packs, rw->drop_packs, rw->ndrop_packs * sizeof(uint32_t));
	sort_array(c.drop_packs, rw->ndrop_packs, sizeof(uint32_t), u32_cmp);
	r = idx_write(odb->idx, rewrite_txn, &c, err);
	if (!r) {
		/* our own cached fds of dropped packs: their files go next */
		for (i = 0; i < rw->ndrop_packs; i++)
			pack_fds_drop(&odb->packs_open, rw->drop_packs[i]);
	}
	free(c.drop_packs);
	return r;
}

/* --- rebuilding the index from the packs --- */

/*
 * Reads the entries of a pack by walking it (for a pack whose .idx is
 * missing or damaged): header after header to the end. The pack must hash
 * to its name. Then writes a fresh .idx beside it.
 */
static int scan_pack(const char *pack_path, const char *idx_path, const struct oid *name,
		     struct pack_entry **out, size_t *nout, uint64_t *size, struct strbuf *err)
{
	struct strbuf data = STRBUF_INIT, enc = STRBUF_INIT;
	struct pack_entry *e = NULL;
	size_t n = 0, alloc = 0;
	uint64_t off = PACK_HDR_SZ;
	struct oid got;
	int r;

	r = read_file(pack_path, (size_t)16 << 30, &data, err);
	if (r)
		goto out;
	oid_hash(&got, data.buf, data.len);
	if (!oid_eq(&got, name)) {
		r = cerr(err, CAIRN_ECORRUPT, "pack '%s' does not match its name", pack_path);
		goto out;
	}
	if (data.len < PACK_HDR_SZ || pack_header_check((const uint8_t *)data.buf)) {
		r = cerr(err, CAIRN_ECORRUPT, "pack '%s' has a bad header", pack_path);
		goto out;
	}
	while (off < data.len) {
		struct pack_entry pe;
		if (data.len - off < PACK_ENTRY_HDR_SZ ||
		    pack_entry_header_decode((const uint8_t *)data.buf + off, &pe) ||
		    data.len - off - PACK_ENTRY_HDR_SZ < pe.stored_len) {
			r = cerr(err, CAIRN_ECORRUPT, "pack '%s': a bad entry at offset %llu", pack_path,
				 (unsigned long long)off);
			goto out;
		}
		pe.offset = off;
		ALLOC_GROW(e, n + 1, alloc);
		e[n++] = pe;
		off += PACK_ENTRY_HDR_SZ + pe.stored_len;
	}
	pack_idx_encode(&enc, name, data.len, e, n);
	r = write_file_atomic(idx_path, enc.buf, enc.len, 1, err);
	*size = data.len;
out:
	if (r) {
		free(e);
		e = NULL;
		n = 0;
	}
	*out = e;
	*nout = n;
	strbuf_release(&data);
	strbuf_release(&enc);
	return r;
}

struct rebuild_ctx {
	struct idx *idx;
	uint32_t no;
	const struct oid *id;
	uint64_t size, raw;
	const struct pack_entry *e;
	size_t n;
	uint64_t dups;
};

static int rebuild_txn(MDB_txn *txn, void *data, struct strbuf *err)
{
	struct rebuild_ctx *c = data;
	int r = put_pack_row(c->idx, txn, c->no, c->id, c->size, c->n, c->raw, err);
	if (!r)
		r = put_obj_rows(c->idx, txn, c->no, c->e, c->n, MDB_NOOVERWRITE, NULL, &c->dups,
				 err);
	if (!r)
		r = set_pack_next(c->idx, txn, c->no + 1, err);
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int odb_rebuild_index(const char *dir, struct odb_rebuild_stats *st, struct strbuf *err)
{
	struct odb lk;
	struct idx *idx = NULL;
	char *ipath = xstrfmt("%s/index", dir), *packdir = xstrfmt("%s/packs", dir), *aside = NULL;
	char **names = NULL;
	size_t nn = 0, an = 0, i;
	DIR *d;
	struct dirent *de;
	int r;

	memset(st, 0, sizeof(*st));
	strbuf_init(&st->notes, 0);
	memset(&lk, 0, sizeof(lk));
	lk.dir = (char *)dir;
	lk.lock_fd = -1;
	pthread_mutex_init(&lk.fd_lock, NULL);
	r = odb_lock(&lk, ODB_LOCK_EXCLUSIVE, 2000, err);
	if (r)
		goto out;
	d = opendir(packdir);
	if (!d) {
		r = cerr_errno(err, "cannot read '%s'", packdir);
		goto out;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len == OID_HEXSZ + 5 && !strcmp(de->d_name + OID_HEXSZ, ".pack")) {
			ALLOC_GROW(names, nn + 1, an);
			names[nn++] = xstrndup(de->d_name, OID_HEXSZ);
		}
	}
	closedir(d);
	sort_array(names, nn, sizeof(*names), cmp_name);
	/* the old index is kept aside, not deleted: it may help a post-mortem */
	r = move_aside(ipath, &aside, err);
	if (r)
		goto out;
	r = idx_open(&idx, ipath, IDX_STORE, 0, err);
	for (i = 0; i < nn && !r; i++) {
		char *pp = xstrfmt("%s/%s.pack", packdir, names[i]);
		char *ip = xstrfmt("%s/%s.idx", packdir, names[i]);
		struct strbuf data = STRBUF_INIT, e2 = STRBUF_INIT;
		struct pack_entry *e = NULL;
		size_t n = 0, k;
		struct oid name, pid;
		uint64_t psize = 0;
		struct stat sb;
		int bad = oid_from_hex(&name, names[i], OID_HEXSZ) || stat(pp, &sb) < 0;
		if (!bad && (read_file(ip, (size_t)1 << 30, &data, &e2) ||
			     pack_idx_decode(data.buf, data.len, ip, &pid, &psize, &e, &n, &e2) ||
			     !oid_eq(&pid, &name) || psize != (uint64_t)sb.st_size)) {
			/* no usable .idx: read the pack itself */
			free(e);
			e = NULL;
			strbuf_reset(&e2);
			if (scan_pack(pp, ip, &name, &e, &n, &psize, &e2)) {
				strbuf_addf(&st->notes, "%s; left out of the index\n", e2.buf);
				st->skipped++;
				bad = 1;
			} else {
				st->reindexed++;
			}
		}
		if (!bad) {
			struct rebuild_ctx c;
			memset(&c, 0, sizeof(c));
			c.idx = idx;
			c.no = (uint32_t)(st->packs + 1);
			c.id = &name;
			c.size = psize;
			c.e = e;
			c.n = n;
			for (k = 0; k < n; k++)
				c.raw += e[k].raw_len;
			r = idx_write(idx, rebuild_txn, &c, err);
			if (!r) {
				st->packs++;
				st->objects += n - c.dups;
				st->dups += c.dups;
			}
		}
		free(e);
		free(pp);
		free(ip);
		strbuf_release(&data);
		strbuf_release(&e2);
	}
	if (!r)
		st->aside = aside, aside = NULL;
	/* one commit per pack, in no key order: compact it as a writer would */
	if (!r && idx_compact_due(idx)) {
		struct strbuf e3 = STRBUF_INIT;
		if (idx_compact(idx, ipath, &e3) < 0)
			core_report("warning", "the index was not compacted: %s", e3.buf);
		strbuf_release(&e3);
		idx = NULL;
	}
out:
	if (idx)
		idx_close(idx);
	odb_unlock(&lk);
	pthread_mutex_destroy(&lk.fd_lock);
	for (i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	free(ipath);
	free(packdir);
	free(aside);
	return r;
}
