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

static int ingest_file(size_t i, struct par_thread *pt, void *data, struct strbuf *err)
{
	struct ingest *in = data;
	struct wt_node *n = in->files[i];
	struct repo *r = in->r;
	struct chunker ch;
	struct manifest m;
	struct oid_ctx oc;
	struct sha256_ctx sc;
	struct strbuf *buf = &pt->buf;
	size_t cap = READ_BLOCK + r->chunk_max, have = 0, start = 0, scan = 0;
	int inline_put = in->inline_all || n->size < INLINE_LIMIT;
	uint64_t total = 0;
	char *abs;
	int fd, ret = 0, eof = 0;

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
			got = read_full(fd, buf->buf + have, want);
			if (got < 0) {
				ret = cerr_errno(err, "cannot read '%s'", n->path);
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
			ret = store_chunk(in, &pt->odb, inline_put, &cid, (uint8_t *)buf->buf + start,
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
				ret = store_chunk(in, &pt->odb, inline_put, &cid,
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
	close(fd);
	oid_ctx_final(&oc, &n->id);
	sha256_final(&sc, &n->sha);
	n->size = total;
	if (!ret && m.n > 1) {
		struct strbuf enc = STRBUF_INIT;
		m.size = total;
		m.sha = n->sha;
		manifest_encode(&m, &enc);
		ret = odb_put(in->b, &pt->odb, OBJ_MANIFEST, &n->id, enc.buf, enc.len, 0, NULL, err);
		strbuf_release(&enc);
	}
	manifest_release(&m);
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

struct tree_store {
	struct ingest *in;
	struct odb_thread *t;
};

static int store_tree(struct wt_node *dir, const struct tree *t, const struct strbuf *enc,
		      void *data, struct strbuf *err)
{
	struct tree_store *ts = data;
	return odb_put(ts->in->b, ts->t, OBJ_TREE, &dir->id, enc->buf, enc->len, 0, NULL, err);
}

int ingest_nodes(struct repo *r, struct odb_batch *b, struct wt_node **roots, size_t nroots,
		 struct progress *p, struct ingest_stats *st, struct strbuf *err)
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

	memset(&in, 0, sizeof(in));
	in.r = r;
	in.b = b;
	in.p = p;
	in.files = todo;
	pthread_mutex_init(&in.lock, NULL);
	pthread_cond_init(&in.not_empty, NULL);
	pthread_cond_init(&in.not_full, NULL);
	in.qcap = 1024;
	in.q = xcalloc(in.qcap, sizeof(*in.q));
	strbuf_init(&in.errmsg, 0);
	comp = xcalloc((size_t)ncomp, sizeof(*comp));
	if (!ret && nt && todo_bytes >= INLINE_LIMIT) {
		for (i = 0; i < (size_t)ncomp; i++) {
			comp[i].in = &in;
			if (pthread_create(&comp[i].tid, NULL, compress_main, &comp[i]))
				break;
			started++;
		}
	}
	in.inline_all = !started;
	if (!ret)
		ret = par_for(r->threads, nt, r->odb, ingest_file, &in, err);
	pthread_mutex_lock(&in.lock);
	in.closing = 1;
	if (ret && !in.failed)
		in.failed = ret;
	pthread_cond_broadcast(&in.not_empty);
	pthread_mutex_unlock(&in.lock);
	for (i = 0; i < (size_t)started; i++)
		pthread_join(comp[i].tid, NULL);
	/* a failure with nothing started still needs the queue drained */
	while (in.qlen) {
		free(in.q[in.qhead].data);
		in.qhead = (in.qhead + 1) % in.qcap;
		in.qlen--;
	}
	if (!ret && in.failed)
		ret = cerr(err, in.failed, "%s", in.errmsg.buf);
	if (!ret) {
		struct tree_store ts = { &in, &t };
		for (i = 0; i < nroots && !ret; i++)
			if (roots[i]->mode == MODE_DIR)
				ret = wt_compute_trees(roots[i], store_tree, &ts, err);
	}
	if (st) {
		st->files = n;
		st->files_read = in.files_read;
		st->bytes_read = in.bytes_read;
	}
	free(comp);
	free(in.q);
	strbuf_release(&in.errmsg);
	pthread_mutex_destroy(&in.lock);
	pthread_cond_destroy(&in.not_empty);
	pthread_cond_destroy(&in.not_full);
	free(all);
	free(todo);
	odb_thread_release(&t);
	return ret;
}
