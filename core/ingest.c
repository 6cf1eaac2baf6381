#include "core/ingest.h"
#include "core/chunker.h"
#include "core/content.h"
#include "core/parallel.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_BLOCK (4u << 20)
#define QUEUE_BYTES (32u << 20)
#define INLINE_LIMIT (1u << 20) /* files below this compress in the reader */

struct qitem {
	struct oid id;
	uint8_t *data;
	uint32_t len;
};

struct ingest {
	struct repo *r;
	struct odb_batch *b;
	struct progress *p;
	struct wt_node **files;
	/* the chunk queue */
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	struct qitem *q;
	size_t qcap, qhead, qlen, qbytes;
	int closing;
	int inline_all; /* no compressor threads: readers store everything */
	int failed;
	struct strbuf errmsg;
	uint64_t files_read, bytes_read;
};

int odb_has_file(struct odb_thread *t, const struct oid *id, uint64_t size, struct strbuf *err)
{
	struct obj_loc loc;
	int r;
	if (!size)
		return 1;
	r = odb_lookup(t, id, OBJ_CHUNK, &loc, err);
	if (r != CAIRN_ENOTFOUND)
		return r ? r : 1;
	r = odb_lookup(t, id, OBJ_MANIFEST, &loc, err);
	if (r == CAIRN_ENOTFOUND)
		return 0;
	if (r)
		return r;
	{
		/* a manifest without all its chunks (an interrupted fetch) is
		 * not the file */
		struct manifest m;
		size_t i;
		r = content_chunks(t, id, size, &m, err);
		if (r)
			return r == CAIRN_ENOTFOUND || r == CAIRN_ECORRUPT ? 0 : r;
		for (i = 0; i < m.n && !r; i++)
			r = odb_lookup(t, &m.chunks[i].id, OBJ_CHUNK, &loc, err);
		manifest_release(&m);
		if (r == CAIRN_ENOTFOUND)
			return 0;
		return r ? r : 1;
	}
}

static void set_failed(struct ingest *in, int r, struct strbuf *err)
{
	pthread_mutex_lock(&in->lock);
	if (!in->failed) {
		in->failed = r;
		strbuf_addstr(&in->errmsg, err->buf);
	}
	pthread_cond_broadcast(&in->not_full);
	pthread_cond_broadcast(&in->not_empty);
	pthread_mutex_unlock(&in->lock);
}

/* Queue a copy of a chunk; blocks while the queue is full. */
static int enqueue(struct ingest *in, const struct oid *id, const uint8_t *data, uint32_t len,
		   struct strbuf *err)
{
	struct qitem *it;
	int r;
	pthread_mutex_lock(&in->lock);
	while (!in->failed && in->qlen && (in->qbytes + len > QUEUE_BYTES || in->qlen == in->qcap))
		pthread_cond_wait(&in->not_full, &in->lock);
	r = in->failed;
	if (!r) {
		it = &in->q[(in->qhead + in->qlen) % in->qcap];
		it->id = *id;
		it->len = len;
		it->data = xmalloc(len ? len : 1);
		memcpy(it->data, data, len);
		in->qlen++;
		in->qbytes += len;
		pthread_cond_signal(&in->not_empty);
	} else {
		cerr(err, r, "%s", in->errmsg.buf); /* a compressor failed first */
	}
	pthread_mutex_unlock(&in->lock);
	return r;
}

struct compressor {
	struct ingest *in;
	pthread_t tid;
};

static void *compress_main(void *arg)
{
	struct compressor *c = arg;
	struct ingest *in = c->in;
	struct odb_thread t;
	struct strbuf err = STRBUF_INIT;

	odb_thread_init(&t, in->r->odb);
	for (;;) {
		struct qitem it;
		int r;
		pthread_mutex_lock(&in->lock);
		while (!in->qlen && !in->closing && !in->failed)
			pthread_cond_wait(&in->not_empty, &in->lock);
		if (!in->qlen) {
			pthread_mutex_unlock(&in->lock);
			break;
		}
		it = in->q[in->qhead];
		in->qhead = (in->qhead + 1) % in->qcap;
		in->qlen--;
		in->qbytes -= it.len;
		pthread_cond_signal(&in->not_full);
		pthread_mutex_unlock(&in->lock);
		r = in->failed ? 0 : odb_put(in->b, &t, OBJ_CHUNK, &it.id, it.data, it.len, 0, NULL, &err);
		free(it.data);
		if (r)
			set_failed(in, r, &err);
	}
	odb_thread_release(&t);
	strbuf_release(&err);
	return NULL;
}

