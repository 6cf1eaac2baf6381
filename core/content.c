#include "core/content.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int content_chunks(struct odb_thread *t, const struct oid *id, uint64_t size,
		   struct manifest *m, struct strbuf *err)
{
	struct strbuf raw = STRBUF_INIT;
	char hex[OID_HEXSZ + 1];
	struct obj_loc loc;
	int r;

	manifest_init(m);
	if (!size)
		return 0;
	/* a chunk of the file's size under its id is the file (it hashes to
	 * its id): it comes first, so a manifest planted under the same id
	 * cannot hide it */
	r = odb_lookup(t, id, OBJ_CHUNK, &loc, err);
	if (!r && loc.raw_len == size) {
		m->size = size;
		manifest_add(m, id, (uint32_t)size);
		return 0;
	}
	if (r && r != CAIRN_ENOTFOUND)
		return r;
	r = odb_lookup(t, id, OBJ_MANIFEST, &loc, err);
	if (r == CAIRN_ENOTFOUND && !odb_lookup(t, id, OBJ_CHUNK, &loc, NULL))
		return cerr(err, CAIRN_ECORRUPT, "file %s: stored size %u, expected %llu",
			    oid_to_hex(id, hex), loc.raw_len, (unsigned long long)size);
	if (r == CAIRN_ENOTFOUND)
		return cerr(err, r, "file %s is not in the store", oid_to_hex(id, hex));
	if (r)
		return r;
	r = odb_read(t, id, OBJ_MANIFEST, &raw, err);
	if (!r)
		r = manifest_decode(m, raw.buf, raw.len, err);
	if (!r && m->size != size) {
		manifest_release(m);
		r = cerr(err, CAIRN_ECORRUPT, "manifest of file %s: size %llu, expected %llu",
			 oid_to_hex(id, hex), (unsigned long long)m->size, (unsigned long long)size);
	}
	strbuf_release(&raw);
	return r;
}

/*
 * Decoding ahead: helper threads read, decompress and verify chunks into a
 * ring of slots while the caller hashes the whole file and hands each
 * chunk to fn in order. Chunk i lives in slot i % RING; a helper waits
 * for its slot to be free (the caller is done with chunk i - RING), the
 * caller for its chunk to be ready. At most RING chunks are in memory.
 */
#define RING 16

struct slot {
	struct strbuf buf;
	struct strbuf err;
	int r;
	int ready;
	size_t chunk; /* which chunk the slot holds when ready */
};

struct ahead {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct odb *odb;
	const struct manifest *m;
	const char *what;
	size_t next;     /* the next chunk a helper takes */
	size_t consumed; /* chunks the caller is done with */
	int stop;
	struct slot slots[RING];
};

static int read_chunk(struct odb_thread *t, const struct manifest *m, size_t i, const char *what,
		      struct strbuf *buf, struct strbuf *err)
{
	int r = odb_read(t, &m->chunks[i].id, OBJ_CHUNK, buf, err);
	if (r)
		return cerr_wrap(err, r, "cannot read '%s'", what);
	if (buf->len != m->chunks[i].len)
		return cerr(err, CAIRN_ECORRUPT, "'%s': chunk %zu has the wrong length", what, i);
	return 0;
}

