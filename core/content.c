#include "core/content.h"

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
	r = odb_lookup(t, id, OBJ_MANIFEST, &loc, err);
	if (r == CAIRN_ENOTFOUND) {
		r = odb_lookup(t, id, OBJ_CHUNK, &loc, err);
		if (r == CAIRN_ENOTFOUND)
			return cerr(err, r, "file %s is not in the store", oid_to_hex(id, hex));
		if (r)
			return r;
		if (loc.raw_len != size)
			return cerr(err, CAIRN_ECORRUPT, "file %s: stored size %u, expected %llu",
				    oid_to_hex(id, hex), loc.raw_len, (unsigned long long)size);
		m->size = size;
		manifest_add(m, id, (uint32_t)size);
		return 0;
	}
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

int content_foreach(struct odb_thread *t, const struct oid *id, const struct sha256 *sha,
			  uint64_t size, const char *what,
			  int (*fn)(const void *p, size_t n, void *data, struct strbuf *err),
			  void *data, struct strbuf *err)
{
	struct manifest m;
	struct oid_ctx oc;
	struct sha256_ctx sc;
	struct strbuf buf = STRBUF_INIT;
	struct oid got;
	struct sha256 gsha;
	uint64_t total = 0;
	size_t i;
	int r = content_chunks(t, id, size, &m, err);

	if (r)
		return cerr_wrap(err, r, "cannot read '%s'", what);
	oid_ctx_init(&oc);
	sha256_init(&sc);
	for (i = 0; i < m.n && !r; i++) {
		r = odb_read(t, &m.chunks[i].id, OBJ_CHUNK, &buf, err);
		if (r) {
			r = cerr_wrap(err, r, "cannot read '%s'", what);
			break;
		}
		if (buf.len != m.chunks[i].len) {
			r = cerr(err, CAIRN_ECORRUPT, "'%s': chunk %zu has the wrong length", what, i);
			break;
		}
		oid_ctx_update(&oc, buf.buf, buf.len);
		sha256_update(&sc, buf.buf, buf.len);
		total += buf.len;
		r = fn(buf.buf, buf.len, data, err);
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

int content_write_fd(struct odb_thread *t, const struct oid *id, const struct sha256 *sha,
		     uint64_t size, int fd, const char *what, struct strbuf *err)
{
	struct fd_sink s = { fd, what };
	return content_foreach(t, id, sha, size, what, to_fd, &s, err);
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