static int store_chunk(struct ingest *in, struct odb_thread *t, int inline_put,
		       const struct oid *id, const uint8_t *data, size_t len, struct strbuf *err)
{
	if (inline_put)
		return odb_put(in->b, t, OBJ_CHUNK, id, data, len, 0, NULL, err);
	return enqueue(in, id, data, (uint32_t)len, err);
}

/*
 * Stores the manifest just made from the file's bytes. A manifest the
 * store has already under this id is kept only when it is the same bytes:
 * one fetched from a remote is not proof of anything (it may list any
 * chunks; remote-format.md, "Manifests are verified"), and one made here
 * with other chunk sizes is as good as ours. Any other is indexed over.
 */
static int put_manifest(struct ingest *in, struct odb_thread *t, const struct oid *id,
			const struct strbuf *enc, struct strbuf *err)
{
	struct strbuf old = STRBUF_INIT, e2 = STRBUF_INIT;
	struct obj_loc loc;
	int r = odb_lookup(t, id, OBJ_MANIFEST, &loc, err);
	if (r == CAIRN_ENOTFOUND)
		return odb_put(in->b, t, OBJ_MANIFEST, id, enc->buf, enc->len, 0, NULL, err);
	if (r)
		return r;
	r = odb_read(t, id, OBJ_MANIFEST, &old, &e2);
	if (!r && old.len == enc->len && !memcmp(old.buf, enc->buf, enc->len))
		r = 0;
	else
		r = odb_put_over(in->b, t, OBJ_MANIFEST, id, enc->buf, enc->len, err);
	strbuf_release(&old);
	strbuf_release(&e2);
	return r;
}

/*
 * Streams one file's bytes from rd through the chunker into the store,
 * hashing the whole (XXH3-128, SHA-256) as it goes; a file of several
 * chunks gets a manifest. `buf` is the caller's scratch buffer.
 */
static int chunk_stream(struct ingest *in, struct odb_thread *t, int inline_put,
			ingest_read_fn rd, void *rdata, struct strbuf *buf, struct oid *id,
			struct sha256 *sha, uint64_t *size, struct strbuf *err)
{
	struct repo *r = in->r;
	struct chunker ch;
	struct manifest m;
	struct oid_ctx oc;
	struct sha256_ctx sc;
	size_t cap = READ_BLOCK + r->chunk_max, have = 0, start = 0, scan = 0;
	uint64_t total = 0;
	int ret = 0, eof = 0;

	chunker_init(&ch, r->chunk_min, r->chunk_avg, r->chunk_max);
	manifest_init(&m);
	oid_ctx_init(&oc);
	sha256_init(&sc);
	strbuf_grow(buf, cap);
	while (!ret) {
		/* fill */
		if (!eof && have < cap) {
			size_t want = cap - have;
			ssize_t got;
			if (want > READ_BLOCK)
				want = READ_BLOCK;
			got = rd(rdata, buf->buf + have, want, err);
			if (got < 0) {
				ret = (int)got;
				break;
			}
			if ((size_t)got < want)
				eof = 1;
			oid_ctx_update(&oc, buf->buf + have, (size_t)got);
			sha256_update(&sc, buf->buf + have, (size_t)got);
			have += (size_t)got;
			total += (uint64_t)got;
			progress_add(in->p, 0, (uint64_t)got);
		}
		/* cut */
		while (scan < have) {
			size_t cut = chunker_scan(&ch, (const uint8_t *)buf->buf + scan, have - scan);
			struct oid cid;
			if (!cut) {
				scan = have;
				break;
			}
			scan += cut;
			oid_hash(&cid, buf->buf + start, scan - start);
			manifest_add(&m, &cid, (uint32_t)(scan - start));
			ret = store_chunk(in, t, inline_put, &cid, (uint8_t *)buf->buf + start,
					  scan - start, err);
			if (ret)
				break;
			start = scan;
		}
		if (ret)
			break;
		if (eof) {
			if (have > start) {
				struct oid cid;
				oid_hash(&cid, buf->buf + start, have - start);
				manifest_add(&m, &cid, (uint32_t)(have - start));
				ret = store_chunk(in, t, inline_put, &cid,
						  (uint8_t *)buf->buf + start, have - start, err);
			}
			break;
		}
		/* keep the unfinished chunk, make room */
		if (start) {
			memmove(buf->buf, buf->buf + start, have - start);
			have -= start;
			scan -= start;
			start = 0;
		}
	}
	oid_ctx_final(&oc, id);
	sha256_final(&sc, sha);
	*size = total;
	if (!ret && m.n > 1) {
		struct strbuf enc = STRBUF_INIT;
		m.size = total;
		m.sha = *sha;
		manifest_encode(&m, &enc);
		ret = put_manifest(in, t, id, &enc, err);
		strbuf_release(&enc);
	}
	manifest_release(&m);
	return ret;
}