static void *ahead_worker(void *arg)
{
	struct ahead *a = arg;
	struct odb_thread t;
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	odb_thread_init(&t, a->odb);
	pthread_mutex_lock(&a->lock);
	while (!a->stop && a->next < a->m->n) {
		size_t i = a->next++;
		struct slot *s = &a->slots[i % RING];
		int r;
		/* chunk i - RING must be consumed before its slot is reused */
		while (!a->stop && i >= a->consumed + RING)
			pthread_cond_wait(&a->cond, &a->lock);
		if (a->stop)
			break;
		pthread_mutex_unlock(&a->lock);
		strbuf_reset(&err);
		r = read_chunk(&t, a->m, i, a->what, &buf, &err);
		pthread_mutex_lock(&a->lock);
		/* hand the bytes over by swapping buffers: no copy */
		{
			struct strbuf tmp = s->buf;
			s->buf = buf;
			buf = tmp;
		}
		s->r = r;
		strbuf_reset(&s->err);
		if (r)
			strbuf_add(&s->err, err.buf, err.len);
		s->chunk = i;
		s->ready = 1;
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	strbuf_release(&buf);
	strbuf_release(&err);
	odb_thread_release(&t);
	return NULL;
}

int content_foreach_par(struct odb_thread *t, int helpers, const struct oid *id,
			const struct sha256 *sha, uint64_t size, const char *what,
			int (*fn)(const void *p, size_t n, void *data, struct strbuf *err),
			void *data, struct strbuf *err)
{
	struct manifest m;
	struct oid_ctx oc;
	struct sha256_ctx sc;
	struct strbuf buf = STRBUF_INIT;
	struct oid got;
	struct sha256 gsha;
	struct ahead *a = NULL;
	pthread_t tids[8];
	uint64_t total = 0;
	size_t i;
	int r = content_chunks(t, id, size, &m, err), started = 0, k;

	if (r)
		return cerr_wrap(err, r, "cannot read '%s'", what);
	if (helpers > 8)
		helpers = 8;
	/* a few chunks are not worth a thread */
	if (helpers > 0 && m.n >= 8) {
		a = xcalloc(1, sizeof(*a));
		pthread_mutex_init(&a->lock, NULL);
		pthread_cond_init(&a->cond, NULL);
		a->odb = t->odb;
		a->m = &m;
		a->what = what;
		for (k = 0; k < RING; k++) {
			strbuf_init(&a->slots[k].buf, 0);
			strbuf_init(&a->slots[k].err, 0);
		}
		for (k = 0; k < helpers; k++) {
			if (pthread_create(&tids[k], NULL, ahead_worker, a))
				break;
			started++;
		}
	}
	oid_ctx_init(&oc);
	sha256_init(&sc);
	for (i = 0; i < m.n && !r; i++) {
		struct strbuf *cur = &buf;
		if (started) {
			struct slot *s = &a->slots[i % RING];
			pthread_mutex_lock(&a->lock);
			while (!(s->ready && s->chunk == i))
				pthread_cond_wait(&a->cond, &a->lock);
			pthread_mutex_unlock(&a->lock);
			if (s->r) {
				strbuf_reset(err);
				strbuf_add(err, s->err.buf, s->err.len);
				r = s->r;
				break;
			}
			cur = &s->buf;
		} else {
			r = read_chunk(t, &m, i, what, &buf, err);
			if (r)
				break;
		}
		oid_ctx_update(&oc, cur->buf, cur->len);
		sha256_update(&sc, cur->buf, cur->len);
		total += cur->len;
		r = fn(cur->buf, cur->len, data, err);
		if (started) {
			pthread_mutex_lock(&a->lock);
			a->slots[i % RING].ready = 0;
			a->consumed = i + 1;
			pthread_cond_broadcast(&a->cond);
			pthread_mutex_unlock(&a->lock);
		}
	}
	if (a) {
		pthread_mutex_lock(&a->lock);
		a->stop = 1;
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
		for (k = 0; k < started; k++)
			pthread_join(tids[k], NULL);
		for (k = 0; k < RING; k++) {
			strbuf_release(&a->slots[k].buf);
			strbuf_release(&a->slots[k].err);
		}
		pthread_cond_destroy(&a->cond);
		pthread_mutex_destroy(&a->lock);
		free(a);
	}
	oid_ctx_final(&oc, &got);
	sha256_final(&sc, &gsha);
	if (!r && (total != size || !oid_eq(&got, id)))
		r = cerr(err, CAIRN_ECORRUPT, "'%s': stored content does not match its id", what);
	if (!r && !sha256_eq(&gsha, sha))
		r = cerr(err, CAIRN_ECORRUPT,
			 "'%s': stored content does not match its recorded sha256 (tampered?)", what);
	manifest_release(&m);
	strbuf_release(&buf);
	return r;
}

int content_foreach(struct odb_thread *t, const struct oid *id, const struct sha256 *sha,
		    uint64_t size, const char *what,
		    int (*fn)(const void *p, size_t n, void *data, struct strbuf *err),
		    void *data, struct strbuf *err)
{
	return content_foreach_par(t, 0, id, sha, size, what, fn, data, err);
}

struct fd_sink {
	int fd;
	const char *what;
};

static int to_fd(const void *p, size_t n, void *data, struct strbuf *err)
{
	struct fd_sink *s = data;
	if (write_all(s->fd, p, n) < 0)
		return cerr_errno(err, "cannot write '%s'", s->what);
	return 0;
}

int content_write_fd(struct odb_thread *t, int helpers, const struct oid *id,
		     const struct sha256 *sha, uint64_t size, int fd, const char *what,
		     struct strbuf *err)
{
	struct fd_sink s = { fd, what };
	return content_foreach_par(t, helpers, id, sha, size, what, to_fd, &s, err);
}

static int to_buf(const void *p, size_t n, void *data, struct strbuf *err)
{
	strbuf_add(data, p, n);
	return 0;
}

int content_read_small(struct odb_thread *t, const struct oid *id, const struct sha256 *sha,
		       uint64_t size, size_t max, struct strbuf *out, const char *what,
		       struct strbuf *err)
{
	strbuf_reset(out);
	if (size > max)
		return cerr(err, CAIRN_EFORMAT, "'%s' is too large (%llu bytes)", what,
			    (unsigned long long)size);
	return content_foreach(t, id, sha, size, what, to_buf, out, err);
}

int content_read_tree(struct odb_thread *t, const struct oid *id, const struct sha256 *sha,
		      struct tree *out, const char *what, struct strbuf *err)
{
	struct strbuf raw = STRBUF_INIT;
	struct sha256 got;
	int r = odb_read(t, id, OBJ_TREE, &raw, err);
	if (r) {
		strbuf_release(&raw);
		return cerr_wrap(err, r, "cannot read the tree of '%s'", what);
	}
	sha256_hash(&got, raw.buf, raw.len);
	if (!sha256_eq(&got, sha)) {
		strbuf_release(&raw);
		return cerr(err, CAIRN_ECORRUPT,
			    "tree of '%s' does not match its recorded sha256 (tampered?)", what);
	}
	r = tree_decode(out, raw.buf, raw.len, err);
	if (r)
		r = cerr_wrap(err, r, "tree of '%s'", what);
	strbuf_release(&raw);
	return r;
}