struct fd_reader {
	int fd;
	const char *path;
};

static ssize_t read_fd(void *data, void *buf, size_t len, struct strbuf *err)
{
	struct fd_reader *fr = data;
	ssize_t got = read_full(fr->fd, buf, len);
	if (got < 0)
		return cerr_errno(err, "cannot read '%s'", fr->path);
	return got;
}

static int ingest_file(size_t i, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct ingest *in = data;
	struct wt_node *n = in->files[i];
	struct repo *r = in->r;
	struct strbuf *buf = &pt->buf;
	int inline_put = in->inline_all || n->size < INLINE_LIMIT;
	struct fd_reader fr;
	uint64_t total = 0;
	char *abs;
	int fd, ret = 0;

	if (in->failed)
		return 0;
	abs = repo_abspath(r, n->path);
	if (n->mode == MODE_LINK) {
		ret = wt_hash_path(abs, n->mode, &n->id, &n->sha, &n->size, buf, err);
		if (!ret) {
			char target[4097];
			ssize_t l = readlink(abs, target, sizeof(target));
			if (l < 0 || (uint64_t)l != n->size)
				ret = cerr(err, CAIRN_EIO, "symlink '%s' changed while being added", n->path);
			else
				ret = odb_put(in->b, &pt->odb, OBJ_CHUNK, &n->id, target, (size_t)l, 0, NULL, err);
		}
		free(abs);
		if (!ret)
			n->known = 1;
		progress_add(in->p, 1, n->size);
		return ret;
	}
	fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = cerr_errno(err, "cannot open '%s'", n->path);
		free(abs);
		return ret;
	}
	free(abs);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	fr.fd = fd;
	fr.path = n->path;
	ret = chunk_stream(in, &pt->odb, inline_put, read_fd, &fr, buf, &n->id, &n->sha, &total, err);
	close(fd);
	n->size = total;
	if (!ret) {
		n->known = 1;
		__atomic_add_fetch(&in->files_read, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&in->bytes_read, total, __ATOMIC_RELAXED);
		progress_add(in->p, 1, 0);
	}
	return ret;
}

static int size_desc(const void *a, const void *b)
{
	const struct wt_node *x = *(struct wt_node *const *)a, *y = *(struct wt_node *const *)b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->path, y->path);
}

/*
 * Trees are stored as deltas against the same directory's tree in the
 * version being replaced (`base`, the root's old tree; zero when there is
 * none). Directories come bottom-up, depth first, so the old trees along
 * the way are kept as a stack: lv[i] is the old tree at depth i below the
 * root, reused while the next directory shares its path.
 */
struct old_level {
	char *path;
	size_t len; /* of path */
	struct tree tr;
};

struct tree_store {
	struct ingest *in;
	struct odb_thread *t;
	const struct wt_node *root;
	struct oid base;
	struct old_level *lv;
	size_t nlv, alv;
	struct strbuf raw;
};

static void pop_levels(struct tree_store *ts, size_t keep)
{
	while (ts->nlv > keep) {
		ts->nlv--;
		free(ts->lv[ts->nlv].path);
		tree_release(&ts->lv[ts->nlv].tr);
	}
}

/* Pushes the old tree `id` at `path` (len bytes); 0 when it cannot be read. */
static int push_level(struct tree_store *ts, const char *path, size_t len, const struct oid *id)
{
	struct strbuf ignore = STRBUF_INIT;
	struct old_level *l;
	int ok = !odb_read(ts->t, id, OBJ_TREE, &ts->raw, &ignore);
	strbuf_release(&ignore);
	if (!ok)
		return 0;
	ALLOC_GROW(ts->lv, ts->nlv + 1, ts->alv);
	l = &ts->lv[ts->nlv];
	tree_init(&l->tr);
	if (tree_decode(&l->tr, ts->raw.buf, ts->raw.len, NULL)) {
		tree_release(&l->tr);
		return 0;
	}
	l->path = xstrndup(path, len);
	l->len = len;
	ts->nlv++;
	return 1;
}

/* The old tree of directory `dir`, if the replaced version had one. */
static int find_base(struct tree_store *ts, const struct wt_node *dir, struct oid *out)
{
	const char *p = dir->path, *c;
	size_t depth = 0, rl = ts->root->pathlen;
	const struct tree_entry *e;

	if (oid_is_zero(&ts->base))
		return 0;
	if (dir == ts->root) {
		*out = ts->base;
		return 1;
	}
	if (!ts->nlv && !push_level(ts, p, rl, &ts->base))
		return 0;
	/*
	 * Every component but the last names an old tree on the stack. Each
	 * level's path extends the one below it, which matched already: only
	 * the last component is compared (whole paths made a deep directory
	 * cost time cubic in its depth).
	 */
	for (c = p + rl + 1; (c = strchr(c, '/')); c++) {
		size_t len = (size_t)(c - p), start;
		char *name;
		depth++;
		start = ts->lv[depth - 1].len + 1;
		if (depth < ts->nlv && ts->lv[depth].len == len &&
		    !memcmp(ts->lv[depth].path + start, p + start, len - start))
			continue;
		pop_levels(ts, depth);
		name = xstrndup(p + start, len - start);
		e = tree_find(&ts->lv[depth - 1].tr, name);
		free(name);
		if (!e || e->mode != MODE_DIR || !push_level(ts, p, len, &e->id))
			return 0;
	}
	pop_levels(ts, depth + 1);
	e = tree_find(&ts->lv[depth].tr, dir->name);
	if (!e || e->mode != MODE_DIR)
		return 0;
	*out = e->id;
	return 1;
}

static int store_tree(struct wt_node *dir, const struct tree *t, const struct strbuf *enc,
		      void *data, struct strbuf *err)
{
	struct tree_store *ts = data;
	struct oid base;
	int has = find_base(ts, dir, &base);
	return odb_put_tree(ts->in->b, ts->t, &dir->id, enc->buf, enc->len, has ? &base : NULL,
			    err);
}

static void ingest_setup(struct ingest *in, struct repo *r, struct odb_batch *b,
			 struct progress *p)
{
	memset(in, 0, sizeof(*in));
	in->r = r;
	in->b = b;
	in->p = p;
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->not_empty, NULL);
	pthread_cond_init(&in->not_full, NULL);
	in->qcap = 1024;
	in->q = xcalloc(in->qcap, sizeof(*in->q));
	strbuf_init(&in->errmsg, 0);
}

/* Starts up to n compressor threads into comp[]; returns how many run. */
static int start_compressors(struct ingest *in, struct compressor *comp, int n)
{
	int i, started = 0;
	for (i = 0; i < n; i++) {
		comp[i].in = in;
		if (pthread_create(&comp[i].tid, NULL, compress_main, &comp[i]))
			break;
		started++;
	}
	in->inline_all = !started;
	return started;
}

/*
 * Lets the compressors drain the queue and stop (ret != 0: drop what is
 * queued), then frees the queue. Returns ret, or a compressor's error.
 */
static int ingest_teardown(struct ingest *in, struct compressor *comp, int started, int ret,
			   struct strbuf *err)
{
	int i;
	pthread_mutex_lock(&in->lock);
	in->closing = 1;
	if (ret && !in->failed)
		in->failed = ret;
	pthread_cond_broadcast(&in->not_empty);
	pthread_mutex_unlock(&in->lock);
	for (i = 0; i < started; i++)
		pthread_join(comp[i].tid, NULL);
	/* a failure with nothing started still needs the queue drained */
	while (in->qlen) {
		free(in->q[in->qhead].data);
		in->qhead = (in->qhead + 1) % in->qcap;
		in->qlen--;
	}
	if (!ret && in->failed)
		ret = cerr(err, in->failed, "%s", in->errmsg.buf);
	free(in->q);
	in->q = NULL;
	strbuf_release(&in->errmsg);
	pthread_mutex_destroy(&in->lock);
	pthread_cond_destroy(&in->not_empty);
	pthread_cond_destroy(&in->not_full);
	return ret;
}

int ingest_nodes(struct repo *r, struct odb_batch *b, struct wt_node **roots,
		 const struct oid *bases, size_t nroots, struct progress *p,
		 struct ingest_stats *st, struct strbuf *err)
{
	struct ingest in;
	struct wt_node **all = NULL, **todo;
	size_t n = 0, alloc = 0, i, nt = 0;
	struct odb_thread t;
	struct compressor *comp;
	int ret = 0, ncomp = r->threads, started = 0;
	uint64_t todo_bytes = 0;

	odb_thread_init(&t, r->odb);
	for (i = 0; i < nroots; i++)
		wt_collect_files(roots[i], &all, &n, &alloc);
	todo = xcalloc(n ? n : 1, sizeof(*todo));
	for (i = 0; i < n && !ret; i++) {
		struct wt_node *f = all[i];
		if (f->known) {
			int has = odb_has_file(&t, &f->id, f->size, err);
			if (has < 0)
				ret = has;
			if (has == 1)
				continue;
			f->known = f->from_cache = 0;
		}
		todo[nt++] = f;
		todo_bytes += f->size;
	}
	progress_set_totals(p, nt, todo_bytes);
	sort_array(todo, nt, sizeof(*todo), size_desc);

	ingest_setup(&in, r, b, p);
	in.files = todo;
	comp = xcalloc((size_t)ncomp, sizeof(*comp));
	if (!ret && nt && todo_bytes >= INLINE_LIMIT)
		started = start_compressors(&in, comp, ncomp);
	else
		in.inline_all = 1;
	if (!ret)
		ret = par_for(r->threads, nt, r->odb, ingest_file, &in, err);
	if (st) {
		st->files = n;
		st->files_read = in.files_read;
		st->bytes_read = in.bytes_read;
	}
	ret = ingest_teardown(&in, comp, started, ret, err);
	for (i = 0; i < nroots && !ret; i++) {
		struct tree_store ts;
		if (roots[i]->mode != MODE_DIR)
			continue;
		memset(&ts, 0, sizeof(ts));
		ts.in = &in;
		ts.t = &t;
		ts.root = roots[i];
		if (bases)
			ts.base = bases[i];
		strbuf_init(&ts.raw, 0);
		ret = wt_compute_trees(roots[i], store_tree, &ts, err);
		pop_levels(&ts, 0);
		free(ts.lv);
		strbuf_release(&ts.raw);
	}
	free(comp);
	free(all);
	free(todo);
	odb_thread_release(&t);
	return ret;
}

struct ingest_stream {
	struct ingest in;
	struct compressor *comp;
	int started;
	struct odb_thread t;
	struct strbuf buf;
};

struct ingest_stream *ingest_stream_begin(struct repo *r, struct odb_batch *b, struct progress *p)
{
	struct ingest_stream *s = xcalloc(1, sizeof(*s));
	ingest_setup(&s->in, r, b, p);
	s->comp = xcalloc((size_t)r->threads, sizeof(*s->comp));
	s->started = start_compressors(&s->in, s->comp, r->threads);
	odb_thread_init(&s->t, r->odb);
	strbuf_init(&s->buf, 0);
	return s;
}

int ingest_stream_file(struct ingest_stream *s, ingest_read_fn rd, void *data, struct oid *id,
		       struct sha256 *sha, uint64_t *size, struct strbuf *err)
{
	int ret;
	if (s->in.failed) {
		pthread_mutex_lock(&s->in.lock);
		ret = cerr(err, s->in.failed, "%s", s->in.errmsg.buf);
		pthread_mutex_unlock(&s->in.lock);
		return ret;
	}
	ret = chunk_stream(&s->in, &s->t, s->in.inline_all, rd, data, &s->buf, id, sha, size, err);
	if (!ret) {
		s->in.files_read++;
		s->in.bytes_read += *size;
		progress_add(s->in.p, 1, 0);
	}
	return ret;
}

int ingest_stream_put(struct ingest_stream *s, int type, const struct oid *id, const void *raw,
		      size_t len, struct strbuf *err)
{
	return odb_put(s->in.b, &s->t, type, id, raw, len, 0, NULL, err);
}

int ingest_stream_end(struct ingest_stream *s, int ret, struct ingest_stats *st,
		      struct strbuf *err)
{
	if (st) {
		st->files = s->in.files_read;
		st->files_read = s->in.files_read;
		st->bytes_read = s->in.bytes_read;
	}
	ret = ingest_teardown(&s->in, s->comp, s->started, ret, err);
	odb_thread_release(&s->t);
	strbuf_release(&s->buf);
	free(s->comp);
	free(s);
	return ret;
}
